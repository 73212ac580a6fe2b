//! Parser for `pnpm-lock.yaml`, lockfileVersion 5.x, 6.x and 9.x.
//!
//! pnpm documents the lockfile with its types in the `@pnpm/lockfile.types` package
//! (<https://github.com/pnpm/pnpm/tree/main/lockfile/types>) and the dependency path syntax in
//! `@pnpm/dependency-path`; user-facing notes are at <https://pnpm.io/git#lockfiles>.
//!
//! - 5.x: `packages` keys are dependency paths `/name/1.2.3_peer@1.0.0` (`_` starts the peer
//!   suffix; other registries and git hosts appear as `host/name/1.2.3`), entries carry
//!   `dev: true|false` and `optional: true`.
//! - 6.x: keys are `/name@1.2.3(peer@1.0.0)`.
//! - 9.x: `packages` holds `name@1.2.3` (metadata and `resolution`), `snapshots` holds the
//!   peer-resolved variants `name@1.2.3(peer@1.0.0)` with their dependencies; dev/prod is only
//!   recorded at the importers.
//!
//! Peer-suffix variants collapse to one package per name and version. `importers` (or the
//! top-level `dependencies` of a single-project 5.x/6.x file) are the workspace projects, `.`
//! being the root; `file:` and `link:` packages are projects too. A lockfile may be a stream of
//! two YAML documents (pnpm 10 puts its own tooling lock first): the last document with a
//! `lockfileVersion` is the project's.

use std::borrow::Cow;

use hashbrown::HashMap;
use serde::Deserialize;
use vouch_inventory::{Ecosystem, Handle, Inventory, Package, Scope, Source};

use crate::borrow::{KeyFinder, Ordered, Scalar, Str};
use crate::common::Lines;
use crate::js::{
    add_integrity, dir_name, npm_package, root_purl, set_source, source_from_resolved, split_spec,
};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let (lock, doc_start) = select_document(file, text)?;
    let lines = Lines::new(text);
    let doc_text = text.get(doc_start..).unwrap_or("");
    let version_line =
        find_section(doc_text, "lockfileVersion").map(|o| lines.line_of(o + doc_start) as usize);
    let raw_version = lock
        .lockfile_version
        .as_ref()
        .map(|v| v.0.clone())
        .unwrap_or_default();
    let major = match raw_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
    {
        Some(m @ (5 | 6 | 9)) => m,
        _ => {
            let e = ParseError::new(
                file,
                ParseErrorKind::UnsupportedVersion {
                    what: "lockfileVersion".to_owned(),
                    found: raw_version.into_owned(),
                    supported: "5.x, 6.x and 9.x".to_owned(),
                },
            );
            return Err(match version_line {
                Some(l) => e.at_line(l),
                None => e,
            });
        }
    };
    let packages = lock.packages.unwrap_or_default();
    let snapshots = lock.snapshots.unwrap_or_default();
    crate::common::check_entries(file, packages.0.len().max(snapshots.0.len()), "packages")?;

    let mut inv = Inventory::with_capacity(packages.0.len().max(snapshots.0.len()));
    // Every key (as written and without its peer suffix) → package. The keys borrow from the
    // parsed lockfile.
    let mut keys: HashMap<&str, Handle> = HashMap::with_capacity(2 * packages.0.len());

    // Packages.
    let start = find_section(doc_text, "packages").map_or(doc_start, |o| o + doc_start);
    let mut finder = KeyFinder::new(text, start);
    let mut package_edges: Vec<(Handle, &Pkg<'_>)> = Vec::new();
    let empty = Pkg::default();
    for (key, pkg) in &packages.0 {
        let pkg = pkg.as_ref().unwrap_or(&empty);
        let line = finder.find_yaml(key, 2).map(|o| lines.line_of(o));
        let id = add_package(file, key, pkg, major, line, &mut inv).map_err(|e| match line {
            Some(l) => e.at_line(l as usize),
            None => e,
        })?;
        keys.insert(key, id);
        keys.entry(strip_peers(key, major)).or_insert(id);
        if major < 9 {
            package_edges.push((id, pkg));
        }
    }

    // Snapshots (9.x): peer-resolved variants of the packages, with their dependencies.
    let mut snapshot_edges: Vec<(Handle, &Snapshot<'_>)> = Vec::new();
    let empty_snapshot = Snapshot::default();
    for (key, snap) in &snapshots.0 {
        let snap = snap.as_ref().unwrap_or(&empty_snapshot);
        let base = strip_peers(key, major);
        let id = match keys.get(base) {
            Some(&id) => id,
            None => {
                // A snapshot without package metadata: still a package.
                let id = add_package(file, base, &empty, major, None, &mut inv)?;
                keys.insert(base, id);
                id
            }
        };
        if let Some(p) = inv.handle_mut(id) {
            if snap.optional && p.scope == Scope::Required {
                p.scope = Scope::Optional;
            }
            if crate::common::find_from(key, "(patch_hash=", 0).is_some() {
                p.properties
                    .insert("vouch:patched".to_owned(), "true".to_owned());
            }
        }
        keys.insert(key, id);
        snapshot_edges.push((id, snap));
    }

    // Importers: the workspace projects.
    let has_importers = lock.importers.is_some();
    let mut importers: Vec<(Cow<'_, str>, Importer<'_>)> = match lock.importers {
        Some(Ordered(list)) => list
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
        None => vec![(
            Cow::Borrowed("."),
            Importer {
                dependencies: lock.dependencies,
                dev_dependencies: lock.dev_dependencies,
                optional_dependencies: lock.optional_dependencies,
            },
        )],
    };
    if importers.is_empty() {
        importers.push((Cow::Borrowed("."), Importer::default()));
    }
    let start = find_section(doc_text, "importers").map_or(doc_start, |o| o + doc_start);
    let mut finder = KeyFinder::new(text, start);
    let mut importer_ids: HashMap<String, Handle> = HashMap::new();
    let mut root = None;
    for (path, _) in &importers {
        let line = if has_importers {
            finder.find_yaml(path, 2).map(|o| lines.line_of(o))
        } else {
            // A single-project file: the project's dependencies start at the top level.
            find_section(doc_text, "dependencies")
                .or_else(|| find_section(doc_text, "devDependencies"))
                .map(|o| lines.line_of(o + doc_start))
        };
        let name = if path == "." {
            dir_name(file)
        } else {
            path.to_string()
        };
        let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
        project.source = Source::Path {
            path: path.to_string(),
        };
        let id = inv.add_root_handle(project);
        if path == "." {
            root = Some(id);
        }
        importer_ids.insert(path.to_string(), id);
    }

    // Candidate keys are built in one buffer, reused: a lockfile has tens of thousands of
    // dependency references. Edges join handles, so an edge costs no lookup of identities.
    let mut candidate = String::new();
    let mut resolve = |name: &str, reference: &str, from_importer: Option<&str>| {
        if let Some(target) = reference.strip_prefix("link:") {
            let base = from_importer?;
            return importer_ids.get(&join_path(base, target)).copied();
        }
        // `reference`, `name@reference`, `/name@reference`, `/name/reference`, `/reference`.
        if let Some(&id) = keys.get(reference) {
            return Some(id);
        }
        let forms: [(&str, &str, &str); 4] = [
            ("", name, "@"),
            ("/", name, "@"),
            ("/", name, "/"),
            ("/", "", ""),
        ];
        forms.iter().find_map(|(prefix, name, separator)| {
            candidate.clear();
            candidate.push_str(prefix);
            candidate.push_str(name);
            candidate.push_str(separator);
            candidate.push_str(reference);
            keys.get(candidate.as_str()).copied()
        })
    };

    let mut prod_starts = Vec::new();
    let mut dev_starts = Vec::new();
    for (path, imp) in &importers {
        let Some(&from) = importer_ids.get(path.as_ref()) else {
            continue;
        };
        let groups = [
            (&imp.dependencies, false),
            (&imp.optional_dependencies, false),
            (&imp.dev_dependencies, true),
        ];
        for (group, dev) in groups {
            for (name, dep) in group.iter().flat_map(|g| g.0.iter()) {
                if let Some(to) = resolve(name, dep.version(), Some(path)) {
                    let starts = if dev {
                        &mut dev_starts
                    } else {
                        &mut prod_starts
                    };
                    starts.push(inv.handle_id(to).clone());
                    inv.depend_handles(from, to);
                }
            }
        }
    }
    for (from, pkg) in &package_edges {
        for (name, v) in pkg
            .dependencies
            .iter()
            .chain(&pkg.optional_dependencies)
            .flatten()
        {
            if let Some(to) = resolve(name, &v.0, None) {
                inv.depend_handles(*from, to);
            }
        }
    }
    for (from, snap) in &snapshot_edges {
        for (name, v) in snap
            .dependencies
            .iter()
            .chain(&snap.optional_dependencies)
            .flatten()
        {
            if let Some(to) = resolve(name, &v.0, None) {
                inv.depend_handles(*from, to);
            }
        }
    }
    if major >= 9 {
        inv.mark_dev_only(&prod_starts, &dev_starts);
    }
    let root = root.map(|h| inv.handle_id(h).clone());
    if let Some(root) = root.or_else(|| inv.roots().iter().next().cloned()) {
        inv.attach_unreachable(&root);
    }
    Ok(inv)
}

// ---------------------------------------------------------------------------------------------
// Serde shapes.

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Lock<'t> {
    #[serde(borrow)]
    lockfile_version: Option<Scalar<'t>>,
    #[serde(borrow)]
    importers: Option<Ordered<'t, Option<Importer<'t>>>>,
    // Single-project 5.x and 6.x files keep the root's dependencies at the top level.
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, DepRef<'t>>>,
    #[serde(borrow)]
    dev_dependencies: Option<Ordered<'t, DepRef<'t>>>,
    #[serde(borrow)]
    optional_dependencies: Option<Ordered<'t, DepRef<'t>>>,
    #[serde(borrow)]
    packages: Option<Ordered<'t, Option<Pkg<'t>>>>,
    #[serde(borrow)]
    snapshots: Option<Ordered<'t, Option<Snapshot<'t>>>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Importer<'t> {
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, DepRef<'t>>>,
    #[serde(borrow)]
    dev_dependencies: Option<Ordered<'t, DepRef<'t>>>,
    #[serde(borrow)]
    optional_dependencies: Option<Ordered<'t, DepRef<'t>>>,
}

/// An importer's dependency: `name: 1.2.3` (5.x) or `name: {specifier, version}` (6.x, 9.x).
#[derive(Deserialize)]
#[serde(untagged)]
enum DepRef<'t> {
    Full {
        #[serde(borrow)]
        version: Scalar<'t>,
    },
    Plain(#[serde(borrow)] Scalar<'t>),
}

impl DepRef<'_> {
    fn version(&self) -> &str {
        match self {
            DepRef::Full { version } | DepRef::Plain(version) => version.as_str(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Pkg<'t> {
    #[serde(borrow)]
    resolution: Option<Resolution<'t>>,
    #[serde(borrow)]
    name: Option<Str<'t>>,
    #[serde(borrow)]
    version: Option<Scalar<'t>>,
    dev: Option<bool>,
    optional: bool,
    patched: bool,
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, Scalar<'t>>>,
    #[serde(borrow)]
    optional_dependencies: Option<Ordered<'t, Scalar<'t>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resolution<'t> {
    #[serde(borrow)]
    integrity: Option<Str<'t>>,
    #[serde(borrow)]
    tarball: Option<Str<'t>>,
    #[serde(borrow)]
    repo: Option<Str<'t>>,
    #[serde(borrow)]
    commit: Option<Str<'t>>,
    #[serde(borrow)]
    directory: Option<Str<'t>>,
    #[serde(borrow)]
    path: Option<Str<'t>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Snapshot<'t> {
    optional: bool,
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, Scalar<'t>>>,
    #[serde(borrow)]
    optional_dependencies: Option<Ordered<'t, Scalar<'t>>>,
}

/// Reads every YAML document and keeps the last one with a `lockfileVersion`, with the offset
/// where it starts.
fn select_document<'t>(file: &str, text: &'t str) -> Result<(Lock<'t>, usize), ParseError> {
    let starts = document_starts(text);
    if let Some(found) = select_document_fast(text, &starts) {
        return Ok(found);
    }
    let mut chosen: Option<(Lock<'t>, usize)> = None;
    for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let lock: Option<Lock<'t>> = Option::deserialize(doc).map_err(|e| {
            let pos = e.location().map(|l| (l.line(), l.column()));
            let msg = e.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m);
            ParseError::syntax(file, "YAML", msg.to_owned(), pos)
        })?;
        if let Some(lock) = lock.filter(|l| l.lockfile_version.is_some()) {
            chosen = Some((lock, starts.get(i).copied().unwrap_or(0)));
        }
    }
    chosen.ok_or_else(|| ParseError::missing(file, "lockfileVersion", "pnpm-lock.yaml"))
}

/// [`select_document`] through the YAML fast path; `None` sends the text to `serde_norway`.
fn select_document_fast<'t>(text: &'t str, starts: &[usize]) -> Option<(Lock<'t>, usize)> {
    let docs = crate::yaml_subset::documents(text)?;
    if docs.len() != starts.len() {
        return None;
    }
    let mut chosen = None;
    for (doc, &start) in docs.iter().zip(starts) {
        let lock: Option<Lock<'t>> = Option::deserialize(doc).ok()?;
        if let Some(lock) = lock.filter(|l| l.lockfile_version.is_some()) {
            chosen = Some((lock, start));
        }
    }
    chosen
}

/// Byte offsets where each YAML document begins (after a `---` line, or at 0).
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut offset = 0;
    let mut seen_content = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            starts.push(offset + line.len());
            seen_content = true;
        } else if !seen_content && !trimmed.is_empty() && !trimmed.starts_with('#') {
            starts.push(0);
            seen_content = true;
        }
        offset += line.len();
    }
    starts
}

/// Offset of a top-level key `key:` in a document.
fn find_section(doc: &str, key: &str) -> Option<usize> {
    if doc.starts_with(&format!("{key}:")) {
        return Some(0);
    }
    crate::common::find_from(doc, &format!("\n{key}:"), 0).map(|o| o + 1)
}

/// A key without its peer suffix: `(…)` from 6.x on, `_…` in 5.x.
fn strip_peers(key: &str, major: u32) -> &str {
    if major >= 6 {
        return match memchr::memchr(b'(', key.as_bytes()) {
            Some(open) => key.get(..open).unwrap_or(key),
            None => key,
        };
    }
    // In 5.x the suffix follows the version segment: `/name/1.0.0_peer@2`.
    match key.rfind('/') {
        Some(slash) => {
            let tail = key.get(slash..).unwrap_or("");
            match tail.find('_') {
                Some(u) => key.get(..slash + u).unwrap_or(key),
                None => key,
            }
        }
        None => key,
    }
}

/// `base/../x` → normalised importer path (`.` for the root).
fn join_path(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if base == "." {
        Vec::new()
    } else {
        base.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// What a dependency path names.
enum KeyParts {
    /// A package by name and (when the key has one) version.
    Package {
        name: String,
        version: Option<String>,
        git: Option<Source>,
    },
    /// A local folder or tarball.
    Local { name: Option<String>, path: String },
}

fn parse_key(key: &str, major: u32) -> Option<KeyParts> {
    if let Some(path) = key.strip_prefix("file:") {
        return Some(KeyParts::Local {
            name: None,
            path: path.to_owned(),
        });
    }
    let body = strip_peers(key, major);
    let slash = body.starts_with('/');
    let body = body.strip_prefix('/').unwrap_or(body);
    // `name@version` (6.x on), unless the name part is a host path.
    let named = split_spec(body).filter(|(name, _)| {
        major >= 6 && name.matches('/').count() == usize::from(name.starts_with('@'))
    });
    if let Some((name, rest)) = named {
        for prefix in ["file:", "link:"] {
            if let Some(path) = rest.strip_prefix(prefix) {
                return Some(KeyParts::Local {
                    name: Some(name.to_owned()),
                    path: path.to_owned(),
                });
            }
        }
        let is_url = rest.contains("://");
        return Some(KeyParts::Package {
            name: name.to_owned(),
            version: (!is_url && !rest.is_empty()).then(|| rest.to_owned()),
            git: is_url.then(|| source_from_resolved(rest)),
        });
    }
    // 5.x paths, and hosts in any version: `[host]/name/version` or `@scope/name/version`.
    let mut segs: Vec<&str> = body.split('/').collect();
    let host = if !slash
        && segs
            .first()
            .is_some_and(|s| s.contains('.') && !s.starts_with('@'))
    {
        let h = segs.remove(0);
        Some(h)
    } else {
        None
    };
    if let Some(h @ ("github.com" | "gitlab.com" | "bitbucket.org")) = host {
        let owner = segs.first()?;
        let repo = segs.get(1)?;
        let commit = segs.get(2).map(|c| (*c).to_owned());
        return Some(KeyParts::Package {
            name: (*repo).to_owned(),
            version: None,
            git: Some(Source::Git {
                url: format!("https://{h}/{owner}/{repo}.git"),
                commit,
                reference: None,
            }),
        });
    }
    if major >= 6
        && host.is_some()
        && let Some((name, version)) = split_spec(&segs.join("/"))
    {
        return Some(KeyParts::Package {
            name: name.to_owned(),
            version: Some(version.to_owned()),
            git: None,
        });
    }
    let (name, rest) = if segs.first().is_some_and(|s| s.starts_with('@')) {
        (
            format!("{}/{}", segs.first()?, segs.get(1)?),
            segs.get(2..).unwrap_or_default(),
        )
    } else {
        (
            (*segs.first()?).to_owned(),
            segs.get(1..).unwrap_or_default(),
        )
    };
    if name.is_empty() {
        return None;
    }
    let version = rest.join("/");
    Some(KeyParts::Package {
        name,
        version: (!version.is_empty()).then_some(version),
        git: None,
    })
}

fn add_package(
    file: &str,
    key: &str,
    pkg: &Pkg<'_>,
    major: u32,
    line: Option<u32>,
    inv: &mut Inventory,
) -> Result<Handle, ParseError> {
    let parts = parse_key(key, major)
        .ok_or_else(|| ParseError::invalid(file, "packages key", "a dependency path", key))?;
    let res = pkg.resolution.as_ref();
    let field_version = pkg.version.as_ref().map(|v| v.as_str().to_owned());
    let local_dir = res.and_then(|r| {
        r.directory
            .as_deref()
            .or(r.path.as_deref())
            .map(str::to_owned)
    });
    let (name, version, git, local) = match parts {
        KeyParts::Local { name, path } => (name, None, None, Some(path)),
        KeyParts::Package { name, version, git } => (Some(name), version, git, None),
    };
    let name = pkg
        .name
        .as_deref()
        .map(str::to_owned)
        .or(name)
        .ok_or_else(|| ParseError::missing(file, "name", format!("package `{key}`")))?;
    let version = field_version.or(version);
    if let Some(path) = local.or(local_dir) {
        let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
        project.version = version;
        project.purl = root_purl(&project);
        project.source = Source::Path { path };
        return Ok(inv.add_root_handle(project));
    }
    let mut p = npm_package(&name, version.as_deref(), file, line);
    let integrity = res.and_then(|r| r.integrity.as_deref());
    if let Some(integrity) = integrity {
        add_integrity(&mut p, integrity);
    }
    let source = match res {
        Some(Resolution {
            repo: Some(repo),
            commit,
            ..
        }) => Source::Git {
            url: crate::js::redact_url(repo),
            commit: commit.as_deref().map(str::to_owned),
            reference: None,
        },
        Some(Resolution {
            tarball: Some(t), ..
        }) => match source_from_resolved(t) {
            Source::Url { url } if integrity.is_some() => Source::Registry { url: Some(url) },
            s => s,
        },
        _ => git.unwrap_or(Source::Registry { url: None }),
    };
    set_source(&mut p, source);
    p.scope = match (pkg.dev, pkg.optional) {
        (_, true) => Scope::Optional,
        (Some(true), false) => Scope::Dev,
        _ => Scope::Required,
    };
    if pkg.patched {
        p.properties
            .insert("vouch:patched".to_owned(), "true".to_owned());
    }
    Ok(inv.add_handle(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(key: &str, major: u32) -> (String, Option<String>) {
        match parse_key(key, major) {
            Some(KeyParts::Package { name, version, .. }) => (name, version),
            Some(KeyParts::Local { name, path }) => (name.unwrap_or_default(), Some(path)),
            None => (String::new(), None),
        }
    }

    /// The real pnpm lockfiles of the corpus are read by the YAML fast path, into the shapes
    /// this module reads (the fast path's agreement with serde_norway is tested where it is).
    #[test]
    fn corpus_lockfiles_take_the_fast_path() {
        let dir = crate::yaml_subset::corpus_dir().join("pnpm");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("SKIPPED: no pnpm corpus at {}", dir.display());
            return;
        };
        let mut read = 0;
        for entry in entries.flatten() {
            let path = entry.path().join("pnpm-lock.yaml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            assert!(
                select_document_fast(&text, &document_starts(&text)).is_some(),
                "{} goes to the general parser",
                path.display()
            );
            read += 1;
        }
        assert!(read > 0, "no pnpm-lock.yaml under {}", dir.display());
    }

    #[test]
    fn dependency_paths() {
        let s = |a: &str, b: &str| (a.to_owned(), Some(b.to_owned()));
        assert_eq!(parts("/foo/1.0.0", 5), s("foo", "1.0.0"));
        assert_eq!(parts("/@a/b/1.0.0_c@2.0.0+d@1.0.0", 5), s("@a/b", "1.0.0"));
        assert_eq!(
            parts("/@types/babel__core/7.1.14", 5),
            s("@types/babel__core", "7.1.14")
        );
        assert_eq!(parts("registry.npmjs.org/foo/1.1.0", 5), s("foo", "1.1.0"));
        assert_eq!(parts("/foo@1.0.0(bar@2.0.0)", 6), s("foo", "1.0.0"));
        assert_eq!(parts("@a/b@1.0.0(c@1.0.0(d@2.0.0))", 9), s("@a/b", "1.0.0"));
        assert_eq!(
            parts("github.com/kevva/is-positive", 5),
            ("is-positive".into(), None)
        );
    }

    #[test]
    fn paths_join() {
        assert_eq!(join_path("packages/a", "../b"), "packages/b");
        assert_eq!(join_path(".", "packages/vite"), "packages/vite");
        assert_eq!(join_path("a", ".."), ".");
    }
}

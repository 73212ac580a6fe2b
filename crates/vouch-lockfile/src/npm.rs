//! Parser for `package-lock.json` and `npm-shrinkwrap.json`, lockfileVersion 1 to 3.
//!
//! The format is documented at <https://docs.npmjs.com/cli/configuring-npm/package-lock-json>
//! (and `npm-shrinkwrap-json`, the same format under another name).
//!
//! - v2 and v3 hold a `packages` map keyed by install location: `""` is the root project,
//!   `node_modules/a/node_modules/b` a nested copy, a key without `node_modules/` a workspace or
//!   `file:` folder (a project), and `link: true` entries symlinks to such folders.
//! - v1 holds a nested `dependencies` tree whose entries name their dependencies in `requires`;
//!   v2 carries both, and the `packages` map wins.
//!
//! A dependency is resolved to the locked copy the way Node's module lookup finds it: from the
//! dependent's location, `node_modules/<name>` in that folder, then in each folder above it.
//!
//! This module also holds the small helpers that the yarn, pnpm and bun parsers share: npm
//! package construction, SRI integrity, `resolved` URL classification, order-preserving maps and
//! scalar strings for serde, and the line finder for JSON keys.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use vouch_inventory::{Digest, Ecosystem, Handle, Inventory, Package, Scope, Source};

use crate::common::{self, MAX_ENTRIES};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lockfile = common::json(file, text)?;
    let version = match &lock.lockfile_version {
        // npm 5 wrote lockfileVersion 1; shrinkwrap files from before npm 5 have no version but
        // the same nested `dependencies` tree.
        None => 1,
        Some(v) => match v.as_str() {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            other => {
                return Err(ParseError::new(
                    file,
                    ParseErrorKind::UnsupportedVersion {
                        what: "lockfileVersion".to_owned(),
                        found: other.to_owned(),
                        supported: "1, 2 and 3".to_owned(),
                    },
                )
                .at_line(line_of_key(text, "lockfileVersion")));
            }
        },
    };
    let mut tree = Tree::with_capacity(lock.packages.as_ref().map_or(0, |p| p.0.len()));
    match (&lock.packages, version) {
        (Some(packages), 2 | 3) => read_packages(file, text, &lock, packages, &mut tree)?,
        (None, 2 | 3) if lock.dependencies.is_none() => {
            return Err(ParseError::missing(
                file,
                "packages",
                format!("a lockfileVersion {version} file"),
            ));
        }
        _ => {
            read_v1(file, text, &lock, &mut tree)?;
            // v1 does not record the root's own dependencies.
            let root = tree
                .nodes
                .get("")
                .map(|n| tree.inv.handle_id(n.handle).clone());
            let mut inv = tree.into_inventory();
            if let Some(root) = root {
                inv.attach_unreachable(&root);
            }
            return Ok(inv);
        }
    }
    Ok(tree.into_inventory())
}

// ---------------------------------------------------------------------------------------------
// Serde shapes.

// The entries borrow their strings from the text wherever JSON lets them (no escapes): a large
// lockfile has tens of thousands of them, and copying each into its own allocation, only to
// copy it again into the inventory, cost more than reading them. (serde's own `Cow` is always
// owned behind an `Option` or as a map key, hence [`Str`].)

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lockfile<'t> {
    name: Option<String>,
    version: Option<String>,
    #[serde(borrow)]
    lockfile_version: Option<Scalar<'t>>,
    #[serde(borrow)]
    packages: Option<Ordered<'t, Entry<'t>>>,
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, V1Entry<'t>>>,
}

/// One `packages` entry (v2, v3).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Entry<'t> {
    #[serde(borrow)]
    name: Option<Str<'t>>,
    #[serde(borrow)]
    version: Option<Str<'t>>,
    #[serde(borrow)]
    resolved: Option<Str<'t>>,
    #[serde(borrow)]
    integrity: Option<Str<'t>>,
    #[serde(borrow)]
    license: License<'t>,
    dev: bool,
    optional: bool,
    dev_optional: bool,
    peer: bool,
    in_bundle: bool,
    link: bool,
    #[serde(borrow)]
    dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    optional_dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    dev_dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    peer_dependencies: Option<Names<'t>>,
}

/// One v1 `dependencies` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Entry<'t> {
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    dev: bool,
    optional: bool,
    bundled: bool,
    requires: Option<BTreeMap<String, String>>,
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, V1Entry<'t>>>,
}

// ---------------------------------------------------------------------------------------------
// The install tree both versions are read into, and npm's lookup over it.

/// A node of the install tree: a package at a location, with the names it depends on.
///
/// Locations and names borrow from the parsed lockfile where it holds them (every v2 and v3
/// key and dependency name); only v1's locations, which are built from the nesting, are owned.
struct Node<'l> {
    handle: Handle,
    deps: Vec<&'l str>,
}

#[derive(Default)]
struct Tree<'l> {
    inv: Inventory,
    /// Location (`node_modules/a/node_modules/b`, `""`, `workspaces/x`) → node.
    nodes: HashMap<Cow<'l, str>, Node<'l>>,
    /// Order in which locations were read, for deterministic edge insertion.
    order: Vec<Cow<'l, str>>,
    /// Symlink location → target location.
    links: HashMap<&'l str, String>,
}

impl<'l> Tree<'l> {
    /// A tree with room for `entries` locations.
    fn with_capacity(entries: usize) -> Self {
        let entries = entries.min(MAX_ENTRIES);
        Tree {
            inv: Inventory::with_capacity(entries),
            nodes: HashMap::with_capacity(entries),
            order: Vec::with_capacity(entries),
            links: HashMap::new(),
        }
    }

    fn insert(&mut self, location: Cow<'l, str>, handle: Handle, deps: Vec<&'l str>) {
        self.order.push(location.clone());
        self.nodes.insert(location, Node { handle, deps });
    }

    fn into_inventory(self) -> Inventory {
        let Tree {
            mut inv,
            nodes,
            order,
            links,
        } = self;
        let mut candidate = String::new();
        for loc in &order {
            let Some(node) = nodes.get(loc) else {
                continue;
            };
            for dep in &node.deps {
                if let Some(target) = resolve(&nodes, &links, loc, dep, &mut candidate) {
                    inv.depend_handles(node.handle, target.handle);
                }
            }
        }
        inv
    }
}

/// Finds the location `name` resolves to from `from`, walking up the folders as Node does,
/// and following a symlink to its target. `candidate` is scratch space, reused across calls.
fn resolve<'n, 'l>(
    nodes: &'n HashMap<Cow<'l, str>, Node<'l>>,
    links: &HashMap<&'l str, String>,
    from: &str,
    name: &str,
    candidate: &mut String,
) -> Option<&'n Node<'l>> {
    let mut base = from;
    loop {
        candidate.clear();
        if !base.is_empty() {
            candidate.push_str(base);
            candidate.push('/');
        }
        candidate.push_str("node_modules/");
        candidate.push_str(name);
        if let Some(node) = nodes.get(candidate.as_str()) {
            return Some(node);
        }
        if let Some(target) = links.get(candidate.as_str()) {
            return nodes.get(target.as_str());
        }
        if base.is_empty() {
            return None;
        }
        base = base
            .rsplit_once('/')
            .map(|(parent, _)| parent)
            .unwrap_or("");
    }
}

fn too_many(file: &str) -> ParseError {
    ParseError::new(
        file,
        ParseErrorKind::TooMany {
            what: "packages",
            limit: MAX_ENTRIES,
        },
    )
}

fn read_packages<'l>(
    file: &str,
    text: &str,
    lock: &Lockfile<'_>,
    packages: &'l Ordered<'_, Entry<'_>>,
    tree: &mut Tree<'l>,
) -> Result<(), ParseError> {
    if packages.0.len() > MAX_ENTRIES {
        return Err(too_many(file));
    }
    let mut finder = KeyFinder::new(text, find_top_key(text, "packages"));
    for (key, e) in &packages.0 {
        let line = finder.find_json(key, b'{');
        let mut deps: Vec<&str> = Vec::new();
        let mut push = |m: &'l Option<Names<'_>>| {
            deps.extend(m.iter().flat_map(|m| m.0.iter().map(|n| &**n)));
        };
        push(&e.dependencies);
        push(&e.optional_dependencies);
        push(&e.peer_dependencies);
        if key.is_empty() {
            let name = e
                .name
                .as_deref()
                .map(str::to_owned)
                .or_else(|| lock.name.clone())
                .unwrap_or_else(|| dir_name(file));
            let mut root = Package::new(Ecosystem::Npm, name).found_in(file, line);
            root.version = e
                .version
                .as_deref()
                .map(str::to_owned)
                .or_else(|| lock.version.clone());
            root.purl = root_purl(&root);
            add_license(&mut root, &e.license);
            push(&e.dev_dependencies);
            let handle = tree.inv.add_root_handle(root);
            tree.insert(Cow::Borrowed(""), handle, deps);
            continue;
        }
        if e.link {
            if let Some(target) = &e.resolved {
                tree.links.insert(key, normalise_path(target));
            }
            continue;
        }
        let Some((_, path_name)) = key.rsplit_once("node_modules/") else {
            // A folder outside node_modules: a workspace member or a `file:` dependency.
            let name = e
                .name
                .as_deref()
                .unwrap_or_else(|| key.rsplit('/').next().unwrap_or(key))
                .to_owned();
            let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
            project.version = e.version.as_deref().map(str::to_owned);
            project.purl = root_purl(&project);
            project.source = Source::Path {
                path: key.to_string(),
            };
            project.scope = entry_scope(e);
            add_license(&mut project, &e.license);
            if let Some(integrity) = &e.integrity {
                add_integrity(&mut project, integrity);
            }
            push(&e.dev_dependencies);
            let handle = tree.inv.add_root_handle(project);
            tree.insert(Cow::Borrowed(key), handle, deps);
            continue;
        };
        let name = e.name.as_deref().unwrap_or(path_name);
        let mut p = npm_package(name, e.version.as_deref(), file, line);
        if name != path_name {
            p.properties
                .insert("vouch:npm-alias".to_owned(), path_name.to_owned());
        }
        if let Some(resolved) = &e.resolved {
            set_source(&mut p, source_from_resolved(resolved));
        }
        if let Some(integrity) = &e.integrity {
            add_integrity(&mut p, integrity);
        }
        add_license(&mut p, &e.license);
        p.scope = entry_scope(e);
        if e.peer {
            p.properties
                .insert("vouch:npm-peer".to_owned(), "true".to_owned());
        }
        if e.in_bundle {
            p.properties
                .insert("vouch:bundled".to_owned(), "true".to_owned());
        }
        let handle = tree.inv.add_handle(p);
        tree.insert(Cow::Borrowed(key), handle, deps);
    }
    Ok(())
}

fn entry_scope(e: &Entry<'_>) -> Scope {
    if e.dev {
        Scope::Dev
    } else if e.optional || e.dev_optional {
        // `devOptional`: needed by a dev dependency or an optional one; a production install
        // with optional dependencies includes it, so optional is the honest floor.
        Scope::Optional
    } else {
        Scope::Required
    }
}

/// A relative link target as a `packages` key (`./a/b/` → `a/b`).
fn normalise_path(path: &str) -> String {
    let p = path.strip_prefix("file:").unwrap_or(path);
    let p = p.trim_start_matches("./").trim_end_matches('/');
    p.replace('\\', "/")
}

fn read_v1<'l>(
    file: &str,
    text: &str,
    lock: &'l Lockfile<'_>,
    tree: &mut Tree<'l>,
) -> Result<(), ParseError> {
    let name = lock.name.clone().unwrap_or_else(|| dir_name(file));
    let mut root = Package::new(Ecosystem::Npm, name).found_in(file, Some(1));
    root.version = lock.version.clone();
    root.purl = root_purl(&root);
    let root = tree.inv.add_root_handle(root);
    tree.insert(Cow::Borrowed(""), root, Vec::new());
    let Some(deps) = &lock.dependencies else {
        return Ok(());
    };
    let mut finder = KeyFinder::new(text, find_top_key(text, "dependencies"));
    let mut count = 0usize;
    walk_v1(file, &mut finder, deps, "", tree, &mut count)
}

fn walk_v1<'l>(
    file: &str,
    finder: &mut KeyFinder<'_>,
    deps: &'l Ordered<'_, V1Entry<'_>>,
    parent: &str,
    tree: &mut Tree<'l>,
    count: &mut usize,
) -> Result<(), ParseError> {
    for (name, e) in &deps.0 {
        *count += 1;
        if *count > MAX_ENTRIES {
            return Err(too_many(file));
        }
        let line = finder.find_json(name, b'{');
        let location = if parent.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{parent}/node_modules/{name}")
        };
        let requires: Vec<&str> = e
            .requires
            .iter()
            .flat_map(|m| m.keys().map(String::as_str))
            .collect();
        let version = e.version.as_deref().unwrap_or("");
        let scope = if e.dev {
            Scope::Dev
        } else if e.optional {
            Scope::Optional
        } else {
            Scope::Required
        };
        let handle = if let Some(path) = version.strip_prefix("file:") {
            let mut project = Package::new(Ecosystem::Npm, name.clone()).found_in(file, line);
            project.source = Source::Path {
                path: path.to_owned(),
            };
            project.scope = scope;
            tree.inv.add_root_handle(project)
        } else {
            let (real, version, spec) = match version.strip_prefix("npm:").and_then(split_spec) {
                Some((real, v)) => (real, Some(v), None),
                None if is_version(version) => (&**name, Some(version), None),
                None => (&**name, None, Some(version)),
            };
            let mut p = npm_package(real, version, file, line);
            if real != name {
                p.properties
                    .insert("vouch:npm-alias".to_owned(), name.to_string());
            }
            match (spec.filter(|s| !s.is_empty()), &e.resolved) {
                (_, Some(resolved)) => set_source(&mut p, source_from_resolved(resolved)),
                (Some(spec), None) => set_source(&mut p, source_from_resolved(spec)),
                (None, None) => {}
            }
            if let Some(integrity) = &e.integrity {
                add_integrity(&mut p, integrity);
            }
            p.scope = scope;
            if e.bundled {
                p.properties
                    .insert("vouch:bundled".to_owned(), "true".to_owned());
            }
            tree.inv.add_handle(p)
        };
        tree.insert(Cow::Owned(location.clone()), handle, requires);
        if let Some(children) = &e.dependencies {
            walk_v1(file, finder, children, &location, tree, count)?;
        }
    }
    Ok(())
}

/// Whether a v1 `version` is a plain version rather than a URL, path or git spec.
fn is_version(v: &str) -> bool {
    !v.is_empty() && !v.contains(':') && !v.contains('/')
}

/// Records the licence of a `packages` entry, when it names one.
fn add_license(p: &mut Package, license: &License<'_>) {
    if let Some(v) = license.0.as_deref().filter(|v| !v.is_empty()) {
        p.licenses.insert(v.to_owned());
    }
}

/// The 1-based line of the first `"key":` in a JSON text (for errors about top-level fields).
fn line_of_key(text: &str, key: &str) -> usize {
    let offset = find_top_key(text, key);
    common::line_col_of_bytes(text.as_bytes(), offset).0
}

/// Offset of a top-level key such as `"packages":`, or 0 when absent.
fn find_top_key(text: &str, key: &str) -> usize {
    common::find_from(text, &format!("\"{key}\""), 0).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the JavaScript parsers (npm, yarn, pnpm, bun).

/// An npm library package: `@scope/name` becomes purl namespace `@scope` and name `name`.
pub(crate) fn npm_package(
    name: &str,
    version: Option<&str>,
    file: &str,
    line: Option<u32>,
) -> Package {
    let (scope, bare) = common::npm_name(name);
    common::package(Ecosystem::Npm, scope, bare, version, file, line)
}

/// The purl of a project (workspace member), when it has a name an npm purl accepts.
pub(crate) fn root_purl(p: &Package) -> Option<vouch_inventory::PackageUrl> {
    let (scope, bare) = common::npm_name(&p.name);
    common::purl(Ecosystem::Npm, scope, bare, p.version.as_deref())
}

/// A project named after the lockfile's directory (or the file, when it has none), for formats
/// that record no project of their own.
pub(crate) fn synthetic_root(file: &str) -> Package {
    common::synthetic_root(Ecosystem::Npm, file)
}

/// The name of the directory holding `file`, or the file's own name when it has none.
pub(crate) fn dir_name(file: &str) -> String {
    common::dir_name(file).to_owned()
}

/// Splits `name@spec` at the `@` that ends the name (`@scope/name@1.0.0` → `@scope/name`,
/// `1.0.0`). `None` when there is no such `@` or the name is empty.
pub(crate) fn split_spec(s: &str) -> Option<(&str, &str)> {
    let start = usize::from(s.starts_with('@'));
    let at = s.get(start..)?.find('@')? + start;
    let name = s.get(..at)?;
    let spec = s.get(at + 1..)?;
    (!name.is_empty()).then_some((name, spec))
}

/// Records an SRI integrity string as hashes, keeping every algorithm; a malformed value is
/// kept as a property for the lock checks rather than failing the parse.
pub(crate) fn add_integrity(p: &mut Package, integrity: &str) {
    match Digest::from_sri_list(integrity) {
        Ok(digests) if !digests.is_empty() => p.hashes.extend(digests),
        _ => {
            p.properties
                .insert("vouch:integrity-malformed".to_owned(), integrity.to_owned());
        }
    }
}

/// Sets the source and the purl qualifiers the purl specification asks for: `vcs_url` for git,
/// `download_url` for a plain URL.
pub(crate) fn set_source(p: &mut Package, source: Source) {
    let qualifier = match &source {
        Source::Git { url, commit, .. } => Some(("vcs_url", vcs_url(url, commit.as_deref()))),
        Source::Url { url } => Some(("download_url", url.clone())),
        _ => None,
    };
    if let Some((key, value)) = qualifier
        && let Some(purl) = p.purl.take()
    {
        p.purl = Some(purl.clone().with_qualifier(key, &value).unwrap_or(purl));
    }
    p.source = source;
}

/// A purl `vcs_url` value, `git+<url>@<commit>`.
fn vcs_url(url: &str, commit: Option<&str>) -> String {
    let base = if url.starts_with("git+") || url.starts_with("git://") {
        url.to_owned()
    } else {
        format!("git+{url}")
    };
    match commit {
        Some(c) if !c.is_empty() => format!("{base}@{c}"),
        _ => base,
    }
}

/// Classifies a `resolved` URL or a dependency spec: registry tarball, git repository (with the
/// commit from the fragment), `file:` path or other URL. Credentials in URLs are dropped.
pub(crate) fn source_from_resolved(raw: &str) -> Source {
    let r = raw.trim();
    if let Some(path) = r.strip_prefix("file:") {
        return Source::Path {
            path: path.to_owned(),
        };
    }
    if let Some(src) = codeload_git(r) {
        return src;
    }
    if is_git_spec(r) {
        let (url, fragment) = r.split_once('#').unwrap_or((r, ""));
        let (commit, reference) = git_fragment(fragment);
        return Source::Git {
            url: redact_url(url),
            commit,
            reference,
        };
    }
    if r.starts_with("https://") || r.starts_with("http://") {
        let url = redact_url(r);
        // Registries serve tarballs at `<registry>/<name>/-/<name>-<version>.tgz`.
        return if r.contains("/-/") {
            Source::Registry { url: Some(url) }
        } else {
            Source::Url { url }
        };
    }
    Source::Unknown
}

/// Whether a spec names a git repository (as npm, yarn and bun write them).
pub(crate) fn is_git_spec(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "git+",
        "git://",
        "git@",
        "ssh://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ];
    if PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let path = rest.split('#').next().unwrap_or(rest);
    if path.ends_with(".git") {
        return true;
    }
    // `https://github.com/owner/repo#sha`: a hosted repository, not a download.
    let host = path.split('/').next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    matches!(host, "github.com" | "gitlab.com" | "bitbucket.org")
        && path.split('/').filter(|s| !s.is_empty()).count() == 3
}

/// `https://codeload.github.com/<owner>/<repo>/tar.gz/<sha>`, GitHub's tarball of a commit, is
/// a git source.
fn codeload_git(url: &str) -> Option<Source> {
    let rest = url.strip_prefix("https://codeload.github.com/")?;
    let mut parts = rest.split('/');
    let (owner, repo, kind, commit) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if !matches!(kind, "tar.gz" | "legacy.tar.gz" | "zip") || commit.is_empty() {
        return None;
    }
    Some(Source::Git {
        url: format!("https://github.com/{owner}/{repo}.git"),
        commit: Some(commit.to_owned()),
        reference: None,
    })
}

/// Reads a git URL fragment: a bare commit (`#<hex>`), a reference (`#main`), or yarn berry's
/// `commit=<hex>&head=<ref>` parameters.
pub(crate) fn git_fragment(fragment: &str) -> (Option<String>, Option<String>) {
    let mut commit = None;
    let mut reference = None;
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .or_else(|| part.split_once(':'))
            .unwrap_or(("", part));
        match k {
            "commit" => commit = Some(v.to_owned()),
            "" if is_hex_commit(v) => commit = Some(v.to_owned()),
            _ => reference = Some(v.to_owned()),
        }
    }
    (commit, reference)
}

/// Whether `s` looks like a (possibly abbreviated) git commit id.
pub(crate) fn is_hex_commit(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Drops credentials from a URL: user and password for http(s), the password elsewhere (the
/// `git@` user of an ssh URL is kept, as it is not a secret).
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or(rest);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let tail = rest.get(authority_end..).unwrap_or("");
    if scheme.contains("ssh") && !userinfo.contains(':') {
        return url.to_owned();
    }
    format!("{scheme}://{host}{tail}")
}

/// A map that keeps the file's order (serde maps into `BTreeMap` sort their keys, and the line
/// finder needs entries in file order). Keys borrow from the text where the format lets them.
pub(crate) struct Ordered<'t, V>(pub(crate) Vec<(Cow<'t, str>, V)>);

impl<V> Default for Ordered<'_, V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'a, 't, V> IntoIterator for &'a Ordered<'t, V> {
    type Item = &'a (Cow<'t, str>, V);
    type IntoIter = std::slice::Iter<'a, (Cow<'t, str>, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de: 't, 't, V: Deserialize<'de>> Deserialize<'de> for Ordered<'t, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t, V>(PhantomData<(Cow<'t, str>, V)>);
        impl<'de: 't, 't, V: Deserialize<'de>> Visitor<'de> for V_<'t, V> {
            type Value = Ordered<'t, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Scalar<'t>, V>()? {
                    if out.len() >= MAX_ENTRIES {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_ENTRIES} entries in one map"
                        )));
                    }
                    out.push((k.0, v));
                }
                Ok(Ordered(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered(Vec::new()))
            }
        }
        d.deserialize_any(V_(PhantomData))
    }
}

/// A scalar read as a string: YAML writes `version: 1.0` as a number and `lockfileVersion: 5.4`
/// as a float, JSON writes `lockfileVersion: 3` as a number. Strings borrow from the text where
/// the format lets them.
pub(crate) struct Scalar<'t>(pub(crate) Cow<'t, str>);

impl<'de: 't, 't> Deserialize<'de> for Scalar<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t>(PhantomData<&'t str>);
        impl<'de: 't, 't> Visitor<'de> for V_<'t> {
            type Value = Scalar<'t>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Borrowed("")))
            }
        }
        d.deserialize_any(V_(PhantomData))
    }
}

impl Scalar<'_> {
    /// The scalar as text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A string value, borrowed from the text unless the format had to unescape it.
#[derive(PartialEq, Eq)]
pub(crate) struct Str<'t>(pub(crate) Cow<'t, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The visitor of [`Str`].
struct StrVisitor<'t>(PhantomData<&'t str>);

impl<'de: 't, 't> Visitor<'de> for StrVisitor<'t> {
    type Value = Str<'t>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'t>, E> {
        Ok(Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'t>, E> {
        Ok(Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'t>, E> {
        Ok(Str(Cow::Owned(v)))
    }
}

impl<'de: 't, 't> Deserialize<'de> for Str<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(PhantomData))
    }
}

/// The keys of a map whose values are not needed (what a dependency map names), in file order.
pub(crate) struct Names<'t>(pub(crate) Vec<Str<'t>>);

impl<'de: 't, 't> Deserialize<'de> for Names<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t>(PhantomData<&'t str>);
        impl<'de: 't, 't> Visitor<'de> for V_<'t> {
            type Value = Names<'t>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names<'t>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(k) = map.next_key::<Str<'t>>()? {
                    map.next_value::<de::IgnoredAny>()?;
                    if out.len() >= MAX_ENTRIES {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_ENTRIES} entries in one map"
                        )));
                    }
                    out.push(k);
                }
                Ok(Names(out))
            }
        }
        d.deserialize_map(V_(PhantomData))
    }
}

/// The licence of a `packages` entry: a string, or the legacy `{ "type": ... }` object; any
/// other value names none.
#[derive(Default)]
pub(crate) struct License<'t>(pub(crate) Option<Cow<'t, str>>);

impl<'de: 't, 't> Deserialize<'de> for License<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t>(PhantomData<&'t str>);
        impl<'de: 't, 't> Visitor<'de> for V_<'t> {
            type Value = License<'t>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a licence")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<License<'t>, E> {
                Ok(License(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<License<'t>, E> {
                Ok(License(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<License<'t>, E> {
                Ok(License(Some(Cow::Owned(v))))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<License<'t>, A::Error> {
                let mut found = None;
                while let Some(k) = map.next_key::<Str<'t>>()? {
                    // The last `type` wins, as in a JSON object read whole.
                    if &*k == "type" {
                        found = map.next_value::<License<'t>>()?.0;
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(License(found))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<License<'t>, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(License(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<License<'t>, E> {
                Ok(License(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<License<'t>, E> {
                Ok(License(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<License<'t>, E> {
                Ok(License(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<License<'t>, E> {
                Ok(License(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<License<'t>, E> {
                Ok(License(None))
            }
        }
        d.deserialize_any(V_(PhantomData))
    }
}

/// Finds where map keys start, scanning forward only, so that looking up every entry of a file
/// in order costs one pass over it.
pub(crate) struct KeyFinder<'t> {
    text: &'t str,
    cursor: usize,
    /// The start of the line holding `cursor`, and its 1-based number: JSON lookups count lines
    /// as they step over them, so their callers need no index of every line of the file.
    line_start: usize,
    line_no: u32,
    /// The quoted JSON key being looked for, reused across lookups.
    needle: String,
}

impl<'t> KeyFinder<'t> {
    pub(crate) fn new(text: &'t str, start: usize) -> Self {
        let bytes = text.as_bytes();
        let line_start = line_start_at_or_before(bytes, start);
        let newlines = bytes
            .get(..line_start)
            .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count());
        KeyFinder {
            text,
            cursor: start,
            line_start,
            line_no: u32::try_from(newlines + 1).unwrap_or(u32::MAX),
            needle: String::new(),
        }
    }

    /// The 1-based line of the JSON key `key` written at the start of a line (after spaces or
    /// tabs) and followed by `:` and `opener` (`{` or `[`); `None` (and the cursor stays) when
    /// not found.
    ///
    /// Only line starts are looked at: lockfile writers put each key of a map on a line of its
    /// own, and the next key is usually a few lines on, so stepping from line to line is far
    /// cheaper than a substring search for every key.
    pub(crate) fn find_json(&mut self, key: &str, opener: u8) -> Option<u32> {
        self.needle.clear();
        if key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            self.needle = serde_json::to_string(key).ok()?;
        } else {
            self.needle.push('"');
            self.needle.push_str(key);
            self.needle.push('"');
        }
        let needle = self.needle.as_bytes();
        let bytes = self.text.as_bytes();
        let mut line = self.line_start;
        let mut line_no = self.line_no;
        loop {
            let mut pos = line;
            while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
                pos += 1;
            }
            // Most lines hold a key of another length: the closing quote and what follows it
            // are looked at before the whole key is compared.
            let end = pos + needle.len();
            if pos >= self.cursor
                && bytes.get(end - 1) == Some(&b'"')
                && bytes
                    .get(end)
                    .is_some_and(|b| *b == b':' || b.is_ascii_whitespace())
                && bytes
                    .get(pos..)
                    .is_some_and(|rest| rest.starts_with(needle))
            {
                let mut i = end;
                while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                    i += 1;
                }
                if bytes.get(i) == Some(&b':') {
                    i += 1;
                    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&opener) {
                        self.cursor = end;
                        self.line_start = line;
                        self.line_no = line_no;
                        return Some(line_no);
                    }
                }
            }
            line = common::find_byte(self.text, b'\n', pos)? + 1;
            line_no = line_no.saturating_add(1);
        }
    }

    /// The offset of a YAML mapping key written at column `indent`, plain or quoted, followed by
    /// `:`; `None` (and the cursor stays) when not found.
    pub(crate) fn find_yaml(&mut self, key: &str, indent: usize) -> Option<usize> {
        if key.is_empty() {
            return None;
        }
        let bytes = self.text.as_bytes();
        let mut from = self.cursor;
        loop {
            let pos = common::find_from(self.text, key, from)?;
            let end = pos + key.len();
            from = end;
            let quoted = pos > 0 && matches!(bytes.get(pos - 1), Some(b'"' | b'\''));
            let start = if quoted { pos - 1 } else { pos };
            if start < indent {
                continue;
            }
            let line_start = start - indent;
            let indent_ok = bytes
                .get(line_start..start)
                .is_some_and(|s| s.iter().all(|b| *b == b' '))
                && (line_start == 0 || bytes.get(line_start - 1) == Some(&b'\n'));
            if !indent_ok {
                continue;
            }
            let after = if quoted { end + 1 } else { end };
            if quoted && bytes.get(end) != bytes.get(pos - 1) {
                continue;
            }
            if bytes.get(after) == Some(&b':') {
                self.cursor = after;
                return Some(start);
            }
        }
    }
}

/// The start of the line holding `pos`.
fn line_start_at_or_before(bytes: &[u8], pos: usize) -> usize {
    bytes
        .get(..pos)
        .and_then(|before| before.iter().rposition(|b| *b == b'\n'))
        .map_or(0, |nl| nl + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_split() {
        assert_eq!(
            split_spec("@babel/core@7.0.0"),
            Some(("@babel/core", "7.0.0"))
        );
        assert_eq!(split_spec("lodash@npm:^4"), Some(("lodash", "npm:^4")));
        assert_eq!(split_spec("lodash"), None);
        assert_eq!(split_spec("@x"), None);
    }

    #[test]
    fn resolved_urls() {
        assert_eq!(
            source_from_resolved(
                "git+ssh://git@github.com/a/b.git#0123456789abcdef0123456789abcdef01234567"
            ),
            Source::Git {
                url: "git+ssh://git@github.com/a/b.git".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                reference: None
            }
        );
        assert_eq!(
            source_from_resolved("https://tok@github.com/a/b.git#main"),
            Source::Git {
                url: "https://github.com/a/b.git".into(),
                commit: None,
                reference: Some("main".into())
            }
        );
        assert_eq!(
            source_from_resolved("https://registry.npmjs.org/a/-/a-1.0.0.tgz"),
            Source::Registry {
                url: Some("https://registry.npmjs.org/a/-/a-1.0.0.tgz".into())
            }
        );
        assert_eq!(
            source_from_resolved("file:../x"),
            Source::Path {
                path: "../x".into()
            }
        );
    }

    #[test]
    fn key_finder_skips_values_and_nested_keys() {
        let text =
            "{\n  \"a\": {\n    \"requires\": {\n      \"b\": \"^1\"\n    }\n  },\n  \"b\": {}\n}";
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("a", b'{'), Some(2));
        assert_eq!(f.find_json("b", b'{'), Some(7));
        // Not found: the cursor stays, and later keys are still found from it.
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("b", b'['), None);
        assert_eq!(f.find_json("a", b'{'), Some(2));
        // Starting part-way, on a line of its own, and with a key that JSON escapes.
        let text = "{\n  \"x\": 1,\n  \"q\\\"t\": {}\r\n}";
        let mut f = KeyFinder::new(text, text.find("\"x\"").unwrap());
        assert_eq!(f.find_json("q\"t", b'{'), Some(3));
        assert_eq!(f.find_json("x", b'{'), None);
        // Keys of one length, keys that begin other keys, blanks before the colon, a key on
        // the last line, and one at the very end of the text.
        let text = "{\n  \"ab\": {},\n  \"ac\": {},\n  \"abc\" : {},\n  \"a\"\t:\t{},\n\"abcd\":{}}\n\"z\"";
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("ac", b'{'), Some(3));
        assert_eq!(f.find_json("abc", b'{'), Some(4));
        assert_eq!(f.find_json("a", b'{'), Some(5));
        assert_eq!(f.find_json("abcd", b'{'), Some(6));
        assert_eq!(f.find_json("z", b'{'), None);
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("abcd", b'{'), Some(6));
        assert_eq!(f.find_json("abcde", b'{'), None);
        assert_eq!(f.find_json("abc", b'{'), None);
    }

    #[test]
    fn strings_borrow_unless_unescaped() {
        let text = r#"{"a": "plain", "b\u0041": "esc\"aped", "c": 3}"#;
        let map: Ordered<'_, Scalar<'_>> = serde_json::from_str(text).unwrap();
        let got: Vec<(&str, bool, &str, bool)> = map
            .0
            .iter()
            .map(|(k, v)| {
                let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
                (&**k, borrowed(k), v.as_str(), borrowed(&v.0))
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", true, "plain", true),
                ("bA", false, "esc\"aped", false),
                ("c", true, "3", false),
            ]
        );
        let s: Str<'_> = serde_json::from_str(r#""x\ny""#).unwrap();
        assert_eq!(&*s, "x\ny");
        assert!(serde_json::from_str::<Str<'_>>("1").is_err());
    }

    #[test]
    fn dependency_names_are_the_keys_in_file_order() {
        let names: Names<'_> =
            serde_json::from_str(r#"{"z": "^1", "a": {"nested": [1, 2]}, "m\u002fn": null}"#)
                .unwrap();
        let names: Vec<&str> = names.0.iter().map(|n| &**n).collect();
        assert_eq!(names, ["z", "a", "m/n"]);
        assert!(serde_json::from_str::<Names<'_>>(r#"["a"]"#).is_err());
    }

    #[test]
    fn licences_from_strings_and_legacy_objects_only() {
        let read = |json: &str| {
            serde_json::from_str::<License<'_>>(json)
                .unwrap()
                .0
                .map(|l| l.into_owned())
        };
        assert_eq!(read(r#""MIT""#).as_deref(), Some("MIT"));
        assert_eq!(
            read(r#"{"url": "https://x", "type": "ISC", "extra": {"a": [1]}}"#).as_deref(),
            Some("ISC")
        );
        assert_eq!(read(r#"{"url": "https://x"}"#), None);
        assert_eq!(read(r#"{"type": 7}"#), None);
        assert_eq!(read(r#"["MIT", "ISC"]"#), None);
        assert_eq!(read("true"), None);
        assert_eq!(read("1.5"), None);
        assert_eq!(read("null"), None);
    }
}

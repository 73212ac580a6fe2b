//! Parser for `Cargo.lock`, versions 1 to 4.
//!
//! Cargo documents the format in the module that reads and writes it,
//! <https://doc.rust-lang.org/nightly/nightly-rustc/cargo/core/resolver/encode/index.html>, and
//! the lockfile's role in <https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html>.
//!
//! - v1 (no `version` key): dependencies are written `"name version (source)"` and checksums
//!   live in a `[metadata]` table as `"checksum name version (source)" = "hex"`; very old files
//!   also have a `[root]` table for the root package.
//! - v2 (no `version` key): `checksum` is a field of each package, and a dependency is written
//!   `"name"`, or `"name version"` / `"name version (source)"` only when that is ambiguous.
//! - v3 (`version = 3`) and v4 (`version = 4`): as v2; v4 percent-encodes git query values.
//!
//! A package without `source` is a workspace member or a path dependency: a project, not a
//! third-party library. This module also holds small helpers the other system-ecosystem parsers
//! (Go, Ruby, PHP, Gradle) share: [`synthetic_root`] and [`git_vcs_url`].

use std::collections::BTreeMap;

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use vouch_inventory::{Algorithm, Digest, Ecosystem, Inventory, Package, PackageId, Source};

use crate::common::{self, Lines};
use crate::{Input, ParseError, ParseErrorKind};

/// The index of crates.io, in its git and sparse spellings.
const CRATES_IO: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: RawLock = common::toml(file, text)?;
    check_version(file, text, lock.version)?;

    let (root_line, header_lines) = header_lines(text);
    let mut raws: Vec<(Option<u32>, RawPackage)> = Vec::new();
    if let Some(root) = lock.root {
        raws.push((root_line, root));
    }
    for (i, p) in lock.package.into_iter().enumerate() {
        raws.push((header_lines.get(i).copied(), p));
    }
    common::check_entries(file, raws.len(), "packages")?;
    let v1_checksums = v1_checksums(&lock.metadata);

    let mut inv = Inventory::new();
    let mut ids: Vec<PackageId> = Vec::with_capacity(raws.len());
    let mut locked: Vec<Locked<'_>> = Vec::with_capacity(raws.len());
    for (line, raw) in &raws {
        let at = |e: ParseError| e.at_line_opt(*line);
        let name = raw
            .name
            .as_deref()
            .ok_or_else(|| at(ParseError::missing(file, "name", "[[package]]")))?;
        let version = raw.version.as_deref().ok_or_else(|| {
            at(ParseError::missing(
                file,
                "version",
                format!("package `{name}`"),
            ))
        })?;
        let checksum = raw.checksum.as_deref().or_else(|| {
            let source = raw.source.as_deref()?;
            v1_checksums
                .get(&(name, version, source))
                .copied()
                .filter(|c| *c != "<none>")
        });
        let pkg = build_package(file, *line, name, version, raw.source.as_deref(), checksum);
        let id = match raw.source {
            None => inv.add_root(pkg),
            Some(_) => inv.add(pkg),
        };
        ids.push(id);
        locked.push(Locked {
            name,
            version,
            source: raw.source.as_deref(),
        });
    }

    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, l) in locked.iter().enumerate() {
        by_name.entry(l.name).or_default().push(i);
    }
    for ((_, raw), from) in raws.iter().zip(&ids) {
        for dep in &raw.dependencies {
            if let Some(to) = resolve(dep, &locked, &by_name).and_then(|j| ids.get(j)) {
                inv.depend(from, to);
            }
        }
    }
    manifest::apply_dev_scopes(input, &mut inv);
    Ok(inv)
}

/// Dev scopes from the manifests beside the lockfile.
///
/// `Cargo.lock` does not say which dependencies are dev-dependencies: Cargo resolves them with
/// the rest. The workspace's `Cargo.toml` (and the manifests of members it lists by path) do, so
/// when they are there, packages that only dev-dependencies of workspace members pull in are
/// marked [`Scope::Dev`]. A manifest that is missing or unreadable changes nothing: the lockfile
/// alone is still described, with every package required.
mod manifest {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::Deserialize;
    use vouch_inventory::{Inventory, Kind, PackageId, Scope};

    use crate::Input;

    #[derive(Deserialize, Default)]
    struct Manifest {
        package: Option<PackageTable>,
        #[serde(default)]
        workspace: Option<Workspace>,
        #[serde(default)]
        dependencies: BTreeMap<String, toml::Value>,
        #[serde(default, rename = "dev-dependencies")]
        dev_dependencies: BTreeMap<String, toml::Value>,
        #[serde(default, rename = "build-dependencies")]
        build_dependencies: BTreeMap<String, toml::Value>,
        #[serde(default)]
        target: BTreeMap<String, Manifest>,
    }

    #[derive(Deserialize)]
    struct PackageTable {
        name: Option<String>,
    }

    #[derive(Deserialize, Default)]
    struct Workspace {
        #[serde(default)]
        members: Vec<String>,
    }

    /// A dependency's package name: the key, or `package = "..."` when renamed.
    fn package_name(key: &str, value: &toml::Value) -> String {
        value
            .get("package")
            .and_then(toml::Value::as_str)
            .unwrap_or(key)
            .to_owned()
    }

    /// (normal and build dependency names, dev dependency names) of a manifest and its
    /// `[target.*]` tables.
    fn dependency_names(m: &Manifest) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut normal: BTreeSet<String> = m
            .dependencies
            .iter()
            .chain(&m.build_dependencies)
            .map(|(k, v)| package_name(k, v))
            .collect();
        let mut dev: BTreeSet<String> = m
            .dev_dependencies
            .iter()
            .map(|(k, v)| package_name(k, v))
            .collect();
        for t in m.target.values() {
            let (n, d) = dependency_names(t);
            normal.extend(n);
            dev.extend(d);
        }
        (normal, dev)
    }

    fn read(input: &Input<'_>, rel: &str) -> Option<Manifest> {
        let bytes = (input.siblings)(rel)?.ok()?;
        toml::from_str(std::str::from_utf8(&bytes).ok()?).ok()
    }

    pub(super) fn apply_dev_scopes(input: &Input<'_>, inv: &mut Inventory) {
        let Some(root) = read(input, "Cargo.toml") else {
            return;
        };
        let mut manifests = Vec::new();
        if let Some(ws) = &root.workspace {
            for member in &ws.members {
                // Globs would need a directory listing, which a lockfile parser does not do.
                if member.contains(['*', '?', '[']) {
                    continue;
                }
                if let Some(m) = read(
                    input,
                    &format!("{}/Cargo.toml", member.trim_end_matches('/')),
                ) {
                    manifests.push(m);
                }
            }
        }
        manifests.push(root);
        // For each workspace project named by a manifest: which of its lockfile edges are
        // dev-only.
        let mut dev_edges: BTreeSet<(PackageId, PackageId)> = BTreeSet::new();
        for m in &manifests {
            let Some(name) = m.package.as_ref().and_then(|p| p.name.as_deref()) else {
                continue;
            };
            let (normal, dev) = dependency_names(m);
            let projects: Vec<PackageId> = inv
                .roots()
                .iter()
                .filter(|id| inv.get(id).is_some_and(|p| p.name == name))
                .cloned()
                .collect();
            for project in projects {
                for dep in inv.dependencies(&project) {
                    let Some(p) = inv.get(dep) else { continue };
                    if dev.contains(&p.name) && !normal.contains(&p.name) {
                        dev_edges.insert((project.clone(), dep.clone()));
                    }
                }
            }
        }
        if dev_edges.is_empty() {
            return;
        }
        // Everything reachable from a project without taking a dev-only edge is required.
        let mut required: BTreeSet<PackageId> = BTreeSet::new();
        let mut queue: Vec<PackageId> = inv.roots().iter().cloned().collect();
        while let Some(id) = queue.pop() {
            for dep in inv.dependencies(&id) {
                if dev_edges.contains(&(id.clone(), dep.clone())) {
                    continue;
                }
                if required.insert(dep.clone()) {
                    queue.push(dep.clone());
                }
            }
        }
        let dev_only: Vec<PackageId> = inv
            .libraries()
            .filter(|(id, _)| !required.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in dev_only {
            if let Some(p) = inv.get_mut(&id)
                && p.kind == Kind::Library
            {
                p.scope = Scope::Dev;
            }
        }
    }
}

/// The top level of a `Cargo.lock`.
#[derive(Deserialize)]
struct RawLock {
    version: Option<i64>,
    #[serde(default)]
    package: Vec<RawPackage>,
    root: Option<RawPackage>,
    #[serde(default)]
    metadata: BTreeMap<String, MetadataValue>,
}

/// One `[[package]]` (or the v1 `[root]`).
#[derive(Deserialize)]
struct RawPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// A `[metadata]` value: v1 checksums are strings; anything else is kept out of the way.
#[derive(Deserialize)]
#[serde(untagged)]
enum MetadataValue {
    Text(String),
    Other(IgnoredAny),
}

/// What identifies a locked package when resolving dependency strings.
struct Locked<'a> {
    name: &'a str,
    version: &'a str,
    source: Option<&'a str>,
}

/// Refuses lockfile versions Cargo has not defined (a newer Cargo may change the meaning).
fn check_version(file: &str, text: &str, version: Option<i64>) -> Result<(), ParseError> {
    match version {
        None | Some(1..=4) => Ok(()),
        Some(found) => {
            let line = text
                .lines()
                .take_while(|l| !l.trim_start().starts_with('['))
                .position(|l| l.trim_start().starts_with("version"))
                .map(|i| i + 1);
            let e = ParseError::new(
                file,
                ParseErrorKind::UnsupportedVersion {
                    what: "version".to_owned(),
                    found: found.to_string(),
                    supported: "1, 2, 3 and 4".to_owned(),
                },
            );
            Err(match line {
                Some(l) => e.at_line(l),
                None => e,
            })
        }
    }
}

/// The lines of the `[root]` header and of each `[[package]]` header, in file order, so that
/// the n-th package's evidence points at its table. One pass over the text.
fn header_lines(text: &str) -> (Option<u32>, Vec<u32>) {
    let mut root = None;
    let mut packages = Vec::new();
    let lines = Lines::new(text);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t == "[[package]]" {
            packages.push(lines.line_of(offset));
        } else if t == "[root]" {
            root = Some(lines.line_of(offset));
        }
        offset += line.len();
    }
    (root, packages)
}

/// The v1 `[metadata]` checksums keyed by (name, version, source).
fn v1_checksums(metadata: &BTreeMap<String, MetadataValue>) -> HashMap<(&str, &str, &str), &str> {
    metadata
        .iter()
        .filter_map(|(key, value)| {
            let MetadataValue::Text(value) = value else {
                return None;
            };
            let spec = parse_dep(key.strip_prefix("checksum ")?);
            Some(((spec.name, spec.version?, spec.source?), value.as_str()))
        })
        .collect()
}

/// Builds the package for one `[[package]]` entry.
fn build_package(
    file: &str,
    line: Option<u32>,
    name: &str,
    version: &str,
    source: Option<&str>,
    checksum: Option<&str>,
) -> Package {
    let mut pkg = common::package(Ecosystem::Cargo, None, name, Some(version), file, line);
    if let Some(raw) = source {
        let (src, qualifier) = parse_source(raw);
        if let Some((key, value)) = qualifier {
            pkg.purl = pkg
                .purl
                .take()
                .and_then(|p| p.with_qualifier(key, &value).ok());
        }
        if src == Source::Unknown {
            pkg.properties
                .insert("vouch:cargo-source".to_owned(), raw.to_owned());
        }
        // crates.io serves every crate from one documented location, so the exact artifact the
        // checksum covers can be named.
        pkg.source = if CRATES_IO.contains(&raw) {
            Source::Registry {
                url: Some(format!(
                    "https://static.crates.io/crates/{name}/{name}-{version}.crate"
                )),
            }
        } else {
            src
        };
    }
    if let Some(c) = checksum {
        match Digest::from_hex(Algorithm::Sha256, c) {
            Ok(d) => {
                pkg.hashes.insert(d);
            }
            Err(_) => {
                pkg.properties
                    .insert("vouch:integrity-malformed".to_owned(), c.to_owned());
            }
        }
    }
    pkg
}

/// Reads a `source` value into a [`Source`] and the purl qualifier it calls for.
///
/// `registry+URL` and `sparse+URL` are registries (crates.io needs no qualifier, any other
/// registry gets `repository_url`); `git+URL?branch=x#commit` is a git checkout (`vcs_url`).
fn parse_source(raw: &str) -> (Source, Option<(&'static str, String)>) {
    if let Some(url) = raw
        .strip_prefix("registry+")
        .or_else(|| raw.strip_prefix("sparse+"))
    {
        let qualifier = (!CRATES_IO.contains(&raw)).then(|| ("repository_url", url.to_owned()));
        let source = Source::Registry {
            url: Some(url.to_owned()),
        };
        return (source, qualifier);
    }
    if let Some(rest) = raw.strip_prefix("git+") {
        let (rest, commit) = match rest.split_once('#') {
            Some((r, c)) => (r, Some(c.to_owned()).filter(|c| !c.is_empty())),
            None => (rest, None),
        };
        let (url, query) = rest.split_once('?').unwrap_or((rest, ""));
        let reference = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| matches!(*k, "branch" | "tag" | "rev"))
            .map(|(_, v)| common::percent_decode(v));
        let vcs = git_vcs_url(url, commit.as_deref().or(reference.as_deref()));
        let source = Source::Git {
            url: url.to_owned(),
            commit,
            reference,
        };
        return (source, Some(("vcs_url", vcs)));
    }
    (Source::Unknown, None)
}

/// A dependency string: `name`, `name version` or `name version (source)`.
struct DepSpec<'a> {
    name: &'a str,
    version: Option<&'a str>,
    source: Option<&'a str>,
}

fn parse_dep(s: &str) -> DepSpec<'_> {
    let s = s.trim();
    let (name, rest) = s.split_once(' ').unwrap_or((s, ""));
    let rest = rest.trim();
    let (version, source) = match rest.split_once(' ') {
        Some((v, src)) => (
            v,
            src.trim()
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')')),
        ),
        None => (rest, None),
    };
    DepSpec {
        name,
        version: Some(version).filter(|v| !v.is_empty()),
        source,
    }
}

/// Finds the locked package a dependency string names, the way Cargo does: by name, then by
/// version when given, then by source when given (git sources are written without the commit
/// fragment in dependency lists, so fragments are ignored on both sides).
fn resolve(dep: &str, locked: &[Locked<'_>], by_name: &HashMap<&str, Vec<usize>>) -> Option<usize> {
    let spec = parse_dep(dep);
    let strip = |s: &str| s.split('#').next().unwrap_or(s).to_owned();
    let candidates: Vec<usize> = by_name
        .get(spec.name)?
        .iter()
        .copied()
        .filter(|i| {
            let Some(l) = locked.get(*i) else {
                return false;
            };
            spec.version.is_none_or(|v| l.version == v)
                && spec
                    .source
                    .is_none_or(|s| l.source.is_some_and(|ls| strip(ls) == strip(s)))
        })
        .collect();
    if candidates.len() > 1 && spec.version.is_some() && spec.source.is_none() {
        // v1 writes path dependencies as `name version` with no source: prefer the sourceless.
        if let Some(i) = candidates
            .iter()
            .copied()
            .find(|i| locked.get(*i).is_some_and(|l| l.source.is_none()))
        {
            return Some(i);
        }
    }
    candidates.first().copied()
}

pub(crate) use crate::common::synthetic_root;

/// A purl `vcs_url` qualifier value: `git+<url>@<revision>` per the purl specification.
pub(crate) fn git_vcs_url(url: &str, revision: Option<&str>) -> String {
    let base = if url.starts_with("git+") {
        url.to_owned()
    } else {
        format!("git+{url}")
    };
    match revision.filter(|r| !r.is_empty()) {
        Some(r) => format!("{base}@{r}"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_strings() {
        let d = parse_dep("regex 1.11.1 (git+https://github.com/rust-lang/regex.git)");
        assert_eq!(d.name, "regex");
        assert_eq!(d.version, Some("1.11.1"));
        assert_eq!(d.source, Some("git+https://github.com/rust-lang/regex.git"));
        let d = parse_dep("memchr");
        assert_eq!((d.name, d.version, d.source), ("memchr", None, None));
    }

    #[test]
    fn sources() {
        let (s, q) = parse_source("git+https://example.com/a.git?branch=feat%2Fx#abc");
        assert_eq!(
            s,
            Source::Git {
                url: "https://example.com/a.git".into(),
                commit: Some("abc".into()),
                reference: Some("feat/x".into())
            }
        );
        assert_eq!(
            q,
            Some(("vcs_url", "git+https://example.com/a.git@abc".into()))
        );
        let (_, q) = parse_source("sparse+https://index.crates.io/");
        assert_eq!(q, None);
    }

    #[test]
    fn synthetic_root_names() {
        assert_eq!(synthetic_root(Ecosystem::Golang, "a/b/go.sum").name, "b");
        assert_eq!(synthetic_root(Ecosystem::Golang, "go.sum").name, "go.sum");
        assert_eq!(common::percent_decode("a%2Fb%zz"), "a/b%zz");
    }
}

//! Parser for `poetry.lock`, lock-version 1.x and 2.x.
//!
//! Poetry documents the lock file's role in "Basic usage"
//! (<https://python-poetry.org/docs/basic-usage/#installing-with-poetrylock>) and its
//! dependency and source syntax in "Dependency specification"
//! (<https://python-poetry.org/docs/dependency-specification/>) and "Repositories"
//! (<https://python-poetry.org/docs/repositories/>); the file layout itself is defined by
//! poetry's locker (`poetry/packages/locker.py`).
//!
//! - 1.x: `category = "main" | "dev"`, hashes in `[metadata.files]` per package name
//!   (`[metadata.hashes]`, plain sha256 hex, in 1.0).
//! - 2.x: `groups = [...]`, `markers`, `files = [{file, hash}]` inline per package.
//!
//! The file does not name the project, so a root named after the lockfile's directory is
//! created; which packages the project asks for directly is not recorded either, so they are
//! attached to that root by the caller.

use std::collections::BTreeMap;

use serde::Deserialize;
use vouch_inventory::{Inventory, Package, PackageId, Scope, Source};

use crate::common;
use crate::requirements::{
    add_hash, normalize, package_header_lines, pypi_package, set_git, set_registry, set_url,
    split_rev, synthetic_root, version_matches,
};
use crate::{Input, ParseError};

/// Parses a `poetry.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lock = common::toml(file, text)?;
    if let Some(version) = lock
        .metadata
        .as_ref()
        .and_then(|m| m.lock_version.as_deref())
    {
        let major = version.split('.').next().unwrap_or("");
        if major != "1" && major != "2" {
            return Err(common::unsupported_version(
                file,
                text,
                "lock-version",
                version,
                "1.x and 2.x",
            ));
        }
    }
    common::check_entries(file, lock.package.len(), "packages")?;
    let header_lines = package_header_lines(text);
    let (metadata_files, metadata_hashes) = match lock.metadata {
        Some(m) => (
            normalise_keys(m.files.unwrap_or_default()),
            normalise_keys(m.hashes.unwrap_or_default()),
        ),
        None => (BTreeMap::new(), BTreeMap::new()),
    };

    let mut inv = Inventory::new();
    let root = inv.add_root(synthetic_root(file));
    // Several versions of one name can be locked (for different markers): keep them all.
    let mut by_name: BTreeMap<String, Vec<(PackageId, String)>> = BTreeMap::new();
    let mut deps: Vec<(PackageId, toml::Table)> = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &lock.package {
        if let Some(n) = &entry.name {
            *counts.entry(normalize(n)).or_default() += 1;
        }
    }
    for (i, entry) in lock.package.into_iter().enumerate() {
        let line = header_lines.get(i).copied();
        let at = |e: ParseError| e.at_line_opt(line);
        let name = entry
            .name
            .ok_or_else(|| at(ParseError::missing(file, "name", "[[package]] entry")))?;
        let version = entry.version.ok_or_else(|| {
            at(ParseError::missing(
                file,
                "version",
                format!("package `{name}`"),
            ))
        })?;
        let key = normalize(&name);
        let mut pkg = pypi_package(&name, Some(&version), file, line);
        pkg.scope = scope(entry.optional, &entry.groups, entry.category.as_deref());
        if let Some(toml::Value::String(m)) = &entry.markers {
            pkg.properties.insert("vouch:marker".to_owned(), m.clone());
        }
        if !entry.groups.is_empty() {
            pkg.properties
                .insert("vouch:groups".to_owned(), entry.groups.join(","));
        }
        for f in &entry.files {
            add_hash(&mut pkg, &f.hash);
        }
        // 1.x keeps hashes per name; with several versions of a name, keep a version's own
        // files (their names carry the version).
        let shared = counts.get(&key).copied().unwrap_or(0) > 1;
        for f in metadata_files.get(&key).into_iter().flatten() {
            if !shared || file_has_version(&f.file, &version) {
                add_hash(&mut pkg, &f.hash);
            }
        }
        for h in metadata_hashes.get(&key).into_iter().flatten() {
            if h.contains(':') {
                add_hash(&mut pkg, h);
            } else {
                add_hash(&mut pkg, &format!("sha256:{h}"));
            }
        }
        let project = apply_source(&mut pkg, entry.source.as_ref());
        let id = if project {
            inv.add_root(pkg)
        } else {
            inv.add(pkg)
        };
        by_name.entry(key).or_default().push((id.clone(), version));
        if !entry.dependencies.is_empty() {
            deps.push((id, entry.dependencies));
        }
    }
    for (from, table) in deps {
        for (dep_name, spec) in table {
            let constraints = constraints_of(&spec);
            for (to, version) in by_name.get(&normalize(&dep_name)).into_iter().flatten() {
                let ok = constraints.is_empty()
                    || constraints.iter().any(|c| version_matches(c, version));
                if ok {
                    inv.depend(&from, to);
                }
            }
        }
    }
    // Local directory and file packages are projects of their own; the lockfile's project
    // still needs them.
    inv.depend_on_other_roots(&root);
    // The project's direct dependencies are not recorded: hang what nothing else needs off
    // the lockfile's root (the caller would pick the first root, maybe a local package).
    inv.attach_orphans(&root);
    Ok(inv)
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Entry>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "lock-version")]
    lock_version: Option<String>,
    files: Option<BTreeMap<String, Vec<FileHash>>>,
    /// lock-version 1.0: plain sha256 hex per name.
    hashes: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    category: Option<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    groups: Vec<String>,
    /// A string, or per-group strings in a table.
    markers: Option<toml::Value>,
    #[serde(default)]
    files: Vec<FileHash>,
    #[serde(default)]
    dependencies: toml::Table,
    source: Option<SourceEntry>,
}

#[derive(Deserialize)]
struct FileHash {
    #[serde(default)]
    file: String,
    #[serde(default)]
    hash: String,
}

#[derive(Deserialize)]
struct SourceEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
    reference: Option<String>,
    resolved_reference: Option<String>,
    subdirectory: Option<String>,
}

fn normalise_keys<V>(map: BTreeMap<String, V>) -> BTreeMap<String, V> {
    map.into_iter().map(|(k, v)| (normalize(&k), v)).collect()
}

/// Dev for packages only in non-main groups (2.x) or `category = "dev"` (1.x); Optional for
/// packages installed only for an extra.
fn scope(optional: bool, groups: &[String], category: Option<&str>) -> Scope {
    let dev = if groups.is_empty() {
        category == Some("dev")
    } else {
        !groups.iter().any(|g| g == "main")
    };
    if dev {
        Scope::Dev
    } else if optional {
        Scope::Optional
    } else {
        Scope::Required
    }
}

/// Sets the package's source; returns whether it is a local project (directory or file).
fn apply_source(pkg: &mut Package, source: Option<&SourceEntry>) -> bool {
    let Some(s) = source else {
        set_registry(pkg, Some(crate::requirements::PYPI_SIMPLE));
        return false;
    };
    if let Some(sub) = &s.subdirectory {
        pkg.properties
            .insert("vouch:subdirectory".to_owned(), sub.clone());
    }
    match s.kind.as_str() {
        "git" => {
            let (commit, _) = split_rev(s.resolved_reference.as_deref());
            let commit = commit.or(s.resolved_reference.as_deref());
            set_git(pkg, &s.url, commit, s.reference.as_deref());
            false
        }
        "directory" | "file" => {
            pkg.source = Source::Path {
                path: s.url.clone(),
            };
            true
        }
        "url" => {
            set_url(pkg, &s.url);
            false
        }
        // `legacy` (a PEP 503 simple index), `pypi`, or a named private repository.
        _ => {
            if let Some(name) = &s.reference {
                pkg.properties
                    .insert("vouch:source-name".to_owned(), name.clone());
            }
            set_registry(
                pkg,
                Some(&s.url).filter(|u| !u.is_empty()).map(String::as_str),
            );
            false
        }
    }
}

/// The version constraints of a `[package.dependencies]` value: a string, a table with
/// `version`, or an array of such tables (one per marker); empty means any version.
fn constraints_of(spec: &toml::Value) -> Vec<String> {
    match spec {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Table(t) => t
            .get("version")
            .and_then(toml::Value::as_str)
            .map(|v| vec![v.to_owned()])
            .unwrap_or_default(),
        toml::Value::Array(items) => {
            let all: Vec<String> = items.iter().flat_map(constraints_of).collect();
            // One alternative without a version accepts any version.
            if all.len() < items.len() {
                Vec::new()
            } else {
                all
            }
        }
        _ => Vec::new(),
    }
}

/// Whether a distribution file name is for `version` (`name-1.2.3-py3-none-any.whl`,
/// `name-1.2.3.tar.gz`).
fn file_has_version(file: &str, version: &str) -> bool {
    let needle = format!("-{version}");
    let mut from = 0;
    while let Some(pos) = common::find_from(file, &needle, from) {
        let after = file.get(pos + needle.len()..).unwrap_or("");
        if after.starts_with('-') || after.starts_with(".tar") || after.starts_with(".zip") {
            return true;
        }
        from = pos + 1;
    }
    false
}

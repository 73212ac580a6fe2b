//! Parser for `pdm.lock`, `lock_version` 4.x (and 3.x, whose hashes live in
//! `[metadata.files]`).
//!
//! Format: PDM's "Lock file" documentation (<https://pdm-project.org/latest/usage/lockfile/>)
//! and its lock file schema (`pdm/models/lockfile.py`).
//!
//! `[[package]]` entries carry `name`, `version`, `groups`, `dependencies` (PEP 508 strings),
//! `files = [{file | url, hash}]` and, for non-index packages, `git` + `ref` + `revision`,
//! `url`, or `path` (+ `editable`). PDM writes one entry per extras combination
//! (`extras = ["toml"]`); they are the same distribution and merge into one package. The
//! project itself is not in the file, so a root named after the lockfile's directory is made.

use std::collections::BTreeMap;

use serde::Deserialize;
use vouch_inventory::{Inventory, PackageId, Scope, Source};

use crate::common;
use crate::requirements::{
    PYPI_SIMPLE, add_hash, normalize, package_header_lines, parse_pep508, pypi_package, set_git,
    set_registry, set_url, synthetic_root, version_matches,
};
use crate::{Input, ParseError};

/// Parses a `pdm.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lock = common::toml(file, text)?;
    let metadata = lock.metadata.unwrap_or_default();
    if let Some(v) = &metadata.lock_version {
        let major = v.split('.').next().unwrap_or("");
        if major != "3" && major != "4" {
            return Err(common::unsupported_version(
                file,
                text,
                "lock_version",
                v,
                "3.x and 4.x",
            ));
        }
    }
    common::check_entries(file, lock.package.len(), "packages")?;
    // 3.x: `"name version" = [{file, hash}]`.
    let legacy_files: BTreeMap<(String, String), Vec<FileHash>> = metadata
        .files
        .into_iter()
        .filter_map(|(k, v)| {
            let (name, version) = k.split_once(' ')?;
            Some(((normalize(name), version.trim().to_owned()), v))
        })
        .collect();
    let header_lines = package_header_lines(text);

    let mut inv = Inventory::new();
    let root = inv.add_root(synthetic_root(file));
    let mut by_name: BTreeMap<String, Vec<(PackageId, String)>> = BTreeMap::new();
    let mut deps: Vec<(PackageId, Vec<String>)> = Vec::new();
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
        if !entry.groups.is_empty() && !entry.groups.iter().any(|g| g == "default") {
            pkg.scope = Scope::Dev;
        }
        if !entry.groups.is_empty() {
            pkg.properties
                .insert("vouch:groups".to_owned(), entry.groups.join(","));
        }
        if let Some(m) = &entry.marker {
            pkg.properties.insert("vouch:marker".to_owned(), m.clone());
        }
        for f in entry.files.iter().chain(
            legacy_files
                .get(&(key.clone(), version.clone()))
                .into_iter()
                .flatten(),
        ) {
            add_hash(&mut pkg, &f.hash);
        }
        let mut project = false;
        if let Some(git) = &entry.git {
            set_git(
                &mut pkg,
                git,
                entry.revision.as_deref(),
                entry.reference.as_deref(),
            );
        } else if let Some(path) = &entry.path {
            pkg.source = Source::Path { path: path.clone() };
            project = true;
        } else if let Some(url) = &entry.url {
            set_url(&mut pkg, url);
        } else {
            set_registry(&mut pkg, Some(PYPI_SIMPLE));
        }
        if entry.editable {
            pkg.properties
                .insert("vouch:editable".to_owned(), "true".to_owned());
        }
        let id = if project {
            let id = inv.add_root(pkg);
            inv.depend(&root, &id);
            id
        } else {
            inv.add(pkg)
        };
        let versions = by_name.entry(key).or_default();
        if !versions.iter().any(|(v_id, _)| *v_id == id) {
            versions.push((id.clone(), version));
        }
        if !entry.dependencies.is_empty() {
            deps.push((id, entry.dependencies));
        }
    }
    for (from, reqs) in deps {
        for req in reqs {
            let Some(parsed) = parse_pep508(&req) else {
                continue;
            };
            for (to, version) in by_name.get(&normalize(parsed.name)).into_iter().flatten() {
                if parsed.url.is_some() || version_matches(parsed.specifier, version) {
                    inv.depend(&from, to);
                }
            }
        }
    }
    // The project's direct dependencies are not recorded: hang what nothing else needs off
    // the lockfile's root (the caller would pick the first root, maybe a local package).
    inv.attach_orphans(&root);
    Ok(inv)
}

#[derive(Deserialize)]
struct Lock {
    metadata: Option<Metadata>,
    #[serde(default)]
    package: Vec<Entry>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    lock_version: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, Vec<FileHash>>,
}

#[derive(Deserialize)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    marker: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(default)]
    files: Vec<FileHash>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    revision: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
struct FileHash {
    #[serde(default)]
    hash: String,
}

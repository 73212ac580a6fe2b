//! NuGet `packages.lock.json`, versions 1 and 2.
//!
//! Format: <https://learn.microsoft.com/nuget/consume-packages/package-references-in-project-files#locking-dependencies>
//! and the writer, `NuGet.ProjectModel/PackagesLockFileFormat.cs` in
//! <https://github.com/NuGet/NuGet.Client>. `dependencies` maps each target framework
//! (`net8.0`, and `net8.0/linux-x64` for runtime-specific assets) to its packages; each entry
//! has a `type` (`Direct`, `Transitive`, `Project`, and `CentralTransitive` in version 2, written
//! when central package management pins a transitive package), `requested` (the range asked
//! for), `resolved` (the version), `contentHash` (base64 SHA-512 of the `.nupkg`) and
//! `dependencies` (name → range). Names are case-insensitive, as NuGet compares them.
//!
//! This module also holds small helpers that the other JSON lockfile parsers of this group
//! (SwiftPM, Conan) share: [`Ordered`] keeps JSON objects in document order so that evidence
//! lines can be found by one forward scan, and [`project_name`] names the synthetic root of
//! formats that record no project.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use vouch_digest::{Algorithm, Digest};
use vouch_inventory::{Ecosystem, Inventory, Package, PackageId, Source};

use crate::common::{self, Lines};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses a `packages.lock.json`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    // The version decides the layout, so it is checked before the entries are read.
    let head: Head = common::json(file, text)?;
    check_version(file, head.version.as_ref())?;
    let lock: Lock = common::json(file, text)?;
    let sections = lock.dependencies.map(|d| d.0).unwrap_or_default();
    let total: usize = sections.iter().map(|(_, s)| s.0.len()).sum();
    common::check_entries(file, total, "packages")?;

    let lines = Lines::new(text);
    let mut inv = Inventory::new();
    let root =
        inv.add_root(Package::new(Ecosystem::Nuget, project_name(file)).found_in(file, None));

    // Pass 1: every entry becomes a package (or a project root), indexed per framework by
    // lowercase name so that dependency names resolve the way NuGet compares them.
    let mut index: HashMap<&str, HashMap<String, PackageId>> = HashMap::new();
    let mut libraries: Vec<PackageId> = Vec::new();
    let mut frameworks: BTreeMap<PackageId, BTreeSet<&str>> = BTreeMap::new();
    let mut cursor = find_object_key(text, "dependencies", 0).unwrap_or(0);
    for (framework, entries) in &sections {
        if let Some(at) = find_object_key(text, framework, cursor) {
            cursor = at;
        }
        let by_name = index.entry(framework.as_str()).or_default();
        for (name, entry) in &entries.0 {
            let line = find_object_key(text, name, cursor).map(|at| {
                cursor = at;
                lines.line_of(at)
            });
            let kind = entry.kind.as_deref().ok_or_else(|| {
                let e =
                    ParseError::missing(file, "type", format!("package `{name}` in `{framework}`"));
                at_line(e, line)
            })?;
            let id = match kind {
                "Project" => {
                    let mut p = Package::new(Ecosystem::Nuget, name.as_str()).found_in(file, line);
                    p.properties
                        .insert("vouch:nuget-type".to_owned(), kind.to_owned());
                    inv.add_root(p)
                }
                "Direct" | "Transitive" | "CentralTransitive" => {
                    let p = library(file, framework, name, kind, entry, line)?;
                    let id = inv.add(p);
                    libraries.push(id.clone());
                    frameworks
                        .entry(id.clone())
                        .or_default()
                        .insert(framework.as_str());
                    id
                }
                other => {
                    let e = ParseError::invalid(
                        file,
                        "type",
                        "`Direct`, `Transitive`, `CentralTransitive` or `Project`",
                        other,
                    );
                    return Err(at_line(e, line));
                }
            };
            by_name.insert(name.to_lowercase(), id);
        }
    }

    // Pass 2: edges. A runtime-specific section (`net8.0/linux-x64`) lists only the packages
    // with runtime assets; names it does not hold resolve in its framework's section.
    let mut depended_on: BTreeSet<PackageId> = BTreeSet::new();
    let mut kinds: Vec<(PackageId, Option<&str>)> = Vec::new();
    for (framework, entries) in &sections {
        let base = framework.split_once('/').map(|(b, _)| b);
        let lookup = |dep: &str| -> Option<PackageId> {
            let key = dep.to_lowercase();
            index
                .get(framework.as_str())
                .and_then(|m| m.get(&key))
                .or_else(|| base.and_then(|b| index.get(b)).and_then(|m| m.get(&key)))
                .cloned()
        };
        for (name, entry) in &entries.0 {
            let Some(from) = lookup(name) else { continue };
            for dep in entry.dependencies.iter().flat_map(|d| d.keys()) {
                if let Some(to) = lookup(dep) {
                    inv.depend(&from, &to);
                    depended_on.insert(to);
                }
            }
            kinds.push((from, entry.kind.as_deref()));
        }
    }
    // The lockfile's own project depends on its `Direct` packages and on the project
    // references that no other project pulls in.
    for (id, kind) in kinds {
        let top_project = kind == Some("Project") && !depended_on.contains(&id);
        if kind == Some("Direct") || top_project {
            inv.depend(&root, &id);
        }
    }
    // A package nothing in the file depends on (a runtime pack in a RID section) belongs to
    // the lockfile's project too.
    for id in libraries {
        if !depended_on.contains(&id) {
            inv.depend(&root, &id);
        }
    }

    for (id, fws) in frameworks {
        if let Some(p) = inv.get_mut(&id) {
            let list: Vec<&str> = fws.into_iter().collect();
            p.properties
                .insert("vouch:nuget-frameworks".to_owned(), list.join(", "));
        }
    }
    Ok(inv)
}

/// Just the format version.
#[derive(Deserialize)]
pub(crate) struct Head {
    pub(crate) version: Option<serde_json::Value>,
}

/// The top level of `packages.lock.json`.
#[derive(Deserialize)]
struct Lock {
    dependencies: Option<Ordered<Ordered<Entry>>>,
}

/// One package (or project) under a target framework.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    requested: Option<String>,
    resolved: Option<String>,
    #[serde(rename = "contentHash")]
    content_hash: Option<String>,
    dependencies: Option<BTreeMap<String, String>>,
}

fn check_version(file: &str, version: Option<&serde_json::Value>) -> Result<(), ParseError> {
    let version = version.ok_or_else(|| ParseError::missing(file, "version", "the lockfile"))?;
    match version.as_u64() {
        Some(1 | 2) => Ok(()),
        _ => Err(ParseError::new(
            file,
            ParseErrorKind::UnsupportedVersion {
                what: "version".to_owned(),
                found: version.to_string(),
                supported: "1 and 2".to_owned(),
            },
        )),
    }
}

/// A third-party package entry.
fn library(
    file: &str,
    framework: &str,
    name: &str,
    kind: &str,
    entry: &Entry,
    line: Option<u32>,
) -> Result<Package, ParseError> {
    let version = entry.resolved.as_deref().ok_or_else(|| {
        let e = ParseError::missing(
            file,
            "resolved",
            format!("package `{name}` in `{framework}`"),
        );
        at_line(e, line)
    })?;
    let mut p = common::package(Ecosystem::Nuget, None, name, Some(version), file, line);
    p.source = Source::Registry { url: None };
    p.direct = Some(kind == "Direct");
    p.properties
        .insert("vouch:nuget-type".to_owned(), kind.to_owned());
    if let Some(requested) = &entry.requested {
        p.properties
            .insert("vouch:requested".to_owned(), requested.clone());
    }
    if let Some(hash) = &entry.content_hash {
        match Digest::from_base64(Algorithm::Sha512, hash) {
            Ok(d) => {
                p.hashes.insert(d);
            }
            Err(_) => {
                p.properties
                    .insert("vouch:integrity-malformed".to_owned(), hash.clone());
            }
        }
    }
    Ok(p)
}

fn at_line(e: ParseError, line: Option<u32>) -> ParseError {
    match line {
        Some(l) => e.at_line(l as usize),
        None => e,
    }
}

/// The name of the synthetic root for a lockfile that records no project: the lockfile's
/// directory name, or the file's display name when it has no directory.
pub(crate) fn project_name(file: &str) -> String {
    common::dir_name(file).to_owned()
}

/// The byte offset of the JSON object key `"key"` whose value is an object (`"key": {`), at or
/// after `from`. Keys whose values are strings (as in a `dependencies` map of ranges) are
/// skipped, so that a package is not located at a mention of its name in an earlier entry.
pub(crate) fn find_object_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut from = from;
    loop {
        let at = common::find_from(text, &needle, from)?;
        let after = at + needle.len();
        let rest = text.get(after..)?.trim_start();
        if let Some(value) = rest.strip_prefix(':')
            && value.trim_start().starts_with('{')
        {
            return Some(at);
        }
        from = after;
    }
}

/// A JSON object's entries in document order (serde_json sorts keys into a map otherwise).
pub(crate) struct Ordered<V>(pub(crate) Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    entries.push((k, v));
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(V_(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_skip_string_values() {
        let text = r#"{"a": {"dependencies": {"B": "1.0"}}, "B": {"x": 1}}"#;
        let at = find_object_key(text, "B", 0).unwrap();
        assert_eq!(text.get(at..at + 5), Some(r#""B": "#));
        assert!(at > 30);
    }

    #[test]
    fn project_names() {
        assert_eq!(project_name("src/app/packages.lock.json"), "app");
        assert_eq!(project_name("packages.lock.json"), "packages.lock.json");
    }
}

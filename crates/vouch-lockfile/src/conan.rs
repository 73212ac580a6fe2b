//! Conan `conan.lock`, Conan 2 (`"version": "0.5"`) and Conan 1 (`"version": "0.4"`).
//!
//! Conan 2: <https://docs.conan.io/2/tutorial/versioning/lockfiles.html> and
//! <https://docs.conan.io/2/reference/commands/lock.html>. The lock is flat: `requires`,
//! `build_requires`, `python_requires` and `config_requires` list references
//! `name/version[@user[/channel]][#recipe_revision[%timestamp]]`, newest first; one name may
//! appear at several versions. There is no graph and no project, so a root named after the
//! directory depends on every reference.
//!
//! Conan 1: <https://docs.conan.io/1/versioning/lockfiles/introduction.html>. `graph_lock.nodes`
//! maps node ids to `{ref, requires: [ids], build_requires: [ids], python_requires: [refs],
//! package_id, prev, context}`; node `"0"` is the consumer (the project).
//!
//! Package URLs follow the purl `conan` type: `pkg:conan/name@version` with `user`, `channel`
//! and `rrev` (recipe revision) qualifiers. Build requirements (tool requires, python requires,
//! configuration packages, and in Conan 1 whatever only they pull in or what sits in the build
//! context) have the dev scope.

use std::collections::BTreeSet;

use hashbrown::HashMap;
use serde::Deserialize;
use vouch_inventory::{Ecosystem, Inventory, Kind, Package, PackageId, Scope, Source};

use crate::common::{self, Lines};
use crate::nuget::{Head, Ordered, find_object_key, project_name};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses a `conan.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    // The version decides the layout, so it is read first: an older layout must be refused
    // as such, not reported as a shape error.
    let head: Head = common::json(file, text)?;
    let version = match head.version {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => return Err(ParseError::missing(file, "version", "the lockfile")),
    };
    let lines = Lines::new(text);
    match version.as_str() {
        "0.5" => {
            let lock: Lock = common::json(file, text)?;
            conan2(file, text, &lines, &lock)
        }
        "0.4" => {
            let lock: Lock = common::json(file, text)?;
            let graph = lock
                .graph_lock
                .as_ref()
                .ok_or_else(|| ParseError::missing(file, "graph_lock", "a version 0.4 lockfile"))?;
            conan1(file, text, &lines, graph)
        }
        _ => Err(ParseError::new(
            file,
            ParseErrorKind::UnsupportedVersion {
                what: "version".to_owned(),
                found: version,
                supported: "0.4 (Conan 1) and 0.5 (Conan 2)".to_owned(),
            },
        )),
    }
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    build_requires: Vec<String>,
    #[serde(default)]
    python_requires: Vec<String>,
    #[serde(default)]
    config_requires: Vec<String>,
    graph_lock: Option<GraphLock>,
}

#[derive(Deserialize)]
struct GraphLock {
    nodes: Ordered<Node>,
}

#[derive(Deserialize)]
struct Node {
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    build_requires: Vec<String>,
    #[serde(default)]
    python_requires: Vec<String>,
    package_id: Option<String>,
    prev: Option<String>,
    context: Option<String>,
}

/// The Conan 2 flat lock.
fn conan2(file: &str, text: &str, lines: &Lines, lock: &Lock) -> Result<Inventory, ParseError> {
    let lists = [
        ("requires", &lock.requires, Scope::Required),
        ("build_requires", &lock.build_requires, Scope::Dev),
        ("python_requires", &lock.python_requires, Scope::Dev),
        ("config_requires", &lock.config_requires, Scope::Dev),
    ];
    let total: usize = lists.iter().map(|(_, l, _)| l.len()).sum();
    too_many(file, total)?;
    let mut inv = Inventory::new();
    let root =
        inv.add_root(Package::new(Ecosystem::Conan, project_name(file)).found_in(file, None));
    for (key, refs, scope) in lists {
        // Each list is found once, then its references in order after it.
        let mut cursor = common::find_from(text, &format!("\"{key}\""), 0).unwrap_or(0);
        for r in refs {
            let line = common::find_from(text, &format!("\"{r}\""), cursor).map(|at| {
                cursor = at + 1;
                lines.line_of(at)
            });
            let mut p = reference_package(file, r, line)?;
            p.scope = scope;
            p.properties
                .insert("vouch:conan-requirement".to_owned(), key.to_owned());
            let id = inv.add(p);
            inv.depend(&root, &id);
        }
    }
    Ok(inv)
}

/// The Conan 1 graph lock.
fn conan1(
    file: &str,
    text: &str,
    lines: &Lines,
    graph: &GraphLock,
) -> Result<Inventory, ParseError> {
    let nodes = &graph.nodes.0;
    too_many(file, nodes.len())?;
    let mut cursor = find_object_key(text, "nodes", 0).unwrap_or(0);

    let mut inv = Inventory::new();
    let mut ids: HashMap<&str, PackageId> = HashMap::new();
    let mut python: Vec<(&str, PackageId)> = Vec::new();
    let mut has_root = false;
    for (key, node) in nodes {
        let start = find_object_key(text, key, cursor);
        if let Some(at) = start {
            cursor = at + 1;
        }
        let line = start.map(|at| lines.line_of(at));
        let id = if key == "0" {
            // The consumer: a conanfile with or without a name and version of its own.
            let parsed = node
                .reference
                .as_deref()
                .and_then(|r| parse_reference(r).ok());
            let mut p = match &parsed {
                Some(r) => Package::new(Ecosystem::Conan, r.name).version(r.version),
                None => Package::new(Ecosystem::Conan, project_name(file)),
            }
            .found_in(file, line);
            if let Some(path) = &node.path {
                p.properties
                    .insert("vouch:conan-path".to_owned(), path.clone());
            }
            has_root = true;
            inv.add_root(p)
        } else {
            let r = node.reference.as_deref().ok_or_else(|| {
                at_line(
                    ParseError::missing(file, "ref", format!("node `{key}`")),
                    line,
                )
            })?;
            let mut p = reference_package(file, r, line)?;
            if node.context.as_deref() == Some("build") {
                p.scope = Scope::Dev;
            }
            if let Some(pid) = &node.package_id {
                p.properties
                    .insert("vouch:conan-package-id".to_owned(), pid.clone());
            }
            if let Some(prev) = &node.prev {
                p.properties
                    .insert("vouch:conan-prev".to_owned(), prev.clone());
            }
            inv.add(p)
        };
        // Python requires are references, not node ids; they sit inside this node's object.
        for r in &node.python_requires {
            let line = start
                .and_then(|at| common::find_from(text, &format!("\"{r}\""), at))
                .map(|at| lines.line_of(at));
            let mut p = reference_package(file, r, line)?;
            p.scope = Scope::Dev;
            p.properties.insert(
                "vouch:conan-requirement".to_owned(),
                "python_requires".to_owned(),
            );
            python.push((key.as_str(), inv.add(p)));
        }
        ids.insert(key.as_str(), id);
    }
    if !has_root {
        return Err(ParseError::missing(file, "node `0`", "`graph_lock.nodes`"));
    }

    for (key, node) in nodes {
        let Some(from) = ids.get(key.as_str()) else {
            continue;
        };
        for to in node.requires.iter().chain(&node.build_requires) {
            if let Some(to) = ids.get(to.as_str()) {
                inv.depend(from, to);
            }
        }
    }
    for (key, to) in &python {
        if let Some(from) = ids.get(key) {
            inv.depend(from, to);
        }
    }

    // What the consumer needs through `requires` alone (outside the build context) is
    // required; what only build requirements pull in is for building.
    let by_key: HashMap<&str, &Node> = nodes.iter().map(|(k, n)| (k.as_str(), n)).collect();
    let mut host: BTreeSet<&str> = BTreeSet::new();
    let mut queue = vec!["0"];
    while let Some(k) = queue.pop() {
        let Some(node) = by_key.get(k) else { continue };
        if node.context.as_deref() == Some("build") || !host.insert(k) {
            continue;
        }
        queue.extend(node.requires.iter().map(String::as_str));
    }
    for (key, id) in &ids {
        if !host.contains(key)
            && let Some(p) = inv.get_mut(id)
            && p.kind == Kind::Library
        {
            p.scope = Scope::Dev;
        }
    }
    Ok(inv)
}

fn too_many(file: &str, n: usize) -> Result<(), ParseError> {
    common::check_entries(file, n, "references")?;
    Ok(())
}

fn at_line(e: ParseError, line: Option<u32>) -> ParseError {
    match line {
        Some(l) => e.at_line(l as usize),
        None => e,
    }
}

/// The parts of `name/version[@user[/channel]][#rrev[%timestamp]]`.
#[derive(Debug, PartialEq, Eq)]
struct Reference<'a> {
    name: &'a str,
    version: &'a str,
    user: Option<&'a str>,
    channel: Option<&'a str>,
    revision: Option<&'a str>,
    timestamp: Option<&'a str>,
}

fn parse_reference<'a>(r: &'a str) -> Result<Reference<'a>, &'static str> {
    let (base, revision) = match r.split_once('#') {
        Some((b, rev)) => (b, Some(rev)),
        None => (r, None),
    };
    let (revision, timestamp) = match revision.map(|rv| rv.split_once('%')) {
        Some(Some((rv, ts))) => (Some(rv), Some(ts)),
        Some(None) => (revision, None),
        None => (None, None),
    };
    let (name_version, user_channel) = match base.split_once('@') {
        Some((nv, uc)) => (nv, Some(uc)),
        None => (base, None),
    };
    let (name, version) = name_version
        .split_once('/')
        .filter(|(n, v)| !n.is_empty() && !v.is_empty() && !v.contains('/'))
        .ok_or("`name/version`")?;
    let (user, channel) = match user_channel {
        Some(uc) => match uc.split_once('/') {
            Some((u, c)) => (Some(u), Some(c)),
            None => (Some(uc), None),
        },
        None => (None, None),
    };
    // `_` stands for "no user" or "no channel".
    let real = |s: Option<&'a str>| s.filter(|v| !v.is_empty() && *v != "_");
    Ok(Reference {
        name,
        version,
        user: real(user),
        channel: real(channel),
        revision: revision.filter(|v| !v.is_empty()),
        timestamp: timestamp.filter(|v| !v.is_empty()),
    })
}

/// A library package for a Conan reference.
fn reference_package(file: &str, r: &str, line: Option<u32>) -> Result<Package, ParseError> {
    let parsed = parse_reference(r).map_err(|expected| {
        at_line(
            ParseError::invalid(
                file,
                "reference",
                format!("{expected}[@user/channel][#revision]"),
                r,
            ),
            line,
        )
    })?;
    let mut p = common::package(
        Ecosystem::Conan,
        None,
        parsed.name,
        Some(parsed.version),
        file,
        line,
    );
    p.source = Source::Registry { url: None };
    let qualifiers = [
        ("user", parsed.user),
        ("channel", parsed.channel),
        ("rrev", parsed.revision),
    ];
    for (key, value) in qualifiers {
        if let Some(v) = value {
            p.purl = p.purl.and_then(|purl| purl.with_qualifier(key, v).ok());
        }
    }
    if let Some(ts) = parsed.timestamp {
        p.properties
            .insert("vouch:conan-revision-time".to_owned(), ts.to_owned());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            parse_reference("zlib/1.3#abc%1700000000.1"),
            Ok(Reference {
                name: "zlib",
                version: "1.3",
                user: None,
                channel: None,
                revision: Some("abc"),
                timestamp: Some("1700000000.1"),
            })
        );
        let r = parse_reference("pkg/0.1@user/testing").unwrap();
        assert_eq!(
            (r.user, r.channel, r.revision),
            (Some("user"), Some("testing"), None)
        );
        let r = parse_reference("pkg/0.1@_/_#r").unwrap();
        assert_eq!((r.user, r.channel, r.revision), (None, None, Some("r")));
        assert!(parse_reference("zlib").is_err());
        assert!(parse_reference("/1.0").is_err());
    }
}

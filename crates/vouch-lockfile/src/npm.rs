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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use vouch_inventory::{Ecosystem, Handle, Inventory, Package, Scope, Source};

use crate::borrow::{KeyFinder, Names, Ordered, Scalar, Str, visit_cow_str};
use crate::common::{self, MAX_ENTRIES};
use crate::js::{
    add_integrity, dir_name, npm_package, root_purl, set_source, source_from_resolved, split_spec,
};
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

// The entries borrow their strings from the text wherever JSON lets them (see `crate::borrow`).

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
            visit_cow_str!(License<'t>, |cow| License(Some(cow)));
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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Parser for `uv.lock`, lockfile `version = 1` (any `revision`).
//!
//! Format: uv's "Locking and syncing" and project layout documentation
//! (<https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile>,
//! <https://docs.astral.sh/uv/concepts/projects/sync/>); the schema is defined by uv's
//! `uv-resolver` crate (`lock/mod.rs`).
//!
//! Every `[[package]]` has a `source`: `registry`, `git` (`url?rev=…#commit`), `url`, `path`,
//! `directory`, `editable` or `virtual`. Editable and virtual packages (and the `[manifest]
//! members`) are the workspace's projects; local paths and directories are projects too.
//! Dependencies name a package, adding `version` and `source` when one name is locked at
//! several versions (resolution forks). Scope follows the graph: a package reached from a
//! project's `dependencies` is required, one reached only through its
//! `optional-dependencies` (extras) is optional, one reached only through its
//! `dev-dependencies` (groups) is dev.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;
use vouch_inventory::{Inventory, Kind, PackageId, Scope, Source};

use crate::borrow::Str;
use crate::common;
use crate::requirements::{
    add_hash, normalize, package_header_lines, pypi_package, set_git, set_registry, set_url,
    split_rev, synthetic_root,
};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses a `uv.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lock = common::toml(file, text)?;
    let version_line = || {
        common::find_from(text, "version", 0).map(|p| common::Lines::new(text).line_of(p) as usize)
    };
    match lock.version {
        Some(1) => {}
        Some(v) => {
            let err = ParseError::new(
                file,
                ParseErrorKind::UnsupportedVersion {
                    what: "version".to_owned(),
                    found: v.to_string(),
                    supported: "1".to_owned(),
                },
            );
            return Err(match version_line() {
                Some(l) => err.at_line(l),
                None => err,
            });
        }
        None => return Err(ParseError::missing(file, "version", "the lockfile")),
    }
    common::check_entries(file, lock.package.len(), "packages")?;
    let header_lines = package_header_lines(text);
    let members: BTreeSet<String> = lock
        .manifest
        .map(|m| m.members.iter().map(|n| normalize(n)).collect())
        .unwrap_or_default();

    let mut inv = Inventory::new();
    let mut ids: Vec<PackageId> = Vec::with_capacity(lock.package.len());
    let mut workspace: Vec<usize> = Vec::new();
    let mut loose: Vec<usize> = Vec::new();
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        let line = header_lines.get(i).copied();
        let Some(name) = p.name.as_deref() else {
            let e = ParseError::missing(file, "name", "[[package]] entry");
            return Err(match line {
                Some(l) => e.at_line(l as usize),
                None => e,
            });
        };
        let key = normalize(name);
        let mut pkg = pypi_package(name, p.version.as_deref(), file, line);
        for f in p.sdist.iter().chain(&p.wheels) {
            if let Some(h) = &f.hash {
                add_hash(&mut pkg, h);
            }
        }
        let source = p.source.as_ref();
        let local = source.is_some_and(|s| {
            s.editable.is_some()
                || s.is_virtual.is_some()
                || s.path.is_some()
                || s.directory.is_some()
        });
        let at_root = source.is_some_and(|s| {
            s.editable.as_deref() == Some(".") || s.is_virtual.as_deref() == Some(".")
        });
        let editable_or_virtual =
            source.is_some_and(|s| s.editable.is_some() || s.is_virtual.is_some());
        let project = local || members.contains(&key);
        match source {
            Some(s) => {
                if let Some(url) = &s.registry {
                    set_registry(&mut pkg, Some(url));
                } else if let Some(git) = &s.git {
                    let (url, reference, commit) = split_uv_git(git);
                    set_git(&mut pkg, url, commit, reference);
                } else if let Some(url) = &s.url {
                    set_url(&mut pkg, url);
                } else if let Some(path) = s
                    .editable
                    .as_ref()
                    .or(s.is_virtual.as_ref())
                    .or(s.directory.as_ref())
                    .or(s.path.as_ref())
                {
                    pkg.source = Source::Path {
                        path: (**path).to_owned(),
                    };
                }
                if s.editable.is_some() {
                    pkg.properties
                        .insert("vouch:editable".to_owned(), "true".to_owned());
                }
            }
            None => {
                let e = ParseError::missing(file, "source", format!("package `{name}`"));
                return Err(match line {
                    Some(l) => e.at_line(l as usize),
                    None => e,
                });
            }
        }
        // The walk for scopes starts at the workspace members (and the project at `.`); an
        // editable path dependency elsewhere is a project but takes the scope it is reached by.
        if members.contains(&key) || at_root {
            workspace.push(i);
        } else if editable_or_virtual {
            loose.push(i);
        }
        let id = if project {
            inv.add_root(pkg)
        } else {
            inv.add(pkg)
        };
        ids.push(id);
        by_name.entry(key).or_default().push(i);
    }

    if workspace.is_empty() {
        workspace = loose;
    }

    let resolve = |dep: &Dep| -> Vec<usize> {
        let candidates = by_name
            .get(&normalize(&dep.name))
            .cloned()
            .unwrap_or_default();
        if candidates.len() <= 1 {
            return candidates;
        }
        candidates
            .into_iter()
            .filter(|&c| {
                let Some(p) = lock.package.get(c) else {
                    return false;
                };
                dep.version
                    .as_ref()
                    .is_none_or(|v| p.version.as_ref() == Some(v))
                    && dep
                        .source
                        .as_ref()
                        .is_none_or(|s| p.source.as_ref() == Some(s))
            })
            .collect()
    };

    // Edges: every package to its dependencies and its extras' dependencies; projects also to
    // their dev groups.
    for (i, p) in lock.package.iter().enumerate() {
        let Some(from) = ids.get(i) else { continue };
        let all = p
            .dependencies
            .iter()
            .chain(p.optional_dependencies.values().flatten())
            .chain(p.dev_dependencies.values().flatten());
        for dep in all {
            for j in resolve(dep) {
                if let Some(to) = ids.get(j) {
                    inv.depend(from, to);
                }
            }
        }
    }

    // Scope: walk from the workspace projects over (package, extra) nodes, keeping the
    // strongest scope that reaches each package.
    let mut best: BTreeMap<(usize, Option<&str>), Scope> = BTreeMap::new();
    let mut queue: VecDeque<((usize, Option<&str>), Scope)> = VecDeque::new();
    for &w in &workspace {
        queue.push_back(((w, None), Scope::Required));
        if let Some(p) = lock.package.get(w) {
            for extra in p.optional_dependencies.keys() {
                queue.push_back(((w, Some(extra.as_str())), Scope::Optional));
            }
            for dep in p.dev_dependencies.values().flatten() {
                for j in resolve(dep) {
                    queue.push_back(((j, None), Scope::Dev));
                    for e in &dep.extra {
                        queue.push_back(((j, Some(e.as_str())), Scope::Dev));
                    }
                }
            }
        }
    }
    while let Some((node, scope)) = queue.pop_front() {
        if best.get(&node).is_some_and(|s| *s <= scope) {
            continue;
        }
        best.insert(node, scope);
        let (i, extra) = node;
        let Some(p) = lock.package.get(i) else {
            continue;
        };
        let deps: &[Dep] = match extra {
            None => &p.dependencies,
            Some(e) => p
                .optional_dependencies
                .get(e)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
        };
        for dep in deps {
            for j in resolve(dep) {
                queue.push_back(((j, None), scope));
                for e in &dep.extra {
                    queue.push_back(((j, Some(e.as_str())), scope));
                }
            }
        }
    }
    let mut scopes: BTreeMap<usize, Scope> = BTreeMap::new();
    for ((i, _), s) in best {
        let e = scopes.entry(i).or_insert(s);
        *e = (*e).min(s);
    }
    if !workspace.is_empty() {
        for (i, id) in ids.iter().enumerate() {
            // Locked but not reached from any member: only an extra or a conflicting fork
            // nobody asks for here pulls it in.
            if let Some(p) = inv.get_mut(id) {
                match scopes.get(&i) {
                    Some(s) => p.scope = *s,
                    None if p.kind == Kind::Library => p.scope = Scope::Optional,
                    None => {}
                }
            }
        }
    }

    // Libraries nothing needs hang off the workspace root (the member at `.`), or a root made
    // for a lock of scripts or of a non-project.
    let main = workspace
        .iter()
        .find(|&&w| {
            lock.package
                .get(w)
                .and_then(|p| p.source.as_ref())
                .is_some_and(|s| {
                    s.editable.as_deref() == Some(".") || s.is_virtual.as_deref() == Some(".")
                })
        })
        .or(workspace.first())
        .and_then(|&w| ids.get(w))
        .cloned();
    let root = match main {
        Some(r) => r,
        None => {
            let root = inv.add_root(synthetic_root(file));
            inv.depend_on_other_roots(&root);
            root
        }
    };
    inv.attach_orphans(&root);
    Ok(inv)
}

/// `https://host/repo?rev=main#<commit>` → (repository URL, reference, commit).
fn split_uv_git(git: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, fragment) = match git.split_once('#') {
        Some((r, f)) => (r, Some(f).filter(|f| !f.is_empty())),
        None => (git, None),
    };
    let (url, query) = match rest.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (rest, None),
    };
    let reference = query.and_then(|q| {
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            matches!(k, "rev" | "tag" | "branch").then_some(v)
        })
    });
    let (commit, other) = split_rev(fragment);
    (url, reference.or(other), commit)
}

#[derive(Deserialize)]
struct Lock<'t> {
    version: Option<i64>,
    #[serde(default, borrow)]
    package: Vec<Entry<'t>>,
    manifest: Option<Manifest>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    members: Vec<String>,
}

// Strings are borrowed from the text where it holds them as they are: a lockfile of a large
// workspace names about a thousand wheel digests.
#[derive(Deserialize)]
struct Entry<'t> {
    #[serde(borrow)]
    name: Option<Str<'t>>,
    #[serde(borrow)]
    version: Option<Str<'t>>,
    #[serde(borrow)]
    source: Option<UvSource<'t>>,
    #[serde(default, borrow)]
    dependencies: Vec<Dep<'t>>,
    #[serde(default, borrow, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<Dep<'t>>>,
    #[serde(default, borrow, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<Dep<'t>>>,
    #[serde(borrow)]
    sdist: Option<Dist<'t>>,
    #[serde(default, borrow)]
    wheels: Vec<Dist<'t>>,
}

#[derive(Deserialize, PartialEq, Eq)]
struct UvSource<'t> {
    #[serde(borrow)]
    registry: Option<Str<'t>>,
    #[serde(borrow)]
    git: Option<Str<'t>>,
    #[serde(borrow)]
    url: Option<Str<'t>>,
    #[serde(borrow)]
    path: Option<Str<'t>>,
    #[serde(borrow)]
    directory: Option<Str<'t>>,
    #[serde(borrow)]
    editable: Option<Str<'t>>,
    #[serde(borrow, rename = "virtual")]
    is_virtual: Option<Str<'t>>,
}

#[derive(Deserialize)]
struct Dep<'t> {
    #[serde(borrow)]
    name: Str<'t>,
    #[serde(borrow)]
    version: Option<Str<'t>>,
    #[serde(borrow)]
    source: Option<UvSource<'t>>,
    #[serde(default)]
    extra: Vec<String>,
}

#[derive(Deserialize)]
struct Dist<'t> {
    #[serde(borrow)]
    hash: Option<Str<'t>>,
}

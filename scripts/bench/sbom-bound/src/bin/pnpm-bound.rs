//! A lower bound for `vouch sbom` on a pnpm `pnpm-lock.yaml` of version 9, used by
//! `scripts/bench/bound.sh`. Not part of vouch, and its output is not an SBOM to use.
//!
//! It asks how fast a run could be if it gave up vouch's design: no shared inventory, no
//! dependency graph of its own, no encoder that serves every format, and no YAML parser. The
//! lockfile is read into one buffer and scanned once, line by line, relying on the layout pnpm
//! writes (two spaces per level, one key per line, flow mappings only for `resolution`); the
//! document is written as the library of this crate describes.
//!
//! It does less than vouch, so that the bound errs on the fast side:
//! - no YAML beyond that layout: no anchors, block scalars, escapes in quoted strings;
//! - every package is `required`: no walk from the importers to tell dev and optional apart;
//! - an importer is named after the last segment of its path, not the name of its manifest;
//! - only `sha512-` integrity is decoded; tarball, git and directory resolutions are skipped;
//! - no checks of names, versions or URLs; no root component, no metadata beyond the header,
//!   and the nil serial number is not replaced.
//!
//! Usage: `pnpm-bound LOCKFILE [OUT]` writes to OUT, a new file, or else to standard output.
//! `pnpm-bound --noop` exits at once.
//! `SBOM_BOUND_PHASES=1` prints the time of each phase to stderr.

use std::error::Error;

use sbom_bound::{Component, Map, NONE, Phases};

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Other,
    Importers,
    Packages,
    Snapshots,
}

/// A dependency as the lockfile states it, before it is resolved to a component.
struct Edge<'a> {
    /// The importer (an index into `importers`) or snapshot (a package key) it comes from.
    from: From<'a>,
    name: &'a str,
    version: &'a str,
}

enum From<'a> {
    Importer(usize),
    Package(&'a str),
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut phases = Phases::start();
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: pnpm-bound LOCKFILE [OUT] | --noop")?;
    if path == "--noop" {
        return Ok(());
    }
    let bytes = std::fs::read(&path)?;
    let text = std::str::from_utf8(&bytes)?;
    phases.mark("read");

    let mut section = Section::Other;
    // Importers: (path, line); packages: (key, line, integrity); edges from both.
    let mut importers: Vec<(&str, usize)> = Vec::new();
    let mut packages: Vec<(&str, usize, Option<&str>)> = Vec::new();
    let mut edges: Vec<Edge<'_>> = Vec::new();
    let mut in_deps = false;
    let mut pending_dep: Option<&str> = None;
    let mut snapshot: Option<&str> = None;
    for (n, raw) in text.split('\n').enumerate() {
        let line = n + 1;
        let indent = raw.bytes().take_while(|&b| b == b' ').count();
        let body = raw.get(indent..).unwrap_or("");
        if body.is_empty() {
            continue;
        }
        if indent == 0 {
            section = match body {
                "importers:" => Section::Importers,
                "packages:" => Section::Packages,
                "snapshots:" => Section::Snapshots,
                _ => Section::Other,
            };
            continue;
        }
        let (key, value) = split_entry(body);
        match (section, indent) {
            (Section::Importers, 2) => importers.push((key, line)),
            (Section::Packages, 2) => packages.push((key, line, None)),
            (Section::Snapshots, 2) => snapshot = Some(key),
            (Section::Importers | Section::Snapshots, 4) => {
                in_deps = matches!(
                    key,
                    "dependencies" | "devDependencies" | "optionalDependencies"
                );
            }
            (Section::Packages, 4) if key == "resolution" => {
                let integrity = value
                    .split_once("integrity: ")
                    .map(|(_, rest)| rest.trim_end_matches('}').trim_end());
                if let Some(last) = packages.last_mut() {
                    last.2 = integrity;
                }
            }
            (Section::Importers, 6) if in_deps => pending_dep = Some(key),
            (Section::Importers, 8) if in_deps && key == "version" => {
                if let (Some(name), Some(at)) = (pending_dep, importers.len().checked_sub(1)) {
                    let from = From::Importer(at);
                    edges.push(Edge {
                        from,
                        name,
                        version: value,
                    });
                }
            }
            (Section::Snapshots, 6) if in_deps => {
                if let Some(key_of) = snapshot {
                    let from = From::Package(without_peers(key_of));
                    edges.push(Edge {
                        from,
                        name: key,
                        version: value,
                    });
                }
            }
            _ => {}
        }
    }
    phases.mark("parse");

    let mut components: Vec<Component<'_>> = Vec::with_capacity(importers.len() + packages.len());
    let mut by_key: Map<&str, usize> =
        Map::with_capacity_and_hasher(packages.len(), <_>::default());
    for &(key, line, integrity) in &packages {
        let Some((name, version)) = split_name(key) else {
            continue;
        };
        let mut c = Component::npm(name, Some(version), line);
        c.sha512_hex = integrity.and_then(sbom_bound::sha512_hex);
        by_key.insert(key, components.len());
        components.push(c);
    }
    let mut by_importer: Map<&str, usize> =
        Map::with_capacity_and_hasher(importers.len(), <_>::default());
    let mut importer_component = vec![NONE; importers.len()];
    for (i, &(at, line)) in importers.iter().enumerate() {
        let name = at.rsplit('/').next().unwrap_or(at);
        let mut c = Component::npm(name, None, line);
        c.application = true;
        c.source_path = Some(at);
        if let Some(slot) = importer_component.get_mut(i) {
            *slot = components.len();
        }
        by_importer.insert(at, components.len());
        components.push(c);
    }
    let mut key = String::new();
    let mut joined = String::new();
    for edge in &edges {
        let from = match edge.from {
            From::Importer(i) => importer_component.get(i).copied().unwrap_or(NONE),
            From::Package(k) => by_key.get(k).copied().unwrap_or(NONE),
        };
        let to = if let Some(link) = edge.version.strip_prefix("link:") {
            let base = match edge.from {
                From::Importer(i) => importers.get(i).map_or(".", |(p, _)| *p),
                From::Package(_) => ".",
            };
            joined.clear();
            join(&mut joined, base, link);
            by_importer.get(joined.as_str()).copied().unwrap_or(NONE)
        } else {
            let version = without_peers(edge.version);
            key.clear();
            // An alias names its target: `debug: obug@1.0.2`.
            if split_name(version).is_none() {
                key.push_str(edge.name);
                key.push('@');
            }
            key.push_str(version);
            by_key.get(key.as_str()).copied().unwrap_or(NONE)
        };
        if let (true, Some(c)) = (to != NONE, components.get_mut(from)) {
            c.deps.push(to);
        }
    }
    phases.mark("model");
    sbom_bound::write_document(sbom_bound::output()?, &components, &path)?;
    phases.mark("encode");
    phases.report();
    Ok(())
}

/// `key: value` or `key:` of one line, with the quotes around the key taken off.
fn split_entry(body: &str) -> (&str, &str) {
    let (key, rest) = match body.strip_prefix('\'') {
        Some(quoted) => match memchr::memchr(b'\'', quoted.as_bytes()) {
            Some(end) => (
                quoted.get(..end).unwrap_or(""),
                quoted.get(end + 1..).unwrap_or(""),
            ),
            None => (quoted, ""),
        },
        // An unquoted key ends at the first `: ` or at a `:` that ends the line.
        None => {
            let bytes = body.as_bytes();
            let colon = memchr::memchr_iter(b':', bytes)
                .find(|&at| matches!(bytes.get(at + 1), None | Some(b' ')));
            match colon {
                Some(colon) => (
                    body.get(..colon).unwrap_or(""),
                    body.get(colon..).unwrap_or(""),
                ),
                None => (body, ""),
            }
        }
    };
    let value = rest.strip_prefix(':').unwrap_or(rest);
    (key, value.trim_start().trim_matches('\''))
}

/// `name@version` split at the `@` that is not a scope's.
fn split_name(key: &str) -> Option<(&str, &str)> {
    let at = key.get(1..)?.find('@')? + 1;
    Some((key.get(..at)?, key.get(at + 1..)?))
}

/// A snapshot's key or a dependency's version without its peer suffix: `7.29.7(ms@2.1.3)`.
fn without_peers(s: &str) -> &str {
    s.find('(').and_then(|at| s.get(..at)).unwrap_or(s)
}

/// `base/link` with `.` and `..` segments resolved, as an importer's path is written.
fn join(out: &mut String, base: &str, link: &str) {
    let mut parts: Vec<&str> = if base == "." {
        Vec::new()
    } else {
        base.split('/').collect()
    };
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        out.push('.');
    } else {
        out.push_str(&parts.join("/"));
    }
}

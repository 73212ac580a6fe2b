//! A lower bound for `vouch sbom` on an npm `package-lock.json` (v2 or v3), used by
//! `scripts/bench/bound.sh`. Not part of vouch, and its output is not an SBOM to use.
//!
//! It asks how fast a run could be if it gave up vouch's design: no shared inventory, no
//! dependency graph of its own, no encoder that serves every format. The lockfile is read
//! into one buffer, its `packages` map is parsed by serde_json into entries that borrow from
//! that buffer, and the document is written as the library of this crate describes.
//!
//! It does less than vouch, so that the bound errs on the fast side:
//! - licences are written as given, never classified into SPDX identifiers and expressions;
//! - URLs are not checked, names and versions not validated, `npm:` aliases not resolved;
//! - linked workspace members are skipped, with their edges; bundled and peer flags ignored;
//! - only `sha512-` integrity is decoded; there is no root component, no metadata beyond the
//!   header, and the nil serial number is not replaced.
//!
//! Usage: `npm-bound LOCKFILE [OUT]` writes to OUT, a new file, or else to standard output.
//! `npm-bound --noop` exits at once (the start and exit of a small binary).
//! `SBOM_BOUND_PHASES=1` prints the time of each phase to stderr.

use std::error::Error;

use sbom_bound::{Component, Map, NONE, Phases};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

/// A JSON object kept as its key-value pairs in document order.
struct Pairs<K, V>(Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Pairs<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<K, V> {
            type Value = Pairs<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct Lock<'a> {
    #[serde(borrow)]
    packages: Pairs<&'a str, Entry<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry<'a> {
    version: Option<&'a str>,
    resolved: Option<&'a str>,
    integrity: Option<&'a str>,
    license: Option<&'a str>,
    name: Option<&'a str>,
    dev: bool,
    optional: bool,
    link: bool,
    #[serde(borrow)]
    dependencies: Pairs<&'a str, &'a str>,
    #[serde(borrow, rename = "optionalDependencies")]
    optional_dependencies: Pairs<&'a str, &'a str>,
    #[serde(borrow, rename = "peerDependencies")]
    peer_dependencies: Pairs<&'a str, &'a str>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut phases = Phases::start();
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: npm-bound LOCKFILE [OUT] | --noop")?;
    if path == "--noop" {
        return Ok(());
    }
    let bytes = std::fs::read(&path)?;
    phases.mark("read");
    let lock: Lock<'_> = serde_json::from_slice(&bytes)?;
    let entries = &lock.packages.0;
    phases.mark("parse");

    let lines = key_lines(&bytes, entries.iter().map(|(key, _)| *key));
    let mut by_path: Map<&str, usize> =
        Map::with_capacity_and_hasher(entries.len(), <_>::default());
    for (i, (key, _)) in entries.iter().enumerate() {
        by_path.insert(key, i);
    }
    let mut components: Vec<Component<'_>> = Vec::with_capacity(entries.len());
    let mut by_purl: Map<String, usize> =
        Map::with_capacity_and_hasher(entries.len(), <_>::default());
    let mut component_of = vec![NONE; entries.len()];
    for (i, ((key, entry), line)) in entries.iter().zip(&lines).enumerate() {
        if key.is_empty() || entry.link {
            continue;
        }
        let full = entry
            .name
            .unwrap_or_else(|| match key.rfind("node_modules/") {
                Some(at) => key.get(at + "node_modules/".len()..).unwrap_or(key),
                None => key,
            });
        let mut c = Component::npm(full, Some(entry.version.unwrap_or("")), *line);
        if let Some(&seen) = by_purl.get(&c.purl) {
            if let (Some(slot), Some(c)) = (component_of.get_mut(i), components.get_mut(seen)) {
                *slot = seen;
                c.dev &= entry.dev;
                c.optional &= entry.optional;
            }
            continue;
        }
        c.dev = entry.dev;
        c.optional = entry.optional;
        c.sha512_hex = entry.integrity.and_then(sbom_bound::sha512_hex);
        c.license = entry.license;
        c.resolved = entry.resolved;
        if let Some(slot) = component_of.get_mut(i) {
            *slot = components.len();
        }
        by_purl.insert(c.purl.clone(), components.len());
        components.push(c);
    }
    // npm's lookup: a dependency of the package at P is P/node_modules/NAME, else the same
    // name under each ancestor of P, up to the top-level node_modules.
    let mut candidate = String::new();
    for (i, (key, entry)) in entries.iter().enumerate() {
        let from = component_of.get(i).copied().unwrap_or(NONE);
        if from == NONE {
            continue;
        }
        let names = entry.dependencies.0.iter();
        let names = names
            .chain(&entry.optional_dependencies.0)
            .chain(&entry.peer_dependencies.0);
        for (dep, _) in names {
            let mut base: &str = key;
            loop {
                candidate.clear();
                candidate.push_str(base);
                if !base.is_empty() {
                    candidate.push('/');
                }
                candidate.push_str("node_modules/");
                candidate.push_str(dep);
                if let Some(&at) = by_path.get(candidate.as_str()) {
                    let to = component_of.get(at).copied().unwrap_or(NONE);
                    if let (true, Some(c)) = (to != NONE, components.get_mut(from)) {
                        c.deps.push(to);
                    }
                    break;
                }
                if base.is_empty() {
                    break;
                }
                base = base
                    .rfind("/node_modules/")
                    .and_then(|at| base.get(..at))
                    .unwrap_or("");
            }
        }
    }
    phases.mark("model");
    sbom_bound::write_document(sbom_bound::output()?, &components, &path)?;
    phases.mark("encode");
    phases.report();
    Ok(())
}

/// The line of each `packages` key, found by one forward scan: keys sit at the start of a line
/// indented by four spaces, in the order the parser returned them.
fn key_lines<'a>(text: &[u8], keys: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let finder = memchr::memmem::Finder::new(b"\n    \"");
    let (mut pos, mut line) = (0, 1);
    let mut lines = Vec::new();
    for key in keys {
        while let Some(off) = text.get(pos..).and_then(|rest| finder.find(rest)) {
            line += memchr::memchr_iter(b'\n', text.get(pos..pos + off).unwrap_or(&[])).count();
            pos += off;
            let at = pos + "\n    \"".len();
            let here = text.get(at..at + key.len()) == Some(key.as_bytes());
            if here && text.get(at + key.len()) == Some(&b'"') {
                break;
            }
            pos += 1;
            line += 1;
        }
        lines.push(line + 1);
    }
    lines
}

//! Parser for Composer's `composer.lock`.
//!
//! Format: <https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control>
//! and the package schema <https://getcomposer.org/doc/04-schema.md>. `packages` hold the
//! runtime packages and `packages-dev` the dev-only ones; each records `name`
//! (`vendor/package`), `version`, `source` (`type`, `url`, `reference` = commit), `dist`
//! (`type`, `url`, `reference`, `shasum` = SHA-1 of the archive, often empty), `license`,
//! `require`, `provide` and `replace`.
//!
//! Versions are kept exactly as the lockfile writes them (`v6.4.0` keeps its `v`): it is the
//! tag Packagist and `composer show` report, the purl `composer` type does not normalise
//! versions, and stripping would break for tags where the `v` matters to lookups.
//!
//! The lockfile names no project: the root is named after `composer.json`'s `name` when that
//! file is beside the lockfile, otherwise after the directory. With `composer.json` its
//! `require` / `require-dev` give the root's direct edges; without it, packages nothing
//! requires are attached to the root by the caller.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use vouch_inventory::{Algorithm, Digest, Ecosystem, Inventory, Package, PackageId, Scope, Source};

use crate::cargo::{git_vcs_url, synthetic_root};
use crate::common::{self, Lines};
use crate::{Input, ParseError};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lock = common::json(file, text)?;
    let prod = lock.packages.unwrap_or_default();
    let dev = lock.packages_dev.unwrap_or_default();
    common::check_entries(file, prod.len() + dev.len(), "packages")?;
    let manifest = read_manifest(input);

    let mut inv = Inventory::new();
    let mut root_pkg = synthetic_root(Ecosystem::Composer, file);
    if let Some(name) = manifest.as_ref().and_then(|m| m.name.clone()) {
        root_pkg.name = name;
    }
    if let Some(h) = lock.content_hash.or(lock.hash) {
        root_pkg
            .properties
            .insert("vouch:composer-content-hash".to_owned(), h);
    }
    let root = inv.add_root(root_pkg);

    let mut finder = EntryFinder::new(text);
    let entries: Vec<(&RawPackage, Scope)> = prod
        .iter()
        .map(|p| (p, Scope::Required))
        .chain(dev.iter().map(|p| (p, Scope::Dev)))
        .collect();
    let mut ids: Vec<PackageId> = Vec::with_capacity(entries.len());
    // Lowercase name (or a name it provides or replaces) → package indices.
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    let mut providers: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (raw, scope)) in entries.iter().enumerate() {
        let name = raw.name.as_deref().ok_or_else(|| {
            let e = ParseError::missing(file, "name", format!("package #{}", i + 1));
            match finder.next_object() {
                Some(l) => e.at_line(l as usize),
                None => e,
            }
        })?;
        let line = finder.find(name);
        let version = raw.version.as_deref().ok_or_else(|| {
            let e = ParseError::missing(file, "version", format!("package `{name}`"));
            match line {
                Some(l) => e.at_line(l as usize),
                None => e,
            }
        })?;
        let pkg = build_package(file, line, name, version, raw, *scope);
        let id = if matches!(pkg.source, Source::Path { .. }) {
            inv.add_root(pkg)
        } else {
            inv.add(pkg)
        };
        ids.push(id);
        by_name
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(i);
        for provided in raw.provide.keys().chain(raw.replace.keys()) {
            providers
                .entry(provided.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
    }
    let lookup = |name: &str| -> Vec<usize> {
        let key = name.to_ascii_lowercase();
        by_name
            .get(&key)
            .or_else(|| providers.get(&key))
            .cloned()
            .unwrap_or_default()
    };
    for ((raw, _), from) in entries.iter().zip(&ids) {
        for dep in raw.require.keys().filter(|d| !is_platform(d)) {
            for j in lookup(dep) {
                if let Some(to) = ids.get(j) {
                    inv.depend(from, to);
                }
            }
        }
    }
    if let Some(m) = &manifest {
        for dep in m
            .require
            .keys()
            .chain(m.require_dev.keys())
            .filter(|d| !is_platform(d))
        {
            for j in lookup(dep) {
                if let Some(to) = ids.get(j) {
                    inv.depend(&root, to);
                }
            }
        }
    }
    Ok(inv)
}

/// The parts of `composer.lock` vouch reads.
#[derive(Deserialize)]
struct Lock {
    packages: Option<Vec<RawPackage>>,
    #[serde(rename = "packages-dev")]
    packages_dev: Option<Vec<RawPackage>>,
    #[serde(rename = "content-hash")]
    content_hash: Option<String>,
    /// Composer before 1.0 wrote `hash` instead of `content-hash`.
    hash: Option<String>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: Option<String>,
    version: Option<String>,
    source: Option<Location>,
    dist: Option<Location>,
    #[serde(default)]
    require: Names,
    #[serde(default)]
    provide: Names,
    #[serde(default)]
    replace: Names,
    license: Option<Licenses>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// A `source` or `dist` object.
#[derive(Deserialize)]
struct Location {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    reference: Option<String>,
    shasum: Option<String>,
}

/// `license` is an array of SPDX identifiers, or a single string in old files.
#[derive(Deserialize)]
#[serde(untagged)]
enum Licenses {
    One(String),
    Many(Vec<String>),
}

/// A `require`-style map whose keys are package names. PHP writes an empty map as `[]`.
#[derive(Default)]
struct Names(BTreeMap<String, IgnoredAny>);

impl Names {
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum MapOrList {
            Map(BTreeMap<String, IgnoredAny>),
            List(IgnoredAny),
        }
        Ok(match MapOrList::deserialize(d)? {
            MapOrList::Map(m) => Names(m),
            MapOrList::List(_) => Names::default(),
        })
    }
}

/// The parts of `composer.json` used for the root's direct edges.
#[derive(Deserialize)]
struct Manifest {
    name: Option<String>,
    #[serde(default)]
    require: Names,
    #[serde(rename = "require-dev", default)]
    require_dev: Names,
}

/// Reads `composer.json` beside the lockfile (`NAME.composer.json` for `NAME.composer.lock`).
/// It only adds direct edges, so an absent or unreadable manifest is not an error.
fn read_manifest(input: &Input<'_>) -> Option<Manifest> {
    let name = input.file.rsplit(['/', '\\']).next().unwrap_or(input.file);
    let mut candidates = Vec::new();
    if let Some(prefix) = name
        .strip_suffix(".composer.lock")
        .filter(|p| !p.is_empty())
    {
        candidates.push(format!("{prefix}.composer.json"));
    }
    candidates.push("composer.json".to_owned());
    let bytes = candidates.iter().find_map(|c| (input.siblings)(c))?.ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    common::json::<Manifest>("composer.json", text).ok()
}

/// Platform requirements (PHP itself, extensions, system libraries, Composer's APIs), which
/// are not packages in the lockfile.
fn is_platform(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "php"
        || n.starts_with("php-")
        || n == "hhvm"
        || n == "composer"
        || n == "composer-plugin-api"
        || n == "composer-runtime-api"
        || n.starts_with("ext-")
        || n.starts_with("lib-")
}

/// Builds the package for one lockfile entry.
fn build_package(
    file: &str,
    line: Option<u32>,
    name: &str,
    version: &str,
    raw: &RawPackage,
    scope: Scope,
) -> Package {
    let (namespace, bare) = match name.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, name),
    };
    let mut pkg = common::package(
        Ecosystem::Composer,
        namespace,
        bare,
        Some(version),
        file,
        line,
    );
    pkg.scope = scope;
    let git = raw
        .source
        .as_ref()
        .filter(|s| s.kind.as_deref() == Some("git"))
        .and_then(|s| Some((s.url.clone()?, s.reference.clone())));
    let dist_url = raw
        .dist
        .as_ref()
        .filter(|d| d.kind.as_deref() != Some("path"))
        .and_then(|d| d.url.clone());
    let path = raw
        .dist
        .as_ref()
        .filter(|d| d.kind.as_deref() == Some("path"))
        .and_then(|d| d.url.clone());
    // Composer installs a dev version (a branch: `dev-main`, `1.x-dev`) from source, and a
    // release from its dist archive unless told otherwise.
    let is_dev_version = version.starts_with("dev-") || version.ends_with("-dev");
    if let Some(path) = path {
        pkg.source = Source::Path { path };
    } else if let (Some((url, commit)), true) = (&git, is_dev_version || dist_url.is_none()) {
        if let Some(purl) = pkg.purl.take() {
            pkg.purl = purl
                .with_qualifier("vcs_url", &git_vcs_url(url, commit.as_deref()))
                .ok();
        }
        pkg.source = Source::Git {
            url: url.clone(),
            commit: commit.clone(),
            reference: None,
        };
    } else if let Some(url) = dist_url {
        pkg.source = Source::Registry { url: Some(url) };
    }
    if let Some((url, commit)) = &git {
        pkg.properties.insert(
            "vouch:vcs-url".to_owned(),
            git_vcs_url(url, commit.as_deref()),
        );
    }
    if let Some(sum) = raw
        .dist
        .as_ref()
        .and_then(|d| d.shasum.as_deref())
        .filter(|s| !s.is_empty())
    {
        match Digest::from_hex(Algorithm::Sha1, sum) {
            Ok(d) => {
                pkg.hashes.insert(d);
            }
            Err(_) => {
                pkg.properties
                    .insert("vouch:integrity-malformed".to_owned(), sum.to_owned());
            }
        }
    }
    match &raw.license {
        Some(Licenses::One(l)) => {
            pkg.licenses.insert(l.clone());
        }
        Some(Licenses::Many(ls)) => pkg.licenses.extend(ls.iter().cloned()),
        None => {}
    }
    if let Some(kind) = raw.kind.as_deref().filter(|k| *k != "library") {
        pkg.properties
            .insert("vouch:composer-type".to_owned(), kind.to_owned());
    }
    pkg
}

/// Finds each package entry's line by scanning forward for its `"name": "..."` key: Composer
/// writes entries in array order, so one forward pass serves the whole file.
struct EntryFinder<'a> {
    text: &'a str,
    lines: Lines,
    pos: usize,
    /// Set once a search fails, so a file written unusually costs one scan, not one per entry.
    lost: bool,
}

impl<'a> EntryFinder<'a> {
    fn new(text: &'a str) -> Self {
        EntryFinder {
            text,
            lines: Lines::new(text),
            pos: 0,
            lost: false,
        }
    }

    /// The line of the `{` that opens the entry named `name`.
    fn find(&mut self, name: &str) -> Option<u32> {
        if self.lost {
            return None;
        }
        let plain = format!("\"name\": \"{name}\"");
        let escaped = format!("\"name\": \"{}\"", name.replace('/', "\\/"));
        let Some(at) = common::find_from(self.text, &plain, self.pos)
            .or_else(|| common::find_from(self.text, &escaped, self.pos))
        else {
            self.lost = true;
            return None;
        };
        let open = self
            .text
            .get(self.pos..at)
            .and_then(|s| s.rfind('{'))
            .map_or(at, |i| i + self.pos);
        self.pos = at + plain.len().min(escaped.len());
        Some(self.lines.line_of(open))
    }

    /// The line of the next `{` (for an entry without a name).
    fn next_object(&self) -> Option<u32> {
        common::find_from(self.text, "{", self.pos).map(|i| self.lines.line_of(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_requirements() {
        for p in [
            "php",
            "PHP-64bit",
            "ext-json",
            "lib-icu",
            "composer-plugin-api",
        ] {
            assert!(is_platform(p), "{p}");
        }
        assert!(!is_platform("phpunit/phpunit"));
        assert!(!is_platform("psr/log"));
    }
}

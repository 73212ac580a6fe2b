//! Dart and Flutter `pubspec.lock`.
//!
//! Format: <https://dart.dev/tools/pub/glossary#lockfile>, written by
//! `lib/src/lock_file.dart` in <https://github.com/dart-lang/pub>. `packages` maps each package
//! name to `dependency` (`direct main`, `direct dev`, `direct overridden` or `transitive`),
//! `source` (`hosted`, `git`, `path` or `sdk`), `version` and a source-specific `description`:
//! hosted `{name, url, sha256}` (the SHA-256 of the archive), git `{url, ref, resolved-ref,
//! path}`, path `{path, relative}`, and for sdk the SDK's name (`flutter`). `sdks` holds the
//! SDK constraints.
//!
//! The file records no graph and does not name the project, so a root named after the
//! directory depends on every package. `path` packages are local code, so they are projects.
//! SDK packages (`flutter`, `flutter_test`, `sky_engine`) ship with the SDK but are reported
//! as libraries with `vouch:sdk`, since the application links them.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use serde::Deserialize;
use vouch_digest::{Algorithm, Digest};
use vouch_inventory::{Ecosystem, Inventory, Package, Scope, Source};

use crate::common;
use crate::nuget::project_name;
use crate::{Input, ParseError};

/// The registry `pub` uses when a hosted package names no other (the purl `pub` default).
const DEFAULT_HOSTS: &[&str] = &["https://pub.dev", "https://pub.dartlang.org"];

/// Parses a `pubspec.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lock = common::yaml(file, text)?;
    let packages = lock
        .packages
        .ok_or_else(|| ParseError::missing(file, "packages", "the lockfile"))?;
    common::check_entries(file, packages.len(), "packages")?;
    let lines = package_lines(text);

    let mut inv = Inventory::new();
    let mut root = Package::new(Ecosystem::Pub, project_name(file)).found_in(file, None);
    for (sdk, constraint) in lock.sdks.unwrap_or_default() {
        root.properties
            .insert(format!("vouch:sdk-{sdk}"), constraint);
    }
    let root = inv.add_root(root);

    for (name, entry) in &packages {
        let line = lines.get(name.as_str()).copied();
        let at = |e: ParseError| e.at_line_opt(line);
        let context = || format!("package `{name}`");
        let version = entry
            .version
            .as_deref()
            .ok_or_else(|| at(ParseError::missing(file, "version", context())))?;
        let dependency = entry
            .dependency
            .as_deref()
            .ok_or_else(|| at(ParseError::missing(file, "dependency", context())))?;
        let (direct, scope) = match dependency {
            "direct main" | "direct overridden" => (true, Scope::Required),
            "direct dev" => (true, Scope::Dev),
            "transitive" => (false, Scope::Required),
            other => {
                return Err(at(ParseError::invalid(
                    file,
                    "dependency",
                    "`direct main`, `direct dev`, `direct overridden` or `transitive`",
                    other,
                )));
            }
        };
        let source = entry
            .source
            .as_deref()
            .ok_or_else(|| at(ParseError::missing(file, "source", context())))?;
        let desc = match &entry.description {
            Some(Description::Map(d)) => Some(d),
            _ => None,
        };
        let mut p = common::package(Ecosystem::Pub, None, name, Some(version), file, line);
        p.direct = Some(direct);
        p.scope = scope;
        p.properties
            .insert("vouch:pub-dependency".to_owned(), dependency.to_owned());
        match source {
            "hosted" => {
                let url = desc.and_then(|d| d.url.clone());
                if let Some(u) = url.as_deref()
                    && !DEFAULT_HOSTS.contains(&u.trim_end_matches('/'))
                {
                    p.purl = p
                        .purl
                        .and_then(|purl| purl.with_qualifier("repository_url", u).ok());
                }
                if let Some(sha) = desc.and_then(|d| d.sha256.as_deref()) {
                    match Digest::from_hex(Algorithm::Sha256, sha) {
                        Ok(d) => {
                            p.hashes.insert(d);
                        }
                        Err(_) => {
                            p.properties
                                .insert("vouch:integrity-malformed".to_owned(), sha.to_owned());
                        }
                    }
                }
                p.source = Source::Registry { url };
            }
            "git" => {
                let d =
                    desc.ok_or_else(|| at(ParseError::missing(file, "description", context())))?;
                let url = d
                    .url
                    .clone()
                    .ok_or_else(|| at(ParseError::missing(file, "description.url", context())))?;
                let commit = d.resolved_ref.clone();
                let vcs = match &commit {
                    Some(c) => format!("git+{url}@{c}"),
                    None => format!("git+{url}"),
                };
                p.purl = p
                    .purl
                    .and_then(|purl| purl.with_qualifier("vcs_url", &vcs).ok());
                if let Some(path) = d.path.as_deref().filter(|s| !s.is_empty() && *s != ".") {
                    p.properties
                        .insert("vouch:git-path".to_owned(), path.to_owned());
                }
                p.source = Source::Git {
                    url,
                    commit,
                    reference: d.reference.clone(),
                };
            }
            "path" => {
                let path = desc
                    .and_then(|d| d.path.clone())
                    .ok_or_else(|| at(ParseError::missing(file, "description.path", context())))?;
                p.source = Source::Path { path };
                p.purl = None;
                let id = inv.add_root(p);
                inv.depend(&root, &id);
                continue;
            }
            "sdk" => {
                let sdk = match &entry.description {
                    Some(Description::Name(s)) => s.clone(),
                    _ => "unknown".to_owned(),
                };
                p.properties.insert("vouch:sdk".to_owned(), sdk);
            }
            other => {
                return Err(at(ParseError::invalid(
                    file,
                    "source",
                    "`hosted`, `git`, `path` or `sdk`",
                    other,
                )));
            }
        }
        let id = inv.add(p);
        inv.depend(&root, &id);
    }
    Ok(inv)
}

#[derive(Deserialize)]
struct Lock {
    packages: Option<BTreeMap<String, Entry>>,
    sdks: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct Entry {
    dependency: Option<String>,
    description: Option<Description>,
    source: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Description {
    Map(DescriptionMap),
    Name(String),
}

#[derive(Deserialize)]
struct DescriptionMap {
    url: Option<String>,
    sha256: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(rename = "resolved-ref")]
    resolved_ref: Option<String>,
    path: Option<String>,
}

/// The 1-based line of each package key under `packages:`, found in one pass over the text
/// (pub writes the keys indented by two spaces, one per line).
fn package_lines(text: &str) -> HashMap<&str, u32> {
    let mut out = HashMap::new();
    let mut in_packages = false;
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            in_packages = trimmed == "packages:";
            continue;
        }
        if !in_packages || line.starts_with("   ") || !line.starts_with("  ") {
            continue;
        }
        if let Some(key) = trimmed.trim_start().strip_suffix(':') {
            let key = key.trim_matches(|c| c == '"' || c == '\'');
            out.entry(key).or_insert(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {

    /// The real lockfile of the corpus is read by the YAML fast path into this module's shapes.
    #[test]
    fn corpus_lockfile_takes_the_fast_path() {
        if let Some(text) = crate::yaml_subset::corpus_text("dart/localsend/pubspec.lock") {
            assert!(crate::yaml_subset::from_str::<Lock>(&text).is_some());
        }
    }
    use super::*;

    #[test]
    fn finds_package_lines() {
        let text = "# c\npackages:\n  a:\n    dependency: x\n  \"b\":\n    version: \"1\"\nsdks:\n  dart: \">=3\"\n";
        let l = package_lines(text);
        assert_eq!(l.get("a"), Some(&3));
        assert_eq!(l.get("b"), Some(&5));
        assert_eq!(l.get("dart"), None);
    }
}

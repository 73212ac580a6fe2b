//! Parser for `Pipfile.lock` (`pipfile-spec` up to 6).
//!
//! Format: pipenv's "Pipfile & Pipfile.lock" documentation
//! (<https://pipenv.pypa.io/en/latest/pipfile.html>) and the Pipfile specification
//! (<https://github.com/pypa/pipfile>).
//!
//! `_meta.sources` names the package indexes; `default` holds the runtime packages and
//! `develop` the dev packages, each a map of name to `{version = "==1.2.3", hashes, markers,
//! index}` or a VCS (`git` + `ref`), `path` or `file` entry. The file records no graph, so every
//! package hangs off one root named after the lockfile's directory.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use vouch_inventory::{Inventory, Scope, Source};

use crate::common::{self, MAX_ENTRIES};
use crate::requirements::{
    PYPI_SIMPLE, add_hash, pypi_package, set_git, set_registry, set_url, split_rev, synthetic_root,
};
use crate::{Input, ParseError, ParseErrorKind};

/// Highest `pipfile-spec` vouch reads.
const MAX_SPEC: i64 = 6;

/// Parses a `Pipfile.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock: Lock = common::json(file, text)?;
    let lines = common::Lines::new(text);
    let meta = lock.meta.unwrap_or_default();
    if let Some(spec) = meta.spec
        && !(1..=MAX_SPEC).contains(&spec)
    {
        let line =
            common::find_from(text, "\"pipfile-spec\"", 0).map(|p| lines.line_of(p) as usize);
        let err = ParseError::new(
            file,
            ParseErrorKind::UnsupportedVersion {
                what: "pipfile-spec".to_owned(),
                found: spec.to_string(),
                supported: format!("1 to {MAX_SPEC}"),
            },
        );
        return Err(match line {
            Some(l) => err.at_line(l),
            None => err,
        });
    }
    let total = lock.default.0.len() + lock.develop.0.len();
    common::check_entries(file, total, "packages")?;
    let default_index = meta
        .sources
        .first()
        .and_then(|s| s.url.clone())
        .unwrap_or_else(|| PYPI_SIMPLE.to_owned());

    let mut inv = Inventory::new();
    let root = inv.add_root(synthetic_root(file));
    for (section, entries, scope) in [
        ("default", lock.default.0, Scope::Required),
        ("develop", lock.develop.0, Scope::Dev),
    ] {
        // Entries are found in order after their section's key, so the scan is linear.
        let mut cursor = find_key(text, section, 0).unwrap_or(0);
        for (name, entry) in entries {
            let line = find_key(text, &name, cursor).map(|pos| {
                cursor = pos + name.len();
                lines.line_of(pos)
            });
            let version = entry
                .version
                .as_deref()
                .and_then(|v| v.strip_prefix("===").or_else(|| v.strip_prefix("==")))
                .map(str::trim);
            let mut pkg = pypi_package(&name, version, file, line);
            pkg.scope = scope;
            for h in &entry.hashes {
                add_hash(&mut pkg, h);
            }
            if let Some(m) = &entry.markers {
                pkg.properties.insert("vouch:marker".to_owned(), m.clone());
            }
            if !entry.extras.is_empty() {
                pkg.properties
                    .insert("vouch:extras".to_owned(), entry.extras.join(","));
            }
            if entry.editable == Some(true) {
                pkg.properties
                    .insert("vouch:editable".to_owned(), "true".to_owned());
            }
            let mut project = false;
            if let Some(git) = &entry.git {
                let (commit, reference) = split_rev(entry.reference.as_deref());
                set_git(&mut pkg, git, commit, reference);
            } else if let Some(path) = &entry.path {
                pkg.source = Source::Path { path: path.clone() };
                project = true;
            } else if let Some(f) = &entry.file {
                if f.contains("://") && !f.starts_with("file:") {
                    set_url(&mut pkg, f);
                } else {
                    pkg.source = Source::Path { path: f.clone() };
                    project = true;
                }
            } else {
                let url = entry
                    .index
                    .as_ref()
                    .and_then(|idx| meta.sources.iter().find(|s| s.name.as_ref() == Some(idx)))
                    .and_then(|s| s.url.clone())
                    .unwrap_or_else(|| default_index.clone());
                set_registry(&mut pkg, Some(&url));
            }
            if project {
                let id = inv.add_root(pkg);
                inv.depend(&root, &id);
            } else {
                inv.add(pkg);
            }
        }
    }
    inv.attach_orphans(&root);
    Ok(inv)
}

/// Finds `"key"` followed by `:` and an object (`{`), at or after `from`: package entries are
/// objects, which tells them apart from the `version`/`hashes` fields they contain.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut at = from;
    while let Some(pos) = common::find_from(text, &needle, at) {
        let rest = text.get(pos + needle.len()..).unwrap_or("").trim_start();
        if let Some(after) = rest.strip_prefix(':')
            && after.trim_start().starts_with('{')
        {
            return Some(pos);
        }
        at = pos + needle.len();
    }
    None
}

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "_meta")]
    meta: Option<Meta>,
    #[serde(default)]
    default: Ordered,
    #[serde(default)]
    develop: Ordered,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(rename = "pipfile-spec")]
    spec: Option<i64>,
    #[serde(default)]
    sources: Vec<IndexSource>,
}

#[derive(Deserialize)]
struct IndexSource {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct Entry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    markers: Option<String>,
    index: Option<String>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    file: Option<String>,
    editable: Option<bool>,
    #[serde(default)]
    extras: Vec<String>,
}

/// A JSON object read in document order (serde_json's map sorts its keys).
#[derive(Default)]
struct Ordered(Vec<(String, Entry)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of package names to entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Entry>()? {
                    if out.len() >= MAX_ENTRIES {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_ENTRIES} packages"
                        )));
                    }
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

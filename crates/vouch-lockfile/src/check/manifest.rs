//! `manifest-drift`: the lockfile disagrees with the manifest beside it.
//!
//! Two things are reported, and only when they can be decided exactly:
//! - a dependency the manifest declares that the lockfile does not lock at all;
//! - a dependency whose every locked version lies outside the manifest's requirement.
//!
//! Requirements are read with each ecosystem's own rules: Cargo's through the `semver` crate
//! (Cargo's implementation), npm's by [`super::npm_range`], Python's PEP 440 and Poetry
//! constraints by the Python parsers' matcher, compared only against plain release versions.
//! Anything else (tags, URLs, workspace protocols, environment markers, glob workspace
//! members) is checked for presence only, or not at all.
//!
//! For `go.mod` the lock is `go.sum`, and the check lives with the integrity checks.

use std::collections::BTreeMap;
use std::path::Path;

use vouch_inventory::{Ecosystem, Inventory, Package};

use super::{Code, Finding, excerpt, npm_range};
use crate::common::{self, Lines};
use crate::requirements::{normalize, parse_pep508, version_matches};
use crate::{Format, ParseError, ParseErrorKind, SiblingReader};

/// Runs the manifest comparison for formats that have a manifest.
///
/// `dir`, the lockfile's directory when it is on disk, lets `members = ["crates/*"]` globs of a
/// Cargo workspace be expanded (a trailing `/*` only); without it such members are skipped.
pub(super) fn check(
    format: Format,
    file: &str,
    inv: &Inventory,
    siblings: &SiblingReader<'_>,
    dir: Option<&Path>,
) -> Result<Vec<Finding>, ParseError> {
    match format {
        Format::CargoLock => cargo(file, inv, siblings, dir),
        Format::NpmLock | Format::YarnLock | Format::PnpmLock | Format::BunLock => {
            npm(file, inv, siblings)
        }
        Format::PoetryLock | Format::UvLock | Format::PdmLock => {
            pyproject(format, file, inv, siblings)
        }
        _ => Ok(Vec::new()),
    }
}

/// A manifest read beside the lockfile: its shown name and text.
struct Manifest {
    shown: String,
    text: String,
}

fn read(
    file: &str,
    siblings: &SiblingReader<'_>,
    rel: &str,
) -> Result<Option<Manifest>, ParseError> {
    let Some(bytes) = siblings(rel) else {
        return Ok(None);
    };
    let bytes = bytes?;
    let shown = match file.rsplit_once(['/', '\\']) {
        Some((dir, _)) => format!("{dir}/{rel}"),
        None => rel.to_owned(),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e
            .as_bytes()
            .get(..e.utf8_error().valid_up_to())
            .unwrap_or_default();
        let (line, column) = common::line_col_of_bytes(valid, valid.len());
        ParseError::new(&shown, ParseErrorKind::NotUtf8).at(line, column)
    })?;
    Ok(Some(Manifest { shown, text }))
}

/// The line of a dependency's key in a manifest: the first line where `key` is written as a
/// TOML or JSON key (`key =`, `"key":`, `[dependencies.key]`) after `section`'s first
/// occurrence.
fn key_line(text: &str, section: &str, key: &str) -> Option<u32> {
    let start = common::find_from(text, section, 0).unwrap_or(0);
    let lines = Lines::new(text);
    let mut offset = 0usize;
    for l in text.split_inclusive('\n') {
        let here = offset;
        offset += l.len();
        if here < start {
            continue;
        }
        let t = l.trim_start();
        let quoted = format!("\"{key}\"");
        let rest = t
            .strip_prefix(quoted.as_str())
            .or_else(|| t.strip_prefix(key))
            .map(str::trim_start);
        // A PEP 508 string in a TOML array: `"name>=1; marker",`.
        let in_list = t
            .strip_prefix('"')
            .or_else(|| t.strip_prefix('\''))
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.chars().next())
            .is_some_and(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
        if rest.is_some_and(|r| r.starts_with('=') || r.starts_with(':'))
            || in_list
            || t.starts_with('[') && t.trim_end().ends_with(&format!(".{key}]"))
        {
            return Some(lines.line_of(here));
        }
    }
    None
}

fn missing(
    m: &Manifest,
    section: &str,
    key: &str,
    what: &str,
    lockfile: &str,
    hint: &str,
) -> Finding {
    Finding::new(
        Code::ManifestDrift,
        &m.shown,
        key_line(&m.text, section, key),
        format!("`{key}` is a dependency in {what} but `{lockfile}` does not lock it"),
    )
    .hint(hint.to_owned())
    .expected_found(format!("a locked `{key}`"), "none")
}

fn outside(
    m: &Manifest,
    section: &str,
    key: &str,
    req: &str,
    locked: &[&Package],
    hint: &str,
) -> Finding {
    let versions: Vec<&str> = locked.iter().filter_map(|p| p.version.as_deref()).collect();
    let found = versions.join(", ");
    let mut f = Finding::new(
        Code::ManifestDrift,
        &m.shown,
        key_line(&m.text, section, key),
        format!(
            "`{key}` requires `{}` but the lockfile has {found}",
            excerpt(req)
        ),
    )
    .hint(hint.to_owned())
    .expected_found(req.to_owned(), found);
    if let [one] = locked {
        f = f.package(one);
    }
    f
}

// ---------------------------------------------------------------------------------------------
// Cargo

const CARGO_HINT: &str = "run `cargo update --workspace` (or any cargo build) and commit Cargo.lock; `--locked` builds fail until then";

fn cargo(
    file: &str,
    inv: &Inventory,
    siblings: &SiblingReader<'_>,
    dir: Option<&Path>,
) -> Result<Vec<Finding>, ParseError> {
    let Some(root) = read(file, siblings, "Cargo.toml")? else {
        return Ok(Vec::new());
    };
    let root_value: toml::Value = common::toml(&root.shown, &root.text)?;
    let workspace_deps = root_value
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    let mut manifests = vec![(root, root_value.clone())];
    let members = root_value
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut rels: Vec<String> = Vec::new();
    for member in members.iter().filter_map(toml::Value::as_str) {
        let member = member.trim_end_matches('/');
        match (member.strip_suffix("/*"), dir) {
            (Some(parent), Some(dir)) if !parent.contains(['*', '?', '[']) => {
                let mut found: Vec<String> = std::fs::read_dir(dir.join(parent))
                    .into_iter()
                    .flatten()
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("Cargo.toml").is_file())
                    .filter_map(|e| e.file_name().to_str().map(|n| format!("{parent}/{n}")))
                    .collect();
                found.sort();
                rels.extend(found);
            }
            // Other globs would need a fuller matcher; such members are not compared.
            _ if member.contains(['*', '?', '[']) => {}
            _ => rels.push(member.to_owned()),
        }
    }
    for member in rels {
        let rel = format!("{member}/Cargo.toml");
        if let Some(m) = read(file, siblings, &rel)? {
            let v: toml::Value = common::toml(&m.shown, &m.text)?;
            manifests.push((m, v));
        }
    }
    let mut by_name: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for (_, p) in inv.packages() {
        if p.ecosystem == Ecosystem::Cargo {
            by_name.entry(p.name.as_str()).or_default().push(p);
        }
    }
    let mut out = Vec::new();
    for (m, value) in &manifests {
        let mut tables: Vec<(&str, &toml::value::Table)> = Vec::new();
        push_tables(&mut tables, "", value);
        if let Some(targets) = value.get("target").and_then(toml::Value::as_table) {
            for t in targets.values() {
                push_tables(&mut tables, "[target.", t);
            }
        }
        for (section, table) in tables {
            for (key, spec) in table {
                let inherited = spec
                    .get("workspace")
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false);
                let resolved = if inherited {
                    workspace_deps.get(key).unwrap_or(spec)
                } else {
                    spec
                };
                let name = resolved
                    .get("package")
                    .or_else(|| spec.get("package"))
                    .and_then(toml::Value::as_str)
                    .unwrap_or(key);
                let req = match resolved {
                    toml::Value::String(s) => Some(s.as_str()),
                    t => t.get("version").and_then(toml::Value::as_str),
                };
                let local_or_git = resolved.get("path").is_some() || resolved.get("git").is_some();
                let Some(locked) = by_name.get(name) else {
                    out.push(missing(
                        m,
                        section,
                        key,
                        "Cargo.toml",
                        "Cargo.lock",
                        CARGO_HINT,
                    ));
                    continue;
                };
                let (Some(req), false) = (req, local_or_git) else {
                    continue;
                };
                let Ok(parsed) = semver::VersionReq::parse(req) else {
                    continue;
                };
                let any = locked.iter().any(|p| {
                    p.version
                        .as_deref()
                        .and_then(|v| semver::Version::parse(v).ok())
                        .is_none_or(|v| parsed.matches(&v))
                });
                if !any {
                    out.push(outside(m, section, key, req, locked, CARGO_HINT));
                }
            }
        }
    }
    Ok(out)
}

/// The dependency tables of a manifest (or of one `[target.*]` table), with the text to
/// search for their keys after.
fn push_tables<'a>(
    tables: &mut Vec<(&'static str, &'a toml::value::Table)>,
    prefix: &'static str,
    t: &'a toml::Value,
) {
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(tab) = t.get(section).and_then(toml::Value::as_table) {
            tables.push((if prefix.is_empty() { section } else { prefix }, tab));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// npm, yarn, pnpm, bun

const NPM_HINT: &str = "install again (`npm install`, `yarn`, `pnpm install`, `bun install`) and commit the lockfile; `npm ci` and frozen installs fail until then";

fn npm(
    file: &str,
    inv: &Inventory,
    siblings: &SiblingReader<'_>,
) -> Result<Vec<Finding>, ParseError> {
    let Some(m) = read(file, siblings, "package.json")? else {
        return Ok(Vec::new());
    };
    let value: serde_json::Value = common::json(&m.shown, &m.text)?;
    let lockfile = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let mut by_name: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for (_, p) in inv.packages() {
        if p.ecosystem != Ecosystem::Npm {
            continue;
        }
        by_name.entry(p.name.as_str()).or_default().push(p);
        if let Some(alias) = p.properties.get("vouch:npm-alias") {
            by_name.entry(alias.as_str()).or_default().push(p);
        }
    }
    let mut out = Vec::new();
    for section in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(deps) = value.get(section).and_then(serde_json::Value::as_object) else {
            continue;
        };
        let quoted = format!("\"{section}\"");
        for (key, spec) in deps {
            let spec = spec.as_str().unwrap_or("");
            let (name, range) = match spec.strip_prefix("npm:") {
                Some(aliased) => match crate::js::split_spec(aliased) {
                    Some((real, range)) => (real, range),
                    None => (aliased, ""),
                },
                None => (key.as_str(), spec),
            };
            let locked = by_name.get(name).or_else(|| by_name.get(key.as_str()));
            let Some(locked) = locked else {
                out.push(missing(
                    &m,
                    &quoted,
                    key,
                    "package.json",
                    lockfile,
                    NPM_HINT,
                ));
                continue;
            };
            let decided: Vec<bool> = locked
                .iter()
                .filter(|p| p.kind == vouch_inventory::Kind::Library)
                .filter_map(|p| npm_range::satisfies(range, p.version.as_deref()?))
                .collect();
            if !decided.is_empty() && decided.len() == locked.len() && !decided.iter().any(|d| *d) {
                out.push(outside(&m, &quoted, key, range, locked, NPM_HINT));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// pyproject.toml with poetry.lock, uv.lock, pdm.lock

const PY_HINT: &str = "lock again (`uv lock`, `poetry lock`, `pdm lock`) and commit the lockfile";

fn pyproject(
    format: Format,
    file: &str,
    inv: &Inventory,
    siblings: &SiblingReader<'_>,
) -> Result<Vec<Finding>, ParseError> {
    let Some(m) = read(file, siblings, "pyproject.toml")? else {
        return Ok(Vec::new());
    };
    let value: toml::Value = common::toml(&m.shown, &m.text)?;
    let lockfile = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let own_name = value
        .get("project")
        .and_then(|p| p.get("name"))
        .or_else(|| {
            value
                .get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|p| p.get("name"))
        })
        .and_then(toml::Value::as_str)
        .map(normalize);
    let mut by_name: BTreeMap<String, Vec<&Package>> = BTreeMap::new();
    for (_, p) in inv.packages() {
        if p.ecosystem == Ecosystem::Pypi {
            by_name.entry(normalize(&p.name)).or_default().push(p);
        }
    }
    // (section shown, name as written, requirement or "", has a marker or local source)
    let mut deps: Vec<(&'static str, String, String, bool)> = Vec::new();
    let pep508_list = |v: Option<&toml::Value>, section: &'static str, deps: &mut Vec<_>| {
        for item in v.and_then(toml::Value::as_array).into_iter().flatten() {
            let Some(s) = item.as_str() else { continue };
            if let Some(r) = parse_pep508(s) {
                let skip = r.marker.is_some() || r.url.is_some();
                deps.push((section, r.name.to_owned(), r.specifier.to_owned(), skip));
            }
        }
    };
    let project = value.get("project");
    pep508_list(
        project.and_then(|p| p.get("dependencies")),
        "dependencies",
        &mut deps,
    );
    // uv and Poetry lock every extra and group; PDM locks the groups it is asked for, so only
    // the main dependencies are held against a pdm.lock.
    let all_groups = format != Format::PdmLock;
    if let Some(extras) = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(toml::Value::as_table)
        .filter(|_| all_groups)
    {
        for v in extras.values() {
            pep508_list(Some(v), "optional-dependencies", &mut deps);
        }
    }
    if let Some(groups) = value
        .get("dependency-groups")
        .and_then(toml::Value::as_table)
        .filter(|_| all_groups)
    {
        for v in groups.values() {
            pep508_list(Some(v), "dependency-groups", &mut deps);
        }
    }
    let poetry = value.get("tool").and_then(|t| t.get("poetry"));
    let mut poetry_tables: Vec<&toml::value::Table> = Vec::new();
    for key in ["dependencies", "dev-dependencies"] {
        if let Some(t) = poetry
            .and_then(|p| p.get(key))
            .and_then(toml::Value::as_table)
        {
            poetry_tables.push(t);
        }
    }
    if let Some(groups) = poetry
        .and_then(|p| p.get("group"))
        .and_then(toml::Value::as_table)
    {
        for g in groups.values() {
            if let Some(t) = g.get("dependencies").and_then(toml::Value::as_table) {
                poetry_tables.push(t);
            }
        }
    }
    for t in poetry_tables {
        for (key, spec) in t {
            if key.eq_ignore_ascii_case("python") {
                continue;
            }
            let (req, skip) = match spec {
                toml::Value::String(s) => (s.clone(), false),
                toml::Value::Table(t) => {
                    let skip = [
                        "markers", "python", "platform", "path", "git", "url", "optional",
                    ]
                    .iter()
                    .any(|k| t.contains_key(*k));
                    let req = t
                        .get("version")
                        .and_then(toml::Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    (req, skip)
                }
                // A list of constraints by environment: presence depends on the platform.
                _ => (String::new(), true),
            };
            deps.push(("dependencies", key.clone(), req, skip));
        }
    }
    let mut out = Vec::new();
    for (section, name, req, skip) in deps {
        if skip || own_name.as_deref() == Some(normalize(&name).as_str()) {
            continue;
        }
        let Some(locked) = by_name.get(&normalize(&name)) else {
            out.push(missing(
                &m,
                section,
                &name,
                "pyproject.toml",
                lockfile,
                PY_HINT,
            ));
            continue;
        };
        if req.trim().is_empty() || req.trim() == "*" {
            continue;
        }
        let plain = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let decided: Vec<bool> = locked
            .iter()
            .filter_map(|p| p.version.as_deref())
            .filter(|v| plain(v))
            .map(|v| version_matches(&req, v))
            .collect();
        if !decided.is_empty() && decided.len() == locked.len() && !decided.iter().any(|d| *d) {
            out.push(outside(&m, section, &name, &req, locked, PY_HINT));
        }
    }
    Ok(out)
}

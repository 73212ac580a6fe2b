//! The real-world lockfile corpus: every file parses, and the number of third-party packages
//! matches the independent count in the corpus MANIFEST (column `unique`).
//!
//! The corpus lives outside the repository (`$VOUCH_SHARED_DIR/corpus/lockfiles`, or
//! `../shared/corpus/lockfiles` beside the checkout). When it is absent the test says so loudly
//! and passes, so that a checkout without it still builds and tests.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vouch_inventory::{Ecosystem, Kind};
use vouch_lockfile::{Format, parse_path};

fn corpus_dir() -> Option<PathBuf> {
    let base = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = base.join("corpus/lockfiles");
    dir.join("MANIFEST.md").is_file().then_some(dir)
}

/// `(file, unique)` rows of the MANIFEST tables, for files vouch reads as lockfiles.
fn manifest_rows(dir: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    let mut rows = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut in_edge = false;
    for line in text.lines() {
        if line.starts_with("## Edge") {
            in_edge = true;
        }
        if !line.starts_with('|') {
            header.clear();
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .collect();
        if header.is_empty() {
            header = cells;
            continue;
        }
        if cells
            .iter()
            .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue;
        }
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h.starts_with(name))
                .and_then(|i| cells.get(i))
        };
        let (Some(file), Some(unique)) = (col("file"), col("unique")) else {
            continue;
        };
        let Ok(unique) = unique.parse::<usize>() else {
            continue;
        };
        let file = if in_edge {
            format!("edge/{file}")
        } else {
            file.clone()
        };
        if Format::detect(Path::new(&file)).is_some() {
            rows.push((file, unique));
        }
    }
    rows
}

/// The MANIFEST's `unique` rule: distinct name@version of third-party packages (Gemfile: gem
/// names; requirements: pinned `name==version` lines only).
fn unique_count(format: Format, inv: &vouch_inventory::Inventory) -> usize {
    let libs = inv.libraries().map(|(_, p)| p);
    match format {
        Format::GemfileLock => libs
            .filter(|p| p.ecosystem == Ecosystem::Gem)
            .map(|p| p.name.clone())
            .collect::<BTreeSet<_>>()
            .len(),
        Format::Requirements => libs
            .filter(|p| {
                p.version.is_some()
                    && p.properties.get("vouch:requirement") != Some(&"url".to_owned())
            })
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect::<BTreeSet<_>>()
            .len(),
        _ => libs
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect::<BTreeSet<_>>()
            .len(),
    }
}

/// Rows where the MANIFEST's count and an accurate SBOM differ, with the reason. Each is a
/// first-party package that the format marks as such but the MANIFEST counted as third-party.
/// The MANIFEST's own rule drops "root/workspace/link/path records where the format marks
/// them" and collapses aliases and peer variants; these rows counted such records anyway.
const MANIFEST_CORRECTIONS: &[(&str, usize, &str)] = &[
    (
        "dart/localsend/pubspec.lock",
        258,
        "`rust_lib_localsend_app` is `source: path` inside the repository: first-party code",
    ),
    (
        "ruby/rails/Gemfile.lock",
        218,
        "the 14 gems of the PATH section (actioncable ... railties, releaser) are rails itself",
    ),
    (
        "edge/go/relative-replace.go.mod",
        0,
        "its one requirement is replaced by a local directory, which is not a registry module",
    ),
    (
        "go/trivy/go.sum",
        579,
        "208 module versions have only `/go.mod` lines: Go read their go.mod to select versions \
         but never downloaded their code, so they are not part of the build",
    ),
    (
        "yarn/webpack/yarn.lock",
        1393,
        "four alias blocks (prettier-2, string-width-cjs, strip-ansi-cjs, wrap-ansi-cjs) resolve \
         to the same tarball as the real package's block; the MANIFEST counted the alias names",
    ),
    (
        "yarn/prettier-berry/yarn.lock",
        1049,
        "`typescript@patch:` and `fsevents@patch:` are the same name and version as their \
         unpatched entries (the patch is recorded on the package); the MANIFEST counted them twice",
    ),
    (
        "pnpm/vite-v5.4/pnpm-lock.yaml",
        1175,
        "five packages have two peer variants each with identical integrity (one tarball); the \
         MANIFEST collapsed only one of the five pairs",
    ),
];

#[test]
fn every_corpus_lockfile_parses_with_the_manifest_count() {
    let Some(dir) = corpus_dir() else {
        eprintln!(
            "SKIPPED: lockfile corpus not found (set VOUCH_SHARED_DIR); no corpus file was checked"
        );
        return;
    };
    let filter = std::env::var("VOUCH_CORPUS_FILTER").unwrap_or_default();
    let rows = manifest_rows(&dir);
    assert!(
        rows.len() >= 40,
        "MANIFEST parsing found only {} rows",
        rows.len()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, expected) in rows {
        if !file.contains(&filter) {
            continue;
        }
        let expected = match MANIFEST_CORRECTIONS.iter().find(|(f, _, _)| *f == file) {
            Some((_, corrected, why)) => {
                eprintln!(
                    "{file}: expecting {corrected} instead of the MANIFEST's {expected}: {why}"
                );
                *corrected
            }
            None => expected,
        };
        checked += 1;
        let path = dir.join(&file);
        match parse_path(&path, &file) {
            Err(e) => failures.push(format!("{file}: parse failed: {e}")),
            Ok((format, inv)) => {
                let found = unique_count(format, &inv);
                if found != expected {
                    failures.push(format!(
                        "{file}: expected {expected} packages, found {found}"
                    ));
                }
                // Every library must carry evidence pointing at this file.
                for (id, p) in inv.libraries() {
                    if !p.evidence.iter().any(|e| e.file == file) {
                        failures.push(format!("{file}: {id} has no evidence in the file"));
                        break;
                    }
                }
                // No orphans: every library is reachable from a project root, when there is one.
                let roots: Vec<_> = inv.roots().iter().collect();
                if !roots.is_empty() {
                    let mut reach = BTreeSet::new();
                    for r in &roots {
                        reach.extend(inv.reachable(r));
                    }
                    let orphans = inv
                        .packages()
                        .filter(|(id, p)| p.kind == Kind::Library && !reach.contains(*id))
                        .count();
                    if orphans > 0 {
                        failures.push(format!("{file}: {orphans} packages unreachable from roots"));
                    }
                }
            }
        }
    }
    eprintln!("corpus: checked {checked} lockfiles");
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

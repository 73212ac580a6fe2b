//! `vouch lock check` on the real-world lockfile corpus: per file, the exact findings (code,
//! severity, count) expected; and, on the npm and yarn files, at least everything lockfile-lint
//! finds.
//!
//! The corpus lives outside the repository (`$VOUCH_SHARED_DIR/corpus/lockfiles`, or
//! `../shared/corpus/lockfiles` beside the checkout); lockfile-lint is installed by
//! `scripts/install-test-tools.sh` into `target/test-tools`. When either is absent the test
//! says so loudly and passes.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use vouch_lockfile::check::{CheckOptions, Code, Finding, Severity, check_path};

fn corpus_dir() -> Option<PathBuf> {
    let base = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = base.join("corpus/lockfiles");
    dir.join("MANIFEST.md").is_file().then_some(dir)
}

type Expected = &'static [(&'static str, &'static str, usize)];

/// Why the non-empty rows are what they are:
/// - `source-not-allowed`: git dependencies from GitHub and other hosts, a private GitLab npm
///   registry, test.pypi.org, an alternative Cargo registry: hosts outside the defaults;
/// - `integrity-weak`: SHA-1 integrity from npm 5 and pnpm 5 lockfiles;
/// - `integrity-missing`: composer dist archives without `shasum`, pnpm entries without a
///   resolution, a poetry legacy source without hashes; as notes, yarn berry packages for
///   other platforms that Yarn never fetched;
/// - `resolved-mismatch`: a package-lock entry for `abbrev@2.3.4` resolved to 1.0.9's tarball;
/// - `local-source`: workspace members and local packages (notes inside the tree, a warning
///   for a Go `replace` that leaves it).
const EXPECTED: &[(&str, Expected)] = &[
    ("bun/hono/bun.lock", &[]),
    ("cargo/burntsushi-ripgrep/Cargo.lock", &[]),
    ("cargo/rust-lang-cargo/Cargo.lock", &[]),
    (
        "dart/localsend/pubspec.lock",
        &[
            ("local-source", "note", 1),
            ("source-not-allowed", "error", 3),
        ],
    ),
    ("dotnet/bitwarden-server/packages.lock.json", &[]),
    ("edge/cargo/path-deps.Cargo.lock", &[]),
    ("edge/cargo/two-packages-with-local.Cargo.lock", &[]),
    (
        "edge/cargo/with-git-deps.Cargo.lock",
        &[("source-not-allowed", "error", 3)],
    ),
    (
        "edge/go/relative-replace.go.mod",
        &[("local-source", "warning", 1)],
    ),
    ("edge/go/source-replacements.go.mod", &[]),
    ("edge/go/source-replacements.go.sum", &[]),
    ("edge/npm/alias.v2.package-lock.json", &[]),
    ("edge/npm/bundled-dependencies.v3.package-lock.json", &[]),
    (
        "edge/npm/commits.v2.package-lock.json",
        &[
            ("integrity-weak", "warning", 1),
            ("source-not-allowed", "error", 12),
        ],
    ),
    (
        "edge/npm/files.v2.package-lock.json",
        &[
            ("integrity-weak", "warning", 3),
            ("local-source", "note", 1),
            ("resolved-mismatch", "error", 1),
        ],
    ),
    (
        "edge/npm/nested-dependencies-dup.v1.package-lock.json",
        &[("integrity-weak", "warning", 2)],
    ),
    (
        "edge/pnpm/commits.v9.pnpm-lock.yaml",
        &[("source-not-allowed", "error", 2)],
    ),
    (
        "edge/pnpm/exotic.pnpm-lock.yaml",
        &[
            ("integrity-missing", "error", 8),
            ("source-not-allowed", "error", 1),
            ("unpinned-git", "error", 1),
        ],
    ),
    ("edge/pnpm/multi-doc.pnpm-lock.yaml", &[]),
    (
        "edge/pnpm/peer-dependencies-advanced-v6.pnpm-lock.yaml",
        &[],
    ),
    (
        "edge/pnpm/peer-dependencies-advanced.v9.pnpm-lock.yaml",
        &[],
    ),
    (
        "edge/pnpm/tarball.pnpm-lock.yaml",
        &[
            ("integrity-missing", "error", 1),
            ("source-not-allowed", "error", 1),
        ],
    ),
    (
        "edge/python/bare-url.requirements.txt",
        &[("local-source", "note", 2)],
    ),
    ("edge/python/conflicting-with-extras.poetry.lock", &[]),
    (
        "edge/python/editable.requirements.txt",
        &[("local-source", "note", 1)],
    ),
    ("edge/python/grouped-packages.uv.lock", &[]),
    ("edge/python/pdm-lock-extras.pdm.lock", &[]),
    (
        "edge/python/pipfile.Pipfile.lock",
        &[("source-not-allowed", "error", 1)],
    ),
    ("edge/python/poetry-with-hashes.requirements.txt", &[]),
    (
        "edge/python/source-git.poetry.lock",
        &[("source-not-allowed", "error", 1)],
    ),
    (
        "edge/python/source-git.uv.lock",
        &[("source-not-allowed", "error", 1)],
    ),
    (
        "edge/python/source-legacy.poetry.lock",
        &[
            ("integrity-missing", "error", 1),
            ("source-not-allowed", "error", 1),
        ],
    ),
    (
        "edge/yarn/commits.v1.yarn.lock",
        &[
            ("insecure-source", "error", 1),
            ("integrity-missing", "error", 1),
            ("source-not-allowed", "error", 18),
        ],
    ),
    (
        "edge/yarn/commits.v2.yarn.lock",
        &[("source-not-allowed", "error", 7)],
    ),
    ("edge/yarn/with-aliases.v1.yarn.lock", &[]),
    ("edge/yarn/with-aliases.v2.yarn.lock", &[]),
    (
        "edge/yarn/with-build-string.v2.yarn.lock",
        &[("source-not-allowed", "error", 1)],
    ),
    ("elixir/phoenix/mix.lock", &[]),
    ("go/trivy/go.mod", &[]),
    ("go/trivy/go.sum", &[]),
    ("java/jabref/gradle.lockfile", &[]),
    (
        "npm/npm-cli-v1/package-lock.json",
        &[("integrity-weak", "warning", 235)],
    ),
    (
        "npm/npm-cli-v3/package-lock.json",
        &[("local-source", "note", 16)],
    ),
    (
        "php/composer/composer.lock",
        &[("integrity-missing", "error", 36)],
    ),
    (
        "pnpm/vite-v5.4/pnpm-lock.yaml",
        &[
            ("integrity-weak", "warning", 49),
            ("local-source", "note", 216),
        ],
    ),
    (
        "pnpm/vite-v9/pnpm-lock.yaml",
        &[("local-source", "note", 385)],
    ),
    ("python/pipenv/Pipfile.lock", &[]),
    (
        "python/poetry/poetry.lock",
        &[("source-not-allowed", "error", 1)],
    ),
    ("python/sigstore-python/requirements.txt", &[]),
    ("python/uv/uv.lock", &[]),
    ("ruby/rails/Gemfile.lock", &[("local-source", "note", 1)]),
    ("swift/mas-v1/Package.resolved", &[]),
    ("swift/mas-v3/Package.resolved", &[]),
    (
        "yarn/prettier-berry/yarn.lock",
        &[("integrity-missing", "note", 118)],
    ),
    (
        "yarn/webpack/yarn.lock",
        &[("source-not-allowed", "error", 1)],
    ),
];

fn check(dir: &Path, file: &str) -> Vec<Finding> {
    check_path(&dir.join(file), file, &CheckOptions::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn corpus_findings_are_exactly_the_expected_ones() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: lockfile corpus not found (set VOUCH_SHARED_DIR)");
        return;
    };
    // Every lockfile of the corpus is listed.
    let mut on_disk = BTreeSet::new();
    for e in walkdir::WalkDir::new(&dir) {
        let e = e.unwrap();
        if e.file_type().is_file() && vouch_lockfile::Format::detect(e.path()).is_some() {
            let rel = e
                .path()
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            on_disk.insert(rel);
        }
    }
    let listed: BTreeSet<String> = EXPECTED.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(on_disk, listed);
    let mut failures = Vec::new();
    for (file, want) in EXPECTED {
        let findings = check(&dir, file);
        let mut got: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for f in &findings {
            *got.entry((f.code.as_str(), f.severity.as_str()))
                .or_insert(0) += 1;
        }
        let want: BTreeMap<(&str, &str), usize> =
            want.iter().map(|(c, s, n)| ((*c, *s), *n)).collect();
        if got != want {
            failures.push(format!("{file}: expected {want:?}, got {got:?}"));
        }
        // A file without expected errors is fully pinned: nothing at error level.
        if !want.keys().any(|(_, s)| *s == "error") {
            assert!(
                !findings.iter().any(|f| f.severity == Severity::Error),
                "{file}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn lockfile_lint() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-tools/node_modules/.bin/lockfile-lint");
    bin.is_file().then_some(bin)
}

/// The package name in lockfile-lint's `for package: NAME@SPEC` (or a bare key).
fn lint_name(s: &str) -> &str {
    let start = usize::from(s.starts_with('@'));
    match s.get(start..).and_then(|r| r.find('@')) {
        Some(i) => &s[..i + start],
        None => s,
    }
}

/// (kind, package name, expected, actual) for each issue lockfile-lint reports.
fn run_lockfile_lint(bin: &Path, path: &Path, kind: &str) -> Vec<(String, String, String, String)> {
    let out = Command::new(bin)
        .arg("--path")
        .arg(path)
        .args([
            "--type",
            kind,
            "--validate-https",
            "--allowed-hosts",
            "npm",
            "yarn",
        ])
        .args([
            "--validate-package-names",
            "--validate-integrity",
            "--format",
            "plain",
        ])
        .output()
        .expect("lockfile-lint runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().collect();
    let mut issues = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.strip_prefix("detected ") else {
            continue;
        };
        let Some((what, pkg)) = rest.split_once(" for package") else {
            continue;
        };
        let pkg = pkg
            .trim_start_matches(" with a different name")
            .trim_start_matches(':')
            .trim();
        let field = |k: &str| {
            lines[i + 1..]
                .iter()
                .take(2)
                .find_map(|x| x.trim().strip_prefix(k))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        issues.push((
            what.to_owned(),
            lint_name(pkg).to_owned(),
            field("expected:"),
            field("actual:"),
        ));
    }
    issues
}

#[test]
fn vouch_finds_everything_lockfile_lint_finds() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: lockfile corpus not found (set VOUCH_SHARED_DIR)");
        return;
    };
    let Some(bin) = lockfile_lint() else {
        eprintln!("SKIPPED: lockfile-lint not installed; run scripts/install-test-tools.sh");
        return;
    };
    let mut compared = 0;
    let mut not_applicable = 0;
    let mut missed = Vec::new();
    for (file, _) in EXPECTED {
        let kind = if file.ends_with("yarn.lock") {
            "yarn"
        } else if file.ends_with("package-lock.json") {
            "npm"
        } else {
            continue;
        };
        let path = dir.join(file);
        let inv = vouch_lockfile::parse_path(&path, file).unwrap().1;
        let findings = check(&dir, file);
        let flagged = |name: &str, codes: &[Code]| {
            findings.iter().any(|f| {
                codes.contains(&f.code)
                    && f.package.as_deref().is_some_and(|p| {
                        // lockfile-lint reads npm v1 scoped names without their scope.
                        let n = lint_name(p);
                        n == name || n.ends_with(&format!("/{name}"))
                    })
            })
        };
        // Whether `expected` is an npm alias of `actual` (`"prettier-2": "npm:prettier@2"`).
        let alias_of = |alias: &str, real: &str| {
            inv.packages().any(|(_, p)| {
                (p.name == real || real.ends_with(&format!("/{alias}")))
                    && (p.properties.get("vouch:npm-alias").map(String::as_str) == Some(alias)
                        || real.ends_with(&format!("/{alias}")))
            })
        };
        for (what, name, expected, actual) in run_lockfile_lint(&bin, &path, kind) {
            let ok = match what.as_str() {
                "invalid integrity hash type" => {
                    flagged(&name, &[Code::IntegrityWeak, Code::IntegrityMalformed])
                }
                "invalid host(s)" => flagged(&name, &[Code::SourceNotAllowed]),
                "invalid protocol" => {
                    // Yarn berry's resolutions (`npm:`, `patch:`, `workspace:`) are not URLs;
                    // lockfile-lint reads them as such.
                    if ["npm:", "patch:", "workspace:", "portal:", "link:"]
                        .contains(&actual.as_str())
                    {
                        not_applicable += 1;
                        continue;
                    }
                    flagged(
                        &name,
                        &[
                            Code::InsecureSource,
                            Code::SourceNotAllowed,
                            Code::UnpinnedGit,
                        ],
                    )
                }
                "resolved URL" => {
                    // An npm alias resolves to the real package's tarball by design; npm v1
                    // scoped names are read by lockfile-lint without their scope.
                    if alias_of(&expected, &actual) {
                        not_applicable += 1;
                        continue;
                    }
                    flagged(&name, &[Code::ResolvedMismatch])
                }
                _ => false,
            };
            compared += 1;
            if !ok {
                missed.push(format!("{file}: lockfile-lint: {what} for {name} (expected {expected}, actual {actual})"));
            }
        }
    }
    eprintln!("lockfile-lint: {compared} issues compared, {not_applicable} not applicable");
    assert!(
        compared > 250,
        "the comparison exercised lockfile-lint ({compared})"
    );
    assert!(missed.is_empty(), "vouch missed:\n{}", missed.join("\n"));
}

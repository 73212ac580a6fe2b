//! The checks of `vouch lock check`: every dependency pinned by a strong hash, from an allowed
//! source, agreeing with its manifest and, on request, with the artifacts on disk.
//!
//! The checks read the [`Inventory`] a parser produced (hashes, sources, the
//! `vouch:integrity-malformed` and `vouch:go-sum-*` properties the parsers record for this
//! purpose) and, for `manifest-drift`, the manifest beside the lockfile. Each problem is a
//! [`Finding`] with a stable [`Code`]; the meaning of every code is documented in
//! `docs/lock-check.md`.
//!
//! Nothing here reads environment variables: where artifacts live on disk is given in
//! [`ArtifactOptions`].

mod artifacts;
mod dirhash;
mod manifest;
mod npm_range;
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use vouch_inventory::{Algorithm, Ecosystem, Inventory, Kind, Package, Source};

use crate::{Format, Input, ParseError};

pub use artifacts::verify_artifacts;
pub use dirhash::{DirhashError, go_dirhash_zip, go_hash_mod};
pub use source::default_hosts;

/// How serious a finding is. The names are SARIF's `level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Fails the check (exit code 1).
    Error,
    /// Reported, does not fail the check.
    Warning,
    /// Informational.
    Note,
}

impl Severity {
    /// `error`, `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable code of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    /// A downloaded package has no integrity hash.
    IntegrityMissing,
    /// The only hashes are MD5 or SHA-1.
    IntegrityWeak,
    /// An integrity field cannot be read.
    IntegrityMalformed,
    /// A package is fetched over a channel without TLS (`http://`, `git://`).
    InsecureSource,
    /// A package comes from a host outside the allowlist.
    SourceNotAllowed,
    /// The name or version in a resolved URL disagrees with the package.
    ResolvedMismatch,
    /// A git dependency is not pinned to a full commit.
    UnpinnedGit,
    /// A dependency comes from a local path or link.
    LocalSource,
    /// The lockfile disagrees with its manifest.
    ManifestDrift,
    /// One package is recorded with two different hashes of one algorithm.
    ConflictingHashes,
    /// An artifact on disk does not have the hash the lockfile records.
    HashMismatch,
}

impl Code {
    /// Every code, in documentation order.
    pub const ALL: &'static [Code] = &[
        Code::IntegrityMissing,
        Code::IntegrityWeak,
        Code::IntegrityMalformed,
        Code::InsecureSource,
        Code::SourceNotAllowed,
        Code::ResolvedMismatch,
        Code::UnpinnedGit,
        Code::LocalSource,
        Code::ManifestDrift,
        Code::ConflictingHashes,
        Code::HashMismatch,
    ];

    /// The kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::IntegrityMissing => "integrity-missing",
            Code::IntegrityWeak => "integrity-weak",
            Code::IntegrityMalformed => "integrity-malformed",
            Code::InsecureSource => "insecure-source",
            Code::SourceNotAllowed => "source-not-allowed",
            Code::ResolvedMismatch => "resolved-mismatch",
            Code::UnpinnedGit => "unpinned-git",
            Code::LocalSource => "local-source",
            Code::ManifestDrift => "manifest-drift",
            Code::ConflictingHashes => "conflicting-hashes",
            Code::HashMismatch => "hash-mismatch",
        }
    }

    /// The severity a finding of this code has unless configured otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            Code::IntegrityWeak | Code::LocalSource => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// One line saying what the code means (SARIF rule description, `--help`).
    pub fn description(self) -> &'static str {
        match self {
            Code::IntegrityMissing => "a downloaded package has no integrity hash",
            Code::IntegrityWeak => "the package's only hashes are MD5 or SHA-1",
            Code::IntegrityMalformed => "an integrity field cannot be read as a digest",
            Code::InsecureSource => "the package is fetched without TLS",
            Code::SourceNotAllowed => "the package comes from a host outside the allowlist",
            Code::ResolvedMismatch => "the resolved URL names another package or version",
            Code::UnpinnedGit => "a git dependency is not pinned to a full commit",
            Code::LocalSource => "the dependency comes from a local path or link",
            Code::ManifestDrift => "the lockfile disagrees with its manifest",
            Code::ConflictingHashes => "one package is recorded with two different hashes",
            Code::HashMismatch => "an artifact on disk does not match the lockfile's hash",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code that is not one of [`Code::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lock check code `{found}`; the codes are {known}")]
pub struct UnknownCode {
    /// What was given.
    pub found: String,
    /// The known codes, for the message.
    pub known: String,
}

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode {
                found: s.to_owned(),
                known: Code::ALL
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// One problem found in a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The file it points at, as the caller named it.
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<u32>,
    /// The stable code.
    pub code: Code,
    /// Error, warning or note.
    pub severity: Severity,
    /// `name@version` of the package concerned, where there is one.
    pub package: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
    /// How to fix it, where there is advice to give.
    pub hint: Option<String>,
    /// The value the check required (a hash, a host, a range), where relevant.
    pub expected: Option<String>,
    /// The value found, where relevant.
    pub found: Option<String>,
}

impl Finding {
    fn new(code: Code, file: &str, line: Option<u32>, message: impl Into<String>) -> Self {
        Finding {
            file: file.to_owned(),
            line,
            code,
            severity: code.default_severity(),
            package: None,
            message: message.into(),
            hint: None,
            expected: None,
            found: None,
        }
    }

    fn package(mut self, p: &Package) -> Self {
        self.package = Some(label(p));
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    fn expected_found(mut self, expected: impl Into<String>, found: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.found = Some(found.into());
        self
    }
}

/// What the checks accept, and where artifacts are.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Hosts allowed besides (or, with `replace_default_hosts`, instead of) each ecosystem's
    /// public registry. `*.example.com` allows every subdomain of `example.com`.
    pub allowed_hosts: Vec<String>,
    /// Whether `allowed_hosts` replaces the default allowlist instead of extending it.
    pub replace_default_hosts: bool,
    /// Skip comparing the lockfile with its manifest.
    pub skip_manifest: bool,
    /// Severity per code, replacing the default (`--deny CODE`, `--warn CODE`).
    pub severity: BTreeMap<Code, Severity>,
    /// Compare artifacts on disk with the lockfile (`--verify-artifacts`).
    pub artifacts: Option<ArtifactOptions>,
}

/// Where artifacts to verify are. Every path is optional; what is absent is not checked.
#[derive(Debug, Clone, Default)]
pub struct ArtifactOptions {
    /// Cargo's home (`$CARGO_HOME`): `.crate` files under `registry/cache/*/`.
    pub cargo_home: Option<PathBuf>,
    /// The npm cache (`~/.npm`, holding `_cacache/content-v2`), or its `_cacache` directly.
    pub npm_cache: Option<PathBuf>,
    /// Folders of package archives: npm tarballs (`name-1.0.0.tgz`, `scope-name-1.0.0.tgz`),
    /// Composer dist archives, NuGet `.nupkg` files.
    pub archive_dirs: Vec<PathBuf>,
    /// Folders of Python wheels and sdists (a wheelhouse, `pip download -d`).
    pub wheelhouses: Vec<PathBuf>,
    /// Go's module cache (`$GOMODCACHE`), holding `cache/download`.
    pub go_mod_cache: Option<PathBuf>,
    /// NuGet's global packages folder (`$NUGET_PACKAGES`, `~/.nuget/packages`).
    pub nuget_packages: Option<PathBuf>,
    /// Worker threads for hashing (0: one per core).
    pub threads: usize,
}

/// Checks one lockfile on disk: parses it (reading siblings such as `go.sum`), runs every
/// check, and compares it with the manifest beside it and, when asked, artifacts on disk.
/// Findings are sorted by file, line and code.
pub fn check_path(
    path: &Path,
    display: &str,
    options: &CheckOptions,
) -> Result<Vec<Finding>, ParseError> {
    let (format, inv) = crate::parse_path(path, display)?;
    let mut findings = check_inventory(format, display, &inv, options);
    if !options.skip_manifest {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let siblings = |rel: &str| crate::common::read_sibling(&dir, rel, display);
        findings.extend(manifest::check(
            format,
            display,
            &inv,
            &siblings,
            Some(&dir),
        )?);
    }
    if let Some(artifacts) = &options.artifacts {
        let lock_dir = path.parent().unwrap_or(Path::new("."));
        findings.extend(verify_artifacts(
            format, display, lock_dir, &inv, artifacts,
        )?);
    }
    Ok(finish(findings, options))
}

/// Checks lockfile bytes with no files around them (no manifest, no artifacts): for fuzzing
/// and for callers that hold the bytes already.
pub fn check_bytes(
    format: Format,
    file: &str,
    bytes: &[u8],
    options: &CheckOptions,
) -> Result<Vec<Finding>, ParseError> {
    let inv = crate::parse_bytes(format, file, bytes)?;
    Ok(finish(
        check_inventory(format, file, &inv, options),
        options,
    ))
}

/// Compares a lockfile's inventory with the manifest beside it (`Cargo.toml`,
/// `package.json`, `pyproject.toml`; for `go.mod`, its `go.sum`), read through `input`'s
/// sibling reader.
pub fn check_manifest(
    format: Format,
    input: &Input<'_>,
    inv: &Inventory,
) -> Result<Vec<Finding>, ParseError> {
    manifest::check(format, input.file, inv, input.siblings, None)
}

/// Runs the checks that need only the inventory: integrity, sources, git pins, local sources,
/// conflicting hashes. Findings carry default severities; [`check_path`] applies overrides.
pub fn check_inventory(
    format: Format,
    file: &str,
    inv: &Inventory,
    options: &CheckOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let allow = source::Allowlist::new(options);
    for (_, p) in inv.packages() {
        let line = line_in(p, file);
        check_local(p, file, line, &mut out);
        if p.kind == Kind::Project {
            // A project's own hashes (npm records one for a `file:` tarball) are still read.
            check_recorded_hashes(p, file, line, &mut out);
            continue;
        }
        check_integrity(format, p, file, line, &mut out);
        source::check(format, p, file, line, &allow, &mut out);
        check_conflicts(format, p, file, line, &mut out);
    }
    out
}

/// Applies severity overrides, sorts, and drops exact duplicates.
fn finish(mut findings: Vec<Finding>, options: &CheckOptions) -> Vec<Finding> {
    for f in &mut findings {
        if let Some(s) = options.severity.get(&f.code) {
            f.severity = *s;
        }
    }
    findings.sort();
    findings.dedup();
    findings
}

/// Applies `options.severity` to findings produced elsewhere and sorts them (for callers that
/// combine [`check_inventory`] with other sources of findings).
pub fn apply_options(findings: Vec<Finding>, options: &CheckOptions) -> Vec<Finding> {
    finish(findings, options)
}

/// `name@version`.
fn label(p: &Package) -> String {
    match &p.version {
        Some(v) => format!("{}@{v}", p.name),
        None => p.name.clone(),
    }
}

/// The package's line in `file`, else its first line anywhere.
fn line_in(p: &Package, file: &str) -> Option<u32> {
    p.evidence
        .iter()
        .find(|e| e.file == file)
        .or_else(|| p.evidence.iter().next())
        .and_then(|e| e.line)
}

/// Whether packages of this format can record an artifact hash at all. Gradle lockfiles,
/// SwiftPM (git only) and Conan (recipe revisions, not artifact digests) cannot; Go is checked
/// through its `go.sum` properties instead.
fn records_hashes(format: Format) -> bool {
    !matches!(
        format,
        Format::GradleLockfile
            | Format::PackageResolved
            | Format::ConanLock
            | Format::GoMod
            | Format::GoSum
    )
}

/// Whether one package version is one artifact with one hash per algorithm (so that two
/// values mean two different artifacts under one name). Python locks list one hash per wheel
/// and sdist; Ruby one per platform gem.
fn one_artifact(format: Format) -> bool {
    matches!(
        format,
        Format::CargoLock
            | Format::NpmLock
            | Format::YarnLock
            | Format::PnpmLock
            | Format::BunLock
            | Format::ComposerLock
            | Format::NugetLock
            | Format::PubspecLock
            | Format::MixLock
    )
}

const MALFORMED: &str = "vouch:integrity-malformed";

fn check_integrity(
    format: Format,
    p: &Package,
    file: &str,
    line: Option<u32>,
    out: &mut Vec<Finding>,
) {
    check_recorded_hashes(p, file, line, out);
    if matches!(format, Format::GoMod | Format::GoSum) {
        check_go_sum(format, p, file, line, out);
        return;
    }
    if !records_hashes(format) {
        return;
    }
    if matches!(p.source, Source::Git { .. } | Source::Path { .. }) {
        return;
    }
    let yarn_checksum = p.properties.contains_key("vouch:yarn-checksum")
        || p.properties.contains_key("vouch:yarn-patched-checksum");
    // Bundled packages ship inside their parent's tarball, which its own hash covers; SDK
    // packages (Flutter) come with the SDK, not from a registry.
    if p.properties.contains_key("vouch:bundled") || p.properties.contains_key("vouch:sdk") {
        return;
    }
    if p.hashes.is_empty() {
        if yarn_checksum || p.properties.contains_key(MALFORMED) {
            return;
        }
        let mut f = Finding::new(
            Code::IntegrityMissing,
            file,
            line,
            format!("`{}` has no integrity hash", label(p)),
        )
        .package(p)
        .hint(missing_hint(format));
        if let Some(conditions) = p.properties.get("vouch:yarn-conditions") {
            // Yarn records no checksum for a package whose `conditions` (os, cpu) the machine
            // that wrote the lockfile does not meet: it never fetched it.
            f.severity = Severity::Note;
            f.message = format!(
                "`{}` has no checksum: Yarn did not fetch it on the machine that wrote the lockfile (conditions `{}`)",
                label(p),
                excerpt(conditions)
            );
            f.hint = Some("run `yarn install` with `supportedArchitectures` covering every platform you install on, so that Yarn records checksums for these packages too".to_owned());
        }
        out.push(f);
    }
}

/// `integrity-malformed` and `integrity-weak`: what the recorded hashes are worth, for any
/// package that records some.
fn check_recorded_hashes(p: &Package, file: &str, line: Option<u32>, out: &mut Vec<Finding>) {
    if let Some(raw) = p.properties.get(MALFORMED) {
        out.push(
            Finding::new(
                Code::IntegrityMalformed,
                file,
                line,
                format!("`{}`: integrity `{}` is not a valid digest", label(p), excerpt(raw)),
            )
            .package(p)
            .hint("regenerate the lockfile entry with the package manager; a hand-edited or truncated hash protects nothing")
            .expected_found("a digest such as `sha512-<base64>` or `sha256:<hex>`", excerpt(raw)),
        );
    }
    let yarn_checksum = p.properties.contains_key("vouch:yarn-checksum")
        || p.properties.contains_key("vouch:yarn-patched-checksum");
    if p.hashes.is_empty() {
        return;
    }
    if !p.hashes.iter().any(|d| d.algorithm().is_strong()) && !yarn_checksum {
        let algs: BTreeSet<&str> = p.hashes.iter().map(|d| d.algorithm().name()).collect();
        let found = algs.into_iter().collect::<Vec<_>>().join(", ");
        out.push(
            Finding::new(
                Code::IntegrityWeak,
                file,
                line,
                format!("`{}` is pinned only by {found}, which is broken", label(p)),
            )
            .package(p)
            .hint("refresh the entry so that the lockfile records a SHA-256 or SHA-512 hash")
            .expected_found("sha256, sha384 or sha512", found),
        );
    }
}

fn missing_hint(format: Format) -> &'static str {
    match format {
        Format::Requirements => {
            "pin every requirement with `--hash=sha256:...` (`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`) and install with `--require-hashes`"
        }
        Format::NpmLock | Format::PnpmLock | Format::BunLock | Format::YarnLock => {
            "delete the entry and reinstall so that the package manager records `integrity`"
        }
        Format::ComposerLock => {
            "Composer writes `dist.shasum` only for archives it can hash; prefer dist archives with a shasum, or vendor the dependency"
        }
        Format::GemfileLock => "run `bundle lock --add-checksums` (Bundler 2.6 or later)",
        Format::CargoLock => "run `cargo update -p NAME` so that Cargo records the checksum",
        _ => "regenerate the lockfile with a package manager version that records hashes",
    }
}

fn check_local(p: &Package, file: &str, line: Option<u32>, out: &mut Vec<Finding>) {
    let Source::Path { path } = &p.source else {
        return;
    };
    // The lockfile's own project.
    if matches!(path.trim_end_matches('/'), "" | ".") {
        return;
    }
    // Go `replace` directives are reported as projects with the path they point at; npm
    // workspace members are projects inside the tree. A path inside the lockfile's own tree is
    // reviewed with it (a note); one outside it is not (a warning).
    let outside = path.starts_with("..")
        || path.starts_with('/')
        || path.starts_with('~')
        || path.get(1..3) == Some(":\\")
        || path.contains("/../");
    let mut f = Finding::new(
        Code::LocalSource,
        file,
        line,
        format!("`{}` comes from the local path `{path}`", label(p)),
    )
    .package(p);
    f.found = Some(path.clone());
    if outside {
        f = f.hint("a path outside the repository is not reviewed or pinned with it; publish the package or vendor it into the tree");
    } else {
        f.severity = Severity::Note;
    }
    out.push(f);
}

fn check_conflicts(
    format: Format,
    p: &Package,
    file: &str,
    line: Option<u32>,
    out: &mut Vec<Finding>,
) {
    if !one_artifact(format) {
        return;
    }
    let mut by_alg: BTreeMap<Algorithm, Vec<String>> = BTreeMap::new();
    for d in &p.hashes {
        by_alg.entry(d.algorithm()).or_default().push(d.to_sri());
    }
    for (alg, values) in by_alg {
        if let [first, second, ..] = values.as_slice() {
            out.push(
                Finding::new(
                    Code::ConflictingHashes,
                    file,
                    line,
                    format!(
                        "`{}` is recorded with {} different {alg} hashes",
                        label(p),
                        values.len()
                    ),
                )
                .package(p)
                .hint("one version of a package is one artifact; find out which entry was changed, then regenerate the lockfile")
                .expected_found(first.clone(), second.clone()),
            );
        }
    }
}

/// Go: a requirement of `go.mod` with no `go.sum` line at all, and `go.sum` lines that give
/// one module version two hashes.
fn check_go_sum(
    format: Format,
    p: &Package,
    file: &str,
    line: Option<u32>,
    out: &mut Vec<Finding>,
) {
    if let Some(conflict) = p.properties.get("vouch:go-sum-conflict") {
        let first = p
            .properties
            .get("vouch:go-sum-h1")
            .or_else(|| p.properties.get("vouch:go-sum-gomod-h1"))
            .cloned()
            .unwrap_or_default();
        out.push(
            Finding::new(
                Code::ConflictingHashes,
                file,
                line,
                format!("`{}` has two different hashes in go.sum", label(p)),
            )
            .package(p)
            .hint("go refuses such a go.sum; remove both lines and run `go mod download` and `go mod verify`")
            .expected_found(first, conflict.clone()),
        );
    }
    if format != Format::GoMod || matches!(p.source, Source::Path { .. }) {
        return;
    }
    let has_sum = ["vouch:go-sum-h1", "vouch:go-sum-gomod-h1", MALFORMED]
        .iter()
        .any(|k| p.properties.contains_key(*k));
    if !has_sum {
        out.push(
            Finding::new(
                Code::ManifestDrift,
                file,
                line,
                format!(
                    "`{}` is required by go.mod but has no go.sum entry",
                    label(p)
                ),
            )
            .package(p)
            .hint("run `go mod tidy` (or `go mod download`) and commit go.sum"),
        );
    }
}

/// The ecosystem a format's packages belong to.
pub(crate) fn ecosystem_of(format: Format) -> Ecosystem {
    match format {
        Format::CargoLock => Ecosystem::Cargo,
        Format::NpmLock | Format::YarnLock | Format::PnpmLock | Format::BunLock => Ecosystem::Npm,
        Format::PoetryLock
        | Format::UvLock
        | Format::PipfileLock
        | Format::PdmLock
        | Format::Requirements => Ecosystem::Pypi,
        Format::GoMod | Format::GoSum => Ecosystem::Golang,
        Format::GemfileLock => Ecosystem::Gem,
        Format::ComposerLock => Ecosystem::Composer,
        Format::GradleLockfile => Ecosystem::Maven,
        Format::NugetLock => Ecosystem::Nuget,
        Format::PackageResolved => Ecosystem::Swift,
        Format::PubspecLock => Ecosystem::Pub,
        Format::MixLock => Ecosystem::Hex,
        Format::ConanLock => Ecosystem::Conan,
    }
}

/// At most 100 characters of an untrusted value, for messages.
pub(crate) fn excerpt(s: &str) -> String {
    if s.chars().count() <= 100 {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(100).collect();
    out.push('…');
    out
}

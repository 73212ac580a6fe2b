//! `--verify-artifacts`: recompute the hashes of artifacts on disk and compare them with the
//! lockfile. A difference is `hash-mismatch`, with the expected and found values.
//!
//! Where each ecosystem keeps its artifacts:
//! - Cargo: `$CARGO_HOME/registry/cache/<registry>/<name>-<version>.crate` (SHA-256, the
//!   `checksum`), and `vendor/<name>[-<version>]/.cargo-checksum.json` beside the lockfile
//!   (its `package` value is the `.crate`'s SHA-256, its `files` the SHA-256 of each file);
//! - npm, yarn, pnpm, bun: the npm cache's content-addressed store
//!   (`_cacache/content-v2/<algorithm>/<hex>`, <https://github.com/npm/cacache>), and folders
//!   of tarballs named as `npm pack` names them (`name-1.0.0.tgz`, `scope-name-1.0.0.tgz`);
//! - Python: wheels and sdists in a wheelhouse, matched by the name and version in their file
//!   names; each must have one of the lockfile's hashes for that package;
//! - Go: `$GOMODCACHE/cache/download/<module>/@v/<version>.zip` and `.mod`, by `h1:` hash;
//! - Composer: `vendor-name-version.zip` (or `.tar`) in an archive folder, by `dist.shasum`;
//! - NuGet: `<id>/<version>/<id>.<version>.nupkg` in the global packages folder, and
//!   `<id>.<version>.nupkg` in an archive folder, by SHA-512 (`contentHash`).
//!
//! Files are hashed streaming, on as many threads as there are cores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use vouch_inventory::{Algorithm, Digest, Inventory, Kind, Package, Source};

use super::dirhash::{go_dirhash_zip, go_hash_mod};
use super::{ArtifactOptions, Code, Finding, label, line_in};
use crate::requirements::normalize;
use crate::{Format, ParseError, ParseErrorKind};

/// One artifact to hash.
struct Job {
    path: PathBuf,
    kind: JobKind,
    /// Values any one of which is a match (Python locks allow one hash per file of a release).
    expected: Vec<String>,
    package: String,
    line: Option<u32>,
}

#[derive(Clone, Copy)]
enum JobKind {
    File(Algorithm),
    GoZip,
    GoMod,
}

/// Compares artifacts on disk with the lockfile's hashes. `lock_dir` is the lockfile's
/// directory (for `vendor/`). An artifact that exists but cannot be read is an error naming
/// it; an artifact that is absent is not checked.
pub fn verify_artifacts(
    format: Format,
    file: &str,
    lock_dir: &Path,
    inv: &Inventory,
    options: &ArtifactOptions,
) -> Result<Vec<Finding>, ParseError> {
    let mut jobs = Vec::new();
    let mut findings = Vec::new();
    match format {
        Format::CargoLock => cargo_jobs(file, lock_dir, inv, options, &mut jobs, &mut findings)?,
        Format::NpmLock | Format::YarnLock | Format::PnpmLock | Format::BunLock => {
            npm_jobs(file, inv, options, &mut jobs)
        }
        Format::PoetryLock
        | Format::UvLock
        | Format::PipfileLock
        | Format::PdmLock
        | Format::Requirements => python_jobs(file, inv, options, &mut jobs)?,
        Format::GoMod | Format::GoSum => go_jobs(file, inv, options, &mut jobs),
        Format::ComposerLock => composer_jobs(file, inv, options, &mut jobs),
        Format::NugetLock => nuget_jobs(file, inv, options, &mut jobs),
        _ => {}
    }
    findings.extend(run(file, jobs, options.threads)?);
    Ok(findings)
}

fn libraries(inv: &Inventory) -> impl Iterator<Item = &Package> {
    inv.packages()
        .map(|(_, p)| p)
        .filter(|p| p.kind == Kind::Library)
}

fn job_for(file: &str, p: &Package, path: PathBuf, kind: JobKind, expected: Vec<String>) -> Job {
    Job {
        path,
        kind,
        expected,
        package: label(p),
        line: line_in(p, file),
    }
}

/// Whether `s` can be one component of a path built from lockfile data: names and versions
/// come from untrusted input, and must not climb out of the folder they are looked up in.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\\', ':', '\0'])
}

fn strongest(p: &Package) -> Option<&Digest> {
    p.hashes.iter().max_by_key(|d| match d.algorithm() {
        Algorithm::Sha512 => 5,
        Algorithm::Sha384 => 4,
        Algorithm::Sha256 => 3,
        Algorithm::Sha1 => 2,
        _ => 0,
    })
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, ParseError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let shown = dir.display().to_string();
    let read = fs_err::read_dir(dir)
        .map_err(|e| ParseError::new(&shown, ParseErrorKind::Io(e.to_string())))?;
    let mut out = Vec::new();
    for e in read {
        let e = e.map_err(|e| ParseError::new(&shown, ParseErrorKind::Io(e.to_string())))?;
        out.push(e.path());
    }
    out.sort();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Cargo

fn cargo_jobs(
    file: &str,
    lock_dir: &Path,
    inv: &Inventory,
    options: &ArtifactOptions,
    jobs: &mut Vec<Job>,
    findings: &mut Vec<Finding>,
) -> Result<(), ParseError> {
    let caches = match &options.cargo_home {
        Some(home) => entries(&home.join("registry").join("cache"))?,
        None => Vec::new(),
    };
    let vendor = lock_dir.join("vendor");
    for p in libraries(inv) {
        let Some(expected) = p.hashes.iter().find(|d| d.algorithm() == Algorithm::Sha256) else {
            continue;
        };
        if !matches!(p.source, Source::Registry { .. }) {
            continue;
        }
        let Some(version) = p.version.as_deref().filter(|v| plain(v)) else {
            continue;
        };
        if !plain(&p.name) {
            continue;
        }
        let crate_file = format!("{}-{version}.crate", p.name);
        for cache in &caches {
            let path = cache.join(&crate_file);
            if path.is_file() {
                jobs.push(job_for(
                    file,
                    p,
                    path,
                    JobKind::File(Algorithm::Sha256),
                    vec![expected.hex().to_owned()],
                ));
            }
        }
        for dir in [
            vendor.join(format!("{}-{version}", p.name)),
            vendor.join(&p.name),
        ] {
            if vendor_version(&dir).as_deref() != Some(version) {
                continue;
            }
            vendor_checks(file, p, &dir, expected, jobs, findings)?;
            break;
        }
    }
    Ok(())
}

/// The version in a vendored crate's `Cargo.toml`, when there is one.
fn vendor_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let v: toml::Value = toml::from_str(&text).ok()?;
    v.get("package")?
        .get("version")?
        .as_str()
        .map(str::to_owned)
}

fn vendor_checks(
    file: &str,
    p: &Package,
    dir: &Path,
    expected: &Digest,
    jobs: &mut Vec<Job>,
    findings: &mut Vec<Finding>,
) -> Result<(), ParseError> {
    let path = dir.join(".cargo-checksum.json");
    let shown = path.display().to_string();
    let Ok(text) = fs_err::read_to_string(&path) else {
        return Ok(());
    };
    #[derive(serde::Deserialize)]
    struct Checksums {
        #[serde(default)]
        files: BTreeMap<String, String>,
        package: Option<String>,
    }
    let sums: Checksums = crate::common::json(&shown, &text)?;
    if let Some(pkg) = sums.package.as_deref()
        && !pkg.eq_ignore_ascii_case(expected.hex())
    {
        findings.push(mismatch(
            file,
            line_in(p, file),
            &label(p),
            &path,
            expected.hex(),
            pkg,
            "the vendored crate was taken from another `.crate` than the one Cargo.lock pins",
        ));
    }
    crate::common::check_entries(&shown, sums.files.len(), "files")?;
    for (rel, hex) in sums.files {
        if rel.split(['/', '\\']).any(|c| c == "..") || Path::new(&rel).is_absolute() {
            return Err(ParseError::invalid(
                &shown,
                "files",
                "paths inside the crate",
                rel,
            ));
        }
        jobs.push(job_for(
            file,
            p,
            dir.join(&rel),
            JobKind::File(Algorithm::Sha256),
            vec![hex.to_ascii_lowercase()],
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// npm family

fn npm_jobs(file: &str, inv: &Inventory, options: &ArtifactOptions, jobs: &mut Vec<Job>) {
    let cacache = options.npm_cache.as_ref().map(|c| {
        if c.join("content-v2").is_dir() {
            c.clone()
        } else {
            c.join("_cacache")
        }
    });
    for p in libraries(inv) {
        if let Some(cache) = &cacache {
            for d in &p.hashes {
                let hex = d.hex();
                let (Some(a), Some(b), Some(rest)) = (hex.get(..2), hex.get(2..4), hex.get(4..))
                else {
                    continue;
                };
                let path = cache
                    .join("content-v2")
                    .join(d.algorithm().name())
                    .join(a)
                    .join(b)
                    .join(rest);
                if path.is_file() {
                    jobs.push(job_for(
                        file,
                        p,
                        path,
                        JobKind::File(d.algorithm()),
                        vec![hex.to_owned()],
                    ));
                }
            }
        }
        let (Some(version), Some(d)) = (p.version.as_deref().filter(|v| plain(v)), strongest(p))
        else {
            continue;
        };
        if !p.name.trim_start_matches('@').split('/').all(plain) {
            continue;
        }
        let names = match p.name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, bare)) => vec![format!("{scope}-{bare}-{version}.tgz")],
            None => vec![format!("{}-{version}.tgz", p.name)],
        };
        for dir in &options.archive_dirs {
            for n in &names {
                let path = dir.join(n);
                if path.is_file() {
                    jobs.push(job_for(
                        file,
                        p,
                        path,
                        JobKind::File(d.algorithm()),
                        vec![d.hex().to_owned()],
                    ));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Python

/// (normalised name, version) from a wheel (`name-ver-...whl`) or sdist (`name-ver.tar.gz`,
/// `.zip`) file name.
fn python_file_key(name: &str) -> Option<(String, String)> {
    if let Some(stem) = name.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (n, v) = (parts.next()?, parts.next()?);
        return Some((normalize(n), v.to_owned()));
    }
    let stem = name
        .strip_suffix(".tar.gz")
        .or_else(|| name.strip_suffix(".zip"))
        .or_else(|| name.strip_suffix(".tar.bz2"))?;
    let (n, v) = stem.rsplit_once('-')?;
    Some((normalize(n), v.to_owned()))
}

fn python_jobs(
    file: &str,
    inv: &Inventory,
    options: &ArtifactOptions,
    jobs: &mut Vec<Job>,
) -> Result<(), ParseError> {
    let mut files: BTreeMap<(String, String), Vec<PathBuf>> = BTreeMap::new();
    for dir in &options.wheelhouses {
        for path in entries(dir)? {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(key) = python_file_key(name) {
                files.entry(key).or_default().push(path.clone());
            }
        }
    }
    for p in libraries(inv) {
        let Some(version) = p.version.as_deref() else {
            continue;
        };
        let expected: Vec<String> = p
            .hashes
            .iter()
            .filter(|d| d.algorithm() == Algorithm::Sha256)
            .map(|d| d.hex().to_owned())
            .collect();
        if expected.is_empty() {
            continue;
        }
        let key = (normalize(&p.name), version.to_owned());
        for path in files.get(&key).into_iter().flatten() {
            jobs.push(job_for(
                file,
                p,
                path.clone(),
                JobKind::File(Algorithm::Sha256),
                expected.clone(),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Go

/// Go's case encoding for module cache paths: each capital letter becomes `!` and its lower
/// case (<https://pkg.go.dev/golang.org/x/mod/module#EscapePath>).
fn go_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn go_jobs(file: &str, inv: &Inventory, options: &ArtifactOptions, jobs: &mut Vec<Job>) {
    let Some(cache) = &options.go_mod_cache else {
        return;
    };
    for p in libraries(inv) {
        let Some(version) = p.version.as_deref() else {
            continue;
        };
        if !p.name.split('/').all(plain) || !plain(version) {
            continue;
        }
        let dir = cache
            .join("cache")
            .join("download")
            .join(go_escape(&p.name))
            .join("@v");
        let v = go_escape(version);
        for (key, ext, kind) in [
            ("vouch:go-sum-h1", "zip", JobKind::GoZip),
            ("vouch:go-sum-gomod-h1", "mod", JobKind::GoMod),
        ] {
            let Some(expected) = p.properties.get(key) else {
                continue;
            };
            let path = dir.join(format!("{v}.{ext}"));
            if path.is_file() {
                jobs.push(job_for(file, p, path, kind, vec![expected.clone()]));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Composer and NuGet

fn composer_jobs(file: &str, inv: &Inventory, options: &ArtifactOptions, jobs: &mut Vec<Job>) {
    for p in libraries(inv) {
        let (Some(version), Some(d)) = (p.version.as_deref().filter(|v| plain(v)), strongest(p))
        else {
            continue;
        };
        let flat = p.name.replace('/', "-");
        if !plain(&flat) {
            continue;
        }
        for dir in &options.archive_dirs {
            for ext in ["zip", "tar"] {
                let path = dir.join(format!("{flat}-{version}.{ext}"));
                if path.is_file() {
                    jobs.push(job_for(
                        file,
                        p,
                        path,
                        JobKind::File(d.algorithm()),
                        vec![d.hex().to_owned()],
                    ));
                }
            }
        }
    }
}

fn nuget_jobs(file: &str, inv: &Inventory, options: &ArtifactOptions, jobs: &mut Vec<Job>) {
    for p in libraries(inv) {
        let Some(version) = p.version.as_deref() else {
            continue;
        };
        let Some(d) = p.hashes.iter().find(|d| d.algorithm() == Algorithm::Sha512) else {
            continue;
        };
        if !plain(&p.name) || !plain(version) {
            continue;
        }
        let id = p.name.to_ascii_lowercase();
        let v = version.to_ascii_lowercase();
        let mut candidates = Vec::new();
        if let Some(root) = &options.nuget_packages {
            candidates.push(root.join(&id).join(&v).join(format!("{id}.{v}.nupkg")));
        }
        for dir in &options.archive_dirs {
            candidates.push(dir.join(format!("{}.{version}.nupkg", p.name)));
            candidates.push(dir.join(format!("{id}.{v}.nupkg")));
        }
        candidates.dedup();
        for path in candidates {
            if path.is_file() {
                jobs.push(job_for(
                    file,
                    p,
                    path,
                    JobKind::File(Algorithm::Sha512),
                    vec![d.hex().to_owned()],
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hashing, in parallel

/// Hashes every job on `threads` workers (0: one per core) and returns a finding per
/// mismatch, in job order.
fn run(file: &str, jobs: Vec<Job>, threads: usize) -> Result<Vec<Finding>, ParseError> {
    let workers = match threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<String, ParseError>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let r = hash_job(job);
                    if let Ok(mut guard) = results.lock() {
                        guard.push((i, r));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    let mut out = Vec::new();
    for (i, r) in results {
        let Some(job) = jobs.get(i) else { continue };
        let found = r?;
        if !job.expected.contains(&found) {
            let expected = job.expected.join(" or ");
            out.push(mismatch(
                file,
                job.line,
                &job.package,
                &job.path,
                &expected,
                &found,
                "the artifact on disk is not the one the lockfile pins; delete it and download it again, and find out how it changed",
            ));
        }
    }
    Ok(out)
}

fn hash_job(job: &Job) -> Result<String, ParseError> {
    let shown = job.path.display().to_string();
    let io = |e: std::io::Error| ParseError::new(&shown, ParseErrorKind::Io(e.to_string()));
    match job.kind {
        JobKind::File(alg) => {
            let f = fs_err::File::open(&job.path).map_err(io)?;
            let d = vouch_digest::hash_reader(alg, f).map_err(io)?;
            Ok(d.hex().to_owned())
        }
        JobKind::GoZip => {
            let f = fs_err::File::open(&job.path).map_err(io)?;
            go_dirhash_zip(std::io::BufReader::new(f)).map_err(|e| {
                ParseError::invalid(&shown, "module zip", "a zip Go can read", e.to_string())
            })
        }
        JobKind::GoMod => {
            let bytes = fs_err::read(&job.path).map_err(io)?;
            Ok(go_hash_mod(&bytes))
        }
    }
}

fn mismatch(
    file: &str,
    line: Option<u32>,
    package: &str,
    artifact: &Path,
    expected: &str,
    found: &str,
    hint: &str,
) -> Finding {
    let mut f = Finding::new(
        Code::HashMismatch,
        file,
        line,
        format!(
            "`{package}`: `{}` does not have the hash the lockfile records",
            artifact.display()
        ),
    )
    .hint(hint.to_owned())
    .expected_found(expected.to_owned(), found.to_owned());
    f.package = Some(package.to_owned());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names() {
        assert_eq!(
            python_file_key("Foo_Bar-1.2.0-py3-none-any.whl"),
            Some(("foo-bar".into(), "1.2.0".into()))
        );
        assert_eq!(
            python_file_key("foo.bar-1.2.0.tar.gz"),
            Some(("foo-bar".into(), "1.2.0".into()))
        );
        assert_eq!(
            go_escape("github.com/BurntSushi/toml"),
            "github.com/!burnt!sushi/toml"
        );
    }

    #[test]
    fn lockfile_names_cannot_leave_the_artifact_folder() {
        assert!(plain("serde") && plain("1.0.0-rc.1"));
        for bad in ["", "..", "../x", "a/b", "a\\b", ".hidden", "c:x"] {
            assert!(!plain(bad), "{bad}");
        }
    }
}

//! `vouch lock check` as a library: one tamper fixture per code under `fixtures/check/`, each
//! with a README saying what it checks, and `--verify-artifacts` against artifacts the tests
//! build in temporary directories.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use vouch_digest::{Algorithm, hash_bytes};
use vouch_lockfile::check::{
    ArtifactOptions, CheckOptions, Code, Finding, Severity, check_path, go_dirhash_zip, go_hash_mod,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

fn lockfile_in(dir: &Path) -> PathBuf {
    let names = [
        "package-lock.json",
        "yarn.lock",
        "Cargo.lock",
        "requirements.txt",
        "go.mod",
        "go.sum",
        "uv.lock",
    ];
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no lockfile in {}", dir.display()))
}

fn check_case(case: &str, options: &CheckOptions) -> Vec<Finding> {
    let dir = fixtures().join(case);
    let lock = lockfile_in(&dir);
    let shown = format!("{case}/{}", lock.file_name().unwrap().to_string_lossy());
    check_path(&lock, &shown, options).unwrap()
}

fn codes(findings: &[Finding]) -> BTreeMap<(&'static str, &'static str), usize> {
    let mut out = BTreeMap::new();
    for f in findings {
        *out.entry((f.code.as_str(), f.severity.as_str()))
            .or_insert(0) += 1;
    }
    out
}

/// (code, severity, count) triples.
type Expected = &'static [(&'static str, &'static str, usize)];

/// Every fixture, and exactly the findings (code, severity, count) it must give.
#[test]
fn every_fixture_gives_exactly_its_findings() {
    let expected: &[(&str, Expected)] = &[
        ("npm-clean", &[]),
        ("cargo-clean", &[]),
        ("uv-clean", &[]),
        ("uv-drift_fail", &[("manifest-drift", "error", 2)]),
        ("npm-other-host_fail", &[("source-not-allowed", "error", 1)]),
        (
            "npm-resolved-mismatch_fail",
            &[("resolved-mismatch", "error", 1)],
        ),
        (
            "npm-resolved-other-name_fail",
            &[("resolved-mismatch", "error", 1)],
        ),
        (
            "npm-integrity-missing_fail",
            &[("integrity-missing", "error", 1)],
        ),
        (
            "npm-integrity-weak_fail",
            &[("integrity-weak", "warning", 1)],
        ),
        (
            "npm-integrity-malformed_fail",
            &[("integrity-malformed", "error", 1)],
        ),
        ("npm-http_fail", &[("insecure-source", "error", 1)]),
        (
            "npm-git-branch_fail",
            &[
                ("source-not-allowed", "error", 1),
                ("unpinned-git", "error", 1),
            ],
        ),
        ("npm-local_fail", &[("local-source", "warning", 1)]),
        ("npm-drift_fail", &[("manifest-drift", "error", 2)]),
        (
            "yarn-conflicting_fail",
            &[("conflicting-hashes", "error", 1)],
        ),
        (
            "requirements-unhashed_fail",
            &[("integrity-missing", "error", 1)],
        ),
        (
            "requirements-weak-malformed_fail",
            &[
                ("integrity-malformed", "error", 1),
                ("integrity-weak", "warning", 1),
            ],
        ),
        ("gosum-conflict_fail", &[("conflicting-hashes", "error", 1)]),
        ("gomod-missing-sum_fail", &[("manifest-drift", "error", 1)]),
        (
            "gosum-malformed_fail",
            &[("integrity-malformed", "error", 1)],
        ),
        ("cargo-drift_fail", &[("manifest-drift", "error", 2)]),
        (
            "cargo-workspace-glob_fail",
            &[("manifest-drift", "error", 1)],
        ),
        (
            "cargo-other-registry_fail",
            &[("source-not-allowed", "error", 1)],
        ),
        (
            "cargo-checksum-malformed_fail",
            &[("integrity-malformed", "error", 1)],
        ),
        (
            "cargo-checksum-missing_fail",
            &[("integrity-missing", "error", 1)],
        ),
        (
            "cargo-git-http_fail",
            &[
                ("insecure-source", "error", 1),
                ("source-not-allowed", "error", 1),
            ],
        ),
    ];
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = expected.iter().map(|(c, _)| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every fixture directory is listed here, and only those"
    );
    for (case, want) in expected {
        let dir = fixtures().join(case);
        assert!(dir.join("README.md").is_file(), "{case} has a README");
        let findings = check_case(case, &CheckOptions::default());
        let got = codes(&findings);
        let want: BTreeMap<(&str, &str), usize> =
            want.iter().map(|(c, s, n)| ((*c, *s), *n)).collect();
        assert_eq!(got, want, "{case}: {findings:#?}");
        for f in &findings {
            assert!(f.line.is_some(), "{case}: every finding has a line: {f:#?}");
            assert!(!f.message.is_empty());
        }
        // Negative cases fail the check; clean ones pass.
        let fails = findings.iter().any(|f| f.severity == Severity::Error);
        let has_error = want.keys().any(|(_, s)| *s == "error");
        assert_eq!(fails, has_error, "{case}");
    }
}

#[test]
fn findings_name_the_value_found() {
    let f = check_case("npm-resolved-mismatch_fail", &CheckOptions::default());
    assert_eq!(f[0].package.as_deref(), Some("lodash@4.17.21"));
    assert!(
        f[0].found
            .as_deref()
            .unwrap()
            .contains("lodash-4.17.20.tgz")
    );
    assert_eq!(f[0].line, Some(15));
    let f = check_case("npm-drift_fail", &CheckOptions::default());
    assert!(f.iter().all(|f| f.file.ends_with("package.json")), "{f:#?}");
    assert!(f.iter().any(|f| f.expected.as_deref() == Some("^5.0.0")));
}

#[test]
fn allowlist_and_severity_overrides() {
    let mut options = CheckOptions {
        allowed_hosts: vec!["registry.npm-mirror.example".to_owned()],
        ..CheckOptions::default()
    };
    assert!(check_case("npm-other-host_fail", &options).is_empty());
    options.allowed_hosts = vec!["*.mirror.example".to_owned()];
    let f = check_case("cargo-other-registry_fail", &options);
    assert!(f.is_empty(), "{f:#?}");
    // Replacing the defaults makes crates.io itself unlisted.
    options.replace_default_hosts = true;
    let f = check_case("cargo-clean", &options);
    assert_eq!(codes(&f).get(&("source-not-allowed", "error")), Some(&2));
    let mut options = CheckOptions::default();
    options
        .severity
        .insert(Code::IntegrityWeak, Severity::Error);
    options.severity.insert(Code::LocalSource, Severity::Note);
    let f = check_case("npm-integrity-weak_fail", &options);
    assert_eq!(f[0].severity, Severity::Error);
    let f = check_case("npm-local_fail", &options);
    assert_eq!(f[0].severity, Severity::Note);
    options.skip_manifest = true;
    assert!(check_case("npm-drift_fail", &options).is_empty());
}

#[test]
fn malformed_manifest_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("cargo-clean/Cargo.lock"),
        tmp.path().join("Cargo.lock"),
    )
    .unwrap();
    std::fs::write(tmp.path().join("Cargo.toml"), "[package\nname = 1\n").unwrap();
    let err = check_path(
        &tmp.path().join("Cargo.lock"),
        "Cargo.lock",
        &CheckOptions::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("Cargo.toml:1:"), "{text}");
    assert!(text.contains("TOML"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// --verify-artifacts

fn artifacts(f: impl FnOnce(&mut ArtifactOptions)) -> CheckOptions {
    let mut a = ArtifactOptions {
        threads: 2,
        ..ArtifactOptions::default()
    };
    f(&mut a);
    CheckOptions {
        artifacts: Some(a),
        skip_manifest: true,
        ..CheckOptions::default()
    }
}

fn mismatches(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.code == Code::HashMismatch)
        .collect()
}

/// A Cargo.lock pinning a `.crate` the test writes into a temporary cargo home; changing one
/// nibble of the checksum is a `hash-mismatch` naming both values.
#[test]
fn cargo_crate_in_registry_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("cargo-home");
    let cache = home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    std::fs::create_dir_all(&cache).unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(cache.join("tiny-1.0.0.crate"), &body).unwrap();
    let sum = hash_bytes(Algorithm::Sha256, &body).unwrap();
    let lock = |checksum: &str| {
        format!(
            "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"tiny\"]\n\n[[package]]\nname = \"tiny\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{checksum}\"\n"
        )
    };
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let lock_path = project.join("Cargo.lock");
    let options = artifacts(|a| a.cargo_home = Some(home.clone()));

    std::fs::write(&lock_path, lock(sum.hex())).unwrap();
    assert!(
        check_path(&lock_path, "Cargo.lock", &options)
            .unwrap()
            .is_empty()
    );

    let mut tampered = sum.hex().to_owned();
    let first = tampered.remove(0);
    tampered.insert(0, if first == 'a' { 'b' } else { 'a' });
    std::fs::write(&lock_path, lock(&tampered)).unwrap();
    let f = check_path(&lock_path, "Cargo.lock", &options).unwrap();
    let m = mismatches(&f);
    assert_eq!(m.len(), 1, "{f:#?}");
    assert_eq!(m[0].expected.as_deref(), Some(tampered.as_str()));
    assert_eq!(m[0].found.as_deref(), Some(sum.hex()));
    assert_eq!(m[0].package.as_deref(), Some("tiny@1.0.0"));
    assert_eq!(m[0].line, Some(8));
}

/// `vendor/` with `.cargo-checksum.json`: a changed vendored file, and a checksum file taken
/// from another `.crate`.
#[test]
fn cargo_vendor_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = b"pub fn f() {}\n";
    let manifest = b"[package]\nname = \"tiny\"\nversion = \"1.0.0\"\n";
    let crate_sum = hash_bytes(Algorithm::Sha256, b"the crate").unwrap();
    let vendor = tmp.path().join("vendor/tiny");
    std::fs::create_dir_all(vendor.join("src")).unwrap();
    std::fs::write(vendor.join("src/lib.rs"), lib).unwrap();
    std::fs::write(vendor.join("Cargo.toml"), manifest).unwrap();
    let sums = |package: &str| {
        serde_json::json!({
            "files": {
                "src/lib.rs": hash_bytes(Algorithm::Sha256, lib).unwrap().hex(),
                "Cargo.toml": hash_bytes(Algorithm::Sha256, manifest).unwrap().hex(),
            },
            "package": package,
        })
        .to_string()
    };
    std::fs::write(vendor.join(".cargo-checksum.json"), sums(crate_sum.hex())).unwrap();
    let lock_path = tmp.path().join("Cargo.lock");
    std::fs::write(
        &lock_path,
        format!(
            "version = 4\n\n[[package]]\nname = \"tiny\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
            crate_sum.hex()
        ),
    )
    .unwrap();
    let options = artifacts(|_| {});
    assert!(
        check_path(&lock_path, "Cargo.lock", &options)
            .unwrap()
            .is_empty()
    );

    std::fs::write(vendor.join("src/lib.rs"), b"pub fn f() { evil() }\n").unwrap();
    let f = check_path(&lock_path, "Cargo.lock", &options).unwrap();
    assert_eq!(mismatches(&f).len(), 1, "{f:#?}");
    assert!(f[0].message.contains("lib.rs"), "{f:#?}");

    std::fs::write(vendor.join("src/lib.rs"), lib).unwrap();
    let other = hash_bytes(Algorithm::Sha256, b"another crate").unwrap();
    std::fs::write(vendor.join(".cargo-checksum.json"), sums(other.hex())).unwrap();
    let f = check_path(&lock_path, "Cargo.lock", &options).unwrap();
    assert_eq!(mismatches(&f).len(), 1, "{f:#?}");
    assert_eq!(f[0].found.as_deref(), Some(other.hex()));
}

/// Builds a module zip the way `go mod download` lays one out.
fn module_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in files {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

/// Go's `h1:` of a module zip, recomputed independently of the library's code path: the
/// dirhash summary written out by hand.
fn expected_h1(files: &[(&str, &[u8])]) -> String {
    let mut sorted: Vec<_> = files.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let summary: String = sorted
        .iter()
        .map(|(n, b)| format!("{}  {n}\n", hash_bytes(Algorithm::Sha256, b).unwrap().hex()))
        .collect();
    format!(
        "h1:{}",
        hash_bytes(Algorithm::Sha256, summary.as_bytes())
            .unwrap()
            .to_base64()
    )
}

#[test]
fn go_mod_hash_of_a_published_module() {
    // golang.org/x/text v0.3.0 has no go.mod of its own; Go synthesises this one, and every
    // go.sum that lists the module records this hash for it.
    assert_eq!(
        go_hash_mod(b"module golang.org/x/text\n"),
        "h1:NqM8EUOU14njkJ3fqMW+pc6Ldnwhi/IjpwHt7yyuwOQ="
    );
}

#[test]
fn go_module_zip_in_module_cache() {
    let files: &[(&str, &[u8])] = &[
        (
            "example.com/!lib@v1.2.0/go.mod",
            b"module example.com/Lib\n",
        ),
        ("example.com/!lib@v1.2.0/lib.go", b"package lib\n"),
        ("example.com/!lib@v1.2.0/a/b.go", b"package a\n"),
    ];
    let zip = module_zip(files);
    let h1 = expected_h1(files);
    assert_eq!(go_dirhash_zip(std::io::Cursor::new(&zip)).unwrap(), h1);

    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("modcache");
    let dir = cache.join("cache/download/example.com/!lib/@v");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("v1.2.0.zip"), &zip).unwrap();
    std::fs::write(dir.join("v1.2.0.mod"), b"module example.com/Lib\n").unwrap();
    let mod_h1 = go_hash_mod(b"module example.com/Lib\n");
    let sum_path = tmp.path().join("go.sum");
    let options = artifacts(|a| a.go_mod_cache = Some(cache.clone()));

    std::fs::write(
        &sum_path,
        format!(
            "example.com/Lib v1.2.0 h1:{}\nexample.com/Lib v1.2.0/go.mod {mod_h1}\n",
            &h1[3..]
        ),
    )
    .unwrap();
    let f = check_path(&sum_path, "go.sum", &options).unwrap();
    assert!(f.is_empty(), "{f:#?}");

    // A file added to the cached zip changes its h1.
    let mut more = files.to_vec();
    more.push(("example.com/!lib@v1.2.0/evil.go", b"package lib\n"));
    std::fs::write(dir.join("v1.2.0.zip"), module_zip(&more)).unwrap();
    let f = check_path(&sum_path, "go.sum", &options).unwrap();
    let m = mismatches(&f);
    assert_eq!(m.len(), 1, "{f:#?}");
    assert_eq!(m[0].expected.as_deref(), Some(h1.as_str()));
    assert_eq!(m[0].found.as_deref(), Some(expected_h1(&more).as_str()));
    assert_eq!(m[0].line, Some(1));
}

#[test]
fn go_module_zip_that_is_not_a_zip_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache/download/example.com/lib/@v");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("v1.0.0.zip"), b"PK\x03\x04 truncated").unwrap();
    let sum_path = tmp.path().join("go.sum");
    std::fs::write(
        &sum_path,
        "example.com/lib v1.0.0 h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    )
    .unwrap();
    let options = artifacts(|a| a.go_mod_cache = Some(tmp.path().to_path_buf()));
    let err = check_path(&sum_path, "go.sum", &options).unwrap_err();
    assert!(err.to_string().contains("v1.0.0.zip"), "{err}");
}

fn npm_lock(integrity: &str) -> String {
    serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": { "name": "app", "version": "1.0.0", "dependencies": { "@scope/pkg": "1.0.0" } },
            "node_modules/@scope/pkg": {
                "version": "1.0.0",
                "resolved": "https://registry.npmjs.org/@scope/pkg/-/pkg-1.0.0.tgz",
                "integrity": integrity,
            }
        }
    })
    .to_string()
}

#[test]
fn npm_tarball_folder_and_cacache() {
    let tmp = tempfile::tempdir().unwrap();
    let tarball = b"not really gzip, but bytes are bytes".to_vec();
    let d = hash_bytes(Algorithm::Sha512, &tarball).unwrap();
    let tarballs = tmp.path().join("tarballs");
    std::fs::create_dir_all(&tarballs).unwrap();
    std::fs::write(tarballs.join("scope-pkg-1.0.0.tgz"), &tarball).unwrap();
    // The npm cache stores content under its digest.
    let hex = d.hex();
    let cacache = tmp.path().join("npm/_cacache/content-v2/sha512");
    let entry = cacache.join(&hex[..2]).join(&hex[2..4]);
    std::fs::create_dir_all(&entry).unwrap();
    std::fs::write(entry.join(&hex[4..]), &tarball).unwrap();
    let lock_path = tmp.path().join("package-lock.json");
    std::fs::write(&lock_path, npm_lock(&d.to_sri())).unwrap();
    let options = artifacts(|a| {
        a.archive_dirs = vec![tarballs.clone()];
        a.npm_cache = Some(tmp.path().join("npm"));
    });
    assert!(
        check_path(&lock_path, "package-lock.json", &options)
            .unwrap()
            .is_empty()
    );

    // A cache entry whose content no longer matches its address, and a swapped tarball.
    std::fs::write(entry.join(&hex[4..]), b"tampered").unwrap();
    std::fs::write(tarballs.join("scope-pkg-1.0.0.tgz"), b"tampered").unwrap();
    let f = check_path(&lock_path, "package-lock.json", &options).unwrap();
    let m = mismatches(&f);
    assert_eq!(m.len(), 2, "{f:#?}");
    let found = hash_bytes(Algorithm::Sha512, b"tampered").unwrap();
    assert!(m.iter().all(|f| f.found.as_deref() == Some(found.hex())));
}

#[test]
fn python_wheelhouse() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel = b"wheel bytes".to_vec();
    let sdist = b"sdist bytes".to_vec();
    let house = tmp.path().join("wheels");
    std::fs::create_dir_all(&house).unwrap();
    std::fs::write(house.join("My_Pkg-1.0.0-py3-none-any.whl"), &wheel).unwrap();
    std::fs::write(house.join("my.pkg-1.0.0.tar.gz"), &sdist).unwrap();
    let h = |b: &[u8]| hash_bytes(Algorithm::Sha256, b).unwrap().hex().to_owned();
    let lock_path = tmp.path().join("requirements.txt");
    std::fs::write(
        &lock_path,
        format!(
            "my-pkg==1.0.0 \\\n    --hash=sha256:{} \\\n    --hash=sha256:{}\n",
            h(&wheel),
            h(&sdist)
        ),
    )
    .unwrap();
    let options = artifacts(|a| a.wheelhouses = vec![house.clone()]);
    assert!(
        check_path(&lock_path, "requirements.txt", &options)
            .unwrap()
            .is_empty()
    );
    std::fs::write(house.join("my.pkg-1.0.0.tar.gz"), b"other").unwrap();
    let f = check_path(&lock_path, "requirements.txt", &options).unwrap();
    assert_eq!(mismatches(&f).len(), 1, "{f:#?}");
    assert_eq!(f[0].found.as_deref(), Some(h(b"other").as_str()));
}

#[test]
fn nuget_global_packages_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let nupkg = b"nupkg".to_vec();
    let d = hash_bytes(Algorithm::Sha512, &nupkg).unwrap();
    let dir = tmp.path().join("packages/newtonsoft.json/13.0.3");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("newtonsoft.json.13.0.3.nupkg"), &nupkg).unwrap();
    let lock = |hash: &str| {
        serde_json::json!({
            "version": 1,
            "dependencies": { "net8.0": { "Newtonsoft.Json": {
                "type": "Direct", "requested": "[13.0.3, )", "resolved": "13.0.3",
                "contentHash": hash
            } } }
        })
        .to_string()
    };
    let lock_path = tmp.path().join("packages.lock.json");
    let options = artifacts(|a| a.nuget_packages = Some(tmp.path().join("packages")));
    std::fs::write(&lock_path, lock(&d.to_base64())).unwrap();
    assert!(
        check_path(&lock_path, "packages.lock.json", &options)
            .unwrap()
            .is_empty()
    );
    let other = hash_bytes(Algorithm::Sha512, b"other").unwrap();
    std::fs::write(&lock_path, lock(&other.to_base64())).unwrap();
    let f = check_path(&lock_path, "packages.lock.json", &options).unwrap();
    assert_eq!(mismatches(&f).len(), 1, "{f:#?}");
    assert_eq!(f[0].found.as_deref(), Some(d.hex()));
}

#[test]
fn composer_dist_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = b"zip of monolog".to_vec();
    let sha1 = hash_bytes(Algorithm::Sha1, &archive).unwrap();
    let dir = tmp.path().join("dist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("monolog-monolog-3.7.0.zip"), &archive).unwrap();
    let lock = |sum: &str| {
        serde_json::json!({
            "packages": [ {
                "name": "monolog/monolog", "version": "3.7.0",
                "dist": { "type": "zip", "url": "https://api.github.com/repos/Seldaek/monolog/zipball/f4393b648b78a5408747de94fca38beb5f7e9ef8", "reference": "f4393b648b78a5408747de94fca38beb5f7e9ef8", "shasum": sum }
            } ],
            "packages-dev": []
        })
        .to_string()
    };
    let lock_path = tmp.path().join("composer.lock");
    let options = artifacts(|a| a.archive_dirs = vec![dir.clone()]);
    std::fs::write(&lock_path, lock(sha1.hex())).unwrap();
    let f = check_path(&lock_path, "composer.lock", &options).unwrap();
    // SHA-1 is what Composer records: weak, but it still detects a swapped archive.
    assert_eq!(
        codes(&f),
        BTreeMap::from([(("integrity-weak", "warning"), 1)])
    );
    std::fs::write(dir.join("monolog-monolog-3.7.0.zip"), b"swapped").unwrap();
    let f = check_path(&lock_path, "composer.lock", &options).unwrap();
    assert_eq!(mismatches(&f).len(), 1, "{f:#?}");
}

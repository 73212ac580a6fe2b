//! `vouch lock check`: the CLI contract (exit codes, formats), settings, and the reports
//! checked against their schemas.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{render, repo, run, vouch};

fn fixture(case: &str) -> PathBuf {
    repo()
        .join("crates/vouch-lockfile/tests/fixtures/check")
        .join(case)
}

fn lock_check() -> Command {
    let mut c = vouch();
    c.args(["lock", "check"])
        .env_remove("CARGO_HOME")
        .env_remove("npm_config_cache")
        .env_remove("GOMODCACHE")
        .env_remove("NUGET_PACKAGES");
    c
}

fn report_schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(repo().join("schemas/lock-check-report.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn json_report(args: &[&str], path: &Path) -> (i32, Value) {
    let out = run(lock_check().args(args).args(["--format", "json"]).arg(path));
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", render(&out, &[])));
    let errors: Vec<String> = report_schema()
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report violates its schema: {errors:#?}\n{report:#}"
    );
    (out.status.code().unwrap(), report)
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn clean_lockfile_exits_0() {
    let dir = fixture("npm-clean");
    let out = run(lock_check().arg(dir.join("package-lock.json")));
    assert_eq!(out.status.code(), Some(0), "{}", render(&out, &[]));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .ends_with("checked 1 lockfile: 0 errors, 0 warnings, 0 notes\n")
    );
    let (code, report) = json_report(&[], &dir);
    assert_eq!(code, 0);
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["files"], serde_json::json!(["package-lock.json"]));
}

#[test]
fn every_failing_fixture_exits_1_with_a_valid_report() {
    for entry in
        std::fs::read_dir(repo().join("crates/vouch-lockfile/tests/fixtures/check")).unwrap()
    {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (code, report) = json_report(&[], &dir);
        let errors = report["summary"]["error"].as_u64().unwrap();
        assert_eq!(code, if errors > 0 { 1 } else { 0 }, "{name}: {report:#}");
        if name.ends_with("_fail") {
            assert!(!codes(&report).is_empty(), "{name}");
        } else {
            assert!(codes(&report).is_empty(), "{name}: {report:#}");
        }
        for f in report["findings"].as_array().unwrap() {
            for key in ["code", "severity", "file", "line", "package", "message"] {
                assert!(f.get(key).is_some(), "{name}: `{key}` in {f}");
            }
        }
    }
}

#[test]
fn text_report_names_file_line_expected_found_and_hint() {
    let dir = fixture("npm-resolved-mismatch_fail");
    let out = run(lock_check().current_dir(&dir).arg("package-lock.json"));
    assert_eq!(
        render(&out, &[]),
        "exit: 1
--- stdout
error[resolved-mismatch]: package-lock.json:15: `lodash@4.17.21` resolves to `https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz`, a tarball of another package or version
  expected: <registry>/lodash/-/lodash-4.17.21.tgz
  found: https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz
  hint: a resolved URL that names another package is how a lockfile swaps code; restore the entry from version control or reinstall the package
checked 1 lockfile: 1 error, 0 warnings, 0 notes
--- stderr
"
    );
}

#[test]
fn deny_and_warn_change_severity_and_exit_code() {
    let weak = fixture("npm-integrity-weak_fail");
    assert_eq!(json_report(&[], &weak).0, 0);
    let (code, report) = json_report(&["--deny", "integrity-weak"], &weak);
    assert_eq!(code, 1);
    assert_eq!(codes(&report), ["integrity-weak:error"]);
    let other = fixture("npm-other-host_fail");
    let (code, report) = json_report(&["--warn", "source-not-allowed"], &other);
    assert_eq!(code, 0);
    assert_eq!(codes(&report), ["source-not-allowed:warning"]);
    let (code, report) = json_report(&["--allow-host", "registry.npm-mirror.example"], &other);
    assert_eq!((code, codes(&report).len()), (0, 0));
}

#[test]
fn vouch_toml_lock_section_is_read_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["package-lock.json", "package.json"] {
        std::fs::copy(fixture("npm-other-host_fail").join(f), tmp.path().join(f)).unwrap();
    }
    std::fs::write(
        tmp.path().join("vouch.toml"),
        "[sbom]\nwhatever = 1\n\n[lock]\nallowed-hosts = [\"*.npm-mirror.example\"]\n",
    )
    .unwrap();
    assert_eq!(json_report(&[], tmp.path()).0, 0);
    std::fs::write(
        tmp.path().join("vouch.toml"),
        "\n[lock]\nallowed-host = [\"x\"]\n",
    )
    .unwrap();
    let out = run(lock_check().current_dir(tmp.path()).arg("."));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("vouch.toml:2: invalid `[lock]` section: unknown field `allowed-host`"),
        "{stderr}"
    );
    assert!(stderr.contains("\nhint: the keys are"), "{stderr}");
    std::fs::write(
        tmp.path().join("vouch.toml"),
        "[lock]\ndeny = [\n  \"integrity-weak\",\n  \"integrity-wek\",\n]\n",
    )
    .unwrap();
    let out = run(lock_check().current_dir(tmp.path()).arg("."));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: vouch.toml:4: unknown lock check code `integrity-wek`"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_and_unreadable_input_exit_2() {
    let out = run(lock_check()
        .args(["--deny", "no-such-code"])
        .arg(fixture("npm-clean")));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown lock check code `no-such-code`")
    );

    let out = run(lock_check()
        .args(["--format", "xml"])
        .arg(fixture("npm-clean")));
    assert_eq!(out.status.code(), Some(2));

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("package-lock.json"),
        "{\n  \"lockfileVersion\": 3,\n  \"packages\": [\n",
    )
    .unwrap();
    let out = run(lock_check()
        .current_dir(tmp.path())
        .arg("package-lock.json"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: package-lock.json:4:"),
        "{stderr}"
    );
    assert!(stderr.contains("invalid JSON"), "{stderr}");

    let out = run(lock_check().arg(tmp.path().join("missing.lock")));
    assert_eq!(out.status.code(), Some(2));
    let out = run(lock_check().arg(tmp.path().join("notes.txt")).env("X", "1"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn verify_artifacts_finds_a_changed_crate() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp
        .path()
        .join("home/registry/cache/index.crates.io-0000000000000000");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(
        cache.join("memchr-2.7.4.crate"),
        b"not the crate Cargo.lock pins",
    )
    .unwrap();
    std::fs::copy(
        fixture("cargo-clean").join("Cargo.lock"),
        tmp.path().join("Cargo.lock"),
    )
    .unwrap();
    let lock = tmp.path().join("Cargo.lock");
    let (code, report) = json_report(&[], &lock);
    assert_eq!(code, 0, "without --verify-artifacts nothing is hashed");
    let (code, report2) = json_report(
        &[
            "--verify-artifacts",
            "--cargo-home",
            tmp.path().join("home").to_str().unwrap(),
        ],
        &lock,
    );
    assert_eq!(code, 1, "{report2:#}");
    assert_eq!(codes(&report2), ["hash-mismatch:error"]);
    let f = &report2["findings"][0];
    assert_eq!(f["package"], "memchr@2.7.4");
    assert_eq!(f["line"], 13);
    assert!(f["expected"].as_str().unwrap().len() == 64);
    assert_ne!(f["expected"], f["found"]);
    drop(report);
    // The environment variable is read when the flag is absent.
    let out = run(lock_check()
        .arg("--verify-artifacts")
        .env("CARGO_HOME", tmp.path().join("home"))
        .arg(&lock));
    assert_eq!(out.status.code(), Some(1));
}

fn check_jsonschema() -> Option<PathBuf> {
    let bin = repo().join(".venv/bin/check-jsonschema");
    bin.is_file().then_some(bin)
}

fn sarif_schema() -> Option<PathBuf> {
    let p = repo()
        .join("target/test-tools/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json");
    p.is_file().then_some(p)
}

/// SARIF output is valid against the SARIF 2.1.0 JSON schema, judged by check-jsonschema.
#[test]
fn sarif_is_valid_against_the_sarif_2_1_0_schema() {
    let (Some(validator), Some(schema)) = (check_jsonschema(), sarif_schema()) else {
        eprintln!(
            "SKIPPED: check-jsonschema or the SARIF 2.1.0 schema is not installed; run scripts/install-test-tools.sh"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for case in [
        "npm-clean",
        "npm-git-branch_fail",
        "cargo-drift_fail",
        "gosum-conflict_fail",
        "npm-local_fail",
    ] {
        let out = run(lock_check().args(["--format", "sarif"]).arg(fixture(case)));
        let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.is_empty(), case == "npm-clean", "{case}");
        let file = tmp.path().join(format!("{case}.sarif"));
        std::fs::write(&file, &out.stdout).unwrap();
        let v = Command::new(&validator)
            .arg("--schemafile")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "{case}: {}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
    // A document the schema must reject, so that the check above can fail.
    let bad = tmp.path().join("bad.sarif");
    std::fs::write(&bad, r#"{"version": "2.1.0", "runs": [{"results": []}]}"#).unwrap();
    let v = Command::new(&validator)
        .arg("--schemafile")
        .arg(&schema)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!v.status.success(), "a run without `tool` is rejected");
}

#[test]
fn directory_mode_checks_every_lockfile_below() {
    let (code, report) = json_report(&[], &fixture("."));
    assert_eq!(code, 1);
    assert_eq!(report["files"].as_array().unwrap().len(), 26);
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"npm-drift_fail/package.json"), "{files:?}");
    assert!(files.contains(&"gosum-conflict_fail/go.sum"), "{files:?}");
}

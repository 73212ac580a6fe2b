//! `vouch verify` and `vouch trust show` on real bundles from the sigstore-conformance suite.
//! Without the shared corpus the bundle tests say SKIPPED and pass.

use std::path::{Path, PathBuf};

use crate::{repo, run, vouch};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cases() -> Option<PathBuf> {
    let shared = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    let dir = shared.join("corpus/sigstore-conformance/bundle-verify");
    if dir.join("a.txt").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: sigstore-conformance cases not found (set VOUCH_SHARED_DIR)");
        None
    }
}

/// Runs `vouch verify` and renders the outcome with the corpus path replaced.
fn verify(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = run(vouch().current_dir(dir).arg("verify").args(args));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn keyless<'a>(bundle: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "a.txt",
        "--bundle",
        bundle,
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    v.extend_from_slice(extra);
    v
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("schemas/verify-report.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn assert_valid(doc: &serde_json::Value) {
    let errors: Vec<String> = schema().iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema: {errors:#?}"
    );
}

#[test]
fn happy_path_reports_every_check_and_exits_0() {
    let Some(dir) = cases() else { return };
    let (code, stdout, stderr) = verify(
        &dir,
        &keyless("happy-path-v0.3/bundle.sigstore.json", &["--offline"]),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn wrong_identity_names_the_check_expected_found_and_a_hint() {
    let Some(dir) = cases() else { return };
    let (code, stdout, _) = verify(
        &dir,
        &[
            "a.txt",
            "--bundle",
            "happy-path-v0.3/bundle.sigstore.json",
            "--certificate-identity",
            "release@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn identity_regex_matches_the_whole_value_only() {
    let Some(dir) = cases() else { return };
    let bundle = "happy-path-v0.3/bundle.sigstore.json";
    let base = [
        "a.txt",
        "--bundle",
        bundle,
        "--certificate-oidc-issuer-regexp",
        r"https://token\.actions\.githubusercontent\.com",
    ];
    let (code, out, err) = verify(
        &dir,
        &[
            &base[..],
            &[
                "--certificate-identity-regexp",
                "https://github.com/sigstore-conformance/.*@refs/heads/main",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    // A prefix of the identity is not a match: the expression is anchored at both ends.
    let (code, out, _) = verify(
        &dir,
        &[
            &base[..],
            &[
                "--certificate-identity-regexp",
                "https://github.com/sigstore-conformance/",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  identity"), "{out}");
    assert!(
        out.contains("expected: /https://github.com/sigstore-conformance//"),
        "{out}"
    );
}

#[test]
fn invalid_regex_is_a_usage_error() {
    let Some(dir) = cases() else { return };
    let (code, _, err) = verify(
        &dir,
        &[
            "a.txt",
            "--bundle",
            "happy-path-v0.3/bundle.sigstore.json",
            "--certificate-identity-regexp",
            "(",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("invalid regular expression `(`"), "{err}");
}

#[test]
fn github_claims_are_checked_with_expected_and_found() {
    let Some(dir) = cases() else { return };
    let bundle = "happy-path-intoto-in-dsse-v3/bundle.sigstore.json";
    let (code, out, err) = verify(
        &dir,
        &keyless(
            bundle,
            &[
                "--github-repository",
                "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
                "--github-ref",
                "refs/heads/main",
                "--github-workflow",
                ".github/workflows/extremely-dangerous-oidc-beacon.yml",
            ],
        ),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok    certificate-extensions"), "{out}");
    let (code, out, _) = verify(
        &dir,
        &keyless(bundle, &["--github-ref", "refs/tags/v1.0.0"]),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  certificate-extensions"), "{out}");
    assert!(
        out.contains("expected: github-ref=refs/tags/v1.0.0"),
        "{out}"
    );
    assert!(
        out.contains("found:    github-ref=refs/heads/main"),
        "{out}"
    );
}

#[test]
fn dsse_bundle_json_has_facts_claims_and_matches_the_schema() {
    let Some(dir) = cases() else { return };
    let (code, out, err) = verify(
        &dir,
        &keyless(
            "happy-path-intoto-in-dsse-v3/bundle.sigstore.json",
            &["--format", "json"],
        ),
    );
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(&doc);
    let result = &doc["results"][0];
    assert_eq!(result["verified"], true);
    assert_eq!(result["facts"]["identity"], IDENTITY);
    assert_eq!(result["facts"]["issuer"], ISSUER);
    assert_eq!(result["facts"]["mode"], "keyless");
    assert!(
        result["facts"]["log_entries"][0]["log_index"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(
        result["claims"]["payload_type"],
        "application/vnd.in-toto+json"
    );
    // The artifact's digest is a subject of the signed statement.
    let digest = result["facts"]["artifact_digest"]
        .as_str()
        .unwrap()
        .strip_prefix("sha256:")
        .unwrap()
        .to_owned();
    let subjects = result["claims"]["subjects"].as_array().unwrap();
    assert!(
        subjects
            .iter()
            .any(|s| s["digest"]["sha256"] == digest.as_str()),
        "{subjects:?}"
    );
}

#[test]
fn rejected_json_has_no_facts_and_matches_the_schema() {
    let Some(dir) = cases() else { return };
    let (code, out, _) = verify(
        &dir,
        &keyless(
            "signature-mismatch_fail/bundle.sigstore.json",
            &["--format", "json"],
        ),
    );
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_valid(&doc);
    let result = &doc["results"][0];
    assert_eq!(result["verified"], false);
    assert!(result.get("facts").is_none());
    let failed: Vec<_> = result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["id"], "signature");
    // Checks after the failure did not run, and say so.
    assert!(
        result["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "not-run")
    );
}

#[test]
fn digest_input_needs_a_bundle_and_verifies_with_one() {
    let Some(dir) = cases() else { return };
    let bytes = std::fs::read(dir.join("a.txt")).unwrap();
    let digest = format!(
        "sha256:{}",
        vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, &bytes)
            .unwrap()
            .hex()
    );
    let (code, _, err) = verify(
        &dir,
        &[
            &digest,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("hint: pass the bundle with --bundle FILE"),
        "{err}"
    );
    let mut args = keyless("happy-path-v0.3/bundle.sigstore.json", &[]);
    args[0] = &digest;
    let (code, out, err) = verify(&dir, &args);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn managed_key_bundle_verifies_with_key_and_not_without() {
    let Some(dir) = cases() else { return };
    let case = "managed-key-happy-path";
    let bundle = format!("{case}/bundle.sigstore.json");
    let key = format!("{case}/key.pub");
    let (code, out, err) = verify(&dir, &["a.txt", "--bundle", &bundle, "--key", &key]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verified  a.txt: managed key"), "{out}");
    let (code, out, _) = verify(&dir, &keyless(&bundle, &[]));
    assert_eq!(code, 1);
    assert!(out.contains("hint:     verify it with --key"), "{out}");
}

#[test]
fn many_inputs_find_their_bundles_and_print_one_line_each() {
    let Some(dir) = cases() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let good = dir.join("happy-path-v0.3/bundle.sigstore.json");
    let artifact = std::fs::read(dir.join("a.txt")).unwrap();
    for name in ["one.txt", "two.txt", "three.txt"] {
        std::fs::write(tmp.path().join(name), &artifact).unwrap();
    }
    std::fs::copy(&good, tmp.path().join("one.txt.sigstore.json")).unwrap();
    std::fs::copy(&good, tmp.path().join("two.txt.sigstore")).unwrap();
    std::fs::copy(
        dir.join("signature-mismatch_fail/bundle.sigstore.json"),
        tmp.path().join("three.txt.sigstore.json"),
    )
    .unwrap();
    let out = run(vouch().current_dir(tmp.path()).args([
        "verify",
        "one.txt",
        "two.txt",
        "three.txt",
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("verified  one.txt: identity "),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("verified  two.txt: identity "),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("rejected  three.txt: signature: "),
        "{stdout}"
    );

    // An input without any bundle is unreadable input: exit 2, and the others still verify.
    std::fs::write(tmp.path().join("four.txt"), &artifact).unwrap();
    let out = run(vouch().current_dir(tmp.path()).args([
        "verify",
        "one.txt",
        "four.txt",
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("verified  one.txt"), "{stdout}");
    assert!(
        stdout.contains("error     four.txt: no bundle found"),
        "{stdout}"
    );
}

#[test]
fn wrong_instance_is_rejected_and_staging_flag_changes_the_root() {
    let Some(dir) = cases() else { return };
    // A valid staging bundle does not verify against the production root...
    let (code, out, _) = verify(
        &dir,
        &keyless("bundle-from-wrong-instance_fail/bundle.sigstore.json", &[]),
    );
    assert_eq!(code, 1, "{out}");
    // ...and production bundles do not verify against staging.
    let (code, out, _) = verify(
        &dir,
        &keyless("happy-path-v0.3/bundle.sigstore.json", &["--staging"]),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("trusted root: embedded:staging"), "{out}");
}

#[test]
fn identity_without_issuer_is_refused_with_a_hint() {
    let out = run(vouch().args(["verify", "x.txt", "--certificate-identity", "a@example.com"]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("an identity without an issuer proves nothing"),
        "{err}"
    );
    assert!(err.contains("hint: add --certificate-oidc-issuer"), "{err}");
}

#[test]
fn no_identity_and_no_key_is_a_usage_error() {
    let out = run(vouch().args(["verify", "x.txt"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_trusted_root_names_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root.json");
    std::fs::write(&root, "{\n  \"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\n  \"tlogs\": [\n").unwrap();
    let out =
        run(vouch()
            .current_dir(tmp.path())
            .args(["trust", "show", "--trusted-root", "root.json"]));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: root.json:4:1: EOF while parsing a list"),
        "{err}"
    );
}

#[test]
fn trust_show_lists_the_embedded_production_root() {
    let out = run(vouch().args(["trust", "show"]));
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn trust_show_json_for_staging() {
    let out = run(vouch().args(["trust", "show", "--staging", "--format", "json"]));
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["origin"], "embedded:staging");
    assert!(
        doc["transparency_logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"].as_str().unwrap().contains("sigstage.dev"))
    );
}

//! The sigstore-conformance verification cases, run the way the suite's harness runs them: one
//! process per case, once with the artifact's path and once with its `sha256:` digest.
//!
//! Every case must be decided as its name says (`_fail` rejects), and every rejection must name
//! the check this test expects from the case's description upstream, so that a bundle rejected
//! for the wrong reason is a failure too.
//!
//! The cases live outside the repository (`$VOUCH_SHARED_DIR/corpus/sigstore-conformance`, or
//! `../shared/...` beside the checkout); without them the test says SKIPPED and passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// For each `_fail` case, the checks whose failure matches what the case tests. Where the
/// suite's description allows two readings (an untrusted log is both an unknown log and a bad
/// signed entry timestamp), both are listed. `usage` means the material itself is unusable and
/// the client exits 2 before verifying (an unparseable key, an invalid trusted root).
const EXPECTED_FAILURES: &[(&str, &[&str])] = &[
    (
        "bundle-empty-certificate-chain_fail",
        &["certificate-chain"],
    ),
    (
        "bundle-from-wrong-instance_fail",
        &["tlog-set", "tlog-entry", "certificate-chain"],
    ),
    ("bundle-invalid-base64-signature_fail", &["bundle-parse"]),
    ("bundle-malformed-json_fail", &["bundle-parse"]),
    ("bundle-negative-log-index_fail", &["bundle-parse"]),
    ("bundle-unknown-version_fail", &["bundle-parse"]),
    ("bundle-with-root-cert_fail", &["certificate-chain"]),
    ("checkpoint-bad-keyhint_fail", &["tlog-checkpoint"]),
    ("checkpoint-wrong-roothash_fail", &["tlog-checkpoint"]),
    ("dsse-invalid-sig_fail", &["signature"]),
    ("dsse-mismatch-envelope_fail", &["tlog-entry"]),
    ("dsse-mismatch-sig_fail", &["tlog-entry"]),
    (
        "inclusion-proof-corrupted-hash_fail",
        &["tlog-inclusion-proof"],
    ),
    ("incorrect-public-key_fail", &["tlog-set", "tlog-entry"]),
    (
        "integrated-time-in-future_fail",
        &["certificate-chain", "tlog-integrated-time"],
    ),
    ("intoto-expired-certificate_fail", &["certificate-chain"]),
    ("intoto-log-entry-mismatch_fail", &["tlog-entry"]),
    (
        "intoto-missing-inclusion-proof_fail",
        &["tlog-inclusion-proof"],
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        &["certificate-chain", "tlog-integrated-time"],
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        &["certificate-chain", "rfc3161-timestamp"],
    ),
    ("invalid-checkpoint-signature_fail", &["tlog-checkpoint"]),
    ("invalid-ct-key_fail", &["sct"]),
    (
        "invalid-inclusion-proof_fail",
        &["tlog-inclusion-proof", "tlog-checkpoint"],
    ),
    ("managed-key-no-key_fail", &["certificate-chain"]),
    ("managed-key-wrong-key_fail", &["usage", "signature"]),
    ("message-digest-mismatch_fail", &["artifact-digest"]),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        &["bundle-parse", "tlog-checkpoint"],
    ),
    (
        "rekor2-checkpoint-missing-origin_fail",
        &["bundle-parse", "tlog-checkpoint"],
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        &["bundle-parse", "tlog-checkpoint"],
    ),
    (
        "rekor2-checkpoint-missing-size_fail",
        &["bundle-parse", "tlog-checkpoint"],
    ),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        &["tlog-checkpoint"],
    ),
    ("rekor2-dsse-invalid-sig_fail", &["signature"]),
    ("rekor2-dsse-mismatch-envelope_fail", &["tlog-entry"]),
    ("rekor2-dsse-mismatch-sig_fail", &["tlog-entry"]),
    ("rekor2-no-inclusion-proof_fail", &["tlog-inclusion-proof"]),
    ("rekor2-no-timestamp_fail", &["rfc3161-timestamp"]),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        &["rfc3161-timestamp"],
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        &["rfc3161-timestamp"],
    ),
    (
        "rekor2-timestamp-payload-mismatch_fail",
        &["rfc3161-timestamp"],
    ),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        &["rfc3161-timestamp"],
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        &["rfc3161-timestamp"],
    ),
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        &["bundle-parse", "rfc3161-timestamp"],
    ),
    ("set-invalid-signature_fail", &["tlog-set"]),
    ("signature-mismatch_fail", &["signature"]),
    ("trust-root-tlog-missing-validity-start_fail", &["usage"]),
    (
        "wrong-hashedrekord-artifact_fail",
        &["tlog-entry", "artifact-digest"],
    ),
    ("wrong-hashedrekord-cert-and-sig_fail", &["tlog-entry"]),
    (
        "wrong-hashedrekord-entry_fail",
        &["tlog-entry", "artifact-digest"],
    ),
    ("wrong-material_fail", &["artifact-digest"]),
];

fn cases_dir() -> Option<PathBuf> {
    let base = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = base.join("corpus/sigstore-conformance/bundle-verify");
    dir.join("a.txt").is_file().then_some(dir)
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, &bytes)
        .unwrap()
        .hex()
        .to_owned()
}

/// Runs one case; returns the exit code and the name of the failed check (or `usage`).
fn run_case(case: &Path, root: &Path, by_digest: bool) -> (i32, Option<String>) {
    let artifact = if case.join("artifact").is_file() {
        case.join("artifact")
    } else {
        root.join("a.txt")
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vouch-conformance"));
    cmd.arg("verify-bundle")
        .arg("--bundle")
        .arg(case.join("bundle.sigstore.json"));
    if case.join("key.pub").is_file() {
        cmd.arg("--key").arg(case.join("key.pub"));
    } else {
        let read = |name: &str, default: &str| {
            std::fs::read_to_string(case.join(name))
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| default.to_owned())
        };
        cmd.arg("--certificate-identity")
            .arg(read("identity", DEFAULT_IDENTITY))
            .arg("--certificate-oidc-issuer")
            .arg(read("issuer", DEFAULT_ISSUER));
    }
    if case.join("trusted_root.json").is_file() {
        cmd.arg("--trusted-root")
            .arg(case.join("trusted_root.json"));
    }
    if by_digest {
        cmd.arg(format!("sha256:{}", sha256_hex(&artifact)));
    } else {
        cmd.arg(&artifact);
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let check = if code == 2 {
        Some("usage".to_owned())
    } else {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix("rejected: "))
            .and_then(|l| l.split(':').next())
            .map(str::to_owned)
    };
    (code, check)
}

#[test]
fn every_conformance_case_is_decided_correctly_for_the_right_reason() {
    let Some(root) = cases_dir() else {
        eprintln!(
            "SKIPPED: sigstore-conformance cases not found (set VOUCH_SHARED_DIR); no case was run"
        );
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");

    let mut wrong = Vec::new();
    let mut decided = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let should_fail = name.ends_with("_fail");
        for by_digest in [false, true] {
            let (code, check) = run_case(case, &root, by_digest);
            let mode = if by_digest { "digest" } else { "path" };
            if should_fail {
                let allowed = EXPECTED_FAILURES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| *c)
                    .unwrap_or_else(|| panic!("{name}: no expected failure listed"));
                if code == 0 {
                    wrong.push(format!("{name} ({mode}): accepted"));
                } else if !check.as_deref().is_some_and(|c| allowed.contains(&c)) {
                    wrong.push(format!(
                        "{name} ({mode}): rejected by `{}`, expected one of {allowed:?}",
                        check.unwrap_or_default()
                    ));
                }
            } else if code != 0 {
                wrong.push(format!(
                    "{name} ({mode}): rejected (exit {code}) by `{}`",
                    check.unwrap_or_default()
                ));
            }
            decided += 1;
        }
    }
    assert_eq!(decided, 140);
    assert!(
        wrong.is_empty(),
        "{} of 140 decided wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

//! Interoperability with the real Sigstore clients: sigstore-python 4.5.1 (from PyPI, in the
//! project's test venv) signs a file against the devstack, with Rekor v1 and with Rekor v2,
//! verifies the bundle offline with the devstack's trust configuration, and `vouch-sigstore`
//! verifies the same bundle.
//!
//! The devstack's signing config lists both logs under one operator, and sigstore-python takes
//! the highest version it supports from each operator: Rekor v2 by default, Rekor v1 only with
//! `--rekor-version 1`.
//!
//! The venv is `.venv` at the repository root (`scripts/install-test-tools.sh` creates it);
//! without it the test says SKIPPED and passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use vouch_devstack::oidc::{Subject, TokenRequest};
use vouch_sigstore::{ArtifactInput, Matcher, Policy, TrustMaterial, Verifier};

fn sigstore_cli() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/sigstore");
    if venv.is_file() {
        Some(venv)
    } else {
        eprintln!(
            "SKIPPED: sigstore-python not installed in .venv (run scripts/install-test-tools.sh)"
        );
        None
    }
}

fn token(running: &vouch_devstack::Running, email: &str) -> String {
    let shared = running.shared();
    vouch_devstack::oidc::mint(
        &shared.keys.oidc,
        &shared.base_url,
        &TokenRequest {
            subject: Subject::Email(email.to_owned()),
            ttl: 600,
            claims: BTreeMap::new(),
        },
        jiff::Timestamp::now().as_second(),
    )
    .unwrap()
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Signs with sigstore-python, forcing `rekor_version` if given, and checks that the bundle's
/// log entry has `entry_version` and that both clients accept it.
async fn sign_and_verify(rekor_version: Option<u32>, entry_version: &str) {
    let Some(sigstore) = sigstore_cli() else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let running = vouch_devstack::start(vouch_devstack::Config {
        state_dir: state.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let artifact = work.path().join("release.tar.gz");
    std::fs::write(&artifact, b"the release artifact\n").unwrap();
    let bundle = work.path().join("release.tar.gz.sigstore.json");
    let trust_config = state.path().join("trust_config.json");
    let email = "release@example.com";
    let token = token(&running, email);

    let mut sign = Command::new(&sigstore);
    sign.arg("--trust-config").arg(&trust_config).arg("sign");
    if let Some(version) = rekor_version {
        sign.arg("--rekor-version").arg(version.to_string());
    }
    sign.arg("--identity-token")
        .arg(&token)
        .arg("--bundle")
        .arg(&bundle)
        .arg(&artifact);
    let (signed, output) = tokio::task::spawn_blocking(move || run(&mut sign))
        .await
        .unwrap();
    assert!(
        signed,
        "sigstore-python could not sign against the devstack:\n{output}"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let entry = &written["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["kind"], "hashedrekord", "{written}");
    assert_eq!(entry["kindVersion"]["version"], entry_version, "{written}");
    if entry_version == "0.0.2" {
        // Rekor v2 signs no entry timestamp: the time comes from the timestamp authority.
        assert!(entry.get("inclusionPromise").is_none(), "{written}");
        let timestamps = &written["verificationMaterial"]["timestampVerificationData"];
        assert!(
            !timestamps["rfc3161Timestamps"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{written}"
        );
    }

    let mut verify = Command::new(&sigstore);
    verify
        .arg("--trust-config")
        .arg(&trust_config)
        .args([
            "verify",
            "identity",
            "--cert-identity",
            email,
            "--cert-oidc-issuer",
            running.url(),
        ])
        .arg("--bundle")
        .arg(&bundle)
        .arg(&artifact);
    let (verified, output) = tokio::task::spawn_blocking(move || run(&mut verify))
        .await
        .unwrap();
    assert!(
        verified,
        "sigstore-python rejected its own devstack bundle:\n{output}"
    );

    let trust = TrustMaterial::from_trust_config_json(
        &std::fs::read(&trust_config).unwrap(),
        "trust_config.json",
    )
    .unwrap();
    let verifier = Verifier::new(trust).unwrap();
    let policy = Policy::keyless(Matcher::exact(email), Matcher::exact(running.url()));
    let report = verifier.verify(
        &std::fs::read(&bundle).unwrap(),
        ArtifactInput::Bytes(&std::fs::read(&artifact).unwrap()),
        &policy,
    );
    assert!(
        report.verified,
        "vouch rejected sigstore-python's devstack bundle: {:#?}",
        report.checks
    );

    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_python_signs_against_devstack_rekor_v1_and_vouch_verifies() {
    sign_and_verify(Some(1), "0.0.1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_python_signs_against_devstack_rekor_v2_by_default_and_vouch_verifies() {
    sign_and_verify(None, "0.0.2").await;
}

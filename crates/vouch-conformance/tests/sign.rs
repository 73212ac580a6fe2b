//! The conformance client's `sign-bundle`, driven as the suite's harness drives it, against a
//! devstack on loopback; each bundle is then checked with the client's own `verify-bundle`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::process::Command;

fn client() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vouch-conformance"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_bundle_message_and_in_toto_then_verify_bundle() {
    let state = tempfile::tempdir().unwrap();
    let running = vouch_devstack::start(vouch_devstack::Config {
        state_dir: state.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let shared = running.shared();
    let email = "conformance@example.com";
    let token = vouch_devstack::oidc::mint(
        &shared.keys.oidc,
        &shared.base_url,
        &vouch_devstack::oidc::TokenRequest {
            subject: vouch_devstack::oidc::Subject::Email(email.to_owned()),
            ttl: 600,
            claims: BTreeMap::new(),
        },
        jiff::Timestamp::now().as_second(),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let artifact = work.path().join("a.txt");
    std::fs::write(&artifact, b"conformance artifact\n").unwrap();
    let digest =
        vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, b"conformance artifact\n")
            .unwrap();
    let statement = work.path().join("statement.json");
    std::fs::write(
        &statement,
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a.txt","digest":{{"sha256":"{}"}}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#,
            digest.hex()
        ),
    )
    .unwrap();
    let root = state.path().join("trusted_root.json");
    let config = state.path().join("signing_config.json");

    for (in_toto, input) in [(false, &artifact), (true, &statement)] {
        let bundle = work.path().join(format!("bundle-{in_toto}.json"));
        let mut sign = client();
        sign.arg("sign-bundle");
        if in_toto {
            sign.arg("--in-toto");
        }
        sign.args(["--identity-token", &token])
            .arg("--bundle")
            .arg(&bundle)
            .arg("--trusted-root")
            .arg(&root)
            .arg("--signing-config")
            .arg(&config)
            .arg(input);
        let out = tokio::task::spawn_blocking(move || sign.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "sign-bundle (in-toto: {in_toto}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut verify = client();
        verify
            .arg("verify-bundle")
            .arg("--bundle")
            .arg(&bundle)
            .args(["--certificate-identity", email])
            .args(["--certificate-oidc-issuer", running.url()])
            .arg("--trusted-root")
            .arg(&root)
            .arg(&artifact);
        let out = tokio::task::spawn_blocking(move || verify.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "verify-bundle (in-toto: {in_toto}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    running.shutdown().await.unwrap();
}

//! The self-check of a signing batch (`Verifier::verify_cached`): bundles signed under one
//! certificate have its chain and SCT checked once, with the first bundle; a bundle with any
//! other certificate is checked in full, whatever the cache holds. Against the devstack's
//! Fulcio, Rekor and timestamp authority on loopback.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use vouch_digest::{Algorithm, Digest};
use vouch_sigstore::sign::IdentityToken;
use vouch_sigstore::{
    ArtifactInput, CertificateCache, CheckId, Credential, Matcher, Policy, Report, RetryPolicy,
    Services, Signer, SigningConfig, Status, TrustMaterial, Verifier,
};

const EMAIL: &str = "batch@example.com";

struct Stack {
    state: tempfile::TempDir,
    running: vouch_devstack::Running,
}

impl Stack {
    async fn start() -> Self {
        let state = tempfile::tempdir().unwrap();
        let running = vouch_devstack::start(vouch_devstack::Config {
            state_dir: state.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().unwrap(),
        })
        .await
        .unwrap();
        Self { state, running }
    }

    fn trust_config(&self) -> Vec<u8> {
        std::fs::read(self.state.path().join("trust_config.json")).unwrap()
    }

    fn trust(&self) -> TrustMaterial {
        TrustMaterial::from_trust_config_json(&self.trust_config(), "devstack").unwrap()
    }

    /// A signer with a token of its own: each signer gets a certificate of its own.
    fn signer(&self) -> Signer {
        let token = self.running.email_token(EMAIL, 600).unwrap();
        let config =
            SigningConfig::from_trust_config_json(&self.trust_config(), "devstack").unwrap();
        Signer::new(
            Services::select(&config, Some(1)).unwrap(),
            self.trust(),
            Credential::Keyless(IdentityToken::from_jwt(&token).unwrap()),
            RetryPolicy::default(),
        )
        .unwrap()
    }

    fn policy(&self) -> Policy {
        Policy::keyless(Matcher::exact(EMAIL), Matcher::exact(self.running.url()))
    }
}

fn digest(text: &str) -> Digest {
    vouch_digest::hash_bytes(Algorithm::Sha256, text.as_bytes()).unwrap()
}

/// The message of the passed check `id`.
fn message(report: &Report, id: CheckId) -> &str {
    let check = report.checks.iter().find(|c| c.id == id).unwrap();
    assert_eq!(check.status, Status::Passed, "{report:#?}");
    &check.message
}

fn reused(report: &Report) -> bool {
    let chain = message(report, CheckId::CertificateChain).contains("earlier bundle");
    let sct = message(report, CheckId::Sct).contains("earlier bundle");
    assert_eq!(chain, sct, "the chain and the SCT go together");
    chain
}

fn certificate(bundle: &str) -> Value {
    let doc: Value = serde_json::from_str(bundle).unwrap();
    doc["verificationMaterial"]["certificate"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_checks_its_certificate_once_and_any_other_certificate_in_full() {
    let stack = Stack::start().await;
    let signer = stack.signer();
    let (a, b) = (digest("a"), digest("b"));
    let signed_a = signer.sign_digest(&a).await.unwrap();
    let signed_b = signer.sign_digest(&b).await.unwrap();
    assert_eq!(
        certificate(&signed_a.bundle_json),
        certificate(&signed_b.bundle_json),
        "one certificate for the batch"
    );
    // The signer's own self-check: the first bundle in full, the second reusing its chain.
    assert!(!reused(&signed_a.report));
    assert!(reused(&signed_b.report));

    // Another verifier, in the other order: the first bundle it sees is checked in full.
    let verifier = Verifier::new(stack.trust()).unwrap();
    let cache = CertificateCache::new();
    let policy = stack.policy();
    let verify_with = |bundle: &str, d: &Digest, cache: &CertificateCache| {
        verifier.verify_cached(
            bundle.as_bytes(),
            ArtifactInput::Digest(d.clone()),
            &policy,
            cache,
        )
    };
    let report = verify_with(&signed_b.bundle_json, &b, &cache);
    assert!(report.verified && !reused(&report));
    let report = verify_with(&signed_a.bundle_json, &a, &cache);
    assert!(report.verified && reused(&report));
    // Without the cache, nothing is reused.
    let plain = verifier.verify(
        signed_a.bundle_json.as_bytes(),
        ArtifactInput::Digest(a.clone()),
        &policy,
    );
    assert!(plain.verified && !reused(&plain));

    // A bundle under another certificate is checked in full while the cache holds the first.
    // Issued (whole seconds) after the batch's signing times.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let other = stack.signer().sign_digest(&digest("c")).await.unwrap();
    assert_ne!(
        certificate(&other.bundle_json),
        certificate(&signed_a.bundle_json)
    );
    let report = verify_with(&other.bundle_json, &digest("c"), &cache);
    assert!(report.verified && !reused(&report));

    // The batch's bundle with the other genuine certificate put in. While the cache holds the
    // batch's certificate, it is checked in full and fails its chain check (the other
    // certificate was issued after this bundle's signing time).
    let mut swapped: Value = serde_json::from_str(&signed_a.bundle_json).unwrap();
    swapped["verificationMaterial"]["certificate"] = certificate(&other.bundle_json);
    let swapped = serde_json::to_string(&swapped).unwrap();
    let fresh = CertificateCache::new();
    assert!(verify_with(&signed_b.bundle_json, &b, &fresh).verified);
    let report = verify_with(&swapped, &a, &fresh);
    assert!(!report.verified);
    assert_eq!(
        report.first_failure().unwrap().id,
        CheckId::CertificateChain,
        "{report:#?}"
    );
    // While the cache holds that other certificate, its chain is not checked again, but the
    // signing time still is, against its validity: the log entry is older than it.
    let report = verify_with(&swapped, &a, &cache);
    assert!(!report.verified);
    assert_eq!(
        report.first_failure().unwrap().id,
        CheckId::TlogIntegratedTime,
        "{report:#?}"
    );
}

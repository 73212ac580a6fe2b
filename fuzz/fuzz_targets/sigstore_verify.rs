//! Fuzzes Sigstore verification: any bytes, as a bundle, a trusted root or a client trust
//! configuration, give a report or an error, never a panic.
//!
//! The first byte chooses what the input is: `0`, the rest is a trusted root, which then
//! verifies a real bundle made under it; `1`, the rest is a trust configuration; `2`, the rest
//! is a bundle verified under a managed-key policy; anything else (a JSON bundle starts with
//! `{`), the whole input is a bundle verified under a keyless policy, with the production root
//! and with a private root, given the artifact and given only its digest.
//!
//! The fixed material comes from the sigstore-conformance cases in the directory named by
//! `VOUCH_FUZZ_CONFORMANCE` (`scripts/fuzz.sh` sets it, and seeds the corpus from the same
//! cases): the artifact `a.txt`, the trusted root and bundle of `rekor2-happy-path`, and the key
//! of `managed-key-happy-path`. Without it, only the embedded production root is used.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_sigstore::{ArtifactInput, Instance, Matcher, Policy, TrustMaterial, Verifier};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

struct Fixed {
    artifact: Vec<u8>,
    root_bundle: Vec<u8>,
    production: Verifier,
    private: Option<Verifier>,
    keyless: Policy,
    key: Option<Policy>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let production = TrustMaterial::embedded(Instance::Production).expect("embedded root");
        let keyless = Policy::keyless(Matcher::exact(IDENTITY), Matcher::exact(ISSUER));
        let dir = std::env::var_os("VOUCH_FUZZ_CONFORMANCE").map(PathBuf::from);
        let read = |rel: &str| dir.as_ref().and_then(|d| std::fs::read(d.join(rel)).ok());
        let artifact = read("a.txt").unwrap_or_default();
        let root_bundle = read("rekor2-happy-path/bundle.sigstore.json").unwrap_or_default();
        let private = read("rekor2-happy-path/trusted_root.json").map(|root| {
            let trust = TrustMaterial::from_trusted_root_json(&root, "seed").expect("seed root");
            Verifier::new(trust).expect("seed verifier")
        });
        let key = read("managed-key-happy-path/key.pub")
            .map(|pem| Policy::public_key_pem(&String::from_utf8_lossy(&pem)).expect("seed key"));
        if let Some(private) = &private {
            // The fixed material must let a real bundle through, or the fuzzer never gets
            // past the first failed check.
            let report = private.verify(&root_bundle, ArtifactInput::Bytes(&artifact), &keyless);
            assert!(report.verified, "seed bundle rejected: {:?}", report.first_failure());
        }
        Fixed {
            artifact,
            root_bundle,
            production: Verifier::new(production).expect("production verifier"),
            private,
            keyless,
            key,
        }
    })
}

fn verify_all_ways(verifier: &Verifier, bundle: &[u8], policy: &Policy, artifact: &[u8]) {
    let report = verifier.verify(bundle, ArtifactInput::Bytes(artifact), policy);
    // A report is verified exactly when no check failed.
    assert_eq!(report.verified, report.first_failure().is_none());
    if let Some(digest) = vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, artifact) {
        let _ = verifier.verify(bundle, ArtifactInput::Digest(digest), policy);
    }
    let mut reader = artifact;
    let _ = verifier.verify(bundle, ArtifactInput::Reader(&mut reader), policy);
    // As a cosign `.att` layer's bundle, whose envelope's logged bytes are known (an `intoto`
    // 0.0.1 entry hashes them): here, the bundle's own envelope written back.
    let envelope = serde_json::from_slice::<serde_json::Value>(bundle)
        .ok()
        .and_then(|b| serde_json::to_vec(b.get("dsseEnvelope")?).ok())
        .unwrap_or_default();
    let _ = verifier.verify_with_logged_envelope(
        bundle,
        &envelope,
        ArtifactInput::Bytes(artifact),
        policy,
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let fixed = fixed();
    match selector {
        0 => {
            if let Ok(trust) = TrustMaterial::from_trusted_root_json(rest, "fuzz") {
                let _ = trust.summary();
                if let Ok(verifier) = Verifier::new(trust) {
                    verify_all_ways(&verifier, &fixed.root_bundle, &fixed.keyless, &fixed.artifact);
                }
            }
        }
        1 => {
            if let Ok(trust) = TrustMaterial::from_trust_config_json(rest, "fuzz") {
                let _ = trust.summary();
                let _ = Verifier::new(trust);
            }
        }
        2 => {
            if let Some(key) = &fixed.key {
                verify_all_ways(&fixed.production, rest, key, &fixed.artifact);
                if let Some(private) = &fixed.private {
                    verify_all_ways(private, rest, key, &fixed.artifact);
                }
            }
        }
        _ => {
            verify_all_ways(&fixed.production, data, &fixed.keyless, &fixed.artifact);
            if let Some(private) = &fixed.private {
                verify_all_ways(private, data, &fixed.keyless, &fixed.artifact);
            }
        }
    }
});

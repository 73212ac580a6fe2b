//! Fuzzes what `vouch sign`, `vouch attest` and `vouch key` read from files: a managed key
//! (PEM, maybe encrypted PKCS#8), a signing config or trust configuration, and an in-toto
//! statement given to `vouch attest --statement`. Any bytes give a value or an error, never a
//! panic.
//!
//! The first byte chooses: `0`, the rest is a key file (tried with a passphrase and without);
//! `1`, a signing config; `2`, a trust configuration; anything else, the whole input is a
//! statement.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_sigstore::key::ManagedKey;
use vouch_sigstore::{Services, SigningConfig, sign::statement_subject_digest};

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((0, rest)) => {
            let _ = ManagedKey::from_pem(rest, Some(b"fuzz passphrase"), "fuzz.key");
            let _ = ManagedKey::from_pem(rest, None, "fuzz.key");
        }
        Some((1, rest)) => {
            if let Ok(config) = SigningConfig::from_json(rest, "fuzz.json") {
                for version in [None, Some(1), Some(2), Some(3)] {
                    let _ = Services::select(&config, version);
                }
            }
        }
        Some((2, rest)) => {
            if let Ok(config) = SigningConfig::from_trust_config_json(rest, "fuzz.json") {
                let _ = Services::select(&config, None);
            }
        }
        _ => {
            let _ = statement_subject_digest(data);
        }
    }
});

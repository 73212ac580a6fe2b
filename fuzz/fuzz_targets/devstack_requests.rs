//! Fuzzes the devstack's request parsers: any bytes as a Rekor v1 proposed entry (first byte
//! `0`), a Rekor v2 `CreateEntryRequest` (first byte `2`), a C2SP tlog-tiles path (first byte
//! `3`) or a Fulcio signing-certificate request carrying a valid identity token (any other first
//! byte) give a result or a refusal, never a panic.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_devstack::Shared;
use vouch_devstack::ca::Authorities;
use vouch_devstack::material::ServiceKeys;
use vouch_devstack::oidc::{Subject, TokenRequest};

const NOW: i64 = 1_700_000_100;

struct Fixed {
    shared: Shared,
    token: String,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vouch-fuzz-devstack-{}", std::process::id()));
        let shared = Shared {
            base_url: "http://127.0.0.1:1".to_owned(),
            state_dir: dir.clone(),
            created: NOW - 100,
            authorities: Authorities::load_or_create(&dir, NOW - 100).expect("authorities"),
            keys: ServiceKeys::load_or_generate(&dir).expect("keys"),
            logs: vouch_devstack::rekor::Logs::open(&dir).expect("logs"),
        };
        // A valid token, so that the fuzzer reaches the key and CSR parsers behind it.
        let token = vouch_devstack::oidc::mint(
            &shared.keys.oidc,
            &shared.base_url,
            &TokenRequest {
                subject: Subject::Email("fuzz@example.com".to_owned()),
                ttl: 600,
                claims: BTreeMap::new(),
            },
            NOW,
        )
        .expect("token");
        Fixed { shared, token }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let fixed = fixed();
    if selector == 0 {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(rest) {
            let _ = vouch_devstack::rekor::kinds::canonicalize(&value);
        }
    } else if selector == 2 {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(rest) {
            if let Ok(entry) = vouch_devstack::rekor::kinds_v2::canonicalize(&value) {
                // Whatever is accepted fits an entry bundle.
                assert!(entry.canonical.body.len() <= vouch_devstack::rekor::kinds_v2::MAX_BODY);
            }
        }
    } else if selector == 3 {
        if let Ok(path) = std::str::from_utf8(rest) {
            if let Ok(tile) = vouch_devstack::rekor::tiles::TilePath::parse(path) {
                assert!((1..=256).contains(&tile.width()));
            }
        }
    } else {
        let _ = vouch_devstack::fulcio::create_signing_certificate(
            &fixed.shared,
            rest,
            Some(&fixed.token),
            NOW,
        );
    }
});

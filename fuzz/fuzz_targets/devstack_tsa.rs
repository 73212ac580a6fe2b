//! Fuzzes the devstack's timestamp authority: any bytes as a DER `TimeStampReq` give a signed
//! reply or an error, never a panic.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vouch_devstack::ca::Authorities;
use vouch_devstack::tsa::{Issue, respond};

fn authorities() -> &'static Authorities {
    static CA: OnceLock<Authorities> = OnceLock::new();
    CA.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vouch-fuzz-tsa-{}", std::process::id()));
        Authorities::load_or_create(&dir, 1_700_000_000).expect("test authorities")
    })
}

fuzz_target!(|data: &[u8]| {
    let ca = authorities();
    let issue = Issue {
        now: Duration::from_secs(1_700_000_100),
        serial: [1; 16],
    };
    let _ = respond(data, &ca.tsa_leaf, &ca.tsa_root, issue);
});

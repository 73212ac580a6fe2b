//! Fuzzes digest string parsing (SRI, `alg:hex`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_digest::Digest;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(d) = Digest::from_sri(s) {
            assert_eq!(Digest::from_sri(&d.to_sri()).ok(), Some(d));
        }
        let _ = Digest::from_prefixed(s);
        let _ = Digest::from_sri_list(s);
    }
});

//! Fuzzes `vouch sbom check` without schemas: any bytes give a report or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vouch_sbom::check::check("fuzz.json", data, None);
});

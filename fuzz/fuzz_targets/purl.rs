//! Fuzzes package URL parsing: parsing never panics, and what parses prints to a string that
//! parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_purl::PackageUrl;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(p) = s.parse::<PackageUrl>()
    {
        let again: PackageUrl = p.to_string().parse().expect("canonical form must parse");
        assert_eq!(again, p);
    }
});

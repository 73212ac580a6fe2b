//! Differential fuzzing of the fast reader of lockfile TOML: wherever it reads a text, it must
//! read the same values as the `toml` crate, the general parser it stands in front of, and it
//! must never read a text that the `toml` crate rejects.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert_ne!(
            vouch_lockfile::toml_fast_path_agrees(text),
            Some(false),
            "the fast path reads {text:?} differently from the toml crate"
        );
    }
});

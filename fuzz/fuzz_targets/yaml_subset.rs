//! Differential fuzzing of the fast reader of lockfile YAML: wherever it reads a text, it must
//! read the same values as `serde_norway`, the general parser it stands in front of.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert_ne!(
            vouch_lockfile::yaml_fast_path_agrees(text),
            Some(false),
            "the fast path reads {text:?} differently from serde_norway"
        );
    }
});

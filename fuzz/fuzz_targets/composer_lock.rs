//! Fuzzes the `composer.lock` parser: any bytes give an inventory or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_lockfile::{Format, parse_bytes};

fuzz_target!(|data: &[u8]| {
    let _ = parse_bytes(Format::ComposerLock, "composer.lock", data);
});

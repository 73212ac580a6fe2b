//! Fuzzes `vouch lock check`: the first byte picks a lockfile format (or Go's module zip
//! hash), the bytes up to the first NUL are the lockfile and the rest is the manifest beside it.
//! Any input gives findings or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_lockfile::check::{CheckOptions, check_inventory, check_manifest, go_dirhash_zip};
use vouch_lockfile::{ALL_FORMATS, Input, parse};

fuzz_target!(|data: &[u8]| {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let Some(format) = ALL_FORMATS.get(usize::from(*selector) % (ALL_FORMATS.len() + 1)) else {
        let _ = go_dirhash_zip(std::io::Cursor::new(rest));
        return;
    };
    let (lock, manifest) = match rest.iter().position(|b| *b == 0) {
        Some(i) => {
            let (lock, tail) = rest.split_at(i);
            (lock, tail.get(1..))
        }
        None => (rest, None),
    };
    let name = format.file_names().first().copied().unwrap_or("lockfile");
    let siblings = |_: &str| manifest.map(|m| Ok(m.to_vec()));
    let input = Input {
        file: name,
        bytes: lock,
        siblings: &siblings,
    };
    let options = CheckOptions {
        allowed_hosts: vec!["*.example.com".to_owned()],
        ..CheckOptions::default()
    };
    if let Ok(inv) = parse(*format, &input) {
        let _ = check_inventory(*format, name, &inv, &options);
        let _ = check_manifest(*format, &input, &inv);
    }
});

//! Fuzzes every image cataloger: any bytes, as the content of a file a cataloger reads, give
//! findings or an error, never a panic.
//!
//! The first byte chooses the file (its value modulo the number of [`FILES`]); the rest is its
//! content, handed to every cataloger that wants the file, as the layer reader would.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_image::catalog::{self, Cataloger, FileInfo, Findings};

/// Paths (and modes) the catalogers want: one or more per cataloger. The order is part of the
/// seed corpus's format (each seed's first byte indexes it), so add at the end only.
const FILES: &[(&str, u32)] = &[
    ("var/lib/dpkg/status", 0o644),
    ("lib/apk/db/installed", 0o644),
    ("var/lib/rpm/rpmdb.sqlite", 0o644),
    ("var/lib/rpm/Packages", 0o644),
    ("var/lib/rpm/Packages.db", 0o644),
    // Executable: the Go build information and cargo-auditable ELF readers.
    ("usr/bin/app", 0o755),
    ("app.jar", 0o644),
    ("usr/lib/python3/site-packages/x-1.dist-info/METADATA", 0o644),
    ("node_modules/x/package.json", 0o644),
    ("vendor/composer/installed.json", 0o644),
    ("specifications/x-1.gemspec", 0o644),
    ("app.deps.json", 0o644),
    ("etc/os-release", 0o644),
    ("package-lock.json", 0o644),
    ("var/lib/dpkg/status.d/x", 0o644),
    ("usr/lib/python3/site-packages/x.egg-info/PKG-INFO", 0o644),
];

fn catalogers() -> &'static [Box<dyn Cataloger>] {
    static ALL: OnceLock<Vec<Box<dyn Cataloger>>> = OnceLock::new();
    ALL.get_or_init(catalog::all)
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, content)) = data.split_first() else {
        return;
    };
    let Some(&(path, mode)) = FILES.get(usize::from(choice) % FILES.len()) else {
        return;
    };
    let file = FileInfo {
        path,
        size: content.len() as u64,
        mode,
    };
    let mut wanted = false;
    for cataloger in catalogers() {
        if !cataloger.wants(&file) {
            continue;
        }
        wanted = true;
        let mut out = Findings::default();
        let mut reader = content;
        if cataloger.catalog(&file, &mut reader, &mut out).is_ok() {
            std::hint::black_box(&out);
        }
    }
    // A list entry no cataloger wants would fuzz nothing; the executable needs 64 bytes.
    assert!(wanted || file.size < 64, "no cataloger wants {path}");
});

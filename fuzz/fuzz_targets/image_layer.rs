//! Fuzzes the image layer reader: any bytes, read as a plain, gzip or zstd tar layer and handed
//! to every cataloger, give a layer record or an error, never a panic, and stay within the
//! entry and decompression limits.
//!
//! The first byte chooses the compression: `0` sniffs it from the magic bytes (as for
//! `docker save` archives), `1` a plain tar, `2` gzip, `3` zstd (the value modulo 4). The rest
//! is the layer.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_image::catalog::{self, Cataloger};
use vouch_image::{Limits, scan_layer};
use vouch_oci::model::Compression;

/// Small limits: the fuzzer should hit them, not exhaust memory or time getting there.
const LIMITS: Limits = Limits {
    max_entries: 512,
    max_decompressed_bytes: 8 << 20,
};

fn catalogers() -> &'static [Box<dyn Cataloger>] {
    static ALL: OnceLock<Vec<Box<dyn Cataloger>>> = OnceLock::new();
    ALL.get_or_init(catalog::all)
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, mut layer)) = data.split_first() else {
        return;
    };
    let compression = match choice % 4 {
        0 => None,
        1 => Some(Compression::None),
        2 => Some(Compression::Gzip),
        _ => Some(Compression::Zstd),
    };
    if let Ok(record) = scan_layer(&mut layer, compression, &LIMITS, catalogers()) {
        assert!(record.entries <= LIMITS.max_entries, "entry limit not enforced");
        assert!(
            record.decompressed_bytes <= LIMITS.max_decompressed_bytes,
            "decompression limit not enforced"
        );
        for package in record.packages() {
            std::hint::black_box(package);
        }
        for path in record.catalogued_paths() {
            std::hint::black_box(path);
        }
    }
});

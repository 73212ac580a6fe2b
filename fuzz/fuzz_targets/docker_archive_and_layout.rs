//! Fuzzes the local image sources: any bytes, as an OCI layout's `index.json` or as a
//! `docker save` archive, open to an image (which is then scanned) or give an error, never a
//! panic.
//!
//! The first byte chooses (its value modulo 4): `0`, the rest is `index.json` of a layout
//! opened without a tag; `1`, the same opened with the tag `latest`; `2`, the rest is a
//! `docker save` tar archive opened without a selection; `3`, the same opened as its image `@1`,
//! and then as the one tagged `app:latest`. The file is written into a temporary directory made once per
//! process; an image that opens is scanned with small limits, for every platform.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_image::source::archive::DockerArchive;
use vouch_image::source::oci::OciLayout;
use vouch_image::{ImageSource, Limits, PlatformChoice, ScanOptions, Target, scan};

fn workdir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Kept for the life of the process: one directory, rewritten for every input.
        tempfile::Builder::new()
            .prefix("vouch-fuzz-source-")
            .tempdir()
            .expect("temporary directory")
            .keep()
    })
}

fn options() -> &'static ScanOptions {
    static OPTIONS: OnceLock<ScanOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| ScanOptions {
        platform: PlatformChoice::All,
        limits: Limits {
            max_entries: 512,
            max_decompressed_bytes: 8 << 20,
        },
        ..ScanOptions::default()
    })
}

fn exercise(source: &dyn ImageSource) {
    std::hint::black_box(source.info());
    if let Ok(root) = source.root() {
        std::hint::black_box(root);
    }
    if let Ok(images) = scan(Target::Image(source), options()) {
        std::hint::black_box(images);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let dir = workdir();
    match choice % 4 {
        0 | 1 => {
            std::fs::write(dir.join("index.json"), rest).expect("write index.json");
            let tag = (choice % 4 == 1).then_some("latest");
            if let Ok(layout) = OciLayout::open(dir, tag) {
                exercise(&layout);
            }
        }
        _ => {
            let path = dir.join("archive.tar");
            std::fs::write(&path, rest).expect("write archive.tar");
            let selections: &[Option<&str>] = if choice % 4 == 3 {
                &[Some("@1"), Some("app:latest")]
            } else {
                &[None]
            };
            for &select in selections {
                if let Ok(archive) = DockerArchive::open(&path, select) {
                    exercise(&archive);
                }
            }
        }
    }
});

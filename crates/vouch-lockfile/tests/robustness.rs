//! Bad input never panics: every lockfile fixture (and small corpus file) is cut, spliced and
//! corrupted in deterministic ways, and each parser must return an inventory or an error that
//! names the file. This runs on the stable toolchain in every test run; the cargo-fuzz targets
//! under `fuzz/` search further.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use vouch_lockfile::{Format, parse_bytes};

fn inputs() -> Vec<(Format, PathBuf)> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")];
    let shared = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let corpus = shared.join("corpus/lockfiles");
    if corpus.is_dir() {
        dirs.push(corpus);
    } else {
        eprintln!("SKIPPED: corpus not found; mutating the crate's own fixtures only");
    }
    let mut out = Vec::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.unwrap();
            let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            if entry.file_type().is_file()
                && size <= 64 * 1024
                && let Some(f) = Format::detect(entry.path())
            {
                out.push((f, entry.path().to_path_buf()));
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutations(bytes: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // Truncations at 24 places.
    for i in 0..24 {
        out.push(bytes[..bytes.len() * i / 24].to_vec());
    }
    // Single-byte corruptions with syntax characters.
    const NASTY: &[u8] = b"\"{}[]:,=#\n\\'@/ \t\x00\xff-.0";
    for _ in 0..48 {
        let mut b = bytes.to_vec();
        if !b.is_empty() {
            let at = rng.below(b.len());
            b[at] = NASTY[rng.below(NASTY.len())];
        }
        out.push(b);
    }
    // Deleted and duplicated lines.
    let lines: Vec<&[u8]> = bytes.split(|c| *c == b'\n').collect();
    for _ in 0..16 {
        let skip = rng.below(lines.len());
        let dup = rng.below(lines.len());
        let mut b = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if i != skip {
                b.extend_from_slice(l);
                b.push(b'\n');
            }
            if i == dup {
                b.extend_from_slice(l);
                b.push(b'\n');
            }
        }
        out.push(b);
    }
    out
}

#[test]
fn mutated_lockfiles_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut cases = 0;
    for (format, path) in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        for m in mutations(&bytes, &mut rng) {
            cases += 1;
            let shown = path.file_name().unwrap().to_string_lossy().into_owned();
            let result = std::panic::catch_unwind(|| parse_bytes(format, &shown, &m));
            match result {
                Err(_) => panic!(
                    "{} panicked on a mutated input; reproduce with this input:\n{}",
                    path.display(),
                    String::from_utf8_lossy(&m)
                ),
                Ok(Err(e)) => assert_eq!(e.file, shown, "error must name the file: {e}"),
                Ok(Ok(_)) => {}
            }
        }
    }
    eprintln!("robustness: {cases} mutated inputs parsed without a panic");
    assert!(cases > 0);
}

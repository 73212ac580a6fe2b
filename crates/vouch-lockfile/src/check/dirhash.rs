//! Go's `h1:` hashes, computed as `golang.org/x/mod/sumdb/dirhash` computes them.
//!
//! `Hash1` (<https://pkg.go.dev/golang.org/x/mod/sumdb/dirhash#Hash1>): sort the file names
//! (bytewise), and for each write the line `"%x  %s\n"` (the lowercase hex SHA-256 of the
//! file's content, two spaces, the name) into a second SHA-256; the hash is `h1:` and the
//! standard base64 of that digest. For a module zip (`HashZip`) the names are the zip's entry
//! names as stored (`module@version/path`); for a `go.mod` (`HashGoMod`) the one name is
//! `go.mod`.

use std::io::{Read, Seek};

use base64::Engine as _;
use vouch_digest::{Algorithm, hash_bytes, hash_reader};

/// Most entries read from one module zip (Go itself caps a module zip at 500 MB).
const MAX_ZIP_ENTRIES: usize = 1_000_000;
/// Most bytes decompressed from one module zip.
const MAX_ZIP_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Why a module zip could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirhashError {
    /// The zip is unreadable or corrupt.
    #[error("not a readable zip: {0}")]
    Zip(String),
    /// An entry name holds a newline, which Go refuses too.
    #[error("entry name `{0}` holds a newline")]
    Newline(String),
    /// The zip exceeds vouch's limits.
    #[error("more than {0} entries or bytes")]
    TooLarge(u64),
}

/// The `h1:` hash of a module zip.
pub fn go_dirhash_zip<R: Read + Seek>(reader: R) -> Result<String, DirhashError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| DirhashError::Zip(e.to_string()))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(DirhashError::TooLarge(MAX_ZIP_ENTRIES as u64));
    }
    let mut lines: Vec<(String, String)> = Vec::with_capacity(zip.len());
    let mut budget = MAX_ZIP_BYTES;
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| DirhashError::Zip(e.to_string()))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if name.contains('\n') {
            return Err(DirhashError::Newline(name));
        }
        let mut limited = entry.take(budget + 1);
        let mut counted = Counting {
            inner: &mut limited,
            n: 0,
        };
        let digest = hash_reader(Algorithm::Sha256, &mut counted)
            .map_err(|e| DirhashError::Zip(e.to_string()))?;
        if counted.n > budget {
            return Err(DirhashError::TooLarge(MAX_ZIP_BYTES));
        }
        budget -= counted.n;
        lines.push((name, digest.hex().to_owned()));
    }
    lines.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(hash1(lines.iter().map(|(n, h)| (n.as_str(), h.as_str()))))
}

/// The `h1:` hash of a `go.mod` file's bytes (`go.sum`'s `/go.mod` lines).
pub fn go_hash_mod(bytes: &[u8]) -> String {
    let hex = hash_bytes(Algorithm::Sha256, bytes)
        .map(|d| d.hex().to_owned())
        .unwrap_or_default();
    hash1([("go.mod", hex.as_str())].into_iter())
}

/// `Hash1` over (name, hex SHA-256) pairs already in sorted order.
fn hash1<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut summary = String::new();
    for (name, hex) in files {
        summary.push_str(hex);
        summary.push_str("  ");
        summary.push_str(name);
        summary.push('\n');
    }
    let digest = hash_bytes(Algorithm::Sha256, summary.as_bytes())
        .and_then(|d| vouch_digest::from_hex(d.hex()))
        .unwrap_or_default();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

struct Counting<'a, R> {
    inner: &'a mut R,
    n: u64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_hash_matches_go() {
        // go.sum of golang.org/x/text v0.3.0: the go.mod is the single line below... the
        // published value cannot be fetched offline, so this pins the construction instead:
        // sha256("module m\n") then Hash1 over one line.
        let h = go_hash_mod(b"module m\n");
        let inner = hash_bytes(Algorithm::Sha256, b"module m\n").unwrap();
        let line = format!("{}  go.mod\n", inner.hex());
        let outer = hash_bytes(Algorithm::Sha256, line.as_bytes()).unwrap();
        assert_eq!(h, format!("h1:{}", outer.to_base64()));
    }
}

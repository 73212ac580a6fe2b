//! Go's `h1:` hashes, computed as `golang.org/x/mod/sumdb/dirhash` computes them.
//!
//! `Hash1` (<https://pkg.go.dev/golang.org/x/mod/sumdb/dirhash#Hash1>): sort the file names
//! (bytewise), and for each write the line `"%x  %s\n"` (the lowercase hex SHA-256 of the
//! file's content, two spaces, the name) into a second SHA-256; the hash is `h1:` and the
//! standard base64 of that digest. For a module zip (`HashZip`) the names are the zip's entry
//! names as stored (`module@version/path`); for a `go.mod` (`HashGoMod`) the one name is
//! `go.mod`.
//!
//! "As stored" means what Go's `archive/zip` reads: the file name field of each central
//! directory header, as raw bytes. The `zip` crate instead reports the content of an Info-ZIP
//! Unicode Path extra field (APPNOTE 4.6.9) when one names the entry, which Go ignores; a zip
//! whose entry is `evil.go` to Go and `testdata/evil.go` to the `zip` crate would otherwise
//! hash like the genuine module while Go extracts and compiles something else. So the names
//! are read from the central directory here, and the `zip` crate only supplies the contents.

use std::io::{Read, Seek, SeekFrom};

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
    /// Two entries have one name. Go refuses to extract such a zip (`multiple entries for
    /// file`), so it is no module Go uses; its `HashZip` value would count the last entry twice.
    #[error("two entries have the same name, which Go refuses to extract")]
    DuplicateName,
}

/// The `h1:` hash of a module zip.
pub fn go_dirhash_zip<R: Read + Seek>(reader: R) -> Result<String, DirhashError> {
    let zip_err = |e: zip::result::ZipError| DirhashError::Zip(e.to_string());
    let mut zip = zip::ZipArchive::new(reader).map_err(zip_err)?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(DirhashError::TooLarge(MAX_ZIP_ENTRIES as u64));
    }
    // The `zip` crate keeps one entry per name (as it reports names): the others could not
    // even be hashed.
    if zip.has_duplicate_names() {
        return Err(DirhashError::DuplicateName);
    }
    // (central directory header offset, hex SHA-256 of the content)
    let mut contents: Vec<(u64, String)> = Vec::with_capacity(zip.len());
    let mut budget = MAX_ZIP_BYTES;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(zip_err)?;
        let central = entry.central_header_start();
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
        contents.push((central, digest.hex().to_owned()));
    }
    let mut reader = zip.into_inner();
    let mut lines: Vec<(Vec<u8>, String)> = Vec::with_capacity(contents.len());
    for (central, hex) in contents {
        let name = central_header_name(&mut reader, central)?;
        if name.contains(&b'\n') {
            return Err(DirhashError::Newline(
                String::from_utf8_lossy(&name).into_owned(),
            ));
        }
        lines.push((name, hex));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    // Names the `zip` crate saw as distinct can still be one to Go, through a Unicode Path
    // field that renamed one of them.
    if lines.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
        return Err(DirhashError::DuplicateName);
    }
    Ok(hash1(lines.iter().map(|(n, h)| (n.as_slice(), h.as_str()))))
}

/// The `h1:` hash of a `go.mod` file's bytes (`go.sum`'s `/go.mod` lines).
pub fn go_hash_mod(bytes: &[u8]) -> String {
    let hex = hash_bytes(Algorithm::Sha256, bytes)
        .map(|d| d.hex().to_owned())
        .unwrap_or_default();
    hash1([(b"go.mod".as_slice(), hex.as_str())].into_iter())
}

/// `Hash1` over (name, hex SHA-256) pairs already in sorted order. Names are bytes, written
/// as they are, as Go's `fmt.Fprintf("%s")` writes them.
fn hash1<'a>(files: impl Iterator<Item = (&'a [u8], &'a str)>) -> String {
    let mut summary = Vec::new();
    for (name, hex) in files {
        summary.extend_from_slice(hex.as_bytes());
        summary.extend_from_slice(b"  ");
        summary.extend_from_slice(name);
        summary.push(b'\n');
    }
    let digest = hash_bytes(Algorithm::Sha256, &summary)
        .and_then(|d| vouch_digest::from_hex(d.hex()))
        .unwrap_or_default();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The file name field of the central directory header at `offset`, as stored (APPNOTE
/// 4.3.12: a 4-byte signature, 24 bytes of fields, the 2-byte name length at offset 28, and
/// the name at offset 46).
fn central_header_name<R: Read + Seek>(
    reader: &mut R,
    offset: u64,
) -> Result<Vec<u8>, DirhashError> {
    let io = |e: std::io::Error| DirhashError::Zip(e.to_string());
    let mut signature = [0u8; 4];
    let mut fields = [0u8; 24];
    let mut name_len = [0u8; 2];
    reader.seek(SeekFrom::Start(offset)).map_err(io)?;
    reader.read_exact(&mut signature).map_err(io)?;
    if signature != *b"PK\x01\x02" {
        return Err(DirhashError::Zip(format!(
            "no central directory header at offset {offset}"
        )));
    }
    reader.read_exact(&mut fields).map_err(io)?;
    reader.read_exact(&mut name_len).map_err(io)?;
    reader.seek(SeekFrom::Current(16)).map_err(io)?;
    let mut name = vec![0u8; usize::from(u16::from_le_bytes(name_len))];
    reader.read_exact(&mut name).map_err(io)?;
    Ok(name)
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

//! RPM header blobs, as the package database stores them.
//!
//! Format: the header structure of the RPM file format
//! (<https://rpm-software-management.github.io/rpm/manual/format_v4.html>, "Header format";
//! <https://refspecs.linuxfoundation.org/LSB_5.0.0/LSB-Core-generic/LSB-Core-generic/pkgformat.html>).
//! A database record is a header without the 8-byte magic: big-endian `il` (index entries) and
//! `dl` (data bytes), `il` 16-byte entries (tag, type, offset, count), then the data store.

/// The tags this reader extracts.
pub(crate) mod tag {
    pub(crate) const NAME: u32 = 1000;
    pub(crate) const VERSION: u32 = 1001;
    pub(crate) const RELEASE: u32 = 1002;
    pub(crate) const EPOCH: u32 = 1003;
    pub(crate) const SIZE: u32 = 1009;
    pub(crate) const VENDOR: u32 = 1011;
    pub(crate) const LICENSE: u32 = 1014;
    pub(crate) const ARCH: u32 = 1022;
    pub(crate) const SOURCERPM: u32 = 1044;
}

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX` in `lib/header_internal.h`).
const MAX_TAGS: u32 = 0xffff;
const MAX_DATA: u32 = 0x0fff_ffff;

/// The fields of one installed package.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RpmHeader {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) epoch: Option<u32>,
    pub(crate) arch: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) source_rpm: Option<String>,
    pub(crate) vendor: Option<String>,
    pub(crate) size: Option<u32>,
}

/// Parses one header blob; the error says what is wrong.
pub(crate) fn parse(blob: &[u8]) -> Result<RpmHeader, String> {
    let il = be32(blob, 0).ok_or("header shorter than 8 bytes")?;
    let dl = be32(blob, 4).ok_or("header shorter than 8 bytes")?;
    if il == 0 || il > MAX_TAGS {
        return Err(format!(
            "header has {il} index entries (1 to {MAX_TAGS} allowed)"
        ));
    }
    if dl > MAX_DATA {
        return Err(format!(
            "header data of {dl} bytes (at most {MAX_DATA} allowed)"
        ));
    }
    // Both are bounded above, so this cannot overflow a u64.
    let need = 8 + u64::from(il) * 16 + u64::from(dl);
    if need > blob.len() as u64 {
        return Err(format!(
            "header needs {need} bytes for {il} entries and {dl} data bytes, has {}",
            blob.len()
        ));
    }
    let index_len = usize::try_from(il).map_err(|e| e.to_string())? * 16;
    let index = blob.get(8..8 + index_len).ok_or("index out of range")?;
    let data = blob
        .get(8 + index_len..8 + index_len + usize::try_from(dl).map_err(|e| e.to_string())?)
        .ok_or("data out of range")?;

    let mut h = RpmHeader::default();
    for entry in index.chunks_exact(16) {
        let (Some(tag), Some(ty), Some(offset), Some(count)) = (
            be32(entry, 0),
            be32(entry, 4),
            be32(entry, 8),
            be32(entry, 12),
        ) else {
            continue;
        };
        let text = |what: &str| -> Result<Option<String>, String> {
            if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
                return Err(format!("tag {tag} ({what}) has type {ty}, not a string"));
            }
            string_at(data, offset).map(Some).ok_or_else(|| {
                format!("tag {tag} ({what}) points at {offset}, outside the {dl}-byte data store")
            })
        };
        let int = |what: &str| -> Result<Option<u32>, String> {
            if ty != TYPE_INT32 || count == 0 {
                return Err(format!("tag {tag} ({what}) has type {ty}, not INT32"));
            }
            let at = usize::try_from(offset).map_err(|e| e.to_string())?;
            be32(data, at).map(Some).ok_or_else(|| {
                format!("tag {tag} ({what}) points at {offset}, outside the {dl}-byte data store")
            })
        };
        match tag {
            tag::NAME => h.name = text("NAME")?,
            tag::VERSION => h.version = text("VERSION")?,
            tag::RELEASE => h.release = text("RELEASE")?,
            tag::EPOCH => h.epoch = int("EPOCH")?,
            tag::ARCH => h.arch = text("ARCH")?,
            tag::LICENSE => h.license = text("LICENSE")?,
            tag::SOURCERPM => h.source_rpm = text("SOURCERPM")?,
            tag::VENDOR => h.vendor = text("VENDOR")?,
            tag::SIZE => h.size = int("SIZE")?,
            _ => {}
        }
    }
    Ok(h)
}

/// The NUL-terminated string at `offset` in `data` (lossy UTF-8: rpm does not promise an
/// encoding); `None` when the offset or the terminator is outside `data`.
fn string_at(data: &[u8], offset: u32) -> Option<String> {
    let rest = data.get(usize::try_from(offset).ok()?..)?;
    let end = rest.iter().position(|b| *b == 0)?;
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with `entries` (tag, type, offset, count) over `data`.
    fn blob(entries: &[(u32, u32, u32, u32)], data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        b.extend_from_slice(&(data.len() as u32).to_be_bytes());
        for (t, ty, o, c) in entries {
            for v in [t, ty, o, c] {
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn reads_strings_and_ints() {
        let data = b"bash\x005.2\x00\x00\x00\x00\x00\x02";
        let h = parse(&blob(
            &[(1000, 6, 0, 1), (1001, 6, 5, 1), (1003, 4, 10, 1)],
            data,
        ))
        .unwrap();
        assert_eq!(h.name.as_deref(), Some("bash"));
        assert_eq!(h.version.as_deref(), Some("5.2"));
        assert_eq!(h.epoch, Some(2));
    }

    #[test]
    fn rejects_bad_counts_and_offsets() {
        // Index count that would overflow 32-bit arithmetic.
        let mut b = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        b.extend_from_slice(&[0; 32]);
        assert!(parse(&b).unwrap_err().contains("index entries"));
        // Data length beyond the blob.
        let mut b = blob(&[(1000, 6, 0, 1)], b"x\0");
        b[4..8].copy_from_slice(&1000u32.to_be_bytes());
        assert!(parse(&b).unwrap_err().contains("needs"));
        // Offset outside the data store, and a string with no terminator.
        assert!(parse(&blob(&[(1000, 6, 99, 1)], b"x\0")).is_err());
        assert!(parse(&blob(&[(1000, 6, 0, 1)], b"xx")).is_err());
        // INT32 running past the end; wrong type.
        assert!(parse(&blob(&[(1003, 4, 2, 1)], b"\0\0\0\0")).is_err());
        assert!(parse(&blob(&[(1000, 4, 0, 1)], b"\0\0\0\0")).is_err());
        assert!(parse(&[0, 0, 0]).is_err());
        assert!(parse(&blob(&[], b"")).is_err());
    }
}

//! Where `.dep-v0` lies in PE and Mach-O executables. Both formats keep their section tables at
//! the front of the file, ahead of the sections' contents, so a stream is read once, front to
//! back: the headers first, then up to the section.
//!
//! - PE: the Microsoft PE/COFF specification. The MS-DOS header gives the PE signature's offset
//!   (`e_lfanew`, at 0x3c); `PE\0\0` is followed by the COFF file header (`NumberOfSections`
//!   at +2, `SizeOfOptionalHeader` at +16) and, after the optional header, the section table of
//!   40-byte entries (`Name[8]`, `VirtualSize`, `VirtualAddress`, `SizeOfRawData`,
//!   `PointerToRawData`, ...).
//! - Mach-O: `<mach-o/loader.h>`. The `mach_header` (28 bytes, 32 for 64-bit) gives `ncmds` and
//!   `sizeofcmds`; `LC_SEGMENT` and `LC_SEGMENT_64` load commands carry their `section` entries
//!   (`sectname[16]`, `segname[16]`, then address, size and file offset). cargo-auditable puts
//!   `.dep-v0` in the `__DATA` segment. Universal (fat) files are not read: their magic is also
//!   Java's class files', and container images hold Linux executables far more often.
//!
//! The parsers take the bytes read so far and say how many more they need, so that they never
//! read past the headers and are pure functions of their input.

use super::bytes::Endian;

/// The most header bytes read before the section table must have been found.
pub(crate) const MAX_HEADERS: usize = 16 << 20;

const SECTION: &[u8] = b".dep-v0";
const LC_SEGMENT: u32 = 0x1;
const LC_SEGMENT_64: u32 = 0x19;

/// An executable format whose section table is at the front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pe,
    MachO { is64: bool, big_endian: bool },
}

/// What the headers read so far tell.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Headers {
    /// The headers run to at least this many bytes from the start of the file.
    Need(usize),
    /// `.dep-v0`: its file offset and size.
    Found { offset: u64, size: u64 },
    /// The file has no `.dep-v0` section (or is not an executable of the format).
    Absent,
}

/// The format, from the first bytes of a file.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    match head.get(..4)? {
        [b'M', b'Z', _, _] => Some(Format::Pe),
        [0xce, 0xfa, 0xed, 0xfe] => Some(Format::MachO {
            is64: false,
            big_endian: false,
        }),
        [0xcf, 0xfa, 0xed, 0xfe] => Some(Format::MachO {
            is64: true,
            big_endian: false,
        }),
        [0xfe, 0xed, 0xfa, 0xce] => Some(Format::MachO {
            is64: false,
            big_endian: true,
        }),
        [0xfe, 0xed, 0xfa, 0xcf] => Some(Format::MachO {
            is64: true,
            big_endian: true,
        }),
        _ => None,
    }
}

/// Looks for `.dep-v0` in `head`, the first bytes of a file of `format` and `file_size`
/// bytes.
pub(crate) fn find(format: Format, head: &[u8], file_size: u64) -> Result<Headers, String> {
    let limit = usize::try_from(file_size)
        .unwrap_or(usize::MAX)
        .min(MAX_HEADERS);
    let headers = Bounds { head, limit };
    match format {
        Format::Pe => pe(&headers),
        Format::MachO { is64, big_endian } => macho(&headers, is64, Endian(big_endian)),
    }
}

/// The bytes read so far, and how far headers may run: the file's end or [`MAX_HEADERS`].
struct Bounds<'a> {
    head: &'a [u8],
    limit: usize,
}

impl Bounds<'_> {
    /// `Err` when the headers would end at `end`, past the limit; `Ok(Some(Need))` when past
    /// what was read.
    fn need(&self, end: Option<usize>, what: &str) -> Result<Option<Headers>, String> {
        match end {
            Some(end) if end > self.limit => Err(format!(
                "the {what} would end at byte {end}, past the end of the file or the {MAX_HEADERS} \
                 bytes of headers read"
            )),
            Some(end) if end > self.head.len() => Ok(Some(Headers::Need(end))),
            Some(_) => Ok(None),
            None => Err(format!("the {what} are out of range")),
        }
    }
}

fn pe(b: &Bounds<'_>) -> Result<Headers, String> {
    let le = Endian(false);
    // Until the PE signature is seen, a file that merely starts with `MZ` (an MS-DOS program,
    // or anything else) is not an error: it has no section table to find.
    if b.limit < 0x40 {
        return Ok(Headers::Absent);
    }
    if let Some(n) = b.need(Some(0x40), "MS-DOS header")? {
        return Ok(n);
    }
    let head = b.head;
    let lfanew = le.u32(head, 0x3c).ok_or("truncated MS-DOS header")?;
    let signature = usize::try_from(lfanew).map_err(|e| e.to_string())?;
    let Some(coff_end) = signature.checked_add(24).filter(|e| *e <= b.limit) else {
        return Ok(Headers::Absent);
    };
    if let Some(n) = b.need(Some(coff_end), "COFF header")? {
        return Ok(n);
    }
    if head.get(signature..signature + 4) != Some(b"PE\0\0") {
        return Ok(Headers::Absent);
    }
    let coff = signature + 4;
    let sections = usize::from(le.u16(head, coff + 2).ok_or("truncated COFF header")?);
    let optional = usize::from(le.u16(head, coff + 16).ok_or("truncated COFF header")?);
    let table = coff + 20 + optional;
    if let Some(n) = b.need(Some(table + sections * 40), "section table")? {
        return Ok(n);
    }
    for i in 0..sections {
        let entry = table + i * 40;
        let name = head
            .get(entry..entry + 8)
            .ok_or("truncated section table")?;
        if name.starts_with(SECTION) && name.get(SECTION.len()).is_none_or(|b| *b == 0) {
            let virtual_size = le.u32(head, entry + 8).ok_or("truncated section entry")?;
            let raw_size = le.u32(head, entry + 16).ok_or("truncated section entry")?;
            let raw_at = le.u32(head, entry + 20).ok_or("truncated section entry")?;
            // The raw data is padded to the file alignment; the virtual size is the content's.
            let size = if virtual_size == 0 {
                raw_size
            } else {
                virtual_size.min(raw_size)
            };
            return Ok(Headers::Found {
                offset: u64::from(raw_at),
                size: u64::from(size),
            });
        }
    }
    Ok(Headers::Absent)
}

fn macho(b: &Bounds<'_>, is64: bool, e: Endian) -> Result<Headers, String> {
    let header = if is64 { 32 } else { 28 };
    if let Some(n) = b.need(Some(header), "Mach-O header")? {
        return Ok(n);
    }
    let head = b.head;
    let ncmds = e.u32(head, 16).ok_or("truncated Mach-O header")?;
    let sizeofcmds = e.u32(head, 20).ok_or("truncated Mach-O header")?;
    let end = usize::try_from(sizeofcmds)
        .ok()
        .and_then(|s| s.checked_add(header));
    if let Some(n) = b.need(end, "load commands")? {
        return Ok(n);
    }
    let end = end.ok_or("the load commands are out of range")?;
    // (segment command size, offset of `nsects`, section entry size)
    let (segment, nsects_at, entry) = if is64 { (72, 64, 80) } else { (56, 48, 68) };
    let wanted = if is64 { LC_SEGMENT_64 } else { LC_SEGMENT };
    let mut at = header;
    for _ in 0..ncmds {
        let cmd = e
            .u32(head, at)
            .ok_or("a load command runs past `sizeofcmds`")?;
        let size = e
            .u32(head, at + 4)
            .ok_or("a load command runs past `sizeofcmds`")?;
        let size = usize::try_from(size).map_err(|e| e.to_string())?;
        let next = at
            .checked_add(size)
            .filter(|n| size >= 8 && *n <= end)
            .ok_or_else(|| format!("the load command at byte {at} has size {size}"))?;
        if cmd == wanted {
            let nsects = e
                .u32(head, at + nsects_at)
                .ok_or("truncated segment command")?;
            let nsects = usize::try_from(nsects).map_err(|e| e.to_string())?;
            let sections_end = nsects
                .checked_mul(entry)
                .and_then(|n| n.checked_add(at + segment));
            if sections_end.is_none_or(|s| s > next) {
                return Err(format!(
                    "the segment command at byte {at} holds {nsects} sections, more than its size"
                ));
            }
            for j in 0..nsects {
                let s = at + segment + j * entry;
                let name = head.get(s..s + 16).ok_or("truncated section entry")?;
                if name.starts_with(SECTION) && name.get(SECTION.len()) == Some(&0) {
                    let (size, offset) = if is64 {
                        (e.u64(head, s + 40), e.u32(head, s + 48))
                    } else {
                        (e.u32(head, s + 36).map(u64::from), e.u32(head, s + 40))
                    };
                    let (Some(size), Some(offset)) = (size, offset) else {
                        return Err("truncated section entry".into());
                    };
                    return Ok(Headers::Found {
                        offset: u64::from(offset),
                        size,
                    });
                }
            }
        }
        at = next;
    }
    Ok(Headers::Absent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_headers_ask_for_more_and_stop_at_the_bound() {
        assert_eq!(find(Format::Pe, b"MZ", 4096), Ok(Headers::Need(0x40)));
        assert_eq!(find(Format::Pe, b"MZ", 2), Ok(Headers::Absent));
        let mut dos = vec![0u8; 0x40];
        dos[..2].copy_from_slice(b"MZ");
        dos[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        assert_eq!(find(Format::Pe, &dos, 4096), Ok(Headers::Need(0x80 + 24)));
        // A signature offset past the file: not a PE file, not an error.
        assert_eq!(find(Format::Pe, &dos, 0x90), Ok(Headers::Absent));
        dos[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(find(Format::Pe, &dos, u64::MAX), Ok(Headers::Absent));
        let macho = Format::MachO {
            is64: true,
            big_endian: false,
        };
        let mut h = vec![0u8; 32];
        h[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(find(macho, &h, u64::MAX).is_err(), "past the headers read");
        h[20..24].copy_from_slice(&100u32.to_le_bytes());
        assert_eq!(find(macho, &h, 4096), Ok(Headers::Need(132)));
        assert!(find(macho, &h, 64).is_err(), "past the end of the file");
    }
}

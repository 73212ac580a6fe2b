//! Rust executables built with `cargo auditable`: the dependency list in the `.dep-v0` section.
//!
//! Format: <https://github.com/rust-secure-code/cargo-auditable/blob/master/PARAMETERS.md> and
//! the `auditable-serde` schema
//! (<https://github.com/rust-secure-code/cargo-auditable/blob/master/cargo-auditable.schema.json>):
//! the section holds zlib-compressed JSON `{"packages": [{"name", "version", "source", "kind",
//! "dependencies": [indices], "root"}]}`. ELF: the System V gABI
//! (<https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html>, section header table and
//! `e_shstrndx`). PE and Mach-O files keep their section tables at the front and are read by
//! `front_sections`. The `dependencies` indices become the dependency graph under the root
//! crate.
//!
//! Section headers sit at the end of an ELF file, so a stream cannot be parsed front to back.
//! `.dep-v0` is not loaded at run time, and linkers place sections that are not loaded after
//! all loaded ones: the cataloger reads the program headers at the front, skips the loaded
//! segments without keeping them, and keeps only the tail of the file (in memory up to
//! [`MAX_TAIL_IN_MEMORY`], spooled to an anonymous temporary file above that, up to
//! [`MAX_TAIL`]), where the section and the section headers are.

use std::io::{Cursor, Read, Seek, SeekFrom, Write as _};

use serde::Deserialize;
use vouch_inventory::{Ecosystem, Package, PackageUrl, Scope, Source};

use super::bytes::Endian;
use super::{CatalogError, Cataloger, FileInfo, Findings, front_sections, props};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(AuditableCataloger)]
}

/// Property: `true` on the crate the executable was built from (`"root": true`).
pub const RUST_ROOT: &str = "vouch:rust-root";
/// Property: the `source` the audit data gives (`crates.io`, `git`, `local`, `registry`).
pub const CARGO_SOURCE: &str = "vouch:cargo-source";

/// The part of a file after its loaded segments that is kept in memory.
pub const MAX_TAIL_IN_MEMORY: u64 = 8 << 20;
/// The most of a file's tail that is kept at all (debug information can be large).
pub const MAX_TAIL: u64 = 1 << 30;
/// Largest compressed `.dep-v0` section read.
const MAX_SECTION: u64 = 8 << 20;
/// Most bytes the section may decompress to.
const MAX_JSON: u64 = 8 << 20;
/// Most section headers read.
const MAX_SECTIONS: u64 = 65_536;
/// Most program headers read.
const MAX_PROGRAM_HEADERS: u64 = 4096;
/// Largest program or section header entry accepted (the gABI's are 32 to 64 bytes).
const MAX_ENTRY_SIZE: u16 = 256;
/// Largest section name table read.
const MAX_SHSTRTAB: u64 = 1 << 20;
/// Most packages accepted.
const MAX_PACKAGES: usize = 100_000;
/// The section name.
const SECTION: &[u8] = b".dep-v0";

/// Finds Rust crates in executables built with `cargo auditable`.
#[derive(Debug, Default)]
pub struct AuditableCataloger;

impl Cataloger for AuditableCataloger {
    fn name(&self) -> &'static str {
        "rust-cargo-auditable"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        // Windows image layers do not always carry execute bits: PE files go by their name too.
        let name = file.file_name().to_ascii_lowercase();
        (file.is_executable() || name.ends_with(".exe") || name.ends_with(".dll"))
            && file.size >= 64
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let shown = file.path_display();
        let malformed = |message: String| CatalogError::Malformed {
            path: file.path_display(),
            line: None,
            message,
        };
        let io = |source| CatalogError::Io {
            path: file.path_display(),
            source,
        };
        let mut stream = Stream {
            inner: content.take(file.size),
            pos: 0,
        };
        let mut ident = [0u8; 64];
        let read = read_full(&mut stream, &mut ident).map_err(io)?;
        let ident_read = ident.get(..read).unwrap_or_default();
        if let Some(format) = front_sections::detect(ident_read) {
            return match read_front_section(format, ident_read, &mut stream, file.size) {
                Ok(Some(compressed)) => record(&compressed, &shown, self.name(), out),
                Ok(None) => Ok(()),
                Err(Failure::Io(e)) => Err(io(e)),
                Err(Failure::Malformed(m)) => Err(malformed(m)),
            };
        }
        if read < 64 || !ident.starts_with(b"\x7fELF") {
            return Ok(());
        }
        let Some(header) = Header::parse(&ident) else {
            // An ELF this reader does not understand (bad class or data byte) has no audit data
            // it could find; say nothing rather than call every odd file malformed.
            return Ok(());
        };
        if header.shoff == 0 {
            return Ok(());
        }
        // Program headers: where the loaded part of the file ends.
        let mut keep_from = header.shoff;
        if header.phoff >= 64 && header.phnum > 0 {
            if u64::from(header.phnum) > MAX_PROGRAM_HEADERS {
                return Err(malformed(format!("{} program headers", header.phnum)));
            }
            stream.skip_to(header.phoff).map_err(io)?;
            let len = u64::from(header.phnum) * u64::from(header.phentsize);
            let mut ph = vec![0u8; usize::try_from(len).unwrap_or(0)];
            if read_full(&mut stream, &mut ph).map_err(io)? < ph.len() {
                return Err(malformed(
                    "program headers run past the end of the file".into(),
                ));
            }
            let load_end = header.load_end(&ph);
            keep_from = keep_from.min(load_end.max(stream.pos));
        }
        keep_from = keep_from.max(stream.pos);
        if keep_from >= file.size {
            return Err(malformed(format!(
                "section headers at {} are past the end of the file ({} bytes)",
                header.shoff, file.size
            )));
        }
        let tail_len = file.size - keep_from;
        if tail_len > MAX_TAIL {
            out.warnings.push(format!(
                "{shown}: {tail_len} bytes after the loaded segments, more than the {MAX_TAIL} \
                 read for cargo-auditable data; not read"
            ));
            return Ok(());
        }
        stream.skip_to(keep_from).map_err(io)?;
        let mut tail = if tail_len <= MAX_TAIL_IN_MEMORY {
            let mut buf = Vec::with_capacity(usize::try_from(tail_len).unwrap_or(0));
            stream.read_to_end(&mut buf).map_err(io)?;
            Tail::Memory(Cursor::new(buf))
        } else {
            let mut f = tempfile::tempfile().map_err(io)?;
            std::io::copy(&mut stream, &mut f).map_err(io)?;
            f.flush().map_err(io)?;
            Tail::File(f)
        };
        let base = keep_from;
        let section = match find_section(&header, &mut tail, base) {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(()),
            Err(Find::Layout(what)) => {
                out.warnings.push(format!(
                    "{shown}: {what} lies inside a loaded segment; cargo-auditable data not read"
                ));
                return Ok(());
            }
            Err(Find::Malformed(message)) => return Err(malformed(message)),
        };
        let (offset, size) = section;
        if offset < base {
            out.warnings.push(format!(
                "{shown}: the `.dep-v0` section lies inside a loaded segment; \
                 cargo-auditable data not read"
            ));
            return Ok(());
        }
        if size > MAX_SECTION {
            return Err(malformed(format!(
                "`.dep-v0` is {size} bytes, more than the {MAX_SECTION} read"
            )));
        }
        let compressed = tail
            .read_at(offset - base, size)
            .map_err(|e| malformed(format!("`.dep-v0`: {e}")))?;
        record(&compressed, &shown, self.name(), out)
    }
}

/// Why a PE or Mach-O file's section was not read.
enum Failure {
    Io(std::io::Error),
    Malformed(String),
}

/// The compressed `.dep-v0` of a PE or Mach-O file, whose first bytes (`ident`) were read:
/// the headers are read up to the section table, then the stream is skipped to the section.
fn read_front_section<R: Read>(
    format: front_sections::Format,
    ident: &[u8],
    stream: &mut Stream<R>,
    file_size: u64,
) -> Result<Option<Vec<u8>>, Failure> {
    let mut head = ident.to_vec();
    let (offset, size) = loop {
        match front_sections::find(format, &head, file_size).map_err(Failure::Malformed)? {
            front_sections::Headers::Absent => return Ok(None),
            front_sections::Headers::Found { offset, size } => break (offset, size),
            front_sections::Headers::Need(len) => {
                let more = len.saturating_sub(head.len());
                let before = head.len();
                (&mut *stream)
                    .take(more as u64)
                    .read_to_end(&mut head)
                    .map_err(Failure::Io)?;
                if head.len() - before < more {
                    return Err(Failure::Malformed(format!(
                        "the headers run past the end of the file ({file_size} bytes)"
                    )));
                }
            }
        }
    };
    if size > MAX_SECTION {
        return Err(Failure::Malformed(format!(
            "`.dep-v0` is {size} bytes, more than the {MAX_SECTION} read"
        )));
    }
    if offset.checked_add(size).is_none_or(|end| end > file_size) {
        return Err(Failure::Malformed(format!(
            "`.dep-v0` ({size} bytes at {offset}) runs past the end of the file ({file_size} bytes)"
        )));
    }
    // The section normally follows the headers; what of it was read with them is kept.
    let mut section = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let end = usize::try_from(offset + size).unwrap_or(usize::MAX);
    if let Some(held) = head.get(start..end.min(head.len())) {
        section.extend_from_slice(held);
    }
    stream
        .skip_to(offset + section.len() as u64)
        .map_err(Failure::Io)?;
    let rest = size - section.len() as u64;
    (&mut *stream)
        .take(rest)
        .read_to_end(&mut section)
        .map_err(Failure::Io)?;
    if (section.len() as u64) < size {
        return Err(Failure::Malformed(format!(
            "`.dep-v0` ({size} bytes at {offset}) runs past the end of the file"
        )));
    }
    Ok(Some(section))
}

/// Inflates and reads the audit data, and records its packages and their dependency graph.
fn record(
    compressed: &[u8],
    shown: &str,
    cataloger: &str,
    out: &mut Findings,
) -> Result<(), CatalogError> {
    let malformed = |message: String| CatalogError::Malformed {
        path: shown.to_owned(),
        line: None,
        message,
    };
    let json = inflate(compressed).map_err(malformed)?;
    let audit: Audit = serde_json::from_slice(&json)
        .map_err(|e| malformed(format!("`.dep-v0` is not cargo-auditable JSON: {e}")))?;
    if audit.packages.len() > MAX_PACKAGES {
        return Err(malformed(format!("more than {MAX_PACKAGES} packages")));
    }
    let first = out.packages.len();
    let count = audit.packages.len();
    for (i, raw) in audit.packages.iter().enumerate() {
        out.packages.push(package(raw, shown, cataloger));
        // `dependencies` are indices into `packages`; one out of range or pointing at the
        // package itself is not an edge.
        out.edges.extend(
            raw.dependencies
                .iter()
                .filter(|&&d| d < count && d != i)
                .map(|&d| (first + i, first + d)),
        );
    }
    Ok(())
}

/// A stream that counts its position and can skip forward.
struct Stream<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Stream<R> {
    /// Reads and discards up to `offset` (no-op when already past it).
    fn skip_to(&mut self, offset: u64) -> std::io::Result<()> {
        if offset > self.pos {
            let n = offset - self.pos;
            std::io::copy(&mut (&mut *self).take(n), &mut std::io::sink())?;
        }
        Ok(())
    }
}

/// Fills `buf` as far as the stream allows; returns how much was read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The kept end of the file.
enum Tail {
    Memory(Cursor<Vec<u8>>),
    File(std::fs::File),
}

impl Tail {
    /// `len` bytes at `offset` (relative to the tail's start), or an error when they are not
    /// all there.
    fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        let r: &mut dyn ReadSeek = match self {
            Tail::Memory(c) => c,
            Tail::File(f) => f,
        };
        let end = r.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
        if offset.checked_add(len).is_none_or(|e| e > end) {
            return Err(format!(
                "{len} bytes at {offset} run past the end of the file"
            ));
        }
        r.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; usize::try_from(len).map_err(|e| e.to_string())?];
        r.read_exact(&mut buf).map_err(|e| e.to_string())?;
        Ok(buf)
    }
}

trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// The ELF header fields this reader needs.
struct Header {
    is64: bool,
    big_endian: bool,
    phoff: u64,
    shoff: u64,
    phentsize: u16,
    phnum: u16,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
}

impl Header {
    fn parse(b: &[u8; 64]) -> Option<Header> {
        let is64 = match b.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let big_endian = match b.get(5)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let e = Endian(big_endian);
        let h = if is64 {
            Header {
                is64,
                big_endian,
                phoff: e.u64(b, 0x20)?,
                shoff: e.u64(b, 0x28)?,
                phentsize: e.u16(b, 0x36)?,
                phnum: e.u16(b, 0x38)?,
                shentsize: e.u16(b, 0x3a)?,
                shnum: e.u16(b, 0x3c)?,
                shstrndx: e.u16(b, 0x3e)?,
            }
        } else {
            Header {
                is64,
                big_endian,
                phoff: u64::from(e.u32(b, 0x1c)?),
                shoff: u64::from(e.u32(b, 0x20)?),
                phentsize: e.u16(b, 0x2a)?,
                phnum: e.u16(b, 0x2c)?,
                shentsize: e.u16(b, 0x2e)?,
                shnum: e.u16(b, 0x30)?,
                shstrndx: e.u16(b, 0x32)?,
            }
        };
        // Entry sizes are checked against what the class needs, and bounded, so that a table's
        // size (entries × entry size) stays small.
        let (min_ph, min_sh) = if is64 { (56, 64) } else { (32, 40) };
        let ph_ok = h.phnum == 0 || (min_ph..=MAX_ENTRY_SIZE).contains(&h.phentsize);
        let sh_ok = h.shoff == 0 || (min_sh..=MAX_ENTRY_SIZE).contains(&h.shentsize);
        (ph_ok && sh_ok).then_some(h)
    }

    /// The end of the last `PT_LOAD` segment's file image.
    fn load_end(&self, ph: &[u8]) -> u64 {
        let e = Endian(self.big_endian);
        let mut end = 0u64;
        for entry in ph.chunks(usize::from(self.phentsize)) {
            let fields = if self.is64 {
                (e.u32(entry, 0), e.u64(entry, 8), e.u64(entry, 32))
            } else {
                (
                    e.u32(entry, 0),
                    e.u32(entry, 4).map(u64::from),
                    e.u32(entry, 16).map(u64::from),
                )
            };
            if let (Some(1), Some(offset), Some(filesz)) = fields {
                end = end.max(offset.saturating_add(filesz));
            }
        }
        end
    }

    /// (`sh_name`, `sh_offset`, `sh_size`) of a section header entry.
    fn section(&self, entry: &[u8]) -> Option<(u32, u64, u64)> {
        let e = Endian(self.big_endian);
        if self.is64 {
            Some((e.u32(entry, 0)?, e.u64(entry, 0x18)?, e.u64(entry, 0x20)?))
        } else {
            Some((
                e.u32(entry, 0)?,
                u64::from(e.u32(entry, 0x10)?),
                u64::from(e.u32(entry, 0x14)?),
            ))
        }
    }
}

/// Why `.dep-v0` was not found.
enum Find {
    /// A table the reader needs is in the part of the file that was not kept (a layout no
    /// common linker produces; not an error in the file).
    Layout(&'static str),
    /// The file breaks the ELF format.
    Malformed(String),
}

impl From<String> for Find {
    fn from(s: String) -> Self {
        Find::Malformed(s)
    }
}

impl From<&str> for Find {
    fn from(s: &str) -> Self {
        Find::Malformed(s.to_owned())
    }
}

/// Finds `.dep-v0`: its file offset and size, or `None` when the file has no such section.
fn find_section(h: &Header, tail: &mut Tail, base: u64) -> Result<Option<(u64, u64)>, Find> {
    let entsize = u64::from(h.shentsize);
    let rel = h
        .shoff
        .checked_sub(base)
        .ok_or(Find::Layout("the section header table"))?;
    // Extended numbering: with more than 0xff00 sections, the count is section 0's sh_size.
    let mut count = u64::from(h.shnum);
    let first = tail.read_at(rel, entsize)?;
    let (_, _, size0) = h.section(&first).ok_or("truncated section header")?;
    if count == 0 {
        count = size0;
    }
    if count > MAX_SECTIONS {
        return Err(format!("{count} sections, more than the {MAX_SECTIONS} read").into());
    }
    let table = tail.read_at(rel, count * entsize)?;
    let entries: Vec<&[u8]> = table.chunks(usize::from(h.shentsize)).collect();
    // SHN_XINDEX (0xffff): the index is in section 0's sh_link; such files have other sections
    // than a Rust executable's, so they are not read.
    let strtab = entries
        .get(usize::from(h.shstrndx))
        .and_then(|e| h.section(e))
        .ok_or("the section name table index is out of range")?;
    let (_, str_off, str_size) = strtab;
    if str_size > MAX_SHSTRTAB {
        return Err(format!("section name table of {str_size} bytes").into());
    }
    let names = tail.read_at(
        str_off
            .checked_sub(base)
            .ok_or(Find::Layout("the section name table"))?,
        str_size,
    )?;
    for entry in entries {
        let Some((name, offset, size)) = h.section(entry) else {
            continue;
        };
        let Some(at) = usize::try_from(name).ok().and_then(|n| names.get(n..)) else {
            continue;
        };
        if at.starts_with(SECTION) && at.get(SECTION.len()) == Some(&0) {
            return Ok(Some((offset, size)));
        }
    }
    Ok(None)
}

/// zlib-inflates at most [`MAX_JSON`] bytes; more is an error.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_JSON + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("`.dep-v0` is not zlib data: {e}"))?;
    if out.len() as u64 > MAX_JSON {
        return Err(format!(
            "`.dep-v0` decompresses to more than {MAX_JSON} bytes"
        ));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Audit {
    packages: Vec<RawPackage>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    root: bool,
    #[serde(default)]
    dependencies: Vec<usize>,
}

fn package(raw: &RawPackage, shown: &str, cataloger: &str) -> Package {
    let mut p = Package::new(Ecosystem::Cargo, raw.name.clone())
        .found_in(shown, None)
        .version(raw.version.clone());
    let source = raw.source.as_deref().unwrap_or("");
    // A purl `pkg:cargo/...` names a crates.io crate; other sources have no registry name.
    if source == "crates.io" {
        p.purl = PackageUrl::new("cargo", &raw.name)
            .and_then(|u| u.with_version(&raw.version))
            .ok();
        p.source = Source::Registry {
            url: Some("https://crates.io".to_owned()),
        };
    }
    if !source.is_empty() {
        p.properties
            .insert(CARGO_SOURCE.to_owned(), source.to_owned());
    }
    if raw.kind.as_deref() == Some("build") {
        p.scope = Scope::Dev;
    }
    if raw.root {
        p.properties.insert(RUST_ROOT.to_owned(), "true".to_owned());
    }
    p.properties
        .insert(props::CATALOGER.to_owned(), cataloger.to_owned());
    p
}

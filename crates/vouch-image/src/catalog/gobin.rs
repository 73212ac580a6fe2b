//! Go executables: the build information the Go linker embeds in every binary.
//!
//! Format: the `.go.buildinfo` blob that `debug/buildinfo` reads
//! (<https://pkg.go.dev/debug/buildinfo>, source at
//! <https://go.dev/src/debug/buildinfo/buildinfo.go>) and the module information text that
//! `runtime/debug.ParseBuildInfo` parses (<https://pkg.go.dev/runtime/debug#BuildInfo>). The
//! blob starts with the 14-byte magic `\xff Go buildinf:`, a pointer-size byte and a flags
//! byte, padded to 32 bytes. Since Go 1.18 (flag `0x2`) the Go version and the module
//! information follow inline as two uvarint-length-prefixed strings; the module information is
//! wrapped in 16-byte sentinels. Older binaries hold pointers into the data segment instead,
//! which a stream cannot follow: they are reported with a warning and skipped.
//!
//! The blob usually sits at the start of the data segment, which is not near the end of the
//! file but need not be near its start either. The cataloger therefore streams the whole file
//! through a small sliding window instead of reading it into memory.

use std::io::Read;

use vouch_inventory::{Ecosystem, Package, PackageUrl, Source};

use super::{CatalogError, Cataloger, FileInfo, Findings, props};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(GoBinaryCataloger)]
}

/// Property on the main module of a Go binary.
pub const GO_MAIN: &str = "vouch:go-main";
/// Property: the Go toolchain version that built a binary (`go1.22.1`).
pub const GO_VERSION: &str = "vouch:go-version";
/// Property: the main package's import path (`path` line).
pub const GO_MAIN_PACKAGE: &str = "vouch:go-main-package";
/// Prefix of the properties that record build settings (`vouch:go-build:GOOS`).
pub const GO_BUILD_PREFIX: &str = "vouch:go-build:";
/// Property: the module's `h1:` hash as the binary records it (a Go dirhash, not a hash of a
/// downloadable artifact, hence not in `hashes`; the same name the `go.sum` parser uses).
pub const GO_SUM_H1: &str = "vouch:go-sum-h1";
/// Property: `module@version` that a `replace` directive swapped for this module.
pub const GO_REPLACES: &str = "vouch:replaces";

/// The magic at the start of the build information blob.
const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Size of the blob's fixed header.
const HEADER_LEN: usize = 32;
/// Flag: the version and module information are inline after the header (Go 1.18+).
const FLAG_INLINE: u8 = 0x2;
/// Flag: the binary is big-endian (only matters for the pointer format).
const FLAG_BIG_ENDIAN: u8 = 0x1;
/// The longest Go version string accepted (`go1.22.1 X:boringcrypto` is ~25 bytes).
const MAX_VERSION_LEN: u64 = 1024;
/// The longest module information accepted; a binary with thousands of dependencies holds
/// a few hundred KiB.
const MAX_MODINFO_LEN: u64 = 4 << 20;
/// How much is read from the stream at a time.
const CHUNK: usize = 256 << 10;
/// Most `dep` lines accepted from one binary.
const MAX_DEPS: usize = 100_000;
/// The smallest file that can hold an executable header and the blob.
const MIN_SIZE: u64 = 64;

/// Finds Go modules in Go executables (ELF, Mach-O, PE).
#[derive(Debug, Default)]
pub struct GoBinaryCataloger;

impl Cataloger for GoBinaryCataloger {
    fn name(&self) -> &'static str {
        "go-binary"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.size >= MIN_SIZE
            && (file.is_executable() || file.file_name().to_ascii_lowercase().ends_with(".exe"))
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let io = |source| CatalogError::Io {
            path: file.path_display(),
            source,
        };
        let mut window = Window::new(content);
        window.fill_to(4).map_err(io)?;
        if !is_executable_format(window.buf.get(..4).unwrap_or_default()) {
            return Ok(());
        }
        let Some(found) = find_build_info(&mut window).map_err(io)? else {
            return Ok(());
        };
        match found {
            Found::PointerFormat => {
                out.warnings.push(format!(
                    "{}: Go binary built before Go 1.18 (pointer-format build information); \
                     its modules are not read",
                    file.path_display()
                ));
                Ok(())
            }
            Found::Inline { version, modinfo } => {
                let info = parse_modinfo(&modinfo).map_err(|message| CatalogError::Malformed {
                    path: file.path_display(),
                    line: None,
                    message,
                })?;
                packages(file, &version, &info, self.name(), out);
                Ok(())
            }
        }
    }
}

/// Whether `head` starts like an ELF, Mach-O (thin or fat) or PE file.
fn is_executable_format(head: &[u8]) -> bool {
    matches!(
        head,
        [0x7f, b'E', b'L', b'F', ..]
            | [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
            | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..]
            | [0xca, 0xfe, 0xba, 0xbe, ..]
            | [b'M', b'Z', ..]
    )
}

/// A window over a stream: bytes before `buf` have been dropped.
struct Window<'r> {
    reader: &'r mut dyn Read,
    buf: Vec<u8>,
    eof: bool,
}

impl<'r> Window<'r> {
    fn new(reader: &'r mut dyn Read) -> Self {
        Window {
            reader,
            buf: Vec::with_capacity(CHUNK),
            eof: false,
        }
    }

    /// Reads until the window holds at least `len` bytes or the stream ends.
    fn fill_to(&mut self, len: usize) -> std::io::Result<()> {
        while self.buf.len() < len && !self.eof {
            let want = (len - self.buf.len()).max(CHUNK);
            let before = self.buf.len();
            let n = (&mut *self.reader)
                .take(want as u64)
                .read_to_end(&mut self.buf)?;
            if n == 0 || self.buf.len() == before {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Drops the first `n` bytes of the window.
    fn drop_front(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }
}

/// What the search found.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// Go 1.18+ inline build information.
    Inline {
        /// The Go version (`go1.22.1`, possibly followed by ` X:experiment`).
        version: String,
        /// The module information text, sentinels removed (empty when not built in module mode).
        modinfo: String,
    },
    /// Pre-1.18 build information, which holds pointers a stream cannot follow.
    PointerFormat,
}

/// Scans the stream for the first magic that is followed by a valid header and strings; a
/// magic that is not (the `debug/buildinfo` package's own copy of it in read-only data, say)
/// is passed over.
fn find_build_info(w: &mut Window<'_>) -> std::io::Result<Option<Found>> {
    let mut pos = 0usize;
    loop {
        // Bytes before `pos` are searched: drop them now and then, so that the window stays
        // about one chunk long whatever the file's size.
        if pos >= CHUNK {
            w.drop_front(pos);
            pos = 0;
        }
        let hit = w
            .buf
            .get(pos..)
            .and_then(|rest| rest.iter().position(|b| *b == MAGIC[0]))
            .map(|i| i + pos);
        let Some(start) = hit else {
            if w.eof {
                return Ok(None);
            }
            // No magic byte in the window, so no magic starts in it: drop it all, read on.
            w.buf.clear();
            pos = 0;
            w.fill_to(CHUNK)?;
            continue;
        };
        w.fill_to(start.saturating_add(HEADER_LEN))?;
        if let Some(found) = parse_at(w, start)? {
            return Ok(Some(found));
        }
        pos = start + 1;
    }
}

/// Parses build information at offset `base` of the window; `None` when it is not one.
fn parse_at(w: &mut Window<'_>, base: usize) -> std::io::Result<Option<Found>> {
    let header = w.buf.get(base..).unwrap_or_default();
    if header.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Ok(None);
    }
    let (Some(&ptr_size), Some(&flags)) = (header.get(14), header.get(15)) else {
        return Ok(None);
    };
    if header.len() < HEADER_LEN
        || !matches!(ptr_size, 4 | 8)
        || flags & !(FLAG_INLINE | FLAG_BIG_ENDIAN) != 0
    {
        return Ok(None);
    }
    if flags & FLAG_INLINE == 0 {
        return Ok(Some(Found::PointerFormat));
    }
    let mut at = base + HEADER_LEN;
    let Some(version) = read_bytes(w, &mut at, MAX_VERSION_LEN)? else {
        return Ok(None);
    };
    let Ok(version) = String::from_utf8(version) else {
        return Ok(None);
    };
    if !(version.starts_with("go") || version.starts_with("devel")) {
        return Ok(None);
    }
    let Some(raw) = read_bytes(w, &mut at, MAX_MODINFO_LEN)? else {
        return Ok(None);
    };
    // The sentinels are binary; the text between them is UTF-8 (module paths and versions are
    // ASCII, build settings are quoted), so anything else is replaced rather than refused.
    let modinfo = String::from_utf8_lossy(strip_sentinels(&raw)).into_owned();
    Ok(Some(Found::Inline { version, modinfo }))
}

/// Reads a uvarint-length-prefixed string at `*at` in the window, advancing `*at`.
fn read_bytes(w: &mut Window<'_>, at: &mut usize, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    w.fill_to(at.saturating_add(10))?;
    let Some((len, used)) = uvarint(w.buf.get(*at..).unwrap_or_default()) else {
        return Ok(None);
    };
    if len > max {
        return Ok(None);
    }
    let start = *at + used;
    let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
    w.fill_to(end)?;
    let Some(bytes) = w.buf.get(start..end) else {
        return Ok(None);
    };
    let bytes = bytes.to_vec();
    *at = end;
    Ok(Some(bytes))
}

/// Decodes an unsigned LEB128 varint (Go's `binary.Uvarint`): value and bytes used.
fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().take(10).enumerate() {
        let low = u64::from(b & 0x7f);
        if i == 9 && *b > 1 {
            return None;
        }
        value |= low << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The linker wraps the module information in two 16-byte sentinels; `debug/buildinfo`
/// removes them when the text is long enough and ends with a newline before the second one,
/// and treats anything else as no module information.
fn strip_sentinels(raw: &[u8]) -> &[u8] {
    if raw.len() >= 33 && raw.get(raw.len() - 17) == Some(&b'\n') {
        raw.get(16..raw.len() - 16).unwrap_or_default()
    } else {
        &[]
    }
}

/// A module as the build information records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Module {
    path: String,
    version: String,
    sum: String,
    replace: Option<Box<Module>>,
    /// 1-based line in the module information.
    line: u32,
}

/// The parsed module information.
#[derive(Debug, Default, PartialEq, Eq)]
struct BuildInfo {
    path: String,
    main: Option<Module>,
    deps: Vec<Module>,
    settings: Vec<(String, String)>,
}

/// Parses the module information text (`runtime/debug.ParseBuildInfo`'s format: tab-separated
/// lines `path`, `mod`, `dep`, `=>` and `build`).
fn parse_modinfo(text: &str) -> Result<BuildInfo, String> {
    let mut info = BuildInfo::default();
    // Which module a `=>` line replaces: the main module or the last dep.
    let mut last_is_main = false;
    for (i, line) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let Some((key, rest)) = line.split_once('\t') else {
            if line.is_empty() {
                continue;
            }
            return Err(format!(
                "module information line {line_no}: no tab in {line:?}"
            ));
        };
        match key {
            "path" => info.path = rest.to_owned(),
            "mod" | "dep" => {
                let mut m = module_fields(rest, line_no)?;
                m.line = line_no;
                if key == "mod" {
                    info.main = Some(m);
                    last_is_main = true;
                } else {
                    if info.deps.len() >= MAX_DEPS {
                        return Err(format!("more than {MAX_DEPS} dependencies"));
                    }
                    info.deps.push(m);
                    last_is_main = false;
                }
            }
            "=>" => {
                let mut r = module_fields(rest, line_no)?;
                r.line = line_no;
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                match target {
                    Some(m) if m.replace.is_none() => m.replace = Some(Box::new(r)),
                    _ => {
                        return Err(format!(
                            "module information line {line_no}: replacement without a module"
                        ));
                    }
                }
            }
            "build" => {
                let (k, v) = build_setting(rest).ok_or_else(|| {
                    format!("module information line {line_no}: bad build setting")
                })?;
                info.settings.push((k, v));
            }
            // Lines this version does not know (`go` in some toolchains) are skipped, as Go does
            // not promise the set is closed.
            _ => {}
        }
    }
    Ok(info)
}

/// `path \t version [\t sum]`.
fn module_fields(rest: &str, line_no: u32) -> Result<Module, String> {
    let mut fields = rest.split('\t');
    let path = fields.next().unwrap_or_default();
    if path.is_empty() {
        return Err(format!(
            "module information line {line_no}: empty module path"
        ));
    }
    Ok(Module {
        path: path.to_owned(),
        version: fields.next().unwrap_or_default().to_owned(),
        sum: fields.next().unwrap_or_default().to_owned(),
        replace: None,
        line: line_no,
    })
}

/// `key=value`, where either may be a Go-quoted string when it holds spaces, tabs, quotes or
/// `=` (the key) / newlines (the value).
fn build_setting(rest: &str) -> Option<(String, String)> {
    let (key, after) = if rest.starts_with('"') {
        let (k, used) = unquote_prefix(rest)?;
        (k, rest.get(used..)?.strip_prefix('=')?)
    } else {
        let (k, v) = rest.split_once('=')?;
        (k.to_owned(), v)
    };
    let value = if after.starts_with('"') {
        let (v, used) = unquote_prefix(after)?;
        if used != after.len() {
            return None;
        }
        v
    } else {
        after.to_owned()
    };
    (!key.is_empty()).then_some((key, value))
}

/// Decodes the Go double-quoted string at the start of `s` (common escapes; `\xHH` and octal
/// bytes that are not UTF-8 become U+FFFD). Returns the text and the bytes consumed.
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        for _ in 0..n {
                            hex.push(chars.next()?.1);
                        }
                        let v = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// Turns the build information into packages.
fn packages(
    file: &FileInfo<'_>,
    go_version: &str,
    info: &BuildInfo,
    cataloger: &str,
    out: &mut Findings,
) {
    let shown = file.path_display();
    // `go1.22.1 X:boringcrypto`: the experiments are not part of the toolchain version.
    let go = go_version.split_whitespace().next().unwrap_or(go_version);

    let mut stdlib = Package::new(Ecosystem::Golang, "stdlib").found_in(shown.clone(), None);
    stdlib.version = Some(go.to_owned());
    stdlib.purl = golang_purl("stdlib", Some(go));
    stdlib.source = Source::Registry { url: None };
    stdlib
        .properties
        .insert(props::CATALOGER.to_owned(), cataloger.to_owned());
    let stdlib_at = out.packages.len();
    out.packages.push(stdlib);

    // The build information lists every module linked in, without the graph between them:
    // the main module depends on each of them and on the standard library.
    let mut main_at = None;
    if let Some(main) = &info.main {
        let mut p = module_package(main, &shown, cataloger);
        if p.version.as_deref() == Some("(devel)") {
            p.version = None;
            p.purl = golang_purl(&p.name, None);
        }
        p.properties.insert(GO_MAIN.to_owned(), "true".to_owned());
        p.properties
            .insert(GO_VERSION.to_owned(), go_version.to_owned());
        if !info.path.is_empty() {
            p.properties
                .insert(GO_MAIN_PACKAGE.to_owned(), info.path.clone());
        }
        for (k, v) in &info.settings {
            p.properties
                .insert(format!("{GO_BUILD_PREFIX}{k}"), v.clone());
        }
        main_at = Some(out.packages.len());
        out.packages.push(p);
    } else if !info.deps.is_empty() {
        out.warnings.push(format!(
            "{shown}: Go build information lists dependencies but no main module"
        ));
    }
    for dep in &info.deps {
        if let Some(main) = main_at {
            out.edges.push((main, out.packages.len()));
        }
        out.packages.push(module_package(dep, &shown, cataloger));
    }
    if let Some(main) = main_at {
        out.edges.push((main, stdlib_at));
    }
}

/// The package for one module, with a replacement applied: a module replacement reports the
/// module that was built in, a directory replacement keeps the required module's name with
/// the directory as its source.
fn module_package(m: &Module, shown: &str, cataloger: &str) -> Package {
    let line = Some(m.line);
    let mut p = match m.replace.as_deref() {
        // A directory replacement has no version (`(devel)` since Go 1.18, empty before).
        Some(r) if !r.version.is_empty() && r.version != "(devel)" => {
            let mut p = plain_module(r, shown, line);
            p.source = Source::Registry { url: None };
            p.properties
                .insert(GO_REPLACES.to_owned(), format!("{}@{}", m.path, m.version));
            p
        }
        Some(r) => {
            let mut p = Package::new(Ecosystem::Golang, m.path.clone()).found_in(shown, line);
            p.purl = golang_purl(&m.path, None);
            p.source = Source::Path {
                path: r.path.clone(),
            };
            p.properties
                .insert(GO_REPLACES.to_owned(), format!("{}@{}", m.path, m.version));
            p
        }
        None => {
            let mut p = plain_module(m, shown, line);
            if !m.version.is_empty() && m.version != "(devel)" {
                p.source = Source::Registry { url: None };
            }
            p
        }
    };
    p.properties
        .insert(props::CATALOGER.to_owned(), cataloger.to_owned());
    p
}

fn plain_module(m: &Module, shown: &str, line: Option<u32>) -> Package {
    let mut p = Package::new(Ecosystem::Golang, m.path.clone()).found_in(shown, line);
    if !m.version.is_empty() {
        p.version = Some(m.version.clone());
    }
    p.purl = golang_purl(&m.path, p.version.as_deref());
    if !m.sum.is_empty() {
        p.properties.insert(GO_SUM_H1.to_owned(), m.sum.clone());
    }
    p
}

/// `pkg:golang/<all but the last path segment>/<last segment>@version`, or `None` when the
/// path breaks the purl rules.
fn golang_purl(path: &str, version: Option<&str>) -> Option<PackageUrl> {
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, path),
    };
    let mut p = PackageUrl::new("golang", name).ok()?;
    if let Some(ns) = namespace {
        p = p.with_namespace(ns).ok()?;
    }
    if let Some(v) = version {
        p = p.with_version(v).ok()?;
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_decodes_and_rejects_overlong() {
        assert_eq!(uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(uvarint(&[0xac, 0x02]), Some((300, 2)));
        assert_eq!(uvarint(&[0x80; 11]), None);
        assert_eq!(uvarint(&[0x80]), None);
    }

    #[test]
    fn quoted_build_settings() {
        assert_eq!(
            build_setting(r#"-ldflags="-s -w""#),
            Some(("-ldflags".to_owned(), "-s -w".to_owned()))
        );
        assert_eq!(
            build_setting(r#""a=b"=c"#),
            Some(("a=b".to_owned(), "c".to_owned()))
        );
        assert_eq!(build_setting("novalue"), None);
        assert_eq!(build_setting(r#"k="unterminated"#), None);
    }

    #[test]
    fn sentinels_need_a_trailing_newline() {
        let wrapped = format!("{}path\tx\n{}", "A".repeat(16), "B".repeat(16));
        assert_eq!(strip_sentinels(wrapped.as_bytes()), b"path\tx\n");
        assert_eq!(strip_sentinels(b"short"), b"");
    }

    #[test]
    fn replacement_without_module_is_an_error() {
        assert!(parse_modinfo("=>\tx\tv1.0.0\t\n").is_err());
        assert!(parse_modinfo("garbage line\n").is_err());
    }
}

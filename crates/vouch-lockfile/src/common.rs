//! Helpers every parser shares: syntax errors with positions, line lookup for evidence, purl
//! building and bounded reads.

use std::path::Path;

use vouch_inventory::{Ecosystem, Package, PackageUrl};

use crate::{MAX_LOCKFILE_BYTES, ParseError, ParseErrorKind};

/// Most entries vouch accepts from one lockfile (a limit hit is an error).
pub(crate) const MAX_ENTRIES: usize = 1_000_000;

/// Fails with `TooMany` when a lockfile holds more than [`MAX_ENTRIES`] of something.
pub(crate) fn check_entries(
    file: &str,
    count: usize,
    what: &'static str,
) -> Result<(), ParseError> {
    if count > MAX_ENTRIES {
        return Err(ParseError::new(
            file,
            ParseErrorKind::TooMany {
                what,
                limit: MAX_ENTRIES,
            },
        ));
    }
    Ok(())
}

/// 1-based line and column of byte `offset` in `bytes`.
pub(crate) fn line_col_of_bytes(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset.min(bytes.len())).unwrap_or_default();
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

/// Maps byte offsets to 1-based lines, built once per file.
pub(crate) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines { starts }
    }

    /// The 1-based line of byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> u32 {
        let idx = self.starts.partition_point(|s| *s <= offset);
        u32::try_from(idx).unwrap_or(u32::MAX)
    }
}

/// Finds `needle` in `text` at or after `from`, returning its byte offset; used to give
/// evidence lines for formats whose syntax parser does not report positions.
pub(crate) fn find_from(text: &str, needle: &str, from: usize) -> Option<usize> {
    // A match of a whole UTF-8 needle in UTF-8 text starts on a character boundary, so the
    // byte search finds what `str::find` would.
    memchr::memmem::find(text.get(from..)?.as_bytes(), needle.as_bytes()).map(|i| i + from)
}

/// The offset of the first `byte` in `text` at or after `from`.
pub(crate) fn find_byte(text: &str, byte: u8, from: usize) -> Option<usize> {
    memchr::memchr(byte, text.get(from..)?.as_bytes()).map(|i| i + from)
}

/// The pieces of `text` between `\n`s, as `text.split('\n')` gives them (a final empty piece
/// when the text ends with one).
pub(crate) fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    let mut start = 0;
    ends.map(move |end| {
        let piece = text.get(start..end).unwrap_or("");
        start = end + 1;
        piece
    })
}

/// Parses JSON, mapping errors to the file with line and column.
pub(crate) fn json<'t, T: serde::Deserialize<'t>>(
    file: &str,
    text: &'t str,
) -> Result<T, ParseError> {
    serde_json::from_str(text).map_err(|e| {
        let msg = strip_position(&e.to_string());
        ParseError::syntax(file, "JSON", msg, Some((e.line(), e.column())))
    })
}

/// Parses TOML, mapping errors to the file with line and column.
pub(crate) fn toml<'t, T: serde::Deserialize<'t>>(
    file: &str,
    text: &'t str,
) -> Result<T, ParseError> {
    if let Some(value) = crate::toml_subset::from_str(text) {
        return Ok(value);
    }
    toml::from_str(text).map_err(|e| {
        let pos = e
            .span()
            .map(|s| line_col_of_bytes(text.as_bytes(), s.start));
        ParseError::syntax(file, "TOML", e.message().to_owned(), pos)
    })
}

/// Parses YAML (one document), mapping errors to the file with line and column.
pub(crate) fn yaml<'t, T: serde::Deserialize<'t>>(
    file: &str,
    text: &'t str,
) -> Result<T, ParseError> {
    if let Some(value) = crate::yaml_subset::from_str(text) {
        return Ok(value);
    }
    serde_norway::from_str(text).map_err(|e| {
        let pos = e.location().map(|l| (l.line(), l.column()));
        ParseError::syntax(file, "YAML", strip_position(&e.to_string()), pos)
    })
}

/// serde messages end with " at line L column C"; the position is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_owned(),
        None => msg.to_owned(),
    }
}

/// The name of the directory holding `file` (as shown, `/`- or `\\`-separated), or the file's
/// own name when it has none: what a lockfile that records no project of its own is named after.
pub(crate) fn dir_name(file: &str) -> &str {
    let trimmed = file.trim_end_matches(['/', '\\']);
    let mut parts = trimmed.rsplit(['/', '\\']);
    let file_name = parts.next().unwrap_or(trimmed);
    parts
        .find(|d| !d.is_empty() && *d != ".")
        .filter(|d| *d != "..")
        .unwrap_or(file_name)
}

/// A project named after the lockfile's directory, for formats that record no project.
pub(crate) fn synthetic_root(ecosystem: Ecosystem, file: &str) -> Package {
    Package::new(ecosystem, dir_name(file)).found_in(file, None)
}

/// `UnsupportedVersion` for the version field `key`, at the line where `key` first appears.
pub(crate) fn unsupported_version(
    file: &str,
    text: &str,
    key: &str,
    found: &str,
    supported: &str,
) -> ParseError {
    let err = ParseError::new(
        file,
        ParseErrorKind::UnsupportedVersion {
            what: key.to_owned(),
            found: found.to_owned(),
            supported: supported.to_owned(),
        },
    );
    match find_from(text, key, 0) {
        Some(pos) => err.at_line(Lines::new(text).line_of(pos) as usize),
        None => err,
    }
}

/// Decodes `%XX` escapes (Cargo v4 git references, yarn berry `patch:` locators); invalid
/// escapes are kept as written and invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Builds a purl, or `None` when the parts break the type's rules (the package is still
/// reported, identified by ecosystem, name and version).
pub(crate) fn purl(
    ecosystem: Ecosystem,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
) -> Option<PackageUrl> {
    let mut p = PackageUrl::new(ecosystem.purl_type(), name).ok()?;
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        p = p.with_namespace(ns).ok()?;
    }
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        p = p.with_version(v).ok()?;
    }
    Some(p)
}

/// A library package with name, version, purl and evidence set.
pub(crate) fn package(
    ecosystem: Ecosystem,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    file: &str,
    line: Option<u32>,
) -> Package {
    let full_name = match namespace {
        Some(ns) if !ns.is_empty() => match ecosystem {
            Ecosystem::Maven => format!("{ns}:{name}"),
            _ => format!("{ns}/{name}"),
        },
        _ => name.to_owned(),
    };
    let mut p = Package::new(ecosystem, full_name).found_in(file, line);
    p.version = version.filter(|v| !v.is_empty()).map(str::to_owned);
    p.purl = purl(ecosystem, namespace, name, version);
    p
}

/// Splits an npm name into scope and bare name: `@babel/core` → (`@babel`, `core`).
pub(crate) fn npm_name(name: &str) -> (Option<&str>, &str) {
    match name.strip_prefix('@').and_then(|_| name.split_once('/')) {
        Some((scope, bare)) => (Some(scope), bare),
        None => (None, name),
    }
}

/// Reads a file, refusing more than [`MAX_LOCKFILE_BYTES`].
pub(crate) fn read_limited(path: &Path, display: &str) -> Result<Vec<u8>, ParseError> {
    let io = |e: std::io::Error| ParseError::new(display, ParseErrorKind::Io(io_reason(&e)));
    let mut file = fs_err::File::open(path).map_err(io)?;
    let expected = file.metadata().map_or(0, |m| m.len());
    let bytes = read_up_to(&mut file, expected, MAX_LOCKFILE_BYTES).map_err(io)?;
    if bytes.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err(ParseError::new(
            display,
            ParseErrorKind::TooLarge {
                limit: MAX_LOCKFILE_BYTES,
                found: bytes.len() as u64,
            },
        ));
    }
    Ok(bytes)
}

/// Everything `reader` gives, or the first `limit + 1` bytes of it if there is more, in a
/// buffer sized from `expected` (the file's length).
///
/// The buffer is allocated zeroed, which for a file of more than a few pages is memory the
/// system hands out zeroed already: the text is then read straight into it, in one read when
/// `expected` is right, where `read_to_end` reads a reader that is not `std`'s own file in
/// doubling chunks from 8 KiB, zeroing each first. A file that grows meanwhile is still read
/// to its end or the limit.
fn read_up_to(
    reader: &mut impl std::io::Read,
    expected: u64,
    limit: u64,
) -> std::io::Result<Vec<u8>> {
    let cap = limit.saturating_add(1);
    let first = usize::try_from(expected.min(limit).saturating_add(1)).unwrap_or(0);
    let mut bytes = vec![0u8; first];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            if filled as u64 >= cap {
                break;
            }
            let more = usize::try_from(cap - filled as u64)
                .unwrap_or(usize::MAX)
                .min(bytes.len().max(8 * 1024));
            bytes.resize(filled + more, 0);
        }
        let Some(room) = bytes.get_mut(filled..) else {
            break;
        };
        match reader.read(room) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// Reads `rel` relative to `dir`; `None` when it does not exist.
pub(crate) fn read_sibling(
    dir: &Path,
    rel: &str,
    display: &str,
) -> Option<Result<Vec<u8>, ParseError>> {
    let path = dir.join(rel);
    if !path.is_file() {
        return None;
    }
    let shown = match Path::new(display).parent() {
        Some(p) if !p.as_os_str().is_empty() => format!("{}/{rel}", p.display()),
        _ => rel.to_owned(),
    };
    Some(read_limited(&path, &shown))
}

/// The OS error without the path (fs-err adds the path; the caller's display name is shown).
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `step` bytes per call and is interrupted before every
    /// other call, as a pipe or a signal can make a file read.
    struct Choppy<'b> {
        bytes: &'b [u8],
        step: usize,
        interrupt: bool,
        calls: usize,
    }

    impl std::io::Read for Choppy<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.step).min(self.bytes.len());
            let (head, rest) = self.bytes.split_at(n);
            buf.get_mut(..n).unwrap_or_default().copy_from_slice(head);
            self.bytes = rest;
            Ok(n)
        }
    }

    #[test]
    fn reads_everything_whatever_the_expected_length() {
        let text: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        for expected in [0, 1, 4_095, 49_999, 50_000, 50_001, 1_000_000] {
            for step in [1_000, 7_919, usize::MAX] {
                let mut r = Choppy {
                    bytes: &text,
                    step,
                    interrupt: false,
                    calls: 0,
                };
                let got = read_up_to(&mut r, expected, 1 << 20).unwrap_or_default();
                assert_eq!(got, text, "expected {expected}, step {step}");
            }
        }
        assert!(read_up_to(&mut std::io::empty(), 10, 100).is_ok_and(|b| b.is_empty()));
    }

    #[test]
    fn a_right_length_is_read_in_one_go() {
        let text = vec![7u8; 300_000];
        let mut r = Choppy {
            bytes: &text,
            step: usize::MAX,
            // The first call is not interrupted.
            interrupt: true,
            calls: 0,
        };
        let got = read_up_to(&mut r, 300_000, 1 << 20).unwrap_or_default();
        assert_eq!(got.len(), 300_000);
        // One read for the text, one interrupted, one that finds the end.
        assert_eq!(r.calls, 3);
    }

    #[test]
    fn reads_stop_one_byte_past_the_limit() {
        let text = vec![1u8; 10_000];
        for expected in [0, 100, 10_000] {
            let mut r = Choppy {
                bytes: &text,
                step: 3_000,
                interrupt: false,
                calls: 0,
            };
            let got = read_up_to(&mut r, expected, 4_000).unwrap_or_default();
            assert_eq!(got.len(), 4_001, "expected {expected}");
        }
        let mut failing = Choppy {
            bytes: &text,
            step: 10,
            interrupt: false,
            calls: 0,
        };
        // Interrupted is retried; any other error is returned.
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::PermissionDenied.into())
            }
        }
        assert!(read_up_to(&mut failing, 0, 100).is_ok());
        assert!(read_up_to(&mut Broken, 5, 100).is_err());
    }

    #[test]
    fn lines_and_columns() {
        let text = "a\nbc\n\nd";
        let lines = Lines::new(text);
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.line_of(2), 2);
        assert_eq!(lines.line_of(5), 3);
        assert_eq!(lines.line_of(6), 4);
        assert_eq!(line_col_of_bytes(text.as_bytes(), 3), (2, 2));
    }

    #[test]
    fn searches_agree_with_str() {
        let texts = [
            "",
            "\n",
            "a",
            "a\n",
            "\na\n\nb",
            "x\r\ny\n",
            "é\n[[package]]\n",
        ];
        for text in texts {
            let ours: Vec<&str> = split_lines(text).collect();
            let std: Vec<&str> = text.split('\n').collect();
            assert_eq!(ours, std, "{text:?}");
            for from in 0..=text.len() + 1 {
                for needle in ["\n", "a", "[[package]]", "é", ""] {
                    let expected = text
                        .get(from..)
                        .and_then(|t| t.find(needle))
                        .map(|i| i + from);
                    assert_eq!(
                        find_from(text, needle, from),
                        expected,
                        "{text:?} {needle:?}"
                    );
                }
                let expected = text
                    .get(from..)
                    .and_then(|t| t.find('\n'))
                    .map(|i| i + from);
                assert_eq!(find_byte(text, b'\n', from), expected, "{text:?} {from}");
            }
        }
    }

    #[test]
    fn npm_scopes() {
        assert_eq!(npm_name("@babel/core"), (Some("@babel"), "core"));
        assert_eq!(npm_name("lodash"), (None, "lodash"));
        assert_eq!(npm_name("@broken"), (None, "@broken"));
    }
}

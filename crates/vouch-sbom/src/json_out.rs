//! Writing pretty-printed JSON straight into a byte buffer.
//!
//! The CycloneDX encoder used to build a tree of `Serialize` structs and hand it to serde_json's
//! pretty printer; for documents of a few megabytes the intermediate structs and the generic
//! serializer cost more than the bytes written. [`JsonOut`] writes the same bytes directly:
//! the layout of serde_json's `PrettyFormatter` (two-space indent, `"key": value`, one member
//! per line, `[]` and `{}` for empty containers) and serde_json's string escaping (`\"`, `\\`,
//! the short escapes `\b \t \n \f \r`, `\u00xx` with lower-case hex for the other control
//! characters, everything else, non-ASCII included, as UTF-8). Tests compare it against
//! serde_json itself, which stays the reference.
//!
//! It checks nothing about the shape of the document: a key outside an object, or an
//! unbalanced `end_*`, gives malformed JSON, not an error. The callers are encoders whose
//! structure is fixed in code, so mistakes show up in their tests.

use std::fmt;

/// A line break and the indentation of up to 31 levels, copied in one piece; deeper levels
/// take more.
const NEWLINE_INDENT: &[u8; 63] =
    b"\n                                                              ";

/// The name of an object member as it is written, quotes, colon and space included
/// (`"name": `). Made by [`key!`], which checks while the program is compiled that the name
/// needs no escaping, so that writing it is one copy.
#[derive(Clone, Copy)]
pub(crate) struct Key(&'static str);

impl Key {
    /// `written` is `name` quoted and followed by `: `. In a constant, as [`key!`] makes it, a
    /// name that would need escaping stops the compilation.
    pub(crate) const fn new(name: &'static str, written: &'static str) -> Key {
        assert!(
            needs_no_escape(name.as_bytes()),
            "a member name that needs escaping"
        );
        Key(written)
    }
}

/// A [`Key`] checked and built at compile time: `key!("bom-ref")`.
macro_rules! key {
    ($name:literal) => {
        const { $crate::json_out::Key::new($name, concat!("\"", $name, "\": ")) }
    };
}
pub(crate) use key;

/// Whether no byte of `bytes` needs escaping, byte by byte, for [`Key::new`] at compile time.
const fn needs_no_escape(mut rest: &[u8]) -> bool {
    while let [b, tail @ ..] = rest {
        if *b < 0x20 || *b == b'"' || *b == b'\\' {
            return false;
        }
        rest = tail;
    }
    true
}

/// A JSON document being written, pretty-printed as serde_json's `PrettyFormatter` does.
pub(crate) struct JsonOut {
    buf: Vec<u8>,
    /// How many bytes were taken out of `buf` before it (see [`JsonOut::take`]).
    taken: usize,
    /// One entry per open container, `true` for an array: in an array every value starts a
    /// new line, in an object the key has already done so.
    open: Vec<bool>,
    /// Whether the innermost open container has no member yet (no comma before the next one,
    /// and `{}` or `[]` if it stays empty).
    empty: bool,
}

impl JsonOut {
    /// A writer whose buffer starts with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        JsonOut {
            buf: Vec::with_capacity(capacity),
            taken: 0,
            open: Vec::with_capacity(8),
            empty: true,
        }
    }

    /// The bytes written since the last [`JsonOut::take`] (all of them if none).
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// How many bytes have been written: a position callers can record to find a value again.
    pub(crate) fn len(&self) -> usize {
        self.taken + self.buf.len()
    }

    /// The bytes written since the last [`JsonOut::take`] (all of them if none).
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Hands the pending bytes to `f` and forgets them, keeping the buffer's memory for what
    /// follows: a document written in pieces touches only that much memory.
    pub(crate) fn take<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let r = f(&self.buf);
        self.taken += self.buf.len();
        self.buf.clear();
        r
    }

    /// Writes raw bytes (a line break after the document).
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Starts an object, as a value (in an array, after a key, or the document itself).
    pub(crate) fn begin_object(&mut self) {
        self.begin(b'{', false);
    }

    /// Ends the innermost object.
    pub(crate) fn end_object(&mut self) {
        self.end(b'}');
    }

    /// Starts an array, as a value.
    pub(crate) fn begin_array(&mut self) {
        self.begin(b'[', true);
    }

    /// Ends the innermost array.
    pub(crate) fn end_array(&mut self) {
        self.end(b']');
    }

    /// Writes the key of the next member of the innermost object; the value follows.
    pub(crate) fn key(&mut self, key: Key) {
        self.next_member();
        self.buf.extend_from_slice(key.0.as_bytes());
    }

    /// [`JsonOut::key`] for a name known only when the program runs, escaped.
    #[cfg(test)]
    pub(crate) fn key_str(&mut self, key: &str) {
        self.next_member();
        push_string(&mut self.buf, key);
        self.buf.extend_from_slice(b": ");
    }

    /// Writes a string value.
    pub(crate) fn string(&mut self, value: &str) {
        self.before_value();
        push_string(&mut self.buf, value);
    }

    /// Writes a string value given by its `Display`, escaped as it is produced, without
    /// formatting it into a `String` first. An error of the `Display` implementation is
    /// returned; the output is then incomplete.
    pub(crate) fn display(&mut self, value: &dyn fmt::Display) -> fmt::Result {
        self.before_value();
        self.buf.push(b'"');
        fmt::write(&mut Escaper(&mut self.buf), format_args!("{value}"))?;
        self.buf.push(b'"');
        Ok(())
    }

    /// Writes an unsigned integer value.
    pub(crate) fn uint(&mut self, value: u64) {
        self.before_value();
        push_uint(&mut self.buf, value);
    }

    /// `key` and a string value.
    pub(crate) fn field(&mut self, key: Key, value: &str) {
        self.key(key);
        push_string(&mut self.buf, value);
    }

    /// `key` and a string value when there is one; nothing when there is not (serde's
    /// `skip_serializing_if = "Option::is_none"`).
    pub(crate) fn field_opt(&mut self, key: Key, value: Option<&str>) {
        if let Some(v) = value {
            self.field(key, v);
        }
    }

    fn begin(&mut self, bracket: u8, array: bool) {
        self.before_value();
        self.buf.push(bracket);
        self.open.push(array);
        self.empty = true;
    }

    fn end(&mut self, bracket: u8) {
        self.open.pop();
        if !self.empty {
            self.newline();
        }
        self.buf.push(bracket);
        // The container just closed is a member of the one around it.
        self.empty = false;
    }

    /// In an array, a value is a member of its own and starts a line; in an object its key
    /// has already done that.
    fn before_value(&mut self) {
        if self.open.last() == Some(&true) {
            self.next_member();
        }
    }

    fn next_member(&mut self) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        self.newline();
    }

    /// A line break and the indentation of the current depth.
    fn newline(&mut self) {
        let width = 2 * self.open.len();
        if let Some(line) = NEWLINE_INDENT.get(..1 + width) {
            self.buf.extend_from_slice(line);
        } else {
            self.buf.push(b'\n');
            for _ in 0..width {
                self.buf.push(b' ');
            }
        }
    }
}

/// Writes `s` as a quoted JSON string, escaped as serde_json escapes it.
///
/// Most strings need no escape: they are tested whole first and then copied with their quotes
/// after one reservation, which for the short strings that make up most of a document costs
/// less than the scan that copies runs of plain bytes.
pub(crate) fn push_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if is_plain(bytes) {
        out.extend_from_slice(bytes);
    } else {
        push_escaped(out, s);
    }
    out.push(b'"');
}

/// Whether no byte of `bytes` needs escaping, eight bytes at a time. The last word of a string
/// of eight bytes or more overlaps the one before it; shorter strings are read as two words
/// of four (or one of two and a byte) that may overlap, which tests every byte at least once.
fn is_plain(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        if word_needs_escape(u64::from_le_bytes(*word)) {
            return false;
        }
        rest = tail;
    }
    if rest.is_empty() {
        return true;
    }
    let word = if let Some(last) = bytes.last_chunk::<8>() {
        u64::from_le_bytes(*last)
    } else if let (Some(first), Some(last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        u64::from(u32::from_le_bytes(*first)) | u64::from(u32::from_le_bytes(*last)) << 32
    } else {
        // One to three bytes: the first two (or the one twice) and the last, padded with a
        // plain byte.
        let (first, second, last) = match bytes {
            [a] => (*a, *a, *a),
            [a, b] => (*a, *b, *b),
            [a, b, c, ..] => (*a, *b, *c),
            [] => return true,
        };
        u64::from_le_bytes([first, second, last, b' ', b' ', b' ', b' ', b' '])
    };
    !word_needs_escape(word)
}

/// Writes the escaped content of a JSON string, without quotes. Most strings need no escape at
/// all, so the scan tests eight bytes at a time and copies runs of plain bytes whole; only a
/// word that holds a byte to escape is looked at byte by byte.
fn push_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    let mut i = 0;
    loop {
        while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            if word_needs_escape(u64::from_le_bytes(*word)) {
                break;
            }
            i += 8;
        }
        // Fewer than eight bytes left: test them as one word too, padded with spaces, so that
        // short strings (keys, versions) skip the byte-by-byte path when they are plain.
        let rest = bytes.get(i..).unwrap_or_default();
        if rest.len() < 8 {
            let mut word = [b' '; 8];
            for (w, &b) in word.iter_mut().zip(rest) {
                *w = b;
            }
            if !word_needs_escape(u64::from_le_bytes(word)) {
                break;
            }
        }
        let Some(&b) = bytes.get(i) else {
            break;
        };
        if let Some(e) = escape(b) {
            out.extend_from_slice(bytes.get(plain_from..i).unwrap_or_default());
            if e == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
            } else {
                out.extend_from_slice(&[b'\\', e]);
            }
            plain_from = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(bytes.get(plain_from..).unwrap_or_default());
}

/// Whether any of the eight bytes of `word` needs escaping: is below 0x20, a quote or a
/// backslash. The tests for "some byte below n" (n at most 0x80) and "some byte zero" are exact
/// as yes/no answers, though not as to which byte; the caller finds that byte by byte.
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let below = |n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH_BITS;
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH_BITS;
    let control = below(0x20);
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    (control | quote | backslash) != 0
}

/// What follows the backslash when `b` must be escaped: the short form where JSON has one,
/// `u` for `\u00xx`. Bytes of multi-byte UTF-8 sequences are all at least 0x80, so they are
/// never escaped and never split.
fn escape(b: u8) -> Option<u8> {
    match b {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        0x08 => Some(b'b'),
        0x09 => Some(b't'),
        0x0a => Some(b'n'),
        0x0c => Some(b'f'),
        0x0d => Some(b'r'),
        0x00..=0x1f => Some(b'u'),
        _ => None,
    }
}

/// Decimal digits of `n`, as serde_json writes integers.
fn push_uint(out: &mut Vec<u8>, mut n: u64) {
    // u64::MAX has 20 digits; they are produced last first.
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        if let Some(d) = digits.get_mut(len) {
            *d = b'0' + (n % 10) as u8;
        }
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits.iter().take(len).rev());
}

/// Escapes what a `Display` implementation writes, piece by piece.
struct Escaper<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Writes a `serde_json::Value` through [`JsonOut`], so that any value can be compared
    /// with serde_json's own pretty printing of it.
    fn write_value(out: &mut JsonOut, v: &Value) {
        match v {
            Value::Null | Value::Bool(_) => unreachable!("the encoders write neither"),
            Value::Number(n) => out.uint(n.as_u64().expect("unsigned integers only")),
            Value::String(s) => out.string(s),
            Value::Array(items) => {
                out.begin_array();
                for item in items {
                    write_value(out, item);
                }
                out.end_array();
            }
            Value::Object(members) => {
                out.begin_object();
                for (k, item) in members {
                    out.key_str(k);
                    write_value(out, item);
                }
                out.end_object();
            }
        }
    }

    fn ours(v: &Value) -> String {
        let mut out = JsonOut::with_capacity(0);
        write_value(&mut out, v);
        String::from_utf8(out.into_bytes()).unwrap()
    }

    fn assert_same(v: &Value) {
        assert_eq!(ours(v), serde_json::to_string_pretty(v).unwrap(), "{v:?}");
    }

    #[test]
    fn every_control_character_and_the_quotes_escape_as_serde_json_does() {
        for b in 0u8..0x80 {
            let s = format!("a{}b", char::from(b));
            assert_same(&json!(s));
            assert_same(&json!({ s.clone(): s }));
        }
        let all: String = (0u8..0x80).map(char::from).collect();
        assert_same(&json!([all]));
        assert_eq!(ours(&json!("\u{1f}")), r#""\u001f""#);
    }

    /// Long strings go through the eight-bytes-at-a-time scan: an escape at every offset of
    /// a word, at the ends, next to multi-byte characters, and several in one word.
    #[test]
    fn escapes_at_every_position_of_long_strings() {
        let specials: Vec<char> = (0u8..0x20).map(char::from).chain(['"', '\\']).collect();
        for &c in &specials {
            for len in [8, 9, 15, 16, 17, 31] {
                for at in 0..len {
                    let mut s: Vec<char> = "abcdefghijklmnopqrstuvwxyz01234".chars().collect();
                    s.truncate(len);
                    s[at] = c;
                    let s: String = s.into_iter().collect();
                    assert_same(&json!(s));
                    let mixed = format!("é{s}日本{c}{c}🦀{s}");
                    assert_same(&json!(mixed));
                }
            }
        }
        // Bytes just beside the escaped ones in value: 0x1f/0x20, 0x21/0x22/0x23, 0x5b/0x5c/0x5d,
        // and 0x7f/0x80 and up, which must stay as they are.
        let near = " !#[]~\u{7f}\u{80}\u{ff}\u{100}\u{7ff}\u{800}\u{ffff}\u{10000}";
        assert_same(&json!(near.repeat(5)));
        let all: String = (0u32..0x800).filter_map(char::from_u32).collect();
        assert_same(&json!(all));
    }

    /// The whole-string test that lets plain strings be copied at once, against a byte-by-byte
    /// reference: every length up to three words, with each byte that needs escaping and each
    /// of its neighbours in value at every position, alone and next to a second one.
    #[test]
    fn plain_strings_are_told_from_the_others_at_every_length_and_position() {
        let plain_byte = |b: &u8| *b >= 0x20 && *b != b'"' && *b != b'\\';
        let probes: Vec<u8> = (0u8..0x20)
            .chain([b'"', b'\\', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xff])
            .collect();
        let mut checked = 0;
        for len in 0..=24 {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(is_plain(&base), "{len}");
            for at in 0..len {
                for &p in &probes {
                    let mut s = base.clone();
                    s[at] = p;
                    assert_eq!(is_plain(&s), s.iter().all(plain_byte), "{s:?}");
                    s[len - 1 - at] = p;
                    assert_eq!(is_plain(&s), s.iter().all(plain_byte), "{s:?}");
                    checked += 2;
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn non_ascii_is_written_as_utf8() {
        for s in [
            "é",
            "naïve \u{7f}",
            "日本語",
            "🦀 x",
            "\u{2028}\u{2029}",
            "\u{feff}",
        ] {
            assert_same(&json!(s));
            assert_same(&json!({ s: [s, s] }));
        }
    }

    #[test]
    fn empty_and_nested_containers() {
        assert_same(&json!({}));
        assert_same(&json!([]));
        assert_same(&json!({ "a": {}, "b": [], "c": [[], {}, [[]]] }));
        assert_same(&json!([{ "a": [1, 2, { "b": { "c": [7, "x"] } }] }, [], {}]));
        // Deeper than one copy of the indentation constant.
        let mut deep = json!("leaf");
        for i in 0..40u64 {
            deep = if i % 2 == 0 {
                json!([deep, i])
            } else {
                json!({ "k": deep, "n": i })
            };
        }
        assert_same(&deep);
    }

    #[test]
    fn integers() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            1_700_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_same(&json!(n));
            assert_same(&json!({ "line": n }));
        }
    }

    #[test]
    fn display_values_are_escaped_like_strings() {
        let mut out = JsonOut::with_capacity(0);
        out.begin_array();
        out.display(&format_args!("{}:{}", "a\"b\n", 7)).unwrap();
        out.display(&"plain").unwrap();
        out.end_array();
        assert_eq!(
            String::from_utf8(out.into_bytes()).unwrap(),
            serde_json::to_string_pretty(&json!(["a\"b\n:7", "plain"])).unwrap()
        );
    }

    #[test]
    fn fields() {
        let mut out = JsonOut::with_capacity(0);
        out.begin_object();
        out.field(key!("a"), "x");
        out.field_opt(key!("b"), None);
        out.field_opt(key!("c"), Some("\t"));
        out.end_object();
        assert_eq!(
            String::from_utf8(out.into_bytes()).unwrap(),
            serde_json::to_string_pretty(&json!({ "a": "x", "c": "\t" })).unwrap()
        );
    }
}

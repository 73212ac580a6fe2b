//! serde shapes that borrow their strings from a lockfile's text, and the forward-only finder
//! of the lines where keys start.
//!
//! A large lockfile has tens of thousands of strings; copying each into its own allocation,
//! only to copy it again into the inventory, cost more than reading them. These types keep a
//! string borrowed wherever the format lets them (no escapes) and owned otherwise. (serde's own
//! `Cow` is always owned behind an `Option` or as a map key, hence [`Str`].)

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::common::{self, MAX_ENTRIES};

/// The three ways serde hands a visitor a string, each made a `Cow` that borrows from the text
/// when the format lets it, then passed through `$wrap` into the visitor's value. Written once
/// for the visitors of [`Scalar`], [`Str`], bun's array items and npm's licences. The visitor's
/// lifetime of the input must be named `'de`.
macro_rules! visit_cow_str {
    ($value:ty, $wrap:expr) => {
        fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<$value, E> {
            Ok($wrap(std::borrow::Cow::Borrowed(v)))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$value, E> {
            Ok($wrap(std::borrow::Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<$value, E> {
            Ok($wrap(std::borrow::Cow::Owned(v)))
        }
    };
}
pub(crate) use visit_cow_str;

/// A map that keeps the file's order (serde maps into `BTreeMap` sort their keys, and the line
/// finder needs entries in file order). Keys borrow from the text where the format lets them.
pub(crate) struct Ordered<'t, V>(pub(crate) Vec<(Cow<'t, str>, V)>);

impl<V> Default for Ordered<'_, V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'a, 't, V> IntoIterator for &'a Ordered<'t, V> {
    type Item = &'a (Cow<'t, str>, V);
    type IntoIter = std::slice::Iter<'a, (Cow<'t, str>, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de: 't, 't, V: Deserialize<'de>> Deserialize<'de> for Ordered<'t, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t, V>(PhantomData<(Cow<'t, str>, V)>);
        impl<'de: 't, 't, V: Deserialize<'de>> Visitor<'de> for V_<'t, V> {
            type Value = Ordered<'t, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Scalar<'t>, V>()? {
                    if out.len() >= MAX_ENTRIES {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_ENTRIES} entries in one map"
                        )));
                    }
                    out.push((k.0, v));
                }
                Ok(Ordered(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Ordered(Vec::new()))
            }
        }
        d.deserialize_any(V_(PhantomData))
    }
}

/// A scalar read as a string: YAML writes `version: 1.0` as a number and `lockfileVersion: 5.4`
/// as a float, JSON writes `lockfileVersion: 3` as a number. Strings borrow from the text where
/// the format lets them.
pub(crate) struct Scalar<'t>(pub(crate) Cow<'t, str>);

impl<'de: 't, 't> Deserialize<'de> for Scalar<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t>(PhantomData<&'t str>);
        impl<'de: 't, 't> Visitor<'de> for V_<'t> {
            type Value = Scalar<'t>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            visit_cow_str!(Scalar<'t>, Scalar);
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'t>, E> {
                Ok(Scalar(Cow::Borrowed("")))
            }
        }
        d.deserialize_any(V_(PhantomData))
    }
}

impl Scalar<'_> {
    /// The scalar as text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A string value, borrowed from the text unless the format had to unescape it.
#[derive(PartialEq, Eq)]
pub(crate) struct Str<'t>(pub(crate) Cow<'t, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The visitor of [`Str`].
struct StrVisitor<'t>(PhantomData<&'t str>);

impl<'de: 't, 't> Visitor<'de> for StrVisitor<'t> {
    type Value = Str<'t>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    visit_cow_str!(Str<'t>, Str);
}

impl<'de: 't, 't> Deserialize<'de> for Str<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor(PhantomData))
    }
}

/// The keys of a map whose values are not needed (what a dependency map names), in file order.
pub(crate) struct Names<'t>(pub(crate) Vec<Str<'t>>);

impl<'de: 't, 't> Deserialize<'de> for Names<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t>(PhantomData<&'t str>);
        impl<'de: 't, 't> Visitor<'de> for V_<'t> {
            type Value = Names<'t>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names<'t>, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(k) = map.next_key::<Str<'t>>()? {
                    map.next_value::<de::IgnoredAny>()?;
                    if out.len() >= MAX_ENTRIES {
                        return Err(de::Error::custom(format!(
                            "more than {MAX_ENTRIES} entries in one map"
                        )));
                    }
                    out.push(k);
                }
                Ok(Names(out))
            }
        }
        d.deserialize_map(V_(PhantomData))
    }
}

/// Finds where map keys start, scanning forward only, so that looking up every entry of a file
/// in order costs one pass over it.
pub(crate) struct KeyFinder<'t> {
    text: &'t str,
    cursor: usize,
    /// The start of the line holding `cursor`, and its 1-based number: JSON lookups count lines
    /// as they step over them, so their callers need no index of every line of the file.
    line_start: usize,
    line_no: u32,
    /// The quoted JSON key being looked for, reused across lookups.
    needle: String,
}

impl<'t> KeyFinder<'t> {
    pub(crate) fn new(text: &'t str, start: usize) -> Self {
        let bytes = text.as_bytes();
        let line_start = line_start_at_or_before(bytes, start);
        let newlines = bytes
            .get(..line_start)
            .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count());
        KeyFinder {
            text,
            cursor: start,
            line_start,
            line_no: u32::try_from(newlines + 1).unwrap_or(u32::MAX),
            needle: String::new(),
        }
    }

    /// The 1-based line of the JSON key `key` written at the start of a line (after spaces or
    /// tabs) and followed by `:` and `opener` (`{` or `[`); `None` (and the cursor stays) when
    /// not found.
    ///
    /// Only line starts are looked at: lockfile writers put each key of a map on a line of its
    /// own, and the next key is usually a few lines on, so stepping from line to line is far
    /// cheaper than a substring search for every key.
    pub(crate) fn find_json(&mut self, key: &str, opener: u8) -> Option<u32> {
        self.needle.clear();
        if key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            self.needle = serde_json::to_string(key).ok()?;
        } else {
            self.needle.push('"');
            self.needle.push_str(key);
            self.needle.push('"');
        }
        let needle = self.needle.as_bytes();
        let bytes = self.text.as_bytes();
        let mut line = self.line_start;
        let mut line_no = self.line_no;
        loop {
            let mut pos = line;
            while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
                pos += 1;
            }
            // Most lines hold a key of another length: the closing quote and what follows it
            // are looked at before the whole key is compared.
            let end = pos + needle.len();
            if pos >= self.cursor
                && bytes.get(end - 1) == Some(&b'"')
                && bytes
                    .get(end)
                    .is_some_and(|b| *b == b':' || b.is_ascii_whitespace())
                && bytes
                    .get(pos..)
                    .is_some_and(|rest| rest.starts_with(needle))
            {
                let mut i = end;
                while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                    i += 1;
                }
                if bytes.get(i) == Some(&b':') {
                    i += 1;
                    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&opener) {
                        self.cursor = end;
                        self.line_start = line;
                        self.line_no = line_no;
                        return Some(line_no);
                    }
                }
            }
            line = common::find_byte(self.text, b'\n', pos)? + 1;
            line_no = line_no.saturating_add(1);
        }
    }

    /// The offset of a YAML mapping key written at column `indent`, plain or quoted, followed by
    /// `:`; `None` (and the cursor stays) when not found.
    pub(crate) fn find_yaml(&mut self, key: &str, indent: usize) -> Option<usize> {
        if key.is_empty() {
            return None;
        }
        let bytes = self.text.as_bytes();
        let mut from = self.cursor;
        loop {
            let pos = common::find_from(self.text, key, from)?;
            let end = pos + key.len();
            from = end;
            let quoted = pos > 0 && matches!(bytes.get(pos - 1), Some(b'"' | b'\''));
            let start = if quoted { pos - 1 } else { pos };
            if start < indent {
                continue;
            }
            let line_start = start - indent;
            let indent_ok = bytes
                .get(line_start..start)
                .is_some_and(|s| s.iter().all(|b| *b == b' '))
                && (line_start == 0 || bytes.get(line_start - 1) == Some(&b'\n'));
            if !indent_ok {
                continue;
            }
            let after = if quoted { end + 1 } else { end };
            if quoted && bytes.get(end) != bytes.get(pos - 1) {
                continue;
            }
            if bytes.get(after) == Some(&b':') {
                self.cursor = after;
                return Some(start);
            }
        }
    }
}

/// The start of the line holding `pos`.
fn line_start_at_or_before(bytes: &[u8], pos: usize) -> usize {
    bytes
        .get(..pos)
        .and_then(|before| before.iter().rposition(|b| *b == b'\n'))
        .map_or(0, |nl| nl + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_finder_skips_values_and_nested_keys() {
        let text =
            "{\n  \"a\": {\n    \"requires\": {\n      \"b\": \"^1\"\n    }\n  },\n  \"b\": {}\n}";
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("a", b'{'), Some(2));
        assert_eq!(f.find_json("b", b'{'), Some(7));
        // Not found: the cursor stays, and later keys are still found from it.
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("b", b'['), None);
        assert_eq!(f.find_json("a", b'{'), Some(2));
        // Starting part-way, on a line of its own, and with a key that JSON escapes.
        let text = "{\n  \"x\": 1,\n  \"q\\\"t\": {}\r\n}";
        let mut f = KeyFinder::new(text, text.find("\"x\"").unwrap());
        assert_eq!(f.find_json("q\"t", b'{'), Some(3));
        assert_eq!(f.find_json("x", b'{'), None);
        // Keys of one length, keys that begin other keys, blanks before the colon, a key on
        // the last line, and one at the very end of the text.
        let text = "{\n  \"ab\": {},\n  \"ac\": {},\n  \"abc\" : {},\n  \"a\"\t:\t{},\n\"abcd\":{}}\n\"z\"";
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("ac", b'{'), Some(3));
        assert_eq!(f.find_json("abc", b'{'), Some(4));
        assert_eq!(f.find_json("a", b'{'), Some(5));
        assert_eq!(f.find_json("abcd", b'{'), Some(6));
        assert_eq!(f.find_json("z", b'{'), None);
        let mut f = KeyFinder::new(text, 0);
        assert_eq!(f.find_json("abcd", b'{'), Some(6));
        assert_eq!(f.find_json("abcde", b'{'), None);
        assert_eq!(f.find_json("abc", b'{'), None);
    }

    #[test]
    fn strings_borrow_unless_unescaped() {
        let text = r#"{"a": "plain", "b\u0041": "esc\"aped", "c": 3}"#;
        let map: Ordered<'_, Scalar<'_>> = serde_json::from_str(text).unwrap();
        let got: Vec<(&str, bool, &str, bool)> = map
            .0
            .iter()
            .map(|(k, v)| {
                let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
                (&**k, borrowed(k), v.as_str(), borrowed(&v.0))
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", true, "plain", true),
                ("bA", false, "esc\"aped", false),
                ("c", true, "3", false),
            ]
        );
        let s: Str<'_> = serde_json::from_str(r#""x\ny""#).unwrap();
        assert_eq!(&*s, "x\ny");
        assert!(serde_json::from_str::<Str<'_>>("1").is_err());
    }

    #[test]
    fn dependency_names_are_the_keys_in_file_order() {
        let names: Names<'_> =
            serde_json::from_str(r#"{"z": "^1", "a": {"nested": [1, 2]}, "m\u002fn": null}"#)
                .unwrap();
        let names: Vec<&str> = names.0.iter().map(|n| &**n).collect();
        assert_eq!(names, ["z", "a", "m/n"]);
        assert!(serde_json::from_str::<Names<'_>>(r#"["a"]"#).is_err());
    }
}

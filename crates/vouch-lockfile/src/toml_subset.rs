//! A fast reader for the TOML that lockfile writers emit, in front of the `toml` crate.
//!
//! Cargo, uv, Poetry and PDM write a small, regular part of TOML 1.0
//! ([spec](https://toml.io/en/v1.0.0)): `[table]` and `[[array.of.tables]]` headers, one
//! `key = value` per line, basic and literal strings on one line, decimal integers, booleans,
//! arrays (uv and Poetry spread them over lines, one inline table per line) and one-line inline
//! tables. This module reads exactly that part into a tree of borrowed nodes, several times
//! faster than a general TOML parser, and serves it to serde the way the `toml` crate serves its
//! own tree: every request goes to `deserialize_any`, an option is always present, a table is a
//! map and an array of tables a sequence.
//!
//! It is a fast path, never the only path: anything outside that part (multi-line strings,
//! floats, dates and times, integers in other radixes or with `_`, dotted keys left of `=`,
//! newlines inside inline tables, a byte-order mark, control characters, duplicate keys, a
//! table defined twice, and any construct whose reading could differ) gives `None`, and the
//! caller parses the same text with the `toml` crate, which also produces every error message.
//! A deserialisation error through this module is treated the same way, so errors always come
//! from the `toml` crate. `fuzz_targets/toml_subset.rs` checks that wherever this module
//! accepts a text, both readers give the same values.

use std::borrow::Cow;
use std::fmt;

use hashbrown::HashMap;
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deepest nesting read here: of arrays and inline tables within a value, and of keys in a
/// header. Deeper input goes to the general parser.
const MAX_DEPTH: usize = 32;

/// Entries a table holds before duplicate keys are looked up in a hash map rather than by
/// scanning: lockfile tables are small, but a hostile one must not make each insertion linear.
const INDEX_FROM: usize = 16;

/// Keys the `toml` crate reserves to carry dates through serde (`toml_datetime`): a table that
/// holds one would be read as a date by `toml::Value`, so such keys are left to it.
const RESERVED_KEY_PREFIX: &str = "$__toml_private";

/// Deserialises `text` through the fast path, or `None` to fall back to the `toml` crate.
/// Strings that need no unescaping are lent from `text` (`visit_borrowed_str`), so a type
/// that borrows them copies nothing.
pub(crate) fn from_str<'t, T: de::Deserialize<'t>>(text: &'t str) -> Option<T> {
    let root = document(text)?;
    T::deserialize(&root).ok()
}

/// Whether the fast path, where it reads `text`, reads the values the `toml` crate reads;
/// `None` when it declines. For the differential fuzz target and the tests.
///
/// Both readings are compared as `toml::Value`, which holds every TOML type apart and reads
/// every node through `deserialize_any`, as the structs of this crate's parsers do.
pub(crate) fn agrees_with_toml(text: &str) -> Option<bool> {
    use serde::Deserialize;
    let root = document(text)?;
    let fast = toml::Value::deserialize(&root).ok()?;
    let slow = toml::from_str::<toml::Value>(text).ok();
    Some(slow.as_ref() == Some(&fast))
}

/// One TOML value.
#[derive(Debug)]
pub(crate) enum Value<'a> {
    /// A basic or literal string, unescaped.
    String(Cow<'a, str>),
    /// A decimal integer.
    Integer(i64),
    /// `true` or `false`.
    Boolean(bool),
    /// An array written as a value (`[1, 2]`); complete once read.
    Array(Vec<Value<'a>>),
    /// An array of tables, one per `[[header]]`; later headers may append to it.
    Tables(Vec<Table<'a>>),
    /// A table, from headers or written inline.
    Table(Table<'a>),
}

/// A table's entries in document order, with what later headers may still do to it.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    entries: Vec<(Cow<'a, str>, Value<'a>)>,
    /// Key to position, built once the table holds [`INDEX_FROM`] entries (boxed: most tables
    /// never need one, and every value is as large as its largest variant: one pointer in
    /// every table instead of an empty map's five words).
    index: Option<Box<HashMap<Cow<'a, str>, usize>>>,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Created by a header naming a table below it (`[a.b]` creates `a`); a later `[a]` may
    /// still define it (spec, "Table": defining a super-table after its sub-tables is valid).
    Implicit,
    /// Defined by its own header or `[[header]]` entry: a second `[header]` is an error.
    Defined,
    /// An inline table: self-contained, no header may add to it (spec, "Inline Table").
    Inline,
}

impl<'a> Table<'a> {
    fn new(state: State) -> Self {
        Table {
            entries: Vec::new(),
            index: None,
            state,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// Adds an entry, or `None` when the key is already there (spec: "Defining a key multiple
    /// times is invalid").
    fn insert(&mut self, key: Cow<'a, str>, value: Value<'a>) -> Option<usize> {
        if key.starts_with(RESERVED_KEY_PREFIX) || self.position(&key).is_some() {
            return None;
        }
        let at = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), at);
        } else if at + 1 >= INDEX_FROM {
            let mut index: HashMap<Cow<'a, str>, usize> = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            index.insert(key.clone(), at);
            self.index = Some(Box::new(index));
        }
        self.entries.push((key, value));
        Some(at)
    }

    /// The table a header may descend into at `at`: a table not written inline, or the last
    /// table of an array of tables (spec, "Array of Tables": sub-tables of the most recently
    /// defined element).
    fn child_mut(&mut self, at: usize) -> Option<&mut Table<'a>> {
        match self.entries.get_mut(at).map(|(_, v)| v) {
            Some(Value::Table(t)) if t.state != State::Inline => Some(t),
            Some(Value::Tables(tables)) => tables.last_mut(),
            _ => None,
        }
    }
}

/// Reads `text` as one document: its root table, or `None` when the text is outside the subset.
fn document(text: &str) -> Option<Table<'_>> {
    // The `toml` crate skips a leading byte-order mark; rare enough to leave to it.
    if text.starts_with('\u{feff}') {
        return None;
    }
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut root = Table::new(State::Defined);
    // Positions of the entries leading from the root to the table that `key = value` lines
    // go into; through an array of tables, into its last table.
    let mut path: Vec<usize> = Vec::new();
    loop {
        p.skip_spaces();
        match p.peek() {
            None => break,
            Some(b'\n' | b'\r' | b'#') => {}
            Some(b'[') => {
                let (keys, array) = p.header()?;
                path = open(&mut root, keys, array)?;
            }
            Some(_) => {
                let key = p.key()?;
                p.skip_spaces();
                // A dotted key (`a.b = 1`) defines tables as it goes; left to the general parser.
                p.eat(b'=')?;
                p.skip_spaces();
                let value = p.value(0)?;
                current(&mut root, &path)?.insert(key, value)?;
            }
        }
        p.line_end()?;
    }
    Some(root)
}

/// The table at `path`.
fn current<'t, 'a>(root: &'t mut Table<'a>, path: &[usize]) -> Option<&'t mut Table<'a>> {
    let mut table = root;
    for &at in path {
        table = table.child_mut(at)?;
    }
    Some(table)
}

/// Applies a `[keys]` or `[[keys]]` header to the tree and returns the path to the table it
/// opens, or `None` where the spec forbids the header (a table defined twice, a header through
/// a value or an inline table, `[[x]]` over a table, `[x]` over an array).
fn open<'a>(root: &mut Table<'a>, mut keys: Vec<Cow<'a, str>>, array: bool) -> Option<Vec<usize>> {
    let last = keys.pop()?;
    let mut path = Vec::with_capacity(keys.len() + 1);
    let mut table = root;
    for key in keys {
        let at = match table.position(&key) {
            Some(at) => at,
            None => table.insert(key, Value::Table(Table::new(State::Implicit)))?,
        };
        path.push(at);
        table = table.child_mut(at)?;
    }
    let at = match table.position(&last) {
        None if array => table.insert(last, Value::Tables(vec![Table::new(State::Defined)]))?,
        None => table.insert(last, Value::Table(Table::new(State::Defined)))?,
        Some(at) => {
            match table.entries.get_mut(at).map(|(_, v)| v)? {
                Value::Tables(tables) if array => tables.push(Table::new(State::Defined)),
                Value::Table(t) if !array && t.state == State::Implicit => t.state = State::Defined,
                _ => return None,
            }
            at
        }
    };
    path.push(at);
    Some(path)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// Spaces and tabs, TOML's whitespace.
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The end of a line: spaces, an optional comment, then a newline or the end of the text.
    fn line_end(&mut self) -> Option<()> {
        self.skip_spaces();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.pos += 1;
                Some(())
            }
            _ => self.crlf(),
        }
    }

    /// `\r\n`; a carriage return alone is not a newline in TOML.
    fn crlf(&mut self) -> Option<()> {
        if self.rest().starts_with("\r\n") {
            self.pos += 2;
            Some(())
        } else {
            None
        }
    }

    /// A comment, from `#` to the end of its line (left unread). The spec forbids control
    /// characters other than tab in comments.
    fn comment(&mut self) -> Option<()> {
        self.pos += 1;
        while let Some(b) = self.peek() {
            match b {
                b'\n' => break,
                b'\r' => return self.rest().starts_with("\r\n").then_some(()),
                b if forbidden(b) => return None,
                _ => {}
            }
            self.pos += 1;
        }
        Some(())
    }

    /// Whitespace, newlines and comments, as allowed between the values of an array.
    fn skip_blank(&mut self) -> Option<()> {
        loop {
            self.skip_spaces();
            match self.peek() {
                Some(b'#') => self.comment()?,
                Some(b'\n') => self.pos += 1,
                Some(b'\r') => self.crlf()?,
                _ => return Some(()),
            }
        }
    }

    /// A `[table]` or `[[array]]` header's keys, and whether it is an array's.
    fn header(&mut self) -> Option<(Vec<Cow<'a, str>>, bool)> {
        self.eat(b'[')?;
        // `[[` must be written together (spec, "Array of Tables"); `[ [a] ]` is an error.
        let array = self.eat(b'[').is_some();
        let mut keys = Vec::new();
        loop {
            self.skip_spaces();
            keys.push(self.key()?);
            if keys.len() > MAX_DEPTH {
                return None;
            }
            self.skip_spaces();
            if self.eat(b'.').is_none() {
                break;
            }
        }
        self.eat(b']')?;
        if array {
            self.eat(b']')?;
        }
        Some((keys, array))
    }

    /// A bare, basic-quoted or literal-quoted key (spec, "Keys").
    fn key(&mut self) -> Option<Cow<'a, str>> {
        match self.peek()? {
            b'"' => self.basic_string(),
            b'\'' => self.literal_string(),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    self.pos += 1;
                }
                let key = self.text.get(start..self.pos)?;
                (!key.is_empty()).then_some(Cow::Borrowed(key))
            }
        }
    }

    /// A value, `depth` arrays or inline tables deep.
    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => {
                if self.rest().starts_with("\"\"\"") {
                    return None;
                }
                self.basic_string().map(Value::String)
            }
            b'\'' => {
                if self.rest().starts_with("'''") {
                    return None;
                }
                self.literal_string().map(Value::String)
            }
            b'[' => self.array(depth),
            b'{' => self.inline_table(depth),
            b't' => self.word("true").map(|()| Value::Boolean(true)),
            b'f' => self.word("false").map(|()| Value::Boolean(false)),
            b'-' | b'0'..=b'9' => self.integer(),
            // `+1`, `inf`, `nan` and anything else: left to the general parser.
            _ => None,
        }
    }

    /// `word`, ended by what may follow a value.
    fn word(&mut self, word: &str) -> Option<()> {
        if !self.rest().starts_with(word) {
            return None;
        }
        self.pos += word.len();
        self.at_value_end().then_some(())
    }

    /// Whether what follows ends a value; anything else (`1.5`, `1e3`, `1_000`, a date) means a
    /// form this module leaves to the general parser.
    fn at_value_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b'#')
        )
    }

    /// A decimal integer without `+` or `_`, in the range of `i64` (spec, "Integer": leading
    /// zeros are not allowed; `-0` is zero).
    fn integer(&mut self) -> Option<Value<'a>> {
        let start = self.pos;
        self.eat(b'-');
        let digits = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let count = self.pos - digits;
        if count == 0 || (count > 1 && self.bytes.get(digits) == Some(&b'0')) {
            return None;
        }
        if !self.at_value_end() {
            return None;
        }
        self.text
            .get(start..self.pos)?
            .parse()
            .ok()
            .map(Value::Integer)
    }

    fn array(&mut self, depth: usize) -> Option<Value<'a>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b']').is_some() {
                break;
            }
            items.push(self.value(depth + 1)?);
            self.skip_blank()?;
            // A trailing comma is allowed (spec, "Array"); a missing one is not.
            if self.eat(b',').is_none() {
                self.eat(b']')?;
                break;
            }
        }
        Some(Value::Array(items))
    }

    /// An inline table on one line, without a trailing comma: TOML 1.0 allows neither a
    /// newline nor a trailing comma; the TOML 1.1 that the `toml` crate also reads does, and
    /// those are left to it.
    fn inline_table(&mut self, depth: usize) -> Option<Value<'a>> {
        self.eat(b'{')?;
        let mut table = Table::new(State::Inline);
        self.skip_spaces();
        if self.eat(b'}').is_some() {
            return Some(Value::Table(table));
        }
        loop {
            let key = self.key()?;
            self.skip_spaces();
            self.eat(b'=')?;
            self.skip_spaces();
            let value = self.value(depth + 1)?;
            table.insert(key, value)?;
            self.skip_spaces();
            if self.eat(b'}').is_some() {
                return Some(Value::Table(table));
            }
            self.eat(b',')?;
            self.skip_spaces();
        }
    }

    /// A basic string on one line (spec, "String"): `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`;
    /// no control character but tab may appear unescaped.
    fn basic_string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        // Most strings hold no escape: find the closing quote with `memchr`, which searches
        // many bytes at a time, then check the run in one pass without branches. Quoted strings are
        // most of a lockfile's bytes; a byte-by-byte loop costs several times more.
        let rest = self.rest();
        if let Some(end) = memchr::memchr(b'"', rest.as_bytes()) {
            let run = rest.get(..end)?;
            if !run
                .bytes()
                .fold(false, |bad, b| bad | (b == b'\\') | forbidden(b))
            {
                self.pos += end + 1;
                return Some(Cow::Borrowed(run));
            }
        }
        self.escaped_string()
    }

    /// The rest of a basic string that holds an escape (or is malformed), byte by byte.
    fn escaped_string(&mut self) -> Option<Cow<'a, str>> {
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    out.push_str(self.text.get(run..self.pos)?);
                    self.pos += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    out.push_str(self.text.get(run..self.pos)?);
                    self.pos += 1;
                    let escape = self.peek()?;
                    self.pos += 1;
                    out.push(match escape {
                        b'b' => '\u{8}',
                        b't' => '\t',
                        b'n' => '\n',
                        b'f' => '\u{c}',
                        b'r' => '\r',
                        b'"' => '"',
                        b'\\' => '\\',
                        b'u' => self.unicode(4)?,
                        b'U' => self.unicode(8)?,
                        // `\e` and `\xHH` are TOML 1.1; the rest are errors.
                        _ => return None,
                    });
                    run = self.pos;
                }
                b if forbidden(b) => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// The `len` hex digits of a `\u` or `\U` escape: a Unicode scalar value, or `None`.
    fn unicode(&mut self, len: usize) -> Option<char> {
        let hex = self.text.get(self.pos..self.pos + len)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += len;
        char::from_u32(u32::from_str_radix(hex, 16).ok()?)
    }

    /// A literal string on one line: no escapes, no control character but tab.
    fn literal_string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'\'')?;
        let rest = self.rest();
        let end = rest.find('\'')?;
        let value = rest.get(..end)?;
        if value.bytes().fold(false, |bad, b| bad | forbidden(b)) {
            return None;
        }
        self.pos += end + 1;
        Some(Cow::Borrowed(value))
    }
}

/// A control character other than tab, which the spec forbids unescaped in strings and in
/// comments (U+0000 to U+0008, U+000A to U+001F, U+007F).
fn forbidden(b: u8) -> bool {
    (b < 0x20 && b != b'\t') | (b == 0x7f)
}

// ---------------------------------------------------------------------------------------------
// serde.

/// Any failure: the caller falls back to the `toml` crate, which gives the real message.
#[derive(Debug)]
pub(crate) struct Fallback;

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outside the TOML subset read by the fast path")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Fallback
    }
}

// Both deserializers answer as the `toml` crate's do: every request but these few goes to
// `deserialize_any`, so a type reads the same thing from either reader, and fails where the
// `toml` crate's reading fails (then the caller falls back and the error is the `toml` crate's).

/// The requests both deserializers answer alike, as the `toml` crate's do.
macro_rules! answers_like_toml {
    () => {
        /// TOML has no null: a value that is there is `Some`, a missing key is `None`.
        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
            visitor.visit_some(self)
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, Fallback> {
            visitor.visit_newtype_struct(self)
        }

        /// Only `IgnoredAny` asks for this, and it accepts anything: skip the walk.
        fn deserialize_ignored_any<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, Fallback> {
            visitor.visit_unit()
        }

        /// No parser of this crate reads a TOML enum; left to the general parser.
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _variants: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Fallback> {
            Err(Fallback)
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            unit unit_struct seq tuple tuple_struct map struct identifier
        }
    };
}

impl<'de> Deserializer<'de> for &Value<'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self {
            // A type that takes `String` copies either way, as it does from the `toml` crate;
            // one that can borrow does so where the text holds the string as it is.
            Value::String(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Value::String(Cow::Owned(s)) => visitor.visit_str(s),
            Value::Integer(n) => visitor.visit_i64(*n),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Array(items) => visitor.visit_seq(Items { iter: items.iter() }),
            Value::Tables(tables) => visitor.visit_seq(Items {
                iter: tables.iter(),
            }),
            Value::Table(table) => table.deserialize_any(visitor),
        }
    }

    answers_like_toml!();
}

impl<'de> Deserializer<'de> for &Table<'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        visitor.visit_map(Entries {
            iter: self.entries.iter(),
            value: None,
        })
    }

    answers_like_toml!();
}

/// A table's entries, in document order. The `toml` crate visits them in key order (its
/// tables are sorted maps); no type read here depends on the order, as TOML keys are unique.
struct Entries<'n, 'de> {
    iter: std::slice::Iter<'n, (Cow<'de, str>, Value<'de>)>,
    value: Option<&'n Value<'de>>,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Fallback> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(StrDeserializer::<Fallback>::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Fallback> {
        seed.deserialize(self.value.take().ok_or(Fallback)?)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The items of an array, or the tables of an array of tables.
struct Items<'n, T> {
    iter: std::slice::Iter<'n, T>,
}

impl<'n, 'de, T> SeqAccess<'de> for Items<'n, T>
where
    &'n T: Deserializer<'de, Error = Fallback>,
{
    type Error = Fallback;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Fallback> {
        self.iter.next().map(|n| seed.deserialize(n)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::yaml_subset::check_lockfile_texts;

    /// Both readers, through `toml::Value`.
    fn both(text: &str) -> (Option<toml::Value>, Option<toml::Value>) {
        let fast = document(text).and_then(|root| toml::Value::deserialize(&root).ok());
        let slow = toml::from_str::<toml::Value>(text).ok();
        (fast, slow)
    }

    /// Lines that, read alone (an array's or table's continuation lines inside an `x = [`
    /// wrapper), the fast path declines: where to look when a real lockfile is declined.
    fn declined_lines(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|line| {
                let alone = if line.starts_with([' ', '{', '"', ']']) {
                    format!("x = [\n{line}\n]\n")
                } else {
                    format!("{line}\n")
                };
                agrees_with_toml(&alone) != Some(true) && agrees_with_toml(line).is_none()
            })
            .take(5)
            .collect()
    }

    #[track_caller]
    fn agrees(text: &str) {
        let (fast, slow) = both(text);
        assert!(slow.is_some(), "the toml crate reads {text:?}");
        assert!(fast.is_some(), "the fast path reads {text:?}");
        assert_eq!(fast, slow, "{text:?}");
        assert_eq!(agrees_with_toml(text), Some(true), "{text:?}");
    }

    #[track_caller]
    fn declines(text: &str) {
        assert!(document(text).is_none(), "{text:?} was read");
        assert_eq!(agrees_with_toml(text), None, "{text:?}");
    }

    #[test]
    fn reads_what_lockfile_writers_emit() {
        // Cargo.
        agrees(
            "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.86\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"b3d1d046238990b9cf5bcde22a3fb3584ee5cf65fb2765f454ed428c7a0063da\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"anyhow\",\n \"serde 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n[metadata]\n\"checksum serde 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\" = \"abc\"\n",
        );
        // uv.
        agrees(
            "version = 1\nrevision = 3\nrequires-python = \">=3.8\"\nresolution-markers = [\n    \"python_full_version >= '3.12'\",\n    \"python_full_version < '3.9'\",\n]\n\n[options]\nexclude-newer = \"2024-01-01T00:00:00Z\" # a string, not a date\n\n[manifest]\nmembers = [\"a\", \"b\"]\n\n[[package]]\nname = \"anyio\"\nversion = \"4.13.0\"\nsource = { registry = \"https://pypi.org/simple\" }\ndependencies = [\n    { name = \"idna\" },\n    { name = \"typing-extensions\", marker = \"python_full_version < '3.13'\" },\n]\nsdist = { url = \"https://x/anyio.tar.gz\", hash = \"sha256:33\", size = 231622, upload-time = \"2026-03-24T12:59:09.671Z\" }\nwheels = [\n    { url = \"https://x/anyio.whl\", hash = \"sha256:08\", size = 114353 },\n]\n\n[package.optional-dependencies]\ntrio = [\n    { name = \"trio\" },\n]\n\n[package.metadata]\nrequires-dist = [{ name = \"idna\", specifier = \">=2.8\" }]\n\n[[package.metadata.requires-dev]]\nname = \"x\"\n\n[[package]]\nname = \"b\"\nversion = \"1\"\nsource = { editable = \".\" }\n",
        );
        // Poetry, both generations.
        agrees(
            "# This file is automatically @generated by Poetry 2.4.1 and should not be changed by hand.\n\n[[package]]\nname = \"anyio\"\nversion = \"4.13.0\"\ndescription = \"It's \\\"fast\\\"\"\noptional = false\npython-versions = \">=3.10\"\ngroups = [\"main\"]\nmarkers = \"python_version < \\\"3.12\\\"\"\nfiles = [\n    {file = \"anyio-4.13.0-py3-none-any.whl\", hash = \"sha256:08\"},\n]\n\n[package.dependencies]\nidna = \">=2.8\"\ntyping_extensions = {version = \">=4.5\", markers = \"python_version < \\\"3.13\\\"\"}\n\n[package.extras]\ntrio = [\"trio (>=0.32.0)\"]\n\n[package.source]\ntype = \"git\"\nurl = \"https://github.com/x/y.git\"\nreference = \"HEAD\"\nresolved_reference = \"abc\"\n\n[metadata]\nlock-version = \"2.1\"\npython-versions = \"^3.10\"\ncontent-hash = \"e3b0\"\n\n[metadata.files]\nanyio = [\n    {file = \"anyio.whl\", hash = \"sha256:08\"},\n]\n",
        );
        // PDM.
        agrees(
            "# This file is @generated by PDM.\n# It is not intended for manual editing.\n\n[metadata]\ngroups = [\"default\", \"dev\"]\nstrategy = [\"inherit_metadata\"]\nlock_version = \"4.5.0\"\ncontent_hash = \"sha256:aa\"\n\n[[metadata.targets]]\nrequires_python = \">=3.9\"\n\n[[package]]\nname = \"requests\"\nversion = \"2.32.3\"\nrequires_python = \">=3.8\"\nsummary = \"Python HTTP for Humans.\"\ngroups = [\"default\"]\ndependencies = [\n    \"certifi>=2017.4.17\",\n    \"idna<4,>=2.5\",\n]\nfiles = [\n    {file = \"requests-2.32.3.whl\", hash = \"sha256:70\"},\n]\n",
        );
    }

    #[test]
    fn reads_values_as_the_toml_crate_does() {
        for text in [
            "",
            "\n\n# only a comment\n",
            "a = 1",
            "a = 1\r\nb = 2\r\n",
            "a = 0\nb = -0\nc = -17\nd = 9223372036854775807\ne = -9223372036854775808\n",
            "t = true\nf = false\n",
            "a = 'literal \\n \"kept\"'\nb = ''\nc = \"\"\n",
            "\t a \t=\t\"tabs\"\t# and a comment\n",
            "\"quoted key\" = 1\n'literal key' = 2\n\"\" = 3\n1234 = 4\n-_- = 5\ntrue = 6\n",
            "a = [1, 'two', [3], { four = 4 }, true]\n",
            "a = []\nb = [ ]\nc = [\n]\nd = {}\ne = { }\n",
            "a = [\n  1, # one\n  2,\n  # nothing\n]\n",
            "a = [ [ 1, 2 ], [ \"x\" ], ]\n",
            "a = { b = { c = [ { d = 1 } ] } }\n",
            "a = { b = [\n 1,\n] }\n",
            "[a]\n[b]\n[c]\nx = 1\n",
            "[ a . \"b c\" . 'd' ]\nx = 1\n",
            "[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n",
            "[[a]]\nx = 1\n[a.sub]\ny = 2\n[[a]]\nx = 3\n[a.sub]\ny = 4\n",
            "[[a.b]]\n[[a.b]]\nx = 1\n[a]\ny = 2\n",
            "[[ a ]]\nx = 1\n",
            "[x]\n\"a\" = 1\n[\"y\"]\n[x.\"a b\"]\n",
            "a = \"\u{e9}\u{1f600}\"\n# comment with \u{e9}\n",
        ] {
            agrees(text);
        }
        // Many keys in one table, over the size where a hash map finds duplicates.
        let many: String = (0..100).map(|i| format!("k{i} = {i}\n")).collect();
        agrees(&many);
        declines(&format!("{many}k50 = 1\n"));
        let many_tables: String = (0..100).map(|i| format!("[t{i}]\nx = 1\n")).collect();
        agrees(&many_tables);
        declines(&format!("{many_tables}[t7]\n"));
    }

    #[test]
    fn lends_strings_that_need_no_unescaping() {
        use crate::borrow::Str;
        #[derive(Deserialize)]
        struct Pair<'t> {
            #[serde(borrow)]
            plain: Str<'t>,
            #[serde(borrow)]
            escaped: Str<'t>,
            #[serde(borrow)]
            literal: Vec<Str<'t>>,
        }
        let text = "plain = \"sha256:ab\"\nescaped = \"a\\u00e9\"\nliteral = ['x\\y']\n";
        let fast: Pair<'_> = from_str(text).unwrap();
        assert!(matches!(fast.plain.0, Cow::Borrowed("sha256:ab")));
        assert!(matches!(&fast.escaped.0, Cow::Owned(s) if s == "a\u{e9}"));
        assert!(matches!(
            fast.literal.first(),
            Some(Str(Cow::Borrowed("x\\y")))
        ));
        // The same type reads through the `toml` crate, the fallback, with the same values.
        let slow: Pair<'_> = toml::from_str(text).unwrap();
        assert_eq!(
            (&*slow.plain, &*slow.escaped),
            (&*fast.plain, &*fast.escaped)
        );
        assert!(slow.literal.iter().map(|s| &**s).eq(["x\\y"]));
    }

    #[test]
    fn unescapes_basic_strings() {
        agrees(
            "a = \"q\\\"b\\\\t\\tn\\nr\\rb\\bf\\f\"\nb = \"\\u00e9\\U0001F600\\u0041\"\nc = \"x\\\\\"\n",
        );
        let root = document("a = \"1\\u00e92\\n\"\nb = \"plain\"\n").unwrap();
        let Some((_, Value::String(Cow::Owned(a)))) = root.entries.first() else {
            panic!("{root:?}")
        };
        assert_eq!(a, "1\u{e9}2\n");
        // Strings without escapes are borrowed from the text.
        assert!(matches!(
            root.entries.get(1),
            Some((_, Value::String(Cow::Borrowed("plain"))))
        ));
        for bad in [
            "a = \"\\e\"\n",
            "a = \"\\x41\"\n",
            "a = \"\\q\"\n",
            "a = \"\\u12\"\n",
            "a = \"\\uD800\"\n",
            "a = \"\\U00110000\"\n",
            "a = \"\\u00zz\"\n",
            "a = \"\\\n",
        ] {
            declines(bad);
        }
    }

    /// Every construct outside the subset is left to the `toml` crate, valid or not.
    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            // Multi-line strings.
            "a = \"\"\"\nx\"\"\"\n",
            "a = '''x'''\n",
            // Floats, dates and times, other integer forms.
            "a = 1.5\n",
            "a = 1e3\n",
            "a = inf\n",
            "a = nan\n",
            "a = -inf\n",
            "a = 1979-05-27\n",
            "a = 1979-05-27T07:32:00Z\n",
            "a = 07:32:00\n",
            "a = 0x1f\n",
            "a = 0o17\n",
            "a = 0b1\n",
            "a = 1_000\n",
            "a = +1\n",
            "a = 012\n",
            "a = 9223372036854775808\n",
            "a = -9223372036854775809\n",
            // Dotted keys left of `=`.
            "a.b = 1\n",
            "a . b = 1\n",
            "a = { b.c = 1 }\n",
            // Inline tables beyond TOML 1.0 or malformed.
            "a = { b = 1, }\n",
            "a = {\n b = 1 }\n",
            "a = { b = 1 # c\n}\n",
            "a = { b = 1 c = 2 }\n",
            "a = { , }\n",
            // Duplicates and redefinitions.
            "a = 1\na = 2\n",
            "a = 1\n\"a\" = 2\n",
            "a = { b = 1, b = 2 }\n",
            "[a]\n[a]\n",
            "[a]\n[\"a\"]\n",
            "[a.b]\n[a]\n[a]\n",
            "[a]\nb = 1\n[a.b]\n",
            "[a.b]\n[a]\nb = 1\n",
            "[[a]]\n[a]\n",
            "[a]\n[[a]]\n",
            "a = []\n[[a]]\n",
            "a = {}\n[a]\n",
            "a = { b = {} }\n[a.b.c]\n",
            "a = 1\n[a.b]\n",
            // Malformed lines.
            "a = [1,,2]\n",
            "a = [,]\n",
            "a = [1 2]\n",
            "a = [1\n",
            "a =\n",
            "= 1\n",
            "a = 1 b = 2\n",
            "a = truex\n",
            "a = tru\n",
            "a = 1x\n",
            "[a]]\n",
            "[a\n",
            "[]\n",
            "[a.]\n",
            "[ [a] ]\n",
            "[[a] ]\n",
            "a = \"unclosed\n",
            "a = 'unclosed\n",
            "a = 'x' 'y'\n",
            "\u{e9} = 1\n",
            // Bytes the spec forbids or the fast path leaves alone.
            "\u{feff}a = 1\n",
            "a = 1\rb = 2\n",
            "a = 1\r",
            "a = \"x\u{0}\"\n",
            "a = 'x\u{1f}'\n",
            "a = \"x\u{7f}\"\n",
            "# x\u{7}\n",
            "# x\ry\n",
            // The key `toml_datetime` uses to carry dates through serde.
            "\"$__toml_private_datetime\" = \"1979-05-27\"\n",
        ] {
            declines(text);
        }
        let deep = format!("a = {}{}\n", "[".repeat(40), "]".repeat(40));
        declines(&deep);
        let long_header = format!("[{}]\n", vec!["k"; 40].join("."));
        declines(&long_header);
    }

    /// A text read here whose values do not fit the type asked for falls back, so that the
    /// error is the `toml` crate's.
    #[test]
    fn type_mismatches_fall_back() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Lock {
            version: Option<i64>,
            #[serde(default)]
            package: Vec<Entry>,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct Entry {
            name: String,
            #[serde(default)]
            optional: bool,
        }
        assert_eq!(
            from_str::<Lock>("version = 3\n[[package]]\nname = \"a\"\noptional = true\n"),
            Some(Lock {
                version: Some(3),
                package: vec![Entry {
                    name: "a".into(),
                    optional: true
                }],
            })
        );
        for text in [
            "version = \"3\"\n",
            "version = true\n",
            "[[package]]\nname = 1\n",
            "[[package]]\noptional = true\n",
            "[[package]]\nname = \"a\"\noptional = \"yes\"\n",
            "[package]\nname = \"a\"\n",
            "package = [\"a\"]\n",
        ] {
            assert!(from_str::<Lock>(text).is_none(), "{text}");
            assert!(toml::from_str::<Lock>(text).is_err(), "{text}");
        }
        // `Option` of a present value is `Some`, as TOML has no null.
        assert_eq!(
            from_str::<BTreeMapOf>("a = \"x\"\n").map(|m| m.0),
            Some(std::collections::BTreeMap::from([(
                "a".to_owned(),
                Some("x".to_owned())
            )]))
        );
        #[derive(Deserialize)]
        struct BTreeMapOf(std::collections::BTreeMap<String, Option<String>>);
    }

    /// The fuzz target's seeds are read by the fast path, so that fuzzing starts inside the
    /// subset and mutates from there.
    #[test]
    fn fuzz_seeds_take_the_fast_path() {
        let seeds =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/toml_subset");
        let mut read = 0;
        for entry in std::fs::read_dir(&seeds).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            assert_eq!(
                agrees_with_toml(&text),
                Some(true),
                "{}",
                entry.path().display()
            );
            read += 1;
        }
        assert!(read > 0, "no seeds under {}", seeds.display());
    }

    /// Every TOML lockfile of the fixtures and of the corpus: where the fast path reads it, it
    /// reads what the `toml` crate reads; and it does read every corpus file, or the speed it
    /// exists for is silently lost.
    #[test]
    fn lockfiles_read_alike_and_real_ones_take_the_fast_path() {
        check_lockfile_texts(
            |name, _| {
                ["Cargo.lock", "uv.lock", "poetry.lock", "pdm.lock"]
                    .iter()
                    .any(|known| name.ends_with(known))
                    || name.ends_with(".toml")
            },
            |path, text, in_corpus| {
                let (fast, slow) = both(text);
                let shown = path.display();
                if in_corpus {
                    assert!(
                        fast.is_some(),
                        "the fast path declines {shown}; lines it declines alone: {:?}",
                        declined_lines(text)
                    );
                }
                if fast.is_some() {
                    assert_eq!(fast, slow, "{shown}");
                    assert_eq!(agrees_with_toml(text), Some(true), "{shown}");
                }
                in_corpus
            },
        );
    }
}

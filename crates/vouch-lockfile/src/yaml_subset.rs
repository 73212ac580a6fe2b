//! A fast reader for the YAML that lockfile writers emit, in front of `serde_norway`.
//!
//! pnpm (through js-yaml), yarn berry and `dart pub` write a small, regular part of YAML 1.2
//! ([spec](https://yaml.org/spec/1.2.2/)): block mappings and sequences indented with spaces,
//! one value per line, plain and quoted scalars on one line, and one-line flow collections
//! such as `resolution: {integrity: sha512-...}`. This module reads exactly that part into a
//! tree of borrowed nodes, several times faster than a general YAML parser, and serves it to
//! serde with the same scalar resolution `serde_norway` applies (YAML 1.2 core schema).
//!
//! It is a fast path, never the only path: anything outside that part (anchors, aliases,
//! tags, block scalars, multi-line scalars, explicit keys, tabs in indentation, directives,
//! and any construct whose reading could differ) gives `None`, and the caller parses the same
//! text with `serde_norway`, which also produces every error message. A deserialisation error
//! through this module is treated the same way, so errors always come from `serde_norway`.
//! `fuzz_targets/yaml_subset.rs` checks that wherever this module accepts a text, both readers
//! give the same values.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Deepest nesting read here, of flow collections within a line and of blocks within a
/// document; deeper input goes to the general parser (whose own limit is 128).
const MAX_FLOW_DEPTH: usize = 32;
const MAX_BLOCK_DEPTH: usize = 64;

/// Longest key read here, to its colon; YAML caps implicit keys at 1024 characters.
const MAX_KEY_BYTES: usize = 1000;

/// One YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    /// A plain (unquoted) scalar, resolved by the core schema when read; `""` is an empty
    /// value.
    Plain(&'a str),
    /// A single- or double-quoted scalar: always a string.
    Quoted(Cow<'a, str>),
    /// A mapping, in document order.
    Map(Vec<(Node<'a>, Node<'a>)>),
    /// A sequence.
    Seq(Vec<Node<'a>>),
}

/// The documents of `text`, or `None` when the text is outside the subset read here.
pub(crate) fn documents(text: &str) -> Option<Vec<Node<'_>>> {
    if text.starts_with('\u{feff}') || !printable(text) {
        return None;
    }
    let mut docs = Vec::new();
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut started = false;
    for raw in crate::common::split_lines(text) {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with("---") {
            match raw.get(3..) {
                // Only spaces and tabs may follow the marker (not any Unicode space).
                Some(rest) if rest.trim_matches([' ', '\t']).is_empty() => {}
                _ => return None,
            }
            if started || !lines.is_empty() {
                docs.push(document(std::mem::take(&mut lines))?);
            }
            started = true;
            continue;
        }
        if raw.starts_with("...") || raw.starts_with('%') {
            return None;
        }
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('\t') || content.trim().is_empty() {
            return None;
        }
        lines.push(Line {
            indent: raw.len() - content.len(),
            text: content,
        });
    }
    if started || !lines.is_empty() {
        docs.push(document(lines)?);
    }
    // A text of comments only is one empty document to serde_norway; left to it.
    (!docs.is_empty()).then_some(docs)
}

/// Whether every character is one YAML allows in a stream (spec 5.1: tab, line feed, carriage
/// return before a line feed, and the printable ranges), other than the line breaks of YAML 1.1
/// that this module does not split on (next line, line and paragraph separators).
fn printable(text: &str) -> bool {
    let bytes = text.as_bytes();
    let ascii_ok = bytes.iter().enumerate().all(|(i, &b)| match b {
        b'\t' | b'\n' => true,
        b'\r' => bytes.get(i + 1) == Some(&b'\n'),
        0..=0x1f | 0x7f => false,
        _ => true,
    });
    ascii_ok
        && (text.is_ascii()
            || text.chars().all(|c| {
                !matches!(
                    c,
                    '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
                )
            }))
}

/// Reads one document's lines: a block mapping or sequence, nothing else.
fn document(lines: Vec<Line<'_>>) -> Option<Node<'_>> {
    let first = lines.first()?;
    let mut parser = Parser {
        lines: &lines,
        pos: 0,
        depth: 0,
    };
    let node = parser.block(first.indent)?;
    (parser.pos == lines.len()).then_some(node)
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Parser<'l, 'a> {
    lines: &'l [Line<'a>],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'_, 'a> {
    fn current(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// A block node whose first line is the current one, indented by `indent`.
    fn block(&mut self, indent: usize) -> Option<Node<'a>> {
        let line = self.current()?;
        if self.depth >= MAX_BLOCK_DEPTH {
            return None;
        }
        self.depth += 1;
        let node = if is_sequence_entry(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        node
    }

    fn mapping(&mut self, indent: usize) -> Option<Node<'a>> {
        let mut entries = Vec::new();
        while let Some(line) = self.current() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_sequence_entry(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.pos += 1;
            let value = if blank_or_comment(rest) {
                match self.current() {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    Some(next) if next.indent == indent && is_sequence_entry(next.text) => {
                        self.sequence(indent)?
                    }
                    _ => Node::Plain(""),
                }
            } else {
                let value = inline_value(rest.trim_start_matches(' '))?;
                if self.current().is_some_and(|next| next.indent > indent) {
                    return None;
                }
                value
            };
            entries.push((key, value));
        }
        Some(Node::Map(entries))
    }

    fn sequence(&mut self, indent: usize) -> Option<Node<'a>> {
        let mut items = Vec::new();
        while let Some(line) = self.current() {
            if line.indent != indent || !is_sequence_entry(line.text) {
                if line.indent > indent {
                    return None;
                }
                break;
            }
            let rest = line.text.get(1..)?;
            self.pos += 1;
            let item = if blank_or_comment(rest) {
                match self.current() {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    _ => Node::Plain(""),
                }
            } else {
                let text = rest.trim_start_matches(' ');
                // `- key: value` starts a mapping inside the sequence: not read here.
                if split_key(text).is_some() || is_sequence_entry(text) {
                    return None;
                }
                let item = inline_value(text)?;
                if self.current().is_some_and(|next| next.indent > indent) {
                    return None;
                }
                item
            };
            items.push(item);
        }
        Some(Node::Seq(items))
    }
}

fn is_sequence_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Nothing but spaces, or spaces and a comment: what follows a key's colon when the value is
/// on the next lines, or what may follow a value on its line.
fn blank_or_comment(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

/// Splits `key: rest` (or `key:` at the end of the line) into the key and what follows the
/// colon. `None` when the line is not a simple key.
fn split_key(text: &str) -> Option<(Node<'_>, &str)> {
    let (key, rest) = split_key_any_length(text)?;
    // A general parser looks for a simple key's `:` within 1024 characters and fails beyond.
    (text.len() - rest.len() <= MAX_KEY_BYTES).then_some((key, rest))
}

fn split_key_any_length(text: &str) -> Option<(Node<'_>, &str)> {
    let first = *text.as_bytes().first()?;
    if first == b'\'' || first == b'"' {
        let (key, after) = quoted(text)?;
        let after = after.trim_start_matches(' ');
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((Node::Quoted(key), rest));
    }
    if starts_with_indicator(text) {
        return None;
    }
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => {
                // No ` #` can be inside: the loop stops at the first `#` after a space.
                let key = text.get(..i)?.trim_end_matches(' ');
                if key.is_empty() {
                    return None;
                }
                return Some((Node::Plain(key), text.get(i + 1..)?));
            }
            b'#' if after_space(bytes, i) => return None,
            b'\t' => return None,
            _ => {}
        }
    }
    None
}

/// Whether the byte at `i` follows a space: a `#` there starts a comment.
fn after_space(bytes: &[u8], i: usize) -> bool {
    i.checked_sub(1).and_then(|p| bytes.get(p)) == Some(&b' ')
}

/// A first character that makes a plain scalar impossible, or that this module leaves to the
/// general parser.
fn starts_with_indicator(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return true;
    };
    match first {
        b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' | b'#' | b',' | b'[' | b']'
        | b'{' | b'}' | b'\'' | b'"' => true,
        b'-' | b'?' | b':' => bytes.get(1).is_none_or(|&b| b == b' '),
        _ => false,
    }
}

/// A value written on the key's own line: quoted, flow or plain, then at most a comment.
fn inline_value(text: &str) -> Option<Node<'_>> {
    let first = *text.as_bytes().first()?;
    let (node, after) = match first {
        b'\'' | b'"' => {
            let (value, after) = quoted(text)?;
            (Node::Quoted(value), after)
        }
        b'{' | b'[' => flow(text, 0)?,
        _ => return block_plain(text).map(Node::Plain),
    };
    blank_or_comment(after).then_some(node)
}

/// A plain scalar in block context, up to a comment, trailing spaces removed.
fn block_plain(text: &str) -> Option<&str> {
    if starts_with_indicator(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' if after_space(bytes, i) => {
                end = i;
                break;
            }
            // `a: b: c` is an error in YAML; a colon before a space is a key indicator.
            b':' if bytes.get(i + 1).is_none_or(|&n| n == b' ') => return None,
            b'\t' => return None,
            _ => {}
        }
    }
    let value = text.get(..end)?.trim_end_matches(' ');
    (!value.is_empty()).then_some(value)
}

/// A quoted scalar at the start of `text`, closed on the same line; the unescaped value and
/// the text after the closing quote.
fn quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let bytes = text.as_bytes();
    match bytes.first()? {
        b'\'' => {
            let mut out: Option<String> = None;
            let mut i = 1;
            let mut start = 1;
            loop {
                let j = i + text.get(i..)?.find('\'')?;
                if bytes.get(j + 1) == Some(&b'\'') {
                    out.get_or_insert_with(String::new)
                        .push_str(text.get(start..=j)?);
                    i = j + 2;
                    start = i;
                    continue;
                }
                let tail = text.get(start..j)?;
                let value = match out {
                    Some(mut s) => {
                        s.push_str(tail);
                        Cow::Owned(s)
                    }
                    None => Cow::Borrowed(tail),
                };
                return Some((value, text.get(j + 1..)?));
            }
        }
        b'"' => {
            let mut out = String::new();
            let mut escaped = false;
            let mut chars = text.char_indices().skip(1);
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        let value = if escaped {
                            Cow::Owned(out)
                        } else {
                            Cow::Borrowed(text.get(1..i)?)
                        };
                        return Some((value, text.get(i + 1..)?));
                    }
                    '\\' => {
                        escaped = true;
                        let (_, e) = chars.next()?;
                        out.push(match e {
                            '\\' => '\\',
                            '"' => '"',
                            '/' => '/',
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            'b' => '\u{8}',
                            'f' => '\u{c}',
                            '0' => '\0',
                            'u' => {
                                let mut code = 0u32;
                                for _ in 0..4 {
                                    let (_, h) = chars.next()?;
                                    code = code * 16 + h.to_digit(16)?;
                                }
                                char::from_u32(code)?
                            }
                            _ => return None,
                        });
                    }
                    '\t' => return None,
                    c => out.push(c),
                }
            }
            None
        }
        _ => None,
    }
}

/// A flow collection at the start of `text`, closed on the same line; the node and the text
/// after it.
fn flow(text: &str, depth: usize) -> Option<(Node<'_>, &str)> {
    if depth > MAX_FLOW_DEPTH {
        return None;
    }
    let (close, is_map) = match text.as_bytes().first()? {
        b'{' => (b'}', true),
        b'[' => (b']', false),
        _ => return None,
    };
    let mut rest = text.get(1..)?.trim_start_matches(' ');
    let mut entries = Vec::new();
    let mut items = Vec::new();
    if let Some(after) = rest.strip_prefix(close as char) {
        let node = if is_map {
            Node::Map(entries)
        } else {
            Node::Seq(items)
        };
        return Some((node, after));
    }
    loop {
        let key_start = rest.len();
        let (first, after) = flow_node(rest, depth)?;
        rest = after.trim_start_matches(' ');
        if is_map {
            let after_colon = rest.strip_prefix(':')?;
            if key_start - rest.len() > MAX_KEY_BYTES {
                return None;
            }
            if !after_colon.starts_with(' ') {
                return None;
            }
            let (value, after) = flow_node(after_colon.trim_start_matches(' '), depth)?;
            entries.push((first, value));
            rest = after.trim_start_matches(' ');
        } else {
            if rest.starts_with(':') {
                return None;
            }
            items.push(first);
        }
        let next = *rest.as_bytes().first()?;
        if next == close {
            rest = rest.get(1..)?;
            break;
        }
        if next != b',' {
            return None;
        }
        rest = rest.get(1..)?.trim_start_matches(' ');
        // A trailing comma is valid YAML; leave it, and empty entries, to the general parser.
        if rest.starts_with([',', ']', '}']) {
            return None;
        }
    }
    let node = if is_map {
        Node::Map(entries)
    } else {
        Node::Seq(items)
    };
    Some((node, rest))
}

/// One node inside a flow collection.
fn flow_node(text: &str, depth: usize) -> Option<(Node<'_>, &str)> {
    match *text.as_bytes().first()? {
        b'\'' | b'"' => {
            let (value, after) = quoted(text)?;
            Some((Node::Quoted(value), after))
        }
        b'{' | b'[' => flow(text, depth + 1),
        // Inside a flow collection `:` and `?` are indicators whatever follows them.
        b':' | b'?' => None,
        _ => {
            if starts_with_indicator(text) {
                return None;
            }
            let bytes = text.as_bytes();
            let mut end = bytes.len();
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b',' | b'[' | b']' | b'{' | b'}' => {
                        end = i;
                        break;
                    }
                    b':' => match bytes.get(i + 1) {
                        Some(b' ') => {
                            end = i;
                            break;
                        }
                        // A general parser refuses `:` before a flow indicator or `?`.
                        None | Some(b',' | b'?' | b'[' | b']' | b'{' | b'}') => return None,
                        _ => {}
                    },
                    b'#' if after_space(bytes, i) => return None,
                    b'\t' => return None,
                    _ => {}
                }
            }
            let value = text.get(..end)?.trim_end_matches(' ');
            if value.is_empty() {
                return None;
            }
            Some((Node::Plain(value), text.get(end..)?))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar resolution (YAML 1.2 core schema, as serde_norway applies it).

/// What a plain scalar means.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Resolved {
    Null,
    Bool(bool),
    Unsigned(u64),
    Float(f64),
    Str,
}

/// Resolves a plain scalar, or `None` for the forms whose reading this module leaves to the
/// general parser (signs, radix prefixes, exponents, special floats, numbers out of range).
fn resolve(s: &str) -> Option<Resolved> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Resolved::Null),
        "true" | "True" | "TRUE" => return Some(Resolved::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Resolved::Bool(false)),
        _ => {}
    }
    let bytes = s.as_bytes();
    // Every number serde_norway recognises (decimal, `0x`, `0o`, `0b`, floats with exponents,
    // `.inf`, `.nan`) is spelled with these bytes only; anything else is a string.
    if !bytes.iter().all(|&b| {
        b.is_ascii_hexdigit()
            || matches!(
                b,
                b'.' | b'+'
                    | b'-'
                    | b'x'
                    | b'o'
                    | b'i'
                    | b'n'
                    | b't'
                    | b'y'
                    | b'I'
                    | b'N'
                    | b'T'
                    | b'Y'
            )
    }) {
        return Some(Resolved::Str);
    }
    // `1.2.3`: no number has two dots.
    if bytes.iter().filter(|&&b| b == b'.').count() >= 2 {
        return Some(Resolved::Str);
    }
    let first = *bytes.first()?;
    // No number starts with a letter (`inf` and `nan` need a dot before them).
    if first.is_ascii_alphabetic() {
        return Some(Resolved::Str);
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        // A leading zero followed by digits is a string, not an octal number.
        if bytes.len() > 1 && first == b'0' {
            return Some(Resolved::Str);
        }
        return s.parse().ok().map(Resolved::Unsigned);
    }
    if !first.is_ascii_digit() {
        // `.`, `+` or `-` first: a number only as a special float, a signed radix integer, or
        // digits with dots, signs and exponents; anything else is a string (`.`, `./bin`).
        let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
        let special = [".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"].contains(&unsigned);
        let radix = ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p));
        let numeric = unsigned.bytes().any(|b| b.is_ascii_digit())
            && unsigned
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        return if special || radix || numeric {
            None
        } else {
            Some(Resolved::Str)
        };
    }
    if first == b'0' && matches!(bytes.get(1), Some(b'x' | b'o' | b'b')) {
        return None;
    }
    // After a leading digit, only a decimal float can follow: any other letter makes a
    // string (`18.x`, a hex digest).
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Some(Resolved::Str);
    }
    if bytes.iter().all(|&b| b.is_ascii_digit() || b == b'.') {
        return s
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Resolved::Float);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// serde.

/// Any failure: the caller falls back to `serde_norway`, which gives the real message.
#[derive(Debug)]
pub(crate) struct Fallback;

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outside the YAML subset read by the fast path")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Fallback
    }
}

fn is_null(node: &Node<'_>) -> bool {
    matches!(node, Node::Plain(s) if resolve(s) == Some(Resolved::Null))
}

impl<'de> Deserializer<'de> for &Node<'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self {
            Node::Plain(s) => match resolve(s).ok_or(Fallback)? {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(b) => visitor.visit_bool(b),
                Resolved::Unsigned(n) => visitor.visit_u64(n),
                Resolved::Float(f) => visitor.visit_f64(f),
                Resolved::Str => visitor.visit_borrowed_str(s),
            },
            Node::Quoted(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Node::Quoted(Cow::Owned(s)) => visitor.visit_str(s),
            Node::Map(entries) => visitor.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
            Node::Seq(items) => visitor.visit_seq(Items { iter: items.iter() }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self {
            Node::Plain(s) => match resolve(s) {
                Some(Resolved::Bool(b)) => visitor.visit_bool(b),
                _ => Err(Fallback),
            },
            _ => Err(Fallback),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self {
            Node::Plain(s) | Node::Quoted(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Node::Quoted(Cow::Owned(s)) => visitor.visit_str(s),
            _ => Err(Fallback),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        if is_null(self) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        if is_null(self) {
            visitor.visit_unit()
        } else {
            Err(Fallback)
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self {
            Node::Map(entries) => visitor.visit_map(Entries {
                iter: entries.iter(),
                value: None,
            }),
            Node::Plain("") => visitor.visit_map(Entries {
                iter: [].iter(),
                value: None,
            }),
            _ => Err(Fallback),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self {
            Node::Seq(items) => visitor.visit_seq(Items { iter: items.iter() }),
            _ => Err(Fallback),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        visitor.visit_unit()
    }

    // Everything else is left to the general parser, whose readings of numbers, bytes,
    // characters, tuples and enums this module does not reproduce.
    fn deserialize_i8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
}

struct Entries<'n, 'de> {
    iter: std::slice::Iter<'n, (Node<'de>, Node<'de>)>,
    value: Option<&'n Node<'de>>,
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
                seed.deserialize(key).map(Some)
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

struct Items<'n, 'de> {
    iter: std::slice::Iter<'n, Node<'de>>,
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Fallback;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Fallback> {
        self.iter.next().map(|n| seed.deserialize(n)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Whether the fast path, where it reads `text`, reads the values `serde_norway` reads; `None`
/// when it declines. For the differential fuzz target and the tests.
pub(crate) fn agrees_with_serde_norway(text: &str) -> Option<bool> {
    use serde::Deserialize;
    let fast = documents(text)?
        .iter()
        .map(|d| Any::deserialize(d).ok())
        .collect::<Option<Vec<_>>>()?;
    let slow = serde_norway::Deserializer::from_str(text)
        .map(|d| Any::deserialize(d).ok())
        .collect::<Option<Vec<_>>>();
    Some(slow.as_ref() == Some(&fast))
}

/// Any YAML value as serde sees it, keys included: every node, key or value, is read with
/// `deserialize_any`, so scalar resolution is compared everywhere (a `serde_json::Value` reads
/// keys as strings and would not see a key resolved differently).
#[derive(Debug, PartialEq)]
enum Any {
    Unit,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    /// Bits, so that NaN equals NaN.
    Float(u64),
    Str(String),
    Seq(Vec<Any>),
    Map(Vec<(Any, Any)>),
}

impl<'de> de::Deserialize<'de> for Any {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Any;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Any, E> {
                Ok(Any::Unit)
            }
            fn visit_none<E: de::Error>(self) -> Result<Any, E> {
                Ok(Any::Unit)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Any, E> {
                Ok(Any::Bool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Any, E> {
                Ok(Any::Unsigned(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Any, E> {
                Ok(Any::Signed(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Any, E> {
                Ok(Any::Float(v.to_bits()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Any, E> {
                Ok(Any::Str(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Any::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Any::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// Deserialises the only document of `text` through the fast path, or `None` to fall back.
pub(crate) fn from_str<'t, T: de::Deserialize<'t>>(text: &'t str) -> Option<T> {
    let docs = documents(text)?;
    match docs.as_slice() {
        [doc] => T::deserialize(doc).ok(),
        _ => None,
    }
}

/// The lockfile corpus: `$VOUCH_SHARED_DIR/corpus/lockfiles`, by default beside the checkout.
#[cfg(test)]
pub(crate) fn corpus_dir() -> std::path::PathBuf {
    std::env::var_os("VOUCH_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("corpus/lockfiles")
}

/// Walks the fixtures and the corpus and calls `check(path, text, in_corpus)` on every file
/// `wanted(name, text)` selects; `check` says whether it held the file to the fast path. When
/// it held none (no corpus), the test says it was skipped.
#[cfg(test)]
pub(crate) fn check_lockfile_texts(
    wanted: impl Fn(&str, &str) -> bool,
    mut check: impl FnMut(&std::path::Path, &str, bool) -> bool,
) {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut real = 0;
    for (root, in_corpus) in [
        (manifest.join("tests/fixtures"), false),
        (corpus_dir(), true),
    ] {
        for entry in walkdir::WalkDir::new(&root).into_iter().flatten() {
            let name = entry.file_name().to_string_lossy();
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            if wanted(&name, &text) && check(entry.path(), &text, in_corpus) {
                real += 1;
            }
        }
    }
    if real == 0 {
        eprintln!("SKIPPED: lockfile corpus not found (set VOUCH_SHARED_DIR); fixtures only");
    }
}

/// The corpus file `rel` (under `corpus/lockfiles`), or `None` with a SKIPPED line.
#[cfg(test)]
pub(crate) fn corpus_text(rel: &str) -> Option<String> {
    let path = corpus_dir().join(rel);
    let text = std::fs::read_to_string(&path).ok();
    if text.is_none() {
        eprintln!("SKIPPED: no corpus file at {}", path.display());
    }
    text
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;

    /// Both readers, through `serde_json::Value`.
    fn both(text: &str) -> (Option<Vec<Value>>, Option<Vec<Value>>) {
        let fast = documents(text).and_then(|docs| {
            docs.iter()
                .map(|d| Value::deserialize(d).ok())
                .collect::<Option<Vec<_>>>()
        });
        let slow = serde_norway::Deserializer::from_str(text)
            .map(|d| Value::deserialize(d).ok())
            .collect();
        (fast, slow)
    }

    /// Lines that, read alone without their indentation, the fast path declines.
    fn declined_lines(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|line| {
                let line = line.trim_start();
                let alone = if line.starts_with("- ") {
                    format!("k:\n{line}\n")
                } else {
                    format!("{line}\n")
                };
                agrees_with_serde_norway(&alone) != Some(true)
            })
            .take(5)
            .collect()
    }

    #[track_caller]
    fn agrees(text: &str) {
        let (fast, slow) = both(text);
        assert!(slow.is_some(), "serde_norway reads {text}");
        assert_eq!(fast, slow, "{text}");
        assert_eq!(agrees_with_serde_norway(text), Some(true), "{text}");
    }

    #[track_caller]
    fn declines(text: &str) {
        assert_eq!(documents(text), None, "{text}");
    }

    #[test]
    fn reads_what_lockfile_writers_emit() {
        agrees(
            "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n\nimporters:\n\n  .:\n    dependencies:\n      '@scope/pkg':\n        specifier: ^1.0.0\n        version: 1.2.3(react@18.2.0)\n\npackages:\n\n  '@scope/pkg@1.2.3':\n    resolution: {integrity: sha512-AbC+/=, tarball: 'https://x/y.tgz'}\n    engines: {node: '>=14'}\n    cpu: [x64, arm64]\n    hasBin: true\n    bundledDependencies:\n      - a\n      - '@b/c'\n  vite: workspace:*\n  k: 'it''s'\n  d: \"a\\\"b\\u00e9\"\n  empty:\n  flows: {}\n  seq: []\n  n: 5.4\n  v: 1.0.0\n  z: 0123\n  i: 42\n  u: ~\n  c: value # comment\n  url: http://example.com:8080/x\n",
        );
        agrees("a: 1\n---\nb: 2\n");
        agrees("---\nkey:\n- one\n- two\nnext: x\n");
        agrees("a:\r\n  b: c\r\n");
    }

    #[test]
    fn resolves_scalars_as_serde_norway_does() {
        for s in [
            "1",
            "0",
            "007",
            "1.0",
            "5.4",
            "9.",
            "1.2.3",
            "18.x",
            "1_000",
            "true",
            "False",
            "NULL",
            "~",
            "inf",
            "nan",
            "yes",
            "no",
            "0.0.1-beta",
            "4.0.0",
            "12345678901234567890",
            "./bin/x.js",
            "-bar/baz",
            "10/0a1b",
            ".hidden",
        ] {
            agrees(&format!("k: {s}\n"));
        }
        // Doubtful forms are either read exactly as serde_norway reads them or declined.
        for s in [
            "1e",
            "1e5",
            "-1",
            "+1",
            ".5",
            ".inf",
            "-.inf",
            ".nan",
            "0x1f",
            "0o17",
            "0b1",
            "-foo",
            "99999999999999999999",
            "deadbeef",
            "1.0e3",
        ] {
            let text = format!("k: {s}\n");
            let (fast, slow) = both(&text);
            assert!(fast.is_none() || fast == slow, "{text}");
        }
    }

    /// Every YAML lockfile of the fixtures and of the corpus: where the fast path reads it,
    /// it reads what serde_norway reads; and it does read the real-world files, or the speed
    /// it exists for is silently lost.
    #[test]
    fn lockfiles_read_alike_and_real_ones_take_the_fast_path() {
        check_lockfile_texts(
            |name, text| {
                name.ends_with(".yaml") || (name == "yarn.lock" && text.contains("__metadata:"))
            },
            |path, text, in_corpus| {
                let (fast, slow) = both(text);
                let shown = path.display();
                // The corpus's `edge` files are deliberately unusual; the others are real.
                let must_read = in_corpus && !path.components().any(|c| c.as_os_str() == "edge");
                if must_read {
                    assert!(
                        fast.is_some(),
                        "the fast path declines {shown}; lines it declines alone: {:?}",
                        declined_lines(text)
                    );
                }
                if fast.is_some() {
                    assert_eq!(fast, slow, "{shown}");
                    assert_eq!(agrees_with_serde_norway(text), Some(true), "{shown}");
                }
                must_read
            },
        );
    }

    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !tag 1\n",
            "a: |\n  text\n",
            "a: >\n  folded\n",
            "a: plain\n  continued\n",
            "? complex\n: value\n",
            "a:\n\t- x\n",
            "a: 'open\n  quote'\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: [1, 2,]\n",
            "a: -1\n",
            "a: 0x10\n",
            "a: 1e5\n",
            "a: b: c\n",
            "- k: v\n",
            "a: {b}\n",
            "a: {k: x:?y}\n",
            "a: {k: :v}\n",
            "a: [?x]\n",
            &format!("{}: v\n", "k".repeat(1100)),
            &format!("a: {{{}: v}}\n", "k".repeat(1100)),
            "\u{feff}a: 1\n",
            "  a: 1\n b: 2\n",
        ] {
            if let Some(docs) = documents(text) {
                // Accepted structure must still refuse to resolve the doubtful scalar.
                assert!(
                    docs.iter().any(|d| Value::deserialize(d).is_err()),
                    "{text:?} was read: {docs:?}"
                );
            }
        }
        declines("a: &x 1\n");
        declines("");
        assert_eq!(agrees_with_serde_norway("---\u{a0}\n-\n"), None);
        declines("a: 'x\0y'\n");
        declines("a: x\u{85}y\n");
        declines("a: b\rc: d\n");
        declines("# only a comment\n");
        declines("a: |\n  text\n");
        declines("a: plain\n  continued\n");
    }
}

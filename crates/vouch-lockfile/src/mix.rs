//! Elixir `mix.lock`.
//!
//! Format: an Elixir map literal written by `Mix.Dep.Lock`
//! (<https://hexdocs.pm/mix/Mix.Tasks.Deps.html>, `lib/mix/dep/lock.ex` in
//! <https://github.com/elixir-lang/elixir>), keyed by application name. Hex entries come from
//! `Hex.SCM` (<https://github.com/hexpm/hex>, `lib/hex/scm.ex`) and have grown over time:
//! `{:hex, :pkg, "version"}`, then an inner checksum, build tools, dependencies, the repository
//! and finally the outer checksum, giving
//! `{:hex, :pkg, "version", "inner", [:mix], [deps], "hexpm", "outer"}`. The outer checksum is
//! the SHA-256 of the package tarball (recorded as a hash); the inner one hashes the contents
//! (kept as a property). Each dependency is `{:app, "requirement", [hex: :pkg, repo: "hexpm",
//! optional: bool]}`. Git entries are `{:git, "url", "commit", [branch: ..., tag: ..., ...]}`.
//!
//! The file is not JSON, so this module reads the literal subset mix writes: maps, tuples,
//! lists, keyword lists, atoms (`:a`, `:"quoted"`), strings with escapes, numbers, booleans
//! and `nil`.
//!
//! The lock does not name the project nor its direct dependencies, so a root named after the
//! directory depends on the entries nothing else in the lock depends on.

use std::collections::BTreeMap;

use hashbrown::HashMap;
use vouch_digest::{Algorithm, Digest};
use vouch_inventory::{Ecosystem, Inventory, Package, PackageId, Source};

use crate::common::{self, Lines};
use crate::nuget::project_name;
use crate::{Input, ParseError};

/// How deeply terms may nest (mix writes at most four levels).
const MAX_DEPTH: usize = 64;

/// Parses a `mix.lock`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lines = Lines::new(text);
    let mut parser = TermParser {
        file,
        text,
        bytes: text.as_bytes(),
        pos: 0,
        count: 0,
    };
    let top = parser.document()?;
    let Term::Map(entries) = top else {
        return Err(ParseError::invalid(
            file,
            "lockfile",
            "a map `%{...}`",
            top.describe(),
        ));
    };

    let mut inv = Inventory::new();
    let root = inv.add_root(Package::new(Ecosystem::Hex, project_name(file)).found_in(file, None));

    // Pass 1: packages, by application name (the key dependency lists refer to).
    let mut by_app: HashMap<String, PackageId> = HashMap::new();
    let mut deps_of: Vec<(PackageId, &[Term])> = Vec::new();
    for (key, value, offset) in &entries {
        let line = lines.line_of(*offset);
        let at = |e: ParseError| e.at_line(line as usize);
        let app = key.text().ok_or_else(|| {
            at(ParseError::invalid(
                file,
                "key",
                "a package name",
                key.describe(),
            ))
        })?;
        let Term::Tuple(items) = value else {
            return Err(at(ParseError::invalid(
                file,
                app,
                "a tuple `{:hex, ...}` or `{:git, ...}`",
                value.describe(),
            )));
        };
        let (p, deps) = entry(file, app, items, line).map_err(at)?;
        let id = inv.add(p);
        by_app.insert(app.to_owned(), id.clone());
        deps_of.push((id, deps));
    }

    // Pass 2: edges. An optional dependency that is locked was asked for by the project or
    // another package, so it stays required; who declared it optional is kept as a property.
    let mut has_parent: Vec<bool> = vec![false; deps_of.len()];
    let position: HashMap<&PackageId, usize> = deps_of
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id, i))
        .collect();
    let mut optional_for: BTreeMap<PackageId, Vec<String>> = BTreeMap::new();
    for (from, deps) in &deps_of {
        for dep in *deps {
            let Term::Tuple(parts) = dep else { continue };
            let Some(app) = parts.first().and_then(Term::text) else {
                continue;
            };
            let Some(to) = by_app.get(app) else { continue };
            inv.depend(from, to);
            if to != from
                && let Some(flag) = position.get(to).and_then(|i| has_parent.get_mut(*i))
            {
                *flag = true;
            }
            let optional = parts
                .get(2)
                .and_then(|opts| keyword(opts, "optional"))
                .is_some_and(|v| matches!(v, Term::Atom(a) if a == "true"));
            if optional {
                let name = inv.get(from).map(|p| p.name.clone()).unwrap_or_default();
                optional_for.entry(to.clone()).or_default().push(name);
            }
        }
    }
    for ((id, _), parent) in deps_of.iter().zip(has_parent) {
        if !parent {
            inv.depend(&root, id);
        }
    }
    for (id, names) in optional_for {
        if let Some(p) = inv.get_mut(&id) {
            p.properties
                .insert("vouch:optional-for".to_owned(), names.join(", "));
        }
    }
    Ok(inv)
}

/// One lock entry: the package and its dependency list.
fn entry<'t>(
    file: &str,
    app: &str,
    items: &'t [Term],
    line: u32,
) -> Result<(Package, &'t [Term]), ParseError> {
    let scm = items.first().and_then(Term::atom).unwrap_or("");
    let string_at = |i: usize| items.get(i).and_then(Term::string);
    match scm {
        "hex" => {
            let name = items.get(1).and_then(Term::text).unwrap_or(app);
            let version = string_at(2).ok_or_else(|| {
                ParseError::missing(file, "version", format!("hex entry `{app}`"))
            })?;
            let repo = string_at(6).unwrap_or("hexpm");
            // A private organisation's repository is `hexpm:org`; the purl namespace.
            let org = repo.strip_prefix("hexpm:");
            let mut p = common::package(Ecosystem::Hex, org, name, Some(version), file, Some(line));
            p.source = Source::Registry {
                url: (repo == "hexpm" || org.is_some()).then(|| "https://repo.hex.pm".to_owned()),
            };
            if repo != "hexpm" {
                p.properties
                    .insert("vouch:hex-repo".to_owned(), repo.to_owned());
            }
            if name != app {
                p.properties
                    .insert("vouch:mix-app".to_owned(), app.to_owned());
            }
            if let Some(inner) = string_at(3) {
                p.properties
                    .insert("vouch:hex-inner-checksum".to_owned(), inner.to_owned());
            }
            if let Some(outer) = string_at(7) {
                match Digest::from_hex(Algorithm::Sha256, outer) {
                    Ok(d) => {
                        p.hashes.insert(d);
                    }
                    Err(_) => {
                        p.properties
                            .insert("vouch:integrity-malformed".to_owned(), outer.to_owned());
                    }
                }
            }
            if let Some(Term::List(tools)) = items.get(4) {
                let tools: Vec<&str> = tools.iter().filter_map(Term::atom).collect();
                p.properties
                    .insert("vouch:hex-build-tools".to_owned(), tools.join(", "));
            }
            let deps = match items.get(5) {
                Some(Term::List(deps)) => deps.as_slice(),
                _ => &[],
            };
            Ok((p, deps))
        }
        "git" => {
            let url = string_at(1)
                .ok_or_else(|| ParseError::missing(file, "url", format!("git entry `{app}`")))?;
            let commit = string_at(2)
                .ok_or_else(|| ParseError::missing(file, "commit", format!("git entry `{app}`")))?;
            let opts = items.get(3);
            let reference = ["branch", "tag", "ref"]
                .iter()
                .find_map(|k| opts.and_then(|o| keyword(o, k)).and_then(Term::string))
                .map(str::to_owned);
            // A git dependency has no registry version; the commit identifies it.
            let mut p = common::package(Ecosystem::Hex, None, app, Some(commit), file, Some(line));
            p.purl = p.purl.and_then(|purl| {
                purl.with_qualifier("vcs_url", &format!("git+{url}@{commit}"))
                    .ok()
            });
            p.source = Source::Git {
                url: url.to_owned(),
                commit: Some(commit.to_owned()),
                reference,
            };
            if let Some(sparse) = opts
                .and_then(|o| keyword(o, "sparse"))
                .and_then(Term::string)
            {
                p.properties
                    .insert("vouch:git-path".to_owned(), sparse.to_owned());
            }
            Ok((p, &[]))
        }
        _ => {
            // Another SCM (mix lets projects plug their own in): report what is known.
            let mut p = Package::new(Ecosystem::Hex, app).found_in(file, Some(line));
            p.properties
                .insert("vouch:mix-scm".to_owned(), scm.to_owned());
            Ok((p, &[]))
        }
    }
}

/// The value of `key` in a keyword list `[key: value, ...]`.
fn keyword<'t>(list: &'t Term, key: &str) -> Option<&'t Term> {
    let Term::List(items) = list else { return None };
    items.iter().find_map(|item| match item {
        Term::Tuple(pair) if pair.len() == 2 && pair.first().and_then(Term::atom) == Some(key) => {
            pair.get(1)
        }
        _ => None,
    })
}

/// An Elixir literal.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Atom(String),
    Str(String),
    Number(String),
    List(Vec<Term>),
    Tuple(Vec<Term>),
    /// Entries with the byte offset of each key.
    Map(Vec<(Term, Term, usize)>),
}

impl Term {
    fn atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a),
            _ => None,
        }
    }

    fn string(&self) -> Option<&str> {
        match self {
            Term::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An atom or a string.
    fn text(&self) -> Option<&str> {
        match self {
            Term::Atom(s) | Term::Str(s) => Some(s),
            _ => None,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Term::Atom(_) => "an atom",
            Term::Str(_) => "a string",
            Term::Number(_) => "a number",
            Term::List(_) => "a list",
            Term::Tuple(_) => "a tuple",
            Term::Map(_) => "a map",
        }
    }
}

/// A recursive-descent reader for the literal subset of Elixir that mix writes.
struct TermParser<'a> {
    file: &'a str,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Terms read so far, against [`MAX_ENTRIES`].
    count: usize,
}

impl TermParser<'_> {
    fn document(&mut self) -> Result<Term, ParseError> {
        self.skip_space();
        let term = self.value(0)?;
        self.skip_space();
        if self.pos < self.bytes.len() {
            return Err(self.error("expected the end of the file after the map"));
        }
        Ok(term)
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        let (line, col) = common::line_col_of_bytes(self.bytes, self.pos);
        ParseError::syntax(self.file, "Elixir term", message, Some((line, col)))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => {
                    while let Some(b) = self.peek() {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), ParseError> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Term, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.count += 1;
        common::check_entries(self.file, self.count, "terms")?;
        self.skip_space();
        match self.peek() {
            Some(b'%') => {
                self.pos += 1;
                self.expect(b'{', "`{` after `%`")?;
                let mut entries = Vec::new();
                self.sequence(b'}', "`,` or `}`", |p| {
                    p.skip_space();
                    let offset = p.pos;
                    let (key, value) = match p.keyword_key()? {
                        Some(k) => (Term::Atom(k), p.value(depth + 1)?),
                        None => {
                            let key = p.value(depth + 1)?;
                            p.skip_space();
                            if p.bytes.get(p.pos..p.pos + 2) != Some(b"=>".as_slice()) {
                                return Err(p.error("expected `=>` or `key:` in a map"));
                            }
                            p.pos += 2;
                            (key, p.value(depth + 1)?)
                        }
                    };
                    entries.push((key, value, offset));
                    Ok(())
                })?;
                Ok(Term::Map(entries))
            }
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.sequence(b'}', "`,` or `}`", |p| {
                    items.push(p.value(depth + 1)?);
                    Ok(())
                })?;
                Ok(Term::Tuple(items))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.sequence(b']', "`,` or `]`", |p| {
                    p.skip_space();
                    let item = match p.keyword_key()? {
                        Some(k) => Term::Tuple(vec![Term::Atom(k), p.value(depth + 1)?]),
                        None => p.value(depth + 1)?,
                    };
                    items.push(item);
                    Ok(())
                })?;
                Ok(Term::List(items))
            }
            Some(b'"') => Ok(Term::Str(self.string(b'"')?)),
            Some(b'\'') => Ok(Term::Str(self.string(b'\'')?)),
            Some(b':') => {
                self.pos += 1;
                match self.peek() {
                    Some(b'"') => Ok(Term::Atom(self.string(b'"')?)),
                    _ => {
                        let name = self.identifier();
                        if name.is_empty() {
                            Err(self.error("expected an atom name after `:`"))
                        } else {
                            Ok(Term::Atom(name.to_owned()))
                        }
                    }
                }
            }
            Some(b) if b == b'-' || b.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while let Some(b) = self.peek() {
                    if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                let n = self.text.get(start..self.pos).unwrap_or_default();
                Ok(Term::Number(n.to_owned()))
            }
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                let name = self.identifier().to_owned();
                match name.as_str() {
                    "true" | "false" | "nil" => Ok(Term::Atom(name)),
                    _ => Err(self.error(format!("unexpected `{name}`; expected a literal"))),
                }
            }
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of file")),
        }
    }

    /// Reads `item (, item)* [,] close`, the opening bracket already consumed.
    fn sequence(
        &mut self,
        close: u8,
        what: &str,
        mut item: impl FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.skip_space();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_space();
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error(format!("expected {what}"))),
            }
        }
    }

    /// A keyword key (`name:` or `"name":` followed by whitespace), consumed; `None` (and
    /// nothing consumed) when the next value is not one.
    fn keyword_key(&mut self) -> Result<Option<String>, ParseError> {
        let start = self.pos;
        let key = match self.peek() {
            Some(b'"') => self.string(b'"')?,
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => self.identifier().to_owned(),
            _ => return Ok(None),
        };
        let is_key = self.peek() == Some(b':')
            && self
                .bytes
                .get(self.pos + 1)
                .is_some_and(|b| b.is_ascii_whitespace());
        if is_key {
            self.pos += 1;
            Ok(Some(key))
        } else {
            self.pos = start;
            Ok(None)
        }
    }

    fn identifier(&mut self) -> &str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'@' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if matches!(self.peek(), Some(b'?' | b'!')) {
            self.pos += 1;
        }
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// A quoted string or charlist, the opening quote at `pos`.
    fn string(&mut self, quote: u8) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..).unwrap_or_default();
            let Some(i) = rest.find([quote as char, '\\', '#']) else {
                self.pos = open;
                return Err(self.error("unterminated string"));
            };
            out.push_str(rest.get(..i).unwrap_or_default());
            self.pos += i;
            match self.peek() {
                Some(b) if b == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'#') => {
                    if self.bytes.get(self.pos + 1) == Some(&b'{') {
                        return Err(self.error("string interpolation is not a literal"));
                    }
                    out.push('#');
                    self.pos += 1;
                }
                _ => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
            }
        }
    }

    /// The escape after a backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let Some(c) = self.text.get(self.pos..).and_then(|r| r.chars().next()) else {
            return Err(self.error("unterminated string"));
        };
        self.pos += c.len_utf8();
        let simple = match c {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            's' => Some(' '),
            'e' => Some('\u{1b}'),
            '0' => Some('\0'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            'd' => Some('\u{7f}'),
            'x' | 'u' => None,
            // Anything else, quotes and backslashes included, stands for itself.
            other => Some(other),
        };
        if let Some(ch) = simple {
            out.push(ch);
            return Ok(());
        }
        let braced = self.peek() == Some(b'{');
        if braced {
            self.pos += 1;
        }
        let start = self.pos;
        let max = match (c, braced) {
            (_, true) => 6,
            ('x', false) => 2,
            _ => 4,
        };
        while self.pos - start < max && self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let hex = self.text.get(start..self.pos).unwrap_or_default();
        if braced {
            if self.peek() != Some(b'}') {
                return Err(self.error("expected `}` closing a `\\u{...}` escape"));
            }
            self.pos += 1;
        }
        let ch = u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| self.error(format!("invalid `\\{c}` escape")))?;
        out.push(ch);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Term, ParseError> {
        let mut p = TermParser {
            file: "mix.lock",
            text,
            bytes: text.as_bytes(),
            pos: 0,
            count: 0,
        };
        p.document()
    }

    #[test]
    fn reads_literals() {
        let t = read(r#"%{"a": {:hex, :"b c", "1\"\x41\u{42}", [x: 1, y: nil], 'cl'}, "k" => []}"#)
            .unwrap();
        let Term::Map(entries) = t else { panic!() };
        assert_eq!(entries.len(), 2);
        let (k, v, off) = &entries[0];
        assert_eq!(k, &Term::Atom("a".into()));
        assert_eq!(*off, 2);
        assert_eq!(
            v,
            &Term::Tuple(vec![
                Term::Atom("hex".into()),
                Term::Atom("b c".into()),
                Term::Str("1\"AB".into()),
                Term::List(vec![
                    Term::Tuple(vec![Term::Atom("x".into()), Term::Number("1".into())]),
                    Term::Tuple(vec![Term::Atom("y".into()), Term::Atom("nil".into())]),
                ]),
                Term::Str("cl".into()),
            ])
        );
        assert_eq!(entries[1].0, Term::Str("k".into()));
    }

    #[test]
    fn rejects_interpolation_and_garbage() {
        assert!(read(r##"%{"a": "#{x}"}"##).is_err());
        assert!(read("%{a: foo}").is_err());
        assert!(read("%{} x").is_err());
        assert!(read(&"[".repeat(100)).is_err());
    }
}

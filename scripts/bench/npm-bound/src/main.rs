//! A lower bound for `vouch sbom` on an npm `package-lock.json` (v2 or v3), used by
//! `scripts/bench/bound.sh`. Not part of vouch, and its output is not an SBOM to use.
//!
//! It asks how fast a run could be if it gave up vouch's design: no shared inventory, no
//! dependency graph of its own, no encoder that serves every format. The lockfile is read
//! into one buffer, its `packages` map is parsed into entries that borrow from that buffer,
//! and a CycloneDX 1.6 document of the same shape as vouch's (the same members per component,
//! pretty-printed the same way) is written to standard output in 64 KiB pieces, each hashed
//! with SHA-256 on the way, as vouch hashes its document to derive the serial number.
//!
//! It does less than vouch, so that the bound errs on the fast side:
//! - licences are written as given, never classified into SPDX identifiers and expressions;
//! - URLs are not checked, names and versions not validated, `npm:` aliases not resolved;
//! - linked workspace members are skipped, with their edges; bundled and peer flags ignored;
//! - only `sha512-` integrity is decoded; there is no root component, no metadata beyond the
//!   header, and the nil serial number is not replaced.
//!
//! Usage: `npm-bound LOCKFILE > out.json`; `npm-bound --noop` exits at once (the start and
//! exit of a small binary). `NPM_BOUND_PHASES=1` prints the time of each phase to stderr.

use std::error::Error;
use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// A JSON object kept as its key-value pairs in document order.
struct Pairs<K, V>(Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Pairs<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<K, V> {
            type Value = Pairs<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(PairsVisitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct Lock<'a> {
    #[serde(borrow)]
    packages: Pairs<&'a str, Entry<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry<'a> {
    version: Option<&'a str>,
    resolved: Option<&'a str>,
    integrity: Option<&'a str>,
    license: Option<&'a str>,
    name: Option<&'a str>,
    dev: bool,
    optional: bool,
    link: bool,
    #[serde(borrow)]
    dependencies: Pairs<&'a str, &'a str>,
    #[serde(borrow, rename = "optionalDependencies")]
    optional_dependencies: Pairs<&'a str, &'a str>,
    #[serde(borrow, rename = "peerDependencies")]
    peer_dependencies: Pairs<&'a str, &'a str>,
}

struct Component<'a> {
    purl: String,
    group: Option<&'a str>,
    name: &'a str,
    version: &'a str,
    dev: bool,
    optional: bool,
    sha512_hex: Option<String>,
    license: Option<&'a str>,
    resolved: Option<&'a str>,
    line: usize,
    deps: Vec<usize>,
}

const NONE: usize = usize::MAX;
const PIECE: usize = 64 * 1024;

fn main() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: npm-bound LOCKFILE | --noop")?;
    if path == "--noop" {
        return Ok(());
    }
    let bytes = std::fs::read(&path)?;
    let read = start.elapsed();
    let lock: Lock<'_> = serde_json::from_slice(&bytes)?;
    let entries = &lock.packages.0;
    let parsed = start.elapsed();

    let lines = key_lines(&bytes, entries.iter().map(|(key, _)| *key));
    let mut by_path: Map<&str, usize> =
        Map::with_capacity_and_hasher(entries.len(), <_>::default());
    for (i, (key, _)) in entries.iter().enumerate() {
        by_path.insert(key, i);
    }
    let mut components: Vec<Component<'_>> = Vec::with_capacity(entries.len());
    let mut by_purl: Map<String, usize> =
        Map::with_capacity_and_hasher(entries.len(), <_>::default());
    let mut component_of = vec![NONE; entries.len()];
    for (i, ((key, entry), line)) in entries.iter().zip(&lines).enumerate() {
        if key.is_empty() || entry.link {
            continue;
        }
        let full = entry
            .name
            .unwrap_or_else(|| match key.rfind("node_modules/") {
                Some(at) => key.get(at + "node_modules/".len()..).unwrap_or(key),
                None => key,
            });
        let (group, name) = match full.split_once('/') {
            Some((group, name)) if group.starts_with('@') => (Some(group), name),
            _ => (None, full),
        };
        let version = entry.version.unwrap_or("");
        let mut purl = String::with_capacity(16 + full.len() + version.len());
        purl.push_str("pkg:npm/");
        if let Some(group) = group {
            purl.push_str("%40");
            purl.push_str(group.trim_start_matches('@'));
            purl.push('/');
        }
        purl.push_str(name);
        purl.push('@');
        purl.push_str(version);
        if let Some(&seen) = by_purl.get(&purl) {
            if let (Some(slot), Some(c)) = (component_of.get_mut(i), components.get_mut(seen)) {
                *slot = seen;
                c.dev &= entry.dev;
                c.optional &= entry.optional;
            }
            continue;
        }
        let sha512_hex = entry
            .integrity
            .and_then(|sri| sri.strip_prefix("sha512-"))
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .map(|digest| hex(&digest));
        if let Some(slot) = component_of.get_mut(i) {
            *slot = components.len();
        }
        by_purl.insert(purl.clone(), components.len());
        components.push(Component {
            purl,
            group,
            name,
            version,
            dev: entry.dev,
            optional: entry.optional,
            sha512_hex,
            license: entry.license,
            resolved: entry.resolved,
            line: *line,
            deps: Vec::new(),
        });
    }
    // npm's lookup: a dependency of the package at P is P/node_modules/NAME, else the same
    // name under each ancestor of P, up to the top-level node_modules.
    let mut candidate = String::new();
    for (i, (key, entry)) in entries.iter().enumerate() {
        let from = component_of.get(i).copied().unwrap_or(NONE);
        if from == NONE {
            continue;
        }
        let names = entry.dependencies.0.iter();
        let names = names
            .chain(&entry.optional_dependencies.0)
            .chain(&entry.peer_dependencies.0);
        for (dep, _) in names {
            let mut base: &str = key;
            loop {
                candidate.clear();
                candidate.push_str(base);
                if !base.is_empty() {
                    candidate.push('/');
                }
                candidate.push_str("node_modules/");
                candidate.push_str(dep);
                if let Some(&at) = by_path.get(candidate.as_str()) {
                    let to = component_of.get(at).copied().unwrap_or(NONE);
                    if let (true, Some(c)) = (to != NONE, components.get_mut(from)) {
                        c.deps.push(to);
                    }
                    break;
                }
                if base.is_empty() {
                    break;
                }
                base = base
                    .rfind("/node_modules/")
                    .and_then(|at| base.get(..at))
                    .unwrap_or("");
            }
        }
    }
    let mut order: Vec<usize> = (0..components.len()).collect();
    order.sort_unstable_by(|&a, &b| purl_of(&components, a).cmp(purl_of(&components, b)));
    let modelled = start.elapsed();

    let mut out = Doc::new(std::io::stdout().lock());
    out.raw(
        b"{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",\n  \"serialNumber\": ",
    );
    out.raw(b"\"urn:uuid:00000000-0000-0000-0000-000000000000\",\n  \"version\": 1,\n  ");
    out.raw(b"\"metadata\": {},\n  \"components\": [");
    for (k, c) in order.iter().filter_map(|&i| components.get(i)).enumerate() {
        if k > 0 {
            out.raw(b",");
        }
        write_component(&mut out, c, &path);
        out.flush_if_full()?;
    }
    out.line(1, b"],");
    out.line(1, b"\"dependencies\": [");
    let mut depends_on: Vec<&str> = Vec::new();
    for (k, c) in order.iter().filter_map(|&i| components.get(i)).enumerate() {
        if k > 0 {
            out.raw(b",");
        }
        out.line(2, b"{");
        out.member(3, b"\"ref\": ", &c.purl, c.deps.is_empty());
        if !c.deps.is_empty() {
            depends_on.clear();
            depends_on.extend(c.deps.iter().map(|&d| purl_of(&components, d)));
            depends_on.sort_unstable();
            depends_on.dedup();
            out.line(3, b"\"dependsOn\": [");
            for (x, d) in depends_on.iter().enumerate() {
                out.indent(4);
                out.string(d);
                if x + 1 < depends_on.len() {
                    out.raw(b",");
                }
            }
            out.line(3, b"]");
        }
        out.line(2, b"}");
        out.flush_if_full()?;
    }
    out.line(1, b"]");
    out.raw(b"\n}\n");
    out.finish()?;
    if std::env::var_os("NPM_BOUND_PHASES").is_some() {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let done = start.elapsed();
        eprintln!(
            "read {:.3} parse {:.3} model {:.3} encode {:.3}",
            ms(read),
            ms(parsed - read),
            ms(modelled - parsed),
            ms(done - modelled)
        );
    }
    Ok(())
}

fn purl_of<'c>(components: &'c [Component<'_>], i: usize) -> &'c str {
    components.get(i).map_or("", |c| c.purl.as_str())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The line of each `packages` key, found by one forward scan: keys sit at the start of a line
/// indented by four spaces, in the order the parser returned them.
fn key_lines<'a>(text: &[u8], keys: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let finder = memchr::memmem::Finder::new(b"\n    \"");
    let (mut pos, mut line) = (0, 1);
    let mut lines = Vec::new();
    for key in keys {
        while let Some(off) = text.get(pos..).and_then(|rest| finder.find(rest)) {
            line += memchr::memchr_iter(b'\n', text.get(pos..pos + off).unwrap_or(&[])).count();
            pos += off;
            let at = pos + "\n    \"".len();
            let here = text.get(at..at + key.len()) == Some(key.as_bytes());
            if here && text.get(at + key.len()) == Some(&b'"') {
                break;
            }
            pos += 1;
            line += 1;
        }
        lines.push(line + 1);
    }
    lines
}

fn write_component<W: Write>(out: &mut Doc<W>, c: &Component<'_>, location: &str) {
    out.line(2, b"{");
    out.line(3, b"\"type\": \"library\",");
    out.member(3, b"\"bom-ref\": ", &c.purl, false);
    out.line(3, b"\"supplier\": {");
    out.line(4, b"\"name\": \"npm\",");
    out.line(4, b"\"url\": [");
    out.line(5, b"\"https://www.npmjs.com\"");
    out.line(4, b"]");
    out.line(3, b"},");
    if let Some(group) = c.group {
        out.member(3, b"\"group\": ", group, false);
    }
    out.member(3, b"\"name\": ", c.name, false);
    out.member(3, b"\"version\": ", c.version, false);
    let scope = match (c.dev, c.optional) {
        (true, _) => "excluded",
        (false, true) => "optional",
        (false, false) => "required",
    };
    out.member(3, b"\"scope\": ", scope, false);
    if let Some(digest) = &c.sha512_hex {
        out.line(3, b"\"hashes\": [");
        out.line(4, b"{");
        out.line(5, b"\"alg\": \"SHA-512\",");
        out.member(5, b"\"content\": ", digest, true);
        out.line(4, b"}");
        out.line(3, b"],");
    }
    if let Some(license) = c.license {
        out.line(3, b"\"licenses\": [");
        out.line(4, b"{");
        out.line(5, b"\"license\": {");
        out.member(6, b"\"id\": ", license, true);
        out.line(5, b"}");
        out.line(4, b"}");
        out.line(3, b"],");
    }
    out.member(3, b"\"purl\": ", &c.purl, false);
    if let Some(url) = c.resolved {
        out.line(3, b"\"externalReferences\": [");
        out.line(4, b"{");
        out.line(5, b"\"type\": \"distribution\",");
        out.member(5, b"\"url\": ", url, true);
        out.line(4, b"}");
        out.line(3, b"],");
    }
    out.line(3, b"\"properties\": [");
    let scope = if c.dev { "dev" } else { "required" };
    let properties = [
        ("vouch:direct", "false"),
        ("vouch:ecosystem", "npm"),
        ("vouch:scope", scope),
    ];
    for (i, (name, value)) in properties.iter().enumerate() {
        out.line(4, b"{");
        out.member(5, b"\"name\": ", name, false);
        out.member(5, b"\"value\": ", value, true);
        out.line(
            4,
            if i + 1 < properties.len() {
                b"},"
            } else {
                b"}"
            },
        );
    }
    out.line(3, b"],");
    out.line(3, b"\"evidence\": {");
    out.line(4, b"\"occurrences\": [");
    out.line(5, b"{");
    out.member(6, b"\"location\": ", location, false);
    out.indent(6);
    out.raw(b"\"line\": ");
    out.uint(c.line);
    out.line(5, b"}");
    out.line(4, b"]");
    out.line(3, b"}");
    out.line(2, b"}");
}

/// Pretty-printed JSON written in pieces of about [`PIECE`] bytes, each hashed on the way.
struct Doc<W: Write> {
    buf: Vec<u8>,
    sha256: aws_lc_rs::digest::Context,
    sink: W,
}

impl<W: Write> Doc<W> {
    fn new(sink: W) -> Self {
        let sha256 = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        Doc {
            buf: Vec::with_capacity(PIECE + 16 * 1024),
            sha256,
            sink,
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn indent(&mut self, depth: usize) {
        self.buf.push(b'\n');
        self.buf.resize(self.buf.len() + 2 * depth, b' ');
    }

    fn line(&mut self, depth: usize, bytes: &[u8]) {
        self.indent(depth);
        self.raw(bytes);
    }

    fn member(&mut self, depth: usize, name: &[u8], value: &str, last: bool) {
        self.line(depth, name);
        self.string(value);
        if !last {
            self.buf.push(b',');
        }
    }

    fn string(&mut self, s: &str) {
        self.buf.push(b'"');
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.buf.extend_from_slice(s.as_bytes());
        } else {
            for ch in s.chars() {
                match ch {
                    '"' => self.buf.extend_from_slice(b"\\\""),
                    '\\' => self.buf.extend_from_slice(b"\\\\"),
                    c if u32::from(c) < 0x20 => {
                        let _ = write!(self.buf, "\\u{:04x}", u32::from(c));
                    }
                    c => self
                        .buf
                        .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
        }
        self.buf.push(b'"');
    }

    fn uint(&mut self, n: usize) {
        let _ = write!(self.buf, "{n}");
    }

    fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= PIECE {
            self.sha256.update(&self.buf);
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.sha256.update(&self.buf);
        self.sink.write_all(&self.buf)?;
        let _digest = self.sha256.finish();
        self.sink.flush()
    }
}

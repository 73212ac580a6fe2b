//! What the lower bounds of `scripts/bench/bound.sh` share: a component as they hold it, and
//! the writer of a CycloneDX 1.6 document of the same shape as vouch's (the same members per
//! component, pretty-printed the same way), in 64 KiB pieces, each hashed with SHA-256 on the
//! way, as vouch hashes its document to derive the serial number. Not part of vouch.

use std::io::Write;
use std::time::{Duration, Instant};

/// A hash map with the fast hash vouch uses.
pub type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// No component: an entry that is not one (the root, a link).
pub const NONE: usize = usize::MAX;
const PIECE: usize = 64 * 1024;

/// One package or workspace project, borrowing from the lockfile's text.
pub struct Component<'a> {
    pub purl: String,
    pub application: bool,
    pub group: Option<&'a str>,
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub dev: bool,
    pub optional: bool,
    pub sha512_hex: Option<String>,
    pub license: Option<&'a str>,
    pub resolved: Option<&'a str>,
    pub source_path: Option<&'a str>,
    pub line: usize,
    pub deps: Vec<usize>,
}

impl<'a> Component<'a> {
    /// An npm package `full` (`name` or `@scope/name`) at `version`, found at `line`.
    pub fn npm(full: &'a str, version: Option<&'a str>, line: usize) -> Self {
        let (group, name) = match full.split_once('/') {
            Some((group, name)) if group.starts_with('@') => (Some(group), name),
            _ => (None, full),
        };
        let v = version.unwrap_or("");
        let mut purl = String::with_capacity(16 + full.len() + v.len());
        purl.push_str("pkg:npm/");
        if let Some(group) = group {
            purl.push_str("%40");
            purl.push_str(group.trim_start_matches('@'));
            purl.push('/');
        }
        purl.push_str(name);
        if let Some(v) = version {
            purl.push('@');
            purl.push_str(v);
        }
        Component {
            purl,
            application: false,
            group,
            name,
            version,
            dev: false,
            optional: false,
            sha512_hex: None,
            license: None,
            resolved: None,
            source_path: None,
            line,
            deps: Vec::new(),
        }
    }
}

/// The SHA-512 digest of an SRI `integrity` value, in lower-case hex.
pub fn sha512_hex(integrity: &str) -> Option<String> {
    use base64::Engine as _;
    let b64 = integrity.strip_prefix("sha512-")?;
    let digest = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(hex(&digest))
}

/// Where the document goes: the file named by the second argument, created anew, or else
/// standard output.
pub fn output() -> std::io::Result<Box<dyn Write>> {
    Ok(match std::env::args_os().nth(2) {
        Some(path) => Box::new(std::fs::File::create_new(path)?),
        None => Box::new(std::io::stdout().lock()),
    })
}

/// Times of the phases of one run, printed to stderr when `SBOM_BOUND_PHASES` is set.
pub struct Phases {
    start: Instant,
    marks: Vec<(&'static str, Duration)>,
}

impl Phases {
    pub fn start() -> Self {
        Phases {
            start: Instant::now(),
            marks: Vec::new(),
        }
    }

    /// Ends the phase called `name`.
    pub fn mark(&mut self, name: &'static str) {
        self.marks.push((name, self.start.elapsed()));
    }

    pub fn report(&self) {
        if std::env::var_os("SBOM_BOUND_PHASES").is_none() {
            return;
        }
        let mut line = String::new();
        let mut before = Duration::ZERO;
        for (name, at) in &self.marks {
            let ms = (*at - before).as_secs_f64() * 1000.0;
            line.push_str(&format!("{name} {ms:.3} "));
            before = *at;
        }
        eprintln!("{}", line.trim_end());
    }
}

/// Writes the document: `components` sorted by purl, then each one's dependencies.
pub fn write_document(
    sink: impl Write,
    components: &[Component<'_>],
    location: &str,
) -> std::io::Result<()> {
    let mut order: Vec<usize> = (0..components.len()).collect();
    order.sort_unstable_by(|&a, &b| purl_of(components, a).cmp(purl_of(components, b)));
    let mut out = Doc::new(sink);
    out.raw(
        b"{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",\n  \"serialNumber\": ",
    );
    out.raw(b"\"urn:uuid:00000000-0000-0000-0000-000000000000\",\n  \"version\": 1,\n  ");
    out.raw(b"\"metadata\": {},\n  \"components\": [");
    for (k, c) in order.iter().filter_map(|&i| components.get(i)).enumerate() {
        if k > 0 {
            out.raw(b",");
        }
        write_component(&mut out, c, location);
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
            depends_on.extend(c.deps.iter().map(|&d| purl_of(components, d)));
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
    out.finish()
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

fn write_component<W: Write>(out: &mut Doc<W>, c: &Component<'_>, location: &str) {
    out.line(2, b"{");
    if c.application {
        out.line(3, b"\"type\": \"application\",");
    } else {
        out.line(3, b"\"type\": \"library\",");
    }
    out.member(3, b"\"bom-ref\": ", &c.purl, false);
    if !c.application {
        out.line(3, b"\"supplier\": {");
        out.line(4, b"\"name\": \"npm\",");
        out.line(4, b"\"url\": [");
        out.line(5, b"\"https://www.npmjs.com\"");
        out.line(4, b"]");
        out.line(3, b"},");
    }
    if let Some(group) = c.group {
        out.member(3, b"\"group\": ", group, false);
    }
    out.member(3, b"\"name\": ", c.name, false);
    if let Some(version) = c.version {
        out.member(3, b"\"version\": ", version, false);
    }
    // CycloneDX's scope, and vouch's own scope property.
    let (scope, vouch_scope) = match (c.dev, c.optional) {
        (true, _) => ("excluded", "dev"),
        (false, true) => ("optional", "optional"),
        (false, false) => ("required", "required"),
    };
    out.member(3, b"\"scope\": ", scope, false);
    if let Some(digest) = &c.sha512_hex {
        out.one_object_array(
            b"\"hashes\": [",
            b"\"alg\": \"SHA-512\",",
            b"\"content\": ",
            digest,
        );
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
        out.one_object_array(
            b"\"externalReferences\": [",
            b"\"type\": \"distribution\",",
            b"\"url\": ",
            url,
        );
    }
    out.line(3, b"\"properties\": [");
    let mut properties: Vec<(&str, &str)> = Vec::with_capacity(4);
    if !c.application {
        properties.push(("vouch:direct", "false"));
    }
    properties.push(("vouch:ecosystem", "npm"));
    properties.push(("vouch:scope", vouch_scope));
    if let Some(path) = c.source_path {
        properties.push(("vouch:source-path", path));
    }
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

    /// A member of the component (depth 3) whose value is an array of one object with two
    /// members: `fixed`, written as it is, then `name` with the string `value`.
    fn one_object_array(&mut self, open: &[u8], fixed: &[u8], name: &[u8], value: &str) {
        self.line(3, open);
        self.line(4, b"{");
        self.line(5, fixed);
        self.member(5, name, value, true);
        self.line(4, b"}");
        self.line(3, b"],");
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

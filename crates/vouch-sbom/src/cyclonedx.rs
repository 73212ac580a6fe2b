//! CycloneDX 1.6 / 1.5 JSON, <https://cyclonedx.org/docs/1.6/json/>.
//!
//! Conventions, where the specification leaves a choice:
//! - `bom-ref` is the inventory's package identity (its purl when it has one), so references
//!   are stable across runs and readable.
//! - `group` holds the purl namespace for ecosystems whose names have one in their own syntax
//!   (npm `@scope`, Maven `groupId`, Composer vendor), as the CycloneDX tools for those
//!   ecosystems do; `name` is then the rest. Other ecosystems keep the whole name (a Go module
//!   path is a name, not a group and a name).
//! - scope: runtime dependencies are `required`, optional ones `optional`, and development
//!   dependencies `excluded`, which the 1.6 schema defines as "component usage for test and
//!   other non-runtime purposes ... not reachable within a call graph at runtime". The original
//!   scope is also kept in the `vouch:scope` property, since `excluded` does not say why.
//! - `supplier` is the public registry the package came from, when known (see
//!   [`crate::model::supplier`]); otherwise omitted.
//! - evidence: 1.6 writes `occurrences[].location` (the file) and `line`; 1.5 has no `line`,
//!   so the location is written `file:line` there.
//! - `dependencies` lists every component, the subject included; components without
//!   dependencies have an entry without `dependsOn`, which says "has none" rather than
//!   "unknown".

use std::cmp::Ordering;
use std::fmt;
use std::io::{self, Seek, SeekFrom, Write};
use std::ops::Range;

use vouch_digest::{Algorithm, Hasher};

use vouch_inventory::{Ecosystem, Kind, Package, PackageId, Scope, Source};

use crate::CdxVersion;
use crate::json_out::{JsonOut, Key, key};
use crate::model::{self, Context, Graph, License};

// The document is written field by field from the graph into one buffer, in the layout
// serde_json's pretty printer gives (see `json_out`), rather than built as `Serialize` structs
// and then serialised: on lockfiles of a thousand packages, building one struct per component
// and going through serde's generic serializer cost noticeably more than writing the bytes
// directly. The members are written in the order those structs declared them; documents are
// byte-for-byte what they were, so their derived serial numbers are too.

/// The subject's `bom-ref`. Package identities are purls (`pkg:`), `project:` or
/// `<ecosystem>:` strings, so a `subject:` prefix cannot collide with one.
pub(crate) fn subject_ref(graph: &Graph<'_>) -> String {
    format!("subject:{}", model::subject_label(graph.subject))
}

/// Writes the document with the serial number and timestamp of `ctx` (no timestamp when it is
/// empty), without a trailing newline.
///
/// The `Result` keeps the signature of the other encoders; the only possible error is a
/// `Display` implementation (of a purl) failing, which serde_json reported the same way.
pub(crate) fn encode(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    Ok(write(version, graph, ctx)?.out.into_bytes())
}

/// Encodes with a serial number derived from the content, writing the document once.
///
/// The content identity is the hash of the draft `encode` gives with the nil serial and no
/// timestamp, plus a trailing newline (what lib.rs hashes on its generic path). Here the
/// document is written with the nil serial and the timestamp; hashing it with the timestamp's
/// line left out hashes exactly the draft, and the derived serial then replaces the nil one in
/// place, at the same length.
pub(crate) fn encode_derived(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    let nil = Context {
        uuid: model::NIL_UUID,
        ..*ctx
    };
    let Written {
        out,
        serial,
        timestamp,
    } = write(version, graph, &nil)?;
    let mut bytes = out.into_bytes();
    bytes.push(b'\n');
    if patch_serial(&mut bytes, &serial, timestamp.as_ref()) {
        return Ok(bytes);
    }
    two_pass(version, graph, ctx)
}

/// Replaces the nil serial of a whole document written with it by the serial derived from
/// the document without its timestamp member; `false` (nothing changed) when the document
/// is not laid out as [`layout_ok`] expects.
fn patch_serial(bytes: &mut [u8], serial: &Range<usize>, timestamp: Option<&Range<usize>>) -> bool {
    if !layout_ok(bytes, serial, timestamp) {
        return false;
    }
    let skip = timestamp.cloned().unwrap_or(0..0);
    let (Some(head), Some(tail)) = (bytes.get(..skip.start), bytes.get(skip.end..)) else {
        return false;
    };
    let uuid = model::uuid_from_parts(&[head, tail]);
    match bytes.get_mut(serial.clone()) {
        Some(slot) if slot.len() == uuid.len() => {
            slot.copy_from_slice(uuid.as_bytes());
            true
        }
        _ => false,
    }
}

/// Whether the start of a document holds the nil serial at `serial` and, when there is a
/// timestamp, `\n    "timestamp": "…",` at `timestamp`. Both follow from the writing order of
/// [`write_document`], and are checked so that a change of that order costs a second
/// encoding, not a wrong identity.
fn layout_ok(start: &[u8], serial: &Range<usize>, timestamp: Option<&Range<usize>>) -> bool {
    let skipped_ok = match timestamp {
        None => true,
        Some(t) if t.is_empty() => true,
        Some(t) => start.get(t.start) == Some(&b'\n') && start.get(t.end - 1) == Some(&b','),
    };
    skipped_ok && start.get(serial.clone()) == Some(model::NIL_UUID.as_bytes())
}

/// How many bytes a streamed document holds in memory before handing them on.
pub(crate) const PIECE: usize = 64 * 1024;

/// [`encode_derived`], writing the document to `w` in pieces of about [`PIECE`] bytes as it
/// is produced, hashing each on the way, then writing the serial number over the nil one
/// near the start. A document of any size then takes a fixed amount of memory.
pub(crate) fn encode_derived_to<W: Write + Seek>(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
    w: &mut W,
) -> Result<(), ToError> {
    let nil = Context {
        uuid: model::NIL_UUID,
        ..*ctx
    };
    let Some(hasher) = Hasher::new(Algorithm::Sha256) else {
        return write_whole(version, graph, ctx, w);
    };
    let base = w.stream_position().map_err(ToError::Io)?;
    let mut stream = Stream {
        w: &mut *w,
        hasher,
        started: false,
    };
    let mut out = JsonOut::with_capacity(PIECE + PIECE / 4);
    let written = write_document(&mut out, version, graph, &nil, Some(&mut stream));
    let Stream {
        mut hasher,
        started,
        ..
    } = stream;
    let (serial, timestamp) = match written {
        Ok(found) => found,
        // Nothing has gone out yet: the first piece is checked before it does.
        Err(WriteError::Layout) => return write_whole(version, graph, ctx, w),
        Err(WriteError::Io(e)) => return Err(ToError::Io(e)),
        Err(WriteError::Format) => return Err(ToError::Serialize(format_error())),
    };
    out.raw(b"\n");
    if !started {
        // The document is small enough to be still whole in memory.
        let mut bytes = out.into_bytes();
        if !patch_serial(&mut bytes, &serial, timestamp.as_ref()) {
            return write_whole(version, graph, ctx, w);
        }
        return w.write_all(&bytes).map_err(ToError::Io);
    }
    hasher.update(out.pending());
    out.take(|piece| w.write_all(piece)).map_err(ToError::Io)?;
    let uuid = model::uuid_from_digest(Some(hasher.finish()));
    if uuid.len() != serial.len() {
        return Err(ToError::Serialize(
            <serde_json::Error as serde::ser::Error>::custom(
                "the derived serial number does not fit its placeholder",
            ),
        ));
    }
    (|| {
        w.seek(SeekFrom::Start(base + serial.start as u64))?;
        w.write_all(uuid.as_bytes())?;
        w.seek(SeekFrom::End(0)).map(drop)
    })()
    .map_err(ToError::Io)
}

/// The document encoded in memory the plain way and written whole.
fn write_whole<W: Write>(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
    w: &mut W,
) -> Result<(), ToError> {
    let bytes = two_pass(version, graph, ctx).map_err(ToError::Serialize)?;
    w.write_all(&bytes).map_err(ToError::Io)
}

/// Why [`encode_derived_to`] failed.
#[derive(Debug)]
pub(crate) enum ToError {
    Serialize(serde_json::Error),
    Io(io::Error),
}

/// Why [`write_document`] stopped.
enum WriteError {
    /// A `Display` implementation (of a purl) failed.
    Format,
    /// Writing a piece out failed.
    Io(io::Error),
    /// The start of the document is not laid out as the derived serial needs; nothing has been
    /// written out.
    Layout,
}

impl From<fmt::Error> for WriteError {
    fn from(_: fmt::Error) -> Self {
        WriteError::Format
    }
}

fn format_error() -> serde_json::Error {
    <serde_json::Error as serde::ser::Error>::custom("a purl could not be formatted")
}

/// Where a streamed document goes, and the hash of what has gone there.
struct Stream<'w> {
    w: &'w mut dyn Write,
    hasher: Hasher,
    /// Whether a piece has gone out.
    started: bool,
}

impl Stream<'_> {
    /// Hands the pending bytes on once there are at least [`PIECE`] of them. The first piece is
    /// checked and hashed without the timestamp member before it goes.
    fn spill(
        &mut self,
        out: &mut JsonOut,
        serial: &Range<usize>,
        timestamp: Option<&Range<usize>>,
    ) -> Result<(), WriteError> {
        let piece = out.pending();
        if piece.len() < PIECE {
            return Ok(());
        }
        if self.started {
            self.hasher.update(piece);
        } else {
            if !layout_ok(piece, serial, timestamp) {
                return Err(WriteError::Layout);
            }
            let skip = timestamp.cloned().unwrap_or(0..0);
            let (Some(head), Some(tail)) = (piece.get(..skip.start), piece.get(skip.end..)) else {
                return Err(WriteError::Layout);
            };
            self.hasher.update(head);
            self.hasher.update(tail);
            self.started = true;
        }
        out.take(|piece| self.w.write_all(piece))
            .map_err(WriteError::Io)
    }
}

/// The plain way to a derived serial: encode the draft, hash it, encode again.
fn two_pass(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    let draft_ctx = Context {
        uuid: model::NIL_UUID,
        created: "",
        ..*ctx
    };
    let mut draft = encode(version, graph, &draft_ctx)?;
    draft.push(b'\n');
    let uuid = model::uuid_from_content(&draft);
    let mut bytes = encode(
        version,
        graph,
        &Context {
            uuid: &uuid,
            ..*ctx
        },
    )?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A written document and where two values are in it.
struct Written {
    out: JsonOut,
    /// The UUID inside `serialNumber`.
    serial: Range<usize>,
    /// The timestamp's whole member: from the line break before `"timestamp"` to the comma
    /// after its value. `None` when there is no timestamp.
    timestamp: Option<Range<usize>>,
}

fn write(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Written, serde_json::Error> {
    let mut out = JsonOut::with_capacity(capacity(graph));
    match write_document(&mut out, version, graph, ctx, None) {
        Ok((serial, timestamp)) => Ok(Written {
            out,
            serial,
            timestamp,
        }),
        // Without a stream, nothing is written out or checked.
        Err(WriteError::Format | WriteError::Io(_) | WriteError::Layout) => Err(format_error()),
    }
}

/// Writes the document into `out`, handing pieces to `stream` as it goes when there is one;
/// returns where the serial number's UUID and the timestamp member are.
fn write_document(
    out: &mut JsonOut,
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
    mut stream: Option<&mut Stream<'_>>,
) -> Result<(Range<usize>, Option<Range<usize>>), WriteError> {
    out.begin_object();
    out.field(key!("bomFormat"), "CycloneDX");
    out.field(key!("specVersion"), version.as_str());
    out.key(key!("serialNumber"));
    let prefix = "urn:uuid:";
    // After the opening quote and the prefix; the UUID itself needs no escaping.
    let serial_at = out.len() + 1 + prefix.len();
    out.display(&format_args!("{prefix}{}", ctx.uuid))?;
    let serial = serial_at..serial_at + ctx.uuid.len();
    out.key(key!("version"));
    out.uint(1);

    out.key(key!("metadata"));
    out.begin_object();
    let mut timestamp = None;
    if !ctx.created.is_empty() {
        let start = out.len();
        out.field(key!("timestamp"), ctx.created);
        // `tools` always follows, so the next byte is the comma that ends this member.
        timestamp = Some(start..out.len() + 1);
    }
    out.key(key!("tools"));
    out.begin_object();
    out.key(key!("components"));
    out.begin_array();
    out.begin_object();
    out.field(key!("type"), "application");
    out.field(key!("name"), ctx.tool_name);
    out.field(key!("version"), ctx.tool_version);
    out.end_object();
    out.end_array();
    out.end_object();
    let subject_ref = subject_ref(graph);
    out.key(key!("component"));
    out.begin_object();
    out.field(key!("type"), "application");
    out.field(key!("bom-ref"), &subject_ref);
    out.field(key!("name"), &graph.subject.name);
    out.field_opt(key!("version"), graph.subject.version.as_deref());
    out.end_object();
    out.end_object();

    out.key(key!("components"));
    out.begin_array();
    for (id, pkg) in &graph.packages {
        component(out, version, graph, id, pkg)?;
        if let Some(s) = stream.as_deref_mut() {
            s.spill(out, &serial, timestamp.as_ref())?;
        }
    }
    out.end_array();

    out.key(key!("dependencies"));
    out.begin_array();
    dependency(out, &subject_ref, &graph.subject_deps);
    for (id, _) in &graph.packages {
        dependency(out, &id.0, graph.deps(id));
        if let Some(s) = stream.as_deref_mut() {
            s.spill(out, &serial, timestamp.as_ref())?;
        }
    }
    out.end_array();
    out.end_object();
    Ok((serial, timestamp))
}

/// A generous guess at the document's size, so that the buffer is allocated once: about a
/// kilobyte of structure per component, its identity three times (`bom-ref`, `purl`, `ref`),
/// its hashes, and a line per dependency edge. Documents of the test corpus come out between
/// 1.1 and 3.1 KB per component, the spread being mostly hashes.
fn capacity(graph: &Graph<'_>) -> usize {
    let components: usize = graph
        .packages
        .iter()
        .map(|(id, pkg)| {
            let hashes: usize = pkg.hashes.iter().map(|h| h.hex().len() + 96).sum();
            1024 + 3 * id.0.len() + pkg.name.len() + hashes
        })
        .sum();
    let edges: usize = graph
        .edges
        .iter()
        .flat_map(|(_, tos)| tos)
        .map(|to| to.0.len() + 16)
        .sum();
    4096 + components + edges
}

fn dependency(out: &mut JsonOut, reference: &str, depends_on: &[&PackageId]) {
    out.begin_object();
    out.field(key!("ref"), reference);
    if !depends_on.is_empty() {
        out.key(key!("dependsOn"));
        out.begin_array();
        for to in depends_on {
            out.string(&to.0);
        }
        out.end_array();
    }
    out.end_object();
}

/// The most properties the encoder itself adds to one component: ecosystem, scope, direct,
/// and at most three from the source (git commit, reference and URL).
const OWN_PROPERTIES: usize = 6;

fn component<'p>(
    out: &mut JsonOut,
    version: CdxVersion,
    graph: &Graph<'_>,
    id: &PackageId,
    pkg: &'p Package,
) -> fmt::Result {
    let purl = pkg.purl.as_ref();
    let (group, name) = match purl.and_then(|p| p.namespace().map(|ns| (ns, p.name()))) {
        Some((ns, name))
            if matches!(
                pkg.ecosystem,
                Ecosystem::Npm | Ecosystem::Maven | Ecosystem::Composer
            ) =>
        {
            (Some(ns), name)
        }
        _ => (None, pkg.name.as_str()),
    };

    // The encoder's own properties, which replace a package property of the same name, and
    // the one external reference the source may give.
    let mut own: [(&'static str, &'p str); OWN_PROPERTIES] = [("", ""); OWN_PROPERTIES];
    let mut own_len = 0;
    let mut add = |name: &'static str, value: &'p str| {
        if let Some(slot) = own.get_mut(own_len) {
            *slot = (name, value);
            own_len += 1;
        }
    };
    add("vouch:ecosystem", pkg.ecosystem.purl_type());
    add("vouch:scope", model::scope_word(pkg.scope));
    if pkg.kind == Kind::Library {
        let direct = if graph.is_direct(id, pkg) {
            "true"
        } else {
            "false"
        };
        add("vouch:direct", direct);
    }
    // (type, url, commit named in the comment)
    let mut external: Option<(&str, &str, Option<&str>)> = None;
    match &pkg.source {
        Source::Git {
            url,
            commit,
            reference,
        } => {
            if let Some(c) = commit {
                add("vouch:git-commit", c);
            }
            if let Some(r) = reference {
                add("vouch:git-reference", r);
            }
            if model::is_plain_url(url) {
                external = Some(("vcs", url, commit.as_deref()));
            } else {
                add("vouch:git-url", url);
            }
        }
        Source::Path { path } => add("vouch:source-path", path),
        Source::Url { url } | Source::Registry { url: Some(url) } => {
            if model::is_plain_url(url) {
                external = Some(("distribution", url, None));
            } else {
                add("vouch:source-url", url);
            }
        }
        _ => {}
    }
    let own = own.get_mut(..own_len).unwrap_or_default();
    // Property names sort as the strings they are, as in a `BTreeMap` of them.
    own.sort_unstable_by_key(|(name, _)| *name);

    out.begin_object();
    out.field(
        key!("type"),
        match pkg.kind {
            Kind::Project => "application",
            Kind::Library => "library",
            Kind::Container => "container",
            Kind::OperatingSystem => "operating-system",
        },
    );
    out.field(key!("bom-ref"), &id.0);
    if let Some(r) = model::supplier(pkg) {
        out.key(key!("supplier"));
        out.begin_object();
        out.field(key!("name"), r.name);
        out.key(key!("url"));
        out.begin_array();
        out.string(r.url);
        out.end_array();
        out.end_object();
    }
    out.field_opt(key!("group"), group);
    out.field(key!("name"), name);
    out.field_opt(key!("version"), pkg.version.as_deref());
    out.field(
        key!("scope"),
        match pkg.scope {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Dev => "excluded",
        },
    );
    let mut hashes = pkg
        .hashes
        .iter()
        .filter_map(|d| model::cdx_alg(d.algorithm()).map(|alg| (alg, d.hex())))
        .peekable();
    if hashes.peek().is_some() {
        out.key(key!("hashes"));
        out.begin_array();
        for (alg, content) in hashes {
            out.begin_object();
            out.field(key!("alg"), alg);
            out.field(key!("content"), content);
            out.end_object();
        }
        out.end_array();
    }
    licenses(out, graph, pkg);
    if let Some(p) = purl {
        out.key(key!("purl"));
        out.display(p)?;
    }
    if let Some((ty, url, commit)) = external {
        out.key(key!("externalReferences"));
        out.begin_array();
        out.begin_object();
        out.field(key!("type"), ty);
        out.field(key!("url"), url);
        if let Some(c) = commit {
            out.key(key!("comment"));
            out.display(&format_args!("commit {c}"))?;
        }
        out.end_object();
        out.end_array();
    }
    // Always at least the ecosystem and scope, so never empty.
    out.key(key!("properties"));
    out.begin_array();
    let mut theirs = pkg
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .peekable();
    let mut own = own.iter().copied().peekable();
    loop {
        let next = match (theirs.peek(), own.peek()) {
            (Some(t), Some(o)) => match t.0.cmp(o.0) {
                Ordering::Less => theirs.next(),
                Ordering::Equal => {
                    theirs.next();
                    own.next()
                }
                Ordering::Greater => own.next(),
            },
            (Some(_), None) => theirs.next(),
            (None, _) => own.next(),
        };
        let Some((name, value)) = next else {
            break;
        };
        out.begin_object();
        out.field(key!("name"), name);
        out.field(key!("value"), value);
        out.end_object();
    }
    out.end_array();
    if !pkg.evidence.is_empty() {
        out.key(key!("evidence"));
        out.begin_object();
        out.key(key!("occurrences"));
        out.begin_array();
        for e in &pkg.evidence {
            out.begin_object();
            out.key(key!("location"));
            match (version, e.line) {
                (CdxVersion::V1_6, line) => {
                    out.string(&e.file);
                    if let Some(line) = line {
                        out.key(key!("line"));
                        out.uint(u64::from(line));
                    }
                }
                (CdxVersion::V1_5, Some(line)) => {
                    out.display(&format_args!("{}:{line}", e.file))?;
                }
                (CdxVersion::V1_5, None) => out.string(&e.file),
            }
            out.end_object();
        }
        out.end_array();
        out.end_object();
    }
    out.end_object();
    Ok(())
}

/// CycloneDX allows either a list of licences or exactly one expression. When every recorded
/// string is a valid SPDX expression, they become one expression (joined with `AND`), written
/// as `license.id` when it is a single listed id; otherwise each string is its own licence, by
/// id when it is one, by name when it is not.
fn licenses(out: &mut JsonOut, graph: &Graph<'_>, pkg: &Package) {
    if pkg.licenses.is_empty() {
        return;
    }
    let classified: Vec<License<'_>> = pkg
        .licenses
        .iter()
        .map(|l| graph.classify_license(l))
        .collect();
    if classified
        .iter()
        .all(|c| matches!(c, License::Expression { .. }))
    {
        if let [License::Expression { text, simple: true }] = classified.as_slice() {
            out.key(key!("licenses"));
            out.begin_array();
            license(out, key!("id"), text);
            out.end_array();
        } else if let Some((expression, _)) = model::joined_expression(&pkg.licenses) {
            out.key(key!("licenses"));
            out.begin_array();
            out.begin_object();
            out.field(key!("expression"), &expression);
            out.end_object();
            out.end_array();
        }
        return;
    }
    out.key(key!("licenses"));
    out.begin_array();
    for c in &classified {
        match c {
            License::Expression { text, simple: true } => license(out, key!("id"), text),
            License::Expression { text, .. } | License::Raw(text) => {
                license(out, key!("name"), text);
            }
        }
    }
    out.end_array();
}

/// `{"license": {"id": …}}` or `{"license": {"name": …}}`.
fn license(out: &mut JsonOut, key: Key, value: &str) {
    out.begin_object();
    out.key(key!("license"));
    out.begin_object();
    out.field(key, value);
    out.end_object();
    out.end_object();
}

#[cfg(test)]
mod tests {
    use vouch_inventory::{Inventory, Source};

    use super::*;
    use crate::Subject;

    /// Every optional part of a component, and strings that need escaping, in one inventory.
    fn odd_inventory() -> Inventory {
        let mut inv = Inventory::new();
        let root = inv.add_root(
            Package::new(Ecosystem::Npm, "app\"quoted").found_in("dir/package-lock.json", None),
        );
        let mut git = Package::new(Ecosystem::Cargo, "gitdep").version("0.1.0");
        git.source = Source::Git {
            url: "https://github.com/a/b".into(),
            commit: Some("abc123".into()),
            reference: Some("main\tbranch".into()),
        };
        git.licenses = ["MIT".into(), "Custom: see LICENSE\n".into()].into();
        git.properties
            .insert("vouch:scope".into(), "overridden".into());
        git.properties.insert("a:first".into(), "é\u{1}".into());
        git.properties.insert("z:last".into(), String::new());
        let git = inv.add(
            git.found_in("Cargo.lock", Some(12))
                .found_in("other.lock", None),
        );
        let mut local = Package::new(Ecosystem::Pypi, "local");
        local.source = Source::Path {
            path: "../local\\dir".into(),
        };
        local.licenses = ["MIT OR Apache-2.0".into(), "BSD-3-Clause".into()].into();
        local.scope = Scope::Dev;
        let local = inv.add(local);
        inv.depend(&root, &git);
        inv.depend(&git, &local);
        inv
    }

    #[test]
    fn one_pass_serial_matches_two_passes_in_both_versions() {
        let subject = Subject {
            name: "odd \"subject\"\n".into(),
            version: Some("1.0".into()),
        };
        let inv = odd_inventory();
        let graph = Graph::new(&subject, &inv);
        for version in [CdxVersion::V1_5, CdxVersion::V1_6] {
            for created in ["2023-11-14T22:13:20Z", ""] {
                let ctx = Context {
                    uuid: model::NIL_UUID,
                    created,
                    tool_name: "vouch",
                    tool_version: "0.0.0",
                };
                let fast = encode_derived(version, &graph, &ctx).unwrap();
                let slow = two_pass(version, &graph, &ctx).unwrap();
                assert_eq!(
                    String::from_utf8(fast.clone()).unwrap(),
                    String::from_utf8(slow).unwrap()
                );
                let doc: serde_json::Value = serde_json::from_slice(&fast).unwrap();
                assert_ne!(doc["serialNumber"], format!("urn:uuid:{}", model::NIL_UUID));
                assert_eq!(doc["metadata"]["component"]["name"], "odd \"subject\"\n");
                assert_eq!(
                    doc["metadata"].get("timestamp").is_some(),
                    !created.is_empty()
                );
            }
        }
    }
}

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
use std::ops::Range;

use vouch_inventory::{Ecosystem, Kind, Package, PackageId, Scope, Source};

use crate::CdxVersion;
use crate::json_out::JsonOut;
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
    let skip = timestamp.unwrap_or(0..0);
    let draft = (bytes.get(..skip.start), bytes.get(skip.end..));
    // The skipped bytes must be `\n    "timestamp": "…",` and the slot the nil serial; both
    // follow from the writing order above, and are checked so that a change of that order
    // costs a second encoding, not a wrong identity.
    let skipped_ok = skip.is_empty()
        || (bytes.get(skip.start) == Some(&b'\n') && bytes.get(skip.end - 1) == Some(&b','));
    let slot_ok = bytes.get(serial.clone()) == Some(model::NIL_UUID.as_bytes());
    if let ((Some(head), Some(tail)), true, true) = (draft, skipped_ok, slot_ok) {
        let uuid = model::uuid_from_parts(&[head, tail]);
        if let Some(slot) = bytes.get_mut(serial)
            && slot.len() == uuid.len()
        {
            slot.copy_from_slice(uuid.as_bytes());
            return Ok(bytes);
        }
    }
    two_pass(version, graph, ctx)
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
    write_document(version, graph, ctx).map_err(|fmt::Error| {
        <serde_json::Error as serde::ser::Error>::custom("a purl could not be formatted")
    })
}

fn write_document(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Written, fmt::Error> {
    let mut out = JsonOut::with_capacity(capacity(graph));
    out.begin_object();
    out.field("bomFormat", "CycloneDX");
    out.field("specVersion", version.as_str());
    out.key("serialNumber");
    let prefix = "urn:uuid:";
    // After the opening quote and the prefix; the UUID itself needs no escaping.
    let serial_at = out.len() + 1 + prefix.len();
    out.display(&format_args!("{prefix}{}", ctx.uuid))?;
    let serial = serial_at..serial_at + ctx.uuid.len();
    out.key("version");
    out.uint(1);

    out.key("metadata");
    out.begin_object();
    let mut timestamp = None;
    if !ctx.created.is_empty() {
        let start = out.len();
        out.field("timestamp", ctx.created);
        // `tools` always follows, so the next byte is the comma that ends this member.
        timestamp = Some(start..out.len() + 1);
    }
    out.key("tools");
    out.begin_object();
    out.key("components");
    out.begin_array();
    out.begin_object();
    out.field("type", "application");
    out.field("name", ctx.tool_name);
    out.field("version", ctx.tool_version);
    out.end_object();
    out.end_array();
    out.end_object();
    let subject_ref = subject_ref(graph);
    out.key("component");
    out.begin_object();
    out.field("type", "application");
    out.field("bom-ref", &subject_ref);
    out.field("name", &graph.subject.name);
    out.field_opt("version", graph.subject.version.as_deref());
    out.end_object();
    out.end_object();

    out.key("components");
    out.begin_array();
    for (id, pkg) in &graph.packages {
        component(&mut out, version, graph, id, pkg)?;
    }
    out.end_array();

    out.key("dependencies");
    out.begin_array();
    dependency(&mut out, &subject_ref, &graph.subject_deps);
    for (id, _) in &graph.packages {
        dependency(&mut out, &id.0, graph.deps(id));
    }
    out.end_array();
    out.end_object();
    Ok(Written {
        out,
        serial,
        timestamp,
    })
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
    out.field("ref", reference);
    if !depends_on.is_empty() {
        out.key("dependsOn");
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
        "type",
        match pkg.kind {
            Kind::Project => "application",
            Kind::Library => "library",
            Kind::Container => "container",
            Kind::OperatingSystem => "operating-system",
        },
    );
    out.field("bom-ref", &id.0);
    if let Some(r) = model::supplier(pkg) {
        out.key("supplier");
        out.begin_object();
        out.field("name", r.name);
        out.key("url");
        out.begin_array();
        out.string(r.url);
        out.end_array();
        out.end_object();
    }
    out.field_opt("group", group);
    out.field("name", name);
    out.field_opt("version", pkg.version.as_deref());
    out.field(
        "scope",
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
        out.key("hashes");
        out.begin_array();
        for (alg, content) in hashes {
            out.begin_object();
            out.field("alg", alg);
            out.field("content", content);
            out.end_object();
        }
        out.end_array();
    }
    licenses(out, graph, pkg);
    if let Some(p) = purl {
        out.key("purl");
        out.display(p)?;
    }
    if let Some((ty, url, commit)) = external {
        out.key("externalReferences");
        out.begin_array();
        out.begin_object();
        out.field("type", ty);
        out.field("url", url);
        if let Some(c) = commit {
            out.key("comment");
            out.display(&format_args!("commit {c}"))?;
        }
        out.end_object();
        out.end_array();
    }
    // Always at least the ecosystem and scope, so never empty.
    out.key("properties");
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
        out.field("name", name);
        out.field("value", value);
        out.end_object();
    }
    out.end_array();
    if !pkg.evidence.is_empty() {
        out.key("evidence");
        out.begin_object();
        out.key("occurrences");
        out.begin_array();
        for e in &pkg.evidence {
            out.begin_object();
            out.key("location");
            match (version, e.line) {
                (CdxVersion::V1_6, line) => {
                    out.string(&e.file);
                    if let Some(line) = line {
                        out.key("line");
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
            out.key("licenses");
            out.begin_array();
            license(out, "id", text);
            out.end_array();
        } else if let Some((expression, _)) = model::joined_expression(&pkg.licenses) {
            out.key("licenses");
            out.begin_array();
            out.begin_object();
            out.field("expression", &expression);
            out.end_object();
            out.end_array();
        }
        return;
    }
    out.key("licenses");
    out.begin_array();
    for c in &classified {
        match c {
            License::Expression { text, simple: true } => license(out, "id", text),
            License::Expression { text, .. } | License::Raw(text) => license(out, "name", text),
        }
    }
    out.end_array();
}

/// `{"license": {"id": …}}` or `{"license": {"name": …}}`.
fn license(out: &mut JsonOut, key: &str, value: &str) {
    out.begin_object();
    out.key("license");
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

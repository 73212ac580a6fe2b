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

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use vouch_inventory::{Ecosystem, Kind, Package, PackageId, PackageUrl, Scope, Source};

use crate::CdxVersion;
use crate::model::{self, Context, Graph, License};

// The document borrows its strings from the inventory wherever it can: encoding builds one
// component per package, and copying every name, version, hash and property into owned
// strings cost more than writing them out.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component<'a>>,
    dependencies: Vec<Dependency<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(skip_serializing_if = "String::is_empty")]
    timestamp: String,
    tools: Tools<'a>,
    component: Component<'a>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: Vec<Component<'a>>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Component<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier: Option<Organization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<Purl<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence<'a>>,
}

/// A purl written straight into the output as its canonical string, without first formatting
/// it into a `String` of its own.
struct Purl<'a>(&'a PackageUrl);

impl Serialize for Purl<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

#[derive(Serialize)]
struct Organization {
    name: &'static str,
    url: [&'static str; 1],
}

#[derive(Serialize)]
struct Hash<'a> {
    alg: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice<'a> {
    License { license: LicenseObject<'a> },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenseObject<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct ExternalReference<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
struct Property<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct Evidence<'a> {
    occurrences: Vec<Occurrence<'a>>,
}

#[derive(Serialize)]
struct Occurrence<'a> {
    location: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency<'a> {
    #[serde(rename = "ref")]
    reference: Cow<'a, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<&'a str>,
}

/// The subject's `bom-ref`. Package identities are purls (`pkg:`), `project:` or
/// `<ecosystem>:` strings, so a `subject:` prefix cannot collide with one.
pub(crate) fn subject_ref(graph: &Graph<'_>) -> String {
    format!("subject:{}", model::subject_label(graph.subject))
}

pub(crate) fn encode(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec_pretty(&build(version, graph, ctx))
}

/// Encodes with a serial number derived from the content: the document is built once, hashed
/// with the nil serial and no timestamp, then given its serial and timestamp and written. The
/// bytes hashed are exactly those the generic two-pass path in `encode` (lib.rs) hashes, without
/// building every component twice.
pub(crate) fn encode_derived(
    version: CdxVersion,
    graph: &Graph<'_>,
    ctx: &Context<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut bom = build(
        version,
        graph,
        &Context {
            uuid: model::NIL_UUID,
            created: "",
            ..*ctx
        },
    );
    // Documents run to about 700 bytes a component; starting near that size saves the
    // copies of a doubling buffer.
    let mut draft = Vec::with_capacity(4096 + graph.packages.len() * 768);
    serde_json::to_writer_pretty(&mut draft, &bom)?;
    draft.push(b'\n');
    let uuid = model::uuid_from_content(&draft);
    if let Some(done) = fill_identity(&mut draft, &uuid, ctx.created)? {
        return Ok(done);
    }
    // Not reached with the fields in the order `Bom` declares them; kept so that a change of
    // that order costs time, not correctness.
    bom.serial_number = format!("urn:uuid:{uuid}");
    bom.metadata.timestamp = ctx.created.to_owned();
    let mut bytes = serde_json::to_vec_pretty(&bom)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes the serial number and the timestamp into a draft encoded with the nil UUID and no
/// timestamp. Both fields come before anything taken from the input (`bomFormat` and
/// `specVersion` are constants, the timestamp is the first field of `metadata`), so the first
/// match of each is the field itself. `None` when a field is not where it is expected.
fn fill_identity(
    draft: &mut Vec<u8>,
    uuid: &str,
    created: &str,
) -> Result<Option<Vec<u8>>, serde_json::Error> {
    let serial = format!("\"serialNumber\": \"urn:uuid:{}\"", model::NIL_UUID);
    let Some(at) = find(draft, serial.as_bytes(), 0) else {
        return Ok(None);
    };
    let start = at + serial.len() - 1 - model::NIL_UUID.len();
    let Some(slot) = draft.get_mut(start..start + uuid.len()) else {
        return Ok(None);
    };
    if uuid.len() != model::NIL_UUID.len() {
        return Ok(None);
    }
    slot.copy_from_slice(uuid.as_bytes());
    if created.is_empty() {
        return Ok(Some(std::mem::take(draft)));
    }
    let metadata = b"\"metadata\": {";
    let Some(m) = find(draft, metadata, at) else {
        return Ok(None);
    };
    let insert = format!("\n    \"timestamp\": {},", serde_json::to_string(created)?);
    let pos = m + metadata.len();
    draft.splice(pos..pos, insert.bytes());
    Ok(Some(std::mem::take(draft)))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn build<'g>(version: CdxVersion, graph: &'g Graph<'_>, ctx: &Context<'_>) -> Bom<'g> {
    let subject_ref = subject_ref(graph);
    let components: Vec<Component<'g>> = graph
        .packages
        .iter()
        .map(|(id, pkg)| component(version, graph, id, pkg))
        .collect();
    let mut dependencies = Vec::with_capacity(graph.packages.len() + 1);
    dependencies.push(Dependency {
        reference: Cow::Owned(subject_ref.clone()),
        depends_on: graph.subject_deps.iter().map(|id| id.0.as_str()).collect(),
    });
    dependencies.extend(graph.packages.iter().map(|(id, _)| Dependency {
        reference: Cow::Borrowed(id.0.as_str()),
        depends_on: graph.deps(id).iter().map(|d| d.0.as_str()).collect(),
    }));
    Bom {
        bom_format: "CycloneDX",
        spec_version: version.as_str(),
        serial_number: format!("urn:uuid:{}", ctx.uuid),
        version: 1,
        metadata: Metadata {
            timestamp: ctx.created.to_owned(),
            tools: Tools {
                components: vec![Component {
                    ty: "application",
                    name: Cow::Owned(ctx.tool_name.to_owned()),
                    version: Some(Cow::Owned(ctx.tool_version.to_owned())),
                    ..Component::default()
                }],
            },
            component: Component {
                ty: "application",
                bom_ref: Some(Cow::Owned(subject_ref)),
                name: Cow::Borrowed(graph.subject.name.as_str()),
                version: graph.subject.version.as_deref().map(Cow::Borrowed),
                ..Component::default()
            },
        },
        components,
        dependencies,
    }
}

fn component<'g>(
    version: CdxVersion,
    graph: &Graph<'g>,
    id: &'g PackageId,
    pkg: &'g Package,
) -> Component<'g> {
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
    let supplier = model::supplier(pkg).map(|r| Organization {
        name: r.name,
        url: [r.url],
    });
    let hashes = pkg
        .hashes
        .iter()
        .filter_map(|d| {
            model::cdx_alg(d.algorithm()).map(|alg| Hash {
                alg,
                content: d.hex(),
            })
        })
        .collect();
    // Property names sort as the strings they are; a `vouch:` property of the package is
    // replaced by the encoder's own value of the same name.
    let mut properties: BTreeMap<&'g str, &'g str> = pkg
        .properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    properties.insert("vouch:ecosystem", pkg.ecosystem.purl_type());
    properties.insert("vouch:scope", model::scope_word(pkg.scope));
    if pkg.kind == Kind::Library {
        let direct = if graph.is_direct(id, pkg) {
            "true"
        } else {
            "false"
        };
        properties.insert("vouch:direct", direct);
    }
    let mut external_references = Vec::new();
    match &pkg.source {
        Source::Git {
            url,
            commit,
            reference,
        } => {
            if let Some(c) = commit {
                properties.insert("vouch:git-commit", c);
            }
            if let Some(r) = reference {
                properties.insert("vouch:git-reference", r);
            }
            if model::is_plain_url(url) {
                external_references.push(ExternalReference {
                    ty: "vcs",
                    url,
                    comment: commit.as_ref().map(|c| format!("commit {c}")),
                });
            } else {
                properties.insert("vouch:git-url", url);
            }
        }
        Source::Path { path } => {
            properties.insert("vouch:source-path", path);
        }
        Source::Url { url } | Source::Registry { url: Some(url) } => {
            if model::is_plain_url(url) {
                external_references.push(ExternalReference {
                    ty: "distribution",
                    url,
                    comment: None,
                });
            } else {
                properties.insert("vouch:source-url", url);
            }
        }
        _ => {}
    }
    let occurrences: Vec<Occurrence<'g>> = pkg
        .evidence
        .iter()
        .map(|e| match (version, e.line) {
            (CdxVersion::V1_6, line) => Occurrence {
                location: Cow::Borrowed(e.file.as_str()),
                line,
            },
            (CdxVersion::V1_5, Some(line)) => Occurrence {
                location: Cow::Owned(format!("{}:{line}", e.file)),
                line: None,
            },
            (CdxVersion::V1_5, None) => Occurrence {
                location: Cow::Borrowed(e.file.as_str()),
                line: None,
            },
        })
        .collect();
    Component {
        ty: match pkg.kind {
            Kind::Project => "application",
            Kind::Library => "library",
            Kind::Container => "container",
            Kind::OperatingSystem => "operating-system",
        },
        bom_ref: Some(Cow::Borrowed(id.0.as_str())),
        supplier,
        group,
        name: Cow::Borrowed(name),
        version: pkg.version.as_deref().map(Cow::Borrowed),
        scope: Some(match pkg.scope {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Dev => "excluded",
        }),
        hashes,
        licenses: licenses(pkg),
        purl: purl.map(Purl),
        external_references,
        properties: properties
            .into_iter()
            .map(|(name, value)| Property { name, value })
            .collect(),
        evidence: (!occurrences.is_empty()).then_some(Evidence { occurrences }),
    }
}

/// CycloneDX allows either a list of licences or exactly one expression. When every recorded
/// string is a valid SPDX expression, they become one expression (joined with `AND`), written
/// as `license.id` when it is a single listed id; otherwise each string is its own licence, by
/// id when it is one, by name when it is not.
fn licenses(pkg: &Package) -> Vec<LicenseChoice<'_>> {
    let classified: Vec<License<'_>> = pkg
        .licenses
        .iter()
        .map(|l| model::classify_license(l))
        .collect();
    if classified.is_empty() {
        return Vec::new();
    }
    if classified
        .iter()
        .all(|c| matches!(c, License::Expression { .. }))
    {
        if let [License::Expression { text, simple: true }] = classified.as_slice() {
            return vec![by_id(text)];
        }
        return match model::joined_expression(&pkg.licenses) {
            Some((expression, _)) => vec![LicenseChoice::Expression { expression }],
            None => Vec::new(),
        };
    }
    classified
        .iter()
        .map(|c| match c {
            License::Expression { text, simple: true } => by_id(text),
            License::Expression { text, .. } | License::Raw(text) => LicenseChoice::License {
                license: LicenseObject {
                    id: None,
                    name: Some(text),
                },
            },
        })
        .collect()
}

fn by_id(id: &str) -> LicenseChoice<'_> {
    LicenseChoice::License {
        license: LicenseObject {
            id: Some(id),
            name: None,
        },
    }
}

//! Reading back the packages and dependency edges of a document, in a form that is the same
//! for the three formats, so that encodings of one inventory can be compared.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::check::{self, CheckError, DocKind};

/// The packages and dependency edges of a document.
///
/// Each package is keyed by its purl when it has one, otherwise by `name@version` (or `name`).
/// The described subject is included, so its edges to the roots appear too. Every dependency
/// relationship is read as an edge from dependent to dependency, whatever its direction or
/// scope in the document (SPDX `DEV_DEPENDENCY_OF` B→A is the edge A→B).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The format, as [`check::Report::format`] names it.
    pub format: String,
    /// Package keys.
    pub packages: BTreeSet<String>,
    /// `(dependent, dependency)` pairs of package keys.
    pub edges: BTreeSet<(String, String)>,
}

/// Why a document could not be summarised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, too large or deep, or not a known format.
    #[error(transparent)]
    Read(#[from] CheckError),
    /// A relationship names an element the document does not define.
    #[error("{pointer}: `{reference}` names no package of the document")]
    UnknownReference {
        /// JSON pointer to the reference.
        pointer: String,
        /// The reference.
        reference: String,
    },
}

/// Reads the packages and dependency edges of a CycloneDX, SPDX 2.3 or SPDX 3.0.1 document.
pub fn decode_summary(bytes: &[u8]) -> Result<Summary, DecodeError> {
    let doc = crate::json::parse("document", bytes)?;
    let kind = check::detect("document", &doc)?;
    let mut summary = Summary {
        format: kind.to_string(),
        ..Summary::default()
    };
    // Maps each document-local reference to its package key.
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let mut edges: Vec<(String, String, String)> = Vec::new();
    match kind {
        DocKind::CycloneDx(_) => cyclonedx(&doc, &mut keys, &mut edges),
        DocKind::Spdx23 => spdx2(&doc, &mut keys, &mut edges),
        DocKind::Spdx301 => spdx3(&doc, &mut keys, &mut edges),
    }
    summary.packages = keys.values().cloned().collect();
    for (pointer, from, to) in edges {
        let key = |r: &str| {
            keys.get(r)
                .cloned()
                .ok_or_else(|| DecodeError::UnknownReference {
                    pointer: pointer.clone(),
                    reference: r.to_owned(),
                })
        };
        summary.edges.insert((key(&from)?, key(&to)?));
    }
    Ok(summary)
}

fn array(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn key(purl: Option<&str>, name: &str, version: Option<&str>) -> String {
    match (purl, version) {
        (Some(p), _) => p.to_owned(),
        (None, Some(v)) => format!("{name}@{v}"),
        (None, None) => name.to_owned(),
    }
}

type Edges = Vec<(String, String, String)>;

fn cyclonedx(doc: &Value, keys: &mut BTreeMap<String, String>, edges: &mut Edges) {
    let mut add = |c: &Value| {
        if let Some(r) = str_of(c, "bom-ref") {
            let name = match (str_of(c, "group"), str_of(c, "name")) {
                (Some(g), Some(n)) if !g.is_empty() => format!("{g}/{n}"),
                (_, n) => n.unwrap_or("").to_owned(),
            };
            keys.insert(
                r.to_owned(),
                key(str_of(c, "purl"), &name, str_of(c, "version")),
            );
        }
    };
    if let Some(c) = doc.get("metadata").and_then(|m| m.get("component")) {
        add(c);
    }
    let mut stack: Vec<&Value> = array(doc.get("components")).collect();
    while let Some(c) = stack.pop() {
        add(c);
        stack.extend(array(c.get("components")));
    }
    for (i, d) in array(doc.get("dependencies")).enumerate() {
        let Some(from) = str_of(d, "ref") else {
            continue;
        };
        for (j, to) in array(d.get("dependsOn")).enumerate() {
            if let Some(to) = to.as_str() {
                edges.push((
                    format!("/dependencies/{i}/dependsOn/{j}"),
                    from.to_owned(),
                    to.to_owned(),
                ));
            }
        }
    }
}

fn spdx2(doc: &Value, keys: &mut BTreeMap<String, String>, edges: &mut Edges) {
    for p in array(doc.get("packages")) {
        let Some(id) = str_of(p, "SPDXID") else {
            continue;
        };
        let purl = array(p.get("externalRefs"))
            .find(|r| str_of(r, "referenceType") == Some("purl"))
            .and_then(|r| str_of(r, "referenceLocator"));
        keys.insert(
            id.to_owned(),
            key(
                purl,
                str_of(p, "name").unwrap_or(""),
                str_of(p, "versionInfo"),
            ),
        );
    }
    for (i, r) in array(doc.get("relationships")).enumerate() {
        let (Some(a), Some(ty), Some(b)) = (
            str_of(r, "spdxElementId"),
            str_of(r, "relationshipType"),
            str_of(r, "relatedSpdxElement"),
        ) else {
            continue;
        };
        let pointer = format!("/relationships/{i}");
        match ty {
            "DEPENDS_ON" => edges.push((pointer, a.to_owned(), b.to_owned())),
            "DEPENDENCY_OF"
            | "DEV_DEPENDENCY_OF"
            | "OPTIONAL_DEPENDENCY_OF"
            | "PROVIDED_DEPENDENCY_OF"
            | "TEST_DEPENDENCY_OF"
            | "RUNTIME_DEPENDENCY_OF"
            | "BUILD_DEPENDENCY_OF" => edges.push((pointer, b.to_owned(), a.to_owned())),
            _ => {}
        }
    }
}

fn spdx3(doc: &Value, keys: &mut BTreeMap<String, String>, edges: &mut Edges) {
    let graph: Vec<&Value> = array(doc.get("@graph")).collect();
    for e in &graph {
        if str_of(e, "type") != Some("software_Package") {
            continue;
        }
        let Some(id) = str_of(e, "spdxId") else {
            continue;
        };
        let purl = str_of(e, "software_packageUrl").or_else(|| {
            array(e.get("externalIdentifier"))
                .find(|x| str_of(x, "externalIdentifierType") == Some("packageUrl"))
                .and_then(|x| str_of(x, "identifier"))
        });
        keys.insert(
            id.to_owned(),
            key(
                purl,
                str_of(e, "name").unwrap_or(""),
                str_of(e, "software_packageVersion"),
            ),
        );
    }
    for (i, e) in graph.iter().enumerate() {
        if !matches!(
            str_of(e, "type"),
            Some("Relationship" | "LifecycleScopedRelationship")
        ) {
            continue;
        }
        let rt = str_of(e, "relationshipType").unwrap_or("");
        if !matches!(
            rt,
            "dependsOn" | "hasOptionalDependency" | "hasProvidedDependency"
        ) {
            continue;
        }
        let Some(from) = str_of(e, "from") else {
            continue;
        };
        for (j, to) in array(e.get("to")).enumerate() {
            if let Some(to) = to.as_str() {
                edges.push((
                    format!("/@graph/{i}/to/{j}"),
                    from.to_owned(),
                    to.to_owned(),
                ));
            }
        }
    }
}

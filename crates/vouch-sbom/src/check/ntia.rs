//! NTIA minimum elements, package URLs and internal references, read the same way from each
//! format: each format is first reduced to a [`View`].

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde_json::Value;
use vouch_purl::PackageUrl;

use super::{DocKind, Finding, Severity, Tally, finding, token};

/// One component, as far as the checks care.
#[derive(Default)]
struct Item {
    pointer: String,
    has_name: bool,
    has_version: bool,
    has_supplier: bool,
    has_unique_id: bool,
    /// Whether this is what the document describes (exempt from supplier/version/identifier).
    described: bool,
}

/// The document, as far as the checks care.
#[derive(Default)]
struct View {
    items: Vec<Item>,
    /// `(pointer, purl)` for every package URL.
    purls: Vec<(String, String)>,
    has_timestamp: bool,
    has_author: bool,
    /// Number of dependency-like edges.
    dependency_edges: usize,
    /// Pointers of references to elements that are not in the document.
    unknown_refs: Vec<String>,
    unknown_ref_severity: Option<Severity>,
    /// Number of references looked at.
    references: usize,
    duplicate_refs: Vec<String>,
    bad_spdx_ids: Vec<String>,
}

pub(crate) fn check(kind: DocKind, doc: &Value) -> Vec<Finding> {
    let view = match kind {
        DocKind::CycloneDx(_) => cyclonedx(doc),
        DocKind::Spdx23 => spdx2(doc),
        DocKind::Spdx301 => spdx3(doc),
    };
    let mut out = Vec::new();

    let mut purl_bad = Tally::new("purl-invalid", Severity::Error, "package URLs do not parse");
    for (pointer, purl) in &view.purls {
        if PackageUrl::from_str(purl).is_err() {
            purl_bad.add(pointer.clone());
        }
    }
    out.extend(purl_bad.finish(view.purls.len()));

    let mut ids = Tally::new(
        "spdx-id-invalid",
        Severity::Error,
        "SPDXIDs are not `SPDXRef-[A-Za-z0-9.-]+`",
    );
    view.bad_spdx_ids.iter().for_each(|p| ids.add(p.clone()));
    out.extend(ids.finish(view.items.len() + 1));
    let mut dup = Tally::new(
        "bom-ref-duplicate",
        Severity::Error,
        "bom-refs repeat an earlier one",
    );
    view.duplicate_refs.iter().for_each(|p| dup.add(p.clone()));
    out.extend(dup.finish(view.items.len()));
    let mut unknown = Tally::new(
        "reference-unknown",
        view.unknown_ref_severity.unwrap_or(Severity::Error),
        "references name no element of the document",
    );
    view.unknown_refs
        .iter()
        .for_each(|p| unknown.add(p.clone()));
    out.extend(unknown.finish(view.references));

    if !view.has_timestamp {
        out.push(finding(
            "ntia-timestamp-missing",
            Severity::Error,
            None,
            "the document records no creation time",
        ));
    }
    if !view.has_author {
        out.push(finding(
            "ntia-author-missing",
            Severity::Error,
            None,
            "the document names no author, creator or tool for the SBOM data",
        ));
    }
    let listed = view.items.iter().filter(|i| !i.described).count();
    if listed > 0 && view.dependency_edges == 0 {
        out.push(finding(
            "ntia-relationships-missing",
            Severity::Error,
            None,
            format!("{listed} components are listed but no dependency relationship relates them"),
        ));
    }

    let total = view.items.len();
    let mut name = Tally::new(
        "ntia-name-missing",
        Severity::Error,
        "components have no name",
    );
    let mut version = Tally::new(
        "ntia-version-missing",
        Severity::Warning,
        "components have no version",
    );
    let mut supplier = Tally::new(
        "ntia-supplier-missing",
        Severity::Warning,
        "components have no supplier",
    );
    let mut uid = Tally::new(
        "ntia-unique-id-missing",
        Severity::Warning,
        "components have no purl, CPE, SWID or other unique identifier",
    );
    let held = view.items.iter().filter(|i| !i.described).count();
    for item in &view.items {
        if !item.has_name {
            name.add(item.pointer.clone());
        }
        if item.described {
            continue;
        }
        if !item.has_version {
            version.add(item.pointer.clone());
        }
        if !item.has_supplier {
            supplier.add(item.pointer.clone());
        }
        if !item.has_unique_id {
            uid.add(item.pointer.clone());
        }
    }
    out.extend(name.finish(total));
    out.extend(version.finish(held));
    out.extend(supplier.finish(held));
    out.extend(uid.finish(held));
    out
}

fn non_empty_str(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

fn non_empty_arr(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

fn array(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

// ---------------------------------------------------------------------------------------------
// CycloneDX

fn cyclonedx(doc: &Value) -> View {
    let mut view = View::default();
    let meta = doc.get("metadata");
    view.has_timestamp = non_empty_str(meta.and_then(|m| m.get("timestamp")));
    let tools = meta.and_then(|m| m.get("tools"));
    let has_tools = non_empty_arr(tools)
        || non_empty_arr(tools.and_then(|t| t.get("components")))
        || non_empty_arr(tools.and_then(|t| t.get("services")));
    view.has_author = has_tools
        || non_empty_arr(meta.and_then(|m| m.get("authors")))
        || meta
            .and_then(|m| m.get("manufacturer").or_else(|| m.get("manufacture")))
            .is_some_and(Value::is_object)
        || meta
            .and_then(|m| m.get("supplier"))
            .is_some_and(Value::is_object);

    let mut refs: BTreeSet<String> = BTreeSet::new();
    if let Some(c) = meta.and_then(|m| m.get("component")) {
        if let Some(r) = c.get("bom-ref").and_then(Value::as_str) {
            refs.insert(r.to_owned());
        }
        if let Some(p) = c.get("purl").and_then(Value::as_str) {
            view.purls
                .push(("/metadata/component/purl".into(), p.to_owned()));
        }
    }
    let mut stack: Vec<(String, &Value)> = array(doc.get("components"))
        .enumerate()
        .map(|(i, c)| (format!("/components/{i}"), c))
        .collect();
    stack.reverse();
    while let Some((pointer, c)) = stack.pop() {
        if let Some(r) = c.get("bom-ref").and_then(Value::as_str)
            && !refs.insert(r.to_owned())
        {
            view.duplicate_refs.push(format!("{pointer}/bom-ref"));
        }
        if let Some(p) = c.get("purl").and_then(Value::as_str) {
            view.purls.push((format!("{pointer}/purl"), p.to_owned()));
        }
        let named = |k: &str| {
            c.get(k)
                .is_some_and(|s| non_empty_str(s.get("name")) || non_empty_arr(s.get("url")))
        };
        view.items.push(Item {
            has_name: non_empty_str(c.get("name")),
            has_version: non_empty_str(c.get("version")),
            has_supplier: named("supplier") || named("manufacturer"),
            has_unique_id: ["purl", "cpe", "swhid", "omniborId"]
                .iter()
                .any(|k| non_empty_str(c.get(*k)) || non_empty_arr(c.get(*k)))
                || c.get("swid").is_some_and(Value::is_object),
            described: false,
            pointer: pointer.clone(),
        });
        let nested: Vec<_> = array(c.get("components"))
            .enumerate()
            .map(|(i, n)| (format!("{pointer}/components/{i}"), n))
            .collect();
        stack.extend(nested.into_iter().rev());
    }
    for (i, d) in array(doc.get("dependencies")).enumerate() {
        view.references += 1;
        if let Some(r) = d.get("ref").and_then(Value::as_str)
            && !refs.contains(r)
        {
            view.unknown_refs.push(format!("/dependencies/{i}/ref"));
        }
        for (j, to) in array(d.get("dependsOn")).enumerate() {
            view.dependency_edges += 1;
            view.references += 1;
            if to.as_str().is_some_and(|t| !refs.contains(t)) {
                view.unknown_refs
                    .push(format!("/dependencies/{i}/dependsOn/{j}"));
            }
        }
    }
    view
}

// ---------------------------------------------------------------------------------------------
// SPDX 2.3

/// SPDX 2 relationship types that relate a package to what it depends on or contains.
const SPDX2_DEPENDENCY: &[&str] = &[
    "DEPENDS_ON",
    "DEPENDENCY_OF",
    "DEV_DEPENDENCY_OF",
    "OPTIONAL_DEPENDENCY_OF",
    "PROVIDED_DEPENDENCY_OF",
    "TEST_DEPENDENCY_OF",
    "RUNTIME_DEPENDENCY_OF",
    "BUILD_DEPENDENCY_OF",
    "DEPENDENCY_MANIFEST_OF",
    "CONTAINS",
    "CONTAINED_BY",
    "STATIC_LINK",
    "DYNAMIC_LINK",
];

fn spdx2(doc: &Value) -> View {
    let mut view = View::default();
    let ci = doc.get("creationInfo");
    view.has_timestamp = non_empty_str(ci.and_then(|c| c.get("created")));
    view.has_author = array(ci.and_then(|c| c.get("creators")))
        .any(|c| c.as_str().is_some_and(|s| !s.trim().is_empty()));

    let mut described: BTreeSet<&str> = array(doc.get("documentDescribes"))
        .filter_map(Value::as_str)
        .collect();
    let document_id = doc
        .get("SPDXID")
        .and_then(Value::as_str)
        .unwrap_or("SPDXRef-DOCUMENT");
    for r in array(doc.get("relationships")) {
        let ty = r.get("relationshipType").and_then(Value::as_str);
        let a = r.get("spdxElementId").and_then(Value::as_str);
        let b = r.get("relatedSpdxElement").and_then(Value::as_str);
        match (ty, a, b) {
            (Some("DESCRIBES"), Some(a), Some(b)) if a == document_id => {
                described.insert(b);
            }
            (Some("DESCRIBED_BY"), Some(a), Some(b)) if b == document_id => {
                described.insert(a);
            }
            _ => {}
        }
    }

    let mut known: BTreeSet<&str> = BTreeSet::from([document_id, "NONE", "NOASSERTION"]);
    for key in ["files", "snippets"] {
        for e in array(doc.get(key)) {
            if let Some(id) = e.get("SPDXID").and_then(Value::as_str) {
                known.insert(id);
            }
        }
    }
    for (i, p) in array(doc.get("packages")).enumerate() {
        let pointer = format!("/packages/{i}");
        let id = p.get("SPDXID").and_then(Value::as_str);
        if let Some(id) = id {
            known.insert(id);
            if !valid_spdx_ref(id) {
                view.bad_spdx_ids.push(format!("{pointer}/SPDXID"));
            }
        }
        let mut has_unique_id = false;
        for (j, r) in array(p.get("externalRefs")).enumerate() {
            let ty = r.get("referenceType").and_then(Value::as_str).unwrap_or("");
            let cat = r
                .get("referenceCategory")
                .and_then(Value::as_str)
                .unwrap_or("");
            let locator = r.get("referenceLocator").and_then(Value::as_str);
            if ty == "purl"
                && let Some(l) = locator
            {
                view.purls.push((
                    format!("{pointer}/externalRefs/{j}/referenceLocator"),
                    l.to_owned(),
                ));
            }
            if matches!(
                ty,
                "purl" | "cpe22Type" | "cpe23Type" | "swid" | "gitoid" | "swh"
            ) || matches!(cat, "PERSISTENT-ID" | "PERSISTENT_ID")
            {
                has_unique_id |= non_empty_str(r.get("referenceLocator"));
            }
        }
        let supplier = p
            .get("supplier")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        view.items.push(Item {
            pointer,
            has_name: non_empty_str(p.get("name")),
            has_version: non_empty_str(p.get("versionInfo")),
            has_supplier: !supplier.is_empty() && supplier != "NOASSERTION",
            has_unique_id,
            described: id.is_some_and(|id| described.contains(id)),
        });
    }
    for (i, r) in array(doc.get("relationships")).enumerate() {
        let ty = r
            .get("relationshipType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if SPDX2_DEPENDENCY.contains(&ty) {
            view.dependency_edges += 1;
        }
        for key in ["spdxElementId", "relatedSpdxElement"] {
            view.references += 1;
            if let Some(id) = r.get(key).and_then(Value::as_str)
                && !known.contains(id)
                && !id.starts_with("DocumentRef-")
            {
                view.unknown_refs.push(format!("/relationships/{i}/{key}"));
            }
        }
    }
    for (i, d) in array(doc.get("documentDescribes")).enumerate() {
        view.references += 1;
        if d.as_str().is_some_and(|id| !known.contains(id)) {
            view.unknown_refs.push(format!("/documentDescribes/{i}"));
        }
    }
    view
}

/// `SPDXRef-` followed by one or more of `[A-Za-z0-9.-]` (SPDX 2.3 clause 7.2).
fn valid_spdx_ref(id: &str) -> bool {
    id.strip_prefix("SPDXRef-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    })
}

// ---------------------------------------------------------------------------------------------
// SPDX 3.0.1

/// SPDX 3 relationship types that relate software to what it depends on or contains.
const SPDX3_DEPENDENCY: &[&str] = &[
    "dependsOn",
    "contains",
    "hasOptionalDependency",
    "hasProvidedDependency",
    "hasOptionalComponent",
    "hasStaticLink",
    "hasDynamicLink",
    "hasDependencyManifest",
];

fn spdx3(doc: &Value) -> View {
    let mut view = View {
        unknown_ref_severity: Some(Severity::Warning),
        ..View::default()
    };
    let graph: Vec<&Value> = array(doc.get("@graph")).collect();

    // Creation info: blank nodes in the graph, or objects inline in elements.
    let mut infos: BTreeMap<String, &Value> = BTreeMap::new();
    let mut inline: Vec<&Value> = Vec::new();
    for e in &graph {
        if e.get("type").and_then(Value::as_str) == Some("CreationInfo") {
            let id = e.get("@id").and_then(Value::as_str).unwrap_or("");
            infos.insert(id.to_owned(), e);
        } else if let Some(ci) = e.get("creationInfo").filter(|c| c.is_object()) {
            inline.push(ci);
        }
    }
    let all_infos: Vec<&Value> = infos.values().copied().chain(inline).collect();
    view.has_timestamp =
        !all_infos.is_empty() && all_infos.iter().all(|c| non_empty_str(c.get("created")));
    view.has_author =
        !all_infos.is_empty() && all_infos.iter().all(|c| non_empty_arr(c.get("createdBy")));

    let mut known: BTreeSet<&str> = BTreeSet::new();
    let mut roots: BTreeSet<&str> = BTreeSet::new();
    for e in &graph {
        if let Some(id) = e.get("spdxId").and_then(Value::as_str) {
            known.insert(id);
        }
        let ty = e.get("type").and_then(Value::as_str).unwrap_or("");
        if ty == "software_Sbom" || ty == "SpdxDocument" || ty == "Bom" {
            roots.extend(array(e.get("rootElement")).filter_map(Value::as_str));
        }
        // Elements imported from other documents are known by their import.
        for ext in array(e.get("import")) {
            if let Some(id) = ext.get("externalSpdxId").and_then(Value::as_str) {
                known.insert(id);
            }
        }
    }
    for (i, e) in graph.iter().enumerate() {
        let pointer = format!("/{}/{i}", token("@graph"));
        let ty = e.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "software_Package" => {
                let purl = e.get("software_packageUrl").and_then(Value::as_str);
                if let Some(p) = purl {
                    view.purls
                        .push((format!("{pointer}/software_packageUrl"), p.to_owned()));
                }
                let mut has_unique_id = purl.is_some_and(|p| !p.is_empty());
                for (j, x) in array(e.get("externalIdentifier")).enumerate() {
                    let t = x
                        .get("externalIdentifierType")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if t == "packageUrl"
                        && let Some(p) = x.get("identifier").and_then(Value::as_str)
                    {
                        view.purls.push((
                            format!("{pointer}/externalIdentifier/{j}/identifier"),
                            p.to_owned(),
                        ));
                    }
                    if matches!(
                        t,
                        "packageUrl" | "cpe22" | "cpe23" | "swid" | "gitoid" | "swhid"
                    ) {
                        has_unique_id |= non_empty_str(x.get("identifier"));
                    }
                }
                let id = e.get("spdxId").and_then(Value::as_str).unwrap_or("");
                view.items.push(Item {
                    pointer,
                    has_name: non_empty_str(e.get("name")),
                    has_version: non_empty_str(e.get("software_packageVersion")),
                    has_supplier: non_empty_str(e.get("suppliedBy")),
                    has_unique_id,
                    described: roots.contains(id),
                });
            }
            "Relationship" | "LifecycleScopedRelationship" => {
                let rt = e
                    .get("relationshipType")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let tos: Vec<&Value> = array(e.get("to")).collect();
                if SPDX3_DEPENDENCY.contains(&rt) {
                    view.dependency_edges += tos.len();
                }
                view.references += 1 + tos.len();
                if e.get("from")
                    .and_then(Value::as_str)
                    .is_some_and(|f| !known.contains(f))
                {
                    view.unknown_refs.push(format!("{pointer}/from"));
                }
                for (j, to) in tos.iter().enumerate() {
                    if to
                        .as_str()
                        .is_some_and(|t| !known.contains(t) && !is_individual(t))
                    {
                        view.unknown_refs.push(format!("{pointer}/to/{j}"));
                    }
                }
            }
            _ => {}
        }
    }
    view
}

/// Named individuals that may stand as relationship targets without being elements of the
/// document (`NoneElement`, `NoAssertionElement`, licence list entries).
fn is_individual(iri: &str) -> bool {
    iri.starts_with("https://spdx.org/rdf/3.0.1/terms/")
        || iri.starts_with("https://spdx.org/licenses/")
}

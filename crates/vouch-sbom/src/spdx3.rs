//! SPDX 3.0.1 JSON-LD, <https://spdx.github.io/spdx-spec/v3.0.1/>, with the compact names
//! of <https://spdx.org/rdf/3.0.1/spdx-context.jsonld>.
//!
//! Conventions, where the specification leaves a choice:
//! - Every element's `spdxId` is `https://spdx.org/spdxdocs/<name>-<uuid>#<local>`: the same
//!   content-derived namespace as the SPDX 2.3 encoding, with readable local parts
//!   (`Package-<sanitised identity>`, `Relationship-<from>-<type>`).
//! - One `CreationInfo` blank node (`_:creationinfo`) is shared by all elements. Its
//!   `createdBy` is a `SoftwareAgent` for the tool and `createdUsing` a `Tool`: the document
//!   is made by software, and vouch does not know (and will not guess) the person running it.
//! - An `SpdxDocument` whose root is a `software_Sbom`, whose root is the subject package.
//! - Edges are grouped per source element and kind, one relationship with many `to`s:
//!   `dependsOn` for runtime dependencies, `hasOptionalDependency` for optional ones, and a
//!   `LifecycleScopedRelationship` `dependsOn` with scope `development` for dev ones.
//! - Suppliers are `Organization` elements for known public registries (see
//!   [`crate::model::supplier`]), linked by `suppliedBy`.
//! - Declared licences are `simplelicensing_LicenseExpression` elements linked by
//!   `hasDeclaredLicense`; strings that are not SPDX expressions become `LicenseRef-`s bound
//!   to `expandedlicensing_CustomLicense` elements through `simplelicensing_customIdToUri`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use vouch_inventory::{Kind, PackageId, Scope};

use crate::model::{self, Context, Graph};

pub(crate) const CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
const CREATION_INFO: &str = "_:creationinfo";

pub(crate) fn encode(graph: &Graph<'_>, ctx: &Context<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let ns = crate::spdx2::namespace(graph, ctx.uuid);
    let iri = |local: &str| format!("{ns}#{local}");
    let ids: BTreeMap<&PackageId, String> = model::unique_ids(graph, "Package-", &[])
        .into_iter()
        .map(|(id, local)| (id, iri(&local)))
        .collect();
    let id_of = |id: &PackageId| ids.get(id).cloned().unwrap_or_default();
    let subject_iri = iri("Subject");
    let tool_local = model::sanitize(ctx.tool_name);
    let agent_iri = iri(&format!("SoftwareAgent-{tool_local}"));
    let tool_iri = iri(&format!("Tool-{tool_local}"));
    let sbom_iri = iri("Sbom");
    let doc_iri = iri("SpdxDocument");

    let mut creation = json!({
        "type": "CreationInfo",
        "@id": CREATION_INFO,
        "specVersion": "3.0.1",
        "createdBy": [agent_iri],
        "createdUsing": [tool_iri],
    });
    if !ctx.created.is_empty()
        && let Some(o) = creation.as_object_mut()
    {
        o.insert("created".into(), json!(ctx.created));
    }
    let mut elements: Vec<Value> = vec![
        json!({
            "type": "SoftwareAgent",
            "spdxId": agent_iri,
            "creationInfo": CREATION_INFO,
            "name": ctx.tool_name,
        }),
        json!({
            "type": "Tool",
            "spdxId": tool_iri,
            "creationInfo": CREATION_INFO,
            "name": format!("{}-{}", ctx.tool_name, ctx.tool_version),
        }),
    ];

    // Suppliers, one element per registry.
    let mut orgs: BTreeMap<&str, (String, &str)> = BTreeMap::new();
    for (_, pkg) in &graph.packages {
        if let Some(r) = model::supplier(pkg) {
            orgs.entry(r.name).or_insert_with(|| {
                (
                    iri(&format!("Organization-{}", model::sanitize(r.name))),
                    r.url,
                )
            });
        }
    }
    for (name, (id, _url)) in &orgs {
        elements.push(json!({
            "type": "Organization",
            "spdxId": id,
            "creationInfo": CREATION_INFO,
            "name": name,
        }));
    }

    // Packages.
    let mut subject = json!({
        "type": "software_Package",
        "spdxId": subject_iri,
        "creationInfo": CREATION_INFO,
        "name": graph.subject.name,
        "software_primaryPurpose": "application",
    });
    if let (Some(v), Some(o)) = (&graph.subject.version, subject.as_object_mut()) {
        o.insert("software_packageVersion".into(), json!(v));
    }
    elements.push(subject);
    let mut licenses: BTreeMap<String, (String, Vec<(String, String)>)> = BTreeMap::new();
    let mut license_links: Vec<(String, String)> = Vec::new();
    for (id, pkg) in &graph.packages {
        let mut p = serde_json::Map::new();
        p.insert("type".into(), json!("software_Package"));
        p.insert("spdxId".into(), json!(id_of(id)));
        p.insert("creationInfo".into(), json!(CREATION_INFO));
        p.insert("name".into(), json!(pkg.name));
        if let Some(v) = &pkg.version {
            p.insert("software_packageVersion".into(), json!(v));
        }
        if let Some(purl) = &pkg.purl {
            let purl = purl.to_string();
            p.insert("software_packageUrl".into(), json!(purl));
            p.insert(
                "externalIdentifier".into(),
                json!([{
                    "type": "ExternalIdentifier",
                    "externalIdentifierType": "packageUrl",
                    "identifier": purl,
                }]),
            );
        }
        if let Some(loc) = model::download_location(pkg) {
            p.insert("software_downloadLocation".into(), json!(loc));
        }
        p.insert(
            "software_primaryPurpose".into(),
            json!(match pkg.kind {
                Kind::Project => "application",
                Kind::Library => "library",
                Kind::Container => "container",
                Kind::OperatingSystem => "operatingSystem",
            }),
        );
        if let Some((org, _)) = model::supplier(pkg).and_then(|r| orgs.get(r.name)) {
            p.insert("suppliedBy".into(), json!(org));
        }
        let hashes: Vec<Value> = pkg
            .hashes
            .iter()
            .filter_map(|d| {
                model::spdx3_alg(d.algorithm())
                    .map(|alg| json!({"type": "Hash", "algorithm": alg, "hashValue": d.hex()}))
            })
            .collect();
        if !hashes.is_empty() {
            p.insert("verifiedUsing".into(), Value::Array(hashes));
        }
        if let Some(info) = model::source_info(pkg) {
            p.insert("software_sourceInfo".into(), json!(info));
        }
        elements.push(Value::Object(p));
        if let Some((expr, refs)) = model::joined_expression(&pkg.licenses) {
            let local = format!("LicenseExpression-{}", model::short_hash(&expr));
            let lic_iri = iri(&local);
            let refs = refs
                .into_iter()
                .map(|(r, raw)| (r, raw.to_owned()))
                .collect();
            licenses.entry(expr).or_insert((lic_iri.clone(), refs));
            license_links.push((id_of(id), lic_iri));
        }
    }

    // Licences.
    let mut custom: BTreeMap<String, String> = BTreeMap::new();
    for (expr, (lic_iri, refs)) in &licenses {
        let mut e = json!({
            "type": "simplelicensing_LicenseExpression",
            "spdxId": lic_iri,
            "creationInfo": CREATION_INFO,
            "simplelicensing_licenseExpression": expr,
        });
        if !refs.is_empty() {
            let map: Vec<Value> = refs
                .iter()
                .map(|(r, _)| {
                    json!({"type": "DictionaryEntry", "key": r, "value": iri(&format!("CustomLicense-{r}"))})
                })
                .collect();
            if let Some(o) = e.as_object_mut() {
                o.insert("simplelicensing_customIdToUri".into(), Value::Array(map));
            }
            for (r, raw) in refs {
                custom.insert(r.clone(), raw.clone());
            }
        }
        elements.push(e);
    }
    for (r, raw) in &custom {
        elements.push(json!({
            "type": "expandedlicensing_CustomLicense",
            "spdxId": iri(&format!("CustomLicense-{r}")),
            "creationInfo": CREATION_INFO,
            "name": raw,
            "simplelicensing_licenseText": raw,
        }));
    }

    // Relationships.
    let rel = |from: &str, local_from: &str, kind: &str, to: Vec<String>, scope: Option<&str>| {
        let mut r = json!({
            "type": if scope.is_some() { "LifecycleScopedRelationship" } else { "Relationship" },
            "spdxId": iri(&format!("Relationship-{local_from}-{kind}")),
            "creationInfo": CREATION_INFO,
            "from": from,
            "relationshipType": if kind == "devDependsOn" { "dependsOn" } else { kind },
            "to": to,
        });
        if let (Some(s), Some(o)) = (scope, r.as_object_mut()) {
            o.insert("scope".into(), json!(s));
        }
        r
    };
    let local = |iri: &str| iri.rsplit('#').next().unwrap_or("").to_owned();
    if !graph.subject_deps.is_empty() {
        let to = graph.subject_deps.iter().map(|id| id_of(id)).collect();
        elements.push(rel(&subject_iri, "Subject", "dependsOn", to, None));
    }
    for (from, tos) in &graph.edges {
        let from_iri = id_of(from);
        let mut by_scope: BTreeMap<Scope, Vec<String>> = BTreeMap::new();
        for to in tos {
            let scope = graph.package(to).map(|p| p.scope).unwrap_or_default();
            by_scope.entry(scope).or_default().push(id_of(to));
        }
        for (scope, to) in by_scope {
            let (kind, lifecycle) = match scope {
                Scope::Required => ("dependsOn", None),
                Scope::Optional => ("hasOptionalDependency", None),
                Scope::Dev => ("devDependsOn", Some("development")),
            };
            elements.push(rel(&from_iri, &local(&from_iri), kind, to, lifecycle));
        }
    }
    for (pkg_iri, lic_iri) in &license_links {
        elements.push(rel(
            pkg_iri,
            &local(pkg_iri),
            "hasDeclaredLicense",
            vec![lic_iri.clone()],
            None,
        ));
    }

    let element_ids: Vec<Value> = elements
        .iter()
        .filter_map(|e| e.get("spdxId").cloned())
        .collect();
    let sbom_elements: Vec<Value> = element_ids
        .iter()
        .filter(|id| *id != &json!(agent_iri) && *id != &json!(tool_iri))
        .cloned()
        .collect();
    let mut doc_elements = vec![json!(sbom_iri)];
    doc_elements.extend(element_ids);
    let mut profiles = vec!["core", "software"];
    if !licenses.is_empty() {
        profiles.push("simpleLicensing");
    }
    if !custom.is_empty() {
        profiles.push("expandedLicensing");
    }
    let mut graph_items = vec![
        creation,
        json!({
            "type": "SpdxDocument",
            "spdxId": doc_iri,
            "creationInfo": CREATION_INFO,
            "name": graph.subject.name,
            "profileConformance": profiles,
            "rootElement": [sbom_iri],
            "element": doc_elements,
        }),
        json!({
            "type": "software_Sbom",
            "spdxId": sbom_iri,
            "creationInfo": CREATION_INFO,
            "rootElement": [subject_iri],
            "element": sbom_elements,
        }),
    ];
    graph_items.extend(elements);
    serde_json::to_vec_pretty(&json!({
        "@context": CONTEXT,
        "@graph": graph_items,
    }))
}

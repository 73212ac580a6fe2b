//! SPDX 2.3 JSON, <https://spdx.github.io/spdx-spec/v2.3/>.
//!
//! Conventions, where the specification leaves a choice:
//! - The document describes one package, the subject (`SPDXRef-Subject`), by a `DESCRIBES`
//!   relationship (the 2.3 way; `documentDescribes` is not written as well, since readers turn
//!   it into the same relationship and would see it twice).
//! - Package ids are `SPDXRef-Package-` and the sanitised inventory identity, with a hash
//!   appended only where two identities sanitise alike.
//! - Every edge becomes one relationship typed by the target's scope, as the 2.3 relationship
//!   table intends: `A DEPENDS_ON B` for a runtime dependency, `B DEV_DEPENDENCY_OF A` and
//!   `B OPTIONAL_DEPENDENCY_OF A` for dev and optional ones. The subject `DEPENDS_ON` each root.
//! - `supplier` is `Organization: <registry>` for packages from a known public registry (see
//!   [`crate::model::supplier`]), otherwise `NOASSERTION`; no person is ever named.
//! - `licenseDeclared` is every recorded licence joined with `AND`; strings that are not SPDX
//!   expressions become `LicenseRef-`s declared in `hasExtractedLicensingInfos`. Nothing is
//!   concluded: `licenseConcluded` is `NOASSERTION`.
//! - Where the package was found (lockfile and line) and its source go in `sourceInfo`.
//! - The document namespace is `https://spdx.org/spdxdocs/<name>-<uuid>`, the form the SPDX
//!   specification's examples and most generators use when the creator has no site of its own.

use std::collections::BTreeMap;

use serde::Serialize;
use vouch_inventory::{Kind, Scope};

use crate::model::{self, Context, Graph};

pub(crate) const SUBJECT_ID: &str = "SPDXRef-Subject";
const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship<'a>>,
}

#[derive(Serialize)]
struct CreationInfo {
    #[serde(skip_serializing_if = "String::is_empty")]
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship<'a> {
    spdx_element_id: &'a str,
    relationship_type: &'static str,
    related_spdx_element: &'a str,
}

/// `https://spdx.org/spdxdocs/<name>-<uuid>`.
pub(crate) fn namespace(graph: &Graph<'_>, uuid: &str) -> String {
    let name = model::sanitize(&graph.subject.name);
    let name = name.trim_matches('-');
    let name = if name.is_empty() { "sbom" } else { name };
    format!("https://spdx.org/spdxdocs/{name}-{uuid}")
}

pub(crate) fn encode(graph: &Graph<'_>, ctx: &Context<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let ids = model::unique_ids(graph, "SPDXRef-Package-", &[SUBJECT_ID, "SPDXRef-DOCUMENT"]);
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    let mut packages = vec![Package {
        spdx_id: SUBJECT_ID.to_owned(),
        name: graph.subject.name.clone(),
        version_info: graph.subject.version.clone(),
        supplier: NOASSERTION.to_owned(),
        download_location: NOASSERTION.to_owned(),
        files_analyzed: false,
        checksums: Vec::new(),
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_owned(),
        copyright_text: NOASSERTION,
        external_refs: Vec::new(),
        primary_package_purpose: "APPLICATION",
    }];
    for (id, pkg) in &graph.packages {
        let license_declared = match model::joined_expression(&pkg.licenses) {
            Some((expr, refs)) => {
                for (id, raw) in refs {
                    extracted.insert(id, raw.to_owned());
                }
                expr
            }
            None => NOASSERTION.to_owned(),
        };
        packages.push(Package {
            spdx_id: ids.get(id).cloned().unwrap_or_default(),
            name: pkg.name.clone(),
            version_info: pkg.version.clone(),
            supplier: model::supplier(pkg)
                .map(|r| format!("Organization: {}", r.name))
                .unwrap_or_else(|| NOASSERTION.to_owned()),
            download_location: model::download_location(pkg)
                .unwrap_or_else(|| NOASSERTION.to_owned()),
            files_analyzed: false,
            checksums: pkg
                .hashes
                .iter()
                .filter_map(|d| {
                    model::spdx2_alg(d.algorithm()).map(|algorithm| Checksum {
                        algorithm,
                        checksum_value: d.hex().to_owned(),
                    })
                })
                .collect(),
            source_info: model::source_info(pkg),
            license_concluded: NOASSERTION,
            license_declared,
            copyright_text: NOASSERTION,
            external_refs: pkg
                .purl
                .iter()
                .map(|p| ExternalRef {
                    reference_category: "PACKAGE-MANAGER",
                    reference_type: "purl",
                    reference_locator: p.to_string(),
                })
                .collect(),
            primary_package_purpose: match pkg.kind {
                Kind::Project => "APPLICATION",
                Kind::Library => "LIBRARY",
                Kind::Container => "CONTAINER",
                Kind::OperatingSystem => "OPERATING_SYSTEM",
            },
        });
    }

    let id_of = |id| ids.get(id).map(String::as_str).unwrap_or("");
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT",
        relationship_type: "DESCRIBES",
        related_spdx_element: SUBJECT_ID,
    }];
    for root in &graph.subject_deps {
        relationships.push(Relationship {
            spdx_element_id: SUBJECT_ID,
            relationship_type: "DEPENDS_ON",
            related_spdx_element: id_of(root),
        });
    }
    for (from, tos) in &graph.edges {
        for to in tos {
            let scope = graph.package(to).map(|p| p.scope).unwrap_or_default();
            relationships.push(match scope {
                Scope::Required => Relationship {
                    spdx_element_id: id_of(from),
                    relationship_type: "DEPENDS_ON",
                    related_spdx_element: id_of(to),
                },
                Scope::Optional => Relationship {
                    spdx_element_id: id_of(to),
                    relationship_type: "OPTIONAL_DEPENDENCY_OF",
                    related_spdx_element: id_of(from),
                },
                Scope::Dev => Relationship {
                    spdx_element_id: id_of(to),
                    relationship_type: "DEV_DEPENDENCY_OF",
                    related_spdx_element: id_of(from),
                },
            });
        }
    }

    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: graph.subject.name.clone(),
        document_namespace: namespace(graph, ctx.uuid),
        creation_info: CreationInfo {
            created: ctx.created.to_owned(),
            creators: vec![format!("Tool: {}-{}", ctx.tool_name, ctx.tool_version)],
        },
        packages,
        has_extracted_licensing_infos: extracted
            .into_iter()
            .map(|(license_id, text)| ExtractedLicense {
                license_id,
                name: text.clone(),
                extracted_text: text,
            })
            .collect(),
        relationships,
    };
    serde_json::to_vec_pretty(&doc)
}

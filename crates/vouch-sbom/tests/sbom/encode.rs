use std::collections::BTreeSet;

use serde_json::Value;
use vouch_sbom::check::{Severity, check};
use vouch_sbom::{CdxVersion, EncodeError, Options, SbomFormat, decode_summary};

use crate::{ALL_FORMATS, encode, inventory, options, schema_dir, subject};

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn every_format_passes_the_official_schema_and_has_no_errors() {
    let Some(dir) = schema_dir("every_format_passes_the_official_schema") else {
        return;
    };
    for format in ALL_FORMATS {
        let bytes = encode(format);
        let report = check("out.json", &bytes, Some(&dir)).unwrap();
        assert!(report.schema_checked);
        let errors: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{format}: {errors:#?}");
        // The projects come from lockfiles, so they have no purl or supplier; everything else
        // from a public registry does.
        for f in &report.findings {
            assert!(
                matches!(f.code, "ntia-supplier-missing" | "ntia-unique-id-missing"),
                "{format}: unexpected {f:?}"
            );
        }
    }
}

#[test]
fn an_empty_inventory_is_still_valid() {
    let Some(dir) = schema_dir("an_empty_inventory_is_still_valid") else {
        return;
    };
    let inv = vouch_inventory::Inventory::new();
    let subject = vouch_sbom::Subject {
        name: String::new(),
        version: None,
    };
    for format in ALL_FORMATS {
        let bytes = vouch_sbom::encode(format, &subject, &inv, &options()).unwrap();
        let report = check("empty.json", &bytes, Some(&dir)).unwrap();
        assert!(!report.has("schema-invalid"), "{format}: {report:#?}");
    }
}

#[test]
fn output_is_deterministic_and_the_serial_ignores_the_timestamp() {
    for format in ALL_FORMATS {
        let a = encode(format);
        let b = encode(format);
        assert_eq!(a, b, "{format}");
        assert!(a.ends_with(b"}\n"), "{format}: trailing newline");
        let later = vouch_sbom::encode(
            format,
            &subject(),
            &inventory(),
            &Options {
                created: 1_800_000_000,
                ..options()
            },
        )
        .unwrap();
        assert_ne!(a, later, "{format}: timestamp must change");
        assert_eq!(document_id(&a), document_id(&later), "{format}");
    }
    // A change of content changes the identifier.
    let mut inv = inventory();
    inv.add(
        vouch_inventory::Package::new(vouch_inventory::Ecosystem::Cargo, "extra").version("1.0.0"),
    );
    let changed = vouch_sbom::encode(
        SbomFormat::CycloneDxJson(CdxVersion::V1_6),
        &subject(),
        &inv,
        &options(),
    )
    .unwrap();
    assert_ne!(
        document_id(&changed),
        document_id(&encode(SbomFormat::CycloneDxJson(CdxVersion::V1_6)))
    );
}

/// The serial number or document namespace.
fn document_id(bytes: &[u8]) -> String {
    let v = json(bytes);
    if let Some(s) = v["serialNumber"].as_str() {
        return s.to_owned();
    }
    if let Some(s) = v["documentNamespace"].as_str() {
        return s.to_owned();
    }
    v["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "SpdxDocument")
        .unwrap()["spdxId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_given_serial_is_used_and_a_bad_one_refused() {
    let serial = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    let opts = Options {
        serial: Some(serial.into()),
        ..options()
    };
    let cdx = vouch_sbom::encode(
        SbomFormat::CycloneDxJson(CdxVersion::V1_6),
        &subject(),
        &inventory(),
        &opts,
    )
    .unwrap();
    assert_eq!(
        json(&cdx)["serialNumber"],
        "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    );
    let spdx = vouch_sbom::encode(SbomFormat::SpdxJson, &subject(), &inventory(), &opts).unwrap();
    assert_eq!(
        json(&spdx)["documentNamespace"],
        "https://spdx.org/spdxdocs/demo-checkout-3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    );
    let bad = Options {
        serial: Some("not-a-uuid".into()),
        ..options()
    };
    let err = vouch_sbom::encode(SbomFormat::SpdxJson, &subject(), &inventory(), &bad).unwrap_err();
    assert!(matches!(err, EncodeError::InvalidSerial { .. }), "{err}");
    let far = Options {
        created: i64::MAX,
        ..options()
    };
    let err = vouch_sbom::encode(SbomFormat::SpdxJson, &subject(), &inventory(), &far).unwrap_err();
    assert!(
        matches!(err, EncodeError::TimestampOutOfRange { .. }),
        "{err}"
    );
}

#[test]
fn the_three_formats_describe_the_same_packages_and_edges() {
    let cdx = decode_summary(&encode(SbomFormat::CycloneDxJson(CdxVersion::V1_6))).unwrap();
    let cdx15 = decode_summary(&encode(SbomFormat::CycloneDxJson(CdxVersion::V1_5))).unwrap();
    let spdx = decode_summary(&encode(SbomFormat::SpdxJson)).unwrap();
    let spdx3 = decode_summary(&encode(SbomFormat::Spdx3Json)).unwrap();
    assert_eq!(cdx.format, "CycloneDX 1.6");
    assert_eq!(spdx.format, "SPDX 2.3");
    assert_eq!(spdx3.format, "SPDX 3.0.1");
    for other in [&cdx15, &spdx, &spdx3] {
        assert_eq!(cdx.packages, other.packages, "{}", other.format);
        assert_eq!(cdx.edges, other.edges, "{}", other.format);
    }
    // Everything in the inventory plus the subject; every edge but the dangling one, plus the
    // subject's edges to the two roots.
    let inv = inventory();
    assert_eq!(cdx.packages.len(), inv.len() + 1);
    assert_eq!(cdx.edges.len(), inv.edges().count() - 1 + 2);
    let has = |a: &str, b: &str| cdx.edges.contains(&(a.to_owned(), b.to_owned()));
    assert!(has("web@2.0.0", "pkg:npm/%40babel/core@7.24.0"));
    assert!(has("demo checkout@1.2.3", "app@0.1.0"));
    assert!(has("app@0.1.0", "localcrate@0.1.0"));
    assert!(cdx.packages.contains("pkg:cargo/rand@0.8.5"));
    assert!(cdx.packages.contains("pkg:cargo/rand@0.9.0"));
    assert!(!cdx.packages.iter().any(|p| p.contains("missing")));
}

#[test]
fn cyclonedx_fields_follow_the_conventions() {
    let v = json(&encode(SbomFormat::CycloneDxJson(CdxVersion::V1_6)));
    assert_eq!(v["specVersion"], "1.6");
    assert_eq!(v["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(v["metadata"]["tools"]["components"][0]["name"], "vouch");
    assert_eq!(v["metadata"]["component"]["type"], "application");
    let comps = v["components"].as_array().unwrap();
    let by_purl = |p: &str| comps.iter().find(|c| c["purl"] == p).unwrap();
    let babel = by_purl("pkg:npm/%40babel/core@7.24.0");
    assert_eq!(babel["group"], "@babel");
    assert_eq!(babel["name"], "core");
    assert_eq!(babel["scope"], "excluded");
    assert_eq!(babel["supplier"]["name"], "npm");
    let algs: BTreeSet<&str> = babel["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, BTreeSet::from(["SHA-1", "SHA-512"]));
    assert_eq!(babel["licenses"][0]["license"]["id"], "MIT");
    assert_eq!(
        babel["evidence"]["occurrences"][0],
        serde_json::json!({"location": "web/package-lock.json", "line": 100})
    );
    let serde = by_purl("pkg:cargo/serde@1.0.200");
    assert_eq!(serde["licenses"][0]["expression"], "MIT OR Apache-2.0");
    assert_eq!(serde["supplier"]["name"], "crates.io");
    let fsevents = by_purl("pkg:npm/fsevents@2.3.3");
    assert_eq!(fsevents["scope"], "optional");
    let lang3 = by_purl("pkg:maven/org.apache.commons/commons-lang3@3.14.0");
    assert_eq!(lang3["group"], "org.apache.commons");
    assert!(
        lang3.get("supplier").is_none(),
        "a private URL names no supplier"
    );
    assert_eq!(lang3["licenses"].as_array().unwrap().len(), 2);
    let testify = by_purl("pkg:golang/github.com/stretchr/testify@v1.9.0");
    assert_eq!(testify["name"], "github.com/stretchr/testify");
    assert!(testify.get("group").is_none());
    let git = comps.iter().find(|c| c["name"] == "mygit").unwrap();
    assert_eq!(git["externalReferences"][0]["type"], "vcs");
    // Every component has a dependencies entry, and the subject depends on the two roots.
    let deps = v["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), comps.len() + 1);
    assert_eq!(deps[0]["dependsOn"].as_array().unwrap().len(), 2);

    let v15 = json(&encode(SbomFormat::CycloneDxJson(CdxVersion::V1_5)));
    let babel15 = v15["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "core")
        .unwrap();
    assert_eq!(
        babel15["evidence"]["occurrences"][0],
        serde_json::json!({"location": "web/package-lock.json:100"})
    );
}

#[test]
fn spdx2_relationships_follow_scope() {
    let v = json(&encode(SbomFormat::SpdxJson));
    let rels = v["relationships"].as_array().unwrap();
    let types: BTreeSet<&str> = rels
        .iter()
        .map(|r| r["relationshipType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "DESCRIBES",
            "DEPENDS_ON",
            "DEV_DEPENDENCY_OF",
            "OPTIONAL_DEPENDENCY_OF"
        ])
    );
    let ids: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let licences: Vec<&str> = v["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["licenseId"].as_str().unwrap())
        .collect();
    assert_eq!(licences.len(), 2, "{licences:?}");
}

/// Writes every encoding to `$VOUCH_SBOM_DUMP_DIR`, when set, for the external validators.
#[test]
fn dump_for_external_validators() {
    let Some(dir) = std::env::var_os("VOUCH_SBOM_DUMP_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (format, name) in [
        (
            SbomFormat::CycloneDxJson(CdxVersion::V1_6),
            "bom-1.6.cdx.json",
        ),
        (
            SbomFormat::CycloneDxJson(CdxVersion::V1_5),
            "bom-1.5.cdx.json",
        ),
        (SbomFormat::SpdxJson, "doc.spdx.json"),
        (SbomFormat::Spdx3Json, "doc.spdx3.json"),
    ] {
        std::fs::write(dir.join(name), encode(format)).unwrap();
    }
}

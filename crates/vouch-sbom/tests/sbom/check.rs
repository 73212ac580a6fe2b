use serde_json::{Value, json};
use vouch_sbom::check::{CheckError, Report, Severity, check};
use vouch_sbom::{CdxVersion, SbomFormat};

use crate::{encode, schema_dir};

fn tamper(format: SbomFormat, f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&encode(format)).unwrap();
    f(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

fn codes(report: &Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.code).collect()
}

fn errors(report: &Report) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.code)
        .collect()
}

const CDX: SbomFormat = SbomFormat::CycloneDxJson(CdxVersion::V1_6);

#[test]
fn cyclonedx_without_timestamp() {
    let bytes = tamper(CDX, |v| {
        v["metadata"].as_object_mut().unwrap().remove("timestamp");
    });
    // The schema does not require a timestamp; NTIA does.
    let report = check(
        "bom.json",
        &bytes,
        schema_dir("cyclonedx_without_timestamp").as_deref(),
    )
    .unwrap();
    assert_eq!(errors(&report), ["ntia-timestamp-missing"], "{report:#?}");
}

#[test]
fn cyclonedx_with_a_broken_purl() {
    let bytes = tamper(CDX, |v| {
        v["components"][3]["purl"] = json!("pkg/cargo/serde")
    });
    let report = check(
        "bom.json",
        &bytes,
        schema_dir("cyclonedx_with_a_broken_purl").as_deref(),
    )
    .unwrap();
    assert_eq!(errors(&report), ["purl-invalid"], "{report:#?}");
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "purl-invalid")
        .unwrap();
    assert_eq!(f.pointer.as_deref(), Some("/components/3/purl"));
}

#[test]
fn cyclonedx_without_a_component_name() {
    let bytes = tamper(CDX, |v| {
        v["components"][2].as_object_mut().unwrap().remove("name");
    });
    if let Some(dir) = schema_dir("cyclonedx_without_a_component_name") {
        let report = check("bom.json", &bytes, Some(&dir)).unwrap();
        assert_eq!(
            errors(&report),
            ["schema-invalid", "ntia-name-missing"],
            "{report:#?}"
        );
        assert_eq!(report.findings[0].pointer.as_deref(), Some("/components/2"));
    }
    let report = check("bom.json", &bytes, None).unwrap();
    assert!(!report.schema_checked);
    assert_eq!(
        codes(&report),
        [
            "schema-not-checked",
            "structure-missing-field",
            "ntia-name-missing",
            "ntia-supplier-missing",
            "ntia-unique-id-missing"
        ]
    );
    assert_eq!(report.findings[1].pointer.as_deref(), Some("/components/2"));
}

#[test]
fn cyclonedx_without_dependencies_or_tools() {
    let bytes = tamper(CDX, |v| {
        v.as_object_mut().unwrap().remove("dependencies");
        v["metadata"].as_object_mut().unwrap().remove("tools");
    });
    let report = check("bom.json", &bytes, None).unwrap();
    assert_eq!(
        errors(&report),
        ["ntia-author-missing", "ntia-relationships-missing"]
    );
}

#[test]
fn cyclonedx_with_dangling_and_duplicate_references() {
    let bytes = tamper(CDX, |v| {
        v["dependencies"][1]["dependsOn"] = json!(["nowhere"]);
        let first = v["components"][0]["bom-ref"].clone();
        v["components"][1]["bom-ref"] = first;
    });
    let report = check("bom.json", &bytes, None).unwrap();
    assert_eq!(
        errors(&report),
        ["bom-ref-duplicate", "reference-unknown"],
        "{report:#?}"
    );
}

#[test]
fn spdx2_tampering() {
    let dir = schema_dir("spdx2_tampering");
    let no_created = tamper(SbomFormat::SpdxJson, |v| {
        v["creationInfo"].as_object_mut().unwrap().remove("created");
    });
    let report = check("doc.spdx.json", &no_created, dir.as_deref()).unwrap();
    let expected_first = if dir.is_some() {
        "schema-invalid"
    } else {
        "structure-missing-field"
    };
    assert_eq!(
        errors(&report),
        [expected_first, "ntia-timestamp-missing"],
        "{report:#?}"
    );

    let bad_purl_and_id = tamper(SbomFormat::SpdxJson, |v| {
        v["packages"][3]["externalRefs"][0]["referenceLocator"] = json!("pkg:");
        v["packages"][1]["SPDXID"] = json!("SPDXRef-has space");
    });
    let report = check("doc.spdx.json", &bad_purl_and_id, dir.as_deref()).unwrap();
    // The SPDXID is still referenced under its old spelling, so that reference dangles.
    assert_eq!(
        errors(&report),
        ["purl-invalid", "spdx-id-invalid", "reference-unknown"],
        "{report:#?}"
    );

    let no_relationships = tamper(SbomFormat::SpdxJson, |v| {
        v.as_object_mut().unwrap().remove("relationships");
    });
    let report = check("doc.spdx.json", &no_relationships, dir.as_deref()).unwrap();
    assert_eq!(
        errors(&report),
        ["ntia-relationships-missing"],
        "{report:#?}"
    );
}

#[test]
fn spdx3_tampering() {
    let dir = schema_dir("spdx3_tampering");
    let no_created = tamper(SbomFormat::Spdx3Json, |v| {
        v["@graph"][0].as_object_mut().unwrap().remove("created");
    });
    let report = check("doc.spdx3.json", &no_created, dir.as_deref()).unwrap();
    let errs = errors(&report);
    assert_eq!(errs.last(), Some(&"ntia-timestamp-missing"), "{report:#?}");
    let expected_first = if dir.is_some() {
        "schema-invalid"
    } else {
        "structure-missing-field"
    };
    assert!(
        errs.iter()
            .all(|c| *c == expected_first || *c == "ntia-timestamp-missing"),
        "{errs:?}"
    );

    let bad_purl = tamper(SbomFormat::Spdx3Json, |v| {
        for e in v["@graph"].as_array_mut().unwrap() {
            if e["name"] == "serde" {
                e["software_packageUrl"] = json!("serde@1.0");
            }
        }
    });
    let report = check("doc.spdx3.json", &bad_purl, dir.as_deref()).unwrap();
    assert_eq!(errors(&report), ["purl-invalid"], "{report:#?}");
}

#[test]
fn invalid_json_names_line_and_column() {
    let err = check(
        "broken.json",
        b"{\n  \"bomFormat\": \"CycloneDX\",\n  \"x\": tru\n}",
        None,
    )
    .unwrap_err();
    match &err {
        CheckError::Json {
            file, line, column, ..
        } => {
            assert_eq!(file, "broken.json");
            assert_eq!((*line, *column), (3, 11), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("broken.json:3:11: invalid JSON"),
        "{err}"
    );
}

#[test]
fn limits_and_unknown_formats_are_errors() {
    let deep = "[".repeat(100) + &"]".repeat(100);
    let err = check("deep.json", deep.as_bytes(), None).unwrap_err();
    assert!(
        matches!(
            err,
            CheckError::TooDeep {
                line: 1,
                column: 65,
                limit: 64,
                ..
            }
        ),
        "{err:?}"
    );
    // Brackets inside strings do not count.
    let quoted = format!("{{\"a\": \"{}\"}}", "[".repeat(100));
    let err = check("q.json", quoted.as_bytes(), None).unwrap_err();
    assert!(matches!(err, CheckError::UnknownFormat { .. }), "{err:?}");
    let err = check(
        "old.json",
        br#"{"bomFormat":"CycloneDX","specVersion":"1.2"}"#,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(err, CheckError::UnsupportedVersion { .. }),
        "{err:?}"
    );
    let err = check("old.json", br#"{"spdxVersion":"SPDX-2.2"}"#, None).unwrap_err();
    assert!(
        matches!(err, CheckError::UnsupportedVersion { .. }),
        "{err:?}"
    );
    let err = check("arr.json", b"[]", None).unwrap_err();
    assert!(matches!(err, CheckError::UnknownFormat { .. }), "{err:?}");
}

#[test]
fn wrong_types_are_reported_without_a_schema() {
    let bytes =
        br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":{"a":1},"dependencies":[1]}"#;
    let report = check("t.json", bytes, None).unwrap();
    assert_eq!(
        codes(&report),
        [
            "schema-not-checked",
            "structure-wrong-type",
            "structure-wrong-type",
            "ntia-timestamp-missing",
            "ntia-author-missing"
        ],
        "{report:#?}"
    );
}

#[test]
fn the_shared_samples() {
    let Some(dir) = schema_dir("the_shared_samples") else {
        return;
    };
    let samples = dir.join("samples");
    let read = |name: &str| std::fs::read(samples.join(name)).unwrap();
    for (name, format) in [
        ("valid-cdx-1.6.json", "CycloneDX 1.6"),
        ("valid-spdx-2.3.json", "SPDX 2.3"),
        ("spdx-3.0.1-package_sbom.example.json", "SPDX 3.0.1"),
    ] {
        let report = check(name, &read(name), Some(&dir)).unwrap();
        assert_eq!(report.format, format);
        assert!(!report.has("schema-invalid"), "{name}: {report:#?}");
    }
    let report = check(
        "invalid-cdx-1.6.json",
        &read("invalid-cdx-1.6.json"),
        Some(&dir),
    )
    .unwrap();
    assert!(report.has("schema-invalid"), "{report:#?}");
}

#[test]
fn many_offenders_make_one_finding() {
    let mut comps = Vec::new();
    for i in 0..1000 {
        comps.push(json!({"type": "library", "name": format!("c{i}")}));
    }
    let doc = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"timestamp": "2024-01-01T00:00:00Z", "tools": {"components": [{"type": "application", "name": "t"}]}},
        "components": comps,
    });
    let report = check("many.json", &serde_json::to_vec(&doc).unwrap(), None).unwrap();
    let version = report
        .findings
        .iter()
        .find(|f| f.code == "ntia-version-missing")
        .unwrap();
    assert_eq!(version.severity, Severity::Warning);
    assert_eq!(version.pointer.as_deref(), Some("/components/0"));
    assert!(
        version.message.starts_with("1000 of 1000 components"),
        "{}",
        version.message
    );
    assert!(
        version.message.ends_with("and 995 more"),
        "{}",
        version.message
    );
    assert_eq!(report.findings.len(), 5, "{report:#?}");
}

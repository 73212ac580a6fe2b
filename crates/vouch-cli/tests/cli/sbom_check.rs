//! `vouch sbom check`.

use serde_json::Value;

use crate::{demo_app, render, run, schema_dir, vouch};

fn generate(format: &str) -> Vec<u8> {
    let out = run(vouch().args(["sbom", "--format", format]).arg(demo_app()));
    assert_eq!(out.status.code(), Some(0));
    out.stdout
}

#[test]
fn generated_sboms_pass_in_every_format() {
    let Some(schemas) = schema_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (format, name) in [
        ("cyclonedx-json", "CycloneDX 1.6"),
        ("spdx-json", "SPDX 2.3"),
        ("spdx3-json", "SPDX 3.0.1"),
    ] {
        let file = tmp.path().join(format!("{format}.json"));
        std::fs::write(&file, generate(format)).unwrap();
        let out = run(vouch()
            .args(["sbom", "check", "--format", "json", "--schema-dir"])
            .arg(&schemas)
            .arg(&file));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {report:#}");
        assert_eq!(report["format"], name);
        assert_eq!(report["schema_checked"], true);
        assert_eq!(report["valid"], true);
    }
}

#[test]
fn missing_timestamp_fails_with_a_stable_code() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bom: Value = serde_json::from_slice(&generate("cyclonedx-json")).unwrap();
    bom["metadata"].as_object_mut().unwrap().remove("timestamp");
    let file = tmp.path().join("bom.json");
    std::fs::write(&file, serde_json::to_vec(&bom).unwrap()).unwrap();
    let out = run(vouch()
        .args(["sbom", "check", "--format", "json"])
        .arg(&file));
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"ntia-timestamp-missing"), "{codes:?}");
    assert!(codes.contains(&"schema-not-checked"), "{codes:?}");
    assert_eq!(report["valid"], false);
}

#[test]
fn schema_violation_is_reported_with_its_pointer() {
    let Some(schemas) = schema_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut bom: Value = serde_json::from_slice(&generate("cyclonedx-json")).unwrap();
    bom["components"][0]["type"] = Value::from("gadget");
    let file = tmp.path().join("bom.json");
    std::fs::write(&file, serde_json::to_vec(&bom).unwrap()).unwrap();
    let out = run(vouch()
        .args(["sbom", "check", "--format", "json", "--schema-dir"])
        .arg(&schemas)
        .arg(&file));
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "schema-invalid")
        .unwrap_or_else(|| panic!("no schema-invalid finding: {report:#}"));
    assert!(
        hit["pointer"]
            .as_str()
            .unwrap()
            .starts_with("/components/0"),
        "{hit}"
    );
}

#[test]
fn invalid_json_is_a_usage_error_naming_the_place() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bom.json");
    std::fs::write(&file, "{\n  \"bomFormat\": \"CycloneDX\",\n  oops\n}\n").unwrap();
    let out = run(vouch().args(["sbom", "check"]).arg(&file));
    insta::assert_snapshot!(render(&out, &[(tmp.path(), "[TMP]")]));
}

#[test]
fn report_matches_its_published_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bom.json");
    std::fs::write(&file, generate("spdx-json")).unwrap();
    let out = run(vouch()
        .args(["sbom", "check", "--format", "json"])
        .arg(&file));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(crate::repo().join("schemas/sbom-check-report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{report:#}");
}

//! `vouch sbom`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::{demo_app, render, run, vouch};

fn cdx(args: &[&str]) -> Value {
    let out = run(vouch().arg("sbom").args(args));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn purls(bom: &Value) -> BTreeSet<String> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn demo_app_describes_every_ecosystem() {
    let bom = cdx(&[demo_app().to_str().unwrap()]);
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["metadata"]["component"]["name"], "demo-app");
    let p = purls(&bom);
    for expected in [
        "pkg:npm/ms@2.1.3",
        "pkg:npm/debug@4.3.4",
        "pkg:npm/%40types/node@20.11.30",
        "pkg:pypi/six@1.16.0",
        "pkg:pypi/idna@3.7",
        "pkg:golang/github.com/google/uuid@v1.6.0",
        "pkg:golang/golang.org/x/text@v0.14.0",
    ] {
        assert!(p.contains(expected), "missing {expected} in {p:?}");
    }
    assert!(
        p.iter().any(|x| x.starts_with("pkg:cargo/serde@1.")),
        "{p:?}"
    );
    // The pinned hash of six comes through from requirements.txt.
    let six = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purl"] == "pkg:pypi/six@1.16.0")
        .unwrap();
    assert_eq!(six["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        six["hashes"][0]["content"],
        "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
    );
    // Every component appears in the dependency graph.
    let refs: BTreeSet<&str> = bom["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ref"].as_str().unwrap())
        .collect();
    for c in bom["components"].as_array().unwrap() {
        assert!(refs.contains(c["bom-ref"].as_str().unwrap()), "{c}");
    }
}

#[test]
fn output_is_reproducible_and_serial_ignores_time() {
    let dir = demo_app();
    let a = run(vouch().arg("sbom").arg(&dir));
    let b = run(vouch().arg("sbom").arg(&dir));
    assert_eq!(a.stdout, b.stdout, "two runs differ");
    let later = run(vouch()
        .env("SOURCE_DATE_EPOCH", "1800000000")
        .arg("sbom")
        .arg(&dir));
    let a: Value = serde_json::from_slice(&a.stdout).unwrap();
    let later: Value = serde_json::from_slice(&later.stdout).unwrap();
    assert_eq!(a["serialNumber"], later["serialNumber"]);
    assert_eq!(a["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_ne!(a["metadata"]["timestamp"], later["metadata"]["timestamp"]);
    let random = cdx(&["--random-serial", dir.to_str().unwrap()]);
    assert_ne!(a["serialNumber"], random["serialNumber"]);
}

#[test]
fn exclude_dev_drops_dev_only_packages() {
    let dir = demo_app();
    let all = purls(&cdx(&[dir.to_str().unwrap()]));
    let prod = purls(&cdx(&["--exclude-dev", dir.to_str().unwrap()]));
    assert!(all.contains("pkg:npm/is-number@7.0.0"));
    assert!(!prod.contains("pkg:npm/is-number@7.0.0"));
    assert!(all.iter().any(|p| p.starts_with("pkg:cargo/similar@")));
    assert!(!prod.iter().any(|p| p.starts_with("pkg:cargo/similar@")));
    assert!(prod.contains("pkg:npm/ms@2.1.3"));
}

#[test]
fn formats_describe_the_same_packages_and_edges() {
    let dir = demo_app();
    let mut summaries = Vec::new();
    for format in ["cyclonedx-json", "spdx-json", "spdx3-json"] {
        let out = run(vouch().args(["sbom", "--format", format]).arg(&dir));
        assert_eq!(out.status.code(), Some(0), "{format}");
        summaries.push((format, vouch_sbom::decode_summary(&out.stdout).unwrap()));
    }
    let (_, first) = &summaries[0];
    for (format, s) in &summaries[1..] {
        assert_eq!(s.packages, first.packages, "packages differ in {format}");
        assert_eq!(s.edges, first.edges, "edges differ in {format}");
    }
    assert!(first.edges.len() > 10);
}

#[test]
fn output_file_matches_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bom.json");
    let out = run(vouch().arg("sbom").arg(demo_app()).arg("-o").arg(&file));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stdout = run(vouch().arg("sbom").arg(demo_app())).stdout;
    assert_eq!(std::fs::read(&file).unwrap(), stdout);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn malformed_lockfile_names_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let lock = tmp.path().join("Cargo.lock");
    std::fs::write(
        &lock,
        "version = 3\n\n[[package]]\nname = \"a\"\nversion = 1.0\n",
    )
    .unwrap();
    let out = run(vouch().arg("sbom").arg(&lock));
    insta::assert_snapshot!(render(&out, &[(tmp.path(), "[TMP]")]));
}

#[test]
fn unknown_file_lists_supported_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("deps.lock");
    std::fs::write(&f, "x").unwrap();
    let out = run(vouch().arg("sbom").arg(&f));
    insta::assert_snapshot!(render(&out, &[(tmp.path(), "[TMP]")]));
}

#[test]
fn directory_without_lockfiles_is_an_error_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("node_modules")).unwrap();
    std::fs::write(tmp.path().join("node_modules/package-lock.json"), "{}").unwrap();
    let out = run(vouch().arg("sbom").arg(tmp.path()));
    insta::assert_snapshot!(render(&out, &[(tmp.path(), "[TMP]")]));
}

#[test]
fn bun_binary_lockfile_gets_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bun.lockb");
    std::fs::write(&f, b"#!/usr/bin/env bun\x00\x01").unwrap();
    let out = run(vouch().arg("sbom").arg(&f));
    insta::assert_snapshot!(render(&out, &[(tmp.path(), "[TMP]")]));
}

#[test]
fn missing_path_and_bad_flag_exit_2() {
    let out = run(vouch().args(["sbom", "/nonexistent/dir/xyz"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    let out = run(vouch().args(["sbom", "--format", "swid"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn vendored_trees_are_skipped_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("vendor/lib")).unwrap();
    std::fs::write(root.join("requirements.txt"), "six==1.16.0\n").unwrap();
    std::fs::write(root.join("vendor/lib/requirements.txt"), "idna==3.7\n").unwrap();
    let p = purls(&cdx(&[root.to_str().unwrap()]));
    assert!(p.contains("pkg:pypi/six@1.16.0"));
    assert!(!p.contains("pkg:pypi/idna@3.7"));
    let p = purls(&cdx(&["--include-vendored", root.to_str().unwrap()]));
    assert!(p.contains("pkg:pypi/idna@3.7"));
}

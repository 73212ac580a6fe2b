//! `vouch release --devstack` on the bundled example: the README's main job.

use super::{repo, run, vouch};

#[test]
fn release_rehearsal_writes_every_output_and_each_verifies() {
    let out = tempfile::tempdir().unwrap();
    let artifact = repo().join("examples/demo-app/dist/demo-app-0.1.0.tar.gz");
    let result = run(vouch()
        .arg("release")
        .arg("--devstack")
        .arg("--sbom")
        .arg(repo().join("examples/demo-app"))
        .arg("--out")
        .arg(out.path())
        .arg(&artifact)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI"));
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let table = String::from_utf8_lossy(&result.stdout);
    for stage in [
        "| sbom |",
        "| provenance |",
        "| sign |",
        "| attest |",
        "| verify | 3 |",
    ] {
        assert!(table.contains(stage), "{stage} missing from:\n{table}");
    }
    let mut names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "demo-app-0.1.0.tar.gz.sigstore.json",
            "provenance.intoto.sigstore.json",
            "provenance.json",
            "sbom.cdx.json",
            "sbom.intoto.sigstore.json",
            "trust_config.json"
        ]
    );
    // A consumer with only the output directory verifies each bundle, and reads what the
    // attestations claim.
    let trust = out.path().join("trust_config.json");
    for (bundle, predicate) in [
        ("demo-app-0.1.0.tar.gz.sigstore.json", None),
        (
            "sbom.intoto.sigstore.json",
            Some("https://cyclonedx.org/bom"),
        ),
        (
            "provenance.intoto.sigstore.json",
            Some("https://slsa.dev/provenance/v1"),
        ),
    ] {
        let verified = run(vouch()
            .arg("verify")
            .arg(&artifact)
            .arg("--bundle")
            .arg(out.path().join(bundle))
            .arg("--trust-config")
            .arg(&trust)
            .args(["--certificate-identity", "release-rehearsal@example.com"])
            .args([
                "--certificate-oidc-issuer-regexp",
                r"http://127\.0\.0\.1:[0-9]+",
            ])
            .args(["--format", "json"]));
        assert!(
            verified.status.success(),
            "{bundle}: {}",
            String::from_utf8_lossy(&verified.stdout)
        );
        let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
        assert_eq!(
            report["results"][0]["claims"]["predicate_type"].as_str(),
            predicate,
            "{bundle}"
        );
    }
    // The signed SBOM is the SBOM written beside it.
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("sbom.cdx.json")).unwrap()).unwrap();
    let bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("sbom.intoto.sigstore.json")).unwrap(),
    )
    .unwrap();
    use base64::Engine as _;
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(statement["predicate"], sbom);
}

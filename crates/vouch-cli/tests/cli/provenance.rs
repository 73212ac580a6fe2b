//! `vouch provenance` in a simulated GitHub Actions job, then signed with `vouch attest
//! --statement` against a devstack and verified with `vouch verify`.

use std::path::Path;

use super::sign::Stack;
use super::{run, vouch};

const GITHUB: &[(&str, &str)] = &[
    ("GITHUB_ACTIONS", "true"),
    ("GITHUB_SERVER_URL", "https://github.com"),
    ("GITHUB_REPOSITORY", "acme/app"),
    ("GITHUB_REF", "refs/tags/v1.0.0"),
    ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
    (
        "GITHUB_WORKFLOW_REF",
        "acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
    ),
    ("GITHUB_EVENT_NAME", "push"),
    ("GITHUB_REPOSITORY_ID", "11"),
    ("GITHUB_REPOSITORY_OWNER_ID", "22"),
    ("GITHUB_RUN_ID", "33"),
    ("GITHUB_RUN_ATTEMPT", "1"),
    ("RUNNER_ENVIRONMENT", "github-hosted"),
];

fn provenance_cmd(dir: &Path) -> std::process::Command {
    let mut c = vouch();
    c.current_dir(dir).arg("provenance");
    for (k, v) in GITHUB {
        c.env(k, v);
    }
    c.env_remove("GITLAB_CI");
    c
}

#[test]
fn github_provenance_for_a_glob_and_a_checksums_file_is_signed_and_verified() {
    let work = tempfile::tempdir().unwrap();
    let dist = work.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("app-linux.tgz"), b"linux build\n").unwrap();
    std::fs::write(dist.join("app-macos.tgz"), b"macos build\n").unwrap();
    let sha =
        vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, b"windows build\n").unwrap();
    std::fs::write(
        work.path().join("SHA256SUMS"),
        format!("{}  app-windows.zip\n", sha.hex()),
    )
    .unwrap();
    let out = run(provenance_cmd(work.path())
        .args(["--subject", "dist/*.tgz", "--checksums", "SHA256SUMS"])
        .args(["--subject", "ghcr.io/acme/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])
        .args(["-o", "provenance.json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("provenance.json")).unwrap())
            .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let names: Vec<_> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "app-linux.tgz",
            "app-macos.tgz",
            "ghcr.io/acme/app",
            "app-windows.zip"
        ]
    );
    let predicate = &statement["predicate"];
    assert_eq!(
        predicate["buildDefinition"]["buildType"],
        "https://actions.github.io/buildtypes/workflow/v1"
    );
    assert_eq!(
        predicate["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    // The creation time is SOURCE_DATE_EPOCH (fixed by the test harness).
    assert_eq!(
        predicate["runDetails"]["metadata"]["finishedOn"],
        "2023-11-14T22:13:20Z"
    );
    // The library's own schema check accepts what the command wrote.
    vouch_intoto::Provenance::from_predicate(predicate).unwrap();
    vouch_intoto::parse_statement(&std::fs::read(work.path().join("provenance.json")).unwrap())
        .unwrap();

    // Signed as it is, and verified for one of its subjects.
    let stack = Stack::start();
    let bundle = work.path().join("provenance.sigstore.json");
    let signed = run(vouch()
        .arg("attest")
        .arg("--statement")
        .arg(work.path().join("provenance.json"))
        .args(["--identity-token", &stack.token("ci@example.com")])
        .arg("--trust-config")
        .arg(stack.trust_config())
        .arg("--bundle")
        .arg(&bundle));
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let verified = run(vouch()
        .arg("verify")
        .arg(dist.join("app-macos.tgz"))
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["--certificate-identity", "ci@example.com"])
        .args(["--certificate-oidc-issuer", &stack.url()]));
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[test]
fn outside_ci_a_builder_must_be_described_and_bad_subjects_are_named() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.bin"), b"a").unwrap();
    let mut bare = vouch();
    bare.current_dir(work.path())
        .arg("provenance")
        .args(["--subject", "a.bin"]);
    for (k, _) in GITHUB {
        bare.env_remove(k);
    }
    let out = run(bare.env_remove("GITLAB_CI"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--builder-id"));

    let mut generic = vouch();
    generic
        .current_dir(work.path())
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .args([
            "provenance",
            "--subject",
            "a.bin",
            "--builder-id",
            "https://ci.example/b/1",
        ])
        .args(["--param", "target=release"]);
    let out = run(&mut generic);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["predicate"]["runDetails"]["builder"]["id"],
        "https://ci.example/b/1"
    );
    assert_eq!(
        doc["predicate"]["buildDefinition"]["externalParameters"]["target"],
        "release"
    );

    for (subject, expected) in [
        ("missing.bin", "neither a file"),
        ("*.nothing", "matches no file"),
        ("sha256:abc", "sha256"),
    ] {
        let out = run(provenance_cmd(work.path()).args(["--subject", subject]));
        assert_eq!(out.status.code(), Some(2), "{subject}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{subject}: {err}");
    }
}

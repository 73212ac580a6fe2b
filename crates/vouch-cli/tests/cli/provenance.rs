//! `vouch provenance` in a simulated GitHub Actions job, then signed with `vouch attest
//! --statement` against a devstack and verified with `vouch verify`.

use std::path::Path;

use super::sign::Stack;
use super::{run, vouch};

/// A GitHub Actions job's environment, as the runner sets it (shared with `intoto_schema`).
pub(crate) const GITHUB: &[(&str, &str)] = &[
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
    let signed = stack.attest_statement(
        &work.path().join("provenance.json"),
        &stack.token("ci@example.com"),
        &bundle,
    );
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

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// The OIDC claims of the release workflow run the GitHub environment above describes; `ref`
/// and `job_workflow_ref` can be varied to play another signer.
fn workflow_claims<'a>(git_ref: &'a str, job_workflow_ref: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("repository", "acme/app"),
        ("repository_id", "11"),
        ("repository_owner", "acme"),
        ("repository_owner_id", "22"),
        ("ref", git_ref),
        ("sha", SHA),
        (
            "workflow_ref",
            "acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
        ),
        ("job_workflow_ref", job_workflow_ref),
        ("event_name", "push"),
        ("run_id", "33"),
        ("run_attempt", "1"),
        ("runner_environment", "github-hosted"),
    ]
}

const RELEASE_WORKFLOW: &str = "acme/app/.github/workflows/release.yml@refs/tags/v1.0.0";

/// Writes provenance for `artifact` in the simulated job, with `edit` applied to the statement,
/// signs it with a token carrying `claims`, and returns the bundle.
fn signed_provenance(
    stack: &Stack,
    dir: &Path,
    claims: &[(&str, &str)],
    edit: impl Fn(&mut serde_json::Value),
) -> std::path::PathBuf {
    let out = run(provenance_cmd(dir).args(["--subject", "app.tgz", "-o", "prov.json"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("prov.json")).unwrap()).unwrap();
    edit(&mut statement);
    std::fs::write(
        dir.join("prov.json"),
        serde_json::to_vec(&statement).unwrap(),
    )
    .unwrap();
    let bundle = dir.join(format!(
        "prov-{}.sigstore.json",
        jiff::Timestamp::now().as_nanosecond()
    ));
    let signed = stack.attest_statement(
        &dir.join("prov.json"),
        &stack.workflow_token(claims),
        &bundle,
    );
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    bundle
}

fn verify_provenance(
    stack: &Stack,
    dir: &Path,
    bundle: &Path,
    extra: &[&str],
) -> (i32, serde_json::Value) {
    let out = run(vouch()
        .arg("verify")
        .arg(dir.join("app.tgz"))
        .arg("--bundle")
        .arg(bundle)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args([
            "--certificate-identity-regexp",
            "https://github.com/acme/.*",
        ])
        .args(["--certificate-oidc-issuer", &stack.url()])
        .args(["--format", "json"])
        .args(extra));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

fn failed_check(report: &serde_json::Value) -> (String, String, String) {
    let c = report["results"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "failed")
        .unwrap_or_else(|| panic!("no failed check: {report}"));
    (
        c["id"].as_str().unwrap().to_owned(),
        c["expected"].as_str().unwrap_or_default().to_owned(),
        c["found"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn provenance_is_verified_against_source_ref_and_builder_from_the_certificate() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("app.tgz"), b"the app\n").unwrap();
    let good = signed_provenance(
        &stack,
        work.path(),
        &workflow_claims("refs/tags/v1.0.0", RELEASE_WORKFLOW),
        |_| {},
    );
    let expect = [
        "--source-uri",
        "github.com/acme/app",
        "--source-tag",
        "v1.0.0",
        "--builder-id",
        "https://github.com/acme/app/.github/workflows/release.yml",
    ];
    let (code, report) = verify_provenance(&stack, work.path(), &good, &expect);
    assert_eq!(code, 0, "{report}");
    let ids: Vec<_> = report["results"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    for id in [
        "provenance-predicate",
        "source-repository",
        "source-ref",
        "builder",
    ] {
        assert!(ids.contains(&id.to_owned()), "{ids:?}");
    }

    // Wrong expectations, each named with expected and found.
    for (flag, value, check, expected, found) in [
        (
            "--source-uri",
            "github.com/acme/other",
            "source-repository",
            "https://github.com/acme/other",
            "https://github.com/acme/app",
        ),
        (
            "--source-tag",
            "v2.0.0",
            "source-ref",
            "refs/tags/v2.0.0",
            "refs/tags/v1.0.0",
        ),
        (
            "--source-branch",
            "main",
            "source-ref",
            "refs/heads/main",
            "refs/tags/v1.0.0",
        ),
        (
            "--builder-id",
            "https://github.com/acme/app/.github/workflows/other.yml",
            "builder",
            "https://github.com/acme/app/.github/workflows/other.yml",
            "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0",
        ),
    ] {
        let (code, report) = verify_provenance(&stack, work.path(), &good, &[flag, value]);
        assert_eq!(code, 1, "{flag} {value}: {report}");
        assert_eq!(
            failed_check(&report),
            (check.to_owned(), expected.to_owned(), found.to_owned()),
            "{flag} {value}"
        );
    }

    // Another artifact is not a subject.
    std::fs::write(work.path().join("other.tgz"), b"other").unwrap();
    let out = run(vouch()
        .arg("verify")
        .arg(work.path().join("other.tgz"))
        .arg("--bundle")
        .arg(&good)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args([
            "--certificate-identity-regexp",
            "https://github.com/acme/.*",
        ])
        .args(["--certificate-oidc-issuer", &stack.url()])
        .args(expect));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn provenance_claims_that_disagree_with_the_signer_are_rejected() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("app.tgz"), b"the app\n").unwrap();
    let claims = workflow_claims("refs/tags/v1.0.0", RELEASE_WORKFLOW);

    // The predicate claims another repository than the certificate's.
    let bundle = signed_provenance(&stack, work.path(), &claims, |s| {
        s["predicate"]["buildDefinition"]["externalParameters"]["workflow"]["repository"] =
            serde_json::json!("https://github.com/trusted/builder");
        s["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"] =
            serde_json::json!("git+https://github.com/trusted/builder@refs/tags/v1.0.0");
    });
    let (code, report) = verify_provenance(
        &stack,
        work.path(),
        &bundle,
        &["--source-uri", "github.com/acme/app"],
    );
    assert_eq!(code, 1);
    assert_eq!(failed_check(&report).0, "source-repository");

    // The predicate claims another commit.
    let bundle = signed_provenance(&stack, work.path(), &claims, |s| {
        s["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] =
            serde_json::json!("ffffffffffffffffffffffffffffffffffffffff");
    });
    let (code, report) = verify_provenance(
        &stack,
        work.path(),
        &bundle,
        &["--source-uri", "github.com/acme/app"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        failed_check(&report),
        (
            "source-repository".to_owned(),
            SHA.to_owned(),
            "ffffffffffffffffffffffffffffffffffffffff".to_owned()
        )
    );

    // A trusted builder named in the predicate, but signed by an untrusted workflow.
    let untrusted = workflow_claims(
        "refs/tags/v1.0.0",
        "acme/app/.github/workflows/untrusted.yml@refs/tags/v1.0.0",
    );
    let trusted = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0";
    let bundle = signed_provenance(&stack, work.path(), &untrusted, |s| {
        s["predicate"]["runDetails"]["builder"]["id"] = serde_json::json!(trusted);
    });
    let (code, report) =
        verify_provenance(&stack, work.path(), &bundle, &["--builder-id", trusted]);
    assert_eq!(code, 1);
    let (check, expected, found) = failed_check(&report);
    assert_eq!(check, "builder");
    assert_eq!(expected, trusted);
    assert!(found.contains("untrusted.yml"), "{found}");

    // An unknown external parameter is reported, not accepted.
    let bundle = signed_provenance(&stack, work.path(), &claims, |s| {
        s["predicate"]["buildDefinition"]["externalParameters"]["surprise"] =
            serde_json::json!("x");
    });
    let (code, report) = verify_provenance(
        &stack,
        work.path(),
        &bundle,
        &["--source-uri", "github.com/acme/app"],
    );
    assert_eq!(code, 1);
    let (check, _, found) = failed_check(&report);
    assert_eq!(
        (check.as_str(), found.as_str()),
        ("provenance-predicate", "surprise")
    );

    // A message signature is not provenance.
    let sig = work.path().join("app.tgz.sigstore.json");
    let out = run(vouch()
        .arg("sign")
        .arg(work.path().join("app.tgz"))
        .args(["--identity-token", &stack.workflow_token(&claims)])
        .arg("--trust-config")
        .arg(stack.trust_config()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, report) = verify_provenance(
        &stack,
        work.path(),
        &sig,
        &["--source-uri", "github.com/acme/app"],
    );
    assert_eq!(code, 1);
    assert_eq!(failed_check(&report).0, "provenance-predicate");
}

#[test]
fn attestation_documents_and_json_lines_verify_by_their_matching_bundle() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("app.tgz"), b"the app\n").unwrap();
    let claims = workflow_claims("refs/tags/v1.0.0", RELEASE_WORKFLOW);
    let provenance = signed_provenance(&stack, work.path(), &claims, |_| {});
    let out = run(vouch()
        .arg("sign")
        .arg(work.path().join("app.tgz"))
        .args(["--identity-token", &stack.workflow_token(&claims)])
        .arg("--trust-config")
        .arg(stack.trust_config()));
    assert!(out.status.success());
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    let signature = read(&work.path().join("app.tgz.sigstore.json"));
    let attestation = read(&provenance);

    // The npm registry's attestations document: the signature first, the provenance second.
    let npm = work.path().join("attestations.json");
    std::fs::write(
        &npm,
        serde_json::to_vec(&serde_json::json!({"attestations": [
            {"predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", "bundle": signature},
            {"predicateType": "https://slsa.dev/provenance/v1", "bundle": attestation},
        ]}))
        .unwrap(),
    )
    .unwrap();
    // `gh attestation download`: one bundle per line.
    let jsonl = work.path().join("attestations.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{}\n{}\n",
            serde_json::to_string(&signature).unwrap(),
            serde_json::to_string(&attestation).unwrap()
        ),
    )
    .unwrap();
    for file in [&npm, &jsonl] {
        let (code, report) = verify_provenance(
            &stack,
            work.path(),
            file,
            &[
                "--source-uri",
                "github.com/acme/app",
                "--source-tag",
                "v1.0.0",
            ],
        );
        assert_eq!(code, 0, "{}: {report}", file.display());
        assert_eq!(
            report["results"][0]["claims"]["predicate_type"],
            "https://slsa.dev/provenance/v1"
        );
        // With the wrong tag, no bundle in the file verifies; the provenance's report, which
        // got furthest, is shown.
        let (code, report) = verify_provenance(&stack, work.path(), file, &["--source-tag", "v9"]);
        assert_eq!(code, 1);
        assert_eq!(failed_check(&report).0, "source-ref");
    }
}

//! The in-toto statements vouch writes, judged against the official protobuf definitions of
//! in-toto Statement v1 and SLSA provenance v1 (there is no official JSON Schema) by
//! `scripts/validate_intoto.py`: `vouch provenance` in simulated GitHub Actions and GitLab CI
//! jobs and in generic mode, and the statements inside `vouch attest` bundles. Broken statements
//! show that the validator fails, naming the field.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;

use super::sign::Stack;
use super::{demo_app, repo, run, vouch};

use super::provenance::GITHUB;

/// Every variable GitLab Runner's provenance reads, the optional ones too.
const GITLAB: &[(&str, &str)] = &[
    ("GITLAB_CI", "true"),
    ("CI_PROJECT_URL", "https://gitlab.example/acme/app"),
    ("CI_COMMIT_SHA", "89abcdef0123456789abcdef0123456789abcdef"),
    ("CI_COMMIT_REF_NAME", "main"),
    ("CI_CONFIG_PATH", ".gitlab-ci.yml"),
    ("CI_JOB_NAME", "build"),
    ("CI_JOB_ID", "77"),
    ("CI_JOB_URL", "https://gitlab.example/acme/app/-/jobs/77"),
    ("CI_PIPELINE_ID", "66"),
    ("CI_RUNNER_ID", "5"),
    ("CI_RUNNER_VERSION", "17.4.0"),
    ("CI_RUNNER_EXECUTABLE_ARCH", "linux/amd64"),
    ("CI_RUNNER_DESCRIPTION", "shared runner"),
];

const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The interpreter with grpcio-tools, and the shared folder with the protos; `None` (the test
/// is skipped) when either is missing, unless `VOUCH_REQUIRE_TOOLS=1` demands them.
fn validator() -> Option<(PathBuf, PathBuf)> {
    let skip = |why: &str| {
        assert!(
            std::env::var_os("VOUCH_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "VOUCH_REQUIRE_TOOLS=1, but {why}"
        );
        eprintln!("SKIPPED: {why}");
    };
    let shared = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    if !shared.join("schemas/in-toto/v1_statement.proto").is_file() {
        skip("the in-toto protos are not in the shared folder (VOUCH_SHARED_DIR)");
        return None;
    }
    let python = repo().join(".venv/bin/python");
    let importable = std::process::Command::new(&python)
        .args([
            "-c",
            "import grpc_tools.protoc, google.protobuf.json_format",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        skip("grpcio-tools not installed (scripts/install-test-tools.sh)");
        return None;
    }
    Some((python, shared))
}

/// Runs the validator on `files`.
fn validate(tools: &(PathBuf, PathBuf), files: &[PathBuf]) -> Output {
    let (python, shared) = tools;
    run(std::process::Command::new(python)
        .arg(repo().join("scripts/validate_intoto.py"))
        .arg("--shared")
        .arg(shared)
        .args(files))
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The validator's line for `file`.
fn line_for(out: &Output, file: &Path) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let name = file.display().to_string();
    stdout
        .lines()
        .find(|l| {
            l.strip_prefix("ok ")
                .or_else(|| l.strip_prefix("FAIL "))
                .is_some_and(|rest| rest == name || rest.starts_with(&format!("{name}: ")))
        })
        .unwrap_or_else(|| panic!("no line for {name}:\n{}", text(out)))
        .to_owned()
}

/// `vouch provenance` in `dir` with only `ci`'s variables of either CI set.
fn provenance(dir: &Path, ci: &[(&str, &str)], args: &[&str], out: &str) -> PathBuf {
    let mut cmd = vouch();
    cmd.current_dir(dir).arg("provenance");
    for (k, _) in GITHUB.iter().chain(GITLAB) {
        cmd.env_remove(k);
    }
    for (k, v) in ci {
        cmd.env(k, v);
    }
    let done = run(cmd.args(args).args(["-o", out]));
    assert!(done.status.success(), "{out}: {}", text(&done));
    dir.join(out)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The statement inside a bundle's DSSE envelope.
fn statement_in(bundle: &Path) -> serde_json::Value {
    let doc = read_json(bundle);
    assert_eq!(doc["dsseEnvelope"]["payloadType"], PAYLOAD_TYPE);
    let payload = base64::engine::general_purpose::STANDARD
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn provenance_and_attestations_conform_to_the_official_protos() {
    let Some(tools) = validator() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("app.tgz"), b"the app\n").unwrap();
    std::fs::write(dir.join("app.zip"), b"the app, zipped\n").unwrap();

    let github = provenance(
        dir,
        GITHUB,
        &[
            "--subject",
            "app.tgz",
            "--subject",
            "ghcr.io/acme/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ],
        "github.json",
    );
    let gitlab = provenance(
        dir,
        GITLAB,
        &["--subject", "*.tgz", "--started-on", "2023-11-14T22:00:00Z"],
        "gitlab.json",
    );
    // Generic: every optional field vouch can fill.
    let generic = provenance(
        dir,
        &[],
        &[
            "--subject",
            "app.zip",
            "--builder-id",
            "https://ci.example/builders/1",
            "--build-type",
            "https://ci.example/build-types/make/v1",
            "--param",
            "target=release",
            "--source-uri",
            "git+https://git.example/acme/app@refs/heads/main",
            "--source-commit",
            "0123456789abcdef0123456789abcdef01234567",
            "--invocation-id",
            "https://ci.example/runs/9",
            "--started-on",
            "2023-11-14T22:00:00Z",
        ],
        "generic.json",
    );
    // Generic with the least: no parameters, no source.
    let bare = provenance(
        dir,
        &[],
        &[
            "--subject",
            "app.zip",
            "--builder-id",
            "https://ci.example/b",
        ],
        "bare.json",
    );
    for (file, build_type) in [
        (&github, "https://actions.github.io/buildtypes/workflow/v1"),
        (
            &gitlab,
            "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v17.4.0/PROVENANCE.md",
        ),
        (&generic, "https://ci.example/build-types/make/v1"),
        (&bare, "urn:vouch:build-type:generic:v1"),
    ] {
        assert_eq!(
            read_json(file)["predicate"]["buildDefinition"]["buildType"],
            build_type,
            "{}",
            file.display()
        );
    }

    // A CycloneDX predicate: vouch's own SBOM of the example project.
    let bom = dir.join("bom.cdx.json");
    let out = run(vouch().arg("sbom").arg(demo_app()).arg("-o").arg(&bom));
    assert!(out.status.success(), "{}", text(&out));
    let gitlab_predicate = dir.join("gitlab-predicate.json");
    std::fs::write(
        &gitlab_predicate,
        serde_json::to_vec(&read_json(&gitlab)["predicate"]).unwrap(),
    )
    .unwrap();

    let stack = Stack::start();
    let token = stack.token("release@example.com");
    let statement_bundle = dir.join("github.sigstore.json");
    let out = stack.attest_statement(&github, &token, &statement_bundle);
    assert!(out.status.success(), "{}", text(&out));
    let attest = |predicate: &Path, kind: &str, bundle: &str| {
        let bundle = dir.join(bundle);
        let out = run(vouch()
            .arg("attest")
            .arg("--predicate")
            .arg(predicate)
            .args(["--type", kind])
            .args(["--identity-token", &token])
            .arg("--trust-config")
            .arg(stack.trust_config())
            .arg("--bundle")
            .arg(&bundle)
            .arg(dir.join("app.tgz"))
            .arg(dir.join("app.zip")));
        assert!(out.status.success(), "{kind}: {}", text(&out));
        bundle
    };
    let slsa_bundle = attest(&gitlab_predicate, "slsaprovenance", "slsa.sigstore.json");
    let cdx_bundle = attest(&bom, "cyclonedx", "cdx.sigstore.json");
    drop(stack);
    assert_eq!(statement_in(&statement_bundle), read_json(&github));
    assert_eq!(
        statement_in(&slsa_bundle)["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    let cdx = statement_in(&cdx_bundle);
    assert_eq!(cdx["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(cdx["predicate"]["bomFormat"], "CycloneDX");

    // `gh attestation download`'s form: one bundle per line.
    let lines = dir.join("bundles.jsonl");
    std::fs::write(
        &lines,
        [&statement_bundle, &slsa_bundle, &cdx_bundle]
            .map(|b| serde_json::to_string(&read_json(b)).unwrap() + "\n")
            .concat(),
    )
    .unwrap();

    let files = [
        github,
        gitlab,
        generic,
        bare,
        statement_bundle,
        slsa_bundle,
        cdx_bundle,
        lines,
    ];
    let out = validate(&tools, &files);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for file in &files {
        assert_eq!(
            line_for(&out, file),
            format!("ok {}", file.display()),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn the_validator_fails_broken_statements_naming_the_field() {
    let Some(tools) = validator() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("app.zip"), b"the app\n").unwrap();
    let good = provenance(
        dir,
        &[],
        &[
            "--subject",
            "app.zip",
            "--builder-id",
            "https://ci.example/b",
            "--param",
            "target=release",
        ],
        "good.json",
    );
    let statement = read_json(&good);

    let broken = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut doc = statement.clone();
        edit(&mut doc);
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        path
    };
    let cases: [(PathBuf, &str); 6] = [
        (
            broken("unknown-field.json", &|s| {
                s["signedBy"] = serde_json::json!("me");
            }),
            "signedBy",
        ),
        (
            broken("misspelled.json", &|s| {
                let p = s["predicate"].as_object_mut().unwrap();
                let definition = p.remove("buildDefinition").unwrap();
                p.insert("buildDefinitoin".to_owned(), definition);
            }),
            "buildDefinitoin",
        ),
        (
            broken("wrong-type.json", &|s| {
                s["predicate"]["runDetails"]["builder"] = serde_json::json!("https://ci.example/b");
            }),
            "predicate.runDetails.builder",
        ),
        // protobuf's JSON parser also takes proto field names; the JSON form does not.
        (
            broken("proto-name.json", &|s| {
                let m = s.as_object_mut().unwrap();
                let t = m.remove("predicateType").unwrap();
                m.insert("predicate_type".to_owned(), t);
            }),
            "predicate_type",
        ),
        (
            broken("no-builder-id.json", &|s| {
                s["predicate"]["runDetails"]["builder"]
                    .as_object_mut()
                    .unwrap()
                    .remove("id");
            }),
            "runDetails.builder.id",
        ),
        (
            broken("empty-digest.json", &|s| {
                s["subject"][0]["digest"] = serde_json::json!({});
            }),
            "subject[0].digest",
        ),
    ];

    // The same misspelling inside a bundle's envelope (unsigned: the validator reads the
    // statement only), among good lines of JSON.
    let bundle_line = |doc: &serde_json::Value| {
        let payload =
            base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(doc).unwrap());
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "dsseEnvelope": {"payloadType": PAYLOAD_TYPE, "payload": payload, "signatures": []},
        });
        format!("{bundle}\n")
    };
    let misspelled = read_json(&cases[1].0);
    let lines = dir.join("bundles.jsonl");
    std::fs::write(
        &lines,
        bundle_line(&statement) + &bundle_line(&misspelled) + &bundle_line(&statement),
    )
    .unwrap();

    // Each alone fails, naming its field.
    for (file, field) in &cases {
        let out = validate(&tools, std::slice::from_ref(file));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let line = line_for(&out, file);
        assert!(
            line.starts_with(&format!("FAIL {}: ", file.display())) && line.contains(field),
            "expected `{field}` named: {line}"
        );
    }
    // Together with good files: each judged on its own line, the run failed.
    let mut files = vec![good.clone(), lines.clone()];
    files.extend(cases.iter().map(|(f, _)| f.clone()));
    let out = validate(&tools, &files);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        line_for(&out, &good),
        format!("ok {}", good.display()),
        "{}",
        text(&out)
    );
    let line = line_for(&out, &lines);
    assert!(
        line.starts_with(&format!("FAIL {}: line 2: ", lines.display()))
            && line.contains("buildDefinitoin"),
        "{line}"
    );
    for (file, field) in &cases {
        let line = line_for(&out, file);
        assert!(line.starts_with("FAIL ") && line.contains(field), "{line}");
    }

    // Usage errors are not failures of a document.
    let (python, _) = &tools;
    let out = run(std::process::Command::new(python)
        .arg(repo().join("scripts/validate_intoto.py"))
        .arg("--shared")
        .arg(dir.join("nowhere"))
        .arg(&good));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

//! `vouch sign`, `vouch attest` and `vouch key generate` against a devstack on loopback, with
//! the bundles checked by `vouch verify` and, where installed, by sigstore-python 4.5.1 and
//! OpenSSL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{run, vouch};

/// A devstack serving on loopback for the length of a test.
pub struct Stack {
    pub state: tempfile::TempDir,
    pub runtime: tokio::runtime::Runtime,
    pub running: Option<vouch_devstack::Running>,
}

impl Stack {
    pub fn start() -> Self {
        let state = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = runtime
            .block_on(vouch_devstack::start(vouch_devstack::Config {
                state_dir: state.path().to_path_buf(),
                addr: "127.0.0.1:0".parse().unwrap(),
            }))
            .unwrap();
        Self {
            state,
            runtime,
            running: Some(running),
        }
    }

    pub fn url(&self) -> String {
        self.running.as_ref().unwrap().url().to_owned()
    }

    pub fn trust_config(&self) -> PathBuf {
        self.state.path().join("trust_config.json")
    }

    /// A token for `email`, valid for `ttl` seconds from `now_offset` seconds from now.
    pub fn token_at(&self, email: &str, ttl: i64, now_offset: i64) -> String {
        let shared = self.running.as_ref().unwrap().shared();
        vouch_devstack::oidc::mint(
            &shared.keys.oidc,
            &shared.base_url,
            &vouch_devstack::oidc::TokenRequest {
                subject: vouch_devstack::oidc::Subject::Email(email.to_owned()),
                ttl,
                claims: BTreeMap::new(),
            },
            jiff::Timestamp::now().as_second() + now_offset,
        )
        .unwrap()
    }

    /// A GitHub-Actions-like token: the workflow identity and its claims, which the devstack's
    /// Fulcio turns into certificate extensions as the real one does.
    pub fn workflow_token(&self, claims: &[(&str, &str)]) -> String {
        let shared = self.running.as_ref().unwrap().shared();
        let claims: BTreeMap<String, String> = claims
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let sub = format!(
            "repo:{}:ref:{}",
            claims
                .get("repository")
                .map(String::as_str)
                .unwrap_or("x/y"),
            claims
                .get("ref")
                .map(String::as_str)
                .unwrap_or("refs/heads/main")
        );
        vouch_devstack::oidc::mint(
            &shared.keys.oidc,
            &shared.base_url,
            &vouch_devstack::oidc::TokenRequest {
                subject: vouch_devstack::oidc::Subject::Other(sub),
                ttl: 600,
                claims,
            },
            jiff::Timestamp::now().as_second(),
        )
        .unwrap()
    }

    pub fn token(&self, email: &str) -> String {
        self.token_at(email, 600, 0)
    }
}

impl Stack {
    /// `vouch attest --statement STATEMENT --bundle BUNDLE` against this stack, as `token`.
    pub fn attest_statement(
        &self,
        statement: &Path,
        token: &str,
        bundle: &Path,
    ) -> std::process::Output {
        run(vouch()
            .arg("attest")
            .arg("--statement")
            .arg(statement)
            .args(["--identity-token", token])
            .arg("--trust-config")
            .arg(self.trust_config())
            .arg("--bundle")
            .arg(bundle))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = self.runtime.block_on(running.shutdown());
        }
    }
}

const EMAIL: &str = "release@example.com";

fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn text(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn verify_keyless(stack: &Stack, input: &Path, bundle: &Path) -> std::process::Output {
    run(vouch()
        .arg("verify")
        .arg(input)
        .arg("--bundle")
        .arg(bundle)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &stack.url()])
        .args(["--format", "json"]))
}

fn entry_kind(bundle: &Path) -> (String, String) {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let kv = &doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"];
    (
        kv["kind"].as_str().unwrap().to_owned(),
        kv["version"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn sign_contract_writes_a_bundle_that_verifies_with_rekor_v1_and_v2() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let file = write(work.path(), "release.tar.gz", b"release bytes\n");
    for (version, expected) in [("1", "0.0.1"), ("2", "0.0.2")] {
        let bundle = work.path().join(format!("out-v{version}.sigstore.json"));
        // The contract form, plus the Rekor version.
        let out = run(vouch()
            .arg("sign")
            .arg(&file)
            .args(["--identity-token", &stack.token(EMAIL)])
            .arg("--trust-config")
            .arg(stack.trust_config())
            .arg("--bundle")
            .arg(&bundle)
            .args(["--rekor-version", version]));
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            entry_kind(&bundle),
            ("hashedrekord".to_owned(), expected.to_owned())
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
        assert_eq!(
            doc["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        let verified = verify_keyless(&stack, &file, &bundle);
        assert!(verified.status.success(), "{}", text(&verified));

        // The same bundle does not verify another file.
        let other = write(work.path(), "other.tar.gz", b"other bytes\n");
        let rejected = verify_keyless(&stack, &other, &bundle);
        assert_eq!(rejected.status.code(), Some(1), "{}", text(&rejected));
    }
}

#[test]
fn many_files_get_one_bundle_each_beside_them() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..5)
        .map(|i| {
            write(
                work.path(),
                &format!("f{i}.bin"),
                format!("file {i}").as_bytes(),
            )
        })
        .collect();
    let out = run(vouch()
        .arg("sign")
        .args(&files)
        .env("SIGSTORE_ID_TOKEN", stack.token(EMAIL))
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["--jobs", "3", "--format", "json"]));
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary.as_array().unwrap().len(), 5);
    // Default bundle paths are where `vouch verify FILE` looks: verify all at once.
    let verified = run(vouch()
        .arg("verify")
        .args(&files)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &stack.url()]));
    assert!(verified.status.success(), "{}", text(&verified));
    // Distinct log entries, one certificate for the batch.
    let mut indices = std::collections::BTreeSet::new();
    let mut certs = std::collections::BTreeSet::new();
    for f in &files {
        let mut p = f.as_os_str().to_owned();
        p.push(".sigstore.json");
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        indices.insert(
            doc["verificationMaterial"]["tlogEntries"][0]["logIndex"]
                .clone()
                .to_string(),
        );
        certs.insert(doc["verificationMaterial"]["certificate"]["rawBytes"].to_string());
    }
    assert_eq!(indices.len(), 5);
    assert_eq!(certs.len(), 1);
}

#[test]
fn attest_contract_signs_a_statement_that_verify_reports() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let subject = write(work.path(), "app.tar.gz", b"the app\n");
    let predicate = write(
        work.path(),
        "provenance.json",
        br#"{"buildDefinition":{"buildType":"https://example.com/build/v1"},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
    );
    let bundle = work.path().join("app.intoto.json");
    let out = run(vouch()
        .arg("attest")
        .arg("--predicate")
        .arg(&predicate)
        .args(["--type", "slsaprovenance"])
        .args(["--identity-token", &stack.token(EMAIL)])
        .arg("--trust-config")
        .arg(stack.trust_config())
        .arg("--bundle")
        .arg(&bundle)
        .arg(&subject));
    assert!(out.status.success(), "{}", text(&out));
    let verified = verify_keyless(&stack, &subject, &bundle);
    assert!(verified.status.success(), "{}", text(&verified));
    let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    let claims = &report["results"][0]["claims"];
    assert_eq!(
        claims["predicate_type"], "https://slsa.dev/provenance/v1",
        "{report}"
    );
    let digests = &claims["subjects"][0]["digest"];
    assert_eq!(claims["subjects"][0]["name"], "app.tar.gz");
    assert_eq!(digests["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(digests["sha512"].as_str().unwrap().len(), 128);

    // Another file is not a subject of the attestation.
    let other = write(work.path(), "other.tar.gz", b"not the app\n");
    let rejected = verify_keyless(&stack, &other, &bundle);
    assert_eq!(rejected.status.code(), Some(1), "{}", text(&rejected));
}

#[test]
fn attest_statement_is_signed_byte_for_byte_and_unknown_types_are_refused() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let subject = write(work.path(), "lib.so", b"library\n");
    let sha256 = vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, b"library\n").unwrap();
    let statement = format!(
        "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{{\"name\":\"lib.so\",\"digest\":{{\"sha256\":\"{}\"}}}}],\"predicateType\":\"https://example.com/p/v1\",\"predicate\":{{\"k\": 1}}}}",
        sha256.hex()
    );
    let statement_path = write(work.path(), "statement.json", statement.as_bytes());
    let bundle = work.path().join("lib.intoto.json");
    let out = stack.attest_statement(&statement_path, &stack.token(EMAIL), &bundle);
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    assert_eq!(payload, statement.as_bytes());
    assert!(verify_keyless(&stack, &subject, &bundle).status.success());

    let bad = run(vouch()
        .arg("attest")
        .arg("--predicate")
        .arg(&statement_path)
        .args(["--type", "nonsense"])
        .args(["--identity-token", "x.y.z"])
        .arg("--trust-config")
        .arg(stack.trust_config())
        .arg(&subject));
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("`nonsense`") && err.contains("slsaprovenance"),
        "{err}"
    );
}

#[test]
fn expired_token_fails_clearly_writes_nothing_and_never_echoes_the_token() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let file = write(work.path(), "a.txt", b"a\n");
    let token = stack.token_at(EMAIL, 60, -3600);
    let out = run(vouch()
        .arg("sign")
        .arg(&file)
        .args(["--identity-token", &token])
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["--attempts", "1"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("expired"), "{all}");
    assert!(!all.contains(&token), "the token leaked: {all}");
    let mut bundle = file.as_os_str().to_owned();
    bundle.push(".sigstore.json");
    assert!(!Path::new(&bundle).exists());
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn managed_key_generate_sign_verify_and_openssl_reads_the_key() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let prefix = work.path().join("release");
    let out = run(vouch()
        .args(["key", "generate", "--output"])
        .arg(&prefix)
        .env("VOUCH_PASSWORD", "hunter2 but longer"));
    assert!(out.status.success(), "{}", text(&out));
    let key = work.path().join("release.key");
    let public = work.path().join("release.pub");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    // Refuses to overwrite.
    let again = run(vouch()
        .args(["key", "generate", "--output"])
        .arg(&prefix)
        .env("VOUCH_PASSWORD", "x"));
    assert_eq!(again.status.code(), Some(2));

    // OpenSSL decrypts it to the same public key.
    if let Ok(o) = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-passin", "env:VOUCH_PASSWORD", "-in"])
        .arg(&key)
        .env("VOUCH_PASSWORD", "hunter2 but longer")
        .output()
    {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            std::fs::read_to_string(&public).unwrap()
        );
    } else {
        eprintln!("SKIPPED (partly): openssl not installed; PKCS#8 interop not exercised");
    }

    let file = write(work.path(), "artifact.bin", b"artifact\n");
    let signed = run(vouch()
        .arg("sign")
        .arg(&file)
        .arg("--key")
        .arg(&key)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .env("VOUCH_PASSWORD", "hunter2 but longer"));
    assert!(signed.status.success(), "{}", text(&signed));
    let verified = run(vouch()
        .arg("verify")
        .arg(&file)
        .arg("--key")
        .arg(&public)
        .arg("--trust-config")
        .arg(stack.trust_config()));
    assert!(verified.status.success(), "{}", text(&verified));

    let wrong = run(vouch()
        .arg("sign")
        .arg(&file)
        .arg("--key")
        .arg(&key)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .env("VOUCH_PASSWORD", "wrong"));
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
}

fn sigstore_python() -> Option<PathBuf> {
    let p = super::repo().join(".venv/bin/sigstore");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("SKIPPED: sigstore-python not in .venv (run scripts/install-test-tools.sh)");
        None
    }
}

/// `node` and the JavaScript verifier from target/test-tools, when installed.
fn sigstore_js() -> Option<(PathBuf, PathBuf)> {
    let modules = super::repo().join("target/test-tools/node_modules");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/js/sigstore-verify.cjs");
    let has_node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_node && modules.join("@sigstore/verify/package.json").is_file() {
        Some((modules, script))
    } else {
        eprintln!("SKIPPED: node or @sigstore/verify missing (run scripts/install-test-tools.sh)");
        None
    }
}

#[test]
fn sigstore_js_accepts_vouch_bundles_message_and_dsse_rekor_v1_and_v2() {
    let Some((modules, script)) = sigstore_js() else {
        return;
    };
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let file = write(work.path(), "pkg.tgz", b"npm package bytes\n");
    let other = write(work.path(), "other.tgz", b"other bytes\n");
    let predicate = write(work.path(), "p.json", br#"{"note":"interop"}"#);
    for version in ["1", "2"] {
        for dsse in [false, true] {
            let bundle = work.path().join(format!("v{version}-{dsse}.json"));
            let mut cmd = vouch();
            if dsse {
                cmd.arg("attest")
                    .arg("--predicate")
                    .arg(&predicate)
                    .args(["--type", "https://example.com/interop/v1"]);
            } else {
                cmd.arg("sign");
            }
            let out = run(cmd
                .arg(&file)
                .args(["--identity-token", &stack.token(EMAIL)])
                .arg("--trust-config")
                .arg(stack.trust_config())
                .arg("--bundle")
                .arg(&bundle)
                .args(["--rekor-version", version]));
            assert!(out.status.success(), "{}", text(&out));
            let js = |artifact: &Path| {
                std::process::Command::new("node")
                    .arg(&script)
                    .arg(stack.trust_config())
                    .arg(&bundle)
                    .arg(artifact)
                    .arg(EMAIL)
                    .arg(stack.url())
                    .env("NODE_PATH", &modules)
                    .output()
                    .unwrap()
            };
            let accepted = js(&file);
            assert!(
                accepted.status.success(),
                "@sigstore/verify rejected vouch's Rekor v{version} bundle (dsse: {dsse}): {}",
                text(&accepted)
            );
            // The script can fail: another artifact is rejected.
            let rejected = js(&other);
            assert_eq!(rejected.status.code(), Some(1), "{}", text(&rejected));
        }
    }
}

#[test]
fn sigstore_python_accepts_vouch_bundles_message_and_dsse_rekor_v1_and_v2() {
    let Some(sigstore) = sigstore_python() else {
        return;
    };
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let file = write(work.path(), "dist.whl", b"wheel bytes\n");
    let predicate = write(work.path(), "p.json", br#"{"note":"interop"}"#);
    for version in ["1", "2"] {
        let bundle = work.path().join(format!("msg-v{version}.json"));
        let out = run(vouch()
            .arg("sign")
            .arg(&file)
            .args(["--identity-token", &stack.token(EMAIL)])
            .arg("--trust-config")
            .arg(stack.trust_config())
            .arg("--bundle")
            .arg(&bundle)
            .args(["--rekor-version", version]));
        assert!(out.status.success(), "{}", text(&out));
        let py = std::process::Command::new(&sigstore)
            .arg("--trust-config")
            .arg(stack.trust_config())
            .args(["verify", "identity", "--cert-identity", EMAIL])
            .args(["--cert-oidc-issuer", &stack.url()])
            .arg("--bundle")
            .arg(&bundle)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            py.status.success(),
            "sigstore-python rejected vouch's Rekor v{version} message bundle: {}",
            text(&py)
        );

        let att = work.path().join(format!("att-v{version}.json"));
        let out = run(vouch()
            .arg("attest")
            .arg("--predicate")
            .arg(&predicate)
            .args(["--type", "https://example.com/interop/v1"])
            .args(["--identity-token", &stack.token(EMAIL)])
            .arg("--trust-config")
            .arg(stack.trust_config())
            .arg("--bundle")
            .arg(&att)
            .args(["--rekor-version", version])
            .arg(&file));
        assert!(out.status.success(), "{}", text(&out));
        let py = std::process::Command::new(&sigstore)
            .arg("--trust-config")
            .arg(stack.trust_config())
            .args(["verify", "identity", "--cert-identity", EMAIL])
            .args(["--cert-oidc-issuer", &stack.url()])
            .arg("--bundle")
            .arg(&att)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            py.status.success(),
            "sigstore-python rejected vouch's Rekor v{version} DSSE bundle: {}",
            text(&py)
        );
    }
}

#[test]
fn a_subject_named_by_sha512_only_verifies_from_the_file() {
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let tarball = write(work.path(), "pkg-1.0.0.tgz", b"an npm tarball\n");
    let sha512 =
        vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha512, b"an npm tarball\n").unwrap();
    // As the npm registry's attestations name packages: a purl and a SHA-512 only.
    let statement = format!(
        "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{{\"name\":\"pkg:npm/pkg@1.0.0\",\"digest\":{{\"sha512\":\"{}\"}}}}],\"predicateType\":\"https://example.com/publish/v1\",\"predicate\":{{}}}}",
        sha512.hex()
    );
    let statement_path = write(work.path(), "statement.json", statement.as_bytes());
    let bundle = work.path().join("pkg.intoto.json");
    let out = stack.attest_statement(&statement_path, &stack.token(EMAIL), &bundle);
    assert!(out.status.success(), "{}", text(&out));
    let verified = verify_keyless(&stack, &tarball, &bundle);
    assert!(verified.status.success(), "{}", text(&verified));
    let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(
        report["results"][0]["facts"]["matched_subject"],
        "pkg:npm/pkg@1.0.0"
    );
    // Another file is still no subject, by either digest.
    let other = write(work.path(), "other.tgz", b"another tarball\n");
    let rejected = verify_keyless(&stack, &other, &bundle);
    assert_eq!(rejected.status.code(), Some(1), "{}", text(&rejected));
    let report: serde_json::Value = serde_json::from_slice(&rejected.stdout).unwrap();
    let failed = report["results"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "failed")
        .unwrap();
    assert_eq!(failed["id"], "dsse-subject");
}

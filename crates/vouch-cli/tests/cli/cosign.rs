//! vouch and the real cosign, each verifying what the other wrote: cosign 2.5.0 (Debian
//! trixie's build, unpacked by `scripts/install-test-tools.sh`) and `vouch`, both against one
//! devstack, on images in a real registry (Debian's `docker-registry`) on loopback.
//!
//! cosign is pointed at the devstack with its documented settings for a custom Sigstore
//! instance: `--fulcio-url`, `--rekor-url`, `--identity-token`, and the trust material as files
//! named by `SIGSTORE_ROOT_FILE` (the Fulcio chain), `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE` and
//! `SIGSTORE_REKOR_PUBLIC_KEY`, written here from the devstack's `trusted_root.json`; with
//! those set, cosign 2.5 does not fetch Sigstore's public TUF repository. `TUF_ROOT`, `HOME` and
//! `DOCKER_CONFIG` are fresh directories all the same, the environment is otherwise empty, and
//! every proxy variable names a closed loopback port, so that anything cosign tried to reach
//! outside loopback would fail at once instead of hanging on the closed network; every cosign
//! run is checked for a trace of that (its stderr names neither TUF nor the proxy).
//!
//! Skipped, saying so, when cosign or `docker-registry` is missing, unless
//! `VOUCH_REQUIRE_COSIGN=1` or `VOUCH_REQUIRE_REGISTRY=1` demands them (the test command sets
//! each once the tool is installed). cosign is found through
//! `VOUCH_COSIGN`, then `target/test-tools/cosign/usr/bin/cosign`, then `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use vouch_oci::Credentials;
use vouch_oci::testing::TestRegistry;

use super::image::{both, debian_image, push, registry, stdout, verify};
use super::sign::Stack;
use super::{repo, run, vouch};

const EMAIL: &str = "cosign-interop@example.test";
const OTHER: &str = "someone-else@example.test";

/// The predicate cosign 2.5 writes for `--type slsaprovenance` (SLSA provenance v0.2).
const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// Every cosign command gets this long before cosign gives up itself (`--timeout`).
const COSIGN_TIMEOUT: &str = "90s";

/// The cosign binary, or `None` (skip) unless `VOUCH_REQUIRE_COSIGN=1` demands it.
fn cosign_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VOUCH_COSIGN").map(PathBuf::from) {
        assert!(
            path.is_file(),
            "VOUCH_COSIGN names no file: {}",
            path.display()
        );
        return Some(path);
    }
    let unpacked = repo().join("target/test-tools/cosign/usr/bin/cosign");
    let found = unpacked.is_file().then_some(unpacked).or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join("cosign"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let why = "cosign not found (VOUCH_COSIGN, target/test-tools/cosign, PATH); \
                   run scripts/install-test-tools.sh";
        assert!(
            std::env::var_os("VOUCH_REQUIRE_COSIGN").is_none_or(|v| v != "1"),
            "VOUCH_REQUIRE_COSIGN=1, but {why}"
        );
        eprintln!("SKIPPED: {why}");
    }
    found
}

/// cosign configured for one devstack, with its own empty home.
struct Cosign {
    bin: PathBuf,
    dir: tempfile::TempDir,
    url: String,
}

impl Cosign {
    /// Writes the devstack's trust material in the forms cosign's environment variables take.
    fn new(bin: PathBuf, stack: &Stack) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root: Value = serde_json::from_slice(
            &std::fs::read(stack.state.path().join("trusted_root.json")).unwrap(),
        )
        .unwrap();
        let der = |v: &Value| B64.decode(v.as_str().unwrap()).unwrap();
        // The Fulcio chain, intermediate and root.
        let chain: String = root["certificateAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| pem("CERTIFICATE", &der(&c["rawBytes"])))
            .collect();
        std::fs::write(dir.path().join("fulcio-chain.pem"), chain).unwrap();
        std::fs::write(
            dir.path().join("ctfe.pub"),
            pem(
                "PUBLIC KEY",
                &der(&root["ctlogs"][0]["publicKey"]["rawBytes"]),
            ),
        )
        .unwrap();
        // The Rekor v1 log: cosign's legacy formats carry v1 entries only.
        let rekor_v1 = root["tlogs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["publicKey"]["keyDetails"] == "PKIX_ECDSA_P256_SHA_256")
            .expect("a Rekor v1 log (ECDSA P-256) in the trusted root");
        std::fs::write(
            dir.path().join("rekor.pub"),
            pem("PUBLIC KEY", &der(&rekor_v1["publicKey"]["rawBytes"])),
        )
        .unwrap();
        for sub in ["home", "tuf", "docker"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Self {
            bin,
            dir,
            url: stack.url(),
        }
    }

    /// `cosign ARGS`, hermetic: nothing of the caller's environment, the devstack's trust
    /// material, and a proxy that refuses every connection off loopback.
    fn command(&self, args: &[&str]) -> Command {
        let d = self.dir.path();
        let mut c = Command::new(&self.bin);
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", d.join("home"))
            .env("DOCKER_CONFIG", d.join("docker"))
            .env("TUF_ROOT", d.join("tuf"))
            .env("SIGSTORE_ROOT_FILE", d.join("fulcio-chain.pem"))
            .env("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", d.join("ctfe.pub"))
            .env("SIGSTORE_REKOR_PUBLIC_KEY", d.join("rekor.pub"))
            // Go never proxies loopback, so these only catch traffic meant for elsewhere.
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "")
            .args(args)
            .args(["--timeout", COSIGN_TIMEOUT]);
        c
    }

    /// Runs cosign; its stderr must show no attempt to leave loopback (the proxy's address
    /// would be named) and no TUF fetch.
    fn run(&self, cmd: &mut Command) -> Output {
        let out = run(cmd);
        let err = stderr(&out);
        assert!(
            !err.contains("proxyconnect") && !err.contains("127.0.0.1:9:") && !err.contains("TUF"),
            "cosign tried to reach beyond loopback: {}",
            both(&out)
        );
        out
    }

    /// The flags every registry command takes here.
    fn registry_flags() -> [&'static str; 2] {
        ["--allow-http-registry", "--allow-insecure-registry"]
    }

    /// `cosign sign` keylessly against the devstack (legacy `.sig` tag).
    fn sign(&self, image: &str, token: &str) -> Output {
        self.run(
            self.command(&["sign", "--yes"])
                .args(["--fulcio-url", &self.url, "--rekor-url", &self.url])
                .args(["--identity-token", token])
                .args(Self::registry_flags())
                .arg(image),
        )
    }

    /// `cosign attest` keylessly against the devstack (legacy `.att` tag), logging a Rekor
    /// `entry_type` entry (`intoto` or `dsse`).
    fn attest(
        &self,
        image: &str,
        token: &str,
        kind: &str,
        predicate: &Path,
        entry_type: &str,
    ) -> Output {
        self.run(
            self.command(&["attest", "--yes"])
                .args(["--fulcio-url", &self.url, "--rekor-url", &self.url])
                .args(["--identity-token", token])
                .args(["--type", kind, "--rekor-entry-type", entry_type])
                .arg("--predicate")
                .arg(predicate)
                .args(Self::registry_flags())
                .arg(image),
        )
    }

    /// `cosign verify` or `cosign verify-attestation` of `image` for `identity`.
    fn verify(&self, subcommand: &str, image: &str, identity: &str, extra: &[&str]) -> Output {
        self.run(
            self.command(&[subcommand])
                .args(["--rekor-url", &self.url])
                .args(["--certificate-identity", identity])
                .args(["--certificate-oidc-issuer", &self.url])
                .args(Self::registry_flags())
                .args(extra)
                .arg(image),
        )
    }
}

/// PEM of `der` under `label`, 64 columns.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A registry, a devstack, cosign, and a fresh image pushed as `app:tag`; `None` when
/// something is missing (the test is skipped, having said why).
struct Setup {
    registry: TestRegistry,
    stack: Stack,
    cosign: Cosign,
    work: tempfile::TempDir,
}

impl Setup {
    fn start() -> Option<Self> {
        let bin = cosign_binary()?;
        let registry = registry()?;
        let stack = Stack::start();
        let cosign = Cosign::new(bin, &stack);
        Some(Self {
            registry,
            stack,
            cosign,
            work: tempfile::tempdir().unwrap(),
        })
    }

    /// Pushes a one-package image as `app:tag`; returns the reference by digest, and the digest.
    fn image(&self, tag: &str, package_version: &str) -> (String, String) {
        let (_, _, digest) = push(
            &self.registry,
            self.work.path(),
            &[debian_image("amd64", &[("hello", package_version)])],
            tag,
        );
        (format!("{}/app@{digest}", self.registry.host()), digest)
    }

    /// A predicate file.
    fn predicate(&self, name: &str, body: &str) -> PathBuf {
        let path = self.work.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    }

    /// The JSON report of `vouch verify IMAGE` as `identity`.
    fn vouch_report(&self, image: &str, identity: &str, extra: &[&str]) -> (Output, Value) {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(extra);
        let out = verify(&self.stack, image, identity, &args);
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", both(&out)));
        (out, report)
    }

    fn manifest_by_digest(&self, digest: &str) -> Value {
        let client = self.registry.client(Credentials::anonymous()).unwrap();
        let reference = self.registry.reference(&format!("app@{digest}")).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fetched = runtime.block_on(client.fetch_manifest(&reference)).unwrap();
        serde_json::from_slice(&fetched.bytes).unwrap()
    }

    /// The manifest behind a tag of this registry's `app` repository.
    fn manifest(&self, tag: &str) -> Value {
        let client = self.registry.client(Credentials::anonymous()).unwrap();
        let reference = self.registry.reference(&format!("app:{tag}")).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let fetched = runtime.block_on(client.fetch_manifest(&reference)).unwrap();
        serde_json::from_slice(&fetched.bytes).unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The first failed check of the attached item of `kind` in a `vouch verify` JSON report.
fn failed_check(report: &Value, kind: &str) -> Value {
    report["images"][0]["attached"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .flat_map(|a| a["report"]["checks"].as_array().unwrap().iter())
        .find(|c| c["status"] == "failed")
        .cloned()
        .unwrap_or_else(|| panic!("no failed check for `{kind}` in {report:#}"))
}

/// (a) cosign signs (its default: a legacy `.sig` tag); `vouch verify` accepts the signature
/// for the signer's identity and refuses it for another, naming both.
#[test]
fn vouch_verifies_a_signature_cosign_made() {
    let Some(s) = Setup::start() else { return };
    let (image, digest) = s.image("signed-by-cosign", "1.0-1");
    let out = s.cosign.sign(&image, &s.stack.token(EMAIL));
    assert!(out.status.success(), "cosign sign: {}", both(&out));
    let hex = digest.trim_start_matches("sha256:");
    let sig = s.manifest(&format!("sha256-{hex}.sig"));
    assert_eq!(
        sig["layers"][0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );

    let (out, report) = s.vouch_report(&image, EMAIL, &[]);
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(report["verified"], true);
    let attached = &report["images"][0]["attached"][0];
    assert_eq!(attached["layout"], "cosign-sig-tag", "{report:#}");
    assert_eq!(attached["kind"], "signature");

    let (out, report) = s.vouch_report(&image, OTHER, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let failed = failed_check(&report, "signature");
    assert_eq!(failed["id"], "identity", "{failed}");
    assert_eq!(failed["expected"], OTHER);
    assert_eq!(failed["found"], EMAIL);
}

/// (b) `vouch sign --legacy-cosign`; `cosign verify` accepts it for the signer's identity and
/// refuses it for another.
#[test]
fn cosign_verifies_a_legacy_signature_vouch_made() {
    let Some(s) = Setup::start() else { return };
    let (image, _) = s.image("signed-by-vouch", "1.0-2");
    let out = run(vouch()
        .args(["sign", &image, "--legacy-cosign", "--rekor-version", "1"])
        .args(["--identity-token", &s.stack.token(EMAIL), "--trust-config"])
        .arg(s.stack.trust_config())
        .arg("--insecure-registry"));
    assert!(out.status.success(), "vouch sign: {}", both(&out));

    let out = s.cosign.verify("verify", &image, EMAIL, &[]);
    assert!(out.status.success(), "cosign verify: {}", both(&out));
    let verified: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        verified[0]["critical"]["image"]["docker-manifest-digest"],
        image.rsplit('@').next().unwrap()
    );
    assert!(
        stderr(&out).contains("The code-signing certificate was verified"),
        "{}",
        both(&out)
    );

    let out = s.cosign.verify("verify", &image, OTHER, &[]);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        stderr(&out).contains("none of the expected identities matched"),
        "{}",
        both(&out)
    );
}

/// A provenance v0.2 predicate, for cosign's `--type slsaprovenance`.
const PROVENANCE_V02: &str =
    r#"{"builder":{"id":"https://example.test/builder"},"buildType":"https://example.test/build"}"#;

impl Setup {
    /// An image cosign has signed and attested (`--type slsaprovenance`, logged as a Rekor
    /// `entry_type` entry); returns the reference by digest and the canonical body of the
    /// attestation's log entry, read from the `.att` layer.
    fn cosign_attested(&self, tag: &str, entry_type: &str) -> (String, Value) {
        let (image, digest) = self.image(tag, "1.0-3");
        let token = self.stack.token(EMAIL);
        let out = self.cosign.sign(&image, &token);
        assert!(out.status.success(), "cosign sign: {}", both(&out));
        let predicate = self.predicate("provenance-v02.json", PROVENANCE_V02);
        let out = self
            .cosign
            .attest(&image, &token, "slsaprovenance", &predicate, entry_type);
        assert!(out.status.success(), "cosign attest: {}", both(&out));
        let hex = digest.trim_start_matches("sha256:");
        let att = self.manifest(&format!("sha256-{hex}.att"));
        let rekor: Value = serde_json::from_str(
            att["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let body = serde_json::from_slice(
            &B64.decode(rekor["Payload"]["body"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        (image, body)
    }
}

impl Setup {
    /// Replaces the first layer of the manifest behind `tag` by `rewrite` of its bytes, under
    /// the same annotations; returns the new layer's bytes.
    fn rewrite_layer(&self, tag: &str, rewrite: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
        let client = self.registry.client(Credentials::anonymous()).unwrap();
        let reference = self.registry.reference(&format!("app:{tag}")).unwrap();
        let mut manifest = self.manifest(tag);
        let layer: vouch_oci::model::Descriptor =
            serde_json::from_value(manifest["layers"][0].clone()).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let bytes = runtime
            .block_on(client.fetch_blob(&reference, &layer, 1 << 20))
            .unwrap();
        let rewritten = rewrite(&bytes);
        assert_ne!(rewritten, bytes);
        let pushed = runtime
            .block_on(client.push_blob(&reference, &layer.media_type, rewritten.clone()))
            .unwrap();
        manifest["layers"][0]["digest"] = pushed.digest.into();
        manifest["layers"][0]["size"] = pushed.size.into();
        let media_type = manifest["mediaType"].as_str().unwrap().to_owned();
        runtime
            .block_on(client.push_manifest(
                &reference,
                serde_json::to_vec(&manifest).unwrap(),
                &media_type,
            ))
            .unwrap();
        rewritten
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, bytes)
        .unwrap()
        .hex()
        .to_owned()
}

impl Setup {
    /// `vouch verify --type` of the SLSA v0.2 attestation as another identity fails at the
    /// identity check, naming both.
    fn refused_for_another_identity(&self, image: &str) {
        let (out, report) = self.vouch_report(image, OTHER, &["--type", SLSA_V02]);
        assert_eq!(out.status.code(), Some(1), "{}", both(&out));
        let failed = failed_check(&report, SLSA_V02);
        assert_eq!(failed["id"], "identity", "{failed}");
        assert_eq!(failed["expected"], OTHER);
        assert_eq!(failed["found"], EMAIL);
    }
}

/// The attached item of `kind` in a `vouch verify` JSON report.
fn attached<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["images"][0]["attached"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap_or_else(|| panic!("nothing of kind `{kind}` in {report:#}"))
}

/// (c) cosign attests with `--type slsaprovenance` (legacy `.att` tag), logging the envelope as
/// cosign 2.5 does by default, a Rekor `dsse` 0.0.1 entry; `vouch verify --type` accepts it for
/// the signer, and refuses it for another identity, naming both.
#[test]
fn vouch_verifies_an_attestation_cosign_made_with_a_dsse_entry() {
    let Some(s) = Setup::start() else { return };
    let (image, body) = s.cosign_attested("attested-dsse", "dsse");
    assert_eq!(
        (&body["kind"], &body["apiVersion"]),
        (&"dsse".into(), &"0.0.1".into())
    );

    let (out, report) = s.vouch_report(&image, EMAIL, &["--type", SLSA_V02]);
    assert!(out.status.success(), "{}", both(&out));
    let att = attached(&report, SLSA_V02);
    assert_eq!(att["layout"], "cosign-att-tag");
    assert_eq!(att["report"]["verified"], true, "{att:#}");
    // cosign's short name means v0.2, vouch's `slsaprovenance` means v1: required by that
    // name, this attestation does not count.
    let (out, _) = s.vouch_report(&image, EMAIL, &["--type", "slsaprovenance"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        stdout(&out).contains(&format!("no attached attestation of type `{SLSA_V1}`")),
        "{}",
        both(&out)
    );

    s.refused_for_another_identity(&image);
}

/// (c) with `--rekor-entry-type intoto`: cosign 2.5 logs an `intoto` entry of version 0.0.1,
/// which the Sigstore verification crates cannot check (they know `intoto` 0.0.2 only). vouch
/// makes that entry's last step itself (the envelope as logged, its payload, its signer):
/// `vouch verify --type` accepts the attestation for the signer and refuses it for another
/// identity, naming both, as for a `dsse` entry.
#[test]
fn vouch_verifies_an_attestation_cosign_made_with_an_intoto_v001_entry() {
    let Some(s) = Setup::start() else { return };
    let (image, body) = s.cosign_attested("attested-intoto", "intoto");
    assert_eq!(
        (&body["kind"], &body["apiVersion"]),
        (&"intoto".into(), &"0.0.1".into())
    );
    // The devstack's entry is one cosign accepts.
    let out = s.cosign.verify(
        "verify-attestation",
        &image,
        EMAIL,
        &["--type", "slsaprovenance"],
    );
    assert!(
        out.status.success(),
        "cosign verify-attestation: {}",
        both(&out)
    );

    let (out, report) = s.vouch_report(&image, EMAIL, &["--type", SLSA_V02]);
    assert!(out.status.success(), "{}", both(&out));
    let att = attached(&report, SLSA_V02);
    assert_eq!(att["layout"], "cosign-att-tag");
    assert_eq!(att["report"]["verified"], true, "{att:#}");
    assert_eq!(
        att["report"]["facts"]["log_entries"][0]["kind"], "intoto/0.0.1",
        "{att:#}"
    );
    assert_eq!(att["report"]["hints"]["log_entry_kinds"][0], "intoto/0.0.1");
    let checks = att["report"]["checks"].as_array().unwrap();
    let last = checks.last().unwrap();
    assert_eq!(
        (&last["id"], &last["status"]),
        (&"tlog-entry".into(), &"passed".into()),
        "{att:#}"
    );
    // The signed entry timestamp's time is the signing time the certificate was checked at.
    assert!(
        att["report"]["facts"]["integrated_time"].is_string(),
        "{att:#}"
    );

    s.refused_for_another_identity(&image);

    // As a Sigstore bundle file (`vouch download attestation`), the envelope's logged bytes are
    // gone; the envelope as cosign writes it is what the log hashed.
    let out = run(vouch().args([
        "download",
        "attestation",
        &image,
        "--insecure-registry",
        "--type",
        SLSA_V02,
    ]));
    assert!(out.status.success(), "{}", both(&out));
    let bundle = s.work.path().join("intoto-v001.sigstore.json");
    std::fs::write(&bundle, stdout(&out).lines().next().unwrap()).unwrap();
    let digest = image.rsplit('@').next().unwrap();
    let out = run(vouch()
        .args(["verify", digest, "--offline", "--format", "json"])
        .arg("--bundle")
        .arg(&bundle)
        .arg("--trusted-root")
        .arg(s.stack.state.path().join("trusted_root.json"))
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &s.stack.url()]));
    assert!(out.status.success(), "{}", both(&out));
}

/// The `.att` layer of an `intoto` 0.0.1 attestation replaced by the same envelope written
/// with other whitespace: the statement and its signature are unchanged and verify, but the log
/// entry hashed other bytes, so the entry does not describe this envelope. vouch refuses it at
/// its last check, with the logged hash against the layer's, after every other check passed.
#[test]
fn an_intoto_v001_attestation_whose_envelope_is_not_the_logged_one_is_refused() {
    let Some(s) = Setup::start() else { return };
    let (image, body) = s.cosign_attested("attested-intoto-rewritten", "intoto");
    let digest = image.rsplit('@').next().unwrap().to_owned();
    let tag = format!("sha256-{}.att", digest.trim_start_matches("sha256:"));
    let rewritten = s.rewrite_layer(&tag, |envelope| {
        let value: Value = serde_json::from_slice(envelope).unwrap();
        serde_json::to_vec_pretty(&value).unwrap()
    });

    let (out, report) = s.vouch_report(&image, EMAIL, &["--type", SLSA_V02]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let att = report["images"][0]["attached"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["layout"] == "cosign-att-tag")
        .unwrap();
    let checks = att["report"]["checks"].as_array().unwrap();
    let failed = checks.iter().find(|c| c["status"] == "failed").unwrap();
    assert_eq!(failed["id"], "tlog-entry", "{att:#}");
    assert_eq!(
        failed["expected"],
        format!(
            "sha256:{}",
            body["spec"]["content"]["hash"]["value"].as_str().unwrap()
        )
    );
    assert_eq!(
        failed["found"],
        format!("sha256:{}", sha256_hex(&rewritten))
    );
    assert!(
        checks
            .iter()
            .take_while(|c| c["id"] != "tlog-entry")
            .all(|c| c["status"] == "passed"),
        "every check before the entry's passed: {att:#}"
    );
}

/// (d) `vouch attest --legacy-cosign`; `cosign verify-attestation --type` accepts it for the
/// signer's identity and refuses it for another identity and for another predicate type.
#[test]
fn cosign_verifies_a_legacy_attestation_vouch_made() {
    let Some(s) = Setup::start() else { return };
    let (image, _) = s.image("attested-by-vouch", "1.0-4");
    let predicate = s.predicate(
        "provenance-v1.json",
        r#"{"buildDefinition":{"buildType":"https://example.test/build","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.test/builder"}}}"#,
    );
    let out = run(vouch()
        .args(["attest", "--predicate"])
        .arg(&predicate)
        .args(["--type", "slsaprovenance", "--legacy-cosign"])
        .args(["--rekor-version", "1"])
        .args(["--identity-token", &s.stack.token(EMAIL), "--trust-config"])
        .arg(s.stack.trust_config())
        .args(["--insecure-registry", &image]));
    assert!(out.status.success(), "vouch attest: {}", both(&out));

    // vouch's `slsaprovenance` is SLSA v1, cosign's `slsaprovenance1`.
    let out = s.cosign.verify(
        "verify-attestation",
        &image,
        EMAIL,
        &["--type", "slsaprovenance1"],
    );
    assert!(
        out.status.success(),
        "cosign verify-attestation: {}",
        both(&out)
    );
    let envelope: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statement: Value =
        serde_json::from_slice(&B64.decode(envelope["payload"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(statement["predicateType"], SLSA_V1);
    // The URI works the same.
    let out = s
        .cosign
        .verify("verify-attestation", &image, EMAIL, &["--type", SLSA_V1]);
    assert!(out.status.success(), "{}", both(&out));

    let out = s.cosign.verify(
        "verify-attestation",
        &image,
        OTHER,
        &["--type", "slsaprovenance1"],
    );
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        stderr(&out).contains("none of the expected identities matched"),
        "{}",
        both(&out)
    );
    // cosign's `slsaprovenance` is v0.2: no attestation of that type.
    let out = s.cosign.verify(
        "verify-attestation",
        &image,
        EMAIL,
        &["--type", "slsaprovenance"],
    );
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        stderr(&out).contains("none of the attestations matched the predicate type"),
        "{}",
        both(&out)
    );
}

/// The Sigstore bundle format in OCI referrers, which cosign 2.5 writes for `attest
/// --new-bundle-format` and vouch writes by default. On distribution 2.8 (no referrers API)
/// both fall back to the referrers tag schema.
///
/// - vouch's attestations (Rekor v1 and v2) verify with `cosign verify-attestation
///   --new-bundle-format --trusted-root`, for the signer only.
/// - cosign's verify with cosign and with vouch. go-containerregistry, which cosign pushes
///   with, records the referrer in the tag-schema index under its config's media type
///   (`application/vnd.oci.empty.v1+json`) instead of the manifest's `artifactType`; vouch then
///   reads what the referrer is from its manifest.
#[test]
fn bundles_in_referrers_between_vouch_and_cosign() {
    let Some(s) = Setup::start() else { return };
    let trusted_root = s.stack.state.path().join("trusted_root.json");
    let trusted_root = trusted_root.to_str().unwrap();
    let token = s.stack.token(EMAIL);
    let new_format = |kind: &'static str| {
        [
            "--new-bundle-format",
            "--trusted-root",
            trusted_root,
            "--type",
            kind,
        ]
    };

    // cosign 2.5 refuses a bundle whose Rekor v1 entry is the first of its log (log index 0,
    // a tree of one leaf, an inclusion proof with no hashes), saying only "no valid bundles
    // exist in registry"; vouch accepts it. Logging something first keeps the test on what a
    // real log looks like.
    let (first, _) = s.image("first-entry", "2.0-0");
    let out = run(vouch()
        .args(["sign", &first, "--rekor-version", "1"])
        .args(["--identity-token", &token, "--trust-config"])
        .arg(s.stack.trust_config())
        .arg("--insecure-registry"));
    assert!(out.status.success(), "vouch sign: {}", both(&out));
    let (image, _) = s.image("bundle-by-vouch", "2.0-1");
    let predicate = s.predicate(
        "provenance-v1.json",
        r#"{"buildDefinition":{"buildType":"https://example.test/build","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.test/builder"}}}"#,
    );
    for rekor in ["1", "2"] {
        let out = run(vouch()
            .args(["attest", "--predicate"])
            .arg(&predicate)
            .args(["--type", "slsaprovenance", "--rekor-version", rekor])
            .args(["--identity-token", &token, "--trust-config"])
            .arg(s.stack.trust_config())
            .args(["--insecure-registry", &image]));
        assert!(out.status.success(), "vouch attest: {}", both(&out));
        let out = s.cosign.verify(
            "verify-attestation",
            &image,
            EMAIL,
            &new_format("slsaprovenance1"),
        );
        assert!(out.status.success(), "Rekor v{rekor}: {}", both(&out));
    }
    let out = s.cosign.verify(
        "verify-attestation",
        &image,
        OTHER,
        &new_format("slsaprovenance1"),
    );
    assert!(!out.status.success(), "{}", both(&out));
    assert!(
        stderr(&out).contains(&format!("expected SAN value \"{OTHER}\", got \"{EMAIL}\"")),
        "{}",
        both(&out)
    );

    let (image, digest) = s.image("bundle-by-cosign", "2.0-2");
    let predicate = s.predicate("provenance-v02.json", PROVENANCE_V02);
    let out = s.cosign.run(
        s.cosign
            .command(&["attest", "--yes", "--new-bundle-format"])
            .args(["--fulcio-url", &s.cosign.url, "--rekor-url", &s.cosign.url])
            .args(["--identity-token", &token, "--type", "slsaprovenance"])
            .arg("--predicate")
            .arg(&predicate)
            .args(Cosign::registry_flags())
            .arg(&image),
    );
    assert!(out.status.success(), "cosign attest: {}", both(&out));
    let index = s.manifest(&format!("sha256-{}", digest.trim_start_matches("sha256:")));
    let entry = &index["manifests"][0];
    let manifest = s.manifest_by_digest(entry["digest"].as_str().unwrap());
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(entry["artifactType"], "application/vnd.oci.empty.v1+json");
    let out = s.cosign.verify(
        "verify-attestation",
        &image,
        EMAIL,
        &new_format("slsaprovenance"),
    );
    assert!(
        out.status.success(),
        "cosign verify-attestation: {}",
        both(&out)
    );
    let out = run(vouch()
        .args(["sign", &image, "--identity-token", &token, "--trust-config"])
        .arg(s.stack.trust_config())
        .arg("--insecure-registry"));
    assert!(out.status.success(), "vouch sign: {}", both(&out));
    let (out, report) = s.vouch_report(&image, EMAIL, &["--type", SLSA_V02]);
    assert!(out.status.success(), "{}", both(&out));
    let att = attached(&report, SLSA_V02);
    assert_eq!(att["report"]["verified"], true, "{att:#}");
    let (out, report) = s.vouch_report(&image, OTHER, &["--type", SLSA_V02]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let failed = failed_check(&report, SLSA_V02);
    assert_eq!(failed["id"], "identity", "{failed}");
}

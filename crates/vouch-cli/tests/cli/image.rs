//! Images in a real registry (Debian's `docker-registry`, distribution 2.8, on loopback):
//! `vouch sbom`, `vouch sign`, `vouch attest`, `vouch verify`, `vouch tree` and `vouch download`
//! with images, against a devstack, in the forms the CLI contract names.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vouch_image::layout::{Image, Layer};
use vouch_oci::Credentials;
use vouch_oci::model::Platform;
use vouch_oci::testing::{TestRegistry, TestRegistryError};

use super::sign::Stack;
use super::{run, vouch};

const EMAIL: &str = "releaser@example.test";

/// A registry, or `None` (skip) when Debian's `docker-registry` is not installed, unless the
/// test command requires it (`VOUCH_REQUIRE_REGISTRY=1`), in which case its absence fails.
pub fn registry() -> Option<TestRegistry> {
    match TestRegistry::start() {
        Ok(r) => Some(r),
        Err(e @ TestRegistryError::Missing { .. }) => {
            assert!(
                std::env::var_os("VOUCH_REQUIRE_REGISTRY").is_none(),
                "the registry is required here: {e}"
            );
            eprintln!("SKIPPED: {e}");
            None
        }
        Err(e) => panic!("the test registry did not start: {e}"),
    }
}

/// Checks a `vouch verify IMAGE --format json` report against its published schema.
pub fn assert_valid(report: &Value) {
    let text =
        std::fs::read_to_string(super::repo().join("schemas/verify-image-report.schema.json"))
            .unwrap();
    let validator = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema: {errors:#?}\n{report:#}"
    );
}

/// A tar with `files` (path, content), as an image layer holds it.
fn tar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

fn status(packages: &[(&str, &str)]) -> String {
    packages
        .iter()
        .map(|(name, version)| {
            format!(
                "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n"
            )
        })
        .collect()
}

/// A one-platform image with a dpkg database listing `packages`.
pub fn debian_image(architecture: &str, packages: &[(&str, &str)]) -> Image {
    Image {
        platform: Platform::parse(&format!("linux/{architecture}")).unwrap(),
        layers: vec![
            Layer::gzip(&tar(&[
                ("etc/os-release", OS_RELEASE),
                ("var/lib/dpkg/status", &status(packages)),
            ]))
            .unwrap(),
        ],
    }
}

/// Writes `images` as an OCI layout (an index when several) tagged `tag`, and pushes it to
/// `registry` as `app:tag`. Returns the layout directory and the pushed digest.
pub fn push(
    registry: &TestRegistry,
    dir: &Path,
    images: &[Image],
    tag: &str,
) -> (PathBuf, String, String) {
    let layout = dir.join(format!("layout-{tag}"));
    if let [one] = images {
        vouch_image::layout::write(&layout, one, Some(tag)).unwrap();
    } else {
        vouch_image::layout::write_index(&layout, images, Some(tag)).unwrap();
    }
    let reference = format!("{}/app:{tag}", registry.host());
    let client = registry.client(Credentials::anonymous()).unwrap();
    let target = registry.reference(&format!("app:{tag}")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let digest = runtime
        .block_on(vouch_oci::layout::push_layout(
            &client,
            &layout,
            &target,
            Some(tag),
        ))
        .unwrap();
    (layout, reference, digest)
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn both(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `vouch verify REF --insecure-registry --offline --trusted-root TR --certificate-identity I
/// --certificate-oidc-issuer O [extra]`, as the CLI contract names it.
pub fn verify(
    stack: &Stack,
    reference: &str,
    identity: &str,
    extra: &[&str],
) -> std::process::Output {
    run(vouch()
        .args(["verify", reference, "--insecure-registry", "--offline"])
        .arg("--trusted-root")
        .arg(stack.state.path().join("trusted_root.json"))
        .args(["--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", &stack.url()])
        .args(extra))
}

/// The packages of a CycloneDX document, as purls.
fn purls(sbom: &Value) -> Vec<String> {
    let mut purls: Vec<String> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_owned))
        .collect();
    purls.sort();
    purls
}

#[test]
fn an_image_is_described_signed_attested_and_verified_in_its_registry() {
    let Some(registry) = registry() else { return };
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let image = debian_image(
        "amd64",
        &[("curl", "7.88.1-10+deb12u5"), ("zlib1g", "1:1.2.13")],
    );
    let (layout, reference, digest) = push(&registry, work.path(), &[image], "1.0");

    // The SBOM, from the layout and from the registry: the same packages, the image digest as
    // the subject's version.
    let sbom_path = work.path().join("sbom.cdx.json");
    let out = run(vouch()
        .args(["sbom", &format!("oci:{}", layout.display())])
        .args(["--format", "cyclonedx-json", "--no-layer-cache"]));
    assert!(out.status.success(), "{}", both(&out));
    let from_layout: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = run(vouch()
        .args([
            "sbom",
            &reference,
            "--insecure-registry",
            "--no-layer-cache",
        ])
        .args(["--format", "cyclonedx-json", "-o"])
        .arg(&sbom_path));
    assert!(out.status.success(), "{}", both(&out));
    let from_registry: Value = serde_json::from_slice(&std::fs::read(&sbom_path).unwrap()).unwrap();
    let expected = [
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12",
        // dpkg epochs stay in the version, as Debian writes it (and syft too).
        "pkg:deb/debian/zlib1g@1:1.2.13?arch=amd64&distro=debian-12",
    ];
    for purl in expected {
        assert!(
            purls(&from_registry).iter().any(|p| p == purl),
            "{purl} in {:?}",
            purls(&from_registry)
        );
    }
    // The same packages; only the image's own purl differs (named by the layout's directory,
    // or by the repository it was pulled from).
    let packages = |sbom: &Value| -> Vec<String> {
        purls(sbom)
            .into_iter()
            .filter(|p| !p.starts_with("pkg:oci/"))
            .collect()
    };
    assert_eq!(packages(&from_layout), packages(&from_registry));
    let root = format!(
        "pkg:oci/app@{digest}?repository_url={}%2Fapp",
        registry.host()
    );
    assert!(
        purls(&from_registry).contains(&root),
        "{root} in {:?}",
        purls(&from_registry)
    );
    assert_eq!(
        from_registry["metadata"]["component"]["version"],
        digest.as_str()
    );

    // Nothing is attached yet: verification fails closed and says so.
    let out = verify(&stack, &reference, EMAIL, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        stdout(&out).contains("nothing is attached"),
        "{}",
        both(&out)
    );

    // Sign, exactly as the contract names it. The tag is resolved and the digest printed.
    let token = stack.token(EMAIL);
    let out = run(vouch()
        .args([
            "sign",
            &reference,
            "--identity-token",
            &token,
            "--trust-config",
        ])
        .arg(stack.trust_config())
        .arg("--insecure-registry"));
    assert!(out.status.success(), "{}", both(&out));
    assert!(stdout(&out).contains(&digest), "{}", both(&out));

    let out = verify(&stack, &reference, EMAIL, &[]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(stdout(&out).contains("VERIFIED"), "{}", both(&out));
    let out = verify(&stack, &reference, EMAIL, &["--format", "json"]);
    assert!(out.status.success(), "{}", both(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    assert_eq!(
        report["images"][0]["image"],
        format!("{}/app@{digest}", registry.host())
    );
    assert!(
        stdout(&out).contains("referrers-tag-schema"),
        "{}",
        both(&out)
    );

    // Another identity is refused, with the check and the values named.
    let out = verify(
        &stack,
        &reference,
        "someone-else@example.test",
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&report);
    assert_eq!(report["verified"], false);
    let failed = &report["images"][0]["attached"][0]["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "failed")
        .cloned()
        .unwrap();
    assert_eq!(failed["id"], "identity", "{failed}");
    assert_eq!(failed["expected"], "someone-else@example.test");
    assert_eq!(failed["found"], EMAIL);

    // The SBOM is required but not yet attested.
    let out = verify(&stack, &reference, EMAIL, &["--type", "cyclonedx"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        stdout(&out).contains("no attached attestation of type"),
        "{}",
        both(&out)
    );

    let out = run(vouch()
        .args(["attest", "--predicate"])
        .arg(&sbom_path)
        .args([
            "--type",
            "cyclonedx",
            "--identity-token",
            &token,
            "--trust-config",
        ])
        .arg(stack.trust_config())
        .args(["--insecure-registry", &reference]));
    assert!(out.status.success(), "{}", both(&out));
    let out = verify(&stack, &reference, EMAIL, &["--type", "cyclonedx"]);
    assert!(out.status.success(), "{}", both(&out));

    // `vouch tree` lists both; `vouch download sbom` returns the attested SBOM.
    let out = run(vouch().args([
        "tree",
        &reference,
        "--insecure-registry",
        "--format",
        "json",
    ]));
    assert!(out.status.success(), "{}", both(&out));
    let tree: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tree["digest"], digest.as_str());
    let kinds: Vec<&str> = tree["attached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["annotations"]["dev.sigstore.bundle.predicateType"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "https://sigstore.dev/cosign/sign/v1",
            "https://cyclonedx.org/bom"
        ]
    );
    let out = run(vouch().args(["download", "sbom", &reference, "--insecure-registry"]));
    assert!(out.status.success(), "{}", both(&out));
    let downloaded: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(downloaded, from_registry);

    // Moving the tag to another image leaves the signatures with the old digest.
    let other = debian_image("amd64", &[("curl", "7.88.1-10+deb12u6")]);
    let (_, moved, other_digest) = push(&registry, work.path(), &[other], "1.0");
    assert_eq!(moved, reference);
    assert_ne!(other_digest, digest);
    let out = verify(&stack, &reference, EMAIL, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let by_digest = format!("{}/app@{digest}", registry.host());
    let out = verify(&stack, &by_digest, EMAIL, &["--type", "cyclonedx"]);
    assert!(out.status.success(), "{}", both(&out));
}

#[test]
fn cosign_legacy_tags_are_written_and_verified() {
    let Some(registry) = registry() else { return };
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let (_, reference, digest) = push(
        &registry,
        work.path(),
        &[debian_image("amd64", &[("bash", "5.2.15-2+b2")])],
        "legacy",
    );
    let token = stack.token(EMAIL);
    let out = run(vouch()
        .args([
            "sign",
            &reference,
            "--legacy-cosign",
            "--rekor-version",
            "1",
        ])
        .args(["--identity-token", &token, "--trust-config"])
        .arg(stack.trust_config())
        .arg("--insecure-registry"));
    assert!(out.status.success(), "{}", both(&out));
    let hex = digest.trim_start_matches("sha256:");
    assert!(
        stdout(&out).contains(&format!("sha256-{hex}.sig")),
        "{}",
        both(&out)
    );

    let predicate = work.path().join("vuln.json");
    std::fs::write(
        &predicate,
        br#"{"scanner":{"uri":"https://example.test/scanner"}}"#,
    )
    .unwrap();
    let out = run(vouch()
        .args(["attest", "--predicate"])
        .arg(&predicate)
        .args(["--type", "vuln", "--legacy-cosign", "--rekor-version", "1"])
        .args(["--identity-token", &token, "--trust-config"])
        .arg(stack.trust_config())
        .args(["--insecure-registry", &reference]));
    assert!(out.status.success(), "{}", both(&out));

    let out = verify(&stack, &reference, EMAIL, &["--type", "vuln"]);
    assert!(out.status.success(), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.contains("cosign-sig-tag"), "{text}");
    assert!(text.contains("cosign-att-tag"), "{text}");

    // A legacy signature of this image cannot vouch for another: copy the `.sig` tag to the
    // other image's digest and verification refuses it, naming the digest it was made for.
    let (_, other_ref, other_digest) = push(
        &registry,
        work.path(),
        &[debian_image("amd64", &[("bash", "5.2.15-2+b3")])],
        "other",
    );
    let client = registry.client(Credentials::anonymous()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let sig = client
            .fetch_manifest(
                &registry
                    .reference(&format!("app:sha256-{hex}.sig"))
                    .unwrap(),
            )
            .await
            .unwrap();
        let other_tag = format!(
            "app:sha256-{}.sig",
            other_digest.trim_start_matches("sha256:")
        );
        client
            .push_manifest(
                &registry.reference(&other_tag).unwrap(),
                sig.bytes,
                &sig.media_type,
            )
            .await
            .unwrap();
    });
    let out = verify(&stack, &other_ref, EMAIL, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(
        stdout(&out).contains(&format!("the signed payload names {digest}")),
        "{}",
        both(&out)
    );
}

#[test]
fn a_multi_platform_image_is_signed_recursively_and_verified_per_platform() {
    let Some(registry) = registry() else { return };
    let stack = Stack::start();
    let work = tempfile::tempdir().unwrap();
    let (_, reference, _) = push(
        &registry,
        work.path(),
        &[
            debian_image("amd64", &[("libc6", "2.36-9")]),
            debian_image("arm64", &[("libc6", "2.36-9")]),
        ],
        "multi",
    );
    // --recursive signs the index and each platform manifest.
    let token = stack.token(EMAIL);
    let out = run(vouch()
        .args([
            "sign",
            &reference,
            "--recursive",
            "--identity-token",
            &token,
            "--trust-config",
        ])
        .arg(stack.trust_config())
        .arg("--insecure-registry"));
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(
        stdout(&out).lines().count(),
        3,
        "index and two manifests: {}",
        both(&out)
    );

    let out = verify(&stack, &reference, EMAIL, &["--all-platforms"]);
    assert!(out.status.success(), "{}", both(&out));
    let text = stdout(&out);
    assert!(
        text.contains("(linux/amd64)") && text.contains("(linux/arm64)"),
        "{text}"
    );

    // The SBOM of one platform names that platform's packages only.
    let out = run(vouch()
        .args([
            "sbom",
            &reference,
            "--insecure-registry",
            "--no-layer-cache",
        ])
        .args(["--platform", "linux/arm64", "--format", "cyclonedx-json"]));
    assert!(out.status.success(), "{}", both(&out));
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        purls(&sbom)
            .iter()
            .any(|p| p.contains("libc6") && p.contains("arch=amd64")),
        "the dpkg records say amd64 whatever the image platform: {:?}",
        purls(&sbom)
    );
    let out = run(vouch()
        .args([
            "sbom",
            &reference,
            "--insecure-registry",
            "--no-layer-cache",
        ])
        .args(["--platform", "linux/s390x"]));
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("linux/arm64"),
        "{}",
        both(&out)
    );
}

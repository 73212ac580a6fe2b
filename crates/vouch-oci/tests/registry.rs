//! vouch-oci against a real registry: Debian's `docker-registry` (distribution 2.8) on loopback.
//! Each test starts its own registry and skips, saying so, when the package is not installed.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::Duration;

use common::{fake_bundle, image_descriptor, push_image, start_registry, tagged};
use vouch_oci::attach::{
    self, AttachOptions, BundleAttachment, BundleContent, LegacySignature, ReferrersStore,
};
use vouch_oci::blocking::BlockingRegistry;
use vouch_oci::client::with_digest;
use vouch_oci::credentials::Credentials;
use vouch_oci::digest::sha256_digest;
use vouch_oci::discover::{self, Layout};
use vouch_oci::model::{AnyManifest, Index, Platform, media_type};
use vouch_oci::{RegistryError, layout};

/// A credential helper `docker-credential-NAME` (a shell script answering the helper protocol
/// for `server`'s host only) in the registry's scratch directory, and a Docker config in `dir`
/// that names it for that host; returns the helper directory and the config's path.
fn credential_helper(
    server: &vouch_oci::testing::TestRegistry,
    dir: &std::path::Path,
    name: &str,
    username: &str,
    secret: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let helpers = server.scratch().join("helpers");
    std::fs::create_dir_all(&helpers).unwrap();
    let helper = helpers.join(format!("docker-credential-{name}"));
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\nif [ \"$server\" = \"{}\" ]; then\n  \
             echo '{{\"ServerURL\":\"'$server'\",\"Username\":\"{username}\",\"Secret\":\"{secret}\"}}'\n\
             else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n",
            server.host()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = dir.join("helper.json");
    std::fs::write(
        &config,
        format!(r#"{{"credHelpers":{{"{}":"{name}"}}}}"#, server.host()),
    )
    .unwrap();
    (helpers, config)
}

fn linux_amd64() -> Platform {
    Platform::parse("linux/amd64").unwrap()
}

fn fast() -> AttachOptions {
    AttachOptions {
        settle: Duration::from_millis(100),
        ..AttachOptions::default()
    }
}

/// Push, resolve the tag, pull the manifest and the layer (async and through the blocking
/// reader): every digest checked and equal to what was pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_resolve_and_pull() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("app:v1").unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "one").await;

    let digest = client.resolve(&reference).await.unwrap();
    assert_eq!(digest, image.digest);
    let fetched = client
        .fetch_manifest(&with_digest(&reference, &digest))
        .await
        .unwrap();
    assert_eq!(sha256_digest(&fetched.bytes), digest);
    assert_eq!(fetched.media_type, media_type::OCI_MANIFEST);
    let Ok(AnyManifest::Manifest(manifest)) = fetched.parse() else {
        panic!("not a manifest")
    };
    assert_eq!(manifest, image.manifest);

    let layer = &manifest.layers[0];
    let bytes = client.fetch_blob(&reference, layer, 1 << 20).await.unwrap();
    assert_eq!(bytes, image.layer);

    let blocking_layer = layer.clone();
    let expected = image.layer.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let blocking = BlockingRegistry::with_handle(client, reference, handle);
        let mut reader = blocking.open_blob(&blocking_layer).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out, expected);
    })
    .await
    .unwrap();
}

/// A blob corrupted in the registry's own storage (same length, one byte changed) is refused
/// with expected and found digests, by the async API and by the blocking reader at end of
/// stream; a corrupted manifest is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_storage_is_a_digest_mismatch() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("app:v1").unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "to be corrupted").await;
    let layer = image.manifest.layers[0].clone();

    let path = server.blob_path(&layer.digest).unwrap();
    let mut stored = std::fs::read(&path).unwrap();
    stored[0] ^= 0x20;
    std::fs::write(&path, &stored).unwrap();

    let err = client
        .fetch_blob(&reference, &layer, 1 << 20)
        .await
        .unwrap_err();
    match &err {
        RegistryError::DigestMismatch {
            expected, found, ..
        } => {
            assert_eq!(expected, &layer.digest);
            assert_eq!(found, &sha256_digest(&stored));
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }

    let handle = tokio::runtime::Handle::current();
    let (c, r, l) = (client.clone(), reference.clone(), layer.clone());
    tokio::task::spawn_blocking(move || {
        let blocking = BlockingRegistry::with_handle(c, r, handle);
        let mut reader = blocking.open_blob(&l).unwrap();
        let mut out = Vec::new();
        let err = reader.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("digest mismatch"), "{err}");
    })
    .await
    .unwrap();

    // Manifests are blobs in distribution's storage too.
    let manifest_path = server.blob_path(&image.digest).unwrap();
    let original = std::fs::read(&manifest_path).unwrap();
    // Still valid JSON of the same length, so the registry serves it: the layer digest's last
    // hex digit changed.
    let text = String::from_utf8(original).unwrap();
    let layer_digest = &layer.digest;
    let last = layer_digest.chars().last().unwrap();
    let changed = format!(
        "{}{}",
        &layer_digest[..layer_digest.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let stored = text
        .replacen(layer_digest.as_str(), &changed, 1)
        .into_bytes();
    std::fs::write(&manifest_path, &stored).unwrap();
    for target in [reference.clone(), with_digest(&reference, &image.digest)] {
        match client.fetch_manifest(&target).await {
            Err(RegistryError::DigestMismatch {
                expected, found, ..
            }) => {
                assert_eq!(expected, image.digest);
                assert_eq!(found, sha256_digest(&stored));
            }
            other => panic!("expected a digest mismatch for {target}, got {other:?}"),
        }
    }
}

/// Bundles attached as referrers land in the referrers tag schema index (distribution 2.8 has
/// no referrers API) with cosign's annotations, are discovered and fetched back, and attaching
/// again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_bundles_as_referrers_via_tag_schema() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("app:v1").unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "signed").await;

    let signature = BundleAttachment {
        bundle: fake_bundle(1),
        content: BundleContent::MessageSignature,
        predicate_type: None,
        created: Some("2026-01-02T03:04:05Z".to_owned()),
    };
    let attestation = BundleAttachment {
        bundle: fake_bundle(2),
        content: BundleContent::DsseEnvelope,
        predicate_type: Some("https://slsa.dev/provenance/v1".to_owned()),
        created: None,
    };
    let first = attach::attach_bundle(&client, &reference, &signature, &fast())
        .await
        .unwrap();
    let tag = format!("sha256-{}", &image.digest[7..]);
    assert_eq!(first.store, ReferrersStore::TagSchema { tag: tag.clone() });
    attach::attach_bundle(&client, &reference, &attestation, &fast())
        .await
        .unwrap();
    attach::attach_bundle(&client, &reference, &signature, &fast())
        .await
        .unwrap();

    // The artifact manifest has the shape of cosign's bundle specification.
    let artifact = client
        .fetch_manifest(&with_digest(&reference, &first.descriptor.digest))
        .await
        .unwrap();
    let Ok(AnyManifest::Manifest(artifact)) = artifact.parse() else {
        panic!("not a manifest")
    };
    assert_eq!(
        artifact.artifact_type.as_deref(),
        Some(media_type::SIGSTORE_BUNDLE_V03)
    );
    assert_eq!(artifact.config.media_type, media_type::OCI_EMPTY);
    assert_eq!(artifact.config.digest, sha256_digest(b"{}"));
    assert_eq!(artifact.layers.len(), 1);
    assert_eq!(
        artifact.layers[0].media_type,
        media_type::SIGSTORE_BUNDLE_V03
    );
    assert_eq!(artifact.subject.as_ref().unwrap().digest, image.digest);
    assert_eq!(
        artifact
            .annotations
            .get(attach::ANNOTATION_BUNDLE_CONTENT)
            .map(String::as_str),
        Some("message-signature")
    );

    let index = client
        .fetch_manifest(&tagged(&reference, &tag))
        .await
        .unwrap();
    assert_eq!(index.media_type, media_type::OCI_INDEX);

    let found = discover::discover(&client, &reference, &image.digest)
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found.iter().all(|a| a.layout == Layout::ReferrersTagSchema));
    assert!(
        found
            .iter()
            .all(|a| a.artifact_type.as_deref() == Some(media_type::SIGSTORE_BUNDLE_V03))
    );
    let dsse = found
        .iter()
        .find(|a| {
            a.descriptor
                .annotations
                .get(attach::ANNOTATION_BUNDLE_CONTENT)
                == Some(&"dsse-envelope".to_owned())
        })
        .unwrap();
    assert_eq!(
        dsse.descriptor
            .annotations
            .get(attach::ANNOTATION_BUNDLE_PREDICATE_TYPE)
            .map(String::as_str),
        Some("https://slsa.dev/provenance/v1")
    );
    let bytes = discover::fetch_attached(&client, &reference, dsse)
        .await
        .unwrap();
    assert_eq!(bytes, fake_bundle(2));
}

/// Eight attaches at once through one client: the process-wide lock serialises them and all
/// eight are in the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attaches_in_one_process_all_land() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("app:v1").unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "popular").await;
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (client, reference) = (client.clone(), reference.clone());
        tasks.push(tokio::spawn(async move {
            let attachment = BundleAttachment {
                bundle: fake_bundle(100 + n),
                content: BundleContent::MessageSignature,
                predicate_type: None,
                created: None,
            };
            attach::attach_bundle(&client, &reference, &attachment, &fast())
                .await
                .unwrap()
                .descriptor
                .digest
        }));
    }
    let mut expected = BTreeSet::new();
    for task in tasks {
        expected.insert(task.await.unwrap());
    }
    let found: BTreeSet<String> = discover::discover(&client, &reference, &image.digest)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.descriptor.digest)
        .collect();
    assert_eq!(found, expected);
}

/// Eight writers with separate clients and no process lock, as separate processes would be:
/// distribution 2.8 ignores `If-Match`, so this exercises read-after-write verification with a
/// settle time and merge-and-retry. All eight land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attaches_without_lock_all_land_after_verification() {
    let Some(server) = start_registry() else {
        return;
    };
    let setup = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("app:v1").unwrap();
    let image = push_image(&setup, &reference, &linux_amd64(), "contended").await;
    let options = AttachOptions {
        settle: Duration::from_millis(750),
        process_lock: false,
        ..AttachOptions::default()
    };
    let mut tasks = Vec::new();
    for n in 0..8 {
        let client = server.client(Credentials::anonymous()).unwrap();
        let (reference, options) = (reference.clone(), options.clone());
        tasks.push(tokio::spawn(async move {
            let attachment = BundleAttachment {
                bundle: fake_bundle(200 + n),
                content: BundleContent::DsseEnvelope,
                predicate_type: Some("https://example.com/p".to_owned()),
                created: None,
            };
            attach::attach_bundle(&client, &reference, &attachment, &options)
                .await
                .unwrap()
                .descriptor
                .digest
        }));
    }
    let mut expected = BTreeSet::new();
    for task in tasks {
        expected.insert(task.await.unwrap());
    }
    let found: BTreeSet<String> = discover::discover(&setup, &reference, &image.digest)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.descriptor.digest)
        .collect();
    assert_eq!(found, expected);

    // Why verification is needed here: distribution 2.8 accepts a PUT whose `If-Match` cannot
    // match. One more attach (one writer, so no race) shows what the probe found.
    attach::attach_bundle(
        &setup,
        &reference,
        &BundleAttachment {
            bundle: fake_bundle(299),
            content: BundleContent::MessageSignature,
            predicate_type: None,
            created: None,
        },
        &fast(),
    )
    .await
    .unwrap();
    assert_eq!(setup.honours_if_match(&reference), Some(false));
}

/// cosign's legacy `.sig` and `.att` tags: layers are appended (not replaced), carry cosign's
/// annotations, the config lists them, and reading returns each layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_cosign_sig_and_att() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("legacy/app:v1").unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "legacy").await;
    let subject = with_digest(&reference, &image.digest);

    let sig = |n: u8| LegacySignature {
        payload: format!(r#"{{"critical":{{"n":{n}}}}}"#).into_bytes(),
        signature_b64: format!("c2lnbmF0dXJl{n}"),
        cert_pem: Some("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n".into()),
        chain_pem: None,
        rekor_bundle_json: Some(r#"{"SignedEntryTimestamp":"x","Payload":{}}"#.into()),
    };
    let one = attach::attach_legacy_signature(&client, &subject, &sig(1), &fast())
        .await
        .unwrap();
    attach::attach_legacy_signature(&client, &subject, &sig(2), &fast())
        .await
        .unwrap();
    attach::attach_legacy_signature(&client, &subject, &sig(1), &fast())
        .await
        .unwrap();
    assert_eq!(one.tag, format!("sha256-{}.sig", &image.digest[7..]));
    let mut att_annotations = BTreeMap::new();
    att_annotations.insert(
        "predicateType".to_owned(),
        "https://slsa.dev/provenance/v1".to_owned(),
    );
    let att = attach::attach_legacy_attestation(
        &client,
        &subject,
        br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#,
        att_annotations,
        &fast(),
    )
    .await
    .unwrap();

    let sig_manifest = client
        .fetch_manifest(&tagged(&reference, &one.tag))
        .await
        .unwrap();
    let Ok(AnyManifest::Manifest(sig_manifest)) = sig_manifest.parse() else {
        panic!("not a manifest")
    };
    assert_eq!(sig_manifest.layers.len(), 2);
    assert!(
        sig_manifest
            .layers
            .iter()
            .all(|l| l.media_type == media_type::COSIGN_SIMPLE_SIGNING)
    );
    let config = client
        .fetch_blob(&reference, &sig_manifest.config, 1 << 20)
        .await
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);

    let found = discover::discover(&client, &reference, &image.digest)
        .await
        .unwrap();
    let sigs: Vec<_> = found
        .iter()
        .filter(|a| a.layout == Layout::CosignSignature)
        .collect();
    let atts: Vec<_> = found
        .iter()
        .filter(|a| a.layout == Layout::CosignAttestation)
        .collect();
    assert_eq!(sigs.len(), 2);
    assert_eq!(atts.len(), 1);
    assert_eq!(
        sigs[0]
            .descriptor
            .annotations
            .get(attach::ANNOTATION_COSIGN_SIGNATURE)
            .map(String::as_str),
        Some("c2lnbmF0dXJl1")
    );
    assert!(
        sigs[0]
            .descriptor
            .annotations
            .contains_key(attach::ANNOTATION_COSIGN_CERTIFICATE)
    );
    assert_eq!(
        atts[0].artifact_type.as_deref(),
        Some(media_type::DSSE_ENVELOPE)
    );
    assert_eq!(
        atts[0]
            .descriptor
            .annotations
            .get(attach::ANNOTATION_COSIGN_SIGNATURE),
        Some(&String::new())
    );
    assert_eq!(atts[0].tag.as_deref(), Some(att.tag.as_str()));
    let payload = discover::fetch_attached(&client, &reference, sigs[1])
        .await
        .unwrap();
    assert_eq!(payload, sig(2).payload);
}

/// One subject with a referrer, a `.sig` and an `.att`: discover reports all three layouts, and
/// the tree of a multi-arch index reports what hangs off each platform manifest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_across_layouts_and_tree() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("multi:v1").unwrap();
    let amd = push_image(&client, &tagged(&reference, "amd"), &linux_amd64(), "amd").await;
    let subject = with_digest(&reference, &amd.digest);
    attach::attach_bundle(
        &client,
        &subject,
        &BundleAttachment {
            bundle: fake_bundle(7),
            content: BundleContent::MessageSignature,
            predicate_type: None,
            created: None,
        },
        &fast(),
    )
    .await
    .unwrap();
    attach::attach_legacy_signature(
        &client,
        &subject,
        &LegacySignature {
            payload: b"{}".to_vec(),
            signature_b64: "c2ln".into(),
            cert_pem: None,
            chain_pem: None,
            rekor_bundle_json: None,
        },
        &fast(),
    )
    .await
    .unwrap();
    attach::attach_legacy_attestation(&client, &subject, b"{}", BTreeMap::new(), &fast())
        .await
        .unwrap();
    let layouts: BTreeSet<Layout> = discover::discover(&client, &reference, &amd.digest)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.layout)
        .collect();
    assert_eq!(
        layouts,
        BTreeSet::from([
            Layout::ReferrersTagSchema,
            Layout::CosignSignature,
            Layout::CosignAttestation
        ])
    );

    let arm_platform = Platform::parse("linux/arm64/v8").unwrap();
    let arm = push_image(&client, &tagged(&reference, "arm"), &arm_platform, "arm").await;
    let index = Index {
        schema_version: 2,
        media_type: Some(media_type::OCI_INDEX.to_owned()),
        artifact_type: None,
        manifests: vec![
            image_descriptor(&amd, Some(linux_amd64())),
            image_descriptor(&arm, Some(arm_platform.clone())),
        ],
        subject: None,
        annotations: BTreeMap::new(),
    };
    client
        .push_manifest(
            &reference,
            serde_json::to_vec(&index).unwrap(),
            media_type::OCI_INDEX,
        )
        .await
        .unwrap();

    let tree = discover::tree(&client, &reference).await.unwrap();
    assert_eq!(tree.subject.media_type, media_type::OCI_INDEX);
    assert!(tree.attached.is_empty());
    assert_eq!(tree.children.len(), 2);
    assert_eq!(tree.children[0].attached.len(), 3);
    assert!(tree.children[1].attached.is_empty());
}

/// An index is narrowed to the requested platform (variant optional), and a platform it lacks
/// is an error naming the ones it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_arch_platform_selection() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("multi:v1").unwrap();
    let arm_platform = Platform::parse("linux/arm64/v8").unwrap();
    let amd = push_image(&client, &tagged(&reference, "amd"), &linux_amd64(), "amd").await;
    let arm = push_image(&client, &tagged(&reference, "arm"), &arm_platform, "arm").await;
    let index = Index {
        schema_version: 2,
        media_type: Some(media_type::OCI_INDEX.to_owned()),
        artifact_type: None,
        manifests: vec![
            image_descriptor(&amd, Some(linux_amd64())),
            image_descriptor(&arm, Some(arm_platform)),
        ],
        subject: None,
        annotations: BTreeMap::new(),
    };
    let pushed = client
        .push_manifest(
            &reference,
            serde_json::to_vec(&index).unwrap(),
            media_type::OCI_INDEX,
        )
        .await
        .unwrap();

    let arm64 = Platform::parse("linux/arm64").unwrap();
    let resolved = client
        .resolve_image(&reference, Some(&arm64))
        .await
        .unwrap();
    assert_eq!(resolved.manifest_raw.digest, arm.digest);
    assert_eq!(resolved.index.unwrap().digest, pushed.digest);
    let resolved = client
        .resolve_image(&reference, Some(&linux_amd64()))
        .await
        .unwrap();
    assert_eq!(resolved.manifest, amd.manifest);
    match client
        .resolve_image(&reference, Some(&Platform::parse("linux/s390x").unwrap()))
        .await
    {
        Err(RegistryError::NoPlatform { available, .. }) => {
            assert_eq!(available, vec!["linux/amd64", "linux/arm64/v8"]);
        }
        other => panic!("expected NoPlatform, got {other:?}"),
    }
}

/// A registry with htpasswd authentication: anonymous access is refused (401), the `auths`
/// entry of a Docker config file and a credential helper named by `credHelpers` both work, a
/// wrong password is refused, and no error message carries the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_from_docker_config_and_helper() {
    use vouch_oci::testing::{TestRegistry, TestRegistryError};
    let server = match TestRegistry::start_with_auth("alice", "correct-horse") {
        Ok(s) => s,
        Err(e @ TestRegistryError::Missing { .. }) => {
            eprintln!("{e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let reference = server.reference("private/app:v1").unwrap();

    let anonymous = server.client(Credentials::anonymous()).unwrap();
    let err = anonymous.resolve(&reference).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::Status { status: 401, .. }),
        "{err:?}"
    );

    use base64::Engine;
    let dir = server.scratch().join("docker");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:correct-horse");
    std::fs::write(
        &config,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, server.host()),
    )
    .unwrap();
    let client = server.client(Credentials::docker_config(&config)).unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "private").await;
    assert_eq!(client.resolve(&reference).await.unwrap(), image.digest);

    let wrong = base64::engine::general_purpose::STANDARD.encode("alice:wrong-password");
    let wrong_config = dir.join("wrong.json");
    std::fs::write(
        &wrong_config,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{wrong}"}}}}}}"#,
            server.host()
        ),
    )
    .unwrap();
    let wrong_client = server
        .client(Credentials::docker_config(&wrong_config))
        .unwrap();
    let err = wrong_client.resolve(&reference).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert!(!format!("{err:?} {err}").contains("wrong-password"));

    // A credential helper: a script that answers the helper protocol for this registry only.
    let (helpers, helper_config) =
        credential_helper(&server, &dir, "vouchtest", "alice", "correct-horse");
    let helper_client = server
        .client(Credentials::docker_config(&helper_config).with_helper_dir(&helpers))
        .unwrap();
    assert_eq!(
        helper_client.resolve(&reference).await.unwrap(),
        image.digest
    );
}

/// A registry with token authentication (distribution 2.8 verifying the JWTs of a token service
/// this test runs) and an identity token: from the `identitytoken` of a Docker config file and
/// from a credential helper's `<token>` answer, vouch exchanges it for access tokens with the
/// scope each operation needs, and pushes and pulls. A token service that answers `token`
/// instead of `access_token` works too; a wrong refresh token, a token service that redirects
/// and one that answers without a token are errors that say so, and no error carries either
/// refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_token_from_docker_config_and_helper() {
    use common::token_service::{Answer, SERVICE, TokenService};
    use vouch_oci::IdentityTokenError;
    use vouch_oci::testing::{TestRegistry, TestRegistryError};

    const REFRESH: &str = "vouch-test-refresh-token-7f3a9c";
    const WRONG: &str = "vouch-test-wrong-refresh-token-51be";
    let tokens = TokenService::start(REFRESH).await;
    let server = match TestRegistry::start_with_token_auth(tokens.auth()) {
        Ok(s) => s,
        Err(e @ TestRegistryError::Missing { .. }) => {
            eprintln!("{e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let reference = server.reference("private/app:v1").unwrap();
    let chain = |err: &RegistryError| {
        let mut text = format!("{err:?}");
        let mut source: Option<&dyn std::error::Error> = Some(err);
        while let Some(e) = source {
            text.push_str(&format!("\n{e}"));
            source = e.source();
        }
        text
    };

    // Without credentials the token service gives nothing (it serves no anonymous access).
    let anonymous = server.client(Credentials::anonymous()).unwrap();
    assert!(anonymous.resolve(&reference).await.is_err());
    tokens.take_seen();

    // `docker login` against a token service that hands out refresh tokens writes this.
    use base64::Engine;
    let dir = server.scratch().join("docker");
    std::fs::create_dir_all(&dir).unwrap();
    let write_config = |name: &str, token: &str| {
        let path = dir.join(name);
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"{}":{{"auth":"{auth}","identitytoken":"{token}"}}}}}}"#,
                server.host()
            ),
        )
        .unwrap();
        path
    };
    let config = write_config("config.json", REFRESH);
    let client = server.client(Credentials::docker_config(&config)).unwrap();
    let image = push_image(&client, &reference, &linux_amd64(), "identity").await;
    assert_eq!(client.resolve(&reference).await.unwrap(), image.digest);
    let layer = &image.manifest.layers[0];
    assert_eq!(
        client.fetch_blob(&reference, layer, 1 << 20).await.unwrap(),
        image.layer
    );
    let seen = tokens.take_seen();
    assert!(!seen.is_empty());
    for request in &seen {
        assert_eq!(request["grant_type"], "refresh_token");
        assert_eq!(request["refresh_token"], "known");
        assert_eq!(request["client_id"], "vouch");
        assert_eq!(request["service"], SERVICE);
    }
    let scopes: BTreeSet<&str> = seen.iter().map(|r| r["scope"].as_str()).collect();
    assert_eq!(
        scopes,
        BTreeSet::from([
            "repository:private/app:pull",
            "repository:private/app:pull,push"
        ])
    );

    // A credential helper that answers with an identity token (user name `<token>`), and a
    // token service that calls the access token `token`.
    tokens.set_answer(Answer::Token);
    let (helpers, helper_config) =
        credential_helper(&server, &dir, "vouchtoken", "<token>", REFRESH);
    let helper_client = server
        .client(Credentials::docker_config(&helper_config).with_helper_dir(&helpers))
        .unwrap();
    assert_eq!(
        helper_client.resolve(&reference).await.unwrap(),
        image.digest
    );
    assert_eq!(
        helper_client
            .fetch_blob(&reference, layer, 1 << 20)
            .await
            .unwrap(),
        image.layer
    );
    tokens.set_answer(Answer::AccessToken);

    // A wrong refresh token: refused by the token service, which echoes it; vouch does not.
    let wrong_client = server
        .client(Credentials::docker_config(write_config(
            "wrong.json",
            WRONG,
        )))
        .unwrap();
    let err = wrong_client.resolve(&reference).await.unwrap_err();
    let RegistryError::IdentityToken { registry, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(registry, server.host());
    assert!(
        matches!(
            source,
            IdentityTokenError::Refused { status: 400, reason, .. }
                if reason.starts_with("invalid_grant")
        ),
        "{source:?}"
    );
    let text = chain(&err);
    assert!(text.contains(server.host()), "{text}");
    assert!(text.contains(&tokens.auth().realm), "{text}");
    assert!(text.contains("refused the identity token"), "{text}");
    assert!(text.contains("docker login"), "{text}");
    assert!(!text.contains(WRONG) && !text.contains(REFRESH), "{text}");
    // Nor can it push.
    let err = wrong_client
        .push_blob(
            &reference,
            media_type::OCI_LAYER_TAR,
            b"never stored".to_vec(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::IdentityToken { .. }),
        "{err:?}"
    );
    assert!(!chain(&err).contains(WRONG));

    // The token service answers `answer`; resolving the image then fails.
    let refused_when = async |answer: Answer| {
        tokens.set_answer(answer);
        server
            .client(Credentials::docker_config(&config))
            .unwrap()
            .resolve(&reference)
            .await
            .unwrap_err()
    };

    // A token service that redirects: the refresh token is not sent on.
    let err = refused_when(Answer::Redirect).await;
    assert!(
        matches!(
            &err,
            RegistryError::IdentityToken {
                source: IdentityTokenError::Redirected { status: 307, .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        tokens.take_seen().iter().all(|r| !r.contains_key("path")),
        "the redirect was followed"
    );

    // A token service that says yes but gives no token.
    let err = refused_when(Answer::Nothing).await;
    assert!(
        matches!(
            &err,
            RegistryError::IdentityToken {
                source: IdentityTokenError::NoToken { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let text = chain(&err);
    assert!(
        text.contains("neither `access_token` nor `token`"),
        "{text}"
    );
    assert!(!text.contains(REFRESH), "{text}");
}

/// An OCI image layout directory is pushed whole (blobs, manifest) and tagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_oci_layout_directory() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let dir = server.scratch().join("layout");
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let write_blob = |bytes: &[u8]| {
        let digest = sha256_digest(bytes);
        std::fs::write(blobs.join(&digest[7..]), bytes).unwrap();
        serde_json::json!({"digest": digest, "size": bytes.len()})
    };
    let layer = write_blob(b"layer bytes");
    let config = write_blob(
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
    );
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {"mediaType": media_type::OCI_CONFIG, "digest": config["digest"], "size": config["size"]},
        "layers": [{"mediaType": media_type::OCI_LAYER_TAR, "digest": layer["digest"], "size": layer["size"]}],
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let manifest_desc = write_blob(&manifest_bytes);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": media_type::OCI_MANIFEST,
            "digest": manifest_desc["digest"],
            "size": manifest_desc["size"],
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let target = server.reference("from-layout:test").unwrap();
    let digest = layout::push_layout(&client, &dir, &target, None)
        .await
        .unwrap();
    assert_eq!(digest, sha256_digest(&manifest_bytes));
    assert_eq!(client.resolve(&target).await.unwrap(), digest);
    let named = layout::push_layout(&client, &dir, &target, Some("v1"))
        .await
        .unwrap();
    assert_eq!(named, digest);
    assert!(
        layout::push_layout(&client, &dir, &target, Some("v2"))
            .await
            .is_err()
    );
}

/// Attaching to a subject the registry does not have is a 404, and a referrers tag that holds
/// an image manifest instead of an index is refused by name rather than overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_refuses_missing_subject_and_foreign_tag_content() {
    let Some(server) = start_registry() else {
        return;
    };
    let client = server.client(Credentials::anonymous()).unwrap();
    let reference = server.reference("app:v1").unwrap();
    let attachment = BundleAttachment {
        bundle: fake_bundle(1),
        content: BundleContent::MessageSignature,
        predicate_type: None,
        created: None,
    };
    let missing = with_digest(&reference, &sha256_digest(b"no such manifest"));
    let err = attach::attach_bundle(&client, &missing, &attachment, &fast())
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    let image = push_image(&client, &reference, &linux_amd64(), "subject").await;
    let squatter = tagged(&reference, &format!("sha256-{}", &image.digest[7..]));
    push_image(&client, &squatter, &linux_amd64(), "squatter").await;
    let err = attach::attach_bundle(&client, &reference, &attachment, &fast())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::UnexpectedTagContent { .. }),
        "{err:?}"
    );
    let err = discover::discover(&client, &reference, &image.digest)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::UnexpectedTagContent { .. }),
        "{err:?}"
    );
}

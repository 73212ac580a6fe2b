//! Attaching signatures and attestations to images.
//!
//! - Sigstore bundles as OCI 1.1 referrers, the layout cosign v3 and GitHub's attest action
//!   write (<https://github.com/sigstore/cosign/blob/main/specs/BUNDLE_SPEC.md>): an artifact
//!   manifest with `artifactType` `application/vnd.dev.sigstore.bundle.v0.3+json`, the empty
//!   config, the bundle as its one layer and the image as its `subject`.
//! - On registries without the referrers API, the referrers index at the tag `sha256-<hex>`
//!   ([referrers tag schema](https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema))
//!   is updated here: registries do not do it, and neither does `oci-client`.
//! - cosign's legacy tags `sha256-<hex>.sig` and `sha256-<hex>.att`
//!   (<https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md>).
//!
//! # Concurrent writers
//!
//! The tag schema index and the legacy tags are read, changed and written back, so two writers
//! can race. Every update is a loop of read, merge, write, re-read:
//!
//! - Registries that honour `If-Match` on manifest PUTs (found out with one probe per registry
//!   per client: a PUT with an `If-Match` that cannot match) get a compare-and-swap: a write
//!   against a stale `ETag` fails with 412 and is retried on a fresh read. Nothing is lost.
//! - Writers in one process (any number of [`Registry`] clients) are serialised per tag by a
//!   process-wide lock. Nothing is lost.
//! - Across processes on a registry that ignores `If-Match` (distribution 2.8, Debian's
//!   `docker-registry`, does), there is no atomic primitive to build on. Each writer re-reads
//!   the tag [`AttachOptions::settle`] after its write and merges again when its entry is gone.
//!   An entry is lost only if another writer's read-to-write interval spans more than the
//!   settle time; running the attach again (it is idempotent) restores it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use oci_client::Reference;

use crate::client::{CasSupport, ConditionalPut, FetchedManifest, Registry, with_digest, with_tag};
use crate::digest::{digest_tag, sha256_digest};
use crate::error::RegistryError;
use crate::model::{AnyManifest, Descriptor, Index, Manifest, media_type};

/// Manifest annotation: what the bundle holds (`message-signature` or `dsse-envelope`).
pub const ANNOTATION_BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
/// Manifest annotation: the in-toto predicate type of a DSSE bundle.
pub const ANNOTATION_BUNDLE_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
/// Manifest annotation: when the bundle was created (RFC 3339).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// Layer annotation: a file name for the layer.
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
/// cosign legacy layer annotation: the base64 signature over the layer (empty for attestations).
pub const ANNOTATION_COSIGN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// cosign legacy layer annotation: the Rekor bundle (JSON).
pub const ANNOTATION_COSIGN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// cosign legacy layer annotation: the signing certificate (PEM).
pub const ANNOTATION_COSIGN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// cosign legacy layer annotation: the certificate chain (PEM).
pub const ANNOTATION_COSIGN_CHAIN: &str = "dev.sigstore.cosign/chain";

/// The OCI empty JSON object, the config of artifacts.
pub const EMPTY_JSON: &[u8] = b"{}";

/// The largest bundle, envelope or legacy payload accepted for attaching.
pub const MAX_ATTACHMENT_BYTES: usize = 16 * 1024 * 1024;

/// What a Sigstore bundle holds, for the `dev.sigstore.bundle.content` annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleContent {
    /// A signature over a digest (`cosign sign`).
    MessageSignature,
    /// A DSSE envelope, usually of an in-toto statement (`cosign attest`, `vouch attest`).
    DsseEnvelope,
}

impl BundleContent {
    /// The annotation value.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleContent::MessageSignature => "message-signature",
            BundleContent::DsseEnvelope => "dsse-envelope",
        }
    }
}

/// A Sigstore bundle to attach.
#[derive(Debug, Clone)]
pub struct BundleAttachment {
    /// The bundle's JSON, as written.
    pub bundle: Vec<u8>,
    /// What it holds.
    pub content: BundleContent,
    /// The statement's predicate type, for a DSSE bundle.
    pub predicate_type: Option<String>,
    /// When it was made (RFC 3339); the caller's clock, not ours.
    pub created: Option<String>,
}

/// How attaching deals with concurrent writers (see the module documentation).
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// Read-merge-write rounds before giving up with [`RegistryError::ConcurrentUpdate`].
    pub max_attempts: u32,
    /// How long after a write, on a registry without compare-and-swap, the tag is read again to
    /// see that the entry survived.
    pub settle: Duration,
    /// Serialise writers of one tag within this process. Only tests turn this off, to exercise
    /// the cross-process path.
    #[doc(hidden)]
    pub process_lock: bool,
}

impl Default for AttachOptions {
    fn default() -> Self {
        AttachOptions {
            max_attempts: 12,
            settle: Duration::from_millis(500),
            process_lock: true,
        }
    }
}

/// Where the registry keeps the referrers of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferrersStore {
    /// The registry implements the referrers API and indexes `subject` itself.
    ReferrersApi,
    /// vouch updated the referrers index at this tag.
    TagSchema {
        /// `sha256-<hex>`.
        tag: String,
    },
}

/// What attaching a bundle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachOutcome {
    /// The artifact manifest, as listed in the referrers index.
    pub descriptor: Descriptor,
    /// Where the referrer is indexed.
    pub store: ReferrersStore,
}

/// What a legacy attach wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyOutcome {
    /// `sha256-<hex>.sig` or `.att`.
    pub tag: String,
    /// The layer added (or found already there).
    pub layer: Descriptor,
}

/// Attaches a Sigstore bundle to `subject` (a reference; a tag is resolved to its digest) as an
/// OCI 1.1 referrer, and indexes it in the referrers tag schema when the registry has no
/// referrers API. Idempotent: attaching the same bundle again changes nothing.
pub async fn attach_bundle(
    registry: &Registry,
    subject: &Reference,
    attachment: &BundleAttachment,
    options: &AttachOptions,
) -> Result<AttachOutcome, RegistryError> {
    if attachment.bundle.len() > MAX_ATTACHMENT_BYTES {
        return Err(RegistryError::TooLarge {
            what: "the bundle".to_owned(),
            limit: MAX_ATTACHMENT_BYTES as u64,
        });
    }
    let subject_manifest = registry.fetch_manifest(subject).await?;
    let subject_descriptor = subject_manifest.descriptor();
    let config = registry
        .push_blob(subject, media_type::OCI_EMPTY, EMPTY_JSON.to_vec())
        .await?;
    let mut layer = registry
        .push_blob(
            subject,
            media_type::SIGSTORE_BUNDLE_V03,
            attachment.bundle.clone(),
        )
        .await?;
    layer.annotations.insert(
        ANNOTATION_TITLE.to_owned(),
        format!("{}.sigstore.json", digest_tag(&layer.digest)),
    );
    let mut annotations = BTreeMap::new();
    annotations.insert(
        ANNOTATION_BUNDLE_CONTENT.to_owned(),
        attachment.content.as_str().to_owned(),
    );
    if let Some(p) = &attachment.predicate_type {
        annotations.insert(ANNOTATION_BUNDLE_PREDICATE_TYPE.to_owned(), p.clone());
    }
    if let Some(c) = &attachment.created {
        annotations.insert(ANNOTATION_CREATED.to_owned(), c.clone());
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_owned()),
        artifact_type: Some(media_type::SIGSTORE_BUNDLE_V03.to_owned()),
        config,
        layers: vec![layer],
        subject: Some(Descriptor {
            media_type: subject_descriptor.media_type.clone(),
            digest: subject_descriptor.digest.clone(),
            size: subject_descriptor.size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }),
        annotations: annotations.clone(),
    };
    let bytes = to_json(&manifest, "the artifact manifest")?;
    let digest = sha256_digest(&bytes);
    let size = bytes.len() as u64;
    let pushed = registry
        .push_manifest(
            &with_digest(subject, &digest),
            bytes,
            media_type::OCI_MANIFEST,
        )
        .await?;
    let descriptor = Descriptor {
        media_type: media_type::OCI_MANIFEST.to_owned(),
        digest: pushed.digest.clone(),
        size,
        urls: Vec::new(),
        annotations,
        platform: None,
        artifact_type: Some(media_type::SIGSTORE_BUNDLE_V03.to_owned()),
    };
    if pushed.oci_subject.is_some()
        || registry
            .referrers_api(subject, &subject_descriptor.digest)
            .await?
            .is_some()
    {
        return Ok(AttachOutcome {
            descriptor,
            store: ReferrersStore::ReferrersApi,
        });
    }
    let tag = digest_tag(&subject_descriptor.digest);
    add_to_referrers_tag(registry, subject, &tag, &descriptor, options).await?;
    Ok(AttachOutcome {
        descriptor,
        store: ReferrersStore::TagSchema { tag },
    })
}

/// Adds `descriptor` to the referrers tag schema index at `tag` (created when absent).
async fn add_to_referrers_tag(
    registry: &Registry,
    repository: &Reference,
    tag: &str,
    descriptor: &Descriptor,
    options: &AttachOptions,
) -> Result<(), RegistryError> {
    let present = |current: &FetchedManifest| -> Result<bool, RegistryError> {
        let index = read_index(current, tag)?;
        Ok(index
            .manifests
            .iter()
            .any(|d| d.digest == descriptor.digest))
    };
    let merge = |current: Option<&FetchedManifest>| -> Result<Merged, RegistryError> {
        let mut index = match current {
            Some(c) => read_index(c, tag)?,
            None => Index {
                schema_version: 2,
                media_type: Some(media_type::OCI_INDEX.to_owned()),
                artifact_type: None,
                manifests: Vec::new(),
                subject: None,
                annotations: BTreeMap::new(),
            },
        };
        index.manifests.push(descriptor.clone());
        Ok(Merged {
            bytes: to_json(&index, "the referrers index")?,
            media_type: media_type::OCI_INDEX.to_owned(),
            blobs: Vec::new(),
        })
    };
    update_tag(registry, repository, tag, options, present, merge).await
}

/// A legacy cosign signature to add to `sha256-<hex>.sig`.
#[derive(Debug, Clone)]
pub struct LegacySignature {
    /// The signed payload (cosign's simple-signing JSON), stored as the layer.
    pub payload: Vec<u8>,
    /// The base64 signature over the payload.
    pub signature_b64: String,
    /// The signing certificate (PEM), for keyless signatures.
    pub cert_pem: Option<String>,
    /// The chain to the root (PEM).
    pub chain_pem: Option<String>,
    /// The Rekor bundle (cosign's `{"SignedEntryTimestamp":..,"Payload":..}` JSON).
    pub rekor_bundle_json: Option<String>,
}

/// Appends a signature layer to cosign's `sha256-<hex>.sig` tag for `subject` (read, append,
/// write; see the module documentation for concurrent writers). Idempotent.
pub async fn attach_legacy_signature(
    registry: &Registry,
    subject: &Reference,
    signature: &LegacySignature,
    options: &AttachOptions,
) -> Result<LegacyOutcome, RegistryError> {
    let mut annotations = BTreeMap::new();
    annotations.insert(
        ANNOTATION_COSIGN_SIGNATURE.to_owned(),
        signature.signature_b64.clone(),
    );
    for (key, value) in [
        (ANNOTATION_COSIGN_CERTIFICATE, &signature.cert_pem),
        (ANNOTATION_COSIGN_CHAIN, &signature.chain_pem),
        (ANNOTATION_COSIGN_BUNDLE, &signature.rekor_bundle_json),
    ] {
        if let Some(value) = value {
            annotations.insert(key.to_owned(), value.clone());
        }
    }
    append_legacy_layer(
        registry,
        subject,
        "sig",
        media_type::COSIGN_SIMPLE_SIGNING,
        &signature.payload,
        annotations,
        options,
    )
    .await
}

/// Appends a DSSE envelope layer to cosign's `sha256-<hex>.att` tag for `subject`.
/// `annotations` are the layer's (cosign writes `predicateType` and the signing material
/// there); `dev.cosignproject.cosign/signature` is set to the empty string cosign writes when
/// absent. Idempotent.
pub async fn attach_legacy_attestation(
    registry: &Registry,
    subject: &Reference,
    dsse_envelope: &[u8],
    annotations: BTreeMap<String, String>,
    options: &AttachOptions,
) -> Result<LegacyOutcome, RegistryError> {
    let mut annotations = annotations;
    annotations
        .entry(ANNOTATION_COSIGN_SIGNATURE.to_owned())
        .or_default();
    append_legacy_layer(
        registry,
        subject,
        "att",
        media_type::DSSE_ENVELOPE,
        dsse_envelope,
        annotations,
        options,
    )
    .await
}

async fn append_legacy_layer(
    registry: &Registry,
    subject: &Reference,
    suffix: &str,
    layer_media_type: &str,
    content: &[u8],
    annotations: BTreeMap<String, String>,
    options: &AttachOptions,
) -> Result<LegacyOutcome, RegistryError> {
    if content.len() > MAX_ATTACHMENT_BYTES {
        return Err(RegistryError::TooLarge {
            what: format!("the .{suffix} layer"),
            limit: MAX_ATTACHMENT_BYTES as u64,
        });
    }
    let subject_digest = match subject.digest() {
        Some(d) => d.to_owned(),
        None => registry.resolve(subject).await?,
    };
    let tag = format!("{}.{suffix}", digest_tag(&subject_digest));
    let mut layer = registry
        .push_blob(subject, layer_media_type, content.to_vec())
        .await?;
    layer.annotations = annotations;
    let same = |d: &Descriptor| d.digest == layer.digest && d.annotations == layer.annotations;
    let present = |current: &FetchedManifest| -> Result<bool, RegistryError> {
        Ok(read_manifest(current, &tag)?.layers.iter().any(same))
    };
    let merge = |current: Option<&FetchedManifest>| -> Result<Merged, RegistryError> {
        let mut layers = match current {
            Some(c) => read_manifest(c, &tag)?.layers,
            None => Vec::new(),
        };
        layers.push(layer.clone());
        let config_bytes = legacy_config(&layers)?;
        let config = Descriptor {
            media_type: media_type::OCI_CONFIG.to_owned(),
            digest: sha256_digest(&config_bytes),
            size: config_bytes.len() as u64,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        };
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        };
        Ok(Merged {
            bytes: to_json(&manifest, "the cosign manifest")?,
            media_type: media_type::OCI_MANIFEST.to_owned(),
            blobs: vec![(media_type::OCI_CONFIG.to_owned(), config_bytes)],
        })
    };
    let repository = with_tag(subject, &tag);
    update_tag(registry, &repository, &tag, options, present, merge).await?;
    Ok(LegacyOutcome { tag, layer })
}

/// The image configuration go-containerregistry gives cosign's signature images: no platform, a
/// zero time, one history entry and one diff ID per layer (layers are uncompressed).
fn legacy_config(layers: &[Descriptor]) -> Result<Vec<u8>, RegistryError> {
    let zero = "0001-01-01T00:00:00Z";
    let config = serde_json::json!({
        "architecture": "",
        "created": zero,
        "history": layers.iter().map(|_| serde_json::json!({"created": zero})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>(),
        },
        "config": {},
    });
    to_json(&config, "the cosign image configuration")
}

/// A new version of a tag's manifest, with blobs it needs pushed first.
struct Merged {
    bytes: Vec<u8>,
    media_type: String,
    blobs: Vec<(String, Vec<u8>)>,
}

/// An `If-Match` value no registry can have issued: a PUT with it tells whether the registry
/// checks `If-Match` at all (412) or ignores it (the write goes through, as an unconditional
/// write of what we meant to write anyway).
const CAS_PROBE_ETAG: &str = "\"vouch-probe-never-matches\"";

/// Read, merge, write, verify: see the module documentation.
async fn update_tag(
    registry: &Registry,
    repository: &Reference,
    tag: &str,
    options: &AttachOptions,
    present: impl Fn(&FetchedManifest) -> Result<bool, RegistryError>,
    merge: impl Fn(Option<&FetchedManifest>) -> Result<Merged, RegistryError>,
) -> Result<(), RegistryError> {
    let tag_ref = with_tag(repository, tag);
    let lock = if options.process_lock {
        Some(tag_lock(&format!(
            "{}/{}:{tag}",
            repository.resolve_registry(),
            repository.repository()
        )))
    } else {
        None
    };
    let _guard = match &lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    for attempt in 0..options.max_attempts {
        // distribution 2.8 answers 500 to a read that races a write of the same tag (its
        // filesystem driver replaces the tag link in place): retry such reads.
        let current = match registry.fetch_manifest_opt(&tag_ref).await {
            Ok(current) => current,
            Err(RegistryError::Status { status, .. })
                if status >= 500 && attempt + 1 < options.max_attempts =>
            {
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt + 1))).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        if let Some(current) = &current
            && present(current)?
        {
            return Ok(());
        }
        let merged = merge(current.as_ref())?;
        for (blob_type, blob) in merged.blobs {
            registry.push_blob(repository, &blob_type, blob).await?;
        }
        let etag = current.as_ref().and_then(|c| c.etag.clone());
        let support = registry.cas_support(repository);
        let if_match = match (support, &etag) {
            (CasSupport::Honoured, Some(etag)) => Some(etag.clone()),
            (CasSupport::Unknown, Some(_)) => Some(CAS_PROBE_ETAG.to_owned()),
            _ => None,
        };
        let outcome = registry
            .put_manifest(
                repository,
                tag,
                merged.bytes,
                &merged.media_type,
                if_match.as_deref(),
            )
            .await?;
        match (outcome, support, etag.is_some()) {
            (ConditionalPut::PreconditionFailed, CasSupport::Unknown, _) => {
                registry.set_cas_support(repository, CasSupport::Honoured);
            }
            (ConditionalPut::PreconditionFailed, _, _) => {
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1))).await;
            }
            (ConditionalPut::Done(_), CasSupport::Honoured, true) => return Ok(()),
            (ConditionalPut::Done(_), support, _) => {
                if support == CasSupport::Unknown && etag.is_some() {
                    registry.set_cas_support(repository, CasSupport::Ignored);
                }
                // No compare-and-swap: see whether the write survives concurrent writers; the
                // next round's read answers that.
                tokio::time::sleep(options.settle).await;
            }
        }
    }
    Err(RegistryError::ConcurrentUpdate {
        tag: tag.to_owned(),
        attempts: options.max_attempts,
    })
}

/// The process-wide lock of one tag.
fn tag_lock(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let locks = LOCKS.get_or_init(|| Mutex::new(HashMap::new()));
    match locks.lock() {
        Ok(mut map) => map.entry(key.to_owned()).or_default().clone(),
        // A poisoned map only means another thread panicked while inserting; a fresh lock
        // still serialises everyone who gets it from here on.
        Err(poisoned) => poisoned
            .into_inner()
            .entry(key.to_owned())
            .or_default()
            .clone(),
    }
}

fn read_index(current: &FetchedManifest, tag: &str) -> Result<Index, RegistryError> {
    match current.parse() {
        Ok(AnyManifest::Index(index)) => Ok(index),
        Ok(AnyManifest::Manifest(_)) => Err(RegistryError::UnexpectedTagContent {
            tag: tag.to_owned(),
            expected: "a referrers index",
            found: "an image manifest".to_owned(),
        }),
        Err(e) => Err(RegistryError::UnexpectedTagContent {
            tag: tag.to_owned(),
            expected: "a referrers index",
            found: e.to_string(),
        }),
    }
}

fn read_manifest(current: &FetchedManifest, tag: &str) -> Result<Manifest, RegistryError> {
    match current.parse() {
        Ok(AnyManifest::Manifest(manifest)) => Ok(manifest),
        Ok(AnyManifest::Index(_)) => Err(RegistryError::UnexpectedTagContent {
            tag: tag.to_owned(),
            expected: "a cosign signature manifest",
            found: "an index".to_owned(),
        }),
        Err(e) => Err(RegistryError::UnexpectedTagContent {
            tag: tag.to_owned(),
            expected: "a cosign signature manifest",
            found: e.to_string(),
        }),
    }
}

fn to_json(value: &impl serde::Serialize, what: &str) -> Result<Vec<u8>, RegistryError> {
    serde_json::to_vec(value).map_err(|source| RegistryError::Json {
        what: what.to_owned(),
        source,
    })
}

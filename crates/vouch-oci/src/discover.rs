//! What is attached to an image, over the three layouts signatures and attestations live in:
//!
//! 1. the OCI 1.1 referrers API (`GET /v2/<name>/referrers/<digest>`,
//!    <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers>);
//! 2. the referrers tag schema, the index at tag `sha256-<hex>`, read when the registry has no
//!    referrers API
//!    (<https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema>);
//! 3. cosign's legacy `sha256-<hex>.sig` and `sha256-<hex>.att` tags, one item per layer
//!    (<https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md>).

use oci_client::Reference;

use crate::client::{Registry, with_digest, with_tag};
use crate::digest::digest_tag;
use crate::error::RegistryError;
use crate::model::{AnyManifest, Descriptor, is_valid_digest, media_type};

/// Where an attached item was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layout {
    /// Listed by the registry's referrers API.
    ReferrersApi,
    /// Listed in the referrers tag schema index.
    ReferrersTagSchema,
    /// A layer of cosign's `.sig` tag.
    CosignSignature,
    /// A layer of cosign's `.att` tag.
    CosignAttestation,
}

impl Layout {
    /// A short stable name (`referrers-api`, `referrers-tag`, `cosign-sig`, `cosign-att`).
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::ReferrersApi => "referrers-api",
            Layout::ReferrersTagSchema => "referrers-tag",
            Layout::CosignSignature => "cosign-sig",
            Layout::CosignAttestation => "cosign-att",
        }
    }
}

/// One signature, attestation or other artifact attached to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// Where it was found.
    pub layout: Layout,
    /// The artifact type: the referrer's `artifactType`, or the cosign layer's media type.
    pub artifact_type: Option<String>,
    /// For referrers, the artifact manifest's descriptor (with the index's annotations); for
    /// cosign layouts, the layer's descriptor (with cosign's annotations).
    pub descriptor: Descriptor,
    /// For cosign layouts, the tag that holds the layer.
    pub tag: Option<String>,
}

/// A subject with what is attached to it, and for an index, to each of its manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// The manifest or index.
    pub subject: Descriptor,
    /// What is attached to it.
    pub attached: Vec<Attached>,
    /// For an index: each manifest it lists, with what is attached to that.
    pub children: Vec<Tree>,
}

/// The largest attached document [`fetch_attached`] reads.
pub const MAX_ATTACHED_BYTES: u64 = 16 * 1024 * 1024;

/// Everything attached to `subject_digest` in `repository`'s repository, over all three
/// layouts, in a stable order (layout, then the order the registry listed them).
pub async fn discover(
    registry: &Registry,
    repository: &Reference,
    subject_digest: &str,
) -> Result<Vec<Attached>, RegistryError> {
    if !is_valid_digest(subject_digest) {
        return Err(RegistryError::InvalidDigest(subject_digest.to_owned()));
    }
    let mut out = Vec::new();
    let tag = digest_tag(subject_digest);
    let (layout, index) = match registry.referrers_api(repository, subject_digest).await? {
        Some(index) => (Layout::ReferrersApi, Some(index)),
        None => {
            let found = registry
                .fetch_manifest_opt(&with_tag(repository, &tag))
                .await?;
            let index = match found.map(|f| f.parse()) {
                Some(Ok(AnyManifest::Index(index))) => Some(index),
                Some(Ok(AnyManifest::Manifest(_))) => {
                    return Err(RegistryError::UnexpectedTagContent {
                        tag,
                        expected: "a referrers index",
                        found: "an image manifest".to_owned(),
                    });
                }
                Some(Err(e)) => {
                    return Err(RegistryError::UnexpectedTagContent {
                        tag,
                        expected: "a referrers index",
                        found: e.to_string(),
                    });
                }
                None => None,
            };
            (Layout::ReferrersTagSchema, index)
        }
    };
    for descriptor in index.into_iter().flat_map(|i| i.manifests) {
        let artifact_type = match descriptor.artifact_type.as_deref() {
            Some(t) if t != media_type::OCI_EMPTY => Some(t.to_owned()),
            _ => artifact_type_of(registry, repository, &descriptor).await,
        };
        out.push(Attached {
            layout,
            artifact_type,
            descriptor,
            tag: None,
        });
    }
    for (suffix, layout) in [
        ("sig", Layout::CosignSignature),
        ("att", Layout::CosignAttestation),
    ] {
        let legacy_tag = format!("{tag}.{suffix}");
        let Some(found) = registry
            .fetch_manifest_opt(&with_tag(repository, &legacy_tag))
            .await?
        else {
            continue;
        };
        let manifest = match found.parse() {
            Ok(AnyManifest::Manifest(m)) => m,
            Ok(AnyManifest::Index(_)) => {
                return Err(RegistryError::UnexpectedTagContent {
                    tag: legacy_tag,
                    expected: "a cosign signature manifest",
                    found: "an index".to_owned(),
                });
            }
            Err(e) => {
                return Err(RegistryError::UnexpectedTagContent {
                    tag: legacy_tag,
                    expected: "a cosign signature manifest",
                    found: e.to_string(),
                });
            }
        };
        for layer in manifest.layers {
            out.push(Attached {
                layout,
                artifact_type: Some(layer.media_type.clone()),
                descriptor: layer,
                tag: Some(legacy_tag.clone()),
            });
        }
    }
    Ok(out)
}

/// What a referrer is, from its own manifest, when its entry in the referrers list says nothing
/// useful: go-containerregistry (which cosign pushes with) writes the referrers tag schema's
/// entry with the config's media type, the empty descriptor's, where the manifest's
/// `artifactType` names the artifact (OCI 1.1: `artifactType`, else the config's media type).
/// The entry's own value when the manifest cannot be read or is no image manifest.
async fn artifact_type_of(
    registry: &Registry,
    repository: &Reference,
    descriptor: &Descriptor,
) -> Option<String> {
    let fetched = registry
        .fetch_manifest(&with_digest(repository, &descriptor.digest))
        .await
        .ok();
    match fetched.map(|f| f.parse()) {
        Some(Ok(AnyManifest::Manifest(m))) => m
            .artifact_type
            .or_else(|| Some(m.config.media_type).filter(|t| t != media_type::OCI_EMPTY))
            .or_else(|| descriptor.artifact_type.clone()),
        _ => descriptor.artifact_type.clone(),
    }
}

/// The bytes of an attached item: for a referrer, its first layer (the Sigstore bundle, for
/// bundle artifacts); for a cosign layer, the layer (payload or DSSE envelope). Digests are
/// checked on the way.
pub async fn fetch_attached(
    registry: &Registry,
    repository: &Reference,
    attached: &Attached,
) -> Result<Vec<u8>, RegistryError> {
    let layer = match attached.layout {
        Layout::CosignSignature | Layout::CosignAttestation => attached.descriptor.clone(),
        Layout::ReferrersApi | Layout::ReferrersTagSchema => {
            let manifest_ref = with_digest(repository, &attached.descriptor.digest);
            let fetched = registry.fetch_manifest(&manifest_ref).await?;
            let manifest = match fetched.parse() {
                Ok(AnyManifest::Manifest(m)) => m,
                Ok(AnyManifest::Index(_)) => {
                    return Err(RegistryError::UnexpectedKind {
                        reference: manifest_ref.to_string(),
                        expected: "an artifact manifest",
                        found: "an index",
                    });
                }
                Err(source) => {
                    return Err(RegistryError::Manifest {
                        reference: manifest_ref.to_string(),
                        source,
                    });
                }
            };
            let preferred = manifest
                .layers
                .iter()
                .find(|l| l.media_type == media_type::SIGSTORE_BUNDLE_V03)
                .or(manifest.layers.first());
            match preferred {
                Some(l) => l.clone(),
                None => {
                    return Err(RegistryError::UnexpectedKind {
                        reference: manifest_ref.to_string(),
                        expected: "an artifact manifest with a layer",
                        found: "a manifest without layers",
                    });
                }
            }
        }
    };
    registry
        .fetch_blob(repository, &layer, MAX_ATTACHED_BYTES)
        .await
}

/// `reference` with what is attached to it; for an index, also to each manifest it lists (the
/// data of `vouch tree IMAGE`).
pub async fn tree(registry: &Registry, reference: &Reference) -> Result<Tree, RegistryError> {
    let top = registry.fetch_manifest(reference).await?;
    let attached = discover(registry, reference, &top.digest).await?;
    let mut children = Vec::new();
    if let Ok(AnyManifest::Index(index)) = top.parse() {
        for entry in index.manifests {
            let attached = discover(registry, reference, &entry.digest).await?;
            children.push(Tree {
                subject: entry,
                attached,
                children: Vec::new(),
            });
        }
    }
    Ok(Tree {
        subject: top.descriptor(),
        attached,
        children,
    })
}

//! Pushing an OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) to a
//! registry: how tests put images into a throwaway registry.
//!
//! Specification: <https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md>.

use std::path::Path;

use oci_client::Reference;

use crate::client::{Registry, with_digest, with_tag};
use crate::digest::sha256_digest;
use crate::error::RegistryError;
use crate::model::{AnyManifest, Descriptor, Index, MAX_MANIFEST_BYTES, is_valid_digest};

/// The annotation that names a manifest in a layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The largest blob read from a layout (blobs are read whole).
pub const MAX_LAYOUT_BLOB_BYTES: u64 = 1024 * 1024 * 1024;

/// Pushes the image of layout `dir` to `target` (a repository and tag) and returns the pushed
/// manifest's (or index's) digest. The image is the one `index.json` names `ref_name`
/// (`org.opencontainers.image.ref.name`), or its only entry when `ref_name` is `None`. Every
/// blob and manifest is checked against its digest before it is sent.
pub async fn push_layout(
    registry: &Registry,
    dir: &Path,
    target: &Reference,
    ref_name: Option<&str>,
) -> Result<String, RegistryError> {
    let index_bytes = fs_err::read(dir.join("index.json"))?;
    let index: Index =
        serde_json::from_slice(&index_bytes).map_err(|source| RegistryError::Json {
            what: format!("{}", dir.join("index.json").display()),
            source,
        })?;
    let chosen: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| match ref_name {
            Some(name) => d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) == Some(name),
            None => true,
        })
        .collect();
    let [descriptor] = chosen.as_slice() else {
        return Err(RegistryError::Reference {
            reference: format!("{}", dir.display()),
            reason: format!(
                "the layout's index.json lists {} images{}; name one",
                chosen.len(),
                ref_name
                    .map(|n| format!(" named `{n}`"))
                    .unwrap_or_default()
            ),
        });
    };
    push_manifest_tree(registry, dir, target, descriptor).await?;
    let bytes = read_blob(dir, descriptor, MAX_MANIFEST_BYTES as u64)?;
    let tag = target.tag().unwrap_or("latest");
    registry
        .push_manifest(&with_tag(target, tag), bytes, &descriptor.media_type)
        .await?;
    Ok(descriptor.digest.clone())
}

/// Pushes a manifest's blobs (or an index's manifests, recursively) and then the manifest by
/// digest.
async fn push_manifest_tree(
    registry: &Registry,
    dir: &Path,
    target: &Reference,
    descriptor: &Descriptor,
) -> Result<(), RegistryError> {
    let bytes = read_blob(dir, descriptor, MAX_MANIFEST_BYTES as u64)?;
    let parsed = AnyManifest::parse(&bytes, Some(&descriptor.media_type)).map_err(|source| {
        RegistryError::Manifest {
            reference: format!("{} in {}", descriptor.digest, dir.display()),
            source,
        }
    })?;
    match parsed {
        AnyManifest::Index(index) => {
            for child in &index.manifests {
                Box::pin(push_manifest_tree(registry, dir, target, child)).await?;
            }
        }
        AnyManifest::Manifest(manifest) => {
            for blob in std::iter::once(&manifest.config).chain(&manifest.layers) {
                let data = read_blob(dir, blob, MAX_LAYOUT_BLOB_BYTES)?;
                registry.push_blob(target, &blob.media_type, data).await?;
            }
        }
    }
    registry
        .push_manifest(
            &with_digest(target, &descriptor.digest),
            bytes,
            &descriptor.media_type,
        )
        .await?;
    Ok(())
}

fn read_blob(dir: &Path, descriptor: &Descriptor, limit: u64) -> Result<Vec<u8>, RegistryError> {
    if !is_valid_digest(&descriptor.digest) || !descriptor.digest.starts_with("sha256:") {
        return Err(RegistryError::InvalidDigest(descriptor.digest.clone()));
    }
    if descriptor.size > limit {
        return Err(RegistryError::TooLarge {
            what: format!("blob {}", descriptor.digest),
            limit,
        });
    }
    let (alg, hex) = descriptor
        .digest
        .split_once(':')
        .ok_or_else(|| RegistryError::InvalidDigest(descriptor.digest.clone()))?;
    let bytes = fs_err::read(dir.join("blobs").join(alg).join(hex))?;
    let found = sha256_digest(&bytes);
    if found != descriptor.digest {
        return Err(RegistryError::DigestMismatch {
            what: format!("layout blob {}", descriptor.digest),
            expected: descriptor.digest.clone(),
            found,
        });
    }
    if bytes.len() as u64 != descriptor.size {
        return Err(RegistryError::SizeMismatch {
            digest: descriptor.digest.clone(),
            expected: descriptor.size,
            found: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

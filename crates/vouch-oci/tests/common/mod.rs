//! Shared helpers of the registry tests: a throwaway registry and hand-built images.

#![allow(dead_code)]

pub mod token_service;

use std::collections::BTreeMap;

use vouch_oci::Reference;
use vouch_oci::client::{Registry, with_tag};
use vouch_oci::model::{Descriptor, Manifest, Platform, media_type};
use vouch_oci::testing::{TestRegistry, TestRegistryError};

/// Starts a registry, or prints why the test is skipped and returns `None`.
pub fn start_registry() -> Option<TestRegistry> {
    match TestRegistry::start() {
        Ok(r) => Some(r),
        Err(e @ TestRegistryError::Missing { .. }) => {
            eprintln!("{e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// A small image pushed to `reference`'s tag.
pub struct TestImage {
    pub manifest: Manifest,
    pub digest: String,
    pub size: u64,
    pub layer: Vec<u8>,
}

/// Pushes a one-layer image for `platform` (config, layer, manifest) to `reference`'s tag.
pub async fn push_image(
    registry: &Registry,
    reference: &Reference,
    platform: &Platform,
    layer_text: &str,
) -> TestImage {
    let layer = format!("layer contents: {layer_text}\n").into_bytes();
    let layer_desc = registry
        .push_blob(reference, media_type::OCI_LAYER_TAR, layer.clone())
        .await
        .unwrap();
    let config = serde_json::json!({
        "architecture": platform.architecture,
        "os": platform.os,
        "rootfs": {"type": "layers", "diff_ids": [layer_desc.digest]},
        "config": {"Labels": {"test": layer_text}},
    });
    let config_desc = registry
        .push_blob(
            reference,
            media_type::OCI_CONFIG,
            serde_json::to_vec(&config).unwrap(),
        )
        .await
        .unwrap();
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: config_desc,
        layers: vec![layer_desc],
        subject: None,
        annotations: BTreeMap::new(),
    };
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let size = bytes.len() as u64;
    let pushed = registry
        .push_manifest(reference, bytes, media_type::OCI_MANIFEST)
        .await
        .unwrap();
    TestImage {
        manifest,
        digest: pushed.digest,
        size,
        layer,
    }
}

/// A descriptor of a pushed image, for an index.
pub fn image_descriptor(image: &TestImage, platform: Option<Platform>) -> Descriptor {
    Descriptor {
        media_type: media_type::OCI_MANIFEST.to_owned(),
        digest: image.digest.clone(),
        size: image.size,
        urls: Vec::new(),
        annotations: BTreeMap::new(),
        platform,
        artifact_type: None,
    }
}

/// `repository:tag` on the same registry.
pub fn tagged(reference: &Reference, tag: &str) -> Reference {
    with_tag(reference, tag)
}

/// A fake Sigstore bundle: only its bytes matter to the registry layer.
pub fn fake_bundle(n: usize) -> Vec<u8> {
    format!(r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","test":{n}}}"#)
        .into_bytes()
}

//! Fuzzes the OCI manifest, index and image configuration readers: any bytes give a value or
//! an error, never a panic, and a manifest or index vouch reads is written back to one that
//! reads the same.
//!
//! The first byte chooses the media type the transport states (its value modulo the number of
//! [`MEDIA_TYPES`]): none, a generic one, or one of `vouch_oci::model::media_type`. The rest is
//! the document, read as a manifest or index and as an image configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_oci::model::{AnyManifest, Compression, ImageConfig, Platform, media_type};

/// The order is part of the seed corpus's format (each seed's first byte indexes it), so add
/// at the end only.
const MEDIA_TYPES: &[Option<&str>] = &[
    None,
    Some(media_type::OCI_MANIFEST),
    Some(media_type::OCI_INDEX),
    Some(media_type::DOCKER_MANIFEST),
    Some(media_type::DOCKER_MANIFEST_LIST),
    Some(media_type::OCI_CONFIG),
    Some(media_type::OCI_EMPTY),
    Some(media_type::OCI_LAYER_TAR),
    Some(media_type::OCI_LAYER_GZIP),
    Some(media_type::OCI_LAYER_ZSTD),
    Some(media_type::DOCKER_CONFIG),
    Some(media_type::DOCKER_LAYER_GZIP),
    Some(media_type::DOCKER_LAYER_FOREIGN_GZIP),
    Some(media_type::SIGSTORE_BUNDLE_V03),
    Some(media_type::COSIGN_SIMPLE_SIGNING),
    Some(media_type::DSSE_ENVELOPE),
    Some("application/json"),
    Some(""),
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, doc)) = data.split_first() else {
        return;
    };
    let Some(&declared) = MEDIA_TYPES.get(usize::from(choice) % MEDIA_TYPES.len()) else {
        return;
    };
    if let Ok(parsed) = AnyManifest::parse(doc, declared) {
        // What vouch writes (pushing a layout, attaching a referrer) it must read back as is.
        let written = match &parsed {
            AnyManifest::Manifest(m) => serde_json::to_vec(m),
            AnyManifest::Index(i) => serde_json::to_vec(i),
        }
        .expect("a parsed manifest serialises");
        let reread = AnyManifest::parse(&written, declared).expect("a written manifest reads");
        assert_eq!(parsed, reread, "manifest round trip changed it");
        let descriptors = match &parsed {
            AnyManifest::Manifest(m) => m.layers.iter().chain([&m.config]).collect::<Vec<_>>(),
            AnyManifest::Index(i) => i.manifests.iter().collect(),
        };
        for d in descriptors {
            std::hint::black_box(Compression::of_layer(&d.media_type));
            std::hint::black_box(vouch_oci::model::is_valid_digest(&d.digest));
        }
    }
    if let Ok(config) = serde_json::from_slice::<ImageConfig>(doc) {
        let platform = config.platform();
        std::hint::black_box(platform.matches(&platform));
    }
    if let Ok(text) = std::str::from_utf8(doc) {
        if let Ok(platform) = Platform::parse(text) {
            assert!(platform.matches(&platform), "a platform does not match itself: {text}");
        }
    }
});

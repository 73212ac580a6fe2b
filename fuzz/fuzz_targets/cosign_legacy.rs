//! Fuzzes cosign's legacy signature formats: any bytes, as a legacy `.sig`/`.att` layer and its
//! annotations, as a simple signing payload, or as a bundle to store in the legacy layout, give
//! a value or an error, never a panic.
//!
//! The input is read as JSON `{"content": "…", "annotations": {"name": "value"}, "dsse": bool}`
//! (the seed corpus's form, which keeps annotation values whole under mutation); anything else
//! is split on NUL bytes: a flag byte (bit 0: a DSSE `.att` layer), the layer's content, then
//! the values of the annotations in [`ANNOTATIONS`] order. The whole input is also read as a
//! simple signing payload and as a bundle for `legacy_layer_from_bundle`, whose result is
//! converted back.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use vouch_sigstore::cosign::{
    LegacyLayer, annotation, bundle_from_legacy_layer, legacy_layer_from_bundle,
    parse_simple_signing,
};

/// The annotations a legacy layer carries, in the order the raw form gives their values.
const ANNOTATIONS: [&str; 5] = [
    annotation::SIGNATURE,
    annotation::CERTIFICATE,
    annotation::CHAIN,
    annotation::REKOR_BUNDLE,
    annotation::RFC3161_TIMESTAMP,
];

#[derive(Deserialize)]
struct Structured {
    #[serde(default)]
    content: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    dsse: bool,
}

fn layer_of(data: &[u8]) -> (LegacyLayer, bool) {
    if let Ok(s) = serde_json::from_slice::<Structured>(data) {
        let layer = LegacyLayer {
            content: s.content.into_bytes(),
            annotations: s.annotations,
        };
        return (layer, s.dsse);
    }
    let mut parts = data.split(|&b| b == 0);
    let dsse = parts
        .next()
        .and_then(|flags| flags.first())
        .is_some_and(|f| f & 1 == 1);
    let content = parts.next().unwrap_or_default().to_vec();
    let annotations = ANNOTATIONS
        .iter()
        .zip(parts)
        .map(|(name, value)| ((*name).to_owned(), String::from_utf8_lossy(value).into_owned()))
        .collect();
    (
        LegacyLayer {
            content,
            annotations,
        },
        dsse,
    )
}

fuzz_target!(|data: &[u8]| {
    let (layer, dsse) = layer_of(data);
    if let Ok(bundle) = bundle_from_legacy_layer(&layer, dsse) {
        // What the conversion builds must be JSON the bundle verifier can be handed.
        serde_json::from_slice::<serde_json::Value>(&bundle).expect("rebuilt bundle is JSON");
    }

    if let Ok(signing) = parse_simple_signing(data) {
        std::hint::black_box(signing);
    }

    if let Ok(legacy) = legacy_layer_from_bundle(data, b"payload") {
        let dsse = legacy.content != b"payload";
        let _ = bundle_from_legacy_layer(&legacy, dsse);
    }
});

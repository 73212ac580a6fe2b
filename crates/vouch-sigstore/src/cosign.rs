//! cosign's image signature formats, and their conversion to and from Sigstore bundles.
//!
//! cosign v3 signs an image with a DSSE envelope around an in-toto Statement v1 whose subject
//! is the image manifest's digest and whose predicate type is [`SIGN_PREDICATE_TYPE`], stored
//! as a Sigstore bundle in an OCI 1.1 referrer. Older cosign releases store signatures under a
//! `sha256-<hex>.sig` tag instead: each layer is a "simple signing" payload
//! (<https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md>) signed as a plain
//! message, with the signature, certificate, chain and Rekor entry in layer annotations;
//! attestations go under `sha256-<hex>.att`, one DSSE envelope per layer, annotated the same way.
//!
//! vouch verifies every layout with one verifier, so a legacy layer is turned into a bundle
//! (v0.1: a transparency log entry with its signed entry timestamp and no inclusion proof,
//! which is all the legacy annotation carries) and verified like any other.

// `serde_json::Value` indexing by key or position returns `Null` for a missing member instead
// of panicking, and the two assignments by key below are to objects built here with `json!`,
// so the lint's concern does not apply; reading nested bundle fields this way stays legible.
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::key::{pem_decode, pem_encode};

/// The predicate type of a cosign v3 image signature.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// The `type` of a simple signing payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// Annotation names of cosign's legacy `.sig` and `.att` layers.
pub mod annotation {
    /// The base64 signature over the layer (simple signing payload).
    pub const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
    /// The signing certificate, PEM.
    pub const CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
    /// The certificate chain, PEM.
    pub const CHAIN: &str = "dev.sigstore.cosign/chain";
    /// The Rekor entry: `{"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex, logID}}`.
    pub const REKOR_BUNDLE: &str = "dev.sigstore.cosign/bundle";
    /// An RFC 3161 timestamp: `{"SignedRFC3161Timestamp": base64}`.
    pub const RFC3161_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
}

/// Annotations of a Sigstore bundle stored as an OCI 1.1 referrer, as cosign v3 and GitHub's
/// attest action write them.
pub mod bundle_annotation {
    /// `message-signature` or `dsse-envelope`.
    pub const CONTENT: &str = "dev.sigstore.bundle.content";
    /// The in-toto predicate type of a DSSE bundle.
    pub const PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
}

/// The simple signing payload cosign signs for an image: `docker_reference` is the repository
/// (`registry/name`), `manifest_digest` the image manifest's `sha256:…` digest.
pub fn simple_signing_payload(docker_reference: &str, manifest_digest: &str) -> Vec<u8> {
    let payload = json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": SIMPLE_SIGNING_TYPE,
        },
        "optional": Value::Null,
    });
    // A `Value` always serialises.
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// The image a simple signing payload names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
}

/// Reads a simple signing payload, refusing any other `critical.type`.
pub fn parse_simple_signing(payload: &[u8]) -> Result<SimpleSigning, CosignError> {
    #[derive(Deserialize)]
    struct Payload {
        critical: Critical,
    }
    #[derive(Deserialize)]
    struct Critical {
        identity: Identity,
        image: Image,
        #[serde(rename = "type")]
        ty: String,
    }
    #[derive(Deserialize)]
    struct Identity {
        #[serde(rename = "docker-reference", default)]
        docker_reference: String,
    }
    #[derive(Deserialize)]
    struct Image {
        #[serde(rename = "docker-manifest-digest")]
        manifest_digest: String,
    }
    let p: Payload = serde_json::from_slice(payload)
        .map_err(|e| CosignError::Malformed(format!("simple signing payload: {e}")))?;
    if p.critical.ty != SIMPLE_SIGNING_TYPE {
        return Err(CosignError::Malformed(format!(
            "simple signing payload of type `{}` (expected `{SIMPLE_SIGNING_TYPE}`)",
            p.critical.ty
        )));
    }
    Ok(SimpleSigning {
        docker_reference: p.critical.identity.docker_reference,
        manifest_digest: p.critical.image.manifest_digest,
    })
}

/// A legacy cosign signature or attestation layer: its bytes and the annotations that carry
/// the verification material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyLayer {
    /// The layer's bytes: a simple signing payload (`.sig`) or a DSSE envelope (`.att`).
    pub content: Vec<u8>,
    /// The layer's annotations ([`annotation`]).
    pub annotations: BTreeMap<String, String>,
}

/// A conversion between formats that could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CosignError {
    /// The input is not of the documented shape.
    #[error("malformed cosign signature material: {0}")]
    Malformed(String),
    /// The bundle cannot be expressed in the legacy layout.
    #[error("this bundle cannot be stored in cosign's legacy layout: {0}")]
    NotRepresentable(String),
}

fn malformed(what: impl Into<String>) -> CosignError {
    CosignError::Malformed(what.into())
}

/// Turns a bundle signed by vouch (message signature over a simple signing payload, or DSSE
/// envelope) into a legacy layer. The legacy annotation holds a Rekor v1 entry with its signed
/// entry timestamp, so bundles logged in Rekor v2 (which has none) cannot be converted.
pub fn legacy_layer_from_bundle(
    bundle_json: &[u8],
    payload: &[u8],
) -> Result<LegacyLayer, CosignError> {
    let bundle: Value =
        serde_json::from_slice(bundle_json).map_err(|e| malformed(format!("bundle: {e}")))?;
    let material = &bundle["verificationMaterial"];
    let cert_der = material["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .ok_or_else(|| {
            CosignError::NotRepresentable(
                "no signing certificate (key-based bundles carry no certificate)".into(),
            )
        })?;
    let cert_der = STANDARD
        .decode(cert_der)
        .map_err(|e| malformed(format!("certificate: {e}")))?;
    let mut annotations = BTreeMap::new();
    annotations.insert(
        annotation::CERTIFICATE.to_owned(),
        pem_encode("CERTIFICATE", &cert_der),
    );
    annotations.insert(annotation::CHAIN.to_owned(), String::new());

    let entry = &material["tlogEntries"][0];
    let set = entry["inclusionPromise"]["signedEntryTimestamp"]
        .as_str()
        .ok_or_else(|| {
            CosignError::NotRepresentable(
                "the log entry has no signed entry timestamp (Rekor v2); sign with --rekor-version 1"
                    .into(),
            )
        })?;
    let log_id = STANDARD
        .decode(entry["logId"]["keyId"].as_str().unwrap_or_default())
        .map_err(|e| malformed(format!("logId: {e}")))?;
    let number = |v: &Value, what: &str| -> Result<i64, CosignError> {
        v.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_i64())
            .ok_or_else(|| malformed(format!("log entry {what}")))
    };
    let rekor = json!({
        "SignedEntryTimestamp": set,
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": number(&entry["integratedTime"], "integratedTime")?,
            "logIndex": number(&entry["logIndex"], "logIndex")?,
            "logID": hex(&log_id),
        }
    });
    annotations.insert(annotation::REKOR_BUNDLE.to_owned(), rekor.to_string());
    if let Some(ts) =
        material["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"].as_str()
    {
        annotations.insert(
            annotation::RFC3161_TIMESTAMP.to_owned(),
            json!({ "SignedRFC3161Timestamp": ts }).to_string(),
        );
    }

    let content = if let Some(sig) = bundle["messageSignature"]["signature"].as_str() {
        annotations.insert(annotation::SIGNATURE.to_owned(), sig.to_owned());
        payload.to_vec()
    } else if bundle["dsseEnvelope"].is_object() {
        annotations.insert(annotation::SIGNATURE.to_owned(), String::new());
        serde_json::to_vec(&bundle["dsseEnvelope"]).map_err(|e| malformed(e.to_string()))?
    } else {
        return Err(malformed(
            "bundle has neither messageSignature nor dsseEnvelope",
        ));
    };
    Ok(LegacyLayer {
        content,
        annotations,
    })
}

/// Rebuilds a Sigstore bundle (v0.1: certificate chain, log entry with its signed entry
/// timestamp) from a legacy layer, so that the bundle verifier can check it. For a `.sig`
/// layer the bundle is a message signature over the layer's bytes (the simple signing
/// payload); for a `.att` layer it carries the layer's DSSE envelope.
pub fn bundle_from_legacy_layer(layer: &LegacyLayer, dsse: bool) -> Result<Vec<u8>, CosignError> {
    let get = |name: &str| layer.annotations.get(name).map(String::as_str);
    let cert_pem = get(annotation::CERTIFICATE)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| malformed(format!("annotation `{}` missing", annotation::CERTIFICATE)))?;
    let mut certificates = Vec::new();
    for pem in pem_blocks(cert_pem).chain(pem_blocks(get(annotation::CHAIN).unwrap_or(""))) {
        let (label, der) = pem_decode(pem.as_bytes()).map_err(malformed)?;
        if label != "CERTIFICATE" {
            return Err(malformed(format!(
                "PEM block `{label}` where a certificate belongs"
            )));
        }
        certificates.push(json!({ "rawBytes": STANDARD.encode(der) }));
    }
    let rekor = get(annotation::REKOR_BUNDLE)
        .ok_or_else(|| malformed(format!("annotation `{}` missing", annotation::REKOR_BUNDLE)))?;
    let rekor: Value =
        serde_json::from_str(rekor).map_err(|e| malformed(format!("Rekor bundle: {e}")))?;
    let body_b64 = rekor["Payload"]["body"]
        .as_str()
        .ok_or_else(|| malformed("Rekor bundle has no Payload.body"))?;
    let body = STANDARD
        .decode(body_b64)
        .map_err(|e| malformed(format!("Rekor body: {e}")))?;
    let body: Value =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("Rekor body: {e}")))?;
    let log_id = unhex(rekor["Payload"]["logID"].as_str().unwrap_or_default())
        .ok_or_else(|| malformed("Rekor bundle logID is not hex"))?;
    let int = |v: &Value, what: &str| {
        v.as_i64()
            .map(|n| n.to_string())
            .ok_or_else(|| malformed(format!("Rekor bundle {what}")))
    };
    let entry = json!({
        "logIndex": int(&rekor["Payload"]["logIndex"], "logIndex")?,
        "logId": { "keyId": STANDARD.encode(log_id) },
        "kindVersion": { "kind": body["kind"], "version": body["apiVersion"] },
        "integratedTime": int(&rekor["Payload"]["integratedTime"], "integratedTime")?,
        "inclusionPromise": { "signedEntryTimestamp": rekor["SignedEntryTimestamp"] },
        "canonicalizedBody": body_b64,
    });
    let mut material = json!({
        "x509CertificateChain": { "certificates": certificates },
        "tlogEntries": [entry],
    });
    if let Some(ts) = get(annotation::RFC3161_TIMESTAMP) {
        let ts: Value =
            serde_json::from_str(ts).map_err(|e| malformed(format!("RFC 3161 timestamp: {e}")))?;
        material["timestampVerificationData"] = json!({
            "rfc3161Timestamps": [{ "signedTimestamp": ts["SignedRFC3161Timestamp"] }]
        });
    }
    let mut bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": material,
    });
    if dsse {
        let envelope: Value = serde_json::from_slice(&layer.content)
            .map_err(|e| malformed(format!("DSSE envelope: {e}")))?;
        bundle["dsseEnvelope"] = envelope;
    } else {
        let signature = get(annotation::SIGNATURE)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(format!("annotation `{}` missing", annotation::SIGNATURE)))?;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &layer.content);
        bundle["messageSignature"] = json!({
            "messageDigest": { "algorithm": "SHA2_256", "digest": STANDARD.encode(digest.as_ref()) },
            "signature": signature,
        });
    }
    serde_json::to_vec(&bundle).map_err(|e| malformed(e.to_string()))
}

/// The PEM blocks of a text, each from its BEGIN line to its END line.
fn pem_blocks(text: &str) -> PemBlocks<'_> {
    PemBlocks { rest: text }
}

struct PemBlocks<'a> {
    rest: &'a str,
}

impl<'a> Iterator for PemBlocks<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let begin = self.rest.find("-----BEGIN ")?;
        let after = self.rest.get(begin..)?;
        let end_tag = after.find("-----END ")?;
        let close = after.get(end_tag + 9..)?.find("-----")? + end_tag + 9 + 5;
        let block = after.get(..close)?;
        self.rest = after.get(close..).unwrap_or("");
        Some(block)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_signing_round_trip_and_type_check() {
        let payload = simple_signing_payload("registry.test/app", "sha256:abc");
        let parsed = parse_simple_signing(&payload).unwrap();
        assert_eq!(parsed.docker_reference, "registry.test/app");
        assert_eq!(parsed.manifest_digest, "sha256:abc");
        let other = br#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:1"},"type":"something else"}}"#;
        assert!(
            matches!(parse_simple_signing(other), Err(CosignError::Malformed(m)) if m.contains("something else"))
        );
    }

    #[test]
    fn pem_blocks_splits_concatenated_pem() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
        let blocks: Vec<&str> = pem_blocks(text).collect();
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("BBBB") && !blocks[1].contains("AAAA"));
        assert_eq!(pem_blocks("").count(), 0);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}

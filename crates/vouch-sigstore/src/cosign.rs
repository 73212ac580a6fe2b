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
///
/// An `.att` layer holds the DSSE envelope byte for byte as it was logged: cosign checks the
/// layer's SHA-256 against the log entry's envelope hash (`dsse` 0.0.1 `envelopeHash`), so the
/// envelope is written as the Sigstore crates wrote it to Rekor, and the hash is checked here
/// before anything is stored.
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
        let content = logged_envelope(&bundle["dsseEnvelope"])?;
        check_envelope_hash(entry, &content)?;
        content
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

/// The envelope of a bundle in the bytes the Sigstore crates sent to Rekor for a `dsse` entry
/// (`sigstore_rekor::DsseEntry`: the `sigstore_types` envelope serialised with `serde_json`).
fn logged_envelope(envelope: &Value) -> Result<Vec<u8>, CosignError> {
    let envelope: sigstore_types::DsseEnvelope = serde_json::from_value(envelope.clone())
        .map_err(|e| malformed(format!("DSSE envelope: {e}")))?;
    serde_json::to_vec(&envelope).map_err(|e| malformed(format!("DSSE envelope: {e}")))
}

/// Checks that `content` is the envelope a `dsse` 0.0.1 log entry hashed (`envelopeHash`), so
/// that cosign, which compares the two, accepts the layer. Other kinds carry no such hash.
fn check_envelope_hash(entry: &Value, content: &[u8]) -> Result<(), CosignError> {
    let body = entry["canonicalizedBody"]
        .as_str()
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .ok_or_else(|| malformed("the log entry has no readable canonicalizedBody"))?;
    if body["kind"] != "dsse" {
        return Ok(());
    }
    let logged = body["spec"]["envelopeHash"]["value"]
        .as_str()
        .ok_or_else(|| malformed("the dsse log entry has no spec.envelopeHash.value"))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, content);
    if hex(digest.as_ref()) != logged.to_ascii_lowercase() {
        return Err(CosignError::NotRepresentable(format!(
            "the envelope logged in Rekor (SHA-256 {logged}) is not the envelope in the bundle \
             as serialised for the layer (SHA-256 {}); cosign would refuse the layer",
            hex(digest.as_ref())
        )));
    }
    Ok(())
}

/// Rebuilds a Sigstore bundle (v0.1: certificate chain, log entry with its signed entry
/// timestamp) from a legacy layer, so that the bundle verifier can check it. For a `.sig`
/// layer the bundle is a message signature over the layer's bytes (the simple signing
/// payload); for a `.att` layer it carries the layer's DSSE envelope.
///
/// cosign writes Fulcio's whole chain into the chain annotation, root included. A bundle must
/// not carry a root (the verifier refuses one: trust anchors come from the trusted root only),
/// so self-signed certificates of the chain annotation are left out; the leaf and the
/// intermediates are kept. Nothing is trusted the less for it: a root in the layer was never a
/// trust anchor.
pub fn bundle_from_legacy_layer(layer: &LegacyLayer, dsse: bool) -> Result<Vec<u8>, CosignError> {
    let get = |name: &str| layer.annotations.get(name).map(String::as_str);
    let cert_pem = get(annotation::CERTIFICATE)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| malformed(format!("annotation `{}` missing", annotation::CERTIFICATE)))?;
    let mut certificates = Vec::new();
    let leaf = pem_blocks(cert_pem).map(|pem| (pem, true));
    let chain = pem_blocks(get(annotation::CHAIN).unwrap_or("")).map(|pem| (pem, false));
    for (pem, is_leaf) in leaf.chain(chain) {
        let (label, der) = pem_decode(pem.as_bytes()).map_err(malformed)?;
        if label != "CERTIFICATE" {
            return Err(malformed(format!(
                "PEM block `{label}` where a certificate belongs"
            )));
        }
        if !is_leaf && crate::verify::self_issued_subject(&der).is_some() {
            continue;
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

    /// A minimal Rekor v1 entry for a bundle: `body` as its canonicalized body.
    fn entry(body: &Value) -> Value {
        json!({
            "logIndex": "7",
            "logId": { "keyId": STANDARD.encode([1u8; 32]) },
            "kindVersion": { "kind": body["kind"], "version": body["apiVersion"] },
            "integratedTime": "1700000000",
            "inclusionPromise": { "signedEntryTimestamp": STANDARD.encode(b"set") },
            "canonicalizedBody": STANDARD.encode(body.to_string()),
        })
    }

    /// A DSSE bundle whose log entry is `body`.
    fn dsse_bundle(body: &Value) -> Vec<u8> {
        // Members in another order than the Sigstore crates write them, as a parser may keep them.
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": { "rawBytes": STANDARD.encode(b"not parsed here") },
                "tlogEntries": [entry(body)],
            },
            "dsseEnvelope": {
                "signatures": [{ "sig": STANDARD.encode(b"sig"), "keyid": "" }],
                "payloadType": "application/vnd.in-toto+json",
                "payload": STANDARD.encode(b"{}"),
            },
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn an_att_layer_holds_the_envelope_byte_for_byte_as_it_was_logged() {
        // What `sigstore_rekor::DsseEntry` sends as `proposedContent.envelope`.
        let logged = format!(
            r#"{{"payloadType":"application/vnd.in-toto+json","payload":"{}","signatures":[{{"sig":"{}"}}]}}"#,
            STANDARD.encode(b"{}"),
            STANDARD.encode(b"sig")
        );
        let sha = |b: &[u8]| hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b).as_ref());
        let body = |hash: &str| {
            json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": { "envelopeHash": { "algorithm": "sha256", "value": hash } },
            })
        };
        let layer =
            legacy_layer_from_bundle(&dsse_bundle(&body(&sha(logged.as_bytes()))), &[]).unwrap();
        assert_eq!(String::from_utf8(layer.content).unwrap(), logged);
        assert_eq!(layer.annotations[annotation::SIGNATURE], "");

        // An envelope that is not the one the log hashed is refused: cosign would refuse it.
        let other = sha(b"another envelope");
        match legacy_layer_from_bundle(&dsse_bundle(&body(&other)), &[]) {
            Err(CosignError::NotRepresentable(m)) => assert!(m.contains(&other), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_root_in_the_chain_annotation_is_left_out_of_the_bundle() {
        let state = tempfile::tempdir().unwrap();
        let ca =
            vouch_devstack::ca::Authorities::load_or_create(state.path(), 1_700_000_000).unwrap();
        let root = pem_encode("CERTIFICATE", &ca.fulcio_root.cert_der);
        let intermediate = pem_encode("CERTIFICATE", &ca.fulcio_intermediate.cert_der);
        // Which certificate stands in for the leaf does not matter to the conversion.
        let leaf = pem_encode("CERTIFICATE", &ca.tsa_leaf.cert_der);
        let body = json!({ "apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {} });
        let e = entry(&body);
        let rekor = json!({
            "SignedEntryTimestamp": e["inclusionPromise"]["signedEntryTimestamp"],
            "Payload": {
                "body": e["canonicalizedBody"],
                "integratedTime": 1_700_000_000,
                "logIndex": 7,
                "logID": hex(&[1u8; 32]),
            },
        });
        let certificates = |leaf: &str, chain: String| {
            let layer = LegacyLayer {
                content: simple_signing_payload("registry.test/app", "sha256:abc"),
                annotations: [
                    (annotation::SIGNATURE, STANDARD.encode(b"sig")),
                    (annotation::CERTIFICATE, leaf.to_owned()),
                    (annotation::CHAIN, chain),
                    (annotation::REKOR_BUNDLE, rekor.to_string()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            };
            let bundle: Value =
                serde_json::from_slice(&bundle_from_legacy_layer(&layer, false).unwrap()).unwrap();
            bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| STANDARD.decode(c["rawBytes"].as_str().unwrap()).unwrap())
                .collect::<Vec<_>>()
        };
        // cosign's chain annotation: intermediate and root. The root is left out.
        let kept = certificates(&leaf, format!("{intermediate}{root}"));
        assert_eq!(
            kept,
            [
                ca.tsa_leaf.cert_der.clone(),
                ca.fulcio_intermediate.cert_der.clone()
            ]
        );
        // A self-signed leaf is kept, for the verifier to refuse.
        let kept = certificates(&root, String::new());
        assert_eq!(kept, std::slice::from_ref(&ca.fulcio_root.cert_der));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}

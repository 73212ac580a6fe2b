//! The entry types the Rekor v1 log accepts, and the canonical bodies it stores for them.
//!
//! Specifications: Rekor's `hashedrekord` 0.0.1 and `dsse` 0.0.1 schemas
//! (sigstore/rekor `pkg/types/*/v0.0.1/*_schema.json`), DSSE's pre-authentication encoding
//! (secure-systems-lab/dsse `protocol.md`), and RFC 8785 for the canonical JSON of a body.
//!
//! Every signature is checked before an entry is accepted. The canonical body holds only what
//! the server computed or checked: for `dsse` the hashes of the payload and of the envelope and
//! each signature with its verifier, never the envelope itself, as Rekor stores it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pki::{DigestAlg, Verifier};

/// Most signatures, and most verifiers, a DSSE entry may carry.
const MAX_DSSE_SIGNATURES: usize = 16;

/// A checked entry, ready to be appended.
#[derive(Debug)]
pub struct Canonical {
    /// RFC 8785 canonical JSON of the body.
    pub body: Vec<u8>,
    /// Search keys (`ALG:HEX` of the artifact, or of the DSSE payload).
    pub search_keys: Vec<String>,
}

/// Why a proposed entry is refused (always the client's fault: HTTP 400).
#[derive(Debug)]
pub struct Refused(pub String);

impl From<String> for Refused {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Refused {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proposed {
    kind: String,
    api_version: String,
    spec: Value,
}

/// Checks a proposed entry (the JSON of `POST /api/v1/log/entries`) and returns its canonical
/// body.
pub fn canonicalize(proposed: &Value) -> Result<Canonical, Refused> {
    let p: Proposed = serde_json::from_value(proposed.clone())
        .map_err(|e| format!("not a proposed entry (`kind`, `apiVersion`, `spec`): {e}"))?;
    match (p.kind.as_str(), p.api_version.as_str()) {
        ("hashedrekord", "0.0.1") => hashedrekord(p.spec),
        ("dsse", "0.0.1") => dsse(p.spec),
        ("hashedrekord" | "dsse", v) => Err(Refused(format!(
            "unsupported apiVersion `{v}` for kind `{}`: this log accepts 0.0.1",
            p.kind
        ))),
        (k, _) => Err(Refused(format!(
            "unsupported kind `{k}`: this log accepts `hashedrekord` and `dsse`"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordSpec {
    data: HrData,
    signature: HrSignature,
}

#[derive(Deserialize)]
struct HrData {
    hash: HrHash,
}

#[derive(Deserialize)]
struct HrHash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HrSignature {
    content: String,
    public_key: HrKey,
}

#[derive(Deserialize)]
struct HrKey {
    content: String,
}

fn hashedrekord(spec: Value) -> Result<Canonical, Refused> {
    let spec: HashedRekordSpec =
        serde_json::from_value(spec).map_err(|e| format!("not a hashedrekord 0.0.1 spec: {e}"))?;
    let alg = DigestAlg::from_name(&spec.data.hash.algorithm).ok_or_else(|| {
        format!(
            "unsupported spec.data.hash.algorithm `{}`: expected sha256, sha384 or sha512",
            spec.data.hash.algorithm
        )
    })?;
    let hex = spec.data.hash.value.to_ascii_lowercase();
    let digest = vouch_digest::from_hex(&hex)
        .filter(|d| d.len() == alg.output_len())
        .ok_or_else(|| {
            format!(
                "spec.data.hash.value must be {} hex digits of a {} digest",
                alg.output_len() * 2,
                alg.name()
            )
        })?;
    let sig = decode_b64(&spec.signature.content).ok_or("spec.signature.content is not base64")?;
    if sig.is_empty() {
        return Err("spec.signature.content is empty".into());
    }
    let pem = decode_b64(&spec.signature.public_key.content)
        .ok_or("spec.signature.publicKey.content is not base64")?;
    let verifier =
        Verifier::from_pem(&pem).map_err(|e| format!("spec.signature.publicKey.content: {e}"))?;
    verifier
        .verify_digest(alg, &digest, &sig)
        .map_err(|e| format!("signature rejected: {e}"))?;
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": alg.name(), "value": hex } },
            "signature": {
                "content": B64.encode(&sig),
                "publicKey": { "content": B64.encode(verifier.canonical_pem.as_bytes()) },
            },
        },
    });
    Ok(Canonical {
        body: canonical_json(&body)?,
        search_keys: vec![format!("{}:{hex}", alg.name())],
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseSpec {
    proposed_content: Option<DsseProposed>,
}

#[derive(Deserialize)]
struct DsseProposed {
    envelope: String,
    verifiers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

fn dsse(spec: Value) -> Result<Canonical, Refused> {
    let spec: DsseSpec =
        serde_json::from_value(spec).map_err(|e| format!("not a dsse 0.0.1 spec: {e}"))?;
    let proposed = spec.proposed_content.ok_or(
        "spec.proposedContent is required: the log computes payloadHash, envelopeHash and \
         signatures itself",
    )?;
    let envelope: Envelope = serde_json::from_str(&proposed.envelope)
        .map_err(|e| format!("spec.proposedContent.envelope is not a DSSE envelope: {e}"))?;
    let payload = decode_b64(&envelope.payload).ok_or("the envelope's payload is not base64")?;
    if envelope.signatures.is_empty() {
        return Err("the envelope has no signatures".into());
    }
    if envelope.signatures.len() > MAX_DSSE_SIGNATURES
        || proposed.verifiers.len() > MAX_DSSE_SIGNATURES
    {
        return Err(format!(
            "at most {MAX_DSSE_SIGNATURES} signatures and {MAX_DSSE_SIGNATURES} verifiers"
        )
        .into());
    }
    if proposed.verifiers.is_empty() {
        return Err("spec.proposedContent.verifiers is empty".into());
    }
    let verifiers = proposed
        .verifiers
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let pem = decode_b64(v)
                .ok_or_else(|| format!("spec.proposedContent.verifiers[{i}] is not base64"))?;
            Verifier::from_pem(&pem)
                .map_err(|e| format!("spec.proposedContent.verifiers[{i}]: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let pae = pae(&envelope.payload_type, &payload);
    // Every signature must verify with one of the verifiers; each is logged with the first
    // verifier that accepts it, ordered by signature as Rekor orders them.
    let mut signatures: Vec<(String, String)> = Vec::new();
    for (i, s) in envelope.signatures.iter().enumerate() {
        let raw = decode_b64(&s.sig)
            .ok_or_else(|| format!("the envelope's signatures[{i}].sig is not base64"))?;
        let verifier = verifiers
            .iter()
            .find(|v| v.verify_message(&pae, &raw).is_ok())
            .ok_or_else(|| {
                format!("signature rejected: the envelope's signatures[{i}] verifies with none of the verifiers")
            })?;
        if !signatures.iter().any(|(sig, _)| *sig == s.sig) {
            signatures.push((s.sig.clone(), B64.encode(verifier.canonical_pem.as_bytes())));
        }
    }
    signatures.sort();
    let payload_hash = sha256_hex(&payload);
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": { "algorithm": "sha256", "value": sha256_hex(proposed.envelope.as_bytes()) },
            "payloadHash": { "algorithm": "sha256", "value": payload_hash },
            "signatures": signatures
                .iter()
                .map(|(sig, verifier)| json!({ "signature": sig, "verifier": verifier }))
                .collect::<Vec<_>>(),
        },
    });
    Ok(Canonical {
        body: canonical_json(&body)?,
        search_keys: vec![format!("sha256:{payload_hash}")],
    })
}

/// DSSE v1 pre-authentication encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The search keys of a stored canonical body: what [`canonicalize`] returned for it, so that
/// the index is rebuilt the same after a restart.
pub fn search_keys(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let spec = value.get("spec");
    let hash = match value.get("kind").and_then(Value::as_str) {
        Some("hashedrekord") => spec.and_then(|s| s.get("data")).and_then(|d| d.get("hash")),
        Some("dsse") => spec.and_then(|s| s.get("payloadHash")),
        _ => None,
    };
    let field = |name: &str| hash.and_then(|h| h.get(name)).and_then(Value::as_str);
    match (field("algorithm"), field("value")) {
        (Some(alg), Some(value)) => vec![format!("{alg}:{value}")],
        _ => Vec::new(),
    }
}

/// RFC 8785 canonical JSON.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, Refused> {
    serde_json_canonicalizer::to_vec(value)
        .map_err(|e| Refused(format!("cannot canonicalize: {e}")))
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::to_hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

use crate::pem::decode_b64;

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

    use super::*;

    fn proposed(pem: &str, digest: &[u8], sig: &[u8]) -> Value {
        json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": { "hash": { "algorithm": "sha256", "value": vouch_digest::to_hex(digest).to_uppercase() } },
                "signature": {
                    "content": B64.encode(sig),
                    "publicKey": { "content": B64.encode(pem) },
                },
            },
        })
    }

    #[test]
    fn the_canonical_body_does_not_depend_on_how_the_key_was_written() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let sig = pair.sign(&rng, b"artifact").unwrap();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"artifact");

        let canonical_pem = super::super::pki::pem_encode("PUBLIC KEY", spki.as_ref());
        let one_line = format!(
            "-----BEGIN PUBLIC KEY-----\r\n{}\r\n-----END PUBLIC KEY-----",
            B64.encode(spki.as_ref())
        );
        let a = canonicalize(&proposed(&canonical_pem, digest.as_ref(), sig.as_ref())).unwrap();
        let b = canonicalize(&proposed(&one_line, digest.as_ref(), sig.as_ref())).unwrap();
        assert_eq!(a.body, b.body);
        // Keys sorted, no whitespace, lowercase hex: RFC 8785 over Rekor's field names.
        let text = String::from_utf8(a.body.clone()).unwrap();
        assert!(text.starts_with(r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":""#));
        // The index rebuilt from a stored body is the one computed at submission.
        assert_eq!(search_keys(&a.body), a.search_keys);

        // The same signature over another digest is refused.
        let other = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"other");
        let refused = canonicalize(&proposed(&canonical_pem, other.as_ref(), sig.as_ref()));
        assert!(refused.unwrap_err().0.contains("signature rejected"));
    }

    #[test]
    fn pae_follows_the_dsse_protocol() {
        // secure-systems-lab/dsse protocol.md: lengths in ASCII decimal, single spaces.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}

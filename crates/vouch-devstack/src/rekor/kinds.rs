//! The entry types the Rekor v1 log accepts, and the canonical bodies it stores for them.
//!
//! Specifications: Rekor's `hashedrekord` 0.0.1, `dsse` 0.0.1 and `intoto` 0.0.2 schemas
//! (sigstore/rekor `pkg/types/*/v0.0.*/*_schema.json`), DSSE's pre-authentication encoding
//! (secure-systems-lab/dsse `protocol.md`), and RFC 8785 for the canonical JSON of a body.
//!
//! Every signature is checked before an entry is accepted. The canonical body holds only what
//! the server computed or checked: for `dsse` the hashes of the payload and of the envelope and
//! each signature with its verifier, never the envelope itself, as Rekor stores it. `intoto`
//! 0.0.1, the kind cosign 2.x logs for `attest --rekor-entry-type intoto`, stores the hashes of
//! the envelope and of its payload and the (canonical PEM) public key. `intoto` 0.0.2, the kind
//! older sigstore-js releases logged npm provenance as, stores the envelope without its payload
//! (payload type, and each signature with its public key as submitted), the hash of the payload
//! computed here, and the hash of the whole envelope as the client sent it: Rekor cannot
//! recompute that one (it is not sent the envelope's JSON), and neither can this log.

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
        ("intoto", "0.0.1") => intoto_v001(p.spec),
        ("intoto", "0.0.2") => intoto(p.spec),
        ("hashedrekord" | "dsse", v) => Err(Refused(format!(
            "unsupported apiVersion `{v}` for kind `{}`: this log accepts 0.0.1",
            p.kind
        ))),
        ("intoto", v) => Err(Refused(format!(
            "unsupported apiVersion `{v}` for kind `intoto`: this log accepts 0.0.1 and 0.0.2"
        ))),
        (k, _) => Err(Refused(format!(
            "unsupported kind `{k}`: this log accepts `hashedrekord`, `dsse` and `intoto`"
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

/// `intoto` 0.0.1's `spec`: `{"content": {"envelope"}, "publicKey"}`, the envelope as a JSON
/// string. The `hash` and `payloadHash` a client may send are ignored: Rekor computes both.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoV001Spec {
    content: IntotoV001Content,
    public_key: Option<String>,
}

#[derive(Deserialize)]
struct IntotoV001Content {
    #[serde(default)]
    envelope: Option<String>,
}

/// Checks an `intoto` 0.0.1 entry as Rekor's `pkg/types/intoto/v0.0.1` does: the envelope must
/// have a payload, a payload type and signatures, and one of its signatures must verify with
/// the entry's public key (Rekor's DSSE verifier needs one, and ignores the others).
fn intoto_v001(spec: Value) -> Result<Canonical, Refused> {
    let spec: IntotoV001Spec =
        serde_json::from_value(spec).map_err(|e| format!("not an intoto 0.0.1 spec: {e}"))?;
    let envelope_text = spec
        .content
        .envelope
        .filter(|e| !e.is_empty())
        .ok_or("spec.content.envelope is required")?;
    let key = spec
        .public_key
        .filter(|k| !k.is_empty())
        .ok_or("spec.publicKey is required")?;
    let pem = decode_b64(&key).ok_or("spec.publicKey is not base64")?;
    let verifier = Verifier::from_pem(&pem).map_err(|e| format!("spec.publicKey: {e}"))?;
    let envelope: Envelope = serde_json::from_str(&envelope_text)
        .map_err(|e| format!("spec.content.envelope is not a DSSE envelope: {e}"))?;
    let payload = decode_b64(&envelope.payload).ok_or("the envelope's payload is not base64")?;
    if payload.is_empty() || envelope.payload_type.is_empty() || envelope.signatures.is_empty() {
        return Err(
            "invalid DSSE envelope: payload, payloadType and signatures are required".into(),
        );
    }
    if envelope.signatures.len() > MAX_DSSE_SIGNATURES {
        return Err(format!("at most {MAX_DSSE_SIGNATURES} signatures").into());
    }
    let pae = pae(&envelope.payload_type, &payload);
    let verified = envelope
        .signatures
        .iter()
        .any(|s| decode_b64(&s.sig).is_some_and(|raw| verifier.verify_message(&pae, &raw).is_ok()));
    if !verified {
        return Err(
            "signature rejected: none of the envelope's signatures verifies with spec.publicKey"
                .into(),
        );
    }
    let payload_hash = sha256_hex(&payload);
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "intoto",
        "spec": {
            "content": {
                "hash": { "algorithm": "sha256", "value": sha256_hex(envelope_text.as_bytes()) },
                "payloadHash": { "algorithm": "sha256", "value": payload_hash },
            },
            "publicKey": B64.encode(verifier.canonical_pem.as_bytes()),
        },
    });
    Ok(Canonical {
        body: canonical_json(&body)?,
        search_keys: vec![format!("sha256:{payload_hash}")],
    })
}

/// `intoto` 0.0.2's `spec`: `{"content": {"envelope", "hash"}}`. The `payloadHash` a client
/// may send is ignored (Rekor computes it); `hash` is the client's.
#[derive(Deserialize)]
struct IntotoSpec {
    content: IntotoContent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoContent {
    envelope: IntotoEnvelope,
    hash: Option<HrHash>,
}

/// The envelope as Rekor's `intoto` 0.0.2 carries it: each `bytes` field is base64 of the
/// DSSE field's own text, so `payload` and each `sig` are base64 twice over, and each
/// signature carries its public key (a PEM certificate or public key, base64).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoEnvelope {
    #[serde(default)]
    payload: Option<String>,
    payload_type: String,
    signatures: Vec<IntotoSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoSignature {
    #[serde(default)]
    keyid: Option<String>,
    #[serde(default)]
    sig: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
}

/// Checks an `intoto` 0.0.2 entry as Rekor's `pkg/types/intoto/v0.0.2` does: the payload, the
/// payload type, a signature and a public key in each signature item are required; every
/// public key must verify one of the envelope's signatures and every signature must verify
/// with one of the keys (keys and signatures are not paired by position, as in Rekor).
fn intoto(spec: Value) -> Result<Canonical, Refused> {
    let spec: IntotoSpec =
        serde_json::from_value(spec).map_err(|e| format!("not an intoto 0.0.2 spec: {e}"))?;
    let envelope = spec.content.envelope;
    let hash = spec
        .content
        .hash
        .ok_or("spec.content.hash is required: the hash of the envelope as submitted")?;
    if hash.algorithm != "sha256" {
        return Err(format!(
            "unsupported spec.content.hash.algorithm `{}`: expected sha256",
            hash.algorithm
        )
        .into());
    }
    // Rekor takes any string here; a value that cannot be a SHA-256 is refused all the same.
    if hash.value.len() != 64 || !hash.value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("spec.content.hash.value must be the 64 hex digits of a SHA-256".into());
    }
    if envelope.payload_type.is_empty() {
        return Err("spec.content.envelope.payloadType is empty".into());
    }
    // The DSSE payload, still base64 (its own encoding), and then decoded.
    let payload_b64 = envelope
        .payload
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or("spec.content.envelope.payload is required")?;
    let payload_b64 = text_of_b64(payload_b64, "spec.content.envelope.payload")?;
    let payload = decode_b64(&payload_b64)
        .ok_or("the envelope's payload (spec.content.envelope.payload, decoded) is not base64")?;
    if envelope.signatures.is_empty() {
        return Err("spec.content.envelope.signatures is empty".into());
    }
    if envelope.signatures.len() > MAX_DSSE_SIGNATURES {
        return Err(format!("at most {MAX_DSSE_SIGNATURES} signatures").into());
    }
    let pae = pae(&envelope.payload_type, &payload);
    let mut items = Vec::with_capacity(envelope.signatures.len());
    let mut raw_sigs = Vec::with_capacity(envelope.signatures.len());
    let mut verifiers = Vec::with_capacity(envelope.signatures.len());
    for (i, s) in envelope.signatures.iter().enumerate() {
        let field = |name: &str| format!("spec.content.envelope.signatures[{i}].{name}");
        let sig_b64 = s
            .sig
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{} is required", field("sig")))?;
        let sig_text = text_of_b64(sig_b64, &field("sig"))?;
        let raw = decode_b64(&sig_text)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("{}, decoded, is not a base64 signature", field("sig")))?;
        let key = s
            .public_key
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{} is required", field("publicKey")))?;
        let pem = decode_b64(key).ok_or_else(|| format!("{} is not base64", field("publicKey")))?;
        let verifier =
            Verifier::from_pem(&pem).map_err(|e| format!("{}: {e}", field("publicKey")))?;
        let mut item = serde_json::Map::new();
        if let Some(keyid) = s.keyid.as_deref().filter(|k| !k.is_empty()) {
            item.insert("keyid".into(), json!(keyid));
        }
        item.insert("publicKey".into(), json!(B64.encode(&pem)));
        item.insert("sig".into(), json!(B64.encode(sig_text.as_bytes())));
        items.push(Value::Object(item));
        raw_sigs.push(raw);
        verifiers.push(verifier);
    }
    for (i, verifier) in verifiers.iter().enumerate() {
        if !raw_sigs
            .iter()
            .any(|raw| verifier.verify_message(&pae, raw).is_ok())
        {
            return Err(format!(
                "signature rejected: the public key of spec.content.envelope.signatures[{i}] \
                 verifies none of the envelope's signatures"
            )
            .into());
        }
    }
    for (i, raw) in raw_sigs.iter().enumerate() {
        if !verifiers
            .iter()
            .any(|v| v.verify_message(&pae, raw).is_ok())
        {
            return Err(format!(
                "signature rejected: spec.content.envelope.signatures[{i}] verifies with none \
                 of the public keys"
            )
            .into());
        }
    }
    let payload_hash = sha256_hex(&payload);
    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payloadType": envelope.payload_type,
                    "signatures": items,
                },
                "hash": { "algorithm": "sha256", "value": hash.value },
                "payloadHash": { "algorithm": "sha256", "value": payload_hash },
            },
        },
    });
    Ok(Canonical {
        body: canonical_json(&body)?,
        search_keys: vec![format!("sha256:{payload_hash}")],
    })
}

/// The UTF-8 text that a base64 field of an `intoto` entry wraps (itself base64).
fn text_of_b64(field_b64: &str, field: &str) -> Result<String, Refused> {
    let bytes = decode_b64(field_b64).ok_or_else(|| format!("{field} is not base64"))?;
    String::from_utf8(bytes).map_err(|_| Refused(format!("{field}, decoded, is not text")))
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
        Some("intoto") => spec
            .and_then(|s| s.get("content"))
            .and_then(|c| c.get("payloadHash")),
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

    /// A P-256 key, its PEM, and an `intoto` 0.0.2 proposed entry for a DSSE envelope over
    /// `payload` signed with it, as cosign builds one.
    fn intoto_entry(payload: &[u8]) -> (String, Vec<u8>, Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let pem = super::super::pki::pem_encode(
            "PUBLIC KEY",
            pair.public_key().as_der().unwrap().as_ref(),
        );
        let payload_type = "application/vnd.in-toto+json";
        let sig = pair.sign(&rng, &pae(payload_type, payload)).unwrap();
        let sig_b64 = B64.encode(sig.as_ref());
        let proposed = json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": { "content": {
                "envelope": {
                    "payload": B64.encode(B64.encode(payload)),
                    "payloadType": payload_type,
                    "signatures": [{ "sig": B64.encode(&sig_b64), "publicKey": B64.encode(&pem) }],
                },
                "hash": { "algorithm": "sha256", "value": "ab".repeat(32) },
                // Ignored: the log computes it.
                "payloadHash": { "algorithm": "sha256", "value": "00".repeat(32) },
            }},
        });
        (pem, sig.as_ref().to_vec(), proposed)
    }

    #[test]
    fn an_intoto_entry_is_stored_without_its_payload_as_rekor_stores_it() {
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let (pem, sig, proposed) = intoto_entry(payload);
        let canonical = canonicalize(&proposed).unwrap();
        let payload_hash = sha256_hex(payload);
        // RFC 8785 over the fields of Rekor's canonical intoto 0.0.2 entry: the envelope
        // without its payload, the signature base64 twice, the key as sent, both hashes.
        let expected = format!(
            concat!(
                r#"{{"apiVersion":"0.0.2","kind":"intoto","spec":{{"content":{{"#,
                r#""envelope":{{"payloadType":"application/vnd.in-toto+json","#,
                r#""signatures":[{{"publicKey":"{}","sig":"{}"}}]}},"#,
                r#""hash":{{"algorithm":"sha256","value":"{}"}},"#,
                r#""payloadHash":{{"algorithm":"sha256","value":"{}"}}}}}}}}"#
            ),
            B64.encode(&pem),
            B64.encode(B64.encode(&sig)),
            "ab".repeat(32),
            payload_hash,
        );
        assert_eq!(String::from_utf8(canonical.body.clone()).unwrap(), expected);
        assert_eq!(canonical.search_keys, [format!("sha256:{payload_hash}")]);
        assert_eq!(search_keys(&canonical.body), canonical.search_keys);

        // A keyid is kept, as Rekor keeps it.
        let mut with_keyid = proposed.clone();
        with_keyid["spec"]["content"]["envelope"]["signatures"][0]["keyid"] = json!("k1");
        let text = String::from_utf8(canonicalize(&with_keyid).unwrap().body).unwrap();
        assert!(text.contains(r#"[{"keyid":"k1","publicKey":"#), "{text}");
    }

    #[test]
    fn intoto_entries_are_refused_naming_what_is_wrong() {
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let (_, _, proposed) = intoto_entry(payload);
        let refused = |edit: &dyn Fn(&mut Value)| {
            let mut p = proposed.clone();
            edit(&mut p);
            canonicalize(&p).unwrap_err().0
        };
        // The payload was not what was signed.
        let m = refused(&|p| {
            p["spec"]["content"]["envelope"]["payload"] = json!(B64.encode(B64.encode(b"{}")));
        });
        assert!(m.contains("signature rejected"), "{m}");
        // Another key, which signed none of the signatures.
        let (other_pem, _, _) = intoto_entry(payload);
        let m = refused(&|p| {
            p["spec"]["content"]["envelope"]["signatures"][0]["publicKey"] =
                json!(B64.encode(&other_pem));
        });
        assert!(m.contains("signature rejected"), "{m}");
        // A second signature item whose key verifies nothing, as Rekor refuses it.
        let m = refused(&|p| {
            let first = p["spec"]["content"]["envelope"]["signatures"][0].clone();
            let mut second = first.clone();
            second["publicKey"] = json!(B64.encode(&other_pem));
            p["spec"]["content"]["envelope"]["signatures"] = json!([first, second]);
        });
        assert!(m.contains("signatures[1] verifies none"), "{m}");
        // Required fields.
        let m = refused(&|p| {
            p["spec"]["content"].as_object_mut().unwrap().remove("hash");
        });
        assert!(m.contains("spec.content.hash is required"), "{m}");
        let m = refused(&|p| {
            p["spec"]["content"]["hash"]["value"] = json!("not hex");
        });
        assert!(m.contains("64 hex digits"), "{m}");
        let m = refused(&|p| {
            p["spec"]["content"]["hash"]["algorithm"] = json!("sha512");
        });
        assert!(m.contains("sha512"), "{m}");
        let m = refused(&|p| {
            p["spec"]["content"]["envelope"]
                .as_object_mut()
                .unwrap()
                .remove("payload");
        });
        assert!(m.contains("envelope.payload is required"), "{m}");
        let m = refused(&|p| {
            p["spec"]["content"]["envelope"]["signatures"][0]
                .as_object_mut()
                .unwrap()
                .remove("publicKey");
        });
        assert!(m.contains("signatures[0].publicKey is required"), "{m}");
        let m = refused(&|p| {
            p["spec"]["content"]["envelope"]["signatures"] = json!([]);
        });
        assert!(m.contains("signatures is empty"), "{m}");
        // The signature given once base64 (not the field's own base64 of the DSSE text).
        let m = refused(&|p| {
            let sig = p["spec"]["content"]["envelope"]["signatures"][0]["sig"].clone();
            let once = B64.decode(sig.as_str().unwrap()).unwrap();
            let raw = B64.decode(&once).unwrap();
            p["spec"]["content"]["envelope"]["signatures"][0]["sig"] = json!(B64.encode(raw));
        });
        assert!(m.contains("signatures[0].sig"), "{m}");
        let m = refused(&|p| p["apiVersion"] = json!("0.0.3"));
        assert!(m.contains("accepts 0.0.1 and 0.0.2"), "{m}");
        let m = refused(&|p| p["kind"] = json!("rekord"));
        assert!(m.contains("`intoto`"), "{m}");
    }

    #[test]
    fn an_intoto_v001_entry_stores_the_hashes_and_the_canonical_key() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let canonical_pem = super::super::pki::pem_encode("PUBLIC KEY", spki.as_ref());
        // The key as a client may write it: CRLF, one line.
        let sloppy_pem = format!(
            "-----BEGIN PUBLIC KEY-----\r\n{}\r\n-----END PUBLIC KEY-----",
            B64.encode(spki.as_ref())
        );
        let payload = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#;
        let payload_type = "application/vnd.in-toto+json";
        let sig = pair.sign(&rng, &pae(payload_type, payload)).unwrap();
        let envelope = format!(
            r#"{{"payloadType":"{payload_type}","payload":"{}","signatures":[{{"keyid":"","sig":"{}"}}]}}"#,
            B64.encode(payload),
            B64.encode(sig.as_ref())
        );
        let proposed = |envelope: &str, key: &str| {
            json!({
                "apiVersion": "0.0.1",
                "kind": "intoto",
                "spec": {
                    "content": {
                        "envelope": envelope,
                        // Ignored: the log computes both.
                        "hash": { "algorithm": "sha256", "value": "00".repeat(32) },
                    },
                    "publicKey": B64.encode(key),
                },
            })
        };
        let canonical = canonicalize(&proposed(&envelope, &sloppy_pem)).unwrap();
        let expected = format!(
            concat!(
                r#"{{"apiVersion":"0.0.1","kind":"intoto","spec":{{"content":{{"#,
                r#""hash":{{"algorithm":"sha256","value":"{}"}},"#,
                r#""payloadHash":{{"algorithm":"sha256","value":"{}"}}}},"#,
                r#""publicKey":"{}"}}}}"#
            ),
            sha256_hex(envelope.as_bytes()),
            sha256_hex(payload),
            B64.encode(&canonical_pem),
        );
        assert_eq!(String::from_utf8(canonical.body.clone()).unwrap(), expected);
        assert_eq!(search_keys(&canonical.body), canonical.search_keys);

        // Refused: a signature by another key, a tampered payload, no key, no envelope.
        let (other_pem, _, _) = intoto_entry(payload);
        let m = canonicalize(&proposed(&envelope, &other_pem))
            .unwrap_err()
            .0;
        assert!(m.contains("signature rejected"), "{m}");
        let tampered = envelope.replace(&B64.encode(payload), &B64.encode(b"{}"));
        let m = canonicalize(&proposed(&tampered, &canonical_pem))
            .unwrap_err()
            .0;
        assert!(m.contains("signature rejected"), "{m}");
        let mut no_key = proposed(&envelope, &canonical_pem);
        no_key["spec"].as_object_mut().unwrap().remove("publicKey");
        assert!(
            canonicalize(&no_key)
                .unwrap_err()
                .0
                .contains("spec.publicKey")
        );
        let m = canonicalize(&proposed("", &canonical_pem)).unwrap_err().0;
        assert!(m.contains("spec.content.envelope is required"), "{m}");
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

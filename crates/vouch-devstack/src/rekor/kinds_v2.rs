//! The entries the Rekor v2 log accepts, and the canonical bodies it logs for them.
//!
//! Specifications: the Rekor v2 API of sigstore/rekor-tiles (`api/proto/rekor/v2/*.proto`:
//! `CreateEntryRequest` with a `hashedRekordRequestV002` or a `dsseRequestV002`, and the
//! `Entry` logged for each), in the protobuf JSON mapping (camelCase names, enums by name,
//! bytes in base64); DSSE's pre-authentication encoding (secure-systems-lab/dsse
//! `protocol.md`); and RFC 8785 for the canonical JSON of a body, as rekor-tiles canonicalizes
//! its protobuf JSON before logging it.
//!
//! Every signature is checked before an entry is accepted: a hashedrekord signature over the
//! submitted digest, each DSSE signature over the envelope's PAE. The body logged for a DSSE
//! envelope holds the payload's hash and each signature with its verifier, never the envelope.
//!
//! Current clients (sigstore-python 4.5, sigstore-rust 0.15, sigstore-go) no longer send
//! `dsseRequestV002`: since sigstore/architecture-docs#63 they log a DSSE envelope as a
//! `hashedrekord` 0.0.2 entry whose digest is the hash of the envelope's PAE and whose
//! signature is the envelope's. The log accepts both forms, as rekor-tiles does.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::kinds::{Canonical, Refused, canonical_json, pae};
use super::pki::{DigestAlg, KeyType, Verifier};
use crate::pem::decode_b64;

/// The version of every entry the Rekor v2 log makes.
pub const VERSION: &str = "0.0.2";

/// Most signatures, and most verifiers, a DSSE request may carry.
const MAX_DSSE_SIGNATURES: usize = 16;

/// Largest canonical body the log takes: a C2SP tlog-tiles entry bundle prefixes each entry
/// with its length as a big-endian `uint16`.
pub const MAX_BODY: usize = u16::MAX as usize;

/// A checked Rekor v2 entry: its canonical body and its kind.
#[derive(Debug)]
pub struct Entry {
    /// RFC 8785 canonical JSON of the body.
    pub canonical: Canonical,
    /// `hashedrekord` or `dsse`.
    pub kind: &'static str,
}

#[derive(Deserialize)]
struct CreateEntryRequest {
    #[serde(
        default,
        rename = "hashedRekordRequestV002",
        alias = "hashed_rekord_request_v002"
    )]
    hashed_rekord: Option<HashedRekordRequest>,
    #[serde(default, rename = "dsseRequestV002", alias = "dsse_request_v002")]
    dsse: Option<DsseRequest>,
}

#[derive(Deserialize)]
struct HashedRekordRequest {
    #[serde(default)]
    digest: String,
    signature: Option<SignatureMsg>,
}

#[derive(Deserialize)]
struct SignatureMsg {
    #[serde(default)]
    content: String,
    verifier: Option<VerifierMsg>,
}

#[derive(Deserialize)]
struct VerifierMsg {
    #[serde(default, rename = "publicKey", alias = "public_key")]
    public_key: Option<RawBytes>,
    #[serde(default, rename = "x509Certificate", alias = "x509_certificate")]
    x509_certificate: Option<RawBytes>,
    #[serde(default, rename = "keyDetails", alias = "key_details")]
    key_details: Option<Value>,
}

#[derive(Deserialize)]
struct RawBytes {
    #[serde(default, rename = "rawBytes", alias = "raw_bytes")]
    raw_bytes: String,
}

#[derive(Deserialize)]
struct DsseRequest {
    envelope: Option<EnvelopeMsg>,
    #[serde(default)]
    verifiers: Vec<VerifierMsg>,
}

#[derive(Deserialize)]
struct EnvelopeMsg {
    #[serde(default)]
    payload: String,
    #[serde(default, rename = "payloadType", alias = "payload_type")]
    payload_type: String,
    #[serde(default)]
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    #[serde(default)]
    sig: String,
}

/// Checks a `CreateEntryRequest` (the JSON of `POST /api/v2/log/entries`) and returns the entry
/// to log.
pub fn canonicalize(request: &Value) -> Result<Entry, Refused> {
    let request: CreateEntryRequest = serde_json::from_value(request.clone()).map_err(|e| {
        format!(
            "not a Rekor v2 CreateEntryRequest (`hashedRekordRequestV002` or `dsseRequestV002`): \
             {e}"
        )
    })?;
    let entry = match (request.hashed_rekord, request.dsse) {
        (Some(hr), None) => hashedrekord(hr)?,
        (None, Some(dsse)) => dsse_entry(dsse)?,
        (Some(_), Some(_)) => {
            return Err(
                "a CreateEntryRequest carries one of `hashedRekordRequestV002` and \
                 `dsseRequestV002`, not both"
                    .into(),
            );
        }
        (None, None) => {
            return Err(
                "expected `hashedRekordRequestV002` or `dsseRequestV002`: this log accepts \
                 hashedrekord and dsse 0.0.2 entries"
                    .into(),
            );
        }
    };
    let len = entry.canonical.body.len();
    if len > MAX_BODY {
        return Err(Refused(format!(
            "the entry's canonical body is {len} bytes; a tlog-tiles entry bundle holds entries \
             of at most {MAX_BODY}"
        )));
    }
    Ok(entry)
}

/// The signing algorithms (protobuf-specs `PublicKeyDetails`) the log accepts, with the key
/// type each needs and the digest a hashedrekord entry made with it carries (none for Ed25519,
/// which signs messages, not digests). RSA signatures verify with PKCS#1 v1.5 or PSS whichever
/// padding the details name, a leniency a test log can afford.
const KEY_DETAILS: &[(&str, KeyType, Option<DigestAlg>)] = &[
    (
        "PKIX_ECDSA_P256_SHA_256",
        KeyType::P256,
        Some(DigestAlg::Sha256),
    ),
    (
        "PKIX_ECDSA_P384_SHA_384",
        KeyType::P384,
        Some(DigestAlg::Sha384),
    ),
    ("PKIX_ED25519", KeyType::Ed25519, None),
    (
        "PKIX_RSA_PKCS1V15_2048_SHA256",
        KeyType::Rsa,
        Some(DigestAlg::Sha256),
    ),
    (
        "PKIX_RSA_PKCS1V15_3072_SHA256",
        KeyType::Rsa,
        Some(DigestAlg::Sha256),
    ),
    (
        "PKIX_RSA_PKCS1V15_4096_SHA256",
        KeyType::Rsa,
        Some(DigestAlg::Sha256),
    ),
    (
        "PKIX_RSA_PSS_2048_SHA256",
        KeyType::Rsa,
        Some(DigestAlg::Sha256),
    ),
    (
        "PKIX_RSA_PSS_3072_SHA256",
        KeyType::Rsa,
        Some(DigestAlg::Sha256),
    ),
    (
        "PKIX_RSA_PSS_4096_SHA256",
        KeyType::Rsa,
        Some(DigestAlg::Sha256),
    ),
];

fn key_details(
    value: Option<&Value>,
    at: &str,
) -> Result<(&'static str, KeyType, Option<DigestAlg>), Refused> {
    let name = match value {
        Some(Value::String(name)) => name.as_str(),
        Some(other) => {
            return Err(Refused(format!(
                "{at}.keyDetails must be the name of a PublicKeyDetails value, found `{other}`"
            )));
        }
        None => {
            return Err(Refused(format!(
                "{at}.keyDetails is required: the log records the signing algorithm"
            )));
        }
    };
    KEY_DETAILS
        .iter()
        .find(|(known, _, _)| *known == name)
        .copied()
        .ok_or_else(|| {
            Refused(format!(
                "unsupported {at}.keyDetails `{name}`: this log accepts {}",
                KEY_DETAILS
                    .iter()
                    .map(|(known, _, _)| *known)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// A checked verifier and the JSON the log records for it.
struct CheckedVerifier {
    verifier: Verifier,
    digest: Option<DigestAlg>,
    logged: Value,
}

fn verifier(msg: &VerifierMsg, at: &str) -> Result<CheckedVerifier, Refused> {
    let (details, key_type, digest) = key_details(msg.key_details.as_ref(), at)?;
    let (label, field, raw) = match (&msg.public_key, &msg.x509_certificate) {
        (Some(key), None) => ("PUBLIC KEY", "publicKey", &key.raw_bytes),
        (None, Some(cert)) => ("CERTIFICATE", "x509Certificate", &cert.raw_bytes),
        _ => {
            return Err(Refused(format!(
                "{at} must carry exactly one of `publicKey` and `x509Certificate`"
            )));
        }
    };
    let der = decode_b64(raw)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| format!("{at}.{field}.rawBytes is missing or not base64"))?;
    let verifier =
        Verifier::from_der(label, der.clone()).map_err(|e| format!("{at}.{field}: {e}"))?;
    if verifier.kind != key_type {
        return Err(Refused(format!(
            "{at}.keyDetails is {details}, but the {field} holds a {:?} key",
            verifier.kind
        )));
    }
    let logged = json!({
        "keyDetails": details,
        field: { "rawBytes": B64.encode(&der) },
    });
    Ok(CheckedVerifier {
        verifier,
        digest,
        logged,
    })
}

fn hashedrekord(request: HashedRekordRequest) -> Result<Entry, Refused> {
    const AT: &str = "hashedRekordRequestV002";
    let signature = request
        .signature
        .ok_or_else(|| format!("{AT}.signature is required"))?;
    let msg = signature
        .verifier
        .as_ref()
        .ok_or_else(|| format!("{AT}.signature.verifier is required"))?;
    let checked = verifier(msg, &format!("{AT}.signature.verifier"))?;
    let alg = checked.digest.ok_or(
        "hashedrekord entries cannot carry PKIX_ED25519 signatures: Ed25519 signs the \
         message, not a digest; log the signature as a DSSE envelope instead",
    )?;
    let digest = decode_b64(&request.digest).ok_or_else(|| format!("{AT}.digest is not base64"))?;
    if digest.len() != alg.output_len() {
        return Err(Refused(format!(
            "{AT}.digest must be a {}-byte {} digest, as the verifier's keyDetails imply; found \
             {} bytes",
            alg.output_len(),
            alg.name(),
            digest.len()
        )));
    }
    let sig = decode_b64(&signature.content)
        .ok_or_else(|| format!("{AT}.signature.content is not base64"))?;
    if sig.is_empty() {
        return Err(format!("{AT}.signature.content is required").into());
    }
    checked
        .verifier
        .verify_digest(alg, &digest, &sig)
        .map_err(|e| format!("signature rejected: {e}"))?;
    let body = json!({
        "apiVersion": VERSION,
        "kind": "hashedrekord",
        "spec": { "hashedRekordV002": {
            "data": { "algorithm": hash_name(alg), "digest": B64.encode(&digest) },
            "signature": { "content": B64.encode(&sig), "verifier": checked.logged },
        }},
    });
    Ok(Entry {
        canonical: Canonical {
            body: canonical_json(&body)?,
            search_keys: Vec::new(),
        },
        kind: "hashedrekord",
    })
}

fn dsse_entry(request: DsseRequest) -> Result<Entry, Refused> {
    const AT: &str = "dsseRequestV002";
    let envelope = request
        .envelope
        .ok_or_else(|| format!("{AT}.envelope is required"))?;
    if envelope.signatures.is_empty() {
        return Err(format!("{AT}.envelope has no signatures").into());
    }
    if request.verifiers.is_empty() {
        return Err(format!("{AT}.verifiers is empty").into());
    }
    if envelope.signatures.len() > MAX_DSSE_SIGNATURES
        || request.verifiers.len() > MAX_DSSE_SIGNATURES
    {
        return Err(Refused(format!(
            "at most {MAX_DSSE_SIGNATURES} signatures and {MAX_DSSE_SIGNATURES} verifiers"
        )));
    }
    let payload = decode_b64(&envelope.payload)
        .ok_or_else(|| format!("{AT}.envelope.payload is not base64"))?;
    let verifiers = request
        .verifiers
        .iter()
        .enumerate()
        .map(|(i, v)| verifier(v, &format!("{AT}.verifiers[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let pae = pae(&envelope.payload_type, &payload);
    // Every signature must verify with one of the verifiers. Each is logged once, with the
    // first verifier that accepts it, in the envelope's order (rekor-tiles' order follows its
    // map iteration, which is not stable).
    let mut signatures: Vec<(Vec<u8>, Value)> = Vec::new();
    for (i, s) in envelope.signatures.iter().enumerate() {
        let raw = decode_b64(&s.sig)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("{AT}.envelope.signatures[{i}].sig is missing or not base64"))?;
        let found = verifiers
            .iter()
            .find(|v| v.verifier.verify_message(&pae, &raw).is_ok())
            .ok_or_else(|| {
                format!(
                    "signature rejected: {AT}.envelope.signatures[{i}] verifies with none of the \
                     verifiers"
                )
            })?;
        if !signatures.iter().any(|(sig, _)| *sig == raw) {
            signatures.push((raw, found.logged.clone()));
        }
    }
    let payload_hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &payload);
    let body = json!({
        "apiVersion": VERSION,
        "kind": "dsse",
        "spec": { "dsseV002": {
            "payloadHash": { "algorithm": "SHA2_256", "digest": B64.encode(payload_hash.as_ref()) },
            "signatures": signatures
                .iter()
                .map(|(sig, verifier)| json!({ "content": B64.encode(sig), "verifier": verifier }))
                .collect::<Vec<_>>(),
        }},
    });
    Ok(Entry {
        canonical: Canonical {
            body: canonical_json(&body)?,
            search_keys: Vec::new(),
        },
        kind: "dsse",
    })
}

/// The protobuf-specs `HashAlgorithm` name of a digest algorithm.
fn hash_name(alg: DigestAlg) -> &'static str {
    match alg {
        DigestAlg::Sha256 => "SHA2_256",
        DigestAlg::Sha384 => "SHA2_384",
        DigestAlg::Sha512 => "SHA2_512",
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};

    use super::*;

    fn key() -> (EcdsaKeyPair, Vec<u8>) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = pair.public_key().as_der().unwrap().as_ref().to_vec();
        (pair, spki)
    }

    fn request(digest: &[u8], sig: &[u8], spki: &[u8]) -> Value {
        json!({ "hashedRekordRequestV002": {
            "digest": B64.encode(digest),
            "signature": {
                "content": B64.encode(sig),
                "verifier": {
                    "publicKey": { "rawBytes": B64.encode(spki) },
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                },
            },
        }})
    }

    #[test]
    fn a_hashedrekord_body_is_the_canonical_protobuf_json_of_the_checked_entry() {
        let (pair, spki) = key();
        let sig = pair.sign(&SystemRandom::new(), b"artifact").unwrap();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"artifact");
        let entry = canonicalize(&request(digest.as_ref(), sig.as_ref(), &spki)).unwrap();
        assert_eq!(entry.kind, "hashedrekord");
        let expected = format!(
            concat!(
                r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":"#,
                r#"{{"data":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":{{"content":"{}","#,
                r#""verifier":{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}}}}}}}}}}}"#
            ),
            B64.encode(digest.as_ref()),
            B64.encode(sig.as_ref()),
            B64.encode(&spki)
        );
        assert_eq!(String::from_utf8(entry.canonical.body).unwrap(), expected);

        // The same signature over another digest, and a key that does not match its details.
        let other = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"other");
        let refused = canonicalize(&request(other.as_ref(), sig.as_ref(), &spki)).unwrap_err();
        assert!(refused.0.starts_with("signature rejected"), "{}", refused.0);
        let mut wrong = request(digest.as_ref(), sig.as_ref(), &spki);
        wrong["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
            json!("PKIX_ECDSA_P384_SHA_384");
        assert!(canonicalize(&wrong).unwrap_err().0.contains("P256 key"));
    }

    #[test]
    fn malformed_requests_name_the_field() {
        for (request, expected) in [
            (json!({}), "expected `hashedRekordRequestV002`"),
            (
                json!({ "hashedRekordRequestV002": {}, "dsseRequestV002": {} }),
                "not both",
            ),
            (
                json!({ "hashedRekordRequestV002": { "digest": "AA==" } }),
                "signature is required",
            ),
            (
                json!({ "dsseRequestV002": { "verifiers": [] } }),
                "envelope is required",
            ),
            (
                json!({ "dsseRequestV002": { "envelope": { "signatures": [{ "sig": "AA==" }] } } }),
                "verifiers is empty",
            ),
            (
                json!({ "hashedRekordRequestV002": { "signature": { "verifier": {
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                }}}}),
                "exactly one of",
            ),
            (
                json!({ "hashedRekordRequestV002": { "signature": { "verifier": {
                    "keyDetails": 5, "publicKey": { "rawBytes": "AA==" },
                }}}}),
                "name of a PublicKeyDetails",
            ),
        ] {
            let refused = canonicalize(&request).unwrap_err().0;
            assert!(refused.contains(expected), "{request}: {refused}");
        }
    }
}

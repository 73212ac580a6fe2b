//! Rekor `intoto` 0.0.1 log entries: the kind cosign logs attestations as with
//! `attest --rekor-entry-type intoto` (and did by default before it learnt `dsse`).
//!
//! The Sigstore verification crates know `intoto` 0.0.2 only. Of the steps of verifying such a
//! bundle, only the last one depends on the entry's kind: does the logged body describe this
//! bundle's envelope and signer? The signed entry timestamp and the inclusion proof cover the
//! canonical body whatever its kind, and the certificate chain, SCT, RFC 3161 timestamps, DSSE
//! signature and statement subject do not involve the entry. So the bundle goes to the library
//! with its entry relabelled 0.0.2; the library makes every step and stops at the last, where
//! it cannot read the body as 0.0.2 ([`is_last_step_stop`]); and [`check_entry`] makes that
//! last step for 0.0.1.
//!
//! Specification: Rekor's `intoto` v0.0.1 type (`pkg/types/intoto/v0.0.1`, schema
//! `intoto_v0_0_1_schema.json`). The canonical body is
//! `{"apiVersion":"0.0.1","kind":"intoto","spec":{"content":{"hash":H,"payloadHash":P},
//! "publicKey":K}}`: `H` is the SHA-256 of the envelope exactly as it was submitted (the
//! envelope itself is write-only and not logged), `P` the SHA-256 of the decoded payload, and
//! `K` the base64 of the signer's certificate or public key in PEM.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sigstore_types::{Bundle, SignatureContent};
use sigstore_verify::{Error, TransparencyLogError};

use crate::report::{Check, CheckId};

/// The kind and version this module checks.
pub(crate) const KIND: &str = "intoto";
pub(crate) const VERSION: &str = "0.0.1";

/// Relabels `intoto` 0.0.1 log entries of a bundle (as JSON) to 0.0.2, the version the
/// Sigstore crates parse; returns how many entries were relabelled.
pub(crate) fn relabel(bundle: &mut serde_json::Value) -> usize {
    let Some(entries) = bundle
        .pointer_mut("/verificationMaterial/tlogEntries")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return 0;
    };
    let mut relabelled = 0;
    for entry in entries {
        let Some(kind) = entry.get_mut("kindVersion") else {
            continue;
        };
        if kind.get("kind").and_then(serde_json::Value::as_str) == Some(KIND)
            && kind.get("version").and_then(serde_json::Value::as_str) == Some(VERSION)
        {
            kind["version"] = VERSION_LIBRARY.into();
            relabelled += 1;
        }
    }
    relabelled
}

const VERSION_LIBRARY: &str = "0.0.2";

/// Whether the library stopped where a relabelled entry makes it stop, and only there: at its
/// last step, reading the entry's body as `intoto` 0.0.2. Every step before it passed.
pub(crate) fn is_last_step_stop(error: &Error) -> bool {
    // The library's message is the only way to tell this stop apart; the tests with cosign's
    // own entries and with tampered ones catch a rewording.
    matches!(
        error,
        Error::TransparencyLog(TransparencyLogError::MalformedEntry(m))
            if m.starts_with("failed to parse Rekor body")
    )
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
}

#[derive(Deserialize)]
struct Body {
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    content: Content,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    hash: Hash,
    payload_hash: Hash,
}

#[derive(Deserialize)]
struct Hash {
    algorithm: String,
    value: String,
}

/// Who the verified signature is by: the leaf certificate (keyless) or the policy's key.
pub(crate) enum Signer<'a> {
    Certificate { der: &'a [u8], public_key: &'a [u8] },
    Key(&'a [u8]),
}

/// The last step for an `intoto` 0.0.1 entry: the logged body must be of that kind and
/// describe this bundle's envelope (the SHA-256 of the envelope as submitted; `logged` is
/// those bytes where the caller has them, as in a cosign `.att` layer, otherwise the envelope
/// is written as cosign writes it), its payload, and the signer that the signature verified
/// against.
pub(crate) fn check_entry(
    bundle: &Bundle,
    logged: Option<&[u8]>,
    signer: &Signer<'_>,
) -> Result<(), Check> {
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return Err(fail(
            "an intoto log entry describes a DSSE envelope, but the bundle holds a message signature",
        ));
    };
    let [entry] = bundle.verification_material.tlog_entries.as_slice() else {
        return Err(fail(format!(
            "a bundle with an intoto {VERSION} log entry must have exactly one log entry, not {}",
            bundle.verification_material.tlog_entries.len()
        )));
    };
    let raw = entry.canonicalized_body.as_bytes();
    let head: Head = serde_json::from_slice(raw)
        .map_err(|e| fail(format!("the log entry's body does not name its kind: {e}")))?;
    if head.kind != KIND || head.api_version != VERSION {
        return Err(
            fail("the log entry's body is of another kind than its label").with_values(
                format!("{KIND} {VERSION}"),
                format!("{} {}", head.kind, head.api_version),
            ),
        );
    }
    let body: Body = serde_json::from_slice(raw).map_err(|e| {
        fail(format!(
            "the log entry's body is not an intoto {VERSION} body: {e}"
        ))
    })?;
    let content = &body.spec.content;
    for (what, hash) in [
        ("hash", &content.hash),
        ("payloadHash", &content.payload_hash),
    ] {
        if hash.algorithm != "sha256" {
            return Err(fail(format!("the log entry's {what} is not a SHA-256"))
                .with_values("sha256", hash.algorithm.clone()));
        }
    }

    // The envelope: the bytes as logged must be this bundle's envelope, and hash to `hash`.
    let written;
    let envelope_bytes = match logged {
        Some(bytes) => {
            let parsed: sigstore_types::DsseEnvelope =
                serde_json::from_slice(bytes).map_err(|e| {
                    fail(format!(
                        "the envelope as logged is not a DSSE envelope: {e}"
                    ))
                })?;
            if parsed != *envelope {
                return Err(fail(
                    "the envelope as logged is not the envelope the bundle carries",
                ));
            }
            bytes
        }
        None => {
            written = as_cosign_writes(envelope);
            written.as_bytes()
        }
    };
    let envelope_hash = sha256_hex(envelope_bytes);
    if !content.hash.value.eq_ignore_ascii_case(&envelope_hash) {
        let mut check = fail("the log entry is for another envelope than this bundle's")
            .with_values(
                format!("sha256:{}", content.hash.value),
                format!("sha256:{envelope_hash}"),
            );
        if logged.is_none() {
            check = check.with_hint(
                "an intoto 0.0.1 entry hashes the envelope's bytes as they were submitted, \
                 which a bundle does not keep; vouch compared the envelope as cosign writes \
                 it. Verify the image's cosign `.att` layer instead, which holds those bytes",
            );
        }
        return Err(check);
    }
    let payload_hash = sha256_hex(envelope.payload.as_bytes());
    if !content
        .payload_hash
        .value
        .eq_ignore_ascii_case(&payload_hash)
    {
        return Err(
            fail("the log entry is for another payload than this bundle's").with_values(
                format!("sha256:{}", content.payload_hash.value),
                format!("sha256:{payload_hash}"),
            ),
        );
    }

    // The signer: the logged certificate or key must be the one the signature verified with.
    let pem = STANDARD
        .decode(body.spec.public_key.as_bytes())
        .map_err(|e| fail(format!("the log entry's publicKey is not base64: {e}")))?;
    let (label, der) = crate::key::pem_decode(&pem)
        .map_err(|e| fail(format!("the log entry's publicKey is not PEM: {e}")))?;
    let same = match (label.as_str(), signer) {
        ("CERTIFICATE", Signer::Certificate { der: leaf, .. }) => der == *leaf,
        ("CERTIFICATE", Signer::Key(key)) => certificate_key(&der).is_some_and(|k| k == *key),
        ("PUBLIC KEY", Signer::Certificate { public_key, .. }) => der == *public_key,
        ("PUBLIC KEY", Signer::Key(key)) => der == *key,
        _ => false,
    };
    if !same {
        let expected = match signer {
            Signer::Certificate { .. } => "the bundle's signing certificate",
            Signer::Key(_) => "the verification key",
        };
        return Err(fail(
            "the log entry names another signer than the one this bundle verified with",
        )
        .with_values(
            expected,
            format!("a {} block of another", label.to_lowercase()),
        ));
    }
    Ok(())
}

/// The envelope as cosign's Go code serialises it (`encoding/json` of the DSSE library's
/// envelope: fields in declaration order, `keyid` always present, and `<`, `>`, `&`, U+2028
/// and U+2029 escaped).
fn as_cosign_writes(envelope: &sigstore_types::DsseEnvelope) -> String {
    format!(
        r#"{{"payloadType":{},"payload":{},"signatures":[{{"keyid":{},"sig":{}}}]}}"#,
        go_string(&envelope.payload_type),
        go_string(&envelope.payload.to_base64()),
        go_string(envelope.signature.keyid.as_str()),
        go_string(&envelope.signature.sig.to_base64()),
    )
}

fn go_string(s: &str) -> String {
    let json = serde_json::Value::from(s).to_string();
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The DER SubjectPublicKeyInfo of a certificate.
fn certificate_key(der: &[u8]) -> Option<Vec<u8>> {
    use x509_cert::der::{Decode as _, Encode as _};
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    cert.tbs_certificate.subject_public_key_info.to_der().ok()
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::to_hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

fn fail(message: impl Into<String>) -> Check {
    Check::failed(CheckId::TlogEntry, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_strings_escape_what_go_escapes() {
        assert_eq!(
            go_string("a<b>&\"c\u{2028}"),
            r#""a\u003cb\u003e\u0026\"c\u2028""#
        );
        assert_eq!(
            go_string("application/vnd.in-toto+json"),
            r#""application/vnd.in-toto+json""#
        );
    }

    #[test]
    fn relabel_touches_intoto_0_0_1_only() {
        let mut bundle = serde_json::json!({"verificationMaterial": {"tlogEntries": [
            {"kindVersion": {"kind": "intoto", "version": "0.0.1"}},
            {"kindVersion": {"kind": "dsse", "version": "0.0.1"}},
            {"kindVersion": {"kind": "intoto", "version": "0.0.2"}},
        ]}});
        assert_eq!(relabel(&mut bundle), 1);
        let versions: Vec<_> = bundle["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kindVersion"]["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["0.0.2", "0.0.1", "0.0.2"]);
        assert_eq!(relabel(&mut serde_json::json!({"a": 1})), 0);
    }
}

//! Rekor submissions: v1 entries built here (with a certificate or a managed public key, which
//! the library's v1 types cannot carry), v2 through the library's client.
//!
//! A retried v1 submission whose first attempt was recorded but whose answer was lost meets a
//! 409; the existing entry is then fetched from the `Location` the log names, and the bundle's
//! self-verification proves it is the same entry.

use super::retry::{Failure, transient_status};
use super::{Service, SignError};
use base64::Engine as _;
use serde_json::json;
use sigstore_sign::rekor::{HashedRekordV2, LogEntry, RekorV2Client, RekorV2KeyDetails};
use sigstore_sign::reqwest;
use sigstore_types::{
    DerCertificate, DerPublicKey, DsseEnvelope, KindVersion, Sha256Hash, SignatureBytes,
    TransparencyLogEntry,
};

/// Who signed: the Fulcio certificate or the managed key.
#[derive(Clone, Copy)]
pub(crate) enum Verifier<'a> {
    Certificate(&'a DerCertificate),
    PublicKey(&'a DerPublicKey),
}

impl Verifier<'_> {
    fn pem(&self) -> String {
        match self {
            Verifier::Certificate(c) => c.to_pem(),
            Verifier::PublicKey(k) => k.to_pem(),
        }
    }
}

/// What goes into the log.
pub(crate) enum Entry<'a> {
    /// A signature over an artifact digest.
    HashedRekord {
        digest: &'a Sha256Hash,
        signature: &'a SignatureBytes,
    },
    /// A DSSE envelope.
    Dsse { envelope: &'a DsseEnvelope },
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn v1_body(entry: &Entry<'_>, verifier: Verifier<'_>) -> Result<serde_json::Value, SignError> {
    let pem = b64(verifier.pem().as_bytes());
    Ok(match entry {
        Entry::HashedRekord { digest, signature } => json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
                "signature": {"content": b64(signature.as_bytes()), "publicKey": {"content": pem}},
            },
        }),
        Entry::Dsse { envelope } => {
            let envelope = serde_json::to_string(envelope)
                .map_err(|e| SignError::Internal(format!("DSSE envelope to JSON: {e}")))?;
            json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {"proposedContent": {"envelope": envelope, "verifiers": [pem]}},
            })
        }
    })
}

fn kind_version(entry: &Entry<'_>) -> KindVersion {
    match entry {
        Entry::HashedRekord { .. } => KindVersion::HashedRekordV001,
        Entry::Dsse { .. } => KindVersion::DsseV001,
    }
}

/// One v1 attempt: submit, or on 409 fetch the entry the log already has.
pub(crate) async fn submit_v1(
    http: &reqwest::Client,
    base: &str,
    entry: &Entry<'_>,
    verifier: Verifier<'_>,
) -> Result<TransparencyLogEntry, Failure<SignError>> {
    let body = v1_body(entry, verifier).map_err(Failure::Permanent)?;
    let url = format!("{}/api/v1/log/entries", base.trim_end_matches('/'));
    let response = http
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| Failure::Transient(transport(Service::Rekor, &url, &e)))?;
    let status = response.status().as_u16();
    let response = if status == 409 {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                Failure::Permanent(SignError::Refused {
                    service: Service::Rekor,
                    url: url.clone(),
                    status,
                    message: "409 without a Location header naming the existing entry".into(),
                })
            })?;
        let existing = resolve(base, &location);
        http.get(&existing)
            .send()
            .await
            .map_err(|e| Failure::Transient(transport(Service::Rekor, &existing, &e)))?
    } else {
        response
    };
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| Failure::Transient(transport(Service::Rekor, &url, &e)))?;
    if !(200..300).contains(&status) {
        return Err(status_failure(Service::Rekor, &url, status, &text));
    }
    let entries: std::collections::BTreeMap<String, LogEntry> = serde_json::from_str(&text)
        .map_err(|e| {
            Failure::Permanent(SignError::BadResponse {
                service: Service::Rekor,
                url: url.clone(),
                message: format!("not a v1 log entry response: {e}"),
            })
        })?;
    let mut entries = entries.into_iter();
    let (_, entry_v1) = match (entries.next(), entries.next()) {
        (Some(one), None) => one,
        _ => {
            return Err(Failure::Permanent(SignError::BadResponse {
                service: Service::Rekor,
                url,
                message: "expected exactly one entry in the response".into(),
            }));
        }
    };
    entry_v1.to_bundle_entry(kind_version(entry)).map_err(|e| {
        Failure::Permanent(SignError::BadResponse {
            service: Service::Rekor,
            url,
            message: e.to_string(),
        })
    })
}

/// One v2 attempt.
pub(crate) async fn submit_v2(
    http: &reqwest::Client,
    base: &str,
    entry: &Entry<'_>,
    verifier: Verifier<'_>,
) -> Result<TransparencyLogEntry, Failure<SignError>> {
    let url = format!("{}/api/v2/log/entries", base.trim_end_matches('/'));
    match entry {
        Entry::HashedRekord { digest, signature } => {
            let request = match verifier {
                Verifier::Certificate(c) => HashedRekordV2::new_with_certificate(
                    digest,
                    signature,
                    c,
                    RekorV2KeyDetails::PkixEcdsaP256Sha256,
                ),
                Verifier::PublicKey(k) => HashedRekordV2::new_with_public_key(
                    digest,
                    signature,
                    k,
                    RekorV2KeyDetails::PkixEcdsaP256Sha256,
                ),
            };
            let client = RekorV2Client::builder(base)
                .with_http_client(http.clone())
                .build()
                .map_err(|e| Failure::Permanent(SignError::Internal(e.to_string())))?;
            client
                .create_entry(request)
                .await
                .map_err(|e| rekor_failure(&url, e))
        }
        Entry::Dsse { envelope } => {
            // Rekor v2 has a `dsse` kind, but the Sigstore Rust crates (0.15) cannot read a
            // `dsse/0.0.2` entry back, so no Rust verifier could check the bundle. The log
            // entry is instead a `hashedrekord/0.0.2` over the SHA-256 of the envelope's
            // pre-authentication encoding, which is exactly what the envelope signature signs:
            // the same binding, in the form `sigstore-sign` itself uses.
            let pae =
                sigstore_types::dsse::pae(&envelope.payload_type, envelope.payload.as_bytes());
            let digest = sigstore_sign::crypto::sha256(&pae);
            let inner = Entry::HashedRekord {
                digest: &digest,
                signature: &envelope.signature.sig,
            };
            Box::pin(submit_v2(http, base, &inner, verifier)).await
        }
    }
}

/// A `Location` is usually a path on the log; an absolute URL is taken as given.
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_owned()
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            location.trim_start_matches('/')
        )
    }
}

pub(crate) fn transport(service: Service, url: &str, e: &reqwest::Error) -> SignError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // reqwest's Display names the URL, never a header, so a bearer token cannot leak here.
    SignError::Unreachable {
        service,
        url: url.to_owned(),
        message: format!("{what}: {e}"),
        attempts: 0,
    }
}

pub(crate) fn status_failure(
    service: Service,
    url: &str,
    status: u16,
    body: &str,
) -> Failure<SignError> {
    let error = SignError::Refused {
        service,
        url: url.to_owned(),
        status,
        message: truncate(body),
    };
    if transient_status(status) {
        Failure::Transient(error)
    } else {
        Failure::Permanent(error)
    }
}

/// Server error bodies are shown, but bounded: a misbehaving server must not flood the terminal.
pub(crate) fn truncate(body: &str) -> String {
    const LIMIT: usize = 512;
    let body = body.trim();
    if body.len() <= LIMIT {
        return body.to_owned();
    }
    let mut end = LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}

fn rekor_failure(url: &str, e: sigstore_sign::rekor::Error) -> Failure<SignError> {
    use sigstore_sign::rekor::Error as E;
    match e {
        E::Status { status, message } => status_failure(Service::Rekor, url, status, &message),
        E::Http(message) => Failure::Transient(SignError::Unreachable {
            service: Service::Rekor,
            url: url.to_owned(),
            message,
            attempts: 0,
        }),
        other => Failure::Permanent(SignError::BadResponse {
            service: Service::Rekor,
            url: url.to_owned(),
            message: other.to_string(),
        }),
    }
}

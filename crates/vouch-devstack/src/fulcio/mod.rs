//! The devstack's Fulcio: short-lived code-signing certificates for the identities the
//! devstack's OIDC issuer vouches for, each with an embedded SCT from the devstack's CT log key.
//!
//! The HTTP API is the REST mapping (gRPC-gateway) of Fulcio's v2 service,
//! [`fulcio.proto`](https://github.com/sigstore/fulcio/blob/main/fulcio.proto):
//! - `POST /api/v2/signingCert`: `CreateSigningCertificateRequest`, with the identity token in
//!   `credentials.oidcIdentityToken` or, as sigstore-python sends it, in an
//!   `Authorization: Bearer` header; the key either as `publicKeyRequest` (a PEM public key
//!   and a signature over the token's `sub` claim) or as `certificateSigningRequest` (base64 of a
//!   PEM PKCS#10 request). The answer is `signedCertificateEmbeddedSct.chain.certificates`:
//!   leaf, intermediate, root, PEM.
//! - `GET /api/v2/trustBundle`: the CA chain.
//! - `GET /api/v2/configuration`: the OIDC issuer the CA accepts.
//! - `POST /api/v1/signingCert`: the legacy v1 API that cosign 2.x still calls (Fulcio's
//!   `legacy` gRPC service, `fulcio_legacy.proto`, mapped onto the v2 one as Fulcio does):
//!   `{"publicKey": {"content", "algorithm"}, "signedEmailAddress"}` (the key and the proof of
//!   possession as base64 bytes) or `{"certificateSigningRequest"}`, the token in an
//!   `Authorization: Bearer` header. The answer is `201 Created`, the PEM chain (leaf first) as
//!   `application/pem-certificate-chain`, and an `SCT` header that is empty because the SCT is
//!   embedded in the leaf.
//! - `GET /api/v1/rootCert`: the CA chain, PEM.
//!
//! Errors are gRPC-gateway's JSON, `{"code": GRPC_CODE, "message": …, "details": []}`, with the
//! HTTP status the gateway maps the code to; the message says which check failed.
//!
//! The certificate profile follows Fulcio's certificate specification
//! (<https://github.com/sigstore/fulcio/blob/main/docs/certificate-specification.md>) and OID
//! directory (<https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>); the embedded
//! SCT is RFC 6962's, in [`sct`].

mod cert;
mod key;
pub mod sct;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

pub use cert::CERT_VALIDITY_SECS;

use crate::oidc::{self, TokenError};
use crate::{AppState, Error, Shared};

/// Largest `signingCert` request accepted. A request is a token (about a kilobyte), and a CSR
/// or public key and signature (a few hundred bytes for ECDSA, under two kilobytes for RSA-4096).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Why a certificate was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FulcioError {
    /// The request body is larger than [`MAX_REQUEST_BYTES`].
    #[error("the request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body is not a `CreateSigningCertificateRequest` in JSON.
    #[error("the request is not a CreateSigningCertificateRequest in JSON: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// Neither `credentials.oidcIdentityToken` nor an `Authorization: Bearer` header.
    #[error(
        "no identity token: send it in `credentials.oidcIdentityToken` or an `Authorization: Bearer` header"
    )]
    MissingToken,
    /// The identity token was refused.
    #[error("invalid identity token: {0}")]
    Token(#[from] TokenError),
    /// Neither or both of `publicKeyRequest` (`publicKey` in the v1 API) and
    /// `certificateSigningRequest`.
    #[error(
        "the request must have exactly one of `publicKeyRequest` (v1: `publicKey`) and `certificateSigningRequest`"
    )]
    KeyForm,
    /// The key or CSR does not decode.
    #[error("`{field}` is invalid: {reason}")]
    BadKey {
        /// The request field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A key Fulcio does not certify.
    #[error(
        "unsupported public key: {found} (supported: ECDSA P-256, P-384 and P-521, Ed25519, RSA 2048 to 4096 bits)"
    )]
    UnsupportedKey {
        /// What was sent.
        found: String,
    },
    /// The proof of possession does not verify.
    #[error("bad proof of possession: {what}")]
    BadProof {
        /// Which signature failed.
        what: &'static str,
    },
    /// The token names no identity a certificate can carry.
    #[error("cannot certify this identity: {reason}")]
    UnsupportedIdentity {
        /// Why.
        reason: String,
    },
    /// The devstack failed.
    #[error("internal error: {0}")]
    Internal(#[from] Error),
}

impl FulcioError {
    /// The gRPC status code and the HTTP status the gateway answers with.
    fn codes(&self) -> (u16, StatusCode) {
        match self {
            // RESOURCE_EXHAUSTED; the body never reached the gateway's decoder, so the HTTP
            // status is the one for a body over the limit.
            FulcioError::TooLarge { .. } => (8, StatusCode::PAYLOAD_TOO_LARGE),
            // UNAUTHENTICATED
            FulcioError::MissingToken | FulcioError::Token(_) => (16, StatusCode::UNAUTHORIZED),
            // INTERNAL
            FulcioError::Internal(_) => (13, StatusCode::INTERNAL_SERVER_ERROR),
            // INVALID_ARGUMENT
            _ => (3, StatusCode::BAD_REQUEST),
        }
    }
}

impl IntoResponse for FulcioError {
    fn into_response(self) -> Response {
        let (code, status) = self.codes();
        let body = json!({ "code": code, "message": self.to_string(), "details": [] });
        (status, Json(body)).into_response()
    }
}

/// Routes: `/api/v2/signingCert`, `/api/v2/trustBundle`, `/api/v2/configuration`, and the
/// legacy `/api/v1/signingCert` and `/api/v1/rootCert`.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/api/v2/signingCert",
            post(signing_cert).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
        )
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
        .route(
            "/api/v1/signingCert",
            post(legacy_signing_cert).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
        )
        .route("/api/v1/rootCert", get(legacy_root_cert))
}

/// `CreateSigningCertificateRequest` in protobuf's JSON mapping, which accepts both the
/// lowerCamelCase and the original field names.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertRequest {
    #[serde(default)]
    credentials: Option<Credentials>,
    #[serde(default, alias = "public_key_request")]
    public_key_request: Option<PublicKeyRequest>,
    #[serde(default, alias = "certificate_signing_request")]
    certificate_signing_request: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    #[serde(default, alias = "oidc_identity_token")]
    oidc_identity_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    #[serde(default, alias = "public_key")]
    public_key: Option<PublicKey>,
    #[serde(default, alias = "proof_of_possession")]
    proof_of_possession: Option<String>,
}

/// `PublicKey`. Its `algorithm` is not read: the key's own algorithm identifier decides, as in
/// Fulcio.
#[derive(Debug, Deserialize)]
struct PublicKey {
    #[serde(default)]
    content: Option<String>,
}

async fn signing_cert(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match request_body(body) {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    match create_signing_certificate(&shared, &body, bearer(&headers), crate::now_unix()) {
        Ok(chain) => Json(json!({
            "signedCertificateEmbeddedSct": { "chain": { "certificates": chain } }
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn legacy_signing_cert(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match request_body(body) {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    match create_signing_certificate_v1(&shared, &body, bearer(&headers), crate::now_unix()) {
        Ok(chain) => (
            StatusCode::CREATED,
            [
                (header::CONTENT_TYPE, PEM_CERTIFICATE_CHAIN),
                // The SCT is embedded in the leaf; Fulcio's gateway still sends the header.
                (header::HeaderName::from_static("sct"), ""),
            ],
            chain.concat(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The media type of the v1 API's answers.
const PEM_CERTIFICATE_CHAIN: &str = "application/pem-certificate-chain";

/// The body, or the error for one over the limit or unreadable.
fn request_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, FulcioError> {
    match body {
        Ok(body) => Ok(body),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(FulcioError::TooLarge {
                limit: MAX_REQUEST_BYTES,
            })
        }
        Err(rejection) => Err(FulcioError::Malformed {
            reason: rejection.body_text(),
        }),
    }
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// A request body of at most [`MAX_REQUEST_BYTES`], as JSON.
fn parse_request<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FulcioError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(FulcioError::TooLarge {
            limit: MAX_REQUEST_BYTES,
        });
    }
    serde_json::from_slice(body).map_err(|e| FulcioError::Malformed {
        reason: e.to_string(),
    })
}

/// Handles a `CreateSigningCertificateRequest` at `now` (Unix seconds): verifies the token and
/// the proof of possession, and returns the PEM chain, leaf first.
pub fn create_signing_certificate(
    shared: &Shared,
    body: &[u8],
    bearer: Option<&str>,
    now: i64,
) -> Result<Vec<String>, FulcioError> {
    let request: SigningCertRequest = parse_request(body)?;
    let token = request
        .credentials
        .and_then(|c| c.oidc_identity_token)
        .filter(|t| !t.is_empty())
        .or_else(|| bearer.filter(|t| !t.is_empty()).map(str::to_owned))
        .ok_or(FulcioError::MissingToken)?;
    let key_form = match (
        request.public_key_request,
        request.certificate_signing_request,
    ) {
        (Some(pkr), None) => KeyRequest::PublicKey {
            content: pkr
                .public_key
                .and_then(|k| k.content)
                .ok_or(FulcioError::BadKey {
                    field: "publicKeyRequest.publicKey.content",
                    reason: "missing".into(),
                })?,
            proof: pkr.proof_of_possession.ok_or(FulcioError::BadKey {
                field: "publicKeyRequest.proofOfPossession",
                reason: "missing".into(),
            })?,
        },
        (None, Some(csr)) => KeyRequest::Csr(csr),
        _ => return Err(FulcioError::KeyForm),
    };
    certify(shared, &token, key_form, now)
}

/// How a request proves possession of its key.
enum KeyRequest {
    /// A PEM public key (or base64 DER) and base64 of a signature over the token's `sub`.
    PublicKey { content: String, proof: String },
    /// Base64 of a PEM (or DER) PKCS#10 request.
    Csr(String),
}

/// The legacy v1 `CreateSigningCertificateRequest` (`fulcio_legacy.proto`) in protobuf's JSON
/// mapping: `bytes` fields are base64.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacySigningCertRequest {
    #[serde(default, alias = "public_key")]
    public_key: Option<LegacyPublicKey>,
    #[serde(default, alias = "signed_email_address")]
    signed_email_address: Option<String>,
    #[serde(default, alias = "certificate_signing_request")]
    certificate_signing_request: Option<String>,
}

/// The legacy `PublicKey`: `content` is base64 of the key's PEM (or DER) bytes. Its
/// `algorithm` is not read, as in [`PublicKey`].
#[derive(Debug, Deserialize)]
struct LegacyPublicKey {
    #[serde(default)]
    content: Option<String>,
}

/// Handles a legacy v1 request at `now` (Unix seconds), as Fulcio does: mapped onto the v2
/// request, with the token taken from the `Authorization: Bearer` header only (the v1 request
/// has no field for it). Returns the PEM chain, leaf first.
pub fn create_signing_certificate_v1(
    shared: &Shared,
    body: &[u8],
    bearer: Option<&str>,
    now: i64,
) -> Result<Vec<String>, FulcioError> {
    let request: LegacySigningCertRequest = parse_request(body)?;
    let token = bearer
        .filter(|t| !t.is_empty())
        .ok_or(FulcioError::MissingToken)?;
    let csr = request
        .certificate_signing_request
        .filter(|c| !c.is_empty());
    let key_form = match (request.public_key, csr) {
        (Some(key), None) => {
            let content = key
                .content
                .filter(|c| !c.is_empty())
                .ok_or(FulcioError::BadKey {
                    field: "publicKey.content",
                    reason: "missing".into(),
                })?;
            let bytes = crate::pem::decode_b64(&content).ok_or(FulcioError::BadKey {
                field: "publicKey.content",
                reason: "not base64".into(),
            })?;
            // PEM bytes become the PEM text the v2 form takes; DER stays base64.
            let content = match String::from_utf8(bytes) {
                Ok(text) if text.trim_start().starts_with("-----BEGIN") => text,
                _ => content,
            };
            KeyRequest::PublicKey {
                content,
                proof: request.signed_email_address.ok_or(FulcioError::BadKey {
                    field: "signedEmailAddress",
                    reason: "missing".into(),
                })?,
            }
        }
        (None, Some(csr)) => KeyRequest::Csr(csr),
        _ => return Err(FulcioError::KeyForm),
    };
    certify(shared, token, key_form, now)
}

/// Verifies the token and the proof of possession, and issues the chain, PEM, leaf first.
fn certify(
    shared: &Shared,
    token: &str,
    key_form: KeyRequest,
    now: i64,
) -> Result<Vec<String>, FulcioError> {
    let claims = oidc::verify(&shared.keys.oidc, &shared.base_url, token, now)?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let key = match key_form {
        KeyRequest::PublicKey { content, proof } => {
            key::from_public_key_request(&content, &proof, subject)?
        }
        KeyRequest::Csr(csr) => key::from_csr(&csr)?,
    };
    let leaf = cert::issue(shared, &claims, &key, now)?;
    let a = &shared.authorities;
    Ok(vec![
        key::pem_encode("CERTIFICATE", &leaf),
        key::pem_encode("CERTIFICATE", &a.fulcio_intermediate.cert_der),
        key::pem_encode("CERTIFICATE", &a.fulcio_root.cert_der),
    ])
}

async fn legacy_root_cert(State(shared): State<AppState>) -> Response {
    let a = &shared.authorities;
    let chain = [
        key::pem_encode("CERTIFICATE", &a.fulcio_intermediate.cert_der),
        key::pem_encode("CERTIFICATE", &a.fulcio_root.cert_der),
    ];
    (
        [(header::CONTENT_TYPE, PEM_CERTIFICATE_CHAIN)],
        chain.concat(),
    )
        .into_response()
}

async fn trust_bundle(State(shared): State<AppState>) -> Json<Value> {
    let a = &shared.authorities;
    Json(json!({
        "chains": [{ "certificates": [
            key::pem_encode("CERTIFICATE", &a.fulcio_intermediate.cert_der),
            key::pem_encode("CERTIFICATE", &a.fulcio_root.cert_der),
        ]}]
    }))
}

/// The one issuer: the devstack's own. Its email tokens have `sub` equal to `email`, and its
/// other tokens name a URI in `sub`, so `sub` is the claim every certificate's identity (and
/// every proof of possession) comes from.
async fn configuration(State(shared): State<AppState>) -> Json<Value> {
    Json(json!({
        "issuers": [{
            "issuerUrl": shared.base_url,
            "audience": oidc::AUDIENCE,
            "challengeClaim": "sub",
        }]
    }))
}

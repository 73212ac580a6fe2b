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
    /// Neither or both of `publicKeyRequest` and `certificateSigningRequest`.
    #[error(
        "the request must have exactly one of `publicKeyRequest` and `certificateSigningRequest`"
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

/// Routes: `/api/v2/signingCert`, `/api/v2/trustBundle`, `/api/v2/configuration`.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/api/v2/signingCert",
            post(signing_cert).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
        )
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
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
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return FulcioError::TooLarge {
                limit: MAX_REQUEST_BYTES,
            }
            .into_response();
        }
        Err(rejection) => {
            return FulcioError::Malformed {
                reason: rejection.body_text(),
            }
            .into_response();
        }
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match create_signing_certificate(&shared, &body, bearer, crate::now_unix()) {
        Ok(chain) => Json(json!({
            "signedCertificateEmbeddedSct": { "chain": { "certificates": chain } }
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Handles a `CreateSigningCertificateRequest` at `now` (Unix seconds): verifies the token and
/// the proof of possession, and returns the PEM chain, leaf first.
pub fn create_signing_certificate(
    shared: &Shared,
    body: &[u8],
    bearer: Option<&str>,
    now: i64,
) -> Result<Vec<String>, FulcioError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(FulcioError::TooLarge {
            limit: MAX_REQUEST_BYTES,
        });
    }
    let request: SigningCertRequest =
        serde_json::from_slice(body).map_err(|e| FulcioError::Malformed {
            reason: e.to_string(),
        })?;
    let token = request
        .credentials
        .and_then(|c| c.oidc_identity_token)
        .filter(|t| !t.is_empty())
        .or_else(|| bearer.filter(|t| !t.is_empty()).map(str::to_owned))
        .ok_or(FulcioError::MissingToken)?;
    let claims = oidc::verify(&shared.keys.oidc, &shared.base_url, &token, now)?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();

    let key = match (
        request.public_key_request,
        request.certificate_signing_request,
    ) {
        (Some(pkr), None) => {
            let content = pkr
                .public_key
                .and_then(|k| k.content)
                .ok_or(FulcioError::BadKey {
                    field: "publicKeyRequest.publicKey.content",
                    reason: "missing".into(),
                })?;
            let proof = pkr.proof_of_possession.ok_or(FulcioError::BadKey {
                field: "publicKeyRequest.proofOfPossession",
                reason: "missing".into(),
            })?;
            key::from_public_key_request(&content, &proof, subject)?
        }
        (None, Some(csr)) => key::from_csr(&csr)?,
        _ => return Err(FulcioError::KeyForm),
    };
    let leaf = cert::issue(shared, &claims, &key, now)?;
    let a = &shared.authorities;
    Ok(vec![
        key::pem_encode("CERTIFICATE", &leaf),
        key::pem_encode("CERTIFICATE", &a.fulcio_intermediate.cert_der),
        key::pem_encode("CERTIFICATE", &a.fulcio_root.cert_der),
    ])
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

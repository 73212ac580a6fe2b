//! The devstack's OIDC issuer: ES256 identity tokens (RFC 7519, signed per RFC 7515), the
//! discovery document (OpenID Connect Discovery 1.0) and the JWKS (RFC 7517) that clients and
//! the devstack's Fulcio verify them with.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

use crate::keys::SigningKey;
use crate::{AppState, Error};

/// The audience Sigstore clients ask for.
pub const AUDIENCE: &str = "sigstore";

/// Default token lifetime, in seconds.
pub const DEFAULT_TTL: i64 = 600;

/// The identity a token names.
#[derive(Debug, Clone)]
pub enum Subject {
    /// An email identity: `sub` and `email`, with `email_verified`.
    Email(String),
    /// Any other subject (a workflow URI, a service account).
    Other(String),
}

/// What to put in a token.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The identity.
    pub subject: Subject,
    /// Lifetime in seconds.
    pub ttl: i64,
    /// Extra claims (`repository`, `ref`, `workflow_ref`, `sha`, `event_name`, …), as strings.
    pub claims: BTreeMap<String, String>,
}

/// Mints a signed token. `issuer` is the stack's base URL; `now` Unix seconds.
pub fn mint(
    key: &SigningKey,
    issuer: &str,
    request: &TokenRequest,
    now: i64,
) -> Result<String, Error> {
    let header = json!({ "alg": "ES256", "typ": "JWT", "kid": key_id(key) });
    let mut claims = serde_json::Map::new();
    for (k, v) in &request.claims {
        claims.insert(k.clone(), Value::String(v.clone()));
    }
    let sub = match &request.subject {
        Subject::Email(e) => {
            claims.insert("email".into(), json!(e));
            claims.insert("email_verified".into(), json!(true));
            e.clone()
        }
        Subject::Other(s) => s.clone(),
    };
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), json!(AUDIENCE));
    claims.insert("iat".into(), json!(now));
    claims.insert("nbf".into(), json!(now));
    claims.insert("exp".into(), json!(now + request.ttl));
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(Value::Object(claims).to_string())
    );
    let sig = key.sign_jws(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", B64URL.encode(sig)))
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("the identity token is not a JWT: {0}")]
    Malformed(String),
    /// Signed with another algorithm or key.
    #[error("the identity token's signature does not verify with the devstack issuer's key")]
    BadSignature,
    /// Another issuer.
    #[error("the identity token was issued by `{found}`, expected `{expected}`")]
    WrongIssuer {
        /// This stack's issuer.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// Another audience.
    #[error("the identity token's audience is `{found}`, expected `sigstore`")]
    WrongAudience {
        /// The token's `aud`.
        found: String,
    },
    /// Expired, or not yet valid.
    #[error("the identity token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The time it was checked.
        now: i64,
    },
    /// Not yet valid.
    #[error("the identity token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The time it was checked.
        now: i64,
    },
    /// Missing `sub`.
    #[error("the identity token has no `{0}` claim")]
    MissingClaim(&'static str),
}

/// Verifies a token minted by this stack and returns its claims.
pub fn verify(
    key: &SigningKey,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<serde_json::Map<String, Value>, TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed(
            "expected header.claims.signature".into(),
        ));
    };
    let decode = |part: &str, what: &str| {
        B64URL
            .decode(part.trim_end_matches('='))
            .map_err(|_| TokenError::Malformed(format!("the {what} is not base64url")))
    };
    let header: Value = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|_| TokenError::Malformed("the header is not JSON".into()))?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(TokenError::BadSignature);
    }
    let sig = decode(s, "signature")?;
    let public = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        key.public_raw(),
    );
    public
        .verify(format!("{h}.{c}").as_bytes(), &sig)
        .map_err(|_| TokenError::BadSignature)?;
    let claims: serde_json::Map<String, Value> = serde_json::from_slice(&decode(c, "claims")?)
        .map_err(|_| TokenError::Malformed("the claims are not a JSON object".into()))?;
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if iss != issuer {
        return Err(TokenError::WrongIssuer {
            expected: issuer.to_owned(),
            found: iss.to_owned(),
        });
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == AUDIENCE,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(AUDIENCE)),
        _ => false,
    };
    if !aud_ok {
        return Err(TokenError::WrongAudience {
            found: claims
                .get("aud")
                .map(ToString::to_string)
                .unwrap_or_default(),
        });
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(TokenError::MissingClaim("exp"))?;
    if now >= exp {
        return Err(TokenError::Expired { exp, now });
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        // A minute of leeway for clocks that disagree.
        if now + 60 < nbf {
            return Err(TokenError::NotYetValid { nbf, now });
        }
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(TokenError::MissingClaim("sub"));
    }
    Ok(claims)
}

/// The key's JWK `kid`: the first 16 bytes of the SPKI's SHA-256, base64url.
fn key_id(key: &SigningKey) -> String {
    B64URL.encode(key.key_id().get(..16).unwrap_or_default())
}

/// The public key as a JWK.
pub fn jwk(key: &SigningKey) -> Value {
    // An uncompressed P-256 point: 0x04, then 32 bytes of x, then 32 of y.
    let point = key.public_raw();
    let x = point.get(1..33).unwrap_or_default();
    let y = point.get(33..65).unwrap_or_default();
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": B64URL.encode(x),
        "y": B64URL.encode(y),
        "kid": key_id(key),
        "use": "sig",
        "alg": "ES256",
    })
}

/// Routes: discovery and JWKS.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
}

async fn discovery(State(shared): State<AppState>) -> Json<Value> {
    let url = &shared.base_url;
    Json(json!({
        "issuer": url,
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["sub", "email", "email_verified", "aud", "exp", "iat", "iss"],
    }))
}

async fn jwks(State(shared): State<AppState>) -> Json<Value> {
    Json(json!({ "keys": [jwk(&shared.keys.oidc)] }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::keys::KeyKind;

    fn request(ttl: i64) -> TokenRequest {
        TokenRequest {
            subject: Subject::Email("dev@example.com".into()),
            ttl,
            claims: BTreeMap::new(),
        }
    }

    #[test]
    fn minted_token_verifies_and_carries_the_claims() {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let token = mint(&key, "http://127.0.0.1:1", &request(600), 1_000).unwrap();
        let claims = verify(&key, "http://127.0.0.1:1", &token, 1_100).unwrap();
        assert_eq!(claims["email"], "dev@example.com");
        assert_eq!(claims["aud"], "sigstore");
    }

    #[test]
    fn expired_wrong_issuer_and_foreign_key_are_refused_with_reasons() {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let other = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let token = mint(&key, "http://127.0.0.1:1", &request(600), 1_000).unwrap();
        assert_eq!(
            verify(&key, "http://127.0.0.1:1", &token, 1_600),
            Err(TokenError::Expired {
                exp: 1_600,
                now: 1_600
            })
        );
        assert!(matches!(
            verify(&key, "http://127.0.0.1:2", &token, 1_100),
            Err(TokenError::WrongIssuer { .. })
        ));
        assert_eq!(
            verify(&other, "http://127.0.0.1:1", &token, 1_100),
            Err(TokenError::BadSignature)
        );
        let mut tampered = token.clone();
        tampered.insert(tampered.find('.').unwrap() + 2, 'A');
        assert!(verify(&key, "http://127.0.0.1:1", &tampered, 1_100).is_err());
    }
}

//! What Fulcio will refuse in an identity token, found before the token is sent.
//!
//! The token's signature is not checked here (Fulcio does that against the issuer's keys);
//! these are the claim checks Fulcio's verifier makes, so that a bad token fails with a reason
//! and a fix instead of an opaque 401 from Fulcio:
//! - `iss` and `sub` present and non-empty, `exp` present (RFC 7519 section 4.1);
//! - `aud` containing the audience Fulcio is configured with (`sigstore` on the public-good
//!   instance);
//! - not expired: `exp` after now, with no leeway, as in Fulcio;
//! - `nbf`, when present, not more than [`NOT_BEFORE_LEEWAY`] ahead of now: Fulcio's OIDC
//!   library allows that much clock skew;
//! - for issuers Fulcio treats as email issuers ([`EMAIL_ISSUERS`]), an `email` with
//!   `email_verified: true`: Fulcio takes the certificate's identity from that claim and has
//!   no other to fall back on.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde_json::{Map, Value};
use sigstore_oidc::IdentityToken;

/// Issuers whose tokens Fulcio's public-good instance turns into an email identity: the
/// Sigstore Dex instances (production and staging) and Google accounts.
pub const EMAIL_ISSUERS: &[&str] = &[
    "https://oauth2.sigstore.dev/auth",
    "https://oauth2.sigstage.dev/auth",
    "https://accounts.google.com",
];

/// How far in the future a token's `nbf` may be, in seconds: the five minutes of clock skew
/// Fulcio's OIDC verifier (go-oidc) allows.
pub const NOT_BEFORE_LEEWAY: i64 = 300;

/// Largest token accepted, in bytes. Real ones are one or two kilobytes.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// Why a token cannot be used. No variant holds the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// Not a compact JWT with a JSON object of claims.
    #[error("the identity token is not a JWT: {reason}")]
    NotAJwt {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A claim every identity token has is missing or empty.
    #[error("the identity token has no `{claim}` claim")]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// A claim has the wrong JSON type.
    #[error("the identity token's `{claim}` claim is not {expected}")]
    InvalidClaim {
        /// The claim.
        claim: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// The token is for another audience.
    #[error(
        "the identity token's audience is {}, expected `{expected}`",
        list(found)
    )]
    WrongAudience {
        /// The audience Fulcio expects.
        expected: String,
        /// The token's `aud` values.
        found: Vec<String>,
    },
    /// The token has expired.
    #[error(
        "the identity token expired at {expired_at}, {} ago",
        duration(now.as_second().saturating_sub(expired_at.as_second()))
    )]
    Expired {
        /// The token's `exp`.
        expired_at: Timestamp,
        /// The time it was checked at.
        now: Timestamp,
    },
    /// The token is not valid yet, beyond the clock skew allowed.
    #[error(
        "the identity token is not valid before {not_before}, {} from now",
        duration(not_before.as_second().saturating_sub(now.as_second()))
    )]
    NotYetValid {
        /// The token's `nbf`.
        not_before: Timestamp,
        /// The time it was checked at.
        now: Timestamp,
    },
    /// An email issuer's token without an email address.
    #[error(
        "the identity token from `{issuer}` has no `email` claim, which Fulcio requires of this issuer"
    )]
    MissingEmail {
        /// The token's issuer.
        issuer: String,
    },
    /// An email issuer's token whose address the issuer has not verified.
    #[error(
        "the identity token from `{issuer}` does not say its email address is verified (`email_verified` is not `true`)"
    )]
    EmailNotVerified {
        /// The token's issuer.
        issuer: String,
    },
}

/// Parses a token's claims (without checking its signature), with a precise error for each
/// way a token can be unusable. Surrounding whitespace, as in a file or variable, is ignored.
pub fn parse(raw: &str) -> Result<IdentityToken, ClaimError> {
    let raw = raw.trim();
    let claims = payload(raw)?;
    for claim in ["iss", "sub"] {
        match claims.get(claim) {
            None | Some(Value::Null) => return Err(ClaimError::MissingClaim { claim }),
            Some(Value::String(_)) => {}
            Some(_) => {
                return Err(ClaimError::InvalidClaim {
                    claim,
                    expected: "a string",
                });
            }
        }
    }
    match claims.get("exp") {
        None | Some(Value::Null) => return Err(ClaimError::MissingClaim { claim: "exp" }),
        Some(v) if v.as_i64().is_some() => {}
        Some(_) => {
            return Err(ClaimError::InvalidClaim {
                claim: "exp",
                expected: "a whole number of seconds since 1970",
            });
        }
    }
    // sigstore-oidc parses the same claims again into its own type; what it still refuses
    // (a non-string `email`, an out-of-range time) gets a general reason, because its error
    // messages may quote claim values.
    IdentityToken::from_jwt(raw).map_err(|_| ClaimError::NotAJwt {
        reason: "a claim does not have the type OpenID Connect gives it",
    })
}

/// Checks what Fulcio will check of a token's claims, at `now`, for `audience` (`sigstore`
/// for the public-good instance).
pub fn check(token: &IdentityToken, audience: &str, now: Timestamp) -> Result<(), ClaimError> {
    let claims = token.claims();
    if claims.iss.trim().is_empty() {
        return Err(ClaimError::MissingClaim { claim: "iss" });
    }
    if claims.sub.trim().is_empty() {
        return Err(ClaimError::MissingClaim { claim: "sub" });
    }
    if !claims.aud.contains(audience) {
        let found = match &claims.aud {
            sigstore_oidc::Audience::Single(a) => vec![a.clone()],
            sigstore_oidc::Audience::Multiple(list) => list.clone(),
            _ => Vec::new(),
        };
        return Err(ClaimError::WrongAudience {
            expected: audience.to_owned(),
            found,
        });
    }
    if claims.exp <= now {
        return Err(ClaimError::Expired {
            expired_at: claims.exp,
            now,
        });
    }
    // `nbf` is not among sigstore-oidc's claims, so it is read from the payload again.
    match payload(token.expose_secret())?.get("nbf") {
        None | Some(Value::Null) => {}
        Some(nbf) => {
            let not_before = nbf
                .as_i64()
                .and_then(|s| Timestamp::from_second(s).ok())
                .ok_or(ClaimError::InvalidClaim {
                    claim: "nbf",
                    expected: "a whole number of seconds since 1970",
                })?;
            if now.as_second().saturating_add(NOT_BEFORE_LEEWAY) < not_before.as_second() {
                return Err(ClaimError::NotYetValid { not_before, now });
            }
        }
    }
    if is_email_issuer(&claims.iss) {
        if claims.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            return Err(ClaimError::MissingEmail {
                issuer: claims.iss.clone(),
            });
        }
        if claims.email_verified != Some(true) {
            return Err(ClaimError::EmailNotVerified {
                issuer: claims.iss.clone(),
            });
        }
    }
    Ok(())
}

/// Whether Fulcio takes the identity of this issuer's tokens from `email`.
pub fn is_email_issuer(issuer: &str) -> bool {
    let issuer = issuer.trim_end_matches('/');
    EMAIL_ISSUERS.contains(&issuer)
}

/// The claims of a compact JWT, unverified.
pub(crate) fn payload(raw: &str) -> Result<Map<String, Value>, ClaimError> {
    let not_a_jwt = |reason| ClaimError::NotAJwt { reason };
    if raw.is_empty() {
        return Err(not_a_jwt("it is empty"));
    }
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(not_a_jwt("it is larger than 64 KiB"));
    }
    let mut parts = raw.split('.');
    let (Some(header), Some(claims), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_a_jwt(
            "it does not have three dot-separated parts (header.claims.signature)",
        ));
    };
    if header.is_empty() || claims.is_empty() {
        return Err(not_a_jwt("its header or claims part is empty"));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(claims)
        .map_err(|_| not_a_jwt("its claims part is not unpadded base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(not_a_jwt("its claims part is not a JSON object")),
    }
}

fn list(values: &[String]) -> String {
    if values.is_empty() {
        return "empty".to_owned();
    }
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A rough, readable duration: "42 seconds", "5 minutes", "3 hours", "2 days".
pub(crate) fn duration(seconds: i64) -> String {
    let (n, unit) = match seconds.max(0) {
        s if s < 120 => (s, "second"),
        s if s < 2 * 3600 => (s / 60, "minute"),
        s if s < 2 * 86400 => (s / 3600, "hour"),
        s => (s / 86400, "day"),
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_750_000_000;

    fn jwt(claims: &Value) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn good() -> Value {
        json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:octo/demo:ref:refs/heads/main",
            "aud": "sigstore",
            "iat": NOW - 10,
            "nbf": NOW - 10,
            "exp": NOW + 300,
        })
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn without(mut claims: Value, key: &str) -> Value {
        claims.as_object_mut().unwrap().remove(key);
        claims
    }

    fn outcome(claims: &Value) -> Result<(), ClaimError> {
        let token = parse(&jwt(claims))?;
        check(&token, "sigstore", Timestamp::from_second(NOW).unwrap())
    }

    #[test]
    fn a_good_token_passes() {
        assert_eq!(outcome(&good()), Ok(()));
        assert_eq!(
            outcome(&with(good(), "aud", json!(["other", "sigstore"]))),
            Ok(())
        );
        // Surrounding whitespace, as read from a file, is not part of the token.
        let token = parse(&format!("  {}\n", jwt(&good()))).unwrap();
        assert!(!token.expose_secret().ends_with('\n'));
    }

    #[test]
    fn expiry_is_exact() {
        let ts = |s| Timestamp::from_second(s).unwrap();
        assert_eq!(
            outcome(&with(good(), "exp", json!(NOW))),
            Err(ClaimError::Expired {
                expired_at: ts(NOW),
                now: ts(NOW)
            })
        );
        assert_eq!(outcome(&with(good(), "exp", json!(NOW + 1))), Ok(()));
        let err = outcome(&with(good(), "exp", json!(NOW - 600))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the identity token expired at 2025-06-15T14:56:40Z, 10 minutes ago"
        );
    }

    #[test]
    fn not_before_allows_five_minutes_of_skew() {
        assert_eq!(
            outcome(&with(good(), "nbf", json!(NOW + NOT_BEFORE_LEEWAY))),
            Ok(())
        );
        let err = outcome(&with(good(), "nbf", json!(NOW + NOT_BEFORE_LEEWAY + 1))).unwrap_err();
        assert!(matches!(err, ClaimError::NotYetValid { .. }), "{err:?}");
        assert_eq!(
            outcome(&with(good(), "nbf", json!("soon"))),
            Err(ClaimError::InvalidClaim {
                claim: "nbf",
                expected: "a whole number of seconds since 1970"
            })
        );
    }

    #[test]
    fn audience_must_contain_the_expected_one() {
        assert_eq!(
            outcome(&with(good(), "aud", json!("https://github.com/octo"))),
            Err(ClaimError::WrongAudience {
                expected: "sigstore".into(),
                found: vec!["https://github.com/octo".into()]
            })
        );
        let err = outcome(&without(good(), "aud")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the identity token's audience is empty, expected `sigstore`"
        );
        let err = outcome(&with(good(), "aud", json!(["a", "b"]))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the identity token's audience is `a`, `b`, expected `sigstore`"
        );
    }

    #[test]
    fn iss_sub_and_exp_are_required() {
        for claim in ["iss", "sub", "exp"] {
            assert_eq!(
                outcome(&without(good(), claim)),
                Err(ClaimError::MissingClaim { claim }),
                "{claim}"
            );
        }
        for claim in ["iss", "sub"] {
            assert_eq!(
                outcome(&with(good(), claim, json!(""))),
                Err(ClaimError::MissingClaim { claim }),
                "{claim}"
            );
            assert!(matches!(
                outcome(&with(good(), claim, json!(7))),
                Err(ClaimError::InvalidClaim { .. })
            ));
        }
        assert!(matches!(
            outcome(&with(good(), "exp", json!("tomorrow"))),
            Err(ClaimError::InvalidClaim { claim: "exp", .. })
        ));
    }

    #[test]
    fn email_issuers_need_a_verified_email() {
        let dex = with(good(), "iss", json!("https://oauth2.sigstore.dev/auth"));
        assert_eq!(
            outcome(&dex),
            Err(ClaimError::MissingEmail {
                issuer: "https://oauth2.sigstore.dev/auth".into()
            })
        );
        let unverified = with(dex.clone(), "email", json!("a@example.com"));
        assert!(matches!(
            outcome(&unverified),
            Err(ClaimError::EmailNotVerified { .. })
        ));
        assert_eq!(
            outcome(&with(unverified.clone(), "email_verified", json!(false))),
            Err(ClaimError::EmailNotVerified {
                issuer: "https://oauth2.sigstore.dev/auth".into()
            })
        );
        assert_eq!(
            outcome(&with(unverified, "email_verified", json!(true))),
            Ok(())
        );
        // A Google service account identity without `format=full` has no email.
        let google = with(good(), "iss", json!("https://accounts.google.com"));
        assert!(matches!(
            outcome(&google),
            Err(ClaimError::MissingEmail { .. })
        ));
        // Other issuers (GitHub here) name the identity in other claims.
        assert_eq!(outcome(&good()), Ok(()));
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        let cases = [
            ("", "it is empty"),
            (
                "abc",
                "it does not have three dot-separated parts (header.claims.signature)",
            ),
            (
                "a.b.c.d",
                "it does not have three dot-separated parts (header.claims.signature)",
            ),
            (".e30.sig", "its header or claims part is empty"),
            ("e30.!!!.sig", "its claims part is not unpadded base64url"),
            ("e30.W10.sig", "its claims part is not a JSON object"),
        ];
        for (raw, reason) in cases {
            assert_eq!(
                parse(raw).unwrap_err(),
                ClaimError::NotAJwt { reason },
                "{raw}"
            );
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(1), "1 second");
        assert_eq!(duration(59), "59 seconds");
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(3 * 3600), "3 hours");
        assert_eq!(duration(86400 * 3), "3 days");
        assert_eq!(duration(-5), "0 seconds");
    }
}

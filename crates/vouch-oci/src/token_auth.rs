//! Identity tokens: a Docker identity token is an OAuth2 refresh token for the registry's token
//! service, exchanged here for an access token scoped to one repository and operation.
//!
//! Specifications: the registry names its token service in a `401` challenge,
//! `WWW-Authenticate: Bearer realm="…",service="…"` (distribution's token authentication,
//! <https://distribution.github.io/distribution/spec/auth/token/>; the header grammar is
//! RFC 9110 section 11.6.1); the exchange is that service's OAuth2 endpoint
//! (<https://distribution.github.io/distribution/spec/auth/oauth/>, after RFC 6749 section 6):
//! a form POST of `grant_type=refresh_token`, `refresh_token`, `service`, `scope` and
//! `client_id` to the realm, answered with JSON holding `access_token` (older token services
//! say `token`).
//!
//! The refresh token outlives any access token and opens every repository its owner can reach,
//! so it goes to the realm the registry named and nowhere else: over HTTPS unless the registry
//! is one of the `--insecure-registry` hosts, and never through a redirect. No error here holds
//! it; a token service's error message is shown with any copy of it cut out.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use reqwest::header::ACCEPT;

/// The `client_id` vouch names itself with; the OAuth2 form requires one.
const CLIENT_ID: &str = "vouch";

/// The largest token-service answer read: access tokens are JWTs of a few kilobytes.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The longest part of a token service's error message shown.
const MAX_REASON_CHARS: usize = 300;

/// An identity token that could not be exchanged for an access token. The registry is named
/// by the [`crate::RegistryError::IdentityToken`] that carries this; no variant holds a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityTokenError {
    /// The registry's challenge is not token authentication, so there is nothing to exchange
    /// the identity token with.
    #[error(
        "the registry does not use token authentication (its `/v2/` challenge is {found}), so \
         an identity token cannot be used with it; log in with a user name and password"
    )]
    NotTokenAuth {
        /// The challenge's scheme (`Basic`), or `none`.
        found: String,
    },
    /// The challenge's realm is not an HTTP(S) URL.
    #[error("the registry's token service `{realm}` is not a usable URL: {reason}")]
    BadRealm {
        /// The realm, as the registry sent it.
        realm: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain-HTTP realm for a registry spoken to over HTTPS: the refresh token would cross the
    /// network in the clear.
    #[error(
        "the registry's token service `{realm}` is plain HTTP; vouch sends identity tokens over \
         HTTPS only, unless the registry is passed to `--insecure-registry`"
    )]
    InsecureRealm {
        /// The realm.
        realm: String,
    },
    /// The token service could not be reached, or its answer not read.
    #[error("the token service `{realm}` could not be reached")]
    Transport {
        /// The realm.
        realm: String,
        /// Cause (its URL is the realm's, which carries no secret).
        #[source]
        source: reqwest::Error,
    },
    /// The token service answered with a redirect, which vouch does not follow with a refresh
    /// token in hand.
    #[error(
        "the token service `{realm}` answered {status} (a redirect); vouch sends identity tokens \
         only to the realm the registry names"
    )]
    Redirected {
        /// The realm.
        realm: String,
        /// The redirect status.
        status: u16,
    },
    /// The token service has no OAuth2 endpoint (it serves only the `GET` flow that takes a
    /// user name and password).
    #[error(
        "the token service `{realm}` answered 404 to the OAuth2 token request: it does not accept \
         identity tokens; log in with a user name and password"
    )]
    NoOAuthEndpoint {
        /// The realm.
        realm: String,
    },
    /// The token service refused the identity token.
    #[error(
        "the token service `{realm}` refused the identity token ({status}{}); it may have expired \
         or been revoked: run `docker login` again",
        if reason.is_empty() { String::new() } else { format!(": {reason}") }
    )]
    Refused {
        /// The realm.
        realm: String,
        /// HTTP status.
        status: u16,
        /// The service's error (`error` and `error_description`), shortened, tokens cut out.
        reason: String,
    },
    /// The answer is not the JSON the OAuth2 endpoint sends.
    #[error("the token service `{realm}` answered with something other than a token response")]
    BadAnswer {
        /// The realm.
        realm: String,
    },
    /// The answer holds no access token.
    #[error(
        "the token service `{realm}` answered without a token: neither `access_token` nor \
         `token` is set"
    )]
    NoToken {
        /// The realm.
        realm: String,
    },
    /// The answer is larger than vouch reads.
    #[error("the token service `{realm}` answered with more than {limit} bytes")]
    TooLarge {
        /// The realm.
        realm: String,
        /// The limit.
        limit: usize,
    },
}

/// A registry's `Bearer` challenge: where its token service is and what it calls the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    /// The token service's URL.
    pub realm: String,
    /// The registry's name at the token service (the JWT audience), if it gave one.
    pub service: Option<String>,
}

/// What the registry's `WWW-Authenticate` headers ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenged {
    /// Token authentication.
    Bearer(Challenge),
    /// Another scheme (its name), or no challenge at all (`None`).
    Other(Option<String>),
}

/// Reads the challenges of a `401` answer (several headers, each of one or more challenges) and
/// picks the `Bearer` one.
pub(crate) fn challenge<'a>(headers: impl IntoIterator<Item = &'a str>) -> Challenged {
    let mut first_scheme = None;
    for value in headers {
        for (scheme, params) in parse_challenges(value) {
            if scheme.eq_ignore_ascii_case("bearer") {
                if let Some(realm) = params.get("realm") {
                    return Challenged::Bearer(Challenge {
                        realm: realm.clone(),
                        service: params.get("service").cloned(),
                    });
                }
            } else if first_scheme.is_none() {
                first_scheme = Some(scheme);
            }
        }
    }
    Challenged::Other(first_scheme)
}

/// The realm as a URL that the refresh token may be sent to: HTTPS, or plain HTTP when the
/// registry itself is spoken to over plain HTTP (`insecure`).
pub(crate) fn check_realm(realm: &str, insecure: bool) -> Result<reqwest::Url, IdentityTokenError> {
    let url = reqwest::Url::parse(realm).map_err(|e| IdentityTokenError::BadRealm {
        realm: realm.to_owned(),
        reason: e.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(IdentityTokenError::BadRealm {
            realm: realm.to_owned(),
            reason: "it carries credentials".to_owned(),
        });
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if insecure => Ok(url),
        "http" => Err(IdentityTokenError::InsecureRealm {
            realm: realm.to_owned(),
        }),
        other => Err(IdentityTokenError::BadRealm {
            realm: realm.to_owned(),
            reason: format!("its scheme is `{other}`, expected `https`"),
        }),
    }
}

/// The scope of a repository operation, in the token specification's grammar.
pub(crate) fn repository_scope(repository: &str, push: bool) -> String {
    let actions = if push { "pull,push" } else { "pull" };
    format!("repository:{repository}:{actions}")
}

/// Exchanges `refresh_token` at `realm` for an access token for `scope`. `http` must not follow
/// redirects.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    realm: &reqwest::Url,
    service: Option<&str>,
    scope: &str,
    refresh_token: &str,
) -> Result<String, IdentityTokenError> {
    let realm_text = realm.as_str().to_owned();
    let transport = |source: reqwest::Error| IdentityTokenError::Transport {
        realm: realm_text.clone(),
        source: source.without_url(),
    };
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", CLIENT_ID),
        ("scope", scope),
    ];
    if let Some(service) = service {
        form.push(("service", service));
    }
    let mut response = http
        .post(realm.clone())
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(IdentityTokenError::TooLarge {
                realm: realm_text,
                limit: MAX_ANSWER_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    if status.is_redirection() {
        return Err(IdentityTokenError::Redirected {
            realm: realm_text,
            status: status.as_u16(),
        });
    }
    if status == StatusCode::NOT_FOUND {
        return Err(IdentityTokenError::NoOAuthEndpoint { realm: realm_text });
    }
    if status != StatusCode::OK {
        return Err(IdentityTokenError::Refused {
            realm: realm_text,
            status: status.as_u16(),
            reason: refusal_reason(&body, refresh_token),
        });
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        access_token: Option<String>,
        #[serde(default)]
        token: Option<String>,
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|_| IdentityTokenError::BadAnswer {
            realm: realm_text.clone(),
        })?;
    // RFC 6749 names the field `access_token`; distribution's older `GET` flow named it `token`,
    // and some services send both (the same value).
    answer
        .access_token
        .filter(|t| !t.is_empty())
        .or(answer.token.filter(|t| !t.is_empty()))
        .ok_or(IdentityTokenError::NoToken { realm: realm_text })
}

/// The error a token service gave, from an OAuth2 error body (RFC 6749 section 5.2), a
/// distribution error body, or the start of the text; with any copy of the refresh token cut out,
/// because a careless service may echo what it was sent.
fn refusal_reason(body: &[u8], refresh_token: &str) -> String {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct DistributionErrors {
        errors: Vec<DistributionError>,
    }
    #[derive(serde::Deserialize)]
    struct DistributionError {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let text = if let Ok(e) = serde_json::from_slice::<OAuthError>(body) {
        match e.error_description.filter(|d| !d.is_empty()) {
            Some(description) => format!("{}: {description}", e.error),
            None => e.error,
        }
    } else if let Ok(e) = serde_json::from_slice::<DistributionErrors>(body)
        && let Some(first) = e.errors.first()
    {
        format!("{} {}", first.code, first.message)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    let text = redact(&text, refresh_token);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = text.chars().take(MAX_REASON_CHARS).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// `text` with every occurrence of `secret` replaced. A secret shorter than a few characters
/// is not a token anyone issued, and cutting it out would mangle the message.
fn redact(text: &str, secret: &str) -> String {
    if secret.len() < 4 {
        return text.to_owned();
    }
    text.replace(secret, "<redacted>")
}

/// The challenges of one `WWW-Authenticate` value: scheme and lower-cased parameter names
/// (RFC 9110 section 11.6.1: `scheme param=value, param="quoted", scheme2 ...`).
fn parse_challenges(value: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let skip = |s: &str| -> usize {
        s.len()
            - s.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace())
                .len()
    };
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.get(skip(rest)..).unwrap_or_default();
        let Some(first) = rest.chars().next() else {
            return out;
        };
        let (scheme, after) = take_token(rest);
        if scheme.is_empty() {
            // Not the start of a challenge: step over the stray character.
            rest = rest.get(first.len_utf8()..).unwrap_or_default();
            continue;
        }
        let mut params = BTreeMap::new();
        rest = after;
        loop {
            let here = rest.get(skip(rest)..).unwrap_or_default();
            let (name, after_name) = take_token(here);
            if name.is_empty() {
                rest = here;
                break;
            }
            let Some(after_eq) = after_name.trim_start().strip_prefix('=') else {
                // A token without `=` is the next challenge's scheme (or a token68, which no
                // scheme vouch reads uses): leave it to the outer loop.
                rest = here;
                break;
            };
            let after_eq = after_eq.trim_start();
            let (value, after_value) = match after_eq.strip_prefix('"') {
                Some(quoted) => take_quoted(quoted),
                None => {
                    let (v, a) = take_token(after_eq);
                    (v.to_owned(), a)
                }
            };
            params.insert(name.to_ascii_lowercase(), value);
            rest = after_value;
        }
        out.push((scheme.to_owned(), params));
    }
}

/// A `token` (RFC 9110 section 5.6.2) at the start of `s`, and what follows it.
fn take_token(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// The rest of a quoted string whose opening quote was taken, unescaped, and what follows the
/// closing quote (everything, when it is unterminated).
fn take_quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, s.get(i + 1..).unwrap_or_default()),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
            }
            c => out.push(c),
        }
    }
    (out, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(realm: &str, service: Option<&str>) -> Challenged {
        Challenged::Bearer(Challenge {
            realm: realm.to_owned(),
            service: service.map(str::to_owned),
        })
    }

    #[test]
    fn the_bearer_challenge_is_found_among_others() {
        assert_eq!(
            challenge([
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#
            ]),
            bearer("https://auth.example/token", Some("registry.example"))
        );
        assert_eq!(
            challenge([
                r#"Basic realm="r", BEARER Realm="https://auth.example/t" , Service="s\"q""#
            ]),
            bearer("https://auth.example/t", Some("s\"q"))
        );
        assert_eq!(
            challenge(["Basic realm=\"x\"", "Bearer realm=\"https://a.example/t\""]),
            bearer("https://a.example/t", None)
        );
        assert_eq!(
            challenge([r#"Basic realm="Registry Realm""#]),
            Challenged::Other(Some("Basic".to_owned()))
        );
        assert_eq!(challenge([]), Challenged::Other(None));
        // A Bearer challenge without a realm names no token service.
        assert_eq!(
            challenge([r#"Bearer service="s""#]),
            Challenged::Other(None)
        );
        assert_eq!(challenge(["=,,\"", "@@@"]), Challenged::Other(None));
    }

    #[test]
    fn the_realm_must_be_https_unless_the_registry_is_insecure() {
        assert!(check_realm("https://auth.example/token", false).is_ok());
        assert!(check_realm("http://127.0.0.1:5001/token", true).is_ok());
        assert!(matches!(
            check_realm("http://auth.example/token", false),
            Err(IdentityTokenError::InsecureRealm { .. })
        ));
        for bad in [
            "ftp://auth.example/token",
            "/token",
            "https://user:pw@auth.example/token",
        ] {
            assert!(
                matches!(
                    check_realm(bad, true),
                    Err(IdentityTokenError::BadRealm { .. })
                ),
                "{bad}"
            );
        }
        let err = check_realm("http://auth.example/token", false).unwrap_err();
        assert!(err.to_string().contains("`http://auth.example/token`"));
        assert!(err.to_string().contains("--insecure-registry"));
    }

    #[test]
    fn refusals_are_read_and_never_echo_the_token() {
        let token = "rt-0123456789abcdef";
        assert_eq!(
            refusal_reason(
                format!(r#"{{"error":"invalid_grant","error_description":"refresh token {token} is unknown"}}"#)
                    .as_bytes(),
                token
            ),
            "invalid_grant: refresh token <redacted> is unknown"
        );
        assert_eq!(
            refusal_reason(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}"#,
                token
            ),
            "UNAUTHORIZED no"
        );
        assert_eq!(
            refusal_reason(format!("bad\n\n token={token}").as_bytes(), token),
            "bad token=<redacted>"
        );
        assert!(refusal_reason("x".repeat(1000).as_bytes(), token).ends_with('…'));
    }

    #[test]
    fn scopes_follow_the_token_specification() {
        assert_eq!(repository_scope("ns/app", false), "repository:ns/app:pull");
        assert_eq!(
            repository_scope("ns/app", true),
            "repository:ns/app:pull,push"
        );
    }
}

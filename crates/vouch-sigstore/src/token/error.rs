//! Why no usable token was found, and what to do about it.

use std::time::Duration;

use super::{ClaimError, Interactive, TokenSource};

/// Why [`obtain`](super::obtain) found no usable token. No variant holds a token, a code or a
/// request credential; text that came from a server or a CI tool is cut short, stripped of
/// control characters and of anything shaped like a JWT.
///
/// [`TokenError::hint`] says what to do, where there is something to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A source produced an empty token.
    #[error("the identity token from {origin} is empty")]
    EmptyToken {
        /// Where it came from.
        origin: TokenSource,
    },
    /// A token was found but Fulcio would refuse it.
    #[error("the identity token from {origin} cannot be used")]
    Unusable {
        /// Where it came from.
        origin: TokenSource,
        /// Why.
        #[source]
        reason: ClaimError,
    },
    /// A GitHub Actions job without the permission to request a token.
    #[error("this GitHub Actions job cannot request an identity token: `{missing}` is not set")]
    GithubPermissions {
        /// The variable that is missing.
        missing: &'static str,
    },
    /// A GitLab CI job without an `id_tokens` entry for Sigstore.
    #[error("this GitLab CI job has no identity token: `SIGSTORE_ID_TOKEN` is not set")]
    GitlabIdTokenMissing {
        /// The audience the entry must ask for.
        audience: String,
    },
    /// A CI tool that hands out tokens is not on the `PATH` of the environment.
    #[error("`{program}` is not on PATH, so no identity token can be had from {origin}")]
    CommandNotFound {
        /// Which CI.
        origin: TokenSource,
        /// The program.
        program: &'static str,
    },
    /// The CI tool ran and failed.
    #[error("`{program}` failed{}: {message}", status.map(|s| format!(" with exit status {s}")).unwrap_or_default())]
    CommandFailed {
        /// Which CI.
        origin: TokenSource,
        /// The program.
        program: &'static str,
        /// Its exit status, when it ran to an end.
        status: Option<i32>,
        /// What it said on stderr, or why it could not run.
        message: String,
    },
    /// The CI tool did not finish in time and was killed.
    #[error("`{program}` did not finish within {} seconds", after.as_secs())]
    CommandTimeout {
        /// Which CI.
        origin: TokenSource,
        /// The program.
        program: &'static str,
        /// How long it had.
        after: Duration,
    },
    /// An HTTP request could not be made or got no answer.
    #[error("cannot reach {url} for {origin}: {message}")]
    Request {
        /// What the request was for.
        origin: TokenSource,
        /// Where it went, without query or credentials.
        url: String,
        /// Why.
        message: String,
    },
    /// An HTTP request got an error status.
    #[error("{url} answered {status} for {origin}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        /// What the request was for.
        origin: TokenSource,
        /// Where it went, without query or credentials.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// An answer that is not what the protocol says it is.
    #[error("{url} gave {origin} an answer it cannot use: {message}")]
    BadResponse {
        /// What the request was for.
        origin: TokenSource,
        /// Where it came from, without query or credentials.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The issuer's discovery document is missing, unusable or insecure.
    #[error("cannot use the OIDC issuer `{issuer}`: {message}")]
    Discovery {
        /// The issuer URL.
        issuer: String,
        /// What is wrong.
        message: String,
    },
    /// The device flow was asked for, and the issuer does not offer it.
    #[error(
        "the OIDC issuer `{issuer}` does not offer the device flow (no `device_authorization_endpoint` in its discovery document)"
    )]
    NoDeviceFlow {
        /// The issuer URL.
        issuer: String,
    },
    /// The issuer refused, in an OAuth error answer (RFC 6749 section 5.2, RFC 8628
    /// section 3.5).
    #[error("the OIDC issuer refused {origin}: {error}{}", description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        /// Which flow.
        origin: TokenSource,
        /// The `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The sign-in did not finish in time.
    #[error("{origin} did not finish within {} seconds", waited.as_secs())]
    Timeout {
        /// Which flow.
        origin: TokenSource,
        /// How long it waited.
        waited: Duration,
    },
    /// The loopback listener for the browser redirect could not be opened.
    #[error("cannot listen on 127.0.0.1 for the sign-in redirect: {message}")]
    Loopback {
        /// Why.
        message: String,
    },
    /// The ID token does not carry the nonce this sign-in sent: it was issued for another one.
    #[error("the ID token from {origin} does not carry the nonce this sign-in sent")]
    NonceMismatch {
        /// Which flow.
        origin: TokenSource,
    },
    /// The ID token was issued by another issuer than the one signed in with.
    #[error("the ID token from {origin} was issued by `{found}`, not by `{expected}`")]
    IssuerMismatch {
        /// Which flow.
        origin: TokenSource,
        /// The issuer signed in with.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// The system's random number generator failed (needed for PKCE, `state` and `nonce`).
    #[error("the system's random number generator failed")]
    NoRandomness,
    /// Nothing found, and interactive sign-in is off.
    #[error(
        "no identity token: none was given, no CI identity was found, and interactive sign-in is off"
    )]
    NoToken {
        /// The interactive setting.
        interactive: Interactive,
    },
}

impl TokenError {
    /// What the user can do about it, if anything.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            TokenError::EmptyToken {
                origin: TokenSource::Explicit,
            } => "pass the token's text, or leave out `--identity-token` and `SIGSTORE_ID_TOKEN` \
                 to let vouch find one"
                .to_owned(),
            TokenError::EmptyToken { .. } => return None,
            TokenError::Unusable { origin, reason } => claim_hint(reason, *origin),
            TokenError::GithubPermissions { .. } => {
                "give the job `permissions: id-token: write` in the workflow (jobs triggered by \
                 pull requests from forks never get one)"
                    .to_owned()
            }
            TokenError::GitlabIdTokenMissing { audience } => format!(
                "add an ID token to the job in `.gitlab-ci.yml`:\n\n    id_tokens:\n      \
                 SIGSTORE_ID_TOKEN:\n        aud: {audience}\n"
            ),
            TokenError::CommandNotFound {
                origin: TokenSource::CircleCi,
                ..
            } => "the `circleci` CLI is on PATH in CircleCI's own images; install it in custom \
                  images, or pass a token from `circleci run oidc get` explicitly"
                .to_owned(),
            TokenError::CommandNotFound { .. } => {
                "`buildkite-agent` comes with the Buildkite agent; make sure the job's PATH \
                 includes it"
                    .to_owned()
            }
            TokenError::CommandFailed {
                origin: TokenSource::Buildkite,
                ..
            } => "the pipeline must be allowed to request OIDC tokens; see Buildkite's \
                  `buildkite-agent oidc request-token` documentation"
                .to_owned(),
            TokenError::CommandFailed {
                origin: TokenSource::CircleCi,
                ..
            } => "`circleci run oidc get` needs a job that runs in a CircleCI context with OIDC \
                  tokens (any job on CircleCI cloud); see CircleCI's OIDC documentation"
                .to_owned(),
            TokenError::Discovery { .. } => {
                "check the issuer URL: it must serve `/.well-known/openid-configuration` over \
                 https (plain http only on a loopback address)"
                    .to_owned()
            }
            TokenError::NoDeviceFlow { .. } => {
                "sign in through the browser instead, or use an issuer that offers the device \
                 flow (the public-good issuer does)"
                    .to_owned()
            }
            TokenError::OAuth { error, .. } => match error.as_str() {
                "access_denied" => "the sign-in was declined; start again and approve it",
                "expired_token" => "the code expired before it was approved; start again",
                "invalid_grant" => "the sign-in expired or was already used; start again",
                _ => return None,
            }
            .to_owned(),
            TokenError::Timeout {
                origin: TokenSource::Browser,
                ..
            } => "open the URL shown above in a browser on this machine; on a machine without \
                  one (over SSH, in a container), sign in with the device flow instead"
                .to_owned(),
            TokenError::Timeout { .. } => {
                "open the URL shown above, enter the code, and approve the sign-in".to_owned()
            }
            TokenError::NoToken { .. } => {
                "pass a token with `--identity-token` or `SIGSTORE_ID_TOKEN`, run in a CI job \
                 with OIDC enabled, or run in a terminal to sign in interactively"
                    .to_owned()
            }
            TokenError::NonceMismatch { .. } | TokenError::IssuerMismatch { .. } => {
                "start the sign-in again; if it keeps happening, something between vouch and \
                 the issuer is changing the answers"
                    .to_owned()
            }
            TokenError::CommandFailed { .. }
            | TokenError::CommandTimeout { .. }
            | TokenError::Request { .. }
            | TokenError::Status { .. }
            | TokenError::BadResponse { .. }
            | TokenError::Loopback { .. }
            | TokenError::NoRandomness => return None,
        })
    }
}

/// The fix for a token Fulcio would refuse, for the place it came from.
fn claim_hint(reason: &ClaimError, source: TokenSource) -> String {
    let fetched_here = !matches!(source, TokenSource::Explicit | TokenSource::GitlabCi);
    match reason {
        ClaimError::NotAJwt { .. }
        | ClaimError::MissingClaim { .. }
        | ClaimError::InvalidClaim { .. } => {
            "an OpenID Connect ID token is needed (a JWT with `iss`, `sub`, `aud` and `exp`), \
             not an OAuth access token"
                .to_owned()
        }
        ClaimError::WrongAudience { expected, .. } => match source {
            TokenSource::Explicit => format!(
                "request the token for audience `{expected}`: on GitHub Actions \
                 `core.getIDToken('{expected}')`; on GitLab CI `id_tokens: SIGSTORE_ID_TOKEN: \
                 aud: {expected}`; on Buildkite `buildkite-agent oidc request-token --audience \
                 {expected}`; on CircleCI `circleci run oidc get --claims \
                 '{{\"aud\":\"{expected}\"}}'`; with gcloud `gcloud auth print-identity-token \
                 --audiences={expected}`"
            ),
            TokenSource::GitlabCi => format!(
                "set the audience in the job's `id_tokens` entry: `SIGSTORE_ID_TOKEN: aud: \
                 {expected}`"
            ),
            TokenSource::Browser | TokenSource::DeviceFlow => format!(
                "the issuer issued the token to another client; use the client id Fulcio \
                 expects (`{expected}` on the public-good instance)"
            ),
            _ => format!(
                "vouch asked {source} for audience `{expected}` and got a token for another; \
                 check that nothing wraps or rewrites the request"
            ),
        },
        ClaimError::Expired { now, .. } if fetched_here => format!(
            "the token was issued moments ago, so this machine's clock is probably wrong \
             (it reads {now})"
        ),
        ClaimError::Expired { .. } if source == TokenSource::GitlabCi => {
            "GitLab issues `SIGSTORE_ID_TOKEN` when the job starts; sign earlier in the job, or \
             in a job of its own"
                .to_owned()
        }
        ClaimError::Expired { .. } => {
            "identity tokens live minutes, not hours: fetch a fresh one just before signing, or \
             leave out `--identity-token` and `SIGSTORE_ID_TOKEN` to let vouch find one"
                .to_owned()
        }
        ClaimError::NotYetValid { now, .. } => {
            format!("this machine's clock (it reads {now}) is behind the issuer's; correct it")
        }
        ClaimError::MissingEmail { .. } => {
            "Fulcio names this issuer's signers by email address: sign in with an account that \
             shares its address (grant the `email` scope if asked)"
                .to_owned()
        }
        ClaimError::EmailNotVerified { .. } => {
            "verify the account's email address with the identity provider, or sign in with \
             an account whose address is verified"
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::collections::BTreeSet;

    use super::*;
    use crate::token::http::quote;

    /// Shaped like a real token, as every secret this module handles is (ID tokens, GitHub's
    /// request token).
    const SECRET: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ";

    const SOURCES: [TokenSource; 8] = [
        TokenSource::Explicit,
        TokenSource::GithubActions,
        TokenSource::GitlabCi,
        TokenSource::Buildkite,
        TokenSource::CircleCi,
        TokenSource::GoogleCloud,
        TokenSource::Browser,
        TokenSource::DeviceFlow,
    ];

    fn claim_errors() -> Vec<ClaimError> {
        let ts = jiff::Timestamp::from_second(1_750_000_000).unwrap();
        vec![
            ClaimError::NotAJwt { reason: "r" },
            ClaimError::MissingClaim { claim: "sub" },
            ClaimError::InvalidClaim {
                claim: "exp",
                expected: "a number",
            },
            ClaimError::WrongAudience {
                expected: "sigstore".into(),
                found: vec!["other".into()],
            },
            ClaimError::Expired {
                expired_at: ts,
                now: ts,
            },
            ClaimError::NotYetValid {
                not_before: ts,
                now: ts,
            },
            ClaimError::MissingEmail {
                issuer: "https://accounts.google.com".into(),
            },
            ClaimError::EmailNotVerified {
                issuer: "https://accounts.google.com".into(),
            },
        ]
    }

    /// One of each variant, for every source, with every free-text field made the way the
    /// module makes it: outside text that contains a token, passed through `quote`.
    fn every_variant() -> Vec<TokenError> {
        let outside = || quote(format!("the server said: {SECRET} is bad").as_bytes());
        let mut all = vec![
            TokenError::GithubPermissions {
                missing: "ACTIONS_ID_TOKEN_REQUEST_URL",
            },
            TokenError::GitlabIdTokenMissing {
                audience: "sigstore".into(),
            },
            TokenError::Discovery {
                issuer: "https://issuer.example".into(),
                message: outside(),
            },
            TokenError::NoDeviceFlow {
                issuer: "https://issuer.example".into(),
            },
            TokenError::Loopback { message: outside() },
            TokenError::NoRandomness,
            TokenError::NoToken {
                interactive: Interactive::Never,
            },
        ];
        for origin in SOURCES {
            all.push(TokenError::EmptyToken { origin });
            for reason in claim_errors() {
                all.push(TokenError::Unusable { origin, reason });
            }
            all.extend([
                TokenError::CommandNotFound {
                    origin,
                    program: "buildkite-agent",
                },
                TokenError::CommandFailed {
                    origin,
                    program: "circleci",
                    status: Some(1),
                    message: outside(),
                },
                TokenError::CommandTimeout {
                    origin,
                    program: "circleci",
                    after: Duration::from_secs(30),
                },
                TokenError::Request {
                    origin,
                    url: "https://issuer.example/token".into(),
                    message: outside(),
                },
                TokenError::Status {
                    origin,
                    url: "https://issuer.example/token".into(),
                    status: 500,
                    body: outside(),
                },
                TokenError::BadResponse {
                    origin,
                    url: "https://issuer.example/token".into(),
                    message: outside(),
                },
                TokenError::OAuth {
                    origin,
                    error: outside(),
                    description: Some(outside()),
                },
                TokenError::Timeout {
                    origin,
                    waited: Duration::from_secs(300),
                },
                TokenError::NonceMismatch { origin },
                TokenError::IssuerMismatch {
                    origin,
                    expected: "https://issuer.example".into(),
                    found: outside(),
                },
            ]);
        }
        all
    }

    /// Fails to compile when a variant is added, until `every_variant` makes one.
    fn kind(error: &TokenError) -> u8 {
        match error {
            TokenError::EmptyToken { .. } => 0,
            TokenError::Unusable { .. } => 1,
            TokenError::GithubPermissions { .. } => 2,
            TokenError::GitlabIdTokenMissing { .. } => 3,
            TokenError::CommandNotFound { .. } => 4,
            TokenError::CommandFailed { .. } => 5,
            TokenError::CommandTimeout { .. } => 6,
            TokenError::Request { .. } => 7,
            TokenError::Status { .. } => 8,
            TokenError::BadResponse { .. } => 9,
            TokenError::Discovery { .. } => 10,
            TokenError::NoDeviceFlow { .. } => 11,
            TokenError::OAuth { .. } => 12,
            TokenError::Timeout { .. } => 13,
            TokenError::Loopback { .. } => 14,
            TokenError::NonceMismatch { .. } => 15,
            TokenError::IssuerMismatch { .. } => 16,
            TokenError::NoRandomness => 17,
            TokenError::NoToken { .. } => 18,
        }
    }

    #[test]
    fn no_error_shows_a_token() {
        let all = every_variant();
        let kinds: BTreeSet<u8> = all.iter().map(kind).collect();
        assert_eq!(kinds.len(), 19, "every variant is made");
        for error in &all {
            let mut text = format!("{error}\n{error:?}\n{}", error.hint().unwrap_or_default());
            let mut cause = std::error::Error::source(error);
            while let Some(c) = cause {
                text.push_str(&format!("\n{c}\n{c:?}"));
                cause = c.source();
            }
            assert!(!text.contains(SECRET), "{text}");
            // The signature alone is enough to replay nothing, but the claims part is the
            // identity: neither part may survive on its own either.
            for part in SECRET.split('.') {
                assert!(!text.contains(part), "{part} in {text}");
            }
        }
    }

    #[test]
    fn unusable_tokens_have_a_hint_for_every_source() {
        for origin in SOURCES {
            for reason in claim_errors() {
                let error = TokenError::Unusable { origin, reason };
                assert!(error.hint().is_some_and(|h| !h.is_empty()), "{error:?}");
            }
        }
    }
}

//! Ambient CI credentials: the identity a CI job or cloud workload already has.

use std::io::Read as _;
use std::time::Duration;

use sigstore_oidc::SecretString;
use sigstore_oidc::reqwest::Url;
use sigstore_oidc::reqwest::header::{AUTHORIZATION, HeaderValue};

use super::command::token_from;
use super::http::{display_url, is_secure, send};
use super::{GoogleCloud, Interactive, TokenError, TokenRequest, TokenSource, vars};

/// How long GitHub's token service may take.
const GITHUB_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the metadata server may take. It is a link-local service that answers in
/// milliseconds; this bounds a wrong detection, not a slow server.
const METADATA_TIMEOUT: Duration = Duration::from_secs(3);

/// The ambient token, if the environment is a CI system or cloud workload that has one.
/// `Ok(None)` means no ambient identity applies; an error means one applies and failed.
pub(super) async fn detect(
    req: &TokenRequest,
    say: &(dyn Fn(&str) + Sync),
) -> Result<Option<(SecretString, TokenSource)>, TokenError> {
    let env = &req.env;
    if env.get(vars::ACTIONS_ID_TOKEN_REQUEST_URL).is_some()
        || env.get(vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN).is_some()
    {
        return github(req)
            .await
            .map(|t| Some((t, TokenSource::GithubActions)));
    }
    if env.get(vars::GITHUB_ACTIONS) == Some("true") {
        return Err(TokenError::GithubPermissions {
            missing: vars::ACTIONS_ID_TOKEN_REQUEST_URL,
        });
    }
    if env.non_empty(vars::GITLAB_CI).is_some() {
        return match env.non_empty(vars::SIGSTORE_ID_TOKEN) {
            Some(token) => Ok(Some((SecretString::new(token), TokenSource::GitlabCi))),
            None => Err(TokenError::GitlabIdTokenMissing {
                audience: req.audience.clone(),
            }),
        };
    }
    if env.non_empty(vars::BUILDKITE).is_some() {
        let args = ["oidc", "request-token", "--audience", &req.audience];
        let token = token_from(env, "buildkite-agent", &args, TokenSource::Buildkite).await?;
        return Ok(Some((token, TokenSource::Buildkite)));
    }
    if env.non_empty(vars::CIRCLECI).is_some() {
        let claims = serde_json::json!({ "aud": req.audience }).to_string();
        let args = ["run", "oidc", "get", "--claims", &claims];
        let token = token_from(env, "circleci", &args, TokenSource::CircleCi).await?;
        return Ok(Some((token, TokenSource::CircleCi)));
    }
    match req.google_cloud {
        GoogleCloud::Never => Ok(None),
        GoogleCloud::Always => google(req)
            .await
            .map(|t| Some((t, TokenSource::GoogleCloud))),
        GoogleCloud::Detect => {
            let Some(marker) = google_marker(req) else {
                return Ok(None);
            };
            match google(req).await {
                Ok(token) => Ok(Some((token, TokenSource::GoogleCloud))),
                Err(e) if req.interactive == Interactive::Never => Err(e),
                Err(e) => {
                    say(&format!(
                        "{marker} suggests Google Cloud, but its metadata server gave no identity \
                         token ({e}); signing in interactively instead"
                    ));
                    Ok(None)
                }
            }
        }
    }
}

/// GitHub Actions: GET the request URL with the audience added, with the request token as a
/// bearer token; the answer is `{"value": JWT}`.
async fn github(req: &TokenRequest) -> Result<SecretString, TokenError> {
    let source = TokenSource::GithubActions;
    let env = &req.env;
    let (Some(url), Some(bearer)) = (
        env.non_empty(vars::ACTIONS_ID_TOKEN_REQUEST_URL),
        env.non_empty(vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN),
    ) else {
        let missing = if env.non_empty(vars::ACTIONS_ID_TOKEN_REQUEST_URL).is_none() {
            vars::ACTIONS_ID_TOKEN_REQUEST_URL
        } else {
            vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN
        };
        return Err(TokenError::GithubPermissions { missing });
    };
    let bad_url = |message: &str| TokenError::BadResponse {
        origin: source,
        url: vars::ACTIONS_ID_TOKEN_REQUEST_URL.to_owned(),
        message: message.to_owned(),
    };
    let mut url = Url::parse(url).map_err(|_| bad_url("the variable is not a URL"))?;
    // The request token is a credential: it goes over TLS, or over loopback in tests.
    if !is_secure(&url) {
        return Err(bad_url("the URL is neither https nor loopback"));
    }
    url.query_pairs_mut().append_pair("audience", &req.audience);
    let mut authorization = HeaderValue::from_str(&format!("Bearer {bearer}"))
        .map_err(|_| bad_url("the request token cannot be sent in a header"))?;
    authorization.set_sensitive(true);
    let request = req
        .http
        .get(url.clone())
        .header(AUTHORIZATION, authorization)
        .timeout(GITHUB_TIMEOUT);
    let body = send(request, source, &url, false).await?;
    let answer: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| TokenError::BadResponse {
            origin: source,
            url: display_url(&url),
            message: "the answer is not JSON".to_owned(),
        })?;
    match answer.get("value").and_then(serde_json::Value::as_str) {
        Some(token) => Ok(SecretString::new(token)),
        None => Err(TokenError::BadResponse {
            origin: source,
            url: display_url(&url),
            message: "the answer has no string `value`".to_owned(),
        }),
    }
}

/// What shows a Google Cloud workload, if anything. See [`GoogleCloud::Detect`].
fn google_marker(req: &TokenRequest) -> Option<String> {
    for name in [vars::K_SERVICE, vars::CLOUD_RUN_JOB, vars::BUILDER_OUTPUT] {
        if req.env.non_empty(name).is_some() {
            return Some(format!("`{name}`"));
        }
    }
    if req.interactive != Interactive::Never {
        return None;
    }
    let path = req.dmi_product_name.as_ref()?;
    let mut name = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(256)
        .read_to_string(&mut name)
        .ok()?;
    name.trim()
        .starts_with("Google")
        .then(|| "the machine's DMI product name".to_owned())
}

/// The metadata server's identity token for the default service account, with the audience
/// asked for and `format=full`, which adds the `email` claim Fulcio names the account by.
async fn google(req: &TokenRequest) -> Result<SecretString, TokenError> {
    let source = TokenSource::GoogleCloud;
    let mut url = Url::parse(&req.google_metadata_url).map_err(|_| TokenError::BadResponse {
        origin: source,
        url: req.google_metadata_url.clone(),
        message: "the metadata URL is not a URL".to_owned(),
    })?;
    url.query_pairs_mut()
        .append_pair("audience", &req.audience)
        .append_pair("format", "full");
    let response = req
        .http
        .get(url.clone())
        .header("Metadata-Flavor", "Google")
        .timeout(METADATA_TIMEOUT);
    // The answer must say it is the metadata server (as Google's own client libraries check),
    // so that a captive portal or proxy answering for the name is not taken for it.
    let response = response.send().await.map_err(|e| TokenError::Request {
        origin: source,
        url: display_url(&url),
        message: super::http::describe(&e),
    })?;
    let flavored = response
        .headers()
        .get("Metadata-Flavor")
        .is_some_and(|v| v == "Google");
    let status = response.status();
    let body = super::http::read_limited(response, super::http::MAX_BODY_BYTES)
        .await
        .map_err(|message| TokenError::Request {
            origin: source,
            url: display_url(&url),
            message,
        })?;
    if !status.is_success() {
        return Err(TokenError::Status {
            origin: source,
            url: display_url(&url),
            status: status.as_u16(),
            body: super::http::quote(&body),
        });
    }
    if !flavored {
        return Err(TokenError::BadResponse {
            origin: source,
            url: display_url(&url),
            message:
                "the answer lacks `Metadata-Flavor: Google`, so it is not from the metadata server"
                    .to_owned(),
        });
    }
    let text = String::from_utf8(body).map_err(|_| TokenError::BadResponse {
        origin: source,
        url: display_url(&url),
        message: "the answer is not text".to_owned(),
    })?;
    Ok(SecretString::new(text.trim()))
}

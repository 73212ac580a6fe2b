//! Interactive sign-in with the issuer: the authorization-code flow with PKCE on a loopback
//! redirect (RFC 6749 section 4.1, RFC 7636, RFC 8252), and the device authorization grant
//! (RFC 8628). Endpoints come from OpenID Connect Discovery 1.0.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sigstore_oidc::SecretString;
use sigstore_oidc::reqwest::Url;
use tokio::time::Instant;

use super::claims::payload;
use super::http::{display_url, is_secure, quote, send};
use super::loopback::{Callback, Outcome};
use super::{Interactive, TokenError, TokenRequest, TokenSource};

/// How long one request to the issuer may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Scopes asked for: an ID token, with the email address email issuers name signers by.
const SCOPES: &str = "openid email";

/// RFC 8628 section 3.4.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 section 3.2: the polling interval when the issuer names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// RFC 8628 section 3.5: what each `slow_down` adds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// An interval no issuer can push the client below, so that a bad `interval` of 0 does not
/// become a busy loop.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The issuer's endpoints, from its discovery document.
struct Endpoints {
    issuer: String,
    authorization: Url,
    token: Url,
    device: Option<Url>,
}

/// Signs in as `req.interactive` says, or reports that nothing was found.
pub(super) async fn sign_in(
    req: &TokenRequest,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(SecretString, TokenSource), TokenError> {
    let mode = req.interactive;
    if mode == Interactive::Never {
        return Err(TokenError::NoToken { interactive: mode });
    }
    let endpoints = discover(req).await?;
    match mode {
        Interactive::Device => device(req, &endpoints, say).await,
        Interactive::Auto if req.browser.is_none() && endpoints.device.is_some() => {
            device(req, &endpoints, say).await
        }
        _ => browser(req, &endpoints, say).await,
    }
}

/// Reads `{issuer}/.well-known/openid-configuration`.
async fn discover(req: &TokenRequest) -> Result<Endpoints, TokenError> {
    let issuer = req.issuer_url.trim_end_matches('/');
    let fail = |message: String| TokenError::Discovery {
        issuer: issuer.to_owned(),
        message,
    };
    let url = Url::parse(&format!("{issuer}/.well-known/openid-configuration"))
        .map_err(|_| fail("the issuer is not a URL".to_owned()))?;
    if !is_secure(&url) {
        return Err(fail(
            "the issuer is neither https nor on a loopback address".to_owned(),
        ));
    }
    let source = if req.interactive == Interactive::Device {
        TokenSource::DeviceFlow
    } else {
        TokenSource::Browser
    };
    let request = req.http.get(url.clone()).timeout(REQUEST_TIMEOUT);
    let body = send(request, source, &url, false)
        .await
        .map_err(|e| fail(format!("its discovery document cannot be read: {e}")))?;
    let Ok(Value::Object(doc)) = serde_json::from_slice(&body) else {
        return Err(fail(
            "its discovery document is not a JSON object".to_owned(),
        ));
    };
    // OpenID Connect Discovery section 4.3: the document must name the issuer it was fetched
    // for, or its endpoints belong to someone else.
    let named = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if named.trim_end_matches('/') != issuer {
        return Err(fail(format!(
            "its discovery document names the issuer `{}`",
            quote(named.as_bytes())
        )));
    }
    let endpoint = |name: &str| -> Result<Option<Url>, TokenError> {
        let Some(value) = doc.get(name).and_then(Value::as_str) else {
            return Ok(None);
        };
        let url = Url::parse(value).map_err(|_| fail(format!("`{name}` is not a URL")))?;
        if !is_secure(&url) {
            return Err(fail(format!(
                "`{name}` is neither https nor on a loopback address"
            )));
        }
        Ok(Some(url))
    };
    let required = |name: &str| {
        endpoint(name)?.ok_or_else(|| fail(format!("its discovery document has no `{name}`")))
    };
    Ok(Endpoints {
        issuer: named.to_owned(),
        authorization: required("authorization_endpoint")?,
        token: required("token_endpoint")?,
        device: endpoint("device_authorization_endpoint")?,
    })
}

/// The authorization-code flow with PKCE, redirecting to a loopback listener.
async fn browser(
    req: &TokenRequest,
    endpoints: &Endpoints,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(SecretString, TokenSource), TokenError> {
    let source = TokenSource::Browser;
    let callback = Callback::bind().await.map_err(|e| TokenError::Loopback {
        message: e.to_string(),
    })?;
    let redirect_uri = callback.redirect_uri();
    let state = random()?;
    let nonce = random()?;
    let verifier = SecretString::new(random()?);
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.expose_secret().as_bytes(),
    ));
    let mut url = endpoints.authorization.clone();
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &req.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = &req.login_hint {
            query.append_pair("login_hint", hint);
        }
    }
    let opened = req.browser.as_ref().is_some_and(|open| open(url.as_str()));
    if !opened && req.interactive == Interactive::Auto && endpoints.device.is_some() {
        say("No browser could be opened; signing in with a code instead.");
        drop(callback);
        return device(req, endpoints, say).await;
    }
    say(&if opened {
        format!(
            "Your browser has been opened to sign in. If it did not open, visit this URL on this \
             machine:\n\n    {url}\n"
        )
    } else {
        format!("To sign in, open this URL in a browser on this machine:\n\n    {url}\n")
    });
    let deadline = Instant::now() + req.interactive_timeout;
    let wrong_state = || {
        say(
            "Ignored a sign-in answer for another sign-in (its state did not match); still waiting.",
        );
    };
    let outcome = callback.wait(&state, deadline, &wrong_state).await;
    let code = match outcome {
        None => {
            return Err(TokenError::Timeout {
                origin: source,
                waited: req.interactive_timeout,
            });
        }
        Some(Outcome::Error { error, description }) => {
            return Err(TokenError::OAuth {
                origin: source,
                error: quote(error.as_bytes()),
                description: description.map(|d| quote(d.as_bytes())),
            });
        }
        Some(Outcome::Code(code)) => code,
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose_secret()),
        ("redirect_uri", &redirect_uri),
        ("client_id", &req.client_id),
        ("code_verifier", verifier.expose_secret()),
    ];
    let token = id_token(req, endpoints, &form, source).await?;
    let claims = payload(token.expose_secret()).map_err(|reason| TokenError::Unusable {
        origin: source,
        reason,
    })?;
    // OpenID Connect Core section 3.1.3.7: the nonce sent must come back in the ID token.
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce.as_str()) {
        return Err(TokenError::NonceMismatch { origin: source });
    }
    check_issuer(&claims, endpoints, source)?;
    Ok((token, source))
}

/// The device authorization grant (RFC 8628).
async fn device(
    req: &TokenRequest,
    endpoints: &Endpoints,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(SecretString, TokenSource), TokenError> {
    let source = TokenSource::DeviceFlow;
    let Some(device_url) = &endpoints.device else {
        return Err(TokenError::NoDeviceFlow {
            issuer: endpoints.issuer.clone(),
        });
    };
    let form = [("client_id", req.client_id.as_str()), ("scope", SCOPES)];
    let request = req
        .http
        .post(device_url.clone())
        .form(&form)
        .timeout(REQUEST_TIMEOUT);
    let body = send(request, source, device_url, true).await?;
    let bad = |message: &str| TokenError::BadResponse {
        origin: source,
        url: display_url(device_url),
        message: message.to_owned(),
    };
    let Ok(Value::Object(answer)) = serde_json::from_slice(&body) else {
        return Err(bad("the answer is not a JSON object"));
    };
    let text = |name: &str| answer.get(name).and_then(Value::as_str);
    let device_code = SecretString::new(
        text("device_code").ok_or_else(|| bad("the answer has no `device_code`"))?,
    );
    let user_code = quote(
        text("user_code")
            .ok_or_else(|| bad("the answer has no `user_code`"))?
            .as_bytes(),
    );
    // Google's device endpoint still spells it `verification_url`.
    let verification = quote(
        text("verification_uri")
            .or_else(|| text("verification_url"))
            .ok_or_else(|| bad("the answer has no `verification_uri`"))?
            .as_bytes(),
    );
    let expires_in = answer
        .get("expires_in")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("the answer has no whole-number `expires_in`"))?;
    let mut interval = answer
        .get("interval")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_INTERVAL, Duration::from_secs)
        .max(MIN_INTERVAL);
    // Text from the issuer is quoted (control characters removed) before it reaches the
    // terminal: a hostile issuer must not be able to send escape sequences.
    let mut message = format!(
        "To sign in, open {verification} in a browser on any device and enter the code \
         {user_code}"
    );
    if let Some(complete) = text("verification_uri_complete") {
        message.push_str(&format!(
            "\n(or open {} , which has the code filled in)",
            quote(complete.as_bytes())
        ));
    }
    say(&message);
    let waited = req.interactive_timeout.min(Duration::from_secs(expires_in));
    let deadline = Instant::now() + waited;
    let form = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code.expose_secret()),
        ("client_id", req.client_id.as_str()),
    ];
    loop {
        if Instant::now() + interval > deadline {
            return Err(TokenError::Timeout {
                origin: source,
                waited,
            });
        }
        tokio::time::sleep(interval).await;
        match id_token(req, endpoints, &form, source).await {
            Ok(token) => {
                let claims =
                    payload(token.expose_secret()).map_err(|reason| TokenError::Unusable {
                        origin: source,
                        reason,
                    })?;
                check_issuer(&claims, endpoints, source)?;
                return Ok((token, source));
            }
            Err(TokenError::OAuth { error, .. }) if next_interval(interval, &error).is_some() => {
                interval = next_interval(interval, &error).unwrap_or(interval);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The interval to wait before polling again after the OAuth error `error`, or `None` if
/// polling must stop (RFC 8628 section 3.5).
fn next_interval(interval: Duration, error: &str) -> Option<Duration> {
    match error {
        "authorization_pending" => Some(interval),
        "slow_down" => Some(interval + SLOW_DOWN_STEP),
        _ => None,
    }
}

/// POSTs `form` to the token endpoint and returns the answer's `id_token`.
async fn id_token(
    req: &TokenRequest,
    endpoints: &Endpoints,
    form: &[(&str, &str)],
    source: TokenSource,
) -> Result<SecretString, TokenError> {
    let request = req
        .http
        .post(endpoints.token.clone())
        .form(form)
        .timeout(REQUEST_TIMEOUT);
    let body = send(request, source, &endpoints.token, true).await?;
    let bad = |message: &str| TokenError::BadResponse {
        origin: source,
        url: display_url(&endpoints.token),
        message: message.to_owned(),
    };
    let Ok(Value::Object(answer)) = serde_json::from_slice(&body) else {
        return Err(bad("the answer is not a JSON object"));
    };
    answer
        .get("id_token")
        .and_then(Value::as_str)
        .map(SecretString::new)
        .ok_or_else(|| bad("the answer has no `id_token`; was the `openid` scope granted?"))
}

/// The token must come from the issuer signed in with, not one its endpoints forward to.
fn check_issuer(
    claims: &serde_json::Map<String, Value>,
    endpoints: &Endpoints,
    source: TokenSource,
) -> Result<(), TokenError> {
    let found = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if found.trim_end_matches('/') == endpoints.issuer.trim_end_matches('/') {
        return Ok(());
    }
    Err(TokenError::IssuerMismatch {
        origin: source,
        expected: endpoints.issuer.clone(),
        found: quote(found.as_bytes()),
    })
}

/// 32 random bytes, base64url: a state, a nonce or a PKCE verifier (43 characters, within
/// RFC 7636's 43 to 128).
fn random() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| TokenError::NoRandomness)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_follows_rfc_8628() {
        let five = Duration::from_secs(5);
        assert_eq!(next_interval(five, "authorization_pending"), Some(five));
        assert_eq!(
            next_interval(five, "slow_down"),
            Some(Duration::from_secs(10))
        );
        for stop in ["access_denied", "expired_token", "invalid_grant", "other"] {
            assert_eq!(next_interval(five, stop), None, "{stop}");
        }
    }

    #[test]
    fn verifiers_are_within_rfc_7636_bounds() {
        let verifier = random().unwrap_or_default();
        assert_eq!(verifier.len(), 43);
        assert!(
            verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}

//! The devstack's OIDC issuer: ES256 identity tokens (RFC 7519, signed per RFC 7515), the
//! discovery document (OpenID Connect Discovery 1.0) and the JWKS (RFC 7517) that clients and
//! the devstack's Fulcio verify them with.
//!
//! Besides minting tokens directly ([`mint`], `vouch devstack token`), the issuer serves the two
//! interactive sign-in flows a Sigstore client runs, so that clients can be tested end to end on
//! loopback:
//! - the authorization-code flow (RFC 6749 section 4.1) with PKCE (RFC 7636, `S256` only):
//!   `GET /authorize` and `POST /token`;
//! - the device authorization grant (RFC 8628): `POST /device/code`, `GET /device` (where the
//!   user approves) and `POST /token`.
//!
//! **Both approve automatically.** There is no login page: `/authorize` redirects at once with
//! a code for the identity named by the `login_hint` parameter (an email address, or any other
//! subject), or for [`DEFAULT_LOGIN`] when there is none; `/device?user_code=…` approves the
//! same way. Anyone who can reach the port gets any identity, which is what a test stack is for
//! and why it is never a production service.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

use crate::keys::SigningKey;
use crate::{AppState, Error, Shared};

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

/// Routes: discovery, JWKS and the interactive sign-in endpoints.
pub(crate) fn routes() -> axum::Router<AppState> {
    // The pending codes live beside the routes rather than in `Shared`: they belong to this
    // issuer alone, and they are deliberately lost when the stack restarts.
    let flows = Arc::new(Flows::default());
    axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route(AUTHORIZE_PATH, get(authorize))
        .route(TOKEN_PATH, post(token))
        .route(DEVICE_CODE_PATH, post(device_authorization))
        .route(DEVICE_PATH, get(device_verification))
        .layer(Extension(flows))
}

async fn discovery(State(shared): State<AppState>) -> Json<Value> {
    let url = &shared.base_url;
    Json(json!({
        "issuer": url,
        "jwks_uri": format!("{url}/jwks"),
        "authorization_endpoint": format!("{url}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{url}{TOKEN_PATH}"),
        "device_authorization_endpoint": format!("{url}{DEVICE_CODE_PATH}"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", DEVICE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "email"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": [
            "sub", "email", "email_verified", "aud", "exp", "iat", "iss", "nbf", "nonce"
        ],
    }))
}

async fn jwks(State(shared): State<AppState>) -> Json<Value> {
    Json(json!({ "keys": [jwk(&shared.keys.oidc)] }))
}

// Interactive sign-in: the authorization-code flow with PKCE and the device authorization grant.

/// The identity `/authorize` and `/device` sign in when the request carries no `login_hint`.
pub const DEFAULT_LOGIN: &str = "dev@example.com";

/// The authorization endpoint (RFC 6749 section 3.1).
pub const AUTHORIZE_PATH: &str = "/authorize";
/// The token endpoint (RFC 6749 section 3.2), for both grants.
pub const TOKEN_PATH: &str = "/token";
/// The device authorization endpoint (RFC 8628 section 3.1).
pub const DEVICE_CODE_PATH: &str = "/device/code";
/// The verification URI (RFC 8628 section 3.3): where the user, in tests the test itself,
/// approves a user code.
pub const DEVICE_PATH: &str = "/device";
/// The device grant type (RFC 8628 section 3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The one client the issuer knows: Sigstore's public client. Its id is the audience Fulcio
/// expects, because an ID token's `aud` is the client it was issued to.
pub const CLIENT_ID: &str = AUDIENCE;

/// Most authorization codes, and separately most device codes, held at once. Expired ones are
/// dropped first; past the cap a request is refused with `temporarily_unavailable` rather
/// than letting a loop of requests grow the stack's memory.
pub const MAX_PENDING: usize = 256;

/// How long an authorization code may wait to be exchanged. RFC 6749 section 4.1.2 asks for
/// at most ten minutes; a client exchanges it within a second of the redirect.
pub const CODE_TTL: Duration = Duration::from_secs(60);

/// How long a device code lives unless the request asks for less.
pub const DEVICE_CODE_TTL: Duration = Duration::from_secs(300);

/// The polling interval handed out with device codes. One second instead of RFC 8628's
/// default of five keeps tests quick; `slow_down` is enforced against it all the same.
pub const DEVICE_INTERVAL: Duration = Duration::from_secs(1);

/// RFC 8628 section 3.5: each `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// Largest form body or query string read. Real requests are a few hundred bytes.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Longest `login_hint`, `state` or `nonce` accepted.
const MAX_PARAM_CHARS: usize = 512;

/// Codes waiting to be exchanged or approved.
#[derive(Debug, Default)]
struct Flows {
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// By authorization code.
    codes: HashMap<String, AuthCode>,
    /// By device code.
    devices: HashMap<String, DeviceCode>,
}

#[derive(Debug)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    /// BASE64URL(SHA-256(code_verifier)), as sent by the client.
    challenge: String,
    nonce: Option<String>,
    subject: Subject,
    expires: Instant,
}

#[derive(Debug)]
struct DeviceCode {
    /// Normalised: upper case, no separator.
    user_code: String,
    client_id: String,
    expires: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    approval: Approval,
}

#[derive(Debug)]
enum Approval {
    Waiting,
    Approved(Subject),
    Denied,
}

impl Flows {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while the lock was held cannot leave a half-made entry (every change is one
        // insert, remove or assignment), so a poisoned lock is still usable.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Pending {
    fn purge(&mut self, now: Instant) {
        self.codes.retain(|_, c| c.expires > now);
        self.devices.retain(|_, d| d.expires > now);
    }
}

/// `GET /authorize`: checks the request and redirects at once with a code (auto-approve).
async fn authorize(Extension(flows): Extension<Arc<Flows>>, RawQuery(query): RawQuery) -> Response {
    let params = match parse_form(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e),
    };
    // Problems with the client or the redirect URI are answered here, never redirected
    // (RFC 6749 section 4.1.2.1): following an unchecked URI would make this an open redirector.
    match params.get("client_id") {
        Some(c) if c == CLIENT_ID => {}
        Some(c) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                format!("unknown client_id `{c}`: this issuer knows only `{CLIENT_ID}`"),
            );
        }
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no client_id"),
    }
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "no redirect_uri",
        );
    };
    if !is_loopback_redirect(redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must be an http:// URI on a loopback address (RFC 8252 section 7.3)",
        );
    }
    let state = params.get("state").map(String::as_str);
    let fail = |error: &str, description: &str| {
        let mut query = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            query.push(("state", state));
        }
        found(redirect_uri, &query)
    };
    if params.get("response_type").map(String::as_str) != Some("code") {
        return fail(
            "unsupported_response_type",
            "this issuer serves response_type=code only",
        );
    }
    if !has_scope(&params, "openid") {
        return fail("invalid_scope", "the scope must include `openid`");
    }
    // RFC 7636 lets `plain` be the default; a Sigstore client has no reason to use it, so the
    // devstack refuses it and catches a client that forgets the method.
    if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return fail(
            "invalid_request",
            "PKCE is required, with code_challenge_method=S256",
        );
    }
    let challenge = match params.get("code_challenge") {
        Some(c) if c.len() == 43 && c.bytes().all(is_base64url) => c.clone(),
        _ => {
            return fail(
                "invalid_request",
                "code_challenge must be BASE64URL(SHA-256(code_verifier)), 43 characters",
            );
        }
    };
    if state.is_some_and(|s| s.chars().count() > MAX_PARAM_CHARS) {
        return fail("invalid_request", "state is too long");
    }
    let nonce = params.get("nonce").cloned();
    if nonce
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_PARAM_CHARS)
    {
        return fail("invalid_request", "nonce is too long");
    }
    let subject = match login(params.get("login_hint")) {
        Ok(s) => s,
        Err(e) => return fail("invalid_request", e),
    };
    let Some(code) = random_token() else {
        return fail("server_error", "no randomness");
    };
    let now = Instant::now();
    {
        let mut pending = flows.lock();
        pending.purge(now);
        if pending.codes.len() >= MAX_PENDING {
            return fail(
                "temporarily_unavailable",
                "too many authorization codes are waiting to be exchanged",
            );
        }
        pending.codes.insert(
            code.clone(),
            AuthCode {
                client_id: CLIENT_ID.to_owned(),
                redirect_uri: redirect_uri.clone(),
                challenge,
                nonce,
                subject,
                expires: now + CODE_TTL,
            },
        );
    }
    let mut query = vec![("code", code.as_str())];
    if let Some(state) = state {
        query.push(("state", state));
    }
    found(redirect_uri, &query)
}

/// `POST /token`: exchanges an authorization code, or polls a device code.
async fn token(
    State(shared): State<AppState>,
    Extension(flows): Extension<Arc<Flows>>,
    body: Bytes,
) -> Response {
    let params = match form_body(&body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    match params.get("grant_type").map(String::as_str) {
        Some("authorization_code") => exchange_code(&shared, &flows, &params),
        Some(DEVICE_GRANT) => poll_device(&shared, &flows, &params),
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!(
                "grant_type `{other}` is not served; use `authorization_code` or `{DEVICE_GRANT}`"
            ),
        ),
        None => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no grant_type"),
    }
}

fn exchange_code(shared: &Shared, flows: &Flows, params: &BTreeMap<String, String>) -> Response {
    let Some(code) = params.get("code") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no code");
    };
    // Taken out before any check: a code is good for one attempt (RFC 6749 section 4.1.2), so
    // a wrong verifier cannot be followed by another guess.
    let Some(entry) = flows.lock().codes.remove(code) else {
        return invalid_grant("the code is unknown, or was already used");
    };
    if Instant::now() >= entry.expires {
        return invalid_grant("the code has expired");
    }
    if params.get("client_id") != Some(&entry.client_id) {
        return invalid_grant("the code was issued to another client_id");
    }
    if params.get("redirect_uri") != Some(&entry.redirect_uri) {
        return invalid_grant("redirect_uri differs from the one in the authorization request");
    }
    let Some(verifier) = params.get("code_verifier") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "no code_verifier (PKCE is required)",
        );
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let computed = B64URL.encode(digest.as_ref());
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed || computed != entry.challenge {
        return invalid_grant("code_verifier does not match the code_challenge (PKCE S256)");
    }
    token_response(shared, entry.subject, entry.nonce)
}

fn poll_device(shared: &Shared, flows: &Flows, params: &BTreeMap<String, String>) -> Response {
    let Some(device_code) = params.get("device_code") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no device_code");
    };
    let now = Instant::now();
    let subject = {
        let mut pending = flows.lock();
        let Some(entry) = pending.devices.get_mut(device_code) else {
            return invalid_grant("the device_code is unknown, or was already used");
        };
        if params.get("client_id") != Some(&entry.client_id) {
            return invalid_grant("the device_code was issued to another client_id");
        }
        if now >= entry.expires {
            pending.devices.remove(device_code);
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "expired_token",
                "the device code has expired; start again",
            );
        }
        if let Some(last) = entry.last_poll
            && now.duration_since(last) < entry.interval
        {
            entry.interval += SLOW_DOWN_STEP;
            entry.last_poll = Some(now);
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "slow_down",
                format!(
                    "polled sooner than the interval; wait {} seconds between requests",
                    entry.interval.as_secs()
                ),
            );
        }
        entry.last_poll = Some(now);
        match &entry.approval {
            Approval::Waiting => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    "the user has not approved the code yet",
                );
            }
            Approval::Denied => {
                pending.devices.remove(device_code);
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "access_denied",
                    "the user denied the request",
                );
            }
            Approval::Approved(subject) => {
                let subject = subject.clone();
                pending.devices.remove(device_code);
                subject
            }
        }
    };
    token_response(shared, subject, None)
}

/// `POST /device/code`: a device code and a user code (RFC 8628 section 3.2).
///
/// Beyond the RFC, the devstack reads an optional `expires_in` (seconds, at most
/// [`DEVICE_CODE_TTL`]) so that tests can see a code expire without waiting minutes.
async fn device_authorization(
    State(shared): State<AppState>,
    Extension(flows): Extension<Arc<Flows>>,
    body: Bytes,
) -> Response {
    let params = match form_body(&body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    match params.get("client_id") {
        Some(c) if c == CLIENT_ID => {}
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                format!("client_id must be `{CLIENT_ID}`"),
            );
        }
    }
    if !has_scope(&params, "openid") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "the scope must include `openid`",
        );
    }
    let ttl = match params.get("expires_in").map(|s| s.parse::<u64>()) {
        None => DEVICE_CODE_TTL,
        Some(Ok(secs)) if (1..=DEVICE_CODE_TTL.as_secs()).contains(&secs) => {
            Duration::from_secs(secs)
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!(
                    "expires_in must be 1 to {} seconds",
                    DEVICE_CODE_TTL.as_secs()
                ),
            );
        }
    };
    let now = Instant::now();
    let (Some(device_code), Some(user_code)) = (random_token(), random_user_code()) else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "no randomness",
        );
    };
    {
        let mut pending = flows.lock();
        pending.purge(now);
        if pending.devices.len() >= MAX_PENDING {
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many device codes are waiting to be approved",
            );
        }
        let normalised = normalise_user_code(&user_code);
        if pending.devices.values().any(|d| d.user_code == normalised) {
            // One in 20^8 per pending code; asking the client to retry is simpler than a loop.
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "user code collision; try again",
            );
        }
        pending.devices.insert(
            device_code.clone(),
            DeviceCode {
                user_code: normalised,
                client_id: CLIENT_ID.to_owned(),
                expires: now + ttl,
                interval: DEVICE_INTERVAL,
                last_poll: None,
                approval: Approval::Waiting,
            },
        );
    }
    let verification_uri = format!("{}{DEVICE_PATH}", shared.base_url);
    no_store(
        StatusCode::OK,
        json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
            "expires_in": ttl.as_secs(),
            "interval": DEVICE_INTERVAL.as_secs(),
        }),
    )
}

/// `GET /device?user_code=…[&login_hint=…][&action=deny]`: the user's side of the device
/// grant. Approves at once, with no login, like `/authorize`.
async fn device_verification(
    Extension(flows): Extension<Arc<Flows>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = match parse_form(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    let Some(user_code) = params.get("user_code") else {
        return text(
            StatusCode::BAD_REQUEST,
            "This is the devstack's device verification page. It asks for no login: add \
             ?user_code=XXXX-XXXX (and &login_hint=EMAIL to choose the identity) to approve a \
             code, or &action=deny to refuse it.",
        );
    };
    let approval = match params.get("action").map(String::as_str) {
        None | Some("approve") => match login(params.get("login_hint")) {
            Ok(subject) => Approval::Approved(subject),
            Err(e) => return text(StatusCode::BAD_REQUEST, e),
        },
        Some("deny") => Approval::Denied,
        Some(_) => {
            return text(
                StatusCode::BAD_REQUEST,
                "action must be `approve` or `deny`",
            );
        }
    };
    let wanted = normalise_user_code(user_code);
    let now = Instant::now();
    let mut pending = flows.lock();
    let Some(entry) = pending
        .devices
        .values_mut()
        .find(|d| d.user_code == wanted && d.expires > now)
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("no device code is waiting for user code `{user_code}`"),
        );
    };
    if !matches!(entry.approval, Approval::Waiting) {
        return text(
            StatusCode::CONFLICT,
            format!("user code `{user_code}` was already answered"),
        );
    }
    let message = match &approval {
        Approval::Approved(Subject::Email(s) | Subject::Other(s)) => {
            format!("Approved: signed in as {s}. Return to your terminal.")
        }
        _ => "Denied. Return to your terminal.".to_owned(),
    };
    entry.approval = approval;
    text(StatusCode::OK, message)
}

fn token_response(shared: &Shared, subject: Subject, nonce: Option<String>) -> Response {
    let mut claims = BTreeMap::new();
    if let Some(nonce) = nonce {
        claims.insert("nonce".to_owned(), nonce);
    }
    let request = TokenRequest {
        subject,
        ttl: DEFAULT_TTL,
        claims,
    };
    let (Ok(id_token), Some(access_token)) = (
        mint(
            &shared.keys.oidc,
            &shared.base_url,
            &request,
            crate::now_unix(),
        ),
        random_token(),
    ) else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "cannot mint a token",
        );
    };
    // The access token is opaque and accepted nowhere: the ID token is what a Sigstore client
    // wants, but RFC 6749 section 5.1 requires an access token in every answer.
    no_store(
        StatusCode::OK,
        json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": DEFAULT_TTL,
            "id_token": id_token,
            "scope": "openid email",
        }),
    )
}

/// The identity to sign in: `login_hint` (an email address when it has an `@`), or
/// [`DEFAULT_LOGIN`].
fn login(hint: Option<&String>) -> Result<Subject, &'static str> {
    let hint = hint.map_or(DEFAULT_LOGIN, String::as_str);
    if hint.is_empty() || hint.chars().count() > MAX_PARAM_CHARS {
        return Err("login_hint must be 1 to 512 characters");
    }
    if hint.chars().any(char::is_control) {
        return Err("login_hint must not contain control characters");
    }
    Ok(if hint.contains('@') {
        Subject::Email(hint.to_owned())
    } else {
        Subject::Other(hint.to_owned())
    })
}

fn has_scope(params: &BTreeMap<String, String>, wanted: &str) -> bool {
    params
        .get("scope")
        .is_some_and(|s| s.split(' ').any(|scope| scope == wanted))
}

/// A loopback `http://` redirect URI with no fragment and no user info: what a native app
/// listens on (RFC 8252 section 7.3), and all that the devstack, itself loopback-only, will
/// send a code to.
fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    if uri.contains('#') {
        return false;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, rest)) => (host, rest.strip_prefix(':')),
            None => return false,
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    let host_ok = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    port_ok && host_ok
}

/// A 302 to `base` with `query` appended, percent-encoded.
fn found(base: &str, query: &[(&str, &str)]) -> Response {
    let mut location = base.to_owned();
    let mut separator = if base.contains('?') { '&' } else { '?' };
    for (name, value) in query {
        location.push(separator);
        location.push_str(&percent_encode(name));
        location.push('=');
        location.push_str(&percent_encode(value));
        separator = '&';
    }
    let Ok(location) = HeaderValue::from_str(&location) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not a valid header value",
        );
    };
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// An OAuth error (RFC 6749 section 5.2): `{"error", "error_description"}`.
fn oauth_error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    no_store(
        status,
        json!({ "error": error, "error_description": description.into() }),
    )
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// JSON that no cache may keep: it carries codes or tokens (RFC 6749 section 5.1).
fn no_store(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// 32 random bytes, base64url: an authorization code, device code or access token.
fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).ok()?;
    Some(B64URL.encode(bytes))
}

/// Eight letters as `XXXX-XXXX`, from the vowel-free alphabet RFC 8628 section 6.1 suggests
/// (no accidental words, nothing to confuse with a digit): about 34 bits.
fn random_user_code() -> Option<String> {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::with_capacity(9);
    let mut buf = [0u8; 32];
    while code.len() < 9 {
        aws_lc_rs::rand::fill(&mut buf).ok()?;
        // Bytes of 240 and above are dropped so that each letter is equally likely.
        for b in buf.iter().filter(|&&b| b < 240) {
            if code.len() == 4 {
                code.push('-');
            }
            if code.len() == 9 {
                break;
            }
            code.push(char::from(*ALPHABET.get(usize::from(*b) % ALPHABET.len())?));
        }
    }
    Some(code)
}

fn normalise_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `application/x-www-form-urlencoded` (also a query string) into a map. A parameter given
/// twice is an error (RFC 6749 section 3.1), not a silent choice between two values.
/// A form-encoded request body, or the OAuth error answer for one that is too large or malformed.
fn form_body(body: &[u8]) -> Result<BTreeMap<String, String>, Response> {
    if body.len() > MAX_FORM_BYTES {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "body too large",
        ));
    }
    parse_form(body).map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e))
}

fn parse_form(input: &[u8]) -> Result<BTreeMap<String, String>, String> {
    if input.len() > MAX_FORM_BYTES {
        return Err("the parameters are too long".to_owned());
    }
    let mut params = BTreeMap::new();
    for pair in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (pair.get(..i), pair.get(i + 1..)),
            None => (Some(pair), Some(&b""[..])),
        };
        let name = percent_decode(name.unwrap_or_default())?;
        let value = percent_decode(value.unwrap_or_default())?;
        if params.contains_key(&name) {
            return Err(format!("parameter `{name}` is given more than once"));
        }
        params.insert(name, value);
    }
    Ok(params)
}

fn percent_decode(input: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next().copied(), bytes.next().copied()];
                let value = match hex {
                    [Some(h), Some(l)] => std::str::from_utf8(&[h, l])
                        .ok()
                        .and_then(|s| u8::from_str_radix(s, 16).ok()),
                    _ => None,
                };
                out.push(value.ok_or_else(|| "a bad percent-escape".to_owned())?);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| "a parameter is not UTF-8".to_owned())
}

fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for b in input.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
    #[test]
    fn forms_decode_and_refuse_repeats() {
        let form = parse_form(b"a=1&b=x+y%2Fz&c=&d").unwrap();
        assert_eq!(form["a"], "1");
        assert_eq!(form["b"], "x y/z");
        assert_eq!(form["c"], "");
        assert_eq!(form["d"], "");
        assert!(parse_form(b"a=1&a=2").is_err());
        assert!(parse_form(b"a=%zz").is_err());
        assert!(parse_form(b"a=%ff").is_err());
        assert_eq!(percent_encode("a b/c~"), "a%20b%2Fc~");
    }

    #[test]
    fn redirects_go_to_loopback_only() {
        for (uri, ok) in [
            ("http://127.0.0.1:4567/callback", true),
            ("http://127.0.0.1/callback?x=1", true),
            ("http://[::1]:80/cb", true),
            ("http://localhost:1234", true),
            ("https://127.0.0.1:4567/callback", false),
            ("http://example.com/callback", false),
            ("http://127.0.0.1.example.com/callback", false),
            ("http://user@127.0.0.1:1/callback", false),
            ("http://127.0.0.1:1/callback#frag", false),
            ("http://127.0.0.1:x/callback", false),
        ] {
            assert_eq!(is_loopback_redirect(uri), ok, "{uri}");
        }
    }

    #[test]
    fn user_codes_are_two_groups_of_four_consonants() {
        let code = random_user_code().unwrap();
        assert_eq!(code.len(), 9);
        assert_eq!(code.chars().nth(4), Some('-'));
        assert!(
            code.chars()
                .filter(|&c| c != '-')
                .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c))
        );
        assert_eq!(normalise_user_code("bcdf-ghjk"), "BCDFGHJK");
    }

    /// The interactive endpoints over real HTTP on loopback.
    mod http {
        use super::super::*;

        struct Stack {
            _state: tempfile::TempDir,
            running: crate::Running,
            client: reqwest::Client,
        }

        impl Stack {
            async fn start() -> Self {
                let state = tempfile::tempdir().unwrap();
                let running = crate::start(crate::Config {
                    state_dir: state.path().to_path_buf(),
                    addr: "127.0.0.1:0".parse().unwrap(),
                })
                .await
                .unwrap();
                let client = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                Self {
                    _state: state,
                    running,
                    client,
                }
            }

            fn url(&self, path: &str) -> String {
                format!("{}{path}", self.running.url())
            }

            async fn get(&self, path_and_query: &str) -> reqwest::Response {
                self.client
                    .get(self.url(path_and_query))
                    .send()
                    .await
                    .unwrap()
            }

            async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
                let body = form
                    .iter()
                    .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                let response = self
                    .client
                    .post(self.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
                (status, response.json().await.unwrap())
            }

            fn verify(&self, token: &str) -> serde_json::Map<String, Value> {
                let shared = self.running.shared();
                verify(
                    &shared.keys.oidc,
                    &shared.base_url,
                    token,
                    crate::now_unix(),
                )
                .unwrap()
            }
        }

        const VERIFIER: &str = "a-verifier-of-forty-three-characters-or-more";
        const REDIRECT: &str = "http://127.0.0.1:9/callback";

        fn challenge(verifier: &str) -> String {
            B64URL.encode(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
            )
        }

        fn query(pairs: &[(&str, &str)]) -> String {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        }

        /// The redirect's query, checked to go back to `REDIRECT`.
        fn redirect_params(response: &reqwest::Response) -> BTreeMap<String, String> {
            assert_eq!(response.status().as_u16(), 302);
            let location = response.headers()["location"].to_str().unwrap();
            let query = location
                .strip_prefix(&format!("{REDIRECT}?"))
                .unwrap_or_else(|| panic!("{location}"));
            parse_form(query.as_bytes()).unwrap()
        }

        async fn authorize(stack: &Stack, extra: &[(&str, &str)]) -> reqwest::Response {
            let challenge = challenge(VERIFIER);
            let mut pairs = vec![
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("redirect_uri", REDIRECT),
                ("scope", "openid email"),
                ("state", "st&te"),
                ("nonce", "n-0"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ];
            for (k, v) in extra {
                pairs.retain(|(name, _)| name != k);
                pairs.push((k, v));
            }
            stack
                .get(&format!("{AUTHORIZE_PATH}?{}", query(&pairs)))
                .await
        }

        fn exchange<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
            vec![
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT_ID),
                ("code_verifier", verifier),
            ]
        }

        #[tokio::test]
        async fn discovery_advertises_the_interactive_endpoints() {
            let stack = Stack::start().await;
            let doc: Value = stack
                .get("/.well-known/openid-configuration")
                .await
                .json()
                .await
                .unwrap();
            let base = stack.running.url();
            assert_eq!(doc["authorization_endpoint"], format!("{base}/authorize"));
            assert_eq!(doc["token_endpoint"], format!("{base}/token"));
            assert_eq!(
                doc["device_authorization_endpoint"],
                format!("{base}/device/code")
            );
            assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        }

        #[tokio::test]
        async fn authorization_code_with_pkce_is_single_use() {
            let stack = Stack::start().await;
            let params =
                redirect_params(&authorize(&stack, &[("login_hint", "alice@example.com")]).await);
            assert_eq!(params["state"], "st&te");
            let code = &params["code"];

            // A wrong verifier is refused, and burns the code.
            let wrong = "another-verifier-of-forty-three-characters-x";
            let (status, body) = stack.post(TOKEN_PATH, &exchange(code, wrong)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"], "invalid_grant");
            let (status, body) = stack.post(TOKEN_PATH, &exchange(code, VERIFIER)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"], "invalid_grant");

            let params =
                redirect_params(&authorize(&stack, &[("login_hint", "alice@example.com")]).await);
            let (status, body) = stack
                .post(TOKEN_PATH, &exchange(&params["code"], VERIFIER))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let claims = stack.verify(body["id_token"].as_str().unwrap());
            assert_eq!(claims["email"], "alice@example.com");
            assert_eq!(claims["nonce"], "n-0");
            assert_eq!(claims["aud"], AUDIENCE);
            let (_, body) = stack
                .post(TOKEN_PATH, &exchange(&params["code"], VERIFIER))
                .await;
            assert_eq!(body["error"], "invalid_grant", "a code is good once");

            // Without a login_hint, the default identity.
            let params = redirect_params(&authorize(&stack, &[]).await);
            let (_, body) = stack
                .post(TOKEN_PATH, &exchange(&params["code"], VERIFIER))
                .await;
            let claims = stack.verify(body["id_token"].as_str().unwrap());
            assert_eq!(claims["email"], DEFAULT_LOGIN);

            // The redirect URI must match the one the code was issued for.
            let params = redirect_params(&authorize(&stack, &[]).await);
            let mut form = exchange(&params["code"], VERIFIER);
            form.retain(|(k, _)| *k != "redirect_uri");
            form.push(("redirect_uri", "http://127.0.0.1:10/callback"));
            let (_, body) = stack.post(TOKEN_PATH, &form).await;
            assert_eq!(body["error"], "invalid_grant");
        }

        #[tokio::test]
        async fn bad_authorization_requests_are_refused() {
            let stack = Stack::start().await;
            // Not redirected: the redirect URI itself is untrusted.
            let response = authorize(&stack, &[("redirect_uri", "https://example.com/cb")]).await;
            assert_eq!(response.status().as_u16(), 400);
            let response = authorize(&stack, &[("client_id", "other")]).await;
            assert_eq!(response.status().as_u16(), 400);
            // Redirected with an error and the state.
            for (extra, error) in [
                (("code_challenge_method", "plain"), "invalid_request"),
                (("code_challenge", "short"), "invalid_request"),
                (("response_type", "token"), "unsupported_response_type"),
                (("scope", "email"), "invalid_scope"),
            ] {
                let params = redirect_params(&authorize(&stack, &[extra]).await);
                assert_eq!(params["error"], error, "{extra:?}");
                assert_eq!(params["state"], "st&te");
                assert!(!params.contains_key("code"));
            }
        }

        async fn device_code(stack: &Stack, extra: &[(&str, &str)]) -> Value {
            let mut form = vec![("client_id", CLIENT_ID), ("scope", "openid email")];
            form.extend_from_slice(extra);
            let (status, body) = stack.post(DEVICE_CODE_PATH, &form).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }

        async fn poll(stack: &Stack, device: &Value) -> (StatusCode, Value) {
            stack
                .post(
                    TOKEN_PATH,
                    &[
                        ("grant_type", DEVICE_GRANT),
                        ("device_code", device["device_code"].as_str().unwrap()),
                        ("client_id", CLIENT_ID),
                    ],
                )
                .await
        }

        async fn answer(stack: &Stack, device: &Value, extra: &str) -> reqwest::Response {
            let complete = device["verification_uri_complete"].as_str().unwrap();
            stack
                .client
                .get(format!("{complete}{extra}"))
                .send()
                .await
                .unwrap()
        }

        #[tokio::test]
        async fn device_grant_pending_approved_then_used() {
            let stack = Stack::start().await;
            let device = device_code(&stack, &[]).await;
            assert_eq!(
                device["verification_uri"],
                format!("{}/device", stack.running.url())
            );
            assert_eq!(device["interval"], 1);
            let (status, body) = poll(&stack, &device).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"], "authorization_pending");

            let response = answer(&stack, &device, "&login_hint=bob@example.com").await;
            assert_eq!(response.status().as_u16(), 200);
            // Answering twice is a conflict, not a change of identity.
            let response = answer(&stack, &device, "&login_hint=eve@example.com").await;
            assert_eq!(response.status().as_u16(), 409);

            tokio::time::sleep(DEVICE_INTERVAL).await;
            let (status, body) = poll(&stack, &device).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let claims = stack.verify(body["id_token"].as_str().unwrap());
            assert_eq!(claims["email"], "bob@example.com");
            let (_, body) = poll(&stack, &device).await;
            assert_eq!(body["error"], "invalid_grant", "a device code is good once");

            let response = stack.get("/device?user_code=ZZZZ-ZZZZ").await;
            assert_eq!(response.status().as_u16(), 404);
        }

        #[tokio::test]
        async fn device_grant_slow_down_is_enforced() {
            let stack = Stack::start().await;
            let device = device_code(&stack, &[]).await;
            assert_eq!(
                poll(&stack, &device).await.1["error"],
                "authorization_pending"
            );
            assert_eq!(poll(&stack, &device).await.1["error"], "slow_down");
            // The interval is now six seconds: waiting the old one is still too fast.
            tokio::time::sleep(DEVICE_INTERVAL + Duration::from_millis(200)).await;
            let (_, body) = poll(&stack, &device).await;
            assert_eq!(body["error"], "slow_down", "{body}");
        }

        #[tokio::test]
        async fn device_grant_denied_and_expired() {
            let stack = Stack::start().await;
            let denied = device_code(&stack, &[]).await;
            assert_eq!(
                answer(&stack, &denied, "&action=deny")
                    .await
                    .status()
                    .as_u16(),
                200
            );
            assert_eq!(poll(&stack, &denied).await.1["error"], "access_denied");

            let expiring = device_code(&stack, &[("expires_in", "1")]).await;
            assert_eq!(expiring["expires_in"], 1);
            tokio::time::sleep(Duration::from_millis(1100)).await;
            assert_eq!(poll(&stack, &expiring).await.1["error"], "expired_token");

            let (status, body) = stack
                .post(
                    DEVICE_CODE_PATH,
                    &[
                        ("client_id", CLIENT_ID),
                        ("scope", "openid"),
                        ("expires_in", "9999"),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body["error"], "invalid_request");
        }

        #[tokio::test]
        async fn pending_device_codes_are_capped() {
            let stack = Stack::start().await;
            for _ in 0..MAX_PENDING {
                device_code(&stack, &[]).await;
            }
            let (status, body) = stack
                .post(
                    DEVICE_CODE_PATH,
                    &[("client_id", CLIENT_ID), ("scope", "openid")],
                )
                .await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body["error"], "temporarily_unavailable");
        }
    }
}

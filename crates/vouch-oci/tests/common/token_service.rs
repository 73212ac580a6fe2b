//! A registry token service for tests, on loopback: distribution's OAuth2 endpoint
//! (<https://distribution.github.io/distribution/spec/auth/oauth/>) for one known refresh token,
//! issuing the JWTs distribution 2.8 accepts
//! (<https://distribution.github.io/distribution/spec/auth/jwt/>): ES256, signed by a key whose
//! certificate chain is in the `x5c` header and leads to the root the registry is configured
//! with, and with an `access` claim granting exactly the scope asked for.
//!
//! The JWTs are minted here rather than with vouch-devstack's OIDC issuer, whose tokens are
//! OIDC identity tokens (audience `sigstore`, string claims, a `kid` instead of `x5c`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vouch_oci::testing::TokenAuth;

/// The registry's name at the token service.
pub const SERVICE: &str = "vouch-test-registry";
/// The JWTs' issuer.
pub const ISSUER: &str = "vouch-test-token-service";

/// What a successful exchange answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `{"access_token": …}`, as RFC 6749 says.
    AccessToken,
    /// `{"token": …}`, as older token services say.
    Token,
    /// A 200 answer without a token.
    Nothing,
    /// `307 Temporary Redirect` to `/elsewhere` on this service, which would keep the form
    /// (refresh token included) and answers as [`Answer::AccessToken`] does.
    Redirect,
}

/// A request the service received: the form fields, the refresh token's value replaced by
/// whether it was the known one.
pub type Seen = BTreeMap<String, String>;

struct State {
    refresh_token: String,
    answer: Answer,
    seen: Vec<Seen>,
    signer: EcdsaKeyPair,
    x5c: Vec<String>,
    issued: u64,
}

/// A running token service; it stops with the test's runtime or when dropped.
pub struct TokenService {
    auth: TokenAuth,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl TokenService {
    /// Starts a service that accepts `refresh_token`.
    pub async fn start(refresh_token: &str) -> TokenService {
        // A CA, as the registry's `rootcertbundle`, and a signing certificate it issued, sent
        // in each JWT's `x5c`: distribution verifies the chain, then the signature.
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "vouch test token CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca = Issuer::new(ca_params, ca_key);

        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let signer =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let leaf_key = KeyPair::try_from(pkcs8.as_ref()).unwrap();
        let mut leaf_params = CertificateParams::default();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "vouch test token signer");
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let leaf_cert = leaf_params.signed_by(&leaf_key, &ca).unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let realm = format!("http://{}/token", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            refresh_token: refresh_token.to_owned(),
            answer: Answer::AccessToken,
            seen: Vec::new(),
            signer,
            x5c: vec![STANDARD.encode(leaf_cert.der())],
            issued: 0,
        }));
        let served = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = served.clone();
                tokio::spawn(async move { serve(stream, &state).await });
            }
        });
        TokenService {
            auth: TokenAuth {
                realm,
                service: SERVICE.to_owned(),
                issuer: ISSUER.to_owned(),
                root_certificates: ca_cert.pem(),
            },
            state,
            task,
        }
    }

    /// The registry's configuration for this service.
    pub fn auth(&self) -> &TokenAuth {
        &self.auth
    }

    /// Changes what a successful exchange answers with.
    pub fn set_answer(&self, answer: Answer) {
        self.state.lock().unwrap().answer = answer;
    }

    /// The requests received so far, and forgets them.
    pub fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut self.state.lock().unwrap().seen)
    }
}

impl Drop for TokenService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one HTTP/1.1 request and closes the connection.
async fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let Ok(host) = stream.local_addr() else {
        return;
    };
    let Some((method, path, body)) = read_request(&mut stream).await else {
        return;
    };
    let mut location = String::new();
    let (status, answer) = if method == "POST" && path == "/elsewhere" {
        let mut form = parse_form(&body);
        form.insert("path".to_owned(), path);
        respond(state, &form, Answer::AccessToken)
    } else if method != "POST" || path != "/token" {
        // The `GET` flow takes a user name and password; this service has none to check.
        (
            "401 Unauthorized",
            json!({"errors": [{"code": "UNAUTHORIZED", "message": "only the OAuth2 flow is served"}]}),
        )
    } else {
        let answer = state.lock().unwrap().answer;
        if answer == Answer::Redirect {
            location = format!("Location: http://{host}/elsewhere\r\n");
            ("307 Temporary Redirect", json!({}))
        } else {
            respond(state, &parse_form(&body), answer)
        }
    };
    let body = answer.to_string();
    let head = format!(
        "HTTP/1.1 {status}\r\n{location}Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn respond(
    state: &Mutex<State>,
    form: &BTreeMap<String, String>,
    answer: Answer,
) -> (&'static str, Value) {
    let mut state = state.lock().unwrap();
    let given = form.get("refresh_token").cloned().unwrap_or_default();
    let known = given == state.refresh_token;
    let mut seen = form.clone();
    seen.insert(
        "refresh_token".to_owned(),
        if known { "known" } else { "unknown" }.to_owned(),
    );
    state.seen.push(seen);
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return (
            "400 Bad Request",
            json!({"error": "unsupported_grant_type"}),
        );
    }
    if !known {
        // A careless service echoes what it was sent; vouch must not show it.
        return (
            "400 Bad Request",
            json!({"error": "invalid_grant", "error_description": format!("refresh token `{given}` is not known")}),
        );
    }
    if form.get("service").map(String::as_str) != Some(SERVICE) {
        return ("400 Bad Request", json!({"error": "invalid_request"}));
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let jwt = mint(&mut state, &scope);
    let answer = match answer {
        Answer::AccessToken | Answer::Redirect => {
            json!({"access_token": jwt, "expires_in": 300, "scope": scope})
        }
        Answer::Token => json!({"token": jwt, "expires_in": 300}),
        Answer::Nothing => json!({"expires_in": 300}),
    };
    ("200 OK", answer)
}

/// A JWT granting every action `scope` asks for (`type:name:action,action`, space-separated).
fn mint(state: &mut State, scope: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    state.issued += 1;
    let access: Vec<Value> = scope
        .split_whitespace()
        .filter_map(|s| {
            let (kind, rest) = s.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": state.x5c});
    let claims = json!({
        "iss": ISSUER,
        "sub": "vouch-test-user",
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("vouch-test-{now}-{}", state.issued),
        "access": access,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = state
        .signer
        .sign(&SystemRandom::new(), input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// Method, path and body of one request (`Content-Length` bodies only).
async fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.split('?').next()?.to_owned();
    let length: usize = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((method, path, body))
}

/// `application/x-www-form-urlencoded` fields.
fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

//! Identity tokens for keyless signing (`vouch_sigstore::token`), over real HTTP on loopback:
//! - the browser sign-in (authorization code with PKCE) and the device sign-in (RFC 8628)
//!   against the devstack's OIDC issuer, with the test playing the browser and the user;
//! - GitHub Actions against a small token service in the test, which checks the audience and
//!   the bearer credential;
//! - GitLab CI, with and without the job's `id_tokens` entry;
//! - Buildkite and CircleCI through stand-in scripts on the `PATH` of the request's environment
//!   (not the test process's);
//! - the Google Cloud metadata server, stood in for by a server in the test;
//! - the claim checks on tokens from each of them, the order of the sources, and that no token
//!   or credential reaches an error, a message or `Debug` output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sigstore_oidc::reqwest;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use vouch_devstack::oidc::{Subject, TokenRequest as Mint};
use vouch_sigstore::token::{
    ClaimError, Environment, GoogleCloud, Interactive, TokenError, TokenRequest, TokenSource,
    obtain,
};

struct Stack {
    _state: tempfile::TempDir,
    running: vouch_devstack::Running,
}

impl Stack {
    async fn start() -> Self {
        let state = tempfile::tempdir().unwrap();
        let running = vouch_devstack::start(vouch_devstack::Config {
            state_dir: state.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().unwrap(),
        })
        .await
        .unwrap();
        Self {
            _state: state,
            running,
        }
    }

    fn url(&self) -> &str {
        self.running.url()
    }

    /// A token signed by the devstack's issuer, issued at `now + offset` for `ttl` seconds.
    fn mint(&self, email: &str, offset: i64, ttl: i64) -> String {
        let shared = self.running.shared();
        vouch_devstack::oidc::mint(
            &shared.keys.oidc,
            &shared.base_url,
            &Mint {
                subject: Subject::Email(email.to_owned()),
                ttl,
                claims: BTreeMap::new(),
            },
            now() + offset,
        )
        .unwrap()
    }

    /// Checks the token's signature with the devstack's key: it really came from the issuer.
    fn verify(&self, token: &str) -> serde_json::Map<String, Value> {
        let shared = self.running.shared();
        vouch_devstack::oidc::verify(&shared.keys.oidc, &shared.base_url, token, now()).unwrap()
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A request that can only reach what the test sets up: no Google Cloud detection, no
/// interactive sign-in, no public-good issuer.
fn request(env: &[(&str, &str)]) -> TokenRequest {
    TokenRequest::new(
        Environment::from_vars(env.iter().copied()),
        reqwest::Client::new(),
    )
    .google_cloud(GoogleCloud::Never)
    .dmi_product_name(None)
    .issuer("http://127.0.0.1:9/unused", "sigstore")
}

/// An unsigned JWT with these claims: enough for the claim checks, which never look at the
/// signature.
fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn quiet() -> impl Fn(&str) + Sync {
    |_: &str| {}
}

/// A `say` that forwards every message to the returned channel.
fn messages() -> (impl Fn(&str) + Sync, UnboundedReceiver<String>) {
    let (send, receive) = unbounded_channel();
    (
        move |m: &str| {
            let _ = send.send(m.to_owned());
        },
        receive,
    )
}

/// Waits for a message with a URL containing `part` and returns the URL.
async fn url_in_messages(messages: &mut UnboundedReceiver<String>, part: &str) -> String {
    loop {
        let message = messages.recv().await.expect("the flow ended without a URL");
        if let Some(url) = message
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(part))
        {
            return url.to_owned();
        }
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Serves `router` on a loopback port; returns `http://127.0.0.1:PORT`.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// Every way a token can show up in an error: Display, the source chain, Debug and the hint.
fn rendered(error: &TokenError) -> String {
    let mut text = format!("{error}\n{error:?}\n{}", error.hint().unwrap_or_default());
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        text.push_str(&format!("\n{c}"));
        cause = c.source();
    }
    text
}

// The browser sign-in.

#[tokio::test]
async fn browser_sign_in_through_the_devstack() {
    let stack = Stack::start().await;
    let (say, mut messages) = messages();
    let req = request(&[])
        .interactive(Interactive::Browser)
        .issuer(stack.url(), "sigstore")
        .login_hint("alice@example.com");
    let browser = async move {
        let url = url_in_messages(&mut messages, "/authorize?").await;
        let client = no_redirects();
        let answer = client.get(&url).send().await.unwrap();
        assert_eq!(answer.status(), 302);
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        let callback = reqwest::Url::parse(&location).unwrap();
        assert_eq!(callback.host_str(), Some("127.0.0.1"));
        assert_eq!(callback.path(), "/callback");
        let origin = format!("http://127.0.0.1:{}", callback.port().unwrap());

        // What a browser also asks for, ignored.
        let favicon = client.get(format!("{origin}/favicon.ico")).send().await;
        assert_eq!(favicon.unwrap().status(), 404);

        // A callback for another sign-in is refused, and the wait goes on.
        let mut forged = callback.clone();
        forged
            .query_pairs_mut()
            .clear()
            .append_pair("code", "forged")
            .append_pair("state", "not-the-state");
        let answer = client.get(forged).send().await.unwrap();
        assert_eq!(answer.status(), 400);
        loop {
            if messages
                .recv()
                .await
                .unwrap()
                .contains("state did not match")
            {
                break;
            }
        }

        let answer = client.get(&location).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert!(answer.text().await.unwrap().contains("Signed in"));
    };
    let (result, ()) = tokio::join!(obtain(&req, &say), browser);
    let (token, source) = result.unwrap();
    assert_eq!(source, TokenSource::Browser);
    assert_eq!(token.email(), Some("alice@example.com"));
    assert_eq!(token.issuer(), stack.url());
    stack.verify(token.expose_secret());
}

#[tokio::test]
async fn browser_sign_in_waits_a_bounded_time() {
    let stack = Stack::start().await;
    let req = request(&[])
        .interactive(Interactive::Browser)
        .issuer(stack.url(), "sigstore")
        .interactive_timeout(Duration::from_millis(500));
    let error = obtain(&req, &quiet()).await.unwrap_err();
    assert!(
        matches!(
            error,
            TokenError::Timeout {
                origin: TokenSource::Browser,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.hint().unwrap().contains("device flow"));
}

#[tokio::test]
async fn auto_uses_the_browser_when_one_opens() {
    let stack = Stack::start().await;
    // The launcher plays the browser: it follows the sign-in URL to the loopback redirect.
    let opener = Arc::new(|url: &str| {
        let url = url.to_owned();
        tokio::spawn(async move {
            let client = no_redirects();
            let answer = client.get(&url).send().await.unwrap();
            let location = answer.headers()["location"].to_str().unwrap().to_owned();
            client.get(&location).send().await.unwrap();
        });
        true
    });
    let req = request(&[])
        .interactive(Interactive::Auto)
        .issuer(stack.url(), "sigstore")
        .browser_opener(opener);
    let (say, mut messages) = messages();
    let (token, source) = obtain(&req, &say).await.unwrap();
    assert_eq!(source, TokenSource::Browser);
    assert_eq!(token.email(), Some(vouch_devstack::oidc::DEFAULT_LOGIN));
    assert!(
        messages
            .recv()
            .await
            .unwrap()
            .contains("browser has been opened")
    );
}

// The device sign-in.

#[tokio::test]
async fn device_sign_in_through_the_devstack() {
    let stack = Stack::start().await;
    let (say, mut messages) = messages();
    let req = request(&[])
        .interactive(Interactive::Device)
        .issuer(stack.url(), "sigstore");
    let user = async move {
        let url = url_in_messages(&mut messages, "/device?user_code=").await;
        let answer = reqwest::get(format!("{url}&login_hint=bob@example.com"))
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    };
    let (result, ()) = tokio::join!(obtain(&req, &say), user);
    let (token, source) = result.unwrap();
    assert_eq!(source, TokenSource::DeviceFlow);
    assert_eq!(token.email(), Some("bob@example.com"));
    stack.verify(token.expose_secret());
}

#[tokio::test]
async fn auto_without_a_browser_uses_the_device_flow() {
    let stack = Stack::start().await;
    let (say, mut messages) = messages();
    let req = request(&[])
        .interactive(Interactive::Auto)
        .issuer(stack.url(), "sigstore")
        .browser_opener(Arc::new(|_: &str| false));
    let user = async move {
        let url = url_in_messages(&mut messages, "/device?user_code=").await;
        assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    };
    let (result, ()) = tokio::join!(obtain(&req, &say), user);
    assert_eq!(result.unwrap().1, TokenSource::DeviceFlow);
}

#[tokio::test]
async fn a_denied_device_sign_in_says_so() {
    let stack = Stack::start().await;
    let (say, mut messages) = messages();
    let req = request(&[])
        .interactive(Interactive::Device)
        .issuer(stack.url(), "sigstore");
    let user = async move {
        let url = url_in_messages(&mut messages, "/device?user_code=").await;
        reqwest::get(format!("{url}&action=deny")).await.unwrap();
    };
    let (result, ()) = tokio::join!(obtain(&req, &say), user);
    let error = result.unwrap_err();
    match &error {
        TokenError::OAuth { origin, error, .. } => {
            assert_eq!(*origin, TokenSource::DeviceFlow);
            assert_eq!(error, "access_denied");
        }
        other => panic!("{other:?}"),
    }
    assert!(error.hint().unwrap().contains("declined"));
}

#[tokio::test]
async fn an_issuer_whose_discovery_names_another_is_refused() {
    // Discovery on a server that claims to be the public-good issuer.
    let url = serve(axum::Router::new().route(
        "/.well-known/openid-configuration",
        axum::routing::get(|| async {
            axum::Json(json!({
                "issuer": "https://oauth2.sigstore.dev/auth",
                "authorization_endpoint": "http://127.0.0.1:1/authorize",
                "token_endpoint": "http://127.0.0.1:1/token",
            }))
        }),
    ))
    .await;
    let req = request(&[])
        .interactive(Interactive::Browser)
        .issuer(&url, "sigstore");
    let error = obtain(&req, &quiet()).await.unwrap_err();
    assert!(matches!(error, TokenError::Discovery { .. }), "{error:?}");
    assert!(error.to_string().contains("names the issuer"), "{error}");
}

// GitHub Actions.

/// A request's query, and its `Authorization` (GitHub) or `Metadata-Flavor` (Google) header.
type Observed = (HashMap<String, String>, Option<String>);

/// What a stand-in service was asked.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<Observed>>,
    hits: AtomicUsize,
}

/// GitHub's token service, as far as a job sees it: `GET ?api-version=2.0&audience=AUD` with
/// the request token as a bearer credential, answering `{"count", "value"}`.
async fn github_service(token: String, seen: Arc<Seen>) -> String {
    async fn handler(
        State((token, seen)): State<(String, Arc<Seen>)>,
        Query(query): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> Response {
        seen.hits.fetch_add(1, Ordering::SeqCst);
        let authorization = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.requests
            .lock()
            .unwrap()
            .push((query.clone(), authorization.clone()));
        let bearer_ok = authorization.is_some_and(|a| {
            a.len() > 7 && a[..7].eq_ignore_ascii_case("bearer ") && a[7..] == *REQUEST_TOKEN
        });
        if !bearer_ok {
            let body = format!(r#"{{"message":"Bad credentials {REQUEST_TOKEN}"}}"#);
            return (StatusCode::UNAUTHORIZED, body).into_response();
        }
        if query.get("api-version").map(String::as_str) != Some("2.0")
            || query.get("audience").map(String::as_str) != Some("sigstore")
        {
            return (StatusCode::BAD_REQUEST, "bad query").into_response();
        }
        axum::Json(json!({ "count": 1, "value": token })).into_response()
    }
    serve(
        axum::Router::new()
            .route("/token", axum::routing::get(handler))
            .with_state((token, seen)),
    )
    .await
}

/// Shaped like the real one (a JWT), so that the redaction of JWT-shaped text is what keeps it
/// out of errors.
const REQUEST_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.eyJzY3AiOiJBY3Rpb25zLkdlbmVyaWNSZWFkIn0.cmVxdWVzdA";

#[tokio::test]
async fn github_actions_asks_for_the_audience_with_the_bearer_token() {
    let stack = Stack::start().await;
    let minted = stack.mint("ci@example.com", 0, 600);
    let seen = Arc::new(Seen::default());
    let service = github_service(minted.clone(), seen.clone()).await;
    let url = format!("{service}/token?api-version=2.0");
    let req = request(&[
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
    ]);
    let (token, source) = obtain(&req, &quiet()).await.unwrap();
    assert_eq!(source, TokenSource::GithubActions);
    assert_eq!(token.expose_secret(), minted);
    let requests = seen.requests.lock().unwrap();
    let (query, authorization) = &requests[0];
    assert_eq!(query["audience"], "sigstore");
    assert_eq!(query["api-version"], "2.0");
    assert_eq!(
        authorization.as_deref(),
        Some(format!("Bearer {REQUEST_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn github_actions_refusals_do_not_show_the_request_token() {
    let seen = Arc::new(Seen::default());
    let service = github_service("unused".into(), seen.clone()).await;
    let url = format!("{service}/token?api-version=2.0");
    let req = request(&[
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "eyJ0eXAi.eyJ3cm9uZyI.d3Jvbmc",
        ),
    ]);
    let error = obtain(&req, &quiet()).await.unwrap_err();
    match &error {
        TokenError::Status { status, body, .. } => {
            assert_eq!(*status, 401);
            assert!(body.contains("Bad credentials <redacted>"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    let text = rendered(&error);
    assert!(!text.contains(REQUEST_TOKEN), "{text}");
    assert!(!text.contains("eyJ0eXAi.eyJ3cm9uZyI.d3Jvbmc"), "{text}");
    assert!(
        !text.contains("api-version"),
        "the query is not shown: {text}"
    );
}

#[tokio::test]
async fn github_actions_without_id_token_permission_says_how_to_grant_it() {
    let error = obtain(&request(&[("GITHUB_ACTIONS", "true")]), &quiet())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TokenError::GithubPermissions { .. }),
        "{error:?}"
    );
    assert!(error.hint().unwrap().contains("id-token: write"));
}

// GitLab CI.

#[tokio::test]
async fn gitlab_without_an_id_tokens_entry_shows_the_entry_to_add() {
    let error = obtain(&request(&[("GITLAB_CI", "true")]), &quiet())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TokenError::GitlabIdTokenMissing { .. }),
        "{error:?}"
    );
    let hint = error.hint().unwrap();
    assert!(
        hint.contains("id_tokens:\n      SIGSTORE_ID_TOKEN:\n        aud: sigstore"),
        "{hint}"
    );
}

#[tokio::test]
async fn gitlab_with_an_id_tokens_entry_uses_it() {
    let stack = Stack::start().await;
    let minted = stack.mint("ci@example.com", 0, 600);
    let req = request(&[("GITLAB_CI", "true"), ("SIGSTORE_ID_TOKEN", &minted)]);
    let (token, source) = obtain(&req, &quiet()).await.unwrap();
    assert_eq!(source, TokenSource::GitlabCi);
    assert_eq!(token.expose_secret(), minted);

    // With the wrong audience, the fix is the job's entry.
    let wrong = unsigned(&json!({
        "iss": "https://gitlab.com", "sub": "project_path:g/p:ref_type:branch:ref:main",
        "aud": "https://gitlab.com", "exp": now() + 600,
    }));
    let req = request(&[("GITLAB_CI", "true"), ("SIGSTORE_ID_TOKEN", &wrong)]);
    let error = obtain(&req, &quiet()).await.unwrap_err();
    assert!(error.hint().unwrap().contains("aud: sigstore"), "{error:?}");
    assert!(!rendered(&error).contains(&wrong));
}

// Buildkite and CircleCI, through scripts on the request's PATH.

#[cfg(unix)]
mod tools {
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::Path;

    use super::*;

    /// Writes an executable `name` into `dir` that prints `token` when called with exactly
    /// `args` and with `AGENT_SECRET` in its environment, and fails otherwise.
    fn stand_in(dir: &Path, name: &str, args: &str, token: &str) {
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$*\" != '{args}' ]; then echo \"unexpected arguments: $*\" >&2; exit 2; fi\n\
             if [ \"$AGENT_SECRET\" != 'agent' ]; then echo 'not in the environment' >&2; exit 3; fi\n\
             printf '%s\\n' '{token}'\n"
        );
        let path = dir.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[tokio::test]
    async fn buildkite_agent_is_asked_for_the_audience() {
        let stack = Stack::start().await;
        let minted = stack.mint("ci@example.com", 0, 600);
        let bin = tempfile::tempdir().unwrap();
        stand_in(
            bin.path(),
            "buildkite-agent",
            "oidc request-token --audience sigstore",
            &minted,
        );
        let path = bin.path().to_str().unwrap();
        let req = request(&[
            ("BUILDKITE", "true"),
            ("PATH", path),
            ("AGENT_SECRET", "agent"),
        ]);
        let (token, source) = obtain(&req, &quiet()).await.unwrap();
        assert_eq!(source, TokenSource::Buildkite);
        assert_eq!(token.expose_secret(), minted);

        // The tool runs with the request's environment, not the test process's.
        let req = request(&[("BUILDKITE", "true"), ("PATH", path)]);
        match obtain(&req, &quiet()).await.unwrap_err() {
            TokenError::CommandFailed {
                status, message, ..
            } => {
                assert_eq!(status, Some(3));
                assert_eq!(message, "not in the environment");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn circleci_is_asked_for_the_audience() {
        let stack = Stack::start().await;
        let minted = stack.mint("ci@example.com", 0, 600);
        let bin = tempfile::tempdir().unwrap();
        stand_in(
            bin.path(),
            "circleci",
            r#"run oidc get --claims {"aud":"sigstore"}"#,
            &minted,
        );
        let path = bin.path().to_str().unwrap();
        let req = request(&[
            ("CIRCLECI", "true"),
            ("PATH", path),
            ("AGENT_SECRET", "agent"),
        ]);
        let (token, source) = obtain(&req, &quiet()).await.unwrap();
        assert_eq!(source, TokenSource::CircleCi);
        assert_eq!(token.expose_secret(), minted);
    }

    #[tokio::test]
    async fn a_tool_missing_from_the_path_is_named() {
        let empty = tempfile::tempdir().unwrap();
        let req = request(&[
            ("BUILDKITE", "true"),
            ("PATH", empty.path().to_str().unwrap()),
        ]);
        let error = obtain(&req, &quiet()).await.unwrap_err();
        assert!(
            matches!(
                error,
                TokenError::CommandNotFound {
                    program: "buildkite-agent",
                    ..
                }
            ),
            "{error:?}"
        );
        // A relative PATH entry is not searched, even if the tool is there.
        let req = request(&[("CIRCLECI", "true"), ("PATH", ".")]);
        let error = obtain(&req, &quiet()).await.unwrap_err();
        assert!(
            matches!(error, TokenError::CommandNotFound { .. }),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_failing_tool_is_quoted_without_the_token() {
        let bin = tempfile::tempdir().unwrap();
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let script = format!("#!/bin/sh\necho 'refused {token}' >&2\nexit 1\n");
        let path = bin.path().join("buildkite-agent");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let req = request(&[
            ("BUILDKITE", "true"),
            ("PATH", bin.path().to_str().unwrap()),
        ]);
        let error = obtain(&req, &quiet()).await.unwrap_err();
        let text = rendered(&error);
        assert!(text.contains("refused <redacted>"), "{text}");
        assert!(!text.contains(token), "{text}");
    }
}

// Google Cloud.

/// The metadata server's identity endpoint, as far as a workload sees it.
async fn metadata_server(token: String, seen: Arc<Seen>, flavored: bool) -> String {
    let handler = move |Query(query): Query<HashMap<String, String>>, headers: HeaderMap| {
        let token = token.clone();
        let seen = seen.clone();
        async move {
            seen.hits.fetch_add(1, Ordering::SeqCst);
            let flavor = headers
                .get("metadata-flavor")
                .map(|v| v.to_str().unwrap().to_owned());
            seen.requests.lock().unwrap().push((query.clone(), flavor));
            let mut response = token.into_response();
            if flavored {
                response
                    .headers_mut()
                    .insert("metadata-flavor", "Google".parse().unwrap());
            }
            response
        }
    };
    serve(axum::Router::new().route("/identity", axum::routing::get(handler))).await
}

#[tokio::test]
async fn google_cloud_metadata_server_when_a_workload_marker_is_present() {
    let stack = Stack::start().await;
    let minted = stack.mint("sa@project.iam.gserviceaccount.com", 0, 600);
    let seen = Arc::new(Seen::default());
    let server = metadata_server(minted.clone(), seen.clone(), true).await;
    let url = format!("{server}/identity");

    // No marker: not asked.
    let req = request(&[])
        .google_cloud(GoogleCloud::Detect)
        .google_metadata_url(&url);
    let error = obtain(&req, &quiet()).await.unwrap_err();
    assert!(matches!(error, TokenError::NoToken { .. }), "{error:?}");
    assert_eq!(seen.hits.load(Ordering::SeqCst), 0);

    // Cloud Run: asked, with the audience, `format=full` and the flavor header.
    let req = request(&[("K_SERVICE", "api")])
        .google_cloud(GoogleCloud::Detect)
        .google_metadata_url(&url);
    let (token, source) = obtain(&req, &quiet()).await.unwrap();
    assert_eq!(source, TokenSource::GoogleCloud);
    assert_eq!(token.expose_secret(), minted);
    let requests = seen.requests.lock().unwrap().clone();
    let (query, flavor) = &requests[0];
    assert_eq!(query["audience"], "sigstore");
    assert_eq!(query["format"], "full");
    assert_eq!(flavor.as_deref(), Some("Google"));
}

#[tokio::test]
async fn google_cloud_compute_engine_only_when_unattended() {
    let stack = Stack::start().await;
    let minted = stack.mint("sa@project.iam.gserviceaccount.com", 0, 600);
    let seen = Arc::new(Seen::default());
    let server = metadata_server(minted, seen.clone(), true).await;
    let dmi = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(dmi.path(), "Google Compute Engine\n").unwrap();
    let req = request(&[])
        .google_cloud(GoogleCloud::Detect)
        .google_metadata_url(format!("{server}/identity"))
        .dmi_product_name(Some(dmi.path().to_path_buf()));
    let (_, source) = obtain(&req, &quiet()).await.unwrap();
    assert_eq!(source, TokenSource::GoogleCloud);

    // With a person at the terminal, the VM's service account is not taken for them.
    let req = req
        .interactive(Interactive::Browser)
        .issuer(stack.url(), "sigstore")
        .interactive_timeout(Duration::from_millis(300));
    let error = obtain(&req, &quiet()).await.unwrap_err();
    assert!(matches!(error, TokenError::Timeout { .. }), "{error:?}");
    assert_eq!(seen.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn google_cloud_answers_must_come_from_the_metadata_server() {
    let seen = Arc::new(Seen::default());
    let server = metadata_server("x.y.z".into(), seen, false).await;
    let req = request(&[])
        .google_cloud(GoogleCloud::Always)
        .google_metadata_url(format!("{server}/identity"));
    let error = obtain(&req, &quiet()).await.unwrap_err();
    assert!(error.to_string().contains("Metadata-Flavor"), "{error}");
}

// Claim checks and the order of the sources.

#[tokio::test]
async fn an_explicit_token_beats_ambient_credentials() {
    let stack = Stack::start().await;
    let minted = stack.mint("me@example.com", 0, 600);
    let seen = Arc::new(Seen::default());
    let service = github_service("unused".into(), seen.clone()).await;
    let url = format!("{service}/token?api-version=2.0");
    let req = request(&[
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ("GITLAB_CI", "true"),
    ])
    .explicit_token(format!("{minted}\n"));
    let (token, source) = obtain(&req, &quiet()).await.unwrap();
    assert_eq!(source, TokenSource::Explicit);
    assert_eq!(token.expose_secret(), minted);
    assert_eq!(seen.hits.load(Ordering::SeqCst), 0, "GitHub was not asked");
}

#[tokio::test]
async fn unusable_tokens_are_refused_with_the_reason_and_the_fix() {
    let stack = Stack::start().await;

    let expired = stack.mint("me@example.com", -1200, 600);
    let error = obtain(&request(&[]).explicit_token(&expired), &quiet())
        .await
        .unwrap_err();
    let TokenError::Unusable {
        origin: TokenSource::Explicit,
        reason: ClaimError::Expired { .. },
    } = &error
    else {
        panic!("{error:?}");
    };
    let text = rendered(&error);
    assert!(text.contains("expired at"), "{text}");
    assert!(text.contains("10 minutes ago"), "{text}");
    assert!(text.contains("fetch a fresh one"), "{text}");
    assert!(!text.contains(&expired));

    let wrong_audience = unsigned(&json!({
        "iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main",
        "aud": "https://github.com/o", "exp": now() + 600,
    }));
    let error = obtain(&request(&[]).explicit_token(&wrong_audience), &quiet())
        .await
        .unwrap_err();
    let text = rendered(&error);
    assert!(
        text.contains("audience is `https://github.com/o`, expected `sigstore`"),
        "{text}"
    );
    for fix in [
        "core.getIDToken('sigstore')",
        "aud: sigstore",
        "--audience sigstore",
        r#"'{"aud":"sigstore"}'"#,
    ] {
        assert!(text.contains(fix), "{fix} in {text}");
    }

    let no_subject = unsigned(&json!({
        "iss": "https://token.actions.githubusercontent.com", "aud": "sigstore",
        "exp": now() + 600,
    }));
    let error = obtain(&request(&[]).explicit_token(&no_subject), &quiet())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TokenError::Unusable {
                reason: ClaimError::MissingClaim { claim: "sub" },
                ..
            }
        ),
        "{error:?}"
    );

    let no_email = unsigned(&json!({
        "iss": "https://oauth2.sigstore.dev/auth", "sub": "CgYxMjM0NTYSBmdpdGh1Yg",
        "aud": "sigstore", "exp": now() + 600,
    }));
    let error = obtain(&request(&[]).explicit_token(&no_email), &quiet())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TokenError::Unusable {
                reason: ClaimError::MissingEmail { .. },
                ..
            }
        ),
        "{error:?}"
    );

    let error = obtain(&request(&[]).explicit_token(" "), &quiet())
        .await
        .unwrap_err();
    assert!(matches!(error, TokenError::EmptyToken { .. }), "{error:?}");
}

#[tokio::test]
async fn nothing_found_and_no_interactive_sign_in() {
    let error = obtain(&request(&[]), &quiet()).await.unwrap_err();
    assert!(matches!(error, TokenError::NoToken { .. }), "{error:?}");
    assert!(error.hint().unwrap().contains("--identity-token"));
}

/// The CLI, or a program embedding the library, may run the search on a spawned task.
#[test]
fn obtain_can_run_on_any_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let req = request(&[]);
    let say = quiet();
    assert_send(&obtain(&req, &say));
}

#[test]
fn request_debug_shows_no_secret() {
    let req = request(&[
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
        ("SIGSTORE_ID_TOKEN", "eyJzaWdzdG9yZSI.eyJlbnYi.dG9rZW4"),
    ])
    .explicit_token("eyJleHBsaWNpdCI.eyJ0b2tlbiI.c2ln");
    let debug = format!("{req:?}");
    for secret in [
        REQUEST_TOKEN,
        "eyJzaWdzdG9yZSI.eyJlbnYi.dG9rZW4",
        "eyJleHBsaWNpdCI.eyJ0b2tlbiI.c2ln",
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(
        debug.contains("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        "names are shown"
    );
}

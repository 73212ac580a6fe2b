//! Identity tokens for keyless signing: the OpenID Connect token that Fulcio exchanges for a
//! signing certificate.
//!
//! [`obtain`] looks for one in this order and takes the first it finds:
//! 1. an explicit token ([`TokenRequest::explicit_token`]: the CLI's `--identity-token` or
//!    `SIGSTORE_ID_TOKEN`);
//! 2. ambient CI credentials, from the [`Environment`] snapshot in the request:
//!    - GitHub Actions: `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
//!      asked for the audience;
//!    - GitLab CI: the `SIGSTORE_ID_TOKEN` a job's `id_tokens` entry defines (without one,
//!      an error that shows the entry to add);
//!    - Buildkite: `buildkite-agent oidc request-token --audience AUD`;
//!    - CircleCI: `circleci run oidc get --claims '{"aud":"AUD"}'`;
//!    - Google Cloud: the metadata server's identity endpoint, when asked for
//!      ([`GoogleCloud::Always`]) or, by default, when the environment shows a Google Cloud
//!      workload (see [`GoogleCloud::Detect`]);
//! 3. an interactive sign-in with the issuer, when the request allows one ([`Interactive`]):
//!    the authorization-code flow with PKCE on a loopback redirect, or the device
//!    authorization grant (RFC 8628) for terminals without a browser.
//!
//! Every token found, wherever from, then passes [`check`] (the claim checks Fulcio makes), so
//! an expired token or one for the wrong audience fails here with the fix, not at Fulcio.
//!
//! Nothing in this module reads the process environment or prints: the caller passes an
//! environment snapshot, and user-facing messages (the sign-in URL, the device code) go to a
//! `say` callback. Tokens, codes and request credentials never appear in an error, a message
//! or `Debug` output.

mod ambient;
pub(crate) mod claims;
mod command;
mod env;
mod error;
mod http;
mod interactive;
mod loopback;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use claims::{
    ClaimError, EMAIL_ISSUERS, MAX_TOKEN_BYTES, NOT_BEFORE_LEEWAY, check, is_email_issuer, parse,
};
pub use env::{Environment, vars};
pub use error::TokenError;
pub use sigstore_oidc::IdentityToken;
use sigstore_oidc::SecretString;
use sigstore_oidc::reqwest;

/// The Sigstore public-good instance's OIDC issuer (a Dex federating GitHub, Google and
/// Microsoft accounts).
pub const PUBLIC_GOOD_ISSUER: &str = "https://oauth2.sigstore.dev/auth";

/// The client id the public-good issuer knows Sigstore clients by.
pub const PUBLIC_GOOD_CLIENT_ID: &str = "sigstore";

/// The audience Fulcio accepts on the public-good instance.
pub const DEFAULT_AUDIENCE: &str = "sigstore";

/// The Google Cloud metadata server's identity endpoint for the default service account;
/// `audience` and `format=full` (which adds the `email` claim) are appended.
pub const GOOGLE_METADATA_IDENTITY_URL: &str =
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity";

/// Where Linux exposes the machine's product name, `Google Compute Engine` on Compute Engine
/// VMs (and so on GKE nodes and Cloud Build workers).
pub const DMI_PRODUCT_NAME: &str = "/sys/class/dmi/id/product_name";

/// How long an interactive sign-in may take by default.
pub const DEFAULT_INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenSource {
    /// Given explicitly (`--identity-token`, `SIGSTORE_ID_TOKEN`).
    Explicit,
    /// GitHub Actions' token service.
    GithubActions,
    /// A GitLab CI job's `id_tokens` entry.
    GitlabCi,
    /// `buildkite-agent oidc request-token`.
    Buildkite,
    /// `circleci run oidc get`.
    CircleCi,
    /// The Google Cloud metadata server.
    GoogleCloud,
    /// An interactive sign-in through a browser (authorization code with PKCE).
    Browser,
    /// An interactive sign-in with a device code (RFC 8628).
    DeviceFlow,
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            // The CLI's two spellings of an explicit token; an embedding program has its own.
            TokenSource::Explicit => "`--identity-token` or `SIGSTORE_ID_TOKEN`",
            TokenSource::GithubActions => "GitHub Actions",
            TokenSource::GitlabCi => "GitLab CI",
            TokenSource::Buildkite => "Buildkite",
            TokenSource::CircleCi => "CircleCI",
            TokenSource::GoogleCloud => "the Google Cloud metadata server",
            TokenSource::Browser => "the browser sign-in",
            TokenSource::DeviceFlow => "the device sign-in",
        })
    }
}

/// Whether, and how, to sign in interactively when no explicit or ambient token exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interactive {
    /// Never: fail with [`TokenError::NoToken`] instead. For CI and other unattended runs.
    Never,
    /// The authorization-code flow: print the URL, try to open a browser, wait for the
    /// redirect to the loopback address (whether or not a browser opened).
    Browser,
    /// The device authorization grant: print a URL and a code to enter on any device.
    Device,
    /// The browser flow when a browser opens; otherwise the device flow, if the issuer offers
    /// it (a terminal over SSH cannot receive a redirect to its own loopback address).
    Auto,
}

/// When to ask the Google Cloud metadata server for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleCloud {
    /// Never.
    Never,
    /// Always (after the CI systems), and fail if it gives none.
    Always,
    /// When the environment shows a Google Cloud workload:
    /// - `K_SERVICE` (Cloud Run services and functions), `CLOUD_RUN_JOB` (Cloud Run jobs) or
    ///   `BUILDER_OUTPUT` (Cloud Build steps): always;
    /// - a DMI product name starting with `Google` (Compute Engine, and so GKE nodes and
    ///   self-hosted runners on Compute Engine): only when interactive sign-in is off
    ///   ([`Interactive::Never`]). A VM may have a person at its terminal, who should sign as
    ///   themselves rather than as the VM's service account.
    ///
    /// A detected server that gives no token is reported through `say` and the search goes on
    /// to interactive sign-in; when that is off, the metadata server's error is returned.
    Detect,
}

/// Opens a URL in the user's browser; returns whether one opened.
///
/// This is a seam: the library does not launch programs of its own accord, and the `open`
/// crate is not a workspace dependency yet. The CLI passes a launcher.
pub type BrowserOpener = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What [`obtain`] needs: where to look and how. Build with [`TokenRequest::new`] and the
/// `with`-style setters; the defaults are the public-good instance.
///
/// `Debug` redacts the explicit token and shows only the names of the environment variables.
#[derive(Clone)]
pub struct TokenRequest {
    explicit: Option<SecretString>,
    env: Environment,
    audience: String,
    interactive: Interactive,
    issuer_url: String,
    client_id: String,
    login_hint: Option<String>,
    http: reqwest::Client,
    google_cloud: GoogleCloud,
    google_metadata_url: String,
    dmi_product_name: Option<PathBuf>,
    interactive_timeout: Duration,
    browser: Option<BrowserOpener>,
}

impl TokenRequest {
    /// A request that looks in `env` and talks HTTP through `http`: no explicit token,
    /// audience `sigstore`, the public-good issuer, no interactive sign-in, Google Cloud
    /// detected, no browser launcher.
    pub fn new(env: Environment, http: reqwest::Client) -> Self {
        Self {
            explicit: None,
            env,
            audience: DEFAULT_AUDIENCE.to_owned(),
            interactive: Interactive::Never,
            issuer_url: PUBLIC_GOOD_ISSUER.to_owned(),
            client_id: PUBLIC_GOOD_CLIENT_ID.to_owned(),
            login_hint: None,
            http,
            google_cloud: GoogleCloud::Detect,
            google_metadata_url: GOOGLE_METADATA_IDENTITY_URL.to_owned(),
            dmi_product_name: cfg!(target_os = "linux").then(|| PathBuf::from(DMI_PRODUCT_NAME)),
            interactive_timeout: DEFAULT_INTERACTIVE_TIMEOUT,
            browser: None,
        }
    }

    /// Uses this token before anything else. It is still checked.
    pub fn explicit_token(mut self, token: impl Into<String>) -> Self {
        self.explicit = Some(SecretString::new(token));
        self
    }

    /// The audience to ask CI systems for and to require in the token (default `sigstore`).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Whether to sign in interactively (default [`Interactive::Never`]).
    pub fn interactive(mut self, interactive: Interactive) -> Self {
        self.interactive = interactive;
        self
    }

    /// The issuer for interactive sign-in, found through OIDC discovery, and the client id to
    /// use with it (default: the public-good issuer, client `sigstore`).
    pub fn issuer(mut self, issuer_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        self.issuer_url = issuer_url.into();
        self.client_id = client_id.into();
        self
    }

    /// A `login_hint` for the browser sign-in (OpenID Connect Core section 3.1.2.1): the
    /// account the user means to sign in with.
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// When to ask the Google Cloud metadata server (default [`GoogleCloud::Detect`]).
    pub fn google_cloud(mut self, mode: GoogleCloud) -> Self {
        self.google_cloud = mode;
        self
    }

    /// The metadata server's identity URL (default [`GOOGLE_METADATA_IDENTITY_URL`]), for tests.
    pub fn google_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.google_metadata_url = url.into();
        self
    }

    /// The file holding the machine's DMI product name, or `None` to skip that detection
    /// (default [`DMI_PRODUCT_NAME`] on Linux, `None` elsewhere), for tests.
    pub fn dmi_product_name(mut self, path: Option<PathBuf>) -> Self {
        self.dmi_product_name = path;
        self
    }

    /// How long an interactive sign-in may take (default [`DEFAULT_INTERACTIVE_TIMEOUT`]).
    pub fn interactive_timeout(mut self, timeout: Duration) -> Self {
        self.interactive_timeout = timeout;
        self
    }

    /// How to open the sign-in URL in a browser. Without one, the URL is only shown.
    pub fn browser_opener(mut self, opener: BrowserOpener) -> Self {
        self.browser = Some(opener);
        self
    }
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("explicit", &self.explicit.as_ref().map(|_| "<redacted>"))
            .field("env", &self.env)
            .field("audience", &self.audience)
            .field("interactive", &self.interactive)
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("login_hint", &self.login_hint)
            .field("google_cloud", &self.google_cloud)
            .field("google_metadata_url", &self.google_metadata_url)
            .field("dmi_product_name", &self.dmi_product_name)
            .field("interactive_timeout", &self.interactive_timeout)
            .field("browser", &self.browser.as_ref().map(|_| "<launcher>"))
            .finish_non_exhaustive()
    }
}

/// Finds an identity token (explicit, then ambient CI credentials, then interactive sign-in)
/// and checks it with [`check`] at the current time.
///
/// `say` receives what the user must see: the sign-in URL, the device code, why a detected
/// source was skipped. It never receives a token.
pub async fn obtain(
    req: &TokenRequest,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(IdentityToken, TokenSource), TokenError> {
    let (raw, source) = find(req, say).await?;
    let token = accept(&raw, source, &req.audience)?;
    Ok((token, source))
}

async fn find(
    req: &TokenRequest,
    say: &(dyn Fn(&str) + Sync),
) -> Result<(SecretString, TokenSource), TokenError> {
    if let Some(explicit) = &req.explicit {
        return Ok((explicit.clone(), TokenSource::Explicit));
    }
    if let Some(found) = ambient::detect(req, say).await? {
        return Ok(found);
    }
    interactive::sign_in(req, say).await
}

/// Parses and checks a token from `source`, at the current time.
fn accept(
    raw: &SecretString,
    source: TokenSource,
    audience: &str,
) -> Result<IdentityToken, TokenError> {
    if raw.expose_secret().trim().is_empty() {
        return Err(TokenError::EmptyToken { origin: source });
    }
    let unusable = |reason| TokenError::Unusable {
        origin: source,
        reason,
    };
    let token = parse(raw.expose_secret()).map_err(unusable)?;
    // The one clock read: this is a network client, and the token is about to go to Fulcio.
    check(&token, audience, jiff::Timestamp::now()).map_err(unusable)?;
    Ok(token)
}

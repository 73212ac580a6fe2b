//! A throwaway registry for tests: Debian's `docker-registry` (CNCF distribution 2.8, which has
//! no referrers API, so the referrers tag schema path runs) on a free loopback port, storing in
//! a temporary directory, killed on drop. Anonymous, with htpasswd (basic) authentication, or
//! with token authentication against a token service the test runs ([`TokenAuth`]).
//!
//! Hidden from the documentation: it is for this crate's tests and the CLI's. Tests that get
//! [`TestRegistryError::Missing`] should print its message and return (skip).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::{ClientOptions, Registry};
use crate::credentials::Credentials;
use crate::error::RegistryError;

/// How long a registry gets to answer `/v2/`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a test registry could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestRegistryError {
    /// A program the harness needs is not installed: skip the test.
    #[error("skipping: `{program}` is not installed (Debian package `{package}`)")]
    Missing {
        /// The program.
        program: &'static str,
        /// The package that has it.
        package: &'static str,
    },
    /// Anything else.
    #[error("could not start the test registry: {0}")]
    Failed(String),
}

impl From<std::io::Error> for TestRegistryError {
    fn from(e: std::io::Error) -> Self {
        TestRegistryError::Failed(e.to_string())
    }
}

/// How a test registry authenticates with token authentication: it sends clients to the token
/// service at `realm` and accepts the JWTs that service signs with a key certified by
/// `root_certificates` (distribution's `auth.token` configuration).
#[derive(Debug, Clone)]
pub struct TokenAuth {
    /// The token service's URL, sent in the registry's `Bearer` challenge.
    pub realm: String,
    /// The registry's name at the token service: the challenge's `service` and the JWTs' `aud`.
    pub service: String,
    /// The JWTs' `iss`.
    pub issuer: String,
    /// PEM certificates that the chain in a JWT's `x5c` header must lead to.
    pub root_certificates: String,
}

enum Auth<'a> {
    None,
    Htpasswd(&'a str, &'a str),
    Token(&'a TokenAuth),
}

/// A running `docker-registry`.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
}

impl TestRegistry {
    /// A registry without authentication.
    pub fn start() -> Result<TestRegistry, TestRegistryError> {
        TestRegistry::start_inner(Auth::None)
    }

    /// A registry that requires HTTP basic authentication as `username`/`password` (bcrypt
    /// htpasswd made with `htpasswd -B`, from Debian's `apache2-utils`).
    pub fn start_with_auth(
        username: &str,
        password: &str,
    ) -> Result<TestRegistry, TestRegistryError> {
        TestRegistry::start_inner(Auth::Htpasswd(username, password))
    }

    /// A registry that requires token authentication from the token service `auth` names,
    /// which the test runs.
    pub fn start_with_token_auth(auth: &TokenAuth) -> Result<TestRegistry, TestRegistryError> {
        TestRegistry::start_inner(Auth::Token(auth))
    }

    fn start_inner(auth: Auth<'_>) -> Result<TestRegistry, TestRegistryError> {
        let dir = tempfile::tempdir()?;
        let auth_yaml = match auth {
            Auth::Htpasswd(user, password) => {
                let output = Command::new("htpasswd")
                    .args(["-B", "-b", "-n", user, password])
                    .stderr(Stdio::null())
                    .output()
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => TestRegistryError::Missing {
                            program: "htpasswd",
                            package: "apache2-utils",
                        },
                        _ => TestRegistryError::from(e),
                    })?;
                if !output.status.success() {
                    return Err(TestRegistryError::Failed("htpasswd failed".to_owned()));
                }
                let path = dir.path().join("htpasswd");
                fs_err::write(&path, &output.stdout)?;
                format!(
                    "auth:\n  htpasswd:\n    realm: vouch-test\n    path: {}\n",
                    path.display()
                )
            }
            Auth::Token(token) => {
                let bundle = dir.path().join("token-roots.pem");
                fs_err::write(&bundle, &token.root_certificates)?;
                // JSON strings are YAML scalars, whatever characters the values hold.
                let quote = |v: &str| serde_json::Value::from(v).to_string();
                format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
                     rootcertbundle: {}\n",
                    quote(&token.realm),
                    quote(&token.service),
                    quote(&token.issuer),
                    quote(&bundle.display().to_string()),
                )
            }
            Auth::None => String::new(),
        };
        let mut last_error = String::new();
        // The free port is found by binding port 0 and letting it go; another process may take
        // it in between, so try a few.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let host = format!("127.0.0.1:{port}");
            let config = format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {host}\n  secret: vouch-test-only\n{auth_yaml}",
                dir.path().join("data").display()
            );
            let config_path = dir.path().join("config.yml");
            fs_err::write(&config_path, config)?;
            let log = fs_err::File::create(dir.path().join("registry.log"))?
                .into_parts()
                .0;
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => TestRegistryError::Missing {
                        program: "docker-registry",
                        package: "docker-registry",
                    },
                    _ => TestRegistryError::from(e),
                })?;
            let mut child = child;
            match wait_ready(&mut child, &host) {
                Ok(()) => return Ok(TestRegistry { child, dir, host }),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(dir.path().join("registry.log"))
                        .unwrap_or_default();
                    last_error = format!("{e}; log: {log}");
                }
            }
        }
        Err(TestRegistryError::Failed(last_error))
    }

    /// `127.0.0.1:<port>`, the registry part of references to it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// A reference to `repository:tag` (or `repository@digest`) on this registry.
    pub fn reference(&self, path: &str) -> Result<oci_client::Reference, RegistryError> {
        crate::client::parse_reference(&format!("{}/{path}", self.host))
    }

    /// A client that speaks plain HTTP to this registry.
    pub fn client(&self, credentials: Credentials) -> Result<Registry, RegistryError> {
        Registry::new(ClientOptions {
            credentials,
            insecure_registries: vec![self.host.clone()],
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(Duration::from_secs(30)),
        })
    }

    /// The registry's storage root.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The file that holds blob `digest` (`sha256:<hex>`) in distribution's filesystem driver.
    pub fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        let prefix = hex.get(..2)?;
        Some(
            self.storage()
                .join("docker/registry/v2/blobs/sha256")
                .join(prefix)
                .join(hex)
                .join("data"),
        )
    }

    /// A scratch directory that lives as long as the registry.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// What the registry logged so far (the end of it).
    pub fn log(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        text.get(start..).unwrap_or_default().to_owned()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the registry answers `/v2/` (200, or 401 when it wants credentials).
fn wait_ready(child: &mut Child, host: &str) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("docker-registry exited with {status}"));
        }
        if let Some(status) = http_status(host, "/v2/")
            && (status == 200 || status == 401)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("docker-registry did not answer /v2/ in time".to_owned())
}

/// The status of `GET path` over HTTP/1.0, or `None` when nothing answers.
fn http_status(host: &str, path: &str) -> Option<u16> {
    let addr = host.parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()
}

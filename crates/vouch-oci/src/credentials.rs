//! Registry credentials from a Docker configuration file.
//!
//! Format: <https://github.com/docker/cli/blob/master/man/docker-config-json.5.md> (`auths`,
//! `credsStore`, `credHelpers`); helper protocol:
//! <https://github.com/docker/docker-credential-helpers#development>.
//!
//! Nothing here reads environment variables: the CLI decides where the configuration file is
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) and passes the path in.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// The largest Docker configuration file or helper answer read.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// How to authenticate to one registry. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryCredential {
    /// No credentials: anonymous access, with the registry's anonymous token flow when it has one.
    Anonymous,
    /// A user name and password (or access token used as a password).
    Basic {
        /// User name.
        username: String,
        /// Password or token.
        password: String,
    },
    /// An identity token: an OAuth2 refresh token for the registry's token service, which
    /// `docker login` stores (`identitytoken`, or a helper's `<token>` user) when the service
    /// hands one out. vouch exchanges it for an access token per repository and operation.
    IdentityToken {
        /// The refresh token.
        token: String,
    },
}

impl fmt::Debug for RegistryCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryCredential::Anonymous => f.write_str("Anonymous"),
            RegistryCredential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            RegistryCredential::IdentityToken { .. } => f
                .debug_struct("IdentityToken")
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

impl RegistryCredential {
    /// The credential in `oci-client`'s terms, for its token flow; `None` for an identity
    /// token, which that flow cannot send (see [`crate::token_auth`]).
    pub(crate) fn to_oci(&self) -> Option<oci_client::secrets::RegistryAuth> {
        match self {
            RegistryCredential::Anonymous => Some(oci_client::secrets::RegistryAuth::Anonymous),
            RegistryCredential::Basic { username, password } => Some(
                oci_client::secrets::RegistryAuth::Basic(username.clone(), password.clone()),
            ),
            RegistryCredential::IdentityToken { .. } => None,
        }
    }
}

/// Where credentials come from. The CLI builds one from its settings.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    docker_config: Option<PathBuf>,
    helper_dir: Option<PathBuf>,
    fixed: BTreeMap<String, RegistryCredential>,
}

/// Credentials that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The Docker configuration file could not be read.
    #[error("could not read the Docker configuration file")]
    Read(#[source] std::io::Error),
    /// The Docker configuration file is larger than vouch reads.
    #[error("the Docker configuration file `{path}` is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The Docker configuration file is not the JSON Docker writes.
    #[error("the Docker configuration file `{path}` is not valid: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        #[source]
        source: serde_json::Error,
    },
    /// An `auths` entry whose `auth` is not base64 of `user:password`. The value is not shown.
    #[error("the `auth` entry for `{registry}` in `{path}` is not base64 of `user:password`")]
    BadAuthEntry {
        /// The registry key.
        registry: String,
        /// The file.
        path: PathBuf,
    },
    /// A credential helper name with characters other than letters, digits, `.`, `_`, `-`.
    #[error("credential helper name `{0}` is not a plain program name suffix")]
    BadHelperName(String),
    /// A credential helper could not be run or failed.
    #[error("credential helper `docker-credential-{helper}` failed for `{registry}`: {reason}")]
    Helper {
        /// The helper's suffix.
        helper: String,
        /// The registry asked about.
        registry: String,
        /// What happened (never the helper's output, which may hold a secret).
        reason: String,
    },
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

impl Credentials {
    /// Anonymous access everywhere.
    pub fn anonymous() -> Credentials {
        Credentials::default()
    }

    /// Credentials from the Docker configuration file at `path` (which need not exist: a missing
    /// file means anonymous access).
    pub fn docker_config(path: impl Into<PathBuf>) -> Credentials {
        Credentials {
            docker_config: Some(path.into()),
            ..Credentials::default()
        }
    }

    /// Runs credential helpers from `dir` instead of looking them up on the program search path.
    pub fn with_helper_dir(mut self, dir: impl Into<PathBuf>) -> Credentials {
        self.helper_dir = Some(dir.into());
        self
    }

    /// Uses `credential` for `registry` (host and optional port), ahead of the configuration file
    /// (for `--username`/`--password`-style flags).
    pub fn with_credential(
        mut self,
        registry: &str,
        credential: RegistryCredential,
    ) -> Credentials {
        self.fixed.insert(registry.to_owned(), credential);
        self
    }

    /// The credential for `registry` (host and optional port, as in an image reference; Docker
    /// Hub may be named `docker.io` or `index.docker.io`).
    pub fn resolve(&self, registry: &str) -> Result<RegistryCredential, CredentialsError> {
        if let Some(fixed) = self.fixed.get(registry) {
            return Ok(fixed.clone());
        }
        let Some(path) = &self.docker_config else {
            return Ok(RegistryCredential::Anonymous);
        };
        let Some(config) = read_config(path)? else {
            return Ok(RegistryCredential::Anonymous);
        };
        let keys = config_keys(registry);
        let helper = keys
            .iter()
            .find_map(|k| config.cred_helpers.get(k))
            .or(config.creds_store.as_ref());
        if let Some(helper) = helper
            && let Some(found) = self.run_helper(helper, registry)?
        {
            return Ok(found);
        }
        let Some((key, entry)) = keys
            .iter()
            .find_map(|k| config.auths.get_key_value(k.as_str()))
        else {
            return Ok(RegistryCredential::Anonymous);
        };
        // `docker login` keeps the user name in `auth` (with an empty password) beside an
        // identity token; the token is the credential.
        if let Some(token) = entry.identity_token.as_deref().filter(|t| !t.is_empty()) {
            return Ok(RegistryCredential::IdentityToken {
                token: token.to_owned(),
            });
        }
        if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
            return Ok(RegistryCredential::Basic {
                username: username.clone(),
                password: password.clone(),
            });
        }
        let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(RegistryCredential::Anonymous);
        };
        let bad = || CredentialsError::BadAuthEntry {
            registry: key.clone(),
            path: path.clone(),
        };
        let decoded = STANDARD.decode(auth.trim()).map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (username, password) = decoded.split_once(':').ok_or_else(bad)?;
        Ok(RegistryCredential::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }

    fn run_helper(
        &self,
        helper: &str,
        registry: &str,
    ) -> Result<Option<RegistryCredential>, CredentialsError> {
        if helper.is_empty()
            || !helper
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(CredentialsError::BadHelperName(helper.to_owned()));
        }
        let program = format!("docker-credential-{helper}");
        let program = match &self.helper_dir {
            Some(dir) => dir.join(program),
            None => PathBuf::from(program),
        };
        let fail = |reason: String| CredentialsError::Helper {
            helper: helper.to_owned(),
            registry: registry.to_owned(),
            reason,
        };
        let server = if is_docker_hub(registry) {
            DOCKER_HUB_KEY.to_owned()
        } else {
            registry.to_owned()
        };
        let mut child = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("could not run it: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(server.as_bytes())
                .map_err(|e| fail(format!("could not write to it: {e}")))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| fail(format!("could not read its answer: {e}")))?;
        if !output.status.success() {
            // The helpers answer "credentials not found in native keychain" on stdout and exit 1
            // when they hold nothing for the registry: that is anonymous access, not an error.
            if String::from_utf8_lossy(&output.stdout).contains("credentials not found") {
                return Ok(None);
            }
            return Err(fail(format!("it exited with {}", output.status)));
        }
        if output.stdout.len() as u64 > MAX_CONFIG_BYTES {
            return Err(fail("its answer is too large".to_owned()));
        }
        let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
            .map_err(|_| fail("its answer is not the helper protocol's JSON".to_owned()))?;
        // The helper protocol marks an identity token with the user name `<token>`.
        if answer.username == "<token>" {
            if answer.secret.is_empty() {
                return Err(fail(
                    "its answer names an identity token but the secret is empty".to_owned(),
                ));
            }
            return Ok(Some(RegistryCredential::IdentityToken {
                token: answer.secret,
            }));
        }
        Ok(Some(RegistryCredential::Basic {
            username: answer.username,
            password: answer.secret,
        }))
    }
}

/// The key Docker stores Docker Hub credentials under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

fn is_docker_hub(registry: &str) -> bool {
    matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// The keys a registry may be stored under: bare host, with a scheme, or with a `/v1/` path.
fn config_keys(registry: &str) -> Vec<String> {
    if is_docker_hub(registry) {
        return vec![
            DOCKER_HUB_KEY.to_owned(),
            "index.docker.io".to_owned(),
            "docker.io".to_owned(),
            "registry-1.docker.io".to_owned(),
        ];
    }
    vec![
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ]
}

fn read_config(path: &Path) -> Result<Option<DockerConfig>, CredentialsError> {
    let metadata = match fs_err::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CredentialsError::Read(e)),
    };
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(CredentialsError::TooLarge {
            path: path.to_owned(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    let bytes = fs_err::read(path).map_err(CredentialsError::Read)?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| CredentialsError::Json {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_entry_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = STANDARD.encode("alice:s3cret");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"https://registry.example":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let creds = Credentials::docker_config(&path);
        let found = creds.resolve("registry.example").unwrap();
        assert_eq!(
            found,
            RegistryCredential::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert!(!format!("{found:?}").contains("s3cret"));
        assert_eq!(
            creds.resolve("other.example").unwrap(),
            RegistryCredential::Anonymous
        );
        let missing = Credentials::docker_config(dir.path().join("absent.json"));
        assert_eq!(
            missing.resolve("registry.example").unwrap(),
            RegistryCredential::Anonymous
        );
    }

    #[test]
    fn identity_tokens_from_auths_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        // As `docker login` writes it: the user name in `auth` with an empty password.
        let auth = STANDARD.encode("alice:");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"r.example":{{"auth":"{auth}","identitytoken":"rt-secret-1"}},
                "empty.example":{{"auth":"{auth}","identitytoken":""}}}}}}"#
            ),
        )
        .unwrap();
        let creds = Credentials::docker_config(&path);
        let found = creds.resolve("r.example").unwrap();
        assert_eq!(
            found,
            RegistryCredential::IdentityToken {
                token: "rt-secret-1".into()
            }
        );
        assert!(!format!("{found:?}").contains("rt-secret-1"));
        assert!(found.to_oci().is_none());
        // An empty identity token is no identity token: the `auth` entry applies.
        assert_eq!(
            creds.resolve("empty.example").unwrap(),
            RegistryCredential::Basic {
                username: "alice".into(),
                password: String::new()
            }
        );
    }

    #[test]
    fn bad_auth_entry_does_not_echo_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths":{"r.example":{"auth":"bm8tY29sb24="}}}"#).unwrap();
        let err = Credentials::docker_config(&path)
            .resolve("r.example")
            .unwrap_err();
        assert!(matches!(err, CredentialsError::BadAuthEntry { .. }));
        assert!(!err.to_string().contains("bm8tY29sb24"));
    }

    #[test]
    fn helper_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"credsStore":"../evil"}"#).unwrap();
        assert!(matches!(
            Credentials::docker_config(&path).resolve("r.example"),
            Err(CredentialsError::BadHelperName(_))
        ));
    }
}

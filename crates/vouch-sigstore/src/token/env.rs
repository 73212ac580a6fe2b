//! The environment a token search sees: a snapshot the caller takes, never the process's own.

use std::collections::BTreeMap;

/// Names of the environment variables the token search looks at.
///
/// The CLI snapshots the whole environment into an [`Environment`]; these are the variables
/// this module reads from it. CI tools run by the search (`buildkite-agent`, `circleci`) get
/// the whole snapshot as their environment, since they need their own variables too.
pub mod vars {
    /// An explicit identity token. The CLI passes it as the explicit token; on GitLab CI it is
    /// also where the job's `id_tokens` entry puts the token.
    pub const SIGSTORE_ID_TOKEN: &str = "SIGSTORE_ID_TOKEN";
    /// `true` in every GitHub Actions job.
    pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
    /// Where a GitHub Actions job asks for an identity token; set only with
    /// `permissions: id-token: write`.
    pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
    /// The bearer token for [`ACTIONS_ID_TOKEN_REQUEST_URL`]. A secret.
    pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
    /// Set in every GitLab CI job.
    pub const GITLAB_CI: &str = "GITLAB_CI";
    /// Set in every Buildkite job.
    pub const BUILDKITE: &str = "BUILDKITE";
    /// Set in every CircleCI job.
    pub const CIRCLECI: &str = "CIRCLECI";
    /// Set in Cloud Run services and Cloud Run functions.
    pub const K_SERVICE: &str = "K_SERVICE";
    /// Set in Cloud Run jobs.
    pub const CLOUD_RUN_JOB: &str = "CLOUD_RUN_JOB";
    /// Set in every Cloud Build step (the directory for build step outputs).
    pub const BUILDER_OUTPUT: &str = "BUILDER_OUTPUT";
    /// Where CI tools are looked up.
    pub const PATH: &str = "PATH";
}

/// A snapshot of environment variables.
///
/// `Debug` shows the names only: values include secrets such as
/// [`vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN`] and [`vars::SIGSTORE_ID_TOKEN`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// A snapshot of these variables. The CLI passes `std::env::vars()`; tests pass what they
    /// need.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some(value) = self.vars.get(name) {
            return Some(value);
        }
        // Windows names are case-insensitive (`Path` is the usual spelling of `PATH` there).
        if cfg!(windows) {
            return self
                .vars
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
        }
        None
    }

    /// The value of `name` if it is set and not empty: CI systems mark themselves with
    /// non-empty values, and an empty variable is how YAML templating leaves an unset one.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Every variable, for the environment of a CI tool the search runs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

//! Provenance from the CI environment: GitHub Actions, GitLab CI, or a generic build described
//! on the command line.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::provenance::{BuildDefinition, Builder, Provenance, RunDetails, RunMetadata, timestamp};
use crate::statement::ResourceDescriptor;

/// The GitHub Actions workflow build type, maintained by GitHub.
pub const GITHUB_WORKFLOW_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";

/// The generic build type, for builds vouch knows nothing about: the parameters are what the
/// command line said, nothing more.
pub const GENERIC_BUILD_TYPE: &str = "urn:vouch:build-type:generic:v1";

/// A snapshot of environment variables (the CLI takes it; the library never reads the process
/// environment).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// From name and value pairs.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            vars: vars.into_iter().collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Why provenance cannot be built here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CiError {
    /// The CI is recognised but a variable it always sets is missing.
    #[error("{ci}: `{var}` is not set, though {ci} always sets it; is this a real {ci} job?")]
    Missing {
        /// The CI system.
        ci: &'static str,
        /// The variable.
        var: &'static str,
    },
    /// A variable has a value of the wrong form.
    #[error("{ci}: `{var}` is `{value}`: {message}")]
    Malformed {
        /// The CI system.
        ci: &'static str,
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        message: &'static str,
    },
    /// No CI was recognised and no generic builder was described.
    #[error(
        "not in a recognised CI (GitHub Actions, GitLab CI); describe the build with `--builder-id`"
    )]
    NoBuilder,
}

/// A generic build described by the user.
#[derive(Debug, Clone, Default)]
pub struct GenericBuild {
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// `buildDefinition.buildType` (default [`GENERIC_BUILD_TYPE`]).
    pub build_type: Option<String>,
    /// `externalParameters`, from `k=v` pairs.
    pub parameters: BTreeMap<String, String>,
    /// Source: `git+URL@REF` and its commit, when known.
    pub source: Option<(String, Option<String>)>,
    /// `runDetails.metadata.invocationId`.
    pub invocation_id: Option<String>,
}

/// Where the build ran.
#[derive(Debug, Clone)]
pub enum BuildContext {
    /// A GitHub Actions workflow run.
    GithubActions(Environment),
    /// A GitLab CI job.
    GitlabCi(Environment),
    /// Described on the command line.
    Generic(GenericBuild),
}

/// The build context: the generic description when given (it wins, so a user can override),
/// else the CI the environment shows.
pub fn detect(env: &Environment, generic: Option<GenericBuild>) -> Result<BuildContext, CiError> {
    if let Some(g) = generic {
        return Ok(BuildContext::Generic(g));
    }
    if env.get("GITHUB_ACTIONS") == Some("true") {
        return Ok(BuildContext::GithubActions(env.clone()));
    }
    if env.get("GITLAB_CI") == Some("true") {
        return Ok(BuildContext::GitlabCi(env.clone()));
    }
    Err(CiError::NoBuilder)
}

impl BuildContext {
    /// The CI's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            BuildContext::GithubActions(_) => "GitHub Actions",
            BuildContext::GitlabCi(_) => "GitLab CI",
            BuildContext::Generic(_) => "generic build",
        }
    }

    /// The provenance predicate, with the run's start and end times.
    pub fn provenance(
        &self,
        started_on: Option<jiff::Timestamp>,
        finished_on: jiff::Timestamp,
    ) -> Result<Provenance, CiError> {
        let metadata = |invocation_id: Option<String>| RunMetadata {
            invocation_id,
            started_on: started_on.map(timestamp),
            finished_on: Some(timestamp(finished_on)),
        };
        match self {
            BuildContext::GithubActions(env) => github(env, metadata),
            BuildContext::GitlabCi(env) => gitlab(env, metadata),
            BuildContext::Generic(g) => {
                let mut external = Map::new();
                for (k, v) in &g.parameters {
                    external.insert(k.clone(), Value::String(v.clone()));
                }
                let resolved = g
                    .source
                    .iter()
                    .map(|(uri, commit)| {
                        let mut d = ResourceDescriptor {
                            uri: Some(uri.clone()),
                            ..ResourceDescriptor::default()
                        };
                        if let Some(c) = commit {
                            d.digest.insert("gitCommit".to_owned(), c.clone());
                        }
                        d
                    })
                    .collect();
                Ok(Provenance {
                    build_definition: BuildDefinition {
                        build_type: g
                            .build_type
                            .clone()
                            .unwrap_or_else(|| GENERIC_BUILD_TYPE.to_owned()),
                        external_parameters: external,
                        internal_parameters: Map::new(),
                        resolved_dependencies: resolved,
                    },
                    run_details: RunDetails {
                        builder: Builder {
                            id: g.builder_id.clone(),
                            version: BTreeMap::new(),
                            builder_dependencies: Vec::new(),
                        },
                        metadata: Some(metadata(g.invocation_id.clone())),
                        byproducts: Vec::new(),
                    },
                })
            }
        }
    }
}

fn need<'a>(env: &'a Environment, ci: &'static str, var: &'static str) -> Result<&'a str, CiError> {
    env.get(var).ok_or(CiError::Missing { ci, var })
}

/// GitHub Actions, per the workflow build type: the workflow (repository, path, ref) is the
/// external parameter; event and IDs are internal; the source at `GITHUB_REF` and
/// `GITHUB_SHA` is the resolved dependency; the runner is the builder.
fn github(
    env: &Environment,
    metadata: impl Fn(Option<String>) -> RunMetadata,
) -> Result<Provenance, CiError> {
    const CI: &str = "GitHub Actions";
    let server = env
        .get("GITHUB_SERVER_URL")
        .unwrap_or("https://github.com")
        .trim_end_matches('/');
    let repository = need(env, CI, "GITHUB_REPOSITORY")?;
    let git_ref = need(env, CI, "GITHUB_REF")?;
    let sha = need(env, CI, "GITHUB_SHA")?;
    let workflow_ref = need(env, CI, "GITHUB_WORKFLOW_REF")?;
    // `OWNER/REPO/.github/workflows/FILE.yml@REF`: the workflow may live in another
    // repository than the one built (a reusable workflow is not this; this is the caller's).
    let malformed = |message| CiError::Malformed {
        ci: CI,
        var: "GITHUB_WORKFLOW_REF",
        value: workflow_ref.to_owned(),
        message,
    };
    let (workflow_path_full, workflow_git_ref) = workflow_ref
        .rsplit_once('@')
        .ok_or_else(|| malformed("no `@REF`"))?;
    let mut parts = workflow_path_full.splitn(3, '/');
    let (owner, repo, path) = match (parts.next(), parts.next(), parts.next()) {
        (Some(o), Some(r), Some(p)) if !o.is_empty() && !r.is_empty() && !p.is_empty() => (o, r, p),
        _ => return Err(malformed("not OWNER/REPO/PATH@REF")),
    };
    if !(sha.len() == 40 || sha.len() == 64) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CiError::Malformed {
            ci: CI,
            var: "GITHUB_SHA",
            value: sha.to_owned(),
            message: "not a git commit hash",
        });
    }
    let mut external = Map::new();
    external.insert(
        "workflow".to_owned(),
        json!({
            "ref": workflow_git_ref,
            "repository": format!("{server}/{owner}/{repo}"),
            "path": path,
        }),
    );
    let mut github = Map::new();
    for (key, var) in [
        ("event_name", "GITHUB_EVENT_NAME"),
        ("repository_id", "GITHUB_REPOSITORY_ID"),
        ("repository_owner_id", "GITHUB_REPOSITORY_OWNER_ID"),
        ("runner_environment", "RUNNER_ENVIRONMENT"),
    ] {
        github.insert(
            key.to_owned(),
            Value::String(need(env, CI, var)?.to_owned()),
        );
    }
    let mut internal = Map::new();
    internal.insert("github".to_owned(), Value::Object(github));
    let run_id = need(env, CI, "GITHUB_RUN_ID")?;
    let attempt = need(env, CI, "GITHUB_RUN_ATTEMPT")?;
    let runner = need(env, CI, "RUNNER_ENVIRONMENT")?;
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: GITHUB_WORKFLOW_BUILD_TYPE.to_owned(),
            external_parameters: external,
            internal_parameters: internal,
            resolved_dependencies: vec![ResourceDescriptor {
                uri: Some(format!("git+{server}/{repository}@{git_ref}")),
                digest: [("gitCommit".to_owned(), sha.to_ascii_lowercase())].into(),
                ..ResourceDescriptor::default()
            }],
        },
        run_details: RunDetails {
            builder: Builder {
                id: format!("{server}/actions/runner/{runner}"),
                version: BTreeMap::new(),
                builder_dependencies: Vec::new(),
            },
            metadata: Some(metadata(Some(format!(
                "{server}/{repository}/actions/runs/{run_id}/attempts/{attempt}"
            )))),
            byproducts: Vec::new(),
        },
    })
}

/// GitLab CI, after the provenance GitLab Runner writes (build type: the runner's
/// PROVENANCE.md at its version): the project and job are external, the runner's executor and
/// architecture internal, the commit the resolved dependency, the runner the builder.
fn gitlab(
    env: &Environment,
    metadata: impl Fn(Option<String>) -> RunMetadata,
) -> Result<Provenance, CiError> {
    const CI: &str = "GitLab CI";
    let project_url = need(env, CI, "CI_PROJECT_URL")?;
    let sha = need(env, CI, "CI_COMMIT_SHA")?;
    let job_name = need(env, CI, "CI_JOB_NAME")?;
    let job_id = need(env, CI, "CI_JOB_ID")?;
    let runner_id = need(env, CI, "CI_RUNNER_ID")?;
    let version = need(env, CI, "CI_RUNNER_VERSION")?;
    let mut external = Map::new();
    external.insert("source".to_owned(), Value::String(project_url.to_owned()));
    external.insert("entryPoint".to_owned(), Value::String(job_name.to_owned()));
    if let Some(r) = env.get("CI_COMMIT_REF_NAME") {
        external.insert("ref".to_owned(), Value::String(r.to_owned()));
    }
    if let Some(c) = env.get("CI_CONFIG_PATH") {
        external.insert("configPath".to_owned(), Value::String(c.to_owned()));
    }
    let mut internal = Map::new();
    internal.insert("job".to_owned(), Value::String(job_id.to_owned()));
    for (key, var) in [
        ("pipeline", "CI_PIPELINE_ID"),
        ("architecture", "CI_RUNNER_EXECUTABLE_ARCH"),
        ("runnerDescription", "CI_RUNNER_DESCRIPTION"),
    ] {
        if let Some(v) = env.get(var) {
            internal.insert(key.to_owned(), Value::String(v.to_owned()));
        }
    }
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: format!(
                "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v{version}/PROVENANCE.md"
            ),
            external_parameters: external,
            internal_parameters: internal,
            resolved_dependencies: vec![ResourceDescriptor {
                uri: Some(project_url.to_owned()),
                digest: [("gitCommit".to_owned(), sha.to_ascii_lowercase())].into(),
                ..ResourceDescriptor::default()
            }],
        },
        run_details: RunDetails {
            builder: Builder {
                id: format!("{project_url}/-/runners/{runner_id}"),
                version: [("gitlab-runner".to_owned(), version.to_owned())].into(),
                builder_dependencies: Vec::new(),
            },
            metadata: Some(metadata(
                env.get("CI_JOB_URL")
                    .map(str::to_owned)
                    .or_else(|| Some(job_id.to_owned())),
            )),
            byproducts: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_env() -> Environment {
        Environment::from_vars(
            [
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_REPOSITORY", "acme/app"),
                ("GITHUB_REF", "refs/tags/v1.2.3"),
                ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
                (
                    "GITHUB_WORKFLOW_REF",
                    "acme/app/.github/workflows/release.yml@refs/tags/v1.2.3",
                ),
                ("GITHUB_EVENT_NAME", "push"),
                ("GITHUB_REPOSITORY_ID", "101"),
                ("GITHUB_REPOSITORY_OWNER_ID", "202"),
                ("GITHUB_RUN_ID", "303"),
                ("GITHUB_RUN_ATTEMPT", "2"),
                ("RUNNER_ENVIRONMENT", "github-hosted"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
    }

    #[test]
    fn github_provenance_follows_the_workflow_build_type_and_passes_the_schema_check() {
        let ctx = detect(&github_env(), None).unwrap();
        let now: jiff::Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        let p = ctx.provenance(None, now).unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v["buildDefinition"]["externalParameters"]["workflow"],
            json!({"ref": "refs/tags/v1.2.3", "repository": "https://github.com/acme/app", "path": ".github/workflows/release.yml"})
        );
        assert_eq!(
            v["buildDefinition"]["resolvedDependencies"][0]["uri"],
            "git+https://github.com/acme/app@refs/tags/v1.2.3"
        );
        assert_eq!(
            v["runDetails"]["metadata"]["invocationId"],
            "https://github.com/acme/app/actions/runs/303/attempts/2"
        );
        assert_eq!(
            v["runDetails"]["builder"]["id"],
            "https://github.com/actions/runner/github-hosted"
        );
        assert_eq!(
            v["runDetails"]["metadata"]["finishedOn"],
            "2026-11-28T10:00:00Z"
        );
        assert_eq!(Provenance::from_predicate(&v).unwrap(), p);
    }

    #[test]
    fn a_missing_or_malformed_variable_is_named() {
        let mut env = github_env();
        env.vars.remove("GITHUB_SHA");
        let e = detect(&env, None)
            .unwrap()
            .provenance(None, jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(
            e.unwrap_err(),
            CiError::Missing {
                ci: "GitHub Actions",
                var: "GITHUB_SHA"
            }
        );
        let mut env = github_env();
        env.vars
            .insert("GITHUB_WORKFLOW_REF".into(), "no-at-sign".into());
        let e = detect(&env, None)
            .unwrap()
            .provenance(None, jiff::Timestamp::UNIX_EPOCH)
            .unwrap_err();
        assert!(e.to_string().contains("GITHUB_WORKFLOW_REF"), "{e}");
        assert_eq!(
            detect(&Environment::default(), None).unwrap_err(),
            CiError::NoBuilder
        );
    }

    #[test]
    fn unknown_fields_and_bad_times_are_reported_with_their_path() {
        let ctx = detect(&github_env(), None).unwrap();
        let p = ctx.provenance(None, jiff::Timestamp::UNIX_EPOCH).unwrap();
        let mut v = serde_json::to_value(&p).unwrap();
        v["runDetails"]["surprise"] = json!(1);
        let e = Provenance::from_predicate(&v).unwrap_err();
        assert_eq!(e.path, "$.predicate.runDetails.surprise");
        let mut v = serde_json::to_value(&p).unwrap();
        v["runDetails"]["metadata"]["finishedOn"] = json!("2026-11-28 10:00");
        let e = Provenance::from_predicate(&v).unwrap_err();
        assert_eq!(e.path, "$.predicate.runDetails.metadata.finishedOn");
        let mut v = serde_json::to_value(&p).unwrap();
        v["buildDefinition"]
            .as_object_mut()
            .unwrap()
            .remove("externalParameters");
        let e = Provenance::from_predicate(&v).unwrap_err();
        assert_eq!(e.path, "$.predicate.buildDefinition.externalParameters");
    }

    #[test]
    fn gitlab_and_generic_builds() {
        let env = Environment::from_vars(
            [
                ("GITLAB_CI", "true"),
                ("CI_PROJECT_URL", "https://gitlab.example/acme/app"),
                ("CI_COMMIT_SHA", "89abcdef0123456789abcdef0123456789abcdef"),
                ("CI_JOB_NAME", "build"),
                ("CI_JOB_ID", "77"),
                ("CI_JOB_URL", "https://gitlab.example/acme/app/-/jobs/77"),
                ("CI_RUNNER_ID", "5"),
                ("CI_RUNNER_VERSION", "17.4.0"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let p = detect(&env, None)
            .unwrap()
            .provenance(None, jiff::Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(
            p.run_details.builder.id,
            "https://gitlab.example/acme/app/-/runners/5"
        );
        assert!(
            p.build_definition
                .build_type
                .contains("v17.4.0/PROVENANCE.md")
        );
        Provenance::from_predicate(&serde_json::to_value(&p).unwrap()).unwrap();

        let generic = GenericBuild {
            builder_id: "https://ci.example/builders/7".into(),
            parameters: [("target".to_owned(), "release".to_owned())].into(),
            ..GenericBuild::default()
        };
        // The generic description wins even inside a recognised CI.
        let ctx = detect(&env, Some(generic)).unwrap();
        let p = ctx.provenance(None, jiff::Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(p.build_definition.build_type, GENERIC_BUILD_TYPE);
        assert_eq!(p.build_definition.external_parameters["target"], "release");
    }
}

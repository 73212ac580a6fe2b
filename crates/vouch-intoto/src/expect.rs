//! Checking provenance against what a consumer expects, as slsa-verifier does, for more
//! builders.
//!
//! **Who signed comes from the certificate, never from the predicate.** The source repository,
//! ref and commit, and the signing workflow, are read from the Fulcio certificate's extensions
//! (which the caller has verified). The predicate must then agree with them: a predicate that
//! names a trusted builder, repository or tag that its signer is not is rejected.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::provenance::{Provenance, SLSA_PROVENANCE_V1};

/// SLSA provenance v0.2, still written by slsa-github-generator v1 and older npm.
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";

/// The ref a consumer expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    /// `refs/tags/NAME`.
    Tag(String),
    /// `refs/heads/NAME`.
    Branch(String),
}

impl SourceRef {
    /// The full git ref.
    pub fn git_ref(&self) -> String {
        match self {
            SourceRef::Tag(t) => format!("refs/tags/{t}"),
            SourceRef::Branch(b) => format!("refs/heads/{b}"),
        }
    }
}

/// What the consumer requires.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// The source repository: `github.com/ORG/REPO` or a full `https://` URL.
    pub source_uri: Option<String>,
    /// The tag or branch built.
    pub source_ref: Option<SourceRef>,
    /// The builder: the signing workflow's URI, with or without `@REF`.
    pub builder_id: Option<String>,
}

impl Expectations {
    /// Whether anything is expected at all.
    pub fn any(&self) -> bool {
        self.source_uri.is_some() || self.source_ref.is_some() || self.builder_id.is_some()
    }
}

/// The check a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// The statement is SLSA provenance of a known shape.
    Predicate,
    /// The source repository.
    SourceRepository,
    /// The tag or branch.
    SourceRef,
    /// The builder.
    Builder,
}

/// One outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which check.
    pub kind: CheckKind,
    /// Passed?
    pub passed: bool,
    /// What was checked or what is wrong.
    pub message: String,
    /// Expected value, on failure.
    pub expected: Option<String>,
    /// Found value, on failure.
    pub found: Option<String>,
}

fn pass(kind: CheckKind, message: impl Into<String>) -> Finding {
    Finding {
        kind,
        passed: true,
        message: message.into(),
        expected: None,
        found: None,
    }
}

fn fail(
    kind: CheckKind,
    message: impl Into<String>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> Finding {
    Finding {
        kind,
        passed: false,
        message: message.into(),
        expected: Some(expected.into()),
        found: Some(found.into()),
    }
}

/// The signer, from the verified certificate: Fulcio extensions by the names of Fulcio's OID
/// document (`source-repository-uri`, `source-repository-ref`, `source-repository-digest`,
/// `build-signer-uri`, `runner-environment`, …).
pub type SignerExtensions = BTreeMap<String, String>;

/// What the predicate says about its source and builder, whichever format it is in.
#[derive(Debug, Default)]
struct Claimed {
    /// `https://github.com/ORG/REPO` (no `git+`, no `@ref`).
    repository: Option<String>,
    /// `refs/tags/…`.
    git_ref: Option<String>,
    /// The commit.
    commit: Option<String>,
    /// `builder.id`.
    builder: Option<String>,
}

/// Splits `git+https://host/org/repo@refs/…` into the repository URL and the ref.
fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    match uri.rsplit_once('@') {
        Some((repo, r)) if r.starts_with("refs/") => (repo.to_owned(), Some(r.to_owned())),
        _ => (uri.to_owned(), None),
    }
}

/// External parameters a build type defines; anything else is reported.
fn known_external(build_type: &str) -> Option<&'static [&'static str]> {
    let github = [
        crate::ci::GITHUB_WORKFLOW_BUILD_TYPE,
        "https://github.com/actions/buildtypes/workflow/v1",
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
    ]
    .contains(&build_type)
        || build_type.starts_with("https://github.com/slsa-framework/slsa-github-generator/");
    if github {
        Some(&["workflow", "inputs", "vars"])
    } else if build_type.starts_with("https://gitlab.com/gitlab-org/gitlab-runner/") {
        Some(&["source", "entryPoint", "ref", "configPath", "variables"])
    } else {
        // A build type vouch does not know: its parameters cannot be judged, only shown.
        None
    }
}

fn claimed_v1(p: &Provenance) -> Claimed {
    let mut c = Claimed {
        builder: Some(p.run_details.builder.id.clone()),
        ..Claimed::default()
    };
    if let Some(w) = p.build_definition.external_parameters.get("workflow") {
        c.repository = w
            .get("repository")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    if let Some(dep) = p.build_definition.resolved_dependencies.first() {
        if let Some(uri) = &dep.uri {
            let (repo, r) = split_git_uri(uri);
            c.repository.get_or_insert(repo);
            c.git_ref = r;
        }
        c.commit = dep
            .digest
            .get("gitCommit")
            .or_else(|| dep.digest.get("sha1"))
            .cloned();
    }
    c
}

fn claimed_v02(predicate: &Value) -> Claimed {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let source = predicate.pointer("/invocation/configSource");
    let (repository, git_ref) = match text(source.and_then(|s| s.get("uri"))) {
        Some(uri) => {
            let (r, g) = split_git_uri(&uri);
            (Some(r), g)
        }
        None => (None, None),
    };
    Claimed {
        repository,
        git_ref,
        commit: text(source.and_then(|s| s.pointer("/digest/sha1"))),
        builder: text(predicate.pointer("/builder/id")),
    }
}

/// `github.com/ORG/REPO`, `https://github.com/ORG/REPO(.git)` → `https://github.com/ORG/REPO`.
fn normalise_repo(uri: &str) -> String {
    let uri = uri.trim_end_matches('/').trim_end_matches(".git");
    if uri.contains("://") {
        uri.to_owned()
    } else {
        format!("https://{uri}")
    }
}

/// Checks a verified statement (`claims.statement`) signed by `signer` against `expected`.
pub fn check_provenance(
    statement: &Value,
    signer: &SignerExtensions,
    expected: &Expectations,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let predicate = statement.get("predicate").cloned().unwrap_or(Value::Null);
    let claimed = match predicate_type {
        SLSA_PROVENANCE_V1 => match Provenance::from_predicate(&predicate) {
            Ok(p) => {
                let unknown: Vec<_> = known_external(&p.build_definition.build_type)
                    .map(|known| {
                        p.build_definition
                            .external_parameters
                            .keys()
                            .filter(|k| !known.contains(&k.as_str()))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if unknown.is_empty() {
                    out.push(pass(
                        CheckKind::Predicate,
                        format!(
                            "SLSA provenance v1, build type `{}`",
                            p.build_definition.build_type
                        ),
                    ));
                } else {
                    out.push(fail(
                        CheckKind::Predicate,
                        format!(
                            "external parameters this build type does not define: {}",
                            unknown.join(", ")
                        ),
                        "only the build type's parameters",
                        unknown.join(", "),
                    ));
                }
                claimed_v1(&p)
            }
            Err(e) => {
                out.push(fail(
                    CheckKind::Predicate,
                    format!("not well-formed SLSA provenance v1: {e}"),
                    "SLSA provenance v1",
                    e.path.clone(),
                ));
                return out;
            }
        },
        SLSA_PROVENANCE_V02 => {
            out.push(pass(CheckKind::Predicate, "SLSA provenance v0.2"));
            claimed_v02(&predicate)
        }
        other => {
            out.push(fail(
                CheckKind::Predicate,
                "the signed statement is not SLSA provenance",
                format!("{SLSA_PROVENANCE_V1} or {SLSA_PROVENANCE_V02}"),
                other,
            ));
            return out;
        }
    };

    let cert = |name: &str| signer.get(name).cloned();
    if let Some(want) = &expected.source_uri {
        let want = normalise_repo(want);
        match cert("source-repository-uri") {
            None => out.push(fail(
                CheckKind::SourceRepository,
                "the certificate names no source repository (not a CI identity)",
                want,
                "(none)",
            )),
            Some(found) if normalise_repo(&found) != want => out.push(fail(
                CheckKind::SourceRepository,
                "the signer's source repository is not the expected one",
                want,
                found,
            )),
            Some(found) => match &claimed.repository {
                Some(c) if normalise_repo(c) != normalise_repo(&found) => out.push(fail(
                    CheckKind::SourceRepository,
                    "the provenance claims another source repository than its signer's",
                    found,
                    c.clone(),
                )),
                _ => {
                    let commit_ok = match (cert("source-repository-digest"), &claimed.commit) {
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        _ => true,
                    };
                    if commit_ok {
                        out.push(pass(
                            CheckKind::SourceRepository,
                            format!("source repository is `{found}` (certificate)"),
                        ));
                    } else {
                        out.push(fail(
                            CheckKind::SourceRepository,
                            "the provenance claims another commit than its signer's",
                            cert("source-repository-digest").unwrap_or_default(),
                            claimed.commit.clone().unwrap_or_default(),
                        ));
                    }
                }
            },
        }
    }
    if let Some(want) = &expected.source_ref {
        let want = want.git_ref();
        match cert("source-repository-ref") {
            Some(found) if found == want => match &claimed.git_ref {
                Some(c) if *c != found => out.push(fail(
                    CheckKind::SourceRef,
                    "the provenance claims another ref than its signer's",
                    found,
                    c.clone(),
                )),
                _ => out.push(pass(
                    CheckKind::SourceRef,
                    format!("source ref is `{found}` (certificate)"),
                )),
            },
            found => out.push(fail(
                CheckKind::SourceRef,
                "the signer ran at another ref",
                want,
                found.unwrap_or_else(|| "(none)".to_owned()),
            )),
        }
    }
    if let Some(want) = &expected.builder_id {
        let signer_uri = cert("build-signer-uri");
        let matches = |uri: &str| {
            if want.contains('@') {
                uri == want
            } else {
                uri.split('@').next() == Some(want.as_str())
            }
        };
        match signer_uri {
            Some(uri) if matches(&uri) => {
                // A predicate that names a workflow as its builder must name its signer.
                let claims_workflow = claimed
                    .builder
                    .as_deref()
                    .filter(|b| b.contains("/.github/workflows/"));
                match claims_workflow {
                    Some(b) if b.split('@').next() != uri.split('@').next() => out.push(fail(
                        CheckKind::Builder,
                        "the provenance names another builder than the workflow that signed it",
                        uri.clone(),
                        b.to_owned(),
                    )),
                    _ => out.push(pass(
                        CheckKind::Builder,
                        format!("signed by builder `{uri}` (certificate)"),
                    )),
                }
            }
            found => out.push(fail(
                CheckKind::Builder,
                "the signing workflow is not the expected builder",
                want.clone(),
                found.unwrap_or_else(|| "(none)".to_owned()),
            )),
        }
    }
    out
}

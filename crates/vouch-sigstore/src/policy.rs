//! What a signature must show to be accepted: who signed (identity and issuer, exact or by
//! regular expression), with which CI claims, or which managed key.
//!
//! Fulcio certificate extensions: <https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>.

use regex::Regex;
use sigstore_verify::crypto::CertificateInfo;

use crate::report::{Check, CheckId};

/// Longest regular expression accepted, in bytes; the compiled size is bounded too.
const MAX_PATTERN_LEN: usize = 4096;
const MAX_COMPILED_REGEX: usize = 1 << 20;

/// How an expected value is compared with what the certificate says.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Byte-for-byte equality.
    Exact(String),
    /// The whole value must match the expression (it is anchored at both ends), so
    /// `https://github.com/org/.*` cannot match `https://evil.example/https://github.com/org/`.
    Regex(Regex),
}

/// A regular expression that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression `{pattern}`: {message}")]
pub struct PatternError {
    /// The expression as given.
    pub pattern: String,
    /// What the regex compiler said.
    pub message: String,
}

impl Matcher {
    /// An exact matcher.
    pub fn exact(value: impl Into<String>) -> Self {
        Matcher::Exact(value.into())
    }

    /// A whole-value regular-expression matcher.
    pub fn regex(pattern: &str) -> Result<Self, PatternError> {
        let error = |message: String| PatternError {
            pattern: pattern.to_owned(),
            message,
        };
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(error(format!("longer than {MAX_PATTERN_LEN} bytes")));
        }
        regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(MAX_COMPILED_REGEX)
            .build()
            .map(Matcher::Regex)
            .map_err(|e| error(e.to_string()))
    }

    /// Whether `value` satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(expected) => expected == value,
            Matcher::Regex(re) => re.is_match(value),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Exact(value) => f.write_str(value),
            Matcher::Regex(re) => {
                // Show the expression as the user wrote it, without the anchoring group.
                let s = re.as_str();
                let inner = s
                    .strip_prefix("^(?:")
                    .and_then(|s| s.strip_suffix(")$"))
                    .unwrap_or(s);
                write!(f, "/{inner}/")
            }
        }
    }
}

/// GitHub Actions claims that Fulcio records in certificate extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GithubClaim {
    /// `owner/repo`, or the full `https://github.com/owner/repo` URL.
    Repository,
    /// The git ref, for example `refs/heads/main` or `refs/tags/v1.2.3`.
    Ref,
    /// The workflow: its name, its path (`.github/workflows/release.yml`), or the full
    /// build config URI.
    Workflow,
    /// The commit SHA the workflow ran at.
    Sha,
    /// The event that triggered the workflow, for example `push`.
    Trigger,
}

impl GithubClaim {
    /// The flag-style name (`github-repository`, …).
    pub fn name(self) -> &'static str {
        match self {
            GithubClaim::Repository => "github-repository",
            GithubClaim::Ref => "github-ref",
            GithubClaim::Workflow => "github-workflow",
            GithubClaim::Sha => "github-sha",
            GithubClaim::Trigger => "github-trigger",
        }
    }

    /// The values in the certificate this claim may be compared with, best first.
    fn candidates(self, info: &CertificateInfo) -> Vec<String> {
        let ci = &info.ci_claims;
        let old = &ci.deprecated_github;
        let mut out: Vec<String> = Vec::new();
        let mut push = |v: &Option<String>| {
            if let Some(v) = v
                && !out.contains(v)
            {
                out.push(v.clone());
            }
        };
        match self {
            GithubClaim::Repository => {
                push(&old.workflow_repository);
                push(&ci.source_repository_uri);
                let short = ci
                    .source_repository_uri
                    .as_deref()
                    .and_then(|u| u.strip_prefix("https://github.com/"))
                    .map(str::to_owned);
                push(&short);
            }
            GithubClaim::Ref => {
                push(&ci.source_repository_ref);
                push(&old.workflow_ref);
            }
            GithubClaim::Workflow => {
                push(&old.workflow_name);
                push(&ci.build_config_uri);
                // `https://github.com/o/r/.github/workflows/x.yml@refs/heads/main` → the path.
                let path = ci
                    .build_config_uri
                    .as_deref()
                    .and_then(|u| u.find("/.github/").map(|i| u.get(i + 1..).unwrap_or(u)))
                    .map(|p| p.split('@').next().unwrap_or(p).to_owned());
                push(&path);
            }
            GithubClaim::Sha => {
                push(&ci.source_repository_digest);
                push(&old.workflow_sha);
            }
            GithubClaim::Trigger => {
                push(&ci.build_trigger);
                push(&old.workflow_trigger);
            }
        }
        out
    }
}

/// The verification policy.
#[derive(Debug, Clone)]
pub struct Policy {
    kind: PolicyKind,
    github: Vec<(GithubClaim, Matcher)>,
}

#[derive(Debug, Clone)]
enum PolicyKind {
    Keyless {
        identity: Matcher,
        issuer: Matcher,
    },
    Key {
        public_key: sigstore_types::DerPublicKey,
    },
}

/// A public key that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("not a PEM public key (ECDSA P-256/P-384, Ed25519 or RSA): {message}")]
pub struct KeyError {
    /// What the parser said.
    pub message: String,
}

impl Policy {
    /// Keyless: the certificate must name this identity and issuer.
    pub fn keyless(identity: Matcher, issuer: Matcher) -> Self {
        Self {
            kind: PolicyKind::Keyless { identity, issuer },
            github: Vec::new(),
        }
    }

    /// A managed key, given as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn public_key_pem(pem: &str) -> Result<Self, KeyError> {
        let public_key = sigstore_types::DerPublicKey::from_pem(pem).map_err(|e| KeyError {
            message: e.to_string(),
        })?;
        Ok(Self {
            kind: PolicyKind::Key { public_key },
            github: Vec::new(),
        })
    }

    /// Also require a GitHub claim in the certificate.
    #[must_use]
    pub fn require_github(mut self, claim: GithubClaim, expected: Matcher) -> Self {
        self.github.push((claim, expected));
        self
    }

    /// The managed key, if this is a key policy.
    pub(crate) fn public_key(&self) -> Option<&sigstore_types::DerPublicKey> {
        match &self.kind {
            PolicyKind::Key { public_key } => Some(public_key),
            PolicyKind::Keyless { .. } => None,
        }
    }

    /// Checks identity, issuer and extensions against a parsed (not yet verified) certificate.
    /// Their outcome counts only if the certificate then verifies.
    pub(crate) fn check_certificate(&self, info: &CertificateInfo) -> Vec<Check> {
        let mut checks = Vec::new();
        let PolicyKind::Keyless { identity, issuer } = &self.kind else {
            return checks;
        };
        let found_identity = info.identity.as_ref().map(|s| s.as_str().to_owned());
        checks.push(match &found_identity {
            Some(found) if identity.matches(found) => Check::passed(
                CheckId::Identity,
                format!("certificate identity is `{found}`"),
            ),
            found => {
                let found = found.clone().unwrap_or_else(|| "(none)".to_owned());
                Check::failed(
                    CheckId::Identity,
                    "the certificate identity does not match the expected identity",
                )
                .with_values(identity.to_string(), found.clone())
                .with_hint(format!(
                    "the certificate was issued to `{found}`; pass \
                     `--certificate-identity {found}` if you trust that signer"
                ))
            }
        });
        checks.push(match &info.issuer {
            Some(found) if issuer.matches(found) => {
                Check::passed(CheckId::Issuer, format!("OIDC issuer is `{found}`"))
            }
            found => {
                let found = found.clone().unwrap_or_else(|| "(none)".to_owned());
                Check::failed(
                    CheckId::Issuer,
                    "the certificate's OIDC issuer does not match the expected issuer",
                )
                .with_values(issuer.to_string(), found.clone())
                .with_hint(format!(
                    "the identity was vouched for by `{found}`; pass \
                     `--certificate-oidc-issuer {found}` if you trust that issuer"
                ))
            }
        });
        if !self.github.is_empty() {
            let mut mismatches = Vec::new();
            let mut matched = Vec::new();
            for (claim, expected) in &self.github {
                let candidates = claim.candidates(info);
                match candidates.iter().find(|c| expected.matches(c)) {
                    Some(found) => matched.push(format!("{}={found}", claim.name())),
                    None => mismatches.push((claim, expected, candidates)),
                }
            }
            checks.push(if mismatches.is_empty() {
                Check::passed(
                    CheckId::CertificateExtensions,
                    format!("certificate extensions match: {}", matched.join(", ")),
                )
            } else {
                let expected = mismatches
                    .iter()
                    .map(|(c, e, _)| format!("{}={e}", c.name()))
                    .collect::<Vec<_>>()
                    .join(", ");
                let found = mismatches
                    .iter()
                    .map(|(c, _, found)| {
                        let found = if found.is_empty() {
                            "(absent)".to_owned()
                        } else {
                            found.join(" | ")
                        };
                        format!("{}={found}", c.name())
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                Check::failed(
                    CheckId::CertificateExtensions,
                    "certificate extensions do not match the expected GitHub claims",
                )
                .with_values(expected, found)
                .with_hint(
                    "GitHub claims are recorded by Fulcio from the workflow's OIDC token; \
                     check the repository, ref and workflow the artifact was built from",
                )
            });
        }
        checks
    }
}

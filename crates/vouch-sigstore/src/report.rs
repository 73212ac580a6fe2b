//! The verification report: every check that ran, and what verification established.
//!
//! A report keeps three kinds of statement apart, because a deploy gate must not decide on the
//! wrong one:
//! - [`Facts`]: what the cryptography proved, present only when every check passed;
//! - [`Claims`]: what the signer asserted inside the signed payload (an in-toto statement);
//!   authentic, but only as true as the signer is honest;
//! - [`Hints`]: unauthenticated fields of the bundle, shown to help diagnose a failure.
//!
//! The JSON form is versioned; its schema is `schemas/verify-report.schema.json`.

use serde::Serialize;

/// Version of the JSON report layout. Bumped on any incompatible change.
pub const REPORT_VERSION: &str = "1";

/// The checks verification runs, in the order they run. Their kebab-case names are stable:
/// scripts match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckId {
    /// The bundle is JSON of a known media type with the fields its version requires.
    BundleParse,
    /// The trusted root is usable (keys parse, validity windows are sane).
    TrustedRoot,
    /// RFC 3161 timestamps verify against a trusted timestamp authority.
    Rfc3161Timestamp,
    /// The Rekor v1 signed entry timestamp (inclusion promise) verifies.
    TlogSet,
    /// The signing certificate chains to a trusted Fulcio root at the verified signing time,
    /// carries no root of its own, and is within its validity period.
    CertificateChain,
    /// The certificate's embedded signed certificate timestamp verifies against a trusted CT log.
    Sct,
    /// The certificate's subject alternative name matches the expected identity.
    Identity,
    /// The certificate's OIDC issuer extension matches the expected issuer.
    Issuer,
    /// The certificate's other Fulcio extensions (GitHub claims) match what was expected.
    CertificateExtensions,
    /// The Merkle inclusion proof of the log entry verifies.
    TlogInclusionProof,
    /// The checkpoint (signed tree head) is signed by a trusted log and matches the proof.
    TlogCheckpoint,
    /// The log's integrated time is in the past and within the certificate's validity.
    TlogIntegratedTime,
    /// The signature verifies over the artifact (or the DSSE pre-authentication encoding).
    Signature,
    /// The artifact's digest matches the bundle (message signature).
    ArtifactDigest,
    /// The artifact's digest matches a subject of the signed in-toto statement (DSSE).
    DsseSubject,
    /// Each log entry is from a trusted log and describes this bundle's signature and key.
    TlogEntry,
    /// The signed statement is SLSA provenance of a known shape, with no unknown parameters
    /// (only when provenance expectations are given).
    ProvenancePredicate,
    /// The source repository, from the certificate, is the expected one, and the provenance
    /// agrees with the certificate.
    SourceRepository,
    /// The source ref (tag or branch), from the certificate, is the expected one, and the
    /// provenance agrees.
    SourceRef,
    /// The builder, from the certificate's signer workflow, is the expected one, and the
    /// provenance does not claim another.
    Builder,
}

impl CheckId {
    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::BundleParse => "bundle-parse",
            CheckId::TrustedRoot => "trusted-root",
            CheckId::Rfc3161Timestamp => "rfc3161-timestamp",
            CheckId::TlogSet => "tlog-set",
            CheckId::CertificateChain => "certificate-chain",
            CheckId::Sct => "sct",
            CheckId::Identity => "identity",
            CheckId::Issuer => "issuer",
            CheckId::CertificateExtensions => "certificate-extensions",
            CheckId::TlogInclusionProof => "tlog-inclusion-proof",
            CheckId::TlogCheckpoint => "tlog-checkpoint",
            CheckId::TlogIntegratedTime => "tlog-integrated-time",
            CheckId::Signature => "signature",
            CheckId::ArtifactDigest => "artifact-digest",
            CheckId::DsseSubject => "dsse-subject",
            CheckId::TlogEntry => "tlog-entry",
            CheckId::ProvenancePredicate => "provenance-predicate",
            CheckId::SourceRepository => "source-repository",
            CheckId::SourceRef => "source-ref",
            CheckId::Builder => "builder",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The check ran and passed.
    Passed,
    /// The check ran and failed.
    Failed,
    /// The check did not run: an earlier check failed, and verification stops at the first
    /// failure of the cryptographic sequence.
    NotRun,
}

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Which check.
    pub id: CheckId,
    /// Passed, failed, or not run.
    pub status: Status,
    /// What was checked, or why it failed.
    pub message: String,
    /// What the policy or the bundle required (on failure, where there is one value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// How to fix or investigate a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn passed(id: CheckId, message: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Passed,
            message: message.into(),
            expected: None,
            found: None,
            hint: None,
        }
    }

    /// A failed check.
    pub fn failed(id: CheckId, message: impl Into<String>) -> Self {
        Self {
            status: Status::Failed,
            ..Self::passed(id, message)
        }
    }

    /// A check that did not run.
    pub fn not_run(id: CheckId, message: impl Into<String>) -> Self {
        Self {
            status: Status::NotRun,
            ..Self::passed(id, message)
        }
    }

    /// Adds expected and found values.
    #[must_use]
    pub fn with_values(mut self, expected: impl Into<String>, found: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.found = Some(found.into());
        self
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The result of verifying one artifact against one bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Layout version of this report ([`REPORT_VERSION`]).
    pub report_version: &'static str,
    /// True exactly when every check that applies passed.
    pub verified: bool,
    /// Every check, in the order verification runs them.
    pub checks: Vec<Check>,
    /// What verification proved; present only when `verified` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// What the signer asserted in the signed payload; present only when `verified` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Claims>,
    /// Unauthenticated fields of the bundle, for diagnosis only.
    pub hints: Hints,
}

impl Report {
    /// The report of material that never reached the verifier (a legacy cosign layer that
    /// cannot be turned into a bundle): one failed `bundle-parse` check saying why.
    pub fn unparsable(message: impl Into<String>) -> Self {
        Report {
            report_version: REPORT_VERSION,
            verified: false,
            checks: vec![Check::failed(CheckId::BundleParse, message)],
            facts: None,
            claims: None,
            hints: Hints::default(),
        }
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Failed)
    }
}

/// What verification proved about the signature.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// `keyless` (a Fulcio certificate) or `key` (a managed public key).
    pub mode: &'static str,
    /// The certificate's subject alternative name (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// `email`, `uri` or `other` (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_kind: Option<&'static str>,
    /// The OIDC issuer recorded by Fulcio (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Fulcio certificate extensions (GitHub and CI claims), by name.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extensions: std::collections::BTreeMap<String, String>,
    /// The certificate's validity window, RFC 3339 (keyless).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_not_before: Option<String>,
    /// See `certificate_not_before`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_not_after: Option<String>,
    /// The earliest Rekor v1 integrated time authenticated by a signed entry timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<String>,
    /// Every authenticated signing time used (RFC 3161 and integrated times), RFC 3339.
    pub verified_times: Vec<String>,
    /// The transparency log entries whose inclusion was verified.
    pub log_entries: Vec<LogEntryFact>,
    /// Digest of the artifact as it was verified, `alg:hex`.
    pub artifact_digest: String,
    /// For DSSE bundles: the name of the in-toto subject the artifact matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_subject: Option<String>,
}

/// A verified transparency log entry.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntryFact {
    /// Index of the entry in its log.
    pub log_index: u64,
    /// The log's key ID (hex).
    pub log_id: String,
    /// Entry kind and version, for example `hashedrekord/0.0.1`.
    pub kind: String,
}

/// What the signer asserted: the in-toto statement of a DSSE bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Claims {
    /// The DSSE payload type.
    pub payload_type: String,
    /// The statement's `_type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_type: Option<String>,
    /// The statement's `predicateType`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The statement's subjects, as signed.
    pub subjects: serde_json::Value,
    /// The whole statement, as signed.
    pub statement: serde_json::Value,
}

/// Unauthenticated data from the bundle: useful to explain a failure, never to decide.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Hints {
    /// The bundle's declared media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The identity the certificate names, whether or not it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_identity: Option<String>,
    /// The issuer the certificate names, whether or not it verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_issuer: Option<String>,
    /// The public-key hint of a managed-key bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hint: Option<String>,
    /// Log entry kinds the bundle claims.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_entry_kinds: Vec<String>,
    /// Number of RFC 3161 timestamps the bundle carries.
    pub rfc3161_timestamps: usize,
}

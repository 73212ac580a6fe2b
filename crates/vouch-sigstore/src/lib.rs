//! Sigstore for vouch: trust material, and bundle verification that explains itself.
//!
//! The cryptography is the Sigstore project's (`sigstore-verify`, `sigstore-trust-root`,
//! `sigstore-types`, pinned exactly). This crate chooses the trust material, matches identities
//! and GitHub claims exactly or by regular expression, refuses what those crates accept but a
//! verifier should not (a root certificate inside a bundle), and turns the outcome into a
//! [`Report`] of every check, with expected and found values on failure.
//!
//! Verification does no I/O: bytes, trust material and a policy in, a report out.

#![forbid(unsafe_code)]

pub mod cosign;
mod intoto_v001;
pub mod key;
mod policy;
mod report;
pub mod sign;
pub mod token;
mod trust;
pub mod tuf;
mod verify;

pub use policy::{GithubClaim, KeyError, Matcher, PatternError, Policy};
pub use report::{
    Check, CheckId, Claims, Facts, Hints, LogEntryFact, REPORT_VERSION, Report, Status,
};
pub use sign::{
    Credential, RekorVersion, RetryPolicy, Service, Services, SignError, Signed, Signer,
    SigningConfig,
};
pub use trust::{Authority, Instance, MAX_TRUST_BYTES, TrustError, TrustMaterial, TrustSummary};
pub use verify::{
    ArtifactInput, CertificateCache, IN_TOTO_PAYLOAD_TYPE, MAX_BUNDLE_BYTES, Verifier,
};

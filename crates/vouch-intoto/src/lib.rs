//! in-toto attestations for vouch: the Statement v1 envelope contents, and SLSA provenance v1
//! predicates built from a CI environment.
//!
//! Nothing here reads the environment or the clock: the caller passes an [`Environment`]
//! snapshot and the times, so the same inputs always give the same statement.
//!
//! Formats: in-toto Statement v1 and ResourceDescriptor (`in-toto/attestation`, `spec/v1`), SLSA
//! provenance v1 (`https://slsa.dev/provenance/v1`), the GitHub Actions workflow build type
//! (`https://actions.github.io/buildtypes/workflow/v1`) and GitLab Runner's provenance build
//! type.

#![forbid(unsafe_code)]

mod ci;
mod expect;
mod provenance;
mod statement;

pub use ci::{
    BuildContext, CiError, Environment, GENERIC_BUILD_TYPE, GITHUB_WORKFLOW_BUILD_TYPE,
    GenericBuild, detect,
};
pub use expect::{
    CheckKind, Expectations, Finding, SLSA_PROVENANCE_V02, SignerExtensions, SourceRef,
    check_provenance,
};
pub use provenance::{
    BuildDefinition, Builder, Provenance, RunDetails, RunMetadata, SLSA_PROVENANCE_V1,
};
pub use statement::{
    ResourceDescriptor, STATEMENT_V01, STATEMENT_V1, Statement, StatementError, parse_statement,
};

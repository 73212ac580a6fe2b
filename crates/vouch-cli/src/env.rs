//! Every environment variable vouch reads, in one place.

/// Unix time to record as the SBOM's creation time, for reproducible builds
/// (<https://reproducible-builds.org/specs/source-date-epoch/>).
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Directory of the official JSON schemas for `vouch sbom check` (same as `--schema-dir`).
pub const VOUCH_SCHEMA_DIR: &str = "VOUCH_SCHEMA_DIR";

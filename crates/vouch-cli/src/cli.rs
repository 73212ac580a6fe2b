//! Command-line definitions. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Supply-chain evidence: SBOMs from lockfiles, checked against the official schemas.
///
/// Exit codes: 0 success, 1 a check failed, 2 usage or runtime error.
#[derive(Debug, Parser)]
#[command(
    name = "vouch",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate an SBOM from lockfiles, or check one with `vouch sbom check FILE`
    Sbom(SbomArgs),
    /// Verify artifacts against Sigstore bundles, offline, with a report of every check
    Verify(VerifyArgs),
    /// Show the trusted root that verification uses
    Trust(TrustArgs),
}

/// `vouch sbom`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SbomArgs {
    /// `vouch sbom check FILE` validates an SBOM instead of writing one.
    #[command(subcommand)]
    pub check: Option<SbomSubcommand>,

    /// A lockfile, or a directory to search for lockfiles.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SbomFormatArg::CyclonedxJson)]
    pub format: SbomFormatArg,

    /// CycloneDX specification version (with `--format cyclonedx-json`).
    #[arg(long, value_enum, default_value_t = CdxVersionArg::V1_6)]
    pub spec_version: CdxVersionArg,

    /// Write the SBOM to this file instead of stdout (atomically: never a partial file).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Leave out packages that only development, build or test tooling needs.
    #[arg(long)]
    pub exclude_dev: bool,

    /// Also search `node_modules`, `target`, `.git` and `vendor` directories.
    #[arg(long)]
    pub include_vendored: bool,

    /// Name of the described software (default: the directory's name).
    #[arg(long)]
    pub name: Option<String>,

    /// Version of the described software.
    #[arg(long = "subject-version", value_name = "VERSION")]
    pub subject_version: Option<String>,

    /// Use a random serial number / document namespace instead of one derived from content.
    #[arg(long)]
    pub random_serial: bool,
}

/// Subcommands of `vouch sbom`.
#[derive(Debug, Subcommand)]
pub enum SbomSubcommand {
    /// Validate an SBOM: official schema, and the NTIA minimum elements
    Check(SbomCheckArgs),
}

/// `vouch sbom check`.
#[derive(Debug, Args)]
pub struct SbomCheckArgs {
    /// The SBOM (CycloneDX 1.5/1.6 JSON, SPDX 2.3 JSON, SPDX 3.0.1 JSON-LD); `-` for stdin.
    pub file: PathBuf,

    /// Directory holding the official JSON schemas (`cyclonedx/`, `spdx-2.3/`, `spdx-3.0.1/`).
    /// Without it, vouch checks structure and minimum elements only, and says so.
    #[arg(long, value_name = "DIR", env = crate::env::VOUCH_SCHEMA_DIR)]
    pub schema_dir: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `vouch verify`.
///
/// Verification never uses the network: the trust material is embedded or given as a file.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("signer").required(true).multiple(true).args(
    ["certificate_identity", "certificate_identity_regexp", "key"]))]
pub struct VerifyArgs {
    /// Files to verify, or digests `sha256:HEX` / `sha512:HEX` (these need `--bundle`).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// The Sigstore bundle. Default, per file: `FILE.sigstore.json`, then `FILE.sigstore`.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// Guarantee no network access. Verification never uses the network, so this only
    /// documents intent; it is accepted for scripts written against other verifiers.
    #[arg(long)]
    pub offline: bool,

    #[command(flatten)]
    pub trust: TrustSourceArgs,

    /// Expected certificate identity (SAN: email or URI), exactly.
    #[arg(long, value_name = "IDENTITY", conflicts_with_all = ["certificate_identity_regexp", "key"])]
    pub certificate_identity: Option<String>,

    /// Expected certificate identity, as a regular expression matching the whole value.
    #[arg(long, value_name = "REGEX", conflicts_with = "key")]
    pub certificate_identity_regexp: Option<String>,

    /// Expected OIDC issuer of the identity, exactly.
    #[arg(long, value_name = "URL", conflicts_with_all = ["certificate_oidc_issuer_regexp", "key"])]
    pub certificate_oidc_issuer: Option<String>,

    /// Expected OIDC issuer, as a regular expression matching the whole value.
    #[arg(long, value_name = "REGEX", conflicts_with = "key")]
    pub certificate_oidc_issuer_regexp: Option<String>,

    /// Expected GitHub repository, `owner/repo` (from the certificate's Fulcio extensions).
    #[arg(long, value_name = "OWNER/REPO", conflicts_with = "key")]
    pub github_repository: Option<String>,

    /// Expected git ref, for example `refs/heads/main`.
    #[arg(long, value_name = "REF", conflicts_with = "key")]
    pub github_ref: Option<String>,

    /// Expected workflow: its name, its path (`.github/workflows/release.yml`) or full URI.
    #[arg(long, value_name = "WORKFLOW", conflicts_with = "key")]
    pub github_workflow: Option<String>,

    /// Expected commit SHA.
    #[arg(long, value_name = "SHA", conflicts_with = "key")]
    pub github_sha: Option<String>,

    /// Expected triggering event, for example `push`.
    #[arg(long, value_name = "EVENT", conflicts_with = "key")]
    pub github_trigger: Option<String>,

    /// PEM public key of a managed-key signature (ECDSA P-256/P-384, Ed25519, RSA).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Verify at most this many inputs at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
}

/// Where the trusted root comes from (default: the embedded public-good production root).
#[derive(Debug, Args)]
pub struct TrustSourceArgs {
    /// A `trusted_root.json` to trust instead of the embedded production root.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["trust_config", "staging"])]
    pub trusted_root: Option<PathBuf>,

    /// A client trust configuration (`ClientTrustConfig` JSON, as sigstore-python reads).
    #[arg(long, value_name = "FILE", conflicts_with = "staging")]
    pub trust_config: Option<PathBuf>,

    /// Trust the embedded root of the public-good staging instance.
    #[arg(long)]
    pub staging: bool,
}

/// `vouch trust`.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TrustCommand,
}

/// Subcommands of `vouch trust`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Print the logs and authorities a trusted root trusts, and their validity
    Show(TrustShowArgs),
}

/// `vouch trust show`.
#[derive(Debug, Args)]
pub struct TrustShowArgs {
    #[command(flatten)]
    pub trust: TrustSourceArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// SBOM formats.
// The variants spell the contract's flag values (`cyclonedx-json`, `spdx-json`, `spdx3-json`).
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormatArg {
    /// CycloneDX JSON (1.6 unless `--spec-version 1.5`).
    CyclonedxJson,
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// SPDX 3.0.1 JSON-LD.
    Spdx3Json,
}

/// CycloneDX versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CdxVersionArg {
    /// CycloneDX 1.5.
    #[value(name = "1.5")]
    V1_5,
    /// CycloneDX 1.6.
    #[value(name = "1.6")]
    V1_6,
}

/// How reports are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable lines.
    Text,
    /// JSON (versioned; each report's JSON Schema is in `schemas/`).
    Json,
}

/// Parses the process arguments; clap exits with code 2 on usage errors.
pub fn parse() -> Cli {
    Cli::parse()
}

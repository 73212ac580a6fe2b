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
    /// JSON (see `schemas/sbom-check-report.schema.json`).
    Json,
}

/// Parses the process arguments; clap exits with code 2 on usage errors.
pub fn parse() -> Cli {
    Cli::parse()
}

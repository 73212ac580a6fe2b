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
    /// Check lockfiles: integrity hashes, sources, manifests, and artifacts on disk
    Lock(LockArgs),
    /// Sign files (keyless through Sigstore, or with a managed key); each bundle is verified
    /// before it is written
    Sign(SignArgs),
    /// Sign an in-toto attestation about files (a DSSE envelope in a Sigstore bundle)
    Attest(AttestArgs),
    /// Verify artifacts against Sigstore bundles, offline, with a report of every check
    Verify(VerifyArgs),
    /// Generate managed signing keys
    Key(KeyArgs),
    /// Write SLSA provenance (an in-toto statement) for build outputs, from the CI environment
    Provenance(ProvenanceArgs),
    /// The release step: SBOM, provenance, signatures and signed attestations, in one directory
    Release(ReleaseArgs),
    /// Show the trusted root that verification uses
    Trust(TrustArgs),
    /// Run a local Sigstore (Fulcio, Rekor, TSA, OIDC, TUF) on loopback, for tests only
    Devstack(DevstackArgs),
    /// List the signatures, attestations and SBOMs attached to an image in its registry
    Tree(TreeArgs),
    /// Fetch an SBOM or an attestation attached to an image
    Download(DownloadArgs),
}

/// How to reach an image's registry and which platforms of it to read.
#[derive(Debug, Clone, Args, Default)]
pub struct RegistryArgs {
    /// Talk plain HTTP to the image's registry (a registry on loopback, for tests); never for
    /// a registry reached over a network.
    #[arg(long)]
    pub insecure_registry: bool,

    /// The platform to read from a multi-platform image, `os/arch[/variant]` (default: this
    /// machine's).
    #[arg(
        long,
        value_name = "OS/ARCH[/VARIANT]",
        conflicts_with = "all_platforms"
    )]
    pub platform: Option<String>,

    /// Read every platform of a multi-platform image.
    #[arg(long)]
    pub all_platforms: bool,

    /// Directory of the Docker client configuration (`config.json`) holding registry
    /// credentials and credential helpers. Default: `DOCKER_CONFIG`, then `~/.docker`.
    #[arg(long, value_name = "DIR")]
    pub docker_config: Option<PathBuf>,
}

/// `vouch sbom`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SbomArgs {
    /// `vouch sbom check FILE` validates an SBOM instead of writing one.
    #[command(subcommand)]
    pub check: Option<SbomSubcommand>,

    /// A lockfile, a directory to search for lockfiles, or an image: `oci:DIR[:TAG]`,
    /// `docker-archive:FILE[:REPO:TAG|:@N]`, `dir:ROOTFS`, or a registry reference
    /// (`registry/app:tag`, `registry/app@sha256:…`).
    #[arg(default_value = ".")]
    pub path: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Cache what each image layer holds here, so that images sharing base layers are read
    /// once (default: the user cache directory; `--no-layer-cache` turns it off).
    #[arg(long, value_name = "DIR")]
    pub layer_cache: Option<PathBuf>,

    /// Read every layer, even those in the layer cache.
    #[arg(long, conflicts_with = "layer_cache")]
    pub no_layer_cache: bool,

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
    /// Files to verify, digests `sha256:HEX` / `sha512:HEX` (these need `--bundle`), or
    /// images (`registry/app:tag`, `oci:DIR[:TAG]`), whose signatures and attestations are
    /// found in the registry.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Images: also require a verified attestation of this predicate type (`cyclonedx`,
    /// `spdx`, `slsaprovenance`, `openvex`, `vuln`, or a URI). Without it, a verified image
    /// signature is required.
    #[arg(long = "type", value_name = "TYPE")]
    pub attestation_type: Option<String>,

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

    /// Provenance: the expected source repository, `github.com/ORG/REPO` (checked against the
    /// certificate, and the SLSA provenance must agree).
    #[arg(long, value_name = "URI", conflicts_with = "key")]
    pub source_uri: Option<String>,

    /// Provenance: the expected tag that was built.
    #[arg(long, value_name = "TAG", conflicts_with_all = ["key", "source_branch"])]
    pub source_tag: Option<String>,

    /// Provenance: the expected branch that was built.
    #[arg(long, value_name = "BRANCH", conflicts_with = "key")]
    pub source_branch: Option<String>,

    /// Provenance: the expected builder, the signing workflow's URI (with or without `@REF`).
    #[arg(long, value_name = "ID", conflicts_with = "key")]
    pub builder_id: Option<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Verify at most this many inputs at once (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
}

/// `vouch tree`.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// The image (`registry/app:tag`, `registry/app@sha256:…`).
    #[arg(value_name = "IMAGE")]
    pub image: String,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `vouch download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// What to fetch.
    #[command(subcommand)]
    pub what: DownloadCommand,
}

/// `vouch download sbom|attestation`.
#[derive(Debug, Subcommand)]
pub enum DownloadCommand {
    /// The SBOM attested for an image: the predicate of its CycloneDX or SPDX attestation
    Sbom(DownloadItemArgs),
    /// The attestation bundles attached to an image, one JSON document per line
    Attestation(DownloadItemArgs),
}

/// The arguments of `vouch download sbom` and `vouch download attestation`.
#[derive(Debug, Args)]
pub struct DownloadItemArgs {
    /// The image (`registry/app:tag`, `registry/app@sha256:…`).
    #[arg(value_name = "IMAGE")]
    pub image: String,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Only attestations of this predicate type (`cyclonedx`, `spdx`, `slsaprovenance`, or a
    /// URI).
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Where signatures go and how they are made: shared by `vouch sign` and `vouch attest`.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// OIDC identity token for keyless signing. Default: `SIGSTORE_ID_TOKEN`, then ambient CI
    /// credentials (GitHub Actions, GitLab CI, Buildkite, CircleCI, Google Cloud), then an
    /// interactive sign-in.
    #[arg(
        long,
        value_name = "TOKEN",
        conflicts_with = "key",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,

    /// Sign with this managed key (PEM PKCS#8, encrypted with the passphrase in
    /// `VOUCH_PASSWORD` or asked for) instead of keylessly.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Services to sign with (`signing_config.json`); needs `--trusted-root`.
    #[arg(long, value_name = "FILE", requires = "trusted_root", conflicts_with_all = ["trust_config", "staging"])]
    pub signing_config: Option<PathBuf>,

    /// Trusted root the new bundles must verify against (`trusted_root.json`).
    #[arg(long, value_name = "FILE", requires = "signing_config", conflicts_with_all = ["trust_config", "staging"])]
    pub trusted_root: Option<PathBuf>,

    /// Client trust configuration holding both a trusted root and a signing config (as
    /// `vouch devstack` writes, and sigstore-python reads with `--trust-config`).
    #[arg(long, value_name = "FILE", conflicts_with = "staging")]
    pub trust_config: Option<PathBuf>,

    /// Use the public-good staging instance instead of production.
    #[arg(long)]
    pub staging: bool,

    /// Rekor API major version to write to (default: the newest the signing config offers).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2))]
    pub rekor_version: Option<u32>,

    /// Interactive sign-in when no token is found: a browser with a loopback redirect, the
    /// device flow for terminals without a browser, or never.
    #[arg(long, value_enum, default_value_t = OAuthFlowArg::Auto)]
    pub oauth_flow: OAuthFlowArg,

    /// OIDC issuer for interactive sign-in (default: the signing config's, else
    /// `https://oauth2.sigstore.dev/auth`).
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,

    /// OAuth client ID for interactive sign-in.
    #[arg(long, value_name = "ID", default_value = "sigstore")]
    pub oidc_client_id: String,

    /// Attempts per request to Fulcio, Rekor and the timestamp authority (at least 1).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: u32,

    /// Seconds allowed for one request.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

/// Interactive sign-in flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OAuthFlowArg {
    /// The browser when one can be opened, else the device flow.
    Auto,
    /// Authorization code with PKCE on a loopback redirect.
    Browser,
    /// The device authorization grant: a code to enter on another device.
    Device,
    /// Never ask; fail when no token is found.
    None,
}

/// `vouch sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Files to sign, each getting `FILE.sigstore.json` unless `--bundle` is given; or images
    /// (`registry/app:tag`, `oci:DIR[:TAG]`), whose manifest digest is signed and the bundle
    /// attached in the registry.
    #[arg(required = true, value_name = "FILE|IMAGE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Images: also sign every platform manifest of a multi-platform image.
    #[arg(long)]
    pub recursive: bool,

    /// Images: store signatures under cosign's legacy `sha256-<hex>.sig` tag instead of as an
    /// OCI 1.1 referrer (needs a Rekor v1 log).
    #[arg(long)]
    pub legacy_cosign: bool,

    /// Write the bundle here (one file only).
    #[arg(long, value_name = "OUT")]
    pub bundle: Option<PathBuf>,

    #[command(flatten)]
    pub signing: SigningArgs,

    /// Sign at most this many files at once.
    #[arg(long, value_name = "N", default_value = "8")]
    pub jobs: std::num::NonZeroUsize,

    /// Output format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// `vouch attest`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("content").required(true).args(["predicate", "statement"]))]
pub struct AttestArgs {
    /// Files the attestation is about (subjects; named by file name, with sha256 and sha512),
    /// or one image (`registry/app:tag`), to which the attestation is attached.
    #[arg(value_name = "SUBJECT", required_unless_present = "statement")]
    pub subjects: Vec<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Images: store the attestation under cosign's legacy `sha256-<hex>.att` tag instead of
    /// as an OCI 1.1 referrer (needs a Rekor v1 log).
    #[arg(long)]
    pub legacy_cosign: bool,

    /// The predicate, a JSON object.
    #[arg(
        long,
        value_name = "FILE",
        requires = "predicate_type",
        conflicts_with = "statement"
    )]
    pub predicate: Option<PathBuf>,

    /// Predicate type: a URI, or `slsaprovenance`, `slsaprovenance1`, `cyclonedx`, `spdx`,
    /// `spdxjson`, `openvex`, `vuln`, `custom`.
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,

    /// Sign this in-toto statement as it is, byte for byte, instead of building one.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["predicate", "predicate_type"])]
    pub statement: Option<PathBuf>,

    /// Write the bundle here. Default: `SUBJECT.intoto.sigstore.json` for a single subject.
    #[arg(long, value_name = "OUT")]
    pub bundle: Option<PathBuf>,

    #[command(flatten)]
    pub signing: SigningArgs,
}

/// `vouch provenance`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("subjects").required(true).multiple(true).args(["subject", "checksums"]))]
pub struct ProvenanceArgs {
    /// A subject: a file, a glob (`dist/*.tar.gz`), or a digest `[NAME@]sha256:HEX` /
    /// `[NAME@]sha512:HEX` (an image: `registry/repo@sha256:HEX`). Repeatable.
    #[arg(long, value_name = "PATH|GLOB|DIGEST")]
    pub subject: Vec<String>,

    /// Subjects from a `sha256sum` / `sha512sum` style file (`HEX  NAME` per line).
    #[arg(long, value_name = "FILE")]
    pub checksums: Option<PathBuf>,

    /// Write the statement here instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Describe a build outside GitHub Actions and GitLab CI: the builder's ID (a URI).
    #[arg(long, value_name = "URI")]
    pub builder_id: Option<String>,

    /// The generic build's type URI.
    #[arg(long, value_name = "URI", requires = "builder_id")]
    pub build_type: Option<String>,

    /// An external parameter of the generic build, `KEY=VALUE`. Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", requires = "builder_id")]
    pub params: Vec<String>,

    /// The generic build's source, `git+https://host/repo@REF`.
    #[arg(long, value_name = "URI", requires = "builder_id")]
    pub source_uri: Option<String>,

    /// The source's commit.
    #[arg(long, value_name = "SHA", requires = "source_uri")]
    pub source_commit: Option<String>,

    /// The generic build's invocation ID.
    #[arg(long, value_name = "ID", requires = "builder_id")]
    pub invocation_id: Option<String>,

    /// When the build started (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub started_on: Option<String>,
}

/// `vouch release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The release artifacts: each is signed, and is a subject of the SBOM and provenance
    /// attestations.
    #[arg(required = true, value_name = "ARTIFACT")]
    pub artifacts: Vec<PathBuf>,

    /// Source tree (or lockfile) the SBOM describes.
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub sbom: PathBuf,

    /// Version of the released software, recorded in the SBOM.
    #[arg(long = "release-version", value_name = "VERSION")]
    pub release_version: Option<String>,

    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "release")]
    pub out: PathBuf,

    /// Rehearse offline: start an embedded devstack, sign against it, verify everything at the
    /// end, and leave its `trust_config.json` in the output directory.
    #[arg(long, conflicts_with_all = ["identity_token", "key", "trust_config", "signing_config", "trusted_root", "staging"])]
    pub devstack: bool,

    /// Provenance outside GitHub Actions and GitLab CI: the builder's ID.
    #[arg(long, value_name = "URI")]
    pub builder_id: Option<String>,

    #[command(flatten)]
    pub signing: SigningArgs,
}

/// `vouch key`.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: KeyCommand,
}

/// Subcommands of `vouch key`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an ECDSA P-256 key pair: `PREFIX.key` (PKCS#8, encrypted with the passphrase in
    /// `VOUCH_PASSWORD` or asked for twice) and `PREFIX.pub`
    Generate(KeyGenerateArgs),
}

/// `vouch key generate`.
#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// Path prefix of the two files.
    #[arg(long, short, value_name = "PREFIX", default_value = "vouch")]
    pub output: PathBuf,

    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

/// `vouch devstack`.
///
/// A test and rehearsal stack, never a production service: its keys sit in the state
/// directory and anyone who can read it can mint identities. Production users want the
/// Sigstore project's public-good services or their own deployment of them.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DevstackArgs {
    /// `vouch devstack token` prints an identity token instead of serving.
    #[command(subcommand)]
    pub command: Option<DevstackCommand>,

    /// Directory for keys, certificates, logs and the trust material clients need.
    #[arg(long, value_name = "DIR", required = true)]
    pub state_dir: Option<PathBuf>,

    /// Loopback address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
}

/// Subcommands of `vouch devstack`.
#[derive(Debug, Subcommand)]
pub enum DevstackCommand {
    /// Print an OIDC identity token (audience `sigstore`) signed by the devstack's issuer
    Token(DevstackTokenArgs),
}

/// `vouch devstack token`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["email", "subject"]))]
pub struct DevstackTokenArgs {
    /// The devstack's state directory (it must have been started once).
    #[arg(long, value_name = "DIR")]
    pub state_dir: PathBuf,

    /// An email identity.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,

    /// Any other subject, for example a workflow URI.
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,

    /// Lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub ttl: i64,

    /// An extra claim, `key=value` (GitHub Actions: `repository`, `ref`, `workflow_ref`, `sha`,
    /// `event_name`, `job_workflow_ref`, …). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub claim: Vec<String>,
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
    /// Refresh the trusted root and signing config from a TUF repository into a local cache,
    /// which `vouch trust show` and `vouch verify` then use while it is valid
    Update(TrustUpdateArgs),
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

/// `vouch trust update`.
///
/// Exit codes: 0 refreshed, 2 the repository could not be reached or was refused (a signature,
/// version, expiry, length or hash check failed); the cache then keeps what it held.
#[derive(Debug, Args)]
pub struct TrustUpdateArgs {
    /// TUF repository URL (default: the public-good production repository,
    /// `https://tuf-repo-cdn.sigstore.dev`).
    #[arg(long, value_name = "URL", conflicts_with = "staging")]
    pub tuf_url: Option<String>,

    /// The repository's `root.json` to start trusting from. Needed for any repository but the
    /// public-good ones, whose roots are embedded (for `vouch devstack`: `STATE/tuf_root.json`).
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,

    /// Use the public-good staging repository, `https://tuf-repo-cdn.sigstage.dev`.
    #[arg(long)]
    pub staging: bool,

    /// Cache directory of this repository (default: `$XDG_CACHE_HOME/vouch/tuf/<repository>`,
    /// else `~/.cache/vouch/tuf/<repository>`).
    #[arg(long, value_name = "DIR", env = crate::env::VOUCH_TUF_CACHE)]
    pub cache_dir: Option<PathBuf>,
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

/// `vouch lock`.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: LockCommand,
}

/// Subcommands of `vouch lock`.
#[derive(Debug, Subcommand)]
pub enum LockCommand {
    /// Check that every dependency is pinned by a strong hash, from an allowed source, agrees
    /// with the manifest and (with `--verify-artifacts`) with the artifacts on disk.
    ///
    /// Exit codes: 0 no error-level finding, 1 at least one, 2 usage or unreadable input.
    /// Codes and the `[lock]` keys of vouch.toml are documented in docs/lock-check.md.
    Check(LockCheckArgs),
}

/// `vouch lock check`.
#[derive(Debug, Args)]
pub struct LockCheckArgs {
    /// A lockfile, or a directory to search for lockfiles.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Report format.
    #[arg(long, value_enum, default_value_t = LockReportFormat::Text)]
    pub format: LockReportFormat,

    /// Recompute the hashes of artifacts on disk (caches, vendor/, archive folders) and
    /// compare them with the lockfile.
    #[arg(long)]
    pub verify_artifacts: bool,

    /// Also allow packages from this host (repeatable; `*.example.com` for subdomains).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,

    /// Report findings with this code as errors (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_lock_code)]
    pub deny: Vec<vouch_lockfile::check::Code>,

    /// Report findings with this code as warnings (repeatable).
    #[arg(long, value_name = "CODE", value_parser = parse_lock_code)]
    pub warn: Vec<vouch_lockfile::check::Code>,

    /// Read settings from this file instead of `vouch.toml` in the checked directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Do not compare lockfiles with their manifests.
    #[arg(long)]
    pub skip_manifest: bool,

    /// Also search `node_modules`, `target`, `.git` and `vendor` directories.
    #[arg(long)]
    pub include_vendored: bool,

    /// Cargo's home, holding `registry/cache` (default `~/.cargo`).
    #[arg(long, value_name = "DIR", env = crate::env::CARGO_HOME)]
    pub cargo_home: Option<PathBuf>,

    /// npm's cache, holding `_cacache` (default `~/.npm`).
    #[arg(long, value_name = "DIR", env = crate::env::NPM_CONFIG_CACHE)]
    pub npm_cache: Option<PathBuf>,

    /// A folder of package archives: npm tarballs, Composer dist archives, NuGet packages
    /// (repeatable).
    #[arg(long, value_name = "DIR")]
    pub archive_dir: Vec<PathBuf>,

    /// A folder of Python wheels and sdists (repeatable).
    #[arg(long, value_name = "DIR")]
    pub wheelhouse: Vec<PathBuf>,

    /// Go's module cache (default `$GOPATH/pkg/mod`, else `~/go/pkg/mod`).
    #[arg(long, value_name = "DIR", env = crate::env::GOMODCACHE)]
    pub go_mod_cache: Option<PathBuf>,

    /// NuGet's global packages folder (default `~/.nuget/packages`).
    #[arg(long, value_name = "DIR", env = crate::env::NUGET_PACKAGES)]
    pub nuget_packages: Option<PathBuf>,

    /// Threads for hashing artifacts (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub jobs: usize,
}

fn parse_lock_code(s: &str) -> Result<vouch_lockfile::check::Code, String> {
    s.parse()
        .map_err(|e: vouch_lockfile::check::UnknownCode| e.to_string())
}

/// Formats of `vouch lock check` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LockReportFormat {
    /// Human-readable lines.
    Text,
    /// JSON (see `schemas/lock-check-report.schema.json`).
    Json,
    /// SARIF 2.1.0, for code scanning tools.
    Sarif,
}

/// Parses the process arguments; clap exits with code 2 on usage errors.
///
/// `vouch sbom …`, the command pipelines run most, is first parsed against a definition that
/// holds only `sbom`: building the definitions of every subcommand cost about a tenth of a run
/// on a small lockfile. Whatever that parse does not accept (help, version, a usage error) is
/// parsed again by the full definition, so what the user sees does not change.
pub fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    parse_sbom_only(&args).unwrap_or_else(|| Cli::parse_from(args))
}

/// `args` parsed as `vouch sbom …` by a definition of `sbom` alone, when they are that and
/// valid.
fn parse_sbom_only(args: &[std::ffi::OsString]) -> Option<Cli> {
    use clap::FromArgMatches as _;
    if args.get(1).is_none_or(|a| a != "sbom") {
        return None;
    }
    let sbom = SbomArgs::augment_args(clap::Command::new("sbom"));
    let matches = clap::Command::new("vouch")
        .subcommand(sbom)
        .try_get_matches_from(args)
        .ok()?;
    Cli::from_arg_matches(&matches).ok()
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use clap::Parser as _;

    use super::*;

    fn argv(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    /// The `sbom`-only parse gives what the full definition gives, on every form of the
    /// command it accepts.
    #[test]
    fn sbom_only_parse_matches_the_full_definition() {
        for line in [
            "vouch sbom",
            "vouch sbom Cargo.lock",
            "vouch sbom . --format spdx-json -o out.json --exclude-dev",
            "vouch sbom dir --format spdx3-json --output=x --name app --subject-version 1.2",
            "vouch sbom --format cyclonedx-json --spec-version 1.5 --random-serial p",
            "vouch sbom --include-vendored --layer-cache /c oci:img",
            "vouch sbom --no-layer-cache docker-archive:a.tar",
            "vouch sbom check bom.json",
            "vouch sbom check bom.json --format json",
        ] {
            let args = argv(line);
            let fast = parse_sbom_only(&args)
                .unwrap_or_else(|| panic!("the sbom-only parse refused `{line}`"));
            let full = Cli::try_parse_from(&args)
                .unwrap_or_else(|e| panic!("the full definition refused `{line}`: {e}"));
            assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{line}");
        }
    }

    /// Help, version, usage errors and other commands are left to the full definition.
    #[test]
    fn sbom_only_parse_declines_what_it_should_not_answer() {
        for line in [
            "vouch",
            "vouch --version",
            "vouch sbom --help",
            "vouch sbom --version",
            "vouch sbom --format nope",
            "vouch sbom --layer-cache a --no-layer-cache",
            "vouch sbom a b",
            "vouch lock check",
            "vouch sbomx",
        ] {
            assert!(parse_sbom_only(&argv(line)).is_none(), "{line}");
        }
    }
}

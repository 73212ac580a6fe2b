//! Every environment variable vouch reads, in one place.

/// Unix time to record as the SBOM's creation time, for reproducible builds
/// (<https://reproducible-builds.org/specs/source-date-epoch/>).
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Directory of the official JSON schemas for `vouch sbom check` (same as `--schema-dir`).
pub const VOUCH_SCHEMA_DIR: &str = "VOUCH_SCHEMA_DIR";

/// The user's home directory, for the default artifact locations of `vouch lock check
/// --verify-artifacts` (`~/.cargo`, `~/.npm`, `~/go/pkg/mod`, `~/.nuget/packages`).
pub const HOME: &str = "HOME";

/// Cargo's home, holding `registry/cache/*/*.crate` (same as `--cargo-home`).
pub const CARGO_HOME: &str = "CARGO_HOME";

/// npm's cache directory, holding `_cacache` (same as `--npm-cache`; npm's own variable).
pub const NPM_CONFIG_CACHE: &str = "npm_config_cache";

/// Go's module cache (same as `--go-mod-cache`).
pub const GOMODCACHE: &str = "GOMODCACHE";

/// Go's workspace; its first entry's `pkg/mod` is the module cache when `GOMODCACHE` is unset.
pub const GOPATH: &str = "GOPATH";

/// NuGet's global packages folder (same as `--nuget-packages`).
pub const NUGET_PACKAGES: &str = "NUGET_PACKAGES";

// Identity tokens for keyless signing: `SIGSTORE_ID_TOKEN` (same as `--identity-token`; GitLab
// CI's `id_tokens` fills it), and the ambient CI credentials (`ACTIONS_ID_TOKEN_REQUEST_URL` and
// `_TOKEN`, `GITLAB_CI`, `BUILDKITE`, `CIRCLECI`, `K_SERVICE`, `CLOUD_RUN_JOB`,
// `BUILDER_OUTPUT`, `PATH`) are read by `vouch_sigstore::token` from the environment snapshot
// the signing commands pass it; `vouch_sigstore::token::vars` lists them.

/// The passphrase of a managed key (`vouch key generate`, `vouch sign --key`).
pub const VOUCH_PASSWORD: &str = "VOUCH_PASSWORD";

/// The TUF cache directory of one repository: what `vouch trust update` writes (same as its
/// `--cache-dir`) and what `vouch trust show` and `vouch verify` read. Default:
/// `$XDG_CACHE_HOME/vouch/tuf/<repository>`, one directory per repository URL.
pub const VOUCH_TUF_CACHE: &str = "VOUCH_TUF_CACHE";

/// The base directory for caches (XDG Base Directory specification); `~/.cache` when unset.
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";

/// The Docker client's configuration directory, whose `config.json` holds registry credentials
/// and credential helpers (same as `--docker-config`; `~/.docker` when unset).
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";

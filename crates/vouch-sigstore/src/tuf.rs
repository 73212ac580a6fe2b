//! Trust material refreshed from a TUF repository
//! ([TUF 1.0](https://theupdateframework.github.io/specification/latest/)), as the Sigstore
//! instances publish theirs, kept in a local cache that verification reads without the network.
//!
//! The TUF client is sigstore-rust's (`sigstore_trust_root::tuf`, over `sigstore-tuf`): it walks
//! the root chain from an initial root, checks signature thresholds, versions (no rollback),
//! expiry, and the length and hash of every file it takes. This module chooses the initial root,
//! keeps the cache consistent, and hands back the exact bytes of `trusted_root.json` and
//! `signing_config.v0.2.json`.
//!
//! This is the only module of the crate that opens connections, and only [`refresh`] does;
//! [`load_cached`] re-verifies the cache with no network client in scope.
//!
//! # The cache
//!
//! ```text
//! CACHE/
//!   current          the name of the live generation (`gen-N`), replaced by a rename
//!   lock             held while a refresh runs
//!   gen-N/           sigstore-tuf's layout: root.json, root_history/, timestamp.json,
//!                    snapshot.json, N.snapshot.json, targets.json, targets/<target name>
//!   gen-N/vouch.json the repository URL, the initial root, the time of the refresh
//!   gen-N/initial_root.json   the initial root, when it is a file the user gave
//! ```
//!
//! A refresh copies the live generation, refreshes the copy (so it is incremental: unchanged
//! metadata and targets are not downloaded again), and only when the copy verifies, points
//! `current` at it. A failed refresh (network, tampering, expiry) therefore leaves the last
//! verified material in place, and a reader never sees half a refresh.
//!
//! Reading the cache re-runs TUF verification from the initial root against the cached files,
//! at the caller's time, because the cache directory is writable and so untrusted. The initial
//! root of a public-good instance is the embedded one, never a file in the cache; for another
//! repository it is the copy in the cache, which is trust on first use: whoever can write the
//! cache can replace it. An expired cache is refused (the freeze-attack protection TUF
//! exists for); callers fall back to embedded material and say so.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sigstore_sign::trust_root::tuf::{TufBootstrap, TufConfig, fetch_trust_material_at};
use sigstore_sign::trust_root::{
    SIGNING_CONFIG_TARGET, SigningConfig, SigstoreInstance, TRUSTED_ROOT_TARGET, TrustedRoot,
};

use crate::trust::{Instance, TrustError, TrustMaterial};

/// The public-good production instance's TUF repository.
pub const PRODUCTION_TUF_URL: &str = "https://tuf-repo-cdn.sigstore.dev";
/// The public-good staging instance's TUF repository.
pub const STAGING_TUF_URL: &str = "https://tuf-repo-cdn.sigstage.dev";

/// Largest initial root accepted, in bytes. Sigstore's are under 10 KiB.
pub const MAX_ROOT_BYTES: usize = 1 << 20;

const RECORD: &str = "vouch.json";
const INITIAL_ROOT: &str = "initial_root.json";
const CURRENT: &str = "current";

/// Where trust in a repository starts.
#[derive(Debug, Clone)]
pub enum InitialRoot {
    /// The TUF root embedded for a public-good instance.
    Embedded(Instance),
    /// A `root.json` the user gave (`vouch trust update --root FILE`).
    File {
        /// The root metadata.
        bytes: Vec<u8>,
        /// Where it came from, for messages.
        origin: String,
    },
}

impl InitialRoot {
    fn bytes(&self) -> &[u8] {
        match self {
            InitialRoot::Embedded(instance) => sigstore_instance(*instance).tuf_root(),
            InitialRoot::File { bytes, .. } => bytes,
        }
    }

    fn label(&self) -> String {
        match self {
            InitialRoot::Embedded(instance) => embedded_label(*instance).to_owned(),
            InitialRoot::File { origin, .. } => format!("file:{origin}"),
        }
    }
}

/// A TUF repository and the root to start from.
#[derive(Debug, Clone)]
pub struct Repository {
    url: String,
    initial: InitialRoot,
}

impl Repository {
    /// The repository of a public-good instance, trusted from its embedded root.
    pub fn public_good(instance: Instance) -> Self {
        Self {
            url: instance_url(instance).to_owned(),
            initial: InitialRoot::Embedded(instance),
        }
    }

    /// Any repository, trusted from `initial`. A trailing `/` on the URL is dropped.
    pub fn new(url: &str, initial: InitialRoot) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            initial,
        }
    }

    /// The repository URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where trust starts.
    pub fn initial_root(&self) -> &InitialRoot {
        &self.initial
    }
}

/// The public-good instance whose TUF repository is at `url`, if any.
pub fn instance_for_url(url: &str) -> Option<Instance> {
    match url.trim_end_matches('/') {
        PRODUCTION_TUF_URL => Some(Instance::Production),
        STAGING_TUF_URL => Some(Instance::Staging),
        _ => None,
    }
}

/// The URL of a public-good instance's TUF repository.
pub fn instance_url(instance: Instance) -> &'static str {
    match instance {
        Instance::Production => PRODUCTION_TUF_URL,
        Instance::Staging => STAGING_TUF_URL,
    }
}

/// A directory name for a repository's cache: the host and path, readable, and the start of the
/// URL's SHA-256, so that two URLs that read alike (`http` and `https`, another port) never
/// share a cache.
pub fn cache_dir_name(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let mut readable: String = rest
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if readable.is_empty() {
        readable.push_str("repository");
    }
    let hash = vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, url.as_bytes())
        .map(|d| d.hex().get(..12).unwrap_or_default().to_owned())
        .unwrap_or_default();
    format!("{readable}-{hash}")
}

/// Why a refresh failed or a cache cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TufError {
    /// A file of the cache could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TUF client refused the repository or could not reach it: a signature, version,
    /// expiry, length or hash check failed, or the network did.
    #[error("TUF refresh from {url} failed: {message}")]
    Refresh {
        /// The repository.
        url: String,
        /// What the TUF client said.
        message: String,
    },
    /// Another refresh of the same cache is running.
    #[error("{}: another `vouch trust update` is refreshing this cache", dir.display())]
    Busy {
        /// The cache.
        dir: PathBuf,
    },
    /// The cached metadata has expired: it can no longer show that it is current.
    #[error("TUF cache {}: the {role} metadata expired at {expired}", dir.display())]
    Expired {
        /// The cache.
        dir: PathBuf,
        /// The role whose metadata expired first.
        role: &'static str,
        /// When, RFC 3339.
        expired: String,
    },
    /// The cache holds another repository's material than the one asked for.
    #[error("TUF cache {}: holds {found}, expected {expected}", dir.display())]
    OtherRepository {
        /// The cache.
        dir: PathBuf,
        /// The repository and initial root asked for.
        expected: String,
        /// What the cache holds.
        found: String,
    },
    /// The cache does not verify, or is not what vouch writes.
    #[error("TUF cache {}: {message}", dir.display())]
    Invalid {
        /// The cache.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The verified trusted root cannot be used.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// The four top-level roles, one value each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles<T> {
    /// `root`.
    pub root: T,
    /// `timestamp`.
    pub timestamp: T,
    /// `snapshot`.
    pub snapshot: T,
    /// `targets`.
    pub targets: T,
}

impl Roles<jiff::Timestamp> {
    /// The role whose metadata expires first, and when: the material is usable until then.
    pub fn earliest(&self) -> (&'static str, jiff::Timestamp) {
        let mut earliest = ("root", self.root);
        for (role, at) in [
            ("timestamp", self.timestamp),
            ("snapshot", self.snapshot),
            ("targets", self.targets),
        ] {
            if at < earliest.1 {
                earliest = (role, at);
            }
        }
        earliest
    }
}

/// Verified trust material from a TUF repository, as the cache holds it.
#[derive(Debug, Clone)]
pub struct CachedMaterial {
    url: String,
    initial_root: String,
    cache_dir: PathBuf,
    refreshed: String,
    versions: Roles<u64>,
    expires: Roles<jiff::Timestamp>,
    trusted_root: Vec<u8>,
    signing_config: Vec<u8>,
}

impl CachedMaterial {
    /// The repository URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where trust started: `embedded:production`, `embedded:staging` or `file:PATH`.
    pub fn initial_root(&self) -> &str {
        &self.initial_root
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// When the material was last refreshed, RFC 3339.
    pub fn refreshed(&self) -> &str {
        &self.refreshed
    }

    /// Versions of the verified metadata.
    pub fn versions(&self) -> Roles<u64> {
        self.versions
    }

    /// Expiry of the verified metadata.
    pub fn expires(&self) -> Roles<jiff::Timestamp> {
        self.expires
    }

    /// `trusted_root.json`, byte for byte as the repository published it.
    pub fn trusted_root_json(&self) -> &[u8] {
        &self.trusted_root
    }

    /// `signing_config.v0.2.json`, byte for byte as the repository published it.
    pub fn signing_config_json(&self) -> &[u8] {
        &self.signing_config
    }

    /// SHA-256 of `trusted_root.json`, hex.
    pub fn trusted_root_sha256(&self) -> String {
        sha256_hex(&self.trusted_root)
    }

    /// SHA-256 of `signing_config.v0.2.json`, hex.
    pub fn signing_config_sha256(&self) -> String {
        sha256_hex(&self.signing_config)
    }

    /// The trusted root, with origin `tuf-cache:DIR`.
    pub fn trust_material(&self) -> Result<TrustMaterial, TrustError> {
        TrustMaterial::from_trusted_root_json(
            &self.trusted_root,
            &format!("tuf-cache:{}", self.cache_dir.display()),
        )
    }
}

/// What a refresh did.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The material now cached.
    pub material: CachedMaterial,
    /// The versions cached before, if the cache held any for this repository.
    pub previous: Option<Roles<u64>>,
}

/// Refreshes the trust material of `repo` into `cache_dir`, verifying at `now`: the TUF
/// update workflow from the cached (or initial) root, then both targets. The cache changes only
/// if everything verifies.
pub async fn refresh(
    repo: &Repository,
    cache_dir: &Path,
    now: jiff::Timestamp,
) -> Result<Refreshed, TufError> {
    create_dir_all(cache_dir)?;
    let _lock = lock(cache_dir)?;
    let previous_gen = live_generation(cache_dir)?;
    let previous = previous_gen.as_ref().and_then(|gen_dir| {
        // Earlier versions only count when they are this repository's.
        let record = read_record(gen_dir).ok()?;
        (record.url == repo.url).then(|| read_roles(gen_dir).ok().map(|(v, _)| v))?
    });

    let number = next_generation_number(cache_dir)?;
    let gen_name = format!("gen-{number}");
    let gen_dir = cache_dir.join(&gen_name);
    if gen_dir.exists() {
        remove_dir_all(&gen_dir)?;
    }
    create_dir_all(&gen_dir)?;
    let result = async {
        if let Some(from) = &previous_gen {
            // Same repository: start from its verified state, for an incremental refresh and
            // rollback protection. Another repository's files would only be refused.
            if read_record(from).is_ok_and(|r| r.url == repo.url) {
                copy_tree(from, &gen_dir)?;
            }
        }
        let _ = std::fs::remove_file(gen_dir.join(RECORD));
        let _ = std::fs::remove_file(gen_dir.join(INITIAL_ROOT));

        let config = TufConfig::custom(&repo.url, TufBootstrap::trusted(repo.initial.bytes()))
            .with_cache_dir(gen_dir.clone());
        let (root, signing) =
            fetch_trust_material_at(config, now)
                .await
                .map_err(|e| TufError::Refresh {
                    url: repo.url.clone(),
                    message: client_message(e),
                })?;
        let (trusted_root, signing_config) =
            verified_bytes(&gen_dir, &root, &signing).map_err(|message| TufError::Refresh {
                url: repo.url.clone(),
                message,
            })?;
        if let InitialRoot::File { bytes, .. } = &repo.initial {
            write_file(&gen_dir.join(INITIAL_ROOT), bytes)?;
        }
        let refreshed = format_time(now);
        let record = Record {
            url: repo.url.clone(),
            initial_root: repo.initial.label(),
            refreshed: refreshed.clone(),
        };
        write_file(&gen_dir.join(RECORD), &to_json(&record))?;
        let (versions, expires) = read_roles(&gen_dir).map_err(|message| TufError::Invalid {
            dir: gen_dir.clone(),
            message,
        })?;
        Ok(CachedMaterial {
            url: repo.url.clone(),
            initial_root: repo.initial.label(),
            cache_dir: cache_dir.to_path_buf(),
            refreshed,
            versions,
            expires,
            trusted_root,
            signing_config,
        })
    }
    .await;
    let material = match result {
        Ok(material) => material,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&gen_dir);
            return Err(e);
        }
    };

    // The switch: one rename. Until here readers see the previous generation.
    let pointer = cache_dir.join(CURRENT);
    write_file(&pointer, format!("{gen_name}\n").as_bytes())?;
    remove_old_generations(cache_dir, &gen_name, previous_gen.as_deref());
    Ok(Refreshed { material, previous })
}

/// Reads the cache at `cache_dir` with no network: `Ok(None)` when there is none, else the
/// material after TUF verification at `now` against the initial root. With `expect`, the cache
/// must hold that public-good instance's material, trusted from its embedded root.
pub async fn load_cached(
    cache_dir: &Path,
    expect: Option<Instance>,
    now: jiff::Timestamp,
) -> Result<Option<CachedMaterial>, TufError> {
    let Some(gen_dir) = live_generation(cache_dir)? else {
        return Ok(None);
    };
    let invalid = |message: String| TufError::Invalid {
        dir: cache_dir.to_path_buf(),
        message,
    };
    let record = read_record(&gen_dir).map_err(invalid)?;
    let initial = match (expect, embedded_instance(&record.initial_root)) {
        (Some(want), found) if found != Some(want) || record.url != instance_url(want) => {
            return Err(TufError::OtherRepository {
                dir: cache_dir.to_path_buf(),
                expected: format!("{} from {}", instance_url(want), embedded_label(want)),
                found: format!("{} from {}", record.url, record.initial_root),
            });
        }
        // The embedded root, whatever the cache holds beside it.
        (_, Some(instance)) => InitialRoot::Embedded(instance),
        (_, None) => {
            let path = gen_dir.join(INITIAL_ROOT);
            InitialRoot::File {
                bytes: read_file(&path, MAX_ROOT_BYTES)?,
                origin: path.display().to_string(),
            }
        }
    };

    // The expiry check TUF is about to make, done first for a message that says which role.
    let (_, expires) = read_roles(&gen_dir).map_err(invalid)?;
    let (role, at) = expires.earliest();
    if at < now {
        return Err(TufError::Expired {
            dir: cache_dir.to_path_buf(),
            role,
            expired: format_time(at),
        });
    }

    let config = TufConfig::custom(&record.url, TufBootstrap::trusted(initial.bytes()))
        .offline()
        .with_cache_dir(gen_dir.clone());
    let (root, signing) = fetch_trust_material_at(config, now)
        .await
        .map_err(|e| invalid(client_message(e)))?;
    let (trusted_root, signing_config) =
        verified_bytes(&gen_dir, &root, &signing).map_err(invalid)?;
    // Read again after verification: these are the versions and dates TUF just accepted.
    let (versions, expires) = read_roles(&gen_dir).map_err(invalid)?;
    Ok(Some(CachedMaterial {
        url: record.url,
        initial_root: record.initial_root,
        cache_dir: cache_dir.to_path_buf(),
        refreshed: record.refreshed,
        versions,
        expires,
        trusted_root,
        signing_config,
    }))
}

/// The TUF client's message, without the "TUF error: " its `Display` puts first.
fn client_message(e: sigstore_sign::trust_root::Error) -> String {
    match e {
        sigstore_sign::trust_root::Error::Tuf(message) => message,
        other => other.to_string(),
    }
}

/// What vouch records beside the TUF files of a generation.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    url: String,
    /// `embedded:production`, `embedded:staging` or `file:PATH`.
    initial_root: String,
    /// RFC 3339.
    refreshed: String,
}

/// The bytes of both targets from the cache, provided they are the documents the TUF client
/// verified. The client hands back parsed documents only; it wrote the verified bytes to
/// `targets/` just before, so reading them back and comparing what they parse to is what
/// makes them the verified bytes even if the directory changed in between.
fn verified_bytes(
    gen_dir: &Path,
    root: &TrustedRoot,
    signing: &SigningConfig,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let targets = gen_dir.join("targets");
    let read = |name: &str| {
        let path = targets.join(name);
        read_file(&path, crate::MAX_TRUST_BYTES).map_err(|e| e.to_string())
    };
    let root_bytes = read(TRUSTED_ROOT_TARGET)?;
    let signing_bytes = read(SIGNING_CONFIG_TARGET)?;
    let text = |bytes: &[u8], name: &str| {
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("{name}: {e}"))
    };
    let differs = |name: &str| format!("{name} in the cache is not the document TUF verified");
    let reparsed_root = TrustedRoot::from_json(&text(&root_bytes, TRUSTED_ROOT_TARGET)?)
        .map_err(|e| format!("{TRUSTED_ROOT_TARGET}: {e}"))?;
    if !same_document(&reparsed_root, root) {
        return Err(differs(TRUSTED_ROOT_TARGET));
    }
    let reparsed_signing = SigningConfig::from_json(&text(&signing_bytes, SIGNING_CONFIG_TARGET)?)
        .map_err(|e| format!("{SIGNING_CONFIG_TARGET}: {e}"))?;
    if !same_document(&reparsed_signing, signing) {
        return Err(differs(SIGNING_CONFIG_TARGET));
    }
    Ok((root_bytes, signing_bytes))
}

/// Whether two parsed documents hold the same values.
fn same_document<T: Serialize>(a: &T, b: &T) -> bool {
    matches!(
        (serde_json::to_value(a), serde_json::to_value(b)),
        (Ok(x), Ok(y)) if x == y
    )
}

/// Versions and expiry dates of the four top-level roles in a generation.
fn read_roles(gen_dir: &Path) -> Result<(Roles<u64>, Roles<jiff::Timestamp>), String> {
    let one = |file: &str| -> Result<(u64, jiff::Timestamp), String> {
        let path = gen_dir.join(file);
        let bytes = read_file(&path, crate::MAX_TRUST_BYTES).map_err(|e| e.to_string())?;
        let doc: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("{file}: {e}"))?;
        let version = doc
            .pointer("/signed/version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("{file}: no `signed.version`"))?;
        let expires = doc
            .pointer("/signed/expires")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .ok_or_else(|| format!("{file}: no RFC 3339 `signed.expires`"))?;
        Ok((version, expires))
    };
    let root = one("root.json")?;
    let timestamp = one("timestamp.json")?;
    let snapshot = one("snapshot.json")?;
    let targets = one("targets.json")?;
    Ok((
        Roles {
            root: root.0,
            timestamp: timestamp.0,
            snapshot: snapshot.0,
            targets: targets.0,
        },
        Roles {
            root: root.1,
            timestamp: timestamp.1,
            snapshot: snapshot.1,
            targets: targets.1,
        },
    ))
}

fn read_record(gen_dir: &Path) -> Result<Record, String> {
    let path = gen_dir.join(RECORD);
    let bytes = read_file(&path, 64 << 10).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The live generation's directory, or `None` when the cache has none.
fn live_generation(cache_dir: &Path) -> Result<Option<PathBuf>, TufError> {
    let pointer = cache_dir.join(CURRENT);
    let text = match std::fs::read_to_string(&pointer) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(TufError::Io {
                path: pointer,
                source,
            });
        }
    };
    let name = text.trim();
    if generation_number(name).is_none() {
        return Err(TufError::Invalid {
            dir: cache_dir.to_path_buf(),
            message: format!("`{CURRENT}` names `{name}`, not a generation `gen-N`"),
        });
    }
    let dir = cache_dir.join(name);
    Ok(dir.is_dir().then_some(dir))
}

fn generation_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("gen-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn next_generation_number(cache_dir: &Path) -> Result<u64, TufError> {
    let entries = std::fs::read_dir(cache_dir).map_err(|source| TufError::Io {
        path: cache_dir.to_path_buf(),
        source,
    })?;
    let highest = entries
        .flatten()
        .filter_map(|e| generation_number(&e.file_name().to_string_lossy()))
        .max()
        .unwrap_or(0);
    Ok(highest + 1)
}

/// Removes every generation but the new one and the one before it, which a reader that
/// resolved `current` a moment ago may still be reading. Best effort: a leftover directory is
/// only disk space, and the next refresh removes it.
fn remove_old_generations(cache_dir: &Path, keep: &str, previous: Option<&Path>) {
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if generation_number(&name).is_some() && name != keep && Some(path.as_path()) != previous {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Holds `CACHE/lock` so that two refreshes never interleave; released on drop.
fn lock(cache_dir: &Path) -> Result<std::fs::File, TufError> {
    let path = cache_dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| TufError::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(TufError::Busy {
            dir: cache_dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(TufError::Io { path, source }),
    }
}

/// Copies regular files and directories (the TUF cache holds nothing else).
fn copy_tree(from: &Path, to: &Path) -> Result<(), TufError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TufError::Io { path, source }
    };
    create_dir_all(to)?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let kind = entry.file_type().map_err(io(&entry.path()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).map_err(io(&entry.path()))?;
        }
    }
    Ok(())
}

fn read_file(path: &Path, limit: usize) -> Result<Vec<u8>, TufError> {
    use std::io::Read as _;
    let io = |source| TufError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        return Err(TufError::Invalid {
            dir: path.to_path_buf(),
            message: format!("larger than the {limit}-byte limit"),
        });
    }
    Ok(bytes)
}

/// Writes through a temporary file and a rename, so that a reader sees the old file or the
/// new one, never a part.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TufError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|source| TufError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn create_dir_all(dir: &Path) -> Result<(), TufError> {
    std::fs::create_dir_all(dir).map_err(|source| TufError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn remove_dir_all(dir: &Path) -> Result<(), TufError> {
    std::fs::remove_dir_all(dir).map_err(|source| TufError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn to_json(record: &Record) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(record).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, bytes)
        .map(|d| d.hex().to_owned())
        .unwrap_or_default()
}

fn sigstore_instance(instance: Instance) -> SigstoreInstance {
    match instance {
        Instance::Production => SigstoreInstance::PublicGood,
        Instance::Staging => SigstoreInstance::Staging,
    }
}

fn embedded_label(instance: Instance) -> &'static str {
    match instance {
        Instance::Production => "embedded:production",
        Instance::Staging => "embedded:staging",
    }
}

fn embedded_instance(label: &str) -> Option<Instance> {
    match label {
        "embedded:production" => Some(Instance::Production),
        "embedded:staging" => Some(Instance::Staging),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cache_dir_names_are_readable_and_distinct() {
        let prod = cache_dir_name("https://tuf-repo-cdn.sigstore.dev/");
        assert!(prod.starts_with("tuf-repo-cdn.sigstore.dev-"), "{prod}");
        assert_eq!(prod, cache_dir_name("https://tuf-repo-cdn.sigstore.dev"));
        assert_ne!(
            cache_dir_name("http://127.0.0.1:1/tuf"),
            cache_dir_name("http://127.0.0.1:2/tuf")
        );
        assert_ne!(
            cache_dir_name("http://example.com/tuf"),
            cache_dir_name("https://example.com/tuf")
        );
        assert!(!cache_dir_name("http://127.0.0.1:1/a/../b").contains('/'));
    }

    #[test]
    fn generation_names() {
        assert_eq!(generation_number("gen-12"), Some(12));
        for bad in ["gen-", "gen-1a", "gen--1", "../gen-1", "gen-1/..", "x"] {
            assert_eq!(generation_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn earliest_expiry_names_its_role() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let roles = Roles {
            root: t("2030-01-01T00:00:00Z"),
            timestamp: t("2029-01-01T00:00:00Z"),
            snapshot: t("2029-06-01T00:00:00Z"),
            targets: t("2028-01-01T00:00:00Z"),
        };
        assert_eq!(roles.earliest(), ("targets", t("2028-01-01T00:00:00Z")));
    }
}

//! Settings resolved once, before any work: flags, then environment, then defaults.

use anyhow::{Context as _, bail};

use crate::env;

/// The creation time for documents: `SOURCE_DATE_EPOCH` when set, else the clock.
pub fn created_time() -> anyhow::Result<i64> {
    match std::env::var(env::SOURCE_DATE_EPOCH) {
        Ok(v) if !v.trim().is_empty() => {
            let secs: i64 = v.trim().parse().with_context(|| {
                format!(
                    "`{}` is not a number of seconds: `{v}`",
                    env::SOURCE_DATE_EPOCH
                )
            })?;
            if !(0..=253_402_300_799).contains(&secs) {
                bail!("`{}` is out of range: `{v}`", env::SOURCE_DATE_EPOCH);
            }
            Ok(secs)
        }
        _ => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)),
    }
}

/// The trust material: `--trusted-root`, `--trust-config`, else the TUF cache of the chosen
/// instance (`--staging` or production) while it verifies and has not expired, else that
/// instance's embedded root. Never the network.
pub fn trust_material(
    args: &crate::cli::TrustSourceArgs,
) -> anyhow::Result<vouch_sigstore::TrustMaterial> {
    Ok(trust_choice(args)?.material)
}

/// The trusted root chosen, and the TUF cache it came from, if it did.
pub struct TrustChoice {
    /// The trusted root.
    pub material: vouch_sigstore::TrustMaterial,
    /// The cache entry, when the root came from `vouch trust update`'s cache.
    pub cache: Option<vouch_sigstore::tuf::CachedMaterial>,
}

/// [`trust_material`], with the cache entry. A cache that exists but cannot be used (expired,
/// tampered, another repository's) is passed over with a warning on stderr naming the reason.
pub fn trust_choice(args: &crate::cli::TrustSourceArgs) -> anyhow::Result<TrustChoice> {
    use vouch_sigstore::{Instance, TrustMaterial};
    let file = |material| TrustChoice {
        material,
        cache: None,
    };
    if let Some(path) = &args.trusted_root {
        let bytes = read_limited(path, vouch_sigstore::MAX_TRUST_BYTES)?;
        return Ok(file(TrustMaterial::from_trusted_root_json(
            &bytes,
            &path.display().to_string(),
        )?));
    }
    if let Some(path) = &args.trust_config {
        let bytes = read_limited(path, vouch_sigstore::MAX_TRUST_BYTES)?;
        return Ok(file(TrustMaterial::from_trust_config_json(
            &bytes,
            &path.display().to_string(),
        )?));
    }
    let instance = if args.staging {
        Instance::Staging
    } else {
        Instance::Production
    };
    // `VOUCH_TUF_CACHE` names one repository's cache, whichever it is; the default directory
    // is the instance's, and must hold that instance's material, trusted from its embedded
    // root.
    let (cache_dir, expect) = match env_path(env::VOUCH_TUF_CACHE) {
        Some(dir) => (Some(dir), None),
        None => (
            default_tuf_cache(vouch_sigstore::tuf::instance_url(instance)),
            Some(instance),
        ),
    };
    if let Some(dir) = cache_dir {
        match load_tuf_cache(&dir, expect) {
            Ok(Some(cached)) => {
                return Ok(TrustChoice {
                    material: cached.trust_material()?,
                    cache: Some(cached),
                });
            }
            Ok(None) => {}
            Err(e) => {
                let embedded = match instance {
                    Instance::Production => "embedded:production",
                    Instance::Staging => "embedded:staging",
                };
                eprintln!(
                    "warning: not using the TUF cache: {e:#}; using {embedded} (refresh with \
                     `vouch trust update`)"
                );
            }
        }
    }
    Ok(file(TrustMaterial::embedded(instance)?))
}

/// What `vouch trust update` works with.
pub struct TufUpdate {
    /// The repository and the root trust starts from.
    pub repository: vouch_sigstore::tuf::Repository,
    /// The cache directory.
    pub cache_dir: std::path::PathBuf,
}

/// Resolves `vouch trust update`'s flags: the repository (`--tuf-url`, `--staging`, else
/// production), its initial root (`--root`, else the embedded root of a public-good
/// repository) and the cache directory (`--cache-dir` / `VOUCH_TUF_CACHE`, else the default).
pub fn tuf_update(args: &crate::cli::TrustUpdateArgs) -> anyhow::Result<TufUpdate> {
    use vouch_sigstore::Instance;
    use vouch_sigstore::tuf::{self, InitialRoot, Repository};
    let url = match (&args.tuf_url, args.staging) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, true) => tuf::instance_url(Instance::Staging).to_owned(),
        (None, false) => tuf::instance_url(Instance::Production).to_owned(),
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("`--tuf-url` must be an http:// or https:// URL, found `{url}`");
    }
    let repository = match (&args.root, tuf::instance_for_url(&url)) {
        (Some(path), _) => Repository::new(
            &url,
            InitialRoot::File {
                bytes: read_limited(path, tuf::MAX_ROOT_BYTES)?,
                origin: path.display().to_string(),
            },
        ),
        (None, Some(instance)) => Repository::public_good(instance),
        (None, None) => {
            return Err(crate::output::error_with_hint(
                format!("no initial root for the TUF repository `{url}`"),
                "pass `--root FILE`, the repository's `root.json` that you trust (for \
                 `vouch devstack`: `STATE/tuf_root.json`)",
            ));
        }
    };
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => default_tuf_cache(&url).ok_or_else(|| {
            crate::output::error_with_hint(
                "no cache directory: neither `XDG_CACHE_HOME` nor `HOME` is set",
                "pass `--cache-dir DIR`",
            )
        })?,
    };
    Ok(TufUpdate {
        repository,
        cache_dir,
    })
}

/// `$XDG_CACHE_HOME/vouch/tuf/<repository>`, else `~/.cache/vouch/tuf/<repository>`.
fn default_tuf_cache(url: &str) -> Option<std::path::PathBuf> {
    let base = env_path(env::XDG_CACHE_HOME)
        // The XDG specification says to ignore a relative path.
        .filter(|p| p.is_absolute())
        .or_else(|| env_path(env::HOME).map(|home| home.join(".cache")))?;
    Some(
        base.join("vouch")
            .join("tuf")
            .join(vouch_sigstore::tuf::cache_dir_name(url)),
    )
}

/// Reads the TUF cache on a thread of its own, with a runtime of its own: the TUF client is
/// async, and this may be called from inside another runtime. The offline path opens no
/// connection.
fn load_tuf_cache(
    dir: &std::path::Path,
    expect: Option<vouch_sigstore::Instance>,
) -> anyhow::Result<Option<vouch_sigstore::tuf::CachedMaterial>> {
    let now = jiff::Timestamp::now();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                Ok(runtime.block_on(vouch_sigstore::tuf::load_cached(dir, expect, now))?)
            })
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the TUF cache panicked")))
    })
}

fn env_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

pub(crate) fn read_limited(path: &std::path::Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let meta = fs_err::metadata(path)?;
    if meta.len() > limit as u64 {
        bail!(
            "`{}` is {} bytes, more than the {limit}-byte limit for trust material",
            path.display(),
            meta.len(),
        );
    }
    Ok(fs_err::read(path)?)
}

//! The scan: resolve the image and platform(s), read each layer once in order (or take its
//! record from the cache), squash, and build the inventory.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vouch_inventory::{Ecosystem, Inventory, Kind, Package, PackageId, PackageUrl};
use vouch_oci::model::{
    AnyManifest, Compression, Descriptor, ImageConfig, MAX_MANIFEST_BYTES, Manifest, ManifestError,
    Platform, media_type,
};

use crate::cache::Cache;
use crate::catalog::{self, Cataloger, FileInfo, OsRelease};
use crate::layer::{self, LayerError, LayerRecord, LayerSpec, Limits, Verify};
use crate::os;
use crate::path::{Normalised, normalise};
use crate::source::{ImageSource, SourceError, SourceInfo};
use crate::squash::{Squash, Squashed};

/// Property on the root component: the platform scanned (`linux/amd64`).
pub const PROP_PLATFORM: &str = "vouch:platform";
/// Property on the root component: the image configuration's digest.
pub const PROP_CONFIG_DIGEST: &str = "vouch:config-digest";
/// Property on the root component: the tag the image was found under.
pub const PROP_TAG: &str = "vouch:tag";

/// How deep indexes may nest (an index of indexes of manifests is depth 2).
const MAX_INDEX_DEPTH: usize = 3;

/// What to scan.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    /// An image, read blob by blob.
    Image(&'a dyn ImageSource),
    /// An unpacked root filesystem.
    RootFs {
        /// The directory.
        path: &'a Path,
        /// The name for the root component.
        name: &'a str,
    },
}

/// Which platform(s) of a multi-platform image to scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PlatformChoice {
    /// The platform vouch runs on; an image index with a single image of unstated platform is
    /// read whatever it is.
    #[default]
    Host,
    /// This platform.
    Only(Platform),
    /// Every image of the index (attestation manifests excluded).
    All,
}

/// What to do with a layer whose media type names no tar format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownLayerPolicy {
    /// Fail: the SBOM would miss whatever the layer holds. The default, because an SBOM that
    /// silently omits a layer is worse than none.
    #[default]
    Error,
    /// Skip the layer with a warning (images carrying non-filesystem blobs as layers).
    Skip,
}

/// A progress report.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A layer is about to be read.
    LayerStarted {
        /// Its position, from 0.
        index: usize,
        /// How many layers the image has.
        count: usize,
        /// Its digest.
        digest: &'a str,
        /// Its stored size.
        size: u64,
    },
    /// Stored bytes of a layer read so far.
    LayerBytes {
        /// The layer.
        digest: &'a str,
        /// Bytes read so far.
        read: u64,
        /// Its stored size.
        size: u64,
    },
    /// A layer's findings came from the cache; it is not read.
    LayerCached {
        /// Its position, from 0.
        index: usize,
        /// How many layers the image has.
        count: usize,
        /// Its digest.
        digest: &'a str,
    },
    /// A layer has been read.
    LayerFinished {
        /// Its digest.
        digest: &'a str,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// How to scan.
pub struct ScanOptions {
    /// Which platform(s).
    pub platform: PlatformChoice,
    /// Limits per layer.
    pub limits: Limits,
    /// Where findings are cached per layer digest; no cache when `None`.
    pub cache_dir: Option<PathBuf>,
    /// Called as layers are read.
    pub progress: Option<ProgressFn>,
    /// Layers of unknown media type.
    pub unknown_layers: UnknownLayerPolicy,
    /// The catalogers to run ([`catalog::all`] by default).
    pub catalogers: Vec<Box<dyn Cataloger>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            platform: PlatformChoice::default(),
            limits: Limits::default(),
            cache_dir: None,
            progress: None,
            unknown_layers: UnknownLayerPolicy::default(),
            catalogers: catalog::all(),
        }
    }
}

/// One scanned image (one platform).
#[derive(Debug, Clone)]
pub struct ScannedImage {
    /// The reference as given.
    pub reference: String,
    /// The image manifest's digest; `None` for sources without one (`docker save` archives,
    /// root filesystems).
    pub manifest_digest: Option<String>,
    /// The platform, from the index or else the configuration.
    pub platform: Option<Platform>,
    /// The configuration's digest (the image ID).
    pub config_digest: Option<String>,
    /// The configuration.
    pub config: Option<ImageConfig>,
    /// The layers, base first.
    pub layers: Vec<LayerSummary>,
    /// The OS, from `os-release`.
    pub os: Option<OsRelease>,
    /// The packages: the image is the root (a container component), the OS component and
    /// every package not installed by the OS package manager depend on it, OS packages depend
    /// on the OS component.
    pub inventory: Inventory,
    /// The root component's identity.
    pub root: PackageId,
    /// Entries skipped, files catalogers could not read, cache trouble.
    pub warnings: Vec<Warning>,
}

/// A layer of a scanned image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSummary {
    /// Its digest.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its stored size.
    pub size: u64,
    /// Whether its findings came from the cache.
    pub cached: bool,
    /// Whether it was skipped (unknown media type under [`UnknownLayerPolicy::Skip`]).
    pub skipped: bool,
}

/// Something worth telling the user that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The layer it concerns, when one.
    pub layer: Option<String>,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.layer {
            Some(layer) => write!(f, "layer `{layer}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A scan that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A layer was not read because another failed first (the other's error is the one
    /// reported; this one is not expected to reach a caller).
    #[error("layer `{digest}` was not read: another layer failed first")]
    NotRead {
        /// The layer.
        digest: String,
    },
    /// A manifest or index is malformed.
    #[error("manifest `{digest}` cannot be read")]
    Manifest {
        /// The manifest (`root` for one without a digest).
        digest: String,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// A manifest, index or config does not hash to the digest that names it.
    #[error("{what} does not match its digest: expected `{expected}`, found `{found}`")]
    DigestMismatch {
        /// What was read (`manifest`, `config`).
        what: &'static str,
        /// The digest it is named by.
        expected: String,
        /// The digest of the bytes read.
        found: String,
    },
    /// A digest vouch cannot verify (malformed, or a weak algorithm).
    #[error("{what} digest `{digest}` is not a digest vouch can verify")]
    InvalidDigest {
        /// What it names.
        what: &'static str,
        /// The digest.
        digest: String,
    },
    /// An index lists an index where an image manifest was expected, or nests too deep.
    #[error(
        "`{digest}` is an image index nested deeper than {MAX_INDEX_DEPTH} levels or where an image was expected"
    )]
    UnexpectedIndex {
        /// The index.
        digest: String,
    },
    /// No image of the index is for the platform asked for.
    #[error("the image has no `{requested}` variant; platforms present: {}; choose one with --platform", available.join(", "))]
    NoMatchingPlatform {
        /// The platform asked for.
        requested: String,
        /// The platforms the index lists.
        available: Vec<String>,
    },
    /// The image configuration is malformed.
    #[error("image config `{digest}` is not valid")]
    Config {
        /// The config's digest.
        digest: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A blob could not be opened.
    #[error("cannot open blob `{digest}`")]
    Blob {
        /// The blob.
        digest: String,
        /// Why.
        #[source]
        source: SourceError,
    },
    /// A layer could not be read.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// A root filesystem could not be walked.
    #[error("cannot read `{}`", path.display())]
    Walk {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A root filesystem holds more entries than [`Limits::max_entries`].
    #[error("`{}` holds more than {limit} entries", path.display())]
    TooManyFiles {
        /// The root.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
}

/// Scans an image (every platform chosen) or a root filesystem.
pub fn scan(target: Target<'_>, options: &ScanOptions) -> Result<Vec<ScannedImage>, ScanError> {
    match target {
        Target::Image(source) => {
            let selected = resolve(source, &options.platform)?;
            selected
                .into_iter()
                .map(|s| scan_image(source, s, options))
                .collect()
        }
        Target::RootFs { path, name } => scan_rootfs(path, name, options).map(|i| vec![i]),
    }
}

/// An image manifest chosen for scanning.
struct Selected {
    digest: Option<String>,
    manifest: Manifest,
    platform: Option<Platform>,
}

fn resolve(source: &dyn ImageSource, choice: &PlatformChoice) -> Result<Vec<Selected>, ScanError> {
    let root = source.root()?;
    if let Some(d) = &root.digest {
        check_digest("manifest", d, &root.bytes)?;
    }
    let label = root.digest.clone().unwrap_or_else(|| "root".to_owned());
    let index = match parse_manifest(&label, &root.bytes, root.media_type.as_deref())? {
        AnyManifest::Manifest(manifest) => {
            return Ok(vec![Selected {
                digest: root.digest,
                manifest,
                platform: None,
            }]);
        }
        AnyManifest::Index(index) => index,
    };
    let mut candidates = Vec::new();
    collect_candidates(source, &index.manifests, 1, &mut candidates)?;
    let available: Vec<String> = candidates
        .iter()
        .map(|d| {
            d.platform
                .as_ref()
                .map_or_else(|| "unspecified".to_owned(), ToString::to_string)
        })
        .collect();
    let requested = match choice {
        PlatformChoice::All => None,
        PlatformChoice::Only(p) => Some(p.clone()),
        PlatformChoice::Host => Some(Platform::host()),
    };
    let chosen: Vec<Descriptor> = match &requested {
        None => candidates,
        Some(requested) => {
            let found = candidates
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|c| requested.matches(c)))
                .cloned();
            match (found, candidates.as_slice()) {
                (Some(d), _) => vec![d],
                // A single image of unstated platform: nothing else could be meant.
                (None, [only]) if *choice == PlatformChoice::Host && only.platform.is_none() => {
                    vec![only.clone()]
                }
                _ => Vec::new(),
            }
        }
    };
    if chosen.is_empty() {
        return Err(ScanError::NoMatchingPlatform {
            requested: requested.map_or_else(|| "any".to_owned(), |p| p.to_string()),
            available,
        });
    }
    let mut out = Vec::new();
    for desc in chosen {
        let bytes = read_blob(source, &desc, MAX_MANIFEST_BYTES as u64, "manifest")?;
        match parse_manifest(&desc.digest, &bytes, Some(&desc.media_type))? {
            AnyManifest::Manifest(manifest) => out.push(Selected {
                digest: Some(desc.digest.clone()),
                manifest,
                platform: desc.platform.clone(),
            }),
            AnyManifest::Index(_) => {
                return Err(ScanError::UnexpectedIndex {
                    digest: desc.digest.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// The image manifests an index lists (through nested indexes), without attestation
/// manifests (platform `unknown/unknown`).
fn collect_candidates(
    source: &dyn ImageSource,
    manifests: &[Descriptor],
    depth: usize,
    out: &mut Vec<Descriptor>,
) -> Result<(), ScanError> {
    for desc in manifests {
        if matches!(
            desc.media_type.as_str(),
            media_type::OCI_INDEX | media_type::DOCKER_MANIFEST_LIST
        ) {
            if depth >= MAX_INDEX_DEPTH {
                return Err(ScanError::UnexpectedIndex {
                    digest: desc.digest.clone(),
                });
            }
            let bytes = read_blob(source, desc, MAX_MANIFEST_BYTES as u64, "manifest")?;
            match parse_manifest(&desc.digest, &bytes, Some(&desc.media_type))? {
                AnyManifest::Index(index) => {
                    collect_candidates(source, &index.manifests, depth + 1, out)?;
                }
                AnyManifest::Manifest(_) => out.push(desc.clone()),
            }
            continue;
        }
        if desc.platform.as_ref().is_some_and(|p| p.os == "unknown") {
            continue;
        }
        if !out.iter().any(|d| d.digest == desc.digest) {
            out.push(desc.clone());
        }
    }
    Ok(())
}

fn parse_manifest(
    digest: &str,
    bytes: &[u8],
    media_type: Option<&str>,
) -> Result<AnyManifest, ScanError> {
    AnyManifest::parse(bytes, media_type).map_err(|source| ScanError::Manifest {
        digest: digest.to_owned(),
        source,
    })
}

/// Reads a small blob whole, bounded, and checks its digest.
fn read_blob(
    source: &dyn ImageSource,
    desc: &Descriptor,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, ScanError> {
    let blob_error = |source| ScanError::Blob {
        digest: desc.digest.clone(),
        source,
    };
    let reader = if what == "manifest" {
        source.open_manifest(desc)
    } else {
        source.open_blob(desc)
    }
    .map_err(blob_error)?;
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| {
            blob_error(SourceError::Io {
                path: PathBuf::from(&desc.digest),
                source: e,
            })
        })?;
    if bytes.len() as u64 > limit {
        return Err(blob_error(SourceError::TooLarge {
            file: desc.digest.clone(),
            size: bytes.len() as u64,
            limit,
        }));
    }
    check_digest(what, &desc.digest, &bytes)?;
    Ok(bytes)
}

fn check_digest(what: &'static str, digest: &str, bytes: &[u8]) -> Result<(), ScanError> {
    let invalid = || ScanError::InvalidDigest {
        what,
        digest: digest.to_owned(),
    };
    let expected = vouch_digest::Digest::from_prefixed(digest)
        .ok()
        .filter(|d| d.algorithm().is_strong())
        .ok_or_else(invalid)?;
    let found = vouch_digest::hash_bytes(expected.algorithm(), bytes).ok_or_else(invalid)?;
    if found != expected {
        return Err(ScanError::DigestMismatch {
            what,
            expected: expected.to_string(),
            found: found.to_string(),
        });
    }
    Ok(())
}

/// Names the catalogers (and this crate's version), so a cache written by another set is not
/// reused.
fn cataloger_fingerprint(catalogers: &[Box<dyn Cataloger>]) -> String {
    let names: Vec<&str> = catalogers.iter().map(|c| c.name()).collect();
    format!("{}:{}", env!("CARGO_PKG_VERSION"), names.join(","))
}

fn scan_image(
    source: &dyn ImageSource,
    selected: Selected,
    options: &ScanOptions,
) -> Result<ScannedImage, ScanError> {
    let info = source.info();
    let manifest = &selected.manifest;
    let mut warnings = Vec::new();
    let config_bytes = read_blob(
        source,
        &manifest.config,
        MAX_MANIFEST_BYTES as u64,
        "image config",
    )?;
    let config: ImageConfig =
        serde_json::from_slice(&config_bytes).map_err(|source| ScanError::Config {
            digest: manifest.config.digest.clone(),
            source,
        })?;
    let platform = selected
        .platform
        .clone()
        .or_else(|| Some(config.platform()).filter(|p| !p.os.is_empty()));
    // A single-platform image is what it is; say so when it is not what was asked for.
    if let (PlatformChoice::Only(requested), Some(actual)) = (&options.platform, &platform)
        && !requested.matches(actual)
    {
        warnings.push(Warning {
            layer: None,
            message: format!(
                "the image is for `{actual}`, not the requested `{requested}`; it has no other \
                 platforms"
            ),
        });
    }

    let fingerprint = cataloger_fingerprint(&options.catalogers);
    let cache = options.cache_dir.as_deref().map(|dir| Cache {
        dir,
        catalogers: fingerprint.clone(),
    });
    let progress = options.progress.as_deref();
    let count = manifest.layers.len();
    // First, in order: what each layer needs (skipped, from the cache, or read).
    let mut slots: Vec<(LayerSummary, Slot)> = Vec::with_capacity(count);
    for (index, desc) in manifest.layers.iter().enumerate() {
        let digest = desc.digest.as_str();
        let mut summary = LayerSummary {
            digest: desc.digest.clone(),
            media_type: desc.media_type.clone(),
            size: desc.size,
            cached: false,
            skipped: false,
        };
        let compression = if source.sniff_compression() {
            None
        } else {
            match Compression::of_layer(&desc.media_type) {
                Some(c) => Some(c),
                None => match options.unknown_layers {
                    UnknownLayerPolicy::Error => {
                        return Err(LayerError::UnknownMediaType {
                            layer: desc.digest.clone(),
                            media_type: desc.media_type.clone(),
                        }
                        .into());
                    }
                    UnknownLayerPolicy::Skip => {
                        warnings.push(Warning {
                            layer: Some(desc.digest.clone()),
                            message: format!(
                                "skipped: media type `{}` is not a tar layer",
                                desc.media_type
                            ),
                        });
                        summary.skipped = true;
                        slots.push((summary, Slot::Skipped));
                        continue;
                    }
                },
            }
        };
        if let Some(cache) = &cache {
            match cache.load(digest) {
                Ok(Some(record)) => {
                    if let Some(p) = progress {
                        p(&Progress::LayerCached {
                            index,
                            count,
                            digest,
                        });
                    }
                    summary.cached = true;
                    slots.push((summary, Slot::Cached(Box::new(record))));
                    continue;
                }
                Ok(None) => {}
                Err(message) => warnings.push(Warning {
                    layer: Some(desc.digest.clone()),
                    message: format!("cache not used: {message}"),
                }),
            }
        }
        slots.push((summary, Slot::Read { index, compression }));
    }

    // Then the layers to read, several at once: each is independent of the others until
    // they are squashed, and each read keeps a core busy inflating while another hashes.
    let reads: Vec<(usize, Option<Compression>)> = slots
        .iter()
        .filter_map(|(_, slot)| match slot {
            Slot::Read { index, compression } => Some((*index, *compression)),
            _ => None,
        })
        .collect();
    let mut records = read_layers(source, &manifest.layers, &reads, options, count);

    // Last, in order again: squash, cache, warnings.
    let mut squash = Squash::default();
    let mut layers = Vec::with_capacity(count);
    for (summary, slot) in slots {
        match slot {
            Slot::Skipped => {}
            Slot::Cached(record) => {
                push_layer_warnings(&mut warnings, &record);
                squash.apply(*record);
            }
            Slot::Read { index, .. } => {
                let record = records.remove(&index).unwrap_or_else(|| {
                    Err(ScanError::NotRead {
                        digest: summary.digest.clone(),
                    })
                })?;
                if let Some(cache) = &cache
                    && let Err(message) = cache.store(&record)
                {
                    warnings.push(Warning {
                        layer: Some(summary.digest.clone()),
                        message: format!("cache not written: {message}"),
                    });
                }
                push_layer_warnings(&mut warnings, &record);
                squash.apply(record);
            }
        }
        layers.push(summary);
    }

    let squashed = squash.finish();
    let identity = Identity {
        info,
        manifest_digest: selected.digest.as_deref(),
        config_digest: Some(manifest.config.digest.as_str()),
        platform: platform.as_ref(),
    };
    let (inventory, root, os, more) = build_inventory(&identity, squashed);
    warnings.extend(more.into_iter().map(|message| Warning {
        layer: None,
        message,
    }));
    Ok(ScannedImage {
        reference: info.display.clone(),
        manifest_digest: selected.digest,
        platform,
        config_digest: Some(manifest.config.digest.clone()),
        config: Some(config),
        layers,
        os,
        inventory,
        root,
        warnings,
    })
}

/// What one layer of an image needs.
enum Slot {
    /// Not a tar layer, skipped by the caller's choice.
    Skipped,
    /// Its findings, from the cache.
    Cached(Box<LayerRecord>),
    /// To be read: its index among the manifest's layers, and its compression (`None`:
    /// sniffed from the bytes).
    Read {
        index: usize,
        compression: Option<Compression>,
    },
}

/// Layers read at once. Each read already runs on two threads (hashing the stored bytes,
/// inflating and walking the tar), and each holds its own buffers: two keep two cores busy
/// and peak memory within twice one layer's.
const CONCURRENT_LAYERS: usize = 2;

/// Reads the layers `reads` names (index, compression), up to [`CONCURRENT_LAYERS`] at once;
/// after the first failure no further layer is started. Results by layer index; a layer not
/// started is absent.
fn read_layers(
    source: &dyn ImageSource,
    descs: &[Descriptor],
    reads: &[(usize, Option<Compression>)],
    options: &ScanOptions,
    count: usize,
) -> std::collections::HashMap<usize, Result<LayerRecord, ScanError>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results = Mutex::new(std::collections::HashMap::new());
    let workers = reads.len().clamp(1, CONCURRENT_LAYERS);
    let work = || {
        loop {
            if failed.load(Ordering::Relaxed) {
                break;
            }
            let Some(&(index, compression)) = reads.get(next.fetch_add(1, Ordering::Relaxed))
            else {
                break;
            };
            let Some(desc) = descs.get(index) else {
                break;
            };
            let result = read_one(source, desc, index, count, compression, options);
            if result.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(index, result);
        }
    };
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(work);
            }
        });
    }
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads and checks one layer.
fn read_one(
    source: &dyn ImageSource,
    desc: &Descriptor,
    index: usize,
    count: usize,
    compression: Option<Compression>,
    options: &ScanOptions,
) -> Result<LayerRecord, ScanError> {
    let progress = options.progress.as_deref();
    let digest = desc.digest.as_str();
    if let Some(p) = progress {
        p(&Progress::LayerStarted {
            index,
            count,
            digest,
            size: desc.size,
        });
    }
    let mut reader = source.open_blob(desc).map_err(|source| ScanError::Blob {
        digest: desc.digest.clone(),
        source,
    })?;
    let spec = LayerSpec {
        digest,
        size: Some(desc.size),
        compression,
        verify: if source.digest_is_diff_id(desc) {
            Verify::Uncompressed
        } else {
            Verify::Stored
        },
    };
    let report = |read: u64| {
        if let Some(p) = progress {
            p(&Progress::LayerBytes {
                digest,
                read,
                size: desc.size,
            });
        }
    };
    let record = layer::read_layer(
        &mut reader,
        &spec,
        &options.limits,
        &options.catalogers,
        Some(&report),
    )?;
    if let Some(p) = progress {
        p(&Progress::LayerFinished { digest });
    }
    Ok(record)
}

fn push_layer_warnings(warnings: &mut Vec<Warning>, record: &LayerRecord) {
    warnings.extend(record.warnings.iter().map(|w| Warning {
        layer: Some(record.digest.clone()),
        message: w.clone(),
    }));
}

/// What names the root component.
struct Identity<'a> {
    info: &'a SourceInfo,
    manifest_digest: Option<&'a str>,
    config_digest: Option<&'a str>,
    platform: Option<&'a Platform>,
}

/// The root component's purl: `pkg:oci/NAME@DIGEST?repository_url=REPO`.
fn oci_purl(name: &str, digest: &str, repository: Option<&str>) -> Option<PackageUrl> {
    let mut purl = PackageUrl::new("oci", name)
        .ok()?
        .with_version(digest)
        .ok()?;
    if let Some(repo) = repository {
        purl = purl.with_qualifier("repository_url", repo).ok()?;
    }
    Some(purl)
}

fn build_inventory(
    identity: &Identity<'_>,
    squashed: Squashed,
) -> (Inventory, PackageId, Option<OsRelease>, Vec<String>) {
    let mut warnings = squashed.warnings;
    let mut inventory = Inventory::new();
    let info = identity.info;
    let mut root = Package::new(Ecosystem::Oci, info.name.clone());
    root.kind = Kind::Container;
    root.version = identity
        .manifest_digest
        .or(identity.config_digest)
        .map(str::to_owned);
    root.purl = identity
        .manifest_digest
        .and_then(|d| oci_purl(&info.name, d, info.repository.as_deref()));
    let facts = [
        (PROP_PLATFORM, identity.platform.map(ToString::to_string)),
        (
            PROP_CONFIG_DIGEST,
            identity.config_digest.map(str::to_owned),
        ),
        (PROP_TAG, info.tag.clone()),
    ];
    for (key, value) in facts {
        if let Some(value) = value {
            root.properties.insert(key.to_owned(), value);
        }
    }
    let root_id = inventory.add_root(root);

    let os = squashed.os;
    let os_id = os.as_ref().map(|o| {
        let id = inventory.add(os::os_component(o));
        inventory.depend(&root_id, &id);
        id
    });
    let mut warned = false;
    // A package that another package of its file depends on (a lockfile's dependency) hangs
    // from that package; every other package hangs from the image or its operating system.
    let mut depended_on = vec![false; squashed.packages.len()];
    for &(_, to) in &squashed.edges {
        if let Some(d) = depended_on.get_mut(to) {
            *d = true;
        }
    }
    let mut ids = Vec::with_capacity(squashed.packages.len());
    for (mut p, depended_on) in squashed.packages.into_iter().zip(depended_on) {
        let is_os = os::is_os_package(&p);
        if is_os && p.purl.is_none() {
            p.purl = os::os_package_purl(&p, os.as_ref());
            if os.is_none() && !warned {
                warned = true;
                warnings.push(
                    "no `os-release` file: OS package purls carry no `distro` qualifier".to_owned(),
                );
            }
        }
        let id = inventory.add(p);
        match (&os_id, is_os) {
            (Some(os_id), true) => inventory.depend(os_id, &id),
            _ if depended_on => {}
            _ => inventory.depend(&root_id, &id),
        }
        ids.push(id);
    }
    for (from, to) in squashed.edges {
        if let (Some(from), Some(to)) = (ids.get(from), ids.get(to)) {
            inventory.depend(from, to);
        }
    }
    // A lockfile whose every package is some other's dependency (a cycle through its project)
    // would leave them out of the image's graph: whatever the image does not reach hangs from it.
    let reached = inventory.reachable(&root_id);
    let unreached: Vec<PackageId> = ids
        .into_iter()
        .filter(|id| *id != root_id && !reached.contains(id))
        .collect();
    for id in unreached {
        inventory.depend(&root_id, &id);
    }
    (inventory, root_id, os, warnings)
}

fn scan_rootfs(root: &Path, name: &str, options: &ScanOptions) -> Result<ScannedImage, ScanError> {
    let mut record = LayerRecord::new(String::new());
    let mut warnings = Vec::new();
    let mut entries = 0u64;
    let walk_error = |e: walkdir::Error| ScanError::Walk {
        path: e.path().unwrap_or(root).to_path_buf(),
        source: e.into(),
    };
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        // An unreadable directory below the root (permissions, a vanished file) is skipped
        // with a warning; an unreadable root is an error.
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.depth() > 0 => {
                warnings.push(Warning {
                    layer: None,
                    message: format!("skipped: {e}"),
                });
                continue;
            }
            Err(e) => return Err(walk_error(e)),
        };
        entries += 1;
        if entries > options.limits.max_entries {
            return Err(ScanError::TooManyFiles {
                path: root.to_path_buf(),
                limit: options.limits.max_entries,
            });
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        let Normalised::Path(path) = normalise(&relative) else {
            continue;
        };
        let metadata = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                warnings.push(Warning {
                    layer: None,
                    message: format!("skipped `/{path}`: {e}"),
                });
                continue;
            }
        };
        let info = FileInfo {
            path: &path,
            size: metadata.len(),
            mode: mode_of(&metadata),
        };
        let wanted: Vec<&dyn Cataloger> = options
            .catalogers
            .iter()
            .map(AsRef::as_ref)
            .filter(|c| c.wants(&info))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let found = fs_err::File::open(entry.path())
            .and_then(|mut f| layer::catalog_file(&wanted, &info, &mut f));
        match found {
            Ok(found) if !found.is_empty() => {
                record.files.insert(path, found);
            }
            Ok(_) => {}
            Err(e) => warnings.push(Warning {
                layer: None,
                message: format!("skipped `/{path}`: {e}"),
            }),
        }
    }
    let mut squash = Squash::default();
    squash.apply(record);
    let info = SourceInfo {
        display: format!("dir:{}", root.display()),
        name: name.to_owned(),
        repository: None,
        tag: None,
    };
    let identity = Identity {
        info: &info,
        manifest_digest: None,
        config_digest: None,
        platform: None,
    };
    let (inventory, root_id, os, more) = build_inventory(&identity, squash.finish());
    warnings.extend(more.into_iter().map(|message| Warning {
        layer: None,
        message,
    }));
    Ok(ScannedImage {
        reference: info.display,
        manifest_digest: None,
        platform: None,
        config_digest: None,
        config: None,
        layers: Vec::new(),
        os,
        inventory,
        root: root_id,
        warnings,
    })
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode()
}

#[cfg(not(unix))]
fn mode_of(_metadata: &std::fs::Metadata) -> u32 {
    0o644
}

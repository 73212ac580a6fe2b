//! Findings cached per layer digest: one JSON file per layer in a directory the caller names,
//! so that images sharing base layers read each base layer once.
//!
//! A record is reused only when its format version and the set of catalogers that made it
//! match the current ones. The cache is trusted as much as the directory holding it: a record
//! is only written after the layer's digest was verified, but whoever can write the directory
//! can change what later scans report. Any problem reading or writing the cache is a warning
//! and the layer is read instead.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vouch_inventory::{Digest, Ecosystem, Evidence, Kind, Package, PackageUrl, Scope, Source};

use crate::catalog::OsRelease;
use crate::layer::{FileFindings, LayerRecord};

/// Bumped whenever the record's meaning changes (2: lockfiles' dependency edges).
const FORMAT: u32 = 2;

/// The largest cache file read back.
const MAX_CACHE_FILE: u64 = 1024 * 1024 * 1024;

/// A cache directory and the fingerprint of the catalogers whose findings it holds.
pub(crate) struct Cache<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) catalogers: String,
}

impl Cache<'_> {
    fn file(&self, digest: &str) -> Option<PathBuf> {
        vouch_oci::model::is_valid_digest(digest)
            .then(|| self.dir.join(format!("{}.json", digest.replace(':', "-"))))
    }

    /// The record of a layer, when a usable one is cached.
    pub(crate) fn load(&self, digest: &str) -> Result<Option<LayerRecord>, String> {
        let Some(path) = self.file(digest) else {
            return Ok(None);
        };
        let file = match fs_err::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let mut bytes = Vec::new();
        file.take(MAX_CACHE_FILE)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        let cached: CachedLayer =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        if cached.format != FORMAT
            || cached.catalogers != self.catalogers
            || cached.digest != digest
        {
            return Ok(None);
        }
        Ok(cached.into_record())
    }

    /// Stores a layer's record (written to a temporary file, then renamed into place).
    pub(crate) fn store(&self, record: &LayerRecord) -> Result<(), String> {
        let Some(path) = self.file(&record.digest) else {
            return Ok(());
        };
        let Some(cached) = CachedLayer::from_record(record, &self.catalogers) else {
            // A package of a kind this format cannot hold: read the layer next time.
            return Ok(());
        };
        fs_err::create_dir_all(self.dir).map_err(|e| e.to_string())?;
        let bytes = serde_json::to_vec(&cached).map_err(|e| e.to_string())?;
        let mut tmp = tempfile::NamedTempFile::new_in(self.dir).map_err(|e| e.to_string())?;
        tmp.write_all(&bytes).map_err(|e| e.to_string())?;
        tmp.persist(&path)
            .map_err(|e| format!("{}: {}", path.display(), e.error))?;
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct CachedLayer {
    format: u32,
    catalogers: String,
    digest: String,
    entries: u64,
    decompressed_bytes: u64,
    whiteouts: BTreeSet<String>,
    opaque_dirs: BTreeSet<String>,
    warnings: Vec<String>,
    files: BTreeMap<String, Vec<CachedFindings>>,
    paths: Vec<u64>,
    non_dirs: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct CachedFindings {
    cataloger: String,
    packages: Vec<CachedPackage>,
    os: Option<CachedOs>,
    warnings: Vec<String>,
    // Absent from records of format 1, which are then set aside by their format number
    // rather than refused as unreadable.
    #[serde(default)]
    edges: Vec<(usize, usize)>,
}

#[derive(Serialize, Deserialize)]
struct CachedOs {
    id: String,
    version_id: Option<String>,
    version_codename: Option<String>,
    id_like: Vec<String>,
    pretty_name: Option<String>,
    name: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CachedPackage {
    ecosystem: String,
    name: String,
    version: Option<String>,
    purl: Option<String>,
    source: CachedSource,
    hashes: Vec<String>,
    licenses: BTreeSet<String>,
    scope: String,
    kind: String,
    direct: Option<bool>,
    evidence: Vec<(String, Option<u32>)>,
    properties: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum CachedSource {
    Unknown,
    Registry {
        url: Option<String>,
    },
    Git {
        url: String,
        commit: Option<String>,
        reference: Option<String>,
    },
    Path {
        path: String,
    },
    Url {
        url: String,
    },
}

fn sorted(set: &HashSet<u64>) -> Vec<u64> {
    let mut v: Vec<u64> = set.iter().copied().collect();
    v.sort_unstable();
    v
}

impl CachedLayer {
    fn from_record(r: &LayerRecord, catalogers: &str) -> Option<CachedLayer> {
        let mut files = BTreeMap::new();
        for (path, found) in &r.files {
            let mut list = Vec::new();
            for f in found {
                list.push(CachedFindings {
                    cataloger: f.cataloger.clone(),
                    packages: f
                        .packages
                        .iter()
                        .map(CachedPackage::from_package)
                        .collect::<Option<_>>()?,
                    os: f.os.clone().map(|o| CachedOs {
                        id: o.id,
                        version_id: o.version_id,
                        version_codename: o.version_codename,
                        id_like: o.id_like,
                        pretty_name: o.pretty_name,
                        name: o.name,
                    }),
                    warnings: f.warnings.clone(),
                    edges: f.edges.clone(),
                });
            }
            files.insert(path.clone(), list);
        }
        Some(CachedLayer {
            format: FORMAT,
            catalogers: catalogers.to_owned(),
            digest: r.digest.clone(),
            entries: r.entries,
            decompressed_bytes: r.decompressed_bytes,
            whiteouts: r.whiteouts.clone(),
            opaque_dirs: r.opaque_dirs.clone(),
            warnings: r.warnings.clone(),
            files,
            paths: sorted(&r.paths),
            non_dirs: sorted(&r.non_dirs),
        })
    }

    fn into_record(self) -> Option<LayerRecord> {
        let mut files = BTreeMap::new();
        for (path, found) in self.files {
            let mut list = Vec::new();
            for f in found {
                // Edges are indices into the file's packages: a record naming any other is not
                // one this code wrote, and the layer is read again.
                let count = f.packages.len();
                if f.edges.iter().any(|&(a, b)| a >= count || b >= count) {
                    return None;
                }
                list.push(FileFindings {
                    cataloger: f.cataloger,
                    packages: f
                        .packages
                        .into_iter()
                        .map(CachedPackage::into_package)
                        .collect::<Option<_>>()?,
                    os: f.os.map(|o| OsRelease {
                        id: o.id,
                        version_id: o.version_id,
                        version_codename: o.version_codename,
                        id_like: o.id_like,
                        pretty_name: o.pretty_name,
                        name: o.name,
                    }),
                    warnings: f.warnings,
                    edges: f.edges,
                });
            }
            files.insert(path, list);
        }
        Some(LayerRecord {
            digest: self.digest,
            entries: self.entries,
            decompressed_bytes: self.decompressed_bytes,
            whiteouts: self.whiteouts,
            opaque_dirs: self.opaque_dirs,
            warnings: self.warnings,
            files,
            paths: self.paths.into_iter().collect(),
            non_dirs: self.non_dirs.into_iter().collect(),
        })
    }
}

const ECOSYSTEMS: &[Ecosystem] = &[
    Ecosystem::Cargo,
    Ecosystem::Npm,
    Ecosystem::Pypi,
    Ecosystem::Golang,
    Ecosystem::Gem,
    Ecosystem::Composer,
    Ecosystem::Maven,
    Ecosystem::Nuget,
    Ecosystem::Swift,
    Ecosystem::Pub,
    Ecosystem::Hex,
    Ecosystem::Conan,
    Ecosystem::Deb,
    Ecosystem::Apk,
    Ecosystem::Rpm,
    Ecosystem::Oci,
    Ecosystem::Generic,
];

const SCOPES: &[(Scope, &str)] = &[
    (Scope::Required, "required"),
    (Scope::Optional, "optional"),
    (Scope::Dev, "dev"),
];

const KINDS: &[(Kind, &str)] = &[
    (Kind::Library, "library"),
    (Kind::Project, "project"),
    (Kind::Container, "container"),
    (Kind::OperatingSystem, "operating-system"),
];

impl CachedPackage {
    /// `None` for a package this format cannot represent exactly (a source or ecosystem added
    /// to the inventory model after it).
    fn from_package(p: &Package) -> Option<CachedPackage> {
        let ecosystem = ECOSYSTEMS.iter().find(|e| **e == p.ecosystem)?;
        let source = match &p.source {
            Source::Unknown => CachedSource::Unknown,
            Source::Registry { url } => CachedSource::Registry { url: url.clone() },
            Source::Git {
                url,
                commit,
                reference,
            } => CachedSource::Git {
                url: url.clone(),
                commit: commit.clone(),
                reference: reference.clone(),
            },
            Source::Path { path } => CachedSource::Path { path: path.clone() },
            Source::Url { url } => CachedSource::Url { url: url.clone() },
            _ => return None,
        };
        Some(CachedPackage {
            ecosystem: ecosystem.purl_type().to_owned(),
            name: p.name.clone(),
            version: p.version.clone(),
            purl: p.purl.as_ref().map(ToString::to_string),
            source,
            hashes: p.hashes.iter().map(ToString::to_string).collect(),
            licenses: p.licenses.iter().cloned().collect(),
            scope: SCOPES.iter().find(|(s, _)| *s == p.scope)?.1.to_owned(),
            kind: KINDS.iter().find(|(k, _)| *k == p.kind)?.1.to_owned(),
            direct: p.direct,
            evidence: p
                .evidence
                .iter()
                .map(|e| (e.file.clone(), e.line))
                .collect(),
            properties: p.properties.clone(),
        })
    }

    fn into_package(self) -> Option<Package> {
        let ecosystem = *ECOSYSTEMS
            .iter()
            .find(|e| e.purl_type() == self.ecosystem)?;
        let mut p = Package::new(ecosystem, self.name);
        p.version = self.version;
        p.purl = match self.purl {
            Some(s) => Some(s.parse::<PackageUrl>().ok()?),
            None => None,
        };
        p.source = match self.source {
            CachedSource::Unknown => Source::Unknown,
            CachedSource::Registry { url } => Source::Registry { url },
            CachedSource::Git {
                url,
                commit,
                reference,
            } => Source::Git {
                url,
                commit,
                reference,
            },
            CachedSource::Path { path } => Source::Path { path },
            CachedSource::Url { url } => Source::Url { url },
        };
        p.hashes = self
            .hashes
            .iter()
            .map(|h| Digest::from_prefixed(h).ok())
            .collect::<Option<_>>()?;
        p.licenses = self.licenses.into();
        p.scope = SCOPES.iter().find(|(_, n)| *n == self.scope)?.0;
        p.kind = KINDS.iter().find(|(_, n)| *n == self.kind)?.0;
        p.direct = self.direct;
        p.evidence = self
            .evidence
            .into_iter()
            .map(|(file, line)| Evidence { file, line })
            .collect();
        p.properties = self.properties;
        Some(p)
    }
}

//! `docker save` archives: a tar holding `manifest.json` (`[{"Config", "RepoTags", "Layers"}]`),
//! the image config and the layers.
//!
//! Two layouts exist. Before Docker 25, layers are `<id>/layer.tar` and are addressed by
//! nothing but their position: their digest is the config's `rootfs.diff_ids` entry, the
//! SHA-256 of the uncompressed tar. From Docker 25 the archive is also an OCI layout and
//! `manifest.json` points into `blobs/sha256/<hex>`, which names the stored bytes' digest.
//! Both are read from `manifest.json`, so the image has no manifest digest of its own.
//!
//! The archive is indexed once (entry name to offset and size, seeking past content), and each
//! blob is then read in place. A compressed archive (`docker save | gzip`) is not readable this
//! way and is refused with a hint by the error of the first missing file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vouch_oci::model::{
    Descriptor, ImageConfig, MAX_MANIFEST_BYTES, Manifest, is_valid_digest, media_type,
};

use super::{ImageSource, RootManifest, SourceError, SourceInfo, read_bounded};
use crate::path::{Normalised, normalise};

/// Most entries an archive may hold before vouch refuses to index it.
const MAX_ARCHIVE_ENTRIES: usize = 1_000_000;

/// The media type given to every layer of an archive: the bytes decide the compression.
const ARCHIVE_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// A `docker save` archive.
#[derive(Debug)]
pub struct DockerArchive {
    path: PathBuf,
    /// Entry name (normalised) to (offset of content, size).
    entries: BTreeMap<String, (u64, u64)>,
    /// Blob digest to entry name.
    blobs: BTreeMap<String, String>,
    /// Layer digests that are diff IDs.
    diff_ids: BTreeSet<String>,
    manifest: Vec<u8>,
    info: SourceInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveImage {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

impl DockerArchive {
    /// Indexes the archive at `path` and reads the `manifest.json` entry of the image `select`
    /// names (one of its `RepoTags`, or `@N`, the `N`th from 0); without it, of the only image.
    pub fn open(path: &Path, select: Option<&str>) -> Result<DockerArchive, SourceError> {
        let io = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = fs_err::File::open(path).map_err(io)?;
        let mut head = Vec::with_capacity(4);
        (&mut file).take(4).read_to_end(&mut head).map_err(io)?;
        if crate::layer::sniff(&head) != vouch_oci::model::Compression::None {
            return Err(SourceError::CompressedArchive {
                path: path.to_path_buf(),
            });
        }
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let mut entries = BTreeMap::new();
        for entry in archive.entries_with_seek().map_err(io)? {
            let entry = entry.map_err(io)?;
            if entries.len() >= MAX_ARCHIVE_ENTRIES {
                return Err(SourceError::TooLarge {
                    file: path.display().to_string(),
                    size: entries.len() as u64,
                    limit: MAX_ARCHIVE_ENTRIES as u64,
                });
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if let Normalised::Path(name) = normalise(&name) {
                entries.insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        let mut this = DockerArchive {
            path: path.to_path_buf(),
            entries,
            blobs: BTreeMap::new(),
            diff_ids: BTreeSet::new(),
            manifest: Vec::new(),
            info: SourceInfo::default(),
        };
        let location = path.display().to_string();

        let images: Vec<ArchiveImage> = this.read_json("manifest.json")?;
        let available = || -> Vec<String> {
            images
                .iter()
                .flat_map(|i| i.repo_tags.iter().flatten().cloned())
                .collect()
        };
        let (image, repo_tag) = match (images.as_slice(), select) {
            ([], _) => return Err(SourceError::Empty { location }),
            (all, Some(select)) => {
                let by_index = select
                    .strip_prefix('@')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| all.get(n))
                    .map(|i| (i, i.repo_tags.iter().flatten().next().cloned()));
                let by_tag = || {
                    all.iter().find_map(|i| {
                        i.repo_tags
                            .iter()
                            .flatten()
                            .find(|t| *t == select)
                            .map(|t| (i, Some(t.clone())))
                    })
                };
                by_index
                    .or_else(by_tag)
                    .ok_or_else(|| SourceError::TagNotFound {
                        tag: select.to_owned(),
                        location: location.clone(),
                        available: available(),
                    })?
            }
            ([only], None) => (only, only.repo_tags.iter().flatten().next().cloned()),
            (many, None) => {
                return Err(SourceError::Ambiguous {
                    location,
                    count: many.len(),
                    available: available(),
                });
            }
        };

        let config_bytes = this.read_entry(&image.config, MAX_MANIFEST_BYTES as u64)?;
        let config_digest =
            vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, &config_bytes)
                .map(|d| d.to_string())
                .unwrap_or_default();
        let config: ImageConfig =
            serde_json::from_slice(&config_bytes).map_err(|source| SourceError::Json {
                file: image.config.clone(),
                source,
            })?;
        this.blobs
            .insert(config_digest.clone(), image.config.clone());

        let mut layers = Vec::new();
        for (index, layer_path) in image.layers.iter().enumerate() {
            let name = match normalise(layer_path) {
                Normalised::Path(p) => p,
                _ => layer_path.clone(),
            };
            let size = this.entries.get(&name).map(|(_, s)| *s).ok_or_else(|| {
                SourceError::BlobNotFound {
                    digest: layer_path.clone(),
                    location: location.clone(),
                }
            })?;
            let from_path = name
                .strip_prefix("blobs/sha256/")
                .map(|hex| format!("sha256:{hex}"))
                .filter(|d| is_valid_digest(d));
            let digest = match from_path {
                Some(d) => d,
                None => {
                    let diff_id = config.rootfs.diff_ids.get(index).cloned().ok_or_else(|| {
                        SourceError::MissingDiffId {
                            location: location.clone(),
                            index,
                            path: layer_path.clone(),
                        }
                    })?;
                    this.diff_ids.insert(diff_id.clone());
                    diff_id
                }
            };
            this.blobs.insert(digest.clone(), name);
            layers.push(Descriptor {
                media_type: ARCHIVE_LAYER.to_owned(),
                digest,
                size,
                urls: Vec::new(),
                annotations: BTreeMap::new(),
                platform: None,
                artifact_type: None,
            });
        }

        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media_type::DOCKER_MANIFEST.to_owned()),
            artifact_type: None,
            config: Descriptor {
                media_type: media_type::DOCKER_CONFIG.to_owned(),
                digest: config_digest,
                size: config_bytes.len() as u64,
                urls: Vec::new(),
                annotations: BTreeMap::new(),
                platform: None,
                artifact_type: None,
            },
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        };
        this.manifest = serde_json::to_vec(&manifest).map_err(|source| SourceError::Json {
            file: "manifest.json".to_owned(),
            source,
        })?;

        let (repository, tag) = match repo_tag.as_deref().map(split_repo_tag) {
            Some((r, t)) => (Some(r.to_owned()), t.map(str::to_owned)),
            None => (None, None),
        };
        this.info = SourceInfo {
            display: match select {
                Some(select) => format!("docker-archive:{}:{select}", path.display()),
                None => format!("docker-archive:{}", path.display()),
            },
            name: repository
                .as_deref()
                .and_then(|r| r.rsplit('/').next())
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| super::dir_name(path).trim_end_matches(".tar").to_owned()),
            repository,
            tag,
        };
        Ok(this)
    }

    fn read_entry(&self, name: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let reader = self.open_entry(name)?;
        read_bounded(reader, limit, name, &self.path)
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, SourceError> {
        let bytes = self.read_entry(name, MAX_MANIFEST_BYTES as u64)?;
        serde_json::from_slice(&bytes).map_err(|source| SourceError::Json {
            file: name.to_owned(),
            source,
        })
    }

    fn open_entry(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let key = match normalise(name) {
            Normalised::Path(p) => p,
            _ => name.to_owned(),
        };
        let (offset, size) =
            self.entries
                .get(&key)
                .copied()
                .ok_or_else(|| SourceError::BlobNotFound {
                    digest: name.to_owned(),
                    location: self.path.display().to_string(),
                })?;
        let io = |source| SourceError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = fs_err::File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        Ok(Box::new(
            std::io::BufReader::with_capacity(256 * 1024, file).take(size),
        ))
    }
}

/// Splits `repo[:tag]`, where a `:` inside the registry host's port is not a tag separator.
fn split_repo_tag(repo_tag: &str) -> (&str, Option<&str>) {
    match repo_tag.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (repo_tag, None),
    }
}

impl ImageSource for DockerArchive {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn root(&self) -> Result<RootManifest, SourceError> {
        Ok(RootManifest {
            bytes: self.manifest.clone(),
            media_type: Some(media_type::DOCKER_MANIFEST.to_owned()),
            digest: None,
        })
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let name = self
            .blobs
            .get(&desc.digest)
            .ok_or_else(|| SourceError::BlobNotFound {
                digest: desc.digest.clone(),
                location: self.path.display().to_string(),
            })?;
        self.open_entry(name)
    }

    fn sniff_compression(&self) -> bool {
        true
    }

    fn digest_is_diff_id(&self, layer: &Descriptor) -> bool {
        self.diff_ids.contains(&layer.digest)
    }
}

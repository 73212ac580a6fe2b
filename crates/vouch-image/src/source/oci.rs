//! OCI image layouts: `index.json`, `oci-layout` and `blobs/<alg>/<hex>`.
//!
//! Specification: <https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md>.

use std::io::Read;
use std::path::{Path, PathBuf};

use vouch_oci::model::{Descriptor, Index, MAX_MANIFEST_BYTES, is_valid_digest};

use super::{ImageSource, RootManifest, SourceError, SourceInfo, dir_name, read_bounded};

/// The annotation that names a manifest in a layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The annotation containerd writes with the image's full name
/// (`docker.io/library/alpine:3.20`).
pub const CONTAINERD_IMAGE_NAME: &str = "io.containerd.image.name";

/// An OCI image layout directory, and the manifest (or index) of `index.json` chosen by tag.
#[derive(Debug)]
pub struct OciLayout {
    dir: PathBuf,
    root: Root,
    info: SourceInfo,
}

#[derive(Debug)]
enum Root {
    /// One entry of `index.json`.
    Entry(Descriptor),
    /// `index.json` itself, when it lists one manifest per platform and no tags
    /// (`crane pull --format=oci`).
    WholeIndex(Vec<u8>),
}

impl OciLayout {
    /// Opens the layout at `dir` and picks the entry of `index.json` whose `ref.name` (or
    /// containerd image name) annotation is `tag`. Without a tag the layout must hold exactly
    /// one entry, or entries that all state a platform, which are then read as one index.
    pub fn open(dir: &Path, tag: Option<&str>) -> Result<OciLayout, SourceError> {
        let index_path = dir.join("index.json");
        let file = fs_err::File::open(&index_path).map_err(|source| SourceError::Io {
            path: index_path.clone(),
            source,
        })?;
        let bytes = read_bounded(file, MAX_MANIFEST_BYTES as u64, "index.json", &index_path)?;
        let index: Index = serde_json::from_slice(&bytes).map_err(|source| SourceError::Json {
            file: index_path.display().to_string(),
            source,
        })?;
        let location = dir.display().to_string();
        let available: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|m| m.annotations.get(REF_NAME).cloned())
            .collect();
        let named = |m: &&Descriptor, tag: &str| {
            [REF_NAME, CONTAINERD_IMAGE_NAME]
                .iter()
                .any(|key| m.annotations.get(*key).map(String::as_str) == Some(tag))
        };
        let root = match tag {
            Some(tag) => Root::Entry(
                index
                    .manifests
                    .iter()
                    .find(|m| named(m, tag))
                    .cloned()
                    .ok_or_else(|| SourceError::TagNotFound {
                        tag: tag.to_owned(),
                        location: location.clone(),
                        available: available.clone(),
                    })?,
            ),
            None => match index.manifests.as_slice() {
                [] => return Err(SourceError::Empty { location }),
                [only] => Root::Entry(only.clone()),
                many if many.iter().all(|m| m.platform.is_some()) => Root::WholeIndex(bytes),
                many => {
                    return Err(SourceError::Ambiguous {
                        location,
                        count: many.len(),
                        available,
                    });
                }
            },
        };
        let info = match &root {
            Root::Entry(entry) => name_of(dir, entry),
            Root::WholeIndex(_) => SourceInfo {
                display: format!("oci:{}", dir.display()),
                name: dir_name(dir),
                repository: None,
                tag: None,
            },
        };
        Ok(OciLayout {
            dir: dir.to_path_buf(),
            root,
            info,
        })
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, SourceError> {
        // The digest names a file: only well-formed digests reach the file system.
        let (alg, hex) = digest
            .split_once(':')
            .filter(|_| is_valid_digest(digest))
            .ok_or_else(|| SourceError::InvalidDigest {
                digest: digest.to_owned(),
            })?;
        Ok(self.dir.join("blobs").join(alg).join(hex))
    }
}

/// The image's name: from a full reference in the annotations (`registry/repo:tag`), or else
/// the directory's name with the `ref.name` tag.
fn name_of(dir: &Path, entry: &Descriptor) -> SourceInfo {
    let ref_name = entry.annotations.get(REF_NAME);
    let full = entry
        .annotations
        .get(CONTAINERD_IMAGE_NAME)
        .or(ref_name.filter(|r| r.contains('/')));
    let display = match ref_name {
        Some(t) => format!("oci:{}:{t}", dir.display()),
        None => format!("oci:{}", dir.display()),
    };
    match full {
        Some(full) => {
            let without_digest = full.split_once('@').map_or(full.as_str(), |(r, _)| r);
            let (repository, tag) = match without_digest.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_owned())),
                _ => (without_digest, None),
            };
            SourceInfo {
                display,
                name: repository
                    .rsplit('/')
                    .next()
                    .unwrap_or(repository)
                    .to_ascii_lowercase(),
                repository: Some(repository.to_owned()),
                tag,
            }
        }
        None => SourceInfo {
            display,
            name: dir_name(dir),
            repository: None,
            tag: ref_name.cloned(),
        },
    }
}

impl ImageSource for OciLayout {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn root(&self) -> Result<RootManifest, SourceError> {
        match &self.root {
            Root::Entry(entry) => {
                let path = self.blob_path(&entry.digest)?;
                let reader = self.open_blob(entry)?;
                let bytes = read_bounded(reader, MAX_MANIFEST_BYTES as u64, &entry.digest, &path)?;
                Ok(RootManifest {
                    bytes,
                    media_type: Some(entry.media_type.clone()).filter(|m| !m.is_empty()),
                    digest: Some(entry.digest.clone()),
                })
            }
            Root::WholeIndex(bytes) => Ok(RootManifest {
                bytes: bytes.clone(),
                media_type: Some(vouch_oci::model::media_type::OCI_INDEX.to_owned()),
                digest: None,
            }),
        }
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let path = self.blob_path(&desc.digest)?;
        match fs_err::File::open(&path) {
            Ok(f) => Ok(Box::new(std::io::BufReader::with_capacity(256 * 1024, f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SourceError::BlobNotFound {
                digest: desc.digest.clone(),
                location: self.dir.display().to_string(),
            }),
            Err(source) => Err(SourceError::Io { path, source }),
        }
    }
}

//! Where image bytes come from: an [`ImageSource`] hands out the root manifest and blobs by
//! descriptor; [`open`] builds one for a local [`ImageRef`].
//!
//! The sources here read local files ([`oci::OciLayout`], [`archive::DockerArchive`]); a
//! registry client implements the same trait. Sources do not verify digests: the scanner does,
//! while it reads, for every source alike.

use std::io::Read;
use std::path::{Path, PathBuf};

use vouch_oci::model::Descriptor;

use crate::reference::ImageRef;
use crate::scan::Target;

pub mod archive;
pub mod oci;
pub mod registry;

/// An image's blobs, addressed by descriptor. Implemented for OCI layouts and `docker save`
/// archives here, and by a registry client elsewhere.
pub trait ImageSource: Send + Sync {
    /// What the image is called.
    fn info(&self) -> &SourceInfo;

    /// The manifest or index the reference names.
    fn root(&self) -> Result<RootManifest, SourceError>;

    /// Opens a blob (a config, a layer) as a stream of its stored bytes. The caller bounds how
    /// much it reads and checks the digest.
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, SourceError>;

    /// Opens a manifest or index that an index lists. Layouts and archives keep manifests
    /// among the blobs (the default); a registry serves them from its manifests endpoint.
    fn open_manifest(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        self.open_blob(desc)
    }

    /// Whether layer compression must be sniffed from the bytes rather than trusted from the
    /// media type (`docker save` archives name every layer a plain tar).
    fn sniff_compression(&self) -> bool {
        false
    }

    /// Whether `layer`'s digest is the digest of its uncompressed tar (a diff ID, as old
    /// `docker save` archives address layers) rather than of its stored bytes.
    fn digest_is_diff_id(&self, _layer: &Descriptor) -> bool {
        false
    }
}

/// What an image is called, for messages and the SBOM's root component.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceInfo {
    /// The reference as the user gave it (`oci:./app:1.0`).
    pub display: String,
    /// The image name for the root component's purl (`app`).
    pub name: String,
    /// The repository, when known (`ghcr.io/acme/app`): the purl's `repository_url`.
    pub repository: Option<String>,
    /// The tag, when known.
    pub tag: Option<String>,
}

/// The manifest or index a reference resolves to.
#[derive(Debug, Clone)]
pub struct RootManifest {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type, when the source states one.
    pub media_type: Option<String>,
    /// Its digest, when the source addresses it by one (the scanner checks it); `None` for a
    /// manifest the source synthesised (`docker save` archives have none).
    pub digest: Option<String>,
}

/// What [`open`] returns: an image to read blob by blob, or a root filesystem.
pub enum Opened {
    /// An image.
    Image(Box<dyn ImageSource>),
    /// An unpacked root filesystem.
    RootFs {
        /// The directory.
        path: PathBuf,
        /// The name for the root component.
        name: String,
    },
}

impl Opened {
    /// What to hand to [`crate::scan`].
    pub fn target(&self) -> Target<'_> {
        match self {
            Opened::Image(source) => Target::Image(source.as_ref()),
            Opened::RootFs { path, name } => Target::RootFs { path, name },
        }
    }
}

/// Opens a local image reference. A registry reference is refused: the caller resolves those
/// with its own [`ImageSource`].
pub fn open(reference: &ImageRef) -> Result<Opened, SourceError> {
    match reference {
        ImageRef::OciLayout { path, tag } => Ok(Opened::Image(Box::new(oci::OciLayout::open(
            path,
            tag.as_deref(),
        )?))),
        ImageRef::DockerArchive { path, image } => Ok(Opened::Image(Box::new(
            archive::DockerArchive::open(path, image.as_deref())?,
        ))),
        ImageRef::Dir { path } => {
            if !path.is_dir() {
                return Err(SourceError::NotADirectory { path: path.clone() });
            }
            Ok(Opened::RootFs {
                path: path.clone(),
                name: dir_name(path),
            })
        }
        ImageRef::Registry(reference) => Err(SourceError::RegistryNotSupported {
            reference: reference.clone(),
        }),
    }
}

/// The last component of a directory path, lower-cased (the purl `oci` type lower-cases names),
/// or `image` when there is none.
pub(crate) fn dir_name(path: &Path) -> String {
    path.canonicalize()
        .ok()
        .as_deref()
        .unwrap_or(path)
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "image".to_owned())
}

/// An image source that could not be opened or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document of the layout or archive is malformed.
    #[error("`{file}` is not valid: {source}")]
    Json {
        /// The document (`index.json`, `manifest.json`).
        file: String,
        /// The failure.
        #[source]
        source: serde_json::Error,
    },
    /// A document is larger than vouch reads.
    #[error("`{file}` is {size} bytes, more than the {limit} bytes vouch reads")]
    TooLarge {
        /// The document.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A descriptor's digest is not a well-formed `sha256:` or `sha512:` digest.
    #[error("`{digest}` is not a valid digest")]
    InvalidDigest {
        /// The digest as written.
        digest: String,
    },
    /// A blob the image refers to is not there.
    #[error("blob `{digest}` is missing from `{location}`")]
    BlobNotFound {
        /// The blob.
        digest: String,
        /// The layout or archive.
        location: String,
    },
    /// No manifest carries the requested tag.
    #[error(
        "no image tagged `{tag}` in `{location}`; tags present: {}",
        list(available)
    )]
    TagNotFound {
        /// The tag asked for.
        tag: String,
        /// The layout or archive.
        location: String,
        /// The tags it holds.
        available: Vec<String>,
    },
    /// The layout or archive holds several images and no tag says which.
    #[error(
        "`{location}` holds {count} images; name one with `:TAG` (in a `docker save` archive, `:REPO:TAG` or `:@N`) (tags present: {})",
        list(available)
    )]
    Ambiguous {
        /// The layout or archive.
        location: String,
        /// How many images.
        count: usize,
        /// The tags it holds.
        available: Vec<String>,
    },
    /// The layout or archive holds no image at all.
    #[error("`{location}` holds no image")]
    Empty {
        /// The layout or archive.
        location: String,
    },
    /// A `docker save` archive's `manifest.json` lists a layer its config has no diff ID for.
    #[error("`{location}`: layer {index} (`{path}`) has no diff ID in the image config")]
    MissingDiffId {
        /// The archive.
        location: String,
        /// The layer's position, from 0.
        index: usize,
        /// The layer's file in the archive.
        path: String,
    },
    /// A `docker save` archive that is itself compressed.
    #[error("`{}` is a compressed archive; decompress it first (`gunzip`, `zstd -d`)", path.display())]
    CompressedArchive {
        /// The archive.
        path: PathBuf,
    },
    /// A `dir:` reference that is not a directory.
    #[error("`{path}` is not a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// [`open`] does not reach registries.
    #[error("`{reference}` is a registry reference; vouch-image reads local images only")]
    RegistryNotSupported {
        /// The reference.
        reference: String,
    },
    /// A source implemented elsewhere (a registry client) failed.
    #[error("{message}")]
    Backend {
        /// What failed.
        message: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reads all of `reader` if it is at most `limit` bytes.
pub(crate) fn read_bounded(
    mut reader: impl Read,
    limit: u64,
    file: &str,
    path: &Path,
) -> Result<Vec<u8>, SourceError> {
    let mut buf = Vec::new();
    (&mut reader)
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(SourceError::TooLarge {
            file: file.to_owned(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}

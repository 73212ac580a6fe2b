//! Writing OCI image layouts from layers given as tar bytes: the fixtures of this crate's tests
//! and of the CLI's.
//!
//! Specification: <https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md>.
//! Writing into a directory that already holds a layout adds to its `index.json`, so one
//! layout can hold several tags.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use vouch_digest::Algorithm;
use vouch_oci::model::{
    Compression, Descriptor, ImageConfig, Index, Manifest, Platform, RootFs, media_type,
};

use crate::source::oci::REF_NAME;

/// A layer to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Its media type.
    pub media_type: String,
    /// Its stored bytes.
    pub bytes: Vec<u8>,
}

impl Layer {
    /// An uncompressed layer.
    pub fn plain(tar: Vec<u8>) -> Layer {
        Layer {
            media_type: media_type::OCI_LAYER_TAR.to_owned(),
            bytes: tar,
        }
    }

    /// A gzip layer.
    pub fn gzip(tar: &[u8]) -> io::Result<Layer> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(tar)?;
        Ok(Layer {
            media_type: media_type::OCI_LAYER_GZIP.to_owned(),
            bytes: encoder.finish()?,
        })
    }

    /// A zstd layer.
    pub fn zstd(tar: &[u8]) -> io::Result<Layer> {
        Ok(Layer {
            media_type: media_type::OCI_LAYER_ZSTD.to_owned(),
            bytes: zstd::stream::encode_all(tar, 3)?,
        })
    }
}

/// An image to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Its platform (written to the config, and to the index entry of a multi-platform image).
    pub platform: Platform,
    /// Its layers, base first.
    pub layers: Vec<Layer>,
}

/// Writes one image into the layout at `dir` and lists its manifest in `index.json`, named
/// `tag` when given. Returns the manifest's descriptor.
pub fn write(dir: &Path, image: &Image, tag: Option<&str>) -> io::Result<Descriptor> {
    let desc = write_image(dir, image)?;
    add_to_index(dir, desc.clone(), tag)?;
    Ok(desc)
}

/// Writes several images, an image index of them (each entry with its platform) and lists the
/// index in `index.json`, named `tag` when given. Returns the index's descriptor.
pub fn write_index(dir: &Path, images: &[Image], tag: Option<&str>) -> io::Result<Descriptor> {
    let mut manifests = Vec::new();
    for image in images {
        let mut desc = write_image(dir, image)?;
        desc.platform = Some(image.platform.clone());
        manifests.push(desc);
    }
    let index = Index {
        schema_version: 2,
        media_type: Some(media_type::OCI_INDEX.to_owned()),
        artifact_type: None,
        manifests,
        subject: None,
        annotations: BTreeMap::new(),
    };
    let desc = write_blob(dir, media_type::OCI_INDEX, &to_json(&index)?)?;
    add_to_index(dir, desc.clone(), tag)?;
    Ok(desc)
}

/// Writes a blob under `blobs/sha256/` and returns its descriptor.
pub fn write_blob(dir: &Path, media_type: &str, bytes: &[u8]) -> io::Result<Descriptor> {
    let digest = sha256(bytes)?;
    let hex = digest.trim_start_matches("sha256:");
    let blobs = dir.join("blobs").join("sha256");
    fs_err::create_dir_all(&blobs)?;
    fs_err::write(blobs.join(hex), bytes)?;
    fs_err::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    Ok(Descriptor {
        media_type: media_type.to_owned(),
        digest,
        size: bytes.len() as u64,
        urls: Vec::new(),
        annotations: BTreeMap::new(),
        platform: None,
        artifact_type: None,
    })
}

fn write_image(dir: &Path, image: &Image) -> io::Result<Descriptor> {
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for layer in &image.layers {
        diff_ids.push(diff_id(layer)?);
        layers.push(write_blob(dir, &layer.media_type, &layer.bytes)?);
    }
    let config = ImageConfig {
        architecture: image.platform.architecture.clone(),
        os: image.platform.os.clone(),
        variant: image.platform.variant.clone(),
        created: None,
        config: None,
        rootfs: RootFs {
            kind: "layers".to_owned(),
            diff_ids,
        },
    };
    let config = write_blob(dir, media_type::OCI_CONFIG, &to_json(&config)?)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config,
        layers,
        subject: None,
        annotations: BTreeMap::new(),
    };
    write_blob(dir, media_type::OCI_MANIFEST, &to_json(&manifest)?)
}

fn add_to_index(dir: &Path, mut desc: Descriptor, tag: Option<&str>) -> io::Result<()> {
    let path = dir.join("index.json");
    let mut index = match fs_err::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Index {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        },
        Err(e) => return Err(e),
    };
    if let Some(tag) = tag {
        desc.annotations.insert(REF_NAME.to_owned(), tag.to_owned());
        index
            .manifests
            .retain(|m| m.annotations.get(REF_NAME).map(String::as_str) != Some(tag));
    }
    index.manifests.push(desc);
    fs_err::write(&path, to_json(&index)?)
}

/// The digest of a layer's uncompressed tar; for a layer whose bytes do not decompress (tests
/// write broken layers on purpose), the digest of its bytes.
fn diff_id(layer: &Layer) -> io::Result<String> {
    let bytes = layer.bytes.as_slice();
    let reader: Box<dyn Read + '_> = match Compression::of_layer(&layer.media_type) {
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Some(Compression::Zstd) => match zstd::stream::read::Decoder::new(bytes) {
            Ok(d) => Box::new(d),
            Err(_) => return sha256(bytes),
        },
        Some(Compression::None) | None => Box::new(bytes),
    };
    match vouch_digest::hash_reader(Algorithm::Sha256, reader) {
        Ok(d) => Ok(d.to_string()),
        Err(_) => sha256(bytes),
    }
}

fn sha256(bytes: &[u8]) -> io::Result<String> {
    vouch_digest::hash_bytes(Algorithm::Sha256, bytes)
        .map(|d| d.to_string())
        .ok_or_else(|| io::Error::other("SHA-256 unavailable"))
}

fn to_json<T: serde::Serialize>(value: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(io::Error::other)
}

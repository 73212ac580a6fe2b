//! Container image SBOMs: image sources, a streaming layer squash, and catalogers that find OS
//! and language packages in the final file set, producing the same [`vouch_inventory`] model as
//! the lockfile parsers.
//!
//! The entry point is [`scan`]: it resolves an image (an OCI layout, a `docker save` archive, a
//! registry through an [`ImageSource`] the caller provides, or an unpacked root filesystem),
//! picks the platform(s), streams each layer once in order (verifying its digest while it
//! reads), lets the [catalogers](catalog) look at the files they want, keeps what they found per
//! layer (optionally cached by layer digest), and after the last layer drops what later layers
//! deleted or replaced. Nothing is unpacked to disk and memory does not grow with layer size.
//!
//! Layer format: <https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md>.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
pub mod catalog;
mod decode;
pub mod layer;
pub mod layout;
mod os;
mod path;
mod reference;
mod scan;
pub mod source;
mod squash;

pub use layer::{LayerError, LayerRecord, Limits, scan_layer};
pub use os::{OS_CODENAME, OS_ID_LIKE, OS_PRETTY_NAME};
pub use reference::{ImageRef, parse_image_ref};
pub use scan::{
    LayerSummary, PROP_CONFIG_DIGEST, PROP_PLATFORM, PROP_TAG, PlatformChoice, Progress,
    ProgressFn, ScanError, ScanOptions, ScannedImage, Target, UnknownLayerPolicy, Warning, scan,
};
pub use source::{ImageSource, Opened, RootManifest, SourceError, SourceInfo, open};

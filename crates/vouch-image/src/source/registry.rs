//! An image in an OCI registry, read through `vouch-oci`'s blocking client.

use std::io::{Cursor, Read};

use vouch_oci::Reference;
use vouch_oci::blocking::BlockingRegistry;
use vouch_oci::client::with_digest;
use vouch_oci::model::Descriptor;

use super::{ImageSource, RootManifest, SourceError, SourceInfo};

/// An image in a registry: the root manifest from the reference (tag or digest), manifests an
/// index lists from the manifests endpoint, blobs streamed with their digest checked.
pub struct RegistrySource {
    client: BlockingRegistry,
    reference: Reference,
    info: SourceInfo,
}

impl RegistrySource {
    /// A source for `reference`, read through `client` (bound to the same repository).
    pub fn new(client: BlockingRegistry, reference: Reference, display: &str) -> RegistrySource {
        let repository = reference.repository().to_owned();
        let name = repository
            .rsplit('/')
            .next()
            .unwrap_or(&repository)
            .to_ascii_lowercase();
        let info = SourceInfo {
            display: display.to_owned(),
            name,
            repository: Some(format!("{}/{}", reference.registry(), repository)),
            tag: reference.tag().map(str::to_owned),
        };
        RegistrySource {
            client,
            reference,
            info,
        }
    }
}

fn backend(message: String, e: vouch_oci::RegistryError) -> SourceError {
    SourceError::Backend {
        message,
        source: Box::new(e),
    }
}

impl ImageSource for RegistrySource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn root(&self) -> Result<RootManifest, SourceError> {
        let fetched = self
            .client
            .fetch_manifest(&self.reference)
            .map_err(|e| backend(format!("cannot read `{}`", self.reference), e))?;
        Ok(RootManifest {
            bytes: fetched.bytes,
            media_type: Some(fetched.media_type),
            digest: Some(fetched.digest),
        })
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        self.client.open_blob(desc).map_err(|e| {
            backend(
                format!("cannot read blob `{}` of `{}`", desc.digest, self.reference),
                e,
            )
        })
    }

    fn open_manifest(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let fetched = self
            .client
            .fetch_manifest(&with_digest(&self.reference, &desc.digest))
            .map_err(|e| {
                backend(
                    format!(
                        "cannot read manifest `{}` of `{}`",
                        desc.digest, self.reference
                    ),
                    e,
                )
            })?;
        Ok(Box::new(Cursor::new(fetched.bytes)))
    }
}

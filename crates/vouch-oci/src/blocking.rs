//! The registry client for synchronous callers: the image scanner reads layers from plain
//! threads with `std::io::Read`.
//!
//! A [`BlockingRegistry`] runs the async client on a tokio runtime (its own, or one the caller
//! hands in) and bridges each blob through a bounded channel, so a slow reader holds back the
//! download instead of buffering it.

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use oci_client::Reference;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::mpsc;

use crate::client::{FetchedManifest, Registry, ResolvedImage};
use crate::error::RegistryError;
use crate::model::{Descriptor, Platform};

/// Chunks in flight between the download task and the reader.
const CHANNEL_DEPTH: usize = 8;

/// A [`Registry`] bound to one repository, for synchronous callers. Cheap to clone.
///
/// Its methods block; call them from plain threads, never from inside an async task.
#[derive(Clone)]
pub struct BlockingRegistry {
    registry: Registry,
    repository: Reference,
    handle: Handle,
    // Keeps an owned runtime alive as long as any clone; `None` when the caller's runtime is used.
    _runtime: Option<Arc<Runtime>>,
}

impl fmt::Debug for BlockingRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingRegistry")
            .field("repository", &self.repository.to_string())
            .finish_non_exhaustive()
    }
}

impl BlockingRegistry {
    /// A blocking client over its own two-thread runtime. Drop it outside async code.
    pub fn new(
        registry: Registry,
        repository: Reference,
    ) -> Result<BlockingRegistry, RegistryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(BlockingRegistry {
            registry,
            repository,
            handle: runtime.handle().clone(),
            _runtime: Some(Arc::new(runtime)),
        })
    }

    /// A blocking client over the caller's runtime.
    pub fn with_handle(
        registry: Registry,
        repository: Reference,
        handle: Handle,
    ) -> BlockingRegistry {
        BlockingRegistry {
            registry,
            repository,
            handle,
            _runtime: None,
        }
    }

    /// The repository this client reads.
    pub fn repository(&self) -> &Reference {
        &self.repository
    }

    /// [`Registry::fetch_manifest`], blocking.
    pub fn fetch_manifest(&self, reference: &Reference) -> Result<FetchedManifest, RegistryError> {
        self.handle
            .block_on(self.registry.fetch_manifest(reference))
    }

    /// [`Registry::resolve_image`], blocking.
    pub fn resolve_image(
        &self,
        reference: &Reference,
        platform: Option<&Platform>,
    ) -> Result<ResolvedImage, RegistryError> {
        self.handle
            .block_on(self.registry.resolve_image(reference, platform))
    }

    /// [`Registry::fetch_blob`], blocking.
    pub fn fetch_blob(
        &self,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        self.handle.block_on(
            self.registry
                .fetch_blob(&self.repository, descriptor, limit),
        )
    }

    /// Opens a blob as a reader whose digest and size are checked while it is read: when either
    /// is wrong, the read that would have returned end-of-file returns an error instead
    /// (`ErrorKind::InvalidData`, wrapping the [`RegistryError`]).
    pub fn open_blob(
        &self,
        descriptor: &Descriptor,
    ) -> Result<Box<dyn Read + Send>, RegistryError> {
        let mut stream = self
            .handle
            .block_on(self.registry.open_blob(&self.repository, descriptor))?;
        let (sender, receiver) = mpsc::channel(CHANNEL_DEPTH);
        self.handle.spawn(async move {
            loop {
                let message = match stream.next_chunk().await {
                    Ok(Some(chunk)) => Message::Data(chunk),
                    Ok(None) => Message::Verified,
                    Err(e) => Message::Failed(e),
                };
                let last = !matches!(message, Message::Data(_));
                if sender.send(message).await.is_err() || last {
                    // The reader went away, or the blob is done.
                    return;
                }
            }
        });
        Ok(Box::new(BlobReader {
            receiver,
            buffer: Vec::new(),
            position: 0,
            done: false,
        }))
    }
}

enum Message {
    Data(Vec<u8>),
    Verified,
    Failed(RegistryError),
}

struct BlobReader {
    receiver: mpsc::Receiver<Message>,
    buffer: Vec<u8>,
    position: usize,
    done: bool,
}

impl Read for BlobReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(rest) = self.buffer.get(self.position..)
                && !rest.is_empty()
            {
                let n = rest.len().min(out.len());
                if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.position += n;
                return Ok(n);
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            match self.receiver.blocking_recv() {
                Some(Message::Data(chunk)) => {
                    self.buffer = chunk;
                    self.position = 0;
                }
                Some(Message::Verified) => {
                    self.done = true;
                    return Ok(0);
                }
                Some(Message::Failed(e)) => {
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
                }
                // The task ended without saying the blob was good (runtime shut down): that is
                // not a verified end of file.
                None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        RegistryError::Bridge(
                            "the download stopped before the blob was verified".to_owned(),
                        ),
                    ));
                }
            }
        }
    }
}

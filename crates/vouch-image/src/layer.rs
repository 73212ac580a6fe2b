//! Reading one layer: a stream of (compressed) tar bytes becomes a [`LayerRecord`] of what the
//! catalogers found, which paths the layer holds and which it deletes, in one pass and in
//! bounded memory.
//!
//! - Compression comes from the media type or, for sources that cannot say, from the magic
//!   bytes (gzip `1f 8b`, zstd `28 b5 2f fd`, otherwise a plain tar).
//! - The digest is computed while reading: of the stored bytes, or of the uncompressed tar when
//!   the source addresses layers by diff ID. The whole stream is read to its end even when an
//!   entry fails, so that a tampered layer reports the digest mismatch rather than the
//!   corruption it causes.
//! - Whiteouts (`.wh.NAME`) and opaque directories (`.wh..wh..opq`) are recorded, not applied:
//!   they act on lower layers only, which [`crate::scan`] applies in order
//!   (<https://github.com/opencontainers/image-spec/blob/v1.1.0/layer.md#whiteouts>).
//! - Paths are normalised lexically; an entry whose path climbs above the root is skipped with
//!   a warning. Symbolic and hard links are never followed. A hard link to a file a cataloger
//!   read in the same layer gets that file's findings under its own path; any other hard link a
//!   cataloger would want is skipped with a warning.
//! - Limits on entries and decompressed bytes make a decompression bomb an error naming the
//!   layer, never a truncated SBOM.
//! - A file several catalogers want is copied once into a spooled buffer (memory up to
//!   [`SPOOL_IN_MEMORY`], then an anonymous temporary file) so that each reads it from the start.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use vouch_digest::{Algorithm, Digest, HashingReader};
use vouch_inventory::Package;
use vouch_oci::model::Compression;

use crate::catalog::{Cataloger, FileInfo, Findings, OsRelease};
use crate::decode::{Decoded, Input};
use crate::path::{Normalised, ancestors, fingerprint, join, normalise, split};

/// How much of a file several catalogers want is held in memory before it spills to an
/// anonymous temporary file.
pub const SPOOL_IN_MEMORY: usize = 64 * 1024 * 1024;

/// Limits on one layer. A limit hit is an error naming the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most tar entries in one layer.
    pub max_entries: u64,
    /// Most bytes one layer may decompress to.
    pub max_decompressed_bytes: u64,
}

impl Default for Limits {
    /// 10 million entries and 64 GiB: far above real images, far below what exhausts a disk
    /// or a day of CPU.
    fn default() -> Self {
        Limits {
            max_entries: 10_000_000,
            max_decompressed_bytes: 64 * 1024 * 1024 * 1024,
        }
    }
}

/// A layer that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// The bytes do not hash to the digest the manifest names.
    #[error("layer `{layer}` does not match its digest: expected `{expected}`, found `{found}`")]
    DigestMismatch {
        /// The layer, as the manifest names it.
        layer: String,
        /// The digest the manifest names.
        expected: String,
        /// The digest of the bytes read.
        found: String,
    },
    /// The stored bytes are not as long as the descriptor says.
    #[error("layer `{layer}` is {found} bytes long, its descriptor says {expected}")]
    SizeMismatch {
        /// The layer.
        layer: String,
        /// The size the descriptor states.
        expected: u64,
        /// Bytes read (when too long, as many as were read before stopping).
        found: u64,
    },
    /// Decompression or the tar format failed: a corrupt or truncated layer.
    #[error("layer `{layer}` is corrupt or truncated")]
    Corrupt {
        /// The layer.
        layer: String,
        /// What failed.
        #[source]
        source: io::Error,
    },
    /// More entries than [`Limits::max_entries`].
    #[error("layer `{layer}` has more than {limit} entries")]
    TooManyEntries {
        /// The layer.
        layer: String,
        /// The limit.
        limit: u64,
    },
    /// Decompresses to more than [`Limits::max_decompressed_bytes`].
    #[error(
        "layer `{layer}` decompresses to more than {limit} bytes (a decompression bomb, or an \
         image larger than the configured limit)"
    )]
    TooLarge {
        /// The layer.
        layer: String,
        /// The limit.
        limit: u64,
    },
    /// A media type that names no layer format vouch reads.
    #[error("layer `{layer}` has media type `{media_type}`, which is not a tar layer vouch reads")]
    UnknownMediaType {
        /// The layer.
        layer: String,
        /// Its media type.
        media_type: String,
    },
    /// The descriptor's digest is not `algorithm:hex` of an algorithm vouch computes.
    #[error("layer digest `{layer}` is not a digest vouch can verify")]
    InvalidDigest {
        /// The digest as written.
        layer: String,
    },
}

/// What a cataloger found in one file of a layer.
#[derive(Debug, Clone)]
pub(crate) struct FileFindings {
    pub(crate) cataloger: String,
    pub(crate) packages: Vec<Package>,
    pub(crate) os: Option<OsRelease>,
    pub(crate) warnings: Vec<String>,
    /// Edges between `packages`, by index (see [`crate::catalog::Findings::edges`]).
    pub(crate) edges: Vec<(usize, usize)>,
}

/// What one layer holds, as far as the SBOM cares.
#[derive(Debug, Clone, Default)]
pub struct LayerRecord {
    /// The layer's digest (empty for [`scan_layer`]).
    pub digest: String,
    /// Tar entries read.
    pub entries: u64,
    /// Bytes the layer decompressed to.
    pub decompressed_bytes: u64,
    /// Paths this layer deletes from lower layers (`.wh.NAME`), normalised.
    pub whiteouts: BTreeSet<String>,
    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`); `""` is the
    /// root.
    pub opaque_dirs: BTreeSet<String>,
    /// Entries skipped and other things worth telling the user.
    pub warnings: Vec<String>,
    pub(crate) files: BTreeMap<String, Vec<FileFindings>>,
    /// Fingerprints of every path the layer holds, and of those that are not directories.
    pub(crate) paths: HashSet<u64>,
    pub(crate) non_dirs: HashSet<u64>,
}

impl LayerRecord {
    pub(crate) fn new(digest: String) -> Self {
        LayerRecord {
            digest,
            ..LayerRecord::default()
        }
    }

    /// Every package the catalogers found in this layer, by file path.
    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.files
            .values()
            .flatten()
            .flat_map(|f| f.packages.iter())
    }

    /// The paths of files in which a cataloger found something.
    pub fn catalogued_paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Whether this layer deletes or replaces `path` of a lower layer: it holds an entry at
    /// the path, a non-directory at one of its ancestors, a whiteout of it or an ancestor, or
    /// an opaque marker in an ancestor.
    pub(crate) fn removes(&self, path: &str) -> bool {
        if self.opaque_dirs.contains("")
            || self.whiteouts.contains(path)
            || self.paths.contains(&fingerprint(path))
        {
            return true;
        }
        ancestors(path).any(|a| {
            self.whiteouts.contains(a)
                || self.opaque_dirs.contains(a)
                || self.non_dirs.contains(&fingerprint(a))
        })
    }

    /// Records an entry at `path`; a later entry replaces an earlier one of the same layer.
    fn note_entry(&mut self, path: &str, is_dir: bool) {
        let fp = fingerprint(path);
        self.paths.insert(fp);
        if is_dir {
            return;
        }
        self.non_dirs.insert(fp);
        self.files.remove(path);
        let prefix = format!("{path}/");
        let below: Vec<String> = self
            .files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in below {
            self.files.remove(&k);
        }
    }
}

/// Reads one layer from `reader` (compressed as `compression` says, or sniffed when `None`)
/// and returns what the catalogers found, without verifying any digest. Meant for fuzzing and
/// for callers that verify the bytes themselves.
pub fn scan_layer(
    reader: &mut dyn Read,
    compression: Option<Compression>,
    limits: &Limits,
    catalogers: &[Box<dyn Cataloger>],
) -> Result<LayerRecord, LayerError> {
    let spec = LayerSpec {
        digest: "",
        size: None,
        compression,
        verify: Verify::Nothing,
    };
    read_layer(reader, &spec, limits, catalogers, None)
}

/// Which digest a layer's descriptor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Of the stored (compressed) bytes: OCI and Docker manifests.
    Stored,
    /// Of the uncompressed tar: layers of old `docker save` archives (diff IDs).
    Uncompressed,
    /// None ([`scan_layer`]).
    Nothing,
}

/// How to read one layer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerSpec<'a> {
    pub(crate) digest: &'a str,
    pub(crate) size: Option<u64>,
    pub(crate) compression: Option<Compression>,
    pub(crate) verify: Verify,
}

/// Reads and checks one layer; `progress` is told the stored bytes read so far.
pub(crate) fn read_layer(
    raw: &mut dyn Read,
    spec: &LayerSpec<'_>,
    limits: &Limits,
    catalogers: &[Box<dyn Cataloger>],
    progress: Option<&dyn Fn(u64)>,
) -> Result<LayerRecord, LayerError> {
    let layer = spec.digest.to_owned();
    let expected = match spec.verify {
        Verify::Nothing => None,
        Verify::Stored | Verify::Uncompressed => Some(
            Digest::from_prefixed(spec.digest)
                .ok()
                .filter(|d| d.algorithm().is_strong())
                .ok_or_else(|| LayerError::InvalidDigest {
                    layer: layer.clone(),
                })?,
        ),
    };
    let algorithm = expected
        .as_ref()
        .map_or(Algorithm::Sha256, Digest::algorithm);
    let invalid = || LayerError::InvalidDigest {
        layer: layer.clone(),
    };

    let mut record = LayerRecord::new(layer.clone());
    let mut counting = Counting {
        inner: raw,
        count: 0,
        max: spec.size,
        too_long: false,
        progress,
    };
    let decompressed = AtomicU64::new(0);
    let bomb = AtomicBool::new(false);
    let tar = TarStream {
        uncompressed_digest: (spec.verify == Verify::Uncompressed).then_some(algorithm),
        // A gzip member's CRC-32 is not checked when the stored bytes' digest is: a layer whose
        // stored bytes are the ones its manifest names is accepted only then, and the CRC
        // would be a second, weaker check of the same bytes (a pass over every decompressed
        // byte). Without a stored digest (diff IDs, `scan_layer`), the CRC is checked.
        gzip_crc: spec.verify != Verify::Stored,
        limits,
        catalogers,
        decompressed: &decompressed,
        bomb: &bomb,
    };
    let (outcome, drained, stored) = if spec.verify == Verify::Stored {
        // Two stages on two threads: this one reads the stored bytes, decompresses them and
        // walks the tar; the other hashes the same chunks. Hashing is the larger half of the
        // work on a large layer, so it gets a thread to itself.
        let hasher = Hasher::new(algorithm).ok_or_else(invalid)?;
        std::thread::scope(|scope| {
            let (sender, chunks) = mpsc::sync_channel::<Arc<Vec<u8>>>(PIPE_DEPTH);
            let hashing = scope.spawn(move || hasher.hash_all(chunks));
            let (outcome, drained) =
                read_stored(&mut counting, Some(sender), spec, &tar, &mut record);
            let stored = hashing.join().ok().flatten();
            (outcome, drained, stored)
        })
    } else {
        let (outcome, drained) = read_stored(&mut counting, None, spec, &tar, &mut record);
        (outcome, drained, None)
    };
    record.decompressed_bytes = decompressed.load(Ordering::Relaxed);

    if counting.too_long {
        return Err(LayerError::SizeMismatch {
            layer,
            expected: spec.size.unwrap_or_default(),
            found: counting.count,
        });
    }
    if let (Verify::Stored, Some(expected)) = (spec.verify, &expected)
        && drained.is_ok()
    {
        let Some(stored) = stored else {
            return Err(LayerError::Corrupt {
                layer,
                source: io::Error::other("the layer's hashing thread stopped unexpectedly"),
            });
        };
        if stored != *expected {
            return Err(LayerError::DigestMismatch {
                layer,
                expected: expected.to_string(),
                found: stored.to_string(),
            });
        }
    }
    let uncompressed = match outcome {
        Ok(d) => d,
        Err(_) if bomb.load(Ordering::Relaxed) => {
            return Err(LayerError::TooLarge {
                layer,
                limit: limits.max_decompressed_bytes,
            });
        }
        Err(WalkError::TooManyEntries) => {
            return Err(LayerError::TooManyEntries {
                layer,
                limit: limits.max_entries,
            });
        }
        Err(WalkError::Io(source)) => return Err(LayerError::Corrupt { layer, source }),
    };
    if let Err(source) = drained {
        return Err(LayerError::Corrupt { layer, source });
    }
    if let (Some(expected), Some(found)) = (&expected, &uncompressed)
        && found != expected
    {
        return Err(LayerError::DigestMismatch {
            layer,
            expected: expected.to_string(),
            found: found.to_string(),
        });
    }
    if let Some(size) = spec.size
        && size != counting.count
    {
        return Err(LayerError::SizeMismatch {
            layer,
            expected: size,
            found: counting.count,
        });
    }
    Ok(record)
}

/// Chunks in flight to the hashing thread: with the decoder's 256 KiB chunks, at most 1 MiB of
/// a layer is held between the stages.
const PIPE_DEPTH: usize = 4;

/// Reads the stored stream (its chunks also going to `tee` when there is one): sniffs the
/// compression unless `spec` states it, walks the tar, then reads whatever is left, so that a
/// digest covers every stored byte whatever the walk did. Returns the walk's outcome and
/// whether reading the stored stream to its end succeeded.
fn read_stored(
    stored: &mut dyn Read,
    tee: Option<mpsc::SyncSender<Arc<Vec<u8>>>>,
    spec: &LayerSpec<'_>,
    tar: &TarStream<'_>,
    record: &mut LayerRecord,
) -> (Result<Option<Digest>, WalkError>, io::Result<()>) {
    match read_head(stored) {
        Ok(head) => {
            let compression = spec.compression.unwrap_or_else(|| sniff(&head));
            let mut input = Input::new(head, stored, tee);
            // A cataloger that panics fails its layer, as any other broken read does.
            let walk = std::panic::AssertUnwindSafe(|| tar.read(&mut input, compression, record));
            let outcome = std::panic::catch_unwind(walk).unwrap_or_else(|_| {
                Err(WalkError::Io(io::Error::other(
                    "the layer's tar reader stopped unexpectedly",
                )))
            });
            (outcome, input.finish())
        }
        Err(e) => {
            let drained = Input::new(Vec::new(), stored, tee).finish();
            (Err(WalkError::Io(e)), drained)
        }
    }
}

/// A running digest of chunks another thread reads.
struct Hasher {
    algorithm: Algorithm,
    context: aws_lc_rs::digest::Context,
}

impl Hasher {
    /// `None` for an algorithm the layer digest check does not use.
    fn new(algorithm: Algorithm) -> Option<Self> {
        use aws_lc_rs::digest;
        let aws = match algorithm {
            Algorithm::Sha256 => &digest::SHA256,
            Algorithm::Sha384 => &digest::SHA384,
            Algorithm::Sha512 => &digest::SHA512,
            _ => return None,
        };
        Some(Hasher {
            algorithm,
            context: digest::Context::new(aws),
        })
    }

    /// Hashes every chunk until the sender is dropped.
    fn hash_all(mut self, chunks: mpsc::Receiver<Arc<Vec<u8>>>) -> Option<Digest> {
        for chunk in chunks {
            self.context.update(&chunk);
        }
        Digest::from_bytes(self.algorithm, self.context.finish().as_ref()).ok()
    }
}

/// The compression the first bytes of a stream announce.
pub(crate) fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Reads up to four bytes (fewer only at the end of the stream).
fn read_head(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4);
    reader.take(4).read_to_end(&mut head)?;
    Ok(head)
}

enum WalkError {
    Io(io::Error),
    TooManyEntries,
}

impl From<io::Error> for WalkError {
    fn from(e: io::Error) -> Self {
        WalkError::Io(e)
    }
}

/// The decompressing, limited, hashing tar reader of one layer.
struct TarStream<'a> {
    /// The algorithm of the uncompressed digest to compute, when the layer is verified by it.
    uncompressed_digest: Option<Algorithm>,
    /// Whether to check gzip members' CRC-32.
    gzip_crc: bool,
    limits: &'a Limits,
    catalogers: &'a [Box<dyn Cataloger>],
    decompressed: &'a AtomicU64,
    bomb: &'a AtomicBool,
}

impl TarStream<'_> {
    /// Walks the tar and reads it to its end; returns the uncompressed digest when asked to
    /// compute it.
    fn read(
        &self,
        input: &mut Input<'_>,
        compression: Compression,
        record: &mut LayerRecord,
    ) -> Result<Option<Digest>, WalkError> {
        let mut decoded = Decoded::new(
            input,
            compression,
            self.gzip_crc,
            self.limits.max_decompressed_bytes,
            self.decompressed,
            self.bomb,
        )?;
        match self.uncompressed_digest {
            Some(algorithm) => {
                // Every decompressed byte is hashed, so bodies are read rather than skipped.
                let mut hashing = HashingReader::new(algorithm, &mut decoded)
                    .ok_or_else(|| io::Error::other("digest algorithm not computable"))?;
                self.walk(tar::Archive::new(&mut hashing).entries()?, record)?;
                // What follows the end-of-archive marker (padding, the compression trailer)
                // is read too, so that the whole stream is checked.
                io::copy(&mut hashing, &mut io::sink())?;
                Ok(Some(hashing.finish()))
            }
            None => {
                // Forward seeks skip the bodies no cataloger wants without copying them.
                self.walk(tar::Archive::new(&mut decoded).entries_with_seek()?, record)?;
                decoded.drain()?;
                Ok(None)
            }
        }
    }

    fn walk<'a, R: Read + 'a>(
        &self,
        entries: tar::Entries<'a, R>,
        record: &mut LayerRecord,
    ) -> Result<(), WalkError> {
        for entry in entries {
            let mut entry = entry?;
            record.entries += 1;
            if record.entries > self.limits.max_entries {
                return Err(WalkError::TooManyEntries);
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = match normalise(&raw) {
                Normalised::Path(p) => p,
                Normalised::Root => continue,
                Normalised::Escapes => {
                    record.warnings.push(format!(
                        "skipped entry `{raw}`: its path leads outside the image root"
                    ));
                    continue;
                }
            };
            let (parent, name) = split(&path);
            if name == ".wh..wh..opq" {
                record.opaque_dirs.insert(parent.to_owned());
                continue;
            }
            if name.starts_with(".wh..wh.") {
                // aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`): not part of the file set.
                continue;
            }
            if let Some(deleted) = name.strip_prefix(".wh.") {
                record.whiteouts.insert(join(parent, deleted));
                continue;
            }
            let header = entry.header();
            let kind = header.entry_type();
            let mode = header.mode().unwrap_or(0);
            record.note_entry(&path, kind.is_dir());
            if kind.is_file() || kind.is_gnu_sparse() {
                let info = FileInfo {
                    path: &path,
                    size: entry.size(),
                    mode,
                };
                let wanted: Vec<&dyn Cataloger> = self
                    .catalogers
                    .iter()
                    .map(AsRef::as_ref)
                    .filter(|c| c.wants(&info))
                    .collect();
                if !wanted.is_empty() {
                    let found = catalog_file(&wanted, &info, &mut entry)?;
                    if !found.is_empty() {
                        record.files.insert(path, found);
                    }
                }
            } else if kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                self.hard_link(record, path, &target, mode);
            }
        }
        Ok(())
    }

    fn hard_link(&self, record: &mut LayerRecord, path: String, target: &str, mode: u32) {
        let target = match normalise(target) {
            Normalised::Path(t) => t,
            _ => {
                record.warnings.push(format!(
                    "hard link `/{path}` points to `{target}`, outside the image root; not followed"
                ));
                return;
            }
        };
        if let Some(found) = record.files.get(&target) {
            let (from, to) = (format!("/{target}"), format!("/{path}"));
            let copied = found
                .iter()
                .cloned()
                .map(|mut f| {
                    for p in &mut f.packages {
                        p.evidence = std::mem::take(&mut p.evidence)
                            .into_iter()
                            .map(|mut e| {
                                if e.file == from {
                                    e.file.clone_from(&to);
                                }
                                e
                            })
                            .collect();
                    }
                    f
                })
                .collect();
            record.files.insert(path, copied);
            return;
        }
        let info = FileInfo {
            path: &path,
            size: 0,
            mode,
        };
        if self.catalogers.iter().any(|c| c.wants(&info)) {
            record.warnings.push(format!(
                "hard link `/{path}` to `/{target}`: the target was not read in this layer, so \
                 the link is not catalogued"
            ));
        }
    }
}

/// Runs the catalogers that want one file. A failure to read the layer stream is an error of
/// the layer; a cataloger's complaint about the content is a warning.
pub(crate) fn catalog_file(
    wanted: &[&dyn Cataloger],
    info: &FileInfo<'_>,
    content: &mut dyn Read,
) -> io::Result<Vec<FileFindings>> {
    let mut found = Vec::new();
    match wanted {
        [] => {}
        [only] => found.push(run(*only, info, content)?),
        many => {
            let mut spool = tempfile::spooled_tempfile(SPOOL_IN_MEMORY);
            io::copy(&mut content.take(info.size), &mut spool)?;
            for cataloger in many {
                spool.seek(SeekFrom::Start(0))?;
                found.push(run(*cataloger, info, &mut (&mut spool).take(info.size))?);
            }
        }
    }
    found.retain(|f| !f.packages.is_empty() || f.os.is_some() || !f.warnings.is_empty());
    Ok(found)
}

fn run(
    cataloger: &dyn Cataloger,
    info: &FileInfo<'_>,
    content: &mut dyn Read,
) -> io::Result<FileFindings> {
    let mut watched = Watched {
        inner: content,
        failed: None,
    };
    let mut out = Findings::default();
    match cataloger.catalog(info, &mut watched, &mut out) {
        Ok(()) => {}
        Err(e) => {
            if let Some(source) = watched.failed.take() {
                return Err(source);
            }
            out.warnings
                .push(format!("{} cataloger: {e}", cataloger.name()));
        }
    }
    Ok(FileFindings {
        cataloger: cataloger.name().to_owned(),
        packages: out.packages,
        os: out.os,
        warnings: out.warnings,
        edges: out.edges,
    })
}

/// Remembers whether the layer stream itself failed under a cataloger, so that a broken layer
/// is not mistaken for a broken file.
struct Watched<'a> {
    inner: &'a mut dyn Read,
    failed: Option<io::Error>,
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(copy)
            }
        }
    }
}

/// Counts stored bytes, refuses more than the descriptor's size and reports progress.
struct Counting<'a> {
    inner: &'a mut dyn Read,
    count: u64,
    max: Option<u64>,
    too_long: bool,
    progress: Option<&'a dyn Fn(u64)>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count = self.count.saturating_add(n as u64);
        if self.max.is_some_and(|m| self.count > m) {
            self.too_long = true;
            return Err(io::Error::other(
                "the blob is longer than its descriptor says",
            ));
        }
        if let Some(progress) = self.progress
            && n > 0
        {
            progress(self.count);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_inventory::Ecosystem;

    /// Records the content it was given as a package version.
    struct Echo(&'static str);

    impl Cataloger for Echo {
        fn name(&self) -> &'static str {
            self.0
        }

        fn wants(&self, file: &FileInfo<'_>) -> bool {
            file.path == "shared"
        }

        fn catalog(
            &self,
            file: &FileInfo<'_>,
            content: &mut dyn Read,
            out: &mut Findings,
        ) -> Result<(), crate::catalog::CatalogError> {
            let bytes = crate::catalog::read_to_limit(file, content, 1024)?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            out.packages
                .push(Package::new(Ecosystem::Generic, self.0).version(text));
            Ok(())
        }
    }

    #[test]
    fn every_cataloger_that_wants_a_file_reads_all_of_it() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, "shared", &b"hello"[..])
            .unwrap();
        let tar = builder.into_inner().unwrap();
        let catalogers: Vec<Box<dyn Cataloger>> = vec![Box::new(Echo("a")), Box::new(Echo("b"))];
        let record = scan_layer(
            &mut &tar[..],
            Some(Compression::None),
            &Limits::default(),
            &catalogers,
        )
        .unwrap();
        let seen: Vec<(&str, Option<&str>)> = record
            .packages()
            .map(|p| (p.name.as_str(), p.version.as_deref()))
            .collect();
        assert_eq!(seen, [("a", Some("hello")), ("b", Some("hello"))]);
    }
}

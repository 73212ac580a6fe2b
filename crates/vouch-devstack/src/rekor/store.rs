//! The log's durable store: one append-only file of framed records, synced before any entry
//! it holds is acknowledged.
//!
//! Why a plain file and not an embedded database (`redb`): a transparency log is append-only by
//! definition, its entries are immutable, and every index over them (leaf hash, artifact hash,
//! the Merkle tree's levels) is cheap to rebuild in memory at start. A single file written by a
//! single thread needs no transactions, no compaction and no dependency, and its crash
//! behaviour is easy to state: a record is either complete and checked, or it is a torn tail
//! from a write that was never synced, so never acknowledged, and it is cut off at the next
//! start.
//!
//! Record layout (little-endian):
//!
//! ```text
//! "VRK1" | body length: u32 | integrated time: i64 | body | SHA-256(0x00 || body)
//! ```
//!
//! The trailer is the entry's RFC 6962 leaf hash, so a record checks itself. Appends come in
//! batches (group commit): the writer thread writes every entry queued while the previous
//! `fdatasync` ran, syncs once, and only then answers the requests, so durability costs one
//! sync per batch rather than per entry.

use std::fs::{File, OpenOptions};
use std::io::BufReader;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use super::merkle::{Hash, leaf_hash};
use crate::Error;

const MAGIC: &[u8; 4] = b"VRK1";
const HEADER_LEN: u64 = 4 + 4 + 8;
const TRAILER_LEN: u64 = 32;

/// Largest body a record may hold; the HTTP layer refuses larger requests well before.
pub const MAX_RECORD_BODY: u32 = 8 << 20;

/// Where a stored entry is.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    /// Offset of the body in the file.
    pub offset: u64,
    /// Length of the body.
    pub len: u32,
    /// Unix seconds at which the log integrated the entry.
    pub integrated_time: i64,
    /// The entry's leaf hash.
    pub leaf: Hash,
}

/// The append-only file.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    file: File,
}

impl Store {
    /// Opens (or creates) the file at `path` and reads every complete record, cutting off a
    /// torn tail.
    pub fn open(path: &Path) -> Result<(Self, Vec<Located>), Error> {
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        if !existed {
            // The file's directory entry must survive a crash too.
            file.sync_all().map_err(|e| Error::io(path, e))?;
            if let Some(dir) = path.parent() {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| Error::io(dir, e))?;
            }
        }
        let (records, valid_len) = scan(&file).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if valid_len < file_len {
            eprintln!(
                "{}: cutting off {} bytes of an interrupted, unacknowledged append",
                path.display(),
                file_len - valid_len
            );
            file.set_len(valid_len)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(path, e))?;
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
            },
            records,
        ))
    }

    /// Appends `entries` (integrated time, body) at `end`, the current length of the file, and
    /// syncs. On error the file is cut back to `end`, so no partial batch is left behind.
    pub fn append(&self, end: u64, entries: &[(i64, &[u8])]) -> std::io::Result<Vec<Located>> {
        let mut buf = Vec::new();
        let mut located = Vec::with_capacity(entries.len());
        for (integrated_time, body) in entries {
            let len = u32::try_from(body.len())
                .ok()
                .filter(|l| *l <= MAX_RECORD_BODY)
                .ok_or_else(|| std::io::Error::other("entry body too large"))?;
            let leaf = leaf_hash(body);
            buf.extend_from_slice(MAGIC);
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&integrated_time.to_le_bytes());
            let offset = end + buf.len() as u64;
            buf.extend_from_slice(body);
            buf.extend_from_slice(&leaf);
            located.push(Located {
                offset,
                len,
                integrated_time: *integrated_time,
                leaf,
            });
        }
        let result = self
            .file
            .write_all_at(&buf, end)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            let _ = self.file.set_len(end);
            return Err(e);
        }
        Ok(located)
    }

    /// Reads the body of a stored entry.
    pub fn read(&self, at: &Located) -> Result<Vec<u8>, Error> {
        let mut body = vec![0u8; at.len as usize];
        self.file
            .read_exact_at(&mut body, at.offset)
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(body)
    }
}

/// Reads records from the start; returns the valid ones and the length they cover.
fn scan(file: &File) -> std::io::Result<(Vec<Located>, u64)> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut records = Vec::new();
    let mut pos = 0u64;
    loop {
        let mut header = [0u8; HEADER_LEN as usize];
        if !read_full(&mut reader, &mut header)? {
            break;
        }
        let (magic, rest) = header.split_at(4);
        let (len, time) = rest.split_at(4);
        let len = u32::from_le_bytes(len.try_into().map_err(std::io::Error::other)?);
        let integrated_time = i64::from_le_bytes(time.try_into().map_err(std::io::Error::other)?);
        if magic != MAGIC || len > MAX_RECORD_BODY {
            break;
        }
        let mut body = vec![0u8; len as usize];
        let mut trailer = [0u8; TRAILER_LEN as usize];
        if !read_full(&mut reader, &mut body)? || !read_full(&mut reader, &mut trailer)? {
            break;
        }
        let leaf = leaf_hash(&body);
        if leaf != trailer {
            break;
        }
        records.push(Located {
            offset: pos + HEADER_LEN,
            len,
            integrated_time,
            leaf,
        });
        pos += HEADER_LEN + u64::from(len) + TRAILER_LEN;
    }
    Ok((records, pos))
}

/// Fills `buf`; false at a clean or torn end of file.
fn read_full(reader: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (store, records) = Store::open(&path).unwrap();
        assert!(records.is_empty());
        let a = store.append(0, &[(10, b"one"), (11, b"two")]).unwrap();
        let end = std::fs::metadata(&path).unwrap().len();
        store.append(end, &[(12, b"three")]).unwrap();
        drop(store);

        // A torn record: header and half a body.
        let full = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all_at(b"VRK1\x20\0\0\0\0\0\0\0\0\0\0\0abc", full)
            .unwrap();
        drop(f);

        let (store, records) = Store::open(&path).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), full);
        assert_eq!(store.read(&records[1]).unwrap(), b"two");
        assert_eq!(records[2].integrated_time, 12);
        assert_eq!(records[0].leaf, a[0].leaf);
    }
}

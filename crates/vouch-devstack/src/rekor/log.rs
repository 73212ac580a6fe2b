//! One transparency log (the Rekor v1 log or the Rekor v2 log): its durable store, its
//! in-memory indexes and Merkle tree, and the writer thread that appends to it.
//!
//! Appends go through a single writer thread (group commit): it takes every request queued
//! while the previous sync ran, refuses duplicates, writes the batch, syncs it, and only then
//! publishes the new entries to readers and answers the requests. A request is therefore
//! acknowledged only once its entry is durable, and a reader never sees an entry that a crash
//! could take back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::oneshot;

use super::merkle::{Hash, Tree};
use super::store::{Located, Store};
use crate::Error;

/// Most requests committed with one sync.
const MAX_BATCH: usize = 1024;

/// The outcome of an append.
#[derive(Debug)]
pub enum Appended {
    /// Stored and synced: the entry's index, and the tree size that includes it.
    New {
        /// The entry's index.
        index: u64,
        /// The size of the tree once its batch was committed.
        tree_size: u64,
    },
    /// An entry with the same body exists already, at this index.
    Duplicate(u64),
    /// The store failed; nothing of the batch was kept.
    Failed(String),
}

struct Job {
    body: Vec<u8>,
    search_keys: Vec<String>,
    reply: oneshot::Sender<Appended>,
}

/// What readers see: only committed entries.
#[derive(Debug, Default)]
pub struct State {
    /// The Merkle tree over the entries' leaf hashes.
    pub tree: Tree,
    /// Where each entry is stored, by index.
    pub entries: Vec<Located>,
    by_leaf: HashMap<Hash, u64>,
    by_key: HashMap<String, Vec<u64>>,
}

impl State {
    /// The index of the entry with this leaf hash.
    pub fn index_of(&self, leaf: &Hash) -> Option<u64> {
        self.by_leaf.get(leaf).copied()
    }

    /// Indexes of the entries found under a search key (`sha256:HEX`).
    pub fn search(&self, key: &str) -> &[u64] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Where entry `index` is stored.
    pub fn entry(&self, index: u64) -> Option<Located> {
        self.entries.get(usize::try_from(index).ok()?).copied()
    }

    fn add(&mut self, located: Located, search_keys: Vec<String>) {
        let index = self.entries.len() as u64;
        self.tree.push(located.leaf);
        self.entries.push(located);
        self.by_leaf.insert(located.leaf, index);
        for key in search_keys {
            self.by_key.entry(key).or_default().push(index);
        }
    }
}

/// A transparency log.
#[derive(Debug)]
pub struct Log {
    /// The tree ID (Trillian's, in Rekor v1): part of the v1 origin and of every v1 entry ID.
    /// Rekor v2 has no tree IDs; its log keeps one all the same, unused.
    pub tree_id: i64,
    inner: Arc<Inner>,
    queue: mpsc::Sender<Job>,
    checkpoint: Mutex<Option<(u64, String)>>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    state: RwLock<State>,
}

impl Log {
    /// Opens the log in `dir`, rebuilding the tree and indexes from the stored entries, and
    /// starts its writer thread. `search_keys` recomputes an entry's search keys from its body.
    pub fn open(dir: &Path, search_keys: fn(&[u8]) -> Vec<String>) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tree_id = tree_id(dir)?;
        let (store, records) = Store::open(&dir.join("entries.log"))?;
        let mut state = State::default();
        for located in records {
            let body = store.read(&located)?;
            state.add(located, search_keys(&body));
        }
        let inner = Arc::new(Inner {
            store,
            state: RwLock::new(state),
        });
        let (queue, jobs) = mpsc::channel();
        let writer = inner.clone();
        let name = dir
            .file_name()
            .map_or_else(|| "log".to_owned(), |n| n.to_string_lossy().into_owned());
        std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || writer.run(&jobs))
            .map_err(|e| Error::io(dir, e))?;
        Ok(Self {
            tree_id,
            inner,
            queue,
            checkpoint: Mutex::new(None),
        })
    }

    /// Appends a canonical body; resolves once the entry is durable (or refused).
    pub async fn append(&self, body: Vec<u8>, search_keys: Vec<String>) -> Appended {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            body,
            search_keys,
            reply,
        };
        if self.queue.send(job).is_err() {
            return Appended::Failed("the log's writer has stopped".to_owned());
        }
        answer
            .await
            .unwrap_or_else(|_| Appended::Failed("the log's writer has stopped".to_owned()))
    }

    /// Reads the committed state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let state = self
            .inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&state)
    }

    /// Reads the body of a committed entry.
    pub fn body(&self, at: &Located) -> Result<Vec<u8>, Error> {
        self.inner.store.read(at)
    }

    /// The signed checkpoint for `size`, signed once per size and kept for the latest size.
    pub fn checkpoint(
        &self,
        size: u64,
        sign: impl FnOnce() -> Result<String, Error>,
    ) -> Result<String, Error> {
        let mut cache = self
            .checkpoint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, text)) = cache.as_ref().filter(|(cached, _)| *cached == size) {
            return Ok(text.clone());
        }
        let text = sign()?;
        if cache.as_ref().is_none_or(|(cached, _)| *cached < size) {
            *cache = Some((size, text.clone()));
        }
        Ok(text)
    }
}

impl Inner {
    fn run(&self, jobs: &mpsc::Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
    }

    fn commit(&self, batch: Vec<Job>) {
        let (size, end) = self.read_end();
        // Sort out duplicates, of committed entries or within the batch.
        let mut fresh: Vec<(Job, Hash)> = Vec::new();
        let mut replies: Vec<(oneshot::Sender<Appended>, Appended)> = Vec::new();
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        let mut dup_in_batch: Vec<(oneshot::Sender<Appended>, Hash)> = Vec::new();
        {
            let state = self
                .state
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for job in batch {
                let leaf = super::merkle::leaf_hash(&job.body);
                if let Some(index) = state.index_of(&leaf) {
                    replies.push((job.reply, Appended::Duplicate(index)));
                } else {
                    match in_batch.entry(leaf) {
                        std::collections::hash_map::Entry::Occupied(_) => {
                            dup_in_batch.push((job.reply, leaf));
                        }
                        std::collections::hash_map::Entry::Vacant(slot) => {
                            slot.insert(size + fresh.len() as u64);
                            fresh.push((job, leaf));
                        }
                    }
                }
            }
        }
        let now = crate::now_unix();
        let records: Vec<(i64, &[u8])> = fresh
            .iter()
            .map(|(job, _)| (now, job.body.as_slice()))
            .collect();
        let outcome = if records.is_empty() {
            Ok(Vec::new())
        } else {
            self.store.append(end, &records)
        };
        match outcome {
            Ok(located) => {
                let new_size = size + located.len() as u64;
                {
                    let mut state = self
                        .state
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for ((job, _), at) in fresh.iter_mut().zip(located) {
                        state.add(at, std::mem::take(&mut job.search_keys));
                    }
                }
                for (i, (job, _)) in fresh.into_iter().enumerate() {
                    let index = size + i as u64;
                    replies.push((
                        job.reply,
                        Appended::New {
                            index,
                            tree_size: new_size,
                        },
                    ));
                }
                for (reply, leaf) in dup_in_batch {
                    let index = in_batch.get(&leaf).copied().unwrap_or_default();
                    replies.push((reply, Appended::Duplicate(index)));
                }
            }
            Err(e) => {
                let message = format!("cannot store the entry: {e}");
                for (job, _) in fresh {
                    replies.push((job.reply, Appended::Failed(message.clone())));
                }
                for (reply, _) in dup_in_batch {
                    replies.push((reply, Appended::Failed(message.clone())));
                }
            }
        }
        for (reply, outcome) in replies {
            // The client may have gone; its entry is stored all the same.
            let _ = reply.send(outcome);
        }
    }

    /// The committed size and the file offset just past the last record.
    fn read_end(&self) -> (u64, u64) {
        let state = self
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let end = state
            .entries
            .last()
            .map_or(0, |l| l.offset + u64::from(l.len) + 32);
        (state.entries.len() as u64, end)
    }
}

/// Loads the tree ID from `DIR/tree-id`, or draws and stores one.
fn tree_id(dir: &Path) -> Result<i64, Error> {
    let path = dir.join("tree-id");
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| Error::State {
                path: path.clone(),
                message: format!("expected a positive tree ID, found `{}`", text.trim()),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 8];
            aws_lc_rs::rand::fill(&mut bytes)
                .map_err(|_| Error::Crypto("cannot draw a tree ID"))?;
            // Positive and non-zero, like Trillian's tree IDs.
            let id = (i64::from_be_bytes(bytes) & i64::MAX).max(1);
            crate::keys::write_private(&path, id.to_string().as_bytes())?;
            Ok(id)
        }
        Err(e) => Err(Error::io(&path, e)),
    }
}

//! The devstack's transparency logs.
//!
//! - [`v1`]: the Rekor v1 REST API (`hashedrekord` and `dsse` 0.0.1 entries, signed entry
//!   timestamps, RFC 6962 inclusion and consistency proofs, signed-note checkpoints);
//! - [`log`]: one log's state and its group-committing writer;
//! - [`store`]: the durable append-only file under `STATE/logs/`;
//! - [`merkle`]: RFC 6962 hashing and proofs;
//! - [`kinds`]: the entry types and their canonical bodies; [`pki`]: the signature checks;
//! - [`checkpoint`]: signed notes.
//!
//! Rekor v2 is not served yet.

pub mod checkpoint;
pub mod kinds;
pub mod log;
pub mod merkle;
pub mod pki;
pub mod store;
pub mod v1;

use crate::AppState;

/// The logs' state, opened at start.
#[derive(Debug)]
pub struct Logs {
    /// The Rekor v1 log, stored in `STATE/logs/rekor-v1/`.
    pub v1: log::Log,
}

impl Logs {
    /// Opens (or creates) the logs under `STATE/logs`, replaying what is stored there.
    pub fn open(state_dir: &std::path::Path) -> Result<Self, crate::Error> {
        let dir = state_dir.join("logs").join("rekor-v1");
        Ok(Self {
            v1: log::Log::open(&dir, kinds::search_keys)?,
        })
    }
}

/// Routes of the logs.
pub(crate) fn routes() -> axum::Router<AppState> {
    v1::routes()
}

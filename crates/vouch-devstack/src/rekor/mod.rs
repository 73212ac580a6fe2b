//! The devstack's transparency logs: a Rekor v1 log and a Rekor v2 log, two instances of the
//! same log code with their own keys and state.
//!
//! - [`v1`]: the Rekor v1 REST API (`hashedrekord` and `dsse` 0.0.1 entries, signed entry
//!   timestamps, RFC 6962 inclusion and consistency proofs, signed-note checkpoints);
//! - [`v2`]: the Rekor v2 API (`hashedrekord` and `dsse` 0.0.2 entries, inclusion proofs with
//!   C2SP checkpoints, C2SP tlog-tiles reads);
//! - [`log`]: one log's state and its group-committing writer;
//! - [`store`]: the durable append-only file under `STATE/logs/`;
//! - [`merkle`]: RFC 6962 hashing and proofs; [`tiles`]: the tree and entries as C2SP tiles;
//! - [`kinds`], [`kinds_v2`]: the entry types and their canonical bodies; [`pki`]: the
//!   signature checks;
//! - [`checkpoint`]: signed notes.

pub mod checkpoint;
pub mod kinds;
pub mod kinds_v2;
pub mod log;
pub mod merkle;
pub mod pki;
pub mod store;
pub mod tiles;
pub mod v1;
pub mod v2;

use crate::AppState;

/// The logs' state, opened at start.
#[derive(Debug)]
pub struct Logs {
    /// The Rekor v1 log, stored in `STATE/logs/rekor-v1/`.
    pub v1: log::Log,
    /// The Rekor v2 log, stored in `STATE/logs/rekor-v2/`.
    pub v2: log::Log,
}

impl Logs {
    /// Opens (or creates) the logs under `STATE/logs`, replaying what is stored there.
    pub fn open(state_dir: &std::path::Path) -> Result<Self, crate::Error> {
        let logs = state_dir.join("logs");
        Ok(Self {
            v1: log::Log::open(&logs.join("rekor-v1"), kinds::search_keys)?,
            // Rekor v2 has no search API, so its entries have no search keys.
            v2: log::Log::open(&logs.join("rekor-v2"), |_| Vec::new())?,
        })
    }
}

/// Routes of the logs.
pub(crate) fn routes() -> axum::Router<AppState> {
    v1::routes().merge(v2::routes())
}

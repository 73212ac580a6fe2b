//! Stub: the Rekor v1 and v2 logs.

use crate::AppState;

/// The logs' state, opened at start.
#[derive(Debug, Default)]
pub struct Logs {}

impl Logs {
    /// Opens (or creates) the logs under `STATE/logs`.
    pub fn open(_state_dir: &std::path::Path) -> Result<Self, crate::Error> {
        Ok(Self {})
    }
}

/// Routes of the logs.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}

//! Stub: the RFC 3161 timestamp authority.

use crate::AppState;

/// Routes of this service.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}

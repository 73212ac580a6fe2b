//! Stub: Fulcio (certificate issuance with an embedded SCT).

use crate::AppState;

/// Routes of this service.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}

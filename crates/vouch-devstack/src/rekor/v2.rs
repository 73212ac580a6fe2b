//! The Rekor v2 API (sigstore/rekor-tiles): `POST /api/v2/log/entries` to append, and the
//! C2SP tlog-tiles read API under the prefix `/api/v2` (`checkpoint`, `tile/<L>/<N>`,
//! `tile/entries/<N>`), at the paths sigstore-rust's `RekorV2Client` and sigstore-python fetch.
//!
//! As in Rekor v2, an append answers once the entry is in the log (here: synced to disk) with
//! the protobuf JSON of a `TransparencyLogEntry`: the log index, the log ID, the kind and
//! version, an inclusion proof with the checkpoint it is a proof for, and the canonical body;
//! no integrated time and no inclusion promise (Rekor v2 signs no entry timestamps, so clients
//! take a time from a timestamp authority). Write errors are in the gRPC gateway's form,
//! `{"code": GRPC_CODE, "message": "…", "details": []}`, with the HTTP status the gateway maps
//! the code to; tile and checkpoint errors are plain text, as from a static file server.
//!
//! The checkpoint's origin, and the name of its signature line, is the host name of the log's
//! URL, without scheme or port: real Rekor v2 uses its public host name
//! (`log2025-1.rekor.sigstore.dev`), and sigstore-go rebuilds the origin it verifies against
//! from the trusted root's `baseUrl` with `url.Hostname()`, which drops the port. It does not
//! change when the devstack restarts on another port.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::checkpoint;
use super::kinds_v2;
use super::log::Appended;
use super::merkle::Hash;
use super::tiles::{self, Resource, TilePath};
use crate::AppState;

/// gRPC status codes the gateway reports in error bodies.
const GRPC_INVALID_ARGUMENT: u16 = 3;
const GRPC_ALREADY_EXISTS: u16 = 6;
const GRPC_RESOURCE_EXHAUSTED: u16 = 8;
const GRPC_INTERNAL: u16 = 13;

/// Routes of the Rekor v2 API.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v2/log/entries", post(create))
        .route("/api/v2/checkpoint", get(current_checkpoint))
        .route("/api/v2/tile/{*path}", get(tile))
}

/// The origin of the Rekor v2 log served at `base_url` (`http://HOST:PORT`): `HOST`, without
/// the brackets of an IPv6 address.
pub fn origin(base_url: &str) -> String {
    let authority = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default().to_owned();
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .to_owned()
}

/// The log ID of the Rekor v2 log: its checkpoint key ID, as a trusted root lists it.
pub fn log_id(shared: &crate::Shared) -> [u8; 32] {
    checkpoint::note_key_id(&origin(&shared.base_url), &shared.keys.rekor_v2)
}

/// An error of the write API, as the gRPC gateway of rekor-tiles reports one.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: u16,
    message: String,
}

impl ApiError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: GRPC_INVALID_ARGUMENT,
            message: message.into(),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: GRPC_INTERNAL,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "message": self.message, "details": [] });
        (self.status, Json(body)).into_response()
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        Self::internal(e)
    }
}

async fn create(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body.map_err(|r| {
        let status = r.status();
        ApiError {
            status,
            code: if status == StatusCode::PAYLOAD_TOO_LARGE {
                GRPC_RESOURCE_EXHAUSTED
            } else {
                GRPC_INVALID_ARGUMENT
            },
            message: r.body_text(),
        }
    })?;
    let request: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::invalid(format!(
            "the request body is not JSON: line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let entry = kinds_v2::canonicalize(&request).map_err(|r| ApiError::invalid(r.0))?;
    let body = entry.canonical.body.clone();
    match shared
        .logs
        .v2
        .append(entry.canonical.body, Vec::new())
        .await
    {
        Appended::New { index, tree_size } => {
            let tle = transparency_log_entry(&shared, index, tree_size, entry.kind, &body)?;
            Ok((StatusCode::CREATED, Json(tle)).into_response())
        }
        Appended::Duplicate(index) => Err(ApiError {
            status: StatusCode::CONFLICT,
            code: GRPC_ALREADY_EXISTS,
            message: format!(
                "an equivalent entry already exists in the transparency log with index {index}"
            ),
        }),
        Appended::Failed(message) => Err(ApiError::internal(message)),
    }
}

/// The protobuf JSON of a `TransparencyLogEntry` for entry `index`, proven in the tree of
/// `tree_size` entries. 64-bit integers are strings, bytes are base64, as in protobuf JSON.
fn transparency_log_entry(
    shared: &AppState,
    index: u64,
    tree_size: u64,
    kind: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let found = shared.logs.v2.read(|s| {
        Some((
            s.tree.inclusion_proof(index, tree_size)?,
            s.tree.root(tree_size)?,
        ))
    });
    let (proof, root) =
        found.ok_or_else(|| ApiError::internal("the appended entry is not in the tree"))?;
    let checkpoint = signed_checkpoint(shared, tree_size, &root)?;
    Ok(json!({
        "logIndex": index.to_string(),
        "logId": { "keyId": B64.encode(log_id(shared)) },
        "kindVersion": { "kind": kind, "version": kinds_v2::VERSION },
        "inclusionProof": {
            "logIndex": index.to_string(),
            "rootHash": B64.encode(root),
            "treeSize": tree_size.to_string(),
            "hashes": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
            "checkpoint": { "envelope": checkpoint },
        },
        "canonicalizedBody": B64.encode(body),
    }))
}

fn signed_checkpoint(shared: &AppState, size: u64, root: &Hash) -> Result<String, crate::Error> {
    let key = &shared.keys.rekor_v2;
    let origin = origin(&shared.base_url);
    shared
        .logs
        .v2
        .checkpoint(size, || checkpoint::sign_note(key, &origin, size, root))
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

async fn current_checkpoint(State(shared): State<AppState>) -> Response {
    let (size, root) = shared.logs.v2.read(|s| {
        let size = s.tree.size();
        (size, s.tree.root(size))
    });
    let Some(root) = root else {
        return plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no root for the current size {size}"),
        );
    };
    match signed_checkpoint(&shared, size, &root) {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                // The checkpoint moves with every append.
                (header::CACHE_CONTROL, "no-cache"),
            ],
            text,
        )
            .into_response(),
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn tile(State(shared): State<AppState>, Path(path): Path<String>) -> Response {
    let tile = match TilePath::parse(&path) {
        Ok(tile) => tile,
        Err(message) => return plain(StatusCode::BAD_REQUEST, message),
    };
    let log = &shared.logs.v2;
    let width = tile.width();
    let bytes = match tile.resource {
        Resource::Hashes { level } => {
            log.read(|s| tiles::hash_tile(&s.tree, level, tile.index, width))
        }
        Resource::Entries => {
            let located = log.read(|s| {
                let first = tile.index.checked_mul(tiles::WIDTH)?;
                (0..width)
                    .map(|i| s.entry(first.checked_add(i)?))
                    .collect::<Option<Vec<_>>>()
            });
            match located {
                None => None,
                Some(located) => {
                    let bodies = located
                        .iter()
                        .map(|at| log.body(at))
                        .collect::<Result<Vec<_>, _>>();
                    match bodies {
                        Ok(bodies) => tiles::entry_bundle(&bodies),
                        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                    }
                }
            }
        }
    };
    let Some(bytes) = bytes else {
        let size = log.read(|s| s.tree.size());
        return plain(
            StatusCode::NOT_FOUND,
            format!("tile/{path} is not in the tree of {size} entries"),
        );
    };
    let mut response =
        ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response();
    // Tiles never change once they exist (a partial tile is a prefix of its full tile).
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn the_origin_is_the_host_name_of_the_url() {
        assert_eq!(origin("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(origin("http://[::1]:3000"), "::1");
        assert_eq!(
            origin("https://log2025-1.rekor.sigstore.dev"),
            "log2025-1.rekor.sigstore.dev"
        );
        assert_eq!(origin("http://localhost:80/some/path"), "localhost");
    }
}

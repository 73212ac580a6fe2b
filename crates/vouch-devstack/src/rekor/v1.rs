//! The Rekor v1 REST API (sigstore/rekor `openapi.yaml`): entries, their signed entry
//! timestamps and inclusion proofs, the tree head, consistency proofs and the log's key.
//!
//! Identifiers follow Rekor: an entry's UUID is the hex of its RFC 6962 leaf hash, and the
//! entry ID returned to clients is the 16-hex-digit tree ID followed by the UUID. Lookups
//! accept either form. Errors are JSON `{"code": HTTP status, "message": "…"}`.
//!
//! The signed entry timestamp is the log key's signature over the RFC 8785 canonical JSON of
//! `{body, integratedTime, logID, logIndex}`, with the body in base64 and the log ID in hex,
//! as Sigstore clients rebuild it to check the promise.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::kinds::{self, canonical_json};
use super::log::{Appended, Log};
use super::merkle::Hash;
use super::{checkpoint, pki};
use crate::AppState;

/// Most UUIDs, indexes or entries one search request may name (Rekor's limit).
const MAX_SEARCH: usize = 10;

/// Routes of the Rekor v1 API.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/log/entries", post(create).get(by_index))
        .route("/api/v1/log/entries/{id}", get(by_id))
        .route("/api/v1/log/entries/retrieve", post(retrieve))
        .route("/api/v1/index/retrieve", post(index_retrieve))
        .route("/api/v1/log", get(log_info))
        .route("/api/v1/log/proof", get(consistency))
        .route("/api/v1/log/publicKey", get(public_key))
}

/// An error as Rekor reports one.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    location: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            location: None,
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "code": self.status.as_u16(), "message": self.message }));
        let mut response = (self.status, body).into_response();
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        Self::internal(e)
    }
}

/// Parses a JSON request body, turning every failure into a Rekor error (413 for a body over
/// the limit, 400 otherwise).
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad(format!(
            "the request body is not JSON: line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

async fn create(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let proposed = json_body(body)?;
    let canonical = kinds::canonicalize(&proposed).map_err(|r| ApiError::bad(r.0))?;
    let log = &shared.logs.v1;
    match log.append(canonical.body, canonical.search_keys).await {
        Appended::New { index, tree_size } => {
            let (id, entry) = render(&shared, index, Some(tree_size))?;
            let location = format!("/api/v1/log/entries/{id}");
            let mut map = Map::new();
            map.insert(id.clone(), entry);
            let mut response = (StatusCode::CREATED, Json(Value::Object(map))).into_response();
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, v);
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"{id}\"")) {
                headers.insert(header::ETAG, v);
            }
            Ok(response)
        }
        Appended::Duplicate(index) => {
            let leaf = log
                .read(|s| s.entry(index))
                .ok_or_else(|| ApiError::internal("duplicate of a missing entry"))?
                .leaf;
            let id = entry_id(log.tree_id, &leaf);
            Err(ApiError {
                status: StatusCode::CONFLICT,
                message: format!(
                    "an equivalent entry already exists in the transparency log with UUID {id}"
                ),
                location: Some(format!("/api/v1/log/entries/{id}")),
            })
        }
        Appended::Failed(message) => Err(ApiError::internal(message)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexQuery {
    log_index: Option<u64>,
}

async fn by_index(
    State(shared): State<AppState>,
    query: Result<Query<IndexQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|r| ApiError::bad(r.body_text()))?;
    let index = q
        .log_index
        .ok_or_else(|| ApiError::bad("the `logIndex` query parameter is required"))?;
    let (id, entry) = render(&shared, index, None)?;
    Ok(Json(json!({ id: entry })))
}

async fn by_id(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let index = find_id(&shared.logs.v1, &id)?
        .ok_or_else(|| ApiError::not_found(format!("no entry with UUID {id}")))?;
    let (id, entry) = render(&shared, index, None)?;
    Ok(Json(json!({ id: entry })))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SearchLogQuery {
    #[serde(default, rename = "entryUUIDs")]
    entry_uuids: Vec<String>,
    #[serde(default)]
    log_indexes: Vec<i64>,
    #[serde(default)]
    entries: Vec<Value>,
}

async fn retrieve(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let value = json_body(body)?;
    let q: SearchLogQuery = serde_json::from_value(value)
        .map_err(|e| ApiError::bad(format!("not a search query: {e}")))?;
    if q.entry_uuids.len() > MAX_SEARCH
        || q.log_indexes.len() > MAX_SEARCH
        || q.entries.len() > MAX_SEARCH
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("at most {MAX_SEARCH} entryUUIDs, logIndexes and entries per search"),
        ));
    }
    let log = &shared.logs.v1;
    let mut indexes = Vec::new();
    for id in &q.entry_uuids {
        indexes.extend(find_id(log, id)?);
    }
    for i in &q.log_indexes {
        let i = u64::try_from(*i).map_err(|_| ApiError::bad("logIndexes must be >= 0"))?;
        if log.read(|s| s.entry(i).is_some()) {
            indexes.push(i);
        }
    }
    for proposed in &q.entries {
        let canonical = kinds::canonicalize(proposed).map_err(|r| ApiError::bad(r.0))?;
        let leaf = super::merkle::leaf_hash(&canonical.body);
        indexes.extend(log.read(|s| s.index_of(&leaf)));
    }
    let mut out = Vec::new();
    for index in indexes {
        let (id, entry) = render(&shared, index, None)?;
        out.push(json!({ id: entry }));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
struct SearchIndex {
    hash: Option<String>,
}

async fn index_retrieve(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let value = json_body(body)?;
    let q: SearchIndex = serde_json::from_value(value)
        .map_err(|e| ApiError::bad(format!("not a search index query: {e}")))?;
    let hash = q
        .hash
        .ok_or_else(|| ApiError::bad("this log searches by `hash` only"))?
        .to_ascii_lowercase();
    // Rekor takes a bare hex digest as SHA-256.
    let key = if hash.contains(':') {
        hash
    } else {
        format!("sha256:{hash}")
    };
    let log = &shared.logs.v1;
    let ids = log.read(|s| {
        s.search(&key)
            .iter()
            .filter_map(|i| s.entry(*i))
            .map(|e| Value::String(entry_id(log.tree_id, &e.leaf)))
            .collect::<Vec<_>>()
    });
    Ok(Json(Value::Array(ids)))
}

async fn log_info(State(shared): State<AppState>) -> Result<Json<Value>, ApiError> {
    let log = &shared.logs.v1;
    let (size, root) = log.read(|s| {
        let size = s.tree.size();
        (size, s.tree.root(size))
    });
    let root = root.ok_or_else(|| ApiError::internal("no root for the current size"))?;
    let checkpoint = signed_checkpoint(&shared, size, &root)?;
    Ok(Json(json!({
        "rootHash": vouch_digest::to_hex(&root),
        "treeSize": size,
        "signedTreeHead": checkpoint,
        "treeID": log.tree_id.to_string(),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProofQuery {
    first_size: Option<u64>,
    last_size: Option<u64>,
}

async fn consistency(
    State(shared): State<AppState>,
    query: Result<Query<ProofQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|r| ApiError::bad(r.body_text()))?;
    let first = q.first_size.unwrap_or(1);
    let last = q
        .last_size
        .ok_or_else(|| ApiError::bad("the `lastSize` query parameter is required"))?;
    if first < 1 || last < first {
        return Err(ApiError::bad(format!(
            "firstSize ({first}) must be at least 1 and at most lastSize ({last})"
        )));
    }
    let log = &shared.logs.v1;
    let (size, proof) = log.read(|s| {
        (
            s.tree.size(),
            s.tree.consistency_proof(first, last).zip(s.tree.root(last)),
        )
    });
    let (hashes, root) = proof.ok_or_else(|| {
        ApiError::bad(format!(
            "lastSize ({last}) is larger than the tree ({size} entries)"
        ))
    })?;
    Ok(Json(json!({
        "rootHash": vouch_digest::to_hex(&root),
        "hashes": hashes.iter().map(|h| vouch_digest::to_hex(h)).collect::<Vec<_>>(),
    })))
}

async fn public_key(State(shared): State<AppState>) -> Response {
    let pem = pki::pem_encode("PUBLIC KEY", shared.keys.rekor_v1.spki_der());
    ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response()
}

/// The entry ID clients see: tree ID (16 hex digits) then UUID.
fn entry_id(tree_id: i64, leaf: &Hash) -> String {
    format!("{tree_id:016x}{}", vouch_digest::to_hex(leaf))
}

/// The index of the entry an ID (UUID, or tree ID and UUID) names.
fn find_id(log: &Log, id: &str) -> Result<Option<u64>, ApiError> {
    let id = id.to_ascii_lowercase();
    let uuid = match id.len() {
        64 => id.as_str(),
        80 => {
            let (tree, uuid) = id.split_at(16);
            if tree != format!("{:016x}", log.tree_id) {
                return Ok(None);
            }
            uuid
        }
        _ => {
            return Err(ApiError::bad(format!(
                "`{id}` is not an entry UUID (64 hex digits, or 80 with the tree ID)"
            )));
        }
    };
    let leaf: Hash = vouch_digest::from_hex(uuid)
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ApiError::bad(format!("`{id}` is not hexadecimal")))?;
    Ok(log.read(|s| s.index_of(&leaf)))
}

fn signed_checkpoint(shared: &AppState, size: u64, root: &Hash) -> Result<String, ApiError> {
    let log = &shared.logs.v1;
    let key = &shared.keys.rekor_v1;
    let host = super::v2::origin(&shared.base_url);
    Ok(log.checkpoint(size, || {
        checkpoint::sign(key, &host, log.tree_id, size, root)
    })?)
}

/// Renders entry `index` as Rekor's LogEntry value, with its signed entry timestamp and an
/// inclusion proof in the tree of `tree_size` entries (the current tree when `None`).
fn render(
    shared: &AppState,
    index: u64,
    tree_size: Option<u64>,
) -> Result<(String, Value), ApiError> {
    let log = &shared.logs.v1;
    let found = log.read(|s| {
        let size = tree_size.unwrap_or_else(|| s.tree.size());
        let at = s.entry(index)?;
        let proof = s.tree.inclusion_proof(index, size)?;
        let root = s.tree.root(size)?;
        Some((at, size, proof, root))
    });
    let (at, size, proof, root) =
        found.ok_or_else(|| ApiError::not_found(format!("no entry at index {index}")))?;
    let body = log.body(&at)?;
    let key = &shared.keys.rekor_v1;
    let log_id = vouch_digest::to_hex(&key.key_id());
    let body_b64 = B64.encode(&body);
    let set_payload = canonical_json(&json!({
        "body": body_b64,
        "integratedTime": at.integrated_time,
        "logID": log_id,
        "logIndex": index,
    }))
    .map_err(|r| ApiError::internal(r.0))?;
    let set = key.sign(&set_payload)?;
    let checkpoint = signed_checkpoint(shared, size, &root)?;
    let entry = json!({
        "body": body_b64,
        "integratedTime": at.integrated_time,
        "logID": log_id,
        "logIndex": index,
        "verification": {
            "signedEntryTimestamp": B64.encode(set),
            "inclusionProof": {
                "logIndex": index,
                "rootHash": vouch_digest::to_hex(&root),
                "treeSize": size,
                "hashes": proof.iter().map(|h| vouch_digest::to_hex(h)).collect::<Vec<_>>(),
                "checkpoint": checkpoint,
            },
        },
    });
    Ok((entry_id(log.tree_id, &at.leaf), entry))
}

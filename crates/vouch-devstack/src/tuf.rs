//! The devstack's TUF repository: the trust material (`trusted_root.json`, and
//! `signing_config.json` as the target `signing_config.v0.2.json`) published as
//! [The Update Framework](https://theupdateframework.github.io/specification/latest/) 1.0
//! targets, laid out as the Sigstore TUF repositories are, so that TUF clients
//! (sigstore-rust's `sigstore-tuf`, python-tuf in sigstore-python, `vouch trust update`) can
//! bootstrap from `STATE/tuf_root.json` and follow the stack across restarts.
//!
//! Served under `/tuf/`:
//! - `N.root.json`: every root version, for clients walking the rotation chain (spec 5.3);
//! - `timestamp.json`, `N.snapshot.json` and `N.targets.json` (consistent snapshots, spec
//!   4.4 and 5.5-5.6), and `snapshot.json` / `targets.json` for people reading along;
//! - `targets/<sha256 hex>.<name>`: the targets, named by their hash (spec 5.7.3).
//!
//! Every role has its own Ed25519 key (`keys/tuf-root.p8`, `tuf-targets.p8`,
//! `tuf-snapshot.p8`, `tuf-timestamp.p8`) and a threshold of one. Keys are TUF `ed25519` keys
//! (the raw public key, hex), key IDs are the SHA-256 of the key's canonical JSON, and
//! signatures cover the OLPC canonical JSON of `signed`, as securesystemslib writes it: the
//! form python-tuf and sigstore-tuf verify.
//!
//! The trust material carries the stack's URL, so it changes at every start on a new port.
//! Each start therefore publishes new targets, snapshot and timestamp metadata, with versions
//! one higher than any published before (the counter is in `tuf/state.json`, written before
//! the files, so that a crash never reuses a version: a client holding version N would keep
//! it and refuse different content under the same number). A running stack publishes again when
//! half the timestamp's lifetime has passed. The root is kept while its keys are unchanged and
//! more than half its year remains, and otherwise replaced by the next version.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::keys::{KeyKind, SigningKey, write_public};
use crate::{AppState, Error, Shared, now_unix};

/// The root clients bootstrap from, in the state directory: the first root of the current
/// chain (`1.root.json` unless the root key was replaced).
pub const ROOT_FILE: &str = "tuf_root.json";

/// The repository's directory in the state directory, and its path in URLs.
pub const DIR: &str = "tuf";

/// The TUF specification version the metadata claims (python-tuf 7 implements 1.0.31).
pub const SPEC_VERSION: &str = "1.0.31";

/// The published targets: the file in the state directory, and its target name (the names the
/// Sigstore TUF repositories use, which the clients ask for).
pub const TARGETS: [(&str, &str); 2] = [
    ("trusted_root.json", "trusted_root.json"),
    ("signing_config.json", "signing_config.v0.2.json"),
];

const DAY: i64 = 86_400;
/// Lifetime of a root version.
pub const ROOT_LIFETIME: i64 = 365 * DAY;
/// Lifetime of targets metadata.
pub const TARGETS_LIFETIME: i64 = 90 * DAY;
/// Lifetime of snapshot metadata.
pub const SNAPSHOT_LIFETIME: i64 = 7 * DAY;
/// Lifetime of timestamp metadata.
pub const TIMESTAMP_LIFETIME: i64 = DAY;

/// The routes under `/tuf/`. The repository is published here, when the router is built at
/// start (after the trust material is written); if that fails, every TUF request answers 500
/// with the reason, and the rest of the stack still serves.
pub(crate) fn routes(shared: &Shared) -> Router<AppState> {
    let repo = Repository::publish(shared, now_unix())
        .map(Arc::new)
        .map_err(|e| Arc::new(e.to_string()));
    let meta = repo.clone();
    Router::new()
        .route(
            "/tuf/{file}",
            get(move |UrlPath(file): UrlPath<String>| {
                let repo = meta.clone();
                async move {
                    match &repo {
                        Ok(repo) => repo.metadata(&file, now_unix()),
                        Err(e) => unavailable(e),
                    }
                }
            }),
        )
        .route(
            "/tuf/targets/{file}",
            get(move |UrlPath(file): UrlPath<String>| {
                let repo = repo.clone();
                async move {
                    match &repo {
                        Ok(repo) => repo.target(&file),
                        Err(e) => unavailable(e),
                    }
                }
            }),
        )
}

/// A published repository.
#[derive(Debug)]
pub struct Repository {
    dir: PathBuf,
    keys: RoleKeys,
    targets: Vec<(&'static str, Vec<u8>)>,
    state: Mutex<Published>,
}

/// What `tuf/state.json` records, and when the current timestamp expires.
#[derive(Debug, Clone, Copy)]
struct Published {
    /// The root clients bootstrap from.
    anchor_root: u64,
    /// The last version of targets, snapshot and timestamp published (they move together).
    version: u64,
    /// Unix seconds at which the current timestamp metadata expires.
    timestamp_expires: i64,
}

#[derive(Debug)]
struct RoleKeys {
    root: SigningKey,
    targets: SigningKey,
    snapshot: SigningKey,
    timestamp: SigningKey,
}

impl Repository {
    /// Publishes the repository for the trust material now in the state directory: the root
    /// (kept, or the next version), `tuf_root.json`, and new targets, snapshot and timestamp
    /// metadata.
    pub fn publish(shared: &Shared, now: i64) -> Result<Self, Error> {
        let state_dir = &shared.state_dir;
        let dir = state_dir.join(DIR);
        let target_dir = dir.join("targets");
        std::fs::create_dir_all(&target_dir).map_err(|e| Error::io(&target_dir, e))?;
        let key_dir = state_dir.join("keys");
        std::fs::create_dir_all(&key_dir).map_err(|e| Error::io(&key_dir, e))?;
        let load = |name| SigningKey::load_or_generate(&key_dir, name, KeyKind::Ed25519);
        let keys = RoleKeys {
            root: load("tuf-root")?,
            targets: load("tuf-targets")?,
            snapshot: load("tuf-snapshot")?,
            timestamp: load("tuf-timestamp")?,
        };
        let mut targets = Vec::with_capacity(TARGETS.len());
        for (file, name) in TARGETS {
            let path = state_dir.join(file);
            targets.push((name, std::fs::read(&path).map_err(|e| Error::io(&path, e))?));
        }

        let (mut anchor_root, version) = read_state(&dir)?;
        if let Some(anchor) = update_root(&dir, &keys, now)? {
            anchor_root = anchor;
        }
        if anchor_root == 0 {
            // `state.json` was lost but roots remain: the newest is a sound place to start.
            anchor_root = newest_root(&dir)?.map_or(1, |(v, _)| v);
        }
        let anchor_path = dir.join(format!("{anchor_root}.root.json"));
        let anchor = std::fs::read(&anchor_path).map_err(|e| Error::io(&anchor_path, e))?;
        write_public(&state_dir.join(ROOT_FILE), &anchor)?;

        let repo = Self {
            dir,
            keys,
            targets,
            state: Mutex::new(Published {
                anchor_root,
                version,
                timestamp_expires: 0,
            }),
        };
        {
            let mut state = repo.lock();
            repo.publish_metadata(&mut state, now)?;
        }
        Ok(repo)
    }

    /// The directory holding the repository (`STATE/tuf`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The version of the targets, snapshot and timestamp metadata now served.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Published> {
        // The state is a few integers, consistent after every assignment: a panic elsewhere
        // cannot leave it half-written.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `GET /tuf/{file}`: metadata, read from disk so that what is served is what an operator
    /// sees in the state directory.
    fn metadata(&self, file: &str, now: i64) -> Response {
        if !is_metadata_name(file) {
            return not_found(file);
        }
        if file == "timestamp.json" {
            let mut state = self.lock();
            if now >= state.timestamp_expires - TIMESTAMP_LIFETIME / 2
                && let Err(e) = self.publish_metadata(&mut state, now)
            {
                return unavailable(&e.to_string());
            }
        }
        serve(&self.dir.join(file), file)
    }

    /// `GET /tuf/targets/{file}`.
    fn target(&self, file: &str) -> Response {
        if !is_target_name(file) {
            return not_found(file);
        }
        serve(&self.dir.join("targets").join(file), file)
    }

    /// Signs and writes targets, snapshot and timestamp metadata one version above the last.
    fn publish_metadata(&self, state: &mut Published, now: i64) -> Result<(), Error> {
        let version = state.version + 1;
        // Recorded before anything is written: see the module documentation.
        write_state(&self.dir, state.anchor_root, version)?;
        state.version = version;

        let mut listed = Map::new();
        for (name, bytes) in &self.targets {
            let sha256 = sha256_hex(bytes);
            let path = self.dir.join("targets").join(format!("{sha256}.{name}"));
            write_public(&path, bytes)?;
            listed.insert(
                (*name).to_owned(),
                json!({ "length": bytes.len(), "hashes": { "sha256": sha256 } }),
            );
        }
        let targets = sign(
            &json!({
                "_type": "targets",
                "spec_version": SPEC_VERSION,
                "version": version,
                "expires": expires(now, TARGETS_LIFETIME)?,
                "targets": listed,
            }),
            &self.keys.targets,
        )?;
        write_public(&self.dir.join(format!("{version}.targets.json")), &targets)?;
        write_public(&self.dir.join("targets.json"), &targets)?;

        let snapshot = sign(
            &json!({
                "_type": "snapshot",
                "spec_version": SPEC_VERSION,
                "version": version,
                "expires": expires(now, SNAPSHOT_LIFETIME)?,
                "meta": { "targets.json": meta_file(version, &targets) },
            }),
            &self.keys.snapshot,
        )?;
        write_public(
            &self.dir.join(format!("{version}.snapshot.json")),
            &snapshot,
        )?;
        write_public(&self.dir.join("snapshot.json"), &snapshot)?;

        // Last: until it is replaced, clients follow the previous timestamp to the previous
        // snapshot and targets, which `prune` keeps.
        let timestamp = sign(
            &json!({
                "_type": "timestamp",
                "spec_version": SPEC_VERSION,
                "version": version,
                "expires": expires(now, TIMESTAMP_LIFETIME)?,
                "meta": { "snapshot.json": meta_file(version, &snapshot) },
            }),
            &self.keys.timestamp,
        )?;
        write_public(&self.dir.join("timestamp.json"), &timestamp)?;
        state.timestamp_expires = now + TIMESTAMP_LIFETIME;
        self.prune(version);
        Ok(())
    }

    /// Removes snapshot and targets metadata, and target files, that neither this version nor
    /// the previous one refers to. Best effort: a file left behind is only disk space.
    fn prune(&self, version: u64) {
        let keep_from = version.saturating_sub(1);
        let mut keep_targets = BTreeSet::new();
        for v in keep_from..=version {
            let path = self.dir.join(format!("{v}.targets.json"));
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
                // Cannot tell what it refers to: keep every target file.
                return;
            };
            if let Some(listed) = doc.pointer("/signed/targets").and_then(Value::as_object) {
                for (name, info) in listed {
                    if let Some(hash) = info.pointer("/hashes/sha256").and_then(Value::as_str) {
                        keep_targets.insert(format!("{hash}.{name}"));
                    }
                }
            }
        }
        let remove = |dir: &Path, keep: &dyn Fn(&str) -> bool| {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !keep(&name) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        };
        remove(&self.dir, &|name| {
            let numbered = name
                .strip_suffix(".snapshot.json")
                .or_else(|| name.strip_suffix(".targets.json"))
                .and_then(|n| n.parse::<u64>().ok());
            numbered.is_none_or(|n| n >= keep_from)
        });
        remove(&self.dir.join("targets"), &|name| {
            !is_target_name(name) || keep_targets.contains(name)
        });
    }
}

/// Reads `tuf/state.json`: the anchor root and the last published metadata version (both 0
/// before the first start). Without it, the version is recovered from the metadata files, so
/// that no version is ever published twice.
fn read_state(dir: &Path) -> Result<(u64, u64), Error> {
    let path = dir.join("state.json");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((0, highest_published(dir)?));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let bad = |message: &str| Error::State {
        path: path.clone(),
        message: message.to_owned(),
    };
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    let field = |name: &str| {
        doc.get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| bad(&format!("expected a number in `{name}`")))
    };
    Ok((field("anchor_root")?, field("version")?))
}

/// The highest version among `N.snapshot.json`, `N.targets.json` and `timestamp.json`.
fn highest_published(dir: &Path) -> Result<u64, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut highest = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let numbered = name
            .strip_suffix(".snapshot.json")
            .or_else(|| name.strip_suffix(".targets.json"))
            .and_then(|n| n.parse::<u64>().ok());
        highest = highest.max(numbered.unwrap_or(0));
    }
    let timestamp = std::fs::read(dir.join("timestamp.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|doc| doc.pointer("/signed/version").and_then(Value::as_u64));
    Ok(highest.max(timestamp.unwrap_or(0)))
}

fn write_state(dir: &Path, anchor_root: u64, version: u64) -> Result<(), Error> {
    let doc = json!({ "anchor_root": anchor_root, "version": version });
    write_public(&dir.join("state.json"), &pretty(&doc))
}

/// Keeps the newest root when it lists the current keys and more than half its lifetime
/// remains; otherwise writes the next version. Returns the new anchor when the chain starts
/// again: the first root, or a root the previous root's key cannot vouch for (the root key
/// file was replaced, and with it the only key that could sign the rotation).
fn update_root(dir: &Path, keys: &RoleKeys, now: i64) -> Result<Option<u64>, Error> {
    let expected = root_keys_and_roles(keys)?;
    let newest = newest_root(dir)?;
    let mut continues = false;
    if let Some((_, path)) = &newest {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| Error::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let signed = doc.get("signed").cloned().unwrap_or(Value::Null);
        let same_keys = signed.get("keys") == expected.get("keys")
            && signed.get("roles") == expected.get("roles");
        let expires_at = signed
            .get("expires")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .map_or(i64::MIN, |t| t.as_second());
        if same_keys && expires_at - now > ROOT_LIFETIME / 2 {
            return Ok(None);
        }
        // The new root is signed with the current root key only, which satisfies the old
        // root's threshold exactly when the old root trusted that same key.
        continues = signed.pointer("/roles/root/keyids") == expected.pointer("/roles/root/keyids");
    }
    let version = newest.map_or(1, |(v, _)| v + 1);
    let mut signed = expected;
    if let Some(obj) = signed.as_object_mut() {
        obj.insert("_type".into(), json!("root"));
        obj.insert("spec_version".into(), json!(SPEC_VERSION));
        obj.insert("version".into(), json!(version));
        obj.insert("expires".into(), json!(expires(now, ROOT_LIFETIME)?));
        obj.insert("consistent_snapshot".into(), json!(true));
    }
    let bytes = sign(&signed, &keys.root)?;
    write_public(&dir.join(format!("{version}.root.json")), &bytes)?;
    Ok(if continues { None } else { Some(version) })
}

/// The newest `N.root.json` in the repository, if any.
fn newest_root(dir: &Path) -> Result<Option<(u64, PathBuf)>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut newest: Option<(u64, PathBuf)> = None;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(version) = name
            .strip_suffix(".root.json")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if newest.as_ref().is_none_or(|(v, _)| version > *v) {
            newest = Some((version, entry.path()));
        }
    }
    Ok(newest)
}

/// The `keys` and `roles` of a root listing the current keys: one key per role, threshold 1.
fn root_keys_and_roles(keys: &RoleKeys) -> Result<Value, Error> {
    let mut key_map = Map::new();
    let mut roles = Map::new();
    for (role, key) in [
        ("root", &keys.root),
        ("targets", &keys.targets),
        ("snapshot", &keys.snapshot),
        ("timestamp", &keys.timestamp),
    ] {
        let id = key_id(key)?;
        key_map.insert(id.clone(), tuf_key(key));
        roles.insert(role.to_owned(), json!({ "keyids": [id], "threshold": 1 }));
    }
    Ok(json!({ "keys": key_map, "roles": roles }))
}

/// A TUF `ed25519` key: the raw 32-byte public key, hex (spec 4.2).
fn tuf_key(key: &SigningKey) -> Value {
    json!({
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": { "public": vouch_digest::to_hex(key.public_raw()) },
    })
}

/// The key ID: SHA-256 of the canonical JSON of the key object, as securesystemslib computes
/// it.
fn key_id(key: &SigningKey) -> Result<String, Error> {
    Ok(sha256_hex(&canonical_json(&tuf_key(key))?))
}

/// The signed envelope `{"signatures": [...], "signed": {...}}`, indented as the Sigstore
/// repositories serve it (the signature covers the canonical form, not these bytes).
fn sign(signed: &Value, key: &SigningKey) -> Result<Vec<u8>, Error> {
    let signature = key.sign(&canonical_json(signed)?)?;
    let doc = json!({
        "signatures": [{ "keyid": key_id(key)?, "sig": vouch_digest::to_hex(&signature) }],
        "signed": signed,
    });
    Ok(pretty(&doc))
}

/// A snapshot or timestamp `meta` entry: version, and the length and hash of the exact bytes
/// served, so that a client refuses any other bytes under that version.
fn meta_file(version: u64, bytes: &[u8]) -> Value {
    json!({
        "version": version,
        "length": bytes.len(),
        "hashes": { "sha256": sha256_hex(bytes) },
    })
}

/// OLPC canonical JSON as securesystemslib writes it (what TUF signatures cover): object keys
/// sorted, no whitespace, only `"` and `\` escaped in strings, integers only. It is not RFC 8785:
/// that escapes control characters and formats floats, and the signatures would not verify.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if !(n.is_i64() || n.is_u64()) {
                return Err(Error::Crypto(
                    "canonical JSON has no floating-point numbers",
                ));
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::String(s) => write_canonical_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Byte order of UTF-8 is code-point order, which is how Python sorts the keys.
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical_string(key, out);
                out.push(b':');
                write_canonical(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_canonical_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for byte in s.bytes() {
        if byte == b'"' || byte == b'\\' {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.push(b'"');
}

/// `now + lifetime` as TUF writes dates: RFC 3339 in UTC, whole seconds (python-tuf refuses
/// fractions).
fn expires(now: i64, lifetime: i64) -> Result<String, Error> {
    let t = jiff::Timestamp::from_second(now.saturating_add(lifetime))
        .map_err(|_| Error::Crypto("expiry date out of range"))?;
    Ok(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::to_hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

fn pretty(doc: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// `N.root.json`, `N.snapshot.json`, `N.targets.json`, and the unversioned `timestamp.json`,
/// `snapshot.json` and `targets.json`. Nothing else is served: the names are checked before any
/// path is built.
fn is_metadata_name(name: &str) -> bool {
    if matches!(name, "timestamp.json" | "snapshot.json" | "targets.json") {
        return true;
    }
    ["root", "snapshot", "targets"].iter().any(|role| {
        name.strip_suffix(".json")
            .and_then(|n| n.strip_suffix(role))
            .and_then(|n| n.strip_suffix('.'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// `<64 hex digits>.<target name>`, for a published target name.
fn is_target_name(name: &str) -> bool {
    let Some((hash, target)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 64
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && TARGETS.iter().any(|(_, t)| *t == target)
}

fn serve(path: &Path, name: &str) -> Response {
    match std::fs::read(path) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => not_found(name),
        Err(e) => unavailable(&format!("{}: {e}", path.display())),
    }
}

fn not_found(name: &str) -> Response {
    let body = json!({ "code": 404, "message": format!("no TUF file `{name}`") });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

fn unavailable(message: &str) -> Response {
    let body = json!({ "code": 500, "message": format!("TUF repository: {message}") });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_escapes_only_quote_and_backslash() {
        let value = json!({ "b": [1, -2, true, null], "a": "x\"y\\z\nw", "A": {} });
        assert_eq!(
            canonical_json(&value).unwrap(),
            b"{\"A\":{},\"a\":\"x\\\"y\\\\z\nw\",\"b\":[1,-2,true,null]}"
        );
        assert!(canonical_json(&json!({ "x": 1.5 })).is_err());
    }

    #[test]
    fn names_outside_the_layout_are_refused() {
        for ok in [
            "1.root.json",
            "12.snapshot.json",
            "3.targets.json",
            "timestamp.json",
            "targets.json",
        ] {
            assert!(is_metadata_name(ok), "{ok}");
        }
        for bad in [
            "root.json",
            ".root.json",
            "1.timestamp.json",
            "../state.json",
            "state.json",
            "x1.root.json",
            "1.root.json.tmp",
        ] {
            assert!(!is_metadata_name(bad), "{bad}");
        }
        let hash = "ab".repeat(32);
        assert!(is_target_name(&format!("{hash}.trusted_root.json")));
        assert!(!is_target_name("trusted_root.json"));
        assert!(!is_target_name(&format!("{hash}.other.json")));
        assert!(!is_target_name(&format!(
            "{}.trusted_root.json",
            "AB".repeat(32)
        )));
    }
}

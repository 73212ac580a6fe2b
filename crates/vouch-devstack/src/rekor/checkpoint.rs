//! Rekor v1 checkpoints: signed notes over the tree head.
//!
//! Specifications: the signed-note format (golang.org/x/mod/sumdb/note) and the checkpoint
//! body of C2SP `tlog-checkpoint`: an origin line, the tree size, the base64 root hash, a blank
//! line, then one signature line `— NAME BASE64(KEYHINT || SIGNATURE)`. Rekor v1 names its
//! origin `HOSTNAME - TREEID` and signs with its ECDSA key, whose 4-byte key hint is the start
//! of the SHA-256 of its SubjectPublicKeyInfo (the same prefix as the log ID clients look keys
//! up by).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::merkle::Hash;
use crate::Error;
use crate::keys::SigningKey;

/// The host name in the origin and signature lines. Fixed, not the listening address: the
/// port may change across restarts, and a log's origin must not.
pub const HOSTNAME: &str = "vouch-devstack";

/// The origin line of a Rekor v1 log.
pub fn origin(tree_id: i64) -> String {
    format!("{HOSTNAME} - {tree_id}")
}

/// Signs the checkpoint of the tree of `size` leaves and root `root`.
pub fn sign(key: &SigningKey, tree_id: i64, size: u64, root: &Hash) -> Result<String, Error> {
    let body = format!("{}\n{size}\n{}\n", origin(tree_id), B64.encode(root));
    let sig = key.sign(body.as_bytes())?;
    let mut blob = key.key_id().get(..4).unwrap_or_default().to_vec();
    blob.extend_from_slice(&sig);
    Ok(format!(
        "{body}\n\u{2014} {HOSTNAME} {}\n",
        B64.encode(blob)
    ))
}

//! Checkpoints: signed notes over a log's tree head, for Rekor v1 and Rekor v2.
//!
//! Specifications: C2SP `signed-note` (c2sp.org/signed-note) and C2SP `tlog-checkpoint`
//! (c2sp.org/tlog-checkpoint): an origin line, the tree size, the base64 root hash, a blank
//! line, then one signature line `— NAME BASE64(KEYHINT || SIGNATURE)`.
//!
//! The two logs name their keys differently, as the real services do:
//! - Rekor v1 names its origin `HOST - TREEID` and signs with its ECDSA key, whose 4-byte
//!   key hint is the start of the SHA-256 of its SubjectPublicKeyInfo (the same prefix as the
//!   log ID clients look keys up by);
//! - Rekor v2 signs with Ed25519 under the name of its origin, and its key hint follows the
//!   signed-note spec: the first 4 bytes of `SHA-256(name || 0x0A || 0x01 || public key)`. The
//!   whole hash is the log ID of a Rekor v2 log in a trusted root, so that a verifier finds the
//!   key by the hint's prefix of the log ID, as it does for Rekor v1.

use aws_lc_rs::digest::{Context, SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::merkle::Hash;
use crate::Error;
use crate::keys::{KeyKind, SigningKey};

/// The signed-note signature type of Ed25519 (c2sp.org/signed-note, "Signature types").
const SIG_TYPE_ED25519: u8 = 0x01;

/// The origin line of a Rekor v1 log served on `host` (the host of its URL, without the port:
/// real Rekor names itself by its host name, and verifiers such as sigstore-js require the
/// signature's name to appear in the log's base URL; leaving out the port keeps the origin
/// stable when the stack restarts on another one).
pub fn origin(host: &str, tree_id: i64) -> String {
    format!("{host} - {tree_id}")
}

/// Signs the Rekor v1 checkpoint of the tree of `size` leaves and root `root`.
pub fn sign(
    key: &SigningKey,
    host: &str,
    tree_id: i64,
    size: u64,
    root: &Hash,
) -> Result<String, Error> {
    let body = format!("{}\n{size}\n{}\n", origin(host, tree_id), B64.encode(root));
    let sig = key.sign(body.as_bytes())?;
    let mut blob = key.key_id().get(..4).unwrap_or_default().to_vec();
    blob.extend_from_slice(&sig);
    Ok(format!("{body}\n\u{2014} {host} {}\n", B64.encode(blob)))
}

/// The full key ID of `key` as the signer of notes named `name`; its first 4 bytes are the key
/// hint of every signature line. Ed25519 keys follow the signed-note spec; ECDSA keys, which
/// the spec leaves to each ecosystem, use the SHA-256 of the SubjectPublicKeyInfo, as Rekor v2
/// does for them.
pub fn note_key_id(name: &str, key: &SigningKey) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    match key.kind() {
        KeyKind::Ed25519 => {
            ctx.update(name.as_bytes());
            ctx.update(b"\n");
            ctx.update(&[SIG_TYPE_ED25519]);
            ctx.update(key.public_raw());
        }
        KeyKind::EcdsaP256 => ctx.update(key.spki_der()),
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Signs a C2SP checkpoint for the log named `origin`, as Rekor v2 serves it: the key name of
/// the signature line is the origin, and the note carries no extension lines.
pub fn sign_note(key: &SigningKey, origin: &str, size: u64, root: &Hash) -> Result<String, Error> {
    let body = format!("{origin}\n{size}\n{}\n", B64.encode(root));
    let sig = key.sign(body.as_bytes())?;
    let mut blob = note_key_id(origin, key)
        .get(..4)
        .unwrap_or_default()
        .to_vec();
    blob.extend_from_slice(&sig);
    Ok(format!("{body}\n\u{2014} {origin} {}\n", B64.encode(blob)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ed25519_note_signature_verifies_and_carries_the_spec_key_hint() {
        let key = SigningKey::generate(KeyKind::Ed25519).unwrap();
        let root = [9u8; 32];
        let text = sign_note(&key, "log.example/v2", 3, &root).unwrap();
        let (body, sig_line) = text.split_once("\n\n").unwrap();
        assert_eq!(body, format!("log.example/v2\n3\n{}", B64.encode(root)));
        let line = sig_line
            .strip_prefix("\u{2014} log.example/v2 ")
            .unwrap()
            .strip_suffix('\n')
            .unwrap();
        let blob = B64.decode(line).unwrap();
        let (hint, sig) = blob.split_at(4);

        // The hint, written out from the spec rather than through `note_key_id`.
        let mut preimage = b"log.example/v2\n\x01".to_vec();
        preimage.extend_from_slice(key.public_raw());
        let hash = aws_lc_rs::digest::digest(&SHA256, &preimage);
        assert_eq!(hint, &hash.as_ref()[..4]);
        assert_eq!(note_key_id("log.example/v2", &key), hash.as_ref());

        // The signature covers the note text up to and including its last newline.
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ED25519,
            key.public_raw(),
        )
        .verify(format!("{body}\n").as_bytes(), sig)
        .unwrap();
        // The key ID depends on the name: another origin is another log.
        assert_ne!(
            note_key_id("other", &key),
            note_key_id("log.example/v2", &key)
        );
    }
}

//! The devstack's keys: generated on first start, kept as PKCS#8 DER files (mode 0600) under
//! `STATE/keys/`, and loaded again on every later start, so that trust material written once
//! stays valid across restarts.

use std::io::Write as _;
use std::path::Path;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair as _,
};

use crate::Error;

/// The key algorithms the devstack uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA over P-256 with SHA-256 (Fulcio, CT, Rekor v1, TSA, OIDC).
    EcdsaP256,
    /// Ed25519 (Rekor v2 checkpoints, TUF metadata).
    Ed25519,
}

/// A private key with its public half.
pub struct SigningKey {
    kind: KeyKind,
    pkcs8: Vec<u8>,
    spki: Vec<u8>,
    ecdsa_asn1: Option<EcdsaKeyPair>,
    ecdsa_fixed: Option<EcdsaKeyPair>,
    ed25519: Option<Ed25519KeyPair>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads `DIR/NAME.p8`, or generates it (and writes it with mode 0600) when absent.
    pub fn load_or_generate(dir: &Path, name: &str, kind: KeyKind) -> Result<Self, Error> {
        let path = dir.join(format!("{name}.p8"));
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_pkcs8(kind, bytes).map_err(|message| Error::State {
                path: path.clone(),
                message,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate(kind)?;
                write_private(&path, &key.pkcs8)?;
                Ok(key)
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// A fresh key, in memory only.
    pub fn generate(kind: KeyKind) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let doc = match kind {
            KeyKind::EcdsaP256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map_err(|_| Error::Crypto("cannot generate an ECDSA P-256 key"))?
            }
            KeyKind::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| Error::Crypto("cannot generate an Ed25519 key"))?,
        };
        Self::from_pkcs8(kind, doc.as_ref().to_vec())
            .map_err(|_| Error::Crypto("generated key does not load"))
    }

    fn from_pkcs8(kind: KeyKind, pkcs8: Vec<u8>) -> Result<Self, String> {
        match kind {
            KeyKind::EcdsaP256 => {
                let asn1 = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8)
                    .map_err(|e| format!("not an ECDSA P-256 PKCS#8 key: {e}"))?;
                let fixed = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .map_err(|e| format!("not an ECDSA P-256 PKCS#8 key: {e}"))?;
                let spki = asn1
                    .public_key()
                    .as_der()
                    .map_err(|_| "cannot encode the public key".to_owned())?
                    .as_ref()
                    .to_vec();
                Ok(Self {
                    kind,
                    pkcs8,
                    spki,
                    ecdsa_asn1: Some(asn1),
                    ecdsa_fixed: Some(fixed),
                    ed25519: None,
                })
            }
            KeyKind::Ed25519 => {
                let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
                    .map_err(|e| format!("not an Ed25519 PKCS#8 key: {e}"))?;
                let spki = pair
                    .public_key()
                    .as_der()
                    .map_err(|_| "cannot encode the public key".to_owned())?
                    .as_ref()
                    .to_vec();
                Ok(Self {
                    kind,
                    pkcs8,
                    spki,
                    ecdsa_asn1: None,
                    ecdsa_fixed: None,
                    ed25519: Some(pair),
                })
            }
        }
    }

    /// The key algorithm.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The private key, PKCS#8 DER (for certificate builders).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key, SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The raw public key: the uncompressed point for ECDSA, 32 bytes for Ed25519.
    pub fn public_raw(&self) -> &[u8] {
        if let Some(k) = &self.ecdsa_asn1 {
            return k.public_key().as_ref();
        }
        if let Some(k) = &self.ed25519 {
            return k.public_key().as_ref();
        }
        &[]
    }

    /// SHA-256 of the SubjectPublicKeyInfo: the log ID of CT and Rekor v1 logs.
    pub fn key_id(&self) -> [u8; 32] {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.spki);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    /// Signs `message`: an ASN.1 DER ECDSA signature over its SHA-256, or a raw Ed25519
    /// signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        if let Some(k) = &self.ecdsa_asn1 {
            let sig = k
                .sign(&SystemRandom::new(), message)
                .map_err(|_| Error::Crypto("ECDSA signing failed"))?;
            return Ok(sig.as_ref().to_vec());
        }
        if let Some(k) = &self.ed25519 {
            return Ok(k.sign(message).as_ref().to_vec());
        }
        Err(Error::Crypto("key cannot sign"))
    }

    /// Signs `message` with ECDSA P-256 in the fixed `r || s` form that JWS ES256 uses.
    pub fn sign_jws(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let k = self
            .ecdsa_fixed
            .as_ref()
            .ok_or(Error::Crypto("JWS signing needs an ECDSA P-256 key"))?;
        let sig = k
            .sign(&SystemRandom::new(), message)
            .map_err(|_| Error::Crypto("ECDSA signing failed"))?;
        Ok(sig.as_ref().to_vec())
    }
}

/// Writes a private file atomically with mode 0600, and syncs it: keys are written once and
/// must survive a crash right after.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| Error::io(path, e))
}

/// Writes a public file atomically (trust material, certificates).
pub(crate) fn write_public(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| Error::io(path, e))
}

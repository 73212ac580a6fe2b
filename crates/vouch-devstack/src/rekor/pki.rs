//! Verifiers of submitted entries: PEM public keys and certificates (RFC 7468), and signature
//! checks over a message or a prehashed digest with ECDSA P-256/P-384, Ed25519 and RSA
//! (PKCS#1 v1.5 or PSS).
//!
//! A submitted key is re-encoded as canonical PEM (64-column base64, one trailing newline), as
//! Rekor does, so that two submissions of the same key give the same entry body.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_cert::der::{Decode as _, Encode as _};

const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// Largest PEM verifier accepted, in bytes (a certificate with a long chain of extensions is a
/// few kilobytes).
const MAX_PEM: usize = 64 << 10;

/// The key algorithms the log accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// RSA.
    Rsa,
}

/// Digest algorithms of a hashedrekord entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlg {
    /// From the name Rekor uses (`sha256`, `sha384`, `sha512`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The name Rekor uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn aws(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }
}

/// A verifier: a public key, with the certificate it came from if any.
#[derive(Debug, Clone)]
pub struct Verifier {
    /// The SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
    /// The key algorithm.
    pub kind: KeyType,
    /// The canonical PEM text of what was submitted (certificate or public key).
    pub canonical_pem: String,
}

impl Verifier {
    /// Parses a PEM `CERTIFICATE` or `PUBLIC KEY`.
    pub fn from_pem(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_PEM {
            return Err(format!("the verifier is larger than {MAX_PEM} bytes"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "the verifier is not UTF-8 PEM")?;
        let (label, der) = pem_decode(text)?;
        Self::from_der(&label, der)
    }

    /// Parses a DER certificate (`label` `CERTIFICATE`) or SubjectPublicKeyInfo (`PUBLIC KEY`):
    /// the form Rekor v2 requests carry their verifiers in. The canonical PEM is the same as for
    /// the PEM form.
    pub fn from_der(label: &str, der: Vec<u8>) -> Result<Self, String> {
        if der.len() > MAX_PEM {
            return Err(format!("the verifier is larger than {MAX_PEM} bytes"));
        }
        let spki = match label {
            "CERTIFICATE" => {
                let cert = x509_cert::Certificate::from_der(&der)
                    .map_err(|e| format!("the certificate does not parse: {e}"))?;
                cert.tbs_certificate
                    .subject_public_key_info
                    .to_der()
                    .map_err(|e| format!("cannot encode the certificate's public key: {e}"))?
            }
            "PUBLIC KEY" => der.clone(),
            other => {
                return Err(format!(
                    "expected a PEM `CERTIFICATE` or `PUBLIC KEY`, found `{other}`"
                ));
            }
        };
        let kind = key_type(&spki)?;
        Ok(Self {
            spki,
            kind,
            canonical_pem: pem_encode(label, &der),
        })
    }

    /// Checks `sig` over `message`.
    pub fn verify_message(&self, message: &[u8], sig: &[u8]) -> Result<(), String> {
        let candidates: &[&'static dyn VerificationAlgorithm] = match self.kind {
            KeyType::P256 => &[&signature::ECDSA_P256_SHA256_ASN1],
            // Rekor's DSSE verifier hashes with SHA-256 whatever the curve; P-384 signers that
            // follow the curve's own hash use SHA-384. Both are accepted.
            KeyType::P384 => &[
                &signature::ECDSA_P384_SHA384_ASN1,
                &signature::ECDSA_P384_SHA256_ASN1,
            ],
            KeyType::Ed25519 => &[&signature::ED25519],
            KeyType::Rsa => &[
                &signature::RSA_PKCS1_2048_8192_SHA256,
                &signature::RSA_PSS_2048_8192_SHA256,
            ],
        };
        let ok = candidates.iter().any(|alg| {
            UnparsedPublicKey::new(*alg, &self.spki)
                .verify(message, sig)
                .is_ok()
        });
        if ok {
            Ok(())
        } else {
            Err("the signature does not verify with the given key".to_owned())
        }
    }

    /// Checks `sig` over a prehashed `digest`.
    pub fn verify_digest(&self, alg: DigestAlg, digest: &[u8], sig: &[u8]) -> Result<(), String> {
        use DigestAlg::{Sha256, Sha384, Sha512};
        let candidates: &[&'static dyn VerificationAlgorithm] = match (self.kind, alg) {
            (KeyType::P256, Sha256) => &[&signature::ECDSA_P256_SHA256_ASN1],
            (KeyType::P256, Sha384) => &[&signature::ECDSA_P256_SHA384_ASN1],
            (KeyType::P256, Sha512) => &[&signature::ECDSA_P256_SHA512_ASN1],
            (KeyType::P384, Sha256) => &[&signature::ECDSA_P384_SHA256_ASN1],
            (KeyType::P384, Sha384) => &[&signature::ECDSA_P384_SHA384_ASN1],
            (KeyType::P384, Sha512) => &[&signature::ECDSA_P384_SHA512_ASN1],
            (KeyType::Rsa, Sha256) => &[
                &signature::RSA_PKCS1_2048_8192_SHA256,
                &signature::RSA_PSS_2048_8192_SHA256,
            ],
            (KeyType::Rsa, Sha384) => &[
                &signature::RSA_PKCS1_2048_8192_SHA384,
                &signature::RSA_PSS_2048_8192_SHA384,
            ],
            (KeyType::Rsa, Sha512) => &[
                &signature::RSA_PKCS1_2048_8192_SHA512,
                &signature::RSA_PSS_2048_8192_SHA512,
            ],
            (KeyType::Ed25519, _) => {
                return Err(
                    "hashedrekord entries cannot carry Ed25519 signatures: Ed25519 signs the \
                     message, not a digest; log the signature as a DSSE envelope instead"
                        .to_owned(),
                );
            }
        };
        let digest = digest::Digest::import_less_safe(digest, alg.aws())
            .map_err(|_| format!("a {} digest is {} bytes", alg.name(), alg.output_len()))?;
        let ok = candidates.iter().any(|a| {
            UnparsedPublicKey::new(*a, &self.spki)
                .verify_digest(&digest, sig)
                .is_ok()
        });
        if ok {
            Ok(())
        } else {
            Err("the signature does not verify over the digest with the given key".to_owned())
        }
    }
}

fn key_type(spki_der: &[u8]) -> Result<KeyType, String> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| format!("the public key does not parse: {e}"))?;
    let oid = spki.algorithm.oid.to_string();
    match oid.as_str() {
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| "an EC public key without a named curve".to_owned())?
                .to_string();
            match curve.as_str() {
                OID_P256 => Ok(KeyType::P256),
                OID_P384 => Ok(KeyType::P384),
                other => Err(format!(
                    "unsupported elliptic curve {other}: the log accepts P-256 and P-384"
                )),
            }
        }
        OID_ED25519 => Ok(KeyType::Ed25519),
        OID_RSA => Ok(KeyType::Rsa),
        other => Err(format!(
            "unsupported public key algorithm {other}: the log accepts ECDSA P-256/P-384, \
             Ed25519 and RSA"
        )),
    }
}

pub use crate::pem::{decode as pem_decode, encode as pem_encode};

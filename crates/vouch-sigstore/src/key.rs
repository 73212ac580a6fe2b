//! Managed signing keys: ECDSA P-256 in PKCS#8, stored as PEM and encrypted with a passphrase.
//!
//! The encrypted form is the standard one (RFC 5958 `EncryptedPrivateKeyInfo`, PEM label
//! `ENCRYPTED PRIVATE KEY`) with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-256 and AES-256-CBC.
//! OpenSSL, Go and Java read it without vouch, so a key is never locked into this tool. cosign's
//! own `ENCRYPTED SIGSTORE PRIVATE KEY` format (scrypt and NaCl secretbox) is not read.
//!
//! All cryptography is aws-lc-rs; the ASN.1 is `der`.

use aws_lc_rs::cipher::{
    AES_256, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetString, OctetStringRef};
use der::{Decode as _, Encode as _, Sequence};
use sigstore_sign::crypto::KeyPair;
use sigstore_types::DerPublicKey;
use std::num::NonZeroU32;

/// PBKDF2 iterations for new keys: OWASP's 2023 figure for PBKDF2-HMAC-SHA-256.
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// The most iterations accepted when reading a key: a hostile file must not buy minutes of CPU.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Largest key file read, in bytes. A P-256 key in any of these forms is under 1 KiB.
pub const MAX_KEY_FILE_BYTES: usize = 64 << 10;

const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const PBKDF2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.12");
const HMAC_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.2.9");
const AES_256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

const LABEL_ENCRYPTED: &str = "ENCRYPTED PRIVATE KEY";
const LABEL_PLAIN: &str = "PRIVATE KEY";
const LABEL_PUBLIC: &str = "PUBLIC KEY";

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file is larger than [`MAX_KEY_FILE_BYTES`].
    #[error("{origin}: {size} bytes is more than the {limit}-byte limit for a key file")]
    TooLarge {
        /// Where the key came from.
        origin: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not PEM, or PEM with another label than a private key's.
    #[error("{origin}: {message}")]
    Pem {
        /// Where the key came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The DER inside the PEM is not the structure it should be.
    #[error("{origin}: {message}")]
    Structure {
        /// Where the key came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error(
        "{origin}: the key is encrypted; give its passphrase in VOUCH_PASSWORD or at the prompt"
    )]
    PassphraseRequired {
        /// Where the key came from.
        origin: String,
    },
    /// Decryption failed: almost always a wrong passphrase.
    #[error("{origin}: cannot decrypt the key: wrong passphrase, or the file is damaged")]
    Decrypt {
        /// Where the key came from.
        origin: String,
    },
    /// The key decrypted but is not an ECDSA P-256 key.
    #[error("{origin}: not an ECDSA P-256 private key (the only kind vouch signs with): {message}")]
    Unsupported {
        /// Where the key came from.
        origin: String,
        /// What the parser said.
        message: String,
    },
    /// An empty passphrase was given for a new key.
    #[error("refusing to encrypt a key with an empty passphrase")]
    EmptyPassphrase,
    /// The crypto library failed (random numbers, key generation).
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
}

/// A managed ECDSA P-256 signing key.
pub struct ManagedKey {
    pkcs8: zeroizing::Bytes,
    public: DerPublicKey,
}

impl std::fmt::Debug for ManagedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedKey")
            .field("public_key", &self.public_key_pem())
            .finish_non_exhaustive()
    }
}

impl ManagedKey {
    /// A new random key.
    pub fn generate() -> Result<Self, KeyFileError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| KeyFileError::Crypto("cannot generate an ECDSA P-256 key"))?;
        Self::from_pkcs8(document.as_ref(), "generated key")
    }

    fn from_pkcs8(pkcs8: &[u8], origin: &str) -> Result<Self, KeyFileError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8).map_err(|e| {
                KeyFileError::Unsupported {
                    origin: origin.to_owned(),
                    message: e.to_string(),
                }
            })?;
        let public =
            p256_spki(pair.public_key().as_ref()).map_err(|message| KeyFileError::Structure {
                origin: origin.to_owned(),
                message,
            })?;
        Ok(Self {
            pkcs8: zeroizing::Bytes(pkcs8.to_vec()),
            public,
        })
    }

    /// Reads a PEM private key: `ENCRYPTED PRIVATE KEY` (with `passphrase`) or `PRIVATE KEY`.
    pub fn from_pem(
        bytes: &[u8],
        passphrase: Option<&[u8]>,
        origin: &str,
    ) -> Result<Self, KeyFileError> {
        if bytes.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyFileError::TooLarge {
                origin: origin.to_owned(),
                size: bytes.len(),
                limit: MAX_KEY_FILE_BYTES,
            });
        }
        let (label, der) = pem_decode(bytes).map_err(|message| KeyFileError::Pem {
            origin: origin.to_owned(),
            message,
        })?;
        match label.as_str() {
            LABEL_PLAIN => Self::from_pkcs8(&der, origin),
            LABEL_ENCRYPTED => {
                let passphrase = passphrase.ok_or_else(|| KeyFileError::PassphraseRequired {
                    origin: origin.to_owned(),
                })?;
                let plain = decrypt(&der, passphrase, origin)?;
                Self::from_pkcs8(&plain.0, origin)
            }
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
                Err(KeyFileError::Pem {
                    origin: origin.to_owned(),
                    message: "this is a cosign key; convert it to PKCS#8 \
                              (`ENCRYPTED PRIVATE KEY`) or generate one with `vouch key generate`"
                        .to_owned(),
                })
            }
            other => Err(KeyFileError::Pem {
                origin: origin.to_owned(),
                message: format!(
                    "PEM block is `{other}`, expected `{LABEL_ENCRYPTED}` or `{LABEL_PLAIN}`"
                ),
            }),
        }
    }

    /// The key as `ENCRYPTED PRIVATE KEY` PEM, with a fresh salt and IV.
    pub fn to_encrypted_pem(&self, passphrase: &[u8]) -> Result<String, KeyFileError> {
        self.to_encrypted_pem_with(passphrase, PBKDF2_ITERATIONS)
    }

    /// As [`Self::to_encrypted_pem`], with a chosen iteration count (tests use fewer).
    pub fn to_encrypted_pem_with(
        &self,
        passphrase: &[u8],
        iterations: u32,
    ) -> Result<String, KeyFileError> {
        if passphrase.is_empty() {
            return Err(KeyFileError::EmptyPassphrase);
        }
        let iterations =
            NonZeroU32::new(iterations).ok_or(KeyFileError::Crypto("zero PBKDF2 iterations"))?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|_| KeyFileError::Crypto("no random salt"))?;
        aws_lc_rs::rand::fill(&mut iv).map_err(|_| KeyFileError::Crypto("no random IV"))?;
        let key = derive(passphrase, &salt, iterations);
        let cipher = PaddedBlockEncryptingKey::cbc_pkcs7(
            UnboundCipherKey::new(&AES_256, &key.0).map_err(|_| KeyFileError::Crypto("AES key"))?,
        )
        .map_err(|_| KeyFileError::Crypto("AES-CBC key"))?;
        let mut data = self.pkcs8.0.clone();
        cipher
            .less_safe_encrypt(
                &mut data,
                aws_lc_rs::cipher::EncryptionContext::Iv128(FixedLength::from(iv)),
            )
            .map_err(|_| KeyFileError::Crypto("AES-CBC encryption"))?;
        let info = encode_encrypted(&salt, iterations.get(), &iv, &data)
            .map_err(|_| KeyFileError::Crypto("DER encoding"))?;
        Ok(pem_encode(LABEL_ENCRYPTED, &info))
    }

    /// The public key as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), for `vouch verify --key`.
    pub fn public_key_pem(&self) -> String {
        pem_encode(LABEL_PUBLIC, self.public.as_bytes())
    }

    /// The public key, DER SubjectPublicKeyInfo.
    pub fn public_key(&self) -> &DerPublicKey {
        &self.public
    }

    /// The key pair the Sigstore signing crates sign with.
    pub(crate) fn key_pair(&self) -> Result<KeyPair, KeyFileError> {
        KeyPair::from_pkcs8_der(&self.pkcs8.0).map_err(|e| KeyFileError::Unsupported {
            origin: "managed key".to_owned(),
            message: e.to_string(),
        })
    }
}

/// Secret bytes wiped when dropped.
mod zeroizing {
    pub(super) struct Bytes(pub(super) Vec<u8>);

    impl Drop for Bytes {
        fn drop(&mut self) {
            // `black_box` makes the zeroed buffer observable, so the writes are not removed
            // as dead stores.
            self.0.fill(0);
            std::hint::black_box(&self.0);
        }
    }
}

fn derive(passphrase: &[u8], salt: &[u8], iterations: NonZeroU32) -> zeroizing::Bytes {
    let mut key = vec![0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        passphrase,
        &mut key,
    );
    zeroizing::Bytes(key)
}

#[derive(Sequence)]
struct AlgorithmIdentifier<'a> {
    algorithm: ObjectIdentifier,
    parameters: Option<AnyRef<'a>>,
}

#[derive(Sequence)]
struct EncryptedPrivateKeyInfo<'a> {
    algorithm: AlgorithmIdentifier<'a>,
    encrypted_data: OctetStringRef<'a>,
}

#[derive(Sequence)]
struct Pbes2Params<'a> {
    key_derivation: AlgorithmIdentifier<'a>,
    encryption: AlgorithmIdentifier<'a>,
}

#[derive(Sequence)]
struct Pbkdf2Params<'a> {
    salt: OctetStringRef<'a>,
    iterations: u32,
    key_length: Option<u32>,
    prf: Option<AlgorithmIdentifier<'a>>,
}

fn encode_encrypted(
    salt: &[u8],
    iterations: u32,
    iv: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, der::Error> {
    let null = der::asn1::Null.to_der()?;
    let prf = AlgorithmIdentifier {
        algorithm: HMAC_SHA256,
        parameters: Some(AnyRef::from_der(&null)?),
    };
    let kdf_params = Pbkdf2Params {
        salt: OctetStringRef::new(salt)?,
        iterations,
        key_length: None,
        prf: Some(prf),
    }
    .to_der()?;
    let iv = OctetString::new(iv)?.to_der()?;
    let pbes2 = Pbes2Params {
        key_derivation: AlgorithmIdentifier {
            algorithm: PBKDF2,
            parameters: Some(AnyRef::from_der(&kdf_params)?),
        },
        encryption: AlgorithmIdentifier {
            algorithm: AES_256_CBC,
            parameters: Some(AnyRef::from_der(&iv)?),
        },
    }
    .to_der()?;
    EncryptedPrivateKeyInfo {
        algorithm: AlgorithmIdentifier {
            algorithm: PBES2,
            parameters: Some(AnyRef::from_der(&pbes2)?),
        },
        encrypted_data: OctetStringRef::new(data)?,
    }
    .to_der()
}

fn decrypt(der: &[u8], passphrase: &[u8], origin: &str) -> Result<zeroizing::Bytes, KeyFileError> {
    let bad = |message: String| KeyFileError::Structure {
        origin: origin.to_owned(),
        message,
    };
    let info = EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|e| bad(format!("not a PKCS#8 EncryptedPrivateKeyInfo: {e}")))?;
    if info.algorithm.algorithm != PBES2 {
        return Err(bad(format!(
            "encryption scheme {} is not PBES2 (1.2.840.113549.1.5.13)",
            info.algorithm.algorithm
        )));
    }
    let params = info
        .algorithm
        .parameters
        .ok_or_else(|| bad("PBES2 without parameters".to_owned()))?;
    let pbes2: Pbes2Params<'_> = params
        .decode_as()
        .map_err(|e| bad(format!("PBES2 parameters: {e}")))?;
    if pbes2.key_derivation.algorithm != PBKDF2 {
        return Err(bad(format!(
            "key derivation {} is not PBKDF2 (scrypt keys are not read)",
            pbes2.key_derivation.algorithm
        )));
    }
    let kdf: Pbkdf2Params<'_> = pbes2
        .key_derivation
        .parameters
        .ok_or_else(|| bad("PBKDF2 without parameters".to_owned()))?
        .decode_as()
        .map_err(|e| bad(format!("PBKDF2 parameters: {e}")))?;
    match &kdf.prf {
        Some(prf) if prf.algorithm == HMAC_SHA256 => {}
        Some(prf) => {
            return Err(bad(format!(
                "PBKDF2 PRF {} is not HMAC-SHA-256",
                prf.algorithm
            )));
        }
        None => return Err(bad("PBKDF2 with HMAC-SHA-1 is not accepted".to_owned())),
    }
    if kdf.key_length.is_some_and(|n| n != 32) {
        return Err(bad("PBKDF2 key length is not 32 bytes (AES-256)".to_owned()));
    }
    let iterations = NonZeroU32::new(kdf.iterations)
        .filter(|n| n.get() <= MAX_PBKDF2_ITERATIONS)
        .ok_or_else(|| {
            bad(format!(
                "PBKDF2 iteration count {} is outside 1..={MAX_PBKDF2_ITERATIONS}",
                kdf.iterations
            ))
        })?;
    if pbes2.encryption.algorithm != AES_256_CBC {
        return Err(bad(format!(
            "cipher {} is not AES-256-CBC (2.16.840.1.101.3.4.1.42)",
            pbes2.encryption.algorithm
        )));
    }
    let iv: OctetStringRef<'_> = pbes2
        .encryption
        .parameters
        .ok_or_else(|| bad("AES-256-CBC without an IV".to_owned()))?
        .decode_as()
        .map_err(|e| bad(format!("AES-256-CBC IV: {e}")))?;
    let iv: [u8; 16] = iv
        .as_bytes()
        .try_into()
        .map_err(|_| bad(format!("AES-256-CBC IV is {} bytes, not 16", iv.len())))?;
    let key = derive(passphrase, kdf.salt.as_bytes(), iterations);
    let cipher = PaddedBlockDecryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(&AES_256, &key.0).map_err(|_| KeyFileError::Crypto("AES key"))?,
    )
    .map_err(|_| KeyFileError::Crypto("AES-CBC key"))?;
    let mut data = zeroizing::Bytes(info.encrypted_data.as_bytes().to_vec());
    let plain = cipher
        .decrypt(
            &mut data.0,
            aws_lc_rs::cipher::DecryptionContext::Iv128(FixedLength::from(iv)),
        )
        .map_err(|_| KeyFileError::Decrypt {
            origin: origin.to_owned(),
        })?;
    Ok(zeroizing::Bytes(plain.to_vec()))
}

/// SubjectPublicKeyInfo for an uncompressed P-256 point.
fn p256_spki(point: &[u8]) -> Result<DerPublicKey, String> {
    const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    let curve = SECP256R1.to_der().map_err(|e| e.to_string())?;
    let spki = spki::SubjectPublicKeyInfoRef {
        algorithm: spki::AlgorithmIdentifier {
            oid: ID_EC_PUBLIC_KEY,
            parameters: Some(AnyRef::from_der(&curve).map_err(|e| e.to_string())?),
        },
        subject_public_key: der::asn1::BitStringRef::from_bytes(point)
            .map_err(|e| e.to_string())?,
    };
    Ok(DerPublicKey::new(spki.to_der().map_err(|e| e.to_string())?))
}

pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block: its label and decoded body.
pub(crate) fn pem_decode(bytes: &[u8]) -> Result<(String, Vec<u8>), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let begin = text
        .find("-----BEGIN ")
        .ok_or_else(|| "no `-----BEGIN …-----` line: not a PEM file".to_owned())?;
    let rest = &text[begin + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| "unterminated BEGIN line".to_owned())?;
    let label = &rest[..label_end];
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_end
        .find(&end_marker)
        .ok_or_else(|| format!("no `{end_marker}` line"))?;
    let body: String = body_and_end[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if body.contains(':') {
        return Err(format!(
            "`{label}` has RFC 1421 headers (legacy OpenSSL encryption); re-encode it as PKCS#8"
        ));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| format!("`{label}` body is not base64: {e}"))?;
    Ok((label.to_owned(), der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_key_round_trips_and_wrong_passphrase_is_refused() {
        let key = ManagedKey::generate().unwrap();
        let pem = key.to_encrypted_pem_with(b"correct horse", 1000).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let back = ManagedKey::from_pem(pem.as_bytes(), Some(b"correct horse"), "k.pem").unwrap();
        assert_eq!(back.public_key_pem(), key.public_key_pem());
        let wrong = ManagedKey::from_pem(pem.as_bytes(), Some(b"battery staple"), "k.pem");
        assert!(
            matches!(wrong, Err(KeyFileError::Decrypt { .. })),
            "{wrong:?}"
        );
        let none = ManagedKey::from_pem(pem.as_bytes(), None, "k.pem");
        assert!(matches!(none, Err(KeyFileError::PassphraseRequired { .. })));
    }

    #[test]
    fn two_encryptions_differ_in_salt_and_iv() {
        let key = ManagedKey::generate().unwrap();
        let a = key.to_encrypted_pem_with(b"pw", 1000).unwrap();
        let b = key.to_encrypted_pem_with(b"pw", 1000).unwrap();
        assert_ne!(a, b);
        assert!(matches!(
            key.to_encrypted_pem_with(b"", 1000),
            Err(KeyFileError::EmptyPassphrase)
        ));
    }

    #[test]
    fn signatures_verify_under_the_exported_public_key() {
        let key = ManagedKey::generate().unwrap();
        let pair = key.key_pair().unwrap();
        let signature = pair.sign(b"message").unwrap();
        let spki = spki::SubjectPublicKeyInfoRef::from_der(key.public_key().as_bytes()).unwrap();
        let point = spki.subject_public_key.raw_bytes();
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
            point,
        )
        .verify(b"message", signature.as_bytes())
        .unwrap();
    }

    #[test]
    fn hostile_files_get_errors_not_panics() {
        for input in [
            &b""[..],
            b"-----BEGIN PRIVATE KEY-----\n",
            b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
            b"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
            b"-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nMAA=\n-----END EC PRIVATE KEY-----\n",
        ] {
            assert!(ManagedKey::from_pem(input, Some(b"pw"), "k.pem").is_err());
        }
    }
}

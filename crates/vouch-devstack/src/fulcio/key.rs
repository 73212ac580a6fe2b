//! The public key a certificate is requested for, and the proof that the caller holds its
//! private half: a signature over the token's `sub` claim, or the self-signature of a PKCS#10
//! certificate signing request ([RFC 2986](https://www.rfc-editor.org/rfc/rfc2986)).
//!
//! Fulcio accepts ECDSA over NIST P-256, P-384 and P-521, Ed25519 and RSA keys of 2048 to 4096
//! bits with exponent 65537 (its certificate specification, "Issued Certificate"); so does
//! this module.

use aws_lc_rs::signature::{self as sig, VerificationAlgorithm};
use x509_cert::der::asn1::{ObjectIdentifier, UintRef};
use x509_cert::der::{Decode, Encode as _, Reader as _, SliceReader};
use x509_cert::request::CertReq;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use super::FulcioError;

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// What kind of key a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    P256,
    P384,
    P521,
    Ed25519,
    Rsa,
}

/// A public key that has passed the proof of possession.
#[derive(Debug)]
pub(crate) struct ProvenKey {
    pub kind: KeyKind,
    /// The SubjectPublicKeyInfo, DER, as the client sent it.
    pub spki: Vec<u8>,
    /// The contents of its `subjectPublicKey` BIT STRING.
    pub raw: Vec<u8>,
}

impl rcgen::PublicKeyData for ProvenKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        // Only the key's algorithm identifier is written from this (id-ecPublicKey and its
        // curve, id-Ed25519, rsaEncryption); the hash half of the name does not matter.
        match self.kind {
            KeyKind::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyKind::P521 => &rcgen::PKCS_ECDSA_P521_SHA512,
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::Rsa => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// The `publicKeyRequest` form: `content` is a PEM `PUBLIC KEY` (or base64 DER) and `proof` is
/// base64 of a signature over `subject`, the token's `sub` claim.
pub(crate) fn from_public_key_request(
    content: &str,
    proof_b64: &str,
    subject: &str,
) -> Result<ProvenKey, FulcioError> {
    let der = if content.trim_start().starts_with("-----BEGIN") {
        pem_decode(content, &["PUBLIC KEY"]).map_err(|reason| FulcioError::BadKey {
            field: "publicKeyRequest.publicKey.content",
            reason,
        })?
    } else {
        decode_b64(content).ok_or_else(|| FulcioError::BadKey {
            field: "publicKeyRequest.publicKey.content",
            reason: "neither PEM nor base64 DER".into(),
        })?
    };
    let key = parse_spki(&der, "publicKeyRequest.publicKey.content")?;
    let proof = decode_b64(proof_b64).ok_or_else(|| FulcioError::BadKey {
        field: "publicKeyRequest.proofOfPossession",
        reason: "not base64".into(),
    })?;
    // sigstore-go and cosign sign the `sub` claim with the key's usual hash: SHA-256 for
    // P-256, Ed25519 and RSA, SHA-384 for P-384, SHA-512 for P-521.
    let alg: &'static dyn VerificationAlgorithm = match key.kind {
        KeyKind::P256 => &sig::ECDSA_P256_SHA256_ASN1,
        KeyKind::P384 => &sig::ECDSA_P384_SHA384_ASN1,
        KeyKind::P521 => &sig::ECDSA_P521_SHA512_ASN1,
        KeyKind::Ed25519 => &sig::ED25519,
        KeyKind::Rsa => &sig::RSA_PKCS1_2048_8192_SHA256,
    };
    sig::UnparsedPublicKey::new(alg, &key.raw)
        .verify(subject.as_bytes(), &proof)
        .map_err(|_| FulcioError::BadProof {
            what: "the signature over the identity token's `sub` claim does not verify with the public key",
        })?;
    Ok(key)
}

/// The `certificateSigningRequest` form: base64 of a PEM (or DER) PKCS#10 request, whose
/// self-signature is the proof of possession. Everything in it but the key is ignored.
pub(crate) fn from_csr(csr_b64: &str) -> Result<ProvenKey, FulcioError> {
    const FIELD: &str = "certificateSigningRequest";
    let bytes = decode_b64(csr_b64).ok_or_else(|| FulcioError::BadKey {
        field: FIELD,
        reason: "not base64".into(),
    })?;
    let der = match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
            pem_decode(text, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]).map_err(
                |reason| FulcioError::BadKey {
                    field: FIELD,
                    reason,
                },
            )?
        }
        _ => bytes,
    };
    let csr = CertReq::from_der(&der).map_err(|e| FulcioError::BadKey {
        field: FIELD,
        reason: format!("not a PKCS#10 request: {e}"),
    })?;
    let spki = csr
        .info
        .public_key
        .to_der()
        .map_err(|e| FulcioError::BadKey {
            field: FIELD,
            reason: format!("cannot encode its public key: {e}"),
        })?;
    let key = parse_spki(&spki, FIELD)?;
    // DER is canonical, so re-encoding the parsed request info gives the signed bytes.
    let info = csr.info.to_der().map_err(|e| FulcioError::BadKey {
        field: FIELD,
        reason: format!("cannot encode its request info: {e}"),
    })?;
    let hash = csr.algorithm.oid;
    let alg: &'static dyn VerificationAlgorithm = match (key.kind, hash) {
        (KeyKind::P256, ECDSA_SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
        (KeyKind::P256, ECDSA_SHA384) => &sig::ECDSA_P256_SHA384_ASN1,
        (KeyKind::P256, ECDSA_SHA512) => &sig::ECDSA_P256_SHA512_ASN1,
        (KeyKind::P384, ECDSA_SHA256) => &sig::ECDSA_P384_SHA256_ASN1,
        (KeyKind::P384, ECDSA_SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
        (KeyKind::P384, ECDSA_SHA512) => &sig::ECDSA_P384_SHA512_ASN1,
        (KeyKind::P521, ECDSA_SHA256) => &sig::ECDSA_P521_SHA256_ASN1,
        (KeyKind::P521, ECDSA_SHA384) => &sig::ECDSA_P521_SHA384_ASN1,
        (KeyKind::P521, ECDSA_SHA512) => &sig::ECDSA_P521_SHA512_ASN1,
        (KeyKind::Ed25519, ED25519) => &sig::ED25519,
        (KeyKind::Rsa, RSA_SHA256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (KeyKind::Rsa, RSA_SHA384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (KeyKind::Rsa, RSA_SHA512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (kind, oid) => {
            return Err(FulcioError::UnsupportedKey {
                found: format!("a {kind:?} key with CSR signature algorithm {oid}"),
            });
        }
    };
    let signature = csr
        .signature
        .as_bytes()
        .ok_or_else(|| FulcioError::BadKey {
            field: FIELD,
            reason: "its signature is not a whole number of bytes".into(),
        })?;
    sig::UnparsedPublicKey::new(alg, &key.raw)
        .verify(&info, signature)
        .map_err(|_| FulcioError::BadProof {
            what: "the certificate signing request's self-signature does not verify with its public key",
        })?;
    Ok(key)
}

/// Parses a SubjectPublicKeyInfo and checks that Fulcio would certify the key.
fn parse_spki(der: &[u8], field: &'static str) -> Result<ProvenKey, FulcioError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| FulcioError::BadKey {
        field,
        reason: format!("not a SubjectPublicKeyInfo: {e}"),
    })?;
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| FulcioError::BadKey {
            field,
            reason: "the key is not a whole number of bytes".into(),
        })?
        .to_vec();
    let oid = spki.algorithm.oid;
    let kind = if oid == EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        match curve {
            Some(P256) => KeyKind::P256,
            Some(P384) => KeyKind::P384,
            Some(P521) => KeyKind::P521,
            Some(other) => {
                return Err(FulcioError::UnsupportedKey {
                    found: format!("ECDSA over the curve {other}"),
                });
            }
            None => {
                return Err(FulcioError::UnsupportedKey {
                    found: "ECDSA without a named curve".into(),
                });
            }
        }
    } else if oid == ED25519 {
        KeyKind::Ed25519
    } else if oid == RSA {
        check_rsa(&raw)?;
        KeyKind::Rsa
    } else {
        return Err(FulcioError::UnsupportedKey {
            found: format!("a key of algorithm {oid}"),
        });
    };
    // A key that does not parse as a point or key of its kind is refused now rather than
    // certified: aws-lc-rs checks it when it verifies, which both forms do next.
    Ok(ProvenKey {
        kind,
        spki: der.to_vec(),
        raw,
    })
}

/// RSA keys: 2048 to 4096 bits, a multiple of 8, exponent 65537.
fn check_rsa(raw: &[u8]) -> Result<(), FulcioError> {
    let parsed = SliceReader::new(raw).and_then(|mut reader| {
        let pair = reader.sequence(|seq| Ok((UintRef::decode(seq)?, UintRef::decode(seq)?)))?;
        reader.finish(pair)
    });
    let (modulus, exponent) = parsed.map_err(|e| FulcioError::BadKey {
        field: "public key",
        reason: format!("not an RSA public key: {e}"),
    })?;
    let bytes = modulus.as_bytes();
    let bits =
        (bytes.len() * 8).saturating_sub(bytes.first().map_or(8, |b| b.leading_zeros() as usize));
    let exponent_ok = exponent.as_bytes() == [0x01, 0x00, 0x01];
    if !(2048..=4096).contains(&bits) || !bits.is_multiple_of(8) || !exponent_ok {
        return Err(FulcioError::UnsupportedKey {
            found: format!(
                "an RSA key of {bits} bits{}",
                if exponent_ok {
                    ""
                } else {
                    " with an exponent other than 65537"
                }
            ),
        });
    }
    Ok(())
}

pub(crate) use crate::pem::{decode_b64, decode_labelled as pem_decode, encode as pem_encode};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn pem_and_base64_decoding() {
        let pem = pem_encode("PUBLIC KEY", b"abc");
        assert_eq!(pem_decode(&pem, &["PUBLIC KEY"]).unwrap(), b"abc");
        assert!(
            pem_decode(&pem, &["CERTIFICATE"])
                .unwrap_err()
                .contains("`PUBLIC KEY`")
        );
        assert!(pem_decode("-----BEGIN PUBLIC KEY-----\nYWJj\n", &["PUBLIC KEY"]).is_err());
        assert_eq!(decode_b64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_b64("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_b64("+/8=").unwrap(), [0xfb, 0xff]);
        assert!(decode_b64("not base64!").is_none());
    }

    fn rsa_key(modulus_bytes: usize, exponent: &[u8]) -> Vec<u8> {
        let mut modulus = vec![0xffu8; modulus_bytes];
        modulus[modulus_bytes - 1] = 1;
        let n = UintRef::new(&modulus).unwrap().to_der().unwrap();
        let e = UintRef::new(exponent).unwrap().to_der().unwrap();
        let body = [n, e].concat();
        let len = x509_cert::der::Length::try_from(body.len()).unwrap();
        [vec![0x30], len.to_der().unwrap(), body].concat()
    }

    #[test]
    fn rsa_size_and_exponent_limits() {
        check_rsa(&rsa_key(256, &[1, 0, 1])).unwrap();
        check_rsa(&rsa_key(512, &[1, 0, 1])).unwrap();
        let small = check_rsa(&rsa_key(128, &[1, 0, 1])).unwrap_err();
        assert!(
            small.to_string().contains("RSA key of 1024 bits"),
            "{small}"
        );
        let large = check_rsa(&rsa_key(1024, &[1, 0, 1])).unwrap_err();
        assert!(large.to_string().contains("8192 bits"), "{large}");
        let exponent = check_rsa(&rsa_key(256, &[3])).unwrap_err();
        assert!(exponent.to_string().contains("exponent other than 65537"));
        assert!(matches!(
            check_rsa(b"junk"),
            Err(FulcioError::BadKey { .. })
        ));
    }
}

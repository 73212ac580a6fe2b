//! Signed certificate timestamps for precertificates, as RFC 6962 defines them, and the
//! embedding of an SCT list in a certificate.
//!
//! - The signed data: [RFC 6962 section 3.2](https://www.rfc-editor.org/rfc/rfc6962#section-3.2)
//!   (`digitally-signed struct` over a `precert_entry`: the issuer key hash and the
//!   TBSCertificate without the SCT list extension).
//! - The SCT and its list: [section 3.2](https://www.rfc-editor.org/rfc/rfc6962#section-3.2) and
//!   [section 3.3](https://www.rfc-editor.org/rfc/rfc6962#section-3.3) (extension
//!   1.3.6.1.4.1.11129.2.4.2, an OCTET STRING holding the TLS-encoded list).
//! - The `digitally-signed` encoding: [RFC 5246 section 4.7](https://www.rfc-editor.org/rfc/rfc5246#section-4.7).

use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Decode as _, Encode as _};

use crate::Error;
use crate::keys::SigningKey;

/// The X.509 extension that carries embedded SCTs.
pub const SCT_LIST_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// The same OID as rcgen takes it.
pub(crate) const SCT_LIST_ARCS: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// `sct_version` v1.
const V1: u8 = 0;
/// `SignatureType.certificate_timestamp`.
const CERTIFICATE_TIMESTAMP: u8 = 0;
/// `LogEntryType.precert_entry`.
const PRECERT_ENTRY: u16 = 1;
/// `HashAlgorithm.sha256` (RFC 5246 section 7.4.1.4.1).
const SHA256: u8 = 4;
/// `SignatureAlgorithm.ecdsa`.
const ECDSA: u8 = 3;

/// The bytes a CT log signs for a precertificate entry: `sct_version`, `signature_type`,
/// `timestamp` (milliseconds), `entry_type`, the issuer key hash, the TBSCertificate
/// (`opaque<1..2^24-1>`) and the SCT's extensions (empty here, `opaque<0..2^16-1>`).
pub fn precert_signed_data(
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs_certificate: &[u8],
) -> Result<Vec<u8>, Error> {
    let tbs_len = u32::try_from(tbs_certificate.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or(Error::Crypto("TBSCertificate too large for an SCT"))?;
    let mut out = Vec::with_capacity(tbs_certificate.len() + 50);
    out.push(V1);
    out.push(CERTIFICATE_TIMESTAMP);
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.extend_from_slice(&PRECERT_ENTRY.to_be_bytes());
    out.extend_from_slice(issuer_key_hash);
    // A u24 length: the low three bytes of the u32.
    out.extend_from_slice(tbs_len.to_be_bytes().get(1..).unwrap_or_default());
    out.extend_from_slice(tbs_certificate);
    out.extend_from_slice(&0u16.to_be_bytes());
    Ok(out)
}

/// Signs a precertificate entry with the CT log key and returns the serialised
/// `SignedCertificateTimestamp`.
pub fn sign_precert(
    log_key: &SigningKey,
    timestamp_ms: u64,
    issuer_key_hash: &[u8; 32],
    tbs_certificate: &[u8],
) -> Result<Vec<u8>, Error> {
    let signed = precert_signed_data(timestamp_ms, issuer_key_hash, tbs_certificate)?;
    let signature = log_key.sign(&signed)?;
    let sig_len = u16::try_from(signature.len()).map_err(|_| Error::Crypto("SCT signature"))?;
    let mut sct = Vec::with_capacity(signature.len() + 47);
    sct.push(V1);
    sct.extend_from_slice(&log_key.key_id());
    sct.extend_from_slice(&timestamp_ms.to_be_bytes());
    sct.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    sct.push(SHA256);
    sct.push(ECDSA);
    sct.extend_from_slice(&sig_len.to_be_bytes());
    sct.extend_from_slice(&signature);
    Ok(sct)
}

/// The value of the SCT list extension holding `scts`: a DER OCTET STRING around the
/// TLS-encoded `SignedCertificateTimestampList` (each SCT, and the list, `opaque<1..2^16-1>`).
pub fn list_extension_value(scts: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    for sct in scts {
        let len = u16::try_from(sct.len()).map_err(|_| Error::Crypto("SCT too large"))?;
        body.extend_from_slice(&len.to_be_bytes());
        body.extend_from_slice(sct);
    }
    let len = u16::try_from(body.len()).map_err(|_| Error::Crypto("SCT list too large"))?;
    let mut list = Vec::with_capacity(body.len() + 2);
    list.extend_from_slice(&len.to_be_bytes());
    list.extend_from_slice(&body);
    OctetString::new(list)
        .and_then(|o| o.to_der())
        .map_err(|_| Error::Crypto("cannot encode the SCT list"))
}

/// The TBSCertificate of `cert_der` with the SCT list extension removed, DER: what a verifier
/// reconstructs to check an embedded SCT (RFC 6962 section 3.2, "precert_entry").
pub fn tbs_without_sct_list(cert_der: &[u8]) -> Result<Vec<u8>, Error> {
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|_| Error::Crypto("the certificate does not parse"))?;
    let mut tbs = cert.tbs_certificate;
    if let Some(exts) = tbs.extensions.as_mut() {
        exts.retain(|e| e.extn_id != SCT_LIST_OID);
        if exts.is_empty() {
            tbs.extensions = None;
        }
    }
    tbs.to_der()
        .map_err(|_| Error::Crypto("cannot encode the TBSCertificate"))
}

/// The DER TBSCertificate of `cert_der`, exactly as it was signed.
pub fn tbs_of(cert_der: &[u8]) -> Result<Vec<u8>, Error> {
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|_| Error::Crypto("the certificate does not parse"))?;
    cert.tbs_certificate
        .to_der()
        .map_err(|_| Error::Crypto("cannot encode the TBSCertificate"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::keys::KeyKind;

    #[test]
    fn signed_data_layout_follows_rfc_6962() {
        let data = precert_signed_data(0x0102_0304_0506_0708, &[7; 32], b"tbs").unwrap();
        assert_eq!(data[0], 0, "v1");
        assert_eq!(data[1], 0, "certificate_timestamp");
        assert_eq!(&data[2..10], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&data[10..12], &[0, 1], "precert_entry");
        assert_eq!(&data[12..44], &[7; 32]);
        assert_eq!(&data[44..47], &[0, 0, 3], "u24 length");
        assert_eq!(&data[47..50], b"tbs");
        assert_eq!(&data[50..], &[0, 0], "no extensions");
    }

    #[test]
    fn sct_verifies_with_the_log_key() {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let sct = sign_precert(&key, 1_700_000_000_000, &[9; 32], b"tbs").unwrap();
        assert_eq!(sct[0], 0);
        assert_eq!(&sct[1..33], &key.key_id());
        assert_eq!(&sct[41..43], &[0, 0]);
        assert_eq!(&sct[43..45], &[SHA256, ECDSA]);
        let len = u16::from_be_bytes([sct[45], sct[46]]) as usize;
        assert_eq!(sct.len(), 47 + len);
        let signed = precert_signed_data(1_700_000_000_000, &[9; 32], b"tbs").unwrap();
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
            key.public_raw(),
        )
        .verify(&signed, &sct[47..])
        .unwrap();
        let ext = list_extension_value(std::slice::from_ref(&sct)).unwrap();
        assert_eq!(ext[0], 0x04, "OCTET STRING");
        let inner = OctetString::from_der(&ext).unwrap();
        let list = inner.as_bytes();
        assert_eq!(
            u16::from_be_bytes([list[0], list[1]]) as usize,
            sct.len() + 2
        );
        assert_eq!(&list[4..], &sct[..]);
    }
}

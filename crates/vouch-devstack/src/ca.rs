//! The devstack's certificate authorities: Fulcio's root and intermediate, and the timestamp
//! authority's root and signing certificate. Created on first start under `STATE/certs/` and
//! reused afterwards; the distinguished names are fixed so that an issuer can be rebuilt from
//! the stored key alone.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::Error;
use crate::keys::{KeyKind, SigningKey, write_public};

/// Organisation name in every devstack certificate, so that nobody mistakes one for a
/// production certificate.
pub const ORGANIZATION: &str = "vouch-devstack (test only)";

/// How long the devstack's CAs are valid: ten years from their creation.
const CA_VALIDITY_SECS: i64 = 10 * 365 * 24 * 3600;

/// A CA key and its certificate.
#[derive(Debug)]
pub struct Authority {
    /// The CA's key.
    pub key: SigningKey,
    /// Its certificate, DER.
    pub cert_der: Vec<u8>,
    common_name: &'static str,
    is_ca: bool,
}

impl Authority {
    /// An rcgen issuer for signing certificates with this authority.
    pub fn issuer(&self) -> Result<Issuer<'static, KeyPair>, Error> {
        let key = KeyPair::try_from(self.key.pkcs8_der())
            .map_err(|e| Error::Certificate(e.to_string()))?;
        Ok(Issuer::new(params(self.common_name, self.is_ca, 0), key))
    }
}

/// Fulcio's root and intermediate, and the timestamp authority's root and leaf.
#[derive(Debug)]
pub struct Authorities {
    /// Self-signed Fulcio root.
    pub fulcio_root: Authority,
    /// Fulcio intermediate, signed by the root; it issues signing certificates.
    pub fulcio_intermediate: Authority,
    /// Self-signed TSA root.
    pub tsa_root: Authority,
    /// TSA signing certificate (EKU timeStamping, critical), signed by the TSA root.
    pub tsa_leaf: Authority,
}

impl Authorities {
    /// Loads the authorities from `state`, creating what is missing. `now` is Unix seconds.
    pub fn load_or_create(state: &Path, now: i64) -> Result<Self, Error> {
        let keys = state.join("keys");
        let certs = state.join("certs");
        for dir in [&keys, &certs] {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let fulcio_root = root(
            &keys,
            &certs,
            "fulcio-root",
            "vouch-devstack Fulcio root",
            now,
        )?;
        let fulcio_intermediate = child(
            &keys,
            &certs,
            "fulcio-intermediate",
            "vouch-devstack Fulcio intermediate",
            true,
            &fulcio_root,
            now,
        )?;
        let tsa_root = root(&keys, &certs, "tsa-root", "vouch-devstack TSA root", now)?;
        let tsa_leaf = child(
            &keys,
            &certs,
            "tsa-leaf",
            "vouch-devstack TSA",
            false,
            &tsa_root,
            now,
        )?;
        Ok(Self {
            fulcio_root,
            fulcio_intermediate,
            tsa_root,
            tsa_leaf,
        })
    }
}

fn params(common_name: &str, is_ca: bool, not_before: i64) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    if is_ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::TimeStamping];
    }
    p.use_authority_key_identifier_extension = true;
    if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(not_before) {
        p.not_before = t;
    }
    if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(not_before + CA_VALIDITY_SECS) {
        p.not_after = t;
    }
    p
}

fn root(
    keys: &Path,
    certs: &Path,
    name: &str,
    cn: &'static str,
    now: i64,
) -> Result<Authority, Error> {
    let key = SigningKey::load_or_generate(keys, name, KeyKind::EcdsaP256)?;
    let cert_der = load_or_issue(&certs.join(format!("{name}.der")), &key, |pair| {
        params(cn, true, now - 60).self_signed(pair)
    })?;
    Ok(Authority {
        key,
        cert_der,
        common_name: cn,
        is_ca: true,
    })
}

fn child(
    keys: &Path,
    certs: &Path,
    name: &str,
    cn: &'static str,
    is_ca: bool,
    parent: &Authority,
    now: i64,
) -> Result<Authority, Error> {
    let key = SigningKey::load_or_generate(keys, name, KeyKind::EcdsaP256)?;
    let issuer = parent.issuer()?;
    let cert_der = load_or_issue(&certs.join(format!("{name}.der")), &key, |pair| {
        let mut p = params(cn, is_ca, now - 60);
        if is_ca {
            // Fulcio's certificate specification: the intermediate carries the codeSigning
            // EKU (verifiers such as webpki check the EKU along the whole path) and
            // SHOULD have pathlen 0; the root carries no EKU.
            p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        } else {
            // RFC 3161 section 2.3: the TSA's extended key usage is timeStamping, critical.
            p.extended_key_usages.clear();
            let mut eku = rcgen::CustomExtension::from_oid_content(
                &[2, 5, 29, 37],
                // SEQUENCE { OID 1.3.6.1.5.5.7.3.8 }
                vec![
                    0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
                ],
            );
            eku.set_criticality(true);
            p.custom_extensions.push(eku);
        }
        p.signed_by(pair, &issuer)
    })?;
    Ok(Authority {
        key,
        cert_der,
        common_name: cn,
        is_ca,
    })
}

/// Reads the certificate at `path`, or issues it with `issue` (given the subject's key pair)
/// and writes it there on first start.
fn load_or_issue(
    path: &Path,
    key: &SigningKey,
    issue: impl FnOnce(&KeyPair) -> Result<rcgen::Certificate, rcgen::Error>,
) -> Result<Vec<u8>, Error> {
    match std::fs::read(path) {
        Ok(der) => Ok(der),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pair = KeyPair::try_from(key.pkcs8_der())
                .map_err(|e| Error::Certificate(e.to_string()))?;
            let der = issue(&pair)
                .map_err(|e| Error::Certificate(e.to_string()))?
                .der()
                .to_vec();
            write_public(path, &der)?;
            Ok(der)
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

//! The signing certificate: who it names (from the token's claims), its Fulcio extensions, and
//! its embedded SCT.
//!
//! The profile is Fulcio's "Issued Certificate"
//! (<https://github.com/sigstore/fulcio/blob/main/docs/certificate-specification.md>): empty
//! subject, one critical SAN (email or URI), KeyUsage digitalSignature (critical), EKU
//! codeSigning, SKI and AKI, a positive 160-bit serial, and the token's issuer and CI claims in
//! the extensions of Fulcio's OID directory
//! (<https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>): `.1.1` to `.1.6` hold
//! raw strings, `.1.8` to `.1.22` DER UTF8Strings.

use rcgen::string::Ia5String;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::{Map, Value};
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::{Decode as _, Encode as _};

use super::FulcioError;
use super::key::ProvenKey;
use super::sct;
use crate::{Error, Shared};

/// How long a signing certificate is valid: ten minutes, as Fulcio's.
pub const CERT_VALIDITY_SECS: i64 = 600;

/// Where GitHub-style claims point when the token has no `server_url` claim.
const GITHUB: &str = "https://github.com";

/// Issues a certificate for `key`, naming the identity in `claims` (verified by the caller),
/// valid from `now` (Unix seconds) for [`CERT_VALIDITY_SECS`], with an SCT timestamped `now`.
/// Returns the certificate, DER.
pub(crate) fn issue(
    shared: &Shared,
    claims: &Map<String, Value>,
    key: &ProvenKey,
    now: i64,
) -> Result<Vec<u8>, FulcioError> {
    let (san, mut extensions) = identity(claims)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.subject_alt_names = vec![san];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    // ExplicitNoCa writes `CA:FALSE` and, as Fulcio's profile requires, a subject key ID.
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial()?);
    params.not_before = offset_time(now)?;
    params.not_after = offset_time(now + CERT_VALIDITY_SECS)?;
    params.custom_extensions.append(&mut extensions);

    let intermediate = &shared.authorities.fulcio_intermediate;
    let issuer = intermediate.issuer()?;
    let build = |params: &CertificateParams| {
        params
            .signed_by(key, &issuer)
            .map(|c| c.der().to_vec())
            .map_err(|e| FulcioError::Internal(Error::Certificate(e.to_string())))
    };

    // RFC 6962 section 3.2: the log signs the TBSCertificate the final certificate will have
    // once its SCT list extension is removed. rcgen's output is a function of the parameters,
    // so the same parameters without the extension give exactly that TBSCertificate; the
    // extension goes last so that removing it leaves every other byte in place.
    let precert_tbs = sct::tbs_of(&build(&params)?)?;
    let issuer_key_hash = spki_hash(&intermediate.cert_der)?;
    let timestamp_ms = u64::try_from(now)
        .map_err(|_| Error::Crypto("time before 1970"))?
        .saturating_mul(1000);
    let sct = sct::sign_precert(
        &shared.keys.ctlog,
        timestamp_ms,
        &issuer_key_hash,
        &precert_tbs,
    )?;
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            sct::SCT_LIST_ARCS,
            sct::list_extension_value(&[sct])?,
        ));
    let der = build(&params)?;

    // Both checks are cheap and turn a silent interoperability bug into a loud error.
    if sct::tbs_without_sct_list(&der)? != precert_tbs {
        return Err(Error::Certificate(
            "the certificate's TBSCertificate without its SCT differs from the one the SCT signs"
                .into(),
        )
        .into());
    }
    let cert = x509_cert::Certificate::from_der(&der).map_err(|e| {
        Error::Certificate(format!("rcgen produced an unparsable certificate: {e}"))
    })?;
    let issued_spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    if issued_spki != key.spki {
        return Err(FulcioError::BadKey {
            field: "public key",
            reason: "its SubjectPublicKeyInfo is not in the canonical DER form".into(),
        });
    }
    Ok(der)
}

/// The SAN and the Fulcio extensions for the token's claims.
fn identity(claims: &Map<String, Value>) -> Result<(SanType, Vec<CustomExtension>), FulcioError> {
    let claim = |name: &str| match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let issuer = claim("iss").ok_or(FulcioError::UnsupportedIdentity {
        reason: "the identity token has no `iss` claim".into(),
    })?;
    let subject = claim("sub").unwrap_or_default();
    let server = claim("server_url").unwrap_or_else(|| GITHUB.to_owned());
    let server = server.trim_end_matches('/');

    let san = if let Some(email) = claim("email") {
        if claims.get("email_verified") == Some(&Value::Bool(false)) {
            return Err(FulcioError::UnsupportedIdentity {
                reason: format!("the identity token's email `{email}` is not verified"),
            });
        }
        SanType::Rfc822Name(ia5(email)?)
    } else if let Some(workflow) = claim("job_workflow_ref") {
        SanType::URI(ia5(format!("{server}/{workflow}"))?)
    } else if subject.contains("://") {
        SanType::URI(ia5(subject)?)
    } else {
        return Err(FulcioError::UnsupportedIdentity {
            reason: format!(
                "the identity token has no `email` or `job_workflow_ref` claim, and its subject \
                 `{subject}` is not a URI"
            ),
        });
    };

    let mut ext = Vec::new();
    ext.push(raw(1, &issuer));
    // The deprecated GitHub extensions, raw strings.
    for (arc, name) in [
        (2, "event_name"),
        (3, "sha"),
        (4, "workflow"),
        (5, "repository"),
        (6, "ref"),
    ] {
        if let Some(v) = claim(name) {
            ext.push(raw(arc, &v));
        }
    }
    ext.push(utf8(8, &issuer)?);
    let url = |name: &str| claim(name).map(|v| format!("{server}/{v}"));
    let run = match (claim("repository"), claim("run_id"), claim("run_attempt")) {
        (Some(repo), Some(id), Some(attempt)) => Some(format!(
            "{server}/{repo}/actions/runs/{id}/attempts/{attempt}"
        )),
        _ => None,
    };
    let generic = [
        (9, url("job_workflow_ref")),
        (10, claim("job_workflow_sha")),
        (11, claim("runner_environment")),
        (12, url("repository")),
        (13, claim("sha")),
        (14, claim("ref")),
        (15, claim("repository_id")),
        (16, url("repository_owner")),
        (17, claim("repository_owner_id")),
        (18, url("workflow_ref")),
        (19, claim("workflow_sha")),
        (20, claim("event_name")),
        (21, run),
        (22, claim("repository_visibility")),
    ];
    for (arc, value) in generic {
        if let Some(v) = value {
            ext.push(utf8(arc, &v)?);
        }
    }
    Ok((san, ext))
}

/// A Fulcio extension `1.3.6.1.4.1.57264.1.ARC` holding a raw string (the deprecated form).
fn raw(arc: u64, value: &str) -> CustomExtension {
    CustomExtension::from_oid_content(&fulcio_oid(arc), value.as_bytes().to_vec())
}

/// A Fulcio extension `1.3.6.1.4.1.57264.1.ARC` holding a DER UTF8String.
fn utf8(arc: u64, value: &str) -> Result<CustomExtension, FulcioError> {
    let der = Utf8StringRef::new(value)
        .and_then(|s| s.to_der())
        .map_err(|e| Error::Certificate(format!("cannot encode `{value}`: {e}")))?;
    Ok(CustomExtension::from_oid_content(&fulcio_oid(arc), der))
}

fn fulcio_oid(arc: u64) -> [u64; 9] {
    [1, 3, 6, 1, 4, 1, 57264, 1, arc]
}

fn ia5(value: String) -> Result<Ia5String, FulcioError> {
    Ia5String::try_from(value.clone()).map_err(|_| FulcioError::UnsupportedIdentity {
        reason: format!("the identity `{value}` is not ASCII, which a SAN requires"),
    })
}

/// A positive 160-bit serial number, random.
fn serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 20];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Crypto("no randomness"))?;
    if let Some(first) = bytes.first_mut() {
        // Positive, and still 20 bytes long in DER.
        *first = (*first & 0x7f) | 0x40;
    }
    Ok(SerialNumber::from_slice(&bytes))
}

fn offset_time(unix: i64) -> Result<time::OffsetDateTime, Error> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|_| Error::Certificate(format!("time {unix} is out of range")))
}

/// SHA-256 of the SubjectPublicKeyInfo in `cert_der`: RFC 6962's `issuer_key_hash`.
fn spki_hash(cert_der: &[u8]) -> Result<[u8; 32], Error> {
    let cert = x509_cert::Certificate::from_der(cert_der)
        .map_err(|e| Error::Certificate(format!("the intermediate does not parse: {e}")))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &spki);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use serde_json::json;

    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn arcs(ext: &[CustomExtension]) -> Vec<u64> {
        ext.iter()
            .map(|e| e.oid_components().last().unwrap())
            .collect()
    }

    #[test]
    fn email_wins_then_workflow_then_uri_subject() {
        let (san, ext) = identity(&claims(json!({
            "iss": "http://127.0.0.1:1", "sub": "a@example.com", "email": "a@example.com"
        })))
        .unwrap();
        assert!(matches!(san, SanType::Rfc822Name(e) if e.as_str() == "a@example.com"));
        assert_eq!(arcs(&ext), [1, 8]);
        assert_eq!(ext[0].content(), b"http://127.0.0.1:1", "raw string");
        assert_eq!(ext[1].content()[0], 0x0c, "UTF8String");

        let (san, _) = identity(&claims(json!({
            "iss": "i", "sub": "repo:o/r", "job_workflow_ref": "o/r/.github/workflows/w.yml@main",
            "server_url": "https://ghe.example/"
        })))
        .unwrap();
        assert!(
            matches!(san, SanType::URI(u) if u.as_str() == "https://ghe.example/o/r/.github/workflows/w.yml@main")
        );

        let (san, _) = identity(&claims(json!({ "iss": "i", "sub": "spiffe://x/y" }))).unwrap();
        assert!(matches!(san, SanType::URI(u) if u.as_str() == "spiffe://x/y"));
    }

    #[test]
    fn unverified_non_ascii_and_plain_subjects_are_refused() {
        for bad in [
            json!({ "iss": "i", "sub": "a@example.com", "email": "a@example.com", "email_verified": false }),
            json!({ "iss": "i", "sub": "é@example.com", "email": "é@example.com" }),
            json!({ "iss": "i", "sub": "plain" }),
            json!({ "sub": "a@example.com", "email": "a@example.com" }),
        ] {
            let err = identity(&claims(bad.clone())).unwrap_err();
            assert!(
                matches!(err, FulcioError::UnsupportedIdentity { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn run_invocation_needs_all_three_claims() {
        let full = json!({ "iss": "i", "sub": "a@example.com", "email": "a@example.com",
            "repository": "o/r", "run_id": "1", "run_attempt": 2 });
        let (_, ext) = identity(&claims(full)).unwrap();
        assert_eq!(arcs(&ext), [1, 5, 8, 12, 21]);
        let partial = json!({ "iss": "i", "sub": "a@example.com", "email": "a@example.com",
            "repository": "o/r", "run_id": "1" });
        let (_, ext) = identity(&claims(partial)).unwrap();
        assert_eq!(arcs(&ext), [1, 5, 8, 12]);
    }
}

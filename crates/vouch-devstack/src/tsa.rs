//! The devstack's timestamp authority: the Time-Stamp Protocol of
//! [RFC 3161](https://www.rfc-editor.org/rfc/rfc3161) over HTTP, as sigstore/timestamp-authority
//! serves it.
//!
//! - `POST /api/v1/timestamp` takes a DER `TimeStampReq` (RFC 3161 section 2.4.1, content type
//!   `application/timestamp-query`) and answers a DER `TimeStampResp` (section 2.4.2, content type
//!   `application/timestamp-reply`) whose token is a CMS `SignedData`
//!   ([RFC 5652](https://www.rfc-editor.org/rfc/rfc5652)) over a `TSTInfo`, signed by the TSA
//!   leaf certificate with ECDSA P-256 and SHA-256. The signed attributes are contentType,
//!   messageDigest, signingTime and signingCertificateV2
//!   ([RFC 5816](https://www.rfc-editor.org/rfc/rfc5816), an `ESSCertIDv2` with the SHA-256 of
//!   the leaf certificate), which many verifiers require. With `certReq` set, the leaf and the
//!   root certificates travel in the token.
//! - `GET /api/v1/timestamp/certchain` answers the chain as PEM, leaf first.
//!
//! Every token is issued under [`POLICY`], an OID under the enterprise number that
//! [RFC 5612](https://www.rfc-editor.org/rfc/rfc5612) reserves for documentation and examples, so
//! that no verifier configured for a real TSA policy can mistake a devstack token for a real one.
//! This is a test TSA: its clock is the host's clock, its key sits in the state directory, and
//! its tokens prove nothing to anyone who does not trust this particular devstack.
//!
//! Refused queries get a 4xx answer with a JSON body `{"code": N, "message": "..."}`, as the
//! Sigstore services answer errors, rather than an RFC 3161 rejection status: every client in
//! view treats a non-200 answer as a failure and shows its message.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5911, rfc5912};
use der::asn1::{GeneralizedTime, Int, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode as _, Encode as _, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use crate::AppState;
use crate::ca::Authority;

/// The policy every devstack token is issued under: `1.3.6.1.4.1.32473.3161.1`, under the
/// documentation-only enterprise number 32473 of RFC 5612.
pub const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");

/// Largest query accepted, in bytes. A SHA-512 query with a nonce is about 100 bytes; the limit
/// leaves room for request extensions without letting a client stream megabytes at the TSA.
pub const MAX_QUERY_BYTES: usize = 4 * 1024;

/// Largest nonce accepted, in bytes. RFC 3161 leaves it open; 64-bit nonces are usual.
pub const MAX_NONCE_BYTES: usize = 32;

/// The content type of a query.
pub const QUERY_CONTENT_TYPE: &str = "application/timestamp-query";

/// The content type of a reply.
pub const REPLY_CONTENT_TYPE: &str = "application/timestamp-reply";

/// Accuracy claimed in every token, in seconds: the host clock is trusted as it is.
const ACCURACY_SECONDS: u8 = 1;

/// `id-ct-TSTInfo` (RFC 3161 section 2.4.2).
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Routes of this service.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/timestamp", post(timestamp))
        .route("/api/v1/timestamp/certchain", get(certchain))
}

/// Why a query was refused. Each variant names what was wrong and what is accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The body is not a DER `TimeStampReq`.
    #[error("the body is not a DER TimeStampReq (RFC 3161 section 2.4.1): {0}")]
    Malformed(der::Error),
    /// The version is not 1.
    #[error("TimeStampReq version is {found}, expected 1")]
    Version {
        /// The version in the query.
        found: u8,
    },
    /// The hash algorithm is not one this TSA accepts.
    #[error(
        "unsupported messageImprint hash algorithm {found}; accepted: SHA-256 ({}), SHA-384 ({}), SHA-512 ({})",
        rfc5912::ID_SHA_256,
        rfc5912::ID_SHA_384,
        rfc5912::ID_SHA_512
    )]
    UnsupportedHash {
        /// The algorithm OID in the query.
        found: ObjectIdentifier,
    },
    /// The hash algorithm has parameters other than absent or NULL.
    #[error("messageImprint hash algorithm parameters must be absent or NULL")]
    HashParameters,
    /// The hashed message does not have the length of the algorithm's digests.
    #[error("messageImprint {algorithm} digest must be {expected} bytes, found {found}")]
    ImprintLength {
        /// The algorithm's name.
        algorithm: &'static str,
        /// Its digest length.
        expected: usize,
        /// The length in the query.
        found: usize,
    },
    /// A policy other than [`POLICY`] was asked for.
    #[error("requested policy {requested} is not offered; this TSA issues under {POLICY}")]
    Policy {
        /// The policy in the query.
        requested: ObjectIdentifier,
    },
    /// The query carries extensions, none of which this TSA supports.
    #[error("request extensions are not supported; {count} present")]
    Extensions {
        /// How many there are.
        count: usize,
    },
    /// The nonce is longer than [`MAX_NONCE_BYTES`].
    #[error("nonce is {found} bytes long; at most {MAX_NONCE_BYTES} are accepted")]
    NonceTooLong {
        /// Its length in the query.
        found: usize,
    },
}

/// What can go wrong answering a query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The query was refused.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The TSA's certificate could not be read.
    #[error("the TSA certificate is not valid DER: {0}")]
    Certificate(der::Error),
    /// The token could not be encoded.
    #[error("cannot encode the timestamp token: {0}")]
    Encode(der::Error),
    /// The signature could not be made.
    #[error("cannot sign the timestamp token: {0}")]
    Sign(crate::Error),
    /// The time is outside what the token's time fields can carry.
    #[error("the current time cannot be encoded: {0}")]
    Time(der::Error),
}

/// What a token is issued for, besides the query: the time and a fresh serial number.
#[derive(Debug, Clone, Copy)]
pub struct Issue {
    /// The time to stamp, since the Unix epoch; whole seconds are kept.
    pub now: Duration,
    /// The token's serial number, as unsigned big-endian bytes; it must be unique per TSA.
    pub serial: [u8; 16],
}

/// Answers a DER `TimeStampReq` with a DER `TimeStampResp` (status granted) signed by `leaf`;
/// `root` travels with it when the query asks for certificates. Pure apart from the signature's
/// randomness: the caller supplies the time and the serial number.
pub fn respond(
    query: &[u8],
    leaf: &Authority,
    root: &Authority,
    issue: Issue,
) -> Result<Vec<u8>, TimestampError> {
    let request = parse_query(query)?;
    let leaf_cert = Certificate::from_der(&leaf.cert_der).map_err(TimestampError::Certificate)?;
    let serial = der::asn1::Uint::new(&issue.serial).map_err(TimestampError::Encode)?;
    let seconds = Duration::from_secs(issue.now.as_secs());

    let tst_info = TstInfo {
        version: 1,
        policy: POLICY,
        message_imprint: request.message_imprint,
        serial_number: Int::from(serial),
        gen_time: GeneralizedTime::from_unix_duration(seconds).map_err(TimestampError::Time)?,
        accuracy: Some(Accuracy {
            seconds: Some(ACCURACY_SECONDS),
        }),
        nonce: request.nonce,
    }
    .to_der()
    .map_err(TimestampError::Encode)?;

    // RFC 5652 section 11.3: UTCTime through 2049, GeneralizedTime from 2050.
    let signing_time = UtcTime::from_unix_duration(seconds)
        .map(Time::UtcTime)
        .or_else(|_| GeneralizedTime::from_unix_duration(seconds).map(Time::GeneralTime))
        .map_err(TimestampError::Time)?;
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(rfc5911::ID_CONTENT_TYPE, &ID_CT_TST_INFO)?,
        attribute(rfc5911::ID_MESSAGE_DIGEST, &octets(sha256(&tst_info))?)?,
        attribute(rfc5911::ID_SIGNING_TIME, &signing_time)?,
        attribute(
            rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
            &signing_certificate(&leaf_cert, &leaf.cert_der)?,
        )?,
    ])
    .map_err(TimestampError::Encode)?;
    // RFC 5652 section 5.4: the signature covers the DER of the attributes as a SET OF, not
    // their [0] IMPLICIT encoding inside SignerInfo.
    let to_sign = signed_attrs.to_der().map_err(TimestampError::Encode)?;
    let signature = leaf.key.sign(&to_sign).map_err(TimestampError::Sign)?;

    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf_cert.tbs_certificate.issuer.clone(),
            serial_number: leaf_cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: algorithm(rfc5912::ID_SHA_256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm(rfc5912::ECDSA_WITH_SHA_256),
        signature: octets(signature)?,
        unsigned_attrs: None,
    };
    let certificates = if request.cert_req {
        let root_cert =
            Certificate::from_der(&root.cert_der).map_err(TimestampError::Certificate)?;
        let set = SetOfVec::try_from(vec![
            CertificateChoices::Certificate(leaf_cert),
            CertificateChoices::Certificate(root_cert),
        ])
        .map_err(TimestampError::Encode)?;
        Some(CertificateSet(set))
    } else {
        None
    };
    let signed_data = SignedData {
        // RFC 5652 section 5.1: version 3 because the content type is not id-data.
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(rfc5912::ID_SHA_256)])
            .map_err(TimestampError::Encode)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::encode_from(&octets(tst_info)?).map_err(TimestampError::Encode)?),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(
            SetOfVec::try_from(vec![signer]).map_err(TimestampError::Encode)?,
        ),
    };
    let token = ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(TimestampError::Encode)?,
    };
    TimeStampResp {
        status: PkiStatusInfo { status: 0 },
        time_stamp_token: token,
    }
    .to_der()
    .map_err(TimestampError::Encode)
}

/// The TSA chain as PEM, leaf first, as `GET /api/v1/timestamp/certchain` serves it.
pub fn chain_pem(leaf: &Authority, root: &Authority) -> String {
    [&leaf.cert_der, &root.cert_der]
        .into_iter()
        .map(|der| crate::pem::encode("CERTIFICATE", der))
        .collect()
}

async fn timestamp(State(shared): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case(QUERY_CONTENT_TYPE) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content type must be `{QUERY_CONTENT_TYPE}` (a DER TimeStampReq), found `{content_type}`"
            ),
        );
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a timestamp query is at most {MAX_QUERY_BYTES} bytes"),
        )
    };
    if declared.is_some_and(|n| n > MAX_QUERY_BYTES as u64) {
        return too_large();
    }
    let Ok(query) = axum::body::to_bytes(body, MAX_QUERY_BYTES).await else {
        // Either the limit was hit on a body without a length, or the client went away.
        return too_large();
    };

    let mut serial = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut serial).is_err() {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot draw a serial number".to_owned(),
        );
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let a = &shared.authorities;
    match respond(&query, &a.tsa_leaf, &a.tsa_root, Issue { now, serial }) {
        Ok(reply) => ([(header::CONTENT_TYPE, REPLY_CONTENT_TYPE)], reply).into_response(),
        Err(TimestampError::Query(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn certchain(State(shared): State<AppState>) -> Response {
    let a = &shared.authorities;
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        chain_pem(&a.tsa_leaf, &a.tsa_root),
    )
        .into_response()
}

/// A JSON error in the shape of the Sigstore services' `{code, message}`.
fn error(status: StatusCode, message: String) -> Response {
    let body = serde_json::json!({ "code": status.as_u16(), "message": message });
    (status, axum::Json(body)).into_response()
}

/// A query that passed every check.
struct Query {
    message_imprint: MessageImprint,
    nonce: Option<Int>,
    cert_req: bool,
}

fn parse_query(der: &[u8]) -> Result<Query, QueryError> {
    let req = TimeStampReq::from_der(der).map_err(QueryError::Malformed)?;
    if req.version != 1 {
        return Err(QueryError::Version { found: req.version });
    }
    let imprint = &req.message_imprint;
    let (name, expected) = match imprint.hash_algorithm.oid {
        rfc5912::ID_SHA_256 => ("SHA-256", 32),
        rfc5912::ID_SHA_384 => ("SHA-384", 48),
        rfc5912::ID_SHA_512 => ("SHA-512", 64),
        found => return Err(QueryError::UnsupportedHash { found }),
    };
    if let Some(params) = &imprint.hash_algorithm.parameters
        && !params.is_null()
    {
        return Err(QueryError::HashParameters);
    }
    let found = imprint.hashed_message.as_bytes().len();
    if found != expected {
        return Err(QueryError::ImprintLength {
            algorithm: name,
            expected,
            found,
        });
    }
    if let Some(requested) = req.req_policy
        && requested != POLICY
    {
        return Err(QueryError::Policy { requested });
    }
    if let Some(extensions) = &req.extensions
        && !extensions.is_empty()
    {
        return Err(QueryError::Extensions {
            count: extensions.len(),
        });
    }
    if let Some(nonce) = &req.nonce
        && nonce.as_bytes().len() > MAX_NONCE_BYTES
    {
        return Err(QueryError::NonceTooLong {
            found: nonce.as_bytes().len(),
        });
    }
    Ok(Query {
        message_imprint: req.message_imprint,
        nonce: req.nonce,
        cert_req: req.cert_req,
    })
}

/// The signingCertificateV2 attribute value (RFC 5035 section 3, profiled by RFC 5816): the
/// SHA-256 of the leaf certificate and its issuer and serial number. The hash algorithm is left
/// out because SHA-256 is its DEFAULT, which DER omits.
fn signing_certificate(
    leaf: &Certificate,
    leaf_der: &[u8],
) -> Result<SigningCertificateV2, TimestampError> {
    Ok(SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: octets(sha256(leaf_der))?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    leaf.tbs_certificate.issuer.clone(),
                )],
                serial_number: leaf.tbs_certificate.serial_number.clone(),
            },
        }],
    })
}

fn attribute(oid: ObjectIdentifier, value: &impl der::Encode) -> Result<Attribute, TimestampError> {
    let value = value
        .to_der()
        .and_then(|der| Any::from_der(&der))
        .map_err(TimestampError::Encode)?;
    let values = SetOfVec::try_from(vec![value]).map_err(TimestampError::Encode)?;
    Ok(Attribute { oid, values })
}

/// An algorithm identifier without parameters, as RFC 5754 and RFC 5758 want for SHA-2 and
/// ECDSA.
fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn octets(bytes: Vec<u8>) -> Result<OctetString, TimestampError> {
    OctetString::new(bytes).map_err(TimestampError::Encode)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// `TimeStampReq` (RFC 3161 section 2.4.1).
#[derive(Clone, Debug, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "bool_false")]
    cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

fn bool_false() -> bool {
    false
}

/// `MessageImprint` (RFC 3161 section 2.4.1), copied from the query into the token unchanged.
#[derive(Clone, Debug, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// `TimeStampResp` (RFC 3161 section 2.4.2); only granted answers are built.
#[derive(Clone, Debug, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    time_stamp_token: ContentInfo,
}

/// `PKIStatusInfo` with its status alone (0, granted).
#[derive(Clone, Debug, Sequence)]
struct PkiStatusInfo {
    status: u8,
}

/// `TSTInfo` (RFC 3161 section 2.4.2). `ordering` is FALSE, its DEFAULT, so DER leaves it out;
/// `tsa` and `extensions` are not used.
#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
}

/// `Accuracy` with whole seconds only; `millis` and `micros` are not used.
#[derive(Clone, Debug, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u8>,
}

/// `SigningCertificateV2` (RFC 5035 section 3) without policies.
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `ESSCertIDv2` with the DEFAULT hash algorithm (SHA-256), which DER omits.
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// `IssuerSerial` (RFC 5035 section 4).
#[derive(Clone, Debug, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorities() -> (tempfile::TempDir, crate::ca::Authorities) {
        let dir = tempfile::tempdir().unwrap();
        let a = crate::ca::Authorities::load_or_create(dir.path(), 1_700_000_000).unwrap();
        (dir, a)
    }

    fn query(nonce: Option<&[u8]>) -> Vec<u8> {
        TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: algorithm(rfc5912::ID_SHA_256),
                hashed_message: OctetString::new(vec![7u8; 32]).unwrap(),
            },
            req_policy: None,
            nonce: nonce.map(|n| Int::new(n).unwrap()),
            cert_req: false,
            extensions: None,
        }
        .to_der()
        .unwrap()
    }

    /// The token carries the caller's time, to the second, and the caller's serial number.
    #[test]
    fn time_and_serial_come_from_the_caller() {
        let (_dir, a) = authorities();
        let issue = Issue {
            now: Duration::from_millis(1_700_000_123_999),
            serial: [0xff; 16],
        };
        let reply = respond(&query(Some(&[1, 2, 3])), &a.tsa_leaf, &a.tsa_root, issue).unwrap();
        let reply = TimeStampResp::from_der(&reply).unwrap();
        let signed = reply
            .time_stamp_token
            .content
            .decode_as::<SignedData>()
            .unwrap();
        let econtent = signed.encap_content_info.econtent.unwrap();
        let tst =
            TstInfo::from_der(econtent.decode_as::<OctetString>().unwrap().as_bytes()).unwrap();
        assert_eq!(tst.gen_time.to_unix_duration().as_secs(), 1_700_000_123);
        // A serial with the top bit set gains a leading zero to stay positive.
        assert_eq!(tst.serial_number.as_bytes().len(), 17);
        assert_eq!(tst.nonce, Some(Int::new(&[1, 2, 3]).unwrap()));
    }

    #[test]
    fn a_signing_time_after_2049_is_a_generalized_time() {
        let (_dir, a) = authorities();
        let issue = Issue {
            now: Duration::from_secs(2_600_000_000),
            serial: [1; 16],
        };
        assert!(respond(&query(None), &a.tsa_leaf, &a.tsa_root, issue).is_ok());
    }

    #[test]
    fn truncated_queries_are_malformed() {
        let (_dir, a) = authorities();
        let full = query(Some(&[9; 8]));
        let issue = Issue {
            now: Duration::from_secs(1_700_000_000),
            serial: [1; 16],
        };
        for len in 0..full.len() {
            let result = respond(full.get(..len).unwrap(), &a.tsa_leaf, &a.tsa_root, issue);
            assert!(
                matches!(result, Err(TimestampError::Query(QueryError::Malformed(_)))),
                "{len}: {result:?}"
            );
        }
    }
}

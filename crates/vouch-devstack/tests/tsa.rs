//! The devstack timestamp authority against real peers: the Sigstore crates' RFC 3161 verifier
//! (`sigstore-tsa`) and, when it is installed, OpenSSL's `openssl ts`. Every test starts the
//! real server on loopback and talks HTTP to it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::asn1::{GeneralizedTime, Int, OctetString};
use der::{Any, Decode as _, Encode as _, Sequence};
use sigstore_types::{DerCertificate, SignatureBytes, TimeRange, TimestampToken, TsaAuthority};
use spki::AlgorithmIdentifierOwned;
use vouch_devstack::{Config, Running};

/// What the tests timestamp: the verifier hashes these bytes with the imprint's algorithm, as
/// a Sigstore client timestamps a signature.
const SIGNATURE: &[u8] = b"a signature over some artifact";

struct Stack {
    dir: tempfile::TempDir,
    running: Running,
    client: reqwest::Client,
}

impl Stack {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let running = vouch_devstack::start(Config {
            state_dir: dir.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().unwrap(),
        })
        .await
        .unwrap();
        Self {
            dir,
            running,
            client: reqwest::Client::new(),
        }
    }

    async fn post(&self, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let response = self
            .client
            .post(format!("{}/api/v1/timestamp", self.running.url()))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 200 {
            assert_eq!(
                response.headers()["content-type"],
                "application/timestamp-reply"
            );
        }
        (status, response.bytes().await.unwrap().to_vec())
    }

    async fn stamp(&self, query: &Query) -> Vec<u8> {
        let (status, body) = self.post(QUERY, query.to_der()).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        body
    }

    /// Posts a query that must be refused, and returns the status and the error message.
    async fn refused(&self, content_type: &str, body: Vec<u8>) -> (u16, String) {
        let (status, body) = self.post(content_type, body).await;
        assert!((400..500).contains(&status), "status {status}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], status);
        (status, json["message"].as_str().unwrap().to_owned())
    }

    /// The TSA entry of `trusted_root.json`, as the Sigstore crates model it.
    fn authority(&self) -> TsaAuthority {
        let root: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.dir.path().join("trusted_root.json")).unwrap(),
        )
        .unwrap();
        let tsa = &root["timestampAuthorities"][0];
        assert_eq!(
            tsa["uri"],
            format!("{}/api/v1/timestamp", self.running.url())
        );
        let chain: Vec<DerCertificate> = tsa["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| DerCertificate::new(B64.decode(c["rawBytes"].as_str().unwrap()).unwrap()))
            .collect();
        assert_eq!(chain.len(), 2, "the chain is [leaf, root]");
        let valid_for: TimeRange = serde_json::from_value(tsa["validFor"].clone()).unwrap();
        TsaAuthority::new(
            chain[0].clone(),
            Vec::new(),
            chain[1].clone(),
            Some(valid_for),
        )
    }
}

const QUERY: &str = "application/timestamp-query";

#[tokio::test]
async fn sigstore_verifier_accepts_tokens_for_every_hash() {
    let stack = Stack::start().await;
    let authority = stack.authority();
    for (oid, algorithm) in [
        (rfc5912::ID_SHA_256, &aws_lc_rs::digest::SHA256),
        (rfc5912::ID_SHA_384, &aws_lc_rs::digest::SHA384),
        (rfc5912::ID_SHA_512, &aws_lc_rs::digest::SHA512),
    ] {
        for cert_req in [true, false] {
            let digest = aws_lc_rs::digest::digest(algorithm, SIGNATURE);
            let mut query = Query::new(oid, digest.as_ref());
            query.cert_req = cert_req;
            let reply = stack.stamp(&query).await;
            let time = sigstore_tsa::verify_timestamp_for_authority(
                &TimestampToken::new(reply),
                &SignatureBytes::new(SIGNATURE.to_vec()),
                &authority,
            )
            .unwrap_or_else(|e| panic!("{oid} certReq={cert_req}: {e}"));
            let now = jiff::Timestamp::now().as_second();
            assert!(
                (now - time.as_second()).abs() <= 2,
                "token time {time} is not now ({now})"
            );
        }
    }
    stack.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn sigstore_verifier_rejects_another_signature() {
    let stack = Stack::start().await;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, SIGNATURE);
    let reply = stack
        .stamp(&Query::new(rfc5912::ID_SHA_256, digest.as_ref()))
        .await;
    let result = sigstore_tsa::verify_timestamp_for_authority(
        &TimestampToken::new(reply),
        &SignatureBytes::new(b"another signature".to_vec()),
        &stack.authority(),
    );
    assert!(
        matches!(result, Err(sigstore_tsa::Error::HashMismatch { .. })),
        "{result:?}"
    );
    stack.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn token_fields() {
    let stack = Stack::start().await;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, SIGNATURE);

    let mut query = Query::new(rfc5912::ID_SHA_256, digest.as_ref());
    query.nonce = Some(int(&[0x00, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78]));
    query.req_policy = Some(vouch_devstack::tsa::POLICY);
    let (signed, tst) = token(&stack.stamp(&query).await);
    assert_eq!(tst.version, 1);
    assert_eq!(tst.policy, vouch_devstack::tsa::POLICY);
    assert_eq!(tst.nonce, query.nonce, "the nonce is echoed");
    assert_eq!(
        tst.message_imprint.hashed_message,
        query.imprint.hashed_message
    );
    assert_eq!(
        tst.message_imprint.hash_algorithm.oid,
        query.imprint.hash_algorithm.oid
    );
    let certs = signed.certificates.as_ref().map(|c| c.0.len());
    assert_eq!(certs, Some(2), "certReq: leaf and root travel in the token");
    let attrs: Vec<ObjectIdentifier> = signed
        .signer_infos
        .0
        .get(0)
        .unwrap()
        .signed_attrs
        .as_ref()
        .unwrap()
        .iter()
        .map(|a| a.oid)
        .collect();
    for required in [
        "1.2.840.113549.1.9.3",
        "1.2.840.113549.1.9.4",
        "1.2.840.113549.1.9.5",
        "1.2.840.113549.1.9.16.2.47",
    ] {
        let oid = ObjectIdentifier::new_unwrap(required);
        assert!(attrs.contains(&oid), "signed attribute {required} missing");
    }

    query.nonce = None;
    query.cert_req = false;
    let (signed, tst2) = token(&stack.stamp(&query).await);
    assert_eq!(tst2.nonce, None);
    assert!(signed.certificates.is_none(), "no certReq: no certificates");
    assert_ne!(
        tst.serial_number, tst2.serial_number,
        "serial numbers are unique"
    );
    stack.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn certchain_is_the_trusted_root_chain() {
    let stack = Stack::start().await;
    let pem = stack
        .client
        .get(format!(
            "{}/api/v1/timestamp/certchain",
            stack.running.url()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let authority = stack.authority();
    let ders: Vec<Vec<u8>> = pem
        .split("-----END CERTIFICATE-----")
        .filter(|block| block.contains("BEGIN"))
        .map(|block| {
            let body: String = block
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with("-----"))
                .collect();
            B64.decode(body).unwrap()
        })
        .collect();
    assert_eq!(
        ders,
        vec![
            authority.leaf.as_bytes().to_vec(),
            authority.root.as_bytes().to_vec()
        ]
    );
    stack.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn openssl_verifies_tokens_and_its_queries_are_accepted() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!(
            "SKIPPED: `openssl` is not on PATH; the OpenSSL interoperability check did not run"
        );
        return;
    }
    let stack = Stack::start().await;
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name);
    let authority = stack.authority();
    write_pem(&path("leaf.pem"), authority.leaf.as_bytes());
    write_pem(&path("root.pem"), authority.root.as_bytes());
    std::fs::write(path("data"), SIGNATURE).unwrap();

    for (flag, cert) in [("-sha256", true), ("-sha384", false), ("-sha512", true)] {
        // OpenSSL writes the query, so its encoding is checked as well as ours.
        let mut args = vec!["ts", "-query", "-data", "data", flag, "-out", "query.tsq"];
        if cert {
            args.push("-cert");
        }
        openssl(work.path(), &args);
        let query = std::fs::read(path("query.tsq")).unwrap();
        let (status, reply) = stack.post(QUERY, query).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        std::fs::write(path("reply.tsr"), &reply).unwrap();
        let text = openssl(work.path(), &["ts", "-reply", "-in", "reply.tsr", "-text"]);
        assert!(text.contains("Status: Granted"), "{text}");
        assert!(text.contains("1.3.6.1.4.1.32473.3161.1"), "{text}");
        let verified = openssl(
            work.path(),
            &[
                "ts",
                "-verify",
                "-in",
                "reply.tsr",
                "-data",
                "data",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "leaf.pem",
            ],
        );
        assert!(verified.contains("Verification: OK"), "{verified}");
        // Checking against the query as well covers the nonce and the imprint.
        let verified = openssl(
            work.path(),
            &[
                "ts",
                "-verify",
                "-in",
                "reply.tsr",
                "-queryfile",
                "query.tsq",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "leaf.pem",
            ],
        );
        assert!(verified.contains("Verification: OK"), "{verified}");
    }
    stack.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_queries_are_refused_with_a_message() {
    let stack = Stack::start().await;
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, SIGNATURE);
    let good = Query::new(rfc5912::ID_SHA_256, sha256.as_ref());

    let (status, message) = stack.refused(QUERY, b"not DER at all".to_vec()).await;
    assert_eq!(status, 400);
    assert!(message.contains("not a DER TimeStampReq"), "{message}");

    let (status, message) = stack.refused(QUERY, Vec::new()).await;
    assert_eq!(status, 400);
    assert!(message.contains("not a DER TimeStampReq"), "{message}");

    let mut trailing = good.to_der();
    trailing.push(0);
    let (status, message) = stack.refused(QUERY, trailing).await;
    assert_eq!(status, 400);
    assert!(message.contains("not a DER TimeStampReq"), "{message}");

    let (status, message) = stack.refused("application/json", good.to_der()).await;
    assert_eq!(status, 415);
    assert!(message.contains("application/timestamp-query"), "{message}");

    // SHA-1 (1.3.14.3.2.26) is not accepted.
    let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    let (status, message) = stack
        .refused(QUERY, Query::new(sha1, &[0u8; 20]).to_der())
        .await;
    assert_eq!(status, 400);
    assert!(
        message.contains("unsupported messageImprint hash algorithm 1.3.14.3.2.26"),
        "{message}"
    );

    let (status, message) = stack
        .refused(QUERY, Query::new(rfc5912::ID_SHA_256, &[0u8; 31]).to_der())
        .await;
    assert_eq!(status, 400);
    assert!(message.contains("must be 32 bytes, found 31"), "{message}");

    let (status, message) = stack
        .refused(
            QUERY,
            Query::new(rfc5912::ID_SHA_512, sha256.as_ref()).to_der(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        message.contains("SHA-512 digest must be 64 bytes"),
        "{message}"
    );

    let mut version = good.clone();
    version.version = 2;
    let (status, message) = stack.refused(QUERY, version.to_der()).await;
    assert_eq!(status, 400);
    assert!(message.contains("version is 2"), "{message}");

    let mut policy = good.clone();
    policy.req_policy = Some(ObjectIdentifier::new_unwrap("1.2.3.4"));
    let (status, message) = stack.refused(QUERY, policy.to_der()).await;
    assert_eq!(status, 400);
    assert!(
        message.contains("policy 1.2.3.4 is not offered"),
        "{message}"
    );

    let mut nonce = good.clone();
    nonce.nonce = Some(int(&[0x11; 33]));
    let (status, message) = stack.refused(QUERY, nonce.to_der()).await;
    assert_eq!(status, 400);
    assert!(message.contains("nonce is 33 bytes"), "{message}");

    let huge = vec![0x30; vouch_devstack::tsa::MAX_QUERY_BYTES + 1];
    let (status, message) = stack.refused(QUERY, huge).await;
    assert_eq!(status, 413);
    assert!(message.contains("at most"), "{message}");

    // The server is still up and still issues tokens.
    stack.stamp(&good).await;
    stack.running.shutdown().await.unwrap();
}

/// A `TimeStampReq` (RFC 3161 section 2.4.1) without extensions.
#[derive(Clone, Debug, Sequence)]
struct Query {
    version: u8,
    imprint: Imprint,
    #[asn1(optional = "true")]
    req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "bool_false")]
    cert_req: bool,
}

impl Query {
    fn new(algorithm: ObjectIdentifier, digest: &[u8]) -> Self {
        Self {
            version: 1,
            imprint: Imprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: algorithm,
                    parameters: None,
                },
                hashed_message: OctetString::new(digest).unwrap(),
            },
            req_policy: None,
            nonce: Some(int(&[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08])),
            cert_req: true,
        }
    }

    fn to_der(&self) -> Vec<u8> {
        der::Encode::to_der(self).unwrap()
    }
}

fn bool_false() -> bool {
    false
}

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct Imprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// The `TSTInfo` fields the devstack writes.
#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: Imprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
}

#[derive(Clone, Debug, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u8>,
}

#[derive(Clone, Debug, Sequence)]
struct Reply {
    status: Any,
    token: ContentInfo,
}

fn token(reply: &[u8]) -> (SignedData, TstInfo) {
    let reply = Reply::from_der(reply).unwrap();
    assert_eq!(
        reply.status.to_der().unwrap(),
        [0x30, 0x03, 0x02, 0x01, 0x00]
    );
    let signed = reply.token.content.decode_as::<SignedData>().unwrap();
    let tst = signed
        .encap_content_info
        .econtent
        .as_ref()
        .unwrap()
        .decode_as::<OctetString>()
        .unwrap();
    let tst = TstInfo::from_der(tst.as_bytes()).unwrap();
    (signed, tst)
}

fn int(bytes: &[u8]) -> Int {
    Int::new(bytes).unwrap()
}

fn write_pem(path: &Path, der: &[u8]) {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    std::fs::write(path, pem).unwrap();
}

/// Runs `openssl` in `dir`, asserts success, and returns stdout and stderr together.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

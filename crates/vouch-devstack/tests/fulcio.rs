//! The devstack's Fulcio, over loopback, checked by the verifiers that will consume its
//! certificates:
//! - the certificate path check sigstore-verify makes (rustls-webpki with Sigstore's algorithms,
//!   the CODE_SIGNING EKU required), against the chain in `trusted_root.json`;
//! - the embedded SCT, against an independent RFC 6962 section 3.2 reconstruction written here
//!   and the CT log key in `trusted_root.json`;
//! - sigstore-python 4.5.1 (in the project's `.venv`, when installed): its signer requests a
//!   certificate exactly as `sigstore sign` does and checks the SCT, then its verifier's chain,
//!   SCT, identity and extension policies accept the certificate.
//!
//! And the refusals: wrong audience, expired token, foreign key, bad proofs of possession,
//! unsupported keys, oversized and malformed bodies, each a 4xx JSON error naming the problem.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use serde_json::{Value, json};
use vouch_devstack::keys::{KeyKind, SigningKey};
use vouch_devstack::oidc::{self, Subject, TokenRequest};
use x509_cert::der::asn1::{ObjectIdentifier, OctetString, Utf8StringRef};
use x509_cert::der::{Decode as _, Encode as _};

const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// id-kp-codeSigning, 1.3.6.1.5.5.7.3.3, DER contents.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

struct Stack {
    _state: tempfile::TempDir,
    state_dir: PathBuf,
    running: vouch_devstack::Running,
    client: reqwest::Client,
}

impl Stack {
    async fn start() -> Self {
        let state = tempfile::tempdir().unwrap();
        let running = vouch_devstack::start(vouch_devstack::Config {
            state_dir: state.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().unwrap(),
        })
        .await
        .unwrap();
        Self {
            state_dir: state.path().to_path_buf(),
            _state: state,
            running,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self) -> &str {
        self.running.url()
    }

    fn token(&self, subject: Subject, claims: &[(&str, &str)]) -> String {
        self.token_at(subject, claims, now(), 600)
    }

    fn token_at(&self, subject: Subject, claims: &[(&str, &str)], at: i64, ttl: i64) -> String {
        let claims: BTreeMap<String, String> = claims
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        oidc::mint(
            &self.running.shared().keys.oidc,
            self.url(),
            &TokenRequest {
                subject,
                ttl,
                claims,
            },
            at,
        )
        .unwrap()
    }

    async fn post_raw(&self, body: Vec<u8>, bearer: Option<&str>) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/api/v2/signingCert", self.url()))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {text}"));
        (status, value)
    }

    async fn post(&self, body: &Value) -> (u16, Value) {
        self.post_raw(serde_json::to_vec(body).unwrap(), None).await
    }

    /// Requests a certificate with a CSR and returns the chain, DER, leaf first.
    async fn certificate_for_csr(&self, token: &str, key: &rcgen::KeyPair) -> Vec<Vec<u8>> {
        let (status, body) = self
            .post(&json!({
                "credentials": { "oidcIdentityToken": token },
                "certificateSigningRequest": csr_b64(key),
            }))
            .await;
        assert_eq!(status, 200, "{body}");
        chain_of(&body)
    }

    fn trusted_root(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.state_dir.join("trusted_root.json")).unwrap())
            .unwrap()
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn csr_b64(key: &rcgen::KeyPair) -> String {
    let csr = rcgen::CertificateParams::default()
        .serialize_request(key)
        .unwrap();
    B64.encode(csr.pem().unwrap())
}

fn chain_of(body: &Value) -> Vec<Vec<u8>> {
    body["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain in {body}"))
        .iter()
        .map(|pem| pem_to_der(pem.as_str().unwrap()))
        .collect()
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

/// A JWT signed with `key`, with exactly `claims`.
fn jwt(key: &SigningKey, claims: &Value) -> String {
    let header = json!({ "alg": "ES256", "typ": "JWT" });
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let sig = key.sign_jws(input.as_bytes()).unwrap();
    format!("{input}.{}", B64URL.encode(sig))
}

fn spki_of(cert_der: &[u8]) -> Vec<u8> {
    x509_cert::Certificate::from_der(cert_der)
        .unwrap()
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap()
}

fn extension(cert: &x509_cert::Certificate, oid: &str) -> Option<(bool, Vec<u8>)> {
    let oid = ObjectIdentifier::new(oid).unwrap();
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| (e.critical, e.extn_value.as_bytes().to_vec()))
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// The certificate path check sigstore-verify makes: webpki, Sigstore's algorithms, the
/// trust root's root as anchor, the CODE_SIGNING EKU.
fn verify_path(chain: &[Vec<u8>], trusted_root: &Value, at: i64) -> Result<(), String> {
    use rustls_pki_types::{CertificateDer, UnixTime};
    let certs = trusted_root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap();
    let root = B64
        .decode(certs.last().unwrap()["rawBytes"].as_str().unwrap())
        .unwrap();
    let intermediates: Vec<CertificateDer<'_>> = certs[..certs.len() - 1]
        .iter()
        .map(|c| CertificateDer::from(B64.decode(c["rawBytes"].as_str().unwrap()).unwrap()))
        .collect();
    let root_der = CertificateDer::from(root.as_slice());
    let anchor = webpki::anchor_from_trusted_cert(&root_der)
        .map_err(|e| e.to_string())?
        .to_owned();
    let leaf = CertificateDer::from(chain[0].as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf).map_err(|e| e.to_string())?;
    ee.verify_for_usage(
        sigstore_verify::crypto::WEBPKI_VERIFICATION_ALGS,
        &[anchor],
        &intermediates,
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(at as u64)),
        webpki::KeyUsage::required(CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| {
        let intermediate_eku = intermediates.iter().all(|c| {
            let cert = x509_cert::Certificate::from_der(c.as_ref()).unwrap();
            extension(&cert, "2.5.29.37").is_some()
        });
        if intermediate_eku {
            e.to_string()
        } else {
            // Fulcio's certificate specification requires codeSigning on the intermediate too,
            // and webpki (as sigstore-verify calls it) checks the EKU of every certificate.
            format!("{e}: the Fulcio intermediate in the trust root has no codeSigning EKU")
        }
    })
}

/// RFC 6962 section 3.2, written from the RFC independently of the devstack: parses the one
/// embedded SCT, rebuilds the precertificate's signed data, and verifies it with the CT log key
/// from the trusted root. Returns the SCT's timestamp in milliseconds.
fn verify_embedded_sct(leaf: &[u8], issuer: &[u8], trusted_root: &Value) -> Result<u64, String> {
    let cert = x509_cert::Certificate::from_der(leaf).unwrap();
    let exts = cert.tbs_certificate.extensions.clone().unwrap();
    let last = exts.last().unwrap();
    if last.extn_id != SCT_LIST {
        return Err("the SCT list is not the last extension".into());
    }
    let list = OctetString::from_der(last.extn_value.as_bytes()).map_err(|e| e.to_string())?;
    let list = list.as_bytes();
    let total = u16::from_be_bytes([list[0], list[1]]) as usize;
    assert_eq!(total, list.len() - 2, "list length");
    let sct_len = u16::from_be_bytes([list[2], list[3]]) as usize;
    assert_eq!(sct_len, total - 2, "exactly one SCT");
    let sct = &list[4..];
    assert_eq!(sct[0], 0, "SCT v1");
    let log_id = &sct[1..33];
    let timestamp = u64::from_be_bytes(sct[33..41].try_into().unwrap());
    let ext_len = u16::from_be_bytes([sct[41], sct[42]]) as usize;
    let rest = &sct[43 + ext_len..];
    assert_eq!((rest[0], rest[1]), (4, 3), "sha256, ecdsa");
    let sig_len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
    let signature = &rest[4..4 + sig_len];
    assert_eq!(rest.len(), 4 + sig_len);

    let ctlog = &trusted_root["ctlogs"][0];
    let ct_spki = B64
        .decode(ctlog["publicKey"]["rawBytes"].as_str().unwrap())
        .unwrap();
    let expected_id = B64
        .decode(ctlog["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    if log_id != expected_id.as_slice() || log_id != sha256(&ct_spki).as_slice() {
        return Err("the SCT's log ID is not the CT log's key ID".into());
    }

    let mut tbs = cert.tbs_certificate.clone();
    let mut kept = exts.clone();
    kept.retain(|e| e.extn_id != SCT_LIST);
    tbs.extensions = Some(kept);
    let tbs = tbs.to_der().unwrap();
    let mut signed = vec![0u8, 0u8];
    signed.extend_from_slice(&timestamp.to_be_bytes());
    signed.extend_from_slice(&[0, 1]);
    signed.extend_from_slice(&sha256(&spki_of(issuer)));
    let n = tbs.len() as u32;
    signed.extend_from_slice(&n.to_be_bytes()[1..]);
    signed.extend_from_slice(&tbs);
    signed.extend_from_slice(&(ext_len as u16).to_be_bytes());
    signed.extend_from_slice(&sct[43..43 + ext_len]);

    let point = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(&ct_spki)
        .unwrap()
        .subject_public_key
        .raw_bytes()
        .to_vec();
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
        point,
    )
    .verify(&signed, signature)
    .map_err(|_| "the SCT signature does not verify".to_owned())?;
    Ok(timestamp)
}

#[tokio::test]
async fn csr_certificate_passes_the_chain_eku_and_sct_checks() {
    let stack = Stack::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let token = stack.token(Subject::Email("dev@example.com".into()), &[]);
    let before = now();
    let chain = stack.certificate_for_csr(&token, &key).await;
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    let shared = stack.running.shared();
    assert_eq!(chain[1], shared.authorities.fulcio_intermediate.cert_der);
    assert_eq!(chain[2], shared.authorities.fulcio_root.cert_der);

    let root = stack.trusted_root();
    let ts = verify_embedded_sct(&chain[0], &chain[1], &root).unwrap();
    assert!((before * 1000..=(now() + 1) * 1000).contains(&(ts as i64)));

    // The profile: empty subject, the key asked for, 10 minutes, critical SAN and KeyUsage.
    let cert = x509_cert::Certificate::from_der(&chain[0]).unwrap();
    let tbs = &cert.tbs_certificate;
    assert!(tbs.subject.0.is_empty(), "empty subject");
    assert_eq!(
        spki_of(&chain[0]),
        rcgen::PublicKeyData::subject_public_key_info(&key)
    );
    let nb = tbs.validity.not_before.to_unix_duration().as_secs();
    let na = tbs.validity.not_after.to_unix_duration().as_secs();
    assert_eq!(na - nb, 600);
    let serial = tbs.serial_number.as_bytes();
    assert_eq!(serial.len(), 20, "160-bit serial");
    assert!(serial[0] & 0x80 == 0, "positive serial");
    let (critical, san) = extension(&cert, "2.5.29.17").unwrap();
    assert!(critical, "SAN critical with an empty subject");
    assert!(san.windows(15).any(|w| w == b"dev@example.com"));
    assert_eq!(san[2], 0x81, "rfc822Name");
    assert!(
        extension(&cert, "2.5.29.15").unwrap().0,
        "KeyUsage critical"
    );
    let _ = (SAN, KEY_USAGE);
    let (_, issuer_raw) = extension(&cert, "1.3.6.1.4.1.57264.1.1").unwrap();
    assert_eq!(issuer_raw, stack.url().as_bytes(), "1.1 is the raw issuer");
    let (_, issuer_der) = extension(&cert, "1.3.6.1.4.1.57264.1.8").unwrap();
    assert_eq!(
        Utf8StringRef::from_der(&issuer_der).unwrap().as_str(),
        stack.url(),
        "1.8 is a DER UTF8String"
    );

    // The path check sigstore-verify makes accepts it now, and refuses it outside its window.
    verify_path(&chain, &root, now()).unwrap();
    let err = verify_path(&chain, &root, now() + 3600).unwrap_err();
    assert!(err.contains("Expired"), "{err}");
}

#[tokio::test]
async fn a_tampered_certificate_fails_the_sct_check() {
    let stack = Stack::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let token = stack.token(Subject::Email("dev@example.com".into()), &[]);
    let chain = stack.certificate_for_csr(&token, &key).await;
    let root = stack.trusted_root();
    // Another intermediate: the issuer key hash changes, and so does the signed data.
    let other = stack.running.shared().authorities.tsa_root.cert_der.clone();
    assert!(verify_embedded_sct(&chain[0], &other, &root).is_err());
    // One byte of the email changed: the TBSCertificate the SCT covers changes.
    let mut leaf = chain[0].clone();
    let at = leaf.windows(3).position(|w| w == b"dev").unwrap();
    leaf[at] = b'D';
    assert!(verify_embedded_sct(&leaf, &chain[1], &root).is_err());
}

#[tokio::test]
async fn public_key_form_with_p256_p384_and_ed25519() {
    let stack = Stack::start().await;
    let token = stack.token(Subject::Email("keys@example.com".into()), &[]);
    let root = stack.trusted_root();
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_ED25519,
    ] {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let proof = rcgen::SigningKey::sign(&key, b"keys@example.com").unwrap();
        let (status, body) = stack
            .post(&json!({
                "credentials": { "oidcIdentityToken": token },
                "publicKeyRequest": {
                    "publicKey": { "algorithm": "ECDSA", "content": key.public_key_pem() },
                    "proofOfPossession": B64.encode(&proof),
                },
            }))
            .await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        let chain = chain_of(&body);
        assert_eq!(
            spki_of(&chain[0]),
            rcgen::PublicKeyData::subject_public_key_info(&key),
            "{alg:?}"
        );
        verify_embedded_sct(&chain[0], &chain[1], &root).unwrap();
        verify_path(&chain, &root, now()).unwrap();

        // The same key through a CSR.
        let chain = stack.certificate_for_csr(&token, &key).await;
        assert_eq!(
            spki_of(&chain[0]),
            rcgen::PublicKeyData::subject_public_key_info(&key),
            "{alg:?}"
        );
        verify_embedded_sct(&chain[0], &chain[1], &root).unwrap();
    }
}

/// The legacy v1 API as cosign 2.x calls it (`sigstore/fulcio` `pkg/api/client.go`): the key
/// and proof as base64 bytes, the token as a bearer header; `201 Created`, a PEM chain, and an
/// `SCT` header that is empty because the SCT is embedded.
#[tokio::test]
async fn legacy_v1_signing_cert_as_cosign_requests_it() {
    let stack = Stack::start().await;
    let token = stack.token(Subject::Email("cosign@example.com".into()), &[]);
    let root = stack.trusted_root();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let proof = rcgen::SigningKey::sign(&key, b"cosign@example.com").unwrap();
    let request = |token: Option<&str>, proof: &[u8]| {
        let mut req = stack
            .client
            .post(format!("{}/api/v1/signingCert", stack.url()))
            .header("content-type", "application/json")
            .body(
                json!({
                    "publicKey": {
                        "content": B64.encode(key.public_key_pem()),
                        "algorithm": "ecdsa",
                    },
                    "signedEmailAddress": B64.encode(proof),
                })
                .to_string(),
            );
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let resp = request(Some(&token), &proof).await.unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(
        resp.headers()["content-type"],
        "application/pem-certificate-chain"
    );
    assert_eq!(resp.headers()["sct"], "");
    let text = resp.text().await.unwrap();
    let chain: Vec<Vec<u8>> = text
        .split_inclusive("-----END CERTIFICATE-----\n")
        .map(pem_to_der)
        .collect();
    assert_eq!(chain.len(), 3, "{text}");
    assert_eq!(
        spki_of(&chain[0]),
        rcgen::PublicKeyData::subject_public_key_info(&key)
    );
    verify_embedded_sct(&chain[0], &chain[1], &root).unwrap();
    verify_path(&chain, &root, now()).unwrap();

    // Refused, as gRPC-gateway JSON: no token, a proof over another identity.
    let resp = request(None, &proof).await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no identity token"),
        "{body}"
    );
    let wrong = rcgen::SigningKey::sign(&key, b"someone@example.com").unwrap();
    let resp = request(Some(&token), &wrong).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("proof of possession"),
        "{body}"
    );

    // The CA chain, PEM.
    let resp = stack
        .client
        .get(format!("{}/api/v1/rootCert", stack.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert_eq!(
        text.matches("-----BEGIN CERTIFICATE-----").count(),
        2,
        "{text}"
    );
}

#[tokio::test]
async fn github_claims_land_in_their_extensions() {
    let stack = Stack::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let workflow = "octo/app/.github/workflows/release.yml@refs/tags/v1.0.0";
    let claims = [
        ("repository", "octo/app"),
        ("repository_owner", "octo"),
        ("repository_id", "1234"),
        ("repository_owner_id", "5678"),
        ("ref", "refs/tags/v1.0.0"),
        ("sha", "0123456789abcdef0123456789abcdef01234567"),
        ("event_name", "push"),
        ("workflow", "Release"),
        ("job_workflow_ref", workflow),
        ("workflow_ref", workflow),
        ("runner_environment", "github-hosted"),
        ("run_id", "42"),
        ("run_attempt", "1"),
    ];
    let token = stack.token(
        Subject::Other("repo:octo/app:ref:refs/tags/v1.0.0".into()),
        &claims,
    );
    let chain = stack.certificate_for_csr(&token, &key).await;
    let cert = x509_cert::Certificate::from_der(&chain[0]).unwrap();
    let raw = |arc: u32| {
        String::from_utf8(
            extension(&cert, &format!("1.3.6.1.4.1.57264.1.{arc}"))
                .unwrap()
                .1,
        )
        .unwrap()
    };
    let der = |arc: u32| {
        let (_, v) = extension(&cert, &format!("1.3.6.1.4.1.57264.1.{arc}"))
            .unwrap_or_else(|| panic!("no extension 1.{arc}"));
        Utf8StringRef::from_der(&v).unwrap().as_str().to_owned()
    };
    assert_eq!(raw(2), "push");
    assert_eq!(raw(3), "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(raw(4), "Release");
    assert_eq!(raw(5), "octo/app");
    assert_eq!(raw(6), "refs/tags/v1.0.0");
    let signer = format!("https://github.com/{workflow}");
    assert_eq!(der(9), signer);
    assert_eq!(der(11), "github-hosted");
    assert_eq!(der(12), "https://github.com/octo/app");
    assert_eq!(der(13), "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(der(14), "refs/tags/v1.0.0");
    assert_eq!(der(15), "1234");
    assert_eq!(der(16), "https://github.com/octo");
    assert_eq!(der(17), "5678");
    assert_eq!(der(18), signer);
    assert_eq!(der(20), "push");
    assert_eq!(
        der(21),
        "https://github.com/octo/app/actions/runs/42/attempts/1"
    );
    assert!(
        extension(&cert, "1.3.6.1.4.1.57264.1.10").is_none(),
        "no job_workflow_sha claim"
    );
    let (_, san) = extension(&cert, "2.5.29.17").unwrap();
    assert!(san.windows(signer.len()).any(|w| w == signer.as_bytes()));
    verify_path(&chain, &stack.trusted_root(), now()).unwrap();
}

#[tokio::test]
async fn a_uri_subject_becomes_a_uri_san_and_other_subjects_are_refused() {
    let stack = Stack::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let token = stack.token(
        Subject::Other("https://ci.example.com/pipelines/7".into()),
        &[],
    );
    let chain = stack.certificate_for_csr(&token, &key).await;
    let cert = x509_cert::Certificate::from_der(&chain[0]).unwrap();
    let (_, san) = extension(&cert, "2.5.29.17").unwrap();
    assert_eq!(san[2], 0x86, "uniformResourceIdentifier");

    let token = stack.token(Subject::Other("service-account-7".into()), &[]);
    let (status, body) = stack
        .post(&json!({
            "credentials": { "oidcIdentityToken": token },
            "certificateSigningRequest": csr_b64(&key),
        }))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("is not a URI"),
        "{body}"
    );
}

#[tokio::test]
async fn bearer_header_carries_the_token_as_sigstore_python_sends_it() {
    let stack = Stack::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let token = stack.token(Subject::Email("dev@example.com".into()), &[]);
    let body = json!({ "certificateSigningRequest": csr_b64(&key) });
    let (status, answer) = stack
        .post_raw(serde_json::to_vec(&body).unwrap(), Some(&token))
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = stack.post(&body).await;
    assert_eq!(
        (status, answer["code"].as_i64()),
        (401, Some(16)),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("no identity token")
    );
}

/// Asserts a refusal: the HTTP status, and a message containing `needle`.
async fn refused(stack: &Stack, body: &Value, status: u16, needle: &str) {
    let (got, answer) = stack.post(body).await;
    assert_eq!(got, status, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "`{message}` does not say `{needle}`"
    );
    assert!(answer["code"].is_number(), "{answer}");
}

#[tokio::test]
async fn bad_tokens_are_refused_with_the_reason() {
    let stack = Stack::start().await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = csr_b64(&key);
    let request = |token: &str| json!({ "credentials": { "oidcIdentityToken": token }, "certificateSigningRequest": csr });
    let shared = stack.running.shared();
    let t = now();
    let claims = |aud: &str, iss: &str| {
        json!({ "iss": iss, "sub": "dev@example.com", "email": "dev@example.com",
                "aud": aud, "iat": t, "exp": t + 600 })
    };

    let wrong_audience = jwt(&shared.keys.oidc, &claims("not-sigstore", stack.url()));
    refused(&stack, &request(&wrong_audience), 401, "audience is").await;

    let expired = stack.token_at(Subject::Email("dev@example.com".into()), &[], t - 1200, 600);
    refused(&stack, &request(&expired), 401, "expired").await;

    let other_key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let foreign = jwt(&other_key, &claims("sigstore", stack.url()));
    refused(&stack, &request(&foreign), 401, "signature does not verify").await;

    let other_issuer = jwt(
        &shared.keys.oidc,
        &claims("sigstore", "https://issuer.example"),
    );
    refused(
        &stack,
        &request(&other_issuer),
        401,
        "issued by `https://issuer.example`",
    )
    .await;

    refused(&stack, &request("not.a-jwt"), 401, "not a JWT").await;
}

#[tokio::test]
async fn bad_proofs_of_possession_are_refused() {
    let stack = Stack::start().await;
    let token = stack.token(Subject::Email("dev@example.com".into()), &[]);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let pk_request = |content: &str, proof: &[u8]| {
        json!({
            "credentials": { "oidcIdentityToken": token },
            "publicKeyRequest": {
                "publicKey": { "algorithm": "ECDSA", "content": content },
                "proofOfPossession": B64.encode(proof),
            },
        })
    };
    // Signed over something other than `sub`.
    let proof = rcgen::SigningKey::sign(&key, b"someone@example.com").unwrap();
    refused(
        &stack,
        &pk_request(&key.public_key_pem(), &proof),
        400,
        "bad proof of possession: the signature over the identity token's `sub` claim",
    )
    .await;
    // Signed by another key.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let proof = rcgen::SigningKey::sign(&other, b"dev@example.com").unwrap();
    refused(
        &stack,
        &pk_request(&key.public_key_pem(), &proof),
        400,
        "bad proof of possession",
    )
    .await;

    // A CSR whose signature was tampered with.
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap();
    let mut der = csr.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    refused(
        &stack,
        &json!({
            "credentials": { "oidcIdentityToken": token },
            "certificateSigningRequest": B64.encode(&der),
        }),
        400,
        "bad proof of possession: the certificate signing request's self-signature",
    )
    .await;
}

#[tokio::test]
async fn unsupported_keys_and_malformed_requests_are_refused() {
    let stack = Stack::start().await;
    let token = stack.token(Subject::Email("dev@example.com".into()), &[]);

    // An RSA-1024 key: below Fulcio's minimum. SubjectPublicKeyInfo built by hand around a
    // modulus with its top bit set.
    let mut modulus = [0u8; 129];
    modulus[1] = 0x80;
    modulus[128] = 1;
    let rsa_key = {
        use x509_cert::der::asn1::{BitString, UintRef};
        let n = UintRef::new(&modulus[1..]).unwrap().to_der().unwrap();
        let e = UintRef::new(&[1, 0, 1]).unwrap().to_der().unwrap();
        let mut seq = vec![0x30, 0x81, (n.len() + e.len()) as u8];
        seq.extend_from_slice(&n);
        seq.extend_from_slice(&e);
        let spki = x509_cert::spki::SubjectPublicKeyInfoOwned {
            algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
                parameters: Some(x509_cert::der::asn1::Null.into()),
            },
            subject_public_key: BitString::from_bytes(&seq).unwrap(),
        };
        spki.to_der().unwrap()
    };
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        B64.encode(&rsa_key)
    );
    let body = json!({
        "credentials": { "oidcIdentityToken": token },
        "publicKeyRequest": {
            "publicKey": { "algorithm": "RSA_PSS", "content": pem },
            "proofOfPossession": B64.encode(b"whatever"),
        },
    });
    refused(
        &stack,
        &body,
        400,
        "unsupported public key: an RSA key of 1024 bits",
    )
    .await;

    // A curve Fulcio does not certify (secp256k1).
    let k1 = {
        let mut point = vec![4u8];
        point.extend_from_slice(&[1u8; 64]);
        x509_cert::spki::SubjectPublicKeyInfoOwned {
            algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("1.2.840.10045.2.1"),
                parameters: Some(ObjectIdentifier::new_unwrap("1.3.132.0.10").into()),
            },
            subject_public_key: x509_cert::der::asn1::BitString::from_bytes(&point).unwrap(),
        }
        .to_der()
        .unwrap()
    };
    let body = json!({
        "credentials": { "oidcIdentityToken": token },
        "publicKeyRequest": {
            "publicKey": { "content": B64.encode(&k1) },
            "proofOfPossession": B64.encode(b"whatever"),
        },
    });
    refused(
        &stack,
        &body,
        400,
        "unsupported public key: ECDSA over the curve 1.3.132.0.10",
    )
    .await;

    // Both key forms, or neither.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let both = json!({
        "credentials": { "oidcIdentityToken": token },
        "certificateSigningRequest": csr_b64(&key),
        "publicKeyRequest": { "publicKey": { "content": key.public_key_pem() } },
    });
    refused(&stack, &both, 400, "exactly one of").await;
    let neither = json!({ "credentials": { "oidcIdentityToken": token } });
    refused(&stack, &neither, 400, "exactly one of").await;

    // A CSR that is not one.
    let junk = json!({
        "credentials": { "oidcIdentityToken": token },
        "certificateSigningRequest": B64.encode(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
    });
    refused(&stack, &junk, 400, "`certificateSigningRequest` is invalid").await;

    // Not JSON, the wrong JSON, and too much of it.
    let (status, answer) = stack.post_raw(b"{\"credentials\": ".to_vec(), None).await;
    assert_eq!(
        (status, answer["code"].as_i64()),
        (400, Some(3)),
        "{answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("not a CreateSigningCertificateRequest")
    );
    refused(
        &stack,
        &json!({ "credentials": "token" }),
        400,
        "not a CreateSigningCertificateRequest",
    )
    .await;
    let (status, answer) = stack.post_raw(vec![b' '; 200 * 1024], None).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("larger than the limit")
    );

    // The server is still serving.
    let chain = stack.certificate_for_csr(&token, &key).await;
    assert_eq!(chain.len(), 3);
}

#[tokio::test]
async fn trust_bundle_and_configuration() {
    let stack = Stack::start().await;
    let bundle: Value = stack
        .client
        .get(format!("{}/api/v2/trustBundle", stack.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chain: Vec<Vec<u8>> = bundle["chains"][0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| pem_to_der(c.as_str().unwrap()))
        .collect();
    let a = &stack.running.shared().authorities;
    assert_eq!(
        chain,
        vec![
            a.fulcio_intermediate.cert_der.clone(),
            a.fulcio_root.cert_der.clone()
        ]
    );

    let config: Value = stack
        .client
        .get(format!("{}/api/v2/configuration", stack.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuers"][0]["issuerUrl"], stack.url());
    assert_eq!(config["issuers"][0]["audience"], "sigstore");
}

/// sigstore-python's own code on both sides: `Signer` (which `sigstore sign` uses) requests
/// the certificate with its CSR and bearer token and checks the SCT; then its verifier's chain
/// check, SCT check, KeyUsage/EKU checks, identity policy, and the extension policies (raw
/// strings for `.1.1`-`.1.6`, DER for `.1.8` onwards).
const PYTHON_CHECK: &str = r#"
import json, sys
from datetime import datetime, timezone
from cryptography.x509 import ExtendedKeyUsage, KeyUsage
from cryptography.x509.oid import ExtendedKeyUsageOID
from sigstore._internal.sct import verify_sct
from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
from sigstore._internal.trust import KeyringPurpose
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import policy
from sigstore.verify.verifier import Verifier

trust_config, token, identity, issuer, expected = sys.argv[1:]
config = ClientTrustConfig.from_json(open(trust_config).read())
with SigningContext.from_trust_config(config).signer(IdentityToken(token)) as signer:
    cert = signer._signing_cert()
verifier = Verifier(trusted_root=config.trusted_root)
when = TimestampVerificationResult(source=TimestampSource.TRANSPARENCY_SERVICE, time=datetime.now(timezone.utc))
chain = verifier._verify_chain_at_time(cert, when)
verify_sct(cert, chain, config.trusted_root.ct_keyring(KeyringPurpose.VERIFY))
assert cert.extensions.get_extension_for_class(KeyUsage).value.digital_signature
assert ExtendedKeyUsageOID.CODE_SIGNING in cert.extensions.get_extension_for_class(ExtendedKeyUsage).value
checks = [policy.Identity(identity=identity, issuer=issuer), policy.OIDCIssuerV2(issuer)]
checks += [getattr(policy, name)(value) for name, value in json.loads(expected).items()]
policy.AllOf(checks).verify(cert)
print("ok")
"#;

fn python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let has_sigstore = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", "import sigstore"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !has_sigstore {
        eprintln!(
            "SKIPPED: sigstore-python not installed in .venv (run scripts/install-test-tools.sh)"
        );
    }
    has_sigstore.then_some(python)
}

/// Runs [`PYTHON_CHECK`]; `None` when sigstore-python is not installed.
async fn python_check(
    stack: &Stack,
    token: String,
    identity: &str,
    expected: Value,
) -> Option<Result<(), String>> {
    let python = python()?;
    let trust_config = stack.state_dir.join("trust_config.json");
    let issuer = stack.url().to_owned();
    let identity = identity.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .args(["-c", PYTHON_CHECK])
            .arg(trust_config)
            .args([token, identity, issuer, expected.to_string()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(output)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn sigstore_python_requests_and_accepts_an_email_certificate() {
    let stack = Stack::start().await;
    let token = stack.token(Subject::Email("dev@example.com".into()), &[]);
    let expected = json!({ "OIDCIssuer": stack.url() });
    if let Some(result) = python_check(&stack, token, "dev@example.com", expected).await {
        result.unwrap_or_else(|e| panic!("sigstore-python refused the certificate:\n{e}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigstore_python_accepts_the_github_extensions() {
    let stack = Stack::start().await;
    let workflow = "octo/app/.github/workflows/release.yml@refs/heads/main";
    let token = stack.token(
        Subject::Other("repo:octo/app:ref:refs/heads/main".into()),
        &[
            ("repository", "octo/app"),
            ("repository_owner", "octo"),
            ("ref", "refs/heads/main"),
            ("sha", "89abcdef0123456789abcdef0123456789abcdef"),
            ("event_name", "push"),
            ("workflow", "Release"),
            ("job_workflow_ref", workflow),
        ],
    );
    let expected = json!({
        "OIDCIssuer": stack.url(),
        "GitHubWorkflowTrigger": "push",
        "GitHubWorkflowSHA": "89abcdef0123456789abcdef0123456789abcdef",
        "GitHubWorkflowName": "Release",
        "GitHubWorkflowRepository": "octo/app",
        "GitHubWorkflowRef": "refs/heads/main",
        "OIDCBuildSignerURI": format!("https://github.com/{workflow}"),
        "OIDCSourceRepositoryURI": "https://github.com/octo/app",
        "OIDCSourceRepositoryDigest": "89abcdef0123456789abcdef0123456789abcdef",
        "OIDCSourceRepositoryRef": "refs/heads/main",
        "OIDCSourceRepositoryOwnerURI": "https://github.com/octo",
        "OIDCBuildTrigger": "push",
    });
    let identity = format!("https://github.com/{workflow}");
    let Some(result) = python_check(&stack, token.clone(), &identity, expected).await else {
        return;
    };
    result.unwrap_or_else(|e| panic!("sigstore-python refused the certificate:\n{e}"));
    // The harness is not vacuous: a policy the certificate does not meet is refused.
    let wrong = json!({ "OIDCSourceRepositoryURI": "https://github.com/octo/other" });
    let refused = python_check(&stack, token, &identity, wrong).await.unwrap();
    assert!(refused.unwrap_err().contains("octo/other"));
}

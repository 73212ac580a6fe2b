//! The devstack's Rekor v2 log against real peers: every test starts the real server on
//! loopback, writes with sigstore-rust's `RekorV2Client` (or its `Signer`, for whole keyless
//! signatures), and judges what comes back with code that is not the log's: `sigstore-merkle`
//! for inclusion proofs, aws-lc-rs for checkpoint signatures, an RFC 6962 root written here
//! from the definition for tiles, and `vouch_sigstore::Verifier` for bundles.

// Test helpers outside `#[test]` functions fail loudly on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::num::NonZeroU8;
use std::path::Path;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sigstore_sign::rekor::{HashedRekordV2, RekorV2Client, RekorV2KeyDetails};
use sigstore_sign::types::{
    DerPublicKey, KindVersion, Sha256Hash, SignatureBytes, TransparencyLogEntry,
};
use vouch_devstack::oidc::{Subject, TokenRequest};
use vouch_devstack::{Config, Running};
use vouch_sigstore::{ArtifactInput, Matcher, Policy, TrustMaterial, Verifier};

async fn start_in(dir: &Path) -> Running {
    vouch_devstack::start(Config {
        state_dir: dir.to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap()
}

/// A managed ECDSA P-256 key.
struct Signer {
    pair: EcdsaKeyPair,
}

impl Signer {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        Self { pair }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    fn spki(&self) -> Vec<u8> {
        self.pair.public_key().as_der().unwrap().as_ref().to_vec()
    }

    /// The request `RekorV2Client::create_entry` sends for a signature over `artifact`.
    fn request(&self, artifact: &[u8]) -> HashedRekordV2 {
        HashedRekordV2::new_with_public_key(
            &Sha256Hash::new(sha256(artifact)),
            &SignatureBytes::new(self.sign(artifact)),
            &DerPublicKey::new(self.spki()),
            RekorV2KeyDetails::PkixEcdsaP256Sha256,
        )
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    digest(&SHA256, bytes).as_ref().try_into().unwrap()
}

/// The Rekor v2 log of a trusted root: its Ed25519 key (raw), log ID and base URL.
struct TrustedLog {
    key: Vec<u8>,
    log_id: Vec<u8>,
    base_url: String,
}

fn trusted_v2_log(state: &Path) -> TrustedLog {
    let root: Value =
        serde_json::from_slice(&std::fs::read(state.join("trusted_root.json")).unwrap()).unwrap();
    let logs: Vec<&Value> = root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["publicKey"]["keyDetails"] == "PKIX_ED25519")
        .collect();
    assert_eq!(logs.len(), 1, "{root}");
    let log = logs[0];
    assert_eq!(log["hashAlgorithm"], "SHA2_256");
    assert!(log["publicKey"]["validFor"]["start"].is_string());
    let spki = B64
        .decode(log["publicKey"]["rawBytes"].as_str().unwrap())
        .unwrap();
    // An Ed25519 SubjectPublicKeyInfo ends with the 32-byte key.
    assert_eq!(spki.len(), 44);
    TrustedLog {
        key: spki[12..].to_vec(),
        log_id: B64.decode(log["logId"]["keyId"].as_str().unwrap()).unwrap(),
        base_url: log["baseUrl"].as_str().unwrap().to_owned(),
    }
}

/// A checkpoint read by hand from C2SP tlog-checkpoint, its one signature checked with
/// aws-lc-rs against the trusted key. Returns (origin, size, root).
fn verify_checkpoint(text: &str, log: &TrustedLog) -> (String, u64, [u8; 32]) {
    let (note, signatures) = text.split_once("\n\n").expect("a blank line");
    let lines: Vec<&str> = note.split('\n').collect();
    assert_eq!(lines.len(), 3, "no extension lines: {text:?}");
    let origin = lines[0].to_owned();
    let size: u64 = lines[1].parse().unwrap();
    let root: [u8; 32] = B64.decode(lines[2]).unwrap().try_into().unwrap();
    let sig_lines: Vec<&str> = signatures.strip_suffix('\n').unwrap().split('\n').collect();
    assert_eq!(sig_lines.len(), 1, "{text:?}");
    let rest = sig_lines[0]
        .strip_prefix("\u{2014} ")
        .expect("an em dash and a space");
    let (name, blob) = rest.split_once(' ').unwrap();
    assert_eq!(name, origin, "the key name is the origin");
    let blob = B64.decode(blob).unwrap();
    let (hint, sig) = blob.split_at(4);
    // The key hint of an Ed25519 signed note, from the spec: SHA-256(name || \n || 0x01 || key).
    let mut preimage = format!("{name}\n").into_bytes();
    preimage.push(0x01);
    preimage.extend_from_slice(&log.key);
    let key_id = sha256(&preimage);
    assert_eq!(hint, &key_id[..4]);
    // The trusted root's log ID is that key ID, so verifiers match the hint against it.
    assert_eq!(log.log_id, key_id);
    aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &log.key)
        .verify(format!("{note}\n").as_bytes(), sig)
        .expect("the checkpoint signature verifies with the trusted key");
    (origin, size, root)
}

/// Checks a Rekor v2 entry as a verifier would, without the log's code: the checkpoint with
/// aws-lc-rs, the inclusion proof with `sigstore-merkle` against the checkpoint's size and root.
fn check_entry(entry: &TransparencyLogEntry, log: &TrustedLog) -> (u64, [u8; 32]) {
    assert!(
        entry.integrated_time.is_none(),
        "Rekor v2 has no integrated time"
    );
    assert!(
        entry.inclusion_promise.is_none(),
        "Rekor v2 has no inclusion promise"
    );
    assert_eq!(entry.log_id.key_id.as_bytes(), log.log_id.as_slice());
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let (origin, size, root) = verify_checkpoint(proof.checkpoint.envelope(), log);
    assert_eq!(origin, "127.0.0.1");
    assert!(log.base_url.starts_with(&format!("http://{origin}:")));
    // The proof's own copies of index, size and root agree with the signed values.
    assert_eq!(proof.log_index.get(), entry.log_index.get());
    assert_eq!(proof.tree_size, size);
    assert_eq!(proof.root_hash.as_bytes(), &root);
    sigstore_merkle::verify_inclusion_proof(
        &sigstore_merkle::hash_leaf(entry.canonicalized_body.as_bytes()),
        entry.log_index.get(),
        size,
        &proof.hashes,
        &Sha256Hash::new(root),
    )
    .unwrap();
    (size, root)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekor_v2_client_appends_and_the_proof_and_checkpoint_verify() {
    let dir = tempfile::tempdir().unwrap();
    let running = start_in(dir.path()).await;
    let log = trusted_v2_log(dir.path());
    assert_eq!(log.base_url, running.url());
    let client = RekorV2Client::new(running.url()).unwrap();
    let signer = Signer::new();

    for i in 0..5u64 {
        let entry = client
            .create_entry(signer.request(format!("filler {i}").as_bytes()))
            .await
            .unwrap();
        assert_eq!(entry.log_index.get(), i);
        let (size, _) = check_entry(&entry, &log);
        assert_eq!(size, i + 1);
    }
    let artifact = b"the artifact";
    let entry = client.create_entry(signer.request(artifact)).await.unwrap();
    assert_eq!(entry.log_index.get(), 5);
    assert_eq!(entry.kind_version, KindVersion::HashedRekordV002);
    let (size, root) = check_entry(&entry, &log);
    assert_eq!(size, 6);
    assert_eq!(entry.inclusion_proof.as_ref().unwrap().hashes.len(), 2);

    // The body is the hashedrekord 0.0.2 entry of the request, in protobuf JSON.
    let body: Value = serde_json::from_slice(entry.canonicalized_body.as_bytes()).unwrap();
    assert_eq!(body["kind"], "hashedrekord");
    assert_eq!(body["apiVersion"], "0.0.2");
    let spec = &body["spec"]["hashedRekordV002"];
    assert_eq!(spec["data"]["algorithm"], "SHA2_256");
    assert_eq!(spec["data"]["digest"], B64.encode(sha256(artifact)));
    assert_eq!(
        spec["signature"]["verifier"]["keyDetails"],
        "PKIX_ECDSA_P256_SHA_256"
    );
    assert_eq!(
        spec["signature"]["verifier"]["publicKey"]["rawBytes"],
        B64.encode(signer.spki())
    );

    // The published checkpoint is the same tree, parsed by the client and checked here.
    let checkpoint = client.get_checkpoint().await.unwrap();
    assert_eq!(checkpoint.tree_size(), 6);
    assert_eq!(checkpoint.root_hash().as_bytes(), &root);
    let text = reqwest::get(format!("{}/api/v2/checkpoint", running.url()))
        .await
        .unwrap();
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    let (_, size, published) = verify_checkpoint(&text.text().await.unwrap(), &log);
    assert_eq!((size, published), (6, root));

    // The Rekor v1 log is untouched by all of this.
    let v1: Value = reqwest::get(format!("{}/api/v1/log", running.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["treeSize"], 0);
    running.shutdown().await.unwrap();
}

/// `MTH` of RFC 6962 section 2.1 over leaf hashes, straight from the definition.
fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha256(b""),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            let mut node = vec![1u8];
            node.extend_from_slice(&mth(&leaves[..k]));
            node.extend_from_slice(&mth(&leaves[k..]));
            sha256(&node)
        }
    }
}

fn hashes(bytes: &[u8]) -> Vec<[u8; 32]> {
    assert_eq!(bytes.len() % 32, 0);
    bytes.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

/// The entries of an entry bundle: big-endian `uint16` length, then the entry.
fn bundle_entries(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        out.push(bytes[2..2 + len].to_vec());
        bytes = &bytes[2 + len..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_rebuild_the_checkpoint_root() {
    let dir = tempfile::tempdir().unwrap();
    let running = start_in(dir.path()).await;
    let log = trusted_v2_log(dir.path());
    let client = RekorV2Client::new(running.url()).unwrap();
    let signer = std::sync::Arc::new(Signer::new());

    // 300 entries: one full level-0 tile and bundle, a partial one of 44, and a partial
    // level-1 tile of width 1. Appended from 6 concurrent writers, so that batches form.
    let mut tasks = Vec::new();
    for w in 0..6 {
        let (client, signer) = (client.clone(), signer.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                client
                    .create_entry(signer.request(format!("entry {w} {i}").as_bytes()))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    let checkpoint = client.get_checkpoint().await.unwrap();
    let text = reqwest::get(format!("{}/api/v2/checkpoint", running.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, size, root) = verify_checkpoint(&text, &log);
    assert_eq!((size, checkpoint.tree_size()), (300, 300));

    let full = client.get_tile(0, 0, None).await.unwrap();
    let partial = client.get_tile(0, 1, NonZeroU8::new(44)).await.unwrap();
    assert_eq!(full.bytes.len(), 256 * 32);
    let mut leaves = hashes(&full.bytes);
    leaves.extend(hashes(&partial.bytes));
    assert_eq!(leaves.len(), 300);
    assert_eq!(
        mth(&leaves),
        root,
        "the level-0 tiles hash to the checkpoint's root"
    );

    // Level 1 holds the hash of each full level-0 tile.
    let level1 = client.get_tile(1, 0, NonZeroU8::new(1)).await.unwrap();
    assert_eq!(hashes(&level1.bytes), vec![mth(&leaves[..256])]);

    // Entry bundles hold the bodies that hash to the level-0 tiles.
    let mut bodies = bundle_entries(&client.get_entry_bundle(0, None).await.unwrap().bytes);
    bodies.extend(bundle_entries(
        &client
            .get_entry_bundle(1, NonZeroU8::new(44))
            .await
            .unwrap()
            .bytes,
    ));
    assert_eq!(bodies.len(), 300);
    for (body, leaf) in bodies.iter().zip(&leaves) {
        assert_eq!(sigstore_merkle::hash_leaf(body).as_bytes(), leaf);
        let value: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(value["kind"], "hashedrekord");
    }
    // A smaller partial tile is a prefix of the larger one (any checkpoint's tiles exist).
    let prefix = client.get_tile(0, 1, NonZeroU8::new(3)).await.unwrap();
    assert_eq!(prefix.bytes, partial.bytes[..3 * 32]);

    // What the tree does not have yet is 404; what is not a tile path is 400.
    let http = reqwest::Client::new();
    for (path, status) in [
        ("tile/0/001", 404),
        ("tile/0/001.p/45", 404),
        ("tile/0/002.p/1", 404),
        ("tile/1/000", 404),
        ("tile/2/000.p/1", 404),
        ("tile/entries/001", 404),
        ("tile/entries/001.p/45", 404),
        ("tile/0/1", 400),
        ("tile/00/000", 400),
        ("tile/0/000.p/0", 400),
        ("tile/0/x000/000", 400),
        ("tile/entries/000.p/256", 400),
        ("tile/entries", 400),
    ] {
        let r = http
            .get(format!("{}/api/v2/{path}", running.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
    }
    let r = http
        .get(format!("{}/api/v2/tile/0/000", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    running.shutdown().await.unwrap();
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v2/log/entries"))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn hashedrekord_json(digest: &[u8], sig: &[u8], spki: &[u8], details: &str) -> Value {
    json!({ "hashedRekordRequestV002": {
        "digest": B64.encode(digest),
        "signature": {
            "content": B64.encode(sig),
            "verifier": { "publicKey": { "rawBytes": B64.encode(spki) }, "keyDetails": details },
        },
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_and_bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let running = start_in(dir.path()).await;
    let url = running.url();
    let client = RekorV2Client::new(url).unwrap();
    let signer = Signer::new();
    let other = Signer::new();

    // A signature over another artifact, through the client: HTTP 400.
    let bad = HashedRekordV2::new_with_public_key(
        &Sha256Hash::new(sha256(b"the artifact")),
        &SignatureBytes::new(signer.sign(b"another artifact")),
        &DerPublicKey::new(signer.spki()),
        RekorV2KeyDetails::PkixEcdsaP256Sha256,
    );
    match client.create_entry(bad).await {
        Err(sigstore_sign::rekor::Error::Status { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("signature rejected"), "{message}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }

    // The same checks in the gateway's JSON error form.
    let sig = signer.sign(b"the artifact");
    let good = hashedrekord_json(
        &sha256(b"the artifact"),
        &sig,
        &signer.spki(),
        "PKIX_ECDSA_P256_SHA_256",
    );
    for (body, expected) in [
        (
            hashedrekord_json(
                &sha256(b"the artifact"),
                &sig,
                &other.spki(),
                "PKIX_ECDSA_P256_SHA_256",
            ),
            "signature rejected",
        ),
        (
            hashedrekord_json(
                &sha256(b"the artifact"),
                &sig,
                &signer.spki(),
                "PKIX_ECDSA_P384_SHA_384",
            ),
            "keyDetails is PKIX_ECDSA_P384_SHA_384",
        ),
        (
            hashedrekord_json(
                &sha256(b"the artifact"),
                &sig,
                &signer.spki(),
                "PKIX_ECDSA_P521_SHA_512",
            ),
            "unsupported",
        ),
        (
            hashedrekord_json(
                &sha256(b"the artifact")[..20],
                &sig,
                &signer.spki(),
                "PKIX_ECDSA_P256_SHA_256",
            ),
            "32-byte sha256 digest",
        ),
        (
            hashedrekord_json(
                &sha256(b"the artifact"),
                &sig,
                b"not a key",
                "PKIX_ECDSA_P256_SHA_256",
            ),
            "publicKey",
        ),
        (
            json!({ "apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {} }),
            "hashedRekordRequestV002",
        ),
    ] {
        let (status, error) = post(url, &body).await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["code"], 3, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(expected),
            "{error}"
        );
    }
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v2/log/entries"))
        .header("content-type", "application/json")
        .body("{\"hashedRekordRequestV002\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v2/log/entries"))
        .header("content-type", "application/json")
        .body(vec![b' '; 5 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);

    // The good request is logged once; the same entry again is a conflict.
    assert_eq!(post(url, &good).await.0, 201);
    let (status, error) = post(url, &good).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], 6);
    assert!(
        error["message"].as_str().unwrap().contains("index 0"),
        "{error}"
    );

    // Nothing refused was logged.
    assert_eq!(client.get_checkpoint().await.unwrap().tree_size(), 1);
    running.shutdown().await.unwrap();
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dsse_request_is_logged_with_its_payload_hash_and_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let running = start_in(dir.path()).await;
    let log = trusted_v2_log(dir.path());
    let signer = Signer::new();
    let rng = SystemRandom::new();
    let ed =
        Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let ed_spki = ed.public_key().as_der().unwrap().as_ref().to_vec();

    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}"#;
    let payload_type = "application/vnd.in-toto+json";
    let signed = pae(payload_type, payload);
    let (p256_sig, ed_sig) = (signer.sign(&signed), ed.sign(&signed).as_ref().to_vec());
    let request = json!({ "dsseRequestV002": {
        "envelope": {
            "payload": B64.encode(payload),
            "payloadType": payload_type,
            "signatures": [
                { "sig": B64.encode(&ed_sig), "keyid": "" },
                { "sig": B64.encode(&p256_sig), "keyid": "" },
            ],
        },
        "verifiers": [
            { "publicKey": { "rawBytes": B64.encode(signer.spki()) }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" },
            { "publicKey": { "rawBytes": B64.encode(&ed_spki) }, "keyDetails": "PKIX_ED25519" },
        ],
    }});
    let (status, response) = post(running.url(), &request).await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(
        response["kindVersion"],
        json!({ "kind": "dsse", "version": "0.0.2" })
    );
    assert!(response.get("integratedTime").is_none());
    assert!(response.get("inclusionPromise").is_none());

    // sigstore-types 0.15 knows no dsse 0.0.2 (current clients log DSSE as hashedrekord), so
    // this entry is read as plain JSON and its proof checked with the same tools.
    let body = B64
        .decode(response["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let value: Value = serde_json::from_slice(&body).unwrap();
    let spec = &value["spec"]["dsseV002"];
    assert_eq!(spec["payloadHash"]["algorithm"], "SHA2_256");
    assert_eq!(spec["payloadHash"]["digest"], B64.encode(sha256(payload)));
    let sigs = spec["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[0]["content"], B64.encode(&ed_sig));
    assert_eq!(sigs[0]["verifier"]["keyDetails"], "PKIX_ED25519");
    assert_eq!(sigs[1]["content"], B64.encode(&p256_sig));
    let proof = &response["inclusionProof"];
    let (_, size, root) =
        verify_checkpoint(proof["checkpoint"]["envelope"].as_str().unwrap(), &log);
    assert_eq!(proof["treeSize"], size.to_string());
    assert_eq!(response["logIndex"], "0");
    assert_eq!(
        B64.decode(response["logId"]["keyId"].as_str().unwrap())
            .unwrap(),
        log.log_id
    );
    sigstore_merkle::verify_inclusion_proof(
        &sigstore_merkle::hash_leaf(&body),
        0,
        size,
        &[],
        &Sha256Hash::new(root),
    )
    .unwrap();

    // A signature that none of the verifiers made is refused, and so is a missing verifier.
    let mut wrong = request.clone();
    wrong["dsseRequestV002"]["envelope"]["signatures"][1]["sig"] =
        json!(B64.encode(Signer::new().sign(&signed)));
    let (status, error) = post(running.url(), &wrong).await;
    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("signatures[1]"),
        "{error}"
    );
    let mut wrong = request.clone();
    wrong["dsseRequestV002"]["verifiers"] = json!([request["dsseRequestV002"]["verifiers"][0]]);
    assert_eq!(post(running.url(), &wrong).await.0, 400);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let signer = Signer::new();
    let running = start_in(dir.path()).await;
    let log = trusted_v2_log(dir.path());
    let client = RekorV2Client::new(running.url()).unwrap();
    let first = signer.request(b"before 0");
    let mut entries = vec![client.create_entry(first.clone()).await.unwrap()];
    for i in 1..7 {
        entries.push(
            client
                .create_entry(signer.request(format!("before {i}").as_bytes()))
                .await
                .unwrap(),
        );
    }
    let old = client.get_checkpoint().await.unwrap();
    let old_leaves = hashes(
        &client
            .get_tile(0, 0, NonZeroU8::new(7))
            .await
            .unwrap()
            .bytes,
    );
    running.shutdown().await.unwrap();

    // Another port, the same log: same key, same origin, same log ID, same entries.
    let running = start_in(dir.path()).await;
    let again = trusted_v2_log(dir.path());
    assert_eq!((&again.key, &again.log_id), (&log.key, &log.log_id));
    let client = RekorV2Client::new(running.url()).unwrap();
    let restarted = client.get_checkpoint().await.unwrap();
    assert_eq!(restarted.tree_size(), 7);
    assert_eq!(restarted.root_hash(), old.root_hash());
    // An entry from before the restart still verifies against the rewritten trusted root.
    for entry in &entries {
        check_entry(entry, &again);
    }
    // A duplicate of an entry from before the restart is still a duplicate.
    match client.create_entry(first).await {
        Err(sigstore_sign::rekor::Error::Status { status, .. }) => assert_eq!(status, 409),
        other => panic!("expected 409, got {other:?}"),
    }
    // Appends continue after what was kept, and the old tree is a prefix of the new one.
    let next = client.create_entry(signer.request(b"after")).await.unwrap();
    assert_eq!(next.log_index.get(), 7);
    check_entry(&next, &again);
    let leaves = hashes(
        &client
            .get_tile(0, 0, NonZeroU8::new(8))
            .await
            .unwrap()
            .bytes,
    );
    assert_eq!(leaves[..7], old_leaves[..]);
    assert_eq!(&mth(&leaves[..7]), old.root_hash().as_bytes());
    running.shutdown().await.unwrap();
}

fn token(running: &Running, email: &str) -> String {
    let shared = running.shared();
    vouch_devstack::oidc::mint(
        &shared.keys.oidc,
        &shared.base_url,
        &TokenRequest {
            subject: Subject::Email(email.to_owned()),
            ttl: 600,
            claims: BTreeMap::new(),
        },
        jiff::Timestamp::now().as_second(),
    )
    .unwrap()
}

/// The whole keyless flow of sigstore-rust's signer against the devstack (Fulcio, Rekor v2,
/// TSA), from the devstack's signing config; vouch's verifier then judges the bundles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_sign_uses_rekor_v2_by_default_and_vouch_verifies() {
    use sigstore_sign::rekor::RekorApiVersion;
    use sigstore_sign::trust_root::SigningConfig;
    use sigstore_sign::{Attestation, SigningContext, SigningServices};

    let dir = tempfile::tempdir().unwrap();
    let running = start_in(dir.path()).await;
    let config = std::fs::read_to_string(dir.path().join("signing_config.json")).unwrap();
    let config = SigningConfig::from_json(&config).unwrap();
    // The highest version wins: both logs are listed, and the client picks v2.
    assert_eq!(config.rekor_url(None).unwrap().major_api_version, 2);
    assert_eq!(config.rekor_url(Some(1)).unwrap().major_api_version, 1);
    let services = SigningServices::from_signing_config(&config).unwrap();
    assert_eq!(services.rekor_api_version(), RekorApiVersion::V2);

    let email = "release@example.com";
    let identity = sigstore_sign::oidc::IdentityToken::from_jwt(&token(&running, email)).unwrap();
    let signer = SigningContext::new(services).signer(identity);
    let trust = TrustMaterial::from_trust_config_json(
        &std::fs::read(dir.path().join("trust_config.json")).unwrap(),
        "trust_config.json",
    )
    .unwrap();
    let verifier = Verifier::new(trust).unwrap();
    let policy = Policy::keyless(Matcher::exact(email), Matcher::exact(running.url()));
    let log = trusted_v2_log(dir.path());

    let artifact = b"the release artifact\n";
    let bundle = signer.sign(artifact.as_slice()).await.unwrap();
    let entry = &bundle.verification_material.tlog_entries[0];
    assert_eq!(entry.kind_version, KindVersion::HashedRekordV002);
    check_entry(entry, &log);
    let json = serde_json::to_vec(&bundle).unwrap();
    let report = verifier.verify(&json, ArtifactInput::Bytes(artifact), &policy);
    assert!(report.verified, "{:#?}", report.checks);
    // The same bundle does not verify for another artifact, nor with its log entry tampered.
    let report = verifier.verify(&json, ArtifactInput::Bytes(b"another"), &policy);
    assert!(!report.verified);
    let good: Value = serde_json::from_slice(&json).unwrap();
    let entry_path = "/verificationMaterial/tlogEntries/0";
    let checkpoint = good
        .pointer(&format!("{entry_path}/inclusionProof/checkpoint/envelope"))
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let signed_size = checkpoint.lines().nth(1).unwrap().to_owned();
    let tampers: [(&str, Value); 3] = [
        (
            "inclusionProof/checkpoint/envelope",
            json!(checkpoint.replacen(
                &format!("\n{signed_size}\n"),
                &format!("\n{}\n", signed_size.parse::<u64>().unwrap() + 1),
                1
            )),
        ),
        ("inclusionProof/rootHash", json!(B64.encode([7u8; 32]))),
        ("logId/keyId", json!(B64.encode([7u8; 32]))),
    ];
    for (field, value) in tampers {
        let mut bad = good.clone();
        *bad.pointer_mut(&format!("{entry_path}/{field}")).unwrap() = value;
        let report = verifier.verify(
            bad.to_string().as_bytes(),
            ArtifactInput::Bytes(artifact),
            &policy,
        );
        assert!(!report.verified, "tampered {field} verified");
    }

    // An attestation: Rekor v2 logs the DSSE envelope as hashedrekord over its PAE.
    let attestation = Attestation::new("https://example.com/predicate/v1", json!({}))
        .add_subject("release.tar.gz", Sha256Hash::new(sha256(artifact)));
    let bundle = signer.sign_attestation(attestation).await.unwrap();
    let entry = &bundle.verification_material.tlog_entries[0];
    assert_eq!(entry.kind_version, KindVersion::HashedRekordV002);
    check_entry(entry, &log);
    let json = serde_json::to_vec(&bundle).unwrap();
    let report = verifier.verify(&json, ArtifactInput::Bytes(artifact), &policy);
    assert!(report.verified, "{:#?}", report.checks);
    running.shutdown().await.unwrap();
}

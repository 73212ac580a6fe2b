//! The devstack's Rekor v1 log against real peers: every test starts the real server on
//! loopback and talks HTTP to it, and entries are judged by the verifier vouch ships
//! (`vouch_sigstore::Verifier`, over the Sigstore crates) and by `sigstore-merkle`'s RFC 6962
//! proof checks, never by the log's own code.
//!
//! The crash test runs the server in a child process (this test binary, re-executed into the
//! `crash_child` test), kills it with SIGKILL in the middle of a stream of appends, restarts
//! it, and checks that every acknowledged entry survived (issue 4, item 8).

// Test helpers outside `#[test]` functions fail loudly on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sigstore_types::Sha256Hash;
use vouch_devstack::{Config, Running};
use vouch_sigstore::{ArtifactInput, Policy, TrustMaterial, Verifier};

/// Environment variable that turns the `crash_child` test into a server on this state dir.
const CHILD_ENV: &str = "VOUCH_REKOR_TEST_CHILD_STATE";

struct Stack {
    dir: tempfile::TempDir,
    running: Running,
    client: reqwest::Client,
}

impl Stack {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let running = start_in(dir.path()).await;
        Self {
            dir,
            running,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value, Option<String>) {
        post_json(&self.client, &self.url(path), body).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    fn verifier(&self) -> Verifier {
        let root = std::fs::read(self.dir.path().join("trusted_root.json")).unwrap();
        Verifier::new(TrustMaterial::from_trusted_root_json(&root, "devstack").unwrap()).unwrap()
    }
}

async fn start_in(dir: &Path) -> Running {
    vouch_devstack::start(Config {
        state_dir: dir.to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap()
}

async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> (u16, Value, Option<String>) {
    let r = client.post(url).json(body).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, r.json().await.unwrap(), location)
}

/// A managed ECDSA P-256 key, as `cosign sign-blob --key` uses one.
struct Signer {
    pair: EcdsaKeyPair,
    pem: String,
}

impl Signer {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let pem = pem("PUBLIC KEY", spki.as_ref());
        Self { pair, pem }
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

    /// A hashedrekord 0.0.1 proposed entry for `artifact`.
    fn hashedrekord(&self, artifact: &[u8]) -> Value {
        hashedrekord(&sha256(artifact), &self.sign(artifact), &self.pem)
    }
}

fn hashedrekord(digest: &[u8], signature: &[u8], pem: &str) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": hex(digest) } },
            "signature": {
                "content": B64.encode(signature),
                "publicKey": { "content": B64.encode(pem) },
            },
        },
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    vouch_digest::to_hex(bytes)
}

fn unhex(s: &str) -> Vec<u8> {
    vouch_digest::from_hex(s).unwrap()
}

fn h(s: &str) -> Sha256Hash {
    Sha256Hash::try_from(unhex(s).as_slice()).unwrap()
}

/// The single `{uuid: entry}` of a Rekor response.
fn only_entry(response: &Value) -> (String, Value) {
    let map = response.as_object().unwrap();
    assert_eq!(map.len(), 1, "{response}");
    let (id, entry) = map.iter().next().unwrap();
    (id.clone(), entry.clone())
}

/// The bundle v0.3 tlog entry a Sigstore client assembles from a Rekor v1 response.
fn tlog_entry(entry: &Value, kind: &str) -> Value {
    let proof = &entry["verification"]["inclusionProof"];
    json!({
        "logIndex": entry["logIndex"].as_u64().unwrap().to_string(),
        "logId": { "keyId": B64.encode(unhex(entry["logID"].as_str().unwrap())) },
        "kindVersion": { "kind": kind, "version": if kind == "intoto" { "0.0.2" } else { "0.0.1" } },
        "integratedTime": entry["integratedTime"].as_i64().unwrap().to_string(),
        "inclusionPromise": { "signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"] },
        "inclusionProof": {
            "logIndex": proof["logIndex"].as_u64().unwrap().to_string(),
            "rootHash": B64.encode(unhex(proof["rootHash"].as_str().unwrap())),
            "treeSize": proof["treeSize"].as_u64().unwrap().to_string(),
            "hashes": proof["hashes"].as_array().unwrap().iter()
                .map(|x| B64.encode(unhex(x.as_str().unwrap()))).collect::<Vec<_>>(),
            "checkpoint": { "envelope": proof["checkpoint"] },
        },
        "canonicalizedBody": entry["body"],
    })
}

fn message_bundle(entry: &Value, signer: &Signer, artifact: &[u8], signature: &[u8]) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": { "hint": B64.encode(sha256(&signer.spki())) },
            "tlogEntries": [tlog_entry(entry, "hashedrekord")],
        },
        "messageSignature": {
            "messageDigest": { "algorithm": "SHA2_256", "digest": B64.encode(sha256(artifact)) },
            "signature": B64.encode(signature),
        },
    })
}

fn verify(
    verifier: &Verifier,
    bundle: &Value,
    artifact: &[u8],
    key_pem: &str,
) -> Result<(), String> {
    let policy = Policy::public_key_pem(key_pem).unwrap();
    let report = verifier.verify(
        bundle.to_string().as_bytes(),
        ArtifactInput::Bytes(artifact),
        &policy,
    );
    if report.verified {
        Ok(())
    } else {
        Err(format!("{:?}", report.first_failure()))
    }
}

/// Checks an entry's inclusion proof with `sigstore-merkle`, from its body.
fn check_inclusion(entry: &Value) {
    let body = B64.decode(entry["body"].as_str().unwrap()).unwrap();
    let proof = &entry["verification"]["inclusionProof"];
    let hashes: Vec<Sha256Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| h(x.as_str().unwrap()))
        .collect();
    sigstore_merkle::verify_inclusion_proof(
        &sigstore_merkle::hash_leaf(&body),
        proof["logIndex"].as_u64().unwrap(),
        proof["treeSize"].as_u64().unwrap(),
        &hashes,
        &h(proof["rootHash"].as_str().unwrap()),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hashedrekord_entry_verifies_as_a_sigstore_bundle() {
    let stack = Stack::start().await;
    let signer = Signer::new();
    let verifier = stack.verifier();

    // A few entries first, so that the proof has hashes in it.
    for i in 0..5 {
        let (status, _, _) = stack
            .post(
                "/api/v1/log/entries",
                &signer.hashedrekord(format!("filler {i}").as_bytes()),
            )
            .await;
        assert_eq!(status, 201);
    }
    let artifact = b"the artifact";
    let signature = signer.sign(artifact);
    let proposed = hashedrekord(&sha256(artifact), &signature, &signer.pem);
    let (status, response, location) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 201, "{response}");
    let (id, entry) = only_entry(&response);
    assert_eq!(id.len(), 80);
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/log/entries/{id}").as_str())
    );
    assert_eq!(entry["logIndex"], 5);
    assert_eq!(entry["verification"]["inclusionProof"]["treeSize"], 6);
    check_inclusion(&entry);

    // The decisive check: vouch's verifier accepts the bundle a client builds from the reply.
    let bundle = message_bundle(&entry, &signer, artifact, &signature);
    verify(&verifier, &bundle, artifact, &signer.pem).unwrap();

    // The body is the canonical hashedrekord, as the verifier's consistency check saw.
    let body: Value =
        serde_json::from_slice(&B64.decode(entry["body"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(body["kind"], "hashedrekord");
    assert_eq!(
        body["spec"]["data"]["hash"]["value"],
        hex(&sha256(artifact))
    );

    // Reads: by ID (both forms), by index, by search.
    let (status, by_id) = stack.get(&location.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(only_entry(&by_id).1["body"], entry["body"]);
    let (status, by_uuid) = stack
        .get(&format!("/api/v1/log/entries/{}", &id[16..]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(only_entry(&by_uuid).0, id);
    let (status, by_index) = stack.get("/api/v1/log/entries?logIndex=5").await;
    assert_eq!(status, 200);
    let (_, later) = only_entry(&by_index);
    check_inclusion(&later);
    // Entries read later verify as well (a fresh SET and checkpoint).
    verify(
        &verifier,
        &message_bundle(&later, &signer, artifact, &signature),
        artifact,
        &signer.pem,
    )
    .unwrap();
    let (status, found, _) = stack
        .post(
            "/api/v1/log/entries/retrieve",
            &json!({ "entryUUIDs": [id], "logIndexes": [0], "entries": [proposed] }),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 3);
    let (status, ids, _) = stack
        .post(
            "/api/v1/index/retrieve",
            &json!({ "hash": format!("sha256:{}", hex(&sha256(artifact))) }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids, json!([id]));

    // The tree head and the log key.
    let (status, info) = stack.get("/api/v1/log").await;
    assert_eq!(status, 200);
    assert_eq!(info["treeSize"], 6);
    let sth = info["signedTreeHead"].as_str().unwrap();
    let tree_id = info["treeID"].as_str().unwrap();
    assert!(
        sth.starts_with(&format!("127.0.0.1 - {tree_id}\n6\n")),
        "{sth}"
    );
    assert_eq!(
        format!("{:016x}", tree_id.parse::<i64>().unwrap()),
        id[..16]
    );
    let key = stack
        .client
        .get(stack.url("/api/v1/log/publicKey"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        key,
        pem(
            "PUBLIC KEY",
            stack.running.shared().keys.rekor_v1.spki_der()
        )
    );

    stack.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_bundles_and_bad_requests_are_refused() {
    let stack = Stack::start().await;
    let signer = Signer::new();
    let verifier = stack.verifier();
    let artifact = b"artifact for tamper checks";
    let signature = signer.sign(artifact);
    let proposed = hashedrekord(&sha256(artifact), &signature, &signer.pem);
    let (status, response, location) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 201);
    let (_, entry) = only_entry(&response);
    let good = message_bundle(&entry, &signer, artifact, &signature);
    verify(&verifier, &good, artifact, &signer.pem).unwrap();

    // Each field the log signs or proves, changed, makes the bundle fail.
    let mut bad = good.clone();
    bad["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
        json!((entry["integratedTime"].as_i64().unwrap() - 1).to_string());
    assert!(
        verify(&verifier, &bad, artifact, &signer.pem)
            .unwrap_err()
            .contains("TlogSet")
    );
    let mut bad = good.clone();
    bad["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"] =
        json!(B64.encode([7u8; 32]));
    assert!(verify(&verifier, &bad, artifact, &signer.pem).is_err());
    let mut bad = good.clone();
    let cp = entry["verification"]["inclusionProof"]["checkpoint"]
        .as_str()
        .unwrap();
    bad["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
        json!(cp.replacen("\n1\n", "\n2\n", 1));
    assert!(verify(&verifier, &bad, artifact, &signer.pem).is_err());

    // The same entry again: 409 and the existing entry's location.
    let (status, error, dup_location) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], 409);
    assert_eq!(dup_location, location);

    // A signature that does not match the digest.
    let wrong = hashedrekord(&sha256(b"another artifact"), &signature, &signer.pem);
    let (status, error, _) = stack.post("/api/v1/log/entries", &wrong).await;
    assert_eq!(status, 400);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("signature rejected"),
        "{error}"
    );
    // A signature by another key.
    let other = Signer::new();
    let wrong = hashedrekord(&sha256(artifact), &signature, &other.pem);
    let (status, _, _) = stack.post("/api/v1/log/entries", &wrong).await;
    assert_eq!(status, 400);
    // An unsupported kind, and a digest of the wrong length.
    let (status, error, _) = stack
        .post(
            "/api/v1/log/entries",
            &json!({ "apiVersion": "0.0.1", "kind": "rekord", "spec": {} }),
        )
        .await;
    assert_eq!((status, error["code"].clone()), (400, json!(400)));
    let mut short = proposed.clone();
    short["spec"]["data"]["hash"]["value"] = json!("abcd");
    assert_eq!(stack.post("/api/v1/log/entries", &short).await.0, 400);

    // Malformed JSON: 400 with a message.
    let r = stack
        .client
        .post(stack.url("/api/v1/log/entries"))
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let error: Value = r.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("not JSON"),
        "{error}"
    );

    // Oversized: 413, as JSON. On a client of its own: the server answers before reading the
    // whole body and closes that connection, which must not be pooled for the next request.
    let r = reqwest::Client::new()
        .post(stack.url("/api/v1/log/entries"))
        .header("content-type", "application/json")
        .body(vec![b' '; 5 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["code"], 413);

    // Bad lookups.
    assert_eq!(stack.get("/api/v1/log/entries/zz").await.0, 400);
    assert_eq!(
        stack
            .get(&format!("/api/v1/log/entries/{}", "0".repeat(64)))
            .await
            .0,
        404
    );
    assert_eq!(stack.get("/api/v1/log/entries?logIndex=99").await.0, 404);
    assert_eq!(stack.get("/api/v1/log/entries?logIndex=x").await.0, 400);
    assert_eq!(
        stack
            .get("/api/v1/log/proof?firstSize=2&lastSize=1")
            .await
            .0,
        400
    );
    assert_eq!(
        stack
            .get("/api/v1/log/proof?firstSize=1&lastSize=9")
            .await
            .0,
        400
    );

    // Nothing refused was logged.
    assert_eq!(stack.get("/api/v1/log").await.1["treeSize"], 1);
    stack.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dsse_entry_verifies_as_a_sigstore_bundle() {
    let stack = Stack::start().await;
    let verifier = stack.verifier();
    let signer = Signer::new();
    let artifact = b"an artifact with an attestation";
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": "artifact", "digest": { "sha256": hex(&sha256(artifact)) } }],
        "predicateType": "https://example.com/predicate/v1",
        "predicate": {},
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let payload_type = "application/vnd.in-toto+json";
    let pae = [
        format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .as_bytes(),
        &payload,
    ]
    .concat();
    let sig = signer.sign(&pae);
    let envelope = json!({
        "payload": B64.encode(&payload),
        "payloadType": payload_type,
        "signatures": [{ "keyid": "", "sig": B64.encode(&sig) }],
    });
    let proposed = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": { "proposedContent": {
            "envelope": envelope.to_string(),
            "verifiers": [B64.encode(&signer.pem)],
        }},
    });
    let (status, response, _) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 201, "{response}");
    let (_, entry) = only_entry(&response);
    let body: Value =
        serde_json::from_slice(&B64.decode(entry["body"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(body["spec"]["payloadHash"]["value"], hex(&sha256(&payload)));
    assert_eq!(
        body["spec"]["envelopeHash"]["value"],
        hex(&sha256(envelope.to_string().as_bytes()))
    );
    assert_eq!(body["spec"]["signatures"][0]["signature"], B64.encode(&sig));

    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": { "hint": B64.encode(sha256(&signer.spki())) },
            "tlogEntries": [tlog_entry(&entry, "dsse")],
        },
        "dsseEnvelope": {
            "payload": B64.encode(&payload),
            "payloadType": payload_type,
            "signatures": [{ "sig": B64.encode(&sig), "keyid": "" }],
        },
    });
    verify(&verifier, &bundle, artifact, &signer.pem).unwrap();

    // An envelope whose signature is by another key than its verifier is refused.
    let other = Signer::new();
    let mut wrong = proposed.clone();
    wrong["spec"]["proposedContent"]["verifiers"] = json!([B64.encode(&other.pem)]);
    let (status, error, _) = stack.post("/api/v1/log/entries", &wrong).await;
    assert_eq!(status, 400, "{error}");

    // Ed25519 signs the PAE directly: accepted for DSSE.
    let rng = SystemRandom::new();
    let ed =
        Ed25519KeyPair::from_pkcs8(Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref()).unwrap();
    let ed_pem = pem("PUBLIC KEY", ed.public_key().as_der().unwrap().as_ref());
    let ed_sig = ed.sign(&pae);
    let envelope = json!({
        "payload": B64.encode(&payload),
        "payloadType": payload_type,
        "signatures": [{ "sig": B64.encode(ed_sig.as_ref()) }],
    });
    let proposed = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": { "proposedContent": {
            "envelope": envelope.to_string(),
            "verifiers": [B64.encode(&ed_pem)],
        }},
    });
    let (status, response, _) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 201, "{response}");
    stack.running.shutdown().await.unwrap();
}

/// An `intoto` 0.0.2 entry as cosign proposes it (`attest --rekor-entry-type intoto`): the
/// envelope's payload and signature base64 once more, the key with each signature, the hash of
/// the envelope as sent.
fn intoto_proposed(envelope: &Value, key_pem: &str) -> Value {
    let text = envelope.to_string();
    json!({
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": { "content": {
            "envelope": {
                "payload": B64.encode(envelope["payload"].as_str().unwrap()),
                "payloadType": envelope["payloadType"],
                "signatures": [{
                    "sig": B64.encode(envelope["signatures"][0]["sig"].as_str().unwrap()),
                    "publicKey": B64.encode(key_pem),
                }],
            },
            "hash": { "algorithm": "sha256", "value": hex(&sha256(text.as_bytes())) },
        }},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intoto_entry_verifies_as_a_sigstore_bundle() {
    let stack = Stack::start().await;
    let verifier = stack.verifier();
    let signer = Signer::new();
    let artifact = b"an artifact with a cosign-style attestation";
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": "artifact", "digest": { "sha256": hex(&sha256(artifact)) } }],
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {},
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let payload_type = "application/vnd.in-toto+json";
    let pae = [
        format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .as_bytes(),
        &payload,
    ]
    .concat();
    let sig = signer.sign(&pae);
    let envelope = json!({
        "payloadType": payload_type,
        "payload": B64.encode(&payload),
        "signatures": [{ "keyid": "", "sig": B64.encode(&sig) }],
    });
    let proposed = intoto_proposed(&envelope, &signer.pem);
    let (status, response, _) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 201, "{response}");
    let (_, entry) = only_entry(&response);
    check_inclusion(&entry);
    let body: Value =
        serde_json::from_slice(&B64.decode(entry["body"].as_str().unwrap()).unwrap()).unwrap();
    // What Rekor stores: no payload; the signature base64 twice; the key as sent.
    let content = &body["spec"]["content"];
    assert_eq!(body["kind"], "intoto");
    assert_eq!(body["apiVersion"], "0.0.2");
    assert!(content["envelope"].get("payload").is_none(), "{body}");
    assert_eq!(content["envelope"]["payloadType"], payload_type);
    assert_eq!(
        content["envelope"]["signatures"],
        json!([{
            "sig": B64.encode(B64.encode(&sig)),
            "publicKey": B64.encode(&signer.pem),
        }])
    );
    assert_eq!(content["payloadHash"]["value"], hex(&sha256(&payload)));
    assert_eq!(
        content["hash"]["value"],
        hex(&sha256(envelope.to_string().as_bytes()))
    );

    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": { "hint": B64.encode(sha256(&signer.spki())) },
            "tlogEntries": [tlog_entry(&entry, "intoto")],
        },
        "dsseEnvelope": {
            "payload": B64.encode(&payload),
            "payloadType": payload_type,
            "signatures": [{ "sig": B64.encode(&sig), "keyid": "" }],
        },
    });
    verify(&verifier, &bundle, artifact, &signer.pem).unwrap();

    // The same entry does not vouch for an envelope with another payload.
    let mut other_payload = bundle.clone();
    other_payload["dsseEnvelope"]["payload"] = json!(B64.encode(b"{}"));
    assert!(verify(&verifier, &other_payload, artifact, &signer.pem).is_err());

    // Refused: a key that did not sign, a payload that was not signed, no envelope hash.
    let other = Signer::new();
    let wrong_key = intoto_proposed(&envelope, &other.pem);
    let (status, error, _) = stack.post("/api/v1/log/entries", &wrong_key).await;
    assert_eq!(status, 400, "{error}");
    assert!(error.to_string().contains("signature rejected"), "{error}");
    let mut tampered = envelope.clone();
    tampered["payload"] = json!(B64.encode(b"{\"_type\":\"other\"}"));
    let (status, error, _) = stack
        .post(
            "/api/v1/log/entries",
            &intoto_proposed(&tampered, &signer.pem),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    let mut no_hash = proposed.clone();
    no_hash["spec"]["content"]
        .as_object_mut()
        .unwrap()
        .remove("hash");
    let (status, error, _) = stack.post("/api/v1/log/entries", &no_hash).await;
    assert_eq!(status, 400, "{error}");
    assert!(error.to_string().contains("spec.content.hash"), "{error}");

    // Submitted again: the same entry, 409.
    let (status, _, _) = stack.post("/api/v1/log/entries", &proposed).await;
    assert_eq!(status, 409);
    // Nothing refused was logged.
    assert_eq!(stack.get("/api/v1/log").await.1["treeSize"], 1);
    stack.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_survives_a_restart_and_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let signer = Signer::new();
    let running = start_in(dir.path()).await;
    let mut ids = Vec::new();
    let first = signer.hashedrekord(b"before");
    for i in 0..7 {
        let url = format!("{}/api/v1/log/entries", running.url());
        let proposed = if i == 0 {
            first.clone()
        } else {
            signer.hashedrekord(format!("before {i}").as_bytes())
        };
        let (status, response, _) = post_json(&client, &url, &proposed).await;
        assert_eq!(status, 201);
        ids.push(only_entry(&response).0);
    }
    let old: Value = client
        .get(format!("{}/api/v1/log", running.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    running.shutdown().await.unwrap();

    let running = start_in(dir.path()).await;
    for i in 0..6 {
        let url = format!("{}/api/v1/log/entries", running.url());
        let (status, _, _) = post_json(
            &client,
            &url,
            &signer.hashedrekord(format!("after {i}").as_bytes()),
        )
        .await;
        assert_eq!(status, 201);
    }
    // A duplicate of an entry from before the restart is still a duplicate.
    let url = format!("{}/api/v1/log/entries", running.url());
    let (status, _, location) = post_json(&client, &url, &first).await;
    assert_eq!(status, 409);
    assert_eq!(location, Some(format!("/api/v1/log/entries/{}", ids[0])));
    check_log(running.url(), &client, &ids, &old).await;
    running.shutdown().await.unwrap();
}

/// Checks that every entry in `ids` is present with a valid inclusion proof, and that the
/// tree head `old` is consistent with the current one.
async fn check_log(url: &str, client: &reqwest::Client, ids: &[String], old: &Value) {
    for id in ids {
        let r = client
            .get(format!("{url}/api/v1/log/entries/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "entry {id} lost");
        let response: Value = r.json().await.unwrap();
        let (got, entry) = only_entry(&response);
        assert_eq!(&got, id);
        check_inclusion(&entry);
        let body = B64.decode(entry["body"].as_str().unwrap()).unwrap();
        assert_eq!(hex(sigstore_merkle::hash_leaf(&body).as_bytes()), id[16..]);
    }
    let new: Value = client
        .get(format!("{url}/api/v1/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (old_size, new_size) = (
        old["treeSize"].as_u64().unwrap(),
        new["treeSize"].as_u64().unwrap(),
    );
    assert!(new_size >= old_size);
    assert_eq!(old["treeID"], new["treeID"]);
    if old_size == 0 {
        return;
    }
    let proof: Value = client
        .get(format!(
            "{url}/api/v1/log/proof?firstSize={old_size}&lastSize={new_size}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(proof["rootHash"], new["rootHash"]);
    let hashes: Vec<Sha256Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| h(x.as_str().unwrap()))
        .collect();
    sigstore_merkle::verify_consistency_proof(
        old_size,
        new_size,
        &hashes,
        &h(old["rootHash"].as_str().unwrap()),
        &h(new["rootHash"].as_str().unwrap()),
    )
    .unwrap();
}

/// Not a test on its own: with `CHILD_ENV` set, serves the devstack on that state directory
/// until killed (or for at most a minute, so that it never outlives the test).
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let _running = start_in(Path::new(&dir)).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
}

struct ChildServer {
    child: Child,
}

impl ChildServer {
    fn spawn(dir: &Path) -> (Self, String) {
        let ready = dir.join("ready");
        let _ = std::fs::remove_file(&ready);
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(url) = std::fs::read_to_string(&ready)
                && !url.is_empty()
            {
                return (server, url);
            }
            assert!(Instant::now() < deadline, "the child server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown, no flushing.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_entries_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let state: PathBuf = dir.path().to_path_buf();
    let (server, url) = ChildServer::spawn(&state);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    // A first tree head, taken before the stream starts.
    let signer = Arc::new(Signer::new());
    for i in 0..3 {
        let (status, _, _) = post_json(
            &client,
            &format!("{url}/api/v1/log/entries"),
            &signer.hashedrekord(format!("warm-up {i}").as_bytes()),
        )
        .await;
        assert_eq!(status, 201);
    }
    let old: Value = client
        .get(format!("{url}/api/v1/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Four clients stream appends; every 201 is recorded.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for c in 0..4 {
        let (client, url, signer, acked) =
            (client.clone(), url.clone(), signer.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let proposed = signer.hashedrekord(format!("client {c} entry {i}").as_bytes());
                let Ok(r) = client
                    .post(format!("{url}/api/v1/log/entries"))
                    .json(&proposed)
                    .send()
                    .await
                else {
                    return;
                };
                if r.status().as_u16() != 201 {
                    return;
                }
                let Ok(response) = r.json::<Value>().await else {
                    return;
                };
                acked.lock().unwrap().push(only_entry(&response).0);
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().unwrap().len() < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 50,
        "only {} entries were acknowledged",
        acked.len()
    );

    let (server, url) = ChildServer::spawn(&state);
    let url = url.trim();
    check_log(url, &client, &acked, &old).await;
    // Entries may have been stored whose 201 never arrived, but none acknowledged is missing.
    let info: Value = client
        .get(format!("{url}/api/v1/log"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(info["treeSize"].as_u64().unwrap() >= 3 + acked.len() as u64);
    // The restarted log takes appends again, after what it kept.
    let (status, response, _) = post_json(
        &client,
        &format!("{url}/api/v1/log/entries"),
        &signer.hashedrekord(b"after the crash"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(only_entry(&response).1["logIndex"], info["treeSize"]);
    eprintln!(
        "{} appends acknowledged before SIGKILL; {} entries after restart",
        acked.len(),
        info["treeSize"]
    );
    drop(server);
}

/// The load benchmark of issue 4 (`scripts/bench/devstack.sh` runs it in release mode):
/// `VOUCH_REKOR_BENCH_CLIENTS` concurrent clients (default 8) append hashedrekord entries over
/// loopback HTTP for `VOUCH_REKOR_BENCH_SECS` seconds (default 10, at most 60), against a
/// devstack whose state lives in `VOUCH_REKOR_BENCH_DIR` (default: a temporary directory).
/// Every append is acknowledged only once synced to disk. Prints one JSON line of results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run it with scripts/bench/devstack.sh"]
async fn bench_appends() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let clients = env("VOUCH_REKOR_BENCH_CLIENTS", 8).clamp(1, 256);
    let secs = env("VOUCH_REKOR_BENCH_SECS", 10).clamp(1, 60);
    let base = std::env::var_os("VOUCH_REKOR_BENCH_DIR").map(PathBuf::from);
    let dir = match &base {
        Some(base) => {
            std::fs::create_dir_all(base).unwrap();
            tempfile::tempdir_in(base).unwrap()
        }
        None => tempfile::tempdir().unwrap(),
    };
    let running = start_in(dir.path()).await;
    let url = format!("{}/api/v1/log/entries", running.url());
    let client = reqwest::Client::new();
    let signer = Arc::new(Signer::new());
    let start = Instant::now();
    let stop = start + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, url, signer) = (client.clone(), url.clone(), signer.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while Instant::now() < stop {
                let proposed = signer.hashedrekord(format!("bench {c} {i}").as_bytes());
                let sent = Instant::now();
                let (status, _, _) = post_json(&client, &url, &proposed).await;
                assert_eq!(status, 201);
                latencies.push(sent.elapsed());
                i += 1;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i].as_secs_f64() * 1000.0
    };
    let info: Value = client
        .get(format!("{}/api/v1/log", running.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["treeSize"], latencies.len());
    println!(
        "{}",
        json!({
            "clients": clients,
            "seconds": (elapsed * 100.0).round() / 100.0,
            "appends": latencies.len(),
            "appends_per_second": (latencies.len() as f64 / elapsed).round(),
            "latency_ms_p50": (pct(0.5) * 100.0).round() / 100.0,
            "latency_ms_p99": (pct(0.99) * 100.0).round() / 100.0,
        })
    );
    running.shutdown().await.unwrap();
}

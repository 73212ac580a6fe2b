//! The devstack's TUF repository against real TUF clients over loopback HTTP: vouch's
//! `vouch_sigstore::tuf` (sigstore-rust's TUF client underneath) and sigstore-python 4.5.1
//! (python-tuf underneath).
//!
//! Some tests reach the devstack through a small proxy in this file, which gives the repository
//! a URL that survives restarts, records the paths clients ask for (to see what the cache
//! saves), and can answer chosen paths with chosen bytes (to serve tampered or replayed
//! metadata).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use vouch_sigstore::tuf::{self, InitialRoot, Repository, TufError};

async fn start(state: &Path, addr: &str) -> vouch_devstack::Running {
    vouch_devstack::start(vouch_devstack::Config {
        state_dir: state.to_path_buf(),
        addr: addr.parse().unwrap(),
    })
    .await
    .unwrap()
}

/// The repository at `url`, trusted from the devstack's `tuf_root.json`.
fn repository(url: &str, state: &Path) -> Repository {
    let path = state.join("tuf_root.json");
    Repository::new(
        url,
        InitialRoot::File {
            bytes: std::fs::read(&path).unwrap(),
            origin: path.display().to_string(),
        },
    )
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

fn refused(err: &TufError) -> String {
    match err {
        TufError::Refresh { message, .. } => message.clone(),
        other => panic!("expected a refusal by the TUF client, got {other:?}"),
    }
}

#[derive(Default)]
struct ProxyState {
    upstream: String,
    log: Vec<String>,
    replace: HashMap<String, Vec<u8>>,
}

/// A loopback HTTP proxy in front of the devstack.
struct Proxy {
    url: String,
    state: Arc<Mutex<ProxyState>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Self {
        let state = Arc::new(Mutex::new(ProxyState {
            upstream: upstream.to_owned(),
            ..ProxyState::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    fn point_at(&self, upstream: &str) {
        self.state.lock().unwrap().upstream = upstream.to_owned();
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }

    fn replace(&self, path: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .replace
            .insert(path.to_owned(), body);
    }
}

async fn forward(State(state): State<Arc<Mutex<ProxyState>>>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    let (upstream, replaced) = {
        let mut s = state.lock().unwrap();
        s.log.push(path.clone());
        (s.upstream.clone(), s.replace.get(&path).cloned())
    };
    if let Some(body) = replaced {
        return body.into_response();
    }
    let resp = reqwest::get(format!("{upstream}{path}")).await.unwrap();
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    (status, resp.bytes().await.unwrap().to_vec()).into_response()
}

fn signed(bytes: &[u8]) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    doc["signed"].clone()
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, bytes)
        .unwrap()
        .hex()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_sigstore_layout_with_consistent_snapshots() {
    let state = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let get = |path: &str| {
        let url = format!("{}{path}", running.url());
        async move {
            let resp = reqwest::get(&url).await.unwrap();
            (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
        }
    };

    let (status, root) = get("/tuf/1.root.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        root,
        std::fs::read(state.path().join("tuf_root.json")).unwrap()
    );
    let root = signed(&root);
    assert_eq!(root["_type"], "root");
    assert_eq!(root["version"], 1);
    assert_eq!(root["consistent_snapshot"], true);
    let mut key_ids = std::collections::BTreeSet::new();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        assert_eq!(root["roles"][role]["threshold"], 1, "{role}");
        let id = root["roles"][role]["keyids"][0]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(root["keys"][&id]["keytype"], "ed25519", "{role}");
        key_ids.insert(id);
    }
    assert_eq!(key_ids.len(), 4, "one key per role");
    let expires: jiff::Timestamp = root["expires"].as_str().unwrap().parse().unwrap();
    let days = (expires.as_second() - now().as_second()) / 86_400;
    assert!((364..=365).contains(&days), "root expires in {days} days");

    let (status, timestamp) = get("/tuf/timestamp.json").await;
    assert_eq!(status, 200);
    let timestamp = signed(&timestamp);
    let expires: jiff::Timestamp = timestamp["expires"].as_str().unwrap().parse().unwrap();
    let hours = (expires.as_second() - now().as_second()) / 3600;
    assert!(
        (23..=24).contains(&hours),
        "timestamp expires in {hours} hours"
    );
    let version = timestamp["meta"]["snapshot.json"]["version"]
        .as_u64()
        .unwrap();

    let (status, snapshot) = get(&format!("/tuf/{version}.snapshot.json")).await;
    assert_eq!(status, 200);
    assert_eq!(
        timestamp["meta"]["snapshot.json"]["hashes"]["sha256"],
        sha256_hex(&snapshot)
    );
    let snapshot = signed(&snapshot);
    let targets_version = snapshot["meta"]["targets.json"]["version"]
        .as_u64()
        .unwrap();
    let (status, targets) = get(&format!("/tuf/{targets_version}.targets.json")).await;
    assert_eq!(status, 200);
    let targets = signed(&targets);
    for (name, file) in [
        ("trusted_root.json", "trusted_root.json"),
        ("signing_config.v0.2.json", "signing_config.json"),
    ] {
        let hash = targets["targets"][name]["hashes"]["sha256"]
            .as_str()
            .unwrap();
        let (status, body) = get(&format!("/tuf/targets/{hash}.{name}")).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(body, std::fs::read(state.path().join(file)).unwrap());
        // Consistent snapshots only: the bare name is not served.
        assert_eq!(get(&format!("/tuf/targets/{name}")).await.0, 404);
    }

    for missing in [
        "/tuf/2.root.json",
        "/tuf/state.json",
        "/tuf/%2E%2E%2Fdevstack.json",
        "/tuf/targets/..%2F..%2Fkeys%2Ftuf-root.p8",
    ] {
        assert_eq!(get(missing).await.0, 404, "{missing}");
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_refresh_restart_and_read_offline() {
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let proxy = Proxy::start(running.url()).await;
    let repo = repository(&format!("{}/tuf", proxy.url), state.path());

    // Bootstrap: exactly the devstack's trust material comes back.
    let first = tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    assert!(first.previous.is_none());
    let material = &first.material;
    assert_eq!(
        material.trusted_root_json(),
        std::fs::read(state.path().join("trusted_root.json")).unwrap()
    );
    assert_eq!(
        material.signing_config_json(),
        std::fs::read(state.path().join("signing_config.json")).unwrap()
    );
    let v1 = material.versions();
    assert_eq!(v1.root, 1);
    assert!(v1.timestamp >= 1);
    let (role, _) = material.expires().earliest();
    assert_eq!(role, "timestamp");
    let log = proxy.take_log();
    assert!(log.contains(&"/tuf/2.root.json".to_owned()), "{log:?}");
    assert!(
        log.iter()
            .any(|p| p.starts_with("/tuf/targets/") && p.ends_with(".trusted_root.json")),
        "{log:?}"
    );

    // Again, unchanged: only the next root and the timestamp are asked for.
    let second = tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    assert_eq!(second.previous, Some(v1));
    assert_eq!(second.material.versions(), v1);
    assert_eq!(
        proxy.take_log(),
        vec![
            "/tuf/2.root.json".to_owned(),
            "/tuf/timestamp.json".to_owned()
        ]
    );

    // Offline: the cache verifies on its own, with no server at all.
    let timestamp_v1 = std::fs::read(state.path().join("tuf/timestamp.json")).unwrap();
    running.shutdown().await.unwrap();
    let offline = tuf::load_cached(cache.path(), None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(offline.trusted_root_json(), material.trusted_root_json());
    assert_eq!(offline.versions(), v1);
    let trust = offline.trust_material().unwrap();
    assert!(
        trust.origin().starts_with("tuf-cache:"),
        "{}",
        trust.origin()
    );

    // Restart (on another port, so the trust material changes): versions grow.
    let running = start(state.path(), "127.0.0.1:0").await;
    proxy.point_at(running.url());
    let third = tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    let v2 = third.material.versions();
    assert_eq!(third.previous, Some(v1));
    assert_eq!(v2.root, 1);
    assert!(v2.timestamp > v1.timestamp);
    assert!(v2.snapshot > v1.snapshot);
    assert!(v2.targets > v1.targets);
    assert_eq!(
        third.material.trusted_root_json(),
        std::fs::read(state.path().join("trusted_root.json")).unwrap()
    );
    assert_ne!(
        third.material.trusted_root_json(),
        material.trusted_root_json()
    );
    proxy.take_log();

    // A replayed older timestamp is a rollback: refused, and the cache keeps v2.
    proxy.replace("/tuf/timestamp.json", timestamp_v1);
    let err = tuf::refresh(&repo, cache.path(), now()).await.unwrap_err();
    let message = refused(&err);
    assert!(
        message.contains("rollback detected for timestamp"),
        "{message}"
    );
    let kept = tuf::load_cached(cache.path(), None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.versions(), v2);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_key_replaced_on_disk_is_rotated_through_root_version_2() {
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let addr = running.url().trim_start_matches("http://").to_owned();
    let repo = repository(&format!("{}/tuf", running.url()), state.path());
    tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    running.shutdown().await.unwrap();

    std::fs::remove_file(state.path().join("keys/tuf-timestamp.p8")).unwrap();
    let running = start(state.path(), &addr).await;
    // The bootstrap root does not change: the new root is signed by the same root key.
    assert_eq!(
        signed(&std::fs::read(state.path().join("tuf_root.json")).unwrap())["version"],
        1
    );
    let refreshed = tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    assert_eq!(refreshed.material.versions().root, 2);
    // And a client starting fresh from version 1 walks the chain too.
    let fresh = tempfile::tempdir().unwrap();
    let again = tuf::refresh(&repo, fresh.path(), now()).await.unwrap();
    assert_eq!(again.material.versions().root, 2);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_a_served_target_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let targets_dir = state.path().join("tuf/targets");
    let target = std::fs::read_dir(&targets_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".trusted_root.json"))
        .unwrap();
    let mut bytes = std::fs::read(&target).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&target, &bytes).unwrap();

    let repo = repository(&format!("{}/tuf", running.url()), state.path());
    let err = tuf::refresh(&repo, cache.path(), now()).await.unwrap_err();
    let message = refused(&err);
    assert!(
        message.contains("trusted_root.json: sha256 mismatch"),
        "{message}"
    );
    // Nothing was kept.
    assert!(
        tuf::load_cached(cache.path(), None, now())
            .await
            .unwrap()
            .is_none()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_metadata_is_refused_and_the_last_good_material_kept() {
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let proxy = Proxy::start(running.url()).await;
    let repo = repository(&format!("{}/tuf", proxy.url), state.path());
    let good = tuf::refresh(&repo, cache.path(), now()).await.unwrap();

    // A newer timestamp that nobody signed: the version raised, the signature left as it was.
    let path = state.path().join("tuf/timestamp.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let version = doc["signed"]["version"].as_u64().unwrap();
    doc["signed"]["version"] = (version + 1).into();
    proxy.replace("/tuf/timestamp.json", serde_json::to_vec(&doc).unwrap());
    let err = tuf::refresh(&repo, cache.path(), now()).await.unwrap_err();
    let message = refused(&err);
    assert!(
        message.contains("signature threshold not met for role timestamp"),
        "{message}"
    );

    let kept = tuf::load_cached(cache.path(), None, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.versions(), good.material.versions());
    assert_eq!(kept.trusted_root_json(), good.material.trusted_root_json());

    // The cache is untrusted input too: a target changed in it is refused when read.
    let live = std::fs::read_to_string(cache.path().join("current")).unwrap();
    let cached_target = cache
        .path()
        .join(live.trim())
        .join("targets/trusted_root.json");
    let mut bytes = std::fs::read(&cached_target).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&cached_target, &bytes).unwrap();
    let err = tuf::load_cached(cache.path(), None, now())
        .await
        .unwrap_err();
    assert!(matches!(err, TufError::Invalid { .. }), "{err:?}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_metadata_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let repo = repository(&format!("{}/tuf", running.url()), state.path());
    let later = now()
        .checked_add(jiff::SignedDuration::from_hours(48))
        .unwrap();

    // Fetched two days from now, the one-day timestamp has expired.
    let fresh = tempfile::tempdir().unwrap();
    let err = tuf::refresh(&repo, fresh.path(), later).await.unwrap_err();
    let message = refused(&err);
    assert!(
        message.contains("timestamp metadata expired at"),
        "{message}"
    );

    // A cache refreshed now is no longer used two days from now.
    tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    let err = tuf::load_cached(cache.path(), None, later)
        .await
        .unwrap_err();
    match err {
        TufError::Expired { role, .. } => assert_eq!(role, "timestamp"),
        other => panic!("expected expiry, got {other:?}"),
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_of_another_repository_is_not_taken_for_the_public_good_one() {
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let repo = repository(&format!("{}/tuf", running.url()), state.path());
    tuf::refresh(&repo, cache.path(), now()).await.unwrap();
    let err = tuf::load_cached(
        cache.path(),
        Some(vouch_sigstore::Instance::Production),
        now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TufError::OtherRepository { .. }), "{err:?}");
    running.shutdown().await.unwrap();
}

fn sigstore_cli() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/sigstore");
    if venv.is_file() {
        Some(venv)
    } else {
        eprintln!(
            "SKIPPED: sigstore-python not installed in .venv (run scripts/install-test-tools.sh)"
        );
        None
    }
}

/// sigstore-python (python-tuf) bootstraps from `tuf_root.json` with `trust-instance`, then
/// signs and verifies with `--instance`, taking the trusted root and signing config from the
/// devstack's TUF repository; vouch verifies the bundle with the material from its own TUF
/// cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_python_trusts_the_devstack_through_tuf() {
    let Some(sigstore) = sigstore_cli() else {
        return;
    };
    let state = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let running = start(state.path(), "127.0.0.1:0").await;
    let instance = format!("{}/tuf", running.url());
    let artifact = work.path().join("release.tar.gz");
    std::fs::write(&artifact, b"the release artifact\n").unwrap();
    let bundle = work.path().join("release.tar.gz.sigstore.json");
    let email = "release@example.com";
    let shared = running.shared();
    let token = vouch_devstack::oidc::mint(
        &shared.keys.oidc,
        &shared.base_url,
        &vouch_devstack::oidc::TokenRequest {
            subject: vouch_devstack::oidc::Subject::Email(email.to_owned()),
            ttl: 600,
            claims: BTreeMap::new(),
        },
        now().as_second(),
    )
    .unwrap();

    let python = |args: Vec<String>| {
        let sigstore = sigstore.clone();
        let home = home.path().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                let out = std::process::Command::new(&sigstore)
                    .args(&args)
                    // python-tuf's metadata and target caches, kept inside the test.
                    .env("HOME", &home)
                    .env("XDG_DATA_HOME", home.join("data"))
                    .env("XDG_CACHE_HOME", home.join("cache"))
                    .output()
                    .unwrap();
                (
                    out.status.success(),
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ),
                )
            })
            .await
            .unwrap()
        }
    };
    let s = |p: &Path| p.display().to_string();

    let (ok, output) = python(vec![
        "--instance".into(),
        instance.clone(),
        "trust-instance".into(),
        s(&state.path().join("tuf_root.json")),
    ])
    .await;
    assert!(
        ok,
        "sigstore-python cannot bootstrap from tuf_root.json:\n{output}"
    );

    let (ok, output) = python(vec![
        "--instance".into(),
        instance.clone(),
        "sign".into(),
        "--identity-token".into(),
        token,
        "--bundle".into(),
        s(&bundle),
        s(&artifact),
    ])
    .await;
    assert!(
        ok,
        "sigstore-python cannot sign with the TUF-served material:\n{output}"
    );

    let (ok, output) = python(vec![
        "--instance".into(),
        instance.clone(),
        "verify".into(),
        "identity".into(),
        "--cert-identity".into(),
        email.into(),
        "--cert-oidc-issuer".into(),
        running.url().to_owned(),
        "--bundle".into(),
        s(&bundle),
        s(&artifact),
    ])
    .await;
    assert!(ok, "sigstore-python rejected the bundle:\n{output}");

    let cache = tempfile::tempdir().unwrap();
    let cached = tuf::refresh(&repository(&instance, state.path()), cache.path(), now())
        .await
        .unwrap();
    let verifier =
        vouch_sigstore::Verifier::new(cached.material.trust_material().unwrap()).unwrap();
    let policy = vouch_sigstore::Policy::keyless(
        vouch_sigstore::Matcher::exact(email),
        vouch_sigstore::Matcher::exact(running.url()),
    );
    let report = verifier.verify(
        &std::fs::read(&bundle).unwrap(),
        vouch_sigstore::ArtifactInput::Bytes(&std::fs::read(&artifact).unwrap()),
        &policy,
    );
    assert!(report.verified, "{:#?}", report.checks);
    running.shutdown().await.unwrap();
}

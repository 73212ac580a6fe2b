//! Faults between `vouch sign` and the Sigstore services: a loopback proxy in front of the
//! devstack drops connections, delays answers, answers 500, or forwards a Rekor submission and
//! then drops the answer. vouch must retry where a retry can help, fail clearly where it
//! cannot, and never leave a partial or unverified bundle behind.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::sign::Stack;
use super::{run, vouch};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Close the connection without answering.
    Drop,
    /// Answer HTTP 500.
    Error500,
    /// Wait this long, then forward.
    Delay(Duration),
    /// Forward, let the service act, and drop its answer.
    ForwardThenDrop,
    /// Forward, and answer with the JSON changed by this function.
    Rewrite(fn(&mut serde_json::Value)),
}

/// Faults queued per path prefix, taken one per matching request; then requests pass.
#[derive(Default)]
struct Plan {
    rules: Vec<(String, VecDeque<Fault>)>,
    seen: Vec<(String, Option<Fault>)>,
}

struct Proxy {
    url: String,
    plan: Arc<Mutex<Plan>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    fn start(stack: &Stack, rules: &[(&str, &[Fault])]) -> Self {
        let plan = Arc::new(Mutex::new(Plan {
            rules: rules
                .iter()
                .map(|(p, f)| ((*p).to_owned(), f.iter().copied().collect()))
                .collect(),
            seen: Vec::new(),
        }));
        let upstream = stack.url();
        let listener = stack
            .runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task_plan = plan.clone();
        let task = stack.runtime.spawn(async move {
            let client = reqwest::Client::new();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let plan = task_plan.clone();
                let client = client.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, &plan, &client, &upstream).await;
                });
            }
        });
        Self {
            url,
            plan,
            _task: task,
        }
    }

    fn seen(&self) -> Vec<(String, Option<Fault>)> {
        self.plan.lock().unwrap().seen.clone()
    }
}

/// One request per connection (`Connection: close`), which is all the Sigstore clients need.
async fn serve(
    mut socket: tokio::net::TcpStream,
    plan: &Mutex<Plan>,
    client: &reqwest::Client,
    upstream: &str,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        assert!(buf.len() < 1 << 20, "request head too large");
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut content_length = 0usize;
    let mut content_type = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => content_length = v.trim().parse().unwrap_or(0),
                "content-type" => content_type = Some(v.trim().to_owned()),
                _ => {}
            }
        }
    }
    while buf.len() < head_end + content_length {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + content_length].to_vec();

    let fault = {
        let mut plan = plan.lock().unwrap();
        let fault = plan
            .rules
            .iter_mut()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .and_then(|(_, queue)| queue.pop_front());
        plan.seen.push((format!("{method} {path}"), fault));
        fault
    };
    match fault {
        Some(Fault::Drop) => return Ok(()),
        Some(Fault::Error500) => {
            let msg = "injected failure";
            let response = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{msg}",
                msg.len()
            );
            socket.write_all(response.as_bytes()).await?;
            return Ok(());
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::ForwardThenDrop | Fault::Rewrite(_)) | None => {}
    }
    let url = format!("{upstream}{path}");
    let mut request = client.request(method.parse().unwrap(), &url).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(_) => return Ok(()),
    };
    if matches!(fault, Some(Fault::ForwardThenDrop)) {
        return Ok(());
    }
    let status = response.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (k, v) in response.headers() {
        let name = k.as_str();
        if matches!(name, "content-type" | "location" | "etag") {
            out.push_str(&format!("{name}: {}\r\n", v.to_str().unwrap_or_default()));
        }
    }
    let mut bytes = response.bytes().await.unwrap_or_default().to_vec();
    if let Some(Fault::Rewrite(change)) = fault {
        let mut doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        change(&mut doc);
        bytes = serde_json::to_vec(&doc).unwrap();
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        bytes.len()
    ));
    socket.write_all(out.as_bytes()).await?;
    socket.write_all(&bytes).await?;
    Ok(())
}

/// The devstack's trust config with every service URL pointed at the proxy.
fn proxied_trust_config(stack: &Stack, proxy: &Proxy, dir: &Path) -> PathBuf {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stack.trust_config()).unwrap()).unwrap();
    let config = &mut doc["signingConfig"];
    for list in ["caUrls", "rekorTlogUrls", "tsaUrls", "oidcUrls"] {
        if let Some(items) = config[list].as_array_mut() {
            for item in items {
                let url = item["url"]
                    .as_str()
                    .unwrap()
                    .replace(&stack.url(), &proxy.url);
                item["url"] = serde_json::Value::String(url);
            }
        }
    }
    let path = dir.join("proxied_trust_config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

fn sign_through(
    stack: &Stack,
    proxy: &Proxy,
    extra: &[&str],
) -> (std::process::Output, PathBuf, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("artifact.bin");
    std::fs::write(&file, b"artifact under faults\n").unwrap();
    let trust = proxied_trust_config(stack, proxy, work.path());
    let out = run(vouch()
        .arg("sign")
        .arg(&file)
        .args(["--identity-token", &stack.token("faults@example.com")])
        .arg("--trust-config")
        .arg(&trust)
        .args(extra));
    (out, file, work)
}

fn bundle_of(file: &Path) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(".sigstore.json");
    PathBuf::from(p)
}

fn verifies(stack: &Stack, file: &Path) -> bool {
    run(vouch()
        .arg("verify")
        .arg(file)
        .arg("--trust-config")
        .arg(stack.trust_config())
        .args(["--certificate-identity", "faults@example.com"])
        .args(["--certificate-oidc-issuer", &stack.url()]))
    .status
    .success()
}

fn only_file_and_bundle(dir: &Path, bundle_expected: bool) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = vec![
        "artifact.bin".to_owned(),
        "proxied_trust_config.json".to_owned(),
    ];
    if bundle_expected {
        expected.insert(1, "artifact.bin.sigstore.json".to_owned());
    }
    assert_eq!(
        names, expected,
        "a temporary or partial file was left behind"
    );
}

fn output(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn transient_faults_at_every_service_are_retried_to_a_verified_bundle() {
    let stack = Stack::start();
    let proxy = Proxy::start(
        &stack,
        &[
            ("/api/v2/signingCert", &[Fault::Error500, Fault::Drop]),
            ("/api/v1/log/entries", &[Fault::Drop, Fault::Error500]),
            (
                "/api/v1/timestamp",
                &[Fault::Delay(Duration::from_millis(2500)), Fault::Error500],
            ),
        ],
    );
    let (out, file, work) = sign_through(
        &stack,
        &proxy,
        &["--rekor-version", "1", "--attempts", "4", "--timeout", "2"],
    );
    assert!(out.status.success(), "{}", output(&out));
    assert!(verifies(&stack, &file));
    only_file_and_bundle(work.path(), true);
    let seen = proxy.seen();
    let faults = seen.iter().filter(|(_, f)| f.is_some()).count();
    assert_eq!(faults, 6, "every injected fault was met: {seen:?}");
}

#[test]
fn a_lost_rekor_answer_is_resolved_through_the_409_to_the_logged_entry() {
    let stack = Stack::start();
    let proxy = Proxy::start(
        &stack,
        &[("/api/v1/log/entries", &[Fault::ForwardThenDrop])],
    );
    let (out, file, _work) = sign_through(&stack, &proxy, &["--rekor-version", "1"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(verifies(&stack, &file));
    let seen = proxy.seen();
    let posts = seen
        .iter()
        .filter(|(r, _)| r == "POST /api/v1/log/entries")
        .count();
    let fetched = seen
        .iter()
        .any(|(r, _)| r.starts_with("GET /api/v1/log/entries/"));
    assert_eq!(posts, 2, "{seen:?}");
    assert!(fetched, "the existing entry was not fetched: {seen:?}");
}

#[test]
fn persistent_failure_names_the_service_and_attempts_and_writes_nothing() {
    let stack = Stack::start();
    let proxy = Proxy::start(&stack, &[("/api/v2/log/entries", &[Fault::Error500; 10])]);
    let (out, file, work) =
        sign_through(&stack, &proxy, &["--rekor-version", "2", "--attempts", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", output(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Rekor at") && err.contains("HTTP 500") && err.contains("injected failure"),
        "{err}"
    );
    assert!(!bundle_of(&file).exists());
    only_file_and_bundle(work.path(), false);
    let attempts = proxy
        .seen()
        .iter()
        .filter(|(r, _)| r == "POST /api/v2/log/entries")
        .count();
    assert_eq!(attempts, 3);
}

#[test]
fn a_4xx_answer_is_not_retried() {
    let stack = Stack::start();
    let proxy = Proxy::start(&stack, &[]);
    // A token from another issuer: Fulcio refuses it, and asking again cannot help.
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("artifact.bin");
    std::fs::write(&file, b"x").unwrap();
    let trust = proxied_trust_config(&stack, &proxy, work.path());
    let forged = {
        let other = Stack::start();
        other.token("faults@example.com")
    };
    let out = run(vouch()
        .arg("sign")
        .arg(&file)
        .args(["--identity-token", &forged])
        .arg("--trust-config")
        .arg(&trust));
    assert_eq!(out.status.code(), Some(2), "{}", output(&out));
    let fulcio_calls = proxy
        .seen()
        .iter()
        .filter(|(r, _)| r.starts_with("POST /api/v2/signingCert"))
        .count();
    assert_eq!(fulcio_calls, 1);
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&forged));
    assert!(!bundle_of(&file).exists());
}

/// Fulcio's chain with the leaf replaced by the intermediate CA certificate.
fn swap_leaf(doc: &mut serde_json::Value) {
    let chain = doc["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array_mut()
        .expect("a Fulcio v2 chain");
    chain.swap(0, 1);
}

/// A Rekor v1 answer naming another log index than the one its proof and timestamp sign.
fn shift_log_index(doc: &mut serde_json::Value) {
    for entry in doc.as_object_mut().unwrap().values_mut() {
        let index = entry["logIndex"].as_u64().unwrap();
        entry["logIndex"] = serde_json::json!(index + 7);
    }
}

#[test]
fn wrong_answers_from_fulcio_or_rekor_never_reach_a_bundle() {
    let stack = Stack::start();
    let cases: [(&str, Fault, &str); 2] = [
        ("/api/v2/signingCert", Fault::Rewrite(swap_leaf), "Fulcio"),
        (
            "/api/v1/log/entries",
            Fault::Rewrite(shift_log_index),
            "does not verify",
        ),
    ];
    for (path, fault, expected) in cases {
        let proxy = Proxy::start(&stack, &[(path, &[fault])]);
        let (out, file, work) = sign_through(&stack, &proxy, &["--rekor-version", "1"]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", output(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{path}: {err}");
        assert!(!bundle_of(&file).exists());
        only_file_and_bundle(work.path(), false);
    }
}

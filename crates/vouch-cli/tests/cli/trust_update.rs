//! `vouch trust update` against the devstack's TUF repository on loopback, and `vouch trust
//! show` and `vouch verify` reading the cache it fills (named by `VOUCH_TUF_CACHE`).

use std::path::Path;
use std::process::{Command, Output};

use super::sign::Stack;
use super::{run, vouch};

const EMAIL: &str = "release@example.com";

/// `vouch` with no cache but the ones a test names: `VOUCH_TUF_CACHE` unset, and the default
/// cache location inside `home`.
fn isolated(home: &Path) -> Command {
    let mut c = vouch();
    c.env_remove("VOUCH_TUF_CACHE")
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"));
    c
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, bytes)
        .unwrap()
        .hex()
        .to_owned()
}

#[test]
fn trust_update_fills_the_cache_that_show_and_verify_use() {
    let stack = Stack::start();
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("devstack");
    let tuf_url = format!("{}/tuf", stack.url());
    let root = stack.state.path().join("tuf_root.json");
    let trusted_root = std::fs::read(stack.state.path().join("trusted_root.json")).unwrap();
    let sha = sha256_hex(&trusted_root);

    let update = || {
        run(isolated(home.path())
            .args(["trust", "update", "--tuf-url", &tuf_url, "--root"])
            .arg(&root)
            .arg("--cache-dir")
            .arg(&cache_dir))
    };
    let out = update();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "refreshed trust material from {tuf_url} (initial root file:"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("  root       v1      (new), expires "),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  trusted_root.json         sha256 {sha}")),
        "{stdout}"
    );
    assert!(
        stdout.contains("(timestamp metadata expires first)"),
        "{stdout}"
    );

    // Again: nothing changed upstream.
    let out = update();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(unchanged)"), "{stdout}");
    assert!(!stdout.contains("(new)"), "{stdout}");

    // `trust show` with the cache: the devstack's root, and where it came from.
    let show = run(isolated(home.path())
        .env("VOUCH_TUF_CACHE", &cache_dir)
        .args(["trust", "show"]));
    assert_eq!(show.status.code(), Some(0), "{}", text(&show));
    let stdout = String::from_utf8_lossy(&show.stdout);
    assert!(
        stdout.starts_with(&format!(
            "trusted root: tuf-cache:{} (sha256 {sha})\n  from TUF repository {tuf_url}",
            cache_dir.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&stack.url()), "{stdout}");
    assert!(show.stderr.is_empty(), "{}", text(&show));
    let json = run(isolated(home.path())
        .env("VOUCH_TUF_CACHE", &cache_dir)
        .args(["trust", "show", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        doc["origin"],
        format!("tuf-cache:{}", cache_dir.display()),
        "{}",
        text(&json)
    );
    assert_eq!(doc["sha256"], sha);

    // `verify --offline` with the cache accepts a devstack signature, and names its root.
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("a.txt");
    std::fs::write(&file, b"a\n").unwrap();
    let signed = run(isolated(home.path())
        .arg("sign")
        .arg(&file)
        .args(["--identity-token", &stack.token(EMAIL)])
        .arg("--trust-config")
        .arg(stack.trust_config()));
    assert!(signed.status.success(), "{}", text(&signed));
    let verify = |cmd: &mut Command| {
        run(cmd
            .arg("verify")
            .arg(&file)
            .args(["--offline", "--certificate-identity", EMAIL])
            .args(["--certificate-oidc-issuer", &stack.url()]))
    };
    let out = verify(isolated(home.path()).env("VOUCH_TUF_CACHE", &cache_dir));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "(trusted root: tuf-cache:{})",
            cache_dir.display()
        )),
        "{}",
        text(&out)
    );
    // Without it, the embedded production root does not know the devstack.
    let out = verify(&mut isolated(home.path()));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("embedded:production"), "{}", text(&out));

    // A cache changed on disk is passed over, with a warning saying why.
    let live = std::fs::read_to_string(cache_dir.join("current")).unwrap();
    let target = cache_dir
        .join(live.trim())
        .join("targets/trusted_root.json");
    let mut bytes = std::fs::read(&target).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&target, &bytes).unwrap();
    let show = run(isolated(home.path())
        .env("VOUCH_TUF_CACHE", &cache_dir)
        .args(["trust", "show"]));
    assert_eq!(show.status.code(), Some(0), "{}", text(&show));
    assert!(
        String::from_utf8_lossy(&show.stdout).starts_with("trusted root: embedded:production"),
        "{}",
        text(&show)
    );
    let stderr = String::from_utf8_lossy(&show.stderr);
    assert!(
        stderr.starts_with("warning: not using the TUF cache: "),
        "{stderr}"
    );
    assert!(stderr.contains("using embedded:production"), "{stderr}");
}

#[test]
fn the_default_cache_is_per_repository_under_xdg_cache_home() {
    let stack = Stack::start();
    let home = tempfile::tempdir().unwrap();
    let tuf_url = format!("{}/tuf", stack.url());
    let out = run(isolated(home.path())
        .args(["trust", "update", "--tuf-url", &tuf_url, "--root"])
        .arg(stack.state.path().join("tuf_root.json")));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let base = home.path().join("cache/vouch/tuf");
    let dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs[0].starts_with("127.0.0.1_"), "{dirs:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("cache: {}", base.display())),
        "{}",
        text(&out)
    );
    // The production instance's default cache is another directory: `trust show` is unmoved.
    let show = run(isolated(home.path()).args(["trust", "show"]));
    assert!(
        String::from_utf8_lossy(&show.stdout).starts_with("trusted root: embedded:production"),
        "{}",
        text(&show)
    );
}

#[test]
fn trust_update_needs_a_root_for_other_repositories() {
    let home = tempfile::tempdir().unwrap();
    let out =
        run(isolated(home.path()).args(["trust", "update", "--tuf-url", "http://127.0.0.1:9/tuf"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: no initial root for the TUF repository `http://127.0.0.1:9/tuf`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: pass `--root FILE`"), "{stderr}");
}

#[test]
fn an_unreachable_repository_is_a_runtime_error_and_leaves_the_cache_alone() {
    let stack = Stack::start();
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let root = stack.state.path().join("tuf_root.json");
    // Port 9 (discard) on loopback: nothing listens there.
    let out = run(isolated(home.path())
        .args([
            "trust",
            "update",
            "--tuf-url",
            "http://127.0.0.1:9/tuf",
            "--root",
        ])
        .arg(&root)
        .arg("--cache-dir")
        .arg(cache.path()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: cannot refresh trust material from http://127.0.0.1:9/tuf\n  Caused by: TUF refresh from http://127.0.0.1:9/tuf failed: "
        ),
        "{stderr}"
    );
    assert!(stderr.contains("hint: the cache still holds"), "{stderr}");
    assert!(!cache.path().join("current").exists());
}

#[test]
fn sign_without_trust_flags_uses_the_signing_config_from_the_tuf_cache() {
    let stack = Stack::start();
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().join("devstack");
    let out = run(isolated(home.path())
        .args([
            "trust",
            "update",
            "--tuf-url",
            &format!("{}/tuf", stack.url()),
            "--root",
        ])
        .arg(stack.state.path().join("tuf_root.json"))
        .arg("--cache-dir")
        .arg(&cache_dir));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("a.bin");
    std::fs::write(&file, b"signed with TUF-delivered services\n").unwrap();
    // No --trust-config: the services and the trusted root both come from the cache.
    let signed = run(isolated(home.path())
        .env("VOUCH_TUF_CACHE", &cache_dir)
        .arg("sign")
        .arg(&file)
        .args(["--identity-token", &stack.token(EMAIL)]));
    assert!(signed.status.success(), "{}", text(&signed));
    let verified = run(isolated(home.path())
        .env("VOUCH_TUF_CACHE", &cache_dir)
        .arg("verify")
        .arg(&file)
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &stack.url()]));
    assert!(verified.status.success(), "{}", text(&verified));
    // Without the cache, the public-good instance is used, which is out of reach: no bundle.
    let file2 = work.path().join("b.bin");
    std::fs::write(&file2, b"b").unwrap();
    let unreachable = run(isolated(home.path()).arg("sign").arg(&file2).args([
        "--identity-token",
        &stack.token(EMAIL),
        "--attempts",
        "1",
        "--timeout",
        "3",
    ]));
    assert_eq!(unreachable.status.code(), Some(2), "{}", text(&unreachable));
    assert!(!work.path().join("b.bin.sigstore.json").exists());
}

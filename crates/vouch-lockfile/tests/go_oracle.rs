//! Go's `h1:` hashes as the real Go toolchain computes them, compared with vouch's.
//!
//! The test writes a file-system module proxy (`GOPROXY=file://...`: `@v/list`, `.info`, `.mod`,
//! `.zip` per module version) holding modules of its own invention, then runs the real `go mod
//! download -json` against it in a sealed environment (no network, no checksum database, every
//! Go directory temporary). Go prints each module's `Sum` (the `h1:` of its zip) and `GoModSum`
//! (of its `.mod`), keeps both files in the module cache, and writes `go.sum`. Those values are
//! the oracle: vouch's [`go_dirhash_zip`] and [`go_hash_mod`] must give exactly the same, and
//! `lock check --verify-artifacts` over the Go-written `go.sum` and the Go-filled cache must be
//! clean, while a `go.sum` with one module's hash swapped for another's is a `hash-mismatch`
//! whose found value is Go's own `Sum` for the zip on disk.
//!
//! The zips exercise what an implementation can get wrong: names that sort differently bytewise
//! than case-insensitively or path-component-wise, nested and explicit directory entries, empty
//! files, UTF-8 names, a 1 MiB stored binary next to deflated entries, a `go.mod` inside the zip
//! and one without, capital letters in a module path and in a version (Go's `!x` escaping in
//! proxy and cache paths), a `/vN` major-version path, a `+incompatible` version, an entry whose
//! Info-ZIP Unicode Path extra field names another file than its header (Go ignores the
//! field), and two zips Go hashes but refuses to extract: duplicate entry names, and a name in
//! a legacy code page.
//!
//! Needs `go` on PATH (Debian's golang-go, from `scripts/install-test-tools.sh`); without it
//! each test says SKIPPED and passes, unless `VOUCH_REQUIRE_TOOLS=1` demands it.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vouch_lockfile::check::{
    ArtifactOptions, CheckOptions, Code, DirhashError, Finding, Severity, check_path,
    go_dirhash_zip, go_hash_mod,
};

#[test]
fn vouch_h1_of_every_zip_and_go_mod_equals_go_s() {
    let Some(world) = World::build(&modules()) else {
        return;
    };
    let versions = world.downloaded.len();
    assert_eq!(versions, 6, "{:#?}", world.downloaded);
    for d in world.downloaded.values() {
        assert!(d.error.is_none(), "go refused {}: {:?}", d.key(), d.error);
        let zip = fs_err::File::open(&d.zip).unwrap();
        let ours = go_dirhash_zip(std::io::BufReader::new(zip))
            .unwrap_or_else(|e| panic!("{}: vouch cannot hash the zip Go accepted: {e}", d.key()));
        assert_eq!(ours, d.sum, "h1 of the zip of {}", d.key());
        let ours = go_hash_mod(&fs_err::read(&d.go_mod).unwrap());
        assert_eq!(ours, d.go_mod_sum, "h1 of the .mod of {}", d.key());
    }
}

#[test]
fn lock_check_over_go_s_own_go_sum_and_cache_is_clean() {
    let Some(world) = World::build(&modules()) else {
        return;
    };
    let sum = fs_err::read_to_string(world.app.join("go.sum")).unwrap();
    // Go recorded the zip of every module in the build list and the `.mod` of every version it
    // read, `example.com/oracle/a v1.0.0` among them (required by `b/v2`).
    assert!(sum.contains("example.com/oracle/a v1.0.0/go.mod "), "{sum}");
    assert_eq!(
        sum.lines().filter(|l| !l.contains("/go.mod ")).count(),
        5,
        "{sum}"
    );
    assert_eq!(
        sum.lines().filter(|l| l.contains("/go.mod ")).count(),
        6,
        "{sum}"
    );
    for lock in ["go.sum", "go.mod"] {
        let findings = check_path(&world.app.join(lock), lock, &world.options()).unwrap();
        let bad: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error || f.code == Code::HashMismatch)
            .collect();
        assert!(bad.is_empty(), "{lock}: {bad:#?}");
    }
}

#[test]
fn go_sum_with_another_module_s_hash_is_a_mismatch_found_by_go_s_sum() {
    let Some(world) = World::build(&modules()) else {
        return;
    };
    let sum_path = world.app.join("go.sum");
    let genuine = fs_err::read_to_string(&sum_path).unwrap();
    let a = &world.downloaded[&key("example.com/oracle/a", "v1.1.0")];
    let camel = &world.downloaded[&key("example.com/Oracle/CamelCase", "v1.2.0-RC.1")];

    // One swap, seen through go.mod (which reads go.sum beside it) and through go.sum itself.
    let swapped = genuine.replace(
        &format!("{} {} {}", a.path, a.version, a.sum),
        &format!("{} {} {}", a.path, a.version, camel.sum),
    );
    assert_ne!(swapped, genuine);
    fs_err::write(&sum_path, &swapped).unwrap();
    for lock in ["go.mod", "go.sum"] {
        let findings = check_path(&world.app.join(lock), lock, &world.options()).unwrap();
        let m = mismatches(&findings);
        assert_eq!(m.len(), 1, "{lock}: {findings:#?}");
        assert_eq!(m[0].package.as_deref(), Some(a.key().as_str()));
        assert_eq!(m[0].expected.as_deref(), Some(camel.sum.as_str()));
        assert_eq!(m[0].found.as_deref(), Some(a.sum.as_str()));
        assert_eq!(m[0].severity, Severity::Error);
        assert!(m[0].message.contains("v1.1.0.zip"), "{}", m[0].message);
    }

    // Every line rotated to the next line's genuine value of its kind: each artifact in the
    // cache is reached (escaped paths included) and found to be what Go hashed.
    let (rotated, mut changed) = rotate_hashes(&genuine);
    // A version with only a `/go.mod` line (`a v1.0.0`, read for version selection) is no
    // package of go.sum's inventory, since its code was never downloaded; its `.mod` is not
    // verified.
    let zipped: BTreeSet<(&str, &str)> = genuine
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(m, rest)| Some((m, rest.split_once(' ')?.0)))
        .filter(|(_, v)| !v.ends_with("/go.mod"))
        .collect();
    changed.retain(|(m, v, _), _| zipped.contains(&(m.as_str(), v.as_str())));
    assert_eq!(changed.len(), 10, "{changed:#?}");
    fs_err::write(&sum_path, rotated).unwrap();
    let findings = check_path(&sum_path, "go.sum", &world.options()).unwrap();
    let mut seen: BTreeMap<(String, bool), (String, String)> = BTreeMap::new();
    for f in mismatches(&findings) {
        let is_mod = f.message.contains(".mod`");
        let prior = seen.insert(
            (f.package.clone().unwrap(), is_mod),
            (f.expected.clone().unwrap(), f.found.clone().unwrap()),
        );
        assert!(prior.is_none(), "{findings:#?}");
    }
    assert_eq!(seen.len(), changed.len(), "{findings:#?}");
    for ((module, version, is_mod), expected) in changed {
        let d = &world.downloaded[&key(&module, &version)];
        let found = if is_mod { &d.go_mod_sum } else { &d.sum };
        let got = &seen[&(d.key(), is_mod)];
        assert_eq!((&got.0, &got.1), (&expected, found), "{module} {version}");
    }
}

/// The module cache's zip of `upath` replaced by its disguised twin (same contents, one entry
/// moved by its header name, the Unicode Path field pointing back): Go's hashes of the two
/// differ, and so must vouch's, or the swap would pass `--verify-artifacts`.
#[test]
fn zip_disguised_by_a_unicode_path_field_is_a_mismatch() {
    let Some(genuine) = World::build(&[upath(false)]) else {
        return;
    };
    let Some(world) = World::build(&modules()) else {
        return;
    };
    let key = key("example.com/oracle/upath", "v1.0.0");
    let (genuine_sum, disguised_sum) = (&genuine.downloaded[&key].sum, &world.downloaded[&key].sum);
    assert_ne!(genuine_sum, disguised_sum);

    let sum_path = world.app.join("go.sum");
    let go_sum = fs_err::read_to_string(&sum_path).unwrap();
    let pinned = go_sum.replace(disguised_sum.as_str(), genuine_sum);
    assert_ne!(pinned, go_sum);
    fs_err::write(&sum_path, pinned).unwrap();
    let findings = check_path(&sum_path, "go.sum", &world.options()).unwrap();
    let m = mismatches(&findings);
    assert_eq!(m.len(), 1, "{findings:#?}");
    assert_eq!(m[0].package.as_deref(), Some(key.as_str()));
    assert_eq!(m[0].expected.as_deref(), Some(genuine_sum.as_str()));
    assert_eq!(m[0].found.as_deref(), Some(disguised_sum.as_str()));
}

/// Zips Go hashes but refuses to extract, made by renaming entries of a written zip in place
/// (the zip crate writes neither). Two entries of one name: Go refuses it, so it is no module
/// Go uses, and vouch refuses it too, since the zip crate keeps one of them only. A name in a
/// legacy code page (Latin-1 `é`, no UTF-8 flag): Go hashes the bytes as stored, and so must
/// vouch, not a decoded or replacement-character version of them.
#[test]
fn zips_go_refuses_to_extract() {
    let dup = renamed_module(
        "example.com/oracle/dup",
        &[
            ("a.go", "package dup // first\n"),
            ("b.go", "package dup // second\n"),
        ],
        ("b.go", b"a.go"),
    );
    let latin1 = renamed_module(
        "example.com/oracle/latin1",
        &[("latin1.go", "package latin1\n"), ("caf_.txt", "Latin-1\n")],
        ("caf_.txt", b"caf\xE9.txt"),
    );
    let (dup_zip, latin1_zip) = (dup.zip.clone(), latin1.zip.clone());
    let Some(world) = World::build(&[dup, latin1]) else {
        return;
    };

    let d = &world.downloaded[&key("example.com/oracle/dup", "v1.0.0")];
    assert!(
        d.error
            .as_deref()
            .is_some_and(|e| e.contains("multiple entries")),
        "Go accepted a zip with a duplicate entry: {d:#?}"
    );
    let ours = go_dirhash_zip(std::io::Cursor::new(&dup_zip));
    assert!(
        matches!(ours, Err(DirhashError::DuplicateName)),
        "vouch hashed a zip Go refuses: {ours:?}, Go's h1 {}",
        d.sum
    );

    let d = &world.downloaded[&key("example.com/oracle/latin1", "v1.0.0")];
    assert!(
        d.error
            .as_deref()
            .is_some_and(|e| e.contains("invalid UTF-8")),
        "Go extracted a non-UTF-8 name: {d:#?}"
    );
    assert!(d.sum.starts_with("h1:"), "{d:#?}");
    let ours = go_dirhash_zip(std::io::Cursor::new(&latin1_zip)).unwrap();
    assert_eq!(ours, d.sum);
}

/// `path` v1.0.0 with a go.mod and `files`, then the entry `rename.0` renamed to the bytes
/// `rename.1` (of equal length) in its local and central headers.
fn renamed_module(path: &'static str, files: &[(&str, &str)], rename: (&str, &[u8])) -> Module {
    let version = "v1.0.0";
    let prefix = format!("{path}@{version}/");
    let go_mod = format!("module {path}\n");
    let mut entries = vec![Entry::file("go.mod", go_mod.as_str())];
    entries.extend(files.iter().map(|(name, body)| Entry::file(name, *body)));
    let mut zip = build_zip(&prefix, &entries);
    let from = [prefix.as_bytes(), rename.0.as_bytes()].concat();
    let to = [prefix.as_bytes(), rename.1].concat();
    assert_eq!(from.len(), to.len());
    let mut renamed = 0;
    for i in 0..=zip.len() - from.len() {
        if zip[i..].starts_with(&from) {
            zip[i..i + to.len()].copy_from_slice(&to);
            renamed += 1;
        }
    }
    assert_eq!(renamed, 2, "{path}: one local and one central header");
    Module {
        path,
        version,
        go_mod,
        zip,
    }
}

// ---------------------------------------------------------------------------------------------
// The modules

struct Module {
    path: &'static str,
    version: &'static str,
    go_mod: String,
    zip: Vec<u8>,
}

/// One zip entry (a name ending in `/` is a directory entry).
struct Entry {
    name: String,
    body: Vec<u8>,
    stored: bool,
    /// The content of an Info-ZIP Unicode Path extra field (0x7075) naming this entry.
    unicode_path: Option<String>,
}

impl Entry {
    fn file(name: &str, body: impl Into<Vec<u8>>) -> Entry {
        Entry {
            name: name.to_owned(),
            body: body.into(),
            stored: false,
            unicode_path: None,
        }
    }

    fn stored(mut self) -> Entry {
        self.stored = true;
        self
    }
}

fn module(path: &'static str, version: &'static str, go_mod: &str, files: Vec<Entry>) -> Module {
    let zip = build_zip(&format!("{path}@{version}/"), &files);
    Module {
        path,
        version,
        go_mod: go_mod.to_owned(),
        zip,
    }
}

fn modules() -> Vec<Module> {
    let a_mod_1 = "module example.com/oracle/a\n";
    let a_mod_2 = "module example.com/oracle/a\n\ngo 1.18\n";
    let b_mod =
        "module example.com/oracle/b/v2\n\ngo 1.18\n\nrequire example.com/oracle/a v1.0.0\n";
    let camel_mod = "module example.com/Oracle/CamelCase\n";
    vec![
        module(
            "example.com/oracle/a",
            "v1.0.0",
            a_mod_1,
            vec![
                Entry::file("go.mod", a_mod_1),
                Entry::file("a.go", "package a\n"),
            ],
        ),
        module(
            "example.com/oracle/a",
            "v1.1.0",
            a_mod_2,
            vec![
                Entry::file("go.mod", a_mod_2),
                // Bytewise: `Makefile` < `a-b/c.txt` < `a.go` < `a/b.go` < `données/...`;
                // case-insensitively `Makefile` would come after them, and a walk of the tree
                // (`a/` before `a-b/`) would order the `a` names differently again.
                Entry::file("a/b.go", "package a\n"),
                Entry::file("a.go", "package a\n\nconst V = 2\n"),
                Entry::file("a-b/c.txt", "dash\n"),
                Entry::file("Makefile", "all:\n\tgo build ./...\n"),
                Entry::file("empty.txt", ""),
                Entry::file("données/café.txt", "UTF-8 name\n"),
                Entry::file("odd !#$%&()+,-.=@[]^_{}~.txt", "punctuation\n"),
                // An explicit directory entry: Go's own zips have none, other tools write them.
                Entry::file("docs/", ""),
                Entry::file("docs/Guide.md", "# Guide\n"),
            ],
        ),
        module(
            "example.com/oracle/b/v2",
            "v2.0.1",
            b_mod,
            vec![
                Entry::file("go.mod", b_mod),
                Entry::file("b.go", "package b\n"),
                Entry::file("internal/deep/er/still.go", "package er\n"),
                Entry::file("empty", "").stored(),
                Entry::file("testdata/blob.bin", noise(1 << 20)).stored(),
            ],
        ),
        module(
            "example.com/Oracle/CamelCase",
            "v1.2.0-RC.1",
            camel_mod,
            vec![
                Entry::file("go.mod", camel_mod),
                Entry::file("CamelCase.go", "package camelcase\n"),
                Entry::file("Ünïcode/Straße.txt", "non-ASCII directory and file\n"),
                Entry::file("zz.txt", "after every capital\n"),
            ],
        ),
        // No go.mod in the zip: a pre-modules major version.
        module(
            "example.com/oracle/d",
            "v2.0.0+incompatible",
            "module example.com/oracle/d\n",
            vec![
                Entry::file("d.go", "package d\n"),
                Entry::file("LICENSE", "Public domain\n"),
            ],
        ),
        upath(true),
    ]
}

/// `example.com/oracle/upath`, which keeps a file that must not be compiled under `testdata/`.
/// Disguised, the entry's header names it `evil.go`, where Go extracts and compiles it, and an
/// Info-ZIP Unicode Path field still says `testdata/evil.go`: Go ignores the field, a reader
/// that honours it sees the genuine module.
fn upath(disguised: bool) -> Module {
    let go_mod = "module example.com/oracle/upath\n";
    let evil = "package upath\n\nfunc init() {}\n";
    let entry = if disguised {
        Entry {
            unicode_path: Some("testdata/evil.go".to_owned()),
            ..Entry::file("evil.go", evil)
        }
    } else {
        Entry::file("testdata/evil.go", evil)
    };
    module(
        "example.com/oracle/upath",
        "v1.0.0",
        go_mod,
        vec![
            Entry::file("go.mod", go_mod),
            Entry::file("u.go", "package upath\n"),
            entry,
        ],
    )
}

/// Deterministic incompressible bytes (xorshift64).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// A module zip in Go's layout: every entry named `module@version/...`.
fn build_zip(prefix: &str, entries: &[Entry]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for e in entries {
        let name = format!("{prefix}{}", e.name);
        let method = if e.stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let mut options = zip::write::FullFileOptions::default().compression_method(method);
        if let Some(unicode) = &e.unicode_path {
            // APPNOTE 4.6.9: version 1, the CRC-32 of the header name it stands for, the name.
            let mut field = vec![1];
            field.extend_from_slice(&crc32(name.as_bytes()).to_le_bytes());
            field.extend_from_slice(format!("{prefix}{unicode}").as_bytes());
            options.add_extra_field(0x7075, field, false).unwrap();
        }
        if name.ends_with('/') {
            zip.add_directory(name, options).unwrap();
        } else {
            zip.start_file(name, options).unwrap();
            zip.write_all(&e.body).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

/// CRC-32 (IEEE 802.3, reflected), for the Unicode Path field.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Go's case encoding of module paths and versions in proxy and cache paths.
fn escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                format!("!{}", c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running Go

/// What `go mod download -json` said about one module version.
#[derive(Debug)]
struct Downloaded {
    path: String,
    version: String,
    sum: String,
    go_mod_sum: String,
    zip: PathBuf,
    go_mod: PathBuf,
    error: Option<String>,
}

impl Downloaded {
    fn key(&self) -> String {
        key(&self.path, &self.version)
    }
}

fn key(path: &str, version: &str) -> String {
    format!("{path}@{version}")
}

/// A proxy, a consumer module requiring every module in it, and what Go made of them.
struct World {
    _root: tempfile::TempDir,
    app: PathBuf,
    mod_cache: PathBuf,
    downloaded: BTreeMap<String, Downloaded>,
}

impl World {
    /// `None` (after a loud SKIPPED) when `go` cannot run.
    fn build(modules: &[Module]) -> Option<World> {
        if !have_go() {
            return None;
        }
        let root = tempfile::tempdir().unwrap();
        let proxy = root.path().join("proxy");
        for m in modules {
            let dir = proxy.join(escape(m.path)).join("@v");
            fs_err::create_dir_all(&dir).unwrap();
            let mut list = fs_err::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("list"))
                .unwrap();
            writeln!(list, "{}", m.version).unwrap();
            let v = escape(m.version);
            let info = serde_json::json!({"Version": m.version, "Time": "2023-01-02T03:04:05Z"});
            fs_err::write(dir.join(format!("{v}.info")), info.to_string()).unwrap();
            fs_err::write(dir.join(format!("{v}.mod")), &m.go_mod).unwrap();
            fs_err::write(dir.join(format!("{v}.zip")), &m.zip).unwrap();
        }

        // The consumer requires the newest version of each module; older ones come in through
        // other modules' requirements and are downloaded by name.
        let mut newest: BTreeMap<&str, &str> = BTreeMap::new();
        for m in modules {
            newest.insert(m.path, m.version);
        }
        let app = root.path().join("app");
        fs_err::create_dir_all(&app).unwrap();
        // `go 1.16`: no module graph pruning, so Go records in go.sum the `.mod` of every
        // version in the graph (`a v1.0.0` too), not only of those in the build list.
        let mut go_mod = "module example.com/consumer\n\ngo 1.16\n\nrequire (\n".to_owned();
        for (path, version) in &newest {
            go_mod.push_str(&format!("\t{path} {version}\n"));
        }
        go_mod.push_str(")\n");
        fs_err::write(app.join("go.mod"), go_mod).unwrap();
        let older: Vec<String> = modules
            .iter()
            .filter(|m| newest[m.path] != m.version)
            .map(|m| key(m.path, m.version))
            .collect();

        let world = World {
            mod_cache: root.path().join("gomodcache"),
            app,
            downloaded: BTreeMap::new(),
            _root: root,
        };
        let mut downloaded = BTreeMap::new();
        // `all` makes Go write every hash of the build list into go.sum.
        let mut batches = vec![vec!["all".to_owned()]];
        if !older.is_empty() {
            batches.push(older);
        }
        for args in batches {
            let out = world.go(&proxy, &args);
            for d in parse_download_json(&out) {
                downloaded.insert(d.key(), d);
            }
        }
        Some(World {
            downloaded,
            ..world
        })
    }

    /// Runs `go mod download -json ARGS` in the consumer, sealed off from the machine: only
    /// the file proxy, no checksum database, every directory Go writes inside the world.
    fn go(&self, proxy: &Path, args: &[String]) -> Output {
        let root = self.app.parent().unwrap();
        let mut cmd = Command::new("go");
        cmd.env_clear()
            .current_dir(&self.app)
            .args(["mod", "download", "-json"])
            .args(args)
            .env("GOPROXY", format!("file://{}", proxy.display()))
            .env("GOSUMDB", "off")
            // -modcacherw: Go makes the extracted modules read-only, which the temporary
            // directory could not delete.
            .env("GOFLAGS", "-mod=mod -modcacherw")
            .env("GO111MODULE", "on")
            .env("GOTOOLCHAIN", "local")
            .env("GOENV", "off")
            .env("GOTELEMETRY", "off")
            .env("GOPATH", root.join("gopath"))
            .env("GOMODCACHE", &self.mod_cache)
            .env("GOCACHE", root.join("gocache"))
            .env("HOME", root.join("home"));
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        let out = cmd.output().unwrap();
        // A module Go refuses makes `go` exit 1 with an `Error` in its JSON; anything else is
        // a broken test setup.
        assert!(
            out.status.success() || out.stdout.starts_with(b"{"),
            "go mod download {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn options(&self) -> CheckOptions {
        CheckOptions {
            artifacts: Some(ArtifactOptions {
                go_mod_cache: Some(self.mod_cache.clone()),
                threads: 2,
                ..ArtifactOptions::default()
            }),
            ..CheckOptions::default()
        }
    }
}

/// `true` when the real `go` runs; otherwise says SKIPPED, or fails when
/// `VOUCH_REQUIRE_TOOLS=1` demands the tools.
fn have_go() -> bool {
    let runs = Command::new("go")
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .is_ok_and(|o| o.status.success());
    if !runs {
        let why = "`go` is not on PATH (scripts/install-test-tools.sh installs golang-go)";
        assert!(
            std::env::var_os("VOUCH_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "VOUCH_REQUIRE_TOOLS=1, but {why}"
        );
        eprintln!("SKIPPED: {why}");
    }
    runs
}

/// `go mod download -json` prints one JSON object per module, one after another.
fn parse_download_json(out: &Output) -> Vec<Downloaded> {
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .map(|v| {
            let v = v.unwrap();
            Downloaded {
                path: text(&v, "Path"),
                version: text(&v, "Version"),
                sum: text(&v, "Sum"),
                go_mod_sum: text(&v, "GoModSum"),
                zip: PathBuf::from(text(&v, "Zip")),
                go_mod: PathBuf::from(text(&v, "GoMod")),
                error: v["Error"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// go.sum edits and findings

/// Gives each go.sum line the hash of the next line of its kind (zip or `/go.mod`, cyclically),
/// and returns the lines whose value changed: (module, version, is go.mod) -> new value.
fn rotate_hashes(go_sum: &str) -> (String, BTreeMap<(String, String, bool), String>) {
    let lines: Vec<(String, String, bool, String)> = go_sum
        .lines()
        .map(|l| {
            let mut fields = l.split(' ');
            let (module, version, hash) = (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap(),
            );
            let (version, is_mod) = match version.strip_suffix("/go.mod") {
                Some(v) => (v, true),
                None => (version, false),
            };
            (
                module.to_owned(),
                version.to_owned(),
                is_mod,
                hash.to_owned(),
            )
        })
        .collect();
    let mut out = String::new();
    let mut changed = BTreeMap::new();
    for kind in [false, true] {
        let of_kind: Vec<_> = lines.iter().filter(|l| l.2 == kind).collect();
        for (i, (module, version, is_mod, hash)) in of_kind.iter().copied().enumerate() {
            let next = &of_kind[(i + 1) % of_kind.len()].3;
            let suffix = if *is_mod { "/go.mod" } else { "" };
            out.push_str(&format!("{module} {version}{suffix} {next}\n"));
            if next != hash {
                changed.insert((module.clone(), version.clone(), *is_mod), next.clone());
            }
        }
    }
    (out, changed)
}

fn mismatches(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.code == Code::HashMismatch)
        .collect()
}

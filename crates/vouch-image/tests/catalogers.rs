//! The binary and archive catalogers (Go and cargo-auditable binaries, Java archives, the RPM
//! database, gemspecs, Composer and .NET files) on inputs built here: synthetic bytes written
//! by hand from the formats' specifications, and, where the real tool is on `PATH`, files the
//! real tool produced (`go`, `cargo auditable`, `jar`, `rpm`/`rpmbuild`). A test whose tool is
//! missing prints why and passes; the Debian packages that provide them are `golang-go`,
//! `openjdk-17-jdk-headless` and `rpm`, and `cargo install cargo-auditable`.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write as _};
use std::path::Path;
use std::process::Command;

use vouch_image::catalog::{self, CatalogError, Cataloger, FileInfo, Findings};
use vouch_inventory::{Package, Source};

// ---------------------------------------------------------------------------------------------
// Helpers

/// The cataloger named `name`, from the list the driver runs.
fn cataloger(name: &str) -> Box<dyn Cataloger> {
    catalog::all()
        .into_iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no cataloger named {name}"))
}

/// A reader that hands out at most `step` bytes per call, as a tar stream may.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Runs cataloger `name` over `data` as the file `path` with `mode`, asserting it wants it.
/// The findings' dependency edges by package name, sorted.
fn edges(out: &Findings) -> Vec<(String, String)> {
    let mut named: Vec<(String, String)> = out
        .edges
        .iter()
        .map(|&(a, b)| (out.packages[a].name.clone(), out.packages[b].name.clone()))
        .collect();
    named.sort();
    named
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn run(name: &str, path: &str, mode: u32, data: &[u8]) -> Result<Findings, CatalogError> {
    run_trickle(name, path, mode, data, usize::MAX)
}

fn run_trickle(
    name: &str,
    path: &str,
    mode: u32,
    data: &[u8],
    step: usize,
) -> Result<Findings, CatalogError> {
    let c = cataloger(name);
    let file = FileInfo {
        path,
        size: data.len() as u64,
        mode,
    };
    assert!(c.wants(&file), "{name} should want {path}");
    let mut out = Findings::default();
    c.catalog(&file, &mut Trickle { data, step }, &mut out)?;
    Ok(out)
}

fn wants(name: &str, path: &str, mode: u32, size: u64) -> bool {
    cataloger(name).wants(&FileInfo { path, size, mode })
}

/// The one package named `name` (panics when there is not exactly one).
fn pkg<'a>(out: &'a Findings, name: &str) -> &'a Package {
    let found: Vec<&Package> = out.packages.iter().filter(|p| p.name == name).collect();
    assert_eq!(found.len(), 1, "packages named {name}: {:#?}", out.packages);
    found[0]
}

fn purl(p: &Package) -> String {
    p.purl.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn prop<'a>(p: &'a Package, key: &str) -> Option<&'a str> {
    p.properties.get(key).map(String::as_str)
}

/// Whether `tool` runs; prints why the calling test is skipped when it does not.
fn have(tool: &str, args: &[&str], test: &str) -> bool {
    let ok = Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let command = [tool]
            .iter()
            .chain(args)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!("SKIPPED {test}: `{command}` does not run (see this file's doc comment)");
    }
    ok
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(path: &Path, text: &str) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Go binaries

fn uvarint(mut v: usize, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A Go 1.18+ build information blob, written from `debug/buildinfo`'s description.
fn go_blob(version: &str, modinfo: &str) -> Vec<u8> {
    let mut b = b"\xff Go buildinf:".to_vec();
    b.push(8); // pointer size
    b.push(0x2); // inline strings, little-endian
    b.resize(32, 0);
    uvarint(version.len(), &mut b);
    b.extend_from_slice(version.as_bytes());
    // The linker's sentinels around the module information (cmd/go/internal/modload), binary.
    let start = b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
    let end = b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";
    uvarint(16 + modinfo.len() + 16, &mut b);
    b.extend_from_slice(start);
    b.extend_from_slice(modinfo.as_bytes());
    b.extend_from_slice(end);
    b
}

const MODINFO: &str = "path\texample.com/tool/cmd/tool\n\
mod\texample.com/tool\tv1.4.0\th1:mainhash=\n\
dep\tgithub.com/pkg/errors\tv0.9.1\th1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=\n\
dep\tgolang.org/x/sys\tv0.1.0\th1:old=\n\
=>\tgolang.org/x/sys\tv0.2.0\th1:new=\n\
dep\texample.com/local\tv0.0.0\n\
=>\t../local\t(devel)\t\n\
build\t-compiler=gc\n\
build\t-ldflags=\"-s -w\"\n\
build\tGOOS=linux\n\
build\tGOARCH=arm64\n\
build\tvcs.revision=0123456789abcdef\n";

/// An "ELF" whose build information sits past the first read chunk, after a decoy copy of the
/// magic (as `debug/buildinfo` keeps in read-only data) and many 0xff bytes.
fn synthetic_go_elf(blob: &[u8]) -> Vec<u8> {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.resize(1000, 0xff);
    elf.extend_from_slice(b"\xff Go buildinf:some other rodata strings");
    elf.resize(700_003, 0);
    elf.extend_from_slice(blob);
    elf.resize(elf.len() + 5000, 0xff);
    elf
}

#[test]
fn go_synthetic_buildinfo() {
    let elf = synthetic_go_elf(&go_blob("go1.22.1 X:boringcrypto", MODINFO));
    // Small reads too: the window must grow over read boundaries.
    for step in [usize::MAX, 4093] {
        let out = run_trickle("go-binary", "usr/bin/tool", 0o755, &elf, step).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 5, "{:#?}", out.packages);

        let std = pkg(&out, "stdlib");
        assert_eq!(purl(std), "pkg:golang/stdlib@go1.22.1");

        let main = pkg(&out, "example.com/tool");
        assert_eq!(purl(main), "pkg:golang/example.com/tool@v1.4.0");
        assert_eq!(prop(main, "vouch:go-main"), Some("true"));
        assert_eq!(
            prop(main, "vouch:go-version"),
            Some("go1.22.1 X:boringcrypto")
        );
        assert_eq!(
            prop(main, "vouch:go-main-package"),
            Some("example.com/tool/cmd/tool")
        );
        assert_eq!(prop(main, "vouch:go-build:GOARCH"), Some("arm64"));
        assert_eq!(prop(main, "vouch:go-build:-ldflags"), Some("-s -w"));
        assert_eq!(
            prop(main, "vouch:go-build:vcs.revision"),
            Some("0123456789abcdef")
        );

        let errors = pkg(&out, "github.com/pkg/errors");
        assert_eq!(purl(errors), "pkg:golang/github.com/pkg/errors@v0.9.1");
        assert_eq!(
            prop(errors, "vouch:go-sum-h1"),
            Some("h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=")
        );
        assert_eq!(errors.evidence.iter().next().unwrap().line, Some(3));
        assert_eq!(errors.evidence.iter().next().unwrap().file, "/usr/bin/tool");

        // A module replacement reports what was built in.
        let sys = pkg(&out, "golang.org/x/sys");
        assert_eq!(purl(sys), "pkg:golang/golang.org/x/sys@v0.2.0");
        assert_eq!(prop(sys, "vouch:go-sum-h1"), Some("h1:new="));
        assert_eq!(prop(sys, "vouch:replaces"), Some("golang.org/x/sys@v0.1.0"));

        // A directory replacement is local code: no version, the directory as source.
        let local = pkg(&out, "example.com/local");
        assert_eq!(local.version, None);
        assert_eq!(
            local.source,
            Source::Path {
                path: "../local".into()
            }
        );

        // The main module depends on every module linked in and on the standard library.
        assert_eq!(
            edges(&out),
            pairs(&[
                ("example.com/tool", "example.com/local"),
                ("example.com/tool", "github.com/pkg/errors"),
                ("example.com/tool", "golang.org/x/sys"),
                ("example.com/tool", "stdlib"),
            ])
        );
    }
}

#[test]
fn go_non_go_executables_and_old_format() {
    // A shell script and an ELF without build information: nothing, no error.
    let out = run(
        "go-binary",
        "usr/bin/script",
        0o755,
        b"#!/bin/sh\necho hi\n".repeat(10).as_slice(),
    )
    .unwrap();
    assert!(out.packages.is_empty() && out.warnings.is_empty());
    let mut elf = b"\x7fELF".to_vec();
    elf.resize(3_000_000, 0xff);
    let out = run("go-binary", "usr/bin/c-tool", 0o755, &elf).unwrap();
    assert!(out.packages.is_empty() && out.warnings.is_empty());

    // Pre-1.18 pointer format: a warning, no packages.
    let mut blob = b"\xff Go buildinf:".to_vec();
    blob.extend_from_slice(&[8, 0]);
    blob.resize(32, 0x41);
    let out = run("go-binary", "usr/bin/old", 0o755, &synthetic_go_elf(&blob)).unwrap();
    assert!(out.packages.is_empty());
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("before Go 1.18"),
        "{:?}",
        out.warnings
    );

    // Not executable, not wanted.
    assert!(!wants("go-binary", "usr/share/doc/x", 0o644, 10_000));
}

#[test]
fn go_malformed_buildinfo() {
    // A length that runs past the end of the file: not build information, nothing found.
    let mut blob = go_blob("go1.22.1", MODINFO);
    blob.truncate(60);
    let out = run(
        "go-binary",
        "usr/bin/cut",
        0o755,
        &synthetic_go_elf(&blob)[..700_003 + 60],
    )
    .unwrap();
    assert!(out.packages.is_empty());

    // Huge varint length: refused without allocating.
    let mut blob = b"\xff Go buildinf:\x08\x02".to_vec();
    blob.resize(32, 0);
    blob.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    let out = run("go-binary", "usr/bin/huge", 0o755, &synthetic_go_elf(&blob)).unwrap();
    assert!(out.packages.is_empty());

    // Module information that is not tab-separated lines: an error naming the file.
    let bad = go_blob("go1.22.1", "this is not modinfo\n");
    let err = run("go-binary", "usr/bin/bad", 0o755, &synthetic_go_elf(&bad)).unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
    assert!(err.to_string().starts_with("/usr/bin/bad"), "{err}");
}

#[test]
fn go_real_binary() {
    if !have("go", &["version"], "go_real_binary") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("go.mod"),
        "module example.com/app\n\ngo 1.18\n\nrequire example.com/dep v1.2.3\n\n\
         replace example.com/dep => ./dep\n",
    );
    write(&d.join("dep/go.mod"), "module example.com/dep\n\ngo 1.18\n");
    write(
        &d.join("dep/dep.go"),
        "package dep\n\nfunc Hello() string { return \"hello\" }\n",
    );
    write(
        &d.join("main.go"),
        "package main\n\nimport \"example.com/dep\"\n\nfunc main() { println(dep.Hello()) }\n",
    );
    let go = |args: &[&str]| {
        let mut c = Command::new("go");
        c.args(args)
            .current_dir(d)
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            .env("CGO_ENABLED", "0");
        run_ok(&mut c)
    };
    go(&["build", "-o", "app", "."]);
    let goversion = go(&["env", "GOVERSION"]).trim().to_owned();
    let goarch = go(&["env", "GOARCH"]).trim().to_owned();
    let bin = fs_err::read(d.join("app")).unwrap();

    let out = run("go-binary", "app/app", 0o755, &bin).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.packages.len(), 3, "{:#?}", out.packages);
    assert_eq!(
        purl(pkg(&out, "stdlib")),
        format!("pkg:golang/stdlib@{goversion}")
    );
    let main = pkg(&out, "example.com/app");
    assert_eq!(prop(main, "vouch:go-main"), Some("true"));
    assert_eq!(prop(main, "vouch:go-build:GOOS"), Some("linux"));
    assert_eq!(prop(main, "vouch:go-build:GOARCH"), Some(goarch.as_str()));
    assert_eq!(prop(main, "vouch:go-build:CGO_ENABLED"), Some("0"));
    let dep = pkg(&out, "example.com/dep");
    assert_eq!(prop(dep, "vouch:replaces"), Some("example.com/dep@v1.2.3"));
    assert_eq!(
        dep.source,
        Source::Path {
            path: "./dep".into()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Text formats: Composer, .NET, gemspecs

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalogers")
        .join(rel);
    fs_err::read(path).unwrap()
}

fn hashes(p: &Package) -> Vec<String> {
    p.hashes
        .iter()
        .map(|d| format!("{}:{}", d.algorithm().name(), d.hex()))
        .collect()
}

#[test]
fn composer_v2_installed() {
    let path = "app/vendor/composer/installed.json";
    let out = run(
        "composer-installed",
        path,
        0o644,
        &fixture("composer_v2/installed.json"),
    )
    .unwrap();
    assert_eq!(out.packages.len(), 3);
    let monolog = pkg(&out, "monolog/monolog");
    assert_eq!(purl(monolog), "pkg:composer/monolog/monolog@3.5.0");
    assert_eq!(
        hashes(monolog),
        ["sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"]
    );
    assert_eq!(monolog.licenses.iter().collect::<Vec<_>>(), ["MIT"]);
    assert_eq!(monolog.evidence.iter().next().unwrap().line, Some(4));
    assert_eq!(monolog.scope, vouch_inventory::Scope::Required);
    let log = pkg(&out, "psr/log");
    assert!(log.hashes.is_empty());
    assert_eq!(log.licenses.iter().collect::<Vec<_>>(), ["MIT"]);
    assert_eq!(log.evidence.iter().next().unwrap().line, Some(25));
    let phpunit = pkg(&out, "phpunit/phpunit");
    assert_eq!(phpunit.scope, vouch_inventory::Scope::Dev);
    assert_eq!(purl(phpunit), "pkg:composer/phpunit/phpunit@10.5.2");
}

#[test]
fn composer_v1_installed_and_bad_input() {
    let path = "vendor/composer/installed.json";
    let out = run(
        "composer-installed",
        path,
        0o644,
        &fixture("composer_v1/installed.json"),
    )
    .unwrap();
    let p = pkg(&out, "symfony/polyfill-ctype");
    assert_eq!(purl(p), "pkg:composer/symfony/polyfill-ctype@v1.28.0");
    assert!(p.hashes.is_empty());
    assert_eq!(prop(p, "vouch:integrity-malformed"), Some("not-hex"));

    let err = run("composer-installed", path, 0o644, b"{\n\"packages\": 7}").unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
    assert!(!wants(
        "composer-installed",
        "vendor/composer/installed.php",
        0o644,
        10
    ));
    assert!(!wants(
        "composer-installed",
        "x/composer/installed.json",
        0o644,
        10
    ));
}

#[test]
fn dotnet_deps_json() {
    let out = run(
        "dotnet-deps",
        "app/App.deps.json",
        0o644,
        &fixture("dotnet_deps/app.deps.json"),
    )
    .unwrap();
    assert_eq!(out.packages.len(), 1, "{:#?}", out.packages);
    let p = pkg(&out, "Newtonsoft.Json");
    assert_eq!(purl(p), "pkg:nuget/Newtonsoft.Json@13.0.3");
    assert_eq!(
        hashes(p),
        [
            "sha512:1eb0b9057765d3420ff73795fb467ce3c4163c0a02afd3f76c311982e23e8242dc04a00ec62c7fb4b1000070be52f0cd3efe1ad9dd7c94e45e1cc39a80f6becd"
        ]
    );
    assert_eq!(p.evidence.iter().next().unwrap().line, Some(36));
    assert_eq!(out.warnings.len(), 1);
    assert!(out.warnings[0].contains("`Broken`"), "{:?}", out.warnings);

    let err = run(
        "dotnet-deps",
        "app/App.deps.json",
        0o644,
        b"{\"libraries\": [1]}",
    )
    .unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
    assert!(!wants(
        "dotnet-deps",
        "app/App.runtimeconfig.json",
        0o644,
        10
    ));
}

#[test]
fn gemspecs() {
    let path = "usr/local/bundle/specifications/rake-13.1.0.gemspec";
    let out = run(
        "gemspec",
        path,
        0o644,
        &fixture("gemspec/rake-13.1.0.gemspec"),
    )
    .unwrap();
    let p = pkg(&out, "rake");
    assert_eq!(purl(p), "pkg:gem/rake@13.1.0");
    assert_eq!(p.licenses.iter().collect::<Vec<_>>(), ["MIT"]);
    assert_eq!(p.evidence.iter().next().unwrap().line, Some(5));
    assert_eq!(
        prop(p, "vouch:homepage"),
        Some("https://example.invalid/rake")
    );

    let path = "var/lib/gems/3.1.0/specifications/nokogiri-1.15.5-x86_64-linux.gemspec";
    let out = run(
        "gemspec",
        path,
        0o644,
        &fixture("gemspec/nokogiri-1.15.5-x86_64-linux.gemspec"),
    )
    .unwrap();
    let p = pkg(&out, "nokogiri");
    assert_eq!(purl(p), "pkg:gem/nokogiri@1.15.5?platform=x86_64-linux");
    assert_eq!(p.licenses.iter().collect::<Vec<_>>(), ["MIT"]);

    // Only the stub line: still identified.
    let out = run(
        "gemspec",
        "x/specifications/default/json-2.6.3.gemspec",
        0o644,
        b"# stub: json 2.6.3 ruby lib\n",
    )
    .unwrap();
    assert_eq!(purl(pkg(&out, "json")), "pkg:gem/json@2.6.3");

    let err = run(
        "gemspec",
        "specifications/broken.gemspec",
        0o644,
        &fixture("gemspec_fail/broken.gemspec"),
    )
    .unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
    assert!(!wants("gemspec", "src/app/app.gemspec", 0o644, 10));
}

// ---------------------------------------------------------------------------------------------
// Java archives

/// A zip of `(name, bytes)` entries, deflated unless `stored`.
fn zip_of(entries: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    format!("#Generated by Maven\n#Tue Jan 02 10:00:00 UTC 2024\ngroupId={group}\nartifactId={artifact}\nversion={version}\n")
        .into_bytes()
}

fn sha1_hex(bytes: &[u8]) -> String {
    vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha1, bytes)
        .unwrap()
        .hex()
        .to_owned()
}

#[test]
fn java_fat_jar_with_nested_jars() {
    let lib_a = zip_of(
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n"),
            ("META-INF/maven/org.a/lib-a/pom.xml", b"<project/>"),
            (
                "META-INF/maven/org.a/lib-a/pom.properties",
                &pom("org.a", "lib-a", "1.0"),
            ),
            // A shaded copy of another library: a package of its own, without the hash.
            (
                "META-INF/maven/org.shaded/dep/pom.properties",
                &pom("org.shaded", "dep", "2.1"),
            ),
        ],
        false,
    );
    let manifest_only = zip_of(
        &[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nImplementation-Title: guava\r\nImplementation-Version: 33.0.0-jre\r\nImplementation-Vendor-Id: com.google.guava\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\r\n\r\nName: ignored\r\nImplementation-Title: not-this\r\n",
        )],
        false,
    );
    // Nested four deep: the fourth level is past the depth limit of three.
    let level4 = zip_of(
        &[
            (
                "META-INF/maven/l/four/pom.properties",
                &pom("l", "four", "4"),
            ),
            (
                "lib/level5.jar",
                &zip_of(
                    &[(
                        "META-INF/maven/l/five/pom.properties",
                        &pom("l", "five", "5"),
                    )],
                    false,
                ),
            ),
        ],
        false,
    );
    let level3 = zip_of(
        &[
            (
                "META-INF/maven/l/three/pom.properties",
                &pom("l", "three", "3"),
            ),
            ("lib/level4.jar", &level4),
        ],
        false,
    );
    let level2 = zip_of(
        &[
            ("META-INF/maven/l/two/pom.properties", &pom("l", "two", "2")),
            ("lib/level3.jar", &level3),
        ],
        false,
    );
    let app = zip_of(
        &[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\r\nImplementation-Title: app\r\nImplementation-Version: 0.0.1\r\n"),
            ("META-INF/maven/com.example/app/pom.properties", &pom("com.example", "app", "0.0.1-SNAPSHOT")),
            ("BOOT-INF/classes/com/example/App.class", b"\xca\xfe\xba\xbe"),
            ("BOOT-INF/lib/lib-a-1.0.jar", &lib_a),
            ("BOOT-INF/lib/guava-33.0.0-jre.jar", &manifest_only),
            ("BOOT-INF/lib/broken.jar", b"PK\x03\x04 this is not a zip"),
            ("BOOT-INF/lib/level2.jar", &level2),
        ],
        false,
    );
    let out = run("java-archive", "app/app.jar", 0o644, &app).unwrap();
    let names: Vec<&str> = out.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "com.example:app",
            "org.a:lib-a",
            "org.shaded:dep",
            "com.google.guava:guava",
            "l:two",
            "l:three",
            "l:four"
        ],
        "{:#?}",
        out.packages
    );

    let app_pkg = pkg(&out, "com.example:app");
    assert_eq!(purl(app_pkg), "pkg:maven/com.example/app@0.0.1-SNAPSHOT");
    assert_eq!(hashes(app_pkg), [format!("sha1:{}", sha1_hex(&app))]);
    assert_eq!(prop(app_pkg, "vouch:java-archive"), None);
    assert_eq!(app_pkg.evidence.iter().next().unwrap().file, "/app/app.jar");

    let a = pkg(&out, "org.a:lib-a");
    assert_eq!(purl(a), "pkg:maven/org.a/lib-a@1.0");
    assert_eq!(hashes(a), [format!("sha1:{}", sha1_hex(&lib_a))]);
    assert_eq!(
        prop(a, "vouch:java-archive"),
        Some("BOOT-INF/lib/lib-a-1.0.jar")
    );
    assert!(pkg(&out, "org.shaded:dep").hashes.is_empty());

    let guava = pkg(&out, "com.google.guava:guava");
    assert_eq!(purl(guava), "pkg:maven/com.google.guava/guava@33.0.0-jre");
    assert_eq!(prop(guava, "vouch:java-from-manifest"), Some("true"));
    assert!(
        guava
            .licenses
            .contains("https://www.apache.org/licenses/LICENSE-2.0.txt")
    );

    assert_eq!(
        prop(pkg(&out, "l:three"), "vouch:java-archive"),
        Some("BOOT-INF/lib/level2.jar!lib/level3.jar")
    );
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("BOOT-INF/lib/broken.jar") && w.contains("not a zip")),
        "{:?}",
        out.warnings
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("lib/level4.jar!lib/level5.jar") && w.contains("3 archives deep")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn java_manifest_only_and_bundle() {
    let jar = zip_of(&[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nBundle-SymbolicName: org.eclipse.osgi; singleton:=true\nBundle-Version: 3.18.0\n")], false);
    let out = run("java-archive", "opt/plugins/osgi.JAR", 0o644, &jar).unwrap();
    let p = pkg(&out, "org.eclipse.osgi");
    assert_eq!(p.version.as_deref(), Some("3.18.0"));
    assert_eq!(p.purl, None, "no group id, no maven purl");
    assert_eq!(hashes(p), [format!("sha1:{}", sha1_hex(&jar))]);

    // No manifest name and no pom.properties: nothing, no error.
    let jar = zip_of(&[("a.txt", b"x")], false);
    assert!(
        run("java-archive", "x.war", 0o644, &jar)
            .unwrap()
            .packages
            .is_empty()
    );
    assert!(!wants("java-archive", "x.jar.sha1", 0o644, 10));
    assert!(wants(
        "java-archive",
        "var/jenkins_home/plugins/git.hpi",
        0o644,
        10
    ));
}

#[test]
fn java_corrupt_and_oversized() {
    for bad in [
        &b""[..],
        b"not a zip at all",
        b"PK\x05\x06\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00",
    ] {
        let err = run("java-archive", "app/bad.jar", 0o644, bad).unwrap_err();
        assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
        assert!(err.to_string().starts_with("/app/bad.jar: "), "{err}");
    }
    // A compressed manifest that inflates beyond what is read: an error, not a truncation.
    let big = vec![b'a'; 2 << 20];
    let jar = zip_of(&[("META-INF/MANIFEST.MF", &big)], false);
    assert!(jar.len() < 100_000);
    let err = run("java-archive", "bomb.jar", 0o644, &jar).unwrap_err();
    assert!(err.to_string().contains("META-INF/MANIFEST.MF"), "{err}");

    // A nested jar that inflates beyond the nested limit: skipped with a warning.
    let zeros = vec![0u8; 65 << 20];
    let jar = zip_of(
        &[
            ("META-INF/maven/g/a/pom.properties", &pom("g", "a", "1")),
            ("WEB-INF/lib/zeros.jar", &zeros),
        ],
        false,
    );
    let out = run("java-archive", "big.war", 0o644, &jar).unwrap();
    assert_eq!(out.packages.len(), 1);
    assert!(
        out.warnings[0].contains("WEB-INF/lib/zeros.jar"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn java_archive_spooled_to_disk() {
    // Over the in-memory limit (stored, so it is quick to build): read through a temporary file.
    let filler: Vec<u8> = (0..(65u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let jar = zip_of(
        &[
            ("data.bin", &filler),
            ("META-INF/maven/g/big/pom.properties", &pom("g", "big", "9")),
        ],
        true,
    );
    assert!(jar.len() as u64 > 64 << 20);
    let out = run("java-archive", "big.jar", 0o644, &jar).unwrap();
    let p = pkg(&out, "g:big");
    assert_eq!(purl(p), "pkg:maven/g/big@9");
    assert_eq!(hashes(p), [format!("sha1:{}", sha1_hex(&jar))]);
}

#[test]
fn java_real_jar_tool() {
    if !have("jar", &["--version"], "java_real_jar_tool") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("classes/META-INF/maven/org.example/hello/pom.properties"),
        "groupId=org.example\nartifactId=hello\nversion=1.2.3\n",
    );
    write(&d.join("classes/org/example/Hello.txt"), "hi");
    write(
        &d.join("manifest.txt"),
        "Implementation-Title: hello\nImplementation-Version: 1.2.3\n",
    );
    run_ok(Command::new("jar").current_dir(d).args([
        "cfm",
        "hello-1.2.3.jar",
        "manifest.txt",
        "-C",
        "classes",
        ".",
    ]));
    let bytes = fs_err::read(d.join("hello-1.2.3.jar")).unwrap();
    let out = run(
        "java-archive",
        "usr/share/java/hello-1.2.3.jar",
        0o644,
        &bytes,
    )
    .unwrap();
    assert_eq!(out.packages.len(), 1);
    let p = pkg(&out, "org.example:hello");
    assert_eq!(purl(p), "pkg:maven/org.example/hello@1.2.3");
    assert_eq!(hashes(p), [format!("sha1:{}", sha1_hex(&bytes))]);
}

// ---------------------------------------------------------------------------------------------
// cargo-auditable

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A minimal little-endian ELF64 executable, written from the gABI: one `PT_LOAD` segment
/// covering the first `load_len` bytes, then `gap` bytes (debug information, say), then the
/// `.dep-v0` section holding `section`, the section name table and the section headers.
fn elf_with_dep_v0(section: &[u8], load_len: u64, gap: usize, shstrndx: u16) -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // ELFDATA2LSB
    f[6] = 1; // EV_CURRENT
    f[0x10..0x12].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[0x12..0x14].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    f[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
    f[0x20..0x28].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[0x34..0x36].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
    f[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    f[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes()); // e_shnum
    f[0x3e..0x40].copy_from_slice(&shstrndx.to_le_bytes());
    // PT_LOAD, R+X, offset 0, file size load_len.
    let mut ph = vec![0u8; 56];
    ph[0..4].copy_from_slice(&1u32.to_le_bytes());
    ph[4..8].copy_from_slice(&5u32.to_le_bytes());
    ph[32..40].copy_from_slice(&load_len.to_le_bytes());
    ph[40..48].copy_from_slice(&load_len.to_le_bytes());
    f.extend_from_slice(&ph);
    f.resize(0x1000, 0x90);
    f.resize(f.len() + gap, 0);
    let dep_off = f.len() as u64;
    f.extend_from_slice(section);
    let str_off = f.len() as u64;
    let names = b"\0.dep-v0\0.shstrtab\0";
    f.extend_from_slice(names);
    while !f.len().is_multiple_of(8) {
        f.push(0);
    }
    let shoff = f.len() as u64;
    let sh = |name: u32, ty: u32, off: u64, size: u64| {
        let mut s = vec![0u8; 64];
        s[0..4].copy_from_slice(&name.to_le_bytes());
        s[4..8].copy_from_slice(&ty.to_le_bytes());
        s[0x18..0x20].copy_from_slice(&off.to_le_bytes());
        s[0x20..0x28].copy_from_slice(&size.to_le_bytes());
        s[0x30..0x38].copy_from_slice(&1u64.to_le_bytes());
        s
    };
    f.extend_from_slice(&[0u8; 64]);
    f.extend_from_slice(&sh(1, 1, dep_off, section.len() as u64));
    f.extend_from_slice(&sh(9, 3, str_off, names.len() as u64));
    f[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
    f
}

const AUDIT_JSON: &str = r#"{"packages":[
 {"name":"mytool","version":"0.3.0","source":"local","dependencies":[1,2,3],"root":true},
 {"name":"serde","version":"1.0.197","source":"crates.io","dependencies":[2]},
 {"name":"serde_derive","version":"1.0.197","source":"crates.io","kind":"build"},
 {"name":"forked","version":"0.1.0","source":"git"}
]}"#;

/// The edges of [`AUDIT_JSON`]'s `dependencies` indices, by name.
fn audit_edges() -> Vec<(String, String)> {
    pairs(&[
        ("mytool", "forked"),
        ("mytool", "serde"),
        ("mytool", "serde_derive"),
        ("serde", "serde_derive"),
    ])
}

#[test]
fn auditable_synthetic_elf() {
    for gap in [0usize, 9 << 20] {
        let elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x1000, gap, 2);
        let out = run_trickle(
            "rust-cargo-auditable",
            "usr/local/bin/mytool",
            0o755,
            &elf,
            8191,
        )
        .unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 4);
        let root = pkg(&out, "mytool");
        assert_eq!(prop(root, "vouch:rust-root"), Some("true"));
        assert_eq!(root.purl, None, "a local crate has no crates.io purl");
        assert_eq!(prop(root, "vouch:cargo-source"), Some("local"));
        let serde = pkg(&out, "serde");
        assert_eq!(purl(serde), "pkg:cargo/serde@1.0.197");
        assert_eq!(serde.scope, vouch_inventory::Scope::Required);
        assert_eq!(
            serde.evidence.iter().next().unwrap().file,
            "/usr/local/bin/mytool"
        );
        let derive = pkg(&out, "serde_derive");
        assert_eq!(derive.scope, vouch_inventory::Scope::Dev);
        assert_eq!(pkg(&out, "forked").purl, None);
        assert_eq!(edges(&out), audit_edges(), "the `dependencies` indices");
    }
}

/// A minimal PE32+ executable, written from the PE/COFF specification: the MS-DOS header
/// pointing at `PE\0\0`, the COFF header, an empty optional header of the PE32+ size, and two
/// sections, `.text` and `.dep-v0`, each padded to a 0x200 file alignment.
fn pe_with_dep_v0(section: &[u8]) -> Vec<u8> {
    let align = |n: usize| n.div_ceil(0x200) * 0x200;
    let mut f = vec![0u8; 0x80];
    f[..2].copy_from_slice(b"MZ");
    f[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    f.extend_from_slice(b"PE\0\0");
    let mut coff = [0u8; 20];
    coff[0..2].copy_from_slice(&0x8664u16.to_le_bytes()); // AMD64
    coff[2..4].copy_from_slice(&2u16.to_le_bytes());
    coff[16..18].copy_from_slice(&240u16.to_le_bytes());
    coff[18..20].copy_from_slice(&0x22u16.to_le_bytes()); // executable, large address aware
    f.extend_from_slice(&coff);
    let mut optional = vec![0u8; 240];
    optional[0..2].copy_from_slice(&0x20bu16.to_le_bytes()); // PE32+
    f.extend_from_slice(&optional);
    let entry = |name: &[u8], vsize: usize, raw: usize, at: usize| {
        let mut e = [0u8; 40];
        e[..name.len()].copy_from_slice(name);
        e[8..12].copy_from_slice(&u32::try_from(vsize).unwrap().to_le_bytes());
        e[16..20].copy_from_slice(&u32::try_from(raw).unwrap().to_le_bytes());
        e[20..24].copy_from_slice(&u32::try_from(at).unwrap().to_le_bytes());
        e
    };
    f.extend_from_slice(&entry(b".text", 0x10, 0x200, 0x400));
    f.extend_from_slice(&entry(
        b".dep-v0",
        section.len(),
        align(section.len()),
        0x600,
    ));
    f.resize(0x400, 0);
    f.extend_from_slice(&[0xc3; 0x200]);
    f.extend_from_slice(section);
    f.resize(0x600 + align(section.len()), 0);
    f
}

/// A minimal Mach-O executable, written from `<mach-o/loader.h>`: a `__TEXT` segment without
/// sections and a `__DATA` segment holding `.dep-v0`, whose content starts at 0x1000.
fn macho_with_dep_v0(section: &[u8], is64: bool, big_endian: bool) -> Vec<u8> {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u64b = |v: u64| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let (header, segment, entry, cmd) = if is64 {
        (32, 72, 80, 0x19u32)
    } else {
        (28, 56, 68, 0x1u32)
    };
    let name16 = |n: &str| {
        let mut b = [0u8; 16];
        b[..n.len()].copy_from_slice(n.as_bytes());
        b
    };
    let seg = |name: &str, sections: &[Vec<u8>]| {
        let mut c = Vec::new();
        c.extend_from_slice(&u32b(cmd));
        c.extend_from_slice(&u32b(
            u32::try_from(segment + entry * sections.len()).unwrap(),
        ));
        c.extend_from_slice(&name16(name));
        c.resize(if is64 { 64 } else { 48 }, 0);
        c.extend_from_slice(&u32b(u32::try_from(sections.len()).unwrap()));
        c.extend_from_slice(&u32b(0));
        for s in sections {
            c.extend_from_slice(s);
        }
        c
    };
    let mut dep = Vec::new();
    dep.extend_from_slice(&name16(".dep-v0"));
    dep.extend_from_slice(&name16("__DATA"));
    if is64 {
        dep.extend_from_slice(&u64b(0x1_0000_1000));
        dep.extend_from_slice(&u64b(section.len() as u64));
    } else {
        dep.extend_from_slice(&u32b(0x1000));
        dep.extend_from_slice(&u32b(u32::try_from(section.len()).unwrap()));
    }
    dep.extend_from_slice(&u32b(0x1000));
    dep.resize(entry, 0);
    let commands = [seg("__TEXT", &[]), seg("__DATA", &[dep])];
    let sizeofcmds: usize = commands.iter().map(Vec::len).sum();
    let mut f = Vec::new();
    let magic: u32 = if is64 { 0xfeed_facf } else { 0xfeed_face };
    f.extend_from_slice(&u32b(magic));
    f.extend_from_slice(&u32b(if is64 { 0x0100_000c } else { 0x12 })); // arm64, ppc
    f.extend_from_slice(&u32b(0));
    f.extend_from_slice(&u32b(2)); // MH_EXECUTE
    f.extend_from_slice(&u32b(2));
    f.extend_from_slice(&u32b(u32::try_from(sizeofcmds).unwrap()));
    f.resize(header, 0);
    for c in &commands {
        f.extend_from_slice(c);
    }
    f.resize(0x1000, 0);
    f.extend_from_slice(section);
    f
}

#[test]
fn auditable_pe_and_macho() {
    let name = "rust-cargo-auditable";
    let section = zlib(AUDIT_JSON.as_bytes());
    let files = [
        ("Files/app/mytool.exe", 0o644, pe_with_dep_v0(&section)),
        (
            "usr/local/bin/mytool",
            0o755,
            macho_with_dep_v0(&section, true, false),
        ),
        (
            "usr/local/bin/mytool32",
            0o755,
            macho_with_dep_v0(&section, false, true),
        ),
    ];
    for (path, mode, bytes) in &files {
        for step in [usize::MAX, 7] {
            let out = run_trickle(name, path, *mode, bytes, step).unwrap();
            assert!(out.warnings.is_empty(), "{path}: {:?}", out.warnings);
            assert_eq!(out.packages.len(), 4, "{path}");
            assert_eq!(purl(pkg(&out, "serde")), "pkg:cargo/serde@1.0.197");
            assert_eq!(prop(pkg(&out, "mytool"), "vouch:rust-root"), Some("true"));
            assert_eq!(edges(&out), audit_edges(), "{path}");
        }
    }

    // Without the section, or not a PE file at all: nothing found, nothing to say.
    let mut other = pe_with_dep_v0(&section);
    other[0x80 + 24 + 240 + 40..][..8].copy_from_slice(b".data\0\0\0");
    let out = run(name, "a.exe", 0o644, &other).unwrap();
    assert!(out.packages.is_empty() && out.warnings.is_empty());
    let mut dos = vec![0u8; 256];
    dos[..2].copy_from_slice(b"MZ");
    dos[0x3c..0x40].copy_from_slice(&0x4000u32.to_le_bytes());
    let out = run(name, "old.exe", 0o755, &dos).unwrap();
    assert!(out.packages.is_empty() && out.warnings.is_empty());

    // A section running past the end of the file, a load command larger than the commands:
    // errors saying so.
    let mut cut = pe_with_dep_v0(&section);
    cut.truncate(0x600 + 10);
    let err = run(name, "a.exe", 0o644, &cut).unwrap_err();
    assert!(
        err.to_string().contains("past the end of the file"),
        "{err}"
    );
    let mut bad = macho_with_dep_v0(&section, true, false);
    bad[32 + 4..32 + 8].copy_from_slice(&0xffffu32.to_le_bytes());
    let err = run(name, "bin/m", 0o755, &bad).unwrap_err();
    assert!(err.to_string().contains("load command at byte 32"), "{err}");
    assert!(err.to_string().contains("bin/m"), "{err}");
}

#[test]
fn auditable_edge_cases() {
    let name = "rust-cargo-auditable";
    // The section inside a loaded segment: a warning, not a guess.
    let elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x2000, 0, 2);
    let out = run(name, "bin/a", 0o755, &elf).unwrap();
    assert!(out.packages.is_empty());
    assert!(
        out.warnings[0].contains("inside a loaded segment"),
        "{:?}",
        out.warnings
    );
    // Only the section inside it (its content lies before the end of the last segment).
    let mut elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x1000, 0, 2);
    elf[64 + 32..64 + 40].copy_from_slice(&0x1010u64.to_le_bytes());
    let out = run(name, "bin/a", 0o755, &elf).unwrap();
    assert!(out.packages.is_empty());
    assert!(
        out.warnings[0].contains("`.dep-v0` section lies inside"),
        "{:?}",
        out.warnings
    );

    // Not zlib, or not the JSON schema: errors naming the section.
    let elf = elf_with_dep_v0(b"plain text", 0x1000, 0, 2);
    let err = run(name, "bin/a", 0o755, &elf).unwrap_err();
    assert!(err.to_string().contains("not zlib"), "{err}");
    let elf = elf_with_dep_v0(&zlib(b"{\"crates\":[]}"), 0x1000, 0, 2);
    let err = run(name, "bin/a", 0o755, &elf).unwrap_err();
    assert!(
        err.to_string().contains("not cargo-auditable JSON"),
        "{err}"
    );

    // A decompression bomb: refused at the cap.
    let mut bomb = b"{\"packages\":[]".to_vec();
    bomb.resize(9 << 20, b' ');
    bomb.push(b'}');
    let elf = elf_with_dep_v0(&zlib(&bomb), 0x1000, 0, 2);
    let err = run(name, "bin/a", 0o755, &elf).unwrap_err();
    assert!(
        err.to_string().contains("decompresses to more than"),
        "{err}"
    );

    // Section name table index out of range; section headers past the end.
    let elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x1000, 0, 7);
    let err = run(name, "bin/a", 0o755, &elf).unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
    let mut elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x1000, 0, 2);
    elf[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = run(name, "bin/a", 0o755, &elf).unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");
    // Truncated: the section headers are cut off.
    let elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x1000, 0, 2);
    let err = run(name, "bin/a", 0o755, &elf[..elf.len() - 10]).unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");

    // Not an ELF, or an ELF without the section: nothing.
    assert!(
        run(name, "bin/s", 0o755, &[b'#'; 100])
            .unwrap()
            .packages
            .is_empty()
    );
    let mut elf = elf_with_dep_v0(&zlib(AUDIT_JSON.as_bytes()), 0x1000, 0, 2);
    let at = elf.windows(7).position(|w| w == b".dep-v0").unwrap();
    elf[at + 1] = b'X';
    let out = run(name, "bin/a", 0o755, &elf).unwrap();
    assert!(out.packages.is_empty() && out.warnings.is_empty());
}

#[test]
fn auditable_real_binary() {
    if !have(
        "cargo",
        &["auditable", "--version"],
        "auditable_real_binary",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("app/Cargo.toml"),
        "[package]\nname = \"auditapp\"\nversion = \"0.4.2\"\nedition = \"2021\"\n\n[dependencies]\nauditdep = { path = \"../dep\" }\n",
    );
    write(
        &d.join("app/src/main.rs"),
        "fn main() { println!(\"{}\", auditdep::hi()); }\n",
    );
    write(
        &d.join("dep/Cargo.toml"),
        "[package]\nname = \"auditdep\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
    );
    write(
        &d.join("dep/src/lib.rs"),
        "pub fn hi() -> &'static str { \"hi\" }\n",
    );
    run_ok(
        Command::new("cargo")
            .args(["auditable", "build", "--release", "--offline", "--quiet"])
            .current_dir(d.join("app"))
            .env("CARGO_TARGET_DIR", d.join("target"))
            .env_remove("RUSTFLAGS"),
    );
    let bin = fs_err::read(d.join("target/release/auditapp")).unwrap();
    let out = run("rust-cargo-auditable", "usr/bin/auditapp", 0o755, &bin).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let app = pkg(&out, "auditapp");
    assert_eq!(app.version.as_deref(), Some("0.4.2"));
    assert_eq!(prop(app, "vouch:rust-root"), Some("true"));
    assert_eq!(pkg(&out, "auditdep").version.as_deref(), Some("0.2.0"));
    assert_eq!(out.packages.len(), 2, "{:#?}", out.packages);
    assert_eq!(edges(&out), pairs(&[("auditapp", "auditdep")]));
}

// ---------------------------------------------------------------------------------------------
// The RPM database

/// The spec the RPM fixtures were built from: one package with a header large enough for
/// SQLite overflow pages, and 30 subpackages so that the table needs more than one page.
fn rpm_spec() -> String {
    let mut spec = format!(
        "Name: vouchtest\nVersion: 1.2.3\nRelease: 4.fc40\nEpoch: 2\nSummary: vouch test package\n\
         License: MIT AND Apache-2.0\nVendor: Vouch Test Vendor\nBuildArch: noarch\n\n\
         %description\n{}\n",
        "A long description that makes the header spill onto overflow pages. ".repeat(300)
    );
    for i in 0..30 {
        spec.push_str(&format!(
            "\n%package -n vouchsub{i}\nSummary: sub {i}\nVersion: 0.{i}\nLicense: BSD-3-Clause\n\
             %description -n vouchsub{i}\nsub {i}\n%files -n vouchsub{i}\n"
        ));
    }
    spec.push_str("\n%files\n");
    spec
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// `name epoch:version-release arch` of every package, sorted.
fn rpm_summary(out: &Findings) -> Vec<String> {
    let mut v: Vec<String> = out
        .packages
        .iter()
        .map(|p| {
            format!(
                "{} {}:{} {}",
                p.name,
                prop(p, "vouch:epoch").unwrap_or("0"),
                p.version.as_deref().unwrap_or(""),
                prop(p, "vouch:arch").unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

/// What the spec says the database holds.
fn rpm_expected() -> Vec<String> {
    let mut v: Vec<String> = (0..30)
        .map(|i| format!("vouchsub{i} 2:0.{i}-4.fc40 noarch"))
        .collect();
    v.push("vouchtest 2:1.2.3-4.fc40 noarch".into());
    v.sort();
    v
}

fn check_vouchtest(out: &Findings, file: &str) {
    let p = pkg(out, "vouchtest");
    assert_eq!(p.ecosystem, vouch_inventory::Ecosystem::Rpm);
    assert_eq!(p.purl, None, "the driver builds rpm purls");
    assert_eq!(
        prop(p, "vouch:upstream"),
        Some("vouchtest-1.2.3-4.fc40.src.rpm")
    );
    assert_eq!(prop(p, "vouch:vendor"), Some("Vouch Test Vendor"));
    assert_eq!(
        p.licenses.iter().collect::<Vec<_>>(),
        ["MIT AND Apache-2.0"]
    );
    assert_eq!(p.evidence.iter().next().unwrap().file, file);
    let sub = pkg(out, "vouchsub7");
    assert_eq!(sub.licenses.iter().collect::<Vec<_>>(), ["BSD-3-Clause"]);
}

#[test]
fn rpm_sqlite_fixture() {
    let db = gunzip(&fixture("rpm_sqlite/rpmdb.sqlite.gz"));
    let out = run("rpm-db", "var/lib/rpm/rpmdb.sqlite", 0o644, &db).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(rpm_summary(&out), rpm_expected());
    check_vouchtest(&out, "/var/lib/rpm/rpmdb.sqlite");
    assert!(wants(
        "rpm-db",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        0o644,
        1
    ));
    assert!(!wants("rpm-db", "var/lib/rpm/Index.db", 0o644, 1));
}

#[test]
fn rpm_sqlite_tampered() {
    let good = gunzip(&fixture("rpm_sqlite/rpmdb.sqlite.gz"));
    let page = 4096;
    let root = 2; // the `Packages` root, an interior page (see the fixture's README)
    let malformed = |db: &[u8], what: &str| {
        let err = run("rpm-db", "var/lib/rpm/rpmdb.sqlite", 0o644, db).unwrap_err();
        assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(what), "{err} should say {what}");
    };
    // The root's right-most child pointing back at the root: a cycle, caught.
    let mut db = good.clone();
    db[(root - 1) * page + 8..(root - 1) * page + 12].copy_from_slice(&(root as u32).to_be_bytes());
    malformed(&db, "reached twice");
    // A child pointer past the end of the file.
    let mut db = good.clone();
    db[(root - 1) * page + 8..(root - 1) * page + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    malformed(&db, "outside");
    // The root is not a table page.
    let mut db = good.clone();
    db[(root - 1) * page] = 0x0a;
    malformed(&db, "not a table b-tree page");
    // Cell pointers aimed at the end of the page; a cell count larger than the page.
    let mut db = good.clone();
    db[(root - 1) * page + 3..(root - 1) * page + 5].copy_from_slice(&5000u16.to_be_bytes());
    malformed(&db, "outside the page");
    // Truncated (pages and overflow chains missing), and not SQLite at all.
    malformed(&good[..good.len() / 3], "outside");
    malformed(
        b"SQLite format 2\0 and the rest",
        "not an SQLite 3 database",
    );
    let mut db = good.clone();
    db[16..18].copy_from_slice(&1000u16.to_be_bytes());
    malformed(&db, "page size");
}

#[test]
fn rpm_bdb_fixture() {
    let db = gunzip(&fixture("rpm_bdb/Packages.gz"));
    let out = run("rpm-db", "var/lib/rpm/Packages", 0o644, &db).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(rpm_summary(&out), rpm_expected());
    check_vouchtest(&out, "/var/lib/rpm/Packages");

    // Damage: not BDB; a truncated file (overflow pages missing).
    let err = run("rpm-db", "var/lib/rpm/Packages", 0o644, &[0u8; 4096]).unwrap_err();
    assert!(
        err.to_string().contains("not a Berkeley DB hash database"),
        "{err}"
    );
    let err = run("rpm-db", "var/lib/rpm/Packages", 0o644, &db[..db.len() / 2]).unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
}

#[test]
fn rpm_bad_header_blob_is_skipped_with_a_warning() {
    // In the BDB fixture, overwrite the start of every stored header ("il" of the small inline
    // ones) with a count beyond rpm's limit: each such record is skipped with a warning.
    let mut db = gunzip(&fixture("rpm_bdb/Packages.gz"));
    let needle = b"\x00\x00\x00\x3f\x00\x00\x00\x07"; // region tag 63 (HEADER_IMMUTABLE), BIN
    let mut hits = 0;
    let mut i = 0;
    while let Some(at) = db[i..].windows(8).position(|w| w == needle) {
        let start = i + at - 8; // il/dl precede the first index entry
        db[start..start + 4].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
        hits += 1;
        i = i + at + 8;
    }
    assert!(hits > 0);
    let out = run("rpm-db", "var/lib/rpm/Packages", 0o644, &db).unwrap();
    assert_eq!(
        out.packages.len() + out.warnings.len(),
        31,
        "{:?}",
        out.warnings
    );
    assert!(
        out.warnings.iter().all(|w| w.contains("index entries")),
        "{:?}",
        out.warnings
    );
}

/// An rpm header blob (as the database stores it: no magic) with string tags and an INT32
/// epoch, written from the header format.
fn rpm_header(name: &str, version: &str, release: &str, epoch: u32, arch: &str) -> Vec<u8> {
    let mut data = Vec::new();
    let mut index = Vec::new();
    for (tag, value) in [
        (1000u32, name),
        (1001, version),
        (1002, release),
        (1022, arch),
    ] {
        index.push((tag, 6u32, data.len() as u32, 1u32));
        data.extend_from_slice(value.as_bytes());
        data.push(0);
    }
    while data.len() % 4 != 0 {
        data.push(0);
    }
    index.push((1003, 4, data.len() as u32, 1));
    data.extend_from_slice(&epoch.to_be_bytes());
    let mut b = Vec::new();
    b.extend_from_slice(&(index.len() as u32).to_be_bytes());
    b.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for (t, ty, o, c) in index {
        for v in [t, ty, o, c] {
            b.extend_from_slice(&v.to_be_bytes());
        }
    }
    b.extend_from_slice(&data);
    b
}

/// Adler-32 of `bytes`, taken from the trailer of a zlib stream (RFC 1950) so that the test
/// does not share the reader's implementation.
fn adler32_via_zlib(bytes: &[u8]) -> u32 {
    let z = zlib(bytes);
    u32::from_be_bytes(z[z.len() - 4..].try_into().unwrap())
}

/// An ndb `Packages.db` holding `blobs` under package indexes 1, 2, …, laid out as rpm's
/// `rpmpkg.c` writes it: one slot page, then 16-byte blocks.
fn ndb_file(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut f = vec![0u8; 4096];
    f[..4].copy_from_slice(b"RpmP");
    f[12..16].copy_from_slice(&1u32.to_le_bytes()); // one slot page
    f[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
    for slot in 2..256 {
        f[slot * 16..slot * 16 + 4].copy_from_slice(b"Slot");
    }
    for (i, blob) in blobs.iter().enumerate() {
        let index = i as u32 + 1;
        let offset = f.len() / 16;
        let blocks = (16 + blob.len() + 12).div_ceil(16);
        let mut region = Vec::new();
        region.extend_from_slice(b"BlbS");
        region.extend_from_slice(&index.to_le_bytes());
        region.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        region.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        region.extend_from_slice(blob);
        region.resize(blocks * 16 - 12, 0);
        let adler = adler32_via_zlib(&region);
        region.extend_from_slice(&adler.to_le_bytes());
        region.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        region.extend_from_slice(b"BlbE");
        f.extend_from_slice(&region);
        let slot = (2 + i) * 16;
        f[slot + 4..slot + 8].copy_from_slice(&index.to_le_bytes());
        f[slot + 8..slot + 12].copy_from_slice(&(offset as u32).to_le_bytes());
        f[slot + 12..slot + 16].copy_from_slice(&(blocks as u32).to_le_bytes());
    }
    f
}

#[test]
fn rpm_ndb_synthetic() {
    let path = "usr/lib/sysimage/rpm/Packages.db";
    let blobs = vec![
        rpm_header("bash", "5.2.15", "150500.1.1", 0, "x86_64"),
        rpm_header("zypper", "1.14.64", "150500.1.1", 3, "x86_64"),
        rpm_header("filesystem", "15.0", "11.8.1", 0, "x86_64"),
    ];
    let db = ndb_file(&blobs);
    let out = run("rpm-db", path, 0o644, &db).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(
        rpm_summary(&out),
        [
            "bash 0:5.2.15-150500.1.1 x86_64",
            "filesystem 0:15.0-11.8.1 x86_64",
            "zypper 3:1.14.64-150500.1.1 x86_64"
        ]
    );

    // One blob damaged (checksum): that package is skipped with a warning, the others read.
    let mut damaged = db.clone();
    let at = damaged.windows(6).position(|w| w == b"zypper").unwrap();
    damaged[at] = b'Z';
    let out = run("rpm-db", path, 0o644, &damaged).unwrap();
    assert_eq!(out.packages.len(), 2);
    assert!(
        out.warnings[0].contains("package 2") && out.warnings[0].contains("Adler-32"),
        "{:?}",
        out.warnings
    );

    // A slot pointing past the end of the file, a missing slot magic, not ndb: errors.
    let mut bad = db.clone();
    bad[32 + 8..32 + 12].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let err = run("rpm-db", path, 0o644, &bad).unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");
    let mut bad = db.clone();
    bad[48..52].copy_from_slice(b"Slo!");
    let err = run("rpm-db", path, 0o644, &bad).unwrap_err();
    assert!(err.to_string().contains("slot 3"), "{err}");
    let err = run("rpm-db", path, 0o644, b"RpmX").unwrap_err();
    assert!(matches!(err, CatalogError::Malformed { .. }), "{err}");
}

#[test]
fn rpm_real_database() {
    if !have("rpmbuild", &["--version"], "rpm_real_database")
        || !have("rpm", &["--version"], "rpm_real_database")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("top/SPECS/t.spec"), &rpm_spec());
    let topdir = format!("_topdir {}", d.join("top").display());
    run_ok(
        Command::new("rpmbuild")
            .args(["-bb", "--nodeps", "--define", &topdir])
            .arg(d.join("top/SPECS/t.spec")),
    );
    let dbpath = d.join("db");
    run_ok(
        Command::new("rpm")
            .arg("--initdb")
            .arg("--dbpath")
            .arg(&dbpath),
    );
    let rpms: Vec<_> = fs_err::read_dir(d.join("top/RPMS/noarch"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rpms.len(), 31);
    run_ok(
        Command::new("rpm")
            .args(["-i", "--justdb", "--nodeps", "--noscripts", "--dbpath"])
            .arg(&dbpath)
            .args(&rpms),
    );
    // rpm itself is the oracle for what the database holds.
    let listed = run_ok(
        Command::new("rpm")
            .args(["-qa", "--dbpath"])
            .arg(&dbpath)
            .args([
                "--qf",
                "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{ARCH}\\n",
            ]),
    );
    let mut listed: Vec<String> = listed.lines().map(str::to_owned).collect();
    listed.sort();
    assert_eq!(listed, rpm_expected());

    let sqlite = dbpath.join("rpmdb.sqlite");
    if !sqlite.exists() {
        eprintln!("SKIPPED rpm_real_database: this rpm's default backend is not sqlite");
        return;
    }
    let db = fs_err::read(&sqlite).unwrap();
    let out = run("rpm-db", "var/lib/rpm/rpmdb.sqlite", 0o644, &db).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(rpm_summary(&out), listed);
    check_vouchtest(&out, "/var/lib/rpm/rpmdb.sqlite");

    // The same headers in a Berkeley DB hash file, when db5.3_load and sqlite3 are here.
    if !have(
        "db5.3_load",
        &["-V"],
        "rpm_real_database (Berkeley DB part)",
    ) || !have(
        "sqlite3",
        &["--version"],
        "rpm_real_database (Berkeley DB part)",
    ) {
        return;
    }
    let rows = run_ok(
        Command::new("sqlite3")
            .arg(&sqlite)
            .arg("select hnum, hex(blob) from Packages"),
    );
    let mut dump =
        String::from("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n");
    for row in rows.lines() {
        let (hnum, hex) = row.split_once('|').unwrap();
        let key: u32 = hnum.parse().unwrap();
        let key_hex: String = key
            .to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        dump.push_str(&format!(" {key_hex}\n {}\n", hex.to_ascii_lowercase()));
    }
    dump.push_str("DATA=END\n");
    write(&d.join("dump.txt"), &dump);
    run_ok(
        Command::new("db5.3_load")
            .current_dir(d)
            .args(["-f", "dump.txt", "Packages"]),
    );
    let db = fs_err::read(d.join("Packages")).unwrap();
    let out = run("rpm-db", "var/lib/rpm/Packages", 0o644, &db).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(rpm_summary(&out), listed);
}

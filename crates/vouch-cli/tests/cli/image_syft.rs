//! `vouch sbom IMAGE` side by side with syft 1.18.1 on the same images, in the same run: the
//! debootstrap Debian image (OS packages) and a small image built here with one record of every
//! language ecosystem the image catalogers read. The expected values are syft's, never vouch's;
//! every difference is named in an allowlist below with the reason for it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vouch_image::layout::{self, Image, Layer};
use vouch_oci::model::Platform;

use crate::{repo, run, vouch};

/// The syft release the allowlists below were written against.
const SYFT_VERSION: &str = "1.18.1";
/// How long one syft run may take before the test fails.
const SYFT_TIMEOUT: Duration = Duration::from_secs(300);

#[test]
fn debian_os_packages_match_syft() {
    let image = repo().join("target/test-images/debian-bookworm");
    if !image.join("index.json").is_file() {
        eprintln!(
            "SKIPPED: {} missing; run scripts/build-test-images.sh",
            image.display()
        );
        return;
    }
    let Some(syft) = syft() else { return };
    let work = tempfile::tempdir().unwrap();

    let theirs = purls_of_syft(&run_syft(&syft, &image, work.path()));
    let ours = purls_of_vouch(&run_vouch(
        &format!("oci:{}:bookworm", image.display()),
        work.path(),
    ));

    let debs = |purls: &[Purl]| -> BTreeSet<(String, String, String)> {
        purls
            .iter()
            .filter(|p| p.kind == "deb")
            .map(|p| {
                (
                    p.name.clone(),
                    p.full_version(),
                    p.qualifier("arch").to_owned(),
                )
            })
            .collect()
    };
    let (theirs_debs, ours_debs) = (debs(&theirs), debs(&ours));
    // A debootstrap minbase root filesystem has about 90 packages; far fewer means one side
    // read nothing and the comparison below would prove little.
    assert!(
        theirs_debs.len() > 50,
        "syft found {} deb packages",
        theirs_debs.len()
    );

    // Differences allowed, with their reason: none. Both read the same `/var/lib/dpkg/status`,
    // and name, version (with epoch) and architecture are fields of it that neither derives.
    let allowed_only_syft: BTreeSet<(String, String, String)> = BTreeSet::new();
    let allowed_only_vouch: BTreeSet<(String, String, String)> = BTreeSet::new();
    let only_syft: BTreeSet<_> = theirs_debs.difference(&ours_debs).cloned().collect();
    let only_vouch: BTreeSet<_> = ours_debs.difference(&theirs_debs).cloned().collect();
    assert_eq!(
        only_syft, allowed_only_syft,
        "deb packages syft finds and vouch does not"
    );
    assert_eq!(
        only_vouch, allowed_only_vouch,
        "deb packages vouch finds and syft does not"
    );

    // The distro qualifier (`debian-12`, from `/etc/os-release`) is the same on every purl.
    let distros = |purls: &[Purl]| -> BTreeSet<String> {
        purls
            .iter()
            .filter(|p| p.kind == "deb")
            .map(|p| p.qualifier("distro").to_owned())
            .collect()
    };
    assert_eq!(distros(&theirs), BTreeSet::from(["debian-12".to_owned()]));
    assert_eq!(distros(&ours), distros(&theirs));
    // The namespace is the distribution's ID.
    assert!(
        ours.iter()
            .filter(|p| p.kind == "deb")
            .all(|p| p.namespace == "debian")
    );
}

#[test]
fn language_packages_include_everything_syft_finds() {
    let Some(syft) = syft() else { return };
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("image");
    layout::write(
        &image,
        &Image {
            platform: Platform::parse("linux/amd64").unwrap(),
            layers: vec![
                Layer::gzip(&tar(&base_layer())).unwrap(),
                Layer::plain(tar(&app_layer())),
            ],
        },
        Some("latest"),
    )
    .unwrap();

    let theirs = language_keys(&purls_of_syft(&run_syft(&syft, &image, work.path())));
    let ours = language_keys(&purls_of_vouch(&run_vouch(
        &format!("oci:{}:latest", image.display()),
        work.path(),
    )));
    // Guards against a syft that read nothing (the set below is what its image catalogers,
    // plus the two declared-file ones selected in `run_syft`, report for these files).
    assert!(theirs.len() >= 8, "syft found only {theirs:?}");

    // Packages syft finds that vouch does not, with their reason:
    let allowed_only_syft: BTreeSet<Key> = BTreeSet::from([
        // The `.deps.json`'s own entry (`"type": "project"`): the application the file
        // describes, built from source in the image, not a NuGet package. syft reports it
        // with a `pkg:nuget` purl that names no package on nuget.org; vouch leaves it out.
        key("nuget", "app", "1.0.0"),
    ]);
    // Packages vouch finds that syft does not, with their reason: none. (syft lists the
    // lockfile's packages and those under `node_modules` as separate artifacts, and the
    // root `package.json` once more; as keys they collapse into one each.)
    let allowed_only_vouch: BTreeSet<Key> = BTreeSet::new();

    let only_syft: BTreeSet<Key> = theirs.difference(&ours).cloned().collect();
    let only_vouch: BTreeSet<Key> = ours.difference(&theirs).cloned().collect();
    assert_eq!(
        only_syft, allowed_only_syft,
        "packages syft finds and vouch does not"
    );
    assert_eq!(
        only_vouch, allowed_only_vouch,
        "packages vouch finds and syft does not"
    );
}

/// An OS layer: Debian's identity and one dpkg record, gzip-compressed as most bases are.
fn base_layer() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "etc/os-release",
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
              VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n"
                .to_vec(),
        ),
        (
            "var/lib/dpkg/status",
            b"Package: libc6\nStatus: install ok installed\nPriority: optional\n\
              Architecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u9\n\
              Description: GNU C Library\n shared libraries\n\n"
                .to_vec(),
        ),
    ]
}

/// An application layer with one installed-package record of each language ecosystem.
fn app_layer() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        // Python: a wheel's metadata, under a non-normalised distribution name.
        (
            "usr/lib/python3/dist-packages/Requests_OAuthlib-1.3.1.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: Requests_OAuthlib\nVersion: 1.3.1\n\n".to_vec(),
        ),
        (
            "usr/lib/python3/dist-packages/Requests_OAuthlib-1.3.1.dist-info/RECORD",
            Vec::new(),
        ),
        // npm: the application, two installed packages (one scoped), and its lockfile.
        (
            "app/package.json",
            br#"{"name":"app","version":"0.1.0","dependencies":{"left-pad":"^1.3.0","@scope/pkg":"2.0.0"}}"#
                .to_vec(),
        ),
        (
            "app/node_modules/left-pad/package.json",
            br#"{"name":"left-pad","version":"1.3.0"}"#.to_vec(),
        ),
        (
            "app/node_modules/@scope/pkg/package.json",
            br#"{"name":"@scope/pkg","version":"2.0.0"}"#.to_vec(),
        ),
        (
            "app/package-lock.json",
            br#"{"name":"app","version":"0.1.0","lockfileVersion":3,"packages":{
                "":{"name":"app","version":"0.1.0"},
                "node_modules/left-pad":{"version":"1.3.0",
                  "resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"},
                "node_modules/@scope/pkg":{"version":"2.0.0"}}}"#
                .to_vec(),
        ),
        // Composer.
        (
            "srv/www/vendor/composer/installed.json",
            br#"{"packages":[{"name":"monolog/monolog","version":"3.5.0","type":"library"}]}"#
                .to_vec(),
        ),
        // RubyGems.
        (
            "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec",
            b"# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  \
              s.version = \"13.0.6\"\nend\n"
                .to_vec(),
        ),
        // .NET.
        (
            "opt/dotnet-app/app.deps.json",
            br#"{"runtimeTarget":{"name":".NETCoreApp,Version=v8.0"},
                "targets":{".NETCoreApp,Version=v8.0":{
                  "app/1.0.0":{"dependencies":{"Newtonsoft.Json":"13.0.3"}},
                  "Newtonsoft.Json/13.0.3":{"runtime":{"lib/net6.0/Newtonsoft.Json.dll":{}}}}},
                "libraries":{
                  "app/1.0.0":{"type":"project","serviceable":false,"sha512":""},
                  "Newtonsoft.Json/13.0.3":{"type":"package","serviceable":true,
                    "sha512":"sha512-AAAA","path":"newtonsoft.json/13.0.3",
                    "hashPath":"newtonsoft.json.13.0.3.nupkg.sha512"}}}"#
                .to_vec(),
        ),
        // Maven: a jar with its `pom.properties`.
        ("opt/lib/guava-32.1.3-jre.jar", jar()),
    ]
}

fn jar() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("META-INF/MANIFEST.MF", options).unwrap();
    zip.write_all(b"Manifest-Version: 1.0\r\n\r\n").unwrap();
    zip.start_file(
        "META-INF/maven/com.google.guava/guava/pom.properties",
        options,
    )
    .unwrap();
    zip.write_all(b"groupId=com.google.guava\nartifactId=guava\nversion=32.1.3-jre\n")
        .unwrap();
    zip.finish().unwrap().into_inner()
}

fn tar(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, content.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

// --- running the two tools -----------------------------------------------------------------

/// syft 1.18.1: `VOUCH_SYFT`, else the test tools' venv, else the repository's `.venv`.
fn syft() -> Option<PathBuf> {
    let found = std::env::var_os("VOUCH_SYFT")
        .map(PathBuf::from)
        .or_else(|| {
            [
                repo().join("target/test-tools/venv/bin/syft"),
                repo().join(".venv/bin/syft"),
            ]
            .into_iter()
            .find(|p| p.is_file())
        });
    let Some(syft) = found else {
        eprintln!("SKIPPED: syft {SYFT_VERSION} not installed (scripts/install-test-tools.sh)");
        return None;
    };
    let out = Command::new(&syft)
        .arg("version")
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output();
    let version = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version
        .lines()
        .any(|l| l.starts_with("Version:") && l.ends_with(SYFT_VERSION))
    {
        // The allowlists are specific to one syft release.
        eprintln!(
            "SKIPPED: {} is not syft {SYFT_VERSION}: {version}",
            syft.display()
        );
        return None;
    }
    Some(syft)
}

/// syft's JSON document of the OCI layout at `image`. Besides its image catalogers, syft is
/// asked for the two declared-file ones that read files vouch reads in images too
/// (`package-lock.json`, `.deps.json`); by default syft skips those in an image.
fn run_syft(syft: &Path, image: &Path, work: &Path) -> Value {
    let file = work.join("syft.json");
    let mut child = Command::new(syft)
        .arg("scan")
        .arg(format!("oci-dir:{}", image.display()))
        .arg("-o")
        .arg(format!("syft-json={}", file.display()))
        .args([
            "-q",
            "--select-catalogers",
            "+javascript-lock-cataloger,+dotnet-deps-cataloger",
        ])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .env("TMPDIR", work)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("syft starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > SYFT_TIMEOUT {
            child.kill().unwrap();
            panic!("syft did not finish within {SYFT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr).unwrap();
    }
    assert!(status.success(), "syft failed: {stderr}");
    serde_json::from_slice(&fs_err::read(&file).unwrap()).unwrap()
}

fn run_vouch(reference: &str, work: &Path) -> Value {
    let file = work.join("vouch.cdx.json");
    let out = run(vouch()
        .args([
            "sbom",
            reference,
            "--format",
            "cyclonedx-json",
            "--no-layer-cache",
            "--platform",
            "linux/amd64",
            "-o",
        ])
        .arg(&file));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&fs_err::read(&file).unwrap()).unwrap()
}

fn purls_of_syft(doc: &Value) -> Vec<Purl> {
    doc["artifacts"]
        .as_array()
        .expect("syft JSON has `artifacts`")
        .iter()
        .filter_map(|a| a["purl"].as_str())
        .filter(|p| !p.is_empty())
        .map(Purl::parse)
        .collect()
}

/// Every purl of the CycloneDX document, nested components included, the image itself not.
fn purls_of_vouch(doc: &Value) -> Vec<Purl> {
    fn walk(components: &Value, out: &mut Vec<Purl>) {
        for c in components.as_array().into_iter().flatten() {
            if let Some(p) = c["purl"].as_str() {
                out.push(Purl::parse(p));
            }
            walk(&c["components"], out);
        }
    }
    let mut out = Vec::new();
    walk(&doc["components"], &mut out);
    out.retain(|p| p.kind != "oci" && p.kind != "docker");
    out
}

// --- comparing -----------------------------------------------------------------------------

/// A language package as both tools must agree on it: purl type, namespace/name, version.
type Key = (String, String, String);

fn key(kind: &str, name: &str, version: &str) -> Key {
    (kind.to_owned(), name.to_owned(), version.to_owned())
}

const OS_TYPES: &[&str] = &["deb", "apk", "rpm"];

fn language_keys(purls: &[Purl]) -> BTreeSet<Key> {
    purls
        .iter()
        .filter(|p| !OS_TYPES.contains(&p.kind.as_str()))
        .map(|p| {
            let name = if p.namespace.is_empty() {
                p.name.clone()
            } else {
                format!("{}/{}", p.namespace, p.name)
            };
            (p.kind.clone(), normalise(&p.kind, &name), p.version.clone())
        })
        .collect()
}

/// The name comparison each ecosystem's registry makes: PyPI per PEP 503, NuGet and Composer
/// case-insensitively.
fn normalise(kind: &str, name: &str) -> String {
    match kind {
        "pypi" => {
            let lower = name.to_ascii_lowercase().replace(['_', '.'], "-");
            let mut out = String::new();
            for c in lower.chars() {
                if !(c == '-' && out.ends_with('-')) {
                    out.push(c);
                }
            }
            out
        }
        "nuget" | "composer" => name.to_ascii_lowercase(),
        _ => name.to_owned(),
    }
}

/// A package URL, parsed here independently of vouch's own parser:
/// `pkg:type/namespace/name@version?qualifiers#subpath`, components percent-decoded.
#[derive(Debug)]
struct Purl {
    kind: String,
    namespace: String,
    name: String,
    version: String,
    qualifiers: BTreeMap<String, String>,
}

impl Purl {
    fn parse(text: &str) -> Purl {
        let rest = text
            .strip_prefix("pkg:")
            .unwrap_or_else(|| panic!("not a purl: {text}"));
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (rest, qualifiers) = rest.split_once('?').unwrap_or((rest, ""));
        let (path, version) = rest.rsplit_once('@').unwrap_or((rest, ""));
        let (kind, path) = path
            .split_once('/')
            .unwrap_or_else(|| panic!("no name: {text}"));
        let (namespace, name) = path.rsplit_once('/').unwrap_or(("", path));
        Purl {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace
                .split('/')
                .map(decode)
                .collect::<Vec<_>>()
                .join("/"),
            name: decode(name),
            version: decode(version),
            qualifiers: qualifiers
                .split('&')
                .filter(|q| !q.is_empty())
                .map(|q| {
                    let (k, v) = q.split_once('=').unwrap_or((q, ""));
                    (k.to_ascii_lowercase(), decode(v))
                })
                .collect(),
        }
    }

    fn qualifier(&self, key: &str) -> &str {
        self.qualifiers.get(key).map_or("", String::as_str)
    }

    /// The version with its epoch, whether the epoch is written in the version (`1:2.3`) or,
    /// as the purl specification prefers, in an `epoch` qualifier.
    fn full_version(&self) -> String {
        match self.qualifiers.get("epoch") {
            Some(epoch) if !self.version.contains(':') => format!("{epoch}:{}", self.version),
            _ => self.version.clone(),
        }
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn purl_parsing_decodes_and_sorts_nothing_away() {
    let p = Purl::parse(
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&upstream=glibc&distro=debian-12",
    );
    assert_eq!(
        (p.kind.as_str(), p.namespace.as_str(), p.name.as_str()),
        ("deb", "debian", "libc6")
    );
    assert_eq!(p.version, "2.36-9+deb12u9");
    assert_eq!(p.qualifier("distro"), "debian-12");
    let p = Purl::parse("pkg:npm/%40scope/pkg@2.0.0");
    assert_eq!((p.namespace.as_str(), p.name.as_str()), ("@scope", "pkg"));
    let p = Purl::parse("pkg:deb/debian/tar@1.34%2Bdfsg-1.2?epoch=1");
    assert_eq!(p.full_version(), "1:1.34+dfsg-1.2");
    assert_eq!(normalise("pypi", "Requests_OAuthlib"), "requests-oauthlib");
}

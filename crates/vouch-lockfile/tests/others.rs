//! Fixture tests for the NuGet, SwiftPM, pub, mix and Conan lockfile parsers.
//!
//! Each case under `tests/fixtures/<format>/<case>/` holds one lockfile and a README saying
//! what it checks. Expected values are written by hand from the fixture and the format's
//! documentation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;

use vouch_inventory::{Algorithm, Digest, Inventory, Kind, Package, PackageId, Scope, Source};
use vouch_lockfile::{ParseError, ParseErrorKind, parse_path};

fn fixture(format: &str, case: &str, file: &str) -> Result<Inventory, ParseError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format)
        .join(case)
        .join(file);
    assert!(path.is_file(), "missing fixture {}", path.display());
    // Shown as `<case>/<file>`, so a synthetic root is named after the case.
    parse_path(&path, &format!("{case}/{file}")).map(|(_, inv)| inv)
}

fn ok(format: &str, case: &str, file: &str) -> Inventory {
    fixture(format, case, file).unwrap_or_else(|e| panic!("{format}/{case}: {e}"))
}

fn fail(format: &str, case: &str, file: &str) -> ParseError {
    match fixture(format, case, file) {
        Ok(_) => panic!("{format}/{case} parsed, but it must fail"),
        Err(e) => e,
    }
}

/// The one package with this name and version.
fn pkg<'a>(inv: &'a Inventory, name: &str, version: &str) -> (&'a PackageId, &'a Package) {
    let found: Vec<_> = inv
        .packages()
        .filter(|(_, p)| p.name == name && p.version.as_deref() == Some(version))
        .collect();
    assert_eq!(found.len(), 1, "{name}@{version}: {found:?}");
    found[0]
}

fn purl(p: &Package) -> String {
    p.purl.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Library purls (or names where there is none), sorted.
fn libraries(inv: &Inventory) -> Vec<String> {
    let mut v: Vec<String> = inv
        .libraries()
        .map(|(_, p)| match &p.purl {
            Some(u) => u.to_string(),
            None => format!("{}@{}", p.name, p.version.as_deref().unwrap_or("")),
        })
        .collect();
    v.sort();
    v
}

/// `name@version` of what `id` depends on (`name` alone for a project without version).
fn deps(inv: &Inventory, id: &PackageId) -> BTreeSet<String> {
    inv.dependencies(id)
        .map(|d| {
            let p = inv.get(d).unwrap();
            match &p.version {
                Some(v) => format!("{}@{v}", p.name),
                None => p.name.clone(),
            }
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The root project named `name`.
fn root<'a>(inv: &'a Inventory, name: &str) -> &'a PackageId {
    inv.roots()
        .iter()
        .find(|id| inv.get(id).unwrap().name == name)
        .unwrap_or_else(|| panic!("no root `{name}` in {:?}", inv.roots()))
}

fn line(p: &Package) -> Option<u32> {
    assert_eq!(p.evidence.len(), 1, "{:?}", p.evidence);
    p.evidence.iter().next().unwrap().line
}

fn lines(p: &Package) -> Vec<Option<u32>> {
    p.evidence.iter().map(|e| e.line).collect()
}

fn sha256(hex: &str) -> Digest {
    Digest::from_hex(Algorithm::Sha256, hex).unwrap()
}

fn sha512(hex: &str) -> Digest {
    Digest::from_hex(Algorithm::Sha512, hex).unwrap()
}

// ---------------------------------------------------------------------------------------------
// NuGet packages.lock.json

#[test]
fn nuget_frameworks() {
    let inv = ok("nuget", "frameworks", "packages.lock.json");
    assert_eq!(
        libraries(&inv),
        [
            "pkg:nuget/Microsoft.Extensions.Logging@6.0.0",
            "pkg:nuget/Microsoft.Extensions.Logging@8.0.0",
            "pkg:nuget/Newtonsoft.Json@13.0.3",
            "pkg:nuget/System.Native.Helper@4.3.0",
            "pkg:nuget/runtime.native.System@4.3.0",
        ]
    );

    // Newtonsoft.Json is in both frameworks: one package, found twice, depending on the
    // Logging of each framework (net6.0 names it in lowercase).
    let (nj, p) = pkg(&inv, "Newtonsoft.Json", "13.0.3");
    assert_eq!(lines(p), [Some(5), Some(21)]);
    assert_eq!(p.direct, Some(true));
    assert_eq!(p.scope, Scope::Required);
    assert_eq!(p.source, Source::Registry { url: None });
    assert_eq!(
        p.hashes,
        [sha512(
            "80d4f0416c1403769d7de95b5fca6507ae2060d0a75d3d6e28bb3324ce62d1f14433126b21399ad09e8e37f6c326e8b8b5ef3f50814d816360e53d4d93827241"
        )]
        .into()
    );
    assert_eq!(p.properties["vouch:nuget-frameworks"], "net6.0, net8.0");
    assert_eq!(p.properties["vouch:requested"], "[13.0.3, )");
    assert_eq!(
        deps(&inv, nj),
        set(&[
            "Microsoft.Extensions.Logging@6.0.0",
            "Microsoft.Extensions.Logging@8.0.0"
        ])
    );

    let (_, l6) = pkg(&inv, "Microsoft.Extensions.Logging", "6.0.0");
    assert_eq!(line(l6), Some(14));
    assert_eq!(l6.direct, Some(false));
    assert_eq!(
        l6.hashes,
        [sha512(
            "af48a520ff67ede2465c3e96494f116cc32ac451d29b2a81a79da063792c13a49f869756fdfdf52d7ab1a7a9c63b1adfa0ab43159a7d7029142221f55c9c89f1"
        )]
        .into()
    );
    let (_, l8) = pkg(&inv, "Microsoft.Extensions.Logging", "8.0.0");
    assert_eq!(line(l8), Some(30));
    assert!(l8.hashes.is_empty());
    assert_eq!(l8.properties["vouch:integrity-malformed"], "not base64!");

    // The RID section's package resolves its dependency in `net8.0`.
    let (helper, h) = pkg(&inv, "System.Native.Helper", "4.3.0");
    assert_eq!(line(h), Some(52));
    assert_eq!(h.properties["vouch:nuget-frameworks"], "net8.0/linux-x64");
    assert_eq!(deps(&inv, helper), set(&["runtime.native.System@4.3.0"]));

    // Project references are roots; `Utils` resolves to the entry `utils`.
    let shared = root(&inv, "Shared");
    let utils = root(&inv, "utils");
    assert_eq!(inv.get(shared).unwrap().kind, Kind::Project);
    assert_eq!(line(inv.get(utils).unwrap()), Some(47));
    assert_eq!(
        deps(&inv, shared),
        set(&["utils", "Newtonsoft.Json@13.0.3"])
    );

    // The lockfile's own project: its Direct package, the top project reference, and the
    // runtime package nothing else pulls in.
    let main = root(&inv, "frameworks");
    assert_eq!(inv.roots().len(), 3);
    assert_eq!(
        deps(&inv, main),
        set(&[
            "Newtonsoft.Json@13.0.3",
            "Shared",
            "System.Native.Helper@4.3.0"
        ])
    );
}

#[test]
fn nuget_v2_central_transitive() {
    let inv = ok("nuget", "v2_central_transitive", "packages.lock.json");
    assert_eq!(
        libraries(&inv),
        [
            "pkg:nuget/Serilog@3.1.1",
            "pkg:nuget/System.Text.Json@8.0.4"
        ]
    );
    let (serilog, _) = pkg(&inv, "Serilog", "3.1.1");
    let (_, stj) = pkg(&inv, "System.Text.Json", "8.0.4");
    assert_eq!(stj.direct, Some(false));
    assert_eq!(stj.properties["vouch:nuget-type"], "CentralTransitive");
    assert_eq!(stj.properties["vouch:requested"], "[8.0.4, )");
    assert_eq!(line(stj), Some(14));
    assert_eq!(
        stj.hashes,
        [sha512(
            "ff98083a9a4f0f9938ec7a7c793186d6a8e712fe567067aa4903ebb663e336fea17665c2162d13e9aca3a787e39162dd9051f0b77624493b1079da637cc37a5f"
        )]
        .into()
    );
    assert_eq!(deps(&inv, serilog), set(&["System.Text.Json@8.0.4"]));
    let main = root(&inv, "v2_central_transitive");
    assert_eq!(deps(&inv, main), set(&["Serilog@3.1.1"]));
}

#[test]
fn nuget_failures() {
    let e = fail("nuget", "unsupported_version_fail", "packages.lock.json");
    assert!(
        matches!(&e.kind, ParseErrorKind::UnsupportedVersion { found, .. } if found == "3"),
        "{e}"
    );

    let e = fail("nuget", "missing_resolved_fail", "packages.lock.json");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, .. } if field == "resolved"),
        "{e}"
    );
    assert_eq!(e.line, Some(10));

    let e = fail("nuget", "syntax_fail", "packages.lock.json");
    assert!(
        matches!(e.kind, ParseErrorKind::Syntax { syntax: "JSON", .. }),
        "{e}"
    );
    assert_eq!(e.line, Some(8));
}

// ---------------------------------------------------------------------------------------------
// SwiftPM Package.resolved

#[test]
fn swift_v1_branch() {
    let inv = ok("swift", "v1_branch", "Package.resolved");
    let (_, ap) = pkg(&inv, "github.com/apple/swift-argument-parser", "1.0.3");
    assert_eq!(
        purl(ap),
        "pkg:swift/github.com/apple/swift-argument-parser@1.0.3"
    );
    assert_eq!(
        ap.source,
        Source::Git {
            url: "https://github.com/apple/swift-argument-parser.git".into(),
            commit: Some("e394bf350e38cb100b6bc4172834770ede1b7232".into()),
            reference: None,
        }
    );
    assert_eq!(line(ap), Some(4));

    // A branch pin has no version: the revision stands in.
    let rev = "01835dc202670b5bb90d07f3eae41867e9ed29f6";
    let (_, yams) = pkg(&inv, "github.com/jpsim/Yams", rev);
    assert_eq!(purl(yams), format!("pkg:swift/github.com/jpsim/Yams@{rev}"));
    assert_eq!(
        yams.source,
        Source::Git {
            url: "git@github.com:jpsim/Yams.git".into(),
            commit: Some(rev.into()),
            reference: Some("main".into()),
        }
    );
    assert_eq!(yams.properties["vouch:swift-identity"], "Yams");
    assert_eq!(line(yams), Some(13));

    let main = root(&inv, "v1_branch");
    assert_eq!(
        deps(&inv, main),
        set(&[
            "github.com/apple/swift-argument-parser@1.0.3",
            &format!("github.com/jpsim/Yams@{rev}"),
        ])
    );
    assert_eq!(inv.len(), 3);
}

#[test]
fn swift_v2_kinds() {
    let inv = ok("swift", "v2_kinds", "Package.resolved");
    let (_, nio) = pkg(&inv, "github.com/apple/swift-nio", "2.54.0");
    assert_eq!(purl(nio), "pkg:swift/github.com/apple/swift-nio@2.54.0");
    assert_eq!(line(nio), Some(3));

    let (_, local) = pkg(&inv, "localkit", "0.2.0");
    assert_eq!(local.purl, None);
    assert_eq!(local.kind, Kind::Library);
    assert_eq!(
        local.source,
        Source::Git {
            url: "/Users/dev/src/LocalKit".into(),
            commit: Some("c0ffee0000000000000000000000000000000001".into()),
            reference: None,
        }
    );
    assert_eq!(local.properties["vouch:swift-kind"], "localSourceControl");
    assert_eq!(line(local), Some(12));

    let (_, reg) = pkg(&inv, "mona/linkedlist", "1.1.0");
    assert_eq!(purl(reg), "pkg:swift/mona/linkedlist@1.1.0");
    assert_eq!(reg.source, Source::Registry { url: None });
    assert_eq!(line(reg), Some(21));

    let main = root(&inv, "v2_kinds");
    assert_eq!(inv.dependencies(main).count(), 3);
}

#[test]
fn swift_v3_origin_hash() {
    let inv = ok("swift", "v3_origin_hash", "Package.resolved");
    let main = root(&inv, "v3_origin_hash");
    assert_eq!(
        inv.get(main).unwrap().properties["vouch:swift-origin-hash"],
        "4f8c2a1e0b9d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988"
    );
    let (_, log) = pkg(&inv, "github.com/apple/swift-log", "1.6.2");
    assert_eq!(line(log), Some(4));
    let rev = "3d2dc41a01f9e49d84f0a3925fb858bed64f702d";
    let (_, coll) = pkg(&inv, "github.com/apple/swift-collections", rev);
    assert_eq!(
        coll.source,
        Source::Git {
            url: "https://github.com/apple/swift-collections.git".into(),
            commit: Some(rev.into()),
            reference: Some("release/1.1".into()),
        }
    );
    assert_eq!(line(coll), Some(13));
    assert_eq!(
        libraries(&inv),
        [
            format!("pkg:swift/github.com/apple/swift-collections@{rev}"),
            "pkg:swift/github.com/apple/swift-log@1.6.2".to_owned(),
        ]
    );
}

#[test]
fn swift_failures() {
    let e = fail("swift", "unsupported_version_fail", "Package.resolved");
    assert!(
        matches!(&e.kind, ParseErrorKind::UnsupportedVersion { found, .. } if found == "4"),
        "{e}"
    );

    let e = fail("swift", "no_version_fail", "Package.resolved");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, .. } if field == "state.version"),
        "{e}"
    );
    assert_eq!(e.line, Some(11));

    let e = fail("swift", "unknown_kind_fail", "Package.resolved");
    assert!(
        matches!(&e.kind, ParseErrorKind::InvalidField { field, found, .. } if field == "kind" && found == "fileSystem"),
        "{e}"
    );
    assert_eq!(e.line, Some(3));
}

// ---------------------------------------------------------------------------------------------
// pubspec.lock

#[test]
fn pubspec_sources() {
    let inv = ok("pubspec", "sources", "pubspec.lock");
    let main = root(&inv, "sources");
    let root_pkg = inv.get(main).unwrap();
    assert_eq!(root_pkg.properties["vouch:sdk-dart"], ">=3.4.0 <4.0.0");
    assert_eq!(root_pkg.properties["vouch:sdk-flutter"], ">=3.22.0");

    let (_, coll) = pkg(&inv, "collection", "1.18.0");
    assert_eq!(purl(coll), "pkg:pub/collection@1.18.0");
    assert_eq!(coll.direct, Some(true));
    assert_eq!(coll.scope, Scope::Required);
    assert_eq!(
        coll.source,
        Source::Registry {
            url: Some("https://pub.dev".into())
        }
    );
    assert_eq!(
        coll.hashes,
        [sha256(
            "fd0bfa10f852e7d0c6216ddc36cd9ee68bd6d6cd88a6f40cc96f924fb6f779f0"
        )]
        .into()
    );
    assert_eq!(line(coll), Some(4));

    let (_, flutter) = pkg(&inv, "flutter", "0.0.0");
    assert_eq!(purl(flutter), "pkg:pub/flutter@0.0.0");
    assert_eq!(flutter.properties["vouch:sdk"], "flutter");
    assert_eq!(flutter.source, Source::Unknown);
    assert_eq!(line(flutter), Some(12));

    let (_, internal) = pkg(&inv, "internal_utils", "2.1.0+3");
    let q = internal.purl.as_ref().unwrap();
    assert_eq!((q.name(), q.version()), ("internal_utils", Some("2.1.0+3")));
    assert_eq!(
        q.qualifiers().get("repository_url").map(String::as_str),
        Some("https://dart.example.com/api/")
    );
    assert_eq!(internal.direct, Some(false));
    assert_eq!(
        internal.hashes,
        [sha256(
            "a190eaa6bf851e4f61b9a44bebd4373a64cd0fc6b2ea7408feca3e289d390513"
        )]
        .into()
    );
    assert_eq!(line(internal), Some(17));

    // A path package is local code: a project, not a library.
    let local = root(&inv, "local_plugin");
    let local_pkg = inv.get(local).unwrap();
    assert_eq!(local_pkg.kind, Kind::Project);
    assert_eq!(
        local_pkg.source,
        Source::Path {
            path: "packages/local_plugin".into()
        }
    );
    assert_eq!(line(local_pkg), Some(25));

    let (_, old) = pkg(&inv, "old_hosted", "0.9.0");
    assert_eq!(purl(old), "pkg:pub/old_hosted@0.9.0");
    assert!(old.hashes.is_empty());
    assert_eq!(old.properties["vouch:integrity-malformed"], "zz-not-hex");

    let (_, fork) = pkg(&inv, "plugin_fork", "0.3.0");
    let commit = "58748dae405df5e68a131e4905d48e75d0624be2";
    assert_eq!(
        fork.source,
        Source::Git {
            url: "https://github.com/example/flutter-plugins.git".into(),
            commit: Some(commit.into()),
            reference: Some("main".into()),
        }
    );
    assert_eq!(
        fork.purl
            .as_ref()
            .unwrap()
            .qualifiers()
            .get("vcs_url")
            .map(String::as_str),
        Some(format!("git+https://github.com/example/flutter-plugins.git@{commit}").as_str())
    );
    assert_eq!(fork.properties["vouch:git-path"], "packages/plugin_fork");
    assert_eq!(fork.direct, Some(true));
    assert_eq!(line(fork), Some(40));

    let (_, test) = pkg(&inv, "test", "1.25.2");
    assert_eq!(test.scope, Scope::Dev);
    assert_eq!(test.direct, Some(true));
    assert!(test.hashes.is_empty());
    assert_eq!(line(test), Some(49));

    assert_eq!(inv.libraries().count(), 6);
    assert_eq!(
        deps(&inv, main),
        set(&[
            "collection@1.18.0",
            "flutter@0.0.0",
            "internal_utils@2.1.0+3",
            "local_plugin@0.0.1",
            "old_hosted@0.9.0",
            "plugin_fork@0.3.0",
            "test@1.25.2",
        ])
    );
}

#[test]
fn pubspec_failures() {
    let e = fail("pubspec", "missing_version_fail", "pubspec.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, .. } if field == "version"),
        "{e}"
    );
    assert_eq!(e.line, Some(9));

    let e = fail("pubspec", "bad_dependency_fail", "pubspec.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::InvalidField { field, found, .. } if field == "dependency" && found == "indirect"),
        "{e}"
    );
    assert_eq!(e.line, Some(2));

    let e = fail("pubspec", "syntax_fail", "pubspec.lock");
    assert!(
        matches!(e.kind, ParseErrorKind::Syntax { syntax: "YAML", .. }),
        "{e}"
    );
    assert!(e.line.is_some(), "{e}");
}

// ---------------------------------------------------------------------------------------------
// mix.lock

#[test]
fn mix_hex_and_git() {
    let inv = ok("mix", "hex_and_git", "mix.lock");
    let commit = "4b1e3c2d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";

    let (_, acme) = pkg(&inv, "acme/acme_auth", "0.4.0");
    assert_eq!(purl(acme), "pkg:hex/acme/acme_auth@0.4.0");
    assert_eq!(
        acme.source,
        Source::Registry {
            url: Some("https://repo.hex.pm".into())
        }
    );
    assert_eq!(acme.properties["vouch:hex-repo"], "hexpm:acme");
    assert_eq!(
        acme.hashes,
        [sha256(
            "a1ac7d2973baa136fad74f49fbfae81daf5c7670473045d97669fd607acc8a3e"
        )]
        .into()
    );
    assert_eq!(line(acme), Some(2));

    let (_, decimal) = pkg(&inv, "decimal", "2.1.1");
    assert_eq!(purl(decimal), "pkg:hex/decimal@2.1.1");
    assert_eq!(
        decimal.hashes,
        [sha256(
            "bf056295c44e835d6e9aea1ec1618e1efdc4572c39a0e84e1a459313b3755f3e"
        )]
        .into()
    );
    // The inner checksum hashes the contents, not the tarball: a property, not a hash.
    assert_eq!(
        decimal.properties["vouch:hex-inner-checksum"],
        "c32cff85f8413321e9ef5d2a4b165e6c5102f73bc7b35f7a6be72c1237bbaccd"
    );
    assert_eq!(decimal.scope, Scope::Required);
    assert_eq!(decimal.properties["vouch:optional-for"], "jason");
    assert_eq!(line(decimal), Some(3));

    let (ecto_id, ecto) = pkg(&inv, "ecto", "3.11.2");
    assert!(ecto.hashes.is_empty());
    assert_eq!(
        ecto.properties["vouch:integrity-malformed"],
        "not-a-checksum"
    );
    // `poison` is optional and not locked: no edge.
    assert_eq!(deps(&inv, ecto_id), set(&["decimal@2.1.1", "jason@1.2.2"]));
    assert_eq!(line(ecto), Some(4));

    // A 6-tuple: an inner checksum only, no hash.
    let (jason_id, jason) = pkg(&inv, "jason", "1.2.2");
    assert!(jason.hashes.is_empty());
    assert_eq!(jason.scope, Scope::Required);
    assert_eq!(jason.properties["vouch:optional-for"], "ecto");
    assert_eq!(deps(&inv, jason_id), set(&["decimal@2.1.1"]));

    let (_, fork) = pkg(&inv, "my_fork", commit);
    assert_eq!(
        fork.source,
        Source::Git {
            url: "https://github.com/example/my_fork.git".into(),
            commit: Some(commit.into()),
            reference: Some("fix/\"quoted\"".into()),
        }
    );
    assert_eq!(
        fork.purl
            .as_ref()
            .unwrap()
            .qualifiers()
            .get("vcs_url")
            .map(String::as_str),
        Some(format!("git+https://github.com/example/my_fork.git@{commit}").as_str())
    );
    assert_eq!(line(fork), Some(6));

    let (_, old) = pkg(&inv, "old", "0.1.0");
    assert_eq!(purl(old), "pkg:hex/old@0.1.0");
    assert!(old.hashes.is_empty());
    assert_eq!(line(old), Some(7));

    // The app `uuid` is the Hex package `uuid_erl`.
    let (_, uuid) = pkg(&inv, "uuid_erl", "2.0.7");
    assert_eq!(purl(uuid), "pkg:hex/uuid_erl@2.0.7");
    assert_eq!(uuid.properties["vouch:mix-app"], "uuid");
    assert_eq!(uuid.properties["vouch:hex-build-tools"], "rebar3");
    assert_eq!(line(uuid), Some(8));

    assert_eq!(inv.libraries().count(), 7);
    let main = root(&inv, "hex_and_git");
    assert_eq!(
        deps(&inv, main),
        set(&[
            "acme/acme_auth@0.4.0",
            "ecto@3.11.2",
            &format!("my_fork@{commit}"),
            "old@0.1.0",
            "uuid_erl@2.0.7",
        ])
    );
    assert!(!deps(&inv, main).contains("decimal@2.1.1"));
}

#[test]
fn mix_failures() {
    let e = fail("mix", "unterminated_fail", "mix.lock");
    assert!(matches!(e.kind, ParseErrorKind::Syntax { .. }), "{e}");
    assert_eq!((e.line, e.column), (Some(3), Some(27)));

    let e = fail("mix", "not_a_tuple_fail", "mix.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::InvalidField { field, found, .. } if field == "jason" && found == "a list"),
        "{e}"
    );
    assert_eq!(e.line, Some(3));

    let e = fail("mix", "missing_version_fail", "mix.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, .. } if field == "version"),
        "{e}"
    );
    assert_eq!(e.line, Some(2));
}

// ---------------------------------------------------------------------------------------------
// conan.lock

#[test]
fn conan_v2() {
    let inv = ok("conan", "v2", "conan.lock");
    assert_eq!(
        libraries(&inv),
        [
            "pkg:conan/cmake@3.27.9?rrev=a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
            "pkg:conan/cmake@3.28.1?rrev=b37d1a7a3c4e5f6a7b8c9d0e1f2a3b4c",
            "pkg:conan/fmt@10.2.1",
            "pkg:conan/mylib@2.0?channel=stable&rrev=0123456789abcdef0123456789abcdef&user=acme",
            "pkg:conan/openssl@3.2.1?rrev=5a1e8a5b4a8f7f8e8b4c1d2e3f4a5b6c",
            "pkg:conan/pyreq@1.0?rrev=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "pkg:conan/zlib@1.3.1?rrev=f52e03ae3d251dec704634230cd806a2",
        ]
    );
    let (_, zlib) = pkg(&inv, "zlib", "1.3.1");
    // Required and build-required: found twice, required wins.
    assert_eq!(zlib.scope, Scope::Required);
    assert_eq!(lines(zlib), [Some(4), Some(12)]);
    assert_eq!(
        zlib.properties["vouch:conan-revision-time"],
        "1708593606.497"
    );
    assert_eq!(zlib.source, Source::Registry { url: None });

    let (_, mylib) = pkg(&inv, "mylib", "2.0");
    assert_eq!(mylib.scope, Scope::Required);
    assert_eq!(line(mylib), Some(6));

    let (_, cmake) = pkg(&inv, "cmake", "3.27.9");
    assert_eq!(cmake.scope, Scope::Dev);
    assert_eq!(line(cmake), Some(11));
    let (_, pyreq) = pkg(&inv, "pyreq", "1.0");
    assert_eq!(pyreq.scope, Scope::Dev);
    assert_eq!(
        pyreq.properties["vouch:conan-requirement"],
        "python_requires"
    );
    assert_eq!(line(pyreq), Some(15));

    let main = root(&inv, "v2");
    assert_eq!(inv.dependencies(main).count(), 7);
}

#[test]
fn conan_v1_graph() {
    let inv = ok("conan", "v1_graph", "conan.lock");
    let app = root(&inv, "app");
    let app_pkg = inv.get(app).unwrap();
    assert_eq!(app_pkg.version.as_deref(), Some("1.0"));
    assert_eq!(app_pkg.properties["vouch:conan-path"], "../conanfile.py");
    assert_eq!(line(app_pkg), Some(4));
    assert_eq!(inv.roots().len(), 1);

    assert_eq!(
        deps(&inv, app),
        set(&[
            "libcurl@8.6.0",
            "zlib@1.2.13",
            "cmake@3.25.3",
            "pyhelpers@0.3"
        ])
    );
    let (curl_id, curl) = pkg(&inv, "libcurl", "8.6.0");
    assert_eq!(
        purl(curl),
        "pkg:conan/libcurl@8.6.0?rrev=ab12cd34ef56ab12cd34ef56ab12cd34"
    );
    assert_eq!(curl.scope, Scope::Required);
    assert_eq!(
        curl.properties["vouch:conan-prev"],
        "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
    );
    assert_eq!(
        curl.properties["vouch:conan-package-id"],
        "4024617540c4f240a6a5e8911b0de9ef38a11a72"
    );
    assert_eq!(line(curl), Some(20));
    assert_eq!(deps(&inv, curl_id), set(&["zlib@1.2.13"]));

    let (_, zlib) = pkg(&inv, "zlib", "1.2.13");
    assert_eq!(zlib.scope, Scope::Required);
    assert_eq!(line(zlib), Some(30));

    let (cmake_id, cmake) = pkg(&inv, "cmake", "3.25.3");
    assert_eq!(cmake.scope, Scope::Dev);
    assert_eq!(line(cmake), Some(37));
    assert_eq!(deps(&inv, cmake_id), set(&["openssl@1.1.1w"]));
    let (_, openssl) = pkg(&inv, "openssl", "1.1.1w");
    assert_eq!(openssl.scope, Scope::Dev);
    assert_eq!(line(openssl), Some(46));

    let (_, py) = pkg(&inv, "pyhelpers", "0.3");
    assert_eq!(
        purl(py),
        "pkg:conan/pyhelpers@0.3?channel=stable&rrev=d41d8cd98f00b204e9800998ecf8427e&user=corp"
    );
    assert_eq!(py.scope, Scope::Dev);
    assert_eq!(line(py), Some(15));
    assert_eq!(inv.libraries().count(), 5);
}

#[test]
fn conan_failures() {
    let e = fail("conan", "unsupported_version_fail", "conan.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::UnsupportedVersion { found, .. } if found == "0.2"),
        "{e}"
    );

    let e = fail("conan", "bad_reference_fail", "conan.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::InvalidField { field, found, .. } if field == "reference" && found == "openssl"),
        "{e}"
    );
    assert_eq!(e.line, Some(5));

    let e = fail("conan", "v1_missing_ref_fail", "conan.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, .. } if field == "ref"),
        "{e}"
    );
    assert_eq!(e.line, Some(8));
}

// ---------------------------------------------------------------------------------------------
// Robustness: truncated and mangled inputs never panic.

#[test]
fn truncated_inputs_error_without_panicking() {
    use vouch_lockfile::{Format, parse_bytes};
    let cases = [
        (Format::NugetLock, "nuget/frameworks/packages.lock.json"),
        (Format::PackageResolved, "swift/v2_kinds/Package.resolved"),
        (Format::PubspecLock, "pubspec/sources/pubspec.lock"),
        (Format::MixLock, "mix/hex_and_git/mix.lock"),
        (Format::ConanLock, "conan/v1_graph/conan.lock"),
    ];
    for (format, rel) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel);
        let bytes = std::fs::read(&path).unwrap();
        for cut in (0..bytes.len()).step_by(7) {
            let _ = parse_bytes(format, rel, &bytes[..cut]);
        }
    }
}

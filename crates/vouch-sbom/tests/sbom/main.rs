//! Encoders judged by the official schemas, determinism, cross-format agreement, and `check`
//! tamper tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod check;
mod encode;
mod props;

use std::path::PathBuf;

use vouch_digest::{Algorithm, Digest};
use vouch_inventory::{Ecosystem, Inventory, Package, PackageId, PackageUrl, Scope, Source};
use vouch_sbom::{CdxVersion, Options, SbomFormat, Subject};

/// The official schemas: `$VOUCH_SHARED_DIR/schemas`, else `shared/schemas` beside the checkout.
/// `None` (after a loud `SKIPPED:` line) when neither exists.
pub fn schema_dir(test: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("VOUCH_SHARED_DIR").map(|d| PathBuf::from(d).join("schemas")),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("cyclonedx/bom-1.6.schema.json").is_file());
    if found.is_none() {
        eprintln!(
            "SKIPPED: {test}: official schemas not found (set VOUCH_SHARED_DIR to the directory \
             holding schemas/)"
        );
    }
    found
}

/// Every format the encoder writes.
pub const ALL_FORMATS: [SbomFormat; 4] = [
    SbomFormat::CycloneDxJson(CdxVersion::V1_6),
    SbomFormat::CycloneDxJson(CdxVersion::V1_5),
    SbomFormat::SpdxJson,
    SbomFormat::Spdx3Json,
];

/// Fixed options: a known time, a content-derived serial.
pub fn options() -> Options {
    Options {
        created: 1_700_000_000,
        serial: None,
        tool_name: "vouch".into(),
        tool_version: "0.1.0".into(),
    }
}

/// A subject whose name needs sanitising in URLs.
pub fn subject() -> Subject {
    Subject {
        name: "demo checkout".into(),
        version: Some("1.2.3".into()),
    }
}

fn purl(s: &str) -> Option<PackageUrl> {
    Some(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
}

fn digest(alg: Algorithm, byte: u8) -> Digest {
    Digest::from_bytes(alg, &vec![byte; alg.output_len()]).unwrap()
}

fn lib(eco: Ecosystem, name: &str, version: &str, p: &str) -> Package {
    Package {
        purl: purl(p),
        ..Package::new(eco, name).version(version)
    }
}

/// Several ecosystems, a scoped npm package, git, path and URL sources, dev and optional
/// scopes, one name at two versions, hashes of every algorithm, SPDX and non-SPDX licences.
pub fn inventory() -> Inventory {
    let mut inv = Inventory::new();
    let app = inv.add_root(
        Package::new(Ecosystem::Cargo, "app")
            .version("0.1.0")
            .found_in("Cargo.lock", None),
    );
    let web = inv.add_root(
        Package::new(Ecosystem::Npm, "web")
            .version("2.0.0")
            .found_in("web/package-lock.json", Some(1)),
    );

    let mut serde = lib(
        Ecosystem::Cargo,
        "serde",
        "1.0.200",
        "pkg:cargo/serde@1.0.200",
    )
    .found_in("Cargo.lock", Some(12));
    serde.source = Source::Registry {
        url: Some("registry+https://github.com/rust-lang/crates.io-index".into()),
    };
    serde.hashes.insert(digest(Algorithm::Sha256, 1));
    serde.licenses.insert("MIT OR Apache-2.0".into());
    serde
        .properties
        .insert("vouch:checksum-source".into(), "Cargo.lock".into());
    let serde = inv.add(serde);

    let mut rand8 = lib(Ecosystem::Cargo, "rand", "0.8.5", "pkg:cargo/rand@0.8.5")
        .found_in("Cargo.lock", Some(30));
    rand8.source = Source::Registry {
        url: Some("sparse+https://index.crates.io/".into()),
    };
    rand8.licenses.insert("MIT".into());
    let rand8 = inv.add(rand8);
    let mut rand9 = lib(Ecosystem::Cargo, "rand", "0.9.0", "pkg:cargo/rand@0.9.0")
        .found_in("Cargo.lock", Some(40));
    rand9.source = Source::Registry { url: None };
    rand9.hashes.insert(digest(Algorithm::Sha512, 2));
    let rand9 = inv.add(rand9);

    let mut git = lib(
        Ecosystem::Cargo,
        "mygit",
        "0.3.0",
        "pkg:cargo/mygit@0.3.0?vcs_url=git%2Bhttps://github.com/example/mygit",
    )
    .found_in("Cargo.lock", Some(50));
    git.source = Source::Git {
        url: "https://github.com/example/mygit".into(),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        reference: Some("main".into()),
    };
    let git = inv.add(git);

    let mut scp = Package::new(Ecosystem::Cargo, "scpgit").version("0.0.1");
    scp.source = Source::Git {
        // Not a URL (the `:` after the host is no port): found as such in an npm lockfile.
        url: "git+ssh://git@github.com:example/scpgit.git".into(),
        commit: None,
        reference: None,
    };
    let scp = inv.add(scp);

    let mut local = Package::new(Ecosystem::Cargo, "localcrate")
        .version("0.1.0")
        .found_in("Cargo.lock", Some(60));
    local.source = Source::Path {
        path: "../localcrate".into(),
    };
    local.licenses.insert("Proprietary: ask legal".into());
    let local = inv.add(local);

    let mut babel = lib(
        Ecosystem::Npm,
        "@babel/core",
        "7.24.0",
        "pkg:npm/%40babel/core@7.24.0",
    )
    .found_in("web/package-lock.json", Some(100));
    babel.scope = Scope::Dev;
    babel.source = Source::Registry {
        url: Some("https://registry.npmjs.org/@babel/core/-/core-7.24.0.tgz".into()),
    };
    babel.hashes.insert(digest(Algorithm::Sha512, 3));
    babel.hashes.insert(digest(Algorithm::Sha1, 4));
    babel.licenses.insert("MIT".into());
    let babel = inv.add(babel);

    let mut fsevents = lib(
        Ecosystem::Npm,
        "fsevents",
        "2.3.3",
        "pkg:npm/fsevents@2.3.3",
    )
    .found_in("web/package-lock.json", Some(200));
    fsevents.scope = Scope::Optional;
    fsevents.hashes.insert(digest(Algorithm::Md5, 5));
    fsevents.hashes.insert(digest(Algorithm::Sha384, 6));
    let fsevents = inv.add(fsevents);

    let mut requests = lib(
        Ecosystem::Pypi,
        "requests",
        "2.31.0",
        "pkg:pypi/requests@2.31.0",
    )
    .found_in("poetry.lock", Some(7));
    requests.source = Source::Registry { url: None };
    requests.licenses.insert("Apache-2.0".into());
    requests.licenses.insert("BSD-3-Clause".into());
    let requests = inv.add(requests);

    let mut lang3 = lib(
        Ecosystem::Maven,
        "org.apache.commons:commons-lang3",
        "3.14.0",
        "pkg:maven/org.apache.commons/commons-lang3@3.14.0",
    )
    .found_in("gradle.lockfile", Some(3));
    lang3.source = Source::Url {
        url: "https://repo.example.com/commons-lang3-3.14.0.jar".into(),
    };
    lang3.licenses.insert("Apache-2.0".into());
    lang3.licenses.insert("Custom licence (see NOTICE)".into());
    let lang3 = inv.add(lang3);

    let testify = inv.add(
        lib(
            Ecosystem::Golang,
            "github.com/stretchr/testify",
            "v1.9.0",
            "pkg:golang/github.com/stretchr/testify@v1.9.0",
        )
        .found_in("go.sum", Some(9)),
    );

    inv.depend(&app, &serde);
    inv.depend(&app, &rand8);
    inv.depend(&app, &git);
    inv.depend(&app, &local);
    inv.depend(&app, &scp);
    inv.depend(&app, &lang3);
    inv.depend(&app, &testify);
    inv.depend(&git, &rand9);
    inv.depend(&web, &babel);
    inv.depend(&web, &fsevents);
    inv.depend(&babel, &requests);
    // A dangling edge: the encoders must leave it out.
    inv.depend(&app, &PackageId("pkg:cargo/missing@1.0.0".into()));
    inv
}

/// [`inventory`] in `format`.
pub fn encode(format: SbomFormat) -> Vec<u8> {
    vouch_sbom::encode(format, &subject(), &inventory(), &options()).unwrap()
}

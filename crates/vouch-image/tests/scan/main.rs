//! Scanning images built in the tests from real tar, gzip and zstd bytes.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::*;
use vouch_image::catalog::props;
use vouch_image::layout::{self, Image, Layer};
use vouch_image::{
    ImageRef, LayerError, Limits, PlatformChoice, ScanError, SourceError, UnknownLayerPolicy,
    parse_image_ref,
};
use vouch_inventory::{Algorithm, Kind};
use vouch_oci::model::{Compression, Platform};

fn debian_base() -> Vec<u8> {
    let status = dpkg_record("curl", "7.88.1-10+deb12u5", "")
        + &dpkg_record("libssl3", "3.0.11-1~deb12u2", "Source: openssl\n")
        + "Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n";
    Tar::new()
        .dir("etc")
        .file("etc/os-release", DEBIAN_OS_RELEASE)
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", status.as_bytes())
        .bytes()
}

#[test]
fn dpkg_packages_get_os_purls_layer_and_graph() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_image(dir.path(), vec![Layer::gzip(&debian_base()).unwrap()]);
    let image = scan_one(&reference);

    assert_eq!(
        names(&image),
        ["curl", "libssl3"],
        "deinstalled packages are not listed"
    );
    let curl = find(&image, "curl").unwrap();
    assert_eq!(
        curl.purl.as_ref().unwrap().to_string(),
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"
    );
    let ssl = find(&image, "libssl3").unwrap();
    assert_eq!(
        ssl.purl.as_ref().unwrap().to_string(),
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"
    );
    assert_eq!(curl.properties[props::CATALOGER], "dpkg");
    assert_eq!(
        &curl.properties[props::LAYER],
        &image.layers[0].digest,
        "the layer holding the record"
    );
    assert_eq!(
        curl.evidence.iter().next().unwrap().file,
        "/var/lib/dpkg/status"
    );

    // The image is the root, the OS hangs off it and the OS packages off the OS.
    let root = image.inventory.get(&image.root).unwrap();
    assert_eq!(root.kind, Kind::Container);
    let root_purl = root.purl.as_ref().unwrap().to_string();
    let digest = image.manifest_digest.as_deref().unwrap();
    // vouch-purl leaves `:` unencoded (ECMA-427 lists it among the characters that need none).
    assert_eq!(root_purl, format!("pkg:oci/{}@{digest}", root.name));
    let os_id = image
        .inventory
        .dependencies(&image.root)
        .find(|id| image.inventory.get(id).unwrap().kind == Kind::OperatingSystem)
        .cloned()
        .unwrap();
    let os = image.inventory.get(&os_id).unwrap();
    assert_eq!(
        (os.name.as_str(), os.version.as_deref()),
        ("debian", Some("12"))
    );
    let under_os: Vec<_> = image.inventory.dependencies(&os_id).collect();
    assert_eq!(under_os.len(), 2);
    assert_eq!(image.inventory.reachable(&image.root).len(), 3);
    assert_eq!(
        image.os.as_ref().unwrap().version_codename.as_deref(),
        Some("bookworm")
    );
    assert_eq!(image.platform, Some(amd64()));
}

#[test]
fn a_replaced_status_file_drops_the_old_records() {
    let dir = tempfile::tempdir().unwrap();
    let upper = Tar::new()
        .file(
            "var/lib/dpkg/status",
            dpkg_record("libssl3", "3.0.11-1~deb12u2", "").as_bytes(),
        )
        .bytes();
    let reference = write_image(
        dir.path(),
        vec![
            Layer::gzip(&debian_base()).unwrap(),
            Layer::zstd(&upper).unwrap(),
        ],
    );
    let image = scan_one(&reference);
    assert_eq!(names(&image), ["libssl3"]);
    assert_eq!(
        find(&image, "libssl3").unwrap().properties[props::LAYER],
        image.layers[1].digest,
        "the record now lives in the upper layer"
    );
}

#[test]
fn whiteouts_delete_a_package_file_and_a_dist_info_directory() {
    let dir = tempfile::tempdir().unwrap();
    let metadata =
        b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody";
    let base = Tar::new()
        .file("etc/os-release", DEBIAN_OS_RELEASE)
        .file(
            "var/lib/dpkg/status.d/base-files",
            dpkg_record("base-files", "12.4", "").as_bytes(),
        )
        .file("var/lib/dpkg/status.d/base-files.md5sums", b"abc  etc/x\n")
        .file(
            "var/lib/dpkg/status.d/tzdata",
            b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
        )
        .file(
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            metadata,
        )
        .bytes();
    let upper = Tar::new()
        .file("var/lib/dpkg/status.d/.wh.tzdata", b"")
        .file(
            "usr/lib/python3/dist-packages/.wh.requests-2.31.0.dist-info",
            b"",
        )
        .bytes();
    let only_base = tempfile::tempdir().unwrap();
    let before = scan_one(&write_image(
        only_base.path(),
        vec![Layer::plain(base.clone())],
    ));
    assert_eq!(names(&before), ["base-files", "requests", "tzdata"]);
    assert_eq!(
        find(&before, "tzdata")
            .unwrap()
            .purl
            .as_ref()
            .unwrap()
            .to_string(),
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
        "distroless status.d files need no Status field"
    );

    let image = scan_one(&write_image(
        dir.path(),
        vec![Layer::plain(base), Layer::plain(upper)],
    ));
    assert_eq!(names(&image), ["base-files"]);
}

#[test]
fn an_opaque_directory_hides_lower_content_but_not_its_own_layer() {
    let dir = tempfile::tempdir().unwrap();
    let meta = |name: &str, v: &str| format!("Name: {name}\nVersion: {v}\n\n");
    let site = "usr/lib/python3.12/site-packages";
    let base = Tar::new()
        .file(
            &format!("{site}/old_pkg-1.0.dist-info/METADATA"),
            meta("old_pkg", "1.0").as_bytes(),
        )
        .file(
            "usr/lib/other/keep-1.0.dist-info/METADATA",
            meta("keep", "1.0").as_bytes(),
        )
        .bytes();
    let upper = Tar::new()
        .dir(site)
        .file(&format!("{site}/.wh..wh..opq"), b"")
        .file(
            &format!("{site}/new_pkg-2.0.dist-info/METADATA"),
            meta("New.Pkg", "2.0").as_bytes(),
        )
        .bytes();
    let image = scan_one(&write_image(
        dir.path(),
        vec![Layer::gzip(&base).unwrap(), Layer::gzip(&upper).unwrap()],
    ));
    assert_eq!(names(&image), ["New.Pkg", "keep"]);
    assert_eq!(
        find(&image, "New.Pkg")
            .unwrap()
            .purl
            .as_ref()
            .unwrap()
            .to_string(),
        "pkg:pypi/new-pkg@2.0",
        "pypi names are normalised"
    );
}

#[test]
fn a_file_replaced_by_a_directory_or_under_a_replaced_directory_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let base = Tar::new()
        .file(
            "app/node_modules/left-pad/package.json",
            br#"{"name":"left-pad","version":"1.3.0"}"#,
        )
        .file("lib/apk/db/installed", b"P:musl\nV:1.2.5-r0\nA:x86_64\n\n")
        .bytes();
    // `app/node_modules` becomes a symlink: everything below it in lower layers is gone.
    // `lib/apk/db/installed` becomes a directory.
    let upper = Tar::new()
        .symlink("app/node_modules", "/elsewhere")
        .dir("lib/apk/db/installed")
        .bytes();
    let image = scan_one(&write_image(
        dir.path(),
        vec![Layer::plain(base), Layer::plain(upper)],
    ));
    assert_eq!(names(&image), Vec::<String>::new());
}

#[test]
fn links_are_recorded_not_followed_and_traversal_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("escape.txt");
    let layer = Tar::new()
        // A symlink loop: never followed, so harmless.
        .symlink("loop/a", "b")
        .symlink("loop/b", "a")
        // `/etc/os-release` as a symlink: the cataloger falls back to `/usr/lib/os-release`.
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("usr/lib/os-release", ALPINE_OS_RELEASE)
        // A hard link to a file a cataloger read: catalogued under the link's path too.
        .file(
            "srv/node_modules/ms/package.json",
            br#"{"name":"ms","version":"2.1.3","license":"MIT"}"#,
        )
        .hardlink(
            "opt/node_modules/ms/package.json",
            "srv/node_modules/ms/package.json",
        )
        // A hard link the dpkg cataloger wants, to a file nobody read: skipped with a warning.
        .file(
            "var/backups/dpkg.status.0",
            dpkg_record("ghost", "1", "").as_bytes(),
        )
        .hardlink("var/lib/dpkg/status", "var/backups/dpkg.status.0")
        // Entries escaping the root.
        .raw_file(b"../escape.txt", b"nope")
        .raw_file(b"./a/../../../etc/os-release", b"ID=evil\n")
        .bytes();
    let image = scan_one(&write_image(dir.path(), vec![Layer::gzip(&layer).unwrap()]));

    assert_eq!(image.os.as_ref().unwrap().id, "alpine");
    let ms = find(&image, "ms").unwrap();
    let files: Vec<&str> = ms.evidence.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "/opt/node_modules/ms/package.json",
            "/srv/node_modules/ms/package.json"
        ]
    );
    assert!(find(&image, "ghost").is_none());
    let warnings = warnings(&image);
    assert!(warnings.contains("`../escape.txt`"), "{warnings}");
    assert!(
        warnings.contains("`./a/../../../etc/os-release`"),
        "{warnings}"
    );
    assert!(
        warnings.contains("hard link `/var/lib/dpkg/status`"),
        "{warnings}"
    );
    assert!(!outside.exists(), "nothing is ever written");
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
}

#[test]
fn a_truncated_gzip_layer_is_a_corrupt_layer_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut layer = Layer::gzip(&debian_base()).unwrap();
    layer.bytes.truncate(layer.bytes.len() / 2);
    let reference = write_image(dir.path(), vec![layer]);
    let err = scan_ref(&reference, &options()).unwrap_err();
    let ScanError::Layer(LayerError::Corrupt { layer, .. }) = &err else {
        panic!("{err:?}");
    };
    assert!(layer.starts_with("sha256:"));
    assert!(err.to_string().contains(layer.as_str()), "{err}");
    assert!(err.to_string().contains("corrupt or truncated"), "{err}");
}

#[test]
fn a_tampered_layer_fails_with_expected_and_found_digests() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_image(dir.path(), vec![Layer::plain(debian_base())]);
    let original = scan_one(&reference);
    let digest = original.layers[0].digest.clone();
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    // Change one byte of the status file's content (same length, still a valid tar).
    let at = bytes.windows(4).position(|w| w == b"curl").unwrap();
    bytes[at] = b'k';
    std::fs::write(&blob, &bytes).unwrap();

    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0u8; 512]);
    std::fs::write(&blob, &longer).unwrap();
    match scan_ref(&reference, &options()).unwrap_err() {
        ScanError::Layer(LayerError::SizeMismatch {
            expected, found, ..
        }) => {
            assert_eq!(expected, bytes.len() as u64);
            assert!(found > expected);
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&blob, &bytes).unwrap();

    let err = scan_ref(&reference, &options()).unwrap_err();
    match err {
        ScanError::Layer(LayerError::DigestMismatch {
            layer,
            expected,
            found,
        }) => {
            assert_eq!(layer, digest);
            assert_eq!(expected, digest);
            assert_ne!(found, digest);
            assert!(found.starts_with("sha256:"));
        }
        other => panic!("{other:?}"),
    }
}

/// Layers are read several at once; what is reported does not depend on which finishes first:
/// packages in layer order, and of two damaged layers, the lower one's error.
#[test]
fn layers_read_at_once_report_in_layer_order() {
    let dir = tempfile::tempdir().unwrap();
    let npm = |name: &str, version: &str| {
        Tar::new()
            .file(
                &format!("app/node_modules/{name}/package.json"),
                format!(r#"{{"name":"{name}","version":"{version}"}}"#).as_bytes(),
            )
            .bytes()
    };
    let layers = vec![
        Layer::gzip(&debian_base()).unwrap(),
        Layer::gzip(&npm("ms", "2.1.3")).unwrap(),
        Layer::plain(npm("debug", "4.3.4")),
        // The top layer replaces ms.
        Layer::gzip(&npm("ms", "2.1.2")).unwrap(),
    ];
    let reference = write_image(dir.path(), layers);
    for _ in 0..5 {
        let image = scan_one(&reference);
        assert_eq!(names(&image), ["curl", "debug", "libssl3", "ms"]);
        assert_eq!(
            find(&image, "ms").unwrap().version.as_deref(),
            Some("2.1.2")
        );
    }

    let image = scan_one(&reference);
    let blob = |i: usize| {
        dir.path()
            .join("blobs/sha256")
            .join(image.layers[i].digest.trim_start_matches("sha256:"))
    };
    // Damage layers 1 and 3 the same way: one byte of the stored stream changes.
    for i in [1, 3] {
        let mut bytes = std::fs::read(blob(i)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        std::fs::write(blob(i), &bytes).unwrap();
    }
    for _ in 0..5 {
        let err = scan_ref(&reference, &options()).unwrap_err();
        let named = match &err {
            ScanError::Layer(LayerError::DigestMismatch { layer, .. }) => layer.clone(),
            ScanError::Layer(other) => other.to_string(),
            other => panic!("{other:?}"),
        };
        assert!(
            named.contains(&image.layers[1].digest),
            "the lower damaged layer is the one reported: {err}"
        );
    }
}

#[test]
fn a_decompression_bomb_hits_the_limit_and_names_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let layer = Tar::new().file("big", &zeros).bytes();
    let reference = write_image(dir.path(), vec![Layer::gzip(&layer).unwrap()]);
    let mut opts = options();
    opts.limits = Limits {
        max_decompressed_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let err = scan_ref(&reference, &opts).unwrap_err();
    let ScanError::Layer(LayerError::TooLarge { layer, limit }) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*limit, 1024 * 1024);
    assert!(err.to_string().contains(layer.as_str()));

    // Too many entries is the same kind of error.
    let mut opts = options();
    opts.limits.max_entries = 3;
    let many = Tar::new()
        .file("a", b"")
        .file("b", b"")
        .file("c", b"")
        .file("d", b"")
        .bytes();
    let dir2 = tempfile::tempdir().unwrap();
    let err = scan_ref(&write_image(dir2.path(), vec![Layer::plain(many)]), &opts).unwrap_err();
    assert!(
        matches!(
            err,
            ScanError::Layer(LayerError::TooManyEntries { limit: 3, .. })
        ),
        "{err:?}"
    );
}

#[test]
fn an_unknown_layer_media_type_is_an_error_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_image(
        dir.path(),
        vec![
            Layer::plain(debian_base()),
            Layer {
                media_type: "application/vnd.example.not-a-layer".to_owned(),
                bytes: b"whatever".to_vec(),
            },
        ],
    );
    let err = scan_ref(&reference, &options()).unwrap_err();
    match &err {
        ScanError::Layer(LayerError::UnknownMediaType { media_type, .. }) => {
            assert_eq!(media_type, "application/vnd.example.not-a-layer");
        }
        other => panic!("{other:?}"),
    }
    let mut opts = options();
    opts.unknown_layers = UnknownLayerPolicy::Skip;
    let image = scan_ref(&reference, &opts).unwrap().remove(0);
    assert_eq!(names(&image), ["curl", "libssl3"]);
    assert!(image.layers[1].skipped);
    assert!(warnings(&image).contains("not a tar layer"));
}

fn alpine_layer(arch: &str) -> Layer {
    let db = format!(
        "C:Q1ZW5aHvRmf3X7ZY2W5RTaJe5Tk0I=\nP:busybox\nV:1.36.1-r29\nA:{arch}\nL:GPL-2.0-only\no:busybox\n\n\
         P:ssl_client\nV:1.36.1-r29\nA:{arch}\nL:GPL-2.0-only\no:busybox\n\n"
    );
    let tar = Tar::new()
        .file("etc/os-release", ALPINE_OS_RELEASE)
        .file("lib/apk/db/installed", db.as_bytes())
        .bytes();
    Layer::zstd(&tar).unwrap()
}

#[test]
fn multi_arch_index_selects_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let arm64 = Platform::parse("linux/arm64/v8").unwrap();
    layout::write_index(
        dir.path(),
        &[
            Image {
                platform: amd64(),
                layers: vec![alpine_layer("x86_64")],
            },
            Image {
                platform: arm64.clone(),
                layers: vec![alpine_layer("aarch64")],
            },
        ],
        Some("3.20"),
    )
    .unwrap();
    let reference = format!("oci:{}:3.20", dir.path().display());

    let mut opts = options();
    opts.platform = PlatformChoice::Only(Platform::parse("linux/arm64").unwrap());
    let image = scan_ref(&reference, &opts).unwrap().remove(0);
    assert_eq!(image.platform, Some(arm64));
    let busybox = find(&image, "busybox").unwrap();
    assert_eq!(
        busybox.purl.as_ref().unwrap().to_string(),
        "pkg:apk/alpine/busybox@1.36.1-r29?arch=aarch64&distro=alpine-3.20.3"
    );
    assert_eq!(
        busybox.hashes.iter().next().unwrap().algorithm(),
        Algorithm::Sha1
    );
    assert!(busybox.licenses.contains("GPL-2.0-only"));
    assert_eq!(
        find(&image, "ssl_client")
            .unwrap()
            .purl
            .as_ref()
            .unwrap()
            .to_string(),
        "pkg:apk/alpine/ssl_client@1.36.1-r29?arch=aarch64&distro=alpine-3.20.3&upstream=busybox"
    );

    opts.platform = PlatformChoice::All;
    let all = scan_ref(&reference, &opts).unwrap();
    assert_eq!(all.len(), 2);
    assert_ne!(all[0].manifest_digest, all[1].manifest_digest);

    opts.platform = PlatformChoice::Only(Platform::parse("linux/s390x").unwrap());
    match scan_ref(&reference, &opts).unwrap_err() {
        ScanError::NoMatchingPlatform {
            requested,
            available,
        } => {
            assert_eq!(requested, "linux/s390x");
            assert_eq!(available, ["linux/amd64", "linux/arm64/v8"]);
        }
        other => panic!("{other:?}"),
    }

    // A single-platform image asked for another platform is scanned, with a warning.
    let single = tempfile::tempdir().unwrap();
    let reference_single = write_image(single.path(), vec![alpine_layer("x86_64")]);
    opts.platform = PlatformChoice::Only(Platform::parse("linux/arm64").unwrap());
    let image = scan_ref(&reference_single, &opts).unwrap().remove(0);
    assert!(warnings(&image).contains("not the requested `linux/arm64`"));

    // The tag selects among several images of one layout.
    let missing = format!("oci:{}:nope", dir.path().display());
    assert!(matches!(
        scan_ref(&missing, &opts).unwrap_err(),
        ScanError::Source(SourceError::TagNotFound { .. })
    ));
}

/// One image of a `docker save` archive: its tags, layers and diff IDs.
struct ArchiveImage<'a> {
    tags: &'a [&'a str],
    layers: &'a [Vec<u8>],
    diff_ids: &'a [String],
}

/// A `docker save` archive of one image tagged `registry.example:5000/team/app:1.0`.
fn docker_archive(path: &std::path::Path, old: bool, layers: &[Vec<u8>], diff_ids: &[String]) {
    docker_archive_of(
        path,
        old,
        &[ArchiveImage {
            tags: &["registry.example:5000/team/app:1.0"],
            layers,
            diff_ids,
        }],
    );
}

/// A `docker save` archive: `old` puts layers at `<id>/layer.tar` (addressed by diff ID),
/// otherwise under `blobs/sha256/` (addressed by their stored digest).
fn docker_archive_of(path: &std::path::Path, old: bool, images: &[ArchiveImage<'_>]) {
    let sha = |b: &[u8]| {
        vouch_digest::hash_bytes(Algorithm::Sha256, b)
            .unwrap()
            .hex()
            .to_owned()
    };
    let mut tar = Tar::new();
    let mut manifest = Vec::new();
    for (n, image) in images.iter().enumerate() {
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": image.diff_ids},
        })
        .to_string();
        let config_name = if old {
            format!("{}.json", sha(config.as_bytes()))
        } else {
            format!("blobs/sha256/{}", sha(config.as_bytes()))
        };
        tar = tar.file(&config_name, config.as_bytes());
        let mut names = Vec::new();
        for (i, layer) in image.layers.iter().enumerate() {
            let name = if old {
                format!("layer{n}-{i}/layer.tar")
            } else {
                format!("blobs/sha256/{}", sha(layer))
            };
            tar = tar.file(&name, layer);
            names.push(name);
        }
        manifest.push(serde_json::json!({
            "Config": config_name,
            "RepoTags": image.tags,
            "Layers": names,
        }));
    }
    tar = tar.file(
        "manifest.json",
        serde_json::Value::from(manifest).to_string().as_bytes(),
    );
    std::fs::write(path, tar.bytes()).unwrap();
}

/// `docker save` of two images: without a selection the archive is ambiguous, naming the tags;
/// `:REPO:TAG` and `:@N` pick one, whose tag names the root; an unknown one is not found.
#[test]
fn a_docker_archive_of_several_images_is_read_by_tag_or_position() {
    let dir = tempfile::tempdir().unwrap();
    let base = debian_base();
    let other = Tar::new()
        .dir("etc")
        .file("etc/os-release", DEBIAN_OS_RELEASE)
        .dir("var/lib/dpkg")
        .file(
            "var/lib/dpkg/status",
            dpkg_record("zlib1g", "1:1.2.13.dfsg-1", "").as_bytes(),
        )
        .bytes();
    let diff_id = |b: &[u8]| {
        vouch_digest::hash_bytes(Algorithm::Sha256, b)
            .unwrap()
            .to_string()
    };
    let archive = dir.path().join("two.tar");
    docker_archive_of(
        &archive,
        true,
        &[
            ArchiveImage {
                tags: &["registry.example/app:1.0"],
                layers: std::slice::from_ref(&base),
                diff_ids: &[diff_id(&base)],
            },
            ArchiveImage {
                tags: &["registry.example/tool:2.0", "tool:latest"],
                layers: std::slice::from_ref(&other),
                diff_ids: &[diff_id(&other)],
            },
        ],
    );
    let at = archive.display();

    let err = scan_ref(&format!("docker-archive:{at}"), &options()).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            ScanError::Source(SourceError::Ambiguous { count: 2, .. })
        ),
        "{err:?}"
    );
    assert!(
        text.contains("registry.example/app:1.0") && text.contains(":@N"),
        "{text}"
    );

    let image = scan_one(&format!("docker-archive:{at}:registry.example/tool:2.0"));
    assert_eq!(names(&image), ["zlib1g"]);
    let root = image.inventory.get(&image.root).unwrap();
    assert_eq!(
        (
            root.name.as_str(),
            root.properties[vouch_image::PROP_TAG].as_str()
        ),
        ("tool", "2.0")
    );
    // A second tag of the same image selects it too, and names the root.
    let image = scan_one(&format!("docker-archive:{at}:tool:latest"));
    let root = image.inventory.get(&image.root).unwrap();
    assert_eq!(root.properties[vouch_image::PROP_TAG], "latest");

    let image = scan_one(&format!("docker-archive:{at}:@0"));
    assert_eq!(names(&image), ["curl", "libssl3"]);
    let image = scan_one(&format!("docker-archive:{at}:@1"));
    assert_eq!(names(&image), ["zlib1g"]);

    for missing in ["registry.example/app:2.0", "@2"] {
        let err = scan_ref(&format!("docker-archive:{at}:{missing}"), &options()).unwrap_err();
        assert!(
            matches!(
                &err,
                ScanError::Source(SourceError::TagNotFound { tag, .. }) if tag == missing
            ),
            "{missing}: {err:?}"
        );
    }
}

#[test]
fn docker_archives_old_and_new_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let base = debian_base();
    let diff_id = |b: &[u8]| {
        vouch_digest::hash_bytes(Algorithm::Sha256, b)
            .unwrap()
            .to_string()
    };

    // Old layout: uncompressed layer.tar, digest = diff ID.
    let old = dir.path().join("old.tar");
    docker_archive(&old, true, std::slice::from_ref(&base), &[diff_id(&base)]);
    let image = scan_one(&format!("docker-archive:{}", old.display()));
    assert_eq!(names(&image), ["curl", "libssl3"]);
    assert_eq!(image.manifest_digest, None);
    let root = image.inventory.get(&image.root).unwrap();
    assert_eq!(root.name, "app");
    assert_eq!(root.properties[vouch_image::PROP_TAG], "1.0");

    // New layout, with a gzip layer whose compression is sniffed from its bytes.
    let gz = Layer::gzip(&base).unwrap().bytes;
    let new = dir.path().join("new.tar");
    docker_archive(&new, false, &[gz], &[diff_id(&base)]);
    let image = scan_one(&format!("docker-archive:{}", new.display()));
    assert_eq!(names(&image), ["curl", "libssl3"]);

    // A compressed archive is refused with a hint.
    let gzipped = dir.path().join("old.tar.gz");
    std::fs::write(
        &gzipped,
        Layer::gzip(&std::fs::read(&old).unwrap()).unwrap().bytes,
    )
    .unwrap();
    let err = scan_ref(&format!("docker-archive:{}", gzipped.display()), &options()).unwrap_err();
    assert!(
        matches!(
            err,
            ScanError::Source(SourceError::CompressedArchive { .. })
        ),
        "{err:?}"
    );

    // A wrong diff ID in an old archive is a digest mismatch.
    let bad = dir.path().join("bad.tar");
    docker_archive(
        &bad,
        true,
        std::slice::from_ref(&base),
        &[diff_id(b"something else")],
    );
    let err = scan_ref(&format!("docker-archive:{}", bad.display()), &options()).unwrap_err();
    assert!(
        matches!(err, ScanError::Layer(LayerError::DigestMismatch { .. })),
        "{err:?}"
    );
}

#[test]
fn a_root_filesystem_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::write(root.join("etc/os-release"), ALPINE_OS_RELEASE).unwrap();
    std::fs::write(
        root.join("lib/apk/db/installed"),
        "P:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\n\n",
    )
    .unwrap();
    let image = scan_one(&format!("dir:{}", root.display()));
    let musl = find(&image, "musl").unwrap();
    assert_eq!(
        musl.purl.as_ref().unwrap().to_string(),
        "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"
    );
    assert!(!musl.properties.contains_key(props::LAYER));
    assert_eq!(musl.properties[props::CATALOGER], "apk");
    assert_eq!(image.inventory.get(&image.root).unwrap().name, "rootfs");
}

#[test]
fn the_cache_skips_layers_already_read() {
    let cache = tempfile::tempdir().unwrap();
    let base = Layer::gzip(&debian_base()).unwrap();
    let app = Tar::new()
        .file(
            "app/node_modules/ms/package.json",
            br#"{"name":"ms","version":"2.1.3"}"#,
        )
        .bytes();
    let first_dir = tempfile::tempdir().unwrap();
    let second_dir = tempfile::tempdir().unwrap();
    let first = write_image(first_dir.path(), vec![base.clone()]);
    let second = write_image(second_dir.path(), vec![base, Layer::plain(app)]);

    let (progress, events) = recorder();
    let mut opts = options();
    opts.cache_dir = Some(cache.path().join("layers"));
    opts.progress = Some(Arc::clone(&progress));
    let a = scan_ref(&first, &opts).unwrap().remove(0);
    let base_digest = a.layers[0].digest.clone();
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&format!("bytes {base_digest}"))
    );
    events.lock().unwrap().clear();

    let b = scan_ref(&second, &opts).unwrap().remove(0);
    let seen = events.lock().unwrap().clone();
    assert!(seen.contains(&format!("cached {base_digest}")), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|e| e.ends_with(&base_digest) && !e.starts_with("cached")),
        "the base layer was read again: {seen:?}"
    );
    assert!(b.layers[0].cached && !b.layers[1].cached);
    assert_eq!(names(&b), ["curl", "libssl3", "ms"]);
    let curl = |i: &vouch_image::ScannedImage| find(i, "curl").unwrap().clone();
    assert_eq!(curl(&a), curl(&b), "a cached record is the record");

    // A damaged cache file is a warning, and the layer is read again.
    let file = cache
        .path()
        .join("layers")
        .join(format!("{}.json", base_digest.replace(':', "-")));
    std::fs::write(&file, b"{ damaged").unwrap();
    events.lock().unwrap().clear();
    let c = scan_ref(&second, &opts).unwrap().remove(0);
    assert!(
        events
            .lock()
            .unwrap()
            .contains(&format!("bytes {base_digest}"))
    );
    assert!(warnings(&c).contains("cache not used"), "{}", warnings(&c));
    assert_eq!(names(&c), ["curl", "libssl3", "ms"]);
}

#[test]
fn language_packages_and_lockfiles_inside_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let lock = br#"{"name":"web","version":"1.0.0","lockfileVersion":3,"requires":true,
      "packages":{"":{"name":"web","version":"1.0.0","dependencies":{"left-pad":"1.3.0"}},
      "node_modules/left-pad":{"version":"1.3.0","resolved":"https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"}}}"#;
    let layer = Tar::new()
        .file(
            "usr/local/lib/python3.12/site-packages/Foo_Bar-1.0.dist-info/METADATA",
            b"Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 1.0\nLicense-Expression: MIT\n\nlong text",
        )
        .file(
            "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
            b"Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
        )
        .file(
            "srv/web/node_modules/@types/node/package.json",
            br#"{"name":"@types/node","version":"20.1.0","license":"MIT"}"#,
        )
        .file(
            "srv/web/node_modules/@types/node/test/package.json",
            br#"{"name":"fixture","version":"0.0.0"}"#,
        )
        .file(
            "srv/web/node_modules/lodash/package-lock.json",
            br#"{"lockfileVersion":3,"packages":{"node_modules/dev-only":{"version":"9.9.9"}}}"#,
        )
        .file("srv/web/package-lock.json", lock)
        .file("srv/broken/package-lock.json", b"{ not json")
        .bytes();
    let image = scan_one(&write_image(dir.path(), vec![Layer::gzip(&layer).unwrap()]));

    let purl = |name: &str| {
        find(&image, name)
            .unwrap()
            .purl
            .as_ref()
            .unwrap()
            .to_string()
    };
    assert_eq!(purl("Foo_Bar"), "pkg:pypi/foo-bar@1.0");
    assert!(find(&image, "Foo_Bar").unwrap().licenses.contains("MIT"));
    assert_eq!(purl("six"), "pkg:pypi/six@1.16.0");
    assert_eq!(purl("@types/node"), "pkg:npm/%40types/node@20.1.0");
    assert_eq!(purl("left-pad"), "pkg:npm/left-pad@1.3.0");
    assert_eq!(
        find(&image, "left-pad").unwrap().properties[props::CATALOGER],
        "lockfile"
    );
    assert!(
        find(&image, "fixture").is_none(),
        "not an installed package"
    );
    assert!(
        find(&image, "dev-only").is_none(),
        "lockfiles in node_modules are skipped"
    );
    let warnings = warnings(&image);
    assert!(
        warnings.contains("/srv/broken/package-lock.json"),
        "{warnings}"
    );
}

#[test]
fn a_lockfiles_dependency_graph_hangs_from_the_image_also_from_the_cache() {
    let lock = br#"{"name":"web","version":"1.0.0","lockfileVersion":3,"requires":true,
      "packages":{"":{"name":"web","version":"1.0.0","dependencies":{"express":"4.21.2","left-pad":"1.3.0"}},
      "node_modules/express":{"version":"4.21.2","dependencies":{"ms":"2.0.0"}},
      "node_modules/ms":{"version":"2.0.0"},
      "node_modules/left-pad":{"version":"1.3.0"}}}"#;
    let layer = Tar::new()
        .file("srv/web/package-lock.json", lock)
        .file(
            "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO",
            b"Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\n",
        )
        .bytes();
    let dir = tempfile::tempdir().unwrap();
    let reference = write_image(dir.path(), vec![Layer::gzip(&layer).unwrap()]);
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options();
    opts.cache_dir = Some(cache.path().join("layers"));

    let graph = |image: &vouch_image::ScannedImage| {
        let name = |id: &vouch_inventory::PackageId| image.inventory.get(id).unwrap().name.clone();
        let mut edges: Vec<(String, String)> = image
            .inventory
            .edges()
            .map(|(from, to)| (name(from), name(to)))
            .collect();
        edges.sort();
        edges
    };
    let read = scan_ref(&reference, &opts).unwrap().remove(0);
    let cached = scan_ref(&reference, &opts).unwrap().remove(0);
    assert!(cached.layers[0].cached, "the second scan reads the cache");
    let image = read.inventory.get(&read.root).unwrap().name.clone();
    let expected: Vec<(String, String)> = [
        (image.as_str(), "six"),
        (image.as_str(), "web"),
        ("express", "ms"),
        ("web", "express"),
        ("web", "left-pad"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(
        graph(&read),
        expected,
        "the lockfile's edges, under its project"
    );
    assert_eq!(graph(&cached), expected, "the same graph from the cache");
}

#[test]
fn scan_layer_takes_arbitrary_bytes() {
    let catalogers = vouch_image::catalog::all();
    let limits = Limits::default();
    for garbage in [
        &b""[..],
        b"\x1f\x8b\x08\x00garbage",
        b"\x28\xb5\x2f\xfdgarbage",
        &[0xffu8; 1024][..],
    ] {
        let _ = vouch_image::scan_layer(&mut &garbage[..], None, &limits, &catalogers);
    }
    let tar = debian_base();
    let record =
        vouch_image::scan_layer(&mut &tar[..], Some(Compression::None), &limits, &catalogers)
            .unwrap();
    assert_eq!(record.packages().count(), 3 - 1);
    let err = vouch_image::scan_layer(
        &mut &tar[..tar.len() / 3],
        Some(Compression::None),
        &limits,
        &catalogers,
    )
    .unwrap_err();
    assert!(matches!(err, LayerError::Corrupt { .. }), "{err:?}");
}

#[test]
fn references_and_registry_refusal() {
    assert_eq!(
        parse_image_ref("docker.io/library/debian:12"),
        ImageRef::Registry("docker.io/library/debian:12".into())
    );
    assert!(matches!(
        vouch_image::open(&parse_image_ref("ghcr.io/a/b")),
        Err(SourceError::RegistryNotSupported { .. })
    ));
    assert!(matches!(
        vouch_image::open(&parse_image_ref("oci:/nonexistent/layout")),
        Err(SourceError::Io { .. })
    ));
}

#[test]
fn layouts_listing_platforms_without_tags_and_full_image_names() {
    // `index.json` listing one manifest per platform, untagged (as `crane pull --format=oci`).
    let dir = tempfile::tempdir().unwrap();
    for arch in ["x86_64", "aarch64"] {
        let image = Image {
            platform: amd64(),
            layers: vec![alpine_layer(arch)],
        };
        layout::write(dir.path(), &image, None).unwrap();
    }
    let index_path = dir.path().join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    for (entry, arch) in index["manifests"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(["amd64", "arm64"])
    {
        entry["platform"] = serde_json::json!({"os": "linux", "architecture": arch});
    }
    std::fs::write(&index_path, index.to_string()).unwrap();
    let mut opts = options();
    opts.platform = PlatformChoice::Only(Platform::parse("linux/arm64").unwrap());
    let image = scan_ref(&format!("oci:{}", dir.path().display()), &opts)
        .unwrap()
        .remove(0);
    assert_eq!(
        find(&image, "busybox").unwrap().properties[props::ARCH],
        "aarch64"
    );

    // A full image name in the annotations names the root component and its repository
    // (vouch-purl percent-encodes `/` in qualifier values).
    let named = tempfile::tempdir().unwrap();
    write_image(named.path(), vec![alpine_layer("x86_64")]);
    let index_path = named.path().join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    index["manifests"][0]["annotations"]["io.containerd.image.name"] =
        "docker.io/library/alpine:3.20".into();
    std::fs::write(&index_path, index.to_string()).unwrap();
    let image = scan_one(&format!("oci:{}", named.path().display()));
    let root = image.inventory.get(&image.root).unwrap();
    assert_eq!(
        root.purl.as_ref().unwrap().to_string(),
        format!(
            "pkg:oci/alpine@{}?repository_url=docker.io%2Flibrary%2Falpine",
            image.manifest_digest.as_deref().unwrap()
        )
    );
    assert_eq!(root.properties[vouch_image::PROP_TAG], "3.20");
}

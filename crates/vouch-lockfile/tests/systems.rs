//! Fixtures for the Cargo, Go, Ruby, PHP and Gradle lockfile parsers
//! (`tests/fixtures/{cargo,gomod,gemfile,composer,gradle}/<case>/`). Expected values are
//! written by hand from each fixture and the format's documentation.

// Clippy's test allowances cover `#[test]` functions only; the helpers below panic on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use vouch_inventory::{
    Algorithm, Digest, Ecosystem, Inventory, Kind, Package, PackageId, PackageUrl, Scope,
    SortedSet, Source,
};
use vouch_lockfile::{Format, ParseError, ParseErrorKind, parse_path};

fn parse(format: &str, case: &str, file: &str) -> Result<(Format, Inventory), ParseError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format)
        .join(case);
    parse_path(&dir.join(file), &format!("{format}/{case}/{file}"))
}

fn ok(format: &str, case: &str, file: &str) -> Inventory {
    match parse(format, case, file) {
        Ok((_, inv)) => inv,
        Err(e) => panic!("{format}/{case}/{file} failed: {e}"),
    }
}

fn fail(format: &str, case: &str, file: &str) -> ParseError {
    match parse(format, case, file) {
        Ok(_) => panic!("{format}/{case}/{file} parsed but should fail"),
        Err(e) => e,
    }
}

/// A label for a package: its purl for libraries, `project:<name>` for projects.
fn label(p: &Package) -> String {
    match (p.kind, &p.purl) {
        (Kind::Project, _) => format!("project:{}", p.name),
        (_, Some(purl)) => purl.to_string(),
        (_, None) => format!("nopurl:{}@{:?}", p.name, p.version),
    }
}

fn id_of(inv: &Inventory, wanted: &str) -> PackageId {
    let wanted = &canon(wanted);
    inv.packages()
        .find(|(_, p)| &label(p) == wanted)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no package {wanted}; have {:?}", labels(inv)))
}

fn get<'a>(inv: &'a Inventory, wanted: &str) -> &'a Package {
    inv.get(&id_of(inv, wanted)).unwrap()
}

fn labels(inv: &Inventory) -> BTreeSet<String> {
    inv.packages().map(|(_, p)| label(p)).collect()
}

fn libraries(inv: &Inventory) -> BTreeSet<String> {
    inv.libraries().map(|(_, p)| label(p)).collect()
}

fn projects(inv: &Inventory) -> BTreeSet<String> {
    inv.packages()
        .filter(|(_, p)| p.kind == Kind::Project)
        .map(|(_, p)| label(p))
        .collect()
}

fn roots(inv: &Inventory) -> BTreeSet<String> {
    inv.roots()
        .iter()
        .map(|id| label(inv.get(id).unwrap()))
        .collect()
}

fn deps(inv: &Inventory, from: &str) -> BTreeSet<String> {
    inv.dependencies(&id_of(inv, from))
        .map(|id| label(inv.get(id).unwrap()))
        .collect()
}

/// Purls are compared in the purl crate's canonical form, so expectations can be written
/// readably (`vcs_url=git+https://...`) whatever its percent-encoding choices.
fn canon(s: &str) -> String {
    if s.starts_with("pkg:") {
        s.parse::<PackageUrl>()
            .unwrap_or_else(|e| panic!("bad purl {s}: {e}"))
            .to_string()
    } else {
        s.to_owned()
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| canon(s)).collect()
}

fn sha256(hex: &str) -> SortedSet<Digest> {
    SortedSet::from([Digest::from_hex(Algorithm::Sha256, hex).unwrap()])
}

fn lines(p: &Package) -> Vec<(String, Option<u32>)> {
    p.evidence
        .iter()
        .map(|e| (e.file.clone(), e.line))
        .collect()
}

fn prop<'a>(p: &'a Package, key: &str) -> Option<&'a str> {
    p.properties.get(key).map(String::as_str)
}

// ---------------------------------------------------------------------------------------------
// Cargo.lock

#[test]
fn cargo_v1_metadata_checksums_and_path_dependency() {
    let inv = ok("cargo", "v1", "Cargo.lock");
    assert_eq!(libraries(&inv), set(&["pkg:cargo/itoa@1.0.1"]));
    assert_eq!(projects(&inv), set(&["project:app", "project:local-util"]));
    assert_eq!(roots(&inv), set(&["project:app", "project:local-util"]));
    let itoa = get(&inv, "pkg:cargo/itoa@1.0.1");
    assert_eq!(itoa.version.as_deref(), Some("1.0.1"));
    assert_eq!(
        itoa.hashes,
        sha256("a0a7eb79b1b3c30f8f2305963533f972fdb65420c43e902b1044bb2b625562d6")
    );
    assert_eq!(
        itoa.source,
        Source::Registry {
            url: Some("https://static.crates.io/crates/itoa/itoa-1.0.1.crate".into())
        }
    );
    assert_eq!(lines(itoa), vec![("cargo/v1/Cargo.lock".into(), Some(9))]);
    assert_eq!(
        deps(&inv, "project:app"),
        set(&["pkg:cargo/itoa@1.0.1", "project:local-util"])
    );
    assert_eq!(
        deps(&inv, "project:local-util"),
        set(&["pkg:cargo/itoa@1.0.1"])
    );
}

#[test]
fn cargo_v4_workspace_sources_and_disambiguation() {
    let inv = ok("cargo", "v4-workspace", "Cargo.lock");
    let log_git = "pkg:cargo/log@0.4.22?vcs_url=git%2Bhttps://github.com/rust-lang/log%40836ff184e7b41b1e13cb5fd89fa1de98dbbab99e";
    let serde = "pkg:cargo/serde@1.0.200?vcs_url=git%2Bhttps://github.com/serde-rs/serde%400123456789abcdef0123456789abcdef01234567";
    let tokio = "pkg:cargo/tokio@1.40.0?vcs_url=git%2Bhttps://github.com/tokio-rs/tokio%4089abcdef0123456789abcdef0123456789abcdef";
    let internal =
        "pkg:cargo/internal-crate@1.2.0?repository_url=https://git.example.com/cargo-index";
    assert_eq!(
        libraries(&inv),
        set(&[
            internal,
            log_git,
            "pkg:cargo/log@0.4.22",
            "pkg:cargo/rand@0.8.5",
            "pkg:cargo/rand@0.9.0",
            serde,
            tokio,
        ])
    );
    assert_eq!(roots(&inv), set(&["project:cli", "project:core"]));

    // Edges resolve `name`, `name version` and `name version (source)`.
    assert_eq!(
        deps(&inv, "project:cli"),
        set(&[
            "project:core",
            "pkg:cargo/log@0.4.22",
            "pkg:cargo/rand@0.8.5",
            serde
        ])
    );
    assert_eq!(
        deps(&inv, "project:core"),
        set(&[internal, "pkg:cargo/rand@0.9.0", tokio])
    );
    assert_eq!(deps(&inv, tokio), set(&[log_git]));

    let s = get(&inv, serde);
    assert_eq!(
        s.source,
        Source::Git {
            url: "https://github.com/serde-rs/serde".into(),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            reference: Some("feature/wip".into()),
        }
    );
    assert!(s.hashes.is_empty());
    let t = get(&inv, tokio);
    assert_eq!(
        t.source,
        Source::Git {
            url: "https://github.com/tokio-rs/tokio".into(),
            commit: Some("89abcdef0123456789abcdef0123456789abcdef".into()),
            reference: Some("tokio-1.40.0".into()),
        }
    );
    let rand9 = get(&inv, "pkg:cargo/rand@0.9.0");
    assert_eq!(
        rand9.source,
        Source::Registry {
            url: Some("https://static.crates.io/crates/rand/rand-0.9.0.crate".into())
        }
    );
    assert_eq!(
        rand9.hashes,
        sha256("01a87e7c97ca78dae00d48e0f682191983431a014d2ffc4e820b638075048286")
    );
    assert_eq!(
        lines(rand9),
        vec![("cargo/v4-workspace/Cargo.lock".into(), Some(47))]
    );
    let log = get(&inv, "pkg:cargo/log@0.4.22");
    assert_eq!(
        lines(log),
        vec![("cargo/v4-workspace/Cargo.lock".into(), Some(35))]
    );
    assert_eq!(log.scope, Scope::Required);
    assert_eq!(log.direct, None);
}

#[test]
fn cargo_malformed_checksum_is_recorded_not_fatal() {
    let inv = ok("cargo", "malformed-checksum", "Cargo.lock");
    let itoa = get(&inv, "pkg:cargo/itoa@1.0.1");
    assert!(itoa.hashes.is_empty());
    assert_eq!(
        prop(itoa, "vouch:integrity-malformed"),
        Some("not-a-sha256")
    );
    assert_eq!(deps(&inv, "project:demo"), set(&["pkg:cargo/itoa@1.0.1"]));
}

#[test]
fn cargo_unsupported_version_fails() {
    let e = fail("cargo", "unsupported-version_fail", "Cargo.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::UnsupportedVersion { found, .. } if found == "5"),
        "{e}"
    );
    assert_eq!(e.line, Some(3));
    assert_eq!(e.file, "cargo/unsupported-version_fail/Cargo.lock");
}

#[test]
fn cargo_missing_version_fails() {
    let e = fail("cargo", "missing-version_fail", "Cargo.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, context }
            if field == "version" && context.contains("itoa")),
        "{e}"
    );
    assert_eq!(e.line, Some(7));
}

// ---------------------------------------------------------------------------------------------
// go.mod and go.sum

#[test]
fn gomod_requires_replacements_and_go_sum() {
    let inv = ok("gomod", "replace-and-sum", "go.mod");
    let file = "gomod/replace-and-sum/go.mod";
    let sum = "gomod/replace-and-sum/go.sum";
    assert_eq!(
        libraries(&inv),
        set(&[
            "pkg:golang/example.com/new@v1.1.0",
            "pkg:golang/github.com/google/uuid@v1.6.0",
            "pkg:golang/github.com/pkg/errors@v0.9.1",
            "pkg:golang/golang.org/x/text@v0.14.0",
            "pkg:golang/gopkg.in/yaml.v3@v3.0.1",
        ])
    );
    // The module is the root; the directory replacement is local code, a project too.
    assert_eq!(
        roots(&inv),
        set(&["project:example.com/app", "project:example.com/local"])
    );
    let root = get(&inv, "project:example.com/app");
    assert_eq!(prop(root, "vouch:go-version"), Some("1.22.0"));
    assert_eq!(prop(root, "vouch:go-toolchain"), Some("go1.22.4"));
    assert_eq!(prop(root, "vouch:go-retract"), Some("[v1.0.0, v1.0.5]"));
    assert_eq!(lines(root), vec![(file.into(), Some(2))]);
    assert_eq!(
        deps(&inv, "project:example.com/app"),
        set(&[
            "pkg:golang/example.com/new@v1.1.0",
            "pkg:golang/github.com/google/uuid@v1.6.0",
            "pkg:golang/github.com/pkg/errors@v0.9.1",
            "pkg:golang/golang.org/x/text@v0.14.0",
            "pkg:golang/gopkg.in/yaml.v3@v3.0.1",
            "project:example.com/local",
        ])
    );

    let local = get(&inv, "project:example.com/local");
    assert_eq!(
        local.source,
        Source::Path {
            path: "./local".into()
        }
    );
    assert_eq!(
        prop(local, "vouch:replaces"),
        Some("example.com/local@v0.0.0-00010101000000-000000000000")
    );

    let errors = get(&inv, "pkg:golang/github.com/pkg/errors@v0.9.1");
    assert_eq!(errors.direct, Some(true));
    assert!(
        errors.hashes.is_empty(),
        "dirhashes are not artifact digests"
    );
    assert_eq!(
        prop(errors, "vouch:go-sum-h1"),
        Some("h1:vkvVZ3J3BHG2OVdNkZqS3hbA5SLqVgHiiSRhaRvflUU=")
    );
    assert_eq!(
        prop(errors, "vouch:go-sum-gomod-h1"),
        Some("h1:76QTTgAhJfura+lu6+QDq8jWeTNQmCojQSCKcYbGznM=")
    );
    assert_eq!(
        lines(errors),
        vec![(file.into(), Some(10)), (sum.into(), Some(6))]
    );
    assert_eq!(errors.source, Source::Registry { url: None });

    let text = get(&inv, "pkg:golang/golang.org/x/text@v0.14.0");
    assert_eq!(text.direct, Some(false));
    assert_eq!(lines(text)[0], (file.into(), Some(13)));
    let yaml = get(&inv, "pkg:golang/gopkg.in/yaml.v3@v3.0.1");
    assert_eq!(yaml.direct, Some(false), "`// indirect; ...` is indirect");
    assert_eq!(
        prop(yaml, "vouch:integrity-malformed"),
        Some("h1:not-base64!")
    );
    assert_eq!(prop(yaml, "vouch:go-sum-h1"), None);
    assert_eq!(yaml.name, "gopkg.in/yaml.v3");

    let new = get(&inv, "pkg:golang/example.com/new@v1.1.0");
    assert_eq!(prop(new, "vouch:replaces"), Some("example.com/old@v1.0.0"));
    assert_eq!(new.direct, Some(true));
    assert_eq!(lines(new)[0], (file.into(), Some(15)));
    assert_eq!(
        prop(new, "vouch:go-sum-h1"),
        Some("h1:EVB6Di9eadXfpApiob17buV+a82FxnybhDGzb/8hxDc=")
    );

    // The excluded requirement is not a package.
    assert!(!labels(&inv).iter().any(|l| l.contains("excluded")));
}

#[test]
fn gosum_alone_lists_downloaded_modules() {
    let inv = ok("gomod", "sum-only", "go.sum");
    assert_eq!(
        libraries(&inv),
        set(&[
            "pkg:golang/example.com/new@v1.1.0",
            "pkg:golang/github.com/google/uuid@v1.6.0",
            "pkg:golang/github.com/pkg/errors@v0.9.1",
            "pkg:golang/golang.org/x/text@v0.14.0",
            "pkg:golang/gopkg.in/yaml.v3@v3.0.1",
        ])
    );
    assert_eq!(roots(&inv), set(&["project:sum-only"]));
    assert_eq!(deps(&inv, "project:sum-only"), libraries(&inv));
    let uuid = get(&inv, "pkg:golang/github.com/google/uuid@v1.6.0");
    assert_eq!(lines(uuid), vec![("gomod/sum-only/go.sum".into(), Some(4))]);
    assert_eq!(uuid.direct, None);
    assert_eq!(
        prop(uuid, "vouch:go-sum-gomod-h1"),
        Some("h1:oEily/d9ARgZsXiiKPTDk2wqDDjDt2yZvA9HdU4GEHI=")
    );
}

#[test]
fn gomod_unclosed_block_fails() {
    let e = fail("gomod", "unclosed-block_fail", "go.mod");
    assert!(
        matches!(
            e.kind,
            ParseErrorKind::Syntax {
                syntax: "go.mod",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.line, Some(5));
}

#[test]
fn gomod_replace_without_version_fails() {
    let e = fail("gomod", "replace-without-version_fail", "go.mod");
    assert!(
        matches!(&e.kind, ParseErrorKind::InvalidField { field, .. } if field == "replace"),
        "{e}"
    );
    assert_eq!(e.line, Some(7));
}

#[test]
fn gosum_wrong_field_count_fails() {
    let e = fail("gomod", "sum-fields_fail", "go.sum");
    assert!(matches!(e.kind, ParseErrorKind::InvalidField { .. }), "{e}");
    assert_eq!(e.line, Some(2));
}

// ---------------------------------------------------------------------------------------------
// Gemfile.lock

#[test]
fn gemfile_sources_platforms_and_checksums() {
    let inv = ok("gemfile", "sources-and-checksums", "Gemfile.lock");
    let file = "gemfile/sources-and-checksums/Gemfile.lock";
    let widget = "pkg:gem/widget@0.4.0?vcs_url=git%2Bhttps://github.com/example/widget.git%400123456789abcdef0123456789abcdef01234567";
    let nok_arm = "pkg:gem/nokogiri@1.16.0?platform=arm64-darwin";
    let nok_x86 = "pkg:gem/nokogiri@1.16.0?platform=x86_64-linux";
    let private = "pkg:gem/private-gem@2.0.0?repository_url=https://gems.example.com/";
    assert_eq!(
        libraries(&inv),
        set(&[
            nok_arm,
            nok_x86,
            private,
            "pkg:gem/racc@1.7.3",
            "pkg:gem/rack@3.0.9",
            "pkg:gem/rake@13.1.0",
            widget,
        ])
    );
    assert_eq!(
        roots(&inv),
        set(&["project:sources-and-checksums", "project:billing"])
    );
    let root = get(&inv, "project:sources-and-checksums");
    assert_eq!(prop(root, "vouch:bundler-version"), Some("2.5.6"));
    assert_eq!(prop(root, "vouch:ruby-version"), Some("ruby 3.3.0p0"));
    assert_eq!(
        prop(root, "vouch:platforms"),
        Some("arm64-darwin, x86_64-linux")
    );
    assert_eq!(
        deps(&inv, "project:sources-and-checksums"),
        set(&[
            "project:billing",
            nok_arm,
            nok_x86,
            private,
            "pkg:gem/rake@13.1.0",
            widget
        ])
    );
    assert_eq!(deps(&inv, "project:billing"), set(&[widget]));
    assert_eq!(deps(&inv, widget), set(&["pkg:gem/rack@3.0.9"]));
    assert_eq!(deps(&inv, nok_x86), set(&["pkg:gem/racc@1.7.3"]));
    assert_eq!(deps(&inv, private), set(&["pkg:gem/rack@3.0.9"]));

    let billing = get(&inv, "project:billing");
    assert_eq!(
        billing.source,
        Source::Path {
            path: "engines/billing".into()
        }
    );
    let w = get(&inv, widget);
    assert_eq!(
        w.source,
        Source::Git {
            url: "https://github.com/example/widget.git".into(),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            reference: Some("main".into()),
        }
    );
    assert_eq!(lines(w), vec![(file.into(), Some(6))]);
    let arm = get(&inv, nok_arm);
    assert_eq!(arm.version.as_deref(), Some("1.16.0"));
    assert_eq!(
        arm.hashes,
        sha256("17fe076b078bd29849fc19201a7b2c52f5144d853bf621fd50d51d40e0bebdcd")
    );
    assert_eq!(lines(arm), vec![(file.into(), Some(18))]);
    let x86 = get(&inv, nok_x86);
    assert_eq!(
        x86.hashes,
        sha256("57b0164176f3d98f70593edfa9d6b4645926d02f4ed94f63f8428f4aca626877")
    );
    assert_eq!(lines(x86), vec![(file.into(), Some(20))]);
    let rack = get(&inv, "pkg:gem/rack@3.0.9");
    assert_eq!(
        rack.source,
        Source::Registry {
            url: Some("https://rubygems.org/".into())
        }
    );
    let p = get(&inv, private);
    assert!(p.hashes.is_empty());
    assert_eq!(prop(p, "vouch:integrity-malformed"), Some("sha256=nothex"));
    assert_eq!(
        p.source,
        Source::Registry {
            url: Some("https://gems.example.com/".into())
        }
    );
}

#[test]
fn gemfile_merge_conflict_fails() {
    let e = fail("gemfile", "merge-conflict_fail", "Gemfile.lock");
    assert!(matches!(e.kind, ParseErrorKind::InvalidField { .. }), "{e}");
    assert_eq!(e.line, Some(4));
}

#[test]
fn gemfile_spec_without_version_fails() {
    let e = fail("gemfile", "spec-without-version_fail", "Gemfile.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, context }
            if field == "version" && context.contains("rake")),
        "{e}"
    );
    assert_eq!(e.line, Some(5));
}

// ---------------------------------------------------------------------------------------------
// composer.lock

#[test]
fn composer_packages_sources_and_manifest_edges() {
    let inv = ok("composer", "with-manifest", "composer.lock");
    let file = "composer/with-manifest/composer.lock";
    let tool = "pkg:composer/acme/tool@dev-main?vcs_url=git%2Bhttps://github.com/acme/tool.git%40aaaabbbbccccddddeeeeffff0000111122223333";
    assert_eq!(
        libraries(&inv),
        set(&[
            tool,
            "pkg:composer/monolog/monolog@3.5.0",
            "pkg:composer/phpunit/phpunit@10.5.0",
            "pkg:composer/psr/log@3.0.0",
            "pkg:composer/sebastian/diff@5.1.0",
        ])
    );
    assert_eq!(
        roots(&inv),
        set(&["project:acme/app", "project:acme/local-plugin"])
    );
    let root = get(&inv, "project:acme/app");
    assert_eq!(
        prop(root, "vouch:composer-content-hash"),
        Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    );
    assert_eq!(
        deps(&inv, "project:acme/app"),
        set(&[
            "project:acme/local-plugin",
            tool,
            "pkg:composer/monolog/monolog@3.5.0",
            "pkg:composer/phpunit/phpunit@10.5.0",
        ])
    );
    assert_eq!(
        deps(&inv, "project:acme/local-plugin"),
        set(&["pkg:composer/monolog/monolog@3.5.0"])
    );
    // `psr/log-implementation` is provided by monolog; `ext-json` and `php` are platform.
    assert_eq!(
        deps(&inv, tool),
        set(&["pkg:composer/monolog/monolog@3.5.0"])
    );
    assert_eq!(
        deps(&inv, "pkg:composer/monolog/monolog@3.5.0"),
        set(&["pkg:composer/psr/log@3.0.0"])
    );
    assert_eq!(
        deps(&inv, "pkg:composer/phpunit/phpunit@10.5.0"),
        set(&["pkg:composer/sebastian/diff@5.1.0"])
    );

    let plugin = get(&inv, "project:acme/local-plugin");
    assert_eq!(
        plugin.source,
        Source::Path {
            path: "../plugin".into()
        }
    );
    let t = get(&inv, tool);
    assert_eq!(
        t.source,
        Source::Git {
            url: "https://github.com/acme/tool.git".into(),
            commit: Some("aaaabbbbccccddddeeeeffff0000111122223333".into()),
            reference: None,
        }
    );
    assert!(t.hashes.is_empty(), "an empty shasum is no hash");
    assert_eq!(lines(t), vec![(file.into(), Some(24))]);

    let monolog = get(&inv, "pkg:composer/monolog/monolog@3.5.0");
    assert_eq!(
        monolog.source,
        Source::Registry {
            url: Some(
                "https://api.github.com/repos/Seldaek/monolog/zipball/c915e2634718dbc8a4a15c61b0e62e7a44e14448"
                    .into()
            )
        }
    );
    assert_eq!(monolog.licenses, SortedSet::from(set(&["MIT"])));
    assert_eq!(monolog.scope, Scope::Required);
    assert_eq!(lines(monolog), vec![(file.into(), Some(45))]);

    let psr = get(&inv, "pkg:composer/psr/log@3.0.0");
    assert_eq!(
        psr.hashes,
        SortedSet::from([Digest::from_hex(
            Algorithm::Sha1,
            "d4a6ad7dd7e941593ce9f3105e3550d6fb809533"
        )
        .unwrap()])
    );
    assert_eq!(psr.licenses, SortedSet::from(set(&["MIT"])));
    assert_eq!(psr.name, "psr/log");
    assert_eq!(psr.ecosystem, Ecosystem::Composer);

    let phpunit = get(&inv, "pkg:composer/phpunit/phpunit@10.5.0");
    assert_eq!(phpunit.scope, Scope::Dev);
    assert_eq!(prop(phpunit, "vouch:integrity-malformed"), Some("zz"));
    assert_eq!(phpunit.licenses, SortedSet::from(set(&["BSD-3-Clause"])));
    let diff = get(&inv, "pkg:composer/sebastian/diff@5.1.0");
    assert_eq!(diff.scope, Scope::Dev);
    assert_eq!(lines(diff), vec![(file.into(), Some(103))]);
}

#[test]
fn composer_missing_version_fails() {
    let e = fail("composer", "missing-version_fail", "composer.lock");
    assert!(
        matches!(&e.kind, ParseErrorKind::MissingField { field, context }
            if field == "version" && context.contains("psr/container")),
        "{e}"
    );
    assert_eq!(e.line, Some(7));
}

#[test]
fn composer_bad_json_fails() {
    let e = fail("composer", "bad-json_fail", "composer.lock");
    assert!(
        matches!(e.kind, ParseErrorKind::Syntax { syntax: "JSON", .. }),
        "{e}"
    );
    assert_eq!(e.line, Some(6));
}

// ---------------------------------------------------------------------------------------------
// gradle.lockfile

#[test]
fn gradle_configurations_decide_scope() {
    let inv = ok("gradle", "configurations", "gradle.lockfile");
    let file = "gradle/configurations/gradle.lockfile";
    assert_eq!(
        libraries(&inv),
        set(&[
            "pkg:maven/com.google.guava/guava@33.0.0-jre",
            "pkg:maven/junit/junit@4.13.2",
            "pkg:maven/org.hamcrest/hamcrest-core@1.3",
            "pkg:maven/org.slf4j/slf4j-api@2.0.9",
        ])
    );
    assert_eq!(roots(&inv), set(&["project:configurations"]));
    assert_eq!(deps(&inv, "project:configurations"), libraries(&inv));
    let scope = |l: &str| get(&inv, l).scope;
    assert_eq!(
        scope("pkg:maven/com.google.guava/guava@33.0.0-jre"),
        Scope::Required
    );
    assert_eq!(scope("pkg:maven/junit/junit@4.13.2"), Scope::Dev);
    assert_eq!(
        scope("pkg:maven/org.hamcrest/hamcrest-core@1.3"),
        Scope::Dev
    );
    assert_eq!(
        scope("pkg:maven/org.slf4j/slf4j-api@2.0.9"),
        Scope::Required
    );
    let junit = get(&inv, "pkg:maven/junit/junit@4.13.2");
    assert_eq!(junit.name, "junit:junit");
    assert_eq!(lines(junit), vec![(file.into(), Some(5))]);
    assert_eq!(
        prop(junit, "vouch:gradle-configurations"),
        Some("testCompileClasspath,testRuntimeClasspath")
    );
    let root = get(&inv, "project:configurations");
    assert_eq!(
        prop(root, "vouch:gradle-empty-configurations"),
        Some("annotationProcessor,testAnnotationProcessor")
    );
}

#[test]
fn gradle_bad_coordinates_fail() {
    let e = fail("gradle", "bad-coordinates_fail", "gradle.lockfile");
    assert!(matches!(e.kind, ParseErrorKind::InvalidField { .. }), "{e}");
    assert_eq!(e.line, Some(3));
}

#[test]
fn cargo_dev_dependencies_come_from_the_manifest() {
    let inv = ok("cargo", "dev-dependencies", "Cargo.lock");
    let scope = |purl: &str| get(&inv, purl).scope;
    assert_eq!(scope("pkg:cargo/pretty_assertions@1.4.0"), Scope::Dev);
    assert_eq!(scope("pkg:cargo/diff@0.1.13"), Scope::Dev);
    // A dev-dependency of `app` that `ryu-user` needs at run time stays required.
    assert_eq!(scope("pkg:cargo/itoa@1.0.11"), Scope::Required);
}

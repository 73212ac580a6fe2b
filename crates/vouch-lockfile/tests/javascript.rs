//! The JavaScript lockfile parsers (npm, yarn, pnpm, bun) against hand-written fixtures under
//! `tests/fixtures/{npm,yarn,pnpm,bun}/`. Expected values are written from the fixtures and the
//! formats' documentation, not from the parsers' output.

// Clippy's test allowances cover `#[test]` functions only; the helpers below panic on purpose.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use vouch_inventory::{
    Algorithm, Digest, Inventory, Kind, Package, PackageId, Scope, SortedSet, Source,
};
use vouch_lockfile::{ParseError, ParseErrorKind, parse_path};

fn parse(rel: &str) -> Inventory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    match parse_path(&path, rel) {
        Ok((_, inv)) => inv,
        Err(e) => panic!("{rel}: {e}"),
    }
}

fn fail(rel: &str) -> ParseError {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    match parse_path(&path, rel) {
        Ok(_) => panic!("{rel}: parsed, but should fail"),
        Err(e) => e,
    }
}

/// `name@version` for libraries, `project:name` for projects.
fn label(p: &Package) -> String {
    match p.kind {
        Kind::Project => format!("project:{}", p.name),
        _ => format!("{}@{}", p.name, p.version.as_deref().unwrap_or("")),
    }
}

fn find<'a>(inv: &'a Inventory, l: &str) -> (&'a PackageId, &'a Package) {
    let found: Vec<_> = inv.packages().filter(|(_, p)| label(p) == l).collect();
    match found.as_slice() {
        [one] => *one,
        _ => panic!(
            "{l}: found {} packages; all: {:?}",
            found.len(),
            inv.packages().map(|(_, p)| label(p)).collect::<Vec<_>>()
        ),
    }
}

fn pkg<'a>(inv: &'a Inventory, l: &str) -> &'a Package {
    find(inv, l).1
}

fn libraries(inv: &Inventory) -> BTreeSet<String> {
    inv.libraries().map(|(_, p)| label(p)).collect()
}

fn roots(inv: &Inventory) -> BTreeSet<String> {
    inv.roots()
        .iter()
        .filter_map(|id| inv.get(id))
        .map(label)
        .collect()
}

fn deps(inv: &Inventory, l: &str) -> BTreeSet<String> {
    let (id, _) = find(inv, l);
    inv.dependencies(id)
        .filter_map(|d| inv.get(d))
        .map(label)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn lines(p: &Package) -> Vec<u32> {
    p.evidence.iter().filter_map(|e| e.line).collect()
}

fn purl(p: &Package) -> String {
    p.purl.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn qualifier(p: &Package, key: &str) -> Option<String> {
    p.purl.as_ref()?.qualifiers().get(key).cloned()
}

fn prop<'a>(p: &'a Package, key: &str) -> Option<&'a str> {
    p.properties.get(key).map(String::as_str)
}

fn sri(s: &str) -> Digest {
    Digest::from_sri(s).unwrap()
}

fn hashes(items: &[Digest]) -> SortedSet<Digest> {
    items.iter().cloned().collect()
}

fn registry(url: &str) -> Source {
    Source::Registry {
        url: Some(url.to_owned()),
    }
}

fn git(url: &str, commit: &str, reference: Option<&str>) -> Source {
    Source::Git {
        url: url.to_owned(),
        commit: Some(commit.to_owned()),
        reference: reference.map(str::to_owned),
    }
}

fn path(p: &str) -> Source {
    Source::Path { path: p.to_owned() }
}

// SRI values of the fixtures: sha512 / sha1 of the one-letter strings "a" to "h".
const SHA512_A: &str = "sha512-H0D8ktokFpR1CXnubPWC8tXX0o4YM13gWrxU0FYOD1MChgxlK/CNVgJSql50IQVG82n7u86MEs/HlXsmUv6adQ==";
const SHA512_B: &str = "sha512-Umd2iCLuYk1I/OFexcp5y9YCy39MIVelFlVpkfIu+Me173sY0f9BxZNw77CFhlHUSpNsEbexRMSP4E3zxqPo2g==";
const SHA512_C: &str = "sha512-rMKNsr63tCuqHLAkPUAcy04/zkTXsCh5pSeZqt/1QVItiCJZiy+mZPnVFWwAySSAXXXDhovVbCrLgdN+mONa3A==";
const SHA512_D: &str = "sha512-SPsQsV89RKCdyC0CsGWB4MDGlHjJ/Sz4+Qk2WQGaFoe67NuzjJ5ysSFp3EFIaQ+HRn+RVPWTHF32ZcZJbL/V9Q==";
const SHA512_E: &str = "sha512-h8Vo4Del+lCxvJEejuGad8TdPCK86ZMvhv3Yohav4WgciXN/raaFnpEEfuznEewW2mLWzLn9DeLFHxMjRzUNjA==";
const SHA512_F: &str = "sha512-cRwiRI5yHlSR2CRbSUJaqGHx/EoVKH8HNeIDeZtlz/7FC1q9D93ZHNZDrrO1MNSPBeJY5+IwqU7VAlwTh7tOGw==";
const SHA512_G: &str = "sha512-GfFCsBjzB7/fHHAJ0VopQXyW2GeNKYLuvOSWGy5n7rEYqOux11twCHw+Zbx5NFDj/koQACvvotA45a7UeWk38g==";
const SHA512_H: &str = "sha512-IkG8j8cHBbQu/q03H9SYLFummRfltLiVgQACZE8DhtqcMTF5NFjCv0dghIDWSgcngTPJmRLgui2vIwmPNSDrlw==";
const SHA1_A: &str = "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8";
const SHA1_B: &str = "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98";
const SHA1_C: &str = "84a516841ba77a5b4648de2cd0dfcb30ea46dbb4";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn sha1(hex: &str) -> Digest {
    Digest::from_hex(Algorithm::Sha1, hex).unwrap()
}

// ---------------------------------------------------------------------------------------------
// npm

#[test]
fn npm_v3_workspace() {
    let inv = parse("npm/v3-workspace/package-lock.json");
    assert_eq!(
        roots(&inv),
        set(&["project:web", "project:@web/app", "project:local"])
    );
    assert_eq!(
        libraries(&inv),
        set(&[
            "@scope/p@3.0.0",
            "a@1.0.0",
            "b@2.0.0",
            "c@1.0.0",
            "c@2.0.0",
            "d@1.0.0",
            "e@1.0.0",
            "f@1.0.0",
            "gitdep@0.1.0",
        ])
    );

    let web = pkg(&inv, "project:web");
    assert_eq!(web.version.as_deref(), Some("1.0.0"));
    assert_eq!(web.licenses, SortedSet::from(set(&["MIT"])));
    assert_eq!(lines(web), [7]);
    let app = pkg(&inv, "project:@web/app");
    assert_eq!(app.version.as_deref(), Some("0.2.0"));
    assert_eq!(app.source, path("packages/app"));
    assert_eq!(lines(app), [99]);
    let local = pkg(&inv, "project:local");
    assert_eq!(local.source, path("vendor/local"));
    assert_eq!(lines(local), [112]);

    let a = pkg(&inv, "a@1.0.0");
    assert_eq!(purl(a), "pkg:npm/a@1.0.0");
    assert_eq!(
        a.source,
        registry("https://registry.npmjs.org/a/-/a-1.0.0.tgz")
    );
    assert_eq!(a.hashes, hashes(&[sri(SHA512_A)]));
    assert_eq!(a.licenses, SortedSet::from(set(&["ISC"])));
    assert_eq!(a.scope, Scope::Required);
    assert_eq!(lines(a), [34]);

    let p = pkg(&inv, "@scope/p@3.0.0");
    assert_eq!(purl(p), "pkg:npm/%40scope/p@3.0.0");
    assert_eq!(p.scope, Scope::Dev);
    assert_eq!(prop(p, "vouch:npm-peer"), Some("true"));
    assert_eq!(lines(p), [27]);

    // One package at two locations merges; its evidence keeps both.
    assert_eq!(lines(pkg(&inv, "c@1.0.0")), [43, 107]);

    let b = pkg(&inv, "b@2.0.0");
    assert_eq!(purl(b), "pkg:npm/b@2.0.0");
    assert_eq!(prop(b, "vouch:npm-alias"), Some("b-alias"));
    assert_eq!(b.hashes, hashes(&[sri(SHA512_B), sha1(SHA1_B)]));

    let c2 = pkg(&inv, "c@2.0.0");
    assert!(c2.hashes.is_empty());
    assert_eq!(
        prop(c2, "vouch:integrity-malformed"),
        Some("sha512-not*base64")
    );
    assert_eq!(c2.scope, Scope::Dev);

    assert_eq!(pkg(&inv, "d@1.0.0").scope, Scope::Dev);
    assert_eq!(pkg(&inv, "e@1.0.0").scope, Scope::Optional);
    let f = pkg(&inv, "f@1.0.0");
    assert_eq!(f.scope, Scope::Optional);
    assert_eq!(prop(f, "vouch:bundled"), Some("true"));

    let g = pkg(&inv, "gitdep@0.1.0");
    assert_eq!(
        g.source,
        git("git+ssh://git@github.com/owner/gitdep.git", COMMIT, None)
    );
    assert_eq!(
        qualifier(g, "vcs_url").as_deref(),
        Some("git+ssh://git@github.com/owner/gitdep.git@0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(g.licenses, SortedSet::from(set(&["BSD-3-Clause"])));

    assert_eq!(
        deps(&inv, "project:web"),
        set(&[
            "a@1.0.0",
            "b@2.0.0",
            "gitdep@0.1.0",
            "project:local",
            "d@1.0.0",
            "e@1.0.0"
        ])
    );
    assert_eq!(deps(&inv, "a@1.0.0"), set(&["c@1.0.0"]));
    assert_eq!(deps(&inv, "d@1.0.0"), set(&["c@2.0.0", "@scope/p@3.0.0"]));
    assert_eq!(deps(&inv, "e@1.0.0"), set(&["f@1.0.0"]));
    // From the workspace folder: its own nested `c`, and `a` found by walking up.
    assert_eq!(deps(&inv, "project:@web/app"), set(&["a@1.0.0", "c@1.0.0"]));
}

#[test]
fn npm_v1_nested() {
    let inv = parse("npm/v1-nested/package-lock.json");
    assert_eq!(roots(&inv), set(&["project:legacy", "project:h"]));
    assert_eq!(
        pkg(&inv, "project:legacy").version.as_deref(),
        Some("2.0.0")
    );
    let h = pkg(&inv, "project:h");
    assert_eq!(h.source, path("h"));
    assert_eq!(lines(h), [56]);
    assert_eq!(
        libraries(&inv),
        set(&[
            "a@1.0.0",
            "b@1.5.0",
            "b@2.0.0",
            "bundler@1.0.0",
            "inner@1.0.0",
            "c@2.1.0",
            "c@1.0.0",
            "g@",
        ])
    );
    let a = pkg(&inv, "a@1.0.0");
    assert_eq!(a.hashes, hashes(&[sha1(SHA1_A)]));
    assert_eq!(lines(a), [7]);
    let b15 = pkg(&inv, "b@1.5.0");
    assert_eq!(b15.hashes, hashes(&[sri(SHA512_B)]));
    assert_eq!(lines(b15), [16]);
    assert_eq!(pkg(&inv, "b@2.0.0").scope, Scope::Dev);
    assert_eq!(lines(pkg(&inv, "b@2.0.0")), [26]);
    assert_eq!(pkg(&inv, "c@2.1.0").scope, Scope::Optional);
    let inner = pkg(&inv, "inner@1.0.0");
    assert_eq!(prop(inner, "vouch:bundled"), Some("true"));
    assert_eq!(lines(inner), [37]);
    let c1 = pkg(&inv, "c@1.0.0");
    assert_eq!(purl(c1), "pkg:npm/c@1.0.0");
    assert_eq!(prop(c1, "vouch:npm-alias"), Some("c-old"));
    assert_eq!(c1.hashes, hashes(&[sri(SHA512_C)]));
    let g = pkg(&inv, "g@");
    assert_eq!(
        g.source,
        git(
            "git+https://github.com/o/g.git",
            "89abcdef0123456789abcdef0123456789abcdef",
            None
        )
    );
    assert_eq!(lines(g), [52]);

    assert_eq!(deps(&inv, "a@1.0.0"), set(&["b@1.5.0", "c@2.1.0"]));
    assert_eq!(deps(&inv, "b@1.5.0"), set(&["c@2.1.0"]));
    assert_eq!(deps(&inv, "bundler@1.0.0"), set(&["inner@1.0.0"]));
    assert_eq!(deps(&inv, "project:h"), set(&["c@2.1.0"]));
    // v1 does not record the root's dependencies: the top-level packages nothing requires.
    assert_eq!(
        deps(&inv, "project:legacy"),
        set(&["a@1.0.0", "b@2.0.0", "bundler@1.0.0", "c@1.0.0", "g@"])
    );
}

#[test]
fn npm_failures() {
    let e = fail("npm/unsupported-version_fail/package-lock.json");
    assert!(matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "4"));
    assert_eq!(e.line, Some(3));
    let e = fail("npm/syntax_fail/package-lock.json");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Syntax { syntax: "JSON", .. }
    ));
    assert_eq!(e.line, Some(6));
}

// ---------------------------------------------------------------------------------------------
// yarn

#[test]
fn yarn_classic() {
    let inv = parse("yarn/classic/yarn.lock");
    assert_eq!(roots(&inv), set(&["project:classic", "project:local"]));
    let local = pkg(&inv, "project:local");
    assert_eq!(local.version.as_deref(), Some("0.0.1"));
    assert_eq!(local.source, path("./local"));
    assert_eq!(lines(local), [24]);
    assert_eq!(
        libraries(&inv),
        set(&[
            "@scope/x@1.2.0",
            "fsevents@2.3.3",
            "gitpkg@0.5.0",
            "y@2.1.0",
            "z@3.0.0"
        ])
    );
    let x = pkg(&inv, "@scope/x@1.2.0");
    assert_eq!(purl(x), "pkg:npm/%40scope/x@1.2.0");
    assert_eq!(lines(x), [5]);
    // The `resolved` fragment is the tarball's SHA-1; `integrity` adds the SHA-512.
    assert_eq!(x.hashes, hashes(&[sri(SHA512_A), sha1(SHA1_A)]));
    assert_eq!(
        x.source,
        registry("https://registry.yarnpkg.com/@scope/x/-/x-1.2.0.tgz")
    );
    let fsevents = pkg(&inv, "fsevents@2.3.3");
    assert_eq!(fsevents.hashes, hashes(&[sri(SHA512_B), sha1(SHA1_B)]));
    assert_eq!(lines(fsevents), [15]);
    let gitpkg = pkg(&inv, "gitpkg@0.5.0");
    assert_eq!(
        gitpkg.source,
        git("git+https://github.com/o/gitpkg.git", COMMIT, None)
    );
    assert!(gitpkg.hashes.is_empty());
    assert_eq!(lines(gitpkg), [20]);
    let y = pkg(&inv, "y@2.1.0");
    // The SRI's sha1 and the fragment's sha1 are the same digest.
    assert_eq!(y.hashes, hashes(&[sri(SHA512_C), sha1(SHA1_C)]));
    assert_eq!(lines(y), [29]);
    let z = pkg(&inv, "z@3.0.0");
    assert_eq!(prop(z, "vouch:npm-alias"), Some("z-alias"));
    assert_eq!(prop(z, "vouch:integrity-malformed"), Some("sha512-bogus"));
    assert_eq!(
        z.source,
        registry("https://registry.yarnpkg.com/z/-/z-3.0.0.tgz")
    );
    assert_eq!(lines(z), [36]);

    assert_eq!(
        deps(&inv, "@scope/x@1.2.0"),
        set(&["y@2.1.0", "z@3.0.0", "fsevents@2.3.3"])
    );
    assert_eq!(deps(&inv, "y@2.1.0"), set(&["@scope/x@1.2.0"]));
    assert_eq!(deps(&inv, "project:local"), set(&["fsevents@2.3.3"]));
    // No record of the project's own dependencies: the orphan, and one member of the cycle.
    assert_eq!(
        deps(&inv, "project:classic"),
        set(&["gitpkg@0.5.0", "@scope/x@1.2.0"])
    );
}

#[test]
fn yarn_berry() {
    let inv = parse("yarn/berry/yarn.lock");
    assert_eq!(
        roots(&inv),
        set(&["project:monorepo", "project:@scope/lib", "project:shared"])
    );
    let top = pkg(&inv, "project:monorepo");
    assert_eq!(top.source, path("."));
    assert_eq!(top.version, None);
    assert_eq!(lines(top), [30]);
    assert_eq!(pkg(&inv, "project:@scope/lib").source, path("packages/lib"));
    assert_eq!(lines(pkg(&inv, "project:@scope/lib")), [8]);
    assert_eq!(pkg(&inv, "project:shared").source, path("../shared"));
    assert_eq!(
        libraries(&inv),
        set(&[
            "left-pad@1.3.0",
            "left-pad@1.1.0",
            "tool@2.0.0",
            "typescript@5.4.5"
        ])
    );
    let lp = pkg(&inv, "left-pad@1.3.0");
    assert_eq!(purl(lp), "pkg:npm/left-pad@1.3.0");
    assert_eq!(lp.source, Source::Registry { url: None });
    // The berry checksum hashes yarn's zip, not the npm tarball: never a hash.
    assert!(lp.hashes.is_empty());
    assert_eq!(
        prop(lp, "vouch:yarn-checksum"),
        Some(
            "10c0/1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
        )
    );
    assert_eq!(prop(lp, "vouch:yarn-cache-key"), Some("10c0"));
    assert_eq!(lines(lp), [16]);
    let old = pkg(&inv, "left-pad@1.1.0");
    assert_eq!(prop(old, "vouch:npm-alias"), Some("lp-old"));
    assert_eq!(lines(old), [23]);
    let tool = pkg(&inv, "tool@2.0.0");
    assert_eq!(
        tool.source,
        git("https://github.com/o/tool.git", COMMIT, None)
    );
    assert_eq!(
        qualifier(tool, "vcs_url").as_deref(),
        Some("git+https://github.com/o/tool.git@0123456789abcdef0123456789abcdef01234567")
    );
    // The patched package is typescript 5.4.5 with a patch: one package, patch as a property.
    let ts = pkg(&inv, "typescript@5.4.5");
    assert_eq!(purl(ts), "pkg:npm/typescript@5.4.5");
    assert_eq!(lines(ts), [58, 65]);
    assert_eq!(
        prop(ts, "vouch:yarn-patch"),
        Some(
            "typescript@patch:typescript@npm%3A5.4.5#optional!builtin<compat/typescript>::version=5.4.5&hash=5adc0c"
        )
    );
    assert!(prop(ts, "vouch:yarn-patched-checksum").is_some_and(|c| c.ends_with("5555")));
    assert!(ts.hashes.is_empty());

    assert_eq!(
        deps(&inv, "project:monorepo"),
        set(&[
            "project:@scope/lib",
            "left-pad@1.3.0",
            "left-pad@1.1.0",
            "project:shared",
            "tool@2.0.0",
            "typescript@5.4.5",
        ])
    );
    assert_eq!(deps(&inv, "project:@scope/lib"), set(&["left-pad@1.3.0"]));
    // A bare range (`^1.3.0`) is read as `npm:^1.3.0`.
    assert_eq!(deps(&inv, "tool@2.0.0"), set(&["left-pad@1.3.0"]));
}

#[test]
fn yarn_failures() {
    let e = fail("yarn/classic-missing-version_fail/yarn.lock");
    assert!(matches!(e.kind, ParseErrorKind::MissingField { ref field, .. } if field == "version"));
    assert_eq!(e.line, Some(4));
    let e = fail("yarn/classic-bad-indent_fail/yarn.lock");
    assert!(matches!(e.kind, ParseErrorKind::Syntax { .. }));
    assert_eq!(e.line, Some(6));
    let e = fail("yarn/berry-unsupported_fail/yarn.lock");
    assert!(
        matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "99")
    );
    assert_eq!(e.line, Some(2));
}

// ---------------------------------------------------------------------------------------------
// pnpm

#[test]
fn pnpm_v9_workspace() {
    let inv = parse("pnpm/v9-workspace/pnpm-lock.yaml");
    assert_eq!(
        roots(&inv),
        set(&[
            "project:v9-workspace",
            "project:packages/lib",
            "project:local-dep"
        ])
    );
    assert_eq!(lines(pkg(&inv, "project:v9-workspace")), [9]);
    assert_eq!(
        pkg(&inv, "project:packages/lib").source,
        path("packages/lib")
    );
    assert_eq!(lines(pkg(&inv, "project:packages/lib")), [31]);
    let local = pkg(&inv, "project:local-dep");
    assert_eq!(local.source, path("vendor/local-dep"));
    assert_eq!(lines(local), [56]);
    assert_eq!(
        libraries(&inv),
        set(&[
            "fsevents@2.3.3",
            "is-number@7.0.0",
            "js-tokens@4.0.0",
            "loose-envify@1.4.0",
            "react-dom@18.2.0",
            "react@18.2.0",
            "slash@3.0.0",
            "typescript@5.4.5",
        ])
    );
    let fsevents = pkg(&inv, "fsevents@2.3.3");
    assert_eq!(fsevents.scope, Scope::Optional);
    assert_eq!(fsevents.hashes, hashes(&[sri(SHA512_E)]));
    assert_eq!(lines(fsevents), [43]);
    let is_number = pkg(&inv, "is-number@7.0.0");
    assert_eq!(
        is_number.source,
        git(
            "https://github.com/jonschlinkert/is-number.git",
            "98e8ff1da1a89f93d1397a24d7413ed15421c139",
            None
        )
    );
    assert_eq!(is_number.scope, Scope::Dev);
    assert_eq!(lines(is_number), [48]);
    let react_dom = pkg(&inv, "react-dom@18.2.0");
    assert_eq!(react_dom.hashes, hashes(&[sri(SHA512_C)]));
    assert_eq!(react_dom.source, Source::Registry { url: None });
    assert_eq!(react_dom.scope, Scope::Required);
    assert_eq!(lines(react_dom), [63]);
    let loose = pkg(&inv, "loose-envify@1.4.0");
    assert_eq!(prop(loose, "vouch:patched"), Some("true"));
    assert_eq!(loose.scope, Scope::Required);
    assert_eq!(pkg(&inv, "js-tokens@4.0.0").scope, Scope::Required);
    assert_eq!(pkg(&inv, "slash@3.0.0").scope, Scope::Required);
    assert_eq!(pkg(&inv, "typescript@5.4.5").scope, Scope::Dev);
    assert_eq!(lines(pkg(&inv, "typescript@5.4.5")), [74]);

    assert_eq!(
        deps(&inv, "project:v9-workspace"),
        set(&[
            "project:packages/lib",
            "slash@3.0.0",
            "react-dom@18.2.0",
            "is-number@7.0.0",
            "project:local-dep",
            "typescript@5.4.5",
        ])
    );
    assert_eq!(
        deps(&inv, "project:packages/lib"),
        set(&["react@18.2.0", "fsevents@2.3.3"])
    );
    assert_eq!(
        deps(&inv, "react-dom@18.2.0"),
        set(&["loose-envify@1.4.0", "react@18.2.0"])
    );
    assert_eq!(deps(&inv, "react@18.2.0"), set(&["loose-envify@1.4.0"]));
    assert_eq!(deps(&inv, "loose-envify@1.4.0"), set(&["js-tokens@4.0.0"]));
    assert_eq!(deps(&inv, "project:local-dep"), set(&["js-tokens@4.0.0"]));
}

#[test]
fn pnpm_v6_single_project() {
    let inv = parse("pnpm/v6-single/pnpm-lock.yaml");
    assert_eq!(roots(&inv), set(&["project:v6-single"]));
    assert_eq!(
        libraries(&inv),
        set(&[
            "@types/node@20.1.0",
            "js-tokens@4.0.0",
            "loose-envify@1.4.0",
            "react-dom@18.2.0",
            "react@17.0.2",
            "react@18.2.0",
            "string-width@4.2.3",
            "repo@1.0.0",
        ])
    );
    let types = pkg(&inv, "@types/node@20.1.0");
    assert_eq!(purl(types), "pkg:npm/%40types/node@20.1.0");
    assert_eq!(types.scope, Scope::Dev);
    assert_eq!(lines(types), [25]);
    // Two peer variants, one dev and one not: one package, needed at run time.
    let react_dom = pkg(&inv, "react-dom@18.2.0");
    assert_eq!(react_dom.scope, Scope::Required);
    assert_eq!(lines(react_dom), [40, 49]);
    assert_eq!(react_dom.hashes, hashes(&[sri(SHA512_D)]));
    assert_eq!(pkg(&inv, "react@17.0.2").scope, Scope::Dev);
    assert_eq!(pkg(&inv, "react@18.2.0").scope, Scope::Required);
    assert_eq!(pkg(&inv, "string-width@4.2.3").scope, Scope::Dev);
    let repo = pkg(&inv, "repo@1.0.0");
    assert_eq!(
        repo.source,
        git("https://github.com/o/repo.git", COMMIT, None)
    );
    assert_eq!(lines(repo), [72]);

    assert_eq!(
        deps(&inv, "project:v6-single"),
        set(&[
            "react-dom@18.2.0",
            "repo@1.0.0",
            "@types/node@20.1.0",
            "string-width@4.2.3"
        ])
    );
    assert_eq!(
        deps(&inv, "react-dom@18.2.0"),
        set(&["loose-envify@1.4.0", "react@17.0.2", "react@18.2.0"])
    );
    assert_eq!(deps(&inv, "loose-envify@1.4.0"), set(&["js-tokens@4.0.0"]));
}

#[test]
fn pnpm_v5_importers() {
    let inv = parse("pnpm/v5-importers/pnpm-lock.yaml");
    assert_eq!(
        roots(&inv),
        set(&[
            "project:v5-importers",
            "project:packages/x",
            "project:thing"
        ])
    );
    let thing = pkg(&inv, "project:thing");
    assert_eq!(thing.version.as_deref(), Some("0.1.0"));
    assert_eq!(thing.source, path("vendor/thing"));
    assert_eq!(lines(thing), [49]);
    assert_eq!(
        libraries(&inv),
        set(&[
            "@types/babel__core@7.1.14",
            "a@1.0.0",
            "b@2.0.0",
            "slash@3.0.0"
        ])
    );
    let types = pkg(&inv, "@types/babel__core@7.1.14");
    assert_eq!(purl(types), "pkg:npm/%40types/babel__core@7.1.14");
    assert_eq!(types.scope, Scope::Dev);
    let a = pkg(&inv, "a@1.0.0");
    assert_eq!(lines(a), [30, 34]);
    assert_eq!(a.hashes, hashes(&[sri(SHA512_A)]));
    // No `dev` key: used by dev and prod.
    assert_eq!(pkg(&inv, "b@2.0.0").scope, Scope::Required);

    assert_eq!(
        deps(&inv, "project:v5-importers"),
        set(&[
            "a@1.0.0",
            "slash@3.0.0",
            "b@2.0.0",
            "@types/babel__core@7.1.14"
        ])
    );
    assert_eq!(
        deps(&inv, "project:packages/x"),
        set(&["a@1.0.0", "project:v5-importers"])
    );
    assert_eq!(deps(&inv, "a@1.0.0"), set(&["b@2.0.0"]));
}

#[test]
fn pnpm_multi_document() {
    let inv = parse("pnpm/multi-doc/pnpm-lock.yaml");
    assert_eq!(libraries(&inv), set(&["minimist@1.2.0"]));
    let m = pkg(&inv, "minimist@1.2.0");
    assert_eq!(lines(m), [35]);
    assert_eq!(m.hashes, hashes(&[sri(SHA512_B)]));
    assert_eq!(lines(pkg(&inv, "project:multi-doc")), [27]);
    assert_eq!(deps(&inv, "project:multi-doc"), set(&["minimist@1.2.0"]));
}

#[test]
fn pnpm_failures() {
    let e = fail("pnpm/unsupported-version_fail/pnpm-lock.yaml");
    assert!(
        matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "4.0")
    );
    assert_eq!(e.line, Some(1));
    let e = fail("pnpm/bad-yaml_fail/pnpm-lock.yaml");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Syntax { syntax: "YAML", .. }
    ));
    assert_eq!(e.line, Some(6));
}

// ---------------------------------------------------------------------------------------------
// bun

#[test]
fn bun_workspace() {
    let inv = parse("bun/workspace/bun.lock");
    assert_eq!(
        roots(&inv),
        set(&["project:app", "project:@s/lib", "project:loc"])
    );
    assert_eq!(lines(pkg(&inv, "project:app")), [5]);
    let lib = pkg(&inv, "project:@s/lib");
    assert_eq!(lib.version.as_deref(), Some("0.3.0"));
    assert_eq!(lib.source, path("packages/lib"));
    assert_eq!(lines(lib), [19]);
    let loc = pkg(&inv, "project:loc");
    assert_eq!(loc.source, path("vendor/loc"));
    assert_eq!(lines(loc), [38]);
    assert_eq!(
        libraries(&inv),
        set(&[
            "a@1.0.0",
            "a@2.0.0",
            "b@1.0.0",
            "b@2.0.0",
            "d@1.0.0",
            "gh@",
            "tb@",
            "wrap@7.0.0",
        ])
    );
    let a = pkg(&inv, "a@1.0.0");
    assert_eq!(a.hashes, hashes(&[sri(SHA512_A)]));
    assert_eq!(a.source, Source::Registry { url: None });
    assert_eq!(a.scope, Scope::Required);
    assert_eq!(lines(a), [30]);
    let d = pkg(&inv, "d@1.0.0");
    assert_eq!(d.source, registry("https://npm.example.com/"));
    assert_eq!(d.scope, Scope::Dev);
    assert_eq!(d.hashes, hashes(&[sri(SHA512_D)]));
    let gh = pkg(&inv, "gh@");
    assert_eq!(
        gh.source,
        git("https://github.com/o/gh.git", "0a1b2c3", Some("main"))
    );
    assert_eq!(lines(gh), [36]);
    let tb = pkg(&inv, "tb@");
    assert_eq!(
        tb.source,
        Source::Url {
            url: "https://example.com/tb-1.0.0.tgz".to_owned()
        }
    );
    assert_eq!(
        qualifier(tb, "download_url").as_deref(),
        Some("https://example.com/tb-1.0.0.tgz")
    );
    assert_eq!(tb.hashes, hashes(&[sri(SHA512_E)]));
    let wrap = pkg(&inv, "wrap@7.0.0");
    assert_eq!(prop(wrap, "vouch:npm-alias"), Some("wrap-cjs"));
    assert_eq!(wrap.hashes, hashes(&[sri(SHA512_H)]));
    let a2 = pkg(&inv, "a@2.0.0");
    assert_eq!(a2.scope, Scope::Required);
    assert_eq!(a2.hashes, hashes(&[sri(SHA512_F)]));
    assert_eq!(lines(a2), [44]);
    let b2 = pkg(&inv, "b@2.0.0");
    assert_eq!(b2.scope, Scope::Dev);
    assert_eq!(b2.hashes, hashes(&[sri(SHA512_G)]));
    assert_eq!(lines(b2), [47]);
    assert_eq!(pkg(&inv, "b@1.0.0").scope, Scope::Required);

    assert_eq!(
        deps(&inv, "project:app"),
        set(&[
            "project:@s/lib",
            "a@1.0.0",
            "gh@",
            "project:loc",
            "tb@",
            "wrap@7.0.0",
            "d@1.0.0"
        ])
    );
    // The workspace's own copy of `a`, keyed under its name.
    assert_eq!(deps(&inv, "project:@s/lib"), set(&["a@2.0.0"]));
    assert_eq!(deps(&inv, "a@1.0.0"), set(&["b@1.0.0"]));
    // `d/b` is the copy nested under `d`.
    assert_eq!(deps(&inv, "d@1.0.0"), set(&["b@2.0.0"]));
    assert_eq!(deps(&inv, "project:loc"), set(&["b@1.0.0"]));
}

#[test]
fn bun_failures() {
    let e = fail("bun/bad-entry_fail/bun.lock");
    assert!(matches!(e.kind, ParseErrorKind::InvalidField { .. }));
    assert_eq!(e.line, Some(9));
    let e = fail("bun/unsupported-version_fail/bun.lock");
    assert!(matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "7"));
    assert_eq!(e.line, Some(2));
}

/// The SRI constants above are the digests the fixtures were written with.
#[test]
fn fixture_digests_are_distinct() {
    let all = [
        SHA512_A, SHA512_B, SHA512_C, SHA512_D, SHA512_E, SHA512_F, SHA512_G, SHA512_H,
    ];
    let set: BTreeSet<Digest> = all.iter().map(|s| sri(s)).collect();
    assert_eq!(set.len(), all.len());
}

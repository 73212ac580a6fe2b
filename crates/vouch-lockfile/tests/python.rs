//! Python lockfile parsers (poetry.lock, uv.lock, Pipfile.lock, pdm.lock, requirements.txt)
//! against the hand-written fixtures under `tests/fixtures/{poetry,uv,pipfile,pdm,requirements}`.
//! Expected values come from reading the fixtures and the formats' documentation.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;

use vouch_inventory::{
    Algorithm, Digest, Inventory, Kind, Package, PackageId, Scope, SortedSet, Source,
};
use vouch_lockfile::{ParseError, ParseErrorKind, parse_path};

fn parse(format: &str, case: &str, file: &str) -> Result<Inventory, ParseError> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format)
        .join(case)
        .join(file);
    parse_path(&path, &format!("{format}/{case}/{file}")).map(|(_, inv)| inv)
}

fn ok(format: &str, case: &str, file: &str) -> Inventory {
    parse(format, case, file).unwrap_or_else(|e| panic!("{format}/{case}: {e}"))
}

fn fail(format: &str, case: &str, file: &str) -> ParseError {
    match parse(format, case, file) {
        Ok(_) => panic!("{format}/{case} parsed but should fail"),
        Err(e) => e,
    }
}

/// A readable label: `name@version` for libraries (purl name), `root:name` for projects.
fn label(inv: &Inventory, id: &PackageId) -> String {
    let p = inv.get(id).unwrap();
    match p.kind {
        Kind::Project => format!("root:{}", p.name),
        _ => {
            let name = p
                .purl
                .as_ref()
                .map(|u| u.name().to_owned())
                .unwrap_or(p.name.clone());
            match &p.version {
                Some(v) => format!("{name}@{v}"),
                None => name,
            }
        }
    }
}

fn find<'a>(inv: &'a Inventory, want: &str) -> &'a Package {
    let hits: Vec<_> = inv
        .packages()
        .filter(|(id, _)| label(inv, id) == want)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one package `{want}`, found {}",
        hits.len()
    );
    hits[0].1
}

fn libraries(inv: &Inventory) -> BTreeSet<String> {
    inv.libraries().map(|(id, _)| label(inv, id)).collect()
}

fn edges(inv: &Inventory) -> BTreeSet<(String, String)> {
    inv.edges()
        .map(|(a, b)| (label(inv, a), label(inv, b)))
        .collect()
}

fn set<const N: usize>(items: [&str; N]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn edge_set<const N: usize>(items: [(&str, &str); N]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// sha256 of 64 repetitions of one hex digit, as the fixtures write them.
fn sha(d: char) -> Digest {
    Digest::from_hex(Algorithm::Sha256, &d.to_string().repeat(64)).unwrap()
}

fn hashes<const N: usize>(items: [Digest; N]) -> SortedSet<Digest> {
    items.into_iter().collect()
}

fn lines(p: &Package) -> Vec<(String, Option<u32>)> {
    p.evidence
        .iter()
        .map(|e| (e.file.clone(), e.line))
        .collect()
}

fn qualifier<'a>(p: &'a Package, key: &str) -> Option<&'a str> {
    p.purl.as_ref()?.qualifiers().get(key).map(String::as_str)
}

fn registry(url: &str) -> Source {
    Source::Registry {
        url: Some(url.to_owned()),
    }
}

const PYPI: &str = "https://pypi.org/simple";

// ---------------------------------------------------------------------------------------------
// poetry.lock

#[test]
fn poetry_v1_metadata_files() {
    let inv = ok("poetry", "v1_metadata_files", "poetry.lock");
    let file = "poetry/v1_metadata_files/poetry.lock";
    assert_eq!(
        libraries(&inv),
        set([
            "requests@2.31.0",
            "urllib3@2.0.7",
            "numpy@1.24.4",
            "numpy@1.26.4",
            "pytest@7.4.0",
            "tomli@2.0.1",
            "ike@0.2.0",
            "appdirs@1.4.4",
        ])
    );
    let requests = find(&inv, "requests@2.31.0");
    assert_eq!(
        requests.purl.as_ref().unwrap().to_string(),
        "pkg:pypi/requests@2.31.0"
    );
    assert_eq!(requests.hashes, hashes([sha('1'), sha('2')]));
    assert_eq!(requests.scope, Scope::Required);
    assert_eq!(requests.source, registry(PYPI));
    assert_eq!(lines(requests), vec![(file.to_owned(), Some(1))]);
    // Each numpy version keeps only its own files.
    assert_eq!(find(&inv, "numpy@1.24.4").hashes, hashes([sha('4')]));
    assert_eq!(find(&inv, "numpy@1.26.4").hashes, hashes([sha('5')]));
    assert_eq!(
        lines(find(&inv, "numpy@1.26.4")),
        vec![(file.to_owned(), Some(32))]
    );
    // Weak algorithms are kept.
    let md5 = Digest::from_hex(Algorithm::Md5, &"6".repeat(32)).unwrap();
    assert_eq!(find(&inv, "tomli@2.0.1").hashes, hashes([md5]));
    assert_eq!(find(&inv, "pytest@7.4.0").scope, Scope::Dev);
    assert_eq!(find(&inv, "tomli@2.0.1").scope, Scope::Dev);

    let ike = find(&inv, "ike@0.2.0");
    assert_eq!(
        ike.source,
        Source::Git {
            url: "https://github.com/example/ike.git".to_owned(),
            commit: Some("cd66602cd29f61a2d2e7fb995fef1e61708c034d".to_owned()),
            reference: Some("main".to_owned()),
        }
    );
    assert_eq!(
        qualifier(ike, "vcs_url"),
        Some("git+https://github.com/example/ike.git@cd66602cd29f61a2d2e7fb995fef1e61708c034d")
    );
    let appdirs = find(&inv, "appdirs@1.4.4");
    assert_eq!(appdirs.source, registry("https://pypi.example.com/simple"));
    assert_eq!(
        qualifier(appdirs, "repository_url"),
        Some("https://pypi.example.com/simple")
    );

    // The directory package is a project, not a library; the lockfile gets a root too.
    let mylib = find(&inv, "root:mylib");
    assert_eq!(
        mylib.source,
        Source::Path {
            path: "../mylib".to_owned()
        }
    );
    assert_eq!(inv.roots().len(), 2);

    assert_eq!(
        edges(&inv),
        edge_set([
            ("requests@2.31.0", "urllib3@2.0.7"),
            ("requests@2.31.0", "numpy@1.24.4"),
            ("requests@2.31.0", "numpy@1.26.4"),
            ("ike@0.2.0", "numpy@1.24.4"),
            ("pytest@7.4.0", "tomli@2.0.1"),
            ("root:v1_metadata_files", "root:mylib"),
            ("root:v1_metadata_files", "requests@2.31.0"),
            ("root:v1_metadata_files", "pytest@7.4.0"),
            ("root:v1_metadata_files", "ike@0.2.0"),
            ("root:v1_metadata_files", "appdirs@1.4.4"),
        ])
    );
}

#[test]
fn poetry_v2_groups() {
    let inv = ok("poetry", "v2_groups", "poetry.lock");
    assert_eq!(
        libraries(&inv),
        set([
            "flask@3.0.0",
            "blinker@1.7.0",
            "werkzeug@3.0.1",
            "mypy@1.8.0",
            "pkg-from-url@1.0.0"
        ])
    );
    let flask = find(&inv, "flask@3.0.0");
    assert_eq!(flask.name, "Flask");
    assert_eq!(flask.hashes, hashes([sha('a')]));
    assert_eq!(
        flask
            .properties
            .get("vouch:integrity-malformed")
            .map(String::as_str),
        Some("sha256:not-hex")
    );
    assert_eq!(flask.scope, Scope::Required);
    assert_eq!(find(&inv, "blinker@1.7.0").scope, Scope::Required);
    let werkzeug = find(&inv, "werkzeug@3.0.1");
    assert_eq!(werkzeug.scope, Scope::Optional);
    assert_eq!(
        werkzeug.properties.get("vouch:marker").map(String::as_str),
        Some("extra == \"web\"")
    );
    assert_eq!(find(&inv, "mypy@1.8.0").scope, Scope::Dev);
    let url_pkg = find(&inv, "pkg-from-url@1.0.0");
    let url = "https://example.com/pkg_from_url-1.0.0.tar.gz";
    assert_eq!(
        url_pkg.source,
        Source::Url {
            url: url.to_owned()
        }
    );
    assert_eq!(qualifier(url_pkg, "download_url"), Some(url));
    assert_eq!(
        lines(find(&inv, "mypy@1.8.0")),
        vec![("poetry/v2_groups/poetry.lock".to_owned(), Some(40))]
    );
    assert_eq!(
        edges(&inv),
        edge_set([
            ("flask@3.0.0", "blinker@1.7.0"),
            ("flask@3.0.0", "werkzeug@3.0.1"),
            ("root:v2_groups", "flask@3.0.0"),
            ("root:v2_groups", "mypy@1.8.0"),
            ("root:v2_groups", "pkg-from-url@1.0.0"),
        ])
    );
}

#[test]
fn poetry_failures() {
    let e = fail("poetry", "bad_version_fail", "poetry.lock");
    assert!(
        matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "3.0")
    );
    assert_eq!(e.line, Some(9));
    let e = fail("poetry", "missing_version_fail", "poetry.lock");
    assert!(
        matches!(e.kind, ParseErrorKind::MissingField { ref field, ref context } if field == "version" && context.contains("idna"))
    );
    assert_eq!(e.line, Some(8));
}

// ---------------------------------------------------------------------------------------------
// uv.lock

#[test]
fn uv_workspace() {
    let inv = ok("uv", "workspace", "uv.lock");
    assert_eq!(
        libraries(&inv),
        set([
            "idna@3.6",
            "idna@3.7",
            "orjson@3.10.0",
            "pytest@8.1.0",
            "pluggy@1.4.0",
            "requests@2.31.0",
            "torch@2.2.0+cpu",
            "ruff@0.8.1",
        ])
    );
    let roots: BTreeSet<String> = inv.roots().iter().map(|r| label(&inv, r)).collect();
    assert_eq!(roots, set(["root:app", "root:helper", "root:vendored"]));
    assert_eq!(
        find(&inv, "root:app").source,
        Source::Path {
            path: ".".to_owned()
        }
    );
    assert_eq!(
        find(&inv, "root:vendored").source,
        Source::Path {
            path: "vendor/vendored".to_owned()
        }
    );

    let idna = find(&inv, "idna@3.6");
    assert_eq!(idna.hashes, hashes([sha('1'), sha('2')]));
    assert_eq!(idna.source, registry(PYPI));
    assert_eq!(idna.purl.as_ref().unwrap().to_string(), "pkg:pypi/idna@3.6");
    assert_eq!(
        lines(idna),
        vec![("uv/workspace/uv.lock".to_owned(), Some(46))]
    );
    assert_eq!(find(&inv, "idna@3.7").hashes, hashes([sha('3')]));

    let torch = find(&inv, "torch@2.2.0+cpu");
    assert_eq!(
        torch.source,
        registry("https://download.pytorch.org/whl/cpu")
    );
    assert_eq!(
        qualifier(torch, "repository_url"),
        Some("https://download.pytorch.org/whl/cpu")
    );
    let ruff = find(&inv, "ruff@0.8.1");
    assert_eq!(
        ruff.source,
        Source::Git {
            url: "https://github.com/astral-sh/ruff".to_owned(),
            commit: Some("84748be16341b76e073d117329f7f5f4ee2941ad".to_owned()),
            reference: Some("v0.8.1".to_owned()),
        }
    );

    // Required from a member's dependencies, optional from an extra (beats dev), dev from a
    // dev group, including the extra the group asks for.
    for required in ["idna@3.6", "idna@3.7", "torch@2.2.0+cpu", "ruff@0.8.1"] {
        assert_eq!(find(&inv, required).scope, Scope::Required, "{required}");
    }
    assert_eq!(find(&inv, "orjson@3.10.0").scope, Scope::Optional);
    for dev in ["pytest@8.1.0", "pluggy@1.4.0", "requests@2.31.0"] {
        assert_eq!(find(&inv, dev).scope, Scope::Dev, "{dev}");
    }

    assert_eq!(
        edges(&inv),
        edge_set([
            ("root:app", "root:helper"),
            ("root:app", "idna@3.6"),
            ("root:app", "idna@3.7"),
            ("root:app", "orjson@3.10.0"),
            ("root:app", "pytest@8.1.0"),
            ("root:helper", "torch@2.2.0+cpu"),
            ("root:helper", "ruff@0.8.1"),
            ("root:helper", "root:vendored"),
            ("pytest@8.1.0", "pluggy@1.4.0"),
            ("pytest@8.1.0", "requests@2.31.0"),
        ])
    );
}

#[test]
fn uv_failures() {
    let e = fail("uv", "bad_version_fail", "uv.lock");
    assert!(matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "2"));
    assert_eq!(e.line, Some(1));
    let e = fail("uv", "syntax_fail", "uv.lock");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Syntax { syntax: "TOML", .. }
    ));
    assert_eq!(e.line, Some(7));
}

// ---------------------------------------------------------------------------------------------
// Pipfile.lock

#[test]
fn pipfile_sources() {
    let inv = ok("pipfile", "sources", "Pipfile.lock");
    let file = "pipfile/sources/Pipfile.lock";
    assert_eq!(
        libraries(&inv),
        set([
            "certifi@2024.2.2",
            "internal-lib@0.3.1",
            "requests",
            "six@1.16.0",
            "hashes@0.1.0",
            "tarball",
        ])
    );
    let certifi = find(&inv, "certifi@2024.2.2");
    // In both sections: runtime wins; evidence from both.
    assert_eq!(certifi.scope, Scope::Required);
    assert_eq!(certifi.hashes, hashes([sha('1'), sha('2')]));
    assert_eq!(certifi.source, registry(PYPI));
    assert_eq!(
        certifi.properties.get("vouch:marker").map(String::as_str),
        Some("python_version >= '3.6'")
    );
    assert_eq!(
        lines(certifi),
        vec![(file.to_owned(), Some(24)), (file.to_owned(), Some(56))]
    );
    let internal = find(&inv, "internal-lib@0.3.1");
    assert_eq!(internal.source, registry("https://pypi.example.com/simple"));
    assert_eq!(lines(internal), vec![(file.to_owned(), Some(33))]);
    let requests = find(&inv, "requests");
    assert_eq!(
        requests.source,
        Source::Git {
            url: "https://github.com/psf/requests.git".to_owned(),
            commit: Some("0e322af87745eff34caffe4df68456ebc20d9068".to_owned()),
            reference: None,
        }
    );
    let six = find(&inv, "six@1.16.0");
    assert!(six.hashes.is_empty());
    assert_eq!(
        six.properties
            .get("vouch:integrity-malformed")
            .map(String::as_str),
        Some("sha256:zzzz")
    );
    let named_hashes = find(&inv, "hashes@0.1.0");
    assert_eq!(named_hashes.scope, Scope::Dev);
    assert_eq!(lines(named_hashes), vec![(file.to_owned(), Some(62))]);
    let tarball = find(&inv, "tarball");
    assert_eq!(
        tarball.source,
        Source::Url {
            url: "https://example.com/tarball-1.0.tar.gz".to_owned()
        }
    );
    let mypkg = find(&inv, "root:mypkg");
    assert_eq!(
        mypkg.source,
        Source::Path {
            path: ".".to_owned()
        }
    );
    assert_eq!(
        mypkg.properties.get("vouch:editable").map(String::as_str),
        Some("true")
    );
    // No graph in the format: everything hangs off the root, direct left undecided.
    assert!(inv.libraries().all(|(_, p)| p.direct.is_none()));
    let root_edges: BTreeSet<_> = edges(&inv).into_iter().collect();
    assert_eq!(root_edges.len(), 7);
    assert!(root_edges.iter().all(|(from, _)| from == "root:sources"));
}

#[test]
fn pipfile_failures() {
    let e = fail("pipfile", "spec_fail", "Pipfile.lock");
    assert!(matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "7"));
    assert_eq!(e.line, Some(4));
    let e = fail("pipfile", "syntax_fail", "Pipfile.lock");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Syntax { syntax: "JSON", .. }
    ));
    assert_eq!(e.line, Some(6));
}

// ---------------------------------------------------------------------------------------------
// pdm.lock

#[test]
fn pdm_extras_git() {
    let inv = ok("pdm", "extras_git", "pdm.lock");
    let file = "pdm/extras_git/pdm.lock";
    assert_eq!(
        libraries(&inv),
        set([
            "httpx@0.27.0",
            "h2@4.1.0",
            "h2@2.6.0",
            "anyio@4.3.0",
            "certifi@2024.2.2",
            "pytest@8.0.1"
        ])
    );
    let httpx = find(&inv, "httpx@0.27.0");
    assert_eq!(
        lines(httpx),
        vec![(file.to_owned(), Some(10)), (file.to_owned(), Some(25))]
    );
    assert_eq!(httpx.hashes, hashes([sha('1')]));
    assert_eq!(httpx.source, registry(PYPI));
    assert_eq!(find(&inv, "h2@4.1.0").hashes, hashes([sha('2')]));
    let anyio = find(&inv, "anyio@4.3.0");
    let rev = "a".repeat(40);
    assert_eq!(
        anyio.source,
        Source::Git {
            url: "https://github.com/agronholm/anyio.git".to_owned(),
            commit: Some(rev.clone()),
            reference: Some("master".to_owned()),
        }
    );
    assert_eq!(
        qualifier(anyio, "vcs_url"),
        Some(format!("git+https://github.com/agronholm/anyio.git@{rev}").as_str())
    );
    assert_eq!(find(&inv, "certifi@2024.2.2").scope, Scope::Required);
    assert_eq!(find(&inv, "pytest@8.0.1").scope, Scope::Dev);
    let sibling = find(&inv, "root:sibling");
    assert_eq!(
        sibling.source,
        Source::Path {
            path: "../sibling".to_owned()
        }
    );
    assert_eq!(
        edges(&inv),
        edge_set([
            ("httpx@0.27.0", "anyio@4.3.0"),
            ("httpx@0.27.0", "certifi@2024.2.2"),
            ("httpx@0.27.0", "h2@4.1.0"),
            ("pytest@8.0.1", "certifi@2024.2.2"),
            ("root:extras_git", "root:sibling"),
            ("root:extras_git", "httpx@0.27.0"),
            ("root:extras_git", "pytest@8.0.1"),
            ("root:extras_git", "h2@2.6.0"),
        ])
    );
}

#[test]
fn pdm_failures() {
    let e = fail("pdm", "missing_name_fail", "pdm.lock");
    assert!(matches!(e.kind, ParseErrorKind::MissingField { ref field, .. } if field == "name"));
    assert_eq!(e.line, Some(8));
    let e = fail("pdm", "bad_version_fail", "pdm.lock");
    assert!(
        matches!(e.kind, ParseErrorKind::UnsupportedVersion { ref found, .. } if found == "5.0")
    );
    assert_eq!(e.line, Some(3));
}

// ---------------------------------------------------------------------------------------------
// requirements.txt

#[test]
fn requirements_pip_compile() {
    let inv = ok("requirements", "pip_compile", "requirements.txt");
    let file = "requirements/pip_compile/requirements.txt";
    let index = "https://pypi.example.com/simple";
    assert_eq!(
        libraries(&inv),
        set([
            "certifi@2024.2.2",
            "requests@2.31.0",
            "my-tool@1.0.0",
            "urllib3@2.2.1",
            "pip@24.0",
            "repo-pkg",
            "editable-pkg",
            "six@1.16.0",
        ])
    );
    let certifi = find(&inv, "certifi@2024.2.2");
    assert_eq!(certifi.hashes, hashes([sha('1'), sha('2')]));
    assert_eq!(certifi.source, registry(index));
    assert_eq!(qualifier(certifi, "repository_url"), Some(index));
    assert_eq!(lines(certifi), vec![(file.to_owned(), Some(9))]);
    let requests = find(&inv, "requests@2.31.0");
    assert_eq!(requests.hashes, hashes([sha('3')]));
    assert_eq!(
        requests.properties.get("vouch:extras").map(String::as_str),
        Some("socks")
    );
    assert_eq!(
        requests.properties.get("vouch:marker").map(String::as_str),
        Some("python_version >= \"3.8\"")
    );
    assert_eq!(lines(requests), vec![(file.to_owned(), Some(13))]);
    assert_eq!(find(&inv, "my-tool@1.0.0").name, "My_Tool");
    // Pinned by the constraints file, which adds nothing of its own (no idna).
    let urllib3 = find(&inv, "urllib3@2.2.1");
    assert_eq!(
        lines(urllib3),
        vec![
            (
                "requirements/pip_compile/constraints.txt".to_owned(),
                Some(1)
            ),
            (file.to_owned(), Some(19)),
        ]
    );
    let pip = find(&inv, "pip@24.0");
    let url = "https://example.com/dist/pip-24.0-py3-none-any.whl";
    assert_eq!(
        pip.source,
        Source::Url {
            url: url.to_owned()
        }
    );
    assert_eq!(qualifier(pip, "download_url"), Some(url));
    assert_eq!(
        pip.properties.get("vouch:requirement").map(String::as_str),
        Some("url")
    );
    let commit = "f".repeat(40);
    let repo = find(&inv, "repo-pkg");
    assert_eq!(
        repo.source,
        Source::Git {
            url: "https://github.com/org/repo.git".to_owned(),
            commit: Some(commit.clone()),
            reference: None,
        }
    );
    assert_eq!(
        qualifier(repo, "vcs_url"),
        Some(format!("git+https://github.com/org/repo.git@{commit}").as_str())
    );
    assert_eq!(
        repo.properties.get("vouch:requirement").map(String::as_str),
        Some("url")
    );
    let editable = find(&inv, "editable-pkg");
    assert_eq!(
        editable.source,
        Source::Git {
            url: "ssh://git@github.com/org/editable.git".to_owned(),
            commit: None,
            reference: Some("main".to_owned()),
        }
    );
    assert_eq!(
        editable
            .properties
            .get("vouch:editable")
            .map(String::as_str),
        Some("true")
    );
    let six = find(&inv, "six@1.16.0");
    assert_eq!(
        lines(six),
        vec![("requirements/pip_compile/base.txt".to_owned(), Some(2))]
    );
    // `-e .` is the project itself: it merges with the root named after the directory.
    assert_eq!(inv.roots().len(), 1);
    let root = find(&inv, "root:pip_compile");
    assert_eq!(
        root.source,
        Source::Path {
            path: ".".to_owned()
        }
    );
    assert_eq!(
        root.properties
            .get("vouch:extra-index-urls")
            .map(String::as_str),
        Some(PYPI)
    );
    assert_eq!(
        edges(&inv),
        edge_set([
            ("requests@2.31.0", "certifi@2024.2.2"),
            ("root:pip_compile", "requests@2.31.0"),
            ("my-tool@1.0.0", "requests@2.31.0"),
            ("root:pip_compile", "my-tool@1.0.0"),
            ("root:pip_compile", "urllib3@2.2.1"),
            ("root:pip_compile", "pip@24.0"),
            ("root:pip_compile", "repo-pkg"),
            ("root:pip_compile", "editable-pkg"),
            ("root:pip_compile", "six@1.16.0"),
        ])
    );
}

#[test]
fn requirements_include_cycle() {
    let inv = ok("requirements", "include_cycle", "requirements.txt");
    assert_eq!(libraries(&inv), set(["attrs@23.2.0", "packaging@24.0"]));
    assert_eq!(
        lines(find(&inv, "packaging@24.0")),
        vec![("requirements/include_cycle/more.txt".to_owned(), Some(2))]
    );
}

#[test]
fn requirements_failures() {
    let e = fail("requirements", "bad_line_fail", "requirements.txt");
    assert!(
        matches!(e.kind, ParseErrorKind::InvalidField { ref field, .. } if field == "requirement")
    );
    assert_eq!(e.file, "requirements/bad_line_fail/requirements.txt");
    assert_eq!(e.line, Some(3));
    let e = fail("requirements", "deep_include_fail", "requirements.txt");
    assert!(matches!(e.kind, ParseErrorKind::TooMany { limit: 16, .. }));
    assert_eq!(e.file, "requirements/deep_include_fail/r16.txt");
    assert_eq!(e.line, Some(1));
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// Every prefix of every good fixture either parses or fails with an error; none panics.
#[test]
fn truncated_fixtures_never_panic() {
    use vouch_lockfile::{Format, parse_bytes};
    let cases = [
        (Format::PoetryLock, "poetry/v1_metadata_files/poetry.lock"),
        (Format::PoetryLock, "poetry/v2_groups/poetry.lock"),
        (Format::UvLock, "uv/workspace/uv.lock"),
        (Format::PipfileLock, "pipfile/sources/Pipfile.lock"),
        (Format::PdmLock, "pdm/extras_git/pdm.lock"),
        (
            Format::Requirements,
            "requirements/pip_compile/requirements.txt",
        ),
    ];
    for (format, rel) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel);
        let bytes = std::fs::read(&path).unwrap();
        for end in 0..=bytes.len() {
            let _ = parse_bytes(format, rel, &bytes[..end]);
        }
    }
}

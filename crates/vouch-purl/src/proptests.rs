//! Property tests: whatever is built or parsed prints a canonical string that parses back to
//! the same value, and no input makes the parser panic.

use proptest::prelude::*;

use crate::PackageUrl;

const TYPES: &[&str] = &[
    "generic",
    "cargo",
    "npm",
    "pypi",
    "golang",
    "gem",
    "composer",
    "maven",
    "nuget",
    "swift",
    "pub",
    "hex",
    "conan",
    "github",
    "bitbucket",
    "deb",
    "apk",
    "rpm",
    "oci",
    "docker",
    "cocoapods",
    "conda",
    "huggingface",
    "mlflow",
    "qpkg",
    "swid",
    "luarocks",
    "bitnami",
    "alpm",
    "git",
    "brew",
    "cpan",
    "hackage",
    "julia",
    "vcpkg",
    "made-up.type+x",
];

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9@%/?#&=:.+ _~-]{1,10}"]
}

fn purl() -> impl Strategy<Value = Option<PackageUrl>> {
    (
        prop::sample::select(TYPES),
        prop::option::of(prop::collection::vec(segment(), 1..4)),
        segment(),
        prop::option::of(segment()),
        prop::collection::vec(
            (
                prop_oneof![
                    "[a-z][a-z0-9._-]{0,8}",
                    Just("repository_url".to_owned()),
                    Just("checksum".to_owned()),
                    Just("uuid".to_owned()),
                    Just("tag_id".to_owned()),
                ],
                segment(),
            ),
            0..4,
        ),
        prop::option::of(prop::collection::vec(segment(), 1..4)),
    )
        .prop_map(|(ty, ns, name, version, qualifiers, subpath)| {
            let mut p = PackageUrl::new(ty, &name).ok()?;
            if let Some(ns) = ns {
                p = p.with_namespace(&ns.join("/")).ok()?;
            }
            if let Some(v) = version {
                p = p.with_version(&v).ok()?;
            }
            for (k, v) in qualifiers {
                p = p.with_qualifier(&k, &v).ok()?;
            }
            if let Some(sp) = subpath {
                p = p.with_subpath(&sp.join("/")).ok()?;
            }
            p.validate().ok()?;
            Some(p)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn display_then_parse_round_trips(p in purl()) {
        // Combinations the type rules reject are not purls; skip them.
        let Some(p) = p else { return Ok(()) };
        let s = p.to_string();
        prop_assert_eq!(p.to_canonical(), s.clone());
        let back: PackageUrl = s.parse().map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        prop_assert_eq!(&back, &p, "{}", s);
        prop_assert_eq!(back.to_string(), s);
    }

    #[test]
    fn parsing_never_panics_and_is_idempotent(
        s in prop_oneof![
            any::<String>(),
            "(pkg|PKG|pkg%3A)?:?/{0,2}[a-zA-Z0-9.+:-]{0,8}/[a-zA-Z0-9%@/?#&=:._+ ~-]{0,40}",
        ]
    ) {
        let parsed = [s.parse::<PackageUrl>(), PackageUrl::parse_lenient(&s)];
        for p in parsed.into_iter().flatten() {
            let canonical = p.to_string();
            prop_assert_eq!(canonical.parse::<PackageUrl>(), Ok(p), "{} -> {}", s, canonical);
        }
    }
}

//! Round-trip and robustness properties.

use proptest::prelude::*;
use vouch_inventory::{Ecosystem, Inventory, Package, PackageId, Scope};
use vouch_sbom::{CdxVersion, SbomFormat, decode_summary};

use crate::{options, subject};

fn arb_inventory() -> impl Strategy<Value = Inventory> {
    let pkg = (
        "[a-z][a-z0-9_-]{0,8}",
        "[0-9]{1,2}\\.[0-9]{1,2}",
        0..3u8,
        any::<bool>(),
    );
    (
        prop::collection::vec(pkg, 0..12),
        prop::collection::vec((0..12usize, 0..12usize), 0..24),
        0..3usize,
    )
        .prop_map(|(pkgs, edges, roots)| {
            let mut inv = Inventory::new();
            let mut ids: Vec<PackageId> = Vec::new();
            for (i, (name, version, scope, with_purl)) in pkgs.into_iter().enumerate() {
                let mut p = Package::new(Ecosystem::Npm, name.clone()).version(version.clone());
                if with_purl {
                    p.purl = format!("pkg:npm/{name}@{version}").parse().ok();
                }
                p.scope = [Scope::Required, Scope::Optional, Scope::Dev][usize::from(scope)];
                ids.push(if i < roots {
                    inv.add_root(p.found_in(format!("{i}/package-lock.json"), None))
                } else {
                    inv.add(p)
                });
            }
            for (a, b) in edges {
                if let (Some(a), Some(b)) = (ids.get(a), ids.get(b)) {
                    inv.depend(a, b);
                }
            }
            inv
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn formats_agree_on_packages_and_edges(inv in arb_inventory()) {
        let enc = |f| vouch_sbom::encode(f, &subject(), &inv, &options()).unwrap();
        let cdx = decode_summary(&enc(SbomFormat::CycloneDxJson(CdxVersion::V1_6))).unwrap();
        let spdx = decode_summary(&enc(SbomFormat::SpdxJson)).unwrap();
        let spdx3 = decode_summary(&enc(SbomFormat::Spdx3Json)).unwrap();
        prop_assert_eq!(&cdx.packages, &spdx.packages);
        prop_assert_eq!(&cdx.edges, &spdx.edges);
        prop_assert_eq!(&cdx.packages, &spdx3.packages);
        prop_assert_eq!(&cdx.edges, &spdx3.edges);
    }

    #[test]
    fn check_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = vouch_sbom::check::check("fuzz", &bytes, None);
        let _ = decode_summary(&bytes);
    }

    #[test]
    fn check_never_panics_on_mangled_documents(cut in 0usize..4000, byte in any::<u8>(), which in 0..3usize) {
        let format = [SbomFormat::CycloneDxJson(CdxVersion::V1_6), SbomFormat::SpdxJson, SbomFormat::Spdx3Json][which];
        let mut bytes = crate::encode(format);
        let at = cut % bytes.len();
        bytes[at] = byte;
        let _ = vouch_sbom::check::check("fuzz", &bytes, None);
        let _ = decode_summary(&bytes);
        bytes.truncate(at);
        let _ = vouch_sbom::check::check("fuzz", &bytes, None);
    }
}

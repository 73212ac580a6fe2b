//! The squash: applying each layer's deletions to what lower layers' files yielded, so that
//! only findings from files present in the final file set remain.
//!
//! Only files a cataloger found something in are kept (by path, with the layer that holds
//! them); every other path of a layer is known by fingerprint only (see [`LayerRecord`]).

use std::collections::BTreeMap;

use vouch_inventory::Package;

use crate::catalog::{OsRelease, props};
use crate::layer::{FileFindings, LayerRecord};

/// The findings of the layers applied so far.
#[derive(Debug, Default)]
pub(crate) struct Squash {
    live: BTreeMap<String, Live>,
}

#[derive(Debug)]
struct Live {
    layer: String,
    findings: Vec<FileFindings>,
}

/// The final file set's findings.
#[derive(Debug, Default)]
pub(crate) struct Squashed {
    /// Packages, with the `vouch:layer-digest` and `vouch:cataloger` properties set.
    pub(crate) packages: Vec<Package>,
    /// The OS identity: `etc/os-release` if present, else `usr/lib/os-release`.
    pub(crate) os: Option<OsRelease>,
    /// The catalogers' warnings about files that are still present.
    pub(crate) warnings: Vec<String>,
    /// Dependency edges between `packages`, by index: (dependent, dependency).
    pub(crate) edges: Vec<(usize, usize)>,
}

impl Squash {
    /// Applies the next layer (upper) on top of those applied so far.
    pub(crate) fn apply(&mut self, record: LayerRecord) {
        self.live.retain(|path, _| !record.removes(path));
        for (path, findings) in record.files {
            self.live.insert(
                path,
                Live {
                    layer: record.digest.clone(),
                    findings,
                },
            );
        }
    }

    /// What the final file set holds.
    pub(crate) fn finish(self) -> Squashed {
        let mut out = Squashed::default();
        let mut os_rank = u8::MAX;
        for (path, live) in self.live {
            for f in live.findings {
                if let Some(os) = f.os {
                    // `/etc/os-release` is authoritative; the copy under `/usr/lib` is the
                    // fallback os-release(5) names.
                    let rank = match path.as_str() {
                        "etc/os-release" => 0,
                        "usr/lib/os-release" => 1,
                        _ => 2,
                    };
                    if rank < os_rank {
                        os_rank = rank;
                        out.os = Some(os);
                    }
                }
                out.warnings
                    .extend(f.warnings.into_iter().map(|w| format!("/{path}: {w}")));
                let first = out.packages.len();
                out.edges
                    .extend(f.edges.iter().map(|&(a, b)| (first + a, first + b)));
                for mut p in f.packages {
                    if !live.layer.is_empty() {
                        p.properties
                            .insert(props::LAYER.to_owned(), live.layer.clone());
                    }
                    p.properties
                        .insert(props::CATALOGER.to_owned(), f.cataloger.clone());
                    out.packages.push(p);
                }
            }
        }
        out
    }
}

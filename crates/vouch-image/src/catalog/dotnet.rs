//! .NET applications' dependency manifests: `*.deps.json`.
//!
//! Format: the .NET host's runtime configuration files,
//! <https://github.com/dotnet/sdk/blob/main/documentation/specs/runtime-configuration-file.md>.
//! `libraries` maps `Name/Version` to `{ "type": "package" | "project" | "reference", "sha512":
//! "sha512-<base64>", ... }`; only `package` entries come from NuGet.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use vouch_inventory::{Digest, Ecosystem, Package, PackageUrl, Source};

use super::{CatalogError, Cataloger, FileInfo, Findings, props, read_to_limit};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(DotnetDepsCataloger)]
}

/// Largest `.deps.json` read.
const MAX_BYTES: u64 = 32 << 20;
/// Most libraries accepted from one file.
const MAX_LIBRARIES: usize = 100_000;

/// Finds NuGet packages in `*.deps.json`.
#[derive(Debug, Default)]
pub struct DotnetDepsCataloger;

impl Cataloger for DotnetDepsCataloger {
    fn name(&self) -> &'static str {
        "dotnet-deps"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.file_name().ends_with(".deps.json")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let shown = file.path_display();
        let bytes = read_to_limit(file, content, MAX_BYTES)?;
        let deps: DepsJson =
            serde_json::from_slice(&bytes).map_err(|e| CatalogError::Malformed {
                path: shown.clone(),
                line: u32::try_from(e.line()).ok().filter(|l| *l > 0),
                message: format!("not a .deps.json file: {e}"),
            })?;
        if deps.libraries.len() > MAX_LIBRARIES {
            return Err(CatalogError::Malformed {
                path: shown,
                line: None,
                message: format!("more than {MAX_LIBRARIES} libraries"),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        for (key, lib) in &deps.libraries {
            if lib.kind != "package" {
                continue;
            }
            let Some((name, version)) = key
                .rsplit_once('/')
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            else {
                out.warnings.push(format!(
                    "{shown}: library `{key}` is not `Name/Version`; skipped"
                ));
                continue;
            };
            let line = line_of_key(&text, key);
            let mut p = Package::new(Ecosystem::Nuget, name).found_in(shown.clone(), line);
            p.version = Some(version.to_owned());
            p.purl = PackageUrl::new("nuget", name)
                .and_then(|u| u.with_version(version))
                .ok();
            p.source = Source::Registry { url: None };
            if let Some(sha) = lib.sha512.as_deref().filter(|s| !s.is_empty()) {
                match Digest::from_sri(sha) {
                    Ok(d) => {
                        p.hashes.insert(d);
                    }
                    Err(_) => {
                        p.properties
                            .insert("vouch:integrity-malformed".to_owned(), sha.to_owned());
                    }
                }
            }
            if let Some(path) = &lib.path {
                p.properties
                    .insert("vouch:nuget-path".to_owned(), path.clone());
            }
            p.properties
                .insert(props::CATALOGER.to_owned(), self.name().to_owned());
            out.packages.push(p);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct DepsJson {
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
}

#[derive(Deserialize)]
struct Library {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    sha512: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

/// The line of `"key":` in the `libraries` object (the last occurrence: `targets`, which comes
/// first, names the same keys).
fn line_of_key(text: &str, key: &str) -> Option<u32> {
    let libraries = text.find("\"libraries\"")?;
    let rest = text.get(libraries..)?;
    let at = libraries + rest.find(&format!("\"{key}\""))?;
    let line = text.get(..at)?.bytes().filter(|b| *b == b'\n').count() + 1;
    u32::try_from(line).ok()
}

//! PHP packages Composer installed: `vendor/composer/installed.json`.
//!
//! Format: Composer writes the file from its installed repository
//! (<https://getcomposer.org/doc/07-runtime.md#installed-versions> describes the runtime view;
//! the JSON is the `composer.lock` package schema, <https://getcomposer.org/doc/04-schema.md>).
//! Composer 1 writes a JSON array of packages; Composer 2 writes an object with `packages`,
//! `dev` and `dev-package-names`.

use std::io::Read;

use serde::Deserialize;
use vouch_inventory::{Algorithm, Digest, Ecosystem, Package, PackageUrl, Scope, Source};

use super::{CatalogError, Cataloger, FileInfo, Findings, props, read_to_limit};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(ComposerInstalledCataloger)]
}

/// Largest `installed.json` read.
const MAX_BYTES: u64 = 64 << 20;
/// Most packages accepted from one file.
const MAX_PACKAGES: usize = 100_000;

/// Finds Composer packages in `vendor/composer/installed.json`.
#[derive(Debug, Default)]
pub struct ComposerInstalledCataloger;

impl Cataloger for ComposerInstalledCataloger {
    fn name(&self) -> &'static str {
        "composer-installed"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path == "vendor/composer/installed.json"
            || file.path.ends_with("/vendor/composer/installed.json")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let shown = file.path_display();
        let bytes = read_to_limit(file, content, MAX_BYTES)?;
        let malformed = |line: Option<u32>, message: String| CatalogError::Malformed {
            path: shown.clone(),
            line,
            message,
        };
        let installed: Installed = serde_json::from_slice(&bytes).map_err(|e| {
            malformed(
                u32::try_from(e.line()).ok().filter(|l| *l > 0),
                format!("not Composer's installed.json: {e}"),
            )
        })?;
        let (packages, dev_names) = match installed {
            Installed::V1(packages) => (packages, Vec::new()),
            Installed::V2 {
                packages,
                dev_package_names,
            } => (packages, dev_package_names),
        };
        if packages.len() > MAX_PACKAGES {
            return Err(malformed(
                None,
                format!("more than {MAX_PACKAGES} packages"),
            ));
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut cursor = 0usize;
        for raw in packages {
            let line = line_of_name(&text, &raw.name, &mut cursor);
            let mut p = package(&raw, &shown, line);
            if dev_names.iter().any(|d| d == &raw.name) {
                p.scope = Scope::Dev;
            }
            p.properties
                .insert(props::CATALOGER.to_owned(), self.name().to_owned());
            out.packages.push(p);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Installed {
    V1(Vec<RawPackage>),
    V2 {
        packages: Vec<RawPackage>,
        #[serde(default, rename = "dev-package-names")]
        dev_package_names: Vec<String>,
    },
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dist: Option<Dist>,
    #[serde(default)]
    source: Option<Dist>,
    #[serde(default)]
    license: Option<Licenses>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Dist {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    shasum: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Licenses {
    One(String),
    Many(Vec<String>),
}

fn package(raw: &RawPackage, shown: &str, line: Option<u32>) -> Package {
    let mut p = Package::new(Ecosystem::Composer, raw.name.clone()).found_in(shown, line);
    p.version = raw.version.clone().filter(|v| !v.is_empty());
    p.purl = composer_purl(&raw.name, p.version.as_deref());
    if let Some(dist) = &raw.dist {
        if let Some(url) = dist.url.clone().filter(|u| !u.is_empty()) {
            p.source = Source::Registry { url: Some(url) };
        }
        if let Some(sum) = dist.shasum.as_deref().filter(|s| !s.is_empty()) {
            match Digest::from_hex(Algorithm::Sha1, sum) {
                Ok(d) => {
                    p.hashes.insert(d);
                }
                Err(_) => {
                    p.properties
                        .insert("vouch:integrity-malformed".to_owned(), sum.to_owned());
                }
            }
        }
    }
    if p.source == Source::Unknown
        && let Some(src) = &raw.source
        && src.kind.as_deref() == Some("git")
        && let Some(url) = src.url.clone()
    {
        p.source = Source::Git {
            url,
            commit: src.reference.clone(),
            reference: None,
        };
    }
    match &raw.license {
        Some(Licenses::One(l)) => {
            p.licenses.insert(l.clone());
        }
        Some(Licenses::Many(ls)) => p.licenses.extend(ls.iter().cloned()),
        None => {}
    }
    if let Some(kind) = raw.kind.as_deref().filter(|k| *k != "library") {
        p.properties
            .insert("vouch:composer-type".to_owned(), kind.to_owned());
    }
    p
}

/// `pkg:composer/vendor/name@version`.
fn composer_purl(name: &str, version: Option<&str>) -> Option<PackageUrl> {
    let (vendor, bare) = name.split_once('/')?;
    let mut p = PackageUrl::new("composer", bare)
        .ok()?
        .with_namespace(vendor)
        .ok()?;
    if let Some(v) = version {
        p = p.with_version(v).ok()?;
    }
    Some(p)
}

/// The line of the next `"name": "<name>"` at or after `*cursor`; entries are in array order,
/// so one forward pass finds them all.
fn line_of_name(text: &str, name: &str, cursor: &mut usize) -> Option<u32> {
    let escaped = name.replace('/', "\\/");
    for candidate in [name, escaped.as_str()] {
        let needle = format!("\"{candidate}\"");
        let mut from = *cursor;
        while let Some(i) = text.get(from..).and_then(|t| t.find(&needle)) {
            let at = from + i;
            let before = text.get(..at).unwrap_or_default().trim_end();
            if before.ends_with(':')
                && before
                    .trim_end_matches(':')
                    .trim_end()
                    .ends_with("\"name\"")
            {
                *cursor = at + needle.len();
                let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
                return u32::try_from(line).ok();
            }
            from = at + needle.len();
        }
    }
    None
}

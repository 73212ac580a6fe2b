//! Installed npm packages: `package.json` directly inside `node_modules/<name>/` or
//! `node_modules/@scope/<name>/` (the manifests of a project's own sources and of test
//! fixtures deeper inside a package are not installed packages).
//!
//! Format: <https://docs.npmjs.com/cli/configuring-npm/package-json>: `name`, `version`,
//! `license` (a string, or the legacy `{ "type": ... }` object and `licenses` array).

use std::io::Read;

use serde::Deserialize;
use vouch_inventory::{Ecosystem, Package, PackageUrl};

use super::{CatalogError, Cataloger, FileInfo, Findings, read_to_limit};

/// Largest `package.json` read.
const LIMIT: u64 = 8 * 1024 * 1024;

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(NpmCataloger)]
}

/// Reads `node_modules/**/package.json`.
#[derive(Debug)]
pub struct NpmCataloger;

#[derive(Deserialize)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    license: Option<License>,
    licenses: Option<Vec<License>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum License {
    Name(String),
    Object {
        #[serde(rename = "type")]
        kind: Option<String>,
    },
}

impl License {
    fn name(self) -> Option<String> {
        match self {
            License::Name(n) => Some(n),
            License::Object { kind } => kind,
        }
        .filter(|n| !n.is_empty())
    }
}

impl Cataloger for NpmCataloger {
    fn name(&self) -> &'static str {
        "npm-package"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        if !file.path.ends_with("/package.json") {
            return false;
        }
        let parts: Vec<&str> = file.path.split('/').collect();
        match parts.as_slice() {
            [.., "node_modules", scope, name, "package.json"] if scope.starts_with('@') => {
                !name.starts_with('.')
            }
            [.., "node_modules", name, "package.json"] => {
                !name.starts_with('.') && !name.starts_with('@')
            }
            _ => false,
        }
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let bytes = read_to_limit(file, content, LIMIT)?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| CatalogError::Malformed {
                path: file.path_display(),
                line: u32::try_from(e.line()).ok(),
                message: e.to_string(),
            })?;
        let (Some(name), Some(version)) = (manifest.name, manifest.version) else {
            // Workspace stubs and partially installed packages: nothing to report.
            return Ok(());
        };
        let mut p = Package::new(Ecosystem::Npm, name.clone())
            .version(version.clone())
            .found_in(file.path_display(), None);
        let (scope, bare) = match name.strip_prefix('@').and_then(|_| name.split_once('/')) {
            Some((scope, bare)) => (Some(scope), bare),
            None => (None, name.as_str()),
        };
        p.purl = PackageUrl::new("npm", bare)
            .and_then(|u| match scope {
                Some(s) => u.with_namespace(s),
                None => Ok(u),
            })
            .and_then(|u| u.with_version(&version))
            .ok();
        let licenses = manifest
            .license
            .into_iter()
            .chain(manifest.licenses.into_iter().flatten())
            .filter_map(License::name);
        p.licenses.extend(licenses);
        out.packages.push(p);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_only_installed_manifests() {
        let f = |path| FileInfo {
            path,
            size: 1,
            mode: 0o644,
        };
        let c = NpmCataloger;
        assert!(c.wants(&f("app/node_modules/lodash/package.json")));
        assert!(c.wants(&f("app/node_modules/@babel/core/package.json")));
        assert!(c.wants(&f("app/node_modules/a/node_modules/b/package.json")));
        assert!(!c.wants(&f("app/package.json")));
        assert!(!c.wants(&f("app/node_modules/lodash/test/package.json")));
        assert!(!c.wants(&f("app/node_modules/@babel/package.json")));
        assert!(!c.wants(&f("app/node_modules/.bin/package.json")));
    }
}

//! Installed Python distributions: `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` and
//! single-file `*.egg-info`.
//!
//! Format: core metadata (<https://packaging.python.org/en/latest/specifications/core-metadata/>),
//! RFC 822 style headers up to the first blank line; only the headers are read. `Name`,
//! `Version`, and the licence from `License-Expression` or else a one-line `License`.

use std::io::{BufRead, BufReader, Read};

use vouch_inventory::{Ecosystem, Package, PackageUrl};

use super::{CatalogError, Cataloger, FileInfo, Findings};

/// Most header bytes read: the long description after the headers is never read.
const HEADER_LIMIT: u64 = 1024 * 1024;

/// A `License` value longer than this is a licence text, not a name.
const MAX_LICENSE_NAME: usize = 200;

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(PythonCataloger)]
}

/// Reads installed Python distribution metadata.
#[derive(Debug)]
pub struct PythonCataloger;

impl Cataloger for PythonCataloger {
    fn name(&self) -> &'static str {
        "python-package"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        let (parent, name) = match file.path.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", file.path),
        };
        (name == "METADATA" && parent.ends_with(".dist-info"))
            || (name == "PKG-INFO" && parent.ends_with(".egg-info"))
            || name.ends_with(".egg-info")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let mut reader = BufReader::new(content.take(HEADER_LIMIT));
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|source| CatalogError::Io {
                    path: file.path_display(),
                    source,
                })?;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            if n == 0 || text.is_empty() {
                break;
            }
            if text.starts_with([' ', '\t']) {
                if let Some((_, v)) = headers.last_mut() {
                    v.push('\n');
                    v.push_str(text.trim());
                }
            } else if let Some((k, v)) = text.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let get = |key: &str| {
            headers
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let (Some(name), Some(version)) = (get("name"), get("version")) else {
            return Err(CatalogError::Malformed {
                path: file.path_display(),
                line: None,
                message: "no `Name` or `Version` header".to_owned(),
            });
        };
        let mut p = Package::new(Ecosystem::Pypi, name)
            .version(version)
            .found_in(file.path_display(), None);
        p.purl = PackageUrl::new("pypi", name)
            .and_then(|u| u.with_version(version))
            .ok();
        let license = get("license-expression").or_else(|| {
            get("license").filter(|l| {
                !l.contains('\n')
                    && l.len() <= MAX_LICENSE_NAME
                    && !l.eq_ignore_ascii_case("UNKNOWN")
            })
        });
        if let Some(license) = license {
            p.licenses.insert(license.to_owned());
        }
        out.packages.push(p);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_metadata_files() {
        let f = |path| FileInfo {
            path,
            size: 1,
            mode: 0o644,
        };
        let c = PythonCataloger;
        assert!(c.wants(&f(
            "usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA"
        )));
        assert!(c.wants(&f("x/foo.egg-info/PKG-INFO")));
        assert!(c.wants(&f("x/foo-1.0.egg-info")));
        assert!(!c.wants(&f("x/foo/METADATA")));
    }
}

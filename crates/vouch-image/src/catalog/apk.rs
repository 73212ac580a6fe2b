//! apk: Alpine's installed database, `/lib/apk/db/installed`.
//!
//! Format: <https://wiki.alpinelinux.org/wiki/Apk_spec#Installed_Database_V2>: one record per
//! package, records separated by blank lines, each line `X:value`. Read here: `P` name, `V`
//! version, `A` architecture, `L` licence, `o` origin (the source package, recorded as
//! `vouch:upstream` when it differs from the name) and `C` the package checksum, `Q1` followed
//! by the base64 SHA-1 (recorded as a SHA-1 hash).

use std::io::Read;

use vouch_inventory::{Algorithm, Digest, Ecosystem, Package};

use super::{CatalogError, Cataloger, FileInfo, Findings, props, read_to_limit};

/// Largest database read.
const LIMIT: u64 = 64 * 1024 * 1024;

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(ApkCataloger)]
}

/// Reads the apk installed database.
#[derive(Debug)]
pub struct ApkCataloger;

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path == "lib/apk/db/installed"
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let bytes = read_to_limit(file, content, LIMIT)?;
        let text = String::from_utf8_lossy(&bytes);
        let shown = file.path_display();
        let mut record = Record::default();
        for (i, line) in text.lines().enumerate() {
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if line.trim().is_empty() {
                record.finish(&shown, out);
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if record.line.is_none() {
                record.line = Some(number);
            }
            let value = value.trim();
            match key {
                "P" => record.name = Some(value.to_owned()),
                "V" => record.version = Some(value.to_owned()),
                "A" => record.arch = Some(value.to_owned()),
                "L" => record.license = Some(value.to_owned()),
                "o" => record.origin = Some(value.to_owned()),
                "C" => record.checksum = Some((value.to_owned(), number)),
                _ => {}
            }
        }
        record.finish(&shown, out);
        Ok(())
    }
}

#[derive(Default)]
struct Record {
    line: Option<u32>,
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    license: Option<String>,
    origin: Option<String>,
    checksum: Option<(String, u32)>,
}

impl Record {
    fn finish(&mut self, file: &str, out: &mut Findings) {
        let r = std::mem::take(self);
        let (Some(name), Some(version)) = (r.name, r.version) else {
            if r.line.is_some() {
                out.warnings.push(format!(
                    "{file}:{}: record without `P:` or `V:` skipped",
                    r.line.unwrap_or_default()
                ));
            }
            return;
        };
        let mut p = Package::new(Ecosystem::Apk, name.clone())
            .version(version)
            .found_in(file, r.line);
        if let Some(arch) = r.arch.filter(|a| !a.is_empty()) {
            p.properties.insert(props::ARCH.to_owned(), arch);
        }
        if let Some(origin) = r.origin.filter(|o| !o.is_empty() && *o != name) {
            p.properties.insert(props::UPSTREAM.to_owned(), origin);
        }
        if let Some(license) = r.license.filter(|l| !l.is_empty()) {
            p.licenses.insert(license);
        }
        if let Some((checksum, line)) = r.checksum {
            match checksum
                .strip_prefix("Q1")
                .and_then(|b64| Digest::from_base64(Algorithm::Sha1, b64).ok())
            {
                Some(d) => {
                    p.hashes.insert(d);
                }
                None => out.warnings.push(format!(
                    "{file}:{line}: checksum `{checksum}` is not `Q1` and a base64 SHA-1; not recorded"
                )),
            }
        }
        out.packages.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records() {
        let db = "C:Q1ZW5aHvRmf3X7ZY2W5RTaJe5Tk0I=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\n\
                  P:libcrypto3\nV:3.3.2-r0\nA:x86_64\nL:Apache-2.0\no:openssl\nC:bogus\n";
        let file = FileInfo {
            path: "lib/apk/db/installed",
            size: db.len() as u64,
            mode: 0o644,
        };
        let mut out = Findings::default();
        ApkCataloger
            .catalog(&file, &mut db.as_bytes(), &mut out)
            .unwrap();
        assert_eq!(out.packages.len(), 2);
        let musl = &out.packages[0];
        assert_eq!(
            musl.hashes.iter().next().unwrap().algorithm(),
            Algorithm::Sha1
        );
        assert!(!musl.properties.contains_key(props::UPSTREAM));
        assert_eq!(out.packages[1].properties[props::UPSTREAM], "openssl");
        assert_eq!(out.warnings.len(), 1);
    }
}

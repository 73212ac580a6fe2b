//! dpkg: `/var/lib/dpkg/status`, and the one-file-per-package `/var/lib/dpkg/status.d/*` of
//! distroless images.
//!
//! Format: deb822 control paragraphs separated by blank lines, `Field: value` with
//! continuation lines starting with a space or tab
//! (<https://man7.org/linux/man-pages/man5/deb822.5.html>, `dpkg-query(1)`). A package counts
//! when its `Status` ends in `installed` (`install ok installed`); status.d files of distroless
//! images often carry no `Status`, and everything they list is installed. `Source: name
//! (version)` becomes the `vouch:upstream` property (`name`, or `name@version` when the
//! version differs). Licences are not in the status file and are not reported.

use std::io::Read;

use vouch_inventory::{Ecosystem, Package};

use super::{CatalogError, Cataloger, FileInfo, Findings, props, read_to_limit};

/// Largest status file read.
const LIMIT: u64 = 64 * 1024 * 1024;

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(DpkgCataloger)]
}

/// Reads dpkg status databases.
#[derive(Debug)]
pub struct DpkgCataloger;

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        file.path == "var/lib/dpkg/status"
            || file
                .path
                .strip_prefix("var/lib/dpkg/status.d/")
                .is_some_and(|name| {
                    !name.contains('/') && !name.ends_with(".md5sums") && !name.starts_with('.')
                })
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let bytes = read_to_limit(file, content, LIMIT)?;
        let text = String::from_utf8_lossy(&bytes);
        let status_required = file.path == "var/lib/dpkg/status";
        for paragraph in paragraphs(&text) {
            if let Some(p) = package(&paragraph, status_required, &file.path_display()) {
                out.packages.push(p);
            }
        }
        Ok(())
    }
}

/// One control paragraph: its first line number and its fields in order.
pub(crate) struct Paragraph {
    pub(crate) line: u32,
    pub(crate) fields: Vec<(String, String)>,
}

impl Paragraph {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }
}

/// Splits deb822 text into paragraphs; continuation lines are appended to their field.
pub(crate) fn paragraphs(text: &str) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut current: Option<Paragraph> = None;
    for (i, line) in text.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        let para = current.get_or_insert_with(|| Paragraph {
            line: number,
            fields: Vec::new(),
        });
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = para.fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            para.fields
                .push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out.extend(current);
    out
}

fn package(para: &Paragraph, status_required: bool, file: &str) -> Option<Package> {
    let name = para.get("Package").filter(|n| !n.is_empty())?;
    match para.get("Status") {
        Some(status) if status.split_whitespace().last() != Some("installed") => return None,
        None if status_required => return None,
        _ => {}
    }
    let version = para.get("Version").filter(|v| !v.is_empty())?;
    let mut p = Package::new(Ecosystem::Deb, name)
        .version(version)
        .found_in(file, Some(para.line));
    if let Some(arch) = para.get("Architecture").filter(|a| !a.is_empty()) {
        p.properties.insert(props::ARCH.to_owned(), arch.to_owned());
    }
    if let Some(source) = para.get("Source").filter(|s| !s.is_empty()) {
        let (src_name, src_version) = match source.split_once('(') {
            Some((n, v)) => (n.trim(), Some(v.trim_end_matches(')').trim())),
            None => (source, None),
        };
        let upstream = match src_version {
            Some(v) if v != version => Some(format!("{src_name}@{v}")),
            _ if src_name != name => Some(src_name.to_owned()),
            _ => None,
        };
        if let Some(upstream) = upstream {
            p.properties.insert(props::UPSTREAM.to_owned(), upstream);
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_with_source() {
        let text = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n\
                    Source: openssl\nVersion: 3.0.11-1\nDescription: x\n more\n\n\
                    Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Package: bin\nStatus: install ok installed\nSource: src (1.0-1)\nVersion: 1.0-1+b1\n";
        let paras = paragraphs(text);
        let pkgs: Vec<Package> = paras
            .iter()
            .filter_map(|p| package(p, true, "/var/lib/dpkg/status"))
            .collect();
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].properties[props::UPSTREAM], "openssl");
        assert_eq!(pkgs[0].properties[props::ARCH], "amd64");
        assert_eq!(pkgs[1].properties[props::UPSTREAM], "src@1.0-1");
        assert_eq!(pkgs[1].evidence.iter().next().unwrap().line, Some(13));
    }
}

//! `os-release(5)`: the operating system's identity, from `/etc/os-release` or, when that is
//! missing (or a symbolic link, which is never followed), `/usr/lib/os-release`.
//!
//! Format: <https://www.freedesktop.org/software/systemd/man/latest/os-release.html>: lines of
//! `KEY=value`, the value optionally in single or double quotes with backslash escapes.

use std::io::Read;

use super::{CatalogError, Cataloger, FileInfo, Findings, OsRelease, read_to_limit};

/// Largest `os-release` file read.
const LIMIT: u64 = 64 * 1024;

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(OsReleaseCataloger)]
}

/// Reads `etc/os-release` and `usr/lib/os-release`; the driver prefers the first.
#[derive(Debug)]
pub struct OsReleaseCataloger;

impl Cataloger for OsReleaseCataloger {
    fn name(&self) -> &'static str {
        "os-release"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        matches!(file.path, "etc/os-release" | "usr/lib/os-release")
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let bytes = read_to_limit(file, content, LIMIT)?;
        let text = String::from_utf8_lossy(&bytes);
        match parse(&text) {
            Some(os) => out.os = Some(os),
            None => out
                .warnings
                .push(format!("{}: no `ID=` line", file.path_display())),
        }
        Ok(())
    }
}

/// Parses the text of an `os-release` file; `None` without an `ID`.
pub fn parse(text: &str) -> Option<OsRelease> {
    let mut os = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        let some = || Some(value.clone()).filter(|v| !v.is_empty());
        match key.trim() {
            "ID" => os.id = value.to_ascii_lowercase(),
            "VERSION_ID" => os.version_id = some(),
            "VERSION_CODENAME" => os.version_codename = some(),
            "ID_LIKE" => os.id_like = value.split_whitespace().map(str::to_owned).collect(),
            "PRETTY_NAME" => os.pretty_name = some(),
            "NAME" => os.name = some(),
            _ => {}
        }
    }
    (!os.id.is_empty()).then_some(os)
}

/// Removes one level of matching quotes and resolves backslash escapes inside double quotes.
fn unquote(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return inner.to_owned();
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_debian() {
        let os = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
             VERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n# c\nID_LIKE='a b'\n",
        )
        .unwrap();
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os.id_like, ["a", "b"]);
        assert!(parse("NAME=x\n").is_none());
        assert_eq!(unquote(r#""a\"b""#), "a\"b");
    }
}

//! Lockfiles inside the image (`package-lock.json`, `Cargo.lock`, `poetry.lock`, ...), read by
//! [`vouch_lockfile`].
//!
//! Skipped: anything under `node_modules` (installed packages carry their own lockfiles, which
//! describe their development, not the image), the Go module cache (`go/pkg/mod`) and Cargo's
//! registry sources (`.cargo/registry`). A lockfile that fails to parse is a warning naming the
//! file, never an error of the scan. The lockfile's dependency graph is kept: its root project
//! hangs from the image, and every package from what depends on it in the lockfile.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use vouch_lockfile::Format;

use super::{CatalogError, Cataloger, FileInfo, Findings, read_to_limit};

/// Largest lockfile read from an image.
const LIMIT: u64 = 64 * 1024 * 1024;

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(LockfileCataloger)]
}

/// Reads every lockfile format `vouch_lockfile` knows.
#[derive(Debug)]
pub struct LockfileCataloger;

fn skipped_dir(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.contains(&"node_modules")
        || parts.windows(3).any(|w| w == ["go", "pkg", "mod"])
        || parts.windows(2).any(|w| w == [".cargo", "registry"])
}

impl Cataloger for LockfileCataloger {
    fn name(&self) -> &'static str {
        "lockfile"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        Format::detect(Path::new(file.file_name())).is_some() && !skipped_dir(file.path)
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let Some(format) = Format::detect(Path::new(file.file_name())) else {
            return Ok(());
        };
        let bytes = read_to_limit(file, content, LIMIT)?;
        let shown = file.path_display();
        match vouch_lockfile::parse_bytes(format, &shown, &bytes) {
            Ok(inventory) => {
                let first = out.packages.len();
                let mut index = HashMap::with_capacity(inventory.len());
                for (i, (id, p)) in inventory.packages().enumerate() {
                    index.insert(id, first + i);
                    out.packages.push(p.clone());
                }
                out.edges.extend(
                    inventory
                        .edges()
                        .filter_map(|(from, to)| Some((*index.get(from)?, *index.get(to)?))),
                );
            }
            Err(e) => out.warnings.push(format!("lockfile not read: {e}")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_vendored_trees() {
        let f = |path| FileInfo {
            path,
            size: 1,
            mode: 0o644,
        };
        let c = LockfileCataloger;
        assert!(c.wants(&f("app/package-lock.json")));
        assert!(c.wants(&f("srv/Cargo.lock")));
        assert!(!c.wants(&f("app/node_modules/x/package-lock.json")));
        assert!(!c.wants(&f("root/go/pkg/mod/x@v1/go.mod")));
        assert!(!c.wants(&f("app/package.json")));
    }
}

//! Finding lockfiles under a directory.

use std::path::{Path, PathBuf};

use crate::{Format, ParseError, ParseErrorKind};

/// Directories not descended into unless asked: installed dependencies and build output hold
/// other projects' lockfiles, which describe what those projects were built with, not this one.
pub const DEFAULT_SKIPPED_DIRS: &[&str] = &["node_modules", "target", ".git", "vendor"];

/// How to walk a tree.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Directory names to skip.
    pub skip_dirs: Vec<String>,
    /// Deepest directory level to descend to.
    pub max_depth: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            skip_dirs: DEFAULT_SKIPPED_DIRS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            max_depth: 32,
        }
    }
}

/// A lockfile found by [`discover`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Discovered {
    /// Path relative to the walked root, `/`-separated (stable across platforms).
    pub display: String,
    /// Path to open.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
}

/// Finds every lockfile under `root`, in path order. `go.sum` is left out where a `go.mod`
/// sits beside it, since the `go.mod` parser reads it.
pub fn discover(root: &Path, options: &WalkOptions) -> Result<Vec<Discovered>, ParseError> {
    let mut found = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .max_depth(options.max_depth)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !options
                    .skip_dirs
                    .iter()
                    .any(|s| e.file_name().to_str() == Some(s.as_str()))
        });
    for entry in walker {
        let entry = entry.map_err(|e| {
            let shown = e
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| root.display().to_string());
            ParseError::new(&shown, ParseErrorKind::Io(e.to_string()))
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(format) = Format::detect(entry.path()) else {
            continue;
        };
        if format == Format::GoSum
            && entry
                .path()
                .parent()
                .is_some_and(|d| d.join("go.mod").is_file())
        {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let display = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        found.push(Discovered {
            display,
            path: entry.path().to_path_buf(),
            format,
        });
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_vendored_trees_and_paired_go_sum() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("web/node_modules/x")).unwrap();
        std::fs::create_dir_all(p.join("svc")).unwrap();
        std::fs::write(p.join("Cargo.lock"), "").unwrap();
        std::fs::write(p.join("web/package-lock.json"), "{}").unwrap();
        std::fs::write(p.join("web/node_modules/x/package-lock.json"), "{}").unwrap();
        std::fs::write(p.join("svc/go.mod"), "module x").unwrap();
        std::fs::write(p.join("svc/go.sum"), "").unwrap();
        let found: Vec<String> = discover(p, &WalkOptions::default())
            .unwrap()
            .into_iter()
            .map(|d| d.display)
            .collect();
        assert_eq!(found, ["Cargo.lock", "svc/go.mod", "web/package-lock.json"]);
    }
}

//! Parser for Gradle's `gradle.lockfile`.
//!
//! Format: <https://docs.gradle.org/current/userguide/dependency_locking.html#lock_state_location_and_format>.
//! One line per resolved module, `group:artifact:version=configuration1,configuration2`, a
//! final `empty=...` line naming the configurations that resolved nothing, and `#` comments.
//!
//! Gradle before 6 wrote one file per configuration, `gradle/dependency-locks/<conf>.lockfile`,
//! with bare `group:artifact:version` lines; those lines are read here too (with no
//! configuration), though [`crate::Format::detect`] does not route such files yet.
//!
//! The file records neither the project nor the graph: the root is named after the directory
//! and every module hangs off it. A module is dev-only when every configuration that resolves
//! it is a test configuration (`test...` or `...Test...`, such as `testRuntimeClasspath` and
//! `integrationTestCompileClasspath`).

use vouch_inventory::{Ecosystem, Inventory, Scope, Source};

use crate::cargo::synthetic_root;
use crate::common;
use crate::{Input, ParseError};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let mut inv = Inventory::new();
    let mut root_pkg = synthetic_root(Ecosystem::Maven, file);
    let mut count = 0usize;
    let mut modules = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let n = idx + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (coordinates, configurations) = match line.split_once('=') {
            Some((c, confs)) => (c.trim(), Some(confs.trim())),
            None => (line, None),
        };
        if coordinates == "empty" {
            if let Some(confs) = configurations.filter(|c| !c.is_empty()) {
                root_pkg.properties.insert(
                    "vouch:gradle-empty-configurations".to_owned(),
                    confs.to_owned(),
                );
            }
            continue;
        }
        let parts: Vec<&str> = coordinates.split(':').collect();
        let [group, artifact, version] = parts.as_slice() else {
            return Err(ParseError::invalid(
                file,
                "dependency",
                "`group:artifact:version=configurations`",
                line,
            )
            .at_line(n));
        };
        if [group, artifact, version].iter().any(|p| p.is_empty()) {
            return Err(ParseError::invalid(
                file,
                "dependency",
                "non-empty group, artifact and version",
                line,
            )
            .at_line(n));
        }
        count += 1;
        common::check_entries(file, count, "dependencies")?;
        let line_no = u32::try_from(n).unwrap_or(u32::MAX);
        let mut pkg = common::package(
            Ecosystem::Maven,
            Some(group),
            artifact,
            Some(version),
            file,
            Some(line_no),
        );
        pkg.source = Source::Registry { url: None };
        if let Some(confs) = configurations {
            let list: Vec<&str> = confs
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            if !list.is_empty() && list.iter().all(|c| is_test_configuration(c)) {
                pkg.scope = Scope::Dev;
            }
            pkg.properties
                .insert("vouch:gradle-configurations".to_owned(), list.join(","));
        }
        modules.push(pkg);
    }
    let root = inv.add_root(root_pkg);
    for pkg in modules {
        let id = inv.add(pkg);
        inv.depend(&root, &id);
    }
    Ok(inv)
}

/// Whether a configuration only serves tests (`testRuntimeClasspath`, `integrationTestImplementation`).
fn is_test_configuration(name: &str) -> bool {
    name.starts_with("test") || name.contains("Test")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_configurations() {
        assert!(is_test_configuration("testRuntimeClasspath"));
        assert!(is_test_configuration("integrationTestCompileClasspath"));
        assert!(!is_test_configuration("runtimeClasspath"));
        assert!(!is_test_configuration("jmhRuntimeClasspath"));
    }
}

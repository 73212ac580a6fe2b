//! Integration tests: the real `vouch` binary, its exit code, stdout and stderr.

// Tests may panic: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cosign;
mod faults;
mod image;
mod image_syft;
mod intoto_schema;
mod lock_check;
mod provenance;
mod release;
mod sbom;
mod sbom_check;
mod sign;
mod trust_update;
mod verify;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled example project.
pub fn demo_app() -> PathBuf {
    repo().join("examples/demo-app")
}

/// The official schemas, when present.
pub fn schema_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("VOUCH_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    let dir = shared.join("schemas");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED (partly): official schemas not found; schema validation not exercised");
        None
    }
}

/// A `vouch` command with a fixed creation time and no inherited schema directory.
pub fn vouch() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vouch"));
    // No TUF cache of the developer's leaks into the tests' trust material.
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env("XDG_CACHE_HOME", "/nonexistent/vouch-test-cache")
        .env_remove("VOUCH_TUF_CACHE")
        .env_remove("VOUCH_SCHEMA_DIR")
        .env("NO_COLOR", "1");
    c
}

/// Exit code, stdout and stderr as one text, with machine paths replaced, for snapshots.
pub fn render(out: &Output, replace: &[(&Path, &str)]) -> String {
    let mut text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for (path, name) in replace {
        text = text.replace(&path.display().to_string(), name);
    }
    text
}

/// Runs and returns the output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("vouch runs")
}

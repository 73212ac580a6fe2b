//! Writing results: atomic files, stdout, and errors rendered for people.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// A hint attached to an error: printed as `hint: …` after the cause chain.
#[derive(Debug)]
pub struct Hint(pub String);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Hint {}

/// An error with a hint on how to fix it.
pub fn error_with_hint(message: impl Into<String>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hint(hint.into())).context(message.into())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader never sees a partial file and a failure leaves any previous file intact. (No fsync:
/// the guarantee is about readers and failures of vouch, not power loss.)
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes).map_err(anyhow::Error::from))
}

/// [`write_atomic`] of what `write` writes into the (new, empty) temporary file, for content
/// produced as it is written rather than held whole in memory.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut fs_err::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs_err::File::create(&tmp)?;
        write(&mut f)?;
        fs_err::rename(&tmp, path)?;
        anyhow::Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write `{}`", path.display()))
}

/// Writes data to stdout, treating a closed pipe as success (`vouch sbom | head`).
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to stdout"),
    }
}

/// Renders an error chain as `error:` / `  Caused by:` / `hint:` on stderr.
pub fn print_error(err: &anyhow::Error) {
    let mut hints = Vec::new();
    let mut lines = Vec::new();
    for (i, cause) in err.chain().enumerate() {
        if let Some(h) = cause.downcast_ref::<Hint>() {
            hints.push(h.0.clone());
            continue;
        }
        let text = cause.to_string();
        if i == 0 {
            lines.push(format!("error: {text}"));
        } else if lines.iter().all(|l: &String| !l.contains(&text)) {
            lines.push(format!("  Caused by: {text}"));
        }
    }
    let mut stderr = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(stderr, "{l}");
    }
    for h in hints {
        let _ = writeln!(stderr, "hint: {h}");
    }
}

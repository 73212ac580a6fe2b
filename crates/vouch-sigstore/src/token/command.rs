//! Running a CI system's token tool (`buildkite-agent`, `circleci`) as the request's
//! environment describes it: looked up on that environment's `PATH`, run with exactly that
//! environment, bounded in time and output.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sigstore_oidc::SecretString;

use super::http::quote;
use super::{Environment, TokenError, TokenSource, vars};

/// How long a token tool may run. Both ask a service over the network; seconds are normal.
pub(super) const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Most bytes read from a tool's stdout or stderr.
const MAX_OUTPUT_BYTES: u64 = 64 * 1024;

/// How often to look whether the tool has finished. tokio's `process` feature, which would
/// let the runtime wait for it, is not enabled in the workspace.
const POLL: Duration = Duration::from_millis(20);

/// Runs `program args…` and returns its stdout, trimmed, as the token.
pub(super) async fn token_from(
    env: &Environment,
    program: &'static str,
    args: &[&str],
    source: TokenSource,
) -> Result<SecretString, TokenError> {
    let failed = |status, message| TokenError::CommandFailed {
        origin: source,
        program,
        status,
        message,
    };
    let path = find_program(env, program).ok_or(TokenError::CommandNotFound {
        origin: source,
        program,
    })?;
    let mut child = Command::new(&path)
        .args(args)
        .env_clear()
        .envs(env.iter())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(None, format!("cannot run {}: {e}", path.display())))?;
    // Pipes are drained on their own threads so that a chatty tool never blocks on a full
    // pipe; plain threads rather than the runtime's blocking pool, so that a tool leaving a
    // grandchild holding the pipe cannot hold up the runtime's shutdown.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if tokio::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TokenError::CommandTimeout {
                    origin: source,
                    program,
                    after: COMMAND_TIMEOUT,
                });
            }
            Ok(None) => tokio::time::sleep(POLL).await,
            Err(e) => return Err(failed(None, format!("cannot wait for it: {e}"))),
        }
    };
    // The pipes close when the tool exits; a second is plenty unless a grandchild kept them.
    let grace = Duration::from_secs(1);
    let stdout = tokio::time::timeout(grace, stdout)
        .await
        .ok()
        .and_then(Result::ok);
    let stderr = tokio::time::timeout(grace, stderr)
        .await
        .ok()
        .and_then(Result::ok);
    let stderr = stderr.unwrap_or_default();
    if !status.success() {
        let message = if stderr.is_empty() {
            "it printed nothing on stderr".to_owned()
        } else {
            quote(&stderr)
        };
        return Err(failed(status.code(), message));
    }
    let stdout = stdout.ok_or_else(|| failed(None, "its output could not be read".to_owned()))?;
    if stdout.len() as u64 > MAX_OUTPUT_BYTES {
        return Err(failed(
            None,
            format!("it printed more than {MAX_OUTPUT_BYTES} bytes"),
        ));
    }
    let text = String::from_utf8(stdout)
        .map_err(|_| failed(None, "it printed something that is not UTF-8".to_owned()))?;
    Ok(SecretString::new(text.trim()))
}

/// Reads all of a pipe (up to one byte past the limit, so that too much is noticed).
fn drain<R: std::io::Read + Send + 'static>(
    pipe: Option<R>,
) -> tokio::sync::oneshot::Receiver<Vec<u8>> {
    let (send, receive) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = pipe {
            let _ = pipe.take(MAX_OUTPUT_BYTES + 1).read_to_end(&mut bytes);
        }
        let _ = send.send(bytes);
    });
    receive
}

/// The first executable file named `program` in the environment's `PATH`. Relative entries
/// (`.`, an empty entry) are skipped: a token tool found in the working directory would be
/// whatever the checked-out repository put there.
pub(super) fn find_program(env: &Environment, program: &str) -> Option<PathBuf> {
    let path = env.get(vars::PATH)?;
    // `split_paths` only parses the snapshot's value (with the platform's separator).
    std::env::split_paths(path)
        .filter(|dir| dir.is_absolute())
        .flat_map(|dir| candidates(&dir, program))
        .find(|candidate| is_executable(candidate))
}

fn candidates(dir: &Path, program: &str) -> Vec<PathBuf> {
    if cfg!(windows) {
        ["exe", "cmd", "bat"]
            .iter()
            .map(|ext| dir.join(format!("{program}.{ext}")))
            .collect()
    } else {
        vec![dir.join(program)]
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

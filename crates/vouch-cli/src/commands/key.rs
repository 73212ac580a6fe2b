//! `vouch key generate`: an ECDSA P-256 key pair for signing without Sigstore's identities.

use anyhow::bail;
use vouch_sigstore::key::ManagedKey;

use super::Status;
use super::signing;
use crate::cli::{KeyArgs, KeyCommand};
use crate::output;

/// Runs `vouch key`.
pub fn run(args: &KeyArgs) -> anyhow::Result<Status> {
    match &args.command {
        KeyCommand::Generate(g) => {
            let mut private = g.output.as_os_str().to_owned();
            private.push(".key");
            let mut public = g.output.as_os_str().to_owned();
            public.push(".pub");
            let (private, public) = (
                std::path::PathBuf::from(private),
                std::path::PathBuf::from(public),
            );
            for path in [&private, &public] {
                if path.exists() && !g.force {
                    bail!("`{}` exists; pass `--force` to replace it", path.display());
                }
            }
            let pass = signing::passphrase("Passphrase for the new key: ", true)?;
            let key = ManagedKey::generate()?;
            let pem = key.to_encrypted_pem(&pass)?;
            write_private(&private, pem.as_bytes())?;
            output::write_atomic(&public, key.public_key_pem().as_bytes())?;
            output::write_stdout(
                format!(
                    "private key (encrypted) -> {}\npublic key -> {}\n",
                    private.display(),
                    public.display()
                )
                .as_bytes(),
            )?;
            Ok(Status::Success)
        }
    }
}

/// The private key is created readable by its owner only, before any byte is written.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut options = fs_err::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        fs_err::rename(&tmp, path)?;
        anyhow::Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

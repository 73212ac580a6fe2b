//! `vouch sign`: files in, one verified Sigstore bundle per file out.
//!
//! Files are hashed and signed concurrently (at most `--jobs` at once); a keyless signer asks
//! Fulcio for one certificate for the whole batch. A bundle is written only after vouch's
//! verifier has accepted it, through a temporary file and a rename, so there is never a partial
//! or unverified bundle on disk. Exit 0 when every file was signed, 2 otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use serde_json::json;
use vouch_digest::{Algorithm, Digest};

use super::Status;
use super::signing;
use crate::cli::{ReportFormat, SignArgs};
use crate::output;

/// `vouch sign IMAGE…`: each manifest digest signed and the bundle attached in the registry.
fn sign_images(args: &SignArgs, images: &[String]) -> anyhow::Result<Status> {
    if args.bundle.is_some() {
        bail!("`--bundle` is for files; an image's bundle is stored in its registry");
    }
    let runtime = signing::runtime()?;
    let done = runtime.block_on(async {
        let signer = signing::signer(&args.signing).await?;
        super::image::sign_images(
            &signer,
            &args.registry,
            images,
            args.recursive,
            args.legacy_cosign,
        )
        .await
    })?;
    let out = match args.format {
        ReportFormat::Text => done
            .iter()
            .map(|d| {
                format!(
                    "signed {} -> {} (log index {})\n",
                    d.subject, d.stored, d.log_index
                )
            })
            .collect::<String>(),
        ReportFormat::Json => {
            let items: Vec<_> = done
                .iter()
                .map(|d| {
                    json!({
                        "image": d.subject,
                        "stored": d.stored,
                        "signed": true,
                        "log_index": d.log_index,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&items)?;
            s.push('\n');
            s
        }
    };
    output::write_stdout(out.as_bytes())?;
    Ok(Status::Success)
}

struct Done {
    file: PathBuf,
    bundle: PathBuf,
    outcome: Result<u64, String>,
}

/// Runs `vouch sign`.
pub fn run(args: &SignArgs) -> anyhow::Result<Status> {
    let images: Vec<String> = args
        .files
        .iter()
        .filter_map(|f| f.to_str().and_then(super::image::registry_image))
        .collect();
    if !images.is_empty() {
        if images.len() != args.files.len() {
            bail!("sign files and images in separate runs: images are signed in their registry");
        }
        return sign_images(args, &images);
    }
    if args.recursive || args.legacy_cosign {
        bail!("`--recursive` and `--legacy-cosign` apply to images only");
    }
    if args.bundle.is_some() && args.files.len() != 1 {
        bail!("`--bundle` names one output, so it takes exactly one file");
    }
    for file in &args.files {
        if !file.is_file() {
            bail!("`{}` is not a readable file", file.display());
        }
    }
    let runtime = signing::runtime()?;
    let results = runtime.block_on(sign_all(args))?;

    let out = match args.format {
        ReportFormat::Text => {
            let mut s = String::new();
            for d in &results {
                match &d.outcome {
                    Ok(index) => s.push_str(&format!(
                        "signed {} -> {} (log index {index})\n",
                        d.file.display(),
                        d.bundle.display()
                    )),
                    // Failures go to stderr with the error, where a pipeline's log shows them.
                    Err(e) => eprintln!("error: {}: {e}", d.file.display()),
                }
            }
            s
        }
        ReportFormat::Json => {
            let items: Vec<_> = results
                .iter()
                .map(|d| match &d.outcome {
                    Ok(index) => json!({
                        "file": d.file.display().to_string(),
                        "bundle": d.bundle.display().to_string(),
                        "signed": true,
                        "log_index": index,
                    }),
                    Err(e) => json!({
                        "file": d.file.display().to_string(),
                        "signed": false,
                        "error": e,
                    }),
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&items)?;
            s.push('\n');
            s
        }
    };
    output::write_stdout(out.as_bytes())?;
    let failed = results.iter().filter(|d| d.outcome.is_err()).count();
    if failed > 0 {
        bail!(
            "{failed} of {} file(s) could not be signed; no bundle was written for them",
            results.len()
        );
    }
    Ok(Status::Success)
}

async fn sign_all(args: &SignArgs) -> anyhow::Result<Vec<Done>> {
    let signer = Arc::new(signing::signer(&args.signing).await?);
    let limit = Arc::new(tokio::sync::Semaphore::new(args.jobs.get()));
    let progress = Arc::new(Progress::new(args.files.len()));
    let mut tasks = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let file = file.clone();
        let bundle = args
            .bundle
            .clone()
            .unwrap_or_else(|| default_bundle_path(&file));
        let signer = signer.clone();
        let limit = limit.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            let outcome = sign_one(&signer, &file, &bundle).await;
            progress.tick();
            Done {
                file,
                bundle,
                outcome: outcome.map_err(|e| format!("{e:#}")),
            }
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.context("a signing task panicked")?);
    }
    progress.finish();
    Ok(results)
}

async fn sign_one(
    signer: &vouch_sigstore::Signer,
    file: &Path,
    bundle: &Path,
) -> anyhow::Result<u64> {
    let digest = hash_file(file.to_path_buf()).await?;
    let signed = signer.sign_digest(&digest).await?;
    // Replacing a file by rename can wait on the file system (ext4 starts writing the new
    // file back when it replaces another): on a blocking thread, the runtime's workers go on
    // with the other files meanwhile.
    let bundle = bundle.to_path_buf();
    let json = signed.bundle_json;
    tokio::task::spawn_blocking(move || signing::write_bundle(&bundle, &json))
        .await
        .context("writing task failed")??;
    Ok(signed.log_index)
}

/// SHA-256 of a file, on a blocking thread.
async fn hash_file(file: PathBuf) -> anyhow::Result<Digest> {
    tokio::task::spawn_blocking(move || {
        let f = fs_err::File::open(&file)?;
        vouch_digest::hash_reader(
            Algorithm::Sha256,
            std::io::BufReader::with_capacity(1 << 16, f),
        )
        .with_context(|| format!("cannot read `{}`", file.display()))
    })
    .await
    .context("hashing task failed")?
}

/// `FILE.sigstore.json`, where `vouch verify FILE` looks first.
fn default_bundle_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sigstore.json");
    PathBuf::from(name)
}

/// A one-line counter on stderr, only when stderr is a terminal.
struct Progress {
    total: usize,
    done: AtomicUsize,
    enabled: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            total,
            done: AtomicUsize::new(0),
            enabled: total > 1 && std::io::stderr().is_terminal(),
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.enabled {
            let width = 30;
            let filled = done * width / self.total.max(1);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r[{}{}] {done}/{} signed",
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.total
            );
            let _ = err.flush();
        }
    }

    fn finish(&self) {
        if self.enabled {
            let _ = writeln!(std::io::stderr());
        }
    }
}

//! `vouch provenance`: an in-toto statement with a SLSA provenance v1 predicate for build
//! outputs, from the CI environment (GitHub Actions, GitLab CI) or a generic description.
//!
//! The statement is written unsigned; `vouch attest --statement FILE` signs it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use vouch_digest::{Algorithm, Digest};
use vouch_intoto::{
    Environment, GenericBuild, ResourceDescriptor, SLSA_PROVENANCE_V1, Statement, detect,
};

use super::Status;
use crate::cli::ProvenanceArgs;
use crate::{output, settings};

/// Largest checksums file read.
const MAX_CHECKSUMS_BYTES: u64 = 16 << 20;

/// Runs `vouch provenance`.
pub fn run(args: &ProvenanceArgs) -> anyhow::Result<Status> {
    let mut subjects = Vec::new();
    for s in &args.subject {
        subjects.extend(subject_arg(s)?);
    }
    if let Some(path) = &args.checksums {
        subjects.extend(checksums(path)?);
    }
    let mut seen = BTreeMap::new();
    for s in &subjects {
        if let Some(name) = &s.name
            && let Some(previous) = seen.insert(name.clone(), s.digest.clone())
            && previous != s.digest
        {
            bail!("subject `{name}` is given twice with different digests");
        }
    }
    subjects.dedup();

    let generic = args.builder_id.as_ref().map(|id| GenericBuild {
        builder_id: id.clone(),
        build_type: args.build_type.clone(),
        parameters: args
            .params
            .iter()
            .filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect(),
        source: args
            .source_uri
            .clone()
            .map(|u| (u, args.source_commit.clone())),
        invocation_id: args.invocation_id.clone(),
    });
    if let Some(bad) = args.params.iter().find(|p| !p.contains('=')) {
        bail!("`--param {bad}` is not KEY=VALUE");
    }
    let env = Environment::from_vars(std::env::vars());
    let context = detect(&env, generic)?;
    let started = args
        .started_on
        .as_deref()
        .map(|t| {
            t.parse::<jiff::Timestamp>()
                .with_context(|| format!("`--started-on {t}` is not an RFC 3339 time"))
        })
        .transpose()?;
    let finished = jiff::Timestamp::from_second(settings::created_time()?)
        .context("the build time is out of range")?;
    let predicate = context.provenance(started, finished)?;
    let statement = Statement::new(
        subjects,
        SLSA_PROVENANCE_V1,
        serde_json::to_value(&predicate)?,
    );
    let mut json = serde_json::to_vec_pretty(&statement)?;
    json.push(b'\n');
    match &args.output {
        Some(path) => {
            output::write_atomic(path, &json)?;
            eprintln!(
                "provenance ({}) for {} subject(s) -> {}",
                context.name(),
                statement.subject.len(),
                path.display()
            );
        }
        None => output::write_stdout(&json)?,
    }
    Ok(Status::Success)
}

/// One `--subject`: a digest, a glob, or a file.
fn subject_arg(arg: &str) -> anyhow::Result<Vec<ResourceDescriptor>> {
    let (name, digest_part) = match arg.rsplit_once('@') {
        Some((n, d)) if d.starts_with("sha256:") || d.starts_with("sha512:") => (Some(n), d),
        _ => (None, arg),
    };
    if digest_part.starts_with("sha256:") || digest_part.starts_with("sha512:") {
        let digest = Digest::from_prefixed(digest_part)
            .map_err(|e| anyhow::anyhow!("`--subject {arg}`: {e}"))?;
        let mut d = ResourceDescriptor {
            name: name.map(str::to_owned),
            ..ResourceDescriptor::default()
        };
        d.digest.insert(
            digest.algorithm().name().to_owned(),
            digest.hex().to_owned(),
        );
        return Ok(vec![d]);
    }
    if arg.contains(['*', '?', '[']) {
        let mut out = Vec::new();
        for entry in glob::glob(arg).with_context(|| format!("`--subject {arg}` is not a glob"))? {
            let path = entry?;
            if path.is_file() {
                out.push(file_subject(&path)?);
            }
        }
        if out.is_empty() {
            bail!("`--subject {arg}` matches no file");
        }
        return Ok(out);
    }
    let path = Path::new(arg);
    if !path.is_file() {
        bail!("`--subject {arg}` is neither a file, a glob nor a digest");
    }
    Ok(vec![file_subject(path)?])
}

/// A file subject: its file name, SHA-256 and SHA-512, from one read. Shared by `vouch
/// attest`, `vouch provenance` and `vouch release`.
pub(crate) fn file_subject(path: &Path) -> anyhow::Result<ResourceDescriptor> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("`{}` has no file name", path.display()))?;
    let file = fs_err::File::open(path)?;
    let mut sha512 = vouch_digest::HashingReader::new(
        Algorithm::Sha512,
        std::io::BufReader::with_capacity(1 << 16, file),
    )
    .context("SHA-512 is unavailable")?;
    let sha256 = vouch_digest::hash_reader(Algorithm::Sha256, &mut sha512)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok(ResourceDescriptor::named(name)
        .with_digest("sha256", sha256.hex())
        .with_digest("sha512", sha512.finish().hex()))
}

/// `HEX  NAME` or `HEX *NAME` lines; the digest length tells SHA-256 from SHA-512.
fn checksums(path: &Path) -> anyhow::Result<Vec<ResourceDescriptor>> {
    let meta = fs_err::metadata(path)?;
    if meta.len() > MAX_CHECKSUMS_BYTES {
        bail!(
            "`{}` is {} bytes: not a checksums file",
            path.display(),
            meta.len()
        );
    }
    let text = fs_err::read_to_string(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let (hex, rest) = line
            .split_once(' ')
            .with_context(|| format!("{}: expected `HEX  NAME`", at()))?;
        let name = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('*'))
            .unwrap_or(rest)
            .trim_start_matches(['*', ' ']);
        let algorithm = match hex.len() {
            64 => Algorithm::Sha256,
            128 => Algorithm::Sha512,
            n => bail!(
                "{}: a {n}-character digest is neither SHA-256 nor SHA-512",
                at()
            ),
        };
        let digest = Digest::from_hex(algorithm, &hex.to_ascii_lowercase())
            .map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
        if name.is_empty() {
            bail!("{}: no file name after the digest", at());
        }
        out.push(ResourceDescriptor::named(name).with_digest(algorithm.name(), digest.hex()));
    }
    if out.is_empty() {
        bail!("`{}` lists no checksums", path.display());
    }
    Ok(out)
}

//! `vouch attest`: an in-toto Statement v1 about one or more files, DSSE-signed in a Sigstore
//! bundle that vouch has verified before writing it.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::Status;
use super::signing;
use crate::cli::AttestArgs;
use crate::output;

/// Largest predicate or statement read, in bytes. An SBOM predicate of a large image is a few
/// megabytes; base64 in the envelope grows it by a third, and bundles stop at 64 MiB.
pub const MAX_PREDICATE_BYTES: u64 = 32 << 20;

/// The predicate type short names, as cosign and the in-toto attestation catalogue name them.
const PREDICATE_TYPES: &[(&str, &str)] = &[
    ("slsaprovenance", "https://slsa.dev/provenance/v1"),
    ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
    ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("spdx", "https://spdx.dev/Document"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("openvex", "https://openvex.dev/ns/v0.2.0"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
];

/// The predicate type for a short name or a URI.
pub fn predicate_type(name: &str) -> anyhow::Result<String> {
    if let Some((_, uri)) = PREDICATE_TYPES.iter().find(|(n, _)| *n == name) {
        return Ok((*uri).to_owned());
    }
    if name.contains("://") || name.starts_with("urn:") {
        return Ok(name.to_owned());
    }
    let names: Vec<_> = PREDICATE_TYPES.iter().map(|(n, _)| *n).collect();
    Err(output::error_with_hint(
        format!("`{name}` is neither a predicate type URI nor a known short name"),
        format!("use a URI, or one of: {}", names.join(", ")),
    ))
}

/// Runs `vouch attest`.
pub fn run(args: &AttestArgs) -> anyhow::Result<Status> {
    if let [one] = args.subjects.as_slice()
        && let Some(image) = one.to_str().and_then(super::image::registry_image)
    {
        return attest_image(args, &image);
    }
    if args.legacy_cosign {
        bail!("`--legacy-cosign` applies to images only");
    }
    let statement = match &args.statement {
        Some(path) => read_bounded(path)?,
        None => build_statement(args)?,
    };
    let bundle = match &args.bundle {
        Some(b) => b.clone(),
        None => match args.subjects.as_slice() {
            [one] => {
                let mut name = one.as_os_str().to_owned();
                name.push(".intoto.sigstore.json");
                PathBuf::from(name)
            }
            _ => bail!("give `--bundle OUT`: the attestation covers several subjects"),
        },
    };
    let runtime = signing::runtime()?;
    let signed = runtime.block_on(async {
        let signer = signing::signer(&args.signing).await?;
        anyhow::Ok(signer.sign_statement(&statement).await?)
    })?;
    signing::write_bundle(&bundle, &signed.bundle_json)?;
    output::write_stdout(
        format!(
            "attested {} subject(s) -> {} (log index {})\n",
            if args.statement.is_some() {
                "the statement's".to_owned()
            } else {
                args.subjects.len().to_string()
            },
            bundle.display(),
            signed.log_index
        )
        .as_bytes(),
    )?;
    Ok(Status::Success)
}

/// `vouch attest --predicate P --type T IMAGE`: the attestation attached in the registry.
fn attest_image(args: &AttestArgs, image: &str) -> anyhow::Result<Status> {
    let (Some(predicate_path), Some(type_name)) = (&args.predicate, &args.predicate_type) else {
        bail!("an image attestation needs `--predicate FILE --type TYPE`");
    };
    if args.bundle.is_some() {
        bail!("`--bundle` is for files; an image's attestation is stored in its registry");
    }
    let predicate_type = predicate_type(type_name)?;
    let predicate = read_predicate(predicate_path)?;
    let runtime = signing::runtime()?;
    let done = runtime.block_on(async {
        let signer = signing::signer(&args.signing).await?;
        super::image::attest_image(
            &signer,
            &args.registry,
            image,
            &predicate_type,
            predicate,
            args.legacy_cosign,
        )
        .await
    })?;
    output::write_stdout(
        format!(
            "attested {} ({predicate_type}) -> {} (log index {})\n",
            done.subject, done.stored, done.log_index
        )
        .as_bytes(),
    )?;
    Ok(Status::Success)
}

fn read_predicate(predicate_path: &Path) -> anyhow::Result<serde_json::Value> {
    let bytes = read_bounded(predicate_path)?;
    let predicate: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: the predicate is not JSON: {e}",
            predicate_path.display(),
            e.line(),
            e.column()
        )
    })?;
    if !predicate.is_object() {
        bail!(
            "{}: the predicate must be a JSON object",
            predicate_path.display()
        );
    }
    Ok(predicate)
}

fn build_statement(args: &AttestArgs) -> anyhow::Result<Vec<u8>> {
    let (Some(predicate_path), Some(type_name)) = (&args.predicate, &args.predicate_type) else {
        bail!("`--predicate FILE --type TYPE` or `--statement FILE` is required");
    };
    if args.subjects.is_empty() {
        bail!("name at least one subject file");
    }
    let predicate_type = predicate_type(type_name)?;
    let predicate = read_predicate(predicate_path)?;
    let mut subjects = Vec::with_capacity(args.subjects.len());
    for path in &args.subjects {
        subjects.push(super::provenance::file_subject(path)?);
    }
    let mut names = std::collections::BTreeSet::new();
    for s in &subjects {
        let name = s.name.as_deref().unwrap_or_default();
        if !names.insert(name) {
            bail!("two subjects are named `{name}`; in-toto subjects are named by file name");
        }
    }
    Ok(vouch_intoto::Statement::new(subjects, predicate_type, predicate).to_json())
}

fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = fs_err::metadata(path)?;
    if meta.len() > MAX_PREDICATE_BYTES {
        bail!(
            "`{}` is {} bytes, more than the {MAX_PREDICATE_BYTES}-byte limit",
            path.display(),
            meta.len()
        );
    }
    Ok(fs_err::read(path)?)
}

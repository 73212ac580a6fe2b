//! `vouch sbom`: lockfiles in, one SBOM out.

use std::path::Path;

use anyhow::Context as _;
use vouch_inventory::{Inventory, Kind, Scope};
use vouch_lockfile::{Format, WalkOptions, discover, parse_path};
use vouch_sbom::{CdxVersion, Options, SbomFormat, Subject};

use super::Status;
use crate::cli::{CdxVersionArg, SbomArgs, SbomFormatArg};
use crate::output;
use crate::settings;

/// Runs `vouch sbom`.
pub fn run(args: &SbomArgs) -> anyhow::Result<Status> {
    let created = settings::created_time()?;
    let (subject_name, subject_version, inventory) = match image_argument(&args.path) {
        Some(image) => super::image_sbom::collect(args, &image)?,
        None => {
            let (name, inventory) = collect(&args.path, args.include_vendored)?;
            (name, None, inventory)
        }
    };
    let mut inventory = inventory;
    if args.exclude_dev {
        inventory.retain(|p| p.kind == Kind::Project || p.scope != Scope::Dev);
    }
    let subject = Subject {
        name: args.name.clone().unwrap_or(subject_name),
        version: args.subject_version.clone().or(subject_version),
    };
    let format = match (args.format, args.spec_version) {
        (SbomFormatArg::CyclonedxJson, CdxVersionArg::V1_5) => {
            SbomFormat::CycloneDxJson(CdxVersion::V1_5)
        }
        (SbomFormatArg::CyclonedxJson, CdxVersionArg::V1_6) => {
            SbomFormat::CycloneDxJson(CdxVersion::V1_6)
        }
        (SbomFormatArg::SpdxJson, _) => SbomFormat::SpdxJson,
        (SbomFormatArg::Spdx3Json, _) => SbomFormat::Spdx3Json,
    };
    let options = Options {
        created,
        serial: args.random_serial.then(random_uuid),
        tool_name: "vouch".to_owned(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    match &args.output {
        // Straight into the file: a large document is not held whole in memory.
        Some(path) => output::write_atomic_with(path, |f| {
            vouch_sbom::encode_to(format, &subject, &inventory, &options, f)
                .map_err(anyhow::Error::from)
        })?,
        None => {
            let bytes = vouch_sbom::encode(format, &subject, &inventory, &options)
                .context("cannot encode the SBOM")?;
            output::write_stdout(&bytes)?;
            std::mem::forget(bytes);
        }
    }
    // The process ends once this returns. Freeing the inventory's allocations one by one (tens
    // of thousands for a large lockfile) took about 3% of a run, for memory the operating system
    // takes back at exit anyway.
    std::mem::forget(inventory);
    Ok(Status::Success)
}

/// The image an argument names, if it names one: `oci:`, `docker-archive:` and `dir:`
/// prefixes, or a registry reference (see [`super::image::registry_image`]).
fn image_argument(path: &Path) -> Option<vouch_image::ImageRef> {
    let text = path.to_str()?;
    if let Some(reference) = super::image::registry_image(text) {
        return Some(vouch_image::ImageRef::Registry(reference));
    }
    match vouch_image::parse_image_ref(text) {
        vouch_image::ImageRef::Registry(_) => None,
        local => Some(local),
    }
}

/// Reads one lockfile or every lockfile under a directory into one inventory. Returns the
/// default subject name (the directory's name) with it.
pub(crate) fn collect(path: &Path, include_vendored: bool) -> anyhow::Result<(String, Inventory)> {
    let meta = fs_err::metadata(path)
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot read `{}`", path.display())))?;
    if meta.is_file() {
        let display = path.display().to_string();
        if path.file_name().is_some_and(|n| n == "bun.lockb") {
            return Err(output::error_with_hint(
                format!("`{display}` is bun's binary lockfile, which vouch does not read"),
                "run `bun install --save-text-lockfile` to write the text `bun.lock`, then point vouch at it",
            ));
        }
        let (_, inv) = parse_path(path, &display).map_err(anyhow::Error::new)?;
        let name = subject_name_for(path.parent().unwrap_or(Path::new(".")));
        return Ok((name, inv));
    }
    let mut options = WalkOptions::default();
    if include_vendored {
        options.skip_dirs.clear();
    }
    let found = discover(path, &options).map_err(anyhow::Error::new)?;
    if found.is_empty() {
        return Err(output::error_with_hint(
            format!("no lockfile found under `{}`", path.display()),
            format!("vouch reads these files: {}", Format::supported_list()),
        ));
    }
    // Parse on every core: lockfiles are independent.
    let results = parse_all(&found);
    let mut inventory = Inventory::new();
    for result in results {
        inventory.extend(result.map_err(anyhow::Error::new)?);
    }
    Ok((subject_name_for(path), inventory))
}

fn parse_all(
    found: &[vouch_lockfile::Discovered],
) -> Vec<Result<Inventory, vouch_lockfile::ParseError>> {
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(found.len())
        .max(1);
    if workers == 1 {
        return found
            .iter()
            .map(|d| parse_path(&d.path, &d.display).map(|(_, inv)| inv))
            .collect();
    }
    let chunk = found.len().div_ceil(workers);
    std::thread::scope(|s| {
        let handles: Vec<_> = found
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|d| parse_path(&d.path, &d.display).map(|(_, inv)| inv))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                Err(_) => vec![Err(vouch_lockfile::ParseError::new(
                    "<worker>",
                    vouch_lockfile::ParseErrorKind::Io("a parser thread failed".to_owned()),
                ))],
            })
            .collect()
    })
}

fn subject_name_for(dir: &Path) -> String {
    let abs = fs_err::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    abs.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "project".to_owned())
}

fn random_uuid() -> String {
    vouch_digest::random_uuid_v4()
}

/// A CycloneDX 1.6 SBOM of the lockfiles under `path`, for `vouch release`.
pub(crate) fn cyclonedx(path: &Path, version: Option<String>) -> anyhow::Result<Vec<u8>> {
    let (name, inventory) = collect(path, false)?;
    let options = Options {
        created: settings::created_time()?,
        serial: None,
        tool_name: "vouch".to_owned(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    vouch_sbom::encode(
        SbomFormat::CycloneDxJson(CdxVersion::V1_6),
        &Subject { name, version },
        &inventory,
        &options,
    )
    .context("cannot encode the SBOM")
}

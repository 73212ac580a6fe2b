//! `vouch sbom IMAGE`: an image's packages, read layer by layer, into the inventory the SBOM
//! encoders take.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use vouch_image::{ImageRef, PlatformChoice, Progress, ScanOptions};
use vouch_inventory::Inventory;
use vouch_oci::blocking::BlockingRegistry;
use vouch_oci::client::parse_reference;
use vouch_oci::model::Platform;

use crate::cli::SbomArgs;
use crate::env;

/// Scans the image and returns the SBOM subject's name and version with the inventory. Every
/// platform asked for is scanned; their inventories are merged under one document, each image
/// a root of it.
pub fn collect(
    args: &SbomArgs,
    image: &ImageRef,
) -> anyhow::Result<(String, Option<String>, Inventory)> {
    let options = ScanOptions {
        platform: match (&args.registry.platform, args.registry.all_platforms) {
            (Some(p), _) => PlatformChoice::Only(Platform::parse(p)?),
            (None, true) => PlatformChoice::All,
            (None, false) => PlatformChoice::Host,
        },
        cache_dir: layer_cache(args),
        progress: std::io::stderr().is_terminal().then(progress_printer),
        ..ScanOptions::default()
    };
    let scanned = match image {
        ImageRef::Registry(text) => {
            let reference = parse_reference(text)?;
            let registry = super::image::registry_for(&args.registry, &reference)?;
            let client = BlockingRegistry::new(registry, reference.clone())?;
            let source =
                vouch_image::source::registry::RegistrySource::new(client, reference, text);
            vouch_image::scan(vouch_image::Target::Image(&source), &options)
        }
        local => {
            let opened = vouch_image::open(local)?;
            vouch_image::scan(opened.target(), &options)
        }
    }
    .with_context(|| format!("cannot read the image `{}`", args.path.display()))?;
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
    let mut inventory = Inventory::new();
    let mut name = None;
    let mut version = None;
    for image in scanned {
        for warning in &image.warnings {
            eprintln!("warning: {warning}");
        }
        if name.is_none() {
            name = image.inventory.get(&image.root).map(|p| p.name.clone());
            version = image.manifest_digest.clone();
        }
        inventory.extend(image.inventory);
    }
    Ok((
        name.unwrap_or_else(|| "image".to_owned()),
        version,
        inventory,
    ))
}

/// The layer cache directory: `--layer-cache`, else `$XDG_CACHE_HOME/vouch/layers` (or
/// `~/.cache/vouch/layers`); none with `--no-layer-cache`.
fn layer_cache(args: &SbomArgs) -> Option<PathBuf> {
    if args.no_layer_cache {
        return None;
    }
    if let Some(dir) = &args.layer_cache {
        return Some(dir.clone());
    }
    let base = std::env::var_os(env::XDG_CACHE_HOME)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os(env::HOME).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("vouch").join("layers"))
}

/// A one-line progress display on stderr (only on a terminal).
fn progress_printer() -> vouch_image::ProgressFn {
    let last = Arc::new(Mutex::new(0u64));
    Arc::new(move |event: &Progress<'_>| {
        let line = match event {
            Progress::LayerStarted {
                index,
                count,
                digest,
                size,
            } => format!(
                "layer {}/{count} {} ({} MB)",
                index + 1,
                short(digest),
                size / 1_000_000
            ),
            Progress::LayerBytes { digest, read, size } => {
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                // Redraw at most every 8 MB.
                if read.saturating_sub(*last) < 8_000_000 && read != size {
                    return;
                }
                *last = *read;
                format!(
                    "layer {} {}%",
                    short(digest),
                    read.saturating_mul(100).checked_div(*size).unwrap_or(100)
                )
            }
            Progress::LayerCached { index, count, .. } => {
                format!("layer {}/{count} cached", index + 1)
            }
            _ => return,
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    })
}

fn short(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.get(..12).unwrap_or(hex)
}

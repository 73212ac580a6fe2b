//! `vouch trust show`: what the trusted root trusts, and until when; `vouch trust update`: the
//! trust material refreshed from a TUF repository into the local cache.

use std::fmt::Write as _;

use anyhow::Context as _;
use vouch_sigstore::tuf::TufError;

use super::Status;
use crate::cli::{ReportFormat, TrustArgs, TrustCommand, TrustShowArgs, TrustUpdateArgs};
use crate::{output, settings};

/// Runs `vouch trust`.
pub fn run(args: &TrustArgs) -> anyhow::Result<Status> {
    match &args.command {
        TrustCommand::Show(show) => run_show(show),
        TrustCommand::Update(update) => run_update(update),
    }
}

fn run_show(show: &TrustShowArgs) -> anyhow::Result<Status> {
    let choice = settings::trust_choice(&show.trust)?;
    let summary = choice.material.summary();
    let text = match show.format {
        ReportFormat::Json => {
            let mut s = serde_json::to_string_pretty(&summary)?;
            s.push('\n');
            s
        }
        ReportFormat::Text => {
            let mut out = String::new();
            let _ = writeln!(
                out,
                "trusted root: {} (sha256 {})",
                summary.origin, summary.sha256
            );
            if let Some(cached) = &choice.cache {
                let (role, until) = cached.expires().earliest();
                let _ = writeln!(
                    out,
                    "  from TUF repository {} (initial root {}), refreshed {}; valid until {} \
                     ({role} metadata expires first)",
                    cached.url(),
                    cached.initial_root(),
                    cached.refreshed(),
                    format_time(until),
                );
            }
            for (title, list) in [
                ("transparency logs", &summary.transparency_logs),
                ("certificate authorities", &summary.certificate_authorities),
                ("CT logs", &summary.ct_logs),
                ("timestamp authorities", &summary.timestamp_authorities),
            ] {
                let _ = writeln!(out, "{title}: {}", list.len());
                for a in list {
                    let _ = writeln!(
                        out,
                        "  {}  [{}]  valid {} to {}",
                        a.name,
                        a.key_or_chain,
                        a.valid_from.as_deref().unwrap_or("(always)"),
                        a.valid_until.as_deref().unwrap_or("now")
                    );
                }
            }
            out
        }
    };
    output::write_stdout(text.as_bytes())?;
    Ok(Status::Success)
}

fn run_update(args: &TrustUpdateArgs) -> anyhow::Result<Status> {
    let update = settings::tuf_update(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let url = update.repository.url().to_owned();
    let refreshed = runtime
        .block_on(vouch_sigstore::tuf::refresh(
            &update.repository,
            &update.cache_dir,
            jiff::Timestamp::now(),
        ))
        .map_err(|e| {
            let hint = match &e {
                TufError::Refresh { .. } => {
                    "the cache still holds the last material that verified; `vouch trust show` \
                     says whether it is still valid"
                }
                TufError::Busy { .. } => "wait for the other `vouch trust update` to finish",
                _ => "check that the cache directory is writable",
            };
            // The hint is the innermost error, where `print_error` finds it.
            anyhow::Error::new(output::Hint(hint.to_owned()))
                .context(e)
                .context(format!("cannot refresh trust material from {url}"))
        })?;

    let material = &refreshed.material;
    let versions = material.versions();
    let expires = material.expires();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "refreshed trust material from {} (initial root {})",
        material.url(),
        material.initial_root()
    );
    for (role, version, previous, until) in [
        (
            "root",
            versions.root,
            refreshed.previous.map(|p| p.root),
            expires.root,
        ),
        (
            "timestamp",
            versions.timestamp,
            refreshed.previous.map(|p| p.timestamp),
            expires.timestamp,
        ),
        (
            "snapshot",
            versions.snapshot,
            refreshed.previous.map(|p| p.snapshot),
            expires.snapshot,
        ),
        (
            "targets",
            versions.targets,
            refreshed.previous.map(|p| p.targets),
            expires.targets,
        ),
    ] {
        let change = match previous {
            None => "new".to_owned(),
            Some(p) if p == version => "unchanged".to_owned(),
            Some(p) => format!("was v{p}"),
        };
        let _ = writeln!(
            out,
            "  {role:<10} v{version:<6} ({change}), expires {}",
            format_time(until)
        );
    }
    let _ = writeln!(
        out,
        "  trusted_root.json         sha256 {}",
        material.trusted_root_sha256()
    );
    let _ = writeln!(
        out,
        "  signing_config.v0.2.json  sha256 {}",
        material.signing_config_sha256()
    );
    let (role, until) = expires.earliest();
    let _ = writeln!(
        out,
        "valid until {} ({role} metadata expires first); cache: {}",
        format_time(until),
        material.cache_dir().display()
    );
    output::write_stdout(out.as_bytes())?;
    Ok(Status::Success)
}

fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

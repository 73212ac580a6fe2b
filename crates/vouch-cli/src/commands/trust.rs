//! `vouch trust show`: what the trusted root trusts, and until when.

use std::fmt::Write as _;

use super::Status;
use crate::cli::{ReportFormat, TrustArgs, TrustCommand};
use crate::{output, settings};

/// Runs `vouch trust`.
pub fn run(args: &TrustArgs) -> anyhow::Result<Status> {
    match &args.command {
        TrustCommand::Show(show) => {
            let summary = settings::trust_material(&show.trust)?.summary();
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
    }
}

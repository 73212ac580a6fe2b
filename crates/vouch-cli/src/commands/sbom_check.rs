//! `vouch sbom check`: an SBOM in, findings out; exit 1 when any is an error.

use std::io::Read as _;

use anyhow::Context as _;
use serde_json::json;
use vouch_sbom::check::{Severity, check};

use super::Status;
use crate::cli::{ReportFormat, SbomCheckArgs};
use crate::output;

/// Version of the JSON report (`schemas/sbom-check-report.schema.json`).
const REPORT_VERSION: &str = "1";

/// Runs `vouch sbom check`.
pub fn run(args: &SbomCheckArgs) -> anyhow::Result<Status> {
    let (display, bytes) = if args.file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .context("cannot read the SBOM from stdin")?;
        ("<stdin>".to_owned(), buf)
    } else {
        let display = args.file.display().to_string();
        let bytes = fs_err::read(&args.file).map_err(anyhow::Error::new)?;
        (display, bytes)
    };
    if let Some(dir) = &args.schema_dir
        && !dir.is_dir()
    {
        return Err(output::error_with_hint(
            format!("schema directory `{}` does not exist", dir.display()),
            "point `--schema-dir` (or `VOUCH_SCHEMA_DIR`) at a directory holding `cyclonedx/`, `spdx-2.3/` and `spdx-3.0.1/`",
        ));
    }
    let report = check(&display, &bytes, args.schema_dir.as_deref()).map_err(anyhow::Error::new)?;
    let failed = report
        .findings
        .iter()
        .any(|f| matches!(f.severity, Severity::Error));
    match args.format {
        ReportFormat::Json => {
            let findings: Vec<_> = report
                .findings
                .iter()
                .map(|f| {
                    json!({
                        "code": f.code,
                        "severity": severity_name(f.severity),
                        "pointer": f.pointer,
                        "message": f.message,
                    })
                })
                .collect();
            let doc = json!({
                "version": REPORT_VERSION,
                "file": display,
                "format": report.format,
                "schema_checked": report.schema_checked,
                "valid": !failed,
                "findings": findings,
            });
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            output::write_stdout(text.as_bytes())?;
        }
        ReportFormat::Text => {
            let mut text = String::new();
            for f in &report.findings {
                let at = f
                    .pointer
                    .as_deref()
                    .map(|p| format!(" (at `{p}`)"))
                    .unwrap_or_default();
                text.push_str(&format!(
                    "{}[{}]: {}{at}\n",
                    severity_name(f.severity),
                    f.code,
                    f.message
                ));
            }
            let verdict = if failed { "invalid" } else { "valid" };
            let schema = if report.schema_checked {
                "official schema and minimum elements"
            } else {
                "minimum elements only; official schema not checked"
            };
            text.push_str(&format!(
                "{display}: {} {verdict} ({schema})\n",
                report.format
            ));
            output::write_stdout(text.as_bytes())?;
        }
    }
    Ok(if failed {
        Status::CheckFailed
    } else {
        Status::Success
    })
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        _ => "note",
    }
}

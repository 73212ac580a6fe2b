//! `vouch lock check`: lockfiles in, findings out (text, JSON or SARIF 2.1.0); exit 1 when any
//! finding is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use vouch_lockfile::check::{ArtifactOptions, CheckOptions, Code, Finding, Severity, check_path};
use vouch_lockfile::{Format, WalkOptions, discover};

use super::Status;
use crate::cli::{LockCheckArgs, LockReportFormat};
use crate::{env, output};

/// Version of the JSON report (`schemas/lock-check-report.schema.json`).
const REPORT_VERSION: &str = "1";

/// The configuration file read from the checked directory.
const CONFIG_FILE: &str = "vouch.toml";

/// Runs `vouch lock check`.
pub fn run(args: &LockCheckArgs) -> anyhow::Result<Status> {
    let meta = fs_err::metadata(&args.path).map_err(|e| {
        anyhow::Error::new(e).context(format!("cannot read `{}`", args.path.display()))
    })?;
    let (dir, targets) = if meta.is_file() {
        let display = args.path.display().to_string();
        let dir = args
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if Format::detect(&args.path).is_none() {
            return Err(output::error_with_hint(
                format!("`{display}` is not a lockfile vouch reads"),
                format!("vouch reads these files: {}", Format::supported_list()),
            ));
        }
        (dir, vec![(args.path.clone(), display)])
    } else {
        let mut walk = WalkOptions::default();
        if args.include_vendored {
            walk.skip_dirs.clear();
        }
        let found = discover(&args.path, &walk).map_err(anyhow::Error::new)?;
        if found.is_empty() {
            return Err(output::error_with_hint(
                format!("no lockfile found under `{}`", args.path.display()),
                format!("vouch reads these files: {}", Format::supported_list()),
            ));
        }
        let targets = found.into_iter().map(|d| (d.path, d.display)).collect();
        (args.path.clone(), targets)
    };
    let config = read_config(args.config.as_deref(), &dir)?;
    let options = resolve_options(args, &config)?;

    let mut findings = Vec::new();
    for (path, display) in &targets {
        findings.extend(check_path(path, display, &options).map_err(anyhow::Error::new)?);
    }
    findings.sort();
    let failed = findings.iter().any(|f| f.severity == Severity::Error);
    let files: Vec<&str> = targets.iter().map(|(_, d)| d.as_str()).collect();
    let text = match args.format {
        LockReportFormat::Text => render_text(&findings, &files),
        LockReportFormat::Json => render_json(&findings, &files)?,
        LockReportFormat::Sarif => render_sarif(&findings, &options)?,
    };
    output::write_stdout(text.as_bytes())?;
    Ok(if failed {
        Status::CheckFailed
    } else {
        Status::Success
    })
}

// ---------------------------------------------------------------------------------------------
// Settings: flags > environment > vouch.toml > defaults.

/// The `[lock]` section of `vouch.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
struct LockConfig {
    /// Hosts allowed besides each ecosystem's registry.
    allowed_hosts: Vec<String>,
    /// Whether `allowed-hosts` replaces the default allowlist.
    replace_default_hosts: bool,
    /// Codes reported as errors.
    deny: Vec<String>,
    /// Codes reported as warnings.
    warn: Vec<String>,
    /// Codes reported as notes.
    note: Vec<String>,
    /// Skip the manifest comparison.
    skip_manifest: bool,
}

/// Reads `[lock]` from `--config FILE`, or from `vouch.toml` in the checked directory when
/// there is one. Other sections belong to other commands and are not read here.
fn read_config(
    explicit: Option<&Path>,
    dir: &Path,
) -> anyhow::Result<(Option<String>, LockConfig)> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = if dir.as_os_str().is_empty() || dir == Path::new(".") {
                PathBuf::from(CONFIG_FILE)
            } else {
                dir.join(CONFIG_FILE)
            };
            if !p.is_file() {
                return Ok((None, LockConfig::default()));
            }
            p
        }
    };
    let shown = path.display().to_string();
    let text = fs_err::read_to_string(&path).map_err(anyhow::Error::new)?;
    let table: toml::Table = parse_toml(&shown, &text)?;
    let Some(lock) = table.get("lock") else {
        return Ok((Some(shown), LockConfig::default()));
    };
    let lock: LockConfig = match lock.clone().try_into() {
        Ok(l) => l,
        Err(e) => {
            let line = text
                .lines()
                .position(|l| l.trim() == "[lock]")
                .map(|i| i + 1)
                .unwrap_or(1);
            return Err(output::error_with_hint(
                format!(
                    "{shown}:{line}: invalid `[lock]` section: {}",
                    e.message().trim()
                ),
                "the keys are `allowed-hosts`, `replace-default-hosts`, `deny`, `warn`, `note` and `skip-manifest`; see docs/lock-check.md",
            ));
        }
    };
    for code in lock.deny.iter().chain(&lock.warn).chain(&lock.note) {
        if let Err(e) = code.parse::<Code>() {
            let quoted = format!("\"{code}\"");
            let line = text
                .lines()
                .position(|l| l.contains(&quoted))
                .map(|i| i + 1)
                .unwrap_or(1);
            return Err(anyhow::anyhow!("{shown}:{line}: {e}"));
        }
    }
    Ok((Some(shown), lock))
}

fn parse_toml(shown: &str, text: &str) -> anyhow::Result<toml::Table> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| {
                let before = text.get(..s.start).unwrap_or_default();
                let line = before.matches('\n').count() + 1;
                let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (line, col)
            })
            .unwrap_or((1, 1));
        anyhow::anyhow!("{shown}:{line}:{col}: invalid TOML: {}", e.message().trim())
    })
}

fn parse_code(shown: &str, code: &str) -> anyhow::Result<Code> {
    code.parse::<Code>()
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
}

fn resolve_options(
    args: &LockCheckArgs,
    (shown, config): &(Option<String>, LockConfig),
) -> anyhow::Result<CheckOptions> {
    let shown = shown.as_deref().unwrap_or(CONFIG_FILE);
    let mut severity: BTreeMap<Code, Severity> = BTreeMap::new();
    for (codes, level) in [
        (&config.note, Severity::Note),
        (&config.warn, Severity::Warning),
        (&config.deny, Severity::Error),
    ] {
        for c in codes {
            severity.insert(parse_code(shown, c)?, level);
        }
    }
    // Flags win over the file.
    for c in &args.warn {
        severity.insert(*c, Severity::Warning);
    }
    for c in &args.deny {
        severity.insert(*c, Severity::Error);
    }
    let mut allowed_hosts = config.allowed_hosts.clone();
    allowed_hosts.extend(args.allow_host.iter().cloned());
    let artifacts = args.verify_artifacts.then(|| ArtifactOptions {
        cargo_home: args.cargo_home.clone().or_else(|| home_join(&[".cargo"])),
        npm_cache: args.npm_cache.clone().or_else(|| home_join(&[".npm"])),
        archive_dirs: args.archive_dir.clone(),
        wheelhouses: args.wheelhouse.clone(),
        go_mod_cache: args.go_mod_cache.clone().or_else(default_go_mod_cache),
        nuget_packages: args
            .nuget_packages
            .clone()
            .or_else(|| home_join(&[".nuget", "packages"])),
        threads: args.jobs,
    });
    Ok(CheckOptions {
        allowed_hosts,
        replace_default_hosts: config.replace_default_hosts,
        skip_manifest: config.skip_manifest || args.skip_manifest,
        severity,
        artifacts,
    })
}

fn home_join(parts: &[&str]) -> Option<PathBuf> {
    let mut p = PathBuf::from(std::env::var_os(env::HOME)?);
    for part in parts {
        p.push(part);
    }
    Some(p)
}

/// `$GOPATH/pkg/mod` (the first `GOPATH` entry), else `~/go/pkg/mod`, as Go defaults.
fn default_go_mod_cache() -> Option<PathBuf> {
    match std::env::var_os(env::GOPATH) {
        Some(gopath) => std::env::split_paths(&gopath)
            .next()
            .map(|p| p.join("pkg").join("mod")),
        None => home_join(&["go", "pkg", "mod"]),
    }
}

// ---------------------------------------------------------------------------------------------
// Output

fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::Error), n(Severity::Warning), n(Severity::Note))
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn render_text(findings: &[Finding], files: &[&str]) -> String {
    let mut text = String::new();
    for f in findings {
        let at = match f.line {
            Some(l) => format!("{}:{l}", f.file),
            None => f.file.clone(),
        };
        text.push_str(&format!(
            "{}[{}]: {at}: {}\n",
            f.severity, f.code, f.message
        ));
        if let Some(e) = &f.expected {
            text.push_str(&format!("  expected: {e}\n"));
        }
        if let Some(found) = &f.found {
            text.push_str(&format!("  found: {found}\n"));
        }
        if let Some(h) = &f.hint {
            text.push_str(&format!("  hint: {h}\n"));
        }
    }
    let (e, w, n) = counts(findings);
    text.push_str(&format!(
        "checked {}: {}, {}, {}\n",
        plural(files.len(), "lockfile"),
        plural(e, "error"),
        plural(w, "warning"),
        plural(n, "note")
    ));
    text
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "code": f.code.as_str(),
        "severity": f.severity.as_str(),
        "file": f.file,
        "line": f.line,
        "package": f.package,
        "message": f.message,
        "hint": f.hint,
        "expected": f.expected,
        "found": f.found,
    })
}

fn render_json(findings: &[Finding], files: &[&str]) -> anyhow::Result<String> {
    let (e, w, n) = counts(findings);
    let doc = json!({
        "version": REPORT_VERSION,
        "files": files,
        "summary": { "error": e, "warning": w, "note": n },
        "findings": findings.iter().map(finding_json).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

/// A file name as a SARIF `artifactLocation.uri` (a URI reference, RFC 3986): `/`-separated,
/// with characters outside the unreserved and path sets percent-encoded.
fn uri_of(file: &str) -> String {
    let path = file.replace('\\', "/");
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sarif_level(s: Severity) -> &'static str {
    s.as_str()
}

/// SARIF 2.1.0 (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>): one run,
/// one rule per code, one result per finding.
fn render_sarif(findings: &[Finding], options: &CheckOptions) -> anyhow::Result<String> {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            let level = options
                .severity
                .get(c)
                .copied()
                .unwrap_or_else(|| c.default_severity());
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": { "text": c.description() },
                "defaultConfiguration": { "level": sarif_level(level) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
            let mut physical = serde_json::Map::new();
            physical.insert(
                "artifactLocation".to_owned(),
                json!({ "uri": uri_of(&f.file) }),
            );
            if let Some(l) = f.line.filter(|l| *l >= 1) {
                physical.insert("region".to_owned(), json!({ "startLine": l }));
            }
            let mut message = f.message.clone();
            if let Some(h) = &f.hint {
                message.push_str(&format!(" (hint: {h})"));
            }
            let mut props = serde_json::Map::new();
            for (k, v) in [
                ("package", &f.package),
                ("expected", &f.expected),
                ("found", &f.found),
            ] {
                if let Some(v) = v {
                    props.insert(k.to_owned(), json!(v));
                }
            }
            let mut r = serde_json::Map::new();
            r.insert("ruleId".to_owned(), json!(f.code.as_str()));
            r.insert("ruleIndex".to_owned(), json!(index));
            r.insert("level".to_owned(), json!(sarif_level(f.severity)));
            r.insert("message".to_owned(), json!({ "text": message }));
            r.insert(
                "locations".to_owned(),
                json!([{ "physicalLocation": Value::Object(physical) }]),
            );
            if !props.is_empty() {
                r.insert("properties".to_owned(), Value::Object(props));
            }
            Value::Object(r)
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": "vouch",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "results": results,
        } ],
    });
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri_of("a b/package-lock.json"), "a%20b/package-lock.json");
        assert_eq!(uri_of("/x/Cargo.lock"), "file:///x/Cargo.lock");
        assert_eq!(uri_of("dir\\go.sum"), "dir/go.sum");
    }
}

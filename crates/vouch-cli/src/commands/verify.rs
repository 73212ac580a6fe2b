//! `vouch verify`: artifacts and Sigstore bundles in, a report of every check out.
//!
//! Inputs are verified concurrently, one worker per core; results are printed in input order.
//! Exit 0 when every input verified, 1 when any was rejected, 2 when an input or bundle could
//! not be read (or the command line is wrong).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, bail};
use serde_json::json;
use vouch_digest::Digest;
use vouch_sigstore::{ArtifactInput, GithubClaim, Matcher, Policy, Report, Status, Verifier};

use super::Status as ExitStatus;
use crate::cli::{ReportFormat, VerifyArgs};
use crate::output;
use crate::settings;

/// What one input resolved to.
struct Job {
    input: String,
    artifact: Artifact,
    bundle: Option<PathBuf>,
}

enum Artifact {
    File(PathBuf),
    Digest(Digest),
}

/// The outcome for one input: a report, or why it could not be verified at all.
enum Outcome {
    Report {
        bundle: PathBuf,
        report: Box<Report>,
    },
    Unreadable(String),
}

/// Runs `vouch verify`.
pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitStatus> {
    let policy = policy(args)?;
    let trust = settings::trust_material(&args.trust)?;
    let verifier = Verifier::new(trust)?;
    let images: Vec<String> = args
        .inputs
        .iter()
        .filter_map(|i| super::image::registry_image(i))
        .collect();
    if !images.is_empty() {
        if images.len() != args.inputs.len() {
            bail!("verify files and images in separate runs");
        }
        return verify_images(args, &images, &verifier, &policy);
    }
    if args.attestation_type.is_some() {
        bail!(
            "`--type` applies to images; for a file, give its attestation bundle with `--bundle`"
        );
    }
    let jobs = args
        .inputs
        .iter()
        .map(|input| job(input, args.bundle.as_deref()))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let workers = args
        .jobs
        .map(std::num::NonZeroUsize::get)
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(std::num::NonZeroUsize::get)
        })
        .unwrap_or(1)
        .min(jobs.len())
        .max(1);
    let expectations = vouch_intoto::Expectations {
        source_uri: args.source_uri.clone(),
        source_ref: match (&args.source_tag, &args.source_branch) {
            (Some(t), _) => Some(vouch_intoto::SourceRef::Tag(t.clone())),
            (None, Some(b)) => Some(vouch_intoto::SourceRef::Branch(b.clone())),
            (None, None) => None,
        },
        builder_id: args.builder_id.clone(),
    };
    let outcomes = verify_all(&verifier, &policy, &expectations, &jobs, workers);

    let trust = verifier.trust();
    let out = match args.format {
        ReportFormat::Text => render_text(&jobs, &outcomes, trust.origin()),
        ReportFormat::Json => render_json(&jobs, &outcomes, trust.origin(), trust.sha256())?,
    };
    output::write_stdout(out.as_bytes())?;

    let unreadable = outcomes.iter().any(|o| matches!(o, Outcome::Unreadable(_)));
    let rejected = outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Report { report, .. } if !report.verified));
    if unreadable {
        bail!("some inputs could not be read; see above");
    }
    Ok(if rejected {
        ExitStatus::CheckFailed
    } else {
        ExitStatus::Success
    })
}

/// `vouch verify IMAGE…`: every bundle attached to each image, in every layout, verified.
fn verify_images(
    args: &VerifyArgs,
    images: &[String],
    verifier: &Verifier,
    policy: &Policy,
) -> anyhow::Result<ExitStatus> {
    let required = match &args.attestation_type {
        Some(t) => Some(super::attest::predicate_type(t)?),
        None => None,
    };
    let runtime = super::signing::runtime()?;
    let mut verdicts = Vec::new();
    for image in images {
        verdicts.extend(runtime.block_on(super::image::verify_image(
            &args.registry,
            image,
            verifier,
            policy,
            required.as_deref(),
        ))?);
    }
    let out = match args.format {
        ReportFormat::Text => super::image::render_verdicts_text(&verdicts),
        ReportFormat::Json => {
            let trust = verifier.trust();
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "report_version": "1",
                "verified": verdicts.iter().all(|v| v.verified),
                "trusted_root": { "origin": trust.origin(), "sha256": trust.sha256() },
                "images": super::image::render_verdicts_json(&verdicts)?,
            }))?;
            s.push('\n');
            s
        }
    };
    output::write_stdout(out.as_bytes())?;
    Ok(if verdicts.iter().all(|v| v.verified) {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}

/// The policy from the flags. clap has already enforced that either an identity or a key is
/// given, and not both.
fn policy(args: &VerifyArgs) -> anyhow::Result<Policy> {
    if let Some(path) = &args.key {
        let pem = String::from_utf8(read_limited(path, MAX_KEY_BYTES, "public key")?)
            .with_context(|| format!("`{}` is not a PEM file", path.display()))?;
        return Policy::public_key_pem(&pem)
            .with_context(|| format!("cannot use `{}` as a public key", path.display()));
    }
    let identity = match (
        &args.certificate_identity,
        &args.certificate_identity_regexp,
    ) {
        (Some(exact), _) => Matcher::exact(exact),
        (None, Some(re)) => Matcher::regex(re)?,
        (None, None) => {
            bail!("give --certificate-identity, --certificate-identity-regexp or --key")
        }
    };
    let issuer = match (
        &args.certificate_oidc_issuer,
        &args.certificate_oidc_issuer_regexp,
    ) {
        (Some(exact), _) => Matcher::exact(exact),
        (None, Some(re)) => Matcher::regex(re)?,
        (None, None) => {
            return Err(output::error_with_hint(
                "an identity without an issuer proves nothing: anyone can claim an identity at some issuer",
                "add --certificate-oidc-issuer URL (for GitHub Actions: https://token.actions.githubusercontent.com)",
            ));
        }
    };
    let mut policy = Policy::keyless(identity, issuer);
    for (claim, value) in [
        (GithubClaim::Repository, &args.github_repository),
        (GithubClaim::Ref, &args.github_ref),
        (GithubClaim::Workflow, &args.github_workflow),
        (GithubClaim::Sha, &args.github_sha),
        (GithubClaim::Trigger, &args.github_trigger),
    ] {
        if let Some(value) = value {
            policy = policy.require_github(claim, Matcher::exact(value));
        }
    }
    Ok(policy)
}

/// Resolves an input to an artifact and its bundle path; a usage error when a digest has no
/// `--bundle`.
fn job(input: &str, bundle: Option<&Path>) -> anyhow::Result<Job> {
    let digest_form = ["sha256:", "sha384:", "sha512:"]
        .iter()
        .any(|p| input.starts_with(p))
        && !Path::new(input).exists();
    let artifact = if digest_form {
        let digest = Digest::from_prefixed(input)
            .with_context(|| format!("`{input}` is not a valid digest"))?;
        Artifact::Digest(digest)
    } else {
        Artifact::File(PathBuf::from(input))
    };
    let bundle = match (bundle, &artifact) {
        (Some(b), _) => Some(b.to_path_buf()),
        (None, Artifact::Digest(_)) => {
            return Err(output::error_with_hint(
                format!("`{input}` is a digest, so its bundle cannot be found next to it"),
                "pass the bundle with --bundle FILE",
            ));
        }
        (None, Artifact::File(path)) => default_bundle(path),
    };
    Ok(Job {
        input: input.to_owned(),
        artifact,
        bundle,
    })
}

/// `FILE.sigstore.json`, then `FILE.sigstore`; `None` when neither exists.
fn default_bundle(path: &Path) -> Option<PathBuf> {
    [".sigstore.json", ".sigstore"].iter().find_map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let candidate = PathBuf::from(name);
        candidate.is_file().then_some(candidate)
    })
}

fn verify_all(
    verifier: &Verifier,
    policy: &Policy,
    expectations: &vouch_intoto::Expectations,
    jobs: &[Job],
    workers: usize,
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        done.push((i, verify_one(verifier, policy, expectations, job)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, o)| o).collect()
}

/// Adds the provenance checks to a report: on a verified attestation, what the statement and
/// the certificate say against the expectations; otherwise, why they could not run.
fn check_provenance(report: &mut Report, expectations: &vouch_intoto::Expectations) {
    use vouch_intoto::CheckKind;
    use vouch_sigstore::{Check, CheckId};
    let id = |kind: CheckKind| match kind {
        CheckKind::Predicate => CheckId::ProvenancePredicate,
        CheckKind::SourceRepository => CheckId::SourceRepository,
        CheckKind::SourceRef => CheckId::SourceRef,
        CheckKind::Builder => CheckId::Builder,
    };
    let (statement, extensions) = match (&report.claims, &report.facts) {
        (Some(claims), Some(facts)) if report.verified => {
            (claims.statement.clone(), facts.extensions.clone())
        }
        (None, Some(_)) if report.verified => {
            report.checks.push(
                Check::failed(
                    CheckId::ProvenancePredicate,
                    "the bundle holds a signature, not an attestation; provenance needs an in-toto statement",
                )
                .with_hint("give the provenance bundle (a DSSE envelope) with --bundle"),
            );
            report.verified = false;
            report.facts = None;
            return;
        }
        _ => {
            report.checks.push(Check::not_run(
                CheckId::ProvenancePredicate,
                "the bundle did not verify, so its provenance was not read",
            ));
            return;
        }
    };
    let findings = vouch_intoto::check_provenance(&statement, &extensions, expectations);
    for f in findings {
        let mut check = if f.passed {
            Check::passed(id(f.kind), f.message)
        } else {
            Check::failed(id(f.kind), f.message)
        };
        if let (Some(e), Some(x)) = (f.expected, f.found) {
            check = check.with_values(e, x);
        }
        if !f.passed {
            report.verified = false;
        }
        report.checks.push(check);
    }
    if !report.verified {
        // Facts are what verification proved; a rejected input proves nothing.
        report.facts = None;
        report.claims = None;
    }
}

fn verify_one(
    verifier: &Verifier,
    policy: &Policy,
    expectations: &vouch_intoto::Expectations,
    job: &Job,
) -> Outcome {
    let Some(bundle_path) = &job.bundle else {
        return Outcome::Unreadable(format!(
            "no bundle found for `{}` (looked for `{0}.sigstore.json` and `{0}.sigstore`); pass --bundle FILE",
            job.input
        ));
    };
    let bytes = match read_limited(bundle_path, vouch_sigstore::MAX_BUNDLE_BYTES, "bundle") {
        Ok(b) => b,
        Err(e) => return Outcome::Unreadable(format!("{e:#}")),
    };
    // A file may hold several bundles: an npm attestations document, or the JSON Lines that
    // `gh attestation download` writes. The input verifies if one of them does; otherwise the
    // report of the one that got furthest is shown.
    let mut best: Option<Report> = None;
    for candidate in bundle_candidates(&bytes) {
        let mut report = match &job.artifact {
            Artifact::Digest(d) => {
                verifier.verify(&candidate, ArtifactInput::Digest(d.clone()), policy)
            }
            Artifact::File(path) => {
                let mut file = match fs_err::File::open(path) {
                    Ok(f) => std::io::BufReader::with_capacity(256 * 1024, f),
                    Err(e) => return Outcome::Unreadable(e.to_string()),
                };
                verifier.verify(&candidate, ArtifactInput::Reader(&mut file), policy)
            }
        };
        if expectations.any() {
            check_provenance(&mut report, expectations);
        }
        let passed = |r: &Report| {
            r.checks
                .iter()
                .filter(|c| c.status == Status::Passed)
                .count()
        };
        let better = match &best {
            None => true,
            // Once a bundle verified, nothing replaces it; until then, the furthest report.
            Some(b) => !b.verified && (report.verified || passed(&report) > passed(b)),
        };
        if better {
            let done = report.verified;
            best = Some(report);
            if done {
                break;
            }
        }
    }
    match best {
        Some(report) => Outcome::Report {
            bundle: bundle_path.clone(),
            report: Box::new(report),
        },
        None => Outcome::Unreadable(format!("`{}` holds no bundle", bundle_path.display())),
    }
}

/// The bundles in a bundle file: the file itself, the `bundle` of each entry of an npm
/// attestations document (`{"attestations": [{"predicateType", "bundle"}]}`), or each line of a
/// JSON Lines file (a bundle, or an object with a `bundle`).
fn bundle_candidates(bytes: &[u8]) -> Vec<Vec<u8>> {
    let inner = |v: &serde_json::Value| -> Option<Vec<u8>> {
        let b = if v.get("mediaType").is_some() {
            v
        } else {
            v.get("bundle")?
        };
        serde_json::to_vec(b).ok()
    };
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(v) => {
            if let Some(list) = v.get("attestations").and_then(serde_json::Value::as_array) {
                let found: Vec<_> = list.iter().filter_map(inner).collect();
                if !found.is_empty() {
                    return found;
                }
            }
            vec![bytes.to_vec()]
        }
        Err(_) => {
            let lines: Vec<_> = bytes
                .split(|b| *b == b'\n')
                .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
                .collect();
            let parsed: Option<Vec<_>> = lines
                .iter()
                .map(|l| {
                    serde_json::from_slice::<serde_json::Value>(l)
                        .ok()
                        .as_ref()
                        .and_then(inner)
                })
                .collect();
            match parsed {
                Some(found) if lines.len() > 1 && !found.is_empty() => found,
                // Not JSON Lines either: the verifier reports the syntax error with its place.
                _ => vec![bytes.to_vec()],
            }
        }
    }
}

/// Largest public-key file accepted: a PEM RSA-4096 key is under 1 KiB.
const MAX_KEY_BYTES: usize = 64 * 1024;

fn read_limited(path: &Path, limit: usize, what: &str) -> anyhow::Result<Vec<u8>> {
    let meta = fs_err::metadata(path)?;
    if meta.len() > limit as u64 {
        bail!(
            "`{}` is {} bytes, more than the {limit}-byte limit for a {what}",
            path.display(),
            meta.len()
        );
    }
    Ok(fs_err::read(path)?)
}

fn render_text(jobs: &[Job], outcomes: &[Outcome], trust_origin: &str) -> String {
    let mut out = String::new();
    let detailed = jobs.len() == 1;
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Outcome::Unreadable(why) => {
                let _ = writeln!(out, "error     {}: {why}", job.input);
            }
            Outcome::Report { bundle, report } => {
                if detailed {
                    let _ = writeln!(
                        out,
                        "{} with bundle {} (trusted root: {trust_origin})",
                        job.input,
                        bundle.display()
                    );
                    for check in &report.checks {
                        let mark = match check.status {
                            Status::Passed => "ok  ",
                            Status::Failed => "FAIL",
                            Status::NotRun => "-   ",
                        };
                        let _ = writeln!(out, "  {mark}  {:<24}{}", check.id.name(), check.message);
                        if let Some(e) = &check.expected {
                            let _ = writeln!(out, "          expected: {e}");
                        }
                        if let Some(f) = &check.found {
                            let _ = writeln!(out, "          found:    {f}");
                        }
                        if let Some(h) = &check.hint {
                            let _ = writeln!(out, "          hint:     {h}");
                        }
                    }
                }
                let _ = writeln!(out, "{}", summary_line(&job.input, report));
            }
        }
    }
    out
}

fn summary_line(input: &str, report: &Report) -> String {
    if report.verified {
        let facts = report.facts.as_ref();
        let who = facts
            .and_then(|f| {
                f.identity.as_deref().map(|i| {
                    format!(
                        "identity {i}, issuer {}",
                        f.issuer.as_deref().unwrap_or("?")
                    )
                })
            })
            .unwrap_or_else(|| "managed key".to_owned());
        let log = facts
            .and_then(|f| f.log_entries.first())
            .map(|e| format!(", log index {}", e.log_index))
            .unwrap_or_default();
        format!("verified  {input}: {who}{log}")
    } else {
        match report.first_failure() {
            Some(c) => {
                let mut line = format!("rejected  {input}: {}: {}", c.id, c.message);
                if let (Some(e), Some(f)) = (&c.expected, &c.found) {
                    let _ = write!(line, " (expected {e}, found {f})");
                }
                line
            }
            None => format!("rejected  {input}"),
        }
    }
}

fn render_json(
    jobs: &[Job],
    outcomes: &[Outcome],
    trust_origin: &str,
    trust_sha256: &str,
) -> anyhow::Result<String> {
    let results = jobs
        .iter()
        .zip(outcomes)
        .map(|(job, outcome)| match outcome {
            Outcome::Unreadable(why) => Ok(json!({
                "input": job.input,
                "verified": false,
                "error": why,
            })),
            Outcome::Report { bundle, report } => {
                let mut value = serde_json::to_value(report.as_ref())?;
                if let Some(obj) = value.as_object_mut() {
                    obj.remove("report_version");
                    obj.insert("input".to_owned(), json!(job.input));
                    obj.insert("bundle".to_owned(), json!(bundle.display().to_string()));
                }
                Ok(value)
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let all = outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Report { report, .. } if report.verified));
    let doc = json!({
        "report_version": vouch_sigstore::REPORT_VERSION,
        "verified": all,
        "trusted_root": { "origin": trust_origin, "sha256": trust_sha256 },
        "results": results,
    });
    let mut s = serde_json::to_string_pretty(&doc)?;
    s.push('\n');
    Ok(s)
}

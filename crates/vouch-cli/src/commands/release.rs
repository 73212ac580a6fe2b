//! `vouch release`: the release step in one command. For the given artifacts it writes, into
//! one directory:
//!
//! - `sbom.cdx.json`: a CycloneDX 1.6 SBOM of the source tree's lockfiles;
//! - `provenance.json`: SLSA provenance v1 for the artifacts, from the CI environment;
//! - `ARTIFACT.sigstore.json`: a signature bundle per artifact;
//! - `sbom.intoto.sigstore.json`: the SBOM as a signed CycloneDX attestation about the artifacts;
//! - `provenance.intoto.sigstore.json`: the provenance, signed;
//!
//! and prints a table of what each stage did and how long it took. Every bundle is verified
//! before it is written (as `vouch sign` does). With `--devstack`, an embedded devstack on
//! loopback stands in for Sigstore, its trust configuration is left in the directory, and every
//! output is verified again at the end as `vouch verify` would.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use vouch_intoto::{Environment, GenericBuild, SLSA_PROVENANCE_V1, Statement};
use vouch_sigstore::{
    ArtifactInput, Credential, Matcher, Policy, SigningConfig, TrustMaterial, Verifier,
};

use super::{Status, signing};
use crate::cli::ReleaseArgs;
use crate::{output, settings};

/// The identity the rehearsal signs as.
const REHEARSAL_EMAIL: &str = "release-rehearsal@example.com";
/// The builder of a rehearsal outside CI.
const REHEARSAL_BUILDER: &str = "urn:vouch:builder:local-rehearsal";

struct Stage {
    name: &'static str,
    items: usize,
    output: String,
    millis: f64,
}

/// Runs `vouch release`.
pub fn run(args: &ReleaseArgs) -> anyhow::Result<Status> {
    for a in &args.artifacts {
        if !a.is_file() {
            bail!("`{}` is not a readable file", a.display());
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for a in &args.artifacts {
        let name = file_name(a)?;
        if !names.insert(name.clone()) {
            bail!("two artifacts are named `{name}`; their bundles would collide in the output");
        }
    }
    fs_err::create_dir_all(&args.out)?;
    let runtime = signing::runtime()?;
    runtime.block_on(release(args))
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("`{}` has no file name", path.display()))
}

async fn release(args: &ReleaseArgs) -> anyhow::Result<Status> {
    let mut stages = Vec::new();
    let out = &args.out;

    // The deployment: an embedded devstack, or what the signing flags say.
    let state = if args.devstack {
        Some(tempfile_dir()?)
    } else {
        None
    };
    let devstack = match &state {
        Some(dir) => Some(
            vouch_devstack::start(vouch_devstack::Config {
                state_dir: dir.clone(),
                addr: "127.0.0.1:0".parse().context("loopback address")?,
            })
            .await
            .context("cannot start the embedded devstack")?,
        ),
        None => None,
    };
    let result = async {
        let signer = match (&devstack, &state) {
            (Some(running), Some(dir)) => {
                let trust_config = dir.join("trust_config.json");
                let bytes = fs_err::read(&trust_config)?;
                fs_err::copy(&trust_config, out.join("trust_config.json"))?;
                let token = running.email_token(REHEARSAL_EMAIL, 900)?;
                let token = vouch_sigstore::sign::IdentityToken::from_jwt(&token)
                    .map_err(|e| anyhow::anyhow!("devstack token: {e}"))?;
                signing::signer_for(
                    &args.signing,
                    SigningConfig::from_trust_config_json(&bytes, "devstack")?,
                    TrustMaterial::from_trust_config_json(&bytes, "devstack")?,
                    Credential::Keyless(token),
                )?
            }
            _ => signing::signer(&args.signing).await?,
        };

        // 1. SBOM of the source tree.
        let t = Instant::now();
        let sbom = super::sbom::cyclonedx(&args.sbom, args.release_version.clone())?;
        let sbom_path = out.join("sbom.cdx.json");
        output::write_atomic(&sbom_path, &sbom)?;
        let components = serde_json::from_slice::<serde_json::Value>(&sbom)
            .ok()
            .and_then(|v| v.get("components").and_then(|c| c.as_array()).map(Vec::len))
            .unwrap_or(0);
        stages.push(stage("sbom", components, &sbom_path, t));

        // 2. Subjects: every artifact, by name, with SHA-256 and SHA-512.
        let t = Instant::now();
        // One blocking task per artifact: hashing is CPU work, and the artifacts are independent.
        let hashing: Vec<_> = args
            .artifacts
            .iter()
            .map(|a| {
                let a = a.clone();
                tokio::task::spawn_blocking(move || super::provenance::file_subject(&a))
            })
            .collect();
        let mut subjects = Vec::with_capacity(hashing.len());
        for h in hashing {
            subjects.push(h.await.context("a hashing task failed")??);
        }
        stages.push(Stage {
            name: "hash",
            items: subjects.len(),
            output: "sha256 + sha512".to_owned(),
            millis: t.elapsed().as_secs_f64() * 1e3,
        });

        // 3. Provenance from the CI environment.
        let t = Instant::now();
        let env = Environment::from_vars(std::env::vars());
        let generic = args
            .builder_id
            .clone()
            .or_else(|| {
                let in_ci = vouch_intoto::detect(&env, None).is_ok();
                (args.devstack && !in_ci).then(|| REHEARSAL_BUILDER.to_owned())
            })
            .map(|builder_id| GenericBuild {
                builder_id,
                ..GenericBuild::default()
            });
        let context = vouch_intoto::detect(&env, generic)?;
        let finished = jiff::Timestamp::from_second(settings::created_time()?)
            .context("the build time is out of range")?;
        let predicate = context.provenance(None, finished)?;
        let provenance = Statement::new(
            subjects.clone(),
            SLSA_PROVENANCE_V1,
            serde_json::to_value(&predicate)?,
        );
        let provenance_path = out.join("provenance.json");
        let mut json = serde_json::to_vec_pretty(&provenance)?;
        json.push(b'\n');
        output::write_atomic(&provenance_path, &json)?;
        stages.push(stage("provenance", subjects.len(), &provenance_path, t));

        // 4. A signature per artifact, concurrently.
        let t = Instant::now();
        let signer = std::sync::Arc::new(signer);
        let mut tasks = Vec::new();
        for (a, subject) in args.artifacts.iter().zip(&subjects) {
            let bundle = out.join(format!("{}.sigstore.json", file_name(a)?));
            // The SHA-256 computed for the subjects: each artifact is read once.
            let digest = vouch_digest::Digest::from_hex(
                vouch_digest::Algorithm::Sha256,
                subject
                    .digest
                    .get("sha256")
                    .map(String::as_str)
                    .unwrap_or_default(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let signer = signer.clone();
            tasks.push(tokio::spawn(async move {
                anyhow::Ok((bundle, signer.sign_digest(&digest).await?))
            }));
        }
        for task in tasks {
            let (bundle, signed) = task.await.context("a signing task failed")??;
            signing::write_bundle(&bundle, &signed.bundle_json)?;
        }
        stages.push(Stage {
            name: "sign",
            items: args.artifacts.len(),
            output: out.join("ARTIFACT.sigstore.json").display().to_string(),
            millis: t.elapsed().as_secs_f64() * 1e3,
        });

        // 5. The SBOM and the provenance as signed attestations about the artifacts.
        let t = Instant::now();
        let sbom_value: serde_json::Value = serde_json::from_slice(&sbom)?;
        let sbom_statement =
            Statement::new(subjects.clone(), "https://cyclonedx.org/bom", sbom_value).to_json();
        let sbom_bundle = out.join("sbom.intoto.sigstore.json");
        let provenance_statement = provenance.to_json();
        let (a, b) = tokio::join!(
            signer.sign_statement(&sbom_statement),
            signer.sign_statement(&provenance_statement)
        );
        signing::write_bundle(&sbom_bundle, &a?.bundle_json)?;
        let provenance_bundle = out.join("provenance.intoto.sigstore.json");
        signing::write_bundle(&provenance_bundle, &b?.bundle_json)?;
        stages.push(Stage {
            name: "attest",
            items: 2,
            output: format!("{}, {}", sbom_bundle.display(), provenance_bundle.display()),
            millis: t.elapsed().as_secs_f64() * 1e3,
        });

        // 6. The rehearsal verifies everything again, as a consumer would.
        if let (Some(running), true) = (&devstack, args.devstack) {
            let t = Instant::now();
            let bytes = fs_err::read(out.join("trust_config.json"))?;
            let verifier = Verifier::new(TrustMaterial::from_trust_config_json(
                &bytes,
                "trust_config.json",
            )?)?;
            let policy = Policy::keyless(
                Matcher::exact(REHEARSAL_EMAIL),
                Matcher::exact(running.url()),
            );
            let mut checked = 0;
            for a in &args.artifacts {
                let bytes = fs_err::read(a)?;
                for bundle in [
                    out.join(format!("{}.sigstore.json", file_name(a)?)),
                    sbom_bundle.clone(),
                    provenance_bundle.clone(),
                ] {
                    let report = verifier.verify(
                        &fs_err::read(&bundle)?,
                        ArtifactInput::Bytes(&bytes),
                        &policy,
                    );
                    if let Some(f) = report.first_failure() {
                        bail!(
                            "`{}` does not verify for `{}`: {}: {}",
                            bundle.display(),
                            a.display(),
                            f.id,
                            f.message
                        );
                    }
                    checked += 1;
                }
            }
            stages.push(Stage {
                name: "verify",
                items: checked,
                output: "every bundle, every artifact".to_owned(),
                millis: t.elapsed().as_secs_f64() * 1e3,
            });
        }
        anyhow::Ok(())
    }
    .await;
    if let Some(running) = devstack {
        let _ = running.shutdown().await;
    }
    if let Some(dir) = &state {
        let _ = fs_err::remove_dir_all(dir);
    }
    result?;

    let mut table = String::from("| stage | items | output | time |\n|---|---|---|---|\n");
    for s in &stages {
        table.push_str(&format!(
            "| {} | {} | {} | {:.1} ms |\n",
            s.name, s.items, s.output, s.millis
        ));
    }
    if args.devstack {
        table.push_str(&format!(
            "\nrehearsal: signed as {REHEARSAL_EMAIL} by an embedded devstack; re-verify with\n  \
             vouch verify {} --bundle {} --trust-config {} --certificate-identity \
             {REHEARSAL_EMAIL} --certificate-oidc-issuer-regexp 'http://127\\.0\\.0\\.1:[0-9]+'\n",
            args.artifacts
                .first()
                .map(|a| a.display().to_string())
                .unwrap_or_default(),
            args.artifacts
                .first()
                .and_then(|a| file_name(a).ok())
                .map(|n| out.join(format!("{n}.sigstore.json")).display().to_string())
                .unwrap_or_default(),
            out.join("trust_config.json").display()
        ));
    }
    output::write_stdout(table.as_bytes())?;
    Ok(Status::Success)
}

fn stage(name: &'static str, items: usize, output: &Path, t: Instant) -> Stage {
    Stage {
        name,
        items,
        output: output.display().to_string(),
        millis: t.elapsed().as_secs_f64() * 1e3,
    }
}

/// A fresh private directory for the embedded devstack's state.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "vouch-release-devstack-{}-{}",
        std::process::id(),
        vouch_digest::random_uuid_v4()
    ));
    fs_err::create_dir_all(&dir)?;
    Ok(dir)
}

//! Images in registries: signing and attesting them (`vouch sign IMAGE`, `vouch attest …
//! IMAGE`), verifying what is attached (`vouch verify IMAGE`), listing it (`vouch tree`) and
//! fetching it (`vouch download`).
//!
//! A tag is resolved to its manifest digest once, and only the digest is signed. Signatures
//! are cosign v3's: a DSSE envelope around an in-toto statement of predicate type
//! `https://sigstore.dev/cosign/sign/v1` whose subject is the manifest digest, in a Sigstore
//! bundle stored as an OCI 1.1 referrer (or, with `--legacy-cosign`, cosign's `.sig` and
//! `.att` tags). Verification reads all three layouts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use vouch_digest::{Algorithm, Digest};
use vouch_oci::Reference;
use vouch_oci::attach::{
    AttachOptions, BundleAttachment, BundleContent, LegacySignature, attach_bundle,
    attach_legacy_attestation, attach_legacy_signature,
};
use vouch_oci::client::{ClientOptions, Registry, parse_reference, with_digest};
use vouch_oci::credentials::Credentials;
use vouch_oci::discover::{Attached, Layout, discover, fetch_attached, tree};
use vouch_oci::model::{AnyManifest, Platform, media_type};
use vouch_sigstore::cosign::{self, LegacyLayer, SIGN_PREDICATE_TYPE};
use vouch_sigstore::{ArtifactInput, Policy, Report, Signer, Verifier};

use super::Status;
use crate::cli::{DownloadCommand, DownloadItemArgs, RegistryArgs, ReportFormat, TreeArgs};
use crate::{env, output};

/// The registry reference an argument names, when it names an image in a registry rather than
/// a file: `registry:REF` and `docker://REF` always do; otherwise an argument that is not an
/// existing path and whose first component is a registry host (it has a `.` or a `:`, or is
/// `localhost`) does. `alpine:3` alone stays a file name: write `docker.io/library/alpine:3`.
pub fn registry_image(arg: &str) -> Option<String> {
    for prefix in ["registry:", "docker://"] {
        if let Some(rest) = arg.strip_prefix(prefix) {
            return Some(rest.to_owned());
        }
    }
    if arg.starts_with("oci:") || arg.starts_with("docker-archive:") || arg.starts_with("dir:") {
        return None;
    }
    if Path::new(arg).exists() {
        return None;
    }
    let (host, rest) = arg.split_once('/')?;
    // `./x/y` and `../x/y` are paths, not hosts.
    let hostlike = host == "localhost"
        || (!host.starts_with('.') && (host.contains('.') || host.contains(':')));
    (hostlike && !rest.is_empty()).then(|| arg.to_owned())
}

/// The client for `reference`'s registry, with credentials from the Docker configuration.
pub fn registry_for(args: &RegistryArgs, reference: &Reference) -> anyhow::Result<Registry> {
    let config_dir = args
        .docker_config
        .clone()
        .or_else(|| std::env::var_os(env::DOCKER_CONFIG).map(PathBuf::from))
        .or_else(|| std::env::var_os(env::HOME).map(|h| PathBuf::from(h).join(".docker")));
    let credentials = match config_dir.map(|d| d.join("config.json")) {
        Some(file) if file.is_file() => Credentials::docker_config(file),
        _ => Credentials::anonymous(),
    };
    let insecure_registries = if args.insecure_registry {
        vec![reference.registry().to_owned()]
    } else {
        Vec::new()
    };
    Ok(Registry::new(ClientOptions {
        credentials,
        insecure_registries,
        connect_timeout: Some(std::time::Duration::from_secs(30)),
        read_timeout: Some(std::time::Duration::from_secs(300)),
    })?)
}

/// The repository part of a reference, as an SBOM or a signature names it (`registry/name`).
fn repository(reference: &Reference) -> String {
    format!("{}/{}", reference.registry(), reference.repository())
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The manifest digests to sign: the reference's, and with `recursive` every manifest of an
/// index.
async fn subjects(
    registry: &Registry,
    reference: &Reference,
    recursive: bool,
) -> anyhow::Result<Vec<String>> {
    let top = registry
        .fetch_manifest(reference)
        .await
        .with_context(|| format!("cannot read the image `{reference}`"))?;
    let mut digests = vec![top.digest.clone()];
    if recursive && let Ok(AnyManifest::Index(index)) = top.parse() {
        digests.extend(index.manifests.into_iter().map(|m| m.digest));
    }
    Ok(digests)
}

/// What one image signature or attestation produced.
pub struct ImageSigned {
    /// `registry/name@sha256:…`.
    pub subject: String,
    /// Where it was stored.
    pub stored: String,
    /// The transparency log index.
    pub log_index: u64,
}

/// Signs the images named by `references` (`vouch sign IMAGE`).
pub async fn sign_images(
    signer: &Signer,
    registry_args: &RegistryArgs,
    references: &[String],
    recursive: bool,
    legacy: bool,
) -> anyhow::Result<Vec<ImageSigned>> {
    let mut done = Vec::new();
    for text in references {
        let reference = parse_reference(text)?;
        let registry = registry_for(registry_args, &reference)?;
        let repo = repository(&reference);
        for digest in subjects(&registry, &reference, recursive).await? {
            eprintln!("{text} resolved to {repo}@{digest}");
            let subject = with_digest(&reference, &digest);
            let hex = digest.trim_start_matches("sha256:");
            let (stored, log_index) = if legacy {
                let payload = cosign::simple_signing_payload(&repo, &digest);
                let payload_digest = vouch_digest::hash_bytes(Algorithm::Sha256, &payload)
                    .context("SHA-256 is unavailable")?;
                let signed = signer.sign_digest(&payload_digest).await?;
                let layer =
                    cosign::legacy_layer_from_bundle(signed.bundle_json.as_bytes(), &payload)?;
                let get = |k: &str| layer.annotations.get(k).cloned();
                let outcome = attach_legacy_signature(
                    &registry,
                    &subject,
                    &LegacySignature {
                        payload,
                        signature_b64: get(cosign::annotation::SIGNATURE).unwrap_or_default(),
                        cert_pem: get(cosign::annotation::CERTIFICATE),
                        chain_pem: get(cosign::annotation::CHAIN),
                        rekor_bundle_json: get(cosign::annotation::REKOR_BUNDLE),
                    },
                    &AttachOptions::default(),
                )
                .await?;
                (format!("tag {}", outcome.tag), signed.log_index)
            } else {
                let statement = vouch_intoto::Statement::new(
                    vec![vouch_intoto::ResourceDescriptor::named(&repo).with_digest("sha256", hex)],
                    SIGN_PREDICATE_TYPE.to_owned(),
                    json!({}),
                )
                .to_json();
                let signed = signer.sign_statement(&statement).await?;
                let log_index = signed.log_index;
                let stored = attach_dsse(&registry, &subject, signed, SIGN_PREDICATE_TYPE).await?;
                (stored, log_index)
            };
            done.push(ImageSigned {
                subject: format!("{repo}@{digest}"),
                stored,
                log_index,
            });
        }
    }
    Ok(done)
}

/// Attests `predicate` of `predicate_type` about an image (`vouch attest … IMAGE`).
pub async fn attest_image(
    signer: &Signer,
    registry_args: &RegistryArgs,
    text: &str,
    predicate_type: &str,
    predicate: Value,
    legacy: bool,
) -> anyhow::Result<ImageSigned> {
    let reference = parse_reference(text)?;
    let registry = registry_for(registry_args, &reference)?;
    let repo = repository(&reference);
    let digest = registry
        .resolve(&reference)
        .await
        .with_context(|| format!("cannot read the image `{reference}`"))?;
    eprintln!("{text} resolved to {repo}@{digest}");
    let subject = with_digest(&reference, &digest);
    let statement = vouch_intoto::Statement::new(
        vec![
            vouch_intoto::ResourceDescriptor::named(&repo)
                .with_digest("sha256", digest.trim_start_matches("sha256:")),
        ],
        predicate_type.to_owned(),
        predicate,
    )
    .to_json();
    let signed = signer.sign_statement(&statement).await?;
    let log_index = signed.log_index;
    let stored = if legacy {
        let layer = cosign::legacy_layer_from_bundle(signed.bundle_json.as_bytes(), &[])?;
        let outcome = attach_legacy_attestation(
            &registry,
            &subject,
            &layer.content,
            layer.annotations.into_iter().collect(),
            &AttachOptions::default(),
        )
        .await?;
        format!("tag {}", outcome.tag)
    } else {
        attach_dsse(&registry, &subject, signed, predicate_type).await?
    };
    Ok(ImageSigned {
        subject: format!("{repo}@{digest}"),
        stored,
        log_index,
    })
}

/// Stores a DSSE bundle as an OCI 1.1 referrer of `subject`; returns where it went.
async fn attach_dsse(
    registry: &Registry,
    subject: &Reference,
    signed: vouch_sigstore::Signed,
    predicate_type: &str,
) -> anyhow::Result<String> {
    let outcome = attach_bundle(
        registry,
        subject,
        &BundleAttachment {
            bundle: signed.bundle_json.into_bytes(),
            content: BundleContent::DsseEnvelope,
            predicate_type: Some(predicate_type.to_owned()),
            created: Some(now_rfc3339()),
        },
        &AttachOptions::default(),
    )
    .await?;
    Ok(format!("referrer {}", outcome.descriptor.digest))
}

/// One attached item, verified.
pub struct CheckedItem {
    /// Where it was found.
    pub layout: &'static str,
    /// The referrer manifest or layer digest.
    pub digest: String,
    /// What it is: `signature`, or the attestation's predicate type.
    pub kind: String,
    /// The verifier's report.
    pub report: Report,
}

/// What `vouch verify IMAGE` found for one manifest.
pub struct ImageVerdict {
    /// `registry/name@sha256:…`.
    pub subject: String,
    /// The platform, for a manifest of a multi-platform image.
    pub platform: Option<String>,
    /// Every attached bundle, with its report.
    pub items: Vec<CheckedItem>,
    /// Whether a verified signature (and, when asked, a verified attestation of the type) was
    /// found.
    pub verified: bool,
    /// Why not, when not.
    pub reason: Option<String>,
}

fn layout_name(layout: &Layout) -> &'static str {
    match layout {
        Layout::ReferrersApi => "referrers-api",
        Layout::ReferrersTagSchema => "referrers-tag-schema",
        Layout::CosignSignature => "cosign-sig-tag",
        Layout::CosignAttestation => "cosign-att-tag",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// The in-toto statement inside a DSSE bundle, or `None` for a message signature.
fn bundle_statement(bundle: &[u8]) -> Option<Value> {
    use base64::Engine as _;
    let value: Value = serde_json::from_slice(bundle).ok()?;
    let payload = value.pointer("/dsseEnvelope/payload")?.as_str()?;
    let statement = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&statement).ok()
}

/// The predicate type of a DSSE bundle's statement, or `None` for a message signature.
fn bundle_predicate_type(bundle: &[u8]) -> Option<String> {
    bundle_statement(bundle)?
        .get("predicateType")?
        .as_str()
        .map(str::to_owned)
}

/// Verifies every bundle attached to one manifest digest.
async fn verify_manifest(
    registry: &Registry,
    reference: &Reference,
    digest: &str,
    verifier: &Verifier,
    policy: &Policy,
    required_type: Option<&str>,
) -> anyhow::Result<(Vec<CheckedItem>, bool, Option<String>)> {
    let attached: Vec<Attached> = discover(registry, reference, digest).await?;
    let subject_digest =
        Digest::from_prefixed(digest).context("the manifest digest is malformed")?;
    let mut items = Vec::new();
    for item in &attached {
        let is_bundle = item.artifact_type.as_deref() == Some(media_type::SIGSTORE_BUNDLE_V03)
            || item.descriptor.media_type == media_type::SIGSTORE_BUNDLE_V03;
        let legacy_sig = item.layout == Layout::CosignSignature;
        let legacy_att = item.layout == Layout::CosignAttestation;
        if !is_bundle && !legacy_sig && !legacy_att {
            continue;
        }
        let bytes = fetch_attached(registry, reference, item).await?;
        // An `.att` layer is the DSSE envelope as it was logged.
        let logged_envelope = legacy_att.then(|| bytes.clone());
        let (bundle, artifact_bytes, kind) = if legacy_sig || legacy_att {
            let layer = LegacyLayer {
                content: bytes.clone(),
                annotations: item.descriptor.annotations.clone().into_iter().collect(),
            };
            match cosign::bundle_from_legacy_layer(&layer, legacy_att) {
                Ok(bundle) => {
                    if legacy_sig {
                        // The simple signing payload must name this manifest.
                        match cosign::parse_simple_signing(&bytes) {
                            Ok(p) if p.manifest_digest == digest => {
                                (bundle, Some(bytes), "signature".to_owned())
                            }
                            Ok(p) => {
                                items.push(unverifiable(
                                    item,
                                    "signature",
                                    format!(
                                        "the signed payload names {} (expected {digest})",
                                        p.manifest_digest
                                    ),
                                ));
                                continue;
                            }
                            Err(e) => {
                                items.push(unverifiable(item, "signature", e.to_string()));
                                continue;
                            }
                        }
                    } else {
                        let kind = bundle_predicate_type(&bundle)
                            .unwrap_or_else(|| "attestation".to_owned());
                        (bundle, None, kind)
                    }
                }
                Err(e) => {
                    items.push(unverifiable(item, "legacy layer", e.to_string()));
                    continue;
                }
            }
        } else {
            let kind = match bundle_predicate_type(&bytes) {
                Some(t) if t == SIGN_PREDICATE_TYPE => "signature".to_owned(),
                Some(t) => t,
                None => "signature".to_owned(),
            };
            (bytes, None, kind)
        };
        let report = match (&artifact_bytes, &logged_envelope) {
            (Some(payload), _) => verifier.verify(&bundle, ArtifactInput::Bytes(payload), policy),
            (None, Some(envelope)) => verifier.verify_with_logged_envelope(
                &bundle,
                envelope,
                ArtifactInput::Digest(subject_digest.clone()),
                policy,
            ),
            (None, None) => verifier.verify(
                &bundle,
                ArtifactInput::Digest(subject_digest.clone()),
                policy,
            ),
        };
        items.push(CheckedItem {
            layout: layout_name(&item.layout),
            digest: item.descriptor.digest.clone(),
            kind,
            report,
        });
    }
    let signed = items
        .iter()
        .any(|i| i.kind == "signature" && i.report.verified);
    let attested =
        required_type.is_none_or(|t| items.iter().any(|i| i.kind == t && i.report.verified));
    let verified = signed && attested;
    let reason = if verified {
        None
    } else if items.is_empty() {
        Some("nothing is attached to this manifest in any layout (referrers, tag schema, cosign tags)".to_owned())
    } else if !signed {
        Some("no attached signature verified under the policy".to_owned())
    } else {
        Some(format!(
            "no attached attestation of type `{}` verified under the policy",
            required_type.unwrap_or_default()
        ))
    };
    Ok((items, verified, reason))
}

fn unverifiable(item: &Attached, kind: &str, message: String) -> CheckedItem {
    CheckedItem {
        layout: layout_name(&item.layout),
        digest: item.descriptor.digest.clone(),
        kind: kind.to_owned(),
        report: Report::unparsable(message),
    }
}

/// Verifies an image: the platform manifests asked for, and the index itself when the
/// reference names one.
pub async fn verify_image(
    registry_args: &RegistryArgs,
    text: &str,
    verifier: &Verifier,
    policy: &Policy,
    required_type: Option<&str>,
) -> anyhow::Result<Vec<ImageVerdict>> {
    let reference = parse_reference(text)?;
    let registry = registry_for(registry_args, &reference)?;
    let repo = repository(&reference);
    let top = registry
        .fetch_manifest(&reference)
        .await
        .with_context(|| format!("cannot read the image `{reference}`"))?;
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    match top.parse() {
        Ok(AnyManifest::Index(index)) => {
            let wanted = match &registry_args.platform {
                Some(p) => Some(Platform::parse(p)?),
                None if registry_args.all_platforms => None,
                None => Some(Platform::host()),
            };
            for m in &index.manifests {
                let Some(platform) = &m.platform else {
                    continue;
                };
                if platform.os == "unknown" {
                    continue;
                }
                if wanted.as_ref().is_none_or(|w| w.matches(platform)) {
                    targets.push((m.digest.clone(), Some(platform.to_string())));
                }
            }
            if targets.is_empty() {
                // Signed as a whole (`vouch sign` without --recursive signs the index).
                targets.push((top.digest.clone(), None));
            }
        }
        _ => targets.push((top.digest.clone(), None)),
    }
    let mut verdicts = Vec::new();
    for (digest, platform) in targets {
        let (mut items, mut verified, mut reason) = verify_manifest(
            &registry,
            &reference,
            &digest,
            verifier,
            policy,
            required_type,
        )
        .await?;
        // A multi-platform image signed at the index: the index's signature covers its
        // manifests (the index lists their digests).
        if !verified && platform.is_some() && top.digest != digest {
            let (index_items, index_ok, _) = verify_manifest(
                &registry,
                &reference,
                &top.digest,
                verifier,
                policy,
                required_type,
            )
            .await?;
            if index_ok {
                verified = true;
                reason = None;
            }
            items.extend(index_items);
        }
        verdicts.push(ImageVerdict {
            subject: format!("{repo}@{digest}"),
            platform,
            items,
            verified,
            reason,
        });
    }
    Ok(verdicts)
}

/// Renders image verdicts as text.
pub fn render_verdicts_text(verdicts: &[ImageVerdict]) -> String {
    let mut s = String::new();
    for v in verdicts {
        let platform = v
            .platform
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        s.push_str(&format!(
            "{}{platform}: {}\n",
            v.subject,
            if v.verified {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            }
        ));
        for item in &v.items {
            let status = if item.report.verified {
                "verified".to_owned()
            } else {
                match item.report.first_failure() {
                    Some(check) => format!("FAILED {}: {}", check.id.name(), check.message),
                    None => "FAILED".to_owned(),
                }
            };
            s.push_str(&format!(
                "  {} {} [{}] {}\n",
                item.kind, item.digest, item.layout, status
            ));
        }
        if let Some(reason) = &v.reason {
            s.push_str(&format!("  reason: {reason}\n"));
        }
    }
    s
}

/// Renders image verdicts as JSON.
pub fn render_verdicts_json(verdicts: &[ImageVerdict]) -> anyhow::Result<Value> {
    let mut out = Vec::new();
    for v in verdicts {
        let items: Vec<Value> = v
            .items
            .iter()
            .map(|i| {
                Ok(json!({
                    "layout": i.layout,
                    "digest": i.digest,
                    "kind": i.kind,
                    "report": serde_json::to_value(&i.report)?,
                }))
            })
            .collect::<anyhow::Result<_>>()?;
        out.push(json!({
            "image": v.subject,
            "platform": v.platform,
            "verified": v.verified,
            "reason": v.reason,
            "attached": items,
        }));
    }
    Ok(Value::Array(out))
}

/// Runs `vouch tree IMAGE`.
pub fn run_tree(args: &TreeArgs) -> anyhow::Result<Status> {
    let reference = parse_reference(
        registry_image(&args.image)
            .as_deref()
            .unwrap_or(&args.image),
    )?;
    let registry = registry_for(&args.registry, &reference)?;
    let runtime = super::signing::runtime()?;
    let t = runtime.block_on(tree(&registry, &reference))?;
    let repo = repository(&reference);
    let out = match args.format {
        ReportFormat::Text => {
            let mut s = String::new();
            let print = |node: &vouch_oci::discover::Tree, indent: &str, s: &mut String| {
                let platform = node
                    .subject
                    .platform
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                s.push_str(&format!(
                    "{indent}{repo}@{}{platform}\n",
                    node.subject.digest
                ));
                if node.attached.is_empty() {
                    s.push_str(&format!("{indent}  (nothing attached)\n"));
                }
                for a in &node.attached {
                    let what = a
                        .descriptor
                        .annotations
                        .get(cosign::bundle_annotation::PREDICATE_TYPE)
                        .cloned()
                        .or_else(|| a.artifact_type.clone())
                        .unwrap_or_else(|| a.descriptor.media_type.clone());
                    s.push_str(&format!(
                        "{indent}  └─ [{}] {} {}\n",
                        layout_name(&a.layout),
                        what,
                        a.descriptor.digest
                    ));
                }
            };
            print(&t, "", &mut s);
            for child in &t.children {
                print(child, "  ", &mut s);
            }
            s
        }
        ReportFormat::Json => {
            let node = |n: &vouch_oci::discover::Tree| {
                json!({
                    "digest": n.subject.digest,
                    "mediaType": n.subject.media_type,
                    "platform": n.subject.platform.as_ref().map(ToString::to_string),
                    "attached": n.attached.iter().map(|a| json!({
                        "layout": layout_name(&a.layout),
                        "artifactType": a.artifact_type,
                        "digest": a.descriptor.digest,
                        "mediaType": a.descriptor.media_type,
                        "annotations": a.descriptor.annotations,
                        "tag": a.tag,
                    })).collect::<Vec<_>>(),
                })
            };
            let mut v = node(&t);
            if let Some(object) = v.as_object_mut() {
                object.insert("repository".into(), json!(repo));
                object.insert(
                    "manifests".into(),
                    Value::Array(t.children.iter().map(node).collect()),
                );
            }
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
    };
    output::write_stdout(out.as_bytes())?;
    Ok(Status::Success)
}

/// Runs `vouch download sbom|attestation IMAGE`. Nothing is verified here: pipe the result to
/// `vouch verify`, or use `vouch verify IMAGE --type …` to check before trusting.
pub fn run_download(args: &crate::cli::DownloadArgs) -> anyhow::Result<Status> {
    let (item, sbom) = match &args.what {
        DownloadCommand::Sbom(a) => (a, true),
        DownloadCommand::Attestation(a) => (a, false),
    };
    let wanted: Option<String> = match &item.predicate_type {
        Some(t) => Some(super::attest::predicate_type(t)?),
        None => None,
    };
    let bundles = fetch_bundles(item)?;
    let mut out = Vec::new();
    for (bundle, predicate_type) in bundles {
        let Some(pt) = predicate_type else { continue };
        if wanted.as_deref().is_some_and(|w| w != pt) {
            continue;
        }
        if sbom {
            let is_sbom = pt.starts_with("https://cyclonedx.org/bom")
                || pt.starts_with("https://spdx.dev/Document");
            if !is_sbom {
                continue;
            }
            let statement = bundle_statement(&bundle).unwrap_or(Value::Null);
            let predicate = statement.get("predicate").cloned().unwrap_or(Value::Null);
            let mut bytes = serde_json::to_vec_pretty(&predicate)?;
            bytes.push(b'\n');
            return write_out(item, &bytes);
        }
        let value: Value = serde_json::from_slice(&bundle)?;
        out.extend(serde_json::to_vec(&value)?);
        out.push(b'\n');
    }
    if out.is_empty() {
        bail!(
            "no {} is attached to `{}`",
            if sbom {
                "SBOM attestation"
            } else {
                "attestation"
            },
            item.image
        );
    }
    write_out(item, &out)
}

fn write_out(item: &DownloadItemArgs, bytes: &[u8]) -> anyhow::Result<Status> {
    match &item.output {
        Some(path) => output::write_atomic(path, bytes)?,
        None => output::write_stdout(bytes)?,
    }
    Ok(Status::Success)
}

/// Every attestation bundle attached to the image, with its predicate type.
fn fetch_bundles(item: &DownloadItemArgs) -> anyhow::Result<Vec<(Vec<u8>, Option<String>)>> {
    let reference = parse_reference(
        registry_image(&item.image)
            .as_deref()
            .unwrap_or(&item.image),
    )?;
    let registry = registry_for(&item.registry, &reference)?;
    let runtime = super::signing::runtime()?;
    runtime.block_on(async {
        let digest = registry.resolve(&reference).await?;
        let mut out = Vec::new();
        for a in discover(&registry, &reference, &digest).await? {
            let bytes = fetch_attached(&registry, &reference, &a).await?;
            let bundle = if a.layout == Layout::CosignAttestation {
                let layer = LegacyLayer {
                    content: bytes,
                    annotations: a
                        .descriptor
                        .annotations
                        .clone()
                        .into_iter()
                        .collect::<BTreeMap<_, _>>(),
                };
                match cosign::bundle_from_legacy_layer(&layer, true) {
                    Ok(b) => b,
                    Err(_) => continue,
                }
            } else if a.layout == Layout::CosignSignature {
                continue;
            } else {
                bytes
            };
            let pt = bundle_predicate_type(&bundle).filter(|t| t != SIGN_PREDICATE_TYPE);
            out.push((bundle, pt));
        }
        anyhow::Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::registry_image;

    #[test]
    fn arguments_are_images_only_when_they_name_a_registry() {
        for image in [
            "registry.example/app:1",
            "127.0.0.1:5000/app@sha256:00",
            "localhost/app",
            "registry:alpine:3",
            "docker://alpine",
        ] {
            assert!(registry_image(image).is_some(), "{image}");
        }
        for file in [
            "dist/app.tar.gz",
            "./dir.d/file",
            "../up.one/file",
            "/abs.d/file",
            "alpine:3",
            "oci:layout",
            "release.tar.gz",
        ] {
            assert!(registry_image(file).is_none(), "{file}");
        }
    }
}

//! Bundle verification: the Sigstore crates do the cryptography; this module adds what they
//! lack (a self-signed certificate inside the bundle's chain is refused; identity, issuer and
//! GitHub claims match exactly or by regular expression; the verified in-toto statement is
//! returned) and turns their typed errors into a report that names the failed check.
//!
//! Specifications: the Sigstore bundle (sigstore/protobuf-specs `sigstore_bundle.proto`), the
//! client verification procedure (sigstore/architecture-docs, client spec), DSSE
//! (secure-systems-lab/dsse `protocol.md`) and in-toto Statement v1.
//!
//! Purity: bytes, a trusted root and a policy in; a [`Report`] out. No I/O except reading the
//! artifact stream the caller passes, and no network.

use std::io::Read;

use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{ArtifactDigest, Bundle, HashAlgorithm, KindVersion, SignatureContent};
use sigstore_verify::crypto::CertificateInfo;
use sigstore_verify::{
    CertificateError, Error, PublicKeyVerificationPolicy, TimestampError, TransparencyLogError,
    VerificationPolicy,
};
use vouch_digest::{Algorithm, Digest};

use crate::intoto_v001;
use crate::policy::Policy;
use crate::report::{
    Check, CheckId, Claims, Facts, Hints, LogEntryFact, REPORT_VERSION, Report, Status,
};
use crate::trust::{TrustError, TrustMaterial};

/// Largest bundle accepted, in bytes. A bundle carrying a large SBOM attestation can reach a
/// few megabytes; anything near this limit is not a bundle.
pub const MAX_BUNDLE_BYTES: usize = 64 << 20;

/// The payload type of an in-toto statement in a DSSE envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The artifact to verify.
pub enum ArtifactInput<'a> {
    /// Its bytes.
    Bytes(&'a [u8]),
    /// A stream, read once to its end in constant memory.
    Reader(&'a mut dyn Read),
    /// Only its digest (`sha256` or `sha512`). Ed25519 signatures over a message cannot be
    /// checked this way: they sign the message, not a digest.
    Digest(Digest),
}

/// A verifier prepared once for a trusted root, then used for any number of bundles, from
/// any number of threads.
pub struct Verifier {
    inner: sigstore_verify::Verifier,
    trust: TrustMaterial,
}

impl Verifier {
    /// Prepares the trusted root's keys and certificates.
    pub fn new(trust: TrustMaterial) -> Result<Self, TrustError> {
        let inner =
            sigstore_verify::Verifier::new(trust.root()).map_err(|e| TrustError::Unusable {
                origin: trust.origin().to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self { inner, trust })
    }

    /// The trust material in use.
    pub fn trust(&self) -> &TrustMaterial {
        &self.trust
    }

    /// Verifies `artifact` against the bundle `bundle_json` under `policy`.
    pub fn verify(
        &self,
        bundle_json: &[u8],
        artifact: ArtifactInput<'_>,
        policy: &Policy,
    ) -> Report {
        self.verify_with(bundle_json, None, artifact, policy, None)
    }

    /// As [`Verifier::verify`], for a bundle rebuilt around a DSSE envelope whose bytes as they
    /// were sent to the log are known (a cosign `.att` layer holds them): a Rekor `intoto`
    /// 0.0.1 entry hashes those exact bytes.
    pub fn verify_with_logged_envelope(
        &self,
        bundle_json: &[u8],
        logged_envelope: &[u8],
        artifact: ArtifactInput<'_>,
        policy: &Policy,
    ) -> Report {
        self.verify_with(bundle_json, Some(logged_envelope), artifact, policy, None)
    }

    /// As [`Verifier::verify`], for one bundle of a batch signed under one certificate (the
    /// self-check of `vouch sign`): once a bundle's certificate chain and SCT have verified,
    /// `cache` holds that certificate, and later bundles with the same certificate are not
    /// checked for them again. Their signing times must still fall within the certificate's
    /// validity, as every other check is still made.
    pub fn verify_cached(
        &self,
        bundle_json: &[u8],
        artifact: ArtifactInput<'_>,
        policy: &Policy,
        cache: &CertificateCache,
    ) -> Report {
        self.verify_with(bundle_json, None, artifact, policy, Some(cache))
    }

    fn verify_with(
        &self,
        bundle_json: &[u8],
        logged_envelope: Option<&[u8]>,
        artifact: ArtifactInput<'_>,
        policy: &Policy,
        cache: Option<&CertificateCache>,
    ) -> Report {
        let mut hints = Hints::default();
        let Parsed {
            bundle,
            relabelled,
            kinds,
        } = match parse_bundle(bundle_json) {
            Ok(p) => p,
            Err(check) => return finish(vec![check], hints, None),
        };
        // The leaf is parsed once: for the hints here, and for the policy checks below.
        let leaf = bundle
            .signing_certificate()
            .map(sigstore_verify::crypto::parse_certificate_info);
        fill_hints(
            &bundle,
            leaf.as_ref().and_then(|l| l.as_ref().ok()),
            &mut hints,
        );
        if relabelled {
            // As the bundle names them, not as relabelled for the library.
            hints.log_entry_kinds.clone_from(&kinds);
        }
        let plan = Plan::new(&bundle, policy);
        let parsed = Check::passed(
            CheckId::BundleParse,
            format!("bundle of media type `{}`", bundle.media_type),
        );

        // Checks vouch makes before any cryptography: the bundle must be of the kind the
        // policy expects, and must not smuggle in a root certificate.
        let cert_info = match pre_checks(&bundle, policy, leaf)
            .and_then(|info| log_entry_checks(&bundle, self.trust.root()).map(|()| info))
        {
            Ok(info) => info,
            Err(check) => {
                let failed = check.id;
                return finish(
                    plan.outcome(parsed, Some(check), Vec::new(), failed),
                    hints,
                    None,
                );
            }
        };
        let policy_checks = cert_info
            .as_ref()
            .map(|info| policy.check_certificate(info))
            .unwrap_or_default();

        // A certificate whose chain and SCT this verifier checked before, and whose bundle
        // carries no other certificate, is not checked for them again.
        let known = cache.and_then(|c| c.get()).filter(|known| {
            policy.public_key().is_none()
                && matches!(
                    &bundle.verification_material.content,
                    VerificationMaterialContent::Certificate(c) if c.raw_bytes.as_bytes() == known.der
                )
        });
        let (outcome, artifact_digest, alternative) =
            self.run_library(&bundle, artifact, policy, known.is_some());
        let outcome = match (outcome, &known) {
            (Ok(result), Some(known)) => known
                .covers(result.verified_timestamps())
                .map(|()| result)
                .map_err(Failure::Check),
            (Ok(result), None) => {
                if let Some(cache) = cache {
                    cache.remember(&bundle, &result);
                }
                Ok(result)
            }
            (Err(e), _) => Err(Failure::Library(e)),
        };
        let outcome = match outcome {
            Err(Failure::Check(check)) => Err(check),
            Ok(_) if relabelled => {
                // The library cannot have read a relabelled body as the kind it is not.
                // The library read the body as 0.0.2: the label says 0.0.1, the body is not.
                Err(Check::failed(
                    CheckId::TlogEntry,
                    "the log entry is labelled intoto 0.0.1, but its logged body is of version 0.0.2",
                )
                .with_values("intoto 0.0.1", "intoto 0.0.2"))
            }
            Ok(result) => Ok(Established::from_library(&result)),
            Err(Failure::Library(error))
                if relabelled && intoto_v001::is_last_step_stop(&error) =>
            {
                let signer = match (policy.public_key(), &cert_info) {
                    (Some(key), _) => intoto_v001::Signer::Key(key.as_bytes()),
                    (None, Some(info)) => intoto_v001::Signer::Certificate {
                        der: bundle
                            .signing_certificate()
                            .map(|c| c.as_bytes())
                            .unwrap_or_default(),
                        public_key: info.public_key.as_bytes(),
                    },
                    (None, None) => intoto_v001::Signer::Key(&[]),
                };
                intoto_v001::check_entry(&bundle, logged_envelope, &signer)
                    .map(|()| self.established_by_vouch(&bundle, cert_info.as_ref()))
            }
            Err(Failure::Library(error)) => {
                Err(classify(&error, &bundle, artifact_digest.as_ref()))
            }
        };
        match outcome {
            Ok(result) => {
                let mut checks = plan.all_passed(&bundle, &result, known.is_some());
                checks.insert(0, parsed);
                insert_policy_checks(&mut checks, policy_checks);
                let verified = checks.iter().all(|c| c.status == Status::Passed);
                let (facts, claims) = if verified {
                    let (mut facts, claims) =
                        facts_and_claims(&bundle, &result, artifact_digest, alternative);
                    if relabelled {
                        for (fact, kind) in facts.log_entries.iter_mut().zip(&kinds) {
                            fact.kind.clone_from(kind);
                        }
                    }
                    (Some(facts), claims)
                } else {
                    (None, None)
                };
                Report {
                    report_version: REPORT_VERSION,
                    verified,
                    checks,
                    facts,
                    claims,
                    hints,
                }
            }
            Err(failure) => {
                let failed = failure.id;
                finish(
                    plan.outcome(parsed, Some(failure), policy_checks, failed),
                    hints,
                    None,
                )
            }
        }
    }

    /// What a verification that the library made up to its last step established, for a
    /// bundle whose log entry vouch checked itself ([`intoto_v001`]). The library verified the
    /// signed entry timestamp and any RFC 3161 timestamps before stopping; their times are
    /// read again here, as the library reports them only on success.
    fn established_by_vouch(
        &self,
        bundle: &Bundle,
        certificate: Option<&CertificateInfo>,
    ) -> Established {
        let mut verified_times = Vec::new();
        if let SignatureContent::DsseEnvelope(envelope) = &bundle.content {
            let authorities = self.trust.root().tsa_authorities();
            for ts in &bundle
                .verification_material
                .timestamp_verification_data
                .rfc3161_timestamps
            {
                if let Some(time) = authorities.iter().find_map(|authority| {
                    sigstore_verify::tsa::verify_timestamp_for_authority(
                        &ts.signed_timestamp,
                        &envelope.signature.sig,
                        authority,
                    )
                    .ok()
                }) {
                    verified_times.push(time.to_string());
                }
            }
        }
        let integrated_time = bundle
            .verification_material
            .tlog_entries
            .iter()
            .filter(|e| e.inclusion_promise.is_some())
            .filter_map(|e| e.integrated_time)
            .min();
        verified_times.extend(integrated_time.map(|t| t.to_string()));
        Established {
            identity: certificate.and_then(|c| c.identity.clone()),
            issuer: certificate.and_then(|c| c.issuer.clone()),
            certificate: certificate.cloned(),
            integrated_time: integrated_time.map(|t| t.to_string()),
            verified_times,
        }
    }

    /// `chain_known`: the certificate chain and SCT were verified before, for this very
    /// certificate; the caller checks the signing times against its validity.
    fn run_library(
        &self,
        bundle: &Bundle,
        artifact: ArtifactInput<'_>,
        policy: &Policy,
        chain_known: bool,
    ) -> (
        sigstore_verify::Result<sigstore_verify::VerificationResult>,
        Option<Digest>,
        Option<Digest>,
    ) {
        // The identity and issuer are matched by vouch (exactly or by expression), so the
        // library is asked for full cryptographic verification of any identity.
        let mut keyless = VerificationPolicy::any_identity();
        if chain_known {
            keyless = keyless.skip_certificate_chain();
        }
        let key = policy
            .public_key()
            .map(|k| PublicKeyVerificationPolicy::new(k.clone()));
        let policy: &dyn sigstore_verify::Policy = match &key {
            Some(k) => k,
            None => &keyless,
        };
        match artifact {
            ArtifactInput::Bytes(bytes) => (
                self.inner.verify(bytes, bundle, policy),
                vouch_digest::hash_bytes(Algorithm::Sha256, bytes),
                None,
            ),
            ArtifactInput::Reader(reader) => {
                // A statement may name its subjects by SHA-512 only (npm's do): for an envelope,
                // the one read also yields the SHA-512, so the report can say which subject
                // matched. The library matches subjects itself.
                let dsse = matches!(bundle.content, SignatureContent::DsseEnvelope(_));
                let mut sha512 = None;
                let inner: &mut dyn Read = if dsse {
                    match vouch_digest::HashingReader::new(Algorithm::Sha512, reader) {
                        Some(h) => sha512.insert(h),
                        None => {
                            return (
                                Err(Error::UnsupportedArtifact("SHA-512 is unavailable".into())),
                                None,
                                None,
                            );
                        }
                    }
                } else {
                    reader
                };
                let Some(mut hashing) = vouch_digest::HashingReader::new(Algorithm::Sha256, inner)
                else {
                    return (
                        self.inner.verify_reader(std::io::empty(), bundle, policy),
                        None,
                        None,
                    );
                };
                let result = self.inner.verify_reader(&mut hashing, bundle, policy);
                let sha256 = hashing.finish();
                let sha512 = sha512.map(vouch_digest::HashingReader::finish);
                (result, Some(sha256), sha512)
            }
            ArtifactInput::Digest(digest) => {
                let algorithm = match digest.algorithm() {
                    Algorithm::Sha256 => HashAlgorithm::Sha2256,
                    Algorithm::Sha384 => HashAlgorithm::Sha2384,
                    _ => HashAlgorithm::Sha2512,
                };
                let bytes = vouch_digest::from_hex(digest.hex()).unwrap_or_default();
                let result = ArtifactDigest::new(algorithm, bytes)
                    .map_err(Error::Types)
                    .and_then(|d| self.inner.verify(d, bundle, policy));
                (result, Some(digest), None)
            }
        }
    }
}

fn finish(checks: Vec<Check>, hints: Hints, facts: Option<Facts>) -> Report {
    Report {
        report_version: REPORT_VERSION,
        verified: false,
        checks,
        facts,
        claims: None,
        hints,
    }
}

/// What a successful verification established: from the library's result, or from vouch's own
/// last step for a log entry of a kind the library cannot check.
struct Established {
    identity: Option<sigstore_verify::SubjectAltName>,
    issuer: Option<String>,
    certificate: Option<CertificateInfo>,
    integrated_time: Option<String>,
    verified_times: Vec<String>,
}

impl Established {
    fn from_library(result: &sigstore_verify::VerificationResult) -> Self {
        Self {
            identity: result.identity().cloned(),
            issuer: result.issuer().map(str::to_owned),
            certificate: result.certificate().cloned(),
            integrated_time: result.integrated_time().map(|t| t.to_string()),
            verified_times: result
                .verified_timestamps()
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

/// Why the library's verification did not stand.
enum Failure {
    Library(Error),
    Check(Check),
}

/// The signing certificate of a batch, once one bundle of it verified in full
/// ([`Verifier::verify_cached`]).
#[derive(Default)]
pub struct CertificateCache {
    known: std::sync::Mutex<Option<std::sync::Arc<KnownCertificate>>>,
}

/// A certificate whose chain to the trusted root and SCT verified.
struct KnownCertificate {
    der: Vec<u8>,
    not_before: jiff::Timestamp,
    not_after: jiff::Timestamp,
}

impl CertificateCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self) -> Option<std::sync::Arc<KnownCertificate>> {
        self.known.lock().ok().and_then(|k| k.clone())
    }

    /// Remembers the bundle's certificate when the library verified its chain and its SCT.
    fn remember(&self, bundle: &Bundle, result: &sigstore_verify::VerificationResult) {
        let (VerificationMaterialContent::Certificate(cert), Some(info)) =
            (&bundle.verification_material.content, result.certificate())
        else {
            return;
        };
        if !(result.certificate_verified() && result.sct_verified()) {
            return;
        }
        if let Ok(mut known) = self.known.lock() {
            *known = Some(std::sync::Arc::new(KnownCertificate {
                der: cert.raw_bytes.as_bytes().to_vec(),
                not_before: info.not_before,
                not_after: info.not_after,
            }));
        }
    }
}

impl KnownCertificate {
    /// The one part of the chain check that depends on the bundle: the certificate must be
    /// valid at every signing time the bundle's timestamps establish. (The library still checks
    /// the log's integrated time against it; RFC 3161 times are checked here.) A CA of the
    /// chain cannot expire within the validity of a leaf Fulcio issued under it.
    fn covers(&self, times: &[jiff::Timestamp]) -> Result<(), Check> {
        if times.is_empty() {
            return Err(Check::failed(
                CheckId::CertificateChain,
                "no verified signing time to check the certificate's validity at",
            ));
        }
        for time in times {
            if *time < self.not_before || *time > self.not_after {
                return Err(Check::failed(
                    CheckId::CertificateChain,
                    "the signing certificate is not valid at the signing time",
                )
                .with_values(
                    format!("a time from {} to {}", self.not_before, self.not_after),
                    time.to_string(),
                ));
            }
        }
        Ok(())
    }
}

/// A bundle as parsed, with what was done to let the Sigstore crates parse it.
struct Parsed {
    bundle: Bundle,
    /// Its `intoto` 0.0.1 log entry was relabelled 0.0.2 ([`intoto_v001`]).
    relabelled: bool,
    /// The log entries' kinds as the bundle names them (`kind/version`).
    kinds: Vec<String>,
}

fn parse_bundle(bytes: &[u8]) -> Result<Parsed, Check> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Check::failed(
            CheckId::BundleParse,
            format!(
                "the bundle is {} bytes, more than the {MAX_BUNDLE_BYTES}-byte limit",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Check::failed(
            CheckId::BundleParse,
            format!(
                "the bundle is not UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    // Parse to a value first so that a syntax error reports its line and column.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(Check::failed(
            CheckId::BundleParse,
            format!(
                "line {} column {}: {}",
                e.line(),
                e.column().max(1),
                crate::trust::strip_position(&e)
            ),
        )
        .with_hint("a Sigstore bundle is JSON; is this the right file?"));
    }
    let kinds = check_entry_kinds(text)?;
    let legacy = format!("{}/{}", intoto_v001::KIND, intoto_v001::VERSION);
    let relabelled = kinds.contains(&legacy);
    let relabelled_text;
    let text = if relabelled {
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Check::failed(CheckId::BundleParse, e.to_string()))?;
        intoto_v001::relabel(&mut value);
        relabelled_text = value.to_string();
        relabelled_text.as_str()
    } else {
        text
    };
    let bundle = Bundle::from_json(text).map_err(|e| {
        Check::failed(
            CheckId::BundleParse,
            format!("not a valid Sigstore bundle: {e}"),
        )
        .with_hint(
            "vouch reads bundles of media types application/vnd.dev.sigstore.bundle v0.1 to v0.3",
        )
    })?;
    Ok(Parsed {
        bundle,
        relabelled,
        kinds,
    })
}

/// The Rekor entry kinds and versions a bundle's log entry is checked against: those of the
/// Sigstore verification crates (`sigstore_types::KindVersion`), and `intoto` 0.0.1, whose
/// last step vouch makes itself ([`intoto_v001`]).
pub(crate) const SUPPORTED_ENTRY_KINDS: &[(&str, &str)] = &[
    ("hashedrekord", "0.0.1"),
    ("hashedrekord", "0.0.2"),
    ("dsse", "0.0.1"),
    ("intoto", "0.0.1"),
    ("intoto", "0.0.2"),
];

/// Fails closed, naming it, on a log entry of a kind the verifier cannot check, before the
/// bundle parser refuses it with a message about the bundle's format. Returns the entries'
/// kinds (`kind/version`).
fn check_entry_kinds(text: &str) -> Result<Vec<String>, Check> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "verificationMaterial")]
        material: Option<PeekMaterial>,
    }
    #[derive(serde::Deserialize)]
    struct PeekMaterial {
        #[serde(rename = "tlogEntries", default)]
        entries: Vec<PeekEntry>,
    }
    #[derive(serde::Deserialize)]
    struct PeekEntry {
        #[serde(rename = "kindVersion")]
        kind_version: Option<PeekKind>,
    }
    #[derive(serde::Deserialize)]
    struct PeekKind {
        kind: String,
        version: String,
    }
    // Anything of another shape is left to the bundle parser to describe.
    let Ok(peek) = serde_json::from_str::<Peek>(text) else {
        return Ok(Vec::new());
    };
    let entries = peek.material.map(|m| m.entries).unwrap_or_default();
    let mut kinds = Vec::new();
    for kind in entries.into_iter().filter_map(|e| e.kind_version) {
        let known = SUPPORTED_ENTRY_KINDS
            .iter()
            .any(|(k, v)| *k == kind.kind && *v == kind.version);
        if !known {
            let supported: Vec<String> = SUPPORTED_ENTRY_KINDS
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let mut check = Check::failed(
                CheckId::TlogEntry,
                format!(
                    "the transparency log entry is of kind `{}` version {}, which vouch cannot \
                     verify: nothing would check that it describes this bundle's signature",
                    kind.kind, kind.version
                ),
            )
            .with_values(
                supported.join(", "),
                format!("{} {}", kind.kind, kind.version),
            );
            if kind.kind == "intoto" {
                check = check.with_hint(
                    "cosign's default, `--rekor-entry-type dsse`, logs attestations as an entry \
                     every verifier reads",
                );
            }
            return Err(check);
        }
        kinds.push(format!("{}/{}", kind.kind, kind.version));
    }
    Ok(kinds)
}

fn fill_hints(bundle: &Bundle, leaf: Option<&CertificateInfo>, hints: &mut Hints) {
    hints.media_type = Some(bundle.media_type.to_string());
    let material = &bundle.verification_material;
    if let VerificationMaterialContent::PublicKey(k) = &material.content {
        hints.key_hint = Some(k.hint.clone());
    }
    hints.log_entry_kinds = material
        .tlog_entries
        .iter()
        .map(|e| kind_name(e.kind_version))
        .collect();
    hints.rfc3161_timestamps = material
        .timestamp_verification_data
        .rfc3161_timestamps
        .len();
    if let Some(info) = leaf {
        hints.certificate_identity = info.identity.as_ref().map(|s| s.as_str().to_owned());
        hints.certificate_issuer = info.issuer.clone();
    }
}

fn kind_name(kind: KindVersion) -> String {
    format!("{}/{}", kind.kind(), kind.version())
}

/// Checks made before the library runs; returns the parsed (unverified) certificate.
fn pre_checks(
    bundle: &Bundle,
    policy: &Policy,
    leaf: Option<Result<CertificateInfo, sigstore_verify::crypto::Error>>,
) -> Result<Option<CertificateInfo>, Check> {
    let material = &bundle.verification_material.content;
    match (policy.public_key(), material) {
        (Some(_), VerificationMaterialContent::PublicKey(_)) => return Ok(None),
        (Some(_), _) => {
            return Err(Check::failed(
                CheckId::Signature,
                "a public key was given, but the bundle was signed keylessly (it carries a certificate)",
            )
            .with_values("a managed-key bundle", "a bundle with a Fulcio certificate")
            .with_hint("verify it with --certificate-identity and --certificate-oidc-issuer instead of --key"));
        }
        (None, VerificationMaterialContent::PublicKey(k)) => {
            return Err(Check::failed(
                CheckId::CertificateChain,
                "the bundle has no certificate: it was signed with a managed key",
            )
            .with_values(
                "a Fulcio signing certificate",
                format!("public key hint `{}`", k.hint),
            )
            .with_hint("verify it with --key and the signer's public key"));
        }
        (None, _) => {}
    }
    let certificates: Vec<&[u8]> = match material {
        VerificationMaterialContent::Certificate(c) => vec![c.raw_bytes.as_bytes()],
        VerificationMaterialContent::X509CertificateChain { certificates } => certificates
            .iter()
            .map(|c| c.raw_bytes.as_bytes())
            .collect(),
        _ => Vec::new(),
    };
    if certificates.is_empty() {
        return Err(Check::failed(
            CheckId::CertificateChain,
            "the bundle's certificate chain is empty",
        )
        .with_values("a signing certificate", "none"));
    }
    for (position, der) in certificates.iter().enumerate() {
        if let Some(subject) = self_issued_subject(der) {
            return Err(Check::failed(
                CheckId::CertificateChain,
                format!(
                    "certificate {} of the bundle's chain is self-signed (`{subject}`): a bundle \
                     must not carry a root, which only the trusted root may provide",
                    position + 1
                ),
            )
            .with_values(
                "leaf and intermediates only",
                format!("root certificate `{subject}`"),
            ));
        }
    }
    let leaf = leaf.ok_or_else(|| {
        Check::failed(
            CheckId::CertificateChain,
            "the bundle has no signing certificate",
        )
    })?;
    leaf.map(Some).map_err(|e| {
        Check::failed(
            CheckId::CertificateChain,
            format!("the signing certificate does not parse: {e}"),
        )
    })
}

/// What the library leaves unchecked in log entries (it takes the signed values from the
/// checkpoint and the entry, and ignores the bundle's copies): the entry must name a log of the
/// trusted root, its proof must be for the entry's index, the proof's tree size and root hash
/// must be the checkpoint's, and the checkpoint must be signed by the log the entry names. A
/// bundle whose copies disagree is refused rather than reported with facts nobody checked.
fn log_entry_checks(
    bundle: &Bundle,
    root: &sigstore_verify::trust_root::TrustedRoot,
) -> Result<(), Check> {
    for entry in &bundle.verification_material.tlog_entries {
        let named = entry.log_id.key_id.as_bytes();
        if !root
            .tlogs
            .iter()
            .any(|l| l.log_id.key_id.as_bytes() == named)
        {
            return Err(Check::failed(
                CheckId::TlogEntry,
                "the log entry names a log that the trusted root does not list",
            )
            .with_values(
                "the log ID of a transparency log in the trusted root",
                vouch_digest::to_hex(named),
            )
            .with_hint("was the bundle made with another Sigstore instance? pass its trusted root with --trusted-root"));
        }
        let Some(proof) = &entry.inclusion_proof else {
            continue;
        };
        // Rekor v1 proofs index the entry within its shard's tree, while the entry's own index
        // is global across shards, so the two only have to agree for Rekor v2.
        let rekor_v1 = matches!(
            entry.kind_version,
            KindVersion::HashedRekordV001 | KindVersion::DsseV001 | KindVersion::IntotoV002
        );
        if !rekor_v1 && proof.log_index != entry.log_index {
            return Err(Check::failed(
                CheckId::TlogInclusionProof,
                "the inclusion proof is for another entry than the one in the bundle",
            )
            .with_values(
                format!("log index {}", entry.log_index.get()),
                format!("log index {}", proof.log_index.get()),
            ));
        }
        let Some(checkpoint) = proof.checkpoint.checkpoint() else {
            continue;
        };
        if checkpoint.tree_size() != proof.tree_size {
            return Err(Check::failed(
                CheckId::TlogCheckpoint,
                "the inclusion proof's tree size is not the checkpoint's",
            )
            .with_values(
                format!("tree size {}", checkpoint.tree_size()),
                format!("tree size {}", proof.tree_size),
            ));
        }
        if checkpoint.root_hash() != &proof.root_hash {
            return Err(Check::failed(
                CheckId::TlogCheckpoint,
                "the inclusion proof's root hash is not the checkpoint's",
            )
            .with_values(checkpoint.root_hash().to_hex(), proof.root_hash.to_hex()));
        }
        // A signed note names its key by a four-byte hint: the first bytes of the log's key ID
        // (the same lookup the library makes).
        let hint = named.get(..4).unwrap_or_default();
        if checkpoint
            .signatures()
            .iter()
            .all(|s| s.key_id.as_bytes().as_slice() != hint)
        {
            return Err(Check::failed(
                CheckId::TlogCheckpoint,
                "the checkpoint carries no signature by the log the entry names",
            )
            .with_values(
                format!("a signature with key hint {}", vouch_digest::to_hex(hint)),
                checkpoint
                    .signatures()
                    .iter()
                    .map(|s| vouch_digest::to_hex(s.key_id.as_bytes()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
    }
    Ok(())
}

/// The subject of a certificate whose issuer is itself (a root), if `der` is one.
pub(crate) fn self_issued_subject(der: &[u8]) -> Option<String> {
    use x509_cert::der::Decode as _;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    (tbs.subject == tbs.issuer).then(|| tbs.subject.to_string())
}

/// The checks that apply to a bundle, in the order the library runs them.
struct Plan {
    order: Vec<CheckId>,
}

impl Plan {
    fn new(bundle: &Bundle, policy: &Policy) -> Self {
        let material = &bundle.verification_material;
        let entries = &material.tlog_entries;
        let has_tsa = !material
            .timestamp_verification_data
            .rfc3161_timestamps
            .is_empty();
        let has_set = entries.iter().any(|e| e.inclusion_promise.is_some());
        let has_proof = entries.iter().any(|e| e.inclusion_proof.is_some());
        let has_time = entries
            .iter()
            .any(|e| e.inclusion_promise.is_some() && e.integrated_time.is_some());
        let dsse = matches!(bundle.content, SignatureContent::DsseEnvelope(_));
        let mut order = Vec::new();
        let mut add = |cond: bool, id: CheckId| {
            if cond {
                order.push(id);
            }
        };
        add(true, CheckId::TrustedRoot);
        if policy.public_key().is_none() {
            // Keyless, as `sigstore_verify::Verifier::verify` documents its steps.
            add(has_tsa, CheckId::Rfc3161Timestamp);
            add(has_set, CheckId::TlogSet);
            add(true, CheckId::CertificateChain);
            add(true, CheckId::Sct);
            add(has_proof, CheckId::TlogInclusionProof);
            add(has_proof, CheckId::TlogCheckpoint);
            add(has_time, CheckId::TlogIntegratedTime);
        } else {
            add(has_proof, CheckId::TlogInclusionProof);
            add(has_proof, CheckId::TlogCheckpoint);
            add(has_set, CheckId::TlogSet);
            add(has_time, CheckId::TlogIntegratedTime);
            add(has_tsa, CheckId::Rfc3161Timestamp);
        }
        if dsse {
            add(true, CheckId::Signature);
            add(true, CheckId::DsseSubject);
        } else {
            add(true, CheckId::ArtifactDigest);
            add(true, CheckId::Signature);
        }
        add(!entries.is_empty(), CheckId::TlogEntry);
        Self { order }
    }

    /// Every planned check passed: say what each established.
    /// `chain_known`: the certificate's chain and SCT were verified with an earlier bundle of
    /// the same certificate ([`Verifier::verify_cached`]), and only its validity now.
    fn all_passed(&self, bundle: &Bundle, result: &Established, chain_known: bool) -> Vec<Check> {
        let entries = &bundle.verification_material.tlog_entries;
        let n = entries.len();
        let times = result.verified_times.join(", ");
        self.order
            .iter()
            .map(|&id| {
                let message = match id {
                    CheckId::TrustedRoot => "trusted root loaded".to_owned(),
                    CheckId::Rfc3161Timestamp => format!(
                        "{} RFC 3161 timestamp(s) verified against a trusted timestamp authority",
                        bundle
                            .verification_material
                            .timestamp_verification_data
                            .rfc3161_timestamps
                            .len()
                    ),
                    CheckId::TlogSet => {
                        "signed entry timestamp verified with the log's key".to_owned()
                    }
                    CheckId::CertificateChain if chain_known => format!(
                        "certificate chains to a trusted Fulcio root (verified with an earlier \
                         bundle of this certificate) and is valid at {times}"
                    ),
                    CheckId::CertificateChain => format!(
                        "certificate chains to a trusted Fulcio root and is valid at {times}"
                    ),
                    CheckId::Sct if chain_known => "signed certificate timestamp verified \
                        against a trusted CT log with an earlier bundle of this certificate"
                        .to_owned(),
                    CheckId::Sct => {
                        "signed certificate timestamp verified against a trusted CT log".to_owned()
                    }
                    CheckId::TlogInclusionProof => format!(
                        "inclusion proof verified for {n} log entr{}",
                        if n == 1 { "y" } else { "ies" }
                    ),
                    CheckId::TlogCheckpoint => {
                        "checkpoint signed by a trusted log and consistent with the proof"
                            .to_owned()
                    }
                    CheckId::TlogIntegratedTime => match &result.integrated_time {
                        Some(t) => {
                            format!("integrated time {t} is within the certificate's validity")
                        }
                        None => "integrated time checked".to_owned(),
                    },
                    CheckId::Signature => "signature verified".to_owned(),
                    CheckId::ArtifactDigest => {
                        "artifact digest matches the signed digest".to_owned()
                    }
                    CheckId::DsseSubject => {
                        "artifact digest matches a subject of the signed statement".to_owned()
                    }
                    CheckId::TlogEntry => {
                        "log entries are from trusted logs and describe this signature".to_owned()
                    }
                    _ => "passed".to_owned(),
                };
                Check::passed(id, message)
            })
            .collect()
    }

    /// Verification stopped at `failed`: the planned checks before it passed, the ones after
    /// it did not run.
    fn outcome(
        &self,
        parsed: Check,
        failure: Option<Check>,
        policy_checks: Vec<Check>,
        failed: CheckId,
    ) -> Vec<Check> {
        let mut order = self.order.clone();
        if !order.contains(&failed) {
            // A vouch pre-check or an unplanned failure: place it where it belongs.
            let at = order
                .iter()
                .position(|&c| c > failed)
                .unwrap_or(order.len());
            order.insert(at, failed);
        }
        let mut checks = vec![parsed];
        let mut failure = failure;
        let mut reached = true;
        for id in order {
            if id == failed {
                if let Some(f) = failure.take() {
                    checks.push(f);
                }
                reached = false;
            } else if reached {
                checks.push(Check::passed(id, "passed"));
            } else {
                checks.push(Check::not_run(
                    id,
                    format!("not run: `{failed}` failed first"),
                ));
            }
        }
        insert_policy_checks(&mut checks, policy_checks);
        checks
    }
}

/// Identity, issuer and extension checks go after the SCT check, where the library's own
/// sequence puts policy matching.
fn insert_policy_checks(checks: &mut Vec<Check>, policy_checks: Vec<Check>) {
    let at = checks
        .iter()
        .position(|c| c.id > CheckId::Sct)
        .unwrap_or(checks.len());
    for (i, c) in policy_checks.into_iter().enumerate() {
        checks.insert(at + i, c);
    }
}

/// Names the check a library error belongs to, with expected and found values where the error
/// carries them.
fn classify(error: &Error, bundle: &Bundle, artifact: Option<&Digest>) -> Check {
    let text = error.to_string();
    let dsse = matches!(bundle.content, SignatureContent::DsseEnvelope(_));
    let found_digest = || {
        artifact
            .map(ToString::to_string)
            .unwrap_or_else(|| "(unknown)".to_owned())
    };
    match error {
        Error::SignatureInvalid(_) | Error::Crypto(_) => Check::failed(CheckId::Signature, text)
            .with_hint("the signature does not verify with the signing key: the artifact or the bundle was altered, or they do not belong together"),
        // The log-consistency step reports an artifact that its log entry does not describe.
        // The library's message is the only way to tell this apart; the conformance test
        // (`rekor2-dsse-mismatch-envelope_fail` must name `tlog-entry`) catches a rewording.
        Error::ArtifactMismatch(m) if m.contains(" entry") => Check::failed(CheckId::TlogEntry, text)
            .with_hint("the log entry was made for another artifact; is this the file that was signed?"),
        Error::ArtifactMismatch(_) if dsse => {
            let subjects = statement_subject_digests(bundle);
            Check::failed(CheckId::DsseSubject, text)
                .with_values(
                    if subjects.is_empty() { "(no subject digests)".to_owned() } else { subjects.join(", ") },
                    found_digest(),
                )
                .with_hint("the attestation is about other artifacts; is this the file it was made for?")
        }
        Error::ArtifactMismatch(_) | Error::UnsupportedArtifact(_) => {
            let expected = match &bundle.content {
                SignatureContent::MessageSignature(m) => m.message_digest.as_ref().map(|d| {
                    format!("{}:{}", d.algorithm.to_string().to_lowercase().replace("sha2_", "sha").replace('_', ""), vouch_digest::to_hex(d.digest.as_bytes()))
                }),
                _ => None,
            };
            let check = Check::failed(CheckId::ArtifactDigest, text);
            match expected {
                Some(expected) => check.with_values(expected, found_digest()),
                None => check,
            }
            .with_hint("the bundle was made for another artifact; is this the file that was signed?")
        }
        Error::Certificate(c) => match c {
            CertificateError::Sct(_) => Check::failed(CheckId::Sct, text)
                .with_hint("the certificate's SCT is not from a CT log in the trusted root; is the trusted root the right instance (production, staging, private)?"),
            CertificateError::NotYetValid { time, not_before } => Check::failed(CheckId::CertificateChain, text)
                .with_values(format!("signing time at or after {not_before}"), time.to_string()),
            CertificateError::Expired { time, not_after } => Check::failed(CheckId::CertificateChain, text)
                .with_values(format!("signing time at or before {not_after}"), time.to_string()),
            _ => Check::failed(CheckId::CertificateChain, text)
                .with_hint("the certificate does not chain to a Fulcio CA of the trusted root; was it signed against another Sigstore instance?"),
        },
        Error::TransparencyLog(t) => {
            let id = match t {
                TransparencyLogError::InclusionProof(_) => CheckId::TlogInclusionProof,
                TransparencyLogError::Checkpoint(_) => CheckId::TlogCheckpoint,
                TransparencyLogError::InclusionPromise(_) => CheckId::TlogSet,
                TransparencyLogError::IntegratedTime(_) => CheckId::TlogIntegratedTime,
                _ => CheckId::TlogEntry,
            };
            let check = Check::failed(id, text);
            match t {
                TransparencyLogError::UnknownLog { .. } => check.with_hint("the entry is from a log that the trusted root does not list"),
                _ => check,
            }
        }
        Error::Timestamp(t) => {
            let id = match t {
                TimestampError::NoVerifiedTimestamp(_)
                    if bundle.verification_material.timestamp_verification_data.rfc3161_timestamps.is_empty()
                        && bundle.has_inclusion_promise() =>
                {
                    CheckId::TlogSet
                }
                _ => CheckId::Rfc3161Timestamp,
            };
            Check::failed(id, text)
        }
        Error::InvalidTrustRoot(_) | Error::TrustRoot(_) | Error::TrustedCertificate(_) => {
            Check::failed(CheckId::TrustedRoot, text)
        }
        Error::ArtifactRead(_) => Check::failed(CheckId::ArtifactDigest, text),
        Error::Bundle(b) => {
            use sigstore_verify::bundle::Error as B;
            let id = match b {
                B::MissingInclusionPromise(_) => CheckId::TlogSet,
                B::MissingInclusionProof(_) | B::LogIndexOutOfRange { .. } => {
                    CheckId::TlogInclusionProof
                }
                B::MissingCheckpoint | B::CheckpointRootMismatch => CheckId::TlogCheckpoint,
                B::MissingTimestamp | B::MissingSigningTimeEvidence => CheckId::Rfc3161Timestamp,
                _ => CheckId::BundleParse,
            };
            Check::failed(id, text)
        }
        _ => Check::failed(CheckId::BundleParse, text),
    }
}

/// `alg:hex` of every subject digest of the statement in a DSSE envelope, for messages.
fn statement_subject_digests(bundle: &Bundle) -> Vec<String> {
    let Some(statement) = dsse_statement(bundle) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for subject in statement
        .get("subject")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(digests) = subject.get("digest").and_then(serde_json::Value::as_object) {
            for (alg, value) in digests {
                if let Some(v) = value.as_str() {
                    out.push(format!("{alg}:{v}"));
                }
            }
        }
    }
    out
}

fn dsse_statement(bundle: &Bundle) -> Option<serde_json::Value> {
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return None;
    };
    serde_json::from_slice(envelope.payload.as_bytes()).ok()
}

/// `alternative` is a second digest of the artifact (SHA-512, for envelopes), reported instead of
/// `artifact` when only it names a subject of the statement.
fn facts_and_claims(
    bundle: &Bundle,
    result: &Established,
    artifact: Option<Digest>,
    alternative: Option<Digest>,
) -> (Facts, Option<Claims>) {
    let mut facts = Facts {
        mode: if result.certificate.is_some() {
            "keyless"
        } else {
            "key"
        },
        ..Facts::default()
    };
    if let Some(identity) = &result.identity {
        facts.identity = Some(identity.as_str().to_owned());
        facts.identity_kind = Some(match identity {
            sigstore_verify::SubjectAltName::Email(_) => "email",
            sigstore_verify::SubjectAltName::Uri(_) => "uri",
            _ => "other",
        });
    }
    facts.issuer.clone_from(&result.issuer);
    if let Some(info) = &result.certificate {
        facts.certificate_not_before = Some(info.not_before.to_string());
        facts.certificate_not_after = Some(info.not_after.to_string());
        facts.extensions = extensions(info);
    }
    facts.integrated_time.clone_from(&result.integrated_time);
    facts.verified_times.clone_from(&result.verified_times);
    facts.log_entries = bundle
        .verification_material
        .tlog_entries
        .iter()
        .map(|e| LogEntryFact {
            log_index: e.log_index.get(),
            log_id: vouch_digest::to_hex(e.log_id.key_id.as_bytes()),
            kind: kind_name(e.kind_version),
        })
        .collect();
    facts.artifact_digest = artifact
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();

    let claims = match &bundle.content {
        SignatureContent::DsseEnvelope(envelope) => {
            let statement: serde_json::Value =
                serde_json::from_slice(envelope.payload.as_bytes()).unwrap_or_default();
            facts.matched_subject = artifact
                .as_ref()
                .and_then(|d| matched_subject(&statement, d));
            if facts.matched_subject.is_none()
                && let Some(alt) = &alternative
                && let Some(name) = matched_subject(&statement, alt)
            {
                facts.matched_subject = Some(name);
                facts.artifact_digest = alt.to_string();
            }
            Some(Claims {
                payload_type: envelope.payload_type.clone(),
                statement_type: statement
                    .get("_type")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                predicate_type: statement
                    .get("predicateType")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                subjects: statement.get("subject").cloned().unwrap_or_default(),
                statement,
            })
        }
        _ => None,
    };
    (facts, claims)
}

fn matched_subject(statement: &serde_json::Value, digest: &Digest) -> Option<String> {
    statement
        .get("subject")?
        .as_array()?
        .iter()
        .find(|s| {
            s.get("digest")
                .and_then(|d| d.get(digest.algorithm().name()))
                .and_then(serde_json::Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(digest.hex()))
        })
        .and_then(|s| s.get("name"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The Fulcio extensions present in the certificate, by their names in Fulcio's OID document.
fn extensions(info: &CertificateInfo) -> std::collections::BTreeMap<String, String> {
    let ci = &info.ci_claims;
    let old = &ci.deprecated_github;
    let pairs = [
        ("build-signer-uri", &ci.build_signer_uri),
        ("build-signer-digest", &ci.build_signer_digest),
        ("runner-environment", &ci.runner_environment),
        ("source-repository-uri", &ci.source_repository_uri),
        ("source-repository-digest", &ci.source_repository_digest),
        ("source-repository-ref", &ci.source_repository_ref),
        (
            "source-repository-identifier",
            &ci.source_repository_identifier,
        ),
        (
            "source-repository-owner-uri",
            &ci.source_repository_owner_uri,
        ),
        (
            "source-repository-owner-identifier",
            &ci.source_repository_owner_identifier,
        ),
        ("build-config-uri", &ci.build_config_uri),
        ("build-config-digest", &ci.build_config_digest),
        ("build-trigger", &ci.build_trigger),
        ("run-invocation-uri", &ci.run_invocation_uri),
        (
            "source-repository-visibility-at-signing",
            &ci.source_repository_visibility_at_signing,
        ),
        ("deployment-environment", &ci.deployment_environment),
        ("github-workflow-trigger", &old.workflow_trigger),
        ("github-workflow-sha", &old.workflow_sha),
        ("github-workflow-name", &old.workflow_name),
        ("github-workflow-repository", &old.workflow_repository),
        ("github-workflow-ref", &old.workflow_ref),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_known_certificate_covers_only_times_within_its_validity() {
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let known = super::KnownCertificate {
            der: Vec::new(),
            not_before: at("2026-11-29T10:00:00Z"),
            not_after: at("2026-11-29T10:10:00Z"),
        };
        assert!(
            known
                .covers(&[at("2026-11-29T10:00:00Z"), at("2026-11-29T10:10:00Z")])
                .is_ok()
        );
        let late = known
            .covers(&[at("2026-11-29T10:05:00Z"), at("2026-11-29T10:10:01Z")])
            .unwrap_err();
        assert_eq!(late.id, super::CheckId::CertificateChain);
        assert_eq!(late.found.as_deref(), Some("2026-11-29T10:10:01Z"));
        assert!(known.covers(&[at("2026-11-29T09:59:59Z")]).is_err());
        // No signing time at all is no proof of validity.
        assert!(known.covers(&[]).is_err());
    }
}

//! Signing: keyless (OIDC token → Fulcio certificate → Rekor → TSA → bundle v0.3) or with a
//! managed key, and every bundle verified by vouch's own verifier before it is handed back.
//!
//! The Sigstore signing crate (`sigstore-sign`) supplies the service selection from a signing
//! config, the Fulcio, Rekor v2 and TSA clients, the key pair and the bundle builder. vouch
//! drives the steps itself so that each request gets bounded, jittered retries, a Rekor 409 is
//! resolved to the entry already logged, one Fulcio certificate serves a whole batch, and
//! nothing the services send back reaches a bundle unverified: the library would put a wrong
//! certificate or a mismatched log entry straight into one.

mod rekor;
mod retry;
mod tls;

use crate::key::ManagedKey;
use crate::{
    ArtifactInput, CertificateCache, Matcher, Policy, Report, TrustError, TrustMaterial, Verifier,
};
use sigstore_sign::bundle::{BundleV03, VerificationMaterialV03};
use sigstore_sign::crypto::KeyPair;
use sigstore_sign::fulcio::FulcioClient;
pub use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::rekor::RekorApiVersion;
use sigstore_sign::reqwest;
use sigstore_sign::trust_root::SigningConfig as TufSigningConfig;
use sigstore_sign::tsa::TimestampClient;
use sigstore_sign::{SigningServices, types as st};
use std::sync::Arc;
use vouch_digest::{Algorithm, Digest};

pub use retry::RetryPolicy;

/// The in-toto statement media type inside DSSE envelopes.
const IN_TOTO: &str = crate::IN_TOTO_PAYLOAD_TYPE;

/// A certificate is replaced when less than this much of its validity is left, so a signature
/// never races the certificate's expiry.
const CERTIFICATE_MARGIN: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

/// A Sigstore service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The certificate authority.
    Fulcio,
    /// The transparency log.
    Rekor,
    /// The RFC 3161 timestamp authority.
    Tsa,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Fulcio => "Fulcio",
            Service::Rekor => "Rekor",
            Service::Tsa => "the timestamp authority",
        })
    }
}

/// Why signing failed. No variant carries an identity token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signing config cannot be used as asked.
    #[error("{origin}: {message}")]
    Config {
        /// The signing config's origin.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A service could not be reached, after every attempt.
    #[error("{service} at {url} could not be reached after {attempts} attempt(s): {message}")]
    Unreachable {
        /// The service.
        service: Service,
        /// The URL called.
        url: String,
        /// What went wrong the last time.
        message: String,
        /// Attempts made (filled in when retries are spent).
        #[doc(hidden)]
        attempts: u32,
    },
    /// A service answered with an error status.
    #[error("{service} at {url} answered HTTP {status}: {message}")]
    Refused {
        /// The service.
        service: Service,
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The response body, shortened.
        message: String,
    },
    /// A service answered 2xx with something that is not what the protocol promises.
    #[error("{service} at {url} sent an unusable answer: {message}")]
    BadResponse {
        /// The service.
        service: Service,
        /// The URL called.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// Fulcio issued a certificate for an identity or issuer other than the token's.
    #[error(
        "Fulcio issued a certificate for {what} `{found}`, but the token names `{expected}`; \
         the bundle was not written"
    )]
    CertificateMismatch {
        /// `identity` or `issuer`.
        what: &'static str,
        /// From the token.
        expected: String,
        /// From the certificate.
        found: String,
    },
    /// The bundle assembled from the services' answers does not verify.
    #[error("the new bundle does not verify ({}); it was not written", failed_summary(.report))]
    SelfCheck {
        /// The full report.
        report: Box<Report>,
    },
    /// The statement to sign is not an in-toto statement vouch can check.
    #[error("{0}")]
    Statement(String),
    /// The managed key cannot sign.
    #[error(transparent)]
    Key(#[from] crate::key::KeyFileError),
    /// A bug or a failure of the crypto library.
    #[error("internal error: {0}")]
    Internal(String),
}

fn failed_summary(report: &Report) -> String {
    report
        .checks
        .iter()
        .find(|c| c.status == crate::Status::Failed)
        .map(|c| {
            let mut s = format!("{}: {}", c.id.name(), c.message);
            if let (Some(e), Some(f)) = (&c.expected, &c.found) {
                s.push_str(&format!(" (expected {e}, found {f})"));
            }
            s
        })
        .unwrap_or_else(|| "no check failed, yet the bundle is not verified".to_owned())
}

/// A signing configuration (`signing_config.json`, media type
/// `application/vnd.dev.sigstore.signingconfig.v0.2+json`): which Fulcio, Rekor, TSA and OIDC
/// services to use.
#[derive(Debug, Clone)]
pub struct SigningConfig {
    inner: TufSigningConfig,
    origin: String,
}

impl SigningConfig {
    /// The embedded configuration of a public-good instance.
    pub fn embedded(instance: crate::Instance) -> Result<Self, TrustError> {
        let (json, origin) = match instance {
            crate::Instance::Production => (
                sigstore_sign::trust_root::SIGSTORE_PRODUCTION_SIGNING_CONFIG,
                "embedded:production",
            ),
            crate::Instance::Staging => (
                sigstore_sign::trust_root::SIGSTORE_STAGING_SIGNING_CONFIG,
                "embedded:staging",
            ),
        };
        Self::from_json(json.as_bytes(), origin)
    }

    /// Parses a `signing_config.json`. `origin` names the source in errors.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Self, TrustError> {
        let value = crate::trust::parse_limited(bytes, origin)?;
        Self::from_value(value, origin)
    }

    /// Takes the signing config out of a client trust configuration.
    pub fn from_trust_config_json(bytes: &[u8], origin: &str) -> Result<Self, TrustError> {
        let mut value = crate::trust::parse_limited(bytes, origin)?;
        let config = value
            .get_mut("signingConfig")
            .map(serde_json::Value::take)
            .ok_or_else(|| TrustError::Json {
                origin: origin.to_owned(),
                line: 1,
                column: 1,
                message: "missing field `signingConfig`".to_owned(),
            })?;
        Self::from_value(config, origin)
    }

    fn from_value(value: serde_json::Value, origin: &str) -> Result<Self, TrustError> {
        let text = value.to_string();
        let inner = TufSigningConfig::from_json(&text).map_err(|e| TrustError::Json {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            message: e.to_string(),
        })?;
        Ok(Self {
            inner,
            origin: origin.to_owned(),
        })
    }

    /// Where it came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The OIDC issuer it names for interactive sign-in, if any.
    pub fn oidc_url(&self) -> Option<&str> {
        self.inner.oidc_url().map(|e| e.url.as_str())
    }
}

/// The Rekor API a signer writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekorVersion {
    /// The v1 REST API.
    V1,
    /// The v2 (tile-backed) API; needs a timestamp authority.
    V2,
}

/// The services one signer uses, chosen from a signing config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Fulcio's base URL.
    pub fulcio: String,
    /// Rekor's base URL.
    pub rekor: String,
    /// Rekor's API version.
    pub rekor_version: RekorVersion,
    /// The timestamp authority's URL.
    pub tsa: Option<String>,
}

impl Services {
    /// Selects services valid now, honouring the config's selectors; `rekor_version` forces a
    /// Rekor major version (1 or 2), otherwise the newest one offered is used.
    pub fn select(config: &SigningConfig, rekor_version: Option<u32>) -> Result<Self, SignError> {
        let bad = |message: String| SignError::Config {
            origin: config.origin.clone(),
            message,
        };
        let force = match rekor_version {
            None => None,
            Some(1) => Some(RekorApiVersion::V1),
            Some(2) => Some(RekorApiVersion::V2),
            Some(n) => return Err(bad(format!("Rekor API version {n} is not 1 or 2"))),
        };
        let selected =
            SigningServices::from_signing_config_with_rekor_version(&config.inner, force)
                .map_err(|e| bad(e.to_string()))?;
        selected.validate().map_err(|e| bad(e.to_string()))?;
        let rekor_version = match selected.rekor_api_version() {
            RekorApiVersion::V1 => RekorVersion::V1,
            RekorApiVersion::V2 => RekorVersion::V2,
            other => {
                return Err(bad(format!(
                    "Rekor API version {} is not supported",
                    other.major()
                )));
            }
        };
        Ok(Self {
            fulcio: selected.fulcio_url().to_owned(),
            rekor: selected.rekor_url().to_owned(),
            rekor_version,
            tsa: selected.tsa_url().map(str::to_owned),
        })
    }
}

/// What signs.
pub enum Credential {
    /// An OIDC identity token, exchanged at Fulcio for a short-lived certificate.
    Keyless(IdentityToken),
    /// A managed key; the bundle names its public key by a hint.
    Key(ManagedKey),
}

/// A bundle that verified, ready to be written.
#[derive(Debug)]
pub struct Signed {
    /// The bundle, pretty-printed JSON.
    pub bundle_json: String,
    /// The self-verification report (every check passed).
    pub report: Report,
    /// The transparency log index.
    pub log_index: u64,
}

struct Ephemeral {
    key: KeyPair,
    certificate: st::DerCertificate,
    identity: String,
    issuer: String,
    not_after: jiff::Timestamp,
}

/// Signs artifacts and statements against one set of services.
///
/// One signer serves any number of concurrent signatures: keyless signers share one ephemeral
/// key and certificate across them, renewed when it nears expiry, so a batch of a hundred files
/// costs one Fulcio request rather than a hundred.
pub struct Signer {
    services: Services,
    credential: Credential,
    http: reqwest::Client,
    retry: RetryPolicy,
    verifier: Verifier,
    /// The certificate whose chain and SCT the self-check verified.
    certificates: CertificateCache,
    ephemeral: tokio::sync::Mutex<Option<Arc<Ephemeral>>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// Who the certificate identifies, in the form Fulcio derives from the token's claims.
/// `None` when vouch does not know the issuer's rule; the issuer is then still checked.
fn expected_identity(token: &IdentityToken) -> Option<String> {
    if let Some(email) = token.email() {
        return Some(email.to_owned());
    }
    let claims = crate::token::claims::payload(token.expose_secret()).ok()?;
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    if let Some(workflow) = text("job_workflow_ref") {
        return Some(format!("https://github.com/{workflow}"));
    }
    if let Some(config) = text("ci_config_ref_uri") {
        return Some(format!("https://{config}"));
    }
    let sub = token.subject();
    (sub.contains("://") || sub.starts_with("spiffe:")).then(|| sub.to_owned())
}

/// The HTTP client type [`http_client`] builds.
pub type HttpClient = reqwest::Client;

/// The HTTP client vouch talks to the Sigstore services with: rustls on aws-lc-rs with the
/// operating system's verifier (built at the first TLS handshake), the given
/// timeouts, vouch's user agent.
pub fn http_client(
    request_timeout: std::time::Duration,
    connect_timeout: std::time::Duration,
) -> Result<reqwest::Client, SignError> {
    let tls = tls::client_config().map_err(|e| SignError::Internal(format!("TLS: {e}")))?;
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(connect_timeout)
        .user_agent(concat!("vouch/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| SignError::Internal(format!("HTTP client: {e}")))
}

impl Signer {
    /// A signer for `services`, whose bundles must verify against `trust`.
    pub fn new(
        services: Services,
        trust: TrustMaterial,
        credential: Credential,
        retry: RetryPolicy,
    ) -> Result<Self, SignError> {
        let http = http_client(retry.request_timeout, retry.connect_timeout)?;
        Self::with_http_client(services, trust, credential, retry, http)
    }

    /// [`Signer::new`] with an HTTP client the caller already holds (one built by
    /// [`http_client`]): building a client loads the system's certificate store, which a
    /// command does once, not once per use.
    pub fn with_http_client(
        services: Services,
        trust: TrustMaterial,
        credential: Credential,
        retry: RetryPolicy,
        http: reqwest::Client,
    ) -> Result<Self, SignError> {
        let verifier = Verifier::new(trust).map_err(|e| SignError::Internal(e.to_string()))?;
        Ok(Self {
            services,
            credential,
            http,
            retry,
            verifier,
            certificates: CertificateCache::new(),
            ephemeral: tokio::sync::Mutex::new(None),
        })
    }

    /// The services in use.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Signs an artifact given by its SHA-256 digest: a message-signature bundle.
    pub async fn sign_digest(&self, digest: &Digest) -> Result<Signed, SignError> {
        if digest.algorithm() != Algorithm::Sha256 {
            return Err(SignError::Internal(
                "message signatures are made over SHA-256 digests".into(),
            ));
        }
        let hash = st::Sha256Hash::from_hex(digest.hex())
            .map_err(|e| SignError::Internal(e.to_string()))?;
        let signing = self.signing_key().await?;
        let signature = signing
            .pair()
            .sign_digest(&hash)
            .map_err(|e| SignError::Internal(e.to_string()))?;
        let entry = rekor::Entry::HashedRekord {
            digest: &hash,
            signature: &signature,
        };
        // The log entry and the timestamp are both over the signature, not over each other:
        // they are requested together, so a file waits for the slower of the two, not both.
        let (tlog, timestamp) = tokio::try_join!(
            self.log(&entry, signing.verifier()),
            self.timestamp(&signature)
        )?;
        let content = st::bundle::SignatureContent::MessageSignature(
            st::bundle::MessageSignature::new(signature).with_message_digest(
                st::bundle::MessageDigest::new(
                    st::HashAlgorithm::Sha2256,
                    st::DigestBytes::new(hash.as_bytes().to_vec()),
                ),
            ),
        );
        let bundle = self.assemble(&signing, content, tlog, timestamp);
        self.check(bundle, &signing, ArtifactInput::Digest(digest.clone()))
    }

    /// Signs an in-toto statement, byte for byte as given, in a DSSE envelope.
    pub async fn sign_statement(&self, statement: &[u8]) -> Result<Signed, SignError> {
        let subject = statement_subject_digest(statement)?;
        let signing = self.signing_key().await?;
        let pae = st::dsse::pae(IN_TOTO, statement);
        let signature = signing
            .pair()
            .sign(&pae)
            .map_err(|e| SignError::Internal(e.to_string()))?;
        let envelope = st::DsseEnvelope::new(
            IN_TOTO,
            st::PayloadBytes::new(statement.to_vec()),
            st::DsseSignature::new(signature.clone(), st::KeyId::default()),
        );
        let entry = rekor::Entry::Dsse {
            envelope: &envelope,
        };
        let (tlog, timestamp) = tokio::try_join!(
            self.log(&entry, signing.verifier()),
            self.timestamp(&signature)
        )?;
        let content = st::bundle::SignatureContent::DsseEnvelope(envelope.clone());
        let bundle = self.assemble(&signing, content, tlog, timestamp);
        self.check(bundle, &signing, ArtifactInput::Digest(subject))
    }

    fn assemble(
        &self,
        signing: &SigningKey<'_>,
        content: st::bundle::SignatureContent,
        tlog: st::TransparencyLogEntry,
        timestamp: Option<st::TimestampToken>,
    ) -> st::Bundle {
        let material = match signing {
            SigningKey::Ephemeral(e) => VerificationMaterialV03::Certificate(e.certificate.clone()),
            SigningKey::Managed { hint, .. } => {
                VerificationMaterialV03::PublicKey { hint: hint.clone() }
            }
        };
        let mut builder = BundleV03::new(material, content).with_tlog_entry(tlog);
        if let Some(ts) = timestamp {
            builder = builder.with_rfc3161_timestamp(ts);
        }
        builder.into_bundle()
    }

    /// Verifies the new bundle with vouch's verifier, as any consumer will, before anyone sees
    /// it.
    fn check(
        &self,
        bundle: st::Bundle,
        signing: &SigningKey<'_>,
        artifact: ArtifactInput<'_>,
    ) -> Result<Signed, SignError> {
        let json = bundle
            .to_json_pretty()
            .map_err(|e| SignError::Internal(format!("bundle to JSON: {e}")))?;
        let policy = match signing {
            SigningKey::Ephemeral(e) => Policy::keyless(
                Matcher::exact(e.identity.clone()),
                Matcher::exact(e.issuer.clone()),
            ),
            SigningKey::Managed { pem, .. } => {
                Policy::public_key_pem(pem).map_err(|e| SignError::Internal(e.to_string()))?
            }
        };
        // Every bundle of a batch carries the same certificate: its chain and SCT are checked
        // with the first bundle, and every later bundle's signing times against its validity.
        let report =
            self.verifier
                .verify_cached(json.as_bytes(), artifact, &policy, &self.certificates);
        if !report.verified {
            return Err(SignError::SelfCheck {
                report: Box::new(report),
            });
        }
        let log_index = bundle
            .verification_material
            .tlog_entries
            .first()
            .map(|e| e.log_index.get())
            .unwrap_or_default();
        Ok(Signed {
            bundle_json: json,
            report,
            log_index,
        })
    }

    async fn signing_key(&self) -> Result<SigningKey<'_>, SignError> {
        match &self.credential {
            Credential::Key(key) => Ok(SigningKey::Managed {
                pair: key.key_pair()?,
                public: key.public_key(),
                pem: key.public_key_pem(),
                hint: managed_key_hint(key),
            }),
            Credential::Keyless(token) => {
                let mut slot = self.ephemeral.lock().await;
                let fresh = slot.as_ref().filter(|e| {
                    e.not_after
                        .checked_sub(CERTIFICATE_MARGIN)
                        .is_ok_and(|t| jiff::Timestamp::now() < t)
                });
                if let Some(e) = fresh {
                    return Ok(SigningKey::Ephemeral(e.clone()));
                }
                let e = Arc::new(self.certificate(token).await?);
                *slot = Some(e.clone());
                Ok(SigningKey::Ephemeral(e))
            }
        }
    }

    async fn certificate(&self, token: &IdentityToken) -> Result<Ephemeral, SignError> {
        let key = KeyPair::generate_ecdsa_p256().map_err(|e| SignError::Internal(e.to_string()))?;
        let url = format!(
            "{}/api/v2/signingCert",
            self.services.fulcio.trim_end_matches('/')
        );
        let client = FulcioClient::builder(&self.services.fulcio)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| SignError::Internal(e.to_string()))?;
        let response = self
            .retry
            .run(|_| async {
                client
                    .create_signing_certificate(token, &key)
                    .await
                    .map_err(|e| fulcio_failure(&url, e))
            })
            .await
            .map_err(spent)?;
        let certificate = response.leaf_certificate().clone();
        let info =
            sigstore_sign::crypto::x509::parse_certificate_info(&certificate).map_err(|e| {
                SignError::BadResponse {
                    service: Service::Fulcio,
                    url: url.clone(),
                    message: format!("the certificate does not parse: {e}"),
                }
            })?;
        let found_identity = info
            .identity
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .ok_or_else(|| SignError::BadResponse {
                service: Service::Fulcio,
                url: url.clone(),
                message: "the certificate names no identity".into(),
            })?;
        let found_issuer = info.issuer.clone().unwrap_or_default();
        if found_issuer != token.issuer() {
            return Err(SignError::CertificateMismatch {
                what: "issuer",
                expected: token.issuer().to_owned(),
                found: found_issuer,
            });
        }
        if let Some(expected) = expected_identity(token)
            && expected != found_identity
        {
            return Err(SignError::CertificateMismatch {
                what: "identity",
                expected,
                found: found_identity,
            });
        }
        if info.public_key.as_bytes()
            != key
                .public_key_der()
                .map_err(|e| SignError::Internal(e.to_string()))?
                .as_bytes()
        {
            return Err(SignError::BadResponse {
                service: Service::Fulcio,
                url,
                message: "the certificate is for another public key than the one sent".into(),
            });
        }
        Ok(Ephemeral {
            key,
            certificate,
            identity: found_identity,
            issuer: found_issuer,
            not_after: info.not_after,
        })
    }

    async fn log(
        &self,
        entry: &rekor::Entry<'_>,
        verifier: rekor::Verifier<'_>,
    ) -> Result<st::TransparencyLogEntry, SignError> {
        let base = &self.services.rekor;
        self.retry
            .run(|_| async {
                match self.services.rekor_version {
                    RekorVersion::V1 => rekor::submit_v1(&self.http, base, entry, verifier).await,
                    RekorVersion::V2 => rekor::submit_v2(&self.http, base, entry, verifier).await,
                }
            })
            .await
            .map_err(spent)
    }

    async fn timestamp(
        &self,
        signature: &st::SignatureBytes,
    ) -> Result<Option<st::TimestampToken>, SignError> {
        let Some(url) = &self.services.tsa else {
            return Ok(None);
        };
        let client = TimestampClient::builder(url)
            .with_http_client(self.http.clone())
            .build()
            .map_err(|e| SignError::Internal(e.to_string()))?;
        self.retry
            .run(|_| async {
                client
                    .timestamp_signature(signature)
                    .await
                    .map_err(|e| tsa_failure(url, e))
            })
            .await
            .map(Some)
            .map_err(spent)
    }
}

enum SigningKey<'a> {
    Ephemeral(Arc<Ephemeral>),
    Managed {
        pair: KeyPair,
        public: &'a st::DerPublicKey,
        pem: String,
        hint: String,
    },
}

impl SigningKey<'_> {
    fn pair(&self) -> &KeyPair {
        match self {
            SigningKey::Ephemeral(e) => &e.key,
            SigningKey::Managed { pair, .. } => pair,
        }
    }

    fn verifier(&self) -> rekor::Verifier<'_> {
        match self {
            SigningKey::Ephemeral(e) => rekor::Verifier::Certificate(&e.certificate),
            SigningKey::Managed { public, .. } => rekor::Verifier::PublicKey(public),
        }
    }
}

/// The bundle's hint for a managed key: the SHA-256 of its SubjectPublicKeyInfo, hex, as the
/// Sigstore clients derive key IDs. Verifiers are given the key; the hint only names it.
fn managed_key_hint(key: &ManagedKey) -> String {
    vouch_digest::hash_bytes(Algorithm::Sha256, key.public_key().as_bytes())
        .map(|d| d.hex().to_owned())
        .unwrap_or_default()
}

/// Records the attempt count in the final error.
fn spent((mut error, attempts): (SignError, u32)) -> SignError {
    if let SignError::Unreachable { attempts: a, .. } = &mut error {
        *a = attempts;
    }
    error
}

fn fulcio_failure(url: &str, e: sigstore_sign::fulcio::Error) -> retry::Failure<SignError> {
    use sigstore_sign::fulcio::Error as E;
    match e {
        E::Status { status, message } => {
            rekor::status_failure(Service::Fulcio, url, status, &message)
        }
        E::Http(message) => retry::Failure::Transient(SignError::Unreachable {
            service: Service::Fulcio,
            url: url.to_owned(),
            message,
            attempts: 0,
        }),
        other => retry::Failure::Permanent(SignError::BadResponse {
            service: Service::Fulcio,
            url: url.to_owned(),
            message: other.to_string(),
        }),
    }
}

fn tsa_failure(url: &str, e: sigstore_sign::tsa::Error) -> retry::Failure<SignError> {
    use sigstore_sign::tsa::Error as E;
    match e {
        E::Http(message) => {
            // The client folds statuses into its transport error as "TSA returned status N".
            let status = message
                .strip_prefix("TSA returned status ")
                .and_then(|s| s.get(..3))
                .and_then(|s| s.parse::<u16>().ok());
            match status {
                Some(status) => rekor::status_failure(Service::Tsa, url, status, &message),
                None => retry::Failure::Transient(SignError::Unreachable {
                    service: Service::Tsa,
                    url: url.to_owned(),
                    message,
                    attempts: 0,
                }),
            }
        }
        other => retry::Failure::Permanent(SignError::BadResponse {
            service: Service::Tsa,
            url: url.to_owned(),
            message: other.to_string(),
        }),
    }
}

/// The digest the self-check verifies a statement against: its first subject's SHA-256 (or
/// SHA-512) digest.
pub fn statement_subject_digest(statement: &[u8]) -> Result<Digest, SignError> {
    let parsed: st::Statement = serde_json::from_slice(statement)
        .map_err(|e| SignError::Statement(format!("not an in-toto statement: {e}")))?;
    if parsed.type_ != st::Statement::TYPE_V1 && parsed.type_ != "https://in-toto.io/Statement/v0.1"
    {
        return Err(SignError::Statement(format!(
            "`_type` is `{}`, expected `{}`",
            parsed.type_,
            st::Statement::TYPE_V1
        )));
    }
    // The typed parse has already checked the digests' form; the first subject is read from it.
    let first = parsed
        .subject
        .first()
        .ok_or_else(|| SignError::Statement("the statement has no subject".into()))?;
    let found = match (&first.digest.sha256, &first.digest.sha512) {
        (Some(h), _) => Some((Algorithm::Sha256, h.to_hex())),
        (None, Some(h)) => Some((Algorithm::Sha512, h.to_hex())),
        (None, None) => None,
    };
    if let Some((algorithm, hex)) = found {
        return Digest::from_hex(algorithm, &hex)
            .map_err(|e| SignError::Statement(format!("subject[0].digest: {e}")));
    }
    Err(SignError::Statement(
        "subject[0] has neither a sha256 nor a sha512 digest".into(),
    ))
}

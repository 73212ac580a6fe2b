//! Trust material: which Fulcio CAs, Rekor logs, CT logs and timestamp authorities to trust.
//!
//! Formats, from sigstore/protobuf-specs:
//! - `trusted_root.json`, media type `application/vnd.dev.sigstore.trustedroot+json;version=0.1`
//!   (`TrustedRoot` in `sigstore_trustroot.proto`);
//! - the client trust configuration that sigstore-python reads with `--trust-config`, media type
//!   `application/vnd.dev.sigstore.clienttrustconfig.v0.1+json` (`ClientTrustConfig`), which
//!   holds a trusted root and a signing configuration.
//!
//! The public-good production and staging roots are embedded (from the `sigstore-trust-root`
//! crate, which tracks the Sigstore TUF repositories), so verification needs no network.

use serde::Serialize;
use sigstore_trust_root::{
    SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT, TrustedRoot,
};

/// Largest trusted root or trust configuration accepted, in bytes. Real ones are under 20 KiB.
pub const MAX_TRUST_BYTES: usize = 4 << 20;

const TRUSTED_ROOT_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.trustedroot";
const TRUST_CONFIG_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.clienttrustconfig";

/// The Sigstore public-good instances whose roots are embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// The production instance (`*.sigstore.dev`).
    Production,
    /// The staging instance (`*.sigstage.dev`).
    Staging,
}

/// Why trust material could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The input is larger than [`MAX_TRUST_BYTES`].
    #[error("{origin}: {size} bytes is more than the {limit}-byte limit for trust material")]
    TooLarge {
        /// Where the material came from.
        origin: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The input is not JSON, or not JSON of the expected shape.
    #[error("{origin}:{line}:{column}: {message}")]
    Json {
        /// Where the material came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The document has another media type than the one expected.
    #[error("{origin}: media type is `{found}`, expected `{expected}…`")]
    MediaType {
        /// Where the material came from.
        origin: String,
        /// The expected prefix.
        expected: &'static str,
        /// What the document says.
        found: String,
    },
    /// The trusted root parsed but cannot be used (a key or certificate is invalid, a window
    /// ends before it starts, a log ID is duplicated).
    #[error("{origin}: unusable trusted root: {message}")]
    Unusable {
        /// Where the material came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// Parses trust-related JSON (a trusted root, signing config or trust config) within the size
/// limit, with the place of any syntax error.
pub(crate) fn parse_limited(bytes: &[u8], origin: &str) -> Result<serde_json::Value, TrustError> {
    check_size(bytes, origin)?;
    parse_json(bytes, origin)
}

/// A parsed trusted root and where it came from.
#[derive(Debug, Clone)]
pub struct TrustMaterial {
    root: TrustedRoot,
    origin: String,
    sha256: String,
}

impl TrustMaterial {
    /// The embedded root of a public-good instance.
    pub fn embedded(instance: Instance) -> Result<Self, TrustError> {
        let (json, origin) = match instance {
            Instance::Production => (SIGSTORE_PRODUCTION_TRUSTED_ROOT, "embedded:production"),
            Instance::Staging => (SIGSTORE_STAGING_TRUSTED_ROOT, "embedded:staging"),
        };
        Self::from_trusted_root_json(json.as_bytes(), origin)
    }

    /// Parses a `trusted_root.json`. `origin` names the source in errors (a path, say).
    pub fn from_trusted_root_json(bytes: &[u8], origin: &str) -> Result<Self, TrustError> {
        check_size(bytes, origin)?;
        let value: serde_json::Value = parse_json(bytes, origin)?;
        Self::from_value(value, origin, bytes)
    }

    /// Parses a client trust configuration and takes its trusted root.
    pub fn from_trust_config_json(bytes: &[u8], origin: &str) -> Result<Self, TrustError> {
        check_size(bytes, origin)?;
        let mut value: serde_json::Value = parse_json(bytes, origin)?;
        let media_type = value
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if !media_type.starts_with(TRUST_CONFIG_MEDIA_TYPE_PREFIX) {
            return Err(TrustError::MediaType {
                origin: origin.to_owned(),
                expected: TRUST_CONFIG_MEDIA_TYPE_PREFIX,
                found: media_type.to_owned(),
            });
        }
        let root = value
            .get_mut("trustedRoot")
            .map(serde_json::Value::take)
            .ok_or_else(|| TrustError::Json {
                origin: origin.to_owned(),
                line: 1,
                column: 1,
                message: "missing field `trustedRoot`".to_owned(),
            })?;
        let canonical = serde_json::to_vec(&root).unwrap_or_default();
        Self::from_value(root, origin, &canonical)
    }

    fn from_value(
        value: serde_json::Value,
        origin: &str,
        bytes: &[u8],
    ) -> Result<Self, TrustError> {
        let media_type = value
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if !media_type.starts_with(TRUSTED_ROOT_MEDIA_TYPE_PREFIX) {
            return Err(TrustError::MediaType {
                origin: origin.to_owned(),
                expected: TRUSTED_ROOT_MEDIA_TYPE_PREFIX,
                found: media_type.to_owned(),
            });
        }
        let root: TrustedRoot = serde_json::from_value(value).map_err(|e| TrustError::Json {
            origin: origin.to_owned(),
            line: 1,
            column: 1,
            message: e.to_string(),
        })?;
        let sha256 = vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, bytes)
            .map(|d| d.hex().to_owned())
            .unwrap_or_default();
        Ok(Self {
            root,
            origin: origin.to_owned(),
            sha256,
        })
    }

    /// The parsed root.
    pub fn root(&self) -> &TrustedRoot {
        &self.root
    }

    /// Where it came from: a path, or `embedded:production` / `embedded:staging`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// SHA-256 of the trusted root document, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// A summary for people: what is trusted, and from when to when.
    pub fn summary(&self) -> TrustSummary {
        let window = |w: Option<sigstore_types::TimeRange>| {
            (
                w.map(|r| r.start.to_string()),
                w.and_then(|r| r.end.map(|e| e.to_string())),
            )
        };
        let logs = |logs: Vec<(&str, &sigstore_trust_root::trusted_root::PublicKey, String)>| {
            logs.into_iter()
                .map(|(url, key, id)| {
                    let (valid_from, valid_until) = window(key.valid_for);
                    Authority {
                        name: url.to_owned(),
                        key_or_chain: key.key_details.to_string(),
                        id: Some(id),
                        valid_from,
                        valid_until,
                    }
                })
                .collect()
        };
        let subject = |s: &sigstore_trust_root::trusted_root::CertificateSubject,
                       uri: Option<&str>| {
            let mut name = [s.organization.as_deref(), s.common_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ");
            if name.is_empty() {
                name = uri.unwrap_or("(unnamed)").to_owned();
            }
            name
        };
        TrustSummary {
            origin: self.origin.clone(),
            sha256: self.sha256.clone(),
            transparency_logs: logs(
                self.root
                    .tlogs
                    .iter()
                    .map(|l| {
                        (
                            l.base_url.as_str(),
                            &l.public_key,
                            vouch_digest::to_hex(l.log_id.key_id.as_bytes()),
                        )
                    })
                    .collect(),
            ),
            ct_logs: logs(
                self.root
                    .ctlogs
                    .iter()
                    .map(|l| {
                        (
                            l.base_url.as_str(),
                            &l.public_key,
                            vouch_digest::to_hex(l.log_id.key_id.as_bytes()),
                        )
                    })
                    .collect(),
            ),
            certificate_authorities: self
                .root
                .certificate_authorities
                .iter()
                .map(|ca| {
                    let (valid_from, valid_until) = window(ca.valid_for);
                    Authority {
                        name: subject(&ca.subject, Some(&ca.uri)),
                        key_or_chain: format!(
                            "{} certificate(s)",
                            ca.cert_chain.certificates.len()
                        ),
                        id: Some(ca.uri.clone()),
                        valid_from,
                        valid_until,
                    }
                })
                .collect(),
            timestamp_authorities: self
                .root
                .timestamp_authorities
                .iter()
                .map(|tsa| {
                    let (valid_from, valid_until) = window(tsa.valid_for);
                    Authority {
                        name: subject(&tsa.subject, tsa.uri.as_deref()),
                        key_or_chain: format!(
                            "{} certificate(s)",
                            tsa.cert_chain.certificates.len()
                        ),
                        id: tsa.uri.clone(),
                        valid_from,
                        valid_until,
                    }
                })
                .collect(),
        }
    }
}

/// What a trusted root trusts, for `vouch trust show`.
#[derive(Debug, Clone, Serialize)]
pub struct TrustSummary {
    /// Where the root came from.
    pub origin: String,
    /// SHA-256 of the root document.
    pub sha256: String,
    /// Rekor logs.
    pub transparency_logs: Vec<Authority>,
    /// Certificate transparency logs.
    pub ct_logs: Vec<Authority>,
    /// Fulcio certificate authorities.
    pub certificate_authorities: Vec<Authority>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<Authority>,
}

/// One trusted log or authority.
#[derive(Debug, Clone, Serialize)]
pub struct Authority {
    /// URL or subject name.
    pub name: String,
    /// The key type, or the length of the certificate chain.
    pub key_or_chain: String,
    /// Log ID (hex) or URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Start of validity, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// End of validity, RFC 3339; absent while still valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

fn check_size(bytes: &[u8], origin: &str) -> Result<(), TrustError> {
    if bytes.len() > MAX_TRUST_BYTES {
        return Err(TrustError::TooLarge {
            origin: origin.to_owned(),
            size: bytes.len(),
            limit: MAX_TRUST_BYTES,
        });
    }
    Ok(())
}

fn parse_json(bytes: &[u8], origin: &str) -> Result<serde_json::Value, TrustError> {
    serde_json::from_slice(bytes).map_err(|e| TrustError::Json {
        origin: origin.to_owned(),
        line: e.line(),
        column: e.column().max(1),
        message: strip_position(&e),
    })
}

/// serde_json appends " at line L column C" to its messages; vouch prints the place first.
pub(crate) fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_owned(),
        None => text,
    }
}

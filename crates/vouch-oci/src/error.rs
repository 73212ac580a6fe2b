//! The registry client's errors. Messages name the operation, the URL (which never carries a
//! credential) and what was expected and found; no variant holds a token or password.

use crate::credentials::CredentialsError;
use crate::model::ManifestError;
use crate::token_auth::IdentityTokenError;

/// A registry operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// An image reference that could not be read.
    #[error("`{reference}` is not an image reference: {reason}")]
    Reference {
        /// What was given.
        reference: String,
        /// Why it was refused.
        reason: String,
    },
    /// A digest that is not `sha256:` followed by 64 lower-case hex digits.
    #[error("`{0}` is not a sha256 digest")]
    InvalidDigest(String),
    /// Credentials could not be found.
    #[error("could not find credentials for `{registry}`")]
    Credentials {
        /// The registry.
        registry: String,
        /// Why.
        #[source]
        source: CredentialsError,
    },
    /// An identity token could not be exchanged for an access token.
    #[error("could not get an access token for `{registry}` with its identity token")]
    IdentityToken {
        /// The registry.
        registry: String,
        /// What went wrong.
        #[source]
        source: IdentityTokenError,
    },
    /// The registry's token service refused us.
    #[error("authentication to `{registry}` failed: {reason}")]
    Auth {
        /// The registry.
        registry: String,
        /// What the token service said.
        reason: String,
    },
    /// The request could not be sent or its answer not read.
    #[error("{method} {url} failed")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// URL (without credentials).
        url: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The registry answered with an unexpected status.
    #[error("{method} {url} answered {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// HTTP method.
        method: &'static str,
        /// URL (without credentials).
        url: String,
        /// HTTP status code.
        status: u16,
        /// The registry's error message, shortened.
        message: String,
    },
    /// Content whose digest is not the one asked for: the registry, or something between us and
    /// it, served other bytes.
    #[error("digest mismatch for {what}: expected {expected}, found {found}")]
    DigestMismatch {
        /// What was fetched (`blob sha256:...`, `manifest registry/repo:tag`).
        what: String,
        /// The digest asked for (or announced).
        expected: String,
        /// The digest of the bytes received.
        found: String,
    },
    /// A blob whose length is not the descriptor's size.
    #[error("size mismatch for blob {digest}: expected {expected} bytes, found {found}")]
    SizeMismatch {
        /// The blob.
        digest: String,
        /// The descriptor's size.
        expected: u64,
        /// Bytes received (at least).
        found: u64,
    },
    /// A document over vouch's limit.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A manifest or index that could not be read.
    #[error("the manifest of `{reference}` is not valid")]
    Manifest {
        /// Where it came from.
        reference: String,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// A manifest where an index was needed, or the other way round.
    #[error("`{reference}` is {found}, expected {expected}")]
    UnexpectedKind {
        /// The reference.
        reference: String,
        /// What was needed.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// No manifest of an index matches the requested platform.
    #[error("`{reference}` has no image for platform {platform}; it has: {}", available.join(", "))]
    NoPlatform {
        /// The index.
        reference: String,
        /// The requested platform.
        platform: String,
        /// The platforms it has.
        available: Vec<String>,
    },
    /// The referrers API's pages could not be followed: a `Link` to another origin, or more
    /// pages than vouch reads.
    #[error("the referrers list of {subject} is not followed further: {reason}")]
    ReferrersPages {
        /// The subject digest.
        subject: String,
        /// Why.
        reason: String,
    },
    /// A JSON document vouch wrote or read could not be (de)serialised.
    #[error("{what} is not valid JSON")]
    Json {
        /// What.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An operation of the `oci-client` crate failed.
    #[error("{operation} failed")]
    Oci {
        /// What was being done.
        operation: String,
        /// Cause.
        #[source]
        source: oci_client::errors::OciDistributionError,
    },
    /// A read-modify-write of a tag (referrers tag schema, cosign `.sig`/`.att`) kept losing to
    /// concurrent writers.
    #[error(
        "could not update tag `{tag}` after {attempts} attempts: other writers kept changing it"
    )]
    ConcurrentUpdate {
        /// The tag.
        tag: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The tag holds something other than what vouch expected there.
    #[error("tag `{tag}` holds {found}, expected {expected}")]
    UnexpectedTagContent {
        /// The tag.
        tag: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// A background task of the blocking bridge ended without an answer.
    #[error("the registry task ended early: {0}")]
    Bridge(String),
    /// A local file could not be read (OCI layouts, see [`crate::layout`]).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl RegistryError {
    /// Whether the registry answered 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::Status { status: 404, .. })
    }

    /// Whether the content failed its digest or size check.
    pub fn is_integrity_failure(&self) -> bool {
        matches!(
            self,
            RegistryError::DigestMismatch { .. } | RegistryError::SizeMismatch { .. }
        )
    }
}

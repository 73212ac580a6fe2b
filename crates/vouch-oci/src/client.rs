//! The registry client: references, authentication, manifests and blobs.
//!
//! Protocol: OCI distribution-spec v1.1,
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md>. The token flow and
//! blob uploads are `oci-client`'s; manifest reads and writes are made here over the same HTTP
//! stack, because vouch needs headers `oci-client` does not expose (`ETag`, `If-Match`,
//! `OCI-Subject`, `Docker-Content-Digest`) and its own digest checks. Identity tokens, which
//! `oci-client`'s token flow cannot send, are exchanged here ([`crate::token_auth`]) and the
//! access token handed to `oci-client` for uploads.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Reference, RegistryOperation};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, HeaderValue};

use crate::credentials::{Credentials, RegistryCredential};
use crate::digest::{Sha256, sha256_digest};
use crate::error::RegistryError;
use crate::model::{
    AnyManifest, Descriptor, Index, MAX_MANIFEST_BYTES, Manifest, Platform, is_valid_digest,
    media_type,
};
use crate::token_auth::{self, Challenged, IdentityTokenError};

/// The manifest media types vouch asks for.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// How a [`Registry`] connects. The CLI fills it from flags and the environment.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Where credentials come from.
    pub credentials: Credentials,
    /// Registries (`host[:port]`) spoken to over plain HTTP (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
    /// Timeout for connecting; none when `None`.
    pub connect_timeout: Option<Duration>,
    /// Timeout for each read from a connection; none when `None`.
    pub read_timeout: Option<Duration>,
}

/// Parses an image reference: `registry.example/app:tag`, `app@sha256:...`,
/// `registry.example:5000/ns/app:tag@sha256:...`. A name without a registry is on Docker Hub
/// (`alpine` is `docker.io/library/alpine`); without a tag or digest it means `:latest`.
pub fn parse_reference(text: &str) -> Result<Reference, RegistryError> {
    let reference: Reference =
        text.parse()
            .map_err(|e: oci_client::ParseError| RegistryError::Reference {
                reference: text.to_owned(),
                reason: e.to_string(),
            })?;
    if let Some(digest) = reference.digest()
        && !is_valid_digest(digest)
    {
        return Err(RegistryError::InvalidDigest(digest.to_owned()));
    }
    if reference.tag().is_none() && reference.digest().is_none() {
        return Ok(Reference::with_tag(
            reference.registry().to_owned(),
            reference.repository().to_owned(),
            "latest".to_owned(),
        ));
    }
    Ok(reference)
}

/// The same repository as `reference`, addressed by `digest`.
pub fn with_digest(reference: &Reference, digest: &str) -> Reference {
    Reference::with_digest(
        reference.registry().to_owned(),
        reference.repository().to_owned(),
        digest.to_owned(),
    )
}

/// The same repository as `reference`, addressed by `tag`.
pub fn with_tag(reference: &Reference, tag: &str) -> Reference {
    Reference::with_tag(
        reference.registry().to_owned(),
        reference.repository().to_owned(),
        tag.to_owned(),
    )
}

/// A manifest or index as the registry served it, its digest checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// `sha256:` of [`Self::bytes`], computed here.
    pub digest: String,
    /// The `Content-Type` the registry sent, else the document's own `mediaType`.
    pub media_type: String,
    /// The bytes, exactly as served.
    pub bytes: Vec<u8>,
    /// The registry's `ETag`, for a conditional update.
    pub etag: Option<String>,
}

impl FetchedManifest {
    /// Reads the bytes as a manifest or index.
    pub fn parse(&self) -> Result<AnyManifest, crate::model::ManifestError> {
        AnyManifest::parse(&self.bytes, Some(&self.media_type))
    }

    /// A descriptor of this manifest, for a `subject` or an index entry.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            urls: Vec::new(),
            annotations: Default::default(),
            platform: None,
            artifact_type: None,
        }
    }
}

/// What a manifest push returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// The digest of the pushed bytes.
    pub digest: String,
    /// The `OCI-Subject` header: set by registries that maintain the referrers index themselves
    /// (<https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-manifests-with-subject>).
    pub oci_subject: Option<String>,
}

/// The result of a conditional manifest push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConditionalPut {
    Done(PushedManifest),
    PreconditionFailed,
}

/// An image resolved to one platform's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The index the reference named, when it named one.
    pub index: Option<FetchedManifest>,
    /// The platform manifest's bytes.
    pub manifest_raw: FetchedManifest,
    /// The platform manifest.
    pub manifest: Manifest,
}

/// Picks the manifest for `platform` from an index. Entries without a platform, and the
/// `unknown/unknown` attestation manifests BuildKit adds, never match.
pub fn select_platform<'a>(index: &'a Index, platform: &Platform) -> Option<&'a Descriptor> {
    index.manifests.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.os != "unknown" && platform.matches(p))
    })
}

/// An authorization header value. `Debug` shows the kind only.
#[derive(Clone)]
enum AuthHeader {
    None,
    Value(HeaderValue),
    /// `Bearer` with an access token vouch got for an identity token. `oci-client` cannot get
    /// one itself, so uploads hand it `token` ([`Registry::push_blob`]).
    Exchanged {
        header: HeaderValue,
        token: String,
    },
}

impl AuthHeader {
    fn header(&self) -> Option<&HeaderValue> {
        match self {
            AuthHeader::None => None,
            AuthHeader::Value(v) | AuthHeader::Exchanged { header: v, .. } => Some(v),
        }
    }
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthHeader::None => f.write_str("None"),
            AuthHeader::Value(_) => f.write_str("Value(<redacted>)"),
            AuthHeader::Exchanged { .. } => f.write_str("Exchanged(<redacted>)"),
        }
    }
}

/// Whether a registry honours `If-Match` on manifest PUTs, learnt on first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CasSupport {
    Unknown,
    Honoured,
    Ignored,
}

/// A client for OCI registries. Cheap to clone; clones share tokens.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    oci: oci_client::Client,
    http: reqwest::Client,
    /// For token services given an identity token: follows no redirect, so the refresh token
    /// reaches the realm the registry named and no other place.
    token_http: reqwest::Client,
    credentials: Credentials,
    insecure: Vec<String>,
    auth: Mutex<HashMap<(String, String, bool), AuthHeader>>,
    cas: Mutex<HashMap<String, CasSupport>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("insecure", &self.inner.insecure)
            .finish_non_exhaustive()
    }
}

type Op = RegistryOperation;

impl Registry {
    /// A client with `options`.
    pub fn new(options: ClientOptions) -> Result<Registry, RegistryError> {
        let protocol = ClientProtocol::HttpsExcept(options.insecure_registries.clone());
        let config = ClientConfig {
            protocol,
            connect_timeout: options.connect_timeout,
            read_timeout: options.read_timeout,
            // Platform choice is vouch's (`select_platform`), never oci-client's default.
            platform_resolver: None,
            ..ClientConfig::default()
        };
        let oci = oci_client::Client::try_from(config).map_err(|source| RegistryError::Oci {
            operation: "creating the registry client".to_owned(),
            source,
        })?;
        let builder = || {
            let mut http =
                reqwest::Client::builder().user_agent(concat!("vouch/", env!("CARGO_PKG_VERSION")));
            if let Some(t) = options.connect_timeout {
                http = http.connect_timeout(t);
            }
            if let Some(t) = options.read_timeout {
                http = http.read_timeout(t);
            }
            http
        };
        let built = |result: reqwest::Result<reqwest::Client>| {
            result.map_err(|source| RegistryError::Transport {
                method: "BUILD",
                url: String::new(),
                source,
            })
        };
        let http = built(builder().build())?;
        let token_http = built(
            builder()
                .redirect(reqwest::redirect::Policy::none())
                .build(),
        )?;
        Ok(Registry {
            inner: Arc::new(Inner {
                oci,
                http,
                token_http,
                credentials: options.credentials,
                insecure: options.insecure_registries,
                auth: Mutex::new(HashMap::new()),
                cas: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Resolves `reference` to the digest of the manifest or index it names. The manifest is
    /// fetched and hashed here; a `Docker-Content-Digest` that disagrees, or a reference digest
    /// the bytes do not have, is [`RegistryError::DigestMismatch`].
    pub async fn resolve(&self, reference: &Reference) -> Result<String, RegistryError> {
        Ok(self.fetch_manifest(reference).await?.digest)
    }

    /// Fetches the manifest or index `reference` names, with its digest checked.
    pub async fn fetch_manifest(
        &self,
        reference: &Reference,
    ) -> Result<FetchedManifest, RegistryError> {
        match self.fetch_manifest_opt(reference).await? {
            Some(found) => Ok(found),
            None => Err(RegistryError::Status {
                method: "GET",
                url: self.manifest_url(reference, manifest_ref(reference)),
                status: 404,
                message: "manifest unknown".to_owned(),
            }),
        }
    }

    /// Like [`Self::fetch_manifest`], with `None` for 404 Not Found.
    pub async fn fetch_manifest_opt(
        &self,
        reference: &Reference,
    ) -> Result<Option<FetchedManifest>, RegistryError> {
        let url = self.manifest_url(reference, manifest_ref(reference));
        let response = self
            .send(reference, Op::Pull, "GET", &url, |c| {
                c.get(&url).header(ACCEPT, MANIFEST_ACCEPT)
            })
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = check_status(response, "GET", &url, &[StatusCode::OK]).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(CONTENT_TYPE.as_str());
        let announced = header("docker-content-digest");
        let etag = header(ETAG.as_str());
        let bytes = read_limited(response, "GET", &url, MAX_MANIFEST_BYTES as u64).await?;
        let digest = sha256_digest(&bytes);
        let what = format!("manifest {reference}");
        if let Some(expected) = reference.digest()
            && expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: expected.to_owned(),
                found: digest,
            });
        }
        if let Some(announced) = announced.filter(|d| d.starts_with("sha256:"))
            && announced != digest
        {
            return Err(RegistryError::DigestMismatch {
                what,
                expected: announced,
                found: digest,
            });
        }
        let media_type = content_type
            .map(|c| c.split(';').next().unwrap_or_default().trim().to_owned())
            .filter(|c| !c.is_empty() && c != "application/json")
            .or_else(|| declared_media_type(&bytes))
            .unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned());
        Ok(Some(FetchedManifest {
            digest,
            media_type,
            bytes,
            etag,
        }))
    }

    /// Resolves `reference` to one image manifest: an index is narrowed to `platform` (the
    /// host's when `None`).
    pub async fn resolve_image(
        &self,
        reference: &Reference,
        platform: Option<&Platform>,
    ) -> Result<ResolvedImage, RegistryError> {
        let top = self.fetch_manifest(reference).await?;
        let parsed = top.parse().map_err(|source| RegistryError::Manifest {
            reference: reference.to_string(),
            source,
        })?;
        match parsed {
            AnyManifest::Manifest(manifest) => Ok(ResolvedImage {
                index: None,
                manifest_raw: top,
                manifest,
            }),
            AnyManifest::Index(index) => {
                let wanted = platform.cloned().unwrap_or_else(Platform::host);
                let Some(entry) = select_platform(&index, &wanted) else {
                    return Err(RegistryError::NoPlatform {
                        reference: reference.to_string(),
                        platform: wanted.to_string(),
                        available: index
                            .manifests
                            .iter()
                            .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                            .collect(),
                    });
                };
                let child_ref = with_digest(reference, &entry.digest);
                let child = self.fetch_manifest(&child_ref).await?;
                match child.parse() {
                    Ok(AnyManifest::Manifest(manifest)) => Ok(ResolvedImage {
                        index: Some(top),
                        manifest_raw: child,
                        manifest,
                    }),
                    Ok(AnyManifest::Index(_)) => Err(RegistryError::UnexpectedKind {
                        reference: child_ref.to_string(),
                        expected: "an image manifest",
                        found: "an index",
                    }),
                    Err(source) => Err(RegistryError::Manifest {
                        reference: child_ref.to_string(),
                        source,
                    }),
                }
            }
        }
    }

    /// Opens the blob `descriptor` names in `reference`'s repository, as a stream whose digest
    /// and size are checked as it is read: the last read fails when either is wrong.
    pub async fn open_blob(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
    ) -> Result<BlobStream, RegistryError> {
        if !descriptor.digest.starts_with("sha256:") || !is_valid_digest(&descriptor.digest) {
            return Err(RegistryError::InvalidDigest(descriptor.digest.clone()));
        }
        let url = self.blob_url(reference, &descriptor.digest);
        let response = self
            .send(reference, Op::Pull, "GET", &url, |c| c.get(&url))
            .await?;
        let response = check_status(response, "GET", &url, &[StatusCode::OK]).await?;
        Ok(BlobStream {
            response,
            hasher: Some(Sha256::new()),
            digest: descriptor.digest.clone(),
            size: descriptor.size,
            seen: 0,
        })
    }

    /// Fetches a whole blob into memory, checked; refused when the descriptor says it is larger
    /// than `limit`.
    pub async fn fetch_blob(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        if descriptor.size > limit {
            return Err(RegistryError::TooLarge {
                what: format!("blob {}", descriptor.digest),
                limit,
            });
        }
        let mut stream = self.open_blob(reference, descriptor).await?;
        let mut out = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
        while let Some(chunk) = stream.next_chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Whether the repository has the blob.
    pub async fn blob_exists(
        &self,
        reference: &Reference,
        digest: &str,
    ) -> Result<bool, RegistryError> {
        let url = self.blob_url(reference, digest);
        let response = self
            .send(reference, Op::Pull, "HEAD", &url, |c| c.head(&url))
            .await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => check_status(response, "HEAD", &url, &[])
                .await
                .map(|_| false),
        }
    }

    /// Pushes a blob (skipped when the repository has it) and returns its descriptor.
    pub async fn push_blob(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Descriptor, RegistryError> {
        let digest = sha256_digest(&bytes);
        let descriptor = Descriptor {
            media_type: media_type.to_owned(),
            digest: digest.clone(),
            size: bytes.len() as u64,
            urls: Vec::new(),
            annotations: Default::default(),
            platform: None,
            artifact_type: None,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.push_blob_once(reference, &digest, &bytes).await {
                Ok(()) => return Ok(descriptor),
                Err(e) if attempt < TRANSIENT_ATTEMPTS && is_transient(&e) => {
                    backoff(attempt).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn push_blob_once(
        &self,
        reference: &Reference,
        digest: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        if self.blob_exists(reference, digest).await? {
            return Ok(());
        }
        // oci-client uploads with the token `authorize` left in its cache. An access token for
        // an identity token is vouch's: it is handed over before every upload, because
        // oci-client, holding no credential it can exchange, could not replace it once its cache
        // let it go. A token given this way costs oci-client no request.
        if let AuthHeader::Exchanged { token, .. } =
            self.authorize(reference, Op::Push, false).await?
        {
            self.inner
                .oci
                .auth(reference, &RegistryAuth::Bearer(token), Op::Push)
                .await
                .map_err(|e| RegistryError::Auth {
                    registry: reference.resolve_registry().to_owned(),
                    reason: auth_reason(&e),
                })?;
        }
        self.inner
            .oci
            .push_blob(reference, bytes.to_vec(), digest)
            .await
            .map_err(|source| RegistryError::Oci {
                operation: format!("uploading blob {digest} to {reference}"),
                source,
            })?;
        Ok(())
    }

    /// Pushes a manifest or index at `reference` (its tag, else its digest) and checks that the
    /// registry stored the digest of the bytes sent.
    pub async fn push_manifest(
        &self,
        reference: &Reference,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> Result<PushedManifest, RegistryError> {
        match self
            .put_manifest(reference, manifest_ref(reference), bytes, media_type, None)
            .await?
        {
            ConditionalPut::Done(pushed) => Ok(pushed),
            ConditionalPut::PreconditionFailed => Err(RegistryError::Status {
                method: "PUT",
                url: self.manifest_url(reference, manifest_ref(reference)),
                status: 412,
                message: String::new(),
            }),
        }
    }

    /// The OCI 1.1 referrers API for `subject`: `Some(index)` when the registry implements it,
    /// `None` when it answers 404 (it does not; use the referrers tag schema).
    ///
    /// Specification: <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers>.
    pub async fn referrers_api(
        &self,
        reference: &Reference,
        subject: &str,
    ) -> Result<Option<Index>, RegistryError> {
        if !is_valid_digest(subject) {
            return Err(RegistryError::InvalidDigest(subject.to_owned()));
        }
        let origin = self.base_url(reference);
        let mut url = format!("{origin}/v2/{}/referrers/{subject}", reference.repository());
        let mut index: Option<Index> = None;
        // A registry may split the list into pages, each naming the next in a `Link` header
        // (distribution-spec: "Listing Referrers"); they are read up to a bound, and only from
        // the registry's own origin, which the request's credentials are for.
        for page in 1..=MAX_REFERRER_PAGES {
            let response = self
                .send(reference, Op::Pull, "GET", &url, |c| {
                    c.get(&url).header(ACCEPT, media_type::OCI_INDEX)
                })
                .await?;
            if page == 1 && response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let response = check_status(response, "GET", &url, &[StatusCode::OK]).await?;
            let next = response
                .headers()
                .get_all(reqwest::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link)
                .map(|link| same_origin(&origin, link))
                .transpose()
                .map_err(|reason| RegistryError::ReferrersPages {
                    subject: subject.to_owned(),
                    reason,
                })?;
            let bytes = read_limited(response, "GET", &url, MAX_MANIFEST_BYTES as u64).await?;
            let part: Index =
                serde_json::from_slice(&bytes).map_err(|source| RegistryError::Json {
                    what: format!("page {page} of the referrers index of {subject}"),
                    source,
                })?;
            match &mut index {
                None => index = Some(part),
                Some(index) => index.manifests.extend(part.manifests),
            }
            match next {
                Some(next) => url = next,
                None => return Ok(index),
            }
        }
        Err(RegistryError::ReferrersPages {
            subject: subject.to_owned(),
            reason: format!("the registry names more than {MAX_REFERRER_PAGES} pages"),
        })
    }

    // ---- crate-internal helpers -------------------------------------------------------------

    pub(crate) async fn put_manifest(
        &self,
        reference: &Reference,
        target: &str,
        bytes: Vec<u8>,
        media_type: &str,
        if_match: Option<&str>,
    ) -> Result<ConditionalPut, RegistryError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .put_manifest_once(reference, target, bytes.clone(), media_type, if_match)
                .await
            {
                Err(e) if attempt < TRANSIENT_ATTEMPTS && is_transient_manifest_put(&e) => {
                    backoff(attempt).await;
                }
                other => return other,
            }
        }
    }

    async fn put_manifest_once(
        &self,
        reference: &Reference,
        target: &str,
        bytes: Vec<u8>,
        media_type: &str,
        if_match: Option<&str>,
    ) -> Result<ConditionalPut, RegistryError> {
        let url = self.manifest_url(reference, target);
        let digest = sha256_digest(&bytes);
        let content_type = media_type.to_owned();
        let response = self
            .send(reference, Op::Push, "PUT", &url, |c| {
                let mut request = c
                    .put(&url)
                    .header(CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
                if let Some(etag) = if_match {
                    request = request.header("If-Match", etag);
                }
                request
            })
            .await?;
        if response.status() == StatusCode::PRECONDITION_FAILED {
            return Ok(ConditionalPut::PreconditionFailed);
        }
        let response = check_status(
            response,
            "PUT",
            &url,
            &[StatusCode::CREATED, StatusCode::OK, StatusCode::ACCEPTED],
        )
        .await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(stored) = header("docker-content-digest").filter(|d| d.starts_with("sha256:"))
            && stored != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest pushed to {url}"),
                expected: digest,
                found: stored,
            });
        }
        Ok(ConditionalPut::Done(PushedManifest {
            digest,
            oci_subject: header("oci-subject"),
        }))
    }

    pub(crate) fn cas_support(&self, reference: &Reference) -> CasSupport {
        self.inner
            .cas
            .lock()
            .map(|m| {
                m.get(reference.resolve_registry())
                    .copied()
                    .unwrap_or(CasSupport::Unknown)
            })
            .unwrap_or(CasSupport::Unknown)
    }

    /// Whether the registry of `reference` was found to honour `If-Match` on manifest PUTs
    /// (`None` until a tag update has found out). For tests and diagnostics.
    #[doc(hidden)]
    pub fn honours_if_match(&self, reference: &Reference) -> Option<bool> {
        match self.cas_support(reference) {
            CasSupport::Unknown => None,
            CasSupport::Honoured => Some(true),
            CasSupport::Ignored => Some(false),
        }
    }

    pub(crate) fn set_cas_support(&self, reference: &Reference, support: CasSupport) {
        if let Ok(mut m) = self.inner.cas.lock() {
            m.insert(reference.resolve_registry().to_owned(), support);
        }
    }

    fn is_insecure(&self, reference: &Reference) -> bool {
        let host = reference.resolve_registry();
        self.inner.insecure.iter().any(|h| h == host)
    }

    fn base_url(&self, reference: &Reference) -> String {
        let scheme = if self.is_insecure(reference) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", reference.resolve_registry())
    }

    fn manifest_url(&self, reference: &Reference, target: &str) -> String {
        format!(
            "{}/v2/{}/manifests/{target}",
            self.base_url(reference),
            reference.repository()
        )
    }

    fn blob_url(&self, reference: &Reference, digest: &str) -> String {
        format!(
            "{}/v2/{}/blobs/{digest}",
            self.base_url(reference),
            reference.repository()
        )
    }

    /// The authorization for `op` on `reference`'s repository, from the cache or the registry's
    /// token flow (run by `oci-client`).
    async fn authorize(
        &self,
        reference: &Reference,
        op: Op,
        refresh: bool,
    ) -> Result<AuthHeader, RegistryError> {
        let registry = reference.resolve_registry().to_owned();
        let key = (
            registry.clone(),
            reference.repository().to_owned(),
            op == Op::Push,
        );
        if !refresh
            && let Some(found) = self
                .inner
                .auth
                .lock()
                .ok()
                .and_then(|m| m.get(&key).cloned())
        {
            return Ok(found);
        }
        let credential = self
            .inner
            .credentials
            .resolve(reference.registry())
            .map_err(|source| RegistryError::Credentials {
                registry: registry.clone(),
                source,
            })?;
        if let RegistryCredential::IdentityToken { token } = &credential {
            let header = self.exchange_identity_token(reference, op, token).await?;
            if let Ok(mut m) = self.inner.auth.lock() {
                m.insert(key, header.clone());
            }
            return Ok(header);
        }
        // Every other kind has an `oci-client` form.
        let oci_auth = credential.to_oci().unwrap_or(RegistryAuth::Anonymous);
        let token = self
            .inner
            .oci
            .auth(reference, &oci_auth, op)
            .await
            .map_err(|e| RegistryError::Auth {
                registry: registry.clone(),
                reason: auth_reason(&e),
            })?;
        let header = match (token, &credential) {
            (Some(token), _) => HeaderValue::from_str(&format!("Bearer {token}"))
                .map(|mut v| {
                    v.set_sensitive(true);
                    AuthHeader::Value(v)
                })
                .unwrap_or(AuthHeader::None),
            (None, RegistryCredential::Basic { username, password }) => {
                use base64::Engine;
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map(|mut v| {
                        v.set_sensitive(true);
                        AuthHeader::Value(v)
                    })
                    .unwrap_or(AuthHeader::None)
            }
            (None, _) => AuthHeader::None,
        };
        if let Ok(mut m) = self.inner.auth.lock() {
            m.insert(key, header.clone());
        }
        Ok(header)
    }

    /// An access token for `op` on `reference`'s repository, for the identity token `token`:
    /// the registry's challenge names its token service, which is asked for the scope `op`
    /// needs (distribution's OAuth2 token flow, see [`crate::token_auth`]).
    async fn exchange_identity_token(
        &self,
        reference: &Reference,
        op: Op,
        token: &str,
    ) -> Result<AuthHeader, RegistryError> {
        let registry = reference.resolve_registry().to_owned();
        let failed = |source: IdentityTokenError| RegistryError::IdentityToken {
            registry: registry.clone(),
            source,
        };
        let url = format!("{}/v2/", self.base_url(reference));
        let response =
            self.inner
                .http
                .get(&url)
                .send()
                .await
                .map_err(|source| RegistryError::Transport {
                    method: "GET",
                    url: url.clone(),
                    source: source.without_url(),
                })?;
        if response.status().is_success() {
            // The registry asks for no credentials: none are sent, as `oci-client` does for
            // the other kinds.
            return Ok(AuthHeader::None);
        }
        let response = check_status(response, "GET", &url, &[StatusCode::UNAUTHORIZED]).await?;
        let challenged = token_auth::challenge(
            response
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let challenge = match challenged {
            Challenged::Bearer(challenge) => challenge,
            Challenged::Other(scheme) => {
                return Err(failed(IdentityTokenError::NotTokenAuth {
                    found: scheme.map_or_else(|| "none".to_owned(), |s| format!("`{s}`")),
                }));
            }
        };
        let realm = token_auth::check_realm(&challenge.realm, self.is_insecure(reference))
            .map_err(failed)?;
        let scope = token_auth::repository_scope(reference.repository(), op == Op::Push);
        let access = token_auth::exchange(
            &self.inner.token_http,
            &realm,
            challenge.service.as_deref(),
            &scope,
            token,
        )
        .await
        .map_err(failed)?;
        let mut header = HeaderValue::from_str(&format!("Bearer {access}")).map_err(|_| {
            failed(IdentityTokenError::BadAnswer {
                realm: realm.to_string(),
            })
        })?;
        header.set_sensitive(true);
        Ok(AuthHeader::Exchanged {
            header,
            token: access,
        })
    }

    /// Sends a request with authorization; on 401 the token is fetched anew once (tokens expire).
    async fn send(
        &self,
        reference: &Reference,
        op: Op,
        method: &'static str,
        url: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut refresh = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let auth = self.authorize(reference, op, refresh).await?;
            let mut request = build(&self.inner.http);
            if let Some(v) = auth.header() {
                request = request.header(AUTHORIZATION, v.clone());
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(_) if attempt < TRANSIENT_ATTEMPTS => {
                    backoff(attempt).await;
                    continue;
                }
                Err(source) => {
                    return Err(RegistryError::Transport {
                        method,
                        url: url.to_owned(),
                        source: source.without_url(),
                    });
                }
            };
            if response.status() == StatusCode::UNAUTHORIZED && !refresh {
                refresh = true;
                continue;
            }
            if response.status().is_server_error() && attempt < TRANSIENT_ATTEMPTS {
                backoff(attempt).await;
                continue;
            }
            return Ok(response);
        }
    }
}

/// A blob being downloaded, checked against its descriptor as it is read.
pub struct BlobStream {
    response: reqwest::Response,
    hasher: Option<Sha256>,
    digest: String,
    size: u64,
    seen: u64,
}

impl fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStream")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("seen", &self.seen)
            .finish()
    }
}

impl BlobStream {
    /// The next chunk; `Ok(None)` at the end of a blob whose size and digest were right. A blob
    /// longer than its descriptor fails as soon as the excess arrives; a wrong digest or a short
    /// blob fails in place of the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, RegistryError> {
        let Some(hasher) = self.hasher.as_mut() else {
            return Ok(None);
        };
        let chunk = self
            .response
            .chunk()
            .await
            .map_err(|source| RegistryError::Transport {
                method: "GET",
                url: format!("blob {}", self.digest),
                source: source.without_url(),
            })?;
        match chunk {
            Some(chunk) => {
                self.seen += chunk.len() as u64;
                if self.seen > self.size {
                    self.hasher = None;
                    return Err(RegistryError::SizeMismatch {
                        digest: self.digest.clone(),
                        expected: self.size,
                        found: self.seen,
                    });
                }
                hasher.update(&chunk);
                Ok(Some(chunk.to_vec()))
            }
            None => {
                let Some(hasher) = self.hasher.take() else {
                    return Ok(None);
                };
                if self.seen != self.size {
                    return Err(RegistryError::SizeMismatch {
                        digest: self.digest.clone(),
                        expected: self.size,
                        found: self.seen,
                    });
                }
                let found = hasher.finish();
                if found != self.digest {
                    return Err(RegistryError::DigestMismatch {
                        what: format!("blob {}", self.digest),
                        expected: self.digest.clone(),
                        found,
                    });
                }
                Ok(None)
            }
        }
    }
}

/// Tries of a request that failed in a way a retry can fix: the registry's 5xx, a dropped
/// connection. Every request vouch retries is idempotent (content-addressed blobs, manifests
/// PUT with the same bytes, reads).
const TRANSIENT_ATTEMPTS: u32 = 4;

/// Pages of the referrers API read for one subject: each is read up to the manifest size limit
/// (4 MiB), so a subject's list takes at most 64 MiB.
const MAX_REFERRER_PAGES: usize = 16;

/// The target of the `rel="next"` link of a `Link` header value (RFC 8288), if it has one.
fn next_link(header: &str) -> Option<&str> {
    // Links are `<target>; param; param`, separated by commas; a target may contain neither
    // `>` nor, in practice, a comma.
    header.split(',').find_map(|link| {
        let link = link.trim();
        let rest = link.strip_prefix('<')?;
        let (target, params) = rest.split_once('>')?;
        let is_next = params.split(';').any(|p| {
            let Some((name, value)) = p.trim().split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        is_next.then_some(target)
    })
}

/// `link` resolved against `origin` (`scheme://host[:port]`): a path, or an absolute URL of the
/// same origin. A link to any other origin is refused: the registry's credentials would go
/// there.
fn same_origin(origin: &str, link: &str) -> Result<String, String> {
    if link.starts_with('/') && !link.starts_with("//") {
        return Ok(format!("{origin}{link}"));
    }
    match link.strip_prefix(origin) {
        Some(rest) if rest.starts_with('/') => Ok(link.to_owned()),
        _ => Err(format!(
            "the next page is at `{link}`, outside the registry's origin `{origin}`"
        )),
    }
}

async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
}

fn is_transient(error: &RegistryError) -> bool {
    match error {
        RegistryError::Status { status, .. } => *status >= 500,
        RegistryError::Transport { .. } | RegistryError::Oci { .. } => true,
        _ => false,
    }
}

/// A manifest PUT can also fail because a blob it references, pushed a moment ago, is not yet
/// visible: distribution 2.8's filesystem driver under concurrent uploads of the same blob,
/// registries on eventually consistent object stores.
fn is_transient_manifest_put(error: &RegistryError) -> bool {
    match error {
        RegistryError::Status {
            status: 400,
            message,
            ..
        } => {
            message.starts_with("DIGEST_INVALID")
                || message.starts_with("MANIFEST_BLOB_UNKNOWN")
                || message.starts_with("BLOB_UNKNOWN")
        }
        other => is_transient(other),
    }
}

fn manifest_ref(reference: &Reference) -> &str {
    reference.digest().or(reference.tag()).unwrap_or("latest")
}

fn declared_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Probe>(bytes).ok()?.media_type
}

fn auth_reason(error: &oci_client::errors::OciDistributionError) -> String {
    let text = error.to_string();
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Reads a body of at most `limit` bytes.
async fn read_limited(
    mut response: reqwest::Response,
    method: &'static str,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|l| l > limit) {
        return Err(RegistryError::TooLarge {
            what: url.to_owned(),
            limit,
        });
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| RegistryError::Transport {
            method,
            url: url.to_owned(),
            source: source.without_url(),
        })?
    {
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(RegistryError::TooLarge {
                what: url.to_owned(),
                limit,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Passes responses with an accepted status; turns the others into [`RegistryError::Status`]
/// with the registry's error message.
pub(crate) async fn check_status(
    response: reqwest::Response,
    method: &'static str,
    url: &str,
    accepted: &[StatusCode],
) -> Result<reqwest::Response, RegistryError> {
    if accepted.contains(&response.status()) {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = read_limited(response, method, url, 64 * 1024)
        .await
        .unwrap_or_default();
    Err(RegistryError::Status {
        method,
        url: url.to_owned(),
        status,
        message: error_message(&body),
    })
}

/// The first error of a distribution-spec error body, or the start of the body.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<Errors>(body)
        && let Some(first) = parsed.errors.first()
    {
        return format!("{} {}", first.code, first.message)
            .trim()
            .to_owned();
    }
    String::from_utf8_lossy(body)
        .chars()
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_links_and_parameters() {
        assert_eq!(
            next_link(r#"</v2/app/referrers/sha256:aa?n=2&last=x>; rel="next""#),
            Some("/v2/app/referrers/sha256:aa?n=2&last=x")
        );
        assert_eq!(
            next_link(r#"<https://r.example/a>; rel="prev", <https://r.example/b>; rel=next"#),
            Some("https://r.example/b")
        );
        assert_eq!(
            next_link(r#"<https://r.example/b>; title="x"; REL="last next""#),
            Some("https://r.example/b")
        );
        assert_eq!(next_link(r#"<https://r.example/a>; rel="prev""#), None);
        assert_eq!(next_link("rel=next"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn only_links_of_the_registry_s_origin_are_followed() {
        let origin = "http://127.0.0.1:5000";
        assert_eq!(
            same_origin(origin, "/v2/app/referrers/sha256:aa?last=x").unwrap(),
            "http://127.0.0.1:5000/v2/app/referrers/sha256:aa?last=x"
        );
        assert_eq!(
            same_origin(origin, "http://127.0.0.1:5000/v2/x").unwrap(),
            "http://127.0.0.1:5000/v2/x"
        );
        for other in [
            "http://127.0.0.1:50000/v2/x",
            "http://127.0.0.1:5000.evil.example/v2/x",
            "https://127.0.0.1:5000/v2/x",
            "//evil.example/v2/x",
            "v2/relative",
            "http://evil.example/v2/x",
        ] {
            assert!(same_origin(origin, other).is_err(), "{other}");
        }
    }

    #[test]
    fn references_and_docker_hub_defaults() {
        let r = parse_reference("alpine").unwrap();
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.resolve_registry(), "index.docker.io");
        assert_eq!(r.repository(), "library/alpine");
        assert_eq!(r.tag(), Some("latest"));
        let r = parse_reference("registry.example:5000/ns/app:1.0").unwrap();
        assert_eq!(r.registry(), "registry.example:5000");
        assert_eq!(r.repository(), "ns/app");
        assert_eq!(r.tag(), Some("1.0"));
        let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let r = parse_reference(&format!("registry.example/app@{d}")).unwrap();
        assert_eq!(r.digest(), Some(d));
        assert!(parse_reference("Registry.example/App:x").is_err());
    }

    #[test]
    fn platform_selection_skips_attestation_entries() {
        let index: Index = serde_json::from_str(
            r#"{"schemaVersion":2,"manifests":[
            {"mediaType":"m","digest":"sha256:aa","size":1,"platform":{"os":"unknown","architecture":"unknown"}},
            {"mediaType":"m","digest":"sha256:bb","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
            {"mediaType":"m","digest":"sha256:cc","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}"#,
        )
        .unwrap();
        let arm = Platform::parse("linux/arm64").unwrap();
        assert_eq!(select_platform(&index, &arm).unwrap().digest, "sha256:bb");
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(select_platform(&index, &amd).unwrap().digest, "sha256:cc");
        assert!(select_platform(&index, &Platform::parse("linux/s390x").unwrap()).is_none());
    }
}

//! OCI images and registries for vouch.
//!
//! - [`model`]: the OCI image specification's manifest, index, descriptor, platform and
//!   configuration types (<https://github.com/opencontainers/image-spec>), shared by the image
//!   reader (`vouch-image`) and the registry client here.
//! - [`client`]: the registry client over `oci-client`: references, credentials, tag to digest
//!   resolution with digest checks, manifests, streamed and verified blobs, pushes.
//! - [`blocking`]: the same for synchronous callers (the image scanner's threads).
//! - [`attach`]: Sigstore bundles as OCI 1.1 referrers, with the referrers tag schema kept up to
//!   date on registries without the referrers API, and cosign's legacy `.sig`/`.att` tags.
//! - [`discover`]: what is attached to an image, over all three layouts.
//! - [`layout`]: pushing an OCI image layout directory to a registry.
//! - [`token_auth`]: identity tokens (OAuth2 refresh tokens) exchanged for access tokens.
//!
//! Specifications: OCI distribution-spec v1.1
//! (<https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md>), in particular
//! [listing referrers](https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers)
//! and the [referrers tag schema](https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema);
//! cosign's bundle specification (<https://github.com/sigstore/cosign/blob/main/specs/BUNDLE_SPEC.md>)
//! and signature specification (<https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md>).
//!
//! Nothing here reads environment variables: the CLI passes credentials' sources and
//! `--insecure-registry` hosts in [`ClientOptions`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attach;
pub mod blocking;
pub mod client;
pub mod credentials;
pub mod digest;
pub mod discover;
pub mod error;
pub mod layout;
pub mod model;
#[doc(hidden)]
pub mod testing;
pub mod token_auth;

pub use client::{
    BlobStream, ClientOptions, FetchedManifest, PushedManifest, Registry, ResolvedImage,
    parse_reference, select_platform,
};
pub use credentials::{Credentials, CredentialsError, RegistryCredential};
pub use error::RegistryError;
pub use oci_client::Reference;
pub use token_auth::IdentityTokenError;

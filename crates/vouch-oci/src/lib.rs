//! OCI images and registries for vouch.
//!
//! [`model`] holds the OCI image specification's manifest, index, descriptor, platform and
//! configuration types (<https://github.com/opencontainers/image-spec>), shared by the image
//! reader (`vouch-image`) and the registry client here.

#![forbid(unsafe_code)]

pub mod model;

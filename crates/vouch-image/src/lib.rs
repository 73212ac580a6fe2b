//! Container image SBOMs: image sources, a streaming layer squash, and catalogers that find OS
//! and language packages in the final file set, producing the same [`vouch_inventory`] model as
//! the lockfile parsers.

#![forbid(unsafe_code)]

pub mod catalog;

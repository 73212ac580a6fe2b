//! Catalogers: each finds one kind of package record in an image's files.
//!
//! The layer reader streams every layer's tar entries once, in order. For each regular file it
//! asks every cataloger whether it [`Cataloger::wants`] the file (from the path, size and mode
//! alone), and hands the file's content as a stream to those that do. What a cataloger finds
//! is kept per layer (and cached by layer digest); after the last layer, findings from files
//! that a later layer deleted or replaced are dropped, so the SBOM describes the final file
//! set only.
//!
//! Contract for catalogers:
//! - Never panic and never trust sizes or counts inside the file; cap what is read (see
//!   [`read_to_limit`]) and return [`CatalogError`] for a malformed record, naming the place.
//! - Record evidence with `Package::found_in(file.path_display(), line)`; the driver adds the
//!   layer digest.
//! - OS packages (dpkg, apk, rpm) leave `purl` empty and put the facts the purl needs into
//!   properties ([`props`]): the driver builds their purls after the squash, when the OS
//!   identity (`os-release`, possibly from another layer) is known.

use std::io::Read;

use vouch_inventory::Package;

/// Property names catalogers use for facts that the driver turns into purls and SBOM fields.
pub mod props {
    /// CPU architecture of an OS package, as the package manager spells it (`amd64`, `x86_64`).
    pub const ARCH: &str = "vouch:arch";
    /// RPM or dpkg epoch, when not zero/absent.
    pub const EPOCH: &str = "vouch:epoch";
    /// The source package an OS binary package was built from.
    pub const UPSTREAM: &str = "vouch:upstream";
    /// The cataloger that found a package.
    pub const CATALOGER: &str = "vouch:cataloger";
    /// The layer a package's record was found in (set by the driver).
    pub const LAYER: &str = "vouch:layer-digest";
}

/// A file in an image layer (or an unpacked root filesystem), as a cataloger sees it.
#[derive(Debug, Clone, Copy)]
pub struct FileInfo<'a> {
    /// The path inside the image, normalised: relative to `/`, no leading `/`, no `.` or `..`
    /// components, `/` separators (`var/lib/dpkg/status`).
    pub path: &'a str,
    /// Size in bytes, as the tar header states it.
    pub size: u64,
    /// Unix permission bits.
    pub mode: u32,
}

impl FileInfo<'_> {
    /// The path as it is shown to users and recorded as evidence: absolute (`/var/lib/dpkg/status`).
    pub fn path_display(&self) -> String {
        format!("/{}", self.path)
    }

    /// The last path component.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    /// Whether any execute bit is set.
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// What a cataloger found in one file.
#[derive(Debug, Default)]
pub struct Findings {
    /// Packages, with evidence.
    pub packages: Vec<Package>,
    /// The operating system's identity, from `os-release`.
    pub os: Option<OsRelease>,
    /// Things worth telling the user that are not errors (a record skipped, a limit reached).
    pub warnings: Vec<String>,
    /// Dependency edges between `packages`, by index: (dependent, dependency). A package that
    /// no other package of the same file depends on hangs from the image.
    pub edges: Vec<(usize, usize)>,
}

/// The fields of `os-release(5)` that an SBOM records and OS package purls need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OsRelease {
    /// `ID` (`debian`, `alpine`, `fedora`).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.20.3`).
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`).
    pub version_codename: Option<String>,
    /// `ID_LIKE`, split on spaces.
    pub id_like: Vec<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// `NAME`.
    pub name: Option<String>,
}

/// A file a cataloger could not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file is larger than the cataloger reads.
    #[error("{path}: {size} bytes is more than the {limit} bytes this cataloger reads")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The cataloger's limit.
        limit: u64,
    },
    /// The file's content is not what its format requires.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed {
        /// The file.
        path: String,
        /// 1-based line, where the format has lines.
        line: Option<u32>,
        /// What was wrong.
        message: String,
    },
    /// Reading the layer stream failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// One kind of package record.
pub trait Cataloger: Send + Sync {
    /// A short stable name (`dpkg`, `go-binary`), recorded in the `vouch:cataloger` property.
    fn name(&self) -> &'static str;

    /// Whether this cataloger reads `file`, decided from its path, size and mode only.
    fn wants(&self, file: &FileInfo<'_>) -> bool;

    /// Reads the file's content (a stream of exactly `file.size` bytes, which the cataloger
    /// need not exhaust) and adds what it finds to `out`.
    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError>;
}

/// Reads all of `content` into memory if `file.size` is at most `limit` bytes, and refuses
/// otherwise (also when the stream turns out longer than the header said).
pub fn read_to_limit(
    file: &FileInfo<'_>,
    content: &mut dyn Read,
    limit: u64,
) -> Result<Vec<u8>, CatalogError> {
    if file.size > limit {
        return Err(CatalogError::TooLarge {
            path: file.path_display(),
            size: file.size,
            limit,
        });
    }
    let mut buf = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
    content
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|source| CatalogError::Io {
            path: file.path_display(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(CatalogError::TooLarge {
            path: file.path_display(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}

pub mod apk;
pub mod auditable;
mod bytes;
pub mod composer;
pub mod dotnet;
pub mod dpkg;
mod front_sections;
pub mod gem;
pub mod gobin;
pub mod java;
pub mod lockfiles;
pub mod npm;
pub mod osrelease;
pub mod python;
pub mod rpm;

/// Every cataloger vouch runs over an image, in a stable order.
pub fn all() -> Vec<Box<dyn Cataloger>> {
    let mut all: Vec<Box<dyn Cataloger>> = Vec::new();
    all.extend(osrelease::catalogers());
    all.extend(dpkg::catalogers());
    all.extend(apk::catalogers());
    all.extend(python::catalogers());
    all.extend(npm::catalogers());
    all.extend(lockfiles::catalogers());
    all.extend(gobin::catalogers());
    all.extend(auditable::catalogers());
    all.extend(java::catalogers());
    all.extend(rpm::catalogers());
    all.extend(gem::catalogers());
    all.extend(composer::catalogers());
    all.extend(dotnet::catalogers());
    all
}

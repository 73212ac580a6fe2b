//! SBOM encoders, decoders and the `sbom check` validator.
//!
//! [`encode`] turns a neutral [`Inventory`] into one of three documents:
//!
//! - CycloneDX 1.6 (or 1.5) JSON, <https://cyclonedx.org/docs/1.6/json/>;
//! - SPDX 2.3 JSON, <https://spdx.github.io/spdx-spec/v2.3/>;
//! - SPDX 3.0.1 JSON-LD, <https://spdx.github.io/spdx-spec/v3.0.1/>.
//!
//! Output is deterministic: the same inventory, subject and options give byte-identical
//! documents. Identifiers that must be unique per document (the CycloneDX serial number, the
//! SPDX document namespace) are a UUID derived from the SHA-256 of the document itself encoded
//! without its timestamp, so re-running at another time gives the same identifier and a change
//! of content gives a new one. Callers who want a random identifier pass it in [`Options`].
//!
//! [`check`] reads a document of any of the three formats, validates it against the official
//! JSON schema (when given a directory that holds them) and reports the NTIA minimum elements
//! it lacks. [`decode_summary`] reads back the packages and dependency edges of a document, so
//! that the three encodings of one inventory can be compared.
//!
//! The only I/O in this crate is reading schema files from the directory passed to
//! [`check::check`]; nothing reads the clock, the environment or the network.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
mod cyclonedx;
mod decode;
mod json;
mod json_out;
mod model;
mod spdx2;
mod spdx3;

use std::fmt;

pub use decode::{DecodeError, Summary, decode_summary};
use vouch_inventory::Inventory;

/// The document format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// CycloneDX JSON of the given specification version.
    CycloneDxJson(CdxVersion),
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// SPDX 3.0.1 JSON-LD.
    Spdx3Json,
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SbomFormat::CycloneDxJson(v) => write!(f, "CycloneDX {v} JSON"),
            SbomFormat::SpdxJson => f.write_str("SPDX 2.3 JSON"),
            SbomFormat::Spdx3Json => f.write_str("SPDX 3.0.1 JSON-LD"),
        }
    }
}

/// A CycloneDX specification version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CdxVersion {
    /// CycloneDX 1.5.
    V1_5,
    /// CycloneDX 1.6, the default.
    #[default]
    V1_6,
}

impl CdxVersion {
    /// The `specVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            CdxVersion::V1_5 => "1.5",
            CdxVersion::V1_6 => "1.6",
        }
    }
}

impl fmt::Display for CdxVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The thing the SBOM describes (e.g. the scanned directory); it depends on every inventory
/// root (or, when the inventory has no roots, on every library nothing else depends on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Its name, such as the directory's name.
    pub name: String,
    /// Its version, when the caller knows one.
    pub version: Option<String>,
}

/// How to write the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Creation time, in seconds since the Unix epoch (the CLI takes it from
    /// `SOURCE_DATE_EPOCH` or the clock).
    pub created: i64,
    /// A UUID (`xxxxxxxx-xxxx-Mxxx-Nxxx-xxxxxxxxxxxx`, version 1 to 5) to use as serial number
    /// and namespace; `None` derives one from the content.
    pub serial: Option<String>,
    /// The tool's name, recorded as the document's creator.
    pub tool_name: String,
    /// The tool's version.
    pub tool_version: String,
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The serial number given in [`Options::serial`] is not a UUID that CycloneDX accepts.
    #[error(
        "the serial number `{found}` is not a UUID that CycloneDX accepts \
         (`xxxxxxxx-xxxx-Mxxx-Nxxx-xxxxxxxxxxxx` in hex, version M 1 to 5, variant N 8, 9, a or b)"
    )]
    InvalidSerial {
        /// The value given.
        found: String,
    },
    /// The creation time cannot be written as an RFC 3339 date in years 1 to 9999.
    #[error("the creation time {created} (Unix seconds) is outside years 1 to 9999")]
    TimestampOutOfRange {
        /// The value given.
        created: i64,
    },
    /// serde_json failed to serialise the document (not expected to happen).
    #[error("cannot serialise the {format} document")]
    Serialize {
        /// The format being written.
        format: SbomFormat,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing the document out failed.
    #[error("cannot write the {format} document")]
    Write {
        /// The format being written.
        format: SbomFormat,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// [`encode`], writing the document to `w` from its current position.
///
/// A CycloneDX document with a serial number derived from its content goes out in pieces
/// while it is written, and the serial number is then written over the placeholder near the
/// start (hence `Seek`; `w` is left at the end of the document): memory stays the same
/// whatever the size of the document. The bytes are those [`encode`] returns. Other documents
/// are encoded in memory and written whole.
pub fn encode_to<W: std::io::Write + std::io::Seek>(
    format: SbomFormat,
    subject: &Subject,
    inventory: &Inventory,
    options: &Options,
    w: &mut W,
) -> Result<(), EncodeError> {
    let write_error = |source| EncodeError::Write { format, source };
    if let (SbomFormat::CycloneDxJson(v), None) = (format, &options.serial) {
        let created = model::rfc3339(options.created)?;
        let graph = model::Graph::new(subject, inventory);
        let ctx = model::Context {
            uuid: model::NIL_UUID,
            created: &created,
            tool_name: &options.tool_name,
            tool_version: &options.tool_version,
        };
        return cyclonedx::encode_derived_to(v, &graph, &ctx, w).map_err(|e| match e {
            cyclonedx::ToError::Serialize(source) => EncodeError::Serialize { format, source },
            cyclonedx::ToError::Io(source) => write_error(source),
        });
    }
    let bytes = encode(format, subject, inventory, options)?;
    w.write_all(&bytes).map_err(write_error)
}

/// Writes `inventory`, as seen from `subject`, in `format`: pretty-printed JSON with a
/// trailing newline.
pub fn encode(
    format: SbomFormat,
    subject: &Subject,
    inventory: &Inventory,
    options: &Options,
) -> Result<Vec<u8>, EncodeError> {
    let created = model::rfc3339(options.created)?;
    let graph = model::Graph::new(subject, inventory);
    let write = |uuid: &str, created: &str| -> Result<Vec<u8>, EncodeError> {
        let ctx = model::Context {
            uuid,
            created,
            tool_name: &options.tool_name,
            tool_version: &options.tool_version,
        };
        let result = match format {
            SbomFormat::CycloneDxJson(v) => cyclonedx::encode(v, &graph, &ctx),
            SbomFormat::SpdxJson => spdx2::encode(&graph, &ctx),
            SbomFormat::Spdx3Json => spdx3::encode(&graph, &ctx),
        };
        let mut bytes = result.map_err(|source| EncodeError::Serialize { format, source })?;
        bytes.push(b'\n');
        Ok(bytes)
    };
    if let (SbomFormat::CycloneDxJson(v), None) = (format, &options.serial) {
        let ctx = model::Context {
            uuid: model::NIL_UUID,
            created: &created,
            tool_name: &options.tool_name,
            tool_version: &options.tool_version,
        };
        return cyclonedx::encode_derived(v, &graph, &ctx)
            .map_err(|source| EncodeError::Serialize { format, source });
    }
    let uuid = match &options.serial {
        Some(s) => model::check_uuid(s)?,
        None => {
            // Encode once with a fixed identifier and no timestamp; the hash of that is the
            // content identity, the same whenever and wherever it is computed.
            let draft = write(model::NIL_UUID, "")?;
            model::uuid_from_content(&draft)
        }
    };
    write(&uuid, &created)
}

#[cfg(test)]
mod derived_serial_tests {
    use vouch_inventory::{Ecosystem, Inventory, Package, PackageUrl};

    use super::*;

    /// The one-build CycloneDX path must give exactly what building twice gives.
    #[test]
    fn cyclonedx_fast_path_matches_two_pass_encoding() {
        let mut inv = Inventory::new();
        let root =
            inv.add_root(Package::new(Ecosystem::Npm, "app").found_in("package-lock.json", None));
        let mut lib = Package::new(Ecosystem::Npm, "ms").version("2.1.3");
        lib.purl = PackageUrl::new("npm", "ms")
            .and_then(|p| p.with_version("2.1.3"))
            .ok();
        let lib = inv.add(lib.found_in("package-lock.json", Some(9)));
        inv.depend(&root, &lib);
        let subject = Subject {
            name: "demo".into(),
            version: None,
        };
        let options = Options {
            created: 1_700_000_000,
            serial: None,
            tool_name: "vouch".into(),
            tool_version: "0.0.0".into(),
        };
        let fast = encode(
            SbomFormat::CycloneDxJson(CdxVersion::V1_6),
            &subject,
            &inv,
            &options,
        )
        .unwrap();

        let graph = model::Graph::new(&subject, &inv);
        let created = model::rfc3339(options.created).unwrap();
        let ctx = |uuid, created| model::Context {
            uuid,
            created,
            tool_name: "vouch",
            tool_version: "0.0.0",
        };
        let mut draft =
            cyclonedx::encode(CdxVersion::V1_6, &graph, &ctx(model::NIL_UUID, "")).unwrap();
        draft.push(b'\n');
        let uuid = model::uuid_from_content(&draft);
        let mut slow = cyclonedx::encode(CdxVersion::V1_6, &graph, &ctx(&uuid, &created)).unwrap();
        slow.push(b'\n');
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(slow).unwrap()
        );
    }

    /// An inventory of `n` packages in a chain, each with a digest and a licence.
    fn chain(n: usize) -> Inventory {
        let mut inv = Inventory::new();
        let mut prev =
            inv.add_root(Package::new(Ecosystem::Npm, "app").found_in("package-lock.json", None));
        for i in 0..n {
            let version = format!("1.0.{i}");
            let mut lib = Package::new(Ecosystem::Npm, format!("lib-{i}")).version(&version);
            lib.purl = PackageUrl::new("npm", &format!("lib-{i}"))
                .and_then(|p| p.with_version(&version))
                .ok();
            lib.licenses.insert("MIT".to_owned());
            let id = inv.add(lib.found_in("package-lock.json", Some(i as u32 + 10)));
            inv.depend(&prev, &id);
            prev = id;
        }
        inv
    }

    fn options(serial: Option<&str>) -> Options {
        Options {
            created: 1_700_000_000,
            serial: serial.map(str::to_owned),
            tool_name: "vouch".into(),
            tool_version: "0.0.0".into(),
        }
    }

    #[test]
    fn streamed_documents_are_the_encoded_ones() {
        let subject = Subject {
            name: "demo".into(),
            version: Some("1".into()),
        };
        let formats = [
            SbomFormat::CycloneDxJson(CdxVersion::V1_6),
            SbomFormat::CycloneDxJson(CdxVersion::V1_5),
            SbomFormat::SpdxJson,
        ];
        // 0 and 3 packages stay under one piece; 2,000 take several (about 600 kB).
        for n in [0, 3, 2000] {
            let inv = chain(n);
            for format in formats {
                for serial in [None, Some("6ba7b810-9dad-11d1-80b4-00c04fd430c8")] {
                    let opts = options(serial);
                    let whole = encode(format, &subject, &inv, &opts).unwrap();
                    let mut streamed = Full {
                        inner: std::io::Cursor::new(Vec::new()),
                        limit: usize::MAX,
                        writes: 0,
                    };
                    encode_to(format, &subject, &inv, &opts, &mut streamed).unwrap();
                    let Full { inner, writes, .. } = streamed;
                    assert_eq!(inner.position(), whole.len() as u64, "{n} {format}");
                    assert!(
                        inner.into_inner() == whole,
                        "{n} packages, {format}, serial {serial:?}"
                    );
                    // Only a CycloneDX document with a derived serial goes out in pieces (and
                    // the serial last); the others are written whole.
                    let pieces = matches!(format, SbomFormat::CycloneDxJson(_))
                        && serial.is_none()
                        && n == 2000;
                    if pieces {
                        assert!(whole.len() > 4 * cyclonedx::PIECE);
                        assert!(writes > 4, "{writes} writes");
                    } else {
                        assert_eq!(writes, 1, "{n} {format} {serial:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_streamed_document_may_follow_other_bytes() {
        let subject = Subject {
            name: "demo".into(),
            version: None,
        };
        let inv = chain(2000);
        let format = SbomFormat::CycloneDxJson(CdxVersion::V1_6);
        let mut expected = b"before".to_vec();
        expected.extend(encode(format, &subject, &inv, &options(None)).unwrap());
        let mut w = std::io::Cursor::new(b"before".to_vec());
        w.set_position(6);
        encode_to(format, &subject, &inv, &options(None), &mut w).unwrap();
        assert_eq!(w.position(), expected.len() as u64);
        assert!(w.into_inner() == expected);
    }

    /// Accepts `limit` bytes, then fails; counts the calls to `write`.
    struct Full {
        inner: std::io::Cursor<Vec<u8>>,
        limit: usize,
        writes: usize,
    }

    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.inner.get_ref().len().saturating_add(buf.len()) > self.limit {
                return Err(std::io::Error::other("disk full"));
            }
            self.writes += 1;
            self.inner.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl std::io::Seek for Full {
        fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn a_failed_write_is_an_error_naming_the_format() {
        let subject = Subject {
            name: "demo".into(),
            version: None,
        };
        let inv = chain(2000);
        for limit in [0, 100_000] {
            let mut w = Full {
                inner: std::io::Cursor::new(Vec::new()),
                limit,
                writes: 0,
            };
            let format = SbomFormat::CycloneDxJson(CdxVersion::V1_6);
            let err = encode_to(format, &subject, &inv, &options(None), &mut w).unwrap_err();
            assert!(
                matches!(&err, EncodeError::Write { format: f, source } if *f == format
                    && source.to_string() == "disk full"),
                "{err:?}"
            );
        }
    }
}

//! `sbom check`: recognise a CycloneDX, SPDX 2.3 or SPDX 3.0.1 JSON document, validate it and
//! report what it lacks.
//!
//! Findings have stable kebab-case codes:
//!
//! | code | severity | meaning |
//! |---|---|---|
//! | `schema-invalid` | error | the official JSON schema rejects the document at `pointer` |
//! | `schema-not-checked` | note | no schema directory was given; only built-in structure checks ran |
//! | `structure-missing-field` | error | a field every document of the format needs is absent (built-in check) |
//! | `structure-wrong-type` | error | a field has the wrong JSON type (built-in check) |
//! | `purl-invalid` | error | a package URL does not parse |
//! | `spdx-id-invalid` | error | an SPDX 2 `SPDXID` is not `SPDXRef-[A-Za-z0-9.-]+` |
//! | `bom-ref-duplicate` | error | two CycloneDX objects share a `bom-ref` |
//! | `reference-unknown` | error (SPDX 3: warning) | a dependency or relationship names an element that is not in the document |
//! | `ntia-timestamp-missing` | error | no creation time |
//! | `ntia-author-missing` | error | no author, creator or tool is named for the SBOM data |
//! | `ntia-relationships-missing` | error | components are listed but no dependency relationship relates them |
//! | `ntia-name-missing` | error | components without a name |
//! | `ntia-version-missing` | warning | components without a version |
//! | `ntia-supplier-missing` | warning | components without a supplier |
//! | `ntia-unique-id-missing` | warning | components without purl, CPE, SWID or similar identifier |
//!
//! Per-component findings are aggregated: one finding per code, with the count, the pointer of
//! the first offender and a few more in the message. The NTIA minimum elements are those of
//! "The Minimum Elements For a Software Bill of Materials" (NTIA, 2021); the component the
//! document describes (CycloneDX `metadata.component`, what an SPDX document `DESCRIBES` or
//! has as root) is not held to the per-component supplier, version and identifier elements,
//! since it is often a directory or checkout rather than a published package.

mod ntia;
mod schema;
mod structure;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

pub use crate::json::{MAX_BYTES, MAX_DEPTH};

/// Checks a document: detects its format, validates it against the official schema when
/// `schema_dir` is given (laid out as `cyclonedx/bom-1.6.schema.json`,
/// `spdx-2.3/spdx-schema.json`, `spdx-3.0.1/spdx-json-schema.json`) or against built-in
/// structure rules when it is not, then checks the NTIA minimum elements. `file` names the
/// document in errors.
pub fn check(file: &str, bytes: &[u8], schema_dir: Option<&Path>) -> Result<Report, CheckError> {
    let doc = crate::json::parse(file, bytes)?;
    let kind = detect(file, &doc)?;
    let mut findings = Vec::new();
    let schema_checked = match schema_dir {
        Some(dir) => {
            findings.extend(schema::validate(kind, &doc, dir)?);
            true
        }
        None => {
            findings.push(Finding {
                code: "schema-not-checked",
                severity: Severity::Note,
                pointer: None,
                message: "no schema directory was given: checked required fields and types only"
                    .into(),
            });
            findings.extend(structure::check(kind, &doc));
            false
        }
    };
    findings.extend(ntia::check(kind, &doc));
    Ok(Report {
        format: kind.to_string(),
        schema_checked,
        findings,
    })
}

/// The outcome of [`check()`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The format found, such as `CycloneDX 1.6`, `SPDX 2.3` or `SPDX 3.0.1`.
    pub format: String,
    /// Whether the official JSON schema was applied.
    pub schema_checked: bool,
    /// What was found, in the order the checks ran.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Number of findings of severity [`Severity::Error`].
    pub fn error_count(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// Whether a finding with this code is present.
    pub fn has(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// One diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case code (see the module documentation).
    pub code: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// JSON pointer to the offending value, where there is one.
    pub pointer: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is invalid or lacks a required element.
    Error,
    /// The document is valid but incomplete.
    Warning,
    /// For information.
    Note,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// Why a document could not be checked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The bytes are not JSON.
    #[error("{file}:{line}:{column}: invalid JSON: {message}")]
    Json {
        /// The document's name.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The document is larger than [`MAX_BYTES`].
    #[error("{file} is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The document's name.
        file: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The document nests deeper than [`MAX_DEPTH`].
    #[error("{file}:{line}:{column}: JSON nested deeper than {limit} levels")]
    TooDeep {
        /// The document's name.
        file: String,
        /// 1-based line of the bracket that went too deep.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The limit.
        limit: usize,
    },
    /// Neither CycloneDX, SPDX 2 nor SPDX 3.
    #[error("{file} is not a CycloneDX, SPDX 2.3 or SPDX 3.0.1 JSON document: {reason}")]
    UnknownFormat {
        /// The document's name.
        file: String,
        /// What was looked for.
        reason: String,
    },
    /// A known format in a version this checker does not handle.
    #[error("{file} is {format} `{found}`, but only {supported} can be checked")]
    UnsupportedVersion {
        /// The document's name.
        file: String,
        /// `CycloneDX` or `SPDX`.
        format: &'static str,
        /// The version found.
        found: String,
        /// The versions handled.
        supported: &'static str,
    },
    /// A schema file could not be read.
    #[error("cannot read schema `{}`", path.display())]
    SchemaRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not JSON.
    #[error("schema `{}` is not valid JSON", path.display())]
    SchemaJson {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A schema could not be compiled (including unresolvable `$ref`s).
    #[error("cannot compile schema `{}`: {message}", path.display())]
    SchemaCompile {
        /// The file.
        path: PathBuf,
        /// The validator's description.
        message: String,
    },
}

/// The formats `check` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocKind {
    CycloneDx(CdxSpec),
    Spdx23,
    Spdx301,
}

/// CycloneDX versions `check` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CdxSpec {
    V1_5,
    V1_6,
    V1_7,
}

impl std::fmt::Display for DocKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocKind::CycloneDx(CdxSpec::V1_5) => f.write_str("CycloneDX 1.5"),
            DocKind::CycloneDx(CdxSpec::V1_6) => f.write_str("CycloneDX 1.6"),
            DocKind::CycloneDx(CdxSpec::V1_7) => f.write_str("CycloneDX 1.7"),
            DocKind::Spdx23 => f.write_str("SPDX 2.3"),
            DocKind::Spdx301 => f.write_str("SPDX 3.0.1"),
        }
    }
}

/// Recognises the format from content: CycloneDX by `bomFormat`, SPDX 2 by `spdxVersion`,
/// SPDX 3 by its JSON-LD `@context`.
pub(crate) fn detect(file: &str, doc: &Value) -> Result<DocKind, CheckError> {
    let unknown = |reason: &str| CheckError::UnknownFormat {
        file: file.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(obj) = doc.as_object() else {
        return Err(unknown("the top level is not a JSON object"));
    };
    if obj.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let found = obj.get("specVersion").and_then(Value::as_str).unwrap_or("");
        return match found {
            "1.5" => Ok(DocKind::CycloneDx(CdxSpec::V1_5)),
            "1.6" => Ok(DocKind::CycloneDx(CdxSpec::V1_6)),
            "1.7" => Ok(DocKind::CycloneDx(CdxSpec::V1_7)),
            _ => Err(CheckError::UnsupportedVersion {
                file: file.to_owned(),
                format: "CycloneDX",
                found: found.to_owned(),
                supported: "CycloneDX 1.5, 1.6 and 1.7",
            }),
        };
    }
    if let Some(v) = obj.get("spdxVersion") {
        let found = v.as_str().unwrap_or("");
        return match found {
            "SPDX-2.3" => Ok(DocKind::Spdx23),
            _ => Err(CheckError::UnsupportedVersion {
                file: file.to_owned(),
                format: "SPDX",
                found: found.to_owned(),
                supported: "SPDX 2.3 and 3.0.1",
            }),
        };
    }
    if let Some(ctx) = obj.get("@context") {
        let names_301 = |v: &Value| {
            v.as_str()
                .is_some_and(|s| s.contains("spdx.org/rdf/3.0.1/"))
        };
        let is_301 = names_301(ctx) || ctx.as_array().is_some_and(|a| a.iter().any(names_301));
        let is_spdx3 = ctx.as_str().is_some_and(|s| s.contains("spdx.org/rdf/3."))
            || ctx.as_array().is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|s| s.contains("spdx.org/rdf/3."))
            });
        if is_301 {
            return Ok(DocKind::Spdx301);
        }
        if is_spdx3 {
            return Err(CheckError::UnsupportedVersion {
                file: file.to_owned(),
                format: "SPDX",
                found: ctx.to_string(),
                supported: "SPDX 2.3 and 3.0.1",
            });
        }
    }
    Err(unknown(
        "expected `bomFormat: CycloneDX`, `spdxVersion` or an SPDX 3 `@context`",
    ))
}

/// Collects per-item problems into one finding: the count, the first pointer, a few more.
pub(crate) struct Tally {
    code: &'static str,
    severity: Severity,
    what: &'static str,
    pointers: Vec<String>,
    count: usize,
}

/// How many pointers a tally quotes in its message.
const QUOTED: usize = 5;

impl Tally {
    pub(crate) fn new(code: &'static str, severity: Severity, what: &'static str) -> Self {
        Tally {
            code,
            severity,
            what,
            pointers: Vec::new(),
            count: 0,
        }
    }

    pub(crate) fn add(&mut self, pointer: String) {
        self.count += 1;
        if self.pointers.len() < QUOTED {
            self.pointers.push(pointer);
        }
    }

    /// The finding, if anything was added; `total` is the number of items looked at.
    pub(crate) fn finish(self, total: usize) -> Option<Finding> {
        if self.count == 0 {
            return None;
        }
        let mut message = format!("{} of {} {}", self.count, total, self.what);
        message.push_str(": ");
        message.push_str(&self.pointers.join(", "));
        if self.count > self.pointers.len() {
            message.push_str(&format!(" and {} more", self.count - self.pointers.len()));
        }
        Some(Finding {
            code: self.code,
            severity: self.severity,
            pointer: self.pointers.first().cloned(),
            message,
        })
    }
}

/// Escapes one JSON pointer token (RFC 6901).
pub(crate) fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// A one-off finding.
pub(crate) fn finding(
    code: &'static str,
    severity: Severity,
    pointer: Option<&str>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        code,
        severity,
        pointer: pointer.map(str::to_owned),
        message: message.into(),
    }
}

//! Validation against the official JSON schemas, read from a local directory. Nothing is
//! fetched: `$ref`s to other schemas (CycloneDX's `spdx.schema.json`, `jsf-0.82.schema.json`,
//! `cryptography-defs.schema.json`) resolve to files of the same name beside the main schema.

use std::path::{Path, PathBuf};

use jsonschema::{Retrieve, Uri};
use serde_json::Value;

use super::{CdxSpec, CheckError, DocKind, Finding, Severity};

/// At most this many `schema-invalid` findings are listed; one more says how many were left.
const MAX_SCHEMA_FINDINGS: usize = 50;
/// Schema error messages quote the offending value; long ones are cut to this many characters.
const MAX_MESSAGE: usize = 400;

/// The schema file for a format, relative to the schema directory.
fn schema_path(kind: DocKind) -> &'static str {
    match kind {
        DocKind::CycloneDx(CdxSpec::V1_5) => "cyclonedx/bom-1.5.schema.json",
        DocKind::CycloneDx(CdxSpec::V1_6) => "cyclonedx/bom-1.6.schema.json",
        DocKind::CycloneDx(CdxSpec::V1_7) => "cyclonedx/bom-1.7.schema.json",
        DocKind::Spdx23 => "spdx-2.3/spdx-schema.json",
        DocKind::Spdx301 => "spdx-3.0.1/spdx-json-schema.json",
    }
}

pub(crate) fn validate(kind: DocKind, doc: &Value, dir: &Path) -> Result<Vec<Finding>, CheckError> {
    let path = dir.join(schema_path(kind));
    let schema = read_json(&path)?;
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let validator = jsonschema::options()
        .with_retriever(SiblingFiles { dir: folder })
        .build(&schema)
        .map_err(|e| CheckError::SchemaCompile {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let mut findings = Vec::new();
    let mut more = 0usize;
    for error in validator.iter_errors(doc) {
        if findings.len() >= MAX_SCHEMA_FINDINGS {
            more += 1;
            continue;
        }
        let pointer = error.instance_path().to_string();
        let mut message: String = error.to_string();
        if message.chars().count() > MAX_MESSAGE {
            message = message.chars().take(MAX_MESSAGE).collect::<String>() + "…";
        }
        findings.push(Finding {
            code: "schema-invalid",
            severity: Severity::Error,
            pointer: Some(if pointer.is_empty() {
                "/".into()
            } else {
                pointer
            }),
            message,
        });
    }
    if more > 0 {
        findings.push(Finding {
            code: "schema-invalid",
            severity: Severity::Error,
            pointer: None,
            message: format!("{more} more schema errors not listed"),
        });
    }
    Ok(findings)
}

fn read_json(path: &Path) -> Result<Value, CheckError> {
    let bytes = std::fs::read(path).map_err(|source| CheckError::SchemaRead {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| CheckError::SchemaJson {
        path: path.to_path_buf(),
        source,
    })
}

/// Resolves a referenced schema by the last segment of its URI, to a file in `dir`. Only plain
/// file names are accepted, so a `$ref` cannot reach outside the schema directory.
struct SiblingFiles {
    dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("schema `{uri}` is not available offline (looked for `{file}` in the schema directory)")]
struct NotLocal {
    uri: String,
    file: String,
}

impl Retrieve for SiblingFiles {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let path = uri.path().as_str();
        let name = path.rsplit('/').next().unwrap_or("");
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        let file = self.dir.join(name);
        if !plain || !file.is_file() {
            return Err(Box::new(NotLocal {
                uri: uri.as_str().to_owned(),
                file: name.to_owned(),
            }));
        }
        Ok(read_json(&file)?)
    }
}

//! in-toto Statement v1 (and v0.1, read only) and ResourceDescriptor.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `_type` of a Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The `_type` of a Statement v0.1, still written by older tools (SLSA v0.2 generators).
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// A resource: an artifact, a source, a dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// Its name (for a subject, the file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URI naming it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests by algorithm (`sha256`, `sha512`, `gitCommit`, …), lowercase hex.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Where to download it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_location: Option<String>,
    /// Its media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ResourceDescriptor {
    /// A named resource with one digest.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Adds a digest.
    #[must_use]
    pub fn with_digest(mut self, algorithm: &str, hex: impl Into<String>) -> Self {
        self.digest.insert(algorithm.to_owned(), hex.into());
        self
    }
}

/// An in-toto statement: subjects and a typed predicate about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// [`STATEMENT_V1`] or [`STATEMENT_V01`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// What the statement is about.
    pub subject: Vec<ResourceDescriptor>,
    /// The predicate's type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    #[serde(default)]
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A Statement v1.
    pub fn new(
        subject: Vec<ResourceDescriptor>,
        predicate_type: impl Into<String>,
        predicate: serde_json::Value,
    ) -> Self {
        Self {
            type_: STATEMENT_V1.to_owned(),
            subject,
            predicate_type: predicate_type.into(),
            predicate,
        }
    }

    /// Compact JSON, fields in the order the specification lists them.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain data to a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A statement that does not parse or is not well formed, with the JSON path of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StatementError {
    /// Where: `$` for the document, `$.subject[2].digest.sha256`, or `line:column` for syntax.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> StatementError {
    StatementError {
        path: path.into(),
        message: message.into(),
    }
}

/// Digest lengths in hex characters for the algorithms the in-toto digest set names.
fn hex_len(algorithm: &str) -> Option<usize> {
    Some(match algorithm {
        "sha256" | "sha512_256" | "sha3_256" => 64,
        "sha224" | "sha512_224" | "sha3_224" => 56,
        "sha384" | "sha3_384" => 96,
        "sha512" | "sha3_512" => 128,
        "sha1" | "gitCommit" | "gitTree" | "gitBlob" => 40,
        "md5" => 32,
        _ => return None,
    })
}

/// Parses and checks a statement: `_type` v1 or v0.1, at least one subject, every subject with
/// at least one digest, every digest of a known algorithm lowercase hex of the right length.
pub fn parse_statement(bytes: &[u8]) -> Result<Statement, StatementError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| err(format!("{}:{}", e.line(), e.column()), e.to_string()))?;
    let object = value
        .as_object()
        .ok_or_else(|| err("$", "a statement is a JSON object"))?;
    let type_ = object
        .get("_type")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| err("$._type", "missing or not a string"))?;
    if type_ != STATEMENT_V1 && type_ != STATEMENT_V01 {
        return Err(err(
            "$._type",
            format!("`{type_}` is not `{STATEMENT_V1}` or `{STATEMENT_V01}`"),
        ));
    }
    match object.get("predicateType") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => {}
        Some(_) => return Err(err("$.predicateType", "not a non-empty string")),
        None => return Err(err("$.predicateType", "missing")),
    }
    if let Some(p) = object.get("predicate")
        && !p.is_object()
    {
        return Err(err("$.predicate", "not a JSON object"));
    }
    let subjects = object
        .get("subject")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| err("$.subject", "missing or not an array"))?;
    if subjects.is_empty() {
        return Err(err("$.subject", "a statement needs at least one subject"));
    }
    for (i, s) in subjects.iter().enumerate() {
        let at = format!("$.subject[{i}]");
        let digest = s
            .get("digest")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| err(format!("{at}.digest"), "missing or not an object"))?;
        if digest.is_empty() {
            return Err(err(format!("{at}.digest"), "no digest"));
        }
        for (algorithm, hex) in digest {
            let hex = hex
                .as_str()
                .ok_or_else(|| err(format!("{at}.digest.{algorithm}"), "not a string"))?;
            if let Some(len) = hex_len(algorithm)
                && (hex.len() != len
                    || !hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            {
                return Err(err(
                    format!("{at}.digest.{algorithm}"),
                    format!("expected {len} lowercase hex characters, found `{hex}`"),
                ));
            }
        }
    }
    serde_json::from_value(value).map_err(|e| err("$", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn a_built_statement_round_trips() {
        let s = Statement::new(
            vec![ResourceDescriptor::named("a.tgz").with_digest("sha256", SHA)],
            "https://example.com/p",
            serde_json::json!({"k": 1}),
        );
        let back = parse_statement(&s.to_json()).unwrap();
        assert_eq!(back, s);
        let text = String::from_utf8(s.to_json()).unwrap();
        assert!(text.starts_with(r#"{"_type":"https://in-toto.io/Statement/v1","subject""#));
    }

    #[test]
    fn malformed_statements_name_the_field() {
        for (doc, path) in [
            ("[]", "$"),
            (
                r#"{"_type":"x","subject":[],"predicateType":"p"}"#,
                "$._type",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}"#,
                "$.subject",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":"p"}"#,
                "$.subject[0].digest",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ABC"}}],"predicateType":"p"}"#,
                "$.subject[0].digest.sha256",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"x":"1"}}]}"#,
                "$.predicateType",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"x":"1"}}],"predicateType":"p","predicate":[]}"#,
                "$.predicate",
            ),
            ("{", "1:1"),
        ] {
            let e = parse_statement(doc.as_bytes()).unwrap_err();
            assert_eq!(e.path, path, "{doc}: {e}");
        }
    }
}

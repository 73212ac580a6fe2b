//! SLSA provenance v1 (`https://slsa.dev/provenance/v1`): types, and a structural check of a
//! predicate against the specification's schema (field names and types, required fields,
//! timestamps in `YYYY-MM-DDThh:mm:ssZ` form).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::statement::{ResourceDescriptor, StatementError};

/// The predicate type of SLSA provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// A SLSA provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// What was built and how it was asked for.
    pub build_definition: BuildDefinition,
    /// Who built it, and when.
    pub run_details: RunDetails,
}

/// The build's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// The build type URI: how to read the parameters.
    pub build_type: String,
    /// Parameters under the control of whoever started the build.
    pub external_parameters: serde_json::Map<String, serde_json::Value>,
    /// Parameters the builder chose.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub internal_parameters: serde_json::Map<String, serde_json::Value>,
    /// Sources and dependencies the build fetched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// The build's execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The builder.
    pub builder: Builder,
    /// Invocation and times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<RunMetadata>,
    /// Other outputs of the build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

/// The entity trusted to have run the build faithfully.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Builder {
    /// Its URI.
    pub id: String,
    /// Versions of its components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
    /// Its own dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builder_dependencies: Vec<ResourceDescriptor>,
}

/// When and as which invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunMetadata {
    /// Identifies this run of the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// Start, `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// End, `YYYY-MM-DDThh:mm:ssZ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

/// Formats a time as SLSA wants it: UTC, seconds, `Z`.
pub(crate) fn timestamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn err(path: &str, message: impl Into<String>) -> StatementError {
    StatementError {
        path: path.to_owned(),
        message: message.into(),
    }
}

impl Provenance {
    /// Checks a predicate against the SLSA v1 schema and reads it. Unknown fields are
    /// reported, not ignored: a consumer must know everything a predicate claims.
    pub fn from_predicate(predicate: &serde_json::Value) -> Result<Self, StatementError> {
        let root = "$.predicate";
        let object = predicate
            .as_object()
            .ok_or_else(|| err(root, "not a JSON object"))?;
        only(object, root, &["buildDefinition", "runDetails"])?;
        let bd = object
            .get("buildDefinition")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| err("$.predicate.buildDefinition", "missing or not an object"))?;
        only(
            bd,
            "$.predicate.buildDefinition",
            &[
                "buildType",
                "externalParameters",
                "internalParameters",
                "resolvedDependencies",
            ],
        )?;
        string(bd, "$.predicate.buildDefinition", "buildType", true)?;
        match bd.get("externalParameters") {
            Some(serde_json::Value::Object(_)) => {}
            Some(_) => {
                return Err(err(
                    "$.predicate.buildDefinition.externalParameters",
                    "not an object",
                ));
            }
            None => {
                return Err(err(
                    "$.predicate.buildDefinition.externalParameters",
                    "missing (required by SLSA v1)",
                ));
            }
        }
        if let Some(v) = bd.get("internalParameters")
            && !v.is_object()
        {
            return Err(err(
                "$.predicate.buildDefinition.internalParameters",
                "not an object",
            ));
        }
        descriptors(bd, "$.predicate.buildDefinition", "resolvedDependencies")?;
        let rd = object
            .get("runDetails")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| err("$.predicate.runDetails", "missing or not an object"))?;
        only(
            rd,
            "$.predicate.runDetails",
            &["builder", "metadata", "byproducts"],
        )?;
        let builder = rd
            .get("builder")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| err("$.predicate.runDetails.builder", "missing or not an object"))?;
        only(
            builder,
            "$.predicate.runDetails.builder",
            &["id", "version", "builderDependencies"],
        )?;
        string(builder, "$.predicate.runDetails.builder", "id", true)?;
        if let Some(v) = builder.get("version")
            && !v
                .as_object()
                .is_some_and(|m| m.values().all(|x| x.is_string()))
        {
            return Err(err(
                "$.predicate.runDetails.builder.version",
                "not an object of strings",
            ));
        }
        descriptors(
            builder,
            "$.predicate.runDetails.builder",
            "builderDependencies",
        )?;
        if let Some(m) = rd.get("metadata") {
            let m = m
                .as_object()
                .ok_or_else(|| err("$.predicate.runDetails.metadata", "not an object"))?;
            only(
                m,
                "$.predicate.runDetails.metadata",
                &["invocationId", "startedOn", "finishedOn"],
            )?;
            string(m, "$.predicate.runDetails.metadata", "invocationId", false)?;
            for field in ["startedOn", "finishedOn"] {
                if let Some(t) = string(m, "$.predicate.runDetails.metadata", field, false)? {
                    let ok =
                        t.len() == 20 && t.ends_with('Z') && t.parse::<jiff::Timestamp>().is_ok();
                    if !ok {
                        return Err(err(
                            &format!("$.predicate.runDetails.metadata.{field}"),
                            format!("`{t}` is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ"),
                        ));
                    }
                }
            }
        }
        descriptors(rd, "$.predicate.runDetails", "byproducts")?;
        serde_json::from_value(predicate.clone()).map_err(|e| err(root, e.to_string()))
    }
}

fn only(
    object: &serde_json::Map<String, serde_json::Value>,
    at: &str,
    known: &[&str],
) -> Result<(), StatementError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(err(
            &format!("{at}.{k}"),
            format!("unknown field; SLSA v1 defines {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn string<'a>(
    object: &'a serde_json::Map<String, serde_json::Value>,
    at: &str,
    field: &str,
    required: bool,
) -> Result<Option<&'a str>, StatementError> {
    match object.get(field) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(err(&format!("{at}.{field}"), "not a non-empty string")),
        None if required => Err(err(&format!("{at}.{field}"), "missing")),
        None => Ok(None),
    }
}

fn descriptors(
    object: &serde_json::Map<String, serde_json::Value>,
    at: &str,
    field: &str,
) -> Result<(), StatementError> {
    let Some(list) = object.get(field) else {
        return Ok(());
    };
    let list = list
        .as_array()
        .ok_or_else(|| err(&format!("{at}.{field}"), "not an array"))?;
    for (i, d) in list.iter().enumerate() {
        let here = format!("{at}.{field}[{i}]");
        let d = d.as_object().ok_or_else(|| err(&here, "not an object"))?;
        only(
            d,
            &here,
            &[
                "uri",
                "digest",
                "name",
                "downloadLocation",
                "mediaType",
                "content",
                "annotations",
            ],
        )?;
        if !(d.contains_key("uri") || d.contains_key("digest") || d.contains_key("content")) {
            return Err(err(
                &here,
                "a resource descriptor needs at least one of uri, digest, content",
            ));
        }
        if let Some(digest) = d.get("digest")
            && !digest
                .as_object()
                .is_some_and(|m| m.values().all(|x| x.is_string()))
        {
            return Err(err(&format!("{here}.digest"), "not an object of strings"));
        }
        for s in ["uri", "name", "downloadLocation", "mediaType", "content"] {
            if let Some(v) = d.get(s)
                && !v.is_string()
            {
                return Err(err(&format!("{here}.{s}"), "not a string"));
            }
        }
    }
    Ok(())
}

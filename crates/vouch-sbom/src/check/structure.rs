//! Built-in structure checks, for when no schema directory is given: the fields every document
//! of the format needs, and their JSON types. A much smaller net than the schemas.

use serde_json::Value;

use super::{DocKind, Finding, Severity, finding, token};

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Arr,
    Obj,
    Bool,
}

impl Ty {
    fn matches(self, v: &Value) -> bool {
        match self {
            Ty::Str => v.is_string(),
            Ty::Arr => v.is_array(),
            Ty::Obj => v.is_object(),
            Ty::Bool => v.is_boolean(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Arr => "an array",
            Ty::Obj => "an object",
            Ty::Bool => "a boolean",
        }
    }
}

/// Collects structure findings, capped so a broken document does not produce thousands.
struct Out {
    findings: Vec<Finding>,
    dropped: usize,
}

const MAX_FINDINGS: usize = 50;

impl Out {
    fn push(&mut self, f: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(f);
        } else {
            self.dropped += 1;
        }
    }

    /// Checks `obj[key]`: present when `required`, and of type `ty` when present.
    fn field<'v>(
        &mut self,
        obj: &'v Value,
        at: &str,
        key: &str,
        ty: Ty,
        required: bool,
    ) -> Option<&'v Value> {
        let pointer = format!("{at}/{}", token(key));
        match obj.get(key) {
            None if required => {
                self.push(finding(
                    "structure-missing-field",
                    Severity::Error,
                    Some(at_or_root(at)),
                    format!("required field `{key}` is missing"),
                ));
                None
            }
            None => None,
            Some(v) if !ty.matches(v) => {
                self.push(finding(
                    "structure-wrong-type",
                    Severity::Error,
                    Some(&pointer),
                    format!("`{key}` must be {}", ty.name()),
                ));
                None
            }
            Some(v) => Some(v),
        }
    }

    /// Each item of an array must be an object; yields `(pointer, item)` for those that are.
    fn objects<'v>(&mut self, arr: Option<&'v Value>, at: &str) -> Vec<(String, &'v Value)> {
        let mut out = Vec::new();
        for (i, item) in arr
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let pointer = format!("{at}/{i}");
            if item.is_object() {
                out.push((pointer, item));
            } else {
                self.push(finding(
                    "structure-wrong-type",
                    Severity::Error,
                    Some(&pointer),
                    "must be an object",
                ));
            }
        }
        out
    }
}

fn at_or_root(at: &str) -> &str {
    if at.is_empty() { "/" } else { at }
}

pub(crate) fn check(kind: DocKind, doc: &Value) -> Vec<Finding> {
    let mut out = Out {
        findings: Vec::new(),
        dropped: 0,
    };
    match kind {
        DocKind::CycloneDx(_) => cyclonedx(&mut out, doc),
        DocKind::Spdx23 => spdx2(&mut out, doc),
        DocKind::Spdx301 => spdx3(&mut out, doc),
    }
    if out.dropped > 0 {
        let n = out.dropped;
        out.findings.push(finding(
            "structure-wrong-type",
            Severity::Error,
            None,
            format!("{n} more structure errors not listed"),
        ));
    }
    out.findings
}

fn cyclonedx(out: &mut Out, doc: &Value) {
    out.field(doc, "", "specVersion", Ty::Str, true);
    out.field(doc, "", "serialNumber", Ty::Str, false);
    if let Some(meta) = out.field(doc, "", "metadata", Ty::Obj, false) {
        out.field(meta, "/metadata", "timestamp", Ty::Str, false);
        if let Some(c) = out.field(meta, "/metadata", "component", Ty::Obj, false) {
            component(out, c, "/metadata/component");
        }
    }
    let comps = out.field(doc, "", "components", Ty::Arr, false);
    for (at, c) in out.objects(comps, "/components") {
        component(out, c, &at);
    }
    let deps = out.field(doc, "", "dependencies", Ty::Arr, false);
    for (at, d) in out.objects(deps, "/dependencies") {
        out.field(d, &at, "ref", Ty::Str, true);
        out.field(d, &at, "dependsOn", Ty::Arr, false);
    }
}

fn component(out: &mut Out, c: &Value, at: &str) {
    out.field(c, at, "type", Ty::Str, true);
    out.field(c, at, "name", Ty::Str, true);
    out.field(c, at, "bom-ref", Ty::Str, false);
    out.field(c, at, "version", Ty::Str, false);
    out.field(c, at, "purl", Ty::Str, false);
    out.field(c, at, "hashes", Ty::Arr, false);
    out.field(c, at, "licenses", Ty::Arr, false);
    let nested = out.field(c, at, "components", Ty::Arr, false);
    for (at, c) in out.objects(nested, &format!("{at}/components")) {
        component(out, c, &at);
    }
}

fn spdx2(out: &mut Out, doc: &Value) {
    for key in [
        "spdxVersion",
        "dataLicense",
        "SPDXID",
        "name",
        "documentNamespace",
    ] {
        out.field(doc, "", key, Ty::Str, true);
    }
    if let Some(ci) = out.field(doc, "", "creationInfo", Ty::Obj, true) {
        out.field(ci, "/creationInfo", "created", Ty::Str, true);
        out.field(ci, "/creationInfo", "creators", Ty::Arr, true);
    }
    let packages = out.field(doc, "", "packages", Ty::Arr, false);
    for (at, p) in out.objects(packages, "/packages") {
        out.field(p, &at, "SPDXID", Ty::Str, true);
        out.field(p, &at, "name", Ty::Str, true);
        out.field(p, &at, "downloadLocation", Ty::Str, true);
        out.field(p, &at, "filesAnalyzed", Ty::Bool, false);
        out.field(p, &at, "versionInfo", Ty::Str, false);
        out.field(p, &at, "externalRefs", Ty::Arr, false);
        out.field(p, &at, "checksums", Ty::Arr, false);
    }
    let rels = out.field(doc, "", "relationships", Ty::Arr, false);
    for (at, r) in out.objects(rels, "/relationships") {
        for key in ["spdxElementId", "relationshipType", "relatedSpdxElement"] {
            out.field(r, &at, key, Ty::Str, true);
        }
    }
}

fn spdx3(out: &mut Out, doc: &Value) {
    let graph = out.field(doc, "", "@graph", Ty::Arr, true);
    for (at, e) in out.objects(graph, "/@graph") {
        let Some(ty) = out
            .field(e, &at, "type", Ty::Str, true)
            .and_then(Value::as_str)
        else {
            continue;
        };
        if ty == "CreationInfo" {
            out.field(e, &at, "created", Ty::Str, true);
            out.field(e, &at, "createdBy", Ty::Arr, true);
            out.field(e, &at, "specVersion", Ty::Str, true);
            continue;
        }
        out.field(e, &at, "spdxId", Ty::Str, true);
        if e.get("creationInfo").is_none() {
            out.field(e, &at, "creationInfo", Ty::Str, true);
        }
        if ty == "Relationship" || ty == "LifecycleScopedRelationship" {
            out.field(e, &at, "from", Ty::Str, true);
            out.field(e, &at, "to", Ty::Arr, true);
            out.field(e, &at, "relationshipType", Ty::Str, true);
        }
    }
}

//! Type-specific rules, per the purl type definitions
//! (<https://github.com/package-url/purl-spec/tree/main/types>) and the specification's test
//! suite.
//!
//! Each rule is one of two kinds. Normalisations rewrite a component into its canonical form
//! (lowercase a case-insensitive name, collapse PyPI separators) and are applied whenever a
//! component is set. Checks reject a component that cannot be made valid (a CPAN module name,
//! a namespace on a type that has none); those that depend on more than one component (a
//! required namespace or qualifier) run in [`check_complete`].

use std::collections::BTreeMap;

use crate::PurlError;

/// Whether a type has a namespace.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Required,
    Optional,
    Prohibited,
}

/// The rules of one type; unknown types get the default (no rules beyond the generic ones).
#[derive(Clone, Copy)]
struct Rules {
    namespace: Namespace,
    lowercase_namespace: bool,
    lowercase_name: bool,
    lowercase_version: bool,
    /// The most namespace segments the type allows.
    max_namespace_segments: Option<usize>,
    version_required: bool,
    /// Qualifiers that must be present.
    required_qualifiers: &'static [&'static str],
}

const DEFAULT: Rules = Rules {
    namespace: Namespace::Optional,
    lowercase_namespace: false,
    lowercase_name: false,
    lowercase_version: false,
    max_namespace_segments: None,
    version_required: false,
    required_qualifiers: &[],
};

fn rules(ty: &str) -> Rules {
    // Types whose namespace and name are both case-insensitive and canonically lowercase.
    const LOWER_BOTH: Rules = Rules {
        lowercase_namespace: true,
        lowercase_name: true,
        ..DEFAULT
    };
    // Types without a namespace.
    const NO_NAMESPACE: Rules = Rules {
        namespace: Namespace::Prohibited,
        ..DEFAULT
    };
    match ty {
        "alpm" | "apk" | "deb" | "hex" | "luarocks" | "npm" | "brew" => LOWER_BOTH,
        "bitbucket" | "composer" | "github" | "vscode-extension" => Rules {
            namespace: Namespace::Required,
            ..LOWER_BOTH
        },
        // The namespace is the host, the name the repository path on it.
        "git" => Rules {
            namespace: Namespace::Required,
            max_namespace_segments: Some(1),
            ..LOWER_BOTH
        },
        "maven" | "swift" => Rules {
            namespace: Namespace::Required,
            ..DEFAULT
        },
        "qpkg" | "rpm" => Rules {
            lowercase_namespace: true,
            ..DEFAULT
        },
        "bitnami" | "conda" | "pub" | "pypi" | "chrome-extension" => Rules {
            lowercase_name: true,
            ..NO_NAMESPACE
        },
        "oci" => Rules {
            lowercase_name: true,
            lowercase_version: true,
            ..NO_NAMESPACE
        },
        "huggingface" => Rules {
            lowercase_version: true,
            ..DEFAULT
        },
        "hackage" => Rules {
            version_required: true,
            ..NO_NAMESPACE
        },
        "julia" => Rules {
            required_qualifiers: &["uuid"],
            ..NO_NAMESPACE
        },
        "swid" => Rules {
            max_namespace_segments: Some(2),
            required_qualifiers: &["tag_id"],
            ..DEFAULT
        },
        "bazel" | "cargo" | "cocoapods" | "cran" | "gem" | "mlflow" | "nuget" | "opam" | "otp"
        | "vcpkg" => NO_NAMESPACE,
        _ => DEFAULT,
    }
}

fn rule(ty: &str, reason: &str) -> PurlError {
    PurlError::TypeRule {
        ty: ty.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Normalises and checks a namespace (segments joined by `/`, none empty).
pub(crate) fn namespace(ty: &str, ns: &str) -> Result<String, PurlError> {
    let r = rules(ty);
    if r.namespace == Namespace::Prohibited {
        return Err(PurlError::NamespaceNotAllowed(ty.to_owned()));
    }
    if let Some(max) = r.max_namespace_segments
        && ns.split('/').count() > max
    {
        return Err(PurlError::TooManyNamespaceSegments {
            ty: ty.to_owned(),
            max,
        });
    }
    Ok(match ty {
        // CPAN author ids are uppercase.
        "cpan" => ns.to_ascii_uppercase(),
        _ if r.lowercase_namespace => ns.to_ascii_lowercase(),
        _ => ns.to_owned(),
    })
}

/// Normalises and checks a name; `qualifiers` matter to types whose name case depends on the
/// repository (MLflow).
pub(crate) fn name(
    ty: &str,
    name: &str,
    qualifiers: &BTreeMap<String, String>,
) -> Result<String, PurlError> {
    let r = rules(ty);
    let mut name = if r.lowercase_name {
        name.to_ascii_lowercase()
    } else {
        name.to_owned()
    };
    match ty {
        "pypi" => name = collapse_pypi_separators(&name),
        "git" => {
            // A repository path: keep its segments, drop empty ones.
            name = name
                .split('/')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("/");
        }
        "cpan" if name.contains("::") => {
            return Err(rule(
                ty,
                "the name is a distribution name, not a module (`::`)",
            ));
        }
        "cocoapods" if !is_pod_name(&name) => {
            return Err(rule(
                ty,
                "a pod name has no whitespace or `+` and does not start with `.`",
            ));
        }
        "chrome-extension" if !is_chrome_extension_id(&name) => {
            return Err(rule(ty, "an extension id is 32 letters from `a` to `p`"));
        }
        "mlflow"
            if qualifiers
                .get("repository_url")
                .is_some_and(|u| is_databricks(u)) =>
        {
            // Databricks model names are case-insensitive; Azure ML ones are not.
            name = name.to_ascii_lowercase();
        }
        _ => {}
    }
    if name.is_empty() {
        return Err(PurlError::MissingName);
    }
    Ok(name)
}

/// Normalises and checks a version.
pub(crate) fn version(ty: &str, version: &str) -> Result<String, PurlError> {
    if ty == "chrome-extension" {
        let parts: Vec<&str> = version.split('.').collect();
        let ok = parts.len() <= 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(rule(ty, "a version is one to four dot-separated integers"));
        }
    }
    Ok(if rules(ty).lowercase_version {
        version.to_ascii_lowercase()
    } else {
        version.to_owned()
    })
}

/// Normalises a qualifier value.
pub(crate) fn qualifier_value(ty: &str, key: &str, value: &str) -> String {
    match key {
        // `algorithm:hex` pairs, canonically lowercase.
        "checksum" => value.to_ascii_lowercase(),
        // A GUID tag id is lowercase; any other tag id is kept as written.
        "tag_id" if ty == "swid" && is_guid(value) => value.to_ascii_lowercase(),
        _ => value.to_owned(),
    }
}

/// The checks that need the whole purl: required namespace, version and qualifiers.
pub(crate) fn check_complete(
    ty: &str,
    namespace: Option<&str>,
    version: Option<&str>,
    qualifiers: &BTreeMap<String, String>,
) -> Result<(), PurlError> {
    let r = rules(ty);
    if r.namespace == Namespace::Required && namespace.is_none() {
        return Err(PurlError::MissingNamespace(ty.to_owned()));
    }
    if r.version_required && version.is_none() {
        return Err(PurlError::MissingVersion(ty.to_owned()));
    }
    if let Some(key) = r
        .required_qualifiers
        .iter()
        .find(|k| !qualifiers.contains_key(**k))
    {
        return Err(PurlError::MissingQualifier {
            ty: ty.to_owned(),
            key: (*key).to_owned(),
        });
    }
    Ok(())
}

/// PyPI names compare after lowercasing and replacing each run of `-`, `_` and `.` with one
/// `-` (<https://packaging.python.org/en/latest/specifications/name-normalization/>).
fn collapse_pypi_separators(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

fn is_pod_name(name: &str) -> bool {
    !(name.chars().any(char::is_whitespace) || name.contains('+') || name.starts_with('.'))
}

fn is_chrome_extension_id(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// Whether an MLflow tracking URL is a Databricks workspace (Azure, AWS or GCP).
fn is_databricks(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    host.ends_with(".azuredatabricks.net") || host.ends_with(".databricks.com")
}

/// Whether a string is a GUID: 8-4-4-4-12 hex digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_separator_runs_collapse() {
        assert_eq!(collapse_pypi_separators("a__b-.-c.d"), "a-b-c-d");
        assert_eq!(collapse_pypi_separators("-x-"), "-x-");
    }

    #[test]
    fn databricks_hosts() {
        assert!(is_databricks(
            "https://adb-1.0.azuredatabricks.net/api/2.0/mlflow"
        ));
        assert!(is_databricks(
            "https://dbc-a-b.cloud.databricks.com/api/2.0/mlflow"
        ));
        assert!(!is_databricks("https://westus2.api.azureml.ms/mlflow/v1.0"));
        assert!(!is_databricks("https://databricks.com.evil.example/"));
    }

    #[test]
    fn guids() {
        assert!(is_guid("75B8C285-fa7b-485b-b199-4745e3004d0d"));
        assert!(!is_guid("org.fedoraproject.Fedora-29"));
    }
}

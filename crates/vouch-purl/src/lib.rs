//! Package URLs, per the purl specification
//! (<https://github.com/package-url/purl-spec/blob/main/purl-specification.md>, ECMA-427) and
//! its type definitions (<https://github.com/package-url/purl-spec/tree/main/types>).
//!
//! A [`PackageUrl`] is always held in normalised form: building one applies the rules of its
//! type, so two values that name the same package compare equal and print the same canonical
//! string.
//!
//! Three ways in:
//! - [`str::parse`] ([`FromStr`]) is the conforming parser: it accepts what the specification
//!   accepts, normalises what the specification says to normalise (type case, PyPI names,
//!   GitHub case, empty qualifiers, stray slashes) and rejects the rest, such as an uppercase
//!   qualifier key.
//! - [`PackageUrl::parse_lenient`] also repairs input the specification calls invalid but
//!   whose meaning is unambiguous (today: uppercase qualifier keys are lowercased), for reading
//!   purls written by older tools.
//! - [`PackageUrl::new`] and the `with_*` methods build one component at a time;
//!   [`PackageUrl::from_parts`] builds from all components at once and also runs the checks
//!   that need all of them (see [`PackageUrl::validate`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod encoding;
mod parse;
#[cfg(test)]
mod proptests;
mod types;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use encoding::write_encoded;

/// The longest purl string [`FromStr`] and [`PackageUrl::parse_lenient`] accept, in bytes.
///
/// Real purls are well under a kilobyte; the limit bounds the work an untrusted input can cause.
pub const MAX_PURL_LEN: usize = 64 * 1024;

/// Why a package URL could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurlError {
    /// The string does not start with `pkg:`.
    #[error("a package URL starts with `pkg:`, found `{0}`")]
    MissingScheme(String),
    /// The type is empty or has characters outside `[a-z0-9.+-]`, or starts with a digit.
    #[error("invalid package URL type `{0}`")]
    InvalidType(String),
    /// The name is empty.
    #[error("a package URL needs a name")]
    MissingName,
    /// A type requires a namespace and none was given.
    #[error("a `{0}` package URL needs a namespace")]
    MissingNamespace(String),
    /// A qualifier key is not `[a-z0-9.-_]`, does not start with a letter, or repeats.
    #[error("invalid qualifier key `{0}`")]
    InvalidQualifierKey(String),
    /// A component is not valid percent-encoded UTF-8.
    #[error("invalid percent-encoding in `{0}`")]
    InvalidEncoding(String),
    /// A type-specific rule was broken.
    #[error("invalid `{ty}` package URL: {reason}")]
    TypeRule {
        /// The purl type.
        ty: String,
        /// What the rule requires.
        reason: String,
    },
    /// The type has no namespace, and one was given.
    #[error("a `{0}` package URL has no namespace")]
    NamespaceNotAllowed(String),
    /// The namespace has more segments than the type allows.
    #[error("a `{ty}` namespace has at most {max} segment(s)")]
    TooManyNamespaceSegments {
        /// The purl type.
        ty: String,
        /// The most segments allowed.
        max: usize,
    },
    /// The type requires a version and none was given.
    #[error("a `{0}` package URL needs a version")]
    MissingVersion(String),
    /// The type requires a qualifier and it is missing.
    #[error("a `{ty}` package URL needs the `{key}` qualifier")]
    MissingQualifier {
        /// The purl type.
        ty: String,
        /// The missing qualifier key.
        key: String,
    },
    /// A qualifier key appears twice.
    #[error("qualifier `{0}` appears more than once")]
    DuplicateQualifier(String),
    /// A decoded namespace or subpath segment contains `/`, which would change the segments.
    #[error("the {component} segment `{segment}` contains an encoded `/`")]
    SlashInSegment {
        /// `namespace` or `subpath`.
        component: &'static str,
        /// The decoded segment.
        segment: String,
    },
    /// The input is longer than [`MAX_PURL_LEN`].
    #[error("a package URL of {len} bytes is longer than the {max}-byte limit")]
    TooLong {
        /// The input length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A package URL in normalised form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageUrl {
    /// Borrowed for the types vouch makes purls of, so that making one costs no copy of it.
    ty: Cow<'static, str>,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

impl PackageUrl {
    /// Builds a package URL of type `ty` named `name`, normalising both per the type's rules.
    ///
    /// A type that needs a namespace or qualifier (`maven`, `julia`, …) is only complete once
    /// those are set; [`PackageUrl::validate`] says whether it is.
    pub fn new(ty: &str, name: &str) -> Result<Self, PurlError> {
        let ty = match COMMON_TYPES.iter().find(|t| t.eq_ignore_ascii_case(ty)) {
            Some(t) => Cow::Borrowed(*t),
            None => Cow::Owned(ty.to_ascii_lowercase()),
        };
        validate_type(&ty)?;
        let name = types::name(&ty, name, &BTreeMap::new())?;
        Ok(PackageUrl {
            ty,
            namespace: None,
            name,
            version: None,
            qualifiers: BTreeMap::new(),
            subpath: None,
        })
    }

    /// Builds a package URL from all its components (decoded, as in an SBOM field) and checks
    /// it is complete for its type. Empty strings count as absent.
    pub fn from_parts<'a>(
        ty: &str,
        namespace: Option<&str>,
        name: &str,
        version: Option<&str>,
        qualifiers: impl IntoIterator<Item = (&'a str, &'a str)>,
        subpath: Option<&str>,
    ) -> Result<Self, PurlError> {
        let mut p = PackageUrl::new(ty, name)?;
        if let Some(ns) = namespace {
            p = p.with_namespace(ns)?;
        }
        if let Some(v) = version {
            p = p.with_version(v)?;
        }
        for (k, v) in qualifiers {
            p = p.with_qualifier(k, v)?;
        }
        if let Some(sp) = subpath {
            p = p.with_subpath(sp)?;
        }
        p.validate()?;
        Ok(p)
    }

    /// Parses a purl, also repairing deviations whose meaning is unambiguous: qualifier keys
    /// are lowercased instead of rejected. Everything else is as strict as [`FromStr`].
    pub fn parse_lenient(s: &str) -> Result<Self, PurlError> {
        parse::parse(s, parse::Mode::Lenient)
    }

    /// Sets the namespace (`/`-separated segments; empty segments are dropped, and an empty
    /// namespace removes it).
    pub fn with_namespace(mut self, namespace: &str) -> Result<Self, PurlError> {
        // Empty segments are dropped; most namespaces (an npm scope, a Maven group) have none.
        let ns: Cow<'_, str> = if namespace.split('/').any(str::is_empty) {
            Cow::Owned(
                namespace
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("/"),
            )
        } else {
            Cow::Borrowed(namespace)
        };
        self.namespace = if ns.is_empty() {
            None
        } else {
            Some(types::namespace(&self.ty, &ns)?)
        };
        Ok(self)
    }

    /// Sets the version; an empty version removes it.
    pub fn with_version(mut self, version: &str) -> Result<Self, PurlError> {
        self.version = if version.is_empty() {
            None
        } else {
            Some(types::version(&self.ty, version)?)
        };
        Ok(self)
    }

    /// Adds a qualifier, lowercasing the key; an empty value removes it, as the specification
    /// says.
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Result<Self, PurlError> {
        let key = key.to_ascii_lowercase();
        validate_qualifier_key(&key)?;
        if value.is_empty() {
            self.qualifiers.remove(&key);
        } else {
            let value = types::qualifier_value(&self.ty, &key, value);
            self.qualifiers.insert(key, value);
        }
        // Some names normalise differently depending on a qualifier (MLflow on Databricks).
        self.name = types::name(&self.ty, &self.name, &self.qualifiers)?;
        Ok(self)
    }

    /// Sets the subpath; empty, `.` and `..` segments are dropped, and an empty subpath
    /// removes it.
    pub fn with_subpath(mut self, subpath: &str) -> Result<Self, PurlError> {
        let sp = subpath
            .split('/')
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .collect::<Vec<_>>()
            .join("/");
        self.subpath = (!sp.is_empty()).then_some(sp);
        Ok(self)
    }

    /// Checks the rules that need every component: a required namespace (`maven`, `swift`,
    /// …), version (`hackage`) or qualifier (`julia` needs `uuid`, `swid` needs `tag_id`).
    ///
    /// Parsing and [`PackageUrl::from_parts`] run this; the one-component-at-a-time builder
    /// cannot, so call it once the last `with_*` is done.
    pub fn validate(&self) -> Result<(), PurlError> {
        types::check_complete(
            &self.ty,
            self.namespace.as_deref(),
            self.version.as_deref(),
            &self.qualifiers,
        )
    }

    /// The canonical string, as `to_string` gives it, written into a string allocated once
    /// at about its final size (`to_string` grows it from nothing as it goes).
    pub fn to_canonical(&self) -> String {
        let qualifiers: usize = self
            .qualifiers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2)
            .sum();
        let len = 6
            + self.ty.len()
            + self.namespace.as_ref().map_or(0, |n| n.len() + 1)
            + self.name.len()
            + self.version.as_ref().map_or(0, |v| v.len() + 1)
            + qualifiers
            + self.subpath.as_ref().map_or(0, |p| p.len() + 1);
        // Percent-encoding makes some longer; an eighth more covers the common cases.
        let mut out = String::with_capacity(len + len / 8);
        // Writing into a `String` cannot fail.
        let _ = fmt::write(&mut out, format_args!("{self}"));
        out
    }

    /// The type, lowercase.
    pub fn ty(&self) -> &str {
        &self.ty
    }
    /// The namespace, if any: decoded segments joined by `/`.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    /// The name, decoded.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The version, if any, decoded.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The qualifiers, sorted by key, values decoded.
    pub fn qualifiers(&self) -> &BTreeMap<String, String> {
        &self.qualifiers
    }
    /// The subpath, if any: decoded segments joined by `/`.
    pub fn subpath(&self) -> Option<&str> {
        self.subpath.as_deref()
    }
}

/// The purl types of the ecosystems vouch reads, lowercase. [`PackageUrl::new`] lends these
/// instead of copying the type of every purl.
const COMMON_TYPES: &[&str] = &[
    "npm", "pypi", "cargo", "golang", "gem", "composer", "maven", "nuget", "swift", "pub", "hex",
    "conan", "deb", "apk", "rpm", "oci", "generic", "github", "git", "docker",
];

/// A type is `[a-z0-9.+-]+` and does not start with a digit (it is lowercased before this).
fn validate_type(ty: &str) -> Result<(), PurlError> {
    let ok = ty.starts_with(|c: char| c.is_ascii_lowercase())
        && ty
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '+' | '-'));
    if ok {
        Ok(())
    } else {
        Err(PurlError::InvalidType(ty.to_owned()))
    }
}

/// A qualifier key is `[a-z0-9.-_]+` and starts with a letter.
fn validate_qualifier_key(key: &str) -> Result<(), PurlError> {
    let ok = key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(PurlError::InvalidQualifierKey(key.to_owned()))
    }
}

/// Writes `/`-separated segments, each percent-encoded.
fn write_segments(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    for (i, seg) in s.split('/').enumerate() {
        if i > 0 {
            f.write_str("/")?;
        }
        write_encoded(f, seg)?;
    }
    Ok(())
}

impl fmt::Display for PackageUrl {
    /// The canonical string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Plain `write_str` calls rather than `write!`: identities and SBOMs format every purl,
        // and the formatting machinery cost more than the bytes written.
        f.write_str("pkg:")?;
        f.write_str(&self.ty)?;
        f.write_str("/")?;
        if let Some(ns) = &self.namespace {
            write_segments(f, ns)?;
            f.write_str("/")?;
        }
        if self.ty == "git" {
            // A git name is a repository path; its slashes separate segments.
            write_segments(f, &self.name)?;
        } else {
            write_encoded(f, &self.name)?;
        }
        if let Some(v) = &self.version {
            f.write_str("@")?;
            write_encoded(f, v)?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            f.write_str(k)?;
            f.write_str("=")?;
            write_encoded(f, v)?;
        }
        if let Some(sp) = &self.subpath {
            f.write_str("#")?;
            write_segments(f, sp)?;
        }
        Ok(())
    }
}

impl FromStr for PackageUrl {
    type Err = PurlError;

    /// Parses a purl as the specification requires; see [`PackageUrl::parse_lenient`] for a
    /// parser that repairs some invalid input.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse(s, parse::Mode::Strict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PackageUrl {
        s.parse().unwrap()
    }

    #[test]
    fn npm_scoped_round_trip() {
        let p = PackageUrl::new("npm", "core")
            .unwrap()
            .with_namespace("@babel")
            .unwrap()
            .with_version("7.0.0")
            .unwrap();
        assert_eq!(p.to_string(), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(p.to_string().parse::<PackageUrl>().unwrap(), p);
    }

    #[test]
    fn pypi_name_is_normalised() {
        let p = PackageUrl::new("pypi", "Django_Rest").unwrap();
        assert_eq!(p.name(), "django-rest");
        assert_eq!(PackageUrl::new("PyPI", "a._-b").unwrap().name(), "a-b");
    }

    #[test]
    fn type_is_lowercased_and_checked() {
        assert_eq!(PackageUrl::new("NuGet", "X").unwrap().ty(), "nuget");
        // A type outside the lent list is lowercased into a string of its own.
        assert_eq!(PackageUrl::new("Made-Up", "x").unwrap().ty(), "made-up");
        assert_eq!(
            PackageUrl::new("NPM", "x").unwrap(),
            PackageUrl::new("npm", "x").unwrap()
        );
        // Empty namespace segments are dropped; a namespace of only slashes is none.
        let p = PackageUrl::new("maven", "a").unwrap();
        assert_eq!(
            p.clone().with_namespace("/org//x/").unwrap().namespace(),
            Some("org/x")
        );
        assert_eq!(
            p.clone().with_namespace("org/x").unwrap().namespace(),
            Some("org/x")
        );
        assert_eq!(p.with_namespace("//").unwrap().namespace(), None);
        for bad in ["", "3d", "a b", "a:b", "a%2Fb", "a_b"] {
            assert!(PackageUrl::new(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn case_insensitive_types_lowercase_namespace_and_name() {
        assert_eq!(
            p("pkg:github/Package-URL/Purl-Spec").to_string(),
            "pkg:github/package-url/purl-spec"
        );
        assert_eq!(
            p("pkg:composer/Laravel/Laravel@5.5.0").to_string(),
            "pkg:composer/laravel/laravel@5.5.0"
        );
        // Maven and NuGet are case-sensitive.
        assert_eq!(
            p("pkg:maven/HTTPClient/HTTPClient@0.3-3").to_string(),
            "pkg:maven/HTTPClient/HTTPClient@0.3-3"
        );
    }

    #[test]
    fn versions_lowercased_only_where_the_type_says() {
        assert_eq!(p("pkg:huggingface/A/B@ABC").version(), Some("abc"));
        assert_eq!(p("pkg:oci/x@SHA256:AB").version(), Some("sha256:ab"));
        assert_eq!(p("pkg:generic/x@ABC").version(), Some("ABC"));
    }

    #[test]
    fn mlflow_name_case_follows_the_repository() {
        let databricks =
            "pkg:mlflow/CreditFraud@3?repository_url=https://adb-1.0.azuredatabricks.net";
        assert_eq!(p(databricks).name(), "creditfraud");
        let azure_ml =
            "pkg:mlflow/CreditFraud@3?repository_url=https://westus2.api.azureml.ms/mlflow";
        assert_eq!(p(azure_ml).name(), "CreditFraud");
    }

    #[test]
    fn qualifiers_sorted_encoded_and_empty_dropped() {
        let q = p("pkg:generic/x?b=2&a=&c=https://x/y%20z");
        assert_eq!(q.qualifiers().len(), 2);
        assert_eq!(q.to_string(), "pkg:generic/x?b=2&c=https:%2F%2Fx%2Fy%20z");
        assert_eq!(
            p("pkg:generic/x?checksum=SHA1:AB,sha256:CD").to_string(),
            "pkg:generic/x?checksum=sha1:ab%2Csha256:cd"
        );
    }

    #[test]
    fn qualifier_key_case_strict_and_lenient() {
        let s = "pkg:gem/jruby-launcher@1.1.2?Platform=java";
        assert_eq!(
            s.parse::<PackageUrl>(),
            Err(PurlError::InvalidQualifierKey("Platform".into()))
        );
        let lenient = PackageUrl::parse_lenient(s).unwrap();
        assert_eq!(
            lenient.to_string(),
            "pkg:gem/jruby-launcher@1.1.2?platform=java"
        );
    }

    #[test]
    fn duplicate_and_malformed_qualifier_keys_fail() {
        assert!("pkg:generic/x?a=1&a=2".parse::<PackageUrl>().is_err());
        assert!(PackageUrl::parse_lenient("pkg:generic/x?a=1&A=2").is_err());
        assert!(
            "pkg:generic/x?in%20production=1"
                .parse::<PackageUrl>()
                .is_err()
        );
        assert!("pkg:generic/x?1a=1".parse::<PackageUrl>().is_err());
    }

    #[test]
    fn subpath_and_namespace_slashes_are_not_significant() {
        assert_eq!(
            p("pkg:///golang//google.golang.org//genproto/#/a/./b/../c/").to_string(),
            "pkg:golang/google.golang.org/genproto#a/b/c"
        );
    }

    #[test]
    fn encoded_slash_inside_a_segment_is_rejected() {
        assert!("pkg:generic/a%2Fb/name".parse::<PackageUrl>().is_err());
        assert!("pkg:generic/name#a%2Fb".parse::<PackageUrl>().is_err());
    }

    #[test]
    fn at_sign_in_name_and_scope() {
        assert_eq!(
            p("pkg:brew/node@20@20.10.0").to_string(),
            "pkg:brew/node%4020@20.10.0"
        );
        let npm = p("pkg:npm/@babel/core");
        assert_eq!((npm.namespace(), npm.name()), (Some("@babel"), "core"));
    }

    #[test]
    fn type_specific_requirements() {
        assert!("pkg:swift/Alamofire@5.4.3".parse::<PackageUrl>().is_err());
        assert!("pkg:julia/Dates".parse::<PackageUrl>().is_err());
        assert!("pkg:vcpkg/boost/asio@1.84.0".parse::<PackageUrl>().is_err());
        assert!(
            "pkg:cpan/GDT/URI::PackageURL"
                .parse::<PackageUrl>()
                .is_err()
        );
        assert!("pkg:chrome-extension/dogs".parse::<PackageUrl>().is_err());
        assert!(
            PackageUrl::new("cargo", "x")
                .unwrap()
                .with_namespace("y")
                .is_err()
        );
        // The builder defers required-component checks to `validate`.
        let maven = PackageUrl::new("maven", "io").unwrap();
        assert_eq!(
            maven.validate(),
            Err(PurlError::MissingNamespace("maven".into()))
        );
        assert!(
            maven
                .with_namespace("org.apache.commons")
                .unwrap()
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn git_names_are_repository_paths() {
        let g = p("pkg:git/codeberg.org/forgejo/forgejo@a72d");
        assert_eq!(
            (g.namespace(), g.name()),
            (Some("codeberg.org"), "forgejo/forgejo")
        );
        assert_eq!(g.to_string(), "pkg:git/codeberg.org/forgejo/forgejo@a72d");
    }

    #[test]
    fn input_limits_and_garbage_do_not_panic() {
        let long = format!("pkg:generic/{}", "a".repeat(MAX_PURL_LEN));
        assert!(matches!(
            long.parse::<PackageUrl>(),
            Err(PurlError::TooLong { .. })
        ));
        for s in [
            "",
            "pkg:",
            "pkg:/",
            "pkg:a/",
            "pkg:a/%",
            "pkg:a/@",
            "pkg:a/b@#?",
            "pkg:a/b?=&=#",
        ] {
            let _ = s.parse::<PackageUrl>();
        }
    }
}

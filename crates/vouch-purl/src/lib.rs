//! Package URLs, per the purl specification
//! (<https://github.com/package-url/purl-spec/blob/main/PURL-SPECIFICATION.rst>).
//!
//! A [`PackageUrl`] is always held in normalised form: building one applies the rules of its
//! type, so two values that name the same package compare equal and print the same canonical
//! string.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

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
    /// A qualifier key is not `[a-z0-9.-_]`, or repeats.
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
}

/// A package URL in normalised form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageUrl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

impl PackageUrl {
    /// Builds a package URL of type `ty` named `name`, normalising both per the type's rules.
    pub fn new(ty: &str, name: &str) -> Result<Self, PurlError> {
        let ty = ty.to_ascii_lowercase();
        validate_type(&ty)?;
        if name.is_empty() {
            return Err(PurlError::MissingName);
        }
        let mut p = PackageUrl {
            ty,
            namespace: None,
            name: name.to_owned(),
            version: None,
            qualifiers: BTreeMap::new(),
            subpath: None,
        };
        p.normalise()?;
        Ok(p)
    }

    /// Sets the namespace (`/`-separated segments; empty segments are dropped).
    pub fn with_namespace(mut self, namespace: &str) -> Result<Self, PurlError> {
        let ns = namespace
            .split('/')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        self.namespace = (!ns.is_empty()).then_some(ns);
        self.normalise()?;
        Ok(self)
    }

    /// Sets the version.
    pub fn with_version(mut self, version: &str) -> Result<Self, PurlError> {
        self.version = (!version.is_empty()).then(|| version.to_owned());
        self.normalise()?;
        Ok(self)
    }

    /// Adds a qualifier; an empty value removes it, as the specification says.
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Result<Self, PurlError> {
        let key = key.to_ascii_lowercase();
        validate_qualifier_key(&key)?;
        if value.is_empty() {
            self.qualifiers.remove(&key);
        } else {
            self.qualifiers.insert(key, value.to_owned());
        }
        self.normalise()?;
        Ok(self)
    }

    /// Sets the subpath; `.` and `..` segments are dropped.
    pub fn with_subpath(mut self, subpath: &str) -> Result<Self, PurlError> {
        let sp = subpath
            .split('/')
            .filter(|s| !s.is_empty() && *s != "." && *s != "..")
            .collect::<Vec<_>>()
            .join("/");
        self.subpath = (!sp.is_empty()).then_some(sp);
        Ok(self)
    }

    /// The type, lowercase.
    pub fn ty(&self) -> &str {
        &self.ty
    }
    /// The namespace, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The version, if any.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The qualifiers, sorted by key.
    pub fn qualifiers(&self) -> &BTreeMap<String, String> {
        &self.qualifiers
    }
    /// The subpath, if any.
    pub fn subpath(&self) -> Option<&str> {
        self.subpath.as_deref()
    }

    /// Applies the type-specific normalisation rules.
    fn normalise(&mut self) -> Result<(), PurlError> {
        match self.ty.as_str() {
            "pypi" => {
                self.name = self.name.to_ascii_lowercase().replace('_', "-");
            }
            "npm" | "github" | "bitbucket" | "composer" | "golang" | "hex" | "luarocks" => {
                if self.ty != "golang" || self.namespace.is_none() {
                    // golang keeps case in module paths; the others are case-insensitive.
                }
                if matches!(self.ty.as_str(), "github" | "bitbucket" | "composer") {
                    self.name = self.name.to_ascii_lowercase();
                    self.namespace = self.namespace.as_ref().map(|n| n.to_ascii_lowercase());
                }
                if self.ty == "hex" {
                    self.name = self.name.to_ascii_lowercase();
                    self.namespace = self.namespace.as_ref().map(|n| n.to_ascii_lowercase());
                }
            }
            _ => {}
        }
        Ok(())
    }
}

// Characters that must be escaped inside a purl component. The specification keeps
// `:` unescaped everywhere; `/` is escaped inside a segment because segments are joined by it.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'&')
    .add(b'+')
    .add(b'=');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

fn dec(s: &str) -> Result<String, PurlError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| PurlError::InvalidEncoding(s.to_owned()))
}

fn validate_type(ty: &str) -> Result<(), PurlError> {
    let ok = !ty.is_empty()
        && !ty.starts_with(|c: char| c.is_ascii_digit())
        && ty
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '+' | '-'));
    if ok {
        Ok(())
    } else {
        Err(PurlError::InvalidType(ty.to_owned()))
    }
}

fn validate_qualifier_key(key: &str) -> Result<(), PurlError> {
    let ok = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(PurlError::InvalidQualifierKey(key.to_owned()))
    }
}

impl fmt::Display for PackageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            let segs: Vec<String> = ns.split('/').map(enc).collect();
            write!(f, "{}/", segs.join("/"))?;
        }
        f.write_str(&enc(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", enc(v))?;
        }
        if !self.qualifiers.is_empty() {
            let q: Vec<String> = self
                .qualifiers
                .iter()
                .map(|(k, v)| format!("{k}={}", enc(v)))
                .collect();
            write!(f, "?{}", q.join("&"))?;
        }
        if let Some(sp) = &self.subpath {
            let segs: Vec<String> = sp.split('/').map(enc).collect();
            write!(f, "#{}", segs.join("/"))?;
        }
        Ok(())
    }
}

impl FromStr for PackageUrl {
    type Err = PurlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("pkg:")
            .ok_or_else(|| PurlError::MissingScheme(s.to_owned()))?;
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sp)) => (r, Some(dec(sp)?)),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (ty, rest) = rest
            .split_once('/')
            .ok_or_else(|| PurlError::MissingName)?;
        let rest = rest.trim_end_matches('/');
        let (path, version) = match rest.rsplit_once('@') {
            Some((p, v)) => (p, Some(dec(v)?)),
            None => (rest, None),
        };
        let (ns, name) = match path.rsplit_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, path),
        };
        let mut p = PackageUrl::new(ty, &dec(name)?)?;
        if let Some(ns) = ns {
            let segs = ns
                .split('/')
                .filter(|s| !s.is_empty())
                .map(dec)
                .collect::<Result<Vec<_>, _>>()?;
            p = p.with_namespace(&segs.join("/"))?;
        }
        if let Some(v) = version {
            p = p.with_version(&v)?;
        }
        if let Some(q) = qualifiers {
            for pair in q.split('&').filter(|s| !s.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                p = p.with_qualifier(k, &dec(v)?)?;
            }
        }
        if let Some(sp) = subpath {
            p = p.with_subpath(&sp)?;
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}

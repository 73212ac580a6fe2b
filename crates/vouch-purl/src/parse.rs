//! Parsing a purl string, following the specification's "How to parse a purl string"
//! (<https://github.com/package-url/purl-spec/blob/main/purl-specification.md>).
//!
//! One deliberate difference: the version is split off at the last `@` of the last path
//! segment, not of the whole remainder, so an unencoded npm scope (`pkg:npm/@babel/core`) is
//! a namespace rather than a version.

use std::collections::{BTreeMap, BTreeSet};

use crate::encoding::decode;
use crate::{MAX_PURL_LEN, PackageUrl, PurlError, validate_qualifier_key};

/// How forgiving the parser is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// What the specification requires.
    Strict,
    /// Also lowercases qualifier keys.
    Lenient,
}

pub(crate) fn parse(s: &str, mode: Mode) -> Result<PackageUrl, PurlError> {
    if s.len() > MAX_PURL_LEN {
        return Err(PurlError::TooLong {
            len: s.len(),
            max: MAX_PURL_LEN,
        });
    }
    // The scheme is case-insensitive, like every URL scheme.
    let rest = match s.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("pkg:") => s.get(4..).unwrap_or_default(),
        _ => return Err(PurlError::MissingScheme(s.to_owned())),
    };

    let (rest, subpath) = match rest.rsplit_once('#') {
        Some((r, sp)) => (r, Some(sp)),
        None => (rest, None),
    };
    let (rest, qualifiers) = match rest.rsplit_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };

    // Slashes after the scheme and around the path are not significant.
    let rest = rest.trim_matches('/');
    let (ty, path) = rest.split_once('/').ok_or(PurlError::MissingName)?;

    let (prefix, last) = match path.rsplit_once('/') {
        Some((prefix, last)) => (Some(prefix), last),
        None => (None, path),
    };
    let (name, version) = match last.rsplit_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (last, None),
    };

    let mut segments = match prefix {
        Some(prefix) => decode_segments(prefix, "namespace")?,
        None => Vec::new(),
    };
    let ty_lower = ty.to_ascii_lowercase();
    let name = decode(name)?;
    let (namespace, name) = if ty_lower == "git" && !segments.is_empty() {
        // The namespace is the host; the rest of the path is the repository name.
        let host = segments.remove(0);
        segments.push(name);
        (vec![host], segments.join("/"))
    } else {
        (segments, name)
    };
    if name.is_empty() {
        return Err(PurlError::MissingName);
    }

    let mut p = PackageUrl::new(ty, &name)?;
    if !namespace.is_empty() {
        p = p.with_namespace(&namespace.join("/"))?;
    }
    if let Some(v) = version {
        p = p.with_version(&decode(v)?)?;
    }
    if let Some(q) = qualifiers {
        for (k, v) in parse_qualifiers(q, mode)? {
            p = p.with_qualifier(&k, &v)?;
        }
    }
    if let Some(sp) = subpath {
        let segs: Vec<String> = decode_segments(sp, "subpath")?
            .into_iter()
            .filter(|s| s != "." && s != "..")
            .collect();
        p = p.with_subpath(&segs.join("/"))?;
    }
    p.validate()?;
    Ok(p)
}

/// Splits on `/`, drops empty segments and decodes the rest; a decoded segment may not
/// contain `/`, or joining the segments would change them.
fn decode_segments(s: &str, component: &'static str) -> Result<Vec<String>, PurlError> {
    s.split('/')
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            let d = decode(seg)?;
            if d.contains('/') {
                Err(PurlError::SlashInSegment {
                    component,
                    segment: d,
                })
            } else {
                Ok(d)
            }
        })
        .collect()
}

/// Decodes `k=v&…`, dropping empty values and refusing repeated keys.
fn parse_qualifiers(q: &str, mode: Mode) -> Result<BTreeMap<String, String>, PurlError> {
    let mut out = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for pair in q.split('&').filter(|s| !s.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = match mode {
            Mode::Strict => key.to_owned(),
            Mode::Lenient => key.to_ascii_lowercase(),
        };
        // Keys are never percent-encoded, so they are checked as written.
        validate_qualifier_key(&key)?;
        let value = decode(value)?;
        if !seen.insert(key.clone()) {
            return Err(PurlError::DuplicateQualifier(key));
        }
        if !value.is_empty() {
            out.insert(key, value);
        }
    }
    Ok(out)
}

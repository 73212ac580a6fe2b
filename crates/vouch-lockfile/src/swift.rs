//! SwiftPM `Package.resolved`, versions 1, 2 and 3.
//!
//! Format: <https://docs.swift.org/swiftpm/documentation/packagemanagerdocs/resolvingpackageversions>
//! (source: `Sources/PackageManagerDocs/Documentation.docc/ResolvingPackageVersions.md` in
//! <https://github.com/swiftlang/swift-package-manager>, whose pin store writes the file).
//!
//! Version 1 holds `object.pins[]` with `package`, `repositoryURL` and `state` (`branch`,
//! `revision`, `version`); versions 2 and 3 hold `pins[]` with `identity`, `kind`
//! (`remoteSourceControl`, `localSourceControl` or `registry`), `location` and `state`;
//! version 3 adds `originHash`, a hash of the manifests the pins were resolved from.
//!
//! The file records no dependency graph and no project, so a root named after the directory
//! depends on every pin. Package URLs follow the purl `swift` type: the namespace is the
//! repository host and owner (`github.com/apple`), the name the repository name.

use serde::Deserialize;
use vouch_inventory::{Ecosystem, Inventory, Package, Source};

use crate::common::{self, Lines};
use crate::nuget::{Head, project_name};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses a `Package.resolved`.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    // The version decides the layout, so it is checked before the pins are read.
    let head: Head = common::json(file, text)?;
    let version = head
        .version
        .ok_or_else(|| ParseError::missing(file, "version", "the lockfile"))?;
    let version = version
        .as_u64()
        .filter(|v| (1..=3).contains(v))
        .ok_or_else(|| {
            ParseError::new(
                file,
                ParseErrorKind::UnsupportedVersion {
                    what: "version".to_owned(),
                    found: version.to_string(),
                    supported: "1, 2 and 3".to_owned(),
                },
            )
        })?;
    let resolved: Resolved = common::json(file, text)?;
    let pins: Vec<Pin> = match version {
        1 => resolved
            .object
            .ok_or_else(|| ParseError::missing(file, "object", "a version 1 `Package.resolved`"))?
            .pins
            .into_iter()
            .map(|p| Pin {
                key: "package",
                identity: p.package,
                kind: None,
                location: Some(p.repository_url),
                state: p.state,
            })
            .collect(),
        _ => resolved
            .pins
            .ok_or_else(|| ParseError::missing(file, "pins", "the lockfile"))?
            .into_iter()
            .map(|p| Pin {
                key: "identity",
                identity: p.identity,
                kind: Some(p.kind),
                location: p.location,
                state: p.state,
            })
            .collect(),
    };
    common::check_entries(file, pins.len(), "pins")?;

    let lines = Lines::new(text);
    let mut inv = Inventory::new();
    let mut root = Package::new(Ecosystem::Swift, project_name(file)).found_in(file, None);
    if let Some(hash) = resolved.origin_hash {
        root.properties
            .insert("vouch:swift-origin-hash".to_owned(), hash);
    }
    let root = inv.add_root(root);

    let mut cursor = 0;
    for pin in pins {
        // Every pin has its key (`identity` or `package`) once, in order; the entry starts
        // at the brace before it.
        let line = common::find_from(text, &format!("\"{}\"", pin.key), cursor).map(|at| {
            cursor = at + 1;
            let open = text.get(..at).and_then(|t| t.rfind('{')).unwrap_or(at);
            lines.line_of(open)
        });
        let p = pin_package(file, &pin, line)?;
        let id = inv.add(p);
        inv.depend(&root, &id);
    }
    Ok(inv)
}

#[derive(Deserialize)]
struct Resolved {
    object: Option<ObjectV1>,
    pins: Option<Vec<PinV2>>,
    #[serde(rename = "originHash")]
    origin_hash: Option<String>,
}

#[derive(Deserialize)]
struct ObjectV1 {
    pins: Vec<PinV1>,
}

#[derive(Deserialize)]
struct PinV1 {
    package: String,
    #[serde(rename = "repositoryURL")]
    repository_url: String,
    state: State,
}

#[derive(Deserialize)]
struct PinV2 {
    identity: String,
    kind: String,
    location: Option<String>,
    state: State,
}

#[derive(Deserialize)]
struct State {
    branch: Option<String>,
    revision: Option<String>,
    version: Option<String>,
}

/// A pin of either version, normalised.
struct Pin {
    /// The JSON key that names the pin, used to find its line.
    key: &'static str,
    identity: String,
    /// `None` in version 1, where every pin is a remote repository.
    kind: Option<String>,
    location: Option<String>,
    state: State,
}

fn pin_package(file: &str, pin: &Pin, line: Option<u32>) -> Result<Package, ParseError> {
    let at = |e: ParseError| e.at_line_opt(line);
    let context = || format!("pin `{}`", pin.identity);
    let state = &pin.state;
    let version = state.version.as_deref().or(state.revision.as_deref());
    let kind = pin.kind.as_deref().unwrap_or("remoteSourceControl");
    let location = pin.location.as_deref().filter(|l| !l.is_empty());
    let mut p = match kind {
        "remoteSourceControl" | "localSourceControl" => {
            let location =
                location.ok_or_else(|| at(ParseError::missing(file, "location", context())))?;
            let repo = (kind == "remoteSourceControl")
                .then(|| repository_path(location))
                .flatten();
            let mut p = match repo {
                Some((namespace, name)) => common::package(
                    Ecosystem::Swift,
                    Some(&namespace),
                    &name,
                    version,
                    file,
                    line,
                ),
                // A local repository has no host to name it by: identity, version and the
                // path it was cloned from identify it.
                None => {
                    let mut p =
                        Package::new(Ecosystem::Swift, pin.identity.as_str()).found_in(file, line);
                    p.version = version.map(str::to_owned);
                    p
                }
            };
            p.source = Source::Git {
                url: location.to_owned(),
                commit: state.revision.clone(),
                reference: state.branch.clone(),
            };
            p
        }
        "registry" => {
            // Registry identities are `scope.name` (SE-0292).
            let (scope, name) = pin.identity.split_once('.').ok_or_else(|| {
                at(ParseError::invalid(
                    file,
                    "identity",
                    "`scope.name`",
                    &pin.identity,
                ))
            })?;
            let mut p = common::package(Ecosystem::Swift, Some(scope), name, version, file, line);
            p.source = Source::Registry {
                url: location.map(str::to_owned),
            };
            p
        }
        other => {
            return Err(at(ParseError::invalid(
                file,
                "kind",
                "`remoteSourceControl`, `localSourceControl` or `registry`",
                other,
            )));
        }
    };
    if version.is_none() {
        return Err(at(ParseError::missing(file, "state.version", context())));
    }
    p.properties
        .insert("vouch:swift-identity".to_owned(), pin.identity.clone());
    if pin.kind.is_some() {
        p.properties
            .insert("vouch:swift-kind".to_owned(), kind.to_owned());
    }
    if let Some(branch) = &state.branch {
        p.properties
            .insert("vouch:swift-branch".to_owned(), branch.clone());
    }
    Ok(p)
}

/// Splits a repository URL into the purl namespace (host and owner path) and name:
/// `https://github.com/apple/swift-nio.git` → (`github.com/apple`, `swift-nio`). Handles
/// `scheme://[user@]host[:port]/path` and scp-like `user@host:path`; `None` for a local path.
pub(crate) fn repository_path(url: &str) -> Option<(String, String)> {
    let (host, path) = match url.split_once("://") {
        Some((scheme, rest)) => {
            if scheme.eq_ignore_ascii_case("file") {
                return None;
            }
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let host = match host.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
                _ => host,
            };
            (host, path)
        }
        None => {
            // scp-like syntax: a colon before any slash.
            let (authority, path) = url.split_once(':')?;
            if authority.contains('/') {
                return None;
            }
            (
                authority.rsplit_once('@').map_or(authority, |(_, h)| h),
                path,
            )
        }
    };
    if host.is_empty() {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = match path.rsplit_once('/') {
        Some((owner, name)) => (Some(owner), name),
        None => (None, path),
    };
    if name.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let namespace = match owner {
        Some(o) => format!("{host}/{o}"),
        None => host,
    };
    Some((namespace, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_paths() {
        let r = |u: &str| repository_path(u);
        let pair = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(
            r("https://github.com/apple/swift-nio.git"),
            pair("github.com/apple", "swift-nio")
        );
        assert_eq!(
            r("git@github.com:apple/swift-nio.git"),
            pair("github.com/apple", "swift-nio")
        );
        assert_eq!(
            r("ssh://git@GitLab.example.com:2222/a/b/c/"),
            pair("gitlab.example.com/a/b", "c")
        );
        assert_eq!(r("/Users/me/src/Foo"), None);
        assert_eq!(r("file:///Users/me/src/Foo"), None);
    }
}

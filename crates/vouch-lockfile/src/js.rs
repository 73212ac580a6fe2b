//! Helpers shared by the JavaScript lockfile readers (npm, yarn, pnpm, bun): npm package and
//! purl construction, `name@spec` splitting, SRI integrity, and the classification of
//! `resolved` URLs (registry tarball, git, plain URL, local path) with credentials removed.

use vouch_inventory::{Digest, Ecosystem, Package, Source};

use crate::common;

/// An npm library package: `@scope/name` becomes purl namespace `@scope` and name `name`.
pub(crate) fn npm_package(
    name: &str,
    version: Option<&str>,
    file: &str,
    line: Option<u32>,
) -> Package {
    let (scope, bare) = common::npm_name(name);
    common::package(Ecosystem::Npm, scope, bare, version, file, line)
}

/// The purl of a project (workspace member), when it has a name an npm purl accepts.
pub(crate) fn root_purl(p: &Package) -> Option<vouch_inventory::PackageUrl> {
    let (scope, bare) = common::npm_name(&p.name);
    common::purl(Ecosystem::Npm, scope, bare, p.version.as_deref())
}

/// A project named after the lockfile's directory (or the file, when it has none), for formats
/// that record no project of their own.
pub(crate) fn synthetic_root(file: &str) -> Package {
    common::synthetic_root(Ecosystem::Npm, file)
}

/// The name of the directory holding `file`, or the file's own name when it has none.
pub(crate) fn dir_name(file: &str) -> String {
    common::dir_name(file).to_owned()
}

/// Splits `name@spec` at the `@` that ends the name (`@scope/name@1.0.0` → `@scope/name`,
/// `1.0.0`). `None` when there is no such `@` or the name is empty.
pub(crate) fn split_spec(s: &str) -> Option<(&str, &str)> {
    let start = usize::from(s.starts_with('@'));
    let at = s.get(start..)?.find('@')? + start;
    let name = s.get(..at)?;
    let spec = s.get(at + 1..)?;
    (!name.is_empty()).then_some((name, spec))
}

/// Records an SRI integrity string as hashes, keeping every algorithm; a malformed value is
/// kept as a property for the lock checks rather than failing the parse.
pub(crate) fn add_integrity(p: &mut Package, integrity: &str) {
    match Digest::from_sri_list(integrity) {
        Ok(digests) if !digests.is_empty() => p.hashes.extend(digests),
        _ => {
            p.properties
                .insert("vouch:integrity-malformed".to_owned(), integrity.to_owned());
        }
    }
}

/// Sets the source and the purl qualifiers the purl specification asks for: `vcs_url` for git,
/// `download_url` for a plain URL.
pub(crate) fn set_source(p: &mut Package, source: Source) {
    let qualifier = match &source {
        Source::Git { url, commit, .. } => Some(("vcs_url", vcs_url(url, commit.as_deref()))),
        Source::Url { url } => Some(("download_url", url.clone())),
        _ => None,
    };
    if let Some((key, value)) = qualifier
        && let Some(purl) = p.purl.take()
    {
        p.purl = Some(purl.clone().with_qualifier(key, &value).unwrap_or(purl));
    }
    p.source = source;
}

/// A purl `vcs_url` value, `git+<url>@<commit>`.
fn vcs_url(url: &str, commit: Option<&str>) -> String {
    let base = if url.starts_with("git+") || url.starts_with("git://") {
        url.to_owned()
    } else {
        format!("git+{url}")
    };
    match commit {
        Some(c) if !c.is_empty() => format!("{base}@{c}"),
        _ => base,
    }
}

/// Classifies a `resolved` URL or a dependency spec: registry tarball, git repository (with the
/// commit from the fragment), `file:` path or other URL. Credentials in URLs are dropped.
pub(crate) fn source_from_resolved(raw: &str) -> Source {
    let r = raw.trim();
    if let Some(path) = r.strip_prefix("file:") {
        return Source::Path {
            path: path.to_owned(),
        };
    }
    if let Some(src) = codeload_git(r) {
        return src;
    }
    if is_git_spec(r) {
        let (url, fragment) = r.split_once('#').unwrap_or((r, ""));
        let (commit, reference) = git_fragment(fragment);
        return Source::Git {
            url: redact_url(url),
            commit,
            reference,
        };
    }
    if r.starts_with("https://") || r.starts_with("http://") {
        let url = redact_url(r);
        // Registries serve tarballs at `<registry>/<name>/-/<name>-<version>.tgz`.
        return if r.contains("/-/") {
            Source::Registry { url: Some(url) }
        } else {
            Source::Url { url }
        };
    }
    Source::Unknown
}

/// Whether a spec names a git repository (as npm, yarn and bun write them).
pub(crate) fn is_git_spec(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "git+",
        "git://",
        "git@",
        "ssh://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ];
    if PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return false;
    };
    let path = rest.split('#').next().unwrap_or(rest);
    if path.ends_with(".git") {
        return true;
    }
    // `https://github.com/owner/repo#sha`: a hosted repository, not a download.
    let host = path.split('/').next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    matches!(host, "github.com" | "gitlab.com" | "bitbucket.org")
        && path.split('/').filter(|s| !s.is_empty()).count() == 3
}

/// `https://codeload.github.com/<owner>/<repo>/tar.gz/<sha>`, GitHub's tarball of a commit, is
/// a git source.
fn codeload_git(url: &str) -> Option<Source> {
    let rest = url.strip_prefix("https://codeload.github.com/")?;
    let mut parts = rest.split('/');
    let (owner, repo, kind, commit) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if !matches!(kind, "tar.gz" | "legacy.tar.gz" | "zip") || commit.is_empty() {
        return None;
    }
    Some(Source::Git {
        url: format!("https://github.com/{owner}/{repo}.git"),
        commit: Some(commit.to_owned()),
        reference: None,
    })
}

/// Reads a git URL fragment: a bare commit (`#<hex>`), a reference (`#main`), or yarn berry's
/// `commit=<hex>&head=<ref>` parameters.
pub(crate) fn git_fragment(fragment: &str) -> (Option<String>, Option<String>) {
    let mut commit = None;
    let mut reference = None;
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .or_else(|| part.split_once(':'))
            .unwrap_or(("", part));
        match k {
            "commit" => commit = Some(v.to_owned()),
            "" if is_hex_commit(v) => commit = Some(v.to_owned()),
            _ => reference = Some(v.to_owned()),
        }
    }
    (commit, reference)
}

/// Whether `s` looks like a (possibly abbreviated) git commit id.
pub(crate) fn is_hex_commit(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Drops credentials from a URL: user and password for http(s), the password elsewhere (the
/// `git@` user of an ssh URL is kept, as it is not a secret).
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or(rest);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let tail = rest.get(authority_end..).unwrap_or("");
    if scheme.contains("ssh") && !userinfo.contains(':') {
        return url.to_owned();
    }
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_split() {
        assert_eq!(
            split_spec("@babel/core@7.0.0"),
            Some(("@babel/core", "7.0.0"))
        );
        assert_eq!(split_spec("lodash@npm:^4"), Some(("lodash", "npm:^4")));
        assert_eq!(split_spec("lodash"), None);
        assert_eq!(split_spec("@x"), None);
    }

    #[test]
    fn resolved_urls() {
        assert_eq!(
            source_from_resolved(
                "git+ssh://git@github.com/a/b.git#0123456789abcdef0123456789abcdef01234567"
            ),
            Source::Git {
                url: "git+ssh://git@github.com/a/b.git".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
                reference: None
            }
        );
        assert_eq!(
            source_from_resolved("https://tok@github.com/a/b.git#main"),
            Source::Git {
                url: "https://github.com/a/b.git".into(),
                commit: None,
                reference: Some("main".into())
            }
        );
        assert_eq!(
            source_from_resolved("https://registry.npmjs.org/a/-/a-1.0.0.tgz"),
            Source::Registry {
                url: Some("https://registry.npmjs.org/a/-/a-1.0.0.tgz".into())
            }
        );
        assert_eq!(
            source_from_resolved("file:../x"),
            Source::Path {
                path: "../x".into()
            }
        );
    }
}

//! Source checks: TLS (`insecure-source`), the host allowlist (`source-not-allowed`), git pins
//! (`unpinned-git`) and npm tarball URLs that name another package (`resolved-mismatch`).

use vouch_inventory::{Ecosystem, Package, Source};

use super::{CheckOptions, Code, Finding, ecosystem_of, excerpt, label};
use crate::Format;

/// Each ecosystem's public registry hosts: the default allowlist. Ecosystems without a
/// registry of their own (SwiftPM fetches git repositories) have none, and their sources are
/// checked against the allowlist only when hosts are configured.
pub fn default_hosts(ecosystem: Ecosystem) -> &'static [&'static str] {
    match ecosystem {
        Ecosystem::Cargo => &["crates.io", "index.crates.io", "static.crates.io"],
        // registry.yarnpkg.com is Yarn's alias of the npm registry.
        Ecosystem::Npm => &["registry.npmjs.org", "registry.yarnpkg.com"],
        Ecosystem::Pypi => &["pypi.org", "files.pythonhosted.org", "pypi.python.org"],
        Ecosystem::Golang => &["proxy.golang.org"],
        Ecosystem::Gem => &["rubygems.org", "index.rubygems.org"],
        // Packagist serves dist archives of GitHub-hosted packages from GitHub's zipball API.
        Ecosystem::Composer => &["repo.packagist.org", "packagist.org", "api.github.com"],
        Ecosystem::Maven => &["repo.maven.apache.org", "repo1.maven.org"],
        Ecosystem::Nuget => &["api.nuget.org"],
        Ecosystem::Pub => &["pub.dev", "pub.dartlang.org"],
        Ecosystem::Hex => &["repo.hex.pm", "hex.pm"],
        Ecosystem::Conan => &["center.conan.io", "center2.conan.io"],
        _ => &[],
    }
}

/// The hosts allowed for one check run.
pub(super) struct Allowlist {
    extra: Vec<String>,
    replace: bool,
}

impl Allowlist {
    pub(super) fn new(options: &CheckOptions) -> Self {
        Allowlist {
            extra: options
                .allowed_hosts
                .iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            replace: options.replace_default_hosts,
        }
    }

    /// `None` when this ecosystem has no allowlist at all; otherwise whether `host` is on it.
    fn allows(&self, ecosystem: Ecosystem, host: &str) -> Option<bool> {
        let defaults: &[&str] = if self.replace {
            &[]
        } else {
            default_hosts(ecosystem)
        };
        if defaults.is_empty() && self.extra.is_empty() {
            return None;
        }
        let host = host.to_ascii_lowercase();
        let matches = |pattern: &str| match pattern.strip_prefix("*.") {
            Some(base) => host
                .strip_suffix(base)
                .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
            None => host == pattern,
        };
        Some(defaults.iter().any(|d| matches(d)) || self.extra.iter().any(|e| matches(e)))
    }

    /// The allowlist as shown in messages.
    fn describe(&self, ecosystem: Ecosystem) -> String {
        let mut hosts: Vec<String> = Vec::new();
        if !self.replace {
            hosts.extend(default_hosts(ecosystem).iter().map(|h| (*h).to_owned()));
        }
        hosts.extend(self.extra.iter().cloned());
        hosts.join(", ")
    }
}

/// A URL split into the parts the checks need.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Url<'a> {
    /// Lowercase scheme without `git+` (`https`, `http`, `ssh`, `git`, `file`).
    pub(super) scheme: String,
    /// Host without user information or port.
    pub(super) host: &'a str,
    /// Path and what follows, starting with `/` (or empty).
    pub(super) path: &'a str,
}

/// Splits `scheme://[user@]host[:port]/path`, the scp-like `user@host:path` that git accepts,
/// and the `github:`/`gitlab:`/`bitbucket:` shorthands of npm and yarn.
pub(super) fn split_url(raw: &str) -> Option<Url<'_>> {
    let raw = raw.trim();
    for (prefix, host) in [
        ("github:", "github.com"),
        ("gitlab:", "gitlab.com"),
        ("bitbucket:", "bitbucket.org"),
        ("gist:", "gist.github.com"),
    ] {
        if let Some(rest) = raw.strip_prefix(prefix) {
            return Some(Url {
                scheme: "https".to_owned(),
                host,
                path: rest,
            });
        }
    }
    if let Some((scheme, rest)) = raw.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        let scheme = scheme
            .strip_prefix("git+")
            .map(str::to_owned)
            .unwrap_or(scheme);
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end)?;
        let path = rest.get(end..)?;
        let host_port = authority.rsplit('@').next().unwrap_or(authority);
        let host = if host_port.starts_with('[') {
            host_port
                .split(']')
                .next()
                .map(|h| h.trim_start_matches('['))?
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        if host.is_empty() {
            return None;
        }
        return Some(Url { scheme, host, path });
    }
    // scp-like: git@github.com:owner/repo.git
    let (user_host, path) = raw.split_once(':')?;
    let (_, host) = user_host.rsplit_once('@')?;
    if host.is_empty() || host.contains('/') {
        return None;
    }
    Some(Url {
        scheme: "ssh".to_owned(),
        host,
        path,
    })
}

pub(super) fn check(
    format: Format,
    p: &Package,
    file: &str,
    line: Option<u32>,
    allow: &Allowlist,
    out: &mut Vec<Finding>,
) {
    let ecosystem = ecosystem_of(format);
    match &p.source {
        Source::Registry { url: Some(url) } | Source::Url { url } => {
            let Some(u) = split_url(url) else {
                return;
            };
            check_transport(p, file, line, url, &u, out);
            check_host(ecosystem, p, file, line, url, &u, allow, out);
            if ecosystem == Ecosystem::Npm {
                check_npm_tarball(p, file, line, url, &u, out);
            }
        }
        Source::Git {
            url,
            commit,
            reference,
        } => {
            if let Some(u) = split_url(url) {
                check_transport(p, file, line, url, &u, out);
                check_host(ecosystem, p, file, line, url, &u, allow, out);
            }
            let full = commit.as_deref().is_some_and(is_full_commit);
            if !full {
                let found = commit
                    .as_deref()
                    .or(reference.as_deref())
                    .map(|r| format!("`{}`", excerpt(r)))
                    .unwrap_or_else(|| "no revision".to_owned());
                out.push(
                    Finding::new(
                        Code::UnpinnedGit,
                        file,
                        line,
                        format!(
                            "`{}` comes from git `{}` at {found}, not a full commit",
                            label(p),
                            excerpt(url)
                        ),
                    )
                    .package(p)
                    .hint("pin the dependency to a full 40-character commit id; a branch, tag or short id can be moved to other code")
                    .expected_found("a full commit id (40 or 64 hex digits)", found.trim_matches('`')),
                );
            }
        }
        _ => {}
    }
}

fn is_full_commit(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_transport(
    p: &Package,
    file: &str,
    line: Option<u32>,
    raw: &str,
    u: &Url<'_>,
    out: &mut Vec<Finding>,
) {
    if matches!(u.scheme.as_str(), "http" | "git" | "ftp") {
        out.push(
            Finding::new(
                Code::InsecureSource,
                file,
                line,
                format!(
                    "`{}` is fetched over `{}://`, without TLS: `{}`",
                    label(p),
                    u.scheme,
                    excerpt(raw)
                ),
            )
            .package(p)
            .hint("use the `https://` (or `ssh://`) URL of the same source")
            .expected_found("https", u.scheme.clone()),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check_host(
    ecosystem: Ecosystem,
    p: &Package,
    file: &str,
    line: Option<u32>,
    raw: &str,
    u: &Url<'_>,
    allow: &Allowlist,
    out: &mut Vec<Finding>,
) {
    if allow.allows(ecosystem, u.host) == Some(false) {
        out.push(
            Finding::new(
                Code::SourceNotAllowed,
                file,
                line,
                format!(
                    "`{}` comes from `{}`, which is not an allowed host: `{}`",
                    label(p),
                    u.host,
                    excerpt(raw)
                ),
            )
            .package(p)
            .hint(format!(
                "if `{}` is a registry you trust, pass `--allow-host {}` or add it to `allowed-hosts` under `[lock]` in vouch.toml",
                u.host, u.host
            ))
            .expected_found(allow.describe(ecosystem), u.host),
        );
    }
}

/// npm registries serve a version's tarball at `<registry>/<name>/-/<bare name>-<version>.tgz`
/// (a scoped name may be written `@scope%2fname`). A URL of that shape that names another
/// package or version was edited by hand or by an attacker.
fn check_npm_tarball(
    p: &Package,
    file: &str,
    line: Option<u32>,
    raw: &str,
    u: &Url<'_>,
    out: &mut Vec<Finding>,
) {
    let path = u.path.split(['?', '#']).next().unwrap_or(u.path);
    let Some((left, right)) = path.rsplit_once("/-/") else {
        return;
    };
    let Some(file_stem) = right.strip_suffix(".tgz") else {
        return;
    };
    let left = crate::common::percent_decode(left);
    let file_stem = crate::common::percent_decode(file_stem);
    let bare = p.name.rsplit('/').next().unwrap_or(&p.name);
    let name_ok = left
        .strip_suffix(p.name.as_str())
        .is_some_and(|before| before.is_empty() || before.ends_with('/'));
    let (expected_file, file_ok) = match &p.version {
        Some(v) => {
            // GitLab's and some other registries name a scoped tarball after the full name.
            let want = format!("{bare}-{v}");
            let ok = file_stem == want || file_stem == format!("{}-{v}", p.name);
            (want, ok)
        }
        None => {
            let ok = file_stem.starts_with(&format!("{bare}-"));
            (format!("{bare}-<version>"), ok)
        }
    };
    if !name_ok || !file_ok {
        let expected = format!("<registry>/{}/-/{expected_file}.tgz", p.name);
        out.push(
            Finding::new(
                Code::ResolvedMismatch,
                file,
                line,
                format!(
                    "`{}` resolves to `{}`, a tarball of another package or version",
                    label(p),
                    excerpt(raw)
                ),
            )
            .package(p)
            .hint("a resolved URL that names another package is how a lockfile swaps code; restore the entry from version control or reinstall the package")
            .expected_found(expected, excerpt(raw)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = split_url("https://user:pw@registry.example.com:8443/a/-/a-1.tgz").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host, u.path),
            ("https", "registry.example.com", "/a/-/a-1.tgz")
        );
        let u = split_url("git+ssh://git@github.com/a/b.git#abc").unwrap();
        assert_eq!((u.scheme.as_str(), u.host), ("ssh", "github.com"));
        let u = split_url("git@gitlab.com:a/b.git").unwrap();
        assert_eq!((u.scheme.as_str(), u.host), ("ssh", "gitlab.com"));
        assert_eq!(split_url("github:a/b").unwrap().host, "github.com");
        assert_eq!(split_url("hexpm"), None);
    }

    #[test]
    fn wildcard_hosts() {
        let opts = CheckOptions {
            allowed_hosts: vec!["*.corp.example".into()],
            ..CheckOptions::default()
        };
        let a = Allowlist::new(&opts);
        assert_eq!(a.allows(Ecosystem::Npm, "npm.corp.example"), Some(true));
        assert_eq!(a.allows(Ecosystem::Npm, "corp.example"), Some(false));
        assert_eq!(a.allows(Ecosystem::Npm, "evilcorp.example"), Some(false));
        assert_eq!(a.allows(Ecosystem::Npm, "registry.npmjs.org"), Some(true));
        let none = Allowlist::new(&CheckOptions::default());
        assert_eq!(none.allows(Ecosystem::Swift, "github.com"), None);
    }
}

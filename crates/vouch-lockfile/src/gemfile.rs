//! Parser for Bundler's `Gemfile.lock` (also named `gems.locked`).
//!
//! Format: <https://bundler.io/guides/bundler_how_to_read_gemfile_lock.html> (written by
//! Bundler's `LockfileGenerator`, read by its `LockfileParser`). Sections start at column 0:
//!
//! - `GEM`, `GIT`, `PATH` (and `PLUGIN SOURCE`): two-space `key: value` options (`remote`,
//!   `revision`, `branch`, `tag`, `ref`, ...), then `specs:` with four-space `name (version)`
//!   lines, each followed by six-space `name (constraints)` dependency lines. A version may
//!   carry a platform after the first `-`: `nokogiri (1.16.0-x86_64-linux)`.
//! - `DEPENDENCIES`: the Gemfile's direct dependencies; a trailing `!` means the gem comes from
//!   a `GIT` or `PATH` source.
//! - `CHECKSUMS` (Bundler 2.5+): `name (version[-platform]) sha256=hex`.
//! - `PLATFORMS`, `RUBY VERSION`, `BUNDLED WITH`: recorded on the root as properties.
//!
//! The lockfile names no project, so the root is named after its directory; `PATH` gems are
//! local code and become projects too. Purls follow the purl `gem` type: `platform` qualifier
//! for platform gems, `repository_url` for a registry other than rubygems.org, `vcs_url` for
//! `GIT` gems.

use hashbrown::HashMap;
use vouch_inventory::{Digest, Ecosystem, Inventory, Package, PackageId, Source};

use crate::cargo::{git_vcs_url, synthetic_root};
use crate::common;
use crate::{Input, ParseError};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let lock = read(file, text)?;

    let mut inv = Inventory::new();
    let mut root_pkg = synthetic_root(Ecosystem::Gem, file);
    for (key, value) in [
        ("vouch:ruby-version", &lock.ruby_version),
        ("vouch:bundler-version", &lock.bundled_with),
    ] {
        if let Some(v) = value {
            root_pkg.properties.insert(key.to_owned(), v.clone());
        }
    }
    if !lock.platforms.is_empty() {
        root_pkg
            .properties
            .insert("vouch:platforms".to_owned(), lock.platforms.join(", "));
    }
    let root = inv.add_root(root_pkg);

    let mut ids: Vec<PackageId> = Vec::with_capacity(lock.specs.len());
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, spec) in lock.specs.iter().enumerate() {
        let source = lock.sources.get(spec.source);
        let pkg = spec_package(file, spec, source, &lock.checksums);
        let id = match source.map(|s| s.kind) {
            Some(SectionKind::Path) => inv.add_root(pkg),
            _ => inv.add(pkg),
        };
        ids.push(id);
        by_name.entry(spec.name.as_str()).or_default().push(i);
    }
    for (spec, from) in lock.specs.iter().zip(&ids) {
        for dep in &spec.deps {
            for to in by_name.get(dep.as_str()).into_iter().flatten() {
                if let Some(to) = ids.get(*to) {
                    inv.depend(from, to);
                }
            }
        }
    }
    for dep in &lock.dependencies {
        for to in by_name.get(dep.as_str()).into_iter().flatten() {
            if let Some(to) = ids.get(*to) {
                inv.depend(&root, to);
            }
        }
    }
    Ok(inv)
}

/// The kinds of section that hold specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Gem,
    Git,
    Path,
    Plugin,
}

/// Where the lines being read belong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Source(SectionKind),
    Platforms,
    Dependencies,
    Checksums,
    RubyVersion,
    BundledWith,
    /// A section this version of vouch does not know; Bundler skips those too.
    Unknown,
}

/// A `GEM`, `GIT`, `PATH` or `PLUGIN SOURCE` section's options.
struct SourceSection {
    kind: SectionKind,
    remotes: Vec<String>,
    options: HashMap<String, String>,
}

/// One `name (version)` spec line and its dependency lines.
struct Spec {
    name: String,
    version: String,
    platform: Option<String>,
    /// Index into [`Lock::sources`].
    source: usize,
    line: u32,
    deps: Vec<String>,
}

#[derive(Default)]
struct Lock {
    sources: Vec<SourceSection>,
    specs: Vec<Spec>,
    platforms: Vec<String>,
    dependencies: Vec<String>,
    /// `(name, version as written)` → the checksum tokens.
    checksums: HashMap<(String, String), Vec<String>>,
    ruby_version: Option<String>,
    bundled_with: Option<String>,
}

fn read(file: &str, text: &str) -> Result<Lock, ParseError> {
    let mut lock = Lock::default();
    let mut section: Option<Section> = None;
    let mut in_specs = false;
    for (idx, raw) in text.lines().enumerate() {
        let n = idx + 1;
        let line = raw.trim_end_matches('\r');
        if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
            .iter()
            .any(|m| line.starts_with(m))
        {
            return Err(ParseError::invalid(
                file,
                "lockfile",
                "no merge conflict markers (resolve the conflict and run `bundle lock`)",
                line,
            )
            .at_line(n));
        }
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line.trim();
        if indent == 0 {
            in_specs = false;
            let s = match content {
                "GEM" => Section::Source(SectionKind::Gem),
                "GIT" => Section::Source(SectionKind::Git),
                "PATH" => Section::Source(SectionKind::Path),
                "PLUGIN SOURCE" => Section::Source(SectionKind::Plugin),
                "PLATFORMS" => Section::Platforms,
                "DEPENDENCIES" => Section::Dependencies,
                "CHECKSUMS" => Section::Checksums,
                "RUBY VERSION" => Section::RubyVersion,
                "BUNDLED WITH" => Section::BundledWith,
                _ => Section::Unknown,
            };
            if let Section::Source(kind) = s {
                lock.sources.push(SourceSection {
                    kind,
                    remotes: Vec::new(),
                    options: HashMap::new(),
                });
            }
            section = Some(s);
            continue;
        }
        let Some(s) = section else {
            return Err(ParseError::invalid(
                file,
                "lockfile",
                "a section header such as `GEM` before indented lines",
                content,
            )
            .at_line(n));
        };
        match s {
            Section::Source(_) => {
                if indent == 2 {
                    if content == "specs:" {
                        in_specs = true;
                    } else if let (Some((key, value)), Some(src)) =
                        (content.split_once(':'), lock.sources.last_mut())
                    {
                        let value = value.trim().to_owned();
                        if key == "remote" {
                            src.remotes.push(value);
                        } else {
                            src.options.insert(key.to_owned(), value);
                        }
                    }
                } else if in_specs && indent == 4 {
                    let spec = spec_line(file, n, content, lock.sources.len())?;
                    lock.specs.push(spec);
                    common::check_entries(file, lock.specs.len(), "specs")?;
                } else if in_specs && indent == 6 {
                    let (name, _) = name_and_paren(content);
                    match lock.specs.last_mut() {
                        Some(spec) => spec.deps.push(name.to_owned()),
                        None => {
                            return Err(ParseError::invalid(
                                file,
                                "specs",
                                "a four-space `name (version)` line before dependency lines",
                                content,
                            )
                            .at_line(n));
                        }
                    }
                } else {
                    return Err(ParseError::invalid(
                        file,
                        "specs",
                        "two-space options, four-space specs or six-space dependencies",
                        line,
                    )
                    .at_line(n));
                }
            }
            Section::Platforms => lock.platforms.push(content.to_owned()),
            Section::Dependencies => {
                let c = content.strip_suffix('!').unwrap_or(content);
                let (name, _) = name_and_paren(c);
                lock.dependencies.push(name.to_owned());
            }
            Section::Checksums => {
                let (name, version) = name_and_paren(content);
                let Some(version) = version else {
                    return Err(ParseError::missing(
                        file,
                        "version",
                        format!("checksum entry `{name}`"),
                    )
                    .at_line(n));
                };
                let sums = content
                    .rsplit_once(") ")
                    .map(|(_, s)| s)
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                lock.checksums
                    .insert((name.to_owned(), version.to_owned()), sums);
            }
            Section::RubyVersion => lock.ruby_version = Some(content.to_owned()),
            Section::BundledWith => lock.bundled_with = Some(content.to_owned()),
            Section::Unknown => {}
        }
    }
    Ok(lock)
}

/// Reads a four-space spec line; `sources` is the count of source sections so far (the spec
/// belongs to the last one).
fn spec_line(file: &str, n: usize, content: &str, sources: usize) -> Result<Spec, ParseError> {
    let (name, version) = name_and_paren(content);
    let full = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ParseError::missing(file, "version", format!("spec `{name}`")).at_line(n))?;
    // Bundler's own parser: the version is everything before the first `-`, the platform
    // everything after it.
    let (version, platform) = match full.split_once('-') {
        Some((v, p)) => (v, Some(p.to_owned())),
        None => (full, None),
    };
    Ok(Spec {
        name: name.to_owned(),
        version: version.to_owned(),
        platform,
        source: sources.saturating_sub(1),
        line: u32::try_from(n).unwrap_or(u32::MAX),
        deps: Vec::new(),
    })
}

/// Splits `name (inside)` into the name and what is inside the parentheses.
fn name_and_paren(s: &str) -> (&str, Option<&str>) {
    match s.split_once(" (") {
        Some((name, rest)) => (name.trim(), Some(rest.split(')').next().unwrap_or(rest))),
        None => (s.trim(), None),
    }
}

/// Builds the package for one spec.
fn spec_package(
    file: &str,
    spec: &Spec,
    source: Option<&SourceSection>,
    checksums: &HashMap<(String, String), Vec<String>>,
) -> Package {
    let mut pkg = common::package(
        Ecosystem::Gem,
        None,
        &spec.name,
        Some(&spec.version),
        file,
        Some(spec.line),
    );
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &spec.platform {
        qualifiers.push(("platform", p.clone()));
        pkg.properties
            .insert("vouch:gem-platform".to_owned(), p.clone());
    }
    let remote = source.and_then(|s| s.remotes.first()).cloned();
    match source.map(|s| s.kind) {
        Some(SectionKind::Gem) => {
            let remotes = source.map(|s| s.remotes.as_slice()).unwrap_or_default();
            if let Some(r) = remote
                .as_deref()
                .filter(|_| !remotes.iter().any(|r| is_rubygems(r)))
            {
                qualifiers.push(("repository_url", r.to_owned()));
            }
            pkg.source = Source::Registry { url: remote };
        }
        Some(SectionKind::Git) => {
            let opts = source.map(|s| &s.options);
            let opt = |k: &str| opts.and_then(|o| o.get(k)).cloned();
            let commit = opt("revision");
            let reference = opt("branch").or_else(|| opt("tag")).or_else(|| opt("ref"));
            if let Some(url) = remote {
                qualifiers.push(("vcs_url", git_vcs_url(&url, commit.as_deref())));
                pkg.source = Source::Git {
                    url,
                    commit,
                    reference,
                };
            }
            if let Some(glob) = opt("glob") {
                pkg.properties.insert("vouch:gem-glob".to_owned(), glob);
            }
        }
        Some(SectionKind::Path) => {
            pkg.source = Source::Path {
                path: remote.unwrap_or_else(|| ".".to_owned()),
            };
        }
        Some(SectionKind::Plugin) | None => {
            if let Some(t) = source.and_then(|s| s.options.get("type")) {
                pkg.properties
                    .insert("vouch:gem-source-type".to_owned(), t.clone());
            }
            if let Some(url) = remote {
                pkg.properties.insert("vouch:gem-source".to_owned(), url);
            }
        }
    }
    for (key, value) in qualifiers {
        if let Some(purl) = pkg.purl.take() {
            pkg.purl = purl.with_qualifier(key, &value).ok();
        }
    }
    let written = match &spec.platform {
        Some(p) => format!("{}-{p}", spec.version),
        None => spec.version.clone(),
    };
    for token in checksums
        .get(&(spec.name.clone(), written))
        .into_iter()
        .flatten()
    {
        match Digest::from_prefixed(token) {
            Ok(d) => {
                pkg.hashes.insert(d);
            }
            Err(_) => {
                pkg.properties
                    .insert("vouch:integrity-malformed".to_owned(), token.clone());
            }
        }
    }
    pkg
}

/// Whether a `GEM` remote is rubygems.org, the purl `gem` type's default repository.
fn is_rubygems(remote: &str) -> bool {
    let r = remote.trim_end_matches('/');
    r == "https://rubygems.org" || r == "http://rubygems.org" || r == "https://www.rubygems.org"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(name_and_paren("rack (~> 3.0)"), ("rack", Some("~> 3.0")));
        assert_eq!(name_and_paren("base64"), ("base64", None));
        let s = spec_line("Gemfile.lock", 3, "ffi (1.17.1-x86_64-linux-gnu)", 1).unwrap();
        assert_eq!(s.version, "1.17.1");
        assert_eq!(s.platform.as_deref(), Some("x86_64-linux-gnu"));
        assert_eq!(s.source, 0);
    }
}

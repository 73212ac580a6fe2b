//! Parser for `yarn.lock`: classic (v1) and berry (yarn 2 and later).
//!
//! - Classic: <https://classic.yarnpkg.com/en/docs/yarn-lock>. Its own indented syntax: each
//!   block starts with the comma-separated descriptors it satisfies (`"a@^1", a@^1.2:`), then
//!   `version`, `resolved` (a URL whose `#fragment` is the tarball's SHA-1 or a git commit),
//!   `integrity` (SRI) and `dependencies` / `optionalDependencies` as `name range` lines. The
//!   file records no project: a root named after the lockfile's directory is created.
//! - Berry: <https://yarnpkg.com/advanced/lockfile> (YAML with `__metadata`). Each key is the
//!   descriptor list, `resolution` the locator (`name@npm:1.2.3`, `name@workspace:.`,
//!   `name@patch:inner#patch`, git URLs with `#commit=`), `checksum` a hash of yarn's own zip
//!   archive (kept as a property: it is not a digest of the npm tarball), `linkType: soft`
//!   entries are workspaces and links.
//!
//! Dependency edges follow the descriptors: a block's `dependencies` entry `name range` points
//! at the block listing `name@range` (berry adds the default `npm:` protocol to bare ranges).

use std::borrow::Cow;

use hashbrown::HashMap;
use serde::Deserialize;
use vouch_inventory::{Algorithm, Digest, Ecosystem, Handle, Inventory, Package, Source};

use crate::borrow::{KeyFinder, Ordered, Scalar, Str};
use crate::common::{self, Lines, MAX_ENTRIES};
use crate::js::{
    add_integrity, is_git_spec, npm_package, root_purl, set_source, source_from_resolved,
    split_spec, synthetic_root,
};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let text = input.text()?;
    let first = text
        .lines()
        .map(str::trim_end)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if first == Some("__metadata:") {
        parse_berry(input.file, text)
    } else {
        parse_classic(input.file, text)
    }
}

// ---------------------------------------------------------------------------------------------
// Classic (v1).

/// One block of a classic lockfile. Strings borrow from the lockfile's text unless unquoting
/// changed them.
#[derive(Default)]
struct Block<'t> {
    line: usize,
    descriptors: Vec<Cow<'t, str>>,
    /// The fields vouch reads; a repeated field keeps its last value.
    version: Option<Cow<'t, str>>,
    resolved: Option<Cow<'t, str>>,
    integrity: Option<Cow<'t, str>>,
    dependencies: Vec<(Cow<'t, str>, Cow<'t, str>)>,
}

fn parse_classic(file: &str, text: &str) -> Result<Inventory, ParseError> {
    let blocks = tokenize_classic(file, text)?;
    let mut inv = Inventory::new();
    let root = inv.add_root(synthetic_root(file));
    // Descriptor → index into `ids`.
    let mut by_descriptor: HashMap<&str, usize> = HashMap::new();
    let mut ids = Vec::with_capacity(blocks.len());
    for b in &blocks {
        let id = classic_package(file, b, &mut inv)?;
        for d in &b.descriptors {
            by_descriptor.insert(d, ids.len());
        }
        ids.push(id);
    }
    let mut descriptor = String::new();
    for (b, id) in blocks.iter().zip(&ids) {
        for (name, range) in &b.dependencies {
            descriptor.clear();
            descriptor.push_str(name);
            descriptor.push('@');
            descriptor.push_str(range);
            if let Some(to) = by_descriptor
                .get(descriptor.as_str())
                .and_then(|&i| ids.get(i))
            {
                inv.depend_handles(*id, *to);
            }
        }
    }
    // Classic yarn.lock does not say which packages the project asked for.
    inv.attach_unreachable(&root);
    Ok(inv)
}

fn classic_package(file: &str, b: &Block<'_>, inv: &mut Inventory) -> Result<Handle, ParseError> {
    let first = b.descriptors.first().map_or("", |d| d.as_ref());
    let context = || format!("package `{first}`");
    let (desc_name, _) = split_spec(first).ok_or_else(|| {
        ParseError::invalid(file, "descriptor", "`name@range`", first).at_line(b.line)
    })?;
    // `alias@npm:real@range` installs `real` under the name `alias`.
    let alias_target = b.descriptors.iter().find_map(|d| {
        let (_, range) = split_spec(d)?;
        split_spec(range.strip_prefix("npm:")?).map(|(real, _)| real)
    });
    let name = alias_target.unwrap_or(desc_name);
    let version = b
        .version
        .as_deref()
        .ok_or_else(|| ParseError::missing(file, "version", context()).at_line(b.line))?;
    let line = u32::try_from(b.line).ok();
    // `file:` folders and tarballs are part of the project, not third-party packages.
    let local = b.descriptors.iter().find_map(|d| {
        let (_, range) = split_spec(d)?;
        range
            .strip_prefix("file:")
            .or_else(|| range.strip_prefix("link:"))
    });
    if let Some(path) = local {
        let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
        project.version = Some(version.to_owned());
        project.purl = root_purl(&project);
        project.source = Source::Path {
            path: path.to_owned(),
        };
        return Ok(inv.add_root_handle(project));
    }
    let mut p = npm_package(name, Some(version), file, line);
    if alias_target.is_some() && desc_name != name {
        p.properties
            .insert("vouch:npm-alias".to_owned(), desc_name.to_owned());
    }
    if let Some(resolved) = b.resolved.as_deref() {
        let (url, fragment) = resolved.split_once('#').unwrap_or((resolved, ""));
        if is_git_spec(resolved) {
            set_source(&mut p, source_from_resolved(resolved));
        } else {
            // A registry tarball's fragment is the SHA-1 of the tarball.
            if !fragment.is_empty() {
                match Digest::from_hex(Algorithm::Sha1, fragment) {
                    Ok(d) => {
                        p.hashes.insert(d);
                    }
                    Err(_) => {
                        p.properties
                            .insert("vouch:integrity-malformed".to_owned(), fragment.to_owned());
                    }
                }
            }
            set_source(&mut p, source_from_resolved(url));
        }
    }
    if let Some(integrity) = b.integrity.as_deref() {
        add_integrity(&mut p, integrity);
    }
    Ok(inv.add_handle(p))
}

/// Reads the classic syntax into blocks: descriptors at column 0, fields at 2, dependency maps
/// at 4.
fn tokenize_classic<'t>(file: &str, text: &'t str) -> Result<Vec<Block<'t>>, ParseError> {
    let mut blocks: Vec<Block<'t>> = Vec::new();
    // The open sub-map (`dependencies:`), if any, and whether it lists dependencies.
    let mut submap: Option<bool> = None;
    // Scratch space for the pieces of a line, reused from line to line.
    let mut parts: Vec<&'t str> = Vec::new();
    let mut tokens: Vec<Cow<'t, str>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let syntax = |msg: &str| {
            ParseError::syntax(file, "yarn.lock", msg.to_owned(), Some((n, indent + 1)))
        };
        match indent {
            0 => {
                let header = content
                    .strip_suffix(':')
                    .ok_or_else(|| syntax("expected `descriptor:` at the start of a block"))?;
                let descriptors = split_descriptors(header).map_err(|m| syntax(&m))?;
                if descriptors.is_empty() {
                    return Err(syntax("a block needs at least one descriptor"));
                }
                if blocks.len() >= MAX_ENTRIES {
                    return Err(ParseError::new(
                        file,
                        ParseErrorKind::TooMany {
                            what: "packages",
                            limit: MAX_ENTRIES,
                        },
                    ));
                }
                blocks.push(Block {
                    line: n,
                    descriptors,
                    ..Block::default()
                });
                submap = None;
            }
            2 | 4 => {
                let block = blocks
                    .last_mut()
                    .ok_or_else(|| syntax("a field outside any block"))?;
                tokens_into(content, &mut parts, &mut tokens).map_err(|m| syntax(&m))?;
                let mut it = tokens.drain(..);
                let key = it.next().unwrap_or_default();
                let value = it.next();
                if it.next().is_some() {
                    return Err(syntax("expected `key value`"));
                }
                drop(it);
                if indent == 2 {
                    match (key.strip_suffix(':'), value) {
                        (Some(map), None) => {
                            submap = Some(matches!(map, "dependencies" | "optionalDependencies"));
                        }
                        (_, None) => return Err(syntax("expected `key value`")),
                        (_, Some(v)) => {
                            submap = None;
                            let field = match key.strip_suffix(':').unwrap_or(&key) {
                                "version" => &mut block.version,
                                "resolved" => &mut block.resolved,
                                "integrity" => &mut block.integrity,
                                _ => continue,
                            };
                            *field = Some(v);
                        }
                    }
                } else {
                    let Some(is_dependencies) = submap else {
                        return Err(syntax("an indented entry outside `dependencies:`"));
                    };
                    let value = value.ok_or_else(|| syntax("expected `name range`"))?;
                    if is_dependencies {
                        let key = match key {
                            Cow::Borrowed(k) => Cow::Borrowed(k.strip_suffix(':').unwrap_or(k)),
                            Cow::Owned(k) => match k.strip_suffix(':') {
                                Some(stripped) => Cow::Owned(stripped.to_owned()),
                                None => Cow::Owned(k),
                            },
                        };
                        block.dependencies.push((key, value));
                    }
                }
            }
            _ => {
                return Err(syntax(
                    "unexpected indentation (yarn.lock indents by two spaces)",
                ));
            }
        }
    }
    Ok(blocks)
}

/// Splits a block header into descriptors: `"a@^1", a@^1.2` → `a@^1`, `a@^1.2`.
fn split_descriptors(header: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let mut parts = Vec::new();
    split_outside_quotes(header, b',', &mut parts)?;
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        out.push(unquote(part)?);
    }
    Ok(out)
}

/// Whitespace-separated tokens, with `"…"` strings unquoted.
#[cfg(test)]
fn tokens(s: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let (mut parts, mut out) = (Vec::new(), Vec::new());
    tokens_into(s, &mut parts, &mut out)?;
    Ok(out)
}

/// [`tokens`] into `out`, with `parts` as scratch space (both are cleared first).
fn tokens_into<'t>(
    s: &'t str,
    parts: &mut Vec<&'t str>,
    out: &mut Vec<Cow<'t, str>>,
) -> Result<(), String> {
    out.clear();
    split_outside_quotes(s, b' ', parts)?;
    for part in parts.iter() {
        if !part.is_empty() {
            out.push(unquote(part)?);
        }
    }
    Ok(())
}

/// Splits `s` at each `sep` outside `"…"` into `out` (cleared first).
///
/// Works on bytes: `sep`, the quote and the backslash are ASCII, and no byte of a multi-byte
/// UTF-8 character is ASCII, so every split falls on a character boundary. Decoding characters
/// cost more than the rest of reading a header line.
fn split_outside_quotes<'t>(s: &'t str, sep: u8, out: &mut Vec<&'t str>) -> Result<(), String> {
    out.clear();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
        } else if in_quotes && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_quotes = !in_quotes;
        } else if b == sep && !in_quotes {
            out.push(s.get(start..i).unwrap_or(""));
            start = i + 1;
        }
    }
    if in_quotes {
        return Err("unterminated string".to_owned());
    }
    out.push(s.get(start..).unwrap_or(""));
    Ok(())
}

/// Removes the quotes of a `"…"` token (keeping a trailing `:` outside them) and its escapes.
/// Borrows the token when there is nothing to change or only the quotes to drop.
fn unquote(token: &str) -> Result<Cow<'_, str>, String> {
    let (body, colon) = match token.strip_suffix(':') {
        Some(b) if b.starts_with('"') && b.ends_with('"') && b.len() >= 2 => (b, ":"),
        _ => (token, ""),
    };
    if !body.starts_with('"') {
        if body.contains('"') {
            return Err(format!("stray quote in `{token}`"));
        }
        return Ok(Cow::Borrowed(token));
    }
    let inner = body
        .strip_prefix('"')
        .and_then(|b| b.strip_suffix('"'))
        .filter(|_| body.len() >= 2)
        .ok_or_else(|| format!("unterminated string `{token}`"))?;
    if colon.is_empty() && !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len() + colon.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => return Err("dangling escape".to_owned()),
            }
        } else {
            out.push(c);
        }
    }
    out.push_str(colon);
    Ok(Cow::Owned(out))
}

// ---------------------------------------------------------------------------------------------
// Berry.

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct BerryEntry<'t> {
    #[serde(borrow)]
    version: Option<Scalar<'t>>,
    #[serde(borrow)]
    resolution: Option<Str<'t>>,
    #[serde(borrow)]
    dependencies: Option<Ordered<'t, Scalar<'t>>>,
    #[serde(borrow)]
    optional_dependencies: Option<Ordered<'t, Scalar<'t>>>,
    #[serde(borrow)]
    checksum: Option<Str<'t>>,
    #[serde(borrow)]
    link_type: Option<Str<'t>>,
    #[serde(borrow)]
    conditions: Option<Str<'t>>,
    // `__metadata` only.
    #[serde(borrow)]
    cache_key: Option<Scalar<'t>>,
}

/// Berry lockfile versions vouch reads (`__metadata.version`; yarn 2.0 wrote 4).
const BERRY_VERSIONS: std::ops::RangeInclusive<u32> = 3..=10;

fn parse_berry(file: &str, text: &str) -> Result<Inventory, ParseError> {
    let entries: Ordered<'_, BerryEntry<'_>> = common::yaml(file, text)?;
    common::check_entries(file, entries.0.len(), "packages")?;
    let lines = Lines::new(text);
    let mut finder = KeyFinder::new(text, 0);
    let mut inv = Inventory::new();
    let mut by_descriptor: HashMap<String, Handle> = HashMap::new();
    let mut nodes: Vec<(Handle, &BerryEntry<'_>)> = Vec::new();
    let mut cache_key = None;
    let mut top = None;
    for (key, e) in &entries.0 {
        let offset = finder.find_yaml(key, 0);
        let line = offset.map(|o| lines.line_of(o));
        let line_usize = line.map_or(0, |l| l as usize);
        if key == "__metadata" {
            let v = e.version.as_ref().map(Scalar::as_str).unwrap_or("");
            if !v.parse::<u32>().is_ok_and(|v| BERRY_VERSIONS.contains(&v)) {
                return Err(ParseError::new(
                    file,
                    ParseErrorKind::UnsupportedVersion {
                        what: "__metadata.version".to_owned(),
                        found: v.to_owned(),
                        supported: "3 to 10 (yarn 2 and later)".to_owned(),
                    },
                )
                .at_line(line_usize + 1));
            }
            cache_key = e.cache_key.as_ref().map(|c| c.as_str().to_owned());
            continue;
        }
        let resolution = e.resolution.as_deref().ok_or_else(|| {
            ParseError::missing(file, "resolution", format!("package `{key}`")).at_line(line_usize)
        })?;
        let id = berry_package(
            file,
            key,
            resolution,
            e,
            line,
            cache_key.as_deref(),
            &mut inv,
        )
        .map_err(|err| err.at_line(line_usize))?;
        for d in key.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            by_descriptor.insert(d.to_owned(), id);
            // Relative portals and links are keyed with the `::locator=` of the workspace that
            // asked for them; dependents write the bare descriptor.
            if let Some((bare, _)) = d.split_once("::") {
                by_descriptor.entry(bare.to_owned()).or_insert(id);
            }
        }
        if resolution.ends_with("@workspace:.") {
            top = Some(id);
        }
        nodes.push((id, e));
    }
    let top = match top.map(|h| inv.handle_id(h).clone()) {
        Some(top) => top,
        None => match inv.roots().iter().next().cloned() {
            Some(top) => top,
            None => inv.add_root(synthetic_root(file)),
        },
    };
    let mut descriptor = String::new();
    for (id, e) in &nodes {
        let deps = e
            .dependencies
            .iter()
            .chain(&e.optional_dependencies)
            .flatten();
        for (name, range) in deps {
            let range = range.as_str();
            descriptor.clear();
            descriptor.push_str(name);
            descriptor.push('@');
            let at = descriptor.len();
            descriptor.push_str(range);
            let mut to = by_descriptor.get(descriptor.as_str()).copied();
            // Older berry files write bare ranges; yarn reads them as `npm:` ranges.
            if to.is_none() && !range.contains(':') {
                descriptor.truncate(at);
                descriptor.push_str("npm:");
                descriptor.push_str(range);
                to = by_descriptor.get(descriptor.as_str()).copied();
            }
            if let Some(to) = to {
                inv.depend_handles(*id, to);
            }
        }
    }
    inv.attach_unreachable(&top);
    Ok(inv)
}

fn berry_package(
    file: &str,
    key: &str,
    resolution: &str,
    e: &BerryEntry<'_>,
    line: Option<u32>,
    cache_key: Option<&str>,
    inv: &mut Inventory,
) -> Result<Handle, ParseError> {
    let (name, reference) = split_spec(resolution)
        .ok_or_else(|| ParseError::invalid(file, "resolution", "`name@reference`", resolution))?;
    // The `version` field, or the version of an `npm:` reference when it is missing.
    let version = e
        .version
        .as_ref()
        .map(Scalar::as_str)
        .filter(|v| !v.is_empty());
    // `patch:inner#patch` is the package `inner` with a patch applied.
    let (patch, reference) = match reference.strip_prefix("patch:") {
        Some(rest) => {
            let inner = rest.split('#').next().unwrap_or(rest);
            let inner = crate::common::percent_decode(inner);
            let inner_ref = split_spec(&inner)
                .map(|(_, r)| r.to_owned())
                .unwrap_or(inner);
            (Some(resolution), inner_ref)
        }
        None => (None, reference.to_owned()),
    };
    let project_path = reference
        .strip_prefix("workspace:")
        .or_else(|| reference.strip_prefix("portal:"))
        .or_else(|| reference.strip_prefix("link:"))
        .or_else(|| reference.strip_prefix("file:"))
        // Any other soft link is a folder of the project too.
        .or_else(|| (e.link_type.as_deref() == Some("soft")).then_some(reference.as_str()));
    if let Some(path) = project_path.filter(|_| patch.is_none()) {
        let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
        project.version = version
            .filter(|v| *v != "0.0.0-use.local")
            .map(str::to_owned);
        project.purl = root_purl(&project);
        project.source = Source::Path {
            path: path.split(['#', ':']).next().unwrap_or(path).to_owned(),
        };
        // Workspaces (`linkType: soft`), portals, links and `file:` folders are all part of
        // the project; `workspace:.` is the top-level one.
        return Ok(inv.add_root_handle(project));
    }
    // Without a `version` field, the version of an `npm:` reference.
    let version = version.or_else(|| reference.strip_prefix("npm:"));
    let mut p = npm_package(name, version, file, line);
    // The descriptor's name differs from the resolution's for `alias@npm:real@range`.
    let desc_name = key
        .split(',')
        .next()
        .and_then(|d| split_spec(d.trim()))
        .map(|(n, _)| n);
    if let Some(alias) = desc_name.filter(|a| *a != name) {
        p.properties
            .insert("vouch:npm-alias".to_owned(), alias.to_owned());
    }
    if reference.starts_with("npm:") {
        p.source = Source::Registry { url: None };
    } else if is_git_spec(&reference)
        || reference.contains("#commit")
        || reference.starts_with("https://")
        || reference.starts_with("http://")
    {
        set_source(&mut p, source_from_resolved(&reference));
    } else {
        p.properties
            .insert("vouch:yarn-reference".to_owned(), reference.clone());
    }
    if let Some(patch) = patch {
        p.properties
            .insert("vouch:yarn-patch".to_owned(), patch.to_owned());
    }
    if let Some(checksum) = &e.checksum {
        // A hash of yarn's zip of the package, not of the npm tarball: a property, not a hash.
        let prop = if patch.is_some() {
            "vouch:yarn-patched-checksum"
        } else {
            "vouch:yarn-checksum"
        };
        p.properties.insert(prop.to_owned(), checksum.to_string());
        if let Some(ck) = cache_key {
            p.properties
                .insert("vouch:yarn-cache-key".to_owned(), ck.to_owned());
        }
    }
    if let Some(conditions) = &e.conditions {
        p.properties
            .insert("vouch:yarn-conditions".to_owned(), conditions.to_string());
    }
    Ok(inv.add_handle(p))
}

#[cfg(test)]
mod tests {

    /// The real lockfile of the corpus is read by the YAML fast path into this module's shapes.
    #[test]
    fn corpus_lockfile_takes_the_fast_path() {
        if let Some(text) = crate::yaml_subset::corpus_text("yarn/prettier-berry/yarn.lock") {
            assert!(crate::yaml_subset::from_str::<Ordered<'_, BerryEntry<'_>>>(&text).is_some());
        }
    }
    use super::*;

    #[test]
    fn descriptors_and_tokens() {
        assert_eq!(
            split_descriptors(r#""a@^1", a@^1.2, "@s/b@npm:^2""#).unwrap(),
            vec!["a@^1", "a@^1.2", "@s/b@npm:^2"]
        );
        assert_eq!(
            tokens(r#""@s/b" "^1.0.0""#).unwrap(),
            vec!["@s/b", "^1.0.0"]
        );
        assert_eq!(tokens("dependencies:").unwrap(), vec!["dependencies:"]);
        assert!(tokens(r#""open"#).is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            crate::common::percent_decode("typescript@npm%3A6.0.3"),
            "typescript@npm:6.0.3"
        );
    }
}

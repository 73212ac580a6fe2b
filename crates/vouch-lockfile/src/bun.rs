//! Parser for `bun.lock`, bun's text lockfile (lockfileVersion 0 and 1).
//!
//! Documented at <https://bun.sh/docs/install/lockfile> with the field types at
//! <https://bun.sh/reference/bun/BunLockFile>. The file is JSONC (JSON with comments and trailing
//! commas), cleaned here into JSON of the same length so that lines and columns stay right.
//!
//! - `workspaces`: `""` is the root project, other keys are member paths; each lists its
//!   `dependencies`, `devDependencies`, `optionalDependencies` and `peerDependencies`.
//! - `packages`: keyed by install path (`"a"`, or `"parent/a"` for a copy that is not hoisted;
//!   workspace-local copies are under the workspace's name). Values are arrays whose shape
//!   depends on the resolution: npm `["name@1.0.0", registry, info, integrity]`, workspace
//!   `["name@workspace:path"]`, folder/link `["name@file:path", info]`, tarball
//!   `["name@url", info, integrity?]`, git/github `["name@git+url", info, tag, integrity?]`.
//!
//! A dependency resolves as bun's hoisted `node_modules` does: the package's own path, then
//! each parent path, then the top level. The binary `bun.lockb` is not read.

use std::fmt;
use std::marker::PhantomData;

use hashbrown::HashMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use vouch_inventory::{Ecosystem, Handle, Inventory, Package, Source};

use crate::borrow::{KeyFinder, Names, Ordered, Scalar, Str, visit_cow_str};
use crate::common;
use crate::js::{
    add_integrity, dir_name, git_fragment, is_git_spec, is_hex_commit, npm_package, redact_url,
    root_purl, set_source, source_from_resolved, split_spec,
};
use crate::{Input, ParseError, ParseErrorKind};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let text = clean_jsonc(input.text()?);
    parse_json(input.file, &text)
}

/// [`parse`] of a bun.lock whose comments and trailing commas [`blank_jsonc`] has already
/// blanked.
pub(crate) fn parse_json(file: &str, text: &str) -> Result<Inventory, ParseError> {
    let lock: BunLock = common::json(file, text)?;
    let version = lock.lockfile_version.as_ref().map(Scalar::as_str);
    if !matches!(version, Some("0" | "1")) {
        let line = common::find_from(text, "\"lockfileVersion\"", 0)
            .map(|o| common::line_col_of_bytes(text.as_bytes(), o).0);
        let e = ParseError::new(
            file,
            ParseErrorKind::UnsupportedVersion {
                what: "lockfileVersion".to_owned(),
                found: version.unwrap_or("(none)").to_owned(),
                supported: "0 and 1".to_owned(),
            },
        );
        return Err(match line {
            Some(l) => e.at_line(l),
            None => e,
        });
    }
    common::check_entries(
        file,
        lock.packages.0.len().max(lock.workspaces.0.len()),
        "packages",
    )?;

    let mut inv = Inventory::with_capacity(lock.packages.0.len() + lock.workspaces.0.len());

    // Workspaces: the projects.
    let start = common::find_from(text, "\"workspaces\"", 0).unwrap_or(0);
    let mut finder = KeyFinder::new(text, start);
    let mut ws_by_path: HashMap<String, Handle> = HashMap::new();
    let mut ws_by_name: HashMap<String, Handle> = HashMap::new();
    let mut root = None;
    for (path, ws) in &lock.workspaces.0 {
        let line = finder.find_json(path, b'{');
        let name = match (&ws.name, path.is_empty()) {
            (Some(n), _) => n.clone(),
            (None, true) => dir_name(file),
            (None, false) => path.to_string(),
        };
        let mut project = Package::new(Ecosystem::Npm, name.clone()).found_in(file, line);
        project.version = ws.version.clone();
        project.purl = root_purl(&project);
        if !path.is_empty() {
            project.source = Source::Path {
                path: path.to_string(),
            };
        }
        let id = inv.add_root_handle(project);
        if path.is_empty() {
            root = Some(id);
        }
        ws_by_path.insert(path.to_string(), id);
        ws_by_name.insert(name, id);
    }
    let root = match root {
        Some(r) => r,
        None => {
            let mut project = Package::new(Ecosystem::Npm, dir_name(file)).found_in(file, None);
            project.purl = root_purl(&project);
            let id = inv.add_root_handle(project);
            ws_by_path.insert(String::new(), id);
            id
        }
    };

    // Packages.
    let start = common::find_from(text, "\"packages\"", 0).unwrap_or(0);
    let mut finder = KeyFinder::new(text, start);
    let mut nodes: HashMap<&str, Handle> = HashMap::with_capacity(lock.packages.0.len());
    let mut package_deps: Vec<(&str, Handle, Vec<&str>)> =
        Vec::with_capacity(lock.packages.0.len());
    for (key, items) in &lock.packages.0 {
        let line = finder.find_json(key, b'[');
        let at = |e: ParseError| e.at_line_opt(line);
        let (id, info) = bun_package(
            file,
            key,
            items,
            line,
            &ws_by_path,
            &ws_by_name,
            root,
            &mut inv,
        )
        .map_err(at)?;
        nodes.insert(key, id);
        if let Some(info) = info {
            let deps = [
                &info.dependencies,
                &info.optional_dependencies,
                &info.peer_dependencies,
            ]
            .into_iter()
            .flatten()
            .flat_map(|m| m.0.iter().map(|n| &**n))
            .collect();
            package_deps.push((key, id, deps));
        }
    }

    // The candidates are `<first k names of from>/<name>` for k from all of them down to none,
    // built in one buffer reused across calls.
    let mut candidate = String::new();
    let mut ends = Vec::new();
    let mut resolve = |from: &str, name: &str| -> Option<Handle> {
        name_ends_into(from, &mut ends);
        loop {
            candidate.clear();
            if let Some(&end) = ends.last() {
                candidate.push_str(from.get(..end)?);
                candidate.push('/');
            }
            candidate.push_str(name);
            if let Some(&id) = nodes.get(candidate.as_str()) {
                return Some(id);
            }
            ends.pop()?;
        }
    };

    let mut prod = Vec::new();
    let mut dev = Vec::new();
    for (path, ws) in &lock.workspaces.0 {
        let Some(&from) = ws_by_path.get(&**path) else {
            continue;
        };
        // Copies local to a workspace are keyed under the workspace's name.
        let base = if path.is_empty() {
            ""
        } else {
            ws.name.as_deref().unwrap_or("")
        };
        let groups = [
            (&ws.dependencies, false),
            (&ws.optional_dependencies, false),
            (&ws.peer_dependencies, false),
            (&ws.dev_dependencies, true),
        ];
        for (group, is_dev) in groups {
            for name in group.iter().flat_map(|m| m.0.iter().map(|n| &**n)) {
                if let Some(to) = resolve(base, name) {
                    let starts = if is_dev { &mut dev } else { &mut prod };
                    starts.push(inv.handle_id(to).clone());
                    inv.depend_handles(from, to);
                }
            }
        }
    }
    for (key, from, deps) in &package_deps {
        for name in deps {
            if let Some(to) = resolve(key, name) {
                inv.depend_handles(*from, to);
            }
        }
    }
    inv.mark_dev_only(&prod, &dev);
    let root = inv.handle_id(root).clone();
    inv.attach_unreachable(&root);
    Ok(inv)
}

// ---------------------------------------------------------------------------------------------
// Serde shapes.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BunLock<'t> {
    #[serde(borrow)]
    lockfile_version: Option<Scalar<'t>>,
    #[serde(default, borrow)]
    workspaces: Ordered<'t, Workspace<'t>>,
    #[serde(default, borrow)]
    packages: Ordered<'t, Vec<Item<'t>>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Workspace<'t> {
    name: Option<String>,
    version: Option<String>,
    #[serde(borrow)]
    dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    dev_dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    optional_dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    peer_dependencies: Option<Names<'t>>,
}

/// One element of a `packages` array: a string, the object of dependencies, or anything else
/// (ignored).
enum Item<'t> {
    Str(Str<'t>),
    Info(Info<'t>),
    Other,
}

// Read by the value's own type rather than `#[serde(untagged)]`, which buffers each element
// and tries the variants in turn, building an error message for each that does not fit.
impl<'de: 't, 't> Deserialize<'de> for Item<'t> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<'t>(PhantomData<&'t str>);
        impl<'de: 't, 't> Visitor<'de> for V_<'t> {
            type Value = Item<'t>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, an object or another JSON value")
            }
            visit_cow_str!(Item<'t>, |cow| Item::Str(Str(cow)));
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item<'t>, A::Error> {
                Info::deserialize(de::value::MapAccessDeserializer::new(map)).map(Item::Info)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item<'t>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Item::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item<'t>, E> {
                Ok(Item::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Item<'t>, E> {
                Ok(Item::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Item<'t>, E> {
                Ok(Item::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Item<'t>, E> {
                Ok(Item::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Item<'t>, E> {
                Ok(Item::Other)
            }
        }
        d.deserialize_any(V_(PhantomData))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Info<'t> {
    #[serde(borrow)]
    dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    optional_dependencies: Option<Names<'t>>,
    #[serde(borrow)]
    peer_dependencies: Option<Names<'t>>,
}

#[allow(clippy::too_many_arguments)]
fn bun_package<'a>(
    file: &str,
    key: &str,
    items: &'a [Item<'_>],
    line: Option<u32>,
    ws_by_path: &HashMap<String, Handle>,
    ws_by_name: &HashMap<String, Handle>,
    root: Handle,
    inv: &mut Inventory,
) -> Result<(Handle, Option<&'a Info<'a>>), ParseError> {
    let ident = match items.first() {
        Some(Item::Str(s)) => &**s,
        _ => {
            return Err(ParseError::invalid(
                file,
                format!("packages.{key}"),
                "an array starting with `name@version`",
                "something else",
            ));
        }
    };
    let (name, reference) = split_spec(ident).ok_or_else(|| {
        ParseError::invalid(file, format!("packages.{key}"), "`name@version`", ident)
    })?;
    let strings: Vec<&str> = items
        .iter()
        .skip(1)
        .filter_map(|i| match i {
            Item::Str(s) => Some(&**s),
            _ => None,
        })
        .collect();
    let info = items.iter().find_map(|i| match i {
        Item::Info(info) => Some(info),
        _ => None,
    });
    let integrity = strings
        .iter()
        .rev()
        .find(|s| s.starts_with("sha") && s.contains('-'))
        .copied();

    if let Some(path) = reference.strip_prefix("workspace:") {
        // The workspace's own entry lists its dependencies; this one only places it.
        let path = path.trim_start_matches("./").trim_end_matches('/');
        let id = match ws_by_path.get(path).or_else(|| ws_by_name.get(name)) {
            Some(&id) => id,
            None => {
                let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
                project.source = Source::Path {
                    path: path.to_owned(),
                };
                inv.add_root_handle(project)
            }
        };
        return Ok((id, None));
    }
    if reference == "root:" {
        return Ok((root, None));
    }
    let local = reference
        .strip_prefix("file:")
        .or_else(|| reference.strip_prefix("link:"))
        .or_else(|| {
            // A local tarball: `name@./vendor/x.tgz`.
            (!reference.contains("://") && !is_git_spec(reference) && reference.contains('/'))
                .then_some(reference)
        });
    if let Some(path) = local {
        let mut project = Package::new(Ecosystem::Npm, name).found_in(file, line);
        project.source = Source::Path {
            path: path.to_owned(),
        };
        if let Some(i) = integrity {
            add_integrity(&mut project, i);
        }
        return Ok((inv.add_root_handle(project), info));
    }

    let mut p;
    if let Some(repo) = reference.strip_prefix("github:") {
        // The third element is bun's tag, `owner-repo-<short commit>`.
        p = npm_package(name, None, file, line);
        let (repo_path, fragment) = repo.split_once('#').unwrap_or((repo, ""));
        let tag = strings.iter().find(|s| Some(**s) != integrity).copied();
        let commit = tag
            .and_then(|t| t.rsplit('-').next())
            .filter(|c| is_hex_commit(c))
            .map(str::to_owned);
        let (frag_commit, reference) = git_fragment(fragment);
        set_source(
            &mut p,
            Source::Git {
                url: format!("https://github.com/{repo_path}.git"),
                commit: commit.or(frag_commit),
                reference,
            },
        );
        if let Some(t) = tag {
            p.properties
                .insert("vouch:bun-tag".to_owned(), t.to_owned());
        }
    } else if is_git_spec(reference) {
        p = npm_package(name, None, file, line);
        let (url, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let tag = strings.iter().find(|s| Some(**s) != integrity).copied();
        let (frag_commit, frag_ref) = git_fragment(fragment);
        let commit = tag.filter(|t| is_hex_commit(t)).map(str::to_owned);
        set_source(
            &mut p,
            Source::Git {
                url: redact_url(url),
                commit: commit.or(frag_commit),
                reference: frag_ref,
            },
        );
        if let Some(t) = tag {
            p.properties
                .insert("vouch:bun-tag".to_owned(), t.to_owned());
        }
    } else if reference.starts_with("https://") || reference.starts_with("http://") {
        p = npm_package(name, None, file, line);
        set_source(&mut p, source_from_resolved(reference));
    } else {
        p = npm_package(name, Some(reference), file, line);
        let registry = strings.first().copied().filter(|r| Some(*r) != integrity);
        p.source = Source::Registry {
            url: registry.filter(|r| !r.is_empty()).map(redact_url),
        };
    }
    if let Some(i) = integrity {
        add_integrity(&mut p, i);
    }
    if key != name && !key.ends_with(&format!("/{name}")) {
        // Installed under another name: an `npm:` alias.
        let alias = last_name(key);
        if alias != name {
            p.properties
                .insert("vouch:npm-alias".to_owned(), alias.to_owned());
        }
    }
    Ok((inv.add_handle(p), info))
}

/// The last package name of an install path: `a/@s/b` → `@s/b`; the path itself when it has
/// none.
fn last_name(path: &str) -> &str {
    let ends = name_ends(path);
    let start = match ends.len().checked_sub(2) {
        Some(i) => ends.get(i).map_or(0, |e| e + 1),
        None => 0,
    };
    ends.last()
        .and_then(|&end| path.get(start..end))
        .unwrap_or(path)
}

/// Splits an install path into package names: `a/@s/b/c` → `a`, `@s/b`, `c`.
#[cfg(test)]
fn split_names(path: &str) -> Vec<&str> {
    let mut start = 0;
    name_ends(path)
        .into_iter()
        .map(|end| {
            let name = path.get(start..end).unwrap_or("");
            start = end + 1;
            name
        })
        .collect()
}

/// Where each package name of an install path ends: the first `k` names
/// are `path[..ends[k - 1]]`, since one `/` separates each from the next.
fn name_ends(path: &str) -> Vec<usize> {
    let mut out = Vec::new();
    name_ends_into(path, &mut out);
    out
}

/// [`name_ends`] into `out`, which is cleared first: a lookup per dependency reuses one vector.
fn name_ends_into(path: &str, out: &mut Vec<usize>) {
    out.clear();
    let mut start = 0;
    while let Some(rest) = path.get(start..).filter(|r| !r.is_empty()) {
        let mut end = memchr::memchr(b'/', rest.as_bytes()).unwrap_or(rest.len());
        if rest.starts_with('@') {
            end = match rest
                .get(end + 1..)
                .and_then(|r| memchr::memchr(b'/', r.as_bytes()))
            {
                Some(second) => end + 1 + second,
                None => rest.len(),
            };
        }
        out.push(start + end);
        start += end + 1;
    }
}

/// Turns JSONC into JSON of the same byte length: comments and trailing commas become spaces
/// (newlines are kept, so lines and columns still point into the original file).
fn clean_jsonc(text: &str) -> String {
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    blank_jsonc(&mut out);
    // Only ASCII bytes were replaced by spaces (and multi-byte characters only inside comments,
    // whose every byte became a space), so this is still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Replaces the comments and trailing commas of JSON text by spaces, in place, keeping line
/// breaks so that lines and columns stay where they were.
///
/// One pass, jumping between the bytes that matter with `memchr`: outside strings a quote, a
/// slash or a comma; inside them a quote or a backslash. Every byte blanked is behind the
/// scan, which reads ahead only to find what follows a comma.
pub(crate) fn blank_jsonc(buf: &mut [u8]) {
    let mut i = 0;
    while let Some(at) = buf
        .get(i..)
        .and_then(|rest| memchr::memchr3(b'"', b'/', b',', rest))
        .map(|k| i + k)
    {
        match buf.get(at).copied() {
            Some(b'"') => i = string_end(buf, at + 1),
            Some(b'/') => match comment_end(buf, at) {
                Some(end) => {
                    for k in at..end {
                        blank(buf, k);
                    }
                    i = end;
                }
                None => i = at + 1,
            },
            _ => {
                // A comma: trailing when only blanks and comments stand between it and the
                // end of its array or object.
                let mut j = at + 1;
                loop {
                    while buf.get(j).is_some_and(u8::is_ascii_whitespace) {
                        j += 1;
                    }
                    match comment_end(buf, j) {
                        Some(end) => j = end,
                        None => break,
                    }
                }
                if matches!(buf.get(j), Some(b'}' | b']')) {
                    blank(buf, at);
                }
                i = at + 1;
            }
        }
    }
}

/// The offset just after the string whose content starts at `from` (after its closing quote,
/// or the end of the text when it has none).
fn string_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(k) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        let at = i + k;
        if bytes.get(at) == Some(&b'"') {
            return at + 1;
        }
        // A backslash and the byte it escapes.
        i = at + 2;
    }
    bytes.len()
}

/// The end of a comment starting at `at`: for `//`, the line break (which stays); for `/*`,
/// just after `*/`, or the end of the text when it is not closed. `None` when no comment
/// starts there.
fn comment_end(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?;
    if rest.starts_with(b"//") {
        Some(memchr::memchr(b'\n', rest).map_or(bytes.len(), |k| at + k))
    } else if rest.starts_with(b"/*") {
        let body = rest.get(2..).unwrap_or_default();
        Some(memchr::memmem::find(body, b"*/").map_or(bytes.len(), |k| at + 2 + k + 2))
    } else {
        None
    }
}

fn blank(out: &mut [u8], i: usize) {
    if let Some(c) = out.get_mut(i)
        && *c != b'\n'
    {
        *c = b' ';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first implementation, two byte-by-byte passes (comments, then trailing commas): the
    /// reference the one-pass cleaner is compared with.
    fn clean_jsonc_bytewise(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out: Vec<u8> = bytes.to_vec();
        let mut i = 0;
        let mut in_string = false;
        while let Some(&b) = bytes.get(i) {
            if in_string {
                match b {
                    b'\\' => i += 1,
                    b'"' => in_string = false,
                    _ => {}
                }
                i += 1;
                continue;
            }
            match (b, bytes.get(i + 1)) {
                (b'"', _) => in_string = true,
                (b'/', Some(b'/')) => {
                    while let Some(&c) = bytes.get(i) {
                        if c == b'\n' {
                            break;
                        }
                        blank(&mut out, i);
                        i += 1;
                    }
                    continue;
                }
                (b'/', Some(b'*')) => {
                    blank(&mut out, i);
                    blank(&mut out, i + 1);
                    i += 2;
                    while let Some(&c) = bytes.get(i) {
                        let end = c == b'*' && bytes.get(i + 1) == Some(&b'/');
                        blank(&mut out, i);
                        if end {
                            blank(&mut out, i + 1);
                            i += 2;
                            break;
                        }
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        // Trailing commas, now that comments are gone.
        let mut i = 0;
        let mut in_string = false;
        while let Some(&b) = out.get(i) {
            if in_string {
                match b {
                    b'\\' => i += 1,
                    b'"' => in_string = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b',' {
                let mut j = i + 1;
                while out.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
                    j += 1;
                }
                if matches!(out.get(j), Some(b'}' | b']')) {
                    blank(&mut out, i);
                }
            }
            i += 1;
        }
        // Only ASCII bytes were replaced by spaces (and multi-byte characters only inside comments,
        // whose every byte became a space), so this is still UTF-8.
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    proptest::proptest! {
        #[test]
        fn one_pass_cleaning_matches_the_two_pass_reference(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\"", "\\", "/", "*", "//", "/*", "*/", ",", " ", "\n", "}", "]", "a", "é", ",\n}",
                ]),
                0..40,
            )
        ) {
            let src: String = parts.concat();
            proptest::prop_assert_eq!(clean_jsonc(&src), clean_jsonc_bytewise(&src));
        }
    }

    #[test]
    fn jsonc_cleaning_keeps_offsets() {
        let src = "{\n  // c\n  \"a\": [1, 2,], /* x\n y */ \"b\": \"//,\",\n}";
        let out = clean_jsonc(src);
        assert_eq!(out.len(), src.len());
        assert_eq!(out.lines().count(), src.lines().count());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["b"], "//,");
    }

    #[test]
    fn install_paths() {
        assert_eq!(split_names("a/@s/b/c"), vec!["a", "@s/b", "c"]);
        assert_eq!(split_names("@s/b"), vec!["@s/b"]);
        assert_eq!(split_names("@s"), vec!["@s"]);
        assert!(split_names("").is_empty());
        assert_eq!(split_names("a/"), vec!["a"]);
        assert_eq!(split_names("@s/"), vec!["@s/"]);
        assert_eq!(split_names("/a"), vec!["", "a"]);
        for path in [
            "a/@s/b/c", "@s/b", "@s", "", "a/", "@s/", "/a", "a/@s/b", "@s/b/c/",
        ] {
            let last = split_names(path).last().copied().unwrap_or(path);
            assert_eq!(last_name(path), last, "{path}");
        }
        assert_eq!(last_name("a/@s/b"), "@s/b");
    }

    proptest::proptest! {
        /// The lookup of a dependency builds `<first k names>/<name>` from a prefix of the path;
        /// that prefix must be the names joined with `/`.
        #[test]
        fn name_prefixes_are_the_names_joined(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["a", "bc", "@s", "/", "//"]),
                0..12,
            )
        ) {
            let path: String = parts.concat();
            let names = split_names(&path);
            let ends = name_ends(&path);
            proptest::prop_assert_eq!(names.len(), ends.len());
            for (k, end) in ends.iter().enumerate() {
                let joined = names.get(..=k).unwrap_or_default().join("/");
                proptest::prop_assert_eq!(path.get(..*end), Some(joined.as_str()));
            }
        }
    }
}

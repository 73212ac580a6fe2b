//! Parser for pip requirements files (`requirements.txt`, `requirements-*.txt`).
//!
//! Format: pip's "Requirements File Format"
//! (<https://pip.pypa.io/en/stable/reference/requirements-file-format/>), requirement lines per
//! PEP 508 (<https://peps.python.org/pep-0508/>) and the direct-URL forms of pip's
//! "VCS Support" (<https://pip.pypa.io/en/stable/topics/vcs-support/>).
//!
//! A requirements file is not always a lock: only `name==version` (and `===`) lines pin a
//! version; other lines are recorded without one. `-r` includes are followed (through the
//! caller's sibling reader), `-c` constraints pin versions of requirements that are named
//! elsewhere but add no package, and pip-compile's `# via` comments become dependency edges.
//!
//! This module also holds the helpers the other Python parsers share (PEP 503 names, PEP 508
//! parsing, version matching, git and registry sources).

use std::collections::{BTreeMap, BTreeSet};

use vouch_digest::Digest;
use vouch_inventory::{Ecosystem, Inventory, Package, PackageId, Source};

use crate::common::{self, MAX_ENTRIES};
use crate::{Input, ParseError, ParseErrorKind};

/// Deepest chain of `-r`/`-c` includes followed.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Parses a requirements file and the files it includes.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let text = input.text()?;
    let main_rel = input
        .file
        .rsplit('/')
        .next()
        .unwrap_or(input.file)
        .to_owned();
    let mut ctx = Ctx {
        input,
        reqs: Vec::new(),
        constraints: BTreeMap::new(),
        visited: BTreeSet::from([main_rel.clone()]),
        index_url: None,
        extra_index_urls: Vec::new(),
        unresolved: Vec::new(),
    };
    ctx.parse_file(&main_rel, input.file, text, 0, false)?;
    ctx.build()
}

/// Where a requirement comes from.
#[derive(Debug, Clone)]
enum ReqSource {
    /// A name (with or without a pinned version) resolved from the package index.
    Index,
    /// A URL to an archive.
    Url(String),
    /// A VCS URL (`git+https://…@rev`).
    Vcs(String),
    /// A local directory: the project itself or another first-party package.
    LocalDir(String),
    /// A local archive (`./dist/pkg-1.0-py3-none-any.whl`).
    LocalFile(String),
}

/// One requirement line.
#[derive(Debug)]
struct Req {
    name: String,
    version: Option<String>,
    source: ReqSource,
    extras: Vec<String>,
    marker: Option<String>,
    hashes: Vec<String>,
    editable: bool,
    file: String,
    line: u32,
    /// pip-compile `# via` entries: normalised package names, or `None` for the project
    /// (`-r requirements.in`, `setup.py`).
    via: Vec<Option<String>>,
}

/// A `name==version` pin from a constraints file.
#[derive(Debug)]
struct Constraint {
    version: String,
    file: String,
    line: u32,
    hashes: Vec<String>,
}

struct Ctx<'a, 'b> {
    input: &'a Input<'b>,
    reqs: Vec<Req>,
    constraints: BTreeMap<String, Constraint>,
    visited: BTreeSet<String>,
    index_url: Option<String>,
    extra_index_urls: Vec<String>,
    unresolved: Vec<String>,
}

/// One logical line: continuation lines joined, with the 1-based line it starts on.
struct Logical {
    line: u32,
    text: String,
}

impl Ctx<'_, '_> {
    /// Parses one file; `rel` is its path relative to the main file's directory.
    fn parse_file(
        &mut self,
        rel: &str,
        display: &str,
        text: &str,
        depth: usize,
        constraint: bool,
    ) -> Result<(), ParseError> {
        // `# via` comments refer to the requirement above them.
        let mut last_req: Option<usize> = None;
        let mut via_block = false;
        for item in logical_lines(text) {
            let logical = match item {
                LineItem::Comment(comment) => {
                    if let Some(idx) = last_req {
                        let entries = via_comment(comment, &mut via_block);
                        if let Some(req) = self.reqs.get_mut(idx) {
                            req.via.extend(entries);
                        }
                    }
                    continue;
                }
                LineItem::Logical(l) => l,
            };
            via_block = false;
            let (body, inline_comment) = split_comment(&logical.text);
            let body = body.trim();
            if body.is_empty() {
                continue;
            }
            if self.reqs.len() >= MAX_ENTRIES {
                return Err(ParseError::new(
                    display,
                    ParseErrorKind::TooMany {
                        what: "requirements",
                        limit: MAX_ENTRIES,
                    },
                ));
            }
            last_req = None;
            if body.starts_with('-') {
                let pushed =
                    self.option_line(rel, display, body, logical.line, depth, constraint)?;
                if pushed {
                    last_req = Some(self.reqs.len().saturating_sub(1));
                }
                continue;
            }
            let mut req = requirement(display, body, logical.line)?;
            if let Some(c) = inline_comment {
                // Old pip-compile output puts `# via a, b` on the requirement line itself.
                let mut block = false;
                req.via.extend(via_comment(c, &mut block));
            }
            if constraint {
                if let (ReqSource::Index, Some(version)) = (&req.source, &req.version) {
                    self.constraints
                        .entry(normalize(&req.name))
                        .or_insert(Constraint {
                            version: version.clone(),
                            file: display.to_owned(),
                            line: logical.line,
                            hashes: req.hashes,
                        });
                }
                continue;
            }
            self.reqs.push(req);
            last_req = Some(self.reqs.len().saturating_sub(1));
        }
        Ok(())
    }

    /// Handles a line starting with `-`; returns whether it added a requirement (`-e`).
    fn option_line(
        &mut self,
        rel: &str,
        display: &str,
        body: &str,
        line: u32,
        depth: usize,
        constraint: bool,
    ) -> Result<bool, ParseError> {
        let (opt, value) = split_option(body);
        let need_value = |v: &str| {
            if v.is_empty() {
                Err(
                    ParseError::missing(display, "value", format!("option `{opt}`"))
                        .at_line(line as usize),
                )
            } else {
                Ok(())
            }
        };
        match opt {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                need_value(value)?;
                let nested_constraint = constraint || opt == "-c" || opt == "--constraint";
                self.include(rel, display, value, line, depth, nested_constraint)?;
                Ok(false)
            }
            "-e" | "--editable" => {
                need_value(value)?;
                if constraint {
                    return Ok(false);
                }
                let mut req = editable(display, value, line)?;
                req.editable = true;
                self.reqs.push(req);
                Ok(true)
            }
            "-i" | "--index-url" => {
                need_value(value)?;
                self.index_url.get_or_insert_with(|| value.to_owned());
                Ok(false)
            }
            "--extra-index-url" => {
                need_value(value)?;
                self.extra_index_urls.push(value.to_owned());
                Ok(false)
            }
            // Options that change how pip resolves or builds (--find-links, --no-index, --pre,
            // --only-binary, --require-hashes, --trusted-host, …) name no package; the lines are
            // ignored because an SBOM records what is installed, not how.
            _ => Ok(false),
        }
    }

    /// Follows `-r`/`-c` to another file, relative to the including file's directory.
    fn include(
        &mut self,
        rel: &str,
        display: &str,
        target: &str,
        line: u32,
        depth: usize,
        constraint: bool,
    ) -> Result<(), ParseError> {
        // Remote and absolute includes are not read: parsing never touches the network, and
        // the sibling reader only reaches files beside the lockfile.
        if target.contains("://") || target.starts_with('/') || target.starts_with('~') {
            self.unresolved.push(target.to_owned());
            return Ok(());
        }
        if depth + 1 > MAX_INCLUDE_DEPTH {
            return Err(ParseError::new(
                display,
                ParseErrorKind::TooMany {
                    what: "nested requirement includes",
                    limit: MAX_INCLUDE_DEPTH,
                },
            )
            .at_line(line as usize));
        }
        let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let Some(child) = join_rel(dir, target) else {
            self.unresolved.push(target.to_owned());
            return Ok(());
        };
        // A file already read (a cycle or a diamond) adds nothing new.
        if !self.visited.insert(child.clone()) {
            return Ok(());
        }
        let Some(bytes) = (self.input.siblings)(&child) else {
            self.unresolved.push(target.to_owned());
            return Ok(());
        };
        let bytes = bytes?;
        let child_display = match self.input.file.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{child}"),
            None => child.clone(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let (l, c) = common::line_col_of_bytes(valid, valid.len());
            ParseError::new(&child_display, ParseErrorKind::NotUtf8).at(l, c)
        })?;
        self.parse_file(&child, &child_display, text, depth + 1, constraint)
    }

    fn build(mut self) -> Result<Inventory, ParseError> {
        let file = self.input.file;
        let mut inv = Inventory::new();
        let mut root_pkg = synthetic_root(file);
        if !self.unresolved.is_empty() {
            root_pkg.properties.insert(
                "vouch:unresolved-includes".to_owned(),
                self.unresolved.join(" "),
            );
        }
        if !self.extra_index_urls.is_empty() {
            root_pkg.properties.insert(
                "vouch:extra-index-urls".to_owned(),
                self.extra_index_urls.join(" "),
            );
        }
        let root = inv.add_root(root_pkg);
        let index = self
            .index_url
            .clone()
            .unwrap_or_else(|| PYPI_SIMPLE.to_owned());
        let mut by_name: BTreeMap<String, Vec<PackageId>> = BTreeMap::new();
        let mut vias: Vec<(PackageId, Vec<Option<String>>)> = Vec::new();
        for mut req in std::mem::take(&mut self.reqs) {
            let key = normalize(&req.name);
            let mut constraint_evidence = None;
            if req.version.is_none()
                && matches!(req.source, ReqSource::Index)
                && let Some(c) = self.constraints.get(&key)
            {
                req.version = Some(c.version.clone());
                req.hashes.extend(c.hashes.iter().cloned());
                constraint_evidence = Some((c.file.clone(), c.line));
            }
            let mut pkg =
                pypi_package(&req.name, req.version.as_deref(), &req.file, Some(req.line));
            if let Some((f, l)) = constraint_evidence {
                pkg = pkg.found_in(f, Some(l));
            }
            for h in &req.hashes {
                add_hash(&mut pkg, h);
            }
            if let Some(m) = &req.marker {
                pkg.properties.insert("vouch:marker".to_owned(), m.clone());
            }
            if !req.extras.is_empty() {
                pkg.properties
                    .insert("vouch:extras".to_owned(), req.extras.join(","));
            }
            if req.editable {
                pkg.properties
                    .insert("vouch:editable".to_owned(), "true".to_owned());
            }
            let project = match &req.source {
                ReqSource::Index => {
                    set_registry(&mut pkg, Some(&index));
                    false
                }
                ReqSource::Url(url) => {
                    set_url(&mut pkg, url);
                    mark_url(&mut pkg);
                    false
                }
                ReqSource::Vcs(url) => {
                    set_pip_vcs(&mut pkg, url);
                    mark_url(&mut pkg);
                    false
                }
                // Local directories and archives are first-party (or vendored) code beside the
                // project: projects, never counted as third-party.
                ReqSource::LocalFile(path) | ReqSource::LocalDir(path) => {
                    pkg.source = Source::Path { path: path.clone() };
                    pkg.purl = None;
                    true
                }
            };
            let id = if project {
                let id = inv.add_root(pkg);
                inv.depend(&root, &id);
                id
            } else {
                inv.add(pkg)
            };
            by_name.entry(key).or_default().push(id.clone());
            if !req.via.is_empty() {
                vias.push((id, req.via));
            }
        }
        for (id, via) in vias {
            for from in via {
                match from {
                    None => inv.depend(&root, &id),
                    Some(name) => {
                        for parent in by_name.get(&name).into_iter().flatten() {
                            inv.depend(parent, &id);
                        }
                    }
                }
            }
        }
        // Requirements nothing else needs are the project's own (the caller would pick the
        // first root, maybe an editable package).
        inv.attach_orphans(&root);
        Ok(inv)
    }
}

enum LineItem<'t> {
    /// A whole-line comment: the text after `#`.
    Comment(&'t str),
    Logical(Logical),
}

/// Splits text into logical lines, joining `\` continuations the way pip does: a comment line
/// ends a continuation.
fn logical_lines(text: &str) -> Vec<LineItem<'_>> {
    let mut out = Vec::new();
    let mut buf: Option<Logical> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let n = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(comment) = raw.trim_start().strip_prefix('#') {
            if let Some(l) = buf.take() {
                out.push(LineItem::Logical(l));
            }
            out.push(LineItem::Comment(comment));
            continue;
        }
        let (content, continues) = match raw.strip_suffix('\\') {
            Some(c) => (c, true),
            None => (raw, false),
        };
        let logical = buf.get_or_insert_with(|| Logical {
            line: n,
            text: String::new(),
        });
        logical.text.push_str(content);
        logical.text.push(' ');
        if !continues && let Some(l) = buf.take() {
            out.push(LineItem::Logical(l));
        }
    }
    if let Some(l) = buf.take() {
        out.push(LineItem::Logical(l));
    }
    out
}

/// Splits off a comment: `#` at the start or after whitespace (a URL's `#egg=` stays).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)) {
            return (line.get(..i).unwrap_or(line), line.get(i + 1..));
        }
    }
    (line, None)
}

/// Reads a pip-compile `via` comment (`via x`, `via` then `#   x` lines, `via a, b`);
/// `block` tracks whether the lines that follow continue a `via` list.
fn via_comment(comment: &str, block: &mut bool) -> Vec<Option<String>> {
    let trimmed = comment.trim();
    if let Some(rest) = trimmed.strip_prefix("via") {
        if rest.is_empty() {
            *block = true;
            return Vec::new();
        }
        if rest.starts_with(char::is_whitespace) {
            *block = false;
            return rest.split(',').filter_map(via_entry).collect();
        }
    }
    if *block && comment.starts_with(char::is_whitespace) && !trimmed.is_empty() {
        return via_entry(trimmed).into_iter().collect();
    }
    *block = false;
    Vec::new()
}

/// One `via` entry: `None` for the project (`-r file`, `-c file`, `pkg (setup.py)`), otherwise
/// the normalised package name.
fn via_entry(entry: &str) -> Option<Option<String>> {
    let entry = entry.trim();
    if entry.is_empty() {
        return None;
    }
    if entry.starts_with('-') || entry.contains('(') {
        return Some(None);
    }
    let name = entry
        .split(|c: char| c.is_whitespace() || c == '[')
        .next()
        .unwrap_or(entry);
    Some(Some(normalize(name)))
}

/// Splits `-r file`, `-rfile`, `--requirement=file`, `--requirement file` into option and value.
fn split_option(body: &str) -> (&str, &str) {
    if body.starts_with("--") {
        let end = body
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(body.len());
        let opt = body.get(..end).unwrap_or(body);
        let rest = body.get(end..).unwrap_or("");
        let rest = rest.trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        (opt, rest.trim())
    } else {
        let opt = body.get(..2).unwrap_or(body);
        (opt, body.get(2..).unwrap_or("").trim())
    }
}

/// Joins `target` to `dir` lexically (`..` and `.` resolved); `None` when it leaves the
/// lockfile's directory.
fn join_rel(dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in target.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Parses a requirement line (no leading option), splitting off per-requirement options.
fn requirement(file: &str, body: &str, line: u32) -> Result<Req, ParseError> {
    let (spec, options) = split_req_options(body);
    let mut hashes = Vec::new();
    let mut tokens = options.split_whitespace();
    while let Some(tok) = tokens.next() {
        if let Some(v) = tok.strip_prefix("--hash=") {
            hashes.push(v.to_owned());
        } else if tok == "--hash"
            && let Some(v) = tokens.next()
        {
            hashes.push(v.to_owned());
        }
    }
    let mut req = requirement_spec(file, spec, line)?;
    req.hashes = hashes;
    Ok(req)
}

/// Splits a requirement from its trailing `--option`s (outside quotes).
fn split_req_options(body: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    let mut prev_ws = false;
    for (i, c) in body.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if prev_ws && c == '-' && body.get(i..).is_some_and(|r| r.starts_with("--")) => {
                return (
                    body.get(..i).unwrap_or(body).trim(),
                    body.get(i..).unwrap_or(""),
                );
            }
            None => {}
        }
        prev_ws = c.is_whitespace();
    }
    (body.trim(), "")
}

/// A requirement without options: PEP 508, `name @ url`, a bare URL or a path.
fn requirement_spec(file: &str, spec: &str, line: u32) -> Result<Req, ParseError> {
    if is_url_or_path(spec) {
        let (target, marker) = split_marker_ws(spec);
        return bare_target(file, target, marker, line);
    }
    let parsed = parse_pep508(spec).ok_or_else(|| {
        ParseError::invalid(file, "requirement", "a PEP 508 requirement", spec)
            .at_line(line as usize)
    })?;
    let source = match parsed.url {
        Some(url) => classify_url(url),
        None => ReqSource::Index,
    };
    let version = match &source {
        ReqSource::Index => pinned_version(parsed.specifier).map(str::to_owned),
        ReqSource::Url(u) | ReqSource::LocalFile(u) => {
            archive_version(u, parsed.name).map(str::to_owned)
        }
        _ => None,
    };
    Ok(Req {
        name: parsed.name.to_owned(),
        version,
        source,
        extras: parsed.extras.iter().map(|e| (*e).to_owned()).collect(),
        marker: parsed.marker.map(str::to_owned),
        hashes: Vec::new(),
        editable: false,
        file: file.to_owned(),
        line,
        via: Vec::new(),
    })
}

/// An `-e` value: a local path (the project or a first-party package) or a VCS URL.
fn editable(file: &str, value: &str, line: u32) -> Result<Req, ParseError> {
    let (spec, _) = split_req_options(value);
    let (target, marker) = split_marker_ws(spec);
    bare_target(file, target, marker, line)
}

/// A bare URL or path requirement, named by `#egg=`, an archive file name or the directory.
fn bare_target(
    file: &str,
    target: &str,
    marker: Option<&str>,
    line: u32,
) -> Result<Req, ParseError> {
    let target = target.trim();
    // `./pkg[extra]`: extras follow the path.
    let (target, extras) = match target.find('[') {
        Some(i) if !target.contains("://") || i > target.rfind('/').unwrap_or(0) => {
            let extras = target.get(i + 1..).unwrap_or("");
            let extras = extras.strip_suffix(']').unwrap_or(extras);
            (
                target.get(..i).unwrap_or(target).trim_end(),
                extras
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        }
        _ => (target, Vec::new()),
    };
    let source = classify_url(target);
    let egg = egg_name(target);
    let name = match (&egg, &source) {
        (Some(n), _) => n.clone(),
        (None, ReqSource::Url(u) | ReqSource::LocalFile(u)) => archive_name(u)
            .map(|(n, _)| n.to_owned())
            .unwrap_or_else(|| last_segment(u).to_owned()),
        (None, ReqSource::Vcs(u)) => {
            let seg = last_segment(u);
            let seg = seg.split('@').next().unwrap_or(seg);
            seg.trim_end_matches(".git").to_owned()
        }
        (None, ReqSource::LocalDir(p)) => match last_segment(p) {
            "" | "." | ".." => dir_name(file).to_owned(),
            s => s.to_owned(),
        },
        (None, ReqSource::Index) => target.to_owned(),
    };
    if name.is_empty() {
        return Err(ParseError::invalid(
            file,
            "requirement",
            "a URL or path naming a package",
            target,
        )
        .at_line(line as usize));
    }
    let version = match &source {
        ReqSource::Url(u) | ReqSource::LocalFile(u) => {
            archive_name(u).and_then(|(_, v)| v).map(str::to_owned)
        }
        _ => None,
    };
    Ok(Req {
        name,
        version,
        source,
        extras,
        marker: marker.map(str::to_owned),
        hashes: Vec::new(),
        editable: false,
        file: file.to_owned(),
        line,
        via: Vec::new(),
    })
}

fn is_url_or_path(spec: &str) -> bool {
    let s = spec.trim_start();
    s.starts_with('.')
        || s.starts_with('/')
        || s.starts_with('~')
        || s.starts_with("file:")
        || scheme_of(s).is_some()
        || s.split([' ', ';']).next().is_some_and(|first| {
            (first.contains('/') || first.contains('\\')) && !first.contains('@')
        })
}

/// The `scheme` of `scheme://…` when it is made of `[a-z0-9+.-]`.
fn scheme_of(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    (!scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
    .then_some(scheme)
}

/// Splits a marker after whitespace and `;` (URLs may contain `;` themselves).
fn split_marker_ws(spec: &str) -> (&str, Option<&str>) {
    let bytes = spec.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b';' && (i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)) {
            let marker = spec.get(i + 1..).unwrap_or("").trim();
            return (
                spec.get(..i).unwrap_or(spec).trim(),
                (!marker.is_empty()).then_some(marker),
            );
        }
    }
    (spec.trim(), None)
}

fn classify_url(url: &str) -> ReqSource {
    let url = url.trim();
    let scheme = scheme_of(url);
    match scheme {
        Some(s) if s.contains('+') && !s.starts_with("file") || s_is_vcs(s) => {
            ReqSource::Vcs(url.to_owned())
        }
        Some("file") => {
            let path = url.strip_prefix("file://").unwrap_or(url);
            local(path)
        }
        Some(_) => ReqSource::Url(url.to_owned()),
        None => {
            let path = url.strip_prefix("file:").unwrap_or(url);
            local(path)
        }
    }
}

fn s_is_vcs(scheme: &str) -> bool {
    ["git", "hg", "svn", "bzr"].contains(&scheme)
}

fn local(path: &str) -> ReqSource {
    let clean = path.split('#').next().unwrap_or(path);
    if archive_name(clean).is_some() {
        ReqSource::LocalFile(clean.to_owned())
    } else {
        ReqSource::LocalDir(clean.to_owned())
    }
}

/// `#egg=name` (or `egg=name&subdirectory=…`) in a URL fragment.
fn egg_name(url: &str) -> Option<String> {
    let (_, frag) = url.split_once('#')?;
    frag.split('&').find_map(|kv| {
        let v = kv.strip_prefix("egg=")?;
        let v = v.split('[').next().unwrap_or(v);
        // `egg=name-1.0` is an old spelling with the version appended.
        (!v.is_empty()).then(|| v.to_owned())
    })
}

fn last_segment(s: &str) -> &str {
    let s = s.split(['#', '?']).next().unwrap_or(s);
    let s = s.trim_end_matches(['/', '\\']);
    s.rsplit(['/', '\\']).next().unwrap_or(s)
}

/// The name of the directory holding `file`, or the file name itself.
pub(crate) fn dir_name(file: &str) -> &str {
    common::dir_name(file)
}

/// Name and version from a wheel (`name-ver-tags.whl`) or sdist (`name-ver.tar.gz`) file name.
fn archive_name(url: &str) -> Option<(&str, Option<&str>)> {
    let base = last_segment(url);
    if let Some(stem) = base.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        let name = parts.next().filter(|n| !n.is_empty())?;
        return Some((name, parts.next()));
    }
    let stem = [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar"]
        .iter()
        .find_map(|ext| base.strip_suffix(ext))?;
    match stem.rsplit_once('-') {
        Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => {
            Some((name, Some(version)))
        }
        _ => Some((stem, None)),
    }
}

/// The version in an archive URL when the file name belongs to `name`.
fn archive_version<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let (n, v) = archive_name(url)?;
    (normalize(n) == normalize(name)).then_some(v).flatten()
}

fn mark_url(pkg: &mut Package) {
    pkg.properties
        .insert("vouch:requirement".to_owned(), "url".to_owned());
}

/// Sets a pip VCS URL (`git+https://host/repo.git@rev#egg=…`) as the source.
fn set_pip_vcs(pkg: &mut Package, url: &str) {
    let no_frag = url.split('#').next().unwrap_or(url);
    let Some((scheme, rest)) = no_frag.split_once("://") else {
        pkg.source = Source::Url {
            url: url.to_owned(),
        };
        return;
    };
    // The revision is after an `@` in the path, not the `user@` of the authority.
    let path_start = rest.find('/').unwrap_or(rest.len());
    let (repo, rev) = match rest.get(path_start..).and_then(|p| p.rfind('@')) {
        Some(at) => (
            rest.get(..path_start + at).unwrap_or(rest),
            rest.get(path_start + at + 1..).filter(|r| !r.is_empty()),
        ),
        None => (rest, None),
    };
    let transport = scheme.split_once('+').map(|(_, t)| t).unwrap_or(scheme);
    let tool = scheme.split('+').next().unwrap_or(scheme);
    let repo_url = format!("{transport}://{repo}");
    if tool == "git" {
        let (commit, reference) = split_rev(rev);
        set_git(pkg, &repo_url, commit, reference);
    } else {
        pkg.source = Source::Url {
            url: url.to_owned(),
        };
        qualify(pkg, "vcs_url", no_frag);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the Python parsers.

/// PyPI's simple index, the default registry.
pub(crate) const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// A PEP 503 normalised name: lowercase, runs of `-`, `_`, `.` as one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// A PyPI library package.
pub(crate) fn pypi_package(
    name: &str,
    version: Option<&str>,
    file: &str,
    line: Option<u32>,
) -> Package {
    common::package(Ecosystem::Pypi, None, name, version, file, line)
}

/// The project of a lockfile that does not name it: called after the lockfile's directory.
pub(crate) fn synthetic_root(file: &str) -> Package {
    let mut p = Package::new(Ecosystem::Pypi, dir_name(file)).found_in(file, None);
    p.properties
        .insert("vouch:synthetic-root".to_owned(), "true".to_owned());
    p
}

/// Adds an `alg:hex` hash; a malformed one is kept raw in `vouch:integrity-malformed`.
pub(crate) fn add_hash(pkg: &mut Package, raw: &str) {
    match Digest::from_prefixed(raw) {
        Ok(d) => {
            pkg.hashes.insert(d);
        }
        Err(_) => {
            let entry = pkg
                .properties
                .entry("vouch:integrity-malformed".to_owned())
                .or_default();
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(raw);
        }
    }
}

/// Whether `url` is PyPI (its index, its legacy host or its file host).
fn is_pypi(url: &str) -> bool {
    let host = url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or("");
    matches!(
        host,
        "pypi.org" | "pypi.python.org" | "files.pythonhosted.org" | "upload.pypi.org"
    )
}

/// Adds a purl qualifier, keeping the purl as it was when the value is refused.
fn qualify(pkg: &mut Package, key: &str, value: &str) {
    if let Some(p) = pkg.purl.take() {
        let fallback = p.clone();
        pkg.purl = Some(p.with_qualifier(key, value).unwrap_or(fallback));
    }
}

/// Sets a registry source; a registry other than PyPI also goes in the purl as
/// `repository_url`, as the purl `pypi` type definition says.
pub(crate) fn set_registry(pkg: &mut Package, url: Option<&str>) {
    pkg.source = Source::Registry {
        url: url.map(str::to_owned),
    };
    if let Some(u) = url.filter(|u| !is_pypi(u)) {
        qualify(pkg, "repository_url", u);
    }
}

/// Sets a direct archive URL as the source, with the purl `download_url` qualifier.
pub(crate) fn set_url(pkg: &mut Package, url: &str) {
    pkg.source = Source::Url {
        url: url.to_owned(),
    };
    qualify(pkg, "download_url", url);
}

/// Splits a git revision into a full commit (40 or 64 hex digits) or another reference.
pub(crate) fn split_rev(rev: Option<&str>) -> (Option<&str>, Option<&str>) {
    match rev {
        Some(r) if is_commit(r) => (Some(r), None),
        other => (None, other),
    }
}

/// Whether `s` is a full git commit id.
pub(crate) fn is_commit(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Sets a git source, with the purl `vcs_url` qualifier (`git+URL@commit-or-reference`).
pub(crate) fn set_git(pkg: &mut Package, url: &str, commit: Option<&str>, reference: Option<&str>) {
    let url = url.strip_prefix("git+").unwrap_or(url);
    pkg.source = Source::Git {
        url: url.to_owned(),
        commit: commit.map(str::to_owned),
        reference: reference.map(str::to_owned),
    };
    let vcs = match commit.or(reference) {
        Some(rev) => format!("git+{url}@{rev}"),
        None => format!("git+{url}"),
    };
    qualify(pkg, "vcs_url", &vcs);
}

/// A PEP 508 requirement, borrowed from its text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pep508<'a> {
    pub(crate) name: &'a str,
    pub(crate) extras: Vec<&'a str>,
    /// The version specifier (`>=1.0,<2`), without parentheses; empty for none.
    pub(crate) specifier: &'a str,
    pub(crate) url: Option<&'a str>,
    pub(crate) marker: Option<&'a str>,
}

/// Parses `name[extras] specifier ; marker` or `name[extras] @ url ; marker`.
pub(crate) fn parse_pep508(s: &str) -> Option<Pep508<'_>> {
    let s = s.trim();
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(s.len());
    let name = s.get(..name_end)?;
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = s.get(name_end..)?.trim_start();
    let mut extras = Vec::new();
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']')?;
        extras = after
            .get(..close)?
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        rest = after.get(close + 1..)?.trim_start();
    }
    if let Some(after) = rest.strip_prefix('@') {
        let (url, marker) = split_marker_ws(after);
        if url.is_empty() {
            return None;
        }
        return Some(Pep508 {
            name,
            extras,
            specifier: "",
            url: Some(url),
            marker,
        });
    }
    let (spec, marker) = match rest.split_once(';') {
        Some((spec, marker)) => (spec, Some(marker.trim()).filter(|m| !m.is_empty())),
        None => (rest, None),
    };
    let spec = spec.trim();
    let spec = spec
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(spec)
        .trim();
    if !spec.is_empty() && !spec.starts_with(['=', '<', '>', '!', '~']) {
        return None;
    }
    Some(Pep508 {
        name,
        extras,
        specifier: spec,
        url: None,
        marker,
    })
}

/// The version a specifier pins exactly (`==1.2.3`, `===1.2.3`), if any.
pub(crate) fn pinned_version(spec: &str) -> Option<&str> {
    if spec.contains(',') {
        return None;
    }
    let v = spec
        .strip_prefix("===")
        .or_else(|| spec.strip_prefix("=="))?
        .trim();
    (!v.is_empty() && !v.contains('*') && !v.contains(char::is_whitespace)).then_some(v)
}

/// Whether `version` satisfies `constraint`, written as a PEP 440 specifier set or in
/// Poetry's syntax (`^1.2`, `~1.2`, `1.2.*`, `a || b`). Anything not understood matches, so
/// that an unusual constraint links to every candidate rather than to none.
pub(crate) fn version_matches(constraint: &str, version: &str) -> bool {
    let Some(v) = Version::parse(version) else {
        return true;
    };
    constraint.split("||").any(|alt| {
        alt.split(',')
            .flat_map(clauses)
            .all(|clause| clause_matches(&clause, &v, version))
    })
}

/// Splits Poetry's space-separated clauses (`>=1.0 <2.0`), keeping an operator written apart
/// from its version (`>= 1.0`) together.
fn clauses(group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for tok in group.split_whitespace() {
        pending.push_str(tok);
        if !tok.chars().all(|c| "<>=!~^".contains(c)) {
            out.push(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
    out
}

fn clause_matches(clause: &str, v: &Version, raw: &str) -> bool {
    let clause = clause.trim();
    if clause.is_empty() || clause == "*" {
        return true;
    }
    let ops = ["===", "~=", "==", "!=", "<=", ">=", "<", ">", "^", "~", "="];
    let (op, rest) = ops
        .iter()
        .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r.trim())))
        .unwrap_or(("==", clause));
    if op == "===" {
        return rest == raw;
    }
    if let Some(prefix) = rest.strip_suffix(".*") {
        let Some(p) = Version::parse(prefix) else {
            return true;
        };
        let hit = v.epoch == p.epoch && p.release.iter().enumerate().all(|(i, x)| v.part(i) == *x);
        return match op {
            "!=" => !hit,
            _ => hit,
        };
    }
    let Some(c) = Version::parse(rest) else {
        return true;
    };
    match op {
        "==" | "=" => v.cmp_key() == c.cmp_key(),
        "!=" => v.cmp_key() != c.cmp_key(),
        "<=" => v.cmp_key() <= c.cmp_key(),
        ">=" => v.cmp_key() >= c.cmp_key(),
        "<" => v.cmp_key() < c.cmp_key(),
        ">" => v.cmp_key() > c.cmp_key(),
        "~=" => {
            // ~=1.4.5 → >=1.4.5,==1.4.*
            v.cmp_key() >= c.cmp_key()
                && (0..c.release.len().saturating_sub(1)).all(|i| v.part(i) == c.part(i))
        }
        "~" => {
            // ~1.2.3 → >=1.2.3,<1.3; ~1 → >=1,<2.
            let keep = if c.release.len() > 1 { 2 } else { 1 };
            v.cmp_key() >= c.cmp_key() && v.below_bump(&c, keep)
        }
        "^" => {
            // ^1.2.3 → <2.0.0; ^0.2.3 → <0.3.0; ^0.0.3 → <0.0.4.
            let first_nonzero = c.release.iter().position(|x| *x != 0);
            let keep = match first_nonzero {
                Some(i) => i + 1,
                None => c.release.len().max(1),
            };
            v.cmp_key() >= c.cmp_key() && v.below_bump(&c, keep)
        }
        _ => true,
    }
}

/// A PEP 440 version, enough to order releases (local labels are ignored).
struct Version {
    epoch: u64,
    release: Vec<u64>,
    /// 0 dev, 1 alpha, 2 beta, 3 rc, 4 final, 5 post.
    phase: (u8, u64),
}

impl Version {
    fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches(['v', 'V']);
        let s = s.split('+').next().unwrap_or(s).to_ascii_lowercase();
        let (epoch, s) = match s.split_once('!') {
            Some((e, r)) => (e.parse().ok()?, r.to_owned()),
            None => (0, s),
        };
        let rel_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let release: Vec<u64> = s
            .get(..rel_end)?
            .trim_end_matches('.')
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let tail = s.get(rel_end..)?.trim_start_matches(['.', '-', '_']);
        let num = |t: &str| -> u64 {
            t.trim_start_matches(['.', '-', '_'])
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        };
        let phase = if tail.is_empty() {
            (4, 0)
        } else if let Some(t) = tail.strip_prefix("dev") {
            (0, num(t))
        } else if let Some(t) = tail
            .strip_prefix("post")
            .or_else(|| tail.strip_prefix("rev"))
        {
            (5, num(t))
        } else if let Some(t) = tail.strip_prefix("rc").or_else(|| tail.strip_prefix('c')) {
            (3, num(t))
        } else if let Some(t) = tail.strip_prefix("beta").or_else(|| tail.strip_prefix('b')) {
            (2, num(t))
        } else if let Some(t) = tail
            .strip_prefix("alpha")
            .or_else(|| tail.strip_prefix('a'))
        {
            (1, num(t))
        } else {
            return None;
        };
        Some(Version {
            epoch,
            release,
            phase,
        })
    }

    fn part(&self, i: usize) -> u64 {
        self.release.get(i).copied().unwrap_or(0)
    }

    fn cmp_key(&self) -> (u64, Vec<u64>, (u8, u64)) {
        let mut release = self.release.clone();
        while release.last() == Some(&0) {
            release.pop();
        }
        (self.epoch, release, self.phase)
    }

    /// Whether `self` is below `c` with its `keep`-th release component bumped.
    fn below_bump(&self, c: &Version, keep: usize) -> bool {
        for i in 0..keep {
            let bound = if i + 1 == keep {
                c.part(i) + 1
            } else {
                c.part(i)
            };
            match self.part(i).cmp(&bound) {
                std::cmp::Ordering::Less => return true,
                std::cmp::Ordering::Greater => return false,
                std::cmp::Ordering::Equal => {}
            }
        }
        false
    }
}

/// The 1-based line of each `[[package]]` header, in order, for TOML lockfiles whose entries
/// are an array of tables (serde does not report positions).
pub(crate) fn package_header_lines(text: &str) -> Vec<u32> {
    let lines = common::Lines::new(text);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = common::find_from(text, "[[package]]", from) {
        from = pos + "[[package]]".len();
        let at_line_start = pos == 0 || text.as_bytes().get(pos - 1) == Some(&b'\n');
        if at_line_start {
            out.push(lines.line_of(pos));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalize("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(normalize("typing_extensions"), "typing-extensions");
    }

    #[test]
    fn pep508_forms() {
        let r = parse_pep508("coverage[toml]>=5.2.1").unwrap();
        assert_eq!(
            (r.name, r.extras, r.specifier),
            ("coverage", vec!["toml"], ">=5.2.1")
        );
        let r = parse_pep508("tomli; python_version < \"3.11\"").unwrap();
        assert_eq!(r.marker, Some("python_version < \"3.11\""));
        let r = parse_pep508("pip @ https://x/pip-1.0.tar.gz ; os_name == 'nt'").unwrap();
        assert_eq!(r.url, Some("https://x/pip-1.0.tar.gz"));
        assert!(parse_pep508("==1.0").is_none());
        assert_eq!(pinned_version("==1.2"), Some("1.2"));
        assert_eq!(pinned_version("==1.*"), None);
        assert_eq!(pinned_version(">=1,==1.2"), None);
    }

    #[test]
    fn versions_match() {
        assert!(version_matches(">=1.0,<2.0", "1.5"));
        assert!(!version_matches(">=1.0,<2.0", "2.0"));
        assert!(version_matches("^1.2", "1.9.9"));
        assert!(!version_matches("^0.2", "0.3.0"));
        assert!(version_matches("~1.2", "1.2.7"));
        assert!(!version_matches("~1.2", "1.3"));
        assert!(version_matches("==1.*", "1.4"));
        assert!(!version_matches(">=2.0 || <1.0", "1.5"));
        assert!(version_matches("~=1.4.5", "1.4.9"));
        assert!(!version_matches("~=1.4.5", "1.5.0"));
        assert!(!version_matches(">=1.0", "1.0rc1"));
        assert!(version_matches("*", "anything-goes"));
    }

    #[test]
    fn includes_join() {
        assert_eq!(join_rel("", "dev.txt").as_deref(), Some("dev.txt"));
        assert_eq!(join_rel("sub", "../base.txt").as_deref(), Some("base.txt"));
        assert_eq!(join_rel("", "../x.txt"), None);
    }
}

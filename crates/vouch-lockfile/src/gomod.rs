//! Parser for `go.mod` (with `go.sum` beside it) and for `go.sum` alone.
//!
//! Formats: the Go modules reference, <https://go.dev/ref/mod#go-mod-file> (lexical elements,
//! `module`, `go`, `toolchain`, `require`, `exclude`, `replace`, `retract`, ...) and
//! <https://go.dev/ref/mod#go-sum-files>.
//!
//! `go.mod` does not record the module graph, only the requirements of the main module (with
//! Go 1.17 and later, every module that provides a package to the build, the indirect ones
//! marked `// indirect`). The main module is the root and depends on every requirement.
//!
//! `go.sum` lines are `module version h1:base64`, where the hash is a Go "dirhash" (SHA-256
//! over a sorted list of the file hashes of the module zip), and `module version/go.mod h1:...`
//! for the `go.mod` file alone. A dirhash is not the digest of a downloadable artifact, so it
//! goes to the `vouch:go-sum-h1` / `vouch:go-sum-gomod-h1` properties rather than `hashes`.
//! A second line giving one module version another hash goes to `vouch:go-sum-conflict`, for
//! the lock checks.
//! A module@version with only a `/go.mod` line was read for minimal version selection but its
//! code was never downloaded, so `go.sum` alone yields only modules with a content hash.

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};
use vouch_inventory::{Algorithm, Digest, Ecosystem, Evidence, Inventory, Package, Source};

use crate::cargo::synthetic_root;
use crate::common;
use crate::{Input, ParseError, ParseErrorKind};

/// Parses go.mod (with go.sum beside it).
pub(crate) fn parse_mod(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let gomod = read_mod(file, text)?;
    let module = gomod
        .module
        .as_ref()
        .ok_or_else(|| ParseError::missing(file, "module", "go.mod"))?;
    let sums = match read_sibling_sum(input)? {
        Some((name, bytes)) => {
            let sum_text = std::str::from_utf8(&bytes)
                .map_err(|_| ParseError::new(&name, ParseErrorKind::NotUtf8))?;
            Some((name.clone(), read_sum(&name, sum_text)?))
        }
        None => None,
    };

    let mut inv = Inventory::new();
    let mut root_pkg = module_package(&module.path, None, file, Some(module.line));
    for (key, value) in [
        ("vouch:go-version", &gomod.go),
        ("vouch:go-toolchain", &gomod.toolchain),
        ("vouch:go-deprecated", &module.deprecated),
    ] {
        if let Some(v) = value {
            root_pkg.properties.insert(key.to_owned(), v.clone());
        }
    }
    if !gomod.retract.is_empty() {
        root_pkg
            .properties
            .insert("vouch:go-retract".to_owned(), gomod.retract.join(", "));
    }
    let root = inv.add_root(root_pkg);

    let excluded: HashSet<(&str, &str)> = gomod
        .exclude
        .iter()
        .map(|(p, v)| (p.as_str(), v.as_str()))
        .collect();
    let mut replacements: HashMap<(&str, Option<&str>), &Replace> = HashMap::new();
    for r in &gomod.replace {
        // Go refuses duplicate replacements; should a file have them anyway, the last one wins.
        replacements.insert((r.old.as_str(), r.old_version.as_deref()), r);
    }
    for req in &gomod.require {
        if excluded.contains(&(req.path.as_str(), req.version.as_str())) {
            continue;
        }
        // An exact `old version =>` replacement wins over a versionless `old =>` one.
        let replacement = replacements
            .get(&(req.path.as_str(), Some(req.version.as_str())))
            .or_else(|| replacements.get(&(req.path.as_str(), None)))
            .copied();
        let replaces = format!("{}@{}", req.path, req.version);
        let mut pkg = match replacement {
            Some(r) if r.new_version.is_none() => {
                // A directory replacement: local code, part of the project, not a library.
                let mut p = Package::new(Ecosystem::Golang, req.path.clone())
                    .found_in(file, Some(req.line));
                p.purl = golang_purl(&req.path, None);
                p.source = Source::Path {
                    path: r.new.clone(),
                };
                p.direct = Some(!req.indirect);
                p.properties.insert("vouch:replaces".to_owned(), replaces);
                let id = inv.add_root(p);
                inv.depend(&root, &id);
                continue;
            }
            Some(r) => {
                let version = r.new_version.as_deref().unwrap_or_default();
                let mut p = module_package(&r.new, Some(version), file, Some(req.line));
                p.properties.insert("vouch:replaces".to_owned(), replaces);
                p
            }
            None => module_package(&req.path, Some(&req.version), file, Some(req.line)),
        };
        pkg.source = Source::Registry { url: None };
        pkg.direct = Some(!req.indirect);
        if let Some((sum_file, sums)) = &sums {
            let key = (pkg.name.clone(), pkg.version.clone().unwrap_or_default());
            if let Some(entry) = sums.entries.get(&key) {
                entry.annotate(&mut pkg, sum_file);
            }
        }
        let id = inv.add(pkg);
        inv.depend(&root, &id);
    }
    Ok(inv)
}

/// Parses go.sum alone.
pub(crate) fn parse_sum(input: &Input<'_>) -> Result<Inventory, ParseError> {
    let file = input.file;
    let text = input.text()?;
    let sums = read_sum(file, text)?;
    let mut inv = Inventory::new();
    let root = inv.add_root(synthetic_root(Ecosystem::Golang, file));
    for ((path, version), entry) in &sums.entries {
        let Some(line) = entry.h1.as_ref().map(|(_, l)| *l) else {
            continue;
        };
        let mut pkg = module_package(path, Some(version), file, Some(line));
        pkg.source = Source::Registry { url: None };
        entry.annotate(&mut pkg, file);
        let id = inv.add(pkg);
        inv.depend(&root, &id);
    }
    Ok(inv)
}

/// What a go.mod says, in file order.
#[derive(Default)]
struct GoMod {
    module: Option<Module>,
    go: Option<String>,
    toolchain: Option<String>,
    require: Vec<Require>,
    exclude: Vec<(String, String)>,
    replace: Vec<Replace>,
    retract: Vec<String>,
}

struct Module {
    path: String,
    line: u32,
    deprecated: Option<String>,
}

struct Require {
    path: String,
    version: String,
    indirect: bool,
    line: u32,
}

struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    new_version: Option<String>,
}

/// One go.mod line split into tokens, with its trailing `//` comment.
struct Tokens {
    words: Vec<String>,
    comment: Option<String>,
}

fn read_mod(file: &str, text: &str) -> Result<GoMod, ParseError> {
    let mut gomod = GoMod::default();
    let mut block: Option<(String, usize)> = None;
    for (idx, line) in text.lines().enumerate() {
        let n = idx + 1;
        let Tokens { words, comment } =
            tokenize(line).map_err(|m| ParseError::syntax(file, "go.mod", m, Some((n, 1))))?;
        let Some(first) = words.first() else {
            continue;
        };
        if let Some((verb, _)) = &block {
            if first == ")" {
                if words.len() > 1 {
                    return Err(ParseError::syntax(
                        file,
                        "go.mod",
                        "unexpected text after `)`",
                        Some((n, 1)),
                    ));
                }
                block = None;
                continue;
            }
            let verb = verb.clone();
            directive(file, n, &verb, &words, comment, &mut gomod)?;
            continue;
        }
        let args = words.get(1..).unwrap_or_default();
        match args {
            [open] if open == "(" => block = Some((first.clone(), n)),
            [open, close] if open == "(" && close == ")" => {}
            _ => directive(file, n, first, args, comment, &mut gomod)?,
        }
        common::check_entries(
            file,
            gomod.require.len() + gomod.replace.len(),
            "go.mod directives",
        )?;
    }
    if let Some((verb, line)) = block {
        return Err(ParseError::syntax(
            file,
            "go.mod",
            format!("`{verb} (` block is never closed with `)`"),
            Some((line, 1)),
        ));
    }
    Ok(gomod)
}

/// Applies one directive (`verb` and its arguments) found on line `n`.
fn directive(
    file: &str,
    n: usize,
    verb: &str,
    args: &[String],
    comment: Option<String>,
    gomod: &mut GoMod,
) -> Result<(), ParseError> {
    let line = u32::try_from(n).unwrap_or(u32::MAX);
    let bad = |expected: &str| ParseError::invalid(file, verb, expected, args.join(" ")).at_line(n);
    match verb {
        "module" => {
            let [path] = args else {
                return Err(bad("one module path"));
            };
            if gomod.module.is_some() {
                return Err(bad("a single `module` directive"));
            }
            let deprecated = comment
                .as_deref()
                .and_then(|c| c.strip_prefix("Deprecated:"))
                .map(|d| d.trim().to_owned());
            gomod.module = Some(Module {
                path: path.clone(),
                line,
                deprecated,
            });
        }
        "go" | "toolchain" => {
            let [v] = args else {
                return Err(bad("one version"));
            };
            if verb == "go" {
                gomod.go = Some(v.clone());
            } else {
                gomod.toolchain = Some(v.clone());
            }
        }
        "require" => {
            let [path, version] = args else {
                return Err(bad("a module path and a version"));
            };
            let indirect = comment.as_deref().is_some_and(|c| {
                c == "indirect" || c.starts_with("indirect;") || c.starts_with("indirect ")
            });
            gomod.require.push(Require {
                path: path.clone(),
                version: version.clone(),
                indirect,
                line,
            });
        }
        "exclude" => {
            let [path, version] = args else {
                return Err(bad("a module path and a version"));
            };
            gomod.exclude.push((path.clone(), version.clone()));
        }
        "replace" => {
            let arrow = args
                .iter()
                .position(|a| a == "=>")
                .ok_or_else(|| bad("`old [version] => new [version]`"))?;
            let (left, right) = args.split_at(arrow);
            let right = right.get(1..).unwrap_or_default();
            let (old, old_version) = match left {
                [o] => (o.clone(), None),
                [o, v] => (o.clone(), Some(v.clone())),
                _ => return Err(bad("`old [version] => new [version]`")),
            };
            let (new, new_version) = match right {
                [p] if is_directory_path(p) => (p.clone(), None),
                [_] => {
                    return Err(bad(
                        "a version, or a directory path (rooted or starting with ./ or ../)",
                    ));
                }
                [p, v] => (p.clone(), Some(v.clone())),
                _ => return Err(bad("`old [version] => new [version]`")),
            };
            gomod.replace.push(Replace {
                old,
                old_version,
                new,
                new_version,
            });
        }
        "retract" => {
            if args.is_empty() {
                return Err(bad("a version or a `[low, high]` interval"));
            }
            gomod.retract.push(args.concat().replace(',', ", "));
        }
        // `godebug`, `tool`, `ignore` and directives of later Go versions say nothing about
        // which modules the build uses.
        _ => {}
    }
    Ok(())
}

/// Whether a replacement path is a directory (go's `modfile.IsDirectoryPath`).
fn is_directory_path(p: &str) -> bool {
    p == "."
        || p == ".."
        || p.starts_with("./")
        || p.starts_with("../")
        || p.starts_with('/')
        || p.starts_with(".\\")
        || p.starts_with("..\\")
        || p.starts_with('\\')
        || p.get(1..3).is_some_and(|s| s == ":\\" || s == ":/")
}

/// Splits one line into go.mod tokens: identifiers, `(`, `)`, `=>`, `,`, `[`, `]` and
/// interpreted (`"..."`) or raw (`` `...` ``) strings, which are unquoted.
fn tokenize(line: &str) -> Result<Tokens, String> {
    let mut words = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(Tokens {
                words,
                comment: None,
            });
        }
        if let Some(c) = rest.strip_prefix("//") {
            return Ok(Tokens {
                words,
                comment: Some(c.trim().to_owned()),
            });
        }
        if let Some(r) = rest.strip_prefix("=>") {
            words.push("=>".to_owned());
            rest = r;
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            continue;
        };
        match c {
            '(' | ')' | ',' | '[' | ']' => {
                words.push(c.to_string());
                rest = chars.as_str();
            }
            '"' => {
                let (word, r) = interpreted_string(chars.as_str())?;
                words.push(word);
                rest = r;
            }
            '`' => {
                let body = chars.as_str();
                let end = body.find('`').ok_or("unterminated raw string")?;
                words.push(body.get(..end).unwrap_or_default().to_owned());
                rest = body.get(end + 1..).unwrap_or_default();
            }
            _ => {
                let end = rest
                    .char_indices()
                    .find(|(i, ch)| {
                        ch.is_whitespace()
                            || matches!(ch, '(' | ')' | ',' | '[' | ']' | '"' | '`')
                            || rest
                                .get(*i..)
                                .is_some_and(|s| s.starts_with("//") || s.starts_with("=>"))
                    })
                    .map_or(rest.len(), |(i, _)| i);
                words.push(rest.get(..end).unwrap_or_default().to_owned());
                rest = rest.get(end..).unwrap_or_default();
            }
        }
    }
}

/// Reads a Go interpreted string after its opening quote; returns it and the rest of the line.
fn interpreted_string(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, s.get(i + 1..).unwrap_or_default())),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(e @ ('\\' | '"' | '\'')) => out.push(e),
                Some(e) => return Err(format!("unsupported escape `\\{e}` in string")),
                None => break,
            },
            _ => out.push(c),
        }
    }
    Err("unterminated string".to_owned())
}

/// The hashes go.sum records for one module@version, with their lines.
#[derive(Default)]
struct SumEntry {
    h1: Option<(String, u32)>,
    gomod_h1: Option<(String, u32)>,
    /// A second, different hash for a line already seen (Go refuses such a file; the lock
    /// checks report it).
    conflict: Option<(String, u32)>,
}

impl SumEntry {
    /// Copies the go.sum hashes onto a package as properties (see the module docs for why
    /// they are not `hashes`), with go.sum as further evidence.
    fn annotate(&self, pkg: &mut Package, sum_file: &str) {
        for (key, value) in [
            ("vouch:go-sum-h1", &self.h1),
            ("vouch:go-sum-gomod-h1", &self.gomod_h1),
        ] {
            let Some((hash, line)) = value else {
                continue;
            };
            let valid = hash
                .strip_prefix("h1:")
                .is_some_and(|b64| Digest::from_base64(Algorithm::Sha256, b64).is_ok());
            let key = if valid {
                key
            } else {
                "vouch:integrity-malformed"
            };
            pkg.properties.insert(key.to_owned(), hash.clone());
            if let Some((other, _)) = &self.conflict {
                pkg.properties
                    .insert("vouch:go-sum-conflict".to_owned(), other.clone());
            }
            if pkg.evidence.iter().all(|e| e.file != sum_file) {
                pkg.evidence.insert(Evidence {
                    file: sum_file.to_owned(),
                    line: Some(*line),
                });
            }
        }
    }
}

/// go.sum: entries keyed by (module path, version), in sorted order.
struct GoSum {
    entries: BTreeMap<(String, String), SumEntry>,
}

fn read_sum(file: &str, text: &str) -> Result<GoSum, ParseError> {
    let mut entries: BTreeMap<(String, String), SumEntry> = BTreeMap::new();
    for (idx, line) in text.lines().enumerate() {
        let n = idx + 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [path, version, hash] = fields.as_slice() else {
            if fields.is_empty() {
                continue;
            }
            return Err(ParseError::invalid(
                file,
                "go.sum line",
                "`module version hash`",
                line.trim(),
            )
            .at_line(n));
        };
        let line_no = u32::try_from(n).unwrap_or(u32::MAX);
        let (version, gomod) = match version.strip_suffix("/go.mod") {
            Some(v) => (v, true),
            None => (*version, false),
        };
        let entry = entries
            .entry(((*path).to_owned(), version.to_owned()))
            .or_default();
        let seen = if gomod { &entry.gomod_h1 } else { &entry.h1 };
        match seen.as_ref().map(|(h, _)| h == hash) {
            Some(true) => {}
            Some(false) => {
                entry.conflict.get_or_insert(((*hash).to_owned(), line_no));
            }
            None => {
                let slot = if gomod {
                    &mut entry.gomod_h1
                } else {
                    &mut entry.h1
                };
                *slot = Some(((*hash).to_owned(), line_no));
            }
        }
        common::check_entries(file, entries.len(), "go.sum entries")?;
    }
    Ok(GoSum { entries })
}

/// Reads go.sum beside the go.mod: `NAME.go.sum` for a file named `NAME.go.mod`, else `go.sum`.
/// Returns the display name and the bytes.
fn read_sibling_sum(input: &Input<'_>) -> Result<Option<(String, Vec<u8>)>, ParseError> {
    let (dir, name) = match input.file.rsplit_once(['/', '\\']) {
        Some((d, n)) => (Some(d), n),
        None => (None, input.file),
    };
    let mut candidates = Vec::new();
    if let Some(prefix) = name.strip_suffix(".go.mod").filter(|p| !p.is_empty()) {
        candidates.push(format!("{prefix}.go.sum"));
    }
    candidates.push("go.sum".to_owned());
    for rel in candidates {
        if let Some(bytes) = (input.siblings)(&rel) {
            let shown = match dir {
                Some(d) => format!("{d}/{rel}"),
                None => rel,
            };
            return Ok(Some((shown, bytes?)));
        }
    }
    Ok(None)
}

/// A Go module package: purl `pkg:golang/<all but the last path segment>/<last segment>`.
fn module_package(path: &str, version: Option<&str>, file: &str, line: Option<u32>) -> Package {
    let mut p = Package::new(Ecosystem::Golang, path).found_in(file, line);
    p.version = version.filter(|v| !v.is_empty()).map(str::to_owned);
    p.purl = golang_purl(path, version);
    p
}

fn golang_purl(path: &str, version: Option<&str>) -> Option<vouch_inventory::PackageUrl> {
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, path),
    };
    common::purl(Ecosystem::Golang, namespace, name, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = tokenize(r#"  "example.com/a b" v1.0.0 // indirect"#).unwrap();
        assert_eq!(t.words, vec!["example.com/a b", "v1.0.0"]);
        assert_eq!(t.comment.as_deref(), Some("indirect"));
        let t = tokenize("a=>b v1").unwrap();
        assert_eq!(t.words, vec!["a", "=>", "b", "v1"]);
        let t = tokenize("retract [v1.0.0, v1.1.0]").unwrap();
        assert_eq!(t.words, vec!["retract", "[", "v1.0.0", ",", "v1.1.0", "]"]);
        assert!(tokenize(r#"module "unterminated"#).is_err());
    }

    #[test]
    fn sum_lines() {
        let s = read_sum(
            "go.sum",
            "a/b v1.0.0 h1:x=\na/b v1.0.0/go.mod h1:y=\na/b v0.9.0/go.mod h1:z=\n",
        )
        .unwrap();
        assert_eq!(s.entries.len(), 2);
        let old = s
            .entries
            .get(&("a/b".to_owned(), "v0.9.0".to_owned()))
            .unwrap();
        assert!(old.h1.is_none() && old.gomod_h1.is_some());
    }
}

//! What the three encoders share: the graph as they walk it, identifiers, time, licences and
//! suppliers.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use hashbrown::{HashMap, HashSet};
use vouch_digest::{Algorithm, Digest, hash_bytes, hash_parts, to_hex};
use vouch_inventory::{Ecosystem, Inventory, Kind, Package, PackageId, SortedSet, Source};

use crate::{EncodeError, Subject};

/// Stand-in identifier for the first, hashing pass of [`crate::encode`].
pub(crate) const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// Per-document values the encoders stamp in.
pub(crate) struct Context<'a> {
    pub uuid: &'a str,
    /// RFC 3339 UTC, or empty in the hashing pass.
    pub created: &'a str,
    pub tool_name: &'a str,
    pub tool_version: &'a str,
}

/// The inventory as the encoders walk it: packages in identity order, edges whose two ends are
/// both present, and the subject's own dependencies.
pub(crate) struct Graph<'a> {
    pub subject: &'a Subject,
    pub packages: Vec<(&'a PackageId, &'a Package)>,
    /// Outgoing edges, both ends known, in identity order of the source; a source without any
    /// is left out.
    pub edges: Vec<(&'a PackageId, Vec<&'a PackageId>)>,
    /// Where each source's entry is in `edges`. Lookups hash the identity once rather than
    /// compare it with a dozen others that share its `pkg:<type>/` prefix.
    edge_index: HashMap<&'a PackageId, usize>,
    /// What the subject depends on: the roots, or when there are none, every library that
    /// nothing depends on (so that no package hangs loose in the graph).
    pub subject_deps: Vec<&'a PackageId>,
    /// Packages a project depends on directly, computed once: asking the inventory per
    /// package costs roots × packages lookups, which dominates on large workspaces.
    direct: HashSet<&'a PackageId>,
    inventory: &'a Inventory,
    /// [`classify_license`] of each licence string met so far: a lockfile of a thousand
    /// packages holds a few dozen distinct strings, and each classification parses an SPDX
    /// expression.
    licence_classes: RefCell<HashMap<String, LicenseClass>>,
}

/// What [`classify_license`] says of a string, without the string.
#[derive(Clone, Copy)]
enum LicenseClass {
    Expression { simple: bool },
    Raw,
}

impl<'a> Graph<'a> {
    pub(crate) fn new(subject: &'a Subject, inventory: &'a Inventory) -> Self {
        let packages: Vec<_> = inventory.packages().collect();
        // Source by source, in identity order (the inventory's adjacency is sorted), so the
        // list needs no sorting of its own.
        let edges: Vec<(&PackageId, Vec<&PackageId>)> = inventory
            .package_adjacency()
            .map(|(from, tos)| (from, tos.collect::<Vec<_>>()))
            .filter(|(_, tos)| !tos.is_empty())
            .collect();
        let edge_index = edges
            .iter()
            .enumerate()
            .map(|(i, (from, _))| (*from, i))
            .collect();
        let roots: Vec<&PackageId> = inventory
            .roots()
            .iter()
            .filter(|id| inventory.get(id).is_some())
            .collect();
        let subject_deps = if roots.is_empty() {
            let has_parent: HashSet<&PackageId> =
                edges.iter().flat_map(|(_, tos)| tos).copied().collect();
            packages
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| !has_parent.contains(id))
                .collect()
        } else {
            roots
        };
        let direct = inventory
            .roots()
            .iter()
            .flat_map(|r| inventory.dependencies(r))
            .collect();
        Graph {
            subject,
            packages,
            edges,
            edge_index,
            subject_deps,
            direct,
            inventory,
            licence_classes: RefCell::default(),
        }
    }

    /// [`classify_license`], remembered per distinct string for the life of the graph.
    pub(crate) fn classify_license<'s>(&self, s: &'s str) -> License<'s> {
        let known = self.licence_classes.borrow().get(s).copied();
        let class = match known {
            Some(class) => class,
            None => {
                let class = match classify_license(s) {
                    License::Expression { simple, .. } => LicenseClass::Expression { simple },
                    License::Raw(_) => LicenseClass::Raw,
                };
                self.licence_classes
                    .borrow_mut()
                    .insert(s.to_owned(), class);
                class
            }
        };
        match class {
            LicenseClass::Expression { simple } => License::Expression {
                text: s.trim(),
                simple,
            },
            LicenseClass::Raw => License::Raw(s),
        }
    }

    /// Whether a project depends on `id` (the package `pkg`) directly: what the producer said,
    /// else the graph.
    pub(crate) fn is_direct(&self, id: &PackageId, pkg: &Package) -> bool {
        match pkg.direct {
            Some(d) => d,
            None => self.direct.contains(id),
        }
    }

    /// The package with this identity.
    pub(crate) fn package(&self, id: &PackageId) -> Option<&'a Package> {
        self.inventory.get(id)
    }

    /// Dependencies of `id` whose target is present.
    pub(crate) fn deps(&self, id: &PackageId) -> &[&'a PackageId] {
        self.edge_index
            .get(id)
            .and_then(|&i| self.edges.get(i))
            .map_or(&[], |(_, tos)| tos.as_slice())
    }
}

/// Label of the subject, for documents that need a reference string for it.
pub(crate) fn subject_label(subject: &Subject) -> String {
    match &subject.version {
        Some(v) => format!("{}@{}", subject.name, v),
        None => subject.name.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Identifiers

/// Validates a caller-supplied UUID and returns it in lowercase. CycloneDX's `serialNumber`
/// pattern admits versions 1 to 5 with the RFC 4122 variant only, so the same is required here.
pub(crate) fn check_uuid(s: &str) -> Result<String, EncodeError> {
    let lower = s.to_ascii_lowercase();
    let groups: Vec<&str> = lower.split('-').collect();
    let lens_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    let hex_ok = groups
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    let version_ok = groups
        .get(2)
        .and_then(|g| g.bytes().next())
        .is_some_and(|b| (b'1'..=b'5').contains(&b));
    let variant_ok = groups
        .get(3)
        .and_then(|g| g.bytes().next())
        .is_some_and(|b| matches!(b, b'8' | b'9' | b'a' | b'b'));
    if lens_ok && hex_ok && version_ok && variant_ok {
        Ok(lower)
    } else {
        Err(EncodeError::InvalidSerial {
            found: s.to_owned(),
        })
    }
}

/// A name-based UUID from the SHA-256 of `content`: the first 16 bytes with the version set
/// to 5 and the RFC 4122 variant, as RFC 9562 section 5.5 lays out a name-based UUID (with
/// SHA-256 in place of SHA-1, whose use here would need no collision resistance but would
/// draw questions).
pub(crate) fn uuid_from_content(content: &[u8]) -> String {
    uuid_from_digest(hash_bytes(Algorithm::Sha256, content))
}

/// [`uuid_from_content`] of the concatenation of `parts`, for content that is not in one
/// piece (a document hashed with a part of it left out).
pub(crate) fn uuid_from_parts(parts: &[&[u8]]) -> String {
    uuid_from_digest(hash_parts(Algorithm::Sha256, parts))
}

pub(crate) fn uuid_from_digest(digest: Option<Digest>) -> String {
    let mut bytes = digest
        .and_then(|d| vouch_digest::from_hex(d.hex()))
        .unwrap_or_default();
    bytes.resize(16, 0);
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x50;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let hex = to_hex(&bytes);
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or("");
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// Short stable tag of a string, for making sanitised identifiers unique.
pub(crate) fn short_hash(s: &str) -> String {
    hash_bytes(Algorithm::Sha256, s.as_bytes())
        .map(|d| d.hex().get(..8).unwrap_or("").to_owned())
        .unwrap_or_default()
}

/// Keeps `[A-Za-z0-9.-]` and turns everything else into `-`: the character set of SPDX 2
/// `SPDXRef-` identifiers and `LicenseRef-` ids, also safe in IRI fragments and URL paths.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Gives each package a unique identifier built from its identity made readable (purl
/// qualifiers dropped, percent-escapes decoded, then sanitised); where two identities come
/// out alike, each gets a hash of its full identity appended.
pub(crate) fn unique_ids<'a>(
    graph: &Graph<'a>,
    prefix: &str,
    reserved: &[&str],
) -> BTreeMap<&'a PackageId, String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (id, _) in &graph.packages {
        *count.entry(readable(&id.0)).or_default() += 1;
    }
    let mut used: BTreeSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    let mut out = BTreeMap::new();
    for (id, _) in &graph.packages {
        let base = readable(&id.0);
        let mut candidate = if count.get(&base).copied().unwrap_or(0) > 1 {
            format!("{prefix}{base}-{}", short_hash(&id.0))
        } else {
            format!("{prefix}{base}")
        };
        let mut n = 1;
        while used.contains(&candidate) {
            n += 1;
            candidate = format!("{prefix}{base}-{}-{n}", short_hash(&id.0));
        }
        used.insert(candidate.clone());
        out.insert(*id, candidate);
    }
    out
}

/// `pkg:npm/%40babel/core@7.24.0?x=y` → `npm-babel-core-7.24.0`.
fn readable(id: &str) -> String {
    let id = match id.strip_prefix("pkg:") {
        Some(rest) => rest.split('?').next().unwrap_or(rest),
        None => id,
    };
    let decoded = percent_decode(id);
    let mut out = String::with_capacity(decoded.len());
    for c in sanitize(&decoded).chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        short_hash(id)
    } else {
        out.to_owned()
    }
}

/// Decodes `%XX` escapes, leaving malformed ones as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a URL is safe to write where the schemas expect an IRI reference or a download
/// location: an absolute `scheme://authority/...` URL of printable ASCII, without characters
/// that URLs must escape, and with a numeric port if any. Anything else (scp-style remotes such
/// as `ssh://git@host:owner/repo`, paths) is kept as a property instead.
pub(crate) fn is_plain_url(url: &str) -> bool {
    // It runs once or twice for every package of a document: one look at each byte, and no
    // substring searches.
    let Some((scheme, rest)) = split_scheme(url) else {
        return false;
    };
    let host_port = host_port(rest);
    let authority_ok = if host_port.starts_with('[') {
        // An IPv6 literal, perhaps with a port.
        host_port
            .split_once(']')
            .is_some_and(|(_, after)| after.is_empty() || is_port(after))
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => !host.is_empty() && is_digits(port),
            None => !host_port.is_empty(),
        }
    };
    is_scheme(scheme) && url_chars_ok(rest) && authority_ok
}

/// A URL scheme: a letter, then letters, digits, `+`, `-` and `.`.
fn is_scheme(scheme: &str) -> bool {
    scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Printable ASCII without the characters URLs must escape.
fn url_chars_ok(rest: &str) -> bool {
    rest.bytes().all(|b| {
        b.is_ascii_graphic()
            && !matches!(
                b,
                b'<' | b'>' | b'"' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'`'
            )
    })
}

/// `url.split_once("://")`, looking only at the colons.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    loop {
        let colon = from + url.get(from..)?.find(':')?;
        if let Some(rest) = url.get(colon + 1..)?.strip_prefix("//") {
            return Some((url.get(..colon)?, rest));
        }
        from = colon + 1;
    }
}

/// The host and port of what follows `scheme://`: up to the first `/`, `?` or `#`, after the
/// last `@`.
fn host_port(rest: &str) -> &str {
    let bytes = rest.as_bytes();
    let end = bytes
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(bytes.len());
    let authority = bytes.get(..end).unwrap_or_default();
    let start = authority
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(0, |at| at + 1);
    rest.get(start..end).unwrap_or_default()
}

/// `:` followed by zero or more digits (RFC 3986 allows an empty port).
fn is_port(s: &str) -> bool {
    s.strip_prefix(':').is_some_and(is_digits)
}

/// Zero or more ASCII digits.
fn is_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Time

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(secs: i64) -> Result<String, EncodeError> {
    // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    const MIN: i64 = -62_135_596_800;
    const MAX: i64 = 253_402_300_799;
    if !(MIN..=MAX).contains(&secs) {
        return Err(EncodeError::TimestampOutOfRange { created: secs });
    }
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Ok(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        tod / 3600,
        (tod % 3600) / 60,
        tod % 60
    ))
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (the era-based method: 400-year
/// eras of 146,097 days, years starting in March so that the leap day comes last).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ---------------------------------------------------------------------------------------------
// Licences

/// A licence string as recorded, classified.
pub(crate) enum License<'a> {
    /// A valid SPDX expression; `simple` when it is one listed licence id with nothing else.
    Expression { text: &'a str, simple: bool },
    /// Anything else: kept as a name (CycloneDX) or a `LicenseRef-` (SPDX).
    Raw(&'a str),
}

/// Classifies a recorded licence string. Strict SPDX syntax: listed ids (case-sensitive, not
/// deprecated), `LicenseRef-`, and upper-case `AND`/`OR`/`WITH` (the SPDX 2.3 annex asks for
/// case-sensitive operators, though the `spdx` crate accepts either case).
pub(crate) fn classify_license(s: &str) -> License<'_> {
    let text = s.trim();
    let lower_operator = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|w| {
            let upper = w.to_ascii_uppercase();
            matches!(upper.as_str(), "AND" | "OR" | "WITH") && w != upper
        });
    if text.is_empty() || lower_operator {
        return License::Raw(s);
    }
    match spdx::Expression::parse_mode(text, spdx::ParseMode::STRICT) {
        Ok(expr) => {
            let mut reqs = expr.requirements();
            let simple = match (reqs.next(), reqs.next()) {
                (Some(r), None) => {
                    matches!(&r.req.license, spdx::LicenseItem::Spdx { id, or_later: false } if id.name == text)
                        && r.req.addition.is_none()
                }
                _ => false,
            };
            License::Expression { text, simple }
        }
        Err(_) => License::Raw(s),
    }
}

/// Whether an expression needs parentheses to be joined to others with `AND`.
pub(crate) fn is_compound(expr: &str) -> bool {
    expr.split_whitespace().count() > 1
}

/// `LicenseRef-` id for a raw licence string: its sanitised text, plus a hash when sanitising
/// changed it (so that two strings that sanitise alike stay apart).
pub(crate) fn license_ref(raw: &str) -> String {
    let clean = sanitize(raw.trim());
    let clean = clean.trim_matches('-');
    if clean.is_empty() {
        format!("LicenseRef-vouch-{}", short_hash(raw))
    } else if clean == raw {
        format!("LicenseRef-{clean}")
    } else {
        format!("LicenseRef-{clean}-{}", short_hash(raw))
    }
}

/// All of a package's licences as one SPDX expression (`AND` of each), with raw strings as
/// `LicenseRef-`s; returns the expression and the raw strings behind each `LicenseRef-`.
///
/// `AND` because a set of licence records for one package says the package carries each of
/// them; it is the reading that never understates obligations.
pub(crate) fn joined_expression(
    licenses: &SortedSet<String>,
) -> Option<(String, Vec<(String, &str)>)> {
    let mut parts = Vec::new();
    let mut refs = Vec::new();
    for l in licenses {
        match classify_license(l) {
            License::Expression { text, .. } => parts.push(text.to_owned()),
            License::Raw(raw) => {
                let id = license_ref(raw);
                parts.push(id.clone());
                refs.push((id, raw));
            }
        }
    }
    parts.sort();
    parts.dedup();
    let expr = match parts.as_slice() {
        [] => return None,
        [one] => one.clone(),
        many => many
            .iter()
            .map(|p| {
                if is_compound(p) {
                    format!("({p})")
                } else {
                    p.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" AND "),
    };
    Some((expr, refs))
}

// ---------------------------------------------------------------------------------------------
// Suppliers

/// A public registry that distributed a package.
pub(crate) struct Registry {
    /// The registry's name, used as an organisation name.
    pub name: &'static str,
    /// Its home page.
    pub url: &'static str,
}

/// The supplier vouch records for a package: the public registry it was downloaded from,
/// when that is known.
///
/// Lockfiles do not name who made a package. What they do record is where it came from, and
/// for a public registry that is an organisation that distributed the bytes under this name;
/// NTIA's minimum elements accept the distributor as supplier when the author is unknown. So a
/// package gets a supplier only when its source is a registry that is (or defaults to) the
/// ecosystem's well-known public one. Private registries, git, paths and plain URLs get none,
/// and no person is ever named.
pub(crate) fn supplier(pkg: &Package) -> Option<Registry> {
    if pkg.kind == Kind::Project {
        return None;
    }
    let Source::Registry { url } = &pkg.source else {
        return None;
    };
    let (registry, hosts): (Registry, &[&str]) = match pkg.ecosystem {
        Ecosystem::Cargo => (
            Registry {
                name: "crates.io",
                url: "https://crates.io",
            },
            &["crates.io", "index.crates.io", "static.crates.io"],
        ),
        Ecosystem::Npm => (
            Registry {
                name: "npm",
                url: "https://www.npmjs.com",
            },
            &["registry.npmjs.org", "registry.yarnpkg.com", "npmjs.com"],
        ),
        Ecosystem::Pypi => (
            Registry {
                name: "Python Package Index",
                url: "https://pypi.org",
            },
            &["pypi.org", "files.pythonhosted.org", "pypi.python.org"],
        ),
        Ecosystem::Gem => (
            Registry {
                name: "RubyGems.org",
                url: "https://rubygems.org",
            },
            &["rubygems.org", "index.rubygems.org"],
        ),
        Ecosystem::Composer => (
            Registry {
                name: "Packagist",
                url: "https://packagist.org",
            },
            &["packagist.org", "repo.packagist.org"],
        ),
        Ecosystem::Maven => (
            Registry {
                name: "Maven Central",
                url: "https://central.sonatype.com",
            },
            &[
                "repo.maven.apache.org",
                "repo1.maven.org",
                "central.sonatype.com",
            ],
        ),
        Ecosystem::Nuget => (
            Registry {
                name: "NuGet Gallery",
                url: "https://www.nuget.org",
            },
            &["api.nuget.org", "nuget.org", "www.nuget.org"],
        ),
        Ecosystem::Pub => (
            Registry {
                name: "pub.dev",
                url: "https://pub.dev",
            },
            &["pub.dev", "pub.dartlang.org"],
        ),
        Ecosystem::Hex => (
            Registry {
                name: "Hex",
                url: "https://hex.pm",
            },
            &["hex.pm", "repo.hex.pm"],
        ),
        _ => return None,
    };
    let Some(url) = url else {
        // A lockfile that records no registry for a registry package means the default one.
        return Some(registry);
    };
    if pkg.ecosystem == Ecosystem::Cargo && url.contains("github.com/rust-lang/crates.io-index") {
        return Some(registry);
    }
    let host = url_host(url)?;
    hosts
        .iter()
        .any(|h| host.eq_ignore_ascii_case(h))
        .then_some(registry)
}

/// The host of a URL, after any `registry+`/`sparse+`/`git+` prefix, userinfo and port.
fn url_host(url: &str) -> Option<&str> {
    let (_, rest) = split_scheme(url)?;
    let host_port = host_port(rest);
    let host = host_port
        .split_once(':')
        .map_or(host_port, |(host, _)| host);
    (!host.is_empty()).then_some(host)
}

// ---------------------------------------------------------------------------------------------
// Hash algorithm names

/// CycloneDX `hashes[].alg`.
pub(crate) fn cdx_alg(a: Algorithm) -> Option<&'static str> {
    Some(match a {
        Algorithm::Md5 => "MD5",
        Algorithm::Sha1 => "SHA-1",
        Algorithm::Sha256 => "SHA-256",
        Algorithm::Sha384 => "SHA-384",
        Algorithm::Sha512 => "SHA-512",
        _ => return None,
    })
}

/// SPDX 2.3 `checksums[].algorithm`.
pub(crate) fn spdx2_alg(a: Algorithm) -> Option<&'static str> {
    Some(match a {
        Algorithm::Md5 => "MD5",
        Algorithm::Sha1 => "SHA1",
        Algorithm::Sha256 => "SHA256",
        Algorithm::Sha384 => "SHA384",
        Algorithm::Sha512 => "SHA512",
        _ => return None,
    })
}

/// SPDX 3.0.1 `HashAlgorithm` individual, compacted by the context.
pub(crate) fn spdx3_alg(a: Algorithm) -> Option<&'static str> {
    Some(match a {
        Algorithm::Md5 => "md5",
        Algorithm::Sha1 => "sha1",
        Algorithm::Sha256 => "sha256",
        Algorithm::Sha384 => "sha384",
        Algorithm::Sha512 => "sha512",
        _ => return None,
    })
}

/// One line per piece of evidence and source fact, for SPDX `sourceInfo`.
pub(crate) fn source_info(pkg: &Package) -> Option<String> {
    let mut parts = Vec::new();
    match &pkg.source {
        Source::Git {
            url,
            commit,
            reference,
        } => {
            let mut s = format!("git repository {url}");
            if let Some(r) = reference {
                s.push_str(&format!(" ({r})"));
            }
            if let Some(c) = commit {
                s.push_str(&format!(" at commit {c}"));
            }
            parts.push(s);
        }
        Source::Path { path } => parts.push(format!("local path {path}")),
        Source::Url { url } => parts.push(format!("downloaded from {url}")),
        Source::Registry { url: Some(url) } => parts.push(format!("registry {url}")),
        _ => {}
    }
    for e in &pkg.evidence {
        match e.line {
            Some(l) => parts.push(format!("found in {}:{l}", e.file)),
            None => parts.push(format!("found in {}", e.file)),
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Where a package can be downloaded, when the source says so in a form SPDX accepts: a git
/// repository as `git+URL@commit`, a URL archive, or a registry download URL of an archive.
pub(crate) fn download_location(pkg: &Package) -> Option<String> {
    match &pkg.source {
        Source::Git { url, commit, .. } if is_plain_url(url) => {
            let base = if url.starts_with("git+") {
                url.clone()
            } else {
                format!("git+{url}")
            };
            Some(match commit {
                Some(c) => format!("{base}@{c}"),
                None => base,
            })
        }
        Source::Url { url } if is_plain_url(url) && url.starts_with("http") => Some(url.clone()),
        Source::Registry { url: Some(url) }
            if is_plain_url(url)
                && url.starts_with("http")
                && [
                    ".tgz", ".tar.gz", ".whl", ".zip", ".crate", ".gem", ".jar", ".nupkg",
                ]
                .iter()
                .any(|ext| url.ends_with(ext)) =>
        {
            Some(url.clone())
        }
        _ => None,
    }
}

/// The package's scope as a word.
pub(crate) fn scope_word(scope: vouch_inventory::Scope) -> &'static str {
    match scope {
        vouch_inventory::Scope::Required => "required",
        vouch_inventory::Scope::Optional => "optional",
        vouch_inventory::Scope::Dev => "dev",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_points() {
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
        assert!(rfc3339(253_402_300_800).is_err());
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_from_content(b"x");
        assert!(check_uuid(&u).is_ok(), "{u}");
        assert_eq!(u.as_bytes()[14], b'5');
        assert!(check_uuid("not-a-uuid").is_err());
        assert!(check_uuid(NIL_UUID).is_err());
    }

    #[test]
    fn licences() {
        assert!(matches!(
            classify_license("MIT"),
            License::Expression { simple: true, .. }
        ));
        assert!(matches!(
            classify_license("MIT OR Apache-2.0"),
            License::Expression { simple: false, .. }
        ));
        assert!(matches!(
            classify_license("MIT or Apache-2.0"),
            License::Raw(_)
        ));
        assert!(matches!(
            classify_license("Custom: see LICENSE"),
            License::Raw(_)
        ));
        let set: SortedSet<String> = ["MIT OR Apache-2.0".into(), "BSD-3-Clause".into()].into();
        assert_eq!(
            joined_expression(&set).unwrap().0,
            "BSD-3-Clause AND (MIT OR Apache-2.0)"
        );
    }

    #[test]
    fn remembered_licence_classes_are_the_classes() {
        let subject = Subject {
            name: "s".into(),
            version: None,
        };
        let inventory = Inventory::new();
        let graph = Graph::new(&subject, &inventory);
        let describe = |l: License<'_>| match l {
            License::Expression { text, simple } => format!("expression {text:?} {simple}"),
            License::Raw(text) => format!("raw {text:?}"),
        };
        // Twice each: the first answer is computed, the second remembered.
        for _ in 0..2 {
            for s in [
                "MIT",
                " MIT ",
                "MIT OR Apache-2.0",
                "MIT or Apache-2.0",
                "Custom",
                "",
            ] {
                assert_eq!(
                    describe(graph.classify_license(s)),
                    describe(classify_license(s)),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn readable_ids() {
        assert_eq!(
            readable("pkg:npm/%40babel/core@7.24.0"),
            "npm-babel-core-7.24.0"
        );
        assert_eq!(readable("pkg:cargo/a@1?vcs_url=x"), "cargo-a-1");
        assert_eq!(
            readable("project:npm:web@2.0.0#web/package-lock.json"),
            "project-npm-web-2.0.0-web-package-lock.json"
        );
        assert_eq!(readable("%zz"), "zz");
        assert_eq!(readable("///").len(), 8);
    }

    /// The first implementation, which split the URL up with string searches and formatted
    /// the port: the reference the one-pass version is compared with. The scheme and
    /// character checks, which did not change, are shared.
    fn is_plain_url_reference(url: &str) -> bool {
        let Some((scheme, rest)) = url.split_once("://") else {
            return false;
        };
        let scheme_ok = is_scheme(scheme);
        let chars_ok = url_chars_ok(rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let authority_ok = if host_port.starts_with('[') {
            // An IPv6 literal, perhaps with a port.
            host_port
                .split_once(']')
                .is_some_and(|(_, after)| after.is_empty() || is_port(after))
        } else {
            match host_port.split_once(':') {
                Some((host, port)) => !host.is_empty() && is_port(&format!(":{port}")),
                None => !host_port.is_empty(),
            }
        };
        scheme_ok && chars_ok && authority_ok
    }

    /// The first `url_host`, with string splits: the reference for the one-pass version.
    fn url_host_reference(url: &str) -> Option<&str> {
        let (_, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        let host = authority.rsplit('@').next()?;
        let host = host.split(':').next()?;
        (!host.is_empty()).then_some(host)
    }

    proptest::proptest! {
        #[test]
        fn one_pass_url_test_agrees_with_the_reference(
            url in concat!(
                "([a-z0-9+.-]{0,3}:?[a-z0-9]{0,2})?",            // scheme
                "(://|:/|:)?",                     // separator
                "([a-z:]{0,3}@)?",                 // user information
                "([a-z.]{1,4}|\\[[0-9:]{1,4}\\][a-z0-9]?)?", // host
                "(:[0-9a]{0,3})?",                 // port
                "([/?#][a-z0-9/?#@:%<> \"]{0,5})?",  // path, query, fragment
            ),
        ) {
            proptest::prop_assert_eq!(is_plain_url(&url), is_plain_url_reference(&url), "{}", url);
            proptest::prop_assert_eq!(url_host(&url), url_host_reference(&url), "{}", url);
        }
    }

    #[test]
    fn plain_urls() {
        assert!(is_plain_url("https://github.com/a/b"));
        assert!(is_plain_url(
            "registry+https://github.com/rust-lang/crates.io-index"
        ));
        assert!(is_plain_url("https://host:8443/x"));
        assert!(is_plain_url("ssh://git@[::1]:22/x"));
        assert!(!is_plain_url(
            "git+ssh://git@github.com:G-Rath/npm-git-repo-2"
        ));
        assert!(!is_plain_url("git@github.com:a/b.git"));
        assert!(!is_plain_url("https://"));
        assert!(!is_plain_url("https://a b"));
        assert!(!is_plain_url("../path"));
        assert!(!is_plain_url("a:b://host/x"));
        assert!(!is_plain_url("https:/host/x"));
        assert!(is_plain_url("https://host:/x"));
        assert!(!is_plain_url("https://:80/x"));
        assert!(!is_plain_url("https://[::1]x/"));
        assert!(!is_plain_url("a://a:a"));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("sparse+https://index.crates.io/"),
            Some("index.crates.io")
        );
        assert_eq!(
            url_host("https://u:p@registry.npmjs.org:443/x"),
            Some("registry.npmjs.org")
        );
        assert_eq!(url_host("nope"), None);
        assert_eq!(url_host("x:y://u@host:1/p"), Some("host"));
        assert_eq!(url_host(":://a"), Some("a"));
    }
}

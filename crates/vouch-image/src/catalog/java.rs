//! Java archives: `*.jar`, `*.war`, `*.ear` and Jenkins plugins (`*.jpi`, `*.hpi`).
//!
//! Formats: the JAR file specification
//! (<https://docs.oracle.com/en/java/javase/17/docs/specs/jar/jar.html>: `META-INF/MANIFEST.MF`,
//! `Name: value` lines, continuation lines starting with one space), the OSGi bundle headers
//! (`Bundle-SymbolicName`, `Bundle-Version`, OSGi Core §3.2), and the `pom.properties` that
//! Maven's archiver writes to `META-INF/maven/<groupId>/<artifactId>/`
//! (<https://maven.apache.org/shared/maven-archiver/>), in the `java.util.Properties` text
//! format (<https://docs.oracle.com/javase/8/docs/api/java/util/Properties.html#load-java.io.Reader->).
//!
//! Every `pom.properties` is one Maven package (a shaded jar holds several). An archive with
//! none is reported from its manifest. Archives inside archives (Spring Boot's `BOOT-INF/lib/`,
//! a war's `WEB-INF/lib/`, an ear's modules) are read recursively down to [`MAX_DEPTH`].
//! A zip needs random access, so an archive is read into memory up to [`MAX_IN_MEMORY`] and
//! spooled to an anonymous temporary file above that.

use std::io::{Cursor, Read, Seek, SeekFrom, Write as _};

use vouch_digest::{Algorithm, HashingReader, hash_bytes};
use vouch_inventory::{Digest, Ecosystem, Package, PackageUrl, Source};
use zip::ZipArchive;

use super::{CatalogError, Cataloger, FileInfo, Findings, props};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(JavaArchiveCataloger)]
}

/// Property: the archive inside the image file a package was found in, as a `!`-separated
/// chain of entry names (`BOOT-INF/lib/spring-core-6.1.2.jar`), when it is not the file itself.
pub const JAVA_ARCHIVE: &str = "vouch:java-archive";
/// Property: `true` when a package comes from a manifest alone (no `pom.properties`), so its
/// Maven coordinates are a guess or missing.
pub const JAVA_FROM_MANIFEST: &str = "vouch:java-from-manifest";

/// Largest archive read from the layer.
pub const MAX_ARCHIVE: u64 = 2 << 30;
/// Archives up to this size are read into memory; larger ones are spooled to a temporary file.
pub const MAX_IN_MEMORY: u64 = 64 << 20;
/// Most nested levels read (the file itself is level 0).
pub const MAX_DEPTH: u32 = 3;
/// Largest nested archive read (into memory).
const MAX_NESTED: u64 = 64 << 20;
/// Largest manifest or `pom.properties` read.
const MAX_METADATA: u64 = 1 << 20;
/// Most entries accepted in one archive.
const MAX_ENTRIES: usize = 200_000;
/// Most bytes decompressed from one image file, nested archives included.
const MAX_DECOMPRESSED: u64 = 512 << 20;

const EXTENSIONS: [&str; 5] = [".jar", ".war", ".ear", ".jpi", ".hpi"];

/// Finds Maven packages in Java archives.
#[derive(Debug, Default)]
pub struct JavaArchiveCataloger;

impl Cataloger for JavaArchiveCataloger {
    fn name(&self) -> &'static str {
        "java-archive"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        is_archive_name(file.file_name())
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let shown = file.path_display();
        if file.size > MAX_ARCHIVE {
            return Err(CatalogError::TooLarge {
                path: shown,
                size: file.size,
                limit: MAX_ARCHIVE,
            });
        }
        let io = |source| CatalogError::Io {
            path: file.path_display(),
            source,
        };
        let mut ctx = Ctx {
            shown: shown.clone(),
            budget: MAX_DECOMPRESSED,
            cataloger: self.name(),
            out,
        };
        let limited = content.take(file.size);
        let Some(mut hashing) = HashingReader::new(Algorithm::Sha1, limited) else {
            return Err(io(std::io::Error::other("SHA-1 is not available")));
        };
        let result = if file.size <= MAX_IN_MEMORY {
            let mut bytes = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
            hashing.read_to_end(&mut bytes).map_err(io)?;
            let sha1 = hashing.finish();
            scan(
                Cursor::new(bytes),
                "",
                0,
                file.file_name(),
                Some(sha1),
                &mut ctx,
            )
        } else {
            let mut spool = tempfile::tempfile().map_err(io)?;
            std::io::copy(&mut hashing, &mut spool).map_err(io)?;
            spool.flush().map_err(io)?;
            spool.seek(SeekFrom::Start(0)).map_err(io)?;
            let sha1 = hashing.finish();
            scan(spool, "", 0, file.file_name(), Some(sha1), &mut ctx)
        };
        result.map_err(|message| CatalogError::Malformed {
            path: shown,
            line: None,
            message,
        })
    }
}

fn is_archive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// State shared by one file's recursive scan.
struct Ctx<'o> {
    shown: String,
    /// Decompressed bytes still allowed.
    budget: u64,
    cataloger: &'static str,
    out: &'o mut Findings,
}

impl Ctx<'_> {
    /// Reads one entry, at most `limit` bytes and within the budget; `Err` names the entry.
    fn read_entry(
        &mut self,
        entry: &mut dyn Read,
        size: u64,
        limit: u64,
        name: &str,
    ) -> Result<Vec<u8>, String> {
        if size > limit {
            return Err(format!(
                "`{name}` is {size} bytes, more than the {limit} read"
            ));
        }
        let cap = limit.min(self.budget);
        let mut buf = Vec::with_capacity(usize::try_from(size.min(cap)).unwrap_or(0));
        entry
            .take(cap.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| format!("`{name}`: {e}"))?;
        let read = buf.len() as u64;
        if read > cap {
            return Err(if cap < limit {
                format!(
                    "more than {MAX_DECOMPRESSED} bytes decompressed from one file (at `{name}`)"
                )
            } else {
                format!("`{name}` decompresses to more than {limit} bytes")
            });
        }
        self.budget -= read;
        Ok(buf)
    }
}

/// Scans one archive. `chain` is the `!`-separated path of this archive inside the image file
/// (empty for the file itself); `file_name` its own name, for matching its `pom.properties`.
fn scan<R: Read + Seek>(
    reader: R,
    chain: &str,
    depth: u32,
    file_name: &str,
    sha1: Option<Digest>,
    ctx: &mut Ctx<'_>,
) -> Result<(), String> {
    let here = if chain.is_empty() {
        String::new()
    } else {
        format!("{chain}: ")
    };
    let mut zip = ZipArchive::new(reader).map_err(|e| format!("{here}not a zip archive: {e}"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!(
            "{here}{} entries, more than the {MAX_ENTRIES} read",
            zip.len()
        ));
    }
    let mut manifest = None;
    let mut poms = Vec::new();
    let mut nested = Vec::new();
    for i in 0..zip.len() {
        let Some(Ok(name)) = zip.name_for_index(i) else {
            continue;
        };
        let name = name.into_owned();
        let kind = if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            Entry::Manifest
        } else if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            Entry::Pom
        } else if is_archive_name(&name) && !name.ends_with('/') {
            Entry::Nested
        } else {
            continue;
        };
        match kind {
            Entry::Nested => nested.push((i, name)),
            Entry::Manifest | Entry::Pom => {
                let mut entry = zip
                    .by_index(i)
                    .map_err(|e| format!("{here}`{name}`: {e}"))?;
                let size = entry.size();
                let bytes = ctx.read_entry(&mut entry, size, MAX_METADATA, &name)?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if matches!(kind, Entry::Manifest) {
                    manifest = Some(parse_manifest(&text));
                } else {
                    poms.push((name, parse_properties(&text)));
                }
            }
        }
    }

    report(chain, file_name, sha1, manifest.as_ref(), &poms, ctx);

    for (i, name) in nested {
        let inner_chain = if chain.is_empty() {
            name.clone()
        } else {
            format!("{chain}!{name}")
        };
        if depth + 1 > MAX_DEPTH {
            ctx.out.warnings.push(format!(
                "{}: `{inner_chain}` is nested more than {MAX_DEPTH} archives deep; not read",
                ctx.shown
            ));
            continue;
        }
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("{here}`{name}`: {e}"))?;
        let size = entry.size();
        let bytes = match ctx.read_entry(&mut entry, size, MAX_NESTED, &inner_chain) {
            Ok(b) => b,
            Err(message) if ctx.budget > 0 => {
                ctx.out
                    .warnings
                    .push(format!("{}: {message}; skipped", ctx.shown));
                continue;
            }
            Err(message) => return Err(message),
        };
        drop(entry);
        let sha1 = hash_bytes(Algorithm::Sha1, &bytes);
        let inner_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
        // A damaged library inside a good application is worth a warning, not the whole file.
        if let Err(message) = scan(
            Cursor::new(bytes),
            &inner_chain,
            depth + 1,
            &inner_name,
            sha1,
            ctx,
        ) {
            if ctx.budget == 0 {
                return Err(message);
            }
            ctx.out
                .warnings
                .push(format!("{}: {message}; skipped", ctx.shown));
        }
    }
    Ok(())
}

enum Entry {
    Manifest,
    Pom,
    Nested,
}

/// Adds the packages one archive describes.
fn report(
    chain: &str,
    file_name: &str,
    sha1: Option<Digest>,
    manifest: Option<&Manifest>,
    poms: &[(String, Properties)],
    ctx: &mut Ctx<'_>,
) {
    let stem = file_name
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file_name);
    // The archive's own pom.properties: the one whose artifactId the file name starts with, or
    // the only one. Its package gets the archive's SHA-1 (what Maven Central indexes).
    let own = poms
        .iter()
        .position(|(_, p)| p.get("artifactId").is_some_and(|a| stem.starts_with(a)))
        .or((poms.len() == 1).then_some(0));
    let mut found_any = false;
    for (n, (entry, pom)) in poms.iter().enumerate() {
        let (Some(group), Some(artifact)) = (pom.get("groupId"), pom.get("artifactId")) else {
            ctx.out.warnings.push(format!(
                "{}: `{}` has no groupId or artifactId; skipped",
                ctx.shown,
                join(chain, entry)
            ));
            continue;
        };
        let version = pom.get("version");
        let mut p = maven_package(group, artifact, version, ctx);
        if !chain.is_empty() {
            p.properties
                .insert(JAVA_ARCHIVE.to_owned(), chain.to_owned());
        }
        if Some(n) == own
            && let Some(d) = &sha1
        {
            p.hashes.insert(d.clone());
        }
        if let Some(m) = manifest.filter(|_| Some(n) == own) {
            add_manifest_facts(&mut p, m);
        }
        ctx.out.packages.push(p);
        found_any = true;
    }
    if found_any || own.is_some() {
        return;
    }
    // No pom.properties: the manifest names the archive, when it names anything.
    let Some(m) = manifest else { return };
    let name = m
        .get("Implementation-Title")
        .or_else(|| {
            m.get("Bundle-SymbolicName")
                .map(|s| s.split(';').next().unwrap_or(s).trim())
        })
        .or_else(|| m.get("Specification-Title"));
    let version = m
        .get("Implementation-Version")
        .or_else(|| m.get("Bundle-Version"))
        .or_else(|| m.get("Specification-Version"));
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return;
    };
    let group = m.get("Implementation-Vendor-Id").filter(|g| !g.is_empty());
    let mut p = match group {
        Some(g) => maven_package(g, name, version, ctx),
        None => {
            let mut p = Package::new(Ecosystem::Maven, name).found_in(ctx.shown.clone(), None);
            p.version = version.map(str::to_owned);
            p.properties
                .insert(props::CATALOGER.to_owned(), ctx.cataloger.to_owned());
            p
        }
    };
    p.properties
        .insert(JAVA_FROM_MANIFEST.to_owned(), "true".to_owned());
    if !chain.is_empty() {
        p.properties
            .insert(JAVA_ARCHIVE.to_owned(), chain.to_owned());
    }
    if let Some(d) = sha1 {
        p.hashes.insert(d);
    }
    add_manifest_facts(&mut p, m);
    ctx.out.packages.push(p);
}

fn join(chain: &str, entry: &str) -> String {
    if chain.is_empty() {
        entry.to_owned()
    } else {
        format!("{chain}!{entry}")
    }
}

fn maven_package(group: &str, artifact: &str, version: Option<&str>, ctx: &Ctx<'_>) -> Package {
    let mut p = Package::new(Ecosystem::Maven, format!("{group}:{artifact}"))
        .found_in(ctx.shown.clone(), None);
    p.version = version.filter(|v| !v.is_empty()).map(str::to_owned);
    p.purl = maven_purl(group, artifact, p.version.as_deref());
    p.source = Source::Registry { url: None };
    p.properties
        .insert(props::CATALOGER.to_owned(), ctx.cataloger.to_owned());
    p
}

fn add_manifest_facts(p: &mut Package, m: &Manifest) {
    if let Some(l) = m.get("Bundle-License").filter(|l| !l.is_empty()) {
        p.licenses.insert(l.to_owned());
    }
    if let Some(v) = m
        .get("Implementation-Vendor")
        .or_else(|| m.get("Bundle-Vendor"))
    {
        p.properties.insert("vouch:vendor".to_owned(), v.to_owned());
    }
}

/// `pkg:maven/group/artifact@version`.
fn maven_purl(group: &str, artifact: &str, version: Option<&str>) -> Option<PackageUrl> {
    let mut p = PackageUrl::new("maven", artifact)
        .ok()?
        .with_namespace(group)
        .ok()?;
    if let Some(v) = version {
        p = p.with_version(v).ok()?;
    }
    Some(p)
}

/// Key/value pairs in file order; the first occurrence of a key wins.
#[derive(Debug, Default)]
struct Properties(Vec<(String, String)>);

type Manifest = Properties;

impl Properties {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The main section of a manifest: `Name: value` lines up to the first blank line, a line
/// starting with one space continuing the previous value.
fn parse_manifest(text: &str) -> Manifest {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(more) = line.strip_prefix(' ') {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(more);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Properties(out)
}

/// `java.util.Properties` text: `key=value`, `key: value` or `key value`; `#` and `!` comments;
/// a trailing backslash continues a line. Escapes other than line continuation are rare in
/// `pom.properties` and kept as written.
fn parse_properties(text: &str) -> Properties {
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!') || line.is_empty())
        {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            continue;
        }
        logical.push_str(line);
        let entry = std::mem::take(&mut logical);
        let split = entry.find(['=', ':', ' ', '\t']);
        let (k, v) = match split {
            Some(i) => (
                entry.get(..i).unwrap_or_default(),
                entry.get(i + 1..).unwrap_or_default(),
            ),
            None => (entry.as_str(), ""),
        };
        let v = v.trim_start().trim_start_matches(['=', ':']).trim();
        out.push((k.trim().to_owned(), v.to_owned()));
    }
    Properties(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_forms() {
        let p = parse_properties("#c\n! c\ngroupId=org.x\nartifactId : y\nversion 1.\\\n  2\n");
        assert_eq!(p.get("groupId"), Some("org.x"));
        assert_eq!(p.get("artifactId"), Some("y"));
        assert_eq!(p.get("version"), Some("1.2"));
    }

    #[test]
    fn manifest_continuations_and_sections() {
        let m = parse_manifest(
            "Manifest-Version: 1.0\r\nImplementation-Title: a-very-long\r\n -name\r\n\r\nName: x\r\nImplementation-Title: no\r\n",
        );
        assert_eq!(m.get("implementation-title"), Some("a-very-long-name"));
    }
}

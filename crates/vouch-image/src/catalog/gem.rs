//! Installed Ruby gems: the specifications RubyGems writes to `specifications/*.gemspec`.
//!
//! Format: RubyGems serialises each installed gem's `Gem::Specification`
//! (<https://guides.rubygems.org/specification-reference/>) as Ruby source from
//! `Gem::Specification#to_ruby`: a `# stub: name version platform paths` comment and a
//! `Gem::Specification.new do |s|` block of `s.attr = value` assignments, string values
//! written `"x".freeze`. This reader understands those generated forms line by line; it is not
//! a Ruby interpreter, and a hand-written gemspec using other Ruby may be read only in part.

use std::io::Read;

use vouch_inventory::{Ecosystem, Package, PackageUrl, Source};

use super::{CatalogError, Cataloger, FileInfo, Findings, props, read_to_limit};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(GemspecCataloger)]
}

/// Largest gemspec read (generated ones are a few KiB).
const MAX_BYTES: u64 = 1 << 20;

/// Finds installed gems in `specifications/*.gemspec` (and `specifications/default/`).
#[derive(Debug, Default)]
pub struct GemspecCataloger;

impl Cataloger for GemspecCataloger {
    fn name(&self) -> &'static str {
        "gemspec"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        if !file.path.ends_with(".gemspec") {
            return false;
        }
        let mut dirs = file.path.rsplit('/').skip(1);
        match dirs.next() {
            Some("specifications") => true,
            Some("default") => dirs.next() == Some("specifications"),
            _ => false,
        }
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let shown = file.path_display();
        let bytes = read_to_limit(file, content, MAX_BYTES)?;
        let text = String::from_utf8_lossy(&bytes);
        let spec = parse(&text);
        let (Some((name, line)), Some(version)) = (spec.name, spec.version) else {
            return Err(CatalogError::Malformed {
                path: shown,
                line: None,
                message: "no `name` and `version` in the specification".to_owned(),
            });
        };
        let mut p = Package::new(Ecosystem::Gem, name.clone()).found_in(shown, Some(line));
        let mut purl = PackageUrl::new("gem", &name).and_then(|u| u.with_version(&version));
        if let Some(platform) = spec.platform.as_deref().filter(|p| *p != "ruby") {
            purl = purl.and_then(|u| u.with_qualifier("platform", platform));
            p.properties
                .insert("vouch:gem-platform".to_owned(), platform.to_owned());
        }
        p.purl = purl.ok();
        p.version = Some(version);
        p.source = Source::Registry { url: None };
        p.licenses.extend(spec.licenses);
        if let Some(home) = spec.homepage {
            p.properties.insert("vouch:homepage".to_owned(), home);
        }
        p.properties
            .insert(props::CATALOGER.to_owned(), self.name().to_owned());
        out.packages.push(p);
        Ok(())
    }
}

/// What the reader took from a gemspec.
#[derive(Debug, Default)]
struct Spec {
    name: Option<(String, u32)>,
    version: Option<String>,
    platform: Option<String>,
    licenses: Vec<String>,
    homepage: Option<String>,
}

fn parse(text: &str) -> Spec {
    let mut spec = Spec::default();
    let mut stub: Option<(String, String, Option<String>, u32)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("# stub:") {
            let mut parts = rest.split_whitespace();
            if let (Some(n), Some(v)) = (parts.next(), parts.next()) {
                stub = Some((
                    n.to_owned(),
                    v.to_owned(),
                    parts.next().map(str::to_owned),
                    line_no,
                ));
            }
            continue;
        }
        let Some((attr, value)) = assignment(line) else {
            continue;
        };
        match attr {
            "name" => {
                if let Some(s) = first_string(value) {
                    spec.name = Some((s, line_no));
                }
            }
            "version" => spec.version = first_string(value),
            "platform" => spec.platform = first_string(value),
            "license" => spec.licenses.extend(first_string(value)),
            "licenses" => spec.licenses.extend(all_strings(value)),
            "homepage" => spec.homepage = first_string(value),
            _ => {}
        }
    }
    // The stub line is what RubyGems itself reads first; it fills what the block lacks.
    if let Some((n, v, platform, line_no)) = stub {
        spec.name.get_or_insert((n, line_no));
        spec.version.get_or_insert(v);
        if spec.platform.is_none() {
            spec.platform = platform;
        }
    }
    spec
}

/// `s.attr = value` (any receiver name) → (`attr`, `value`).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (lhs, rhs) = line.split_once('=')?;
    // `==`, `=>` and `>=` are not assignments.
    if rhs.starts_with(['=', '>', '~']) || lhs.ends_with(['!', '<', '>', '=']) {
        return None;
    }
    let (receiver, attr) = lhs.trim().split_once('.')?;
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (ident(receiver) && ident(attr)).then_some((attr, rhs.trim()))
}

/// The first Ruby string literal in `value` (`"x"`, `'x'`, `"x".freeze`,
/// `Gem::Version.new("x")`).
fn first_string(value: &str) -> Option<String> {
    all_strings(value).into_iter().next()
}

/// Every single- or double-quoted string literal in `value`, unescaped (`\"`, `\\`).
fn all_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '\'' {
            continue;
        }
        let quote = c;
        let mut s = String::new();
        let mut closed = false;
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                }
                d if d == quote => {
                    closed = true;
                    break;
                }
                d => s.push(d),
            }
        }
        if closed {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_and_strings() {
        assert_eq!(
            assignment(r#"s.name = "rake".freeze"#),
            Some(("name", r#""rake".freeze"#))
        );
        assert_eq!(assignment(r#"if s.respond_to? :x="#), None);
        assert_eq!(
            assignment(r#"s.required_ruby_version = Gem::Requirement.new(">= 2.3".freeze)"#)
                .map(|a| a.0),
            Some("required_ruby_version")
        );
        assert_eq!(
            all_strings(r#"["MIT".freeze, 'Ruby']"#),
            vec!["MIT", "Ruby"]
        );
        assert_eq!(all_strings(r#""unterminated"#), Vec::<String>::new());
    }
}

//! Lockfile detection and parsing.
//!
//! [`parse`] turns one lockfile's bytes into an [`Inventory`]; [`discover`] finds lockfiles
//! under a directory. Both are pure with respect to the process: the only I/O is reading the
//! files they are pointed at (and siblings a format needs, such as `go.sum` beside `go.mod`),
//! through the [`Input`] the caller gives.
//!
//! Each parser records the lockfile's project (or workspace members) as roots with
//! [`Inventory::add_root`], every resolved package with evidence (file and line), hashes from
//! the integrity fields, the source, scope and dependency edges as far as the format records
//! them.
//!
//! [`check`] holds the checks of `vouch lock check` over a parsed inventory, and the artifact
//! verification of `--verify-artifacts`.

#![forbid(unsafe_code)]

mod borrow;
mod bun;
mod cargo;
pub mod check;
mod common;
mod composer;
mod conan;
mod error;
mod gemfile;
mod gomod;
mod gradle;
mod js;
mod mix;
mod npm;
mod nuget;
mod pdm;
mod pipfile;
mod pnpm;
mod poetry;
mod pubspec;
mod requirements;
mod swift;
mod toml_subset;
mod uv;
mod walk;
mod yaml_subset;
mod yarn;

use std::fmt;
use std::path::Path;

pub use error::{ParseError, ParseErrorKind};
use vouch_inventory::Inventory;
pub use walk::{DEFAULT_SKIPPED_DIRS, Discovered, WalkOptions, discover};

/// For the differential fuzz target: whether the fast reader of lockfile YAML, where it reads
/// `text`, reads the values `serde_norway` reads (`None` when it leaves `text` to
/// `serde_norway`).
#[doc(hidden)]
pub fn yaml_fast_path_agrees(text: &str) -> Option<bool> {
    yaml_subset::agrees_with_serde_norway(text)
}

/// For the differential fuzz target: whether the fast reader of lockfile TOML, where it reads
/// `text`, reads the values the `toml` crate reads (`None` when it leaves `text` to the `toml`
/// crate).
#[doc(hidden)]
pub fn toml_fast_path_agrees(text: &str) -> Option<bool> {
    toml_subset::agrees_with_toml(text)
}

/// The largest lockfile vouch reads. A limit hit is an error, never a truncation.
pub const MAX_LOCKFILE_BYTES: u64 = 512 * 1024 * 1024;

/// The lockfile formats vouch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `Cargo.lock`, versions 1 to 4.
    CargoLock,
    /// `package-lock.json` or `npm-shrinkwrap.json`, lockfileVersion 1 to 3.
    NpmLock,
    /// `yarn.lock`, classic v1 or berry.
    YarnLock,
    /// `pnpm-lock.yaml`, lockfileVersion 5.x, 6.x and 9.x.
    PnpmLock,
    /// `bun.lock` (text format).
    BunLock,
    /// `poetry.lock`, 1.x and 2.x.
    PoetryLock,
    /// `uv.lock`.
    UvLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// `pdm.lock`.
    PdmLock,
    /// `requirements.txt` and its `requirements-*.txt` siblings.
    Requirements,
    /// `go.mod`, with `go.sum` beside it when present.
    GoMod,
    /// `go.sum` without a `go.mod`.
    GoSum,
    /// `Gemfile.lock` or `gems.locked`.
    GemfileLock,
    /// `composer.lock`.
    ComposerLock,
    /// `gradle.lockfile`.
    GradleLockfile,
    /// NuGet `packages.lock.json`.
    NugetLock,
    /// SwiftPM `Package.resolved`, versions 1 to 3.
    PackageResolved,
    /// `pubspec.lock`.
    PubspecLock,
    /// `mix.lock`.
    MixLock,
    /// `conan.lock`.
    ConanLock,
}

/// Every format, in the order `vouch` lists them.
pub const ALL_FORMATS: &[Format] = &[
    Format::CargoLock,
    Format::NpmLock,
    Format::YarnLock,
    Format::PnpmLock,
    Format::BunLock,
    Format::PoetryLock,
    Format::UvLock,
    Format::PipfileLock,
    Format::PdmLock,
    Format::Requirements,
    Format::GoMod,
    Format::GoSum,
    Format::GemfileLock,
    Format::ComposerLock,
    Format::GradleLockfile,
    Format::NugetLock,
    Format::PackageResolved,
    Format::PubspecLock,
    Format::MixLock,
    Format::ConanLock,
];

impl Format {
    /// The file names this format is known by.
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            Format::CargoLock => &["Cargo.lock"],
            Format::NpmLock => &["package-lock.json", "npm-shrinkwrap.json"],
            Format::YarnLock => &["yarn.lock"],
            Format::PnpmLock => &["pnpm-lock.yaml"],
            Format::BunLock => &["bun.lock"],
            Format::PoetryLock => &["poetry.lock"],
            Format::UvLock => &["uv.lock"],
            Format::PipfileLock => &["Pipfile.lock"],
            Format::PdmLock => &["pdm.lock"],
            Format::Requirements => &[
                "requirements.txt",
                "requirements-*.txt",
                "*.requirements.txt",
            ],
            Format::GoMod => &["go.mod"],
            Format::GoSum => &["go.sum"],
            Format::GemfileLock => &["Gemfile.lock", "gems.locked"],
            Format::ComposerLock => &["composer.lock"],
            Format::GradleLockfile => &["gradle.lockfile"],
            Format::NugetLock => &["packages.lock.json"],
            Format::PackageResolved => &["Package.resolved"],
            Format::PubspecLock => &["pubspec.lock"],
            Format::MixLock => &["mix.lock"],
            Format::ConanLock => &["conan.lock"],
        }
    }

    /// A short stable name (`cargo-lock`, `npm-lock`, ...), used in SBOM properties.
    pub fn id(self) -> &'static str {
        match self {
            Format::CargoLock => "cargo-lock",
            Format::NpmLock => "npm-lock",
            Format::YarnLock => "yarn-lock",
            Format::PnpmLock => "pnpm-lock",
            Format::BunLock => "bun-lock",
            Format::PoetryLock => "poetry-lock",
            Format::UvLock => "uv-lock",
            Format::PipfileLock => "pipfile-lock",
            Format::PdmLock => "pdm-lock",
            Format::Requirements => "requirements-txt",
            Format::GoMod => "go-mod",
            Format::GoSum => "go-sum",
            Format::GemfileLock => "gemfile-lock",
            Format::ComposerLock => "composer-lock",
            Format::GradleLockfile => "gradle-lockfile",
            Format::NugetLock => "nuget-lock",
            Format::PackageResolved => "swift-package-resolved",
            Format::PubspecLock => "pubspec-lock",
            Format::MixLock => "mix-lock",
            Format::ConanLock => "conan-lock",
        }
    }

    /// Detects the format from a file name.
    ///
    /// A name matches when it equals a known name or ends with `.` followed by one
    /// (`api.Cargo.lock`), so that fixtures named after what they hold are recognised too.
    pub fn detect(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        if name == "bun.lockb" {
            return None;
        }
        // `requirements*.txt` is a family: requirements.txt, requirements-dev.txt, dev.requirements.txt.
        if name.ends_with(".txt")
            && (name.starts_with("requirements") || name.ends_with(".requirements.txt"))
        {
            return Some(Format::Requirements);
        }
        ALL_FORMATS.iter().copied().find(|f| {
            f.file_names().iter().any(|known| {
                !known.contains('*')
                    && (name == *known
                        || name
                            .strip_suffix(known)
                            .is_some_and(|prefix| prefix.ends_with('.')))
            })
        })
    }

    /// A list of every supported file name, for error messages.
    pub fn supported_list() -> String {
        ALL_FORMATS
            .iter()
            .flat_map(|f| f.file_names().iter().copied())
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_names().first().copied().unwrap_or("lockfile"))
    }
}

/// Reads a file that a format refers to (a `-r` include, `go.sum` beside `go.mod`), by a path
/// relative to the lockfile's directory. `None` when it does not exist.
pub type SiblingReader<'a> = dyn Fn(&str) -> Option<Result<Vec<u8>, ParseError>> + 'a;

/// One lockfile to parse.
pub struct Input<'a> {
    /// The name to show in evidence and errors (relative to the scanned root, usually).
    pub file: &'a str,
    /// The lockfile's bytes.
    pub bytes: &'a [u8],
    /// How to read files next to it.
    pub siblings: &'a SiblingReader<'a>,
}

impl Input<'_> {
    /// The bytes as UTF-8, or an error naming the first bad byte's line and column.
    pub fn text(&self) -> Result<&str, ParseError> {
        std::str::from_utf8(self.bytes).map_err(|e| {
            let valid = self.bytes.get(..e.valid_up_to()).unwrap_or_default();
            let (line, column) = common::line_col_of_bytes(valid, valid.len());
            ParseError::new(self.file, ParseErrorKind::NotUtf8).at(line, column)
        })
    }
}

/// Parses one lockfile of a known format.
pub fn parse(format: Format, input: &Input<'_>) -> Result<Inventory, ParseError> {
    check_size(input)?;
    let inv = match format {
        Format::CargoLock => cargo::parse(input),
        Format::NpmLock => npm::parse(input),
        Format::YarnLock => yarn::parse(input),
        Format::PnpmLock => pnpm::parse(input),
        Format::BunLock => bun::parse(input),
        Format::PoetryLock => poetry::parse(input),
        Format::UvLock => uv::parse(input),
        Format::PipfileLock => pipfile::parse(input),
        Format::PdmLock => pdm::parse(input),
        Format::Requirements => requirements::parse(input),
        Format::GoMod => gomod::parse_mod(input),
        Format::GoSum => gomod::parse_sum(input),
        Format::GemfileLock => gemfile::parse(input),
        Format::ComposerLock => composer::parse(input),
        Format::GradleLockfile => gradle::parse(input),
        Format::NugetLock => nuget::parse(input),
        Format::PackageResolved => swift::parse(input),
        Format::PubspecLock => pubspec::parse(input),
        Format::MixLock => mix::parse(input),
        Format::ConanLock => conan::parse(input),
    }?;
    Ok(finish(inv))
}

fn check_size(input: &Input<'_>) -> Result<(), ParseError> {
    if input.bytes.len() as u64 > MAX_LOCKFILE_BYTES {
        return Err(ParseError::new(
            input.file,
            ParseErrorKind::TooLarge {
                limit: MAX_LOCKFILE_BYTES,
                found: input.bytes.len() as u64,
            },
        ));
    }
    Ok(())
}

/// What every format's inventory goes through last: edges to identities that were never
/// added are dropped, and packages that nothing depends on hang from the primary root.
fn finish(mut inv: Inventory) -> Inventory {
    inv.prune_dangling_edges();
    if let Some(root) = inv.primary_root().cloned() {
        inv.attach_orphans(&root);
    }
    inv
}

/// [`parse`] of a bun.lock that is the caller's to change: its comments and trailing commas
/// are blanked where it lies rather than in a copy. Same result, and same errors, as `parse`.
fn parse_bun_in_place(file: &str, bytes: &mut [u8]) -> Result<Inventory, ParseError> {
    let none = |_: &str| None;
    let input = Input {
        file,
        bytes,
        siblings: &none,
    };
    check_size(&input)?;
    // Bytes that are not UTF-8 are an error even inside a comment, as on the copying path.
    input.text()?;
    bun::blank_jsonc(bytes);
    let input = Input {
        file,
        bytes,
        siblings: &none,
    };
    Ok(finish(bun::parse_json(file, input.text()?)?))
}

/// Reads and parses a lockfile from disk, detecting its format from its name, with
/// `display` as the name shown in evidence and errors.
pub fn parse_path(path: &Path, display: &str) -> Result<(Format, Inventory), ParseError> {
    let format = Format::detect(path).ok_or_else(|| {
        ParseError::new(
            display,
            ParseErrorKind::UnknownFormat {
                supported: Format::supported_list(),
            },
        )
    })?;
    let mut bytes = common::read_limited(path, display)?;
    if format == Format::BunLock {
        return Ok((format, parse_bun_in_place(display, &mut bytes)?));
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let siblings = move |rel: &str| common::read_sibling(&dir, rel, display);
    let input = Input {
        file: display,
        bytes: &bytes,
        siblings: &siblings,
    };
    Ok((format, parse(format, &input)?))
}

/// Parses bytes with no siblings available (for fuzzing and tests).
pub fn parse_bytes(format: Format, file: &str, bytes: &[u8]) -> Result<Inventory, ParseError> {
    let none = |_: &str| None;
    parse(
        format,
        &Input {
            file,
            bytes,
            siblings: &none,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_name_and_suffix() {
        let d = |n: &str| Format::detect(Path::new(n));
        assert_eq!(d("Cargo.lock"), Some(Format::CargoLock));
        assert_eq!(d("x/path-deps.Cargo.lock"), Some(Format::CargoLock));
        assert_eq!(d("npm-shrinkwrap.json"), Some(Format::NpmLock));
        assert_eq!(d("requirements-dev.txt"), Some(Format::Requirements));
        assert_eq!(d("bare-url.requirements.txt"), Some(Format::Requirements));
        assert_eq!(d("notes.txt"), None);
        assert_eq!(d("MyCargo.lock"), None);
        assert_eq!(d("bun.lockb"), None);
    }

    /// Reading a bun.lock from disk blanks its comments and trailing commas in the buffer it
    /// read; parsing given bytes blanks a copy. Both give the same inventory or the same error.
    #[test]
    fn bun_read_from_disk_parses_as_given_bytes_do() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bun");
        let mut cases: Vec<Vec<u8>> = ["workspace", "bad-entry_fail", "unsupported-version_fail"]
            .iter()
            .map(|d| std::fs::read(fixtures.join(d).join("bun.lock")).unwrap())
            .collect();
        cases.extend([
            // Comments of both kinds, a line break inside a block comment, trailing commas
            // before blanks and comments, and commas inside strings left alone.
            b"{\"lockfileVersion\": 1, /* a\nb */ \"workspaces\": {\"\": {\"name\": \"x,\", \
              \"dependencies\": {\"a\": \"^1\", // c\n}, }, }, \"packages\": {\"a\": \
              [\"a@1.0.0\", \"\", {}, \"sha512-AA==\"], /* d */ }, }"
                .to_vec(),
            // Not UTF-8 inside a comment: an error on both paths, with the same place.
            b"{\"lockfileVersion\": 1, // \xff\n \"packages\": {}}".to_vec(),
            // A comma before the end of the text, and an unclosed comment.
            b"{\"lockfileVersion\": 1,".to_vec(),
            b"{\"lockfileVersion\": 1 /* open".to_vec(),
        ]);
        for bytes in cases {
            let given = parse_bytes(Format::BunLock, "bun.lock", &bytes);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("bun.lock");
            std::fs::write(&path, &bytes).unwrap();
            let read = parse_path(&path, "bun.lock").map(|(format, inv)| {
                assert_eq!(format, Format::BunLock);
                inv
            });
            assert_eq!(
                format!("{read:?}"),
                format!("{given:?}"),
                "{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

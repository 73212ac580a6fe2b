//! The RPM package database: what rpm-based images (Fedora, RHEL, Amazon Linux, SUSE) have
//! installed.
//!
//! rpm keeps one header blob per installed package in a database whose backend changed over
//! time (<https://rpm-software-management.github.io/rpm/manual/>, "rpmdb backends"):
//! - `rpmdb.sqlite` (rpm 4.16+, Fedora 33+, RHEL 9): an SQLite table
//!   `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, read by `sqlite`;
//! - `Packages` (Berkeley DB hash, RHEL 7/8, CentOS, Amazon Linux 2), read by `bdb`;
//! - `Packages.db` (rpm's own "ndb" format, SUSE), read by `ndb`.
//!
//! The database lives in `var/lib/rpm/`, or `usr/lib/sysimage/rpm/` where `var/lib/rpm` is a
//! symlink to it (Fedora 36+, openSUSE). Every blob is parsed by `header`. The packages get no
//! purl here: the driver builds `pkg:rpm/<os>/<name>@<version>-<release>` once it knows the OS.
//! The readers are written here, in safe Rust with every offset checked and every loop bounded,
//! rather than linking the C libraries: a container image's database is untrusted input.

mod bdb;
mod header;
mod ndb;
mod sqlite;

use std::io::Read;

use vouch_inventory::{Ecosystem, Package};

use super::{CatalogError, Cataloger, FileInfo, Findings, props, read_to_limit};

/// The catalogers of this module.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![Box::new(RpmDbCataloger)]
}

/// Property: the package vendor (`Red Hat, Inc.`).
pub const VENDOR: &str = "vouch:vendor";
/// Property: the installed size in bytes, as the header's `SIZE` tag states it.
pub const INSTALLED_SIZE: &str = "vouch:installed-size";

/// Largest database read (into memory).
pub const MAX_DB: u64 = 1 << 30;
/// Most packages accepted from one database.
const MAX_PACKAGES: usize = 200_000;

const DIRS: [&str; 2] = ["var/lib/rpm/", "usr/lib/sysimage/rpm/"];

/// Finds installed RPM packages in the rpm database.
#[derive(Debug, Default)]
pub struct RpmDbCataloger;

/// Which backend a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    BerkeleyDb,
    Ndb,
}

fn backend(path: &str) -> Option<Backend> {
    let name = DIRS.iter().find_map(|d| path.strip_prefix(d))?;
    match name {
        "rpmdb.sqlite" => Some(Backend::Sqlite),
        "Packages" => Some(Backend::BerkeleyDb),
        "Packages.db" => Some(Backend::Ndb),
        _ => None,
    }
}

impl Cataloger for RpmDbCataloger {
    fn name(&self) -> &'static str {
        "rpm-db"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        backend(file.path).is_some()
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        content: &mut dyn Read,
        out: &mut Findings,
    ) -> Result<(), CatalogError> {
        let shown = file.path_display();
        let Some(kind) = backend(file.path) else {
            return Ok(());
        };
        let data = read_to_limit(file, content, MAX_DB)?;
        let malformed = |message: String| CatalogError::Malformed {
            path: shown.clone(),
            line: None,
            message,
        };
        let mut blobs = Vec::new();
        let mut collect = |id: String, blob: Vec<u8>| -> Result<(), String> {
            if blobs.len() >= MAX_PACKAGES {
                return Err(format!("more than {MAX_PACKAGES} packages"));
            }
            blobs.push((id, blob));
            Ok(())
        };
        match kind {
            Backend::Sqlite => {
                let db = sqlite::Db::open(&data).map_err(malformed)?;
                let root = db
                    .table_root("Packages")
                    .map_err(|m| malformed(format!("schema: {m}")))?
                    .ok_or_else(|| malformed("no `Packages` table".to_owned()))?;
                db.walk_table(root, |rowid, payload| {
                    let cols = sqlite::record(payload).map_err(|m| format!("row {rowid}: {m}"))?;
                    match cols.get(1) {
                        Some(sqlite::Value::Blob(b)) => {
                            collect(format!("hnum {rowid}"), b.to_vec())
                        }
                        _ => Err(format!("row {rowid}: `blob` is not a BLOB")),
                    }
                })
                .map_err(|m| malformed(format!("`Packages` table: {m}")))?;
            }
            Backend::BerkeleyDb => {
                bdb::for_each_value(&data, |key, value| {
                    // Key 0 holds rpm's bookkeeping (the next instance number), not a header.
                    let instance = key
                        .get(..4)
                        .and_then(|k| <[u8; 4]>::try_from(k).ok())
                        .map(u32::from_ne_bytes);
                    if instance == Some(0) || value.len() < 8 {
                        return Ok(());
                    }
                    let id =
                        instance.map_or_else(|| "a record".to_owned(), |n| format!("instance {n}"));
                    collect(id, value)
                })
                .map_err(malformed)?;
            }
            Backend::Ndb => {
                let mut damaged = Vec::new();
                ndb::for_each_blob(
                    &data,
                    |index, blob| collect(format!("package {index}"), blob.to_vec()),
                    |index, message| {
                        damaged.push(format!("{shown}: package {index}: {message}; skipped"))
                    },
                )
                .map_err(malformed)?;
                out.warnings.extend(damaged);
            }
        }
        for (id, blob) in blobs {
            let h = match header::parse(&blob) {
                Ok(h) => h,
                Err(message) => {
                    out.warnings
                        .push(format!("{shown}: {id}: {message}; skipped"));
                    continue;
                }
            };
            match package(&h, &shown, self.name()) {
                Some(p) => out.packages.push(p),
                None if h.name.as_deref() == Some("gpg-pubkey") => {}
                None => out.warnings.push(format!(
                    "{shown}: {id}: header has no name or version; skipped"
                )),
            }
        }
        Ok(())
    }
}

/// The package a header describes; `None` for headers without name and version, and for the
/// `gpg-pubkey` entries rpm keeps for imported signing keys (not software).
fn package(h: &header::RpmHeader, shown: &str, cataloger: &str) -> Option<Package> {
    let name = h.name.as_deref().filter(|n| !n.is_empty())?;
    if name == "gpg-pubkey" {
        return None;
    }
    let version = h.version.as_deref().filter(|v| !v.is_empty())?;
    let full = match h.release.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => format!("{version}-{r}"),
        None => version.to_owned(),
    };
    let mut p = Package::new(Ecosystem::Rpm, name)
        .found_in(shown, None)
        .version(full);
    let mut set = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            p.properties.insert(k.to_owned(), v);
        }
    };
    set(props::ARCH, h.arch.clone());
    set(
        props::EPOCH,
        h.epoch.filter(|e| *e != 0).map(|e| e.to_string()),
    );
    set(props::UPSTREAM, h.source_rpm.clone());
    set(VENDOR, h.vendor.clone());
    set(INSTALLED_SIZE, h.size.map(|s| s.to_string()));
    set(props::CATALOGER, Some(cataloger.to_owned()));
    if let Some(l) = h.license.as_deref().filter(|l| !l.is_empty()) {
        p.licenses.insert(l.to_owned());
    }
    Some(p)
}

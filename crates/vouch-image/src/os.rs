//! Package URLs of OS packages and the operating-system component, built after the squash
//! when the OS identity is known.
//!
//! Purl types: <https://github.com/package-url/purl-spec/tree/main/types> (`deb`, `apk`, `rpm`).
//! The namespace is the `os-release` `ID` (`debian`, `ubuntu`, `alpine`, `fedora`); the
//! `distro` qualifier is `ID-VERSION_ID` (`debian-12`), or `ID-VERSION_CODENAME` when there is
//! no version (Debian testing). Qualifiers come from the catalogers' properties: `arch` from
//! `vouch:arch`, `epoch` from `vouch:epoch`, and `upstream` from `vouch:upstream`, copied as
//! the cataloger wrote it (`openssl`, or `glibc@2.36-9` when the source version differs).

use vouch_inventory::{Ecosystem, Kind, Package, PackageUrl};

use crate::catalog::{OsRelease, props};

/// Property naming the OS's `PRETTY_NAME` on the operating-system component.
pub const OS_PRETTY_NAME: &str = "vouch:os-pretty-name";
/// Property naming the OS's `VERSION_CODENAME` on the operating-system component.
pub const OS_CODENAME: &str = "vouch:os-codename";
/// Property naming the OS's `ID_LIKE` (space-separated) on the operating-system component.
pub const OS_ID_LIKE: &str = "vouch:os-id-like";

/// Whether a package is an OS package whose purl the driver builds.
pub(crate) fn is_os_package(p: &Package) -> bool {
    matches!(
        p.ecosystem,
        Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm
    )
}

/// The purl of an OS package, or `None` for other packages or when the parts break the type's
/// rules.
pub(crate) fn os_package_purl(p: &Package, os: Option<&OsRelease>) -> Option<PackageUrl> {
    let (ty, default_namespace) = match p.ecosystem {
        Ecosystem::Deb => ("deb", Some("debian")),
        Ecosystem::Apk => ("apk", Some("alpine")),
        Ecosystem::Rpm => ("rpm", None),
        _ => return None,
    };
    let namespace = os
        .map(|o| o.id.to_ascii_lowercase())
        .filter(|id| !id.is_empty())
        .or_else(|| default_namespace.map(str::to_owned));
    let mut purl = PackageUrl::new(ty, &p.name).ok()?;
    if let Some(ns) = namespace {
        purl = purl.with_namespace(&ns).ok()?;
    }
    if let Some(v) = p.version.as_deref().filter(|v| !v.is_empty()) {
        purl = purl.with_version(v).ok()?;
    }
    let qualifiers = [
        ("arch", p.properties.get(props::ARCH).cloned()),
        ("epoch", p.properties.get(props::EPOCH).cloned()),
        (
            "upstream",
            p.properties
                .get(props::UPSTREAM)
                .filter(|u| !is_own_source(p, u))
                .cloned(),
        ),
        ("distro", os.and_then(distro)),
    ];
    for (key, value) in qualifiers {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            purl = purl.with_qualifier(key, &value).ok()?;
        }
    }
    Some(purl)
}

/// Whether `upstream` names the package's own source (`curl`, `curl@7.88.1-10`,
/// `bash-5.2.26-3.fc40.src.rpm` for `bash` 5.2.26-3.fc40): the qualifier is only for a source
/// package that differs.
fn is_own_source(p: &Package, upstream: &str) -> bool {
    let version = p.version.as_deref().unwrap_or_default();
    upstream == p.name
        || upstream == format!("{}@{version}", p.name)
        || upstream == format!("{}-{version}.src.rpm", p.name)
}

/// `ID-VERSION_ID`, or `ID-VERSION_CODENAME`, or `None`.
fn distro(os: &OsRelease) -> Option<String> {
    let id = os.id.to_ascii_lowercase();
    if id.is_empty() {
        return None;
    }
    os.version_id
        .as_deref()
        .or(os.version_codename.as_deref())
        .filter(|v| !v.is_empty())
        .map(|v| format!("{id}-{v}"))
}

/// The operating-system component.
pub(crate) fn os_component(os: &OsRelease) -> Package {
    let mut p = Package::new(Ecosystem::Generic, os.id.clone());
    p.kind = Kind::OperatingSystem;
    p.version.clone_from(&os.version_id);
    let facts = [
        (OS_PRETTY_NAME, os.pretty_name.clone()),
        (OS_CODENAME, os.version_codename.clone()),
        (
            OS_ID_LIKE,
            Some(os.id_like.join(" ")).filter(|s| !s.is_empty()),
        ),
    ];
    for (key, value) in facts {
        if let Some(value) = value {
            p.properties.insert(key.to_owned(), value);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, version: &str) -> OsRelease {
        OsRelease {
            id: id.into(),
            version_id: Some(version.into()),
            ..OsRelease::default()
        }
    }

    fn pkg(eco: Ecosystem, name: &str, version: &str, props: &[(&str, &str)]) -> Package {
        let mut p = Package::new(eco, name).version(version);
        for (k, v) in props {
            p.properties.insert((*k).into(), (*v).into());
        }
        p
    }

    #[test]
    fn purls_of_the_three_os_types() {
        let deb = pkg(
            Ecosystem::Deb,
            "curl",
            "7.88.1-10+deb12u5",
            &[(props::ARCH, "amd64")],
        );
        assert_eq!(
            os_package_purl(&deb, Some(&os("debian", "12")))
                .unwrap()
                .to_string(),
            "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"
        );
        let apk = pkg(
            Ecosystem::Apk,
            "busybox",
            "1.36.1-r29",
            &[(props::ARCH, "x86_64")],
        );
        assert_eq!(
            os_package_purl(&apk, Some(&os("alpine", "3.20.3")))
                .unwrap()
                .to_string(),
            "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3"
        );
        let rpm = pkg(
            Ecosystem::Rpm,
            "bash",
            "5.2.26-3.fc40",
            &[(props::ARCH, "x86_64"), (props::EPOCH, "1")],
        );
        assert_eq!(
            os_package_purl(&rpm, Some(&os("fedora", "40")))
                .unwrap()
                .to_string(),
            "pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40&epoch=1"
        );
        let own = pkg(
            Ecosystem::Rpm,
            "bash",
            "5.2.26-3.fc40",
            &[(props::UPSTREAM, "bash-5.2.26-3.fc40.src.rpm")],
        );
        assert_eq!(
            os_package_purl(&own, Some(&os("fedora", "40")))
                .unwrap()
                .to_string(),
            "pkg:rpm/fedora/bash@5.2.26-3.fc40?distro=fedora-40"
        );
        let ssl = pkg(
            Ecosystem::Deb,
            "libssl3",
            "3.0.11-1",
            &[(props::UPSTREAM, "openssl")],
        );
        assert_eq!(
            os_package_purl(&ssl, None).unwrap().to_string(),
            "pkg:deb/debian/libssl3@3.0.11-1?upstream=openssl"
        );
    }
}

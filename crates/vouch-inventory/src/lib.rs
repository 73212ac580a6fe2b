//! The neutral package graph.
//!
//! An [`Inventory`] holds [`Package`]s keyed by their [`PackageId`] and directed dependency
//! edges between them. Producers (lockfile parsers, image catalogers) add packages; adding a
//! package whose identity is already present merges the two, keeping every piece of evidence,
//! every hash and the strongest scope. Consumers (SBOM encoders, lock checks) read it in a
//! stable order, so that output built from it is deterministic.

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use vouch_digest::{Algorithm, Digest};
pub use vouch_purl::PackageUrl;

/// The package ecosystem, which decides the purl type and the default registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Ecosystem {
    /// Rust crates (crates.io).
    Cargo,
    /// npm packages (npm, yarn, pnpm, bun).
    Npm,
    /// Python packages (PyPI).
    Pypi,
    /// Go modules.
    Golang,
    /// Ruby gems.
    Gem,
    /// PHP Composer packages.
    Composer,
    /// Maven coordinates (Gradle).
    Maven,
    /// NuGet packages.
    Nuget,
    /// Swift packages (SwiftPM).
    Swift,
    /// Dart and Flutter packages (pub.dev).
    Pub,
    /// Erlang and Elixir packages (Hex).
    Hex,
    /// C and C++ packages (Conan).
    Conan,
    /// Debian and Ubuntu packages (dpkg).
    Deb,
    /// Alpine packages (apk).
    Apk,
    /// RPM packages (Fedora, RHEL, SUSE, Amazon Linux).
    Rpm,
    /// Container images and other OCI artifacts.
    Oci,
    /// Source repositories referred to by URL, with no registry identity.
    Generic,
}

impl Ecosystem {
    /// The purl type of packages from this ecosystem.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Golang => "golang",
            Ecosystem::Gem => "gem",
            Ecosystem::Composer => "composer",
            Ecosystem::Maven => "maven",
            Ecosystem::Nuget => "nuget",
            Ecosystem::Swift => "swift",
            Ecosystem::Pub => "pub",
            Ecosystem::Hex => "hex",
            Ecosystem::Conan => "conan",
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Oci => "oci",
            Ecosystem::Generic => "generic",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.purl_type())
    }
}

/// Whether a package is needed to run the software or only to develop it.
///
/// Ordered from strongest to weakest: when two records of one package disagree, the merged
/// package keeps the strongest (a package that is both a runtime and a dev dependency is a
/// runtime dependency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Scope {
    /// Needed at run time.
    #[default]
    Required,
    /// Installed only on some platforms or on request (npm optional, extras).
    Optional,
    /// Needed only to develop, build or test (npm dev, poetry dev group, composer packages-dev).
    Dev,
}

/// What kind of component a package is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Kind {
    /// A third-party library, the common case.
    #[default]
    Library,
    /// The project a lockfile belongs to, or a member of its workspace.
    Project,
    /// A container image: the root of an image's SBOM.
    Container,
    /// The operating system an image's root filesystem says it is (`os-release`).
    OperatingSystem,
}

/// Where a package's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Source {
    /// Not recorded by the lockfile.
    #[default]
    Unknown,
    /// A package registry; `url` is the registry or the resolved download URL when recorded.
    Registry {
        /// Registry index or download URL, as written in the lockfile.
        url: Option<String>,
    },
    /// A git repository.
    Git {
        /// Repository URL without the fragment.
        url: String,
        /// The full commit, when the lockfile pins one.
        commit: Option<String>,
        /// The branch, tag or other reference that was asked for.
        reference: Option<String>,
    },
    /// A local directory or file, relative to the lockfile.
    Path {
        /// The path as written in the lockfile.
        path: String,
    },
    /// A direct URL to an archive.
    Url {
        /// The URL.
        url: String,
    },
}

/// Where a fact about a package was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Evidence {
    /// The file, as the caller named it (relative to the scanned root where there is one).
    pub file: String,
    /// 1-based line number, where known.
    pub line: Option<u32>,
}

/// A key/value annotation that has no field of its own (carried to SBOM `properties`).
pub type Properties = BTreeMap<String, String>;

/// One package: a component of the software.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The name as the ecosystem spells it (`@scope/name`, `group:artifact`, module path).
    pub name: String,
    /// The resolved version, when there is one.
    pub version: Option<String>,
    /// The package URL, when one can be built.
    pub purl: Option<PackageUrl>,
    /// Where it comes from.
    pub source: Source,
    /// Digests of the distributed artifact(s), as the lockfile records them.
    pub hashes: BTreeSet<Digest>,
    /// SPDX licence expressions (or raw licence strings) as recorded.
    pub licenses: BTreeSet<String>,
    /// Runtime, optional or dev.
    pub scope: Scope,
    /// Library or the project itself.
    pub kind: Kind,
    /// Whether the lockfile says the package is a direct dependency of the project; `None`
    /// when it does not say and the graph must decide.
    pub direct: Option<bool>,
    /// Where the package was found.
    pub evidence: BTreeSet<Evidence>,
    /// Other facts worth carrying (`vouch:…` names).
    pub properties: Properties,
}

impl Package {
    /// A library package with no version, hashes or evidence yet.
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>) -> Self {
        Package {
            ecosystem,
            name: name.into(),
            version: None,
            purl: None,
            source: Source::Unknown,
            hashes: BTreeSet::new(),
            licenses: BTreeSet::new(),
            scope: Scope::Required,
            kind: Kind::Library,
            direct: None,
            evidence: BTreeSet::new(),
            properties: Properties::new(),
        }
    }

    /// Sets the version (builder style).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Records where the package was found (builder style).
    pub fn found_in(mut self, file: impl Into<String>, line: Option<u32>) -> Self {
        self.evidence.insert(Evidence {
            file: file.into(),
            line,
        });
        self
    }

    /// The identity under which packages merge: the canonical purl when there is one (its
    /// qualifiers name the source, so the same name and version from two different sources
    /// stay two packages), otherwise `ecosystem:name@version`. Projects are kept apart by the
    /// file that declares them.
    pub fn id(&self) -> PackageId {
        if self.kind == Kind::Project {
            let file = self
                .evidence
                .iter()
                .next()
                .map(|e| e.file.as_str())
                .unwrap_or("");
            return PackageId(format!(
                "project:{}:{}@{}#{}",
                self.ecosystem,
                self.name,
                self.version.as_deref().unwrap_or(""),
                file
            ));
        }
        match &self.purl {
            Some(p) => PackageId(p.to_string()),
            None => PackageId(format!(
                "{}:{}@{}",
                self.ecosystem,
                self.name,
                self.version.as_deref().unwrap_or("")
            )),
        }
    }

    /// Folds `other` (the same identity) into `self`.
    fn merge(&mut self, other: Package) {
        self.hashes.extend(other.hashes);
        self.licenses.extend(other.licenses);
        self.evidence.extend(other.evidence);
        self.scope = self.scope.min(other.scope);
        self.direct = match (self.direct, other.direct) {
            (Some(a), Some(b)) => Some(a || b),
            (a, b) => a.or(b),
        };
        if self.source == Source::Unknown {
            self.source = other.source;
        }
        if self.purl.is_none() {
            self.purl = other.purl;
        }
        for (k, v) in other.properties {
            self.properties.entry(k).or_insert(v);
        }
    }
}

/// The identity of a package inside an inventory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageId(pub String);

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Packages, merged by identity, and the dependency edges between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    packages: BTreeMap<PackageId, Package>,
    edges: BTreeMap<PackageId, BTreeSet<PackageId>>,
    roots: BTreeSet<PackageId>,
    primary: Option<PackageId>,
}

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a package, merging it with one of the same identity; returns its identity.
    pub fn add(&mut self, package: Package) -> PackageId {
        let id = package.id();
        // One search of the map, not a lookup and then an insert: parsers add a package per
        // lockfile entry, and the identity strings are long and share prefixes.
        match self.packages.entry(id) {
            std::collections::btree_map::Entry::Occupied(mut existing) => {
                let id = existing.key().clone();
                existing.get_mut().merge(package);
                id
            }
            std::collections::btree_map::Entry::Vacant(slot) => {
                let id = slot.key().clone();
                slot.insert(package);
                id
            }
        }
    }

    /// Adds a project package (the software a lockfile describes) and marks it a root. A
    /// package that is already a container or an operating system keeps its kind.
    pub fn add_root(&mut self, mut package: Package) -> PackageId {
        if package.kind == Kind::Library {
            package.kind = Kind::Project;
        }
        let id = self.add(package);
        self.roots.insert(id.clone());
        if self.primary.is_none() {
            self.primary = Some(id.clone());
        }
        id
    }

    /// The first root added: the project a lockfile is about, as opposed to workspace members
    /// or local packages it also records.
    pub fn primary_root(&self) -> Option<&PackageId> {
        self.primary.as_ref()
    }

    /// Makes `root` depend on every other root: local directory and file packages a lockfile
    /// records are projects of their own, and the lockfile's project still needs them.
    pub fn depend_on_other_roots(&mut self, root: &PackageId) {
        let others: Vec<PackageId> = self.roots.iter().filter(|r| *r != root).cloned().collect();
        for other in others {
            self.depend(root, &other);
        }
    }

    /// Records that `from` depends on `to`. Self-edges are ignored.
    pub fn depend(&mut self, from: &PackageId, to: &PackageId) {
        if from == to {
            return;
        }
        // Lockfiles repeat edges (one per descriptor or peer variant): look before cloning,
        // so that a repeated edge costs two lookups and no allocation.
        match self.edges.get_mut(from) {
            Some(tos) => {
                if !tos.contains(to) {
                    tos.insert(to.clone());
                }
            }
            None => {
                self.edges
                    .insert(from.clone(), BTreeSet::from([to.clone()]));
            }
        }
    }

    /// The package with this identity.
    pub fn get(&self, id: &PackageId) -> Option<&Package> {
        self.packages.get(id)
    }

    /// Mutable access to the package with this identity.
    pub fn get_mut(&mut self, id: &PackageId) -> Option<&mut Package> {
        self.packages.get_mut(id)
    }

    /// All packages in identity order.
    pub fn packages(&self) -> impl Iterator<Item = (&PackageId, &Package)> {
        self.packages.iter()
    }

    /// Number of packages, projects included.
    pub fn len(&self) -> usize {
        self.packages.len()
    }

    /// Whether there are no packages.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// The project packages.
    pub fn roots(&self) -> &BTreeSet<PackageId> {
        &self.roots
    }

    /// Direct dependencies of `id`, in identity order.
    pub fn dependencies(&self, id: &PackageId) -> impl Iterator<Item = &PackageId> {
        self.edges.get(id).into_iter().flatten()
    }

    /// Each package that has dependencies, with them, in identity order.
    pub fn adjacency(&self) -> impl Iterator<Item = (&PackageId, &BTreeSet<PackageId>)> {
        self.edges.iter()
    }

    /// Every edge `(from, to)` in order.
    pub fn edges(&self) -> impl Iterator<Item = (&PackageId, &PackageId)> {
        self.edges
            .iter()
            .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
    }

    /// Packages that are not projects.
    pub fn libraries(&self) -> impl Iterator<Item = (&PackageId, &Package)> {
        self.packages
            .iter()
            .filter(|(_, p)| p.kind == Kind::Library)
    }

    /// Folds another inventory into this one.
    pub fn extend(&mut self, other: Inventory) {
        // Folding into an empty inventory is taking the other one: the common case of a
        // directory with one lockfile, where adding every package again cost a twentieth of
        // the run.
        if self.packages.is_empty() && self.edges.is_empty() && self.roots.is_empty() {
            let primary = self.primary.take();
            *self = other;
            if primary.is_some() {
                self.primary = primary;
            }
            return;
        }
        for (_, p) in other.packages {
            self.add(p);
        }
        for (from, tos) in other.edges {
            self.edges.entry(from).or_default().extend(tos);
        }
        self.roots.extend(other.roots);
        if self.primary.is_none() {
            self.primary = other.primary;
        }
    }

    /// Drops edges whose ends are not packages here (a lockfile may name a dependency it does
    /// not resolve, such as an optional one for another platform).
    pub fn prune_dangling_edges(&mut self) {
        let packages = &self.packages;
        self.edges.retain(|from, tos| {
            tos.retain(|to| packages.contains_key(to));
            packages.contains_key(from) && !tos.is_empty()
        });
    }

    /// Attaches every library that nothing depends on to `root`, so that no package is an
    /// orphan, and marks it direct unless its producer said otherwise.
    pub fn attach_orphans(&mut self, root: &PackageId) {
        // A sorted vector of borrowed identities: building a set of cloned strings cost more
        // than the rest of this walk on lockfiles of a few thousand packages.
        let mut has_parent: Vec<&PackageId> = self.edges.values().flatten().collect();
        has_parent.sort_unstable();
        has_parent.dedup();
        let orphans: Vec<PackageId> = self
            .packages
            .iter()
            .filter(|(id, p)| {
                p.kind == Kind::Library && has_parent.binary_search(id).is_err() && *id != root
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in orphans {
            self.depend(root, &id);
        }
    }

    /// Removes packages (and their edges) for which `keep` returns false.
    pub fn retain(&mut self, mut keep: impl FnMut(&Package) -> bool) {
        self.packages.retain(|_, p| keep(p));
        self.roots.retain(|id| self.packages.contains_key(id));
        if self
            .primary
            .as_ref()
            .is_some_and(|p| !self.packages.contains_key(p))
        {
            self.primary = None;
        }
        self.prune_dangling_edges();
    }

    /// Packages reachable from `from` (not including it), breadth first, each once.
    pub fn reachable(&self, from: &PackageId) -> BTreeSet<PackageId> {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<&PackageId> = self.dependencies(from).collect();
        while let Some(id) = queue.pop() {
            if seen.insert(id.clone()) {
                queue.extend(self.dependencies(id));
            }
        }
        seen
    }

    /// Whether `id` is a direct dependency of a project: what its producer said, otherwise
    /// whether a root depends on it.
    pub fn is_direct(&self, id: &PackageId) -> bool {
        if let Some(d) = self.packages.get(id).and_then(|p| p.direct) {
            return d;
        }
        self.roots
            .iter()
            .any(|r| self.edges.get(r).is_some_and(|tos| tos.contains(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(name: &str, v: &str) -> Package {
        let purl = PackageUrl::new("cargo", name)
            .and_then(|p| p.with_version(v))
            .ok();
        Package {
            purl,
            ..Package::new(Ecosystem::Cargo, name).version(v)
        }
    }

    #[test]
    fn merge_keeps_all_evidence_and_strongest_scope() {
        let mut inv = Inventory::new();
        let mut a = lib("serde", "1.0.0").found_in("a/Cargo.lock", Some(3));
        a.scope = Scope::Dev;
        let b = lib("serde", "1.0.0").found_in("b/Cargo.lock", Some(9));
        let id = inv.add(a);
        assert_eq!(inv.add(b), id);
        let p = inv.get(&id).unwrap();
        assert_eq!(p.evidence.len(), 2);
        assert_eq!(p.scope, Scope::Required);
        assert_eq!(inv.len(), 1);
    }

    #[test]
    fn orphans_attach_to_root_and_direct_is_derived() {
        let mut inv = Inventory::new();
        let root = inv.add_root(Package::new(Ecosystem::Cargo, "app").found_in("Cargo.lock", None));
        let a = inv.add(lib("a", "1.0.0"));
        let b = inv.add(lib("b", "1.0.0"));
        inv.depend(&a, &b);
        inv.attach_orphans(&root);
        assert!(inv.is_direct(&a));
        assert!(!inv.is_direct(&b));
        assert_eq!(inv.reachable(&root).len(), 2);
    }

    /// Two lockfiles' worth: a project depending on a library shared with the other.
    fn sample(file: &str, own: &str) -> Inventory {
        let mut inv = Inventory::new();
        let root = inv.add_root(Package::new(Ecosystem::Cargo, "app").found_in(file, Some(1)));
        let shared = inv.add(lib("serde", "1.0.0").found_in(file, Some(2)));
        let mine = inv.add(lib(own, "0.1.0").found_in(file, Some(3)));
        inv.depend(&root, &shared);
        inv.depend(&root, &mine);
        inv.depend(&mine, &shared);
        inv
    }

    #[test]
    fn extend_takes_the_first_and_merges_the_rest() {
        let a = sample("a/Cargo.lock", "left");
        let mut all = Inventory::new();
        all.extend(a.clone());
        assert_eq!(all, a);
        all.extend(sample("b/Cargo.lock", "right"));
        // Two projects (kept apart by file), one merged `serde`, and each side's own library.
        assert_eq!(all.len(), 5);
        assert_eq!(all.roots().len(), 2);
        assert_eq!(all.edges().count(), 6);
        let serde = lib("serde", "1.0.0").id();
        assert_eq!(all.get(&serde).unwrap().evidence.len(), 2);
        assert_eq!(all.primary_root(), a.primary_root());
    }

    #[test]
    fn dangling_edges_are_pruned() {
        let mut inv = Inventory::new();
        let a = inv.add(lib("a", "1.0.0"));
        inv.depend(&a, &PackageId("pkg:cargo/missing@1".into()));
        inv.prune_dangling_edges();
        assert_eq!(inv.edges().count(), 0);
    }
}

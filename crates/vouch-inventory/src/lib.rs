//! The neutral package graph.
//!
//! An [`Inventory`] holds [`Package`]s keyed by their [`PackageId`] and directed dependency
//! edges between them. Producers (lockfile parsers, image catalogers) add packages; adding a
//! package whose identity is already present merges the two, keeping every piece of evidence,
//! every hash and the strongest scope. Consumers (SBOM encoders, lock checks) read it in a
//! stable order, so that output built from it is deterministic.

#![forbid(unsafe_code)]

mod set;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::hash::BuildHasher as _;
use std::sync::OnceLock;

use hashbrown::{DefaultHashBuilder, HashTable};

pub use set::SortedSet;
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
    pub hashes: SortedSet<Digest>,
    /// SPDX licence expressions (or raw licence strings) as recorded.
    pub licenses: SortedSet<String>,
    /// Runtime, optional or dev.
    pub scope: Scope,
    /// Library or the project itself.
    pub kind: Kind,
    /// Whether the lockfile says the package is a direct dependency of the project; `None`
    /// when it does not say and the graph must decide.
    pub direct: Option<bool>,
    /// Where the package was found.
    pub evidence: SortedSet<Evidence>,
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
            hashes: SortedSet::new(),
            licenses: SortedSet::new(),
            scope: Scope::Required,
            kind: Kind::Library,
            direct: None,
            evidence: SortedSet::new(),
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
            Some(p) => PackageId(p.to_canonical()),
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

/// A package's place in the inventory that returned it, for readers that add edges by the
/// thousand: an edge between handles costs no lookup of identities. A handle means nothing to
/// another inventory, nor to this one after [`Inventory::extend`] has folded it elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(u32);

/// Packages, merged by identity, and the dependency edges between them.
///
/// Inside, every identity the inventory has met (as a package or as the end of an edge) has a
/// slot, found through a hash table, and edges are slot numbers. Reads in identity order go
/// through a view (identities sorted once, each package's dependencies sorted and without
/// repeats) that is built on the first such read after a change. Parsers add a package per
/// lockfile entry and an edge per dependency, and ordered maps keyed by identity strings made
/// each of those a dozen string comparisons.
#[derive(Clone, Default)]
pub struct Inventory {
    slots: Vec<Slot>,
    /// Slot numbers, hashed by the slot's identity.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    roots: BTreeSet<PackageId>,
    primary: Option<PackageId>,
    /// Number of slots that hold a package.
    len: usize,
    order: OnceLock<Order>,
}

/// One identity, its package if it has been added, and what it depends on.
#[derive(Clone)]
struct Slot {
    id: PackageId,
    package: Option<Package>,
    /// Dependencies as slot numbers, in the order recorded. Short lists hold no repeats; long
    /// ones may (looking through them at each edge would cost more than the view's sort).
    deps: Vec<u32>,
}

/// Lists longer than this take repeated edges, which the view removes.
const DEDUP_SCAN: usize = 16;

/// The inventory in identity order.
#[derive(Clone)]
struct Order {
    /// Every slot, in identity order.
    sorted: Vec<u32>,
    /// The dependencies of slot `s` are `deps[starts[s]..starts[s + 1]]`, in identity order,
    /// each once.
    starts: Vec<u32>,
    deps: Vec<u32>,
}

impl Order {
    fn build(slots: &[Slot]) -> Order {
        let id = |s: u32| slots.get(s as usize).map(|x| x.id.0.as_str());
        let mut sorted: Vec<u32> = (0..slots.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| id(a).cmp(&id(b)));
        let mut rank = vec![0u32; slots.len()];
        for (r, &s) in sorted.iter().enumerate() {
            if let Some(x) = rank.get_mut(s as usize) {
                *x = r as u32;
            }
        }
        let mut starts = Vec::with_capacity(slots.len() + 1);
        let mut deps = Vec::with_capacity(slots.iter().map(|s| s.deps.len()).sum());
        let mut scratch: Vec<u32> = Vec::new();
        for slot in slots {
            starts.push(deps.len() as u32);
            scratch.clear();
            scratch.extend_from_slice(&slot.deps);
            scratch.sort_unstable_by_key(|&t| rank.get(t as usize).copied().unwrap_or(u32::MAX));
            scratch.dedup();
            deps.extend_from_slice(&scratch);
        }
        starts.push(deps.len() as u32);
        Order {
            sorted,
            starts,
            deps,
        }
    }

    /// The dependencies of slot `s`, in identity order.
    fn deps_of(&self, s: u32) -> &[u32] {
        let s = s as usize;
        match (self.starts.get(s), self.starts.get(s + 1)) {
            (Some(&a), Some(&b)) => self.deps.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// What a slot number that is out of range reads as (never, by construction).
static NO_ID: PackageId = PackageId(String::new());

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty inventory with room for `packages` identities before it grows. Readers that
    /// know how many entries a lockfile has save the copies and rehashes of growing by
    /// doubling.
    pub fn with_capacity(packages: usize) -> Self {
        Inventory {
            slots: Vec::with_capacity(packages),
            index: HashTable::with_capacity(packages),
            ..Self::default()
        }
    }

    /// The slot of `id`, if the inventory has met it.
    fn find(&self, id: &PackageId) -> Option<u32> {
        self.lookup(id).1
    }

    /// The hash of `id`, and its slot if the inventory has met it.
    fn lookup(&self, id: &PackageId) -> (u64, Option<u32>) {
        let hash = self.hasher.hash_one(id.0.as_str());
        let slots = &self.slots;
        let found = self
            .index
            .find(hash, |&s| {
                slots.get(s as usize).is_some_and(|x| x.id == *id)
            })
            .copied();
        (hash, found)
    }

    /// The slot of `id`, made if there is none yet.
    fn intern(&mut self, id: &PackageId) -> u32 {
        match self.lookup(id) {
            (_, Some(s)) => s,
            (hash, None) => self.push_slot(id.clone(), hash),
        }
    }

    /// The slot of `id`, taking the string when the slot is new.
    fn intern_owned(&mut self, id: PackageId) -> u32 {
        match self.lookup(&id) {
            (_, Some(s)) => s,
            (hash, None) => self.push_slot(id, hash),
        }
    }

    /// A new slot for `id`, whose hash [`Self::lookup`] gave.
    fn push_slot(&mut self, id: PackageId, hash: u64) -> u32 {
        let s = self.slots.len() as u32;
        self.slots.push(Slot {
            id,
            package: None,
            deps: Vec::new(),
        });
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, s, |&t| {
            hasher.hash_one(slots.get(t as usize).map_or("", |x| x.id.0.as_str()))
        });
        self.order.take();
        s
    }

    fn id_of(&self, s: u32) -> &PackageId {
        self.slots.get(s as usize).map_or(&NO_ID, |x| &x.id)
    }

    fn order(&self) -> &Order {
        self.order.get_or_init(|| Order::build(&self.slots))
    }

    /// Adds a package, merging it with one of the same identity; returns its identity.
    pub fn add(&mut self, package: Package) -> PackageId {
        let s = self.add_slot(package);
        self.id_of(s).clone()
    }

    /// [`Self::add`], returning the slot.
    fn add_slot(&mut self, package: Package) -> u32 {
        let s = self.intern_owned(package.id());
        if let Some(slot) = self.slots.get_mut(s as usize) {
            match &mut slot.package {
                Some(existing) => existing.merge(package),
                None => {
                    slot.package = Some(package);
                    self.len += 1;
                    self.order.take();
                }
            }
        }
        s
    }

    /// Adds a project package (the software a lockfile describes) and marks it a root. A
    /// package that is already a container or an operating system keeps its kind.
    pub fn add_root(&mut self, package: Package) -> PackageId {
        let h = self.add_root_handle(package);
        self.id_of(h.0).clone()
    }

    /// [`Self::add`], returning a [`Handle`] instead of a copy of the identity.
    pub fn add_handle(&mut self, package: Package) -> Handle {
        Handle(self.add_slot(package))
    }

    /// [`Self::add_root`], returning a [`Handle`].
    pub fn add_root_handle(&mut self, mut package: Package) -> Handle {
        if package.kind == Kind::Library {
            package.kind = Kind::Project;
        }
        let s = self.add_slot(package);
        let id = self.id_of(s).clone();
        if self.primary.is_none() {
            self.primary = Some(id.clone());
        }
        self.roots.insert(id);
        Handle(s)
    }

    /// The identity behind a handle this inventory returned.
    pub fn handle_id(&self, handle: Handle) -> &PackageId {
        self.id_of(handle.0)
    }

    /// Mutable access to the package behind a handle this inventory returned.
    pub fn handle_mut(&mut self, handle: Handle) -> Option<&mut Package> {
        self.slots.get_mut(handle.0 as usize)?.package.as_mut()
    }

    /// [`Self::depend`] between handles this inventory returned: no identity is looked up.
    pub fn depend_handles(&mut self, from: Handle, to: Handle) {
        self.depend_slots(from.0, to.0);
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
        let f = self.intern(from);
        let t = self.intern(to);
        self.depend_slots(f, t);
    }

    fn depend_slots(&mut self, f: u32, t: u32) {
        if f == t {
            return;
        }
        if let Some(slot) = self.slots.get_mut(f as usize)
            && (slot.deps.len() > DEDUP_SCAN || !slot.deps.contains(&t))
        {
            slot.deps.push(t);
            self.order.take();
        }
    }

    /// The package with this identity.
    pub fn get(&self, id: &PackageId) -> Option<&Package> {
        let s = self.find(id)?;
        self.slots.get(s as usize)?.package.as_ref()
    }

    /// Mutable access to the package with this identity.
    pub fn get_mut(&mut self, id: &PackageId) -> Option<&mut Package> {
        let s = self.find(id)?;
        self.slots.get_mut(s as usize)?.package.as_mut()
    }

    /// All packages in identity order.
    pub fn packages(&self) -> impl Iterator<Item = (&PackageId, &Package)> {
        self.order().sorted.iter().filter_map(|&s| {
            let slot = self.slots.get(s as usize)?;
            Some((&slot.id, slot.package.as_ref()?))
        })
    }

    /// Number of packages, projects included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no packages.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The project packages.
    pub fn roots(&self) -> &BTreeSet<PackageId> {
        &self.roots
    }

    /// Direct dependencies of `id`, in identity order.
    pub fn dependencies(&self, id: &PackageId) -> impl Iterator<Item = &PackageId> {
        let deps = match self.find(id) {
            Some(s) => self.order().deps_of(s),
            None => &[],
        };
        deps.iter().map(|&t| self.id_of(t))
    }

    /// Each identity that has dependencies, with them, both in identity order.
    pub fn adjacency(
        &self,
    ) -> impl Iterator<
        Item = (
            &PackageId,
            impl ExactSizeIterator<Item = &PackageId> + Clone,
        ),
    > {
        let order = self.order();
        order.sorted.iter().filter_map(move |&s| {
            let deps = order.deps_of(s);
            (!deps.is_empty()).then(|| (self.id_of(s), deps.iter().map(|&t| self.id_of(t))))
        })
    }

    /// [`Self::adjacency`] between packages only: each package that has dependencies, with
    /// those that are packages, both in identity order. An identity met only as the end of an
    /// edge is left out by its slot, without looking it up; a package whose dependencies are
    /// all such identities comes with none.
    pub fn package_adjacency(
        &self,
    ) -> impl Iterator<Item = (&PackageId, impl Iterator<Item = &PackageId> + Clone)> {
        let order = self.order();
        let is_package = move |s: u32| {
            self.slots
                .get(s as usize)
                .is_some_and(|x| x.package.is_some())
        };
        order.sorted.iter().filter_map(move |&s| {
            let deps = order.deps_of(s);
            (!deps.is_empty() && is_package(s)).then(|| {
                let tos = deps.iter().filter(move |&&t| is_package(t));
                (self.id_of(s), tos.map(move |&t| self.id_of(t)))
            })
        })
    }

    /// Every edge `(from, to)` in order.
    pub fn edges(&self) -> impl Iterator<Item = (&PackageId, &PackageId)> {
        self.adjacency()
            .flat_map(|(from, tos)| tos.map(move |to| (from, to)))
    }

    /// Packages that are not projects.
    pub fn libraries(&self) -> impl Iterator<Item = (&PackageId, &Package)> {
        self.packages().filter(|(_, p)| p.kind == Kind::Library)
    }

    /// Folds another inventory into this one.
    pub fn extend(&mut self, other: Inventory) {
        // Folding into an empty inventory is taking the other one: the common case of a
        // directory with one lockfile, where adding every package again cost a twentieth of
        // the run.
        if self.slots.is_empty() && self.roots.is_empty() {
            let primary = self.primary.take();
            *self = other;
            if primary.is_some() {
                self.primary = primary;
            }
            return;
        }
        // Slots of `other`, renumbered here: packages first, then the edges between them.
        let mut map = Vec::with_capacity(other.slots.len());
        let mut deps = Vec::with_capacity(other.slots.len());
        for slot in other.slots {
            let s = match slot.package {
                Some(p) => self.add_slot(p),
                None => self.intern_owned(slot.id),
            };
            map.push(s);
            deps.push(slot.deps);
        }
        for (from, tos) in map.iter().zip(deps) {
            for t in tos {
                if let Some(&to) = map.get(t as usize) {
                    self.depend_slots(*from, to);
                }
            }
        }
        self.roots.extend(other.roots);
        if self.primary.is_none() {
            self.primary = other.primary;
        }
    }

    /// Drops edges whose ends are not packages here (a lockfile may name a dependency it does
    /// not resolve, such as an optional one for another platform).
    pub fn prune_dangling_edges(&mut self) {
        let present: Vec<bool> = self.slots.iter().map(|s| s.package.is_some()).collect();
        for slot in &mut self.slots {
            if slot.package.is_some() {
                slot.deps
                    .retain(|&t| present.get(t as usize).copied().unwrap_or(false));
            } else {
                slot.deps.clear();
            }
        }
        self.order.take();
    }

    /// Attaches every library that nothing depends on to `root`, so that no package is an
    /// orphan, and marks it direct unless its producer said otherwise.
    pub fn attach_orphans(&mut self, root: &PackageId) {
        let r = self.intern(root);
        let mut has_parent = vec![false; self.slots.len()];
        for &t in self.slots.iter().flat_map(|s| &s.deps) {
            if let Some(h) = has_parent.get_mut(t as usize) {
                *h = true;
            }
        }
        let orphans: Vec<u32> = self
            .slots
            .iter()
            .zip(&has_parent)
            .enumerate()
            .filter(|(s, (slot, has_parent))| {
                !**has_parent
                    && *s as u32 != r
                    && slot
                        .package
                        .as_ref()
                        .is_some_and(|p| p.kind == Kind::Library)
            })
            .map(|(s, _)| s as u32)
            .collect();
        for s in orphans {
            self.depend_slots(r, s);
        }
    }

    /// Attaches to `root` every library that no project reaches: first those nothing depends
    /// on, then one member of each remaining dependency cycle, in identity order. For formats
    /// that do not record which packages the project asked for (yarn classic, npm v1), or
    /// record packages no project needs.
    ///
    /// One walk with one visited set: a set of reached packages that is closed under "depends
    /// on" stays closed when a package and everything it reaches are added, so no package is
    /// walked twice. The walk is over slot numbers, not identities.
    pub fn attach_unreachable(&mut self, root: &PackageId) {
        let r = self.intern(root);
        let attach = {
            let n = self.slots.len();
            let mut has_parent = vec![false; n];
            for &t in self.slots.iter().flat_map(|s| &s.deps) {
                if let Some(h) = has_parent.get_mut(t as usize) {
                    *h = true;
                }
            }
            let orphans: Vec<u32> = (0..n as u32)
                .filter(|&s| {
                    self.is_library(s) && !has_parent.get(s as usize).copied().unwrap_or(true)
                })
                .collect();
            let mut reached = vec![false; n];
            let mut stack: Vec<u32> = Vec::new();
            // Marks everything reachable from the stack; the orphans count as dependencies of
            // `root`, to which they are attached.
            let walk = |stack: &mut Vec<u32>, reached: &mut Vec<bool>| {
                while let Some(s) = stack.pop() {
                    if let Some(seen) = reached.get_mut(s as usize).filter(|seen| !**seen) {
                        *seen = true;
                        stack.extend_from_slice(self.slot_deps(s));
                        if s == r {
                            stack.extend_from_slice(&orphans);
                        }
                    }
                }
            };
            for project in self.roots.iter().filter_map(|id| self.find(id)) {
                stack.extend_from_slice(self.slot_deps(project));
                if project == r {
                    stack.extend_from_slice(&orphans);
                }
                walk(&mut stack, &mut reached);
            }
            let mut attach = orphans.clone();
            for &s in &self.order().sorted {
                if self.is_library(s) && !reached.get(s as usize).copied().unwrap_or(true) {
                    attach.push(s);
                    stack.push(s);
                    walk(&mut stack, &mut reached);
                }
            }
            attach
        };
        for s in attach {
            self.depend_slots(r, s);
        }
    }

    /// Marks as development dependencies the required libraries reachable from `dev` and not
    /// from `prod`, following edges out of libraries only: for formats that record the split
    /// only at the projects (pnpm 9, bun), whose own dependencies are listed in `prod` or `dev`.
    pub fn mark_dev_only(&mut self, prod: &[PackageId], dev: &[PackageId]) {
        let reach = |starts: &[PackageId]| -> Vec<bool> {
            let mut seen = vec![false; self.slots.len()];
            let mut stack: Vec<u32> = starts.iter().filter_map(|id| self.find(id)).collect();
            while let Some(s) = stack.pop() {
                if let Some(x) = seen.get_mut(s as usize).filter(|x| !**x) {
                    *x = true;
                    if self.is_library(s) {
                        stack.extend_from_slice(self.slot_deps(s));
                    }
                }
            }
            seen
        };
        let from_prod = reach(prod);
        let from_dev = reach(dev);
        for ((slot, by_dev), by_prod) in self.slots.iter_mut().zip(from_dev).zip(from_prod) {
            if let Some(p) = slot.package.as_mut().filter(|_| by_dev && !by_prod)
                && p.kind == Kind::Library
                && p.scope == Scope::Required
            {
                p.scope = Scope::Dev;
            }
        }
    }

    /// Whether slot `s` holds a library.
    fn is_library(&self, s: u32) -> bool {
        self.slots
            .get(s as usize)
            .and_then(|x| x.package.as_ref())
            .is_some_and(|p| p.kind == Kind::Library)
    }

    /// Removes packages (and their edges) for which `keep` returns false.
    pub fn retain(&mut self, mut keep: impl FnMut(&Package) -> bool) {
        for slot in &mut self.slots {
            if slot.package.as_ref().is_some_and(|p| !keep(p)) {
                slot.package = None;
                self.len -= 1;
            }
        }
        let roots = std::mem::take(&mut self.roots);
        self.roots = roots
            .into_iter()
            .filter(|id| self.get(id).is_some())
            .collect();
        if self.primary.as_ref().is_some_and(|p| self.get(p).is_none()) {
            self.primary = None;
        }
        self.prune_dangling_edges();
    }

    /// Packages reachable from `from` (not including it), breadth first, each once.
    pub fn reachable(&self, from: &PackageId) -> BTreeSet<PackageId> {
        let mut seen = vec![false; self.slots.len()];
        let mut out = BTreeSet::new();
        let Some(start) = self.find(from) else {
            return out;
        };
        let mut queue: Vec<u32> = self.slot_deps(start).to_vec();
        while let Some(s) = queue.pop() {
            if let Some(seen) = seen.get_mut(s as usize).filter(|seen| !**seen) {
                *seen = true;
                out.insert(self.id_of(s).clone());
                queue.extend_from_slice(self.slot_deps(s));
            }
        }
        out
    }

    /// The recorded dependencies of slot `s` (repeats possible on long lists).
    fn slot_deps(&self, s: u32) -> &[u32] {
        self.slots
            .get(s as usize)
            .map_or(&[], |x| x.deps.as_slice())
    }

    /// Whether `id` is a direct dependency of a project: what its producer said, otherwise
    /// whether a root depends on it.
    pub fn is_direct(&self, id: &PackageId) -> bool {
        let Some(s) = self.find(id) else {
            return false;
        };
        if let Some(d) = self
            .slots
            .get(s as usize)
            .and_then(|x| x.package.as_ref())
            .and_then(|p| p.direct)
        {
            return d;
        }
        self.roots
            .iter()
            .filter_map(|r| self.find(r))
            .any(|r| self.slot_deps(r).contains(&s))
    }
}

impl PartialEq for Inventory {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self.roots == other.roots
            && self.primary == other.primary
            && self.packages().eq(other.packages())
            && self.edges().eq(other.edges())
    }
}

impl Eq for Inventory {}

impl fmt::Debug for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let edges: BTreeMap<&PackageId, Vec<&PackageId>> = self
            .adjacency()
            .map(|(from, tos)| (from, tos.collect()))
            .collect();
        f.debug_struct("Inventory")
            .field("packages", &self.packages().collect::<BTreeMap<_, _>>())
            .field("edges", &edges)
            .field("roots", &self.roots)
            .field("primary", &self.primary)
            .finish()
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
    fn handles_build_what_identities_build() {
        let mut by_id = Inventory::new();
        let app = by_id.add_root(Package::new(Ecosystem::Cargo, "app"));
        let a = by_id.add(lib("a", "1.0.0"));
        let b = by_id.add(lib("b", "2.0.0"));
        // The same package again merges, and a self-edge is ignored.
        let a2 = by_id.add(lib("a", "1.0.0"));
        by_id.depend(&app, &a);
        by_id.depend(&a, &b);
        by_id.depend(&a2, &b);
        by_id.depend(&b, &b);

        let mut by_handle = Inventory::new();
        let app_h = by_handle.add_root_handle(Package::new(Ecosystem::Cargo, "app"));
        let a_h = by_handle.add_handle(lib("a", "1.0.0"));
        let b_h = by_handle.add_handle(lib("b", "2.0.0"));
        let a2_h = by_handle.add_handle(lib("a", "1.0.0"));
        assert_eq!(a_h, a2_h);
        by_handle.depend_handles(app_h, a_h);
        by_handle.depend_handles(a_h, b_h);
        by_handle.depend_handles(a2_h, b_h);
        by_handle.depend_handles(b_h, b_h);

        assert!(by_id == by_handle);
        assert_eq!(by_handle.handle_id(a_h), &a);
        assert_eq!(by_handle.primary_root(), Some(&app));
        by_handle.handle_mut(b_h).unwrap().scope = Scope::Dev;
        assert_eq!(by_handle.get(&b).unwrap().scope, Scope::Dev);
        assert_eq!(by_handle.dependencies(&a).collect::<Vec<_>>(), [&b]);
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
    fn reads_are_in_identity_order_whatever_the_order_of_insertion() {
        let names = ["m", "c", "x", "a", "q"];
        let mut forward = Inventory::new();
        let mut backward = Inventory::new();
        let root = Package::new(Ecosystem::Cargo, "app").found_in("Cargo.lock", None);
        let f_root = forward.add_root(root.clone());
        for n in names {
            let id = forward.add(lib(n, "1.0.0"));
            forward.depend(&f_root, &id);
        }
        let b_root = backward.add_root(root);
        for n in names.iter().rev() {
            let id = backward.add(lib(n, "1.0.0"));
            backward.depend(&b_root, &id);
        }
        assert_eq!(forward, backward);
        let deps: Vec<&str> = forward
            .dependencies(&f_root)
            .map(|id| id.0.as_str())
            .collect();
        let mut sorted = deps.clone();
        sorted.sort_unstable();
        assert_eq!(deps, sorted);
        assert_eq!(deps.len(), names.len());
        let ids: Vec<&PackageId> = forward.packages().map(|(id, _)| id).collect();
        assert!(ids.windows(2).all(|w| w.first() < w.get(1)));
    }

    #[test]
    fn repeated_edges_count_once_on_short_and_long_lists() {
        let mut inv = Inventory::new();
        let hub = inv.add(lib("hub", "1.0.0"));
        let spokes: Vec<PackageId> = (0..40)
            .map(|i| inv.add(lib(&format!("s{i:02}"), "1.0.0")))
            .collect();
        for _ in 0..3 {
            for s in &spokes {
                inv.depend(&hub, s);
            }
        }
        let small = inv.add(lib("small", "1.0.0"));
        for _ in 0..3 {
            inv.depend(&small, &hub);
        }
        assert_eq!(inv.dependencies(&hub).count(), 40);
        assert_eq!(inv.dependencies(&small).count(), 1);
        assert_eq!(inv.edges().count(), 41);
        assert_eq!(inv.reachable(&small).len(), 41);
    }

    #[test]
    fn removed_packages_lose_their_edges_and_can_come_back() {
        let mut inv = Inventory::new();
        let root = inv.add_root(Package::new(Ecosystem::Cargo, "app").found_in("Cargo.lock", None));
        let mut dev = lib("dev", "1.0.0");
        dev.scope = Scope::Dev;
        let dev = inv.add(dev);
        let keep = inv.add(lib("keep", "1.0.0"));
        inv.depend(&root, &dev);
        inv.depend(&dev, &keep);
        inv.depend(&root, &keep);
        inv.retain(|p| p.scope != Scope::Dev);
        assert_eq!(inv.len(), 2);
        assert!(inv.get(&dev).is_none());
        assert_eq!(inv.edges().count(), 1);
        assert!(!inv.reachable(&root).contains(&dev));
        // The identity is free again: adding the package makes it present, with no old edges.
        assert_eq!(inv.add(lib("dev", "1.0.0")), dev);
        assert_eq!(inv.len(), 3);
        assert_eq!(inv.dependencies(&dev).count(), 0);
    }

    #[test]
    fn extend_keeps_edges_to_packages_not_yet_present() {
        let mut all = sample("a/Cargo.lock", "left");
        let mut other = Inventory::new();
        let a = other.add(lib("a", "1.0.0"));
        let missing = PackageId("pkg:cargo/missing@1".into());
        other.depend(&a, &missing);
        all.extend(other);
        assert_eq!(all.dependencies(&a).collect::<Vec<_>>(), [&missing]);
        all.prune_dangling_edges();
        assert_eq!(all.dependencies(&a).count(), 0);
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

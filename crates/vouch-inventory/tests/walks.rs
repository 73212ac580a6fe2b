//! The inventory's graph walks (`attach_unreachable`, `mark_dev_only`) against plain versions
//! written over identities with the public API, on random graphs: projects, libraries of every
//! scope, cycles, repeated edges and edges to identities that are not packages.

use std::collections::HashSet;

use proptest::prelude::*;
use vouch_inventory::{Ecosystem, Inventory, Kind, Package, PackageId, Scope};

/// What `attach_unreachable` attaches: the orphans, then each library not yet reached, in
/// identity order, with everything it reaches.
fn reference_unreachable<'i>(inv: &'i Inventory, root: &PackageId) -> Vec<PackageId> {
    let has_parent: HashSet<&PackageId> = inv.edges().map(|(_, to)| to).collect();
    let orphans: Vec<&'i PackageId> = inv
        .libraries()
        .map(|(id, _)| id)
        .filter(|id| !has_parent.contains(*id))
        .collect();
    let mut reached: HashSet<&'i PackageId> = HashSet::new();
    let walk = |start: Vec<&'i PackageId>, reached: &mut HashSet<&'i PackageId>| {
        let mut stack = start;
        while let Some(id) = stack.pop() {
            if reached.insert(id) {
                stack.extend(inv.dependencies(id));
                if id == root {
                    stack.extend(orphans.iter().copied());
                }
            }
        }
    };
    for r in inv.roots() {
        let mut start: Vec<&'i PackageId> = inv.dependencies(r).collect();
        if r == root {
            start.extend(orphans.iter().copied());
        }
        walk(start, &mut reached);
    }
    let mut attach = orphans.clone();
    for (id, _) in inv.libraries() {
        if !reached.contains(id) {
            attach.push(id);
            walk(vec![id], &mut reached);
        }
    }
    attach.into_iter().cloned().collect()
}

/// What `mark_dev_only` marks: required libraries reached from `dev` and not from `prod`,
/// walking on only out of libraries.
fn reference_dev_only(inv: &Inventory, prod: &[PackageId], dev: &[PackageId]) -> Vec<PackageId> {
    let reach = |starts: &[PackageId]| {
        let mut seen: HashSet<PackageId> = HashSet::new();
        let mut stack: Vec<PackageId> = starts.to_vec();
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) && inv.get(&id).is_some_and(|p| p.kind == Kind::Library) {
                stack.extend(inv.dependencies(&id).cloned());
            }
        }
        seen
    };
    let from_prod = reach(prod);
    reach(dev)
        .into_iter()
        .filter(|id| !from_prod.contains(id))
        .filter(|id| {
            inv.get(id)
                .is_some_and(|p| p.kind == Kind::Library && p.scope == Scope::Required)
        })
        .collect()
}

/// An inventory of `projects` projects and one library per entry of `libraries` (its scope),
/// with `edges` between node numbers; numbers past the packages name identities that are not
/// packages.
fn build(
    projects: usize,
    libraries: &[u8],
    edges: &[(usize, usize)],
) -> (Inventory, Vec<PackageId>) {
    let mut inv = Inventory::new();
    let mut ids = Vec::new();
    for i in 0..projects {
        ids.push(inv.add_root(Package::new(Ecosystem::Npm, format!("project-{i}"))));
    }
    for (i, scope) in libraries.iter().enumerate() {
        // Named in reverse, so that the order packages are added in is not identity order.
        let name = format!("lib-{:02}", libraries.len() - i);
        let mut p = Package::new(Ecosystem::Npm, name).version("1.0.0");
        p.scope = match scope % 3 {
            0 => Scope::Required,
            1 => Scope::Dev,
            _ => Scope::Optional,
        };
        ids.push(inv.add(p));
    }
    for i in 0..4 {
        ids.push(PackageId(format!("npm:ghost-{i}")));
    }
    for &(from, to) in edges {
        if let (Some(f), Some(t)) = (ids.get(from % ids.len()), ids.get(to % ids.len())) {
            inv.depend(f, t);
        }
    }
    (inv, ids)
}

fn scopes(inv: &Inventory) -> Vec<(PackageId, Scope)> {
    inv.packages()
        .map(|(id, p)| (id.clone(), p.scope))
        .collect()
}

proptest! {
    #[test]
    fn attach_unreachable_attaches_what_the_identity_walk_does(
        projects in 1usize..4,
        libraries in prop::collection::vec(0u8..3, 0..24),
        edges in prop::collection::vec((0usize..40, 0usize..40), 0..60),
        root_pick in 0usize..8,
    ) {
        let (inv, ids) = build(projects, &libraries, &edges);
        // The root is usually a project, sometimes a library or an identity without a package.
        let root = ids.get(root_pick % ids.len()).cloned().unwrap_or(PackageId("npm:none".into()));
        let mut expected = inv.clone();
        for id in reference_unreachable(&inv, &root) {
            expected.depend(&root, &id);
        }
        let mut got = inv.clone();
        got.attach_unreachable(&root);
        let edges = |i: &Inventory| i.edges().map(|(a, b)| (a.clone(), b.clone())).collect::<Vec<_>>();
        prop_assert_eq!(edges(&got), edges(&expected));
    }

    #[test]
    fn package_adjacency_is_adjacency_without_what_is_not_a_package(
        projects in 1usize..4,
        libraries in prop::collection::vec(0u8..3, 0..24),
        edges in prop::collection::vec((0usize..40, 0usize..40), 0..60),
    ) {
        let (inv, _) = build(projects, &libraries, &edges);
        let expected: Vec<(PackageId, Vec<PackageId>)> = inv
            .adjacency()
            .filter(|(from, _)| inv.get(from).is_some())
            .map(|(from, tos)| {
                (from.clone(), tos.filter(|to| inv.get(to).is_some()).cloned().collect())
            })
            .collect();
        let got: Vec<(PackageId, Vec<PackageId>)> = inv
            .package_adjacency()
            .map(|(from, tos)| (from.clone(), tos.cloned().collect()))
            .collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn mark_dev_only_marks_what_the_identity_walk_does(
        projects in 1usize..4,
        libraries in prop::collection::vec(0u8..3, 0..24),
        edges in prop::collection::vec((0usize..40, 0usize..40), 0..60),
        prod in prop::collection::vec(0usize..40, 0..6),
        dev in prop::collection::vec(0usize..40, 0..6),
    ) {
        let (inv, ids) = build(projects, &libraries, &edges);
        let pick = |v: &[usize]| v.iter().filter_map(|i| ids.get(i % ids.len()).cloned()).collect::<Vec<_>>();
        let (prod, dev) = (pick(&prod), pick(&dev));
        let mut expected = inv.clone();
        for id in reference_dev_only(&inv, &prod, &dev) {
            if let Some(p) = expected.get_mut(&id) {
                p.scope = Scope::Dev;
            }
        }
        let mut got = inv.clone();
        got.mark_dev_only(&prod, &dev);
        prop_assert_eq!(scopes(&got), scopes(&expected));
    }
}

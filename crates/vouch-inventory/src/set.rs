//! [`SortedSet`]: the small ordered sets a package carries (digests, licences, evidence).

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::fmt;

/// An ordered set kept as a sorted vector without repeats.
///
/// A package holds one digest, one licence and one place of evidence far more often than
/// several. `BTreeSet` allocates a node with room for eleven elements for the first one
/// (about 370 bytes for a digest), so on a lockfile of a thousand packages those sets alone
/// took over a megabyte of heap. This set allocates what it holds, and iterates in the same
/// order as `BTreeSet`: ascending, each value once.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SortedSet<T>(Vec<T>);

impl<T> SortedSet<T> {
    /// An empty set; allocates nothing.
    pub const fn new() -> Self {
        SortedSet(Vec::new())
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values in ascending order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// The smallest value.
    pub fn first(&self) -> Option<&T> {
        self.0.first()
    }

    /// The largest value.
    pub fn last(&self) -> Option<&T> {
        self.0.last()
    }
}

impl<T: Ord> SortedSet<T> {
    /// Adds `value`; `false` (and the set unchanged) when an equal value is already there.
    pub fn insert(&mut self, value: T) -> bool {
        // Values often arrive in order (a lockfile's digests are sorted): then the new one
        // goes at the end without a search.
        if self.0.last().is_none_or(|last| *last < value) {
            self.0.push(value);
            return true;
        }
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, value);
                true
            }
        }
    }

    /// Whether a value equal to `value` is in the set.
    pub fn contains<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.position(value).is_ok()
    }

    /// Removes the value equal to `value`; `false` when there is none.
    pub fn remove<Q>(&mut self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self.position(value) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    fn position<Q>(&self, value: &Q) -> Result<usize, usize>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.binary_search_by(|v| v.borrow().cmp(value))
    }
}

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for SortedSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(&self.0).finish()
    }
}

impl<T: Ord> Extend<T> for SortedSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        for v in values {
            self.insert(v);
        }
    }
}

impl<'a, T: Ord + Clone + 'a> Extend<&'a T> for SortedSet<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, values: I) {
        self.extend(values.into_iter().cloned());
    }
}

impl<T: Ord> FromIterator<T> for SortedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        let mut v: Vec<T> = values.into_iter().collect();
        // Stable, so that of equal values the first is kept, as `BTreeSet::insert` keeps it.
        v.sort();
        v.dedup();
        SortedSet(v)
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for SortedSet<T> {
    fn from(values: [T; N]) -> Self {
        values.into_iter().collect()
    }
}

impl<T: Ord> From<BTreeSet<T>> for SortedSet<T> {
    fn from(values: BTreeSet<T>) -> Self {
        // Already ascending and without repeats.
        SortedSet(values.into_iter().collect())
    }
}

impl<T> IntoIterator for SortedSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any sequence of inserts, removals and bulk builds leaves the set holding and
        /// iterating exactly what a `BTreeSet` would, and each call answers as it would.
        #[test]
        fn behaves_as_a_btreeset(ops in proptest::collection::vec((0u8..4, 0u8..20), 0..60)) {
            let mut ours = SortedSet::new();
            let mut std = BTreeSet::new();
            for (op, v) in ops {
                match op {
                    0 | 1 => prop_assert_eq!(ours.insert(v), std.insert(v)),
                    2 => prop_assert_eq!(ours.remove(&v), std.remove(&v)),
                    _ => prop_assert_eq!(ours.contains(&v), std.contains(&v)),
                }
                prop_assert!(ours.iter().eq(std.iter()));
                prop_assert_eq!(ours.len(), std.len());
                prop_assert_eq!(ours.first(), std.first());
                prop_assert_eq!(ours.last(), std.last());
            }
            let rebuilt: SortedSet<u8> = std.iter().rev().copied().chain(std.iter().copied()).collect();
            prop_assert!(rebuilt.iter().eq(std.iter()));
        }
    }

    #[test]
    fn borrowed_lookups_and_debug() {
        let mut s: SortedSet<String> = ["b".to_owned(), "a".to_owned(), "b".to_owned()].into();
        assert_eq!(s.len(), 2);
        assert!(s.contains("a"));
        assert!(s.remove("a"));
        assert!(!s.contains("a"));
        assert_eq!(format!("{s:?}"), r#"{"b"}"#);
    }
}

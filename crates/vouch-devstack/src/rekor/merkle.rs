//! RFC 6962 Merkle tree hashing and proofs, over a tree that keeps every complete subtree.
//!
//! Specification: RFC 6962 section 2.1 (Merkle Hash Trees, `MTH`, `PATH`, `PROOF`), the same
//! definitions that RFC 9162 section 2.1 restates.
//!
//! [`Tree`] stores, for every level `k`, the hashes of the complete aligned subtrees of `2^k`
//! leaves (level 0 holds the leaf hashes). Appending a leaf completes at most one subtree per
//! level, so an append costs `O(log n)` hashes, and the hash of any range the RFC's recursion
//! asks for is either one stored node or a split into two smaller ranges: roots and proofs for
//! any tree size up to the current one cost `O(log² n)` hashes and never a pass over the leaves.

use aws_lc_rs::digest::{Context, SHA256};

/// A SHA-256 node or leaf hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`: the hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0]);
    ctx.update(data);
    finish(ctx)
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

/// The root of the empty tree: `SHA-256()` of nothing.
pub fn empty_root() -> Hash {
    finish(Context::new(&SHA256))
}

fn finish(ctx: Context) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The largest power of two strictly less than `n` (`n >= 2`): the RFC's split point `k`.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// An append-only Merkle tree holding every complete subtree hash.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index * 2^level`, once the tree holds all of them: the hashes C2SP tlog-tiles serves.
    pub fn subtree(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }

    /// Appends a leaf hash, completing the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut carry = leaf;
        for level in 0.. {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(carry);
            if row.len() % 2 != 0 {
                return;
            }
            match row.get(row.len() - 2..) {
                Some([left, right]) => carry = node_hash(left, right),
                _ => return,
            }
        }
    }

    /// `MTH(D[0:size])`, for `size` up to the current size.
    pub fn root(&self, size: u64) -> Option<Hash> {
        if size == 0 {
            return Some(empty_root());
        }
        if size > self.size() {
            return None;
        }
        self.range(0, size)
    }

    /// `PATH(index, D[0:size])`: the audit path of leaf `index` in the tree of `size` leaves,
    /// from the leaf's sibling up.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if index >= size || size > self.size() {
            return None;
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out)?;
        Some(out)
    }

    /// `PROOF(old, D[0:new])`: the consistency proof between the trees of `old` and `new`
    /// leaves. Empty when `old` is 0 or equals `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Option<Vec<Hash>> {
        if old > new || new > self.size() {
            return None;
        }
        let mut out = Vec::new();
        if old == 0 || old == new {
            return Some(out);
        }
        self.subproof(old, 0, new, true, &mut out)?;
        Some(out)
    }

    /// `MTH(D[start:end])`, `start < end <= size`.
    fn range(&self, start: u64, end: u64) -> Option<Hash> {
        let n = end.checked_sub(start)?;
        if n == 0 {
            return None;
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = usize::try_from(n.trailing_zeros()).ok()?;
            let i = usize::try_from(start >> n.trailing_zeros()).ok()?;
            return self.levels.get(level)?.get(i).copied();
        }
        let k = split(n);
        let left = self.range(start, start + k)?;
        let right = self.range(start + k, end)?;
        Some(node_hash(&left, &right))
    }

    /// RFC 6962 `PATH(m, D[start:end])`, with `m` absolute.
    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Option<()> {
        let n = end - start;
        if n <= 1 {
            return Some(());
        }
        let k = split(n);
        if m < start + k {
            self.path(m, start, start + k, out)?;
            out.push(self.range(start + k, end)?);
        } else {
            self.path(m, start + k, end, out)?;
            out.push(self.range(start, start + k)?);
        }
        Some(())
    }

    /// RFC 6962 `SUBPROOF(m, D[start:end], b)`, with `m` relative to `start`.
    fn subproof(
        &self,
        m: u64,
        start: u64,
        end: u64,
        whole: bool,
        out: &mut Vec<Hash>,
    ) -> Option<()> {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.range(start, end)?);
            }
            return Some(());
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out)?;
            out.push(self.range(start + k, end)?);
        } else {
            self.subproof(m - k, start + k, end, false, out)?;
            out.push(self.range(start, start + k)?);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Reference implementations written straight from RFC 6962 section 2.1, over the list of
    // leaf inputs, with no caching.
    fn mth(d: &[Vec<u8>]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => leaf_hash(&d[0]),
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
        let n = d.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n as u64) as usize;
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { Vec::new() } else { vec![mth(d)] };
        }
        let k = split(n as u64) as usize;
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
    }

    fn tree_of(d: &[Vec<u8>]) -> Tree {
        let mut t = Tree::new();
        for leaf in d {
            t.push(leaf_hash(leaf));
        }
        t
    }

    fn sh(h: &Hash) -> sigstore_types::Sha256Hash {
        sigstore_types::Sha256Hash::new(*h)
    }

    #[test]
    fn rfc6962_empty_and_single_leaf() {
        // RFC 6962 2.1: MTH({}) = SHA-256(), MTH({d0}) = SHA-256(0x00 || d0).
        assert_eq!(
            vouch_hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            vouch_hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    fn vouch_hex(h: &[u8]) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn roots_and_proofs_match_the_definitions_for_sizes_1_to_64() {
        let all = leaves(64);
        let tree = tree_of(&all);
        for n in 1..=64usize {
            let d = &all[..n];
            let root = tree.root(n as u64).unwrap();
            assert_eq!(root, mth(d), "root of size {n}");
            for m in 0..n {
                let proof = tree.inclusion_proof(m as u64, n as u64).unwrap();
                assert_eq!(proof, path(m, d), "PATH({m}, {n})");
                let hashes: Vec<_> = proof.iter().map(sh).collect();
                sigstore_merkle::verify_inclusion_proof(
                    &sh(&leaf_hash(&d[m])),
                    m as u64,
                    n as u64,
                    &hashes,
                    &sh(&root),
                )
                .unwrap();
            }
            for m in 1..=n {
                let proof = tree.consistency_proof(m as u64, n as u64).unwrap();
                let expected = if m == n {
                    Vec::new()
                } else {
                    subproof(m, d, true)
                };
                assert_eq!(proof, expected, "PROOF({m}, {n})");
                let hashes: Vec<_> = proof.iter().map(sh).collect();
                sigstore_merkle::verify_consistency_proof(
                    m as u64,
                    n as u64,
                    &hashes,
                    &sh(&mth(&d[..m])),
                    &sh(&root),
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn subtrees_are_the_hashes_of_complete_aligned_ranges() {
        let all = leaves(37);
        let tree = tree_of(&all);
        for level in 0..6u32 {
            let width = 1usize << level;
            for index in 0..=(37 / width) {
                let expected = all.get(index * width..(index + 1) * width).map(mth);
                assert_eq!(
                    tree.subtree(level, index as u64),
                    expected,
                    "{level}/{index}"
                );
            }
        }
        assert_eq!(tree.subtree(6, 0), None);
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        let tree = tree_of(&leaves(5));
        assert!(tree.root(6).is_none());
        assert!(tree.inclusion_proof(5, 5).is_none());
        assert!(tree.inclusion_proof(0, 6).is_none());
        assert!(tree.consistency_proof(4, 3).is_none());
        assert!(tree.consistency_proof(3, 6).is_none());
        assert_eq!(tree.root(0), Some(empty_root()));
    }

    proptest! {
        #[test]
        fn any_proof_in_a_larger_tree_verifies(n in 1usize..300, m_seed in any::<u64>(), old_seed in any::<u64>()) {
            let all = leaves(n);
            let tree = tree_of(&all);
            let m = (m_seed % n as u64) as usize;
            let old = 1 + (old_seed % n as u64) as usize;
            prop_assert_eq!(tree.root(n as u64).unwrap(), mth(&all));
            prop_assert_eq!(tree.inclusion_proof(m as u64, n as u64).unwrap(), path(m, &all));
            let expected = if old == n { Vec::new() } else { subproof(old, &all, true) };
            prop_assert_eq!(tree.consistency_proof(old as u64, n as u64).unwrap(), expected);
        }
    }
}

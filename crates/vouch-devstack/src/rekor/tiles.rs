//! C2SP tlog-tiles (c2sp.org/tlog-tiles): the Merkle tree as tiles of 256 hashes, and the
//! entries as bundles of 256, at `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
//!
//! The `n`-th tile at level `l` holds, for `i` in `0..256`, the hashes
//! `MTH(D[(n * 256 + i) * 256^l : (n * 256 + i + 1) * 256^l])`: the complete subtrees of height
//! `8 * l` that [`Tree`] keeps anyway, so a tile is read, never computed. A partial tile
//! (`.p/<W>`) holds the first `W` hashes of its tile; since those never change once they exist,
//! the log serves a partial tile of any width its tree has reached, which covers every
//! checkpoint it signed. An entry bundle is its entries' bodies, each after its length as a
//! big-endian `uint16`.

use super::merkle::Tree;

/// Hashes in a full tile, and entries in a full bundle.
pub const WIDTH: u64 = 256;

/// Tree levels one tile level spans.
const HEIGHT: u32 = 8;

/// Highest tile level the spec allows.
const MAX_LEVEL: u8 = 63;

/// Most path elements an index takes: `u64::MAX` has 7 groups of 3 digits.
const MAX_INDEX_ELEMENTS: usize = 7;

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A tile of Merkle tree hashes at this tile level.
    Hashes {
        /// The tile level (`<L>`).
        level: u8,
    },
    /// An entry bundle.
    Entries,
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    /// Hash tile or entry bundle.
    pub resource: Resource,
    /// The tile's index within its level (`<N>`).
    pub index: u64,
    /// The width of a partial tile (`<W>`, 1 to 255), `None` for a full tile.
    pub partial: Option<u8>,
}

impl TilePath {
    /// Parses the part of a tile URL after `tile/`: `<L>/<N>[.p/<W>]` or
    /// `entries/<N>[.p/<W>]`, in exactly the spelling the spec gives each resource (no leading
    /// zeroes, zero-padded index groups, all but the last prefixed with `x`).
    pub fn parse(path: &str) -> Result<Self, String> {
        let mut elements: Vec<&str> = path.split('/').collect();
        if elements.len() < 2 {
            return Err(format!(
                "`{path}` is not a tile path: expected `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`"
            ));
        }
        let head = elements.remove(0);
        let resource = if head == "entries" {
            Resource::Entries
        } else {
            let level = decimal(head)
                .and_then(|l| u8::try_from(l).ok())
                .filter(|l| *l <= MAX_LEVEL)
                .ok_or_else(|| {
                    format!("tile level `{head}` is not a decimal from 0 to {MAX_LEVEL}")
                })?;
            Resource::Hashes { level }
        };
        // `.p/<W>` ends the last index element and adds one path element.
        let mut partial = None;
        if elements.len() >= 2
            && let Some(last_index) = elements
                .get(elements.len() - 2)
                .and_then(|e| e.strip_suffix(".p"))
        {
            let width = elements.pop().unwrap_or_default();
            partial = Some(
                decimal(width)
                    .and_then(|w| u8::try_from(w).ok())
                    .filter(|w| *w >= 1)
                    .ok_or_else(|| {
                        format!("partial tile width `{width}` is not a decimal from 1 to 255")
                    })?,
            );
            elements.pop();
            elements.push(last_index);
        }
        let index = index(&elements).ok_or_else(|| {
            format!(
                "`{}` is not a tile index such as `x001/x234/067`",
                elements.join("/")
            )
        })?;
        Ok(Self {
            resource,
            index,
            partial,
        })
    }

    /// How many hashes or entries the resource holds.
    pub fn width(&self) -> u64 {
        self.partial.map_or(WIDTH, u64::from)
    }
}

/// A decimal with no leading zeroes.
fn decimal(text: &str) -> Option<u64> {
    let canonical = text == "0" || (!text.starts_with('0') && !text.is_empty());
    if !canonical || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// An index in base-1000 groups of 3 digits, all but the last prefixed with `x`, with no
/// leading `x000` group (so that each index has one path).
fn index(elements: &[&str]) -> Option<u64> {
    let (last, groups) = elements.split_last()?;
    if groups.len() >= MAX_INDEX_ELEMENTS || groups.first() == Some(&"x000") {
        return None;
    }
    let group = |g: &str| -> Option<u64> {
        (g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
            .then(|| g.parse().ok())
            .flatten()
    };
    let mut value = 0u64;
    for g in groups {
        value = value
            .checked_mul(1000)?
            .checked_add(group(g.strip_prefix('x')?)?)?;
    }
    value.checked_mul(1000)?.checked_add(group(last)?)
}

/// The hashes of a tile, concatenated, once the tree holds all of them.
pub fn hash_tile(tree: &Tree, level: u8, index: u64, width: u64) -> Option<Vec<u8>> {
    let tree_level = u32::from(level).checked_mul(HEIGHT)?;
    let first = index.checked_mul(WIDTH)?;
    let mut out = Vec::with_capacity(usize::try_from(width).ok()? * 32);
    for i in 0..width {
        out.extend_from_slice(&tree.subtree(tree_level, first.checked_add(i)?)?);
    }
    Some(out)
}

/// An entry bundle from its entries' bodies, in order: each body after its length as a
/// big-endian `uint16`. `None` if a body is too long for the format (the log refuses such
/// entries, so a stored one means the state directory was edited).
pub fn entry_bundle(bodies: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bodies.iter().map(|b| b.len() + 2).sum());
    for body in bodies {
        out.extend_from_slice(&u16::try_from(body.len()).ok()?.to_be_bytes());
        out.extend_from_slice(body);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_as_the_spec_spells_them() {
        let ok = |p: &str| TilePath::parse(p).unwrap();
        assert_eq!(
            ok("0/000"),
            TilePath {
                resource: Resource::Hashes { level: 0 },
                index: 0,
                partial: None
            }
        );
        assert_eq!(ok("2/x001/x234/067").index, 1_234_067);
        assert_eq!(
            ok("2/x001/x234/067").resource,
            Resource::Hashes { level: 2 }
        );
        let p = ok("entries/x001/234.p/7");
        assert_eq!(
            (p.resource, p.index, p.partial),
            (Resource::Entries, 1234, Some(7))
        );
        assert_eq!(ok("0/005.p/255").width(), 255);
        assert_eq!(ok("1/999").width(), 256);
        assert_eq!(ok("63/x018/x446/x744/x073/x709/x551/615").index, u64::MAX);
        for bad in [
            "",
            "0",
            "00/000",
            "64/000",
            "-1/000",
            "0/0",
            "0/0000",
            "0/x000/001",
            "0/001/002",
            "0/x1/002",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/07",
            "0/000.p",
            "0/000.p/",
            "entries/",
            "entries/.p/3",
            "0/x018/x446/x744/x073/x709/x551/616",
            "0/x001/x018/x446/x744/x073/x709/x551/615",
            "tile/0/000",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bundles_prefix_each_entry_with_its_length() {
        assert_eq!(
            entry_bundle(&[b"ab".to_vec(), Vec::new(), b"c".to_vec()]).unwrap(),
            b"\x00\x02ab\x00\x00\x00\x01c"
        );
        assert!(entry_bundle(&[vec![0; 65_536]]).is_none());
    }
}

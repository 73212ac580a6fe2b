//! A read-only reader of the values in a Berkeley DB hash database, enough for rpm's legacy
//! `Packages` file (key: the 4-byte package instance number, value: the header blob).
//!
//! Format: Berkeley DB's on-disk page layout, as documented in its `dbinc/db_page.h` (page
//! header, hash items `H_KEYDATA` / `H_OFFPAGE`, overflow pages) and `dbinc/db_am.h`; see
//! <https://docs.oracle.com/cd/E17276_01/html/programmer_reference/am_conf.html> for the access
//! methods. The database is in the byte order of the machine that wrote it, which the
//! metadata page's magic number tells. Pages are scanned in file order rather than by bucket:
//! every hash page holds key/value pairs, and values too large for one page are on overflow
//! chains. Encrypted and checksummed databases are refused.

use crate::catalog::bytes::Endian;

/// Hash database magic number.
const HASH_MAGIC: u32 = 0x0006_1561;
/// Page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
/// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
/// Size of the generic page header.
const PAGE_HEADER: usize = 26;
/// Largest value accepted.
const MAX_VALUE: u32 = 256 << 20;

/// Calls `value(key, bytes)` for every key/value pair, in page order.
pub(crate) fn for_each_value<F>(data: &[u8], mut value: F) -> Result<(), String>
where
    F: FnMut(&[u8], Vec<u8>) -> Result<(), String>,
{
    let magic_le = le32(data, 12).ok_or("shorter than a Berkeley DB metadata page")?;
    let big = if magic_le == HASH_MAGIC {
        false
    } else if magic_le.swap_bytes() == HASH_MAGIC {
        true
    } else {
        return Err("not a Berkeley DB hash database".to_owned());
    };
    let e = Endian(big);
    let page_size = usize::try_from(e.u32(data, 20).ok_or("truncated metadata page")?)
        .map_err(|e| e.to_string())?;
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        return Err(format!(
            "page size {page_size} is not a power of two from 512 to 65536"
        ));
    }
    if data.get(24).is_some_and(|a| *a != 0) {
        return Err("the database is encrypted".to_owned());
    }
    if data.get(26).is_some_and(|f| f & 0x01 != 0) {
        return Err(
            "the database has page checksums, which this reader does not handle".to_owned(),
        );
    }
    let pages = data.len() / page_size;
    let page = |n: usize| data.get(n * page_size..(n + 1) * page_size);
    for pgno in 1..pages {
        let Some(p) = page(pgno) else { break };
        let kind = *p.get(25).unwrap_or(&0);
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = usize::from(e.u16(p, 20).unwrap_or(0));
        // Item i spans from its offset to the previous item's offset (or the page end).
        let offset = |i: usize| e.u16(p, PAGE_HEADER + 2 * i).map(usize::from);
        let mut i = 0;
        while i + 1 < entries {
            let (Some(koff), Some(voff)) = (offset(i), offset(i + 1)) else {
                return Err(format!("page {pgno}: item index runs past the page"));
            };
            let kend = if i == 0 {
                page_size
            } else {
                offset(i - 1).unwrap_or(0)
            };
            let key = p
                .get(koff..kend)
                .filter(|k| k.first() == Some(&H_KEYDATA))
                .and_then(|k| k.get(1..))
                .unwrap_or_default();
            let item = p
                .get(voff..koff)
                .ok_or_else(|| format!("page {pgno}: item {} is outside the page", i + 1))?;
            let bytes = match item.first() {
                Some(&H_KEYDATA) => item.get(1..).unwrap_or_default().to_vec(),
                Some(&H_OFFPAGE) => {
                    let (Some(first), Some(len)) = (e.u32(item, 4), e.u32(item, 8)) else {
                        return Err(format!("page {pgno}: truncated off-page item"));
                    };
                    overflow(data, page_size, &e, first, len)
                        .map_err(|m| format!("page {pgno}: {m}"))?
                }
                // Duplicates do not occur in rpm's database; other items are not values.
                _ => {
                    i += 2;
                    continue;
                }
            };
            value(key, bytes)?;
            i += 2;
        }
    }
    Ok(())
}

/// Reads `len` bytes from the overflow chain starting at page `first`.
fn overflow(
    data: &[u8],
    page_size: usize,
    e: &Endian,
    first: u32,
    len: u32,
) -> Result<Vec<u8>, String> {
    if len > MAX_VALUE {
        return Err(format!(
            "value of {len} bytes, more than the {MAX_VALUE} read"
        ));
    }
    let total = usize::try_from(len).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(total.min(data.len()));
    let mut next = first;
    // Each page adds at least one byte, so a chain longer than the value is a cycle.
    let mut hops = 0usize;
    while out.len() < total {
        hops += 1;
        if next == 0 || hops > total {
            return Err(format!(
                "overflow chain ends after {} of {total} bytes",
                out.len()
            ));
        }
        let start = usize::try_from(next).map_err(|e| e.to_string())? * page_size;
        let p = data
            .get(start..start + page_size)
            .ok_or_else(|| format!("overflow page {next} is outside the file"))?;
        if p.get(25) != Some(&P_OVERFLOW) {
            return Err(format!("page {next} is not an overflow page"));
        }
        let here = usize::from(e.u16(p, 22).unwrap_or(0));
        if here == 0 {
            return Err(format!("overflow page {next} is empty"));
        }
        let chunk = p
            .get(PAGE_HEADER..PAGE_HEADER + here)
            .ok_or_else(|| format!("overflow page {next} claims {here} bytes"))?;
        out.extend_from_slice(
            chunk
                .get(..(total - out.len()).min(here))
                .unwrap_or_default(),
        );
        next = e.u32(p, 16).unwrap_or(0);
    }
    Ok(out)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(a))
}

//! A reader of rpm's own "ndb" package database, `Packages.db` (SUSE, openSUSE).
//!
//! Format: rpm's `lib/backend/ndb/rpmpkg.c`
//! (<https://github.com/rpm-software-management/rpm/blob/master/lib/backend/ndb/rpmpkg.c>), all
//! integers little-endian. A 32-byte header (`RpmP`, version 0, generation, number of 4096-byte
//! slot pages), then the slot pages: 16-byte slots (`Slot`, package index, block offset, block
//! count; offset 0 is a free slot), the first two slots of page 0 being the header. Blocks are
//! 16 bytes. A blob starts at its slot's block: `BlbS`, package index, timestamp, length, the
//! header blob, zero padding, then a tail of an Adler-32 over everything before it, the length
//! again and `BlbE`; the block count covers exactly head, blob and tail, rounded up.

/// The header's magic, `RpmP`.
const DB_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const HEAD_MAGIC: &[u8; 4] = b"BlbS";
const TAIL_MAGIC: &[u8; 4] = b"BlbE";
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: u64 = 16;
const HEAD: u64 = 16;
const TAIL: u64 = 12;
/// Most slot pages accepted (256 slots each).
const MAX_SLOT_PAGES: u32 = 4096;

/// Calls `blob(index, bytes)` for every package, in slot order. A damaged blob is reported
/// through `bad(index, message)` and skipped; a damaged header or slot table is an error.
pub(crate) fn for_each_blob<F, B>(data: &[u8], mut blob: F, mut bad: B) -> Result<(), String>
where
    F: FnMut(u32, &[u8]) -> Result<(), String>,
    B: FnMut(u32, String),
{
    if data.get(..4) != Some(DB_MAGIC.as_slice()) {
        return Err("not an rpm ndb database (no `RpmP` magic)".to_owned());
    }
    let version = le32(data, 4).ok_or("truncated header")?;
    if version != 0 {
        return Err(format!("ndb version {version}; only version 0 is read"));
    }
    let slot_pages = le32(data, 12).ok_or("truncated header")?;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        return Err(format!(
            "{slot_pages} slot pages (1 to {MAX_SLOT_PAGES} allowed)"
        ));
    }
    let slots_end = usize::try_from(slot_pages).map_err(|e| e.to_string())? * PAGE;
    let table = data
        .get(..slots_end)
        .ok_or_else(|| format!("{slot_pages} slot pages run past the end of the file"))?;
    let file_blocks = data.len() as u64 / BLOCK;
    let first_data_block = u64::from(slot_pages) * (PAGE as u64 / BLOCK);
    // Slots 0 and 1 are the database header.
    for (n, slot) in table.chunks_exact(SLOT).enumerate().skip(2) {
        if slot.get(..4) != Some(SLOT_MAGIC.as_slice()) {
            return Err(format!("slot {n} has no `Slot` magic"));
        }
        let (Some(index), Some(offset), Some(count)) =
            (le32(slot, 4), le32(slot, 8), le32(slot, 12))
        else {
            return Err(format!("slot {n} is truncated"));
        };
        if offset == 0 {
            continue;
        }
        let (offset, count_u64) = (u64::from(offset), u64::from(count));
        if index == 0 || count == 0 || offset < first_data_block {
            return Err(format!(
                "slot {n} is invalid (package {index}, block {offset}, {count} blocks)"
            ));
        }
        if offset + count_u64 > file_blocks {
            return Err(format!(
                "slot {n}: package {index}'s blob runs past the end of the file"
            ));
        }
        match read_blob(data, index, offset, count_u64) {
            Ok(bytes) => blob(index, bytes)?,
            Err(message) => bad(index, message),
        }
    }
    Ok(())
}

/// The blob of package `index` in blocks `offset..offset + count` (inside the file).
fn read_blob(data: &[u8], index: u32, offset: u64, count: u64) -> Result<&[u8], String> {
    let start = usize::try_from(offset * BLOCK).map_err(|e| e.to_string())?;
    let end = usize::try_from((offset + count) * BLOCK).map_err(|e| e.to_string())?;
    let region = data.get(start..end).ok_or("blob outside the file")?;
    if region.get(..4) != Some(HEAD_MAGIC.as_slice()) {
        return Err("blob has no `BlbS` magic".to_owned());
    }
    if le32(region, 4) != Some(index) {
        return Err("blob belongs to another package".to_owned());
    }
    let len = le32(region, 12).ok_or("truncated blob head")?;
    if count != (HEAD + u64::from(len) + TAIL).div_ceil(BLOCK) {
        return Err(format!("blob length {len} does not fit its {count} blocks"));
    }
    let tail_at = region.len() - TAIL as usize;
    let tail = region.get(tail_at..).ok_or("truncated blob tail")?;
    if tail.get(8..12) != Some(TAIL_MAGIC.as_slice()) || le32(tail, 4) != Some(len) {
        return Err("blob tail does not match its head".to_owned());
    }
    let covered = region.get(..tail_at).ok_or("truncated blob")?;
    if le32(tail, 0) != Some(adler32(covered)) {
        return Err("blob checksum (Adler-32) does not match".to_owned());
    }
    let body_end = HEAD as usize + usize::try_from(len).map_err(|e| e.to_string())?;
    region
        .get(HEAD as usize..body_end)
        .ok_or_else(|| "blob runs past its blocks".to_owned())
}

/// Adler-32 (RFC 1950 §8.2).
fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before the u32 sums could overflow.
    for chunk in bytes.chunks(5552) {
        for byte in chunk {
            a += u32::from(*byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_known_value() {
        // RFC 1950's algorithm on "Wikipedia", a widely quoted example: 0x11E60398.
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
    }
}

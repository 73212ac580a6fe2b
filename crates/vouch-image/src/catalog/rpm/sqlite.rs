//! A read-only walker over one table of an SQLite database file, enough for rpm's
//! `rpmdb.sqlite` (`Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`).
//!
//! Format: <https://www.sqlite.org/fileformat2.html> — the database header (§1.3), b-tree
//! pages (§1.6), cell payloads and overflow pages (§1.6 "Cell Payload Overflow Pages"), the
//! record format (§2.1) and the schema table (§2.6). Only what a table scan needs: no indexes,
//! no WAL (a `-wal` file is a separate file; rpm checkpoints it when it closes the database),
//! no UTF-16 databases.
//!
//! Every page is visited at most once (a bitmap), so a corrupt file with cycles in its b-tree
//! or overflow chains cannot make the walk loop, and the work is bounded by the file's size.

/// Largest record payload accepted (an rpm header is rarely over a few MiB).
const MAX_PAYLOAD: u64 = 256 << 20;

/// A database held in memory.
pub(crate) struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: u32,
}

/// A column value; text and blobs borrow the assembled payload.
#[derive(Debug, PartialEq)]
pub(crate) enum Value<'p> {
    Null,
    Int(i64),
    Float,
    Text(&'p [u8]),
    Blob(&'p [u8]),
}

impl<'a> Db<'a> {
    /// Checks the header and returns the database.
    pub(crate) fn open(data: &'a [u8]) -> Result<Db<'a>, String> {
        if !data.starts_with(b"SQLite format 3\0") {
            return Err("not an SQLite 3 database".to_owned());
        }
        let raw = be16(data, 16).ok_or("truncated database header")?;
        let page_size = if raw == 1 { 65536 } else { usize::from(raw) };
        if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
            return Err(format!(
                "page size {page_size} is not a power of two from 512 to 65536"
            ));
        }
        let reserved = usize::from(*data.get(20).ok_or("truncated database header")?);
        let usable = page_size - reserved;
        if usable < 480 {
            return Err(format!("usable page size {usable} is under 480"));
        }
        if be32(data, 56) != Some(1) && be32(data, 56) != Some(0) {
            return Err("the database is UTF-16; only UTF-8 databases are read".to_owned());
        }
        let pages = u32::try_from(data.len() / page_size).unwrap_or(u32::MAX);
        Ok(Db {
            data,
            page_size,
            usable,
            pages,
        })
    }

    /// The root page of table `name`, from the schema table.
    pub(crate) fn table_root(&self, name: &str) -> Result<Option<u32>, String> {
        let mut root = None;
        self.walk_table(1, |_, payload| {
            let cols = record(payload)?;
            if let (Some(Value::Text(b"table")), Some(Value::Text(n)), Some(Value::Int(r))) =
                (cols.first(), cols.get(1), cols.get(3))
                && n.eq_ignore_ascii_case(name.as_bytes())
                && root.is_none()
            {
                root = u32::try_from(*r).ok();
            }
            Ok(())
        })?;
        Ok(root)
    }

    /// Calls `row(rowid, payload)` for every row of the table whose b-tree starts at `root`,
    /// in rowid order.
    pub(crate) fn walk_table<F>(&self, root: u32, mut row: F) -> Result<(), String>
    where
        F: FnMut(i64, &[u8]) -> Result<(), String>,
    {
        let mut visited = vec![false; usize::try_from(self.pages).unwrap_or(0) + 1];
        // Pages to visit, last first: children are pushed in reverse so rows come in order.
        let mut stack = vec![root];
        while let Some(pgno) = stack.pop() {
            let page = self.page(pgno, &mut visited)?;
            let at = if pgno == 1 { 100 } else { 0 };
            let kind = *page.get(at).ok_or("truncated page")?;
            let cells = usize::from(be16(page, at + 3).ok_or("truncated page header")?);
            match kind {
                0x0d => {
                    for i in 0..cells {
                        let ptr = usize::from(be16(page, at + 8 + 2 * i).ok_or_else(|| {
                            format!("page {pgno}: cell pointer {i} is outside the page")
                        })?);
                        let (rowid, payload) = self
                            .leaf_cell(page, ptr, &mut visited)
                            .map_err(|e| format!("page {pgno} cell {i}: {e}"))?;
                        row(rowid, &payload)?;
                    }
                }
                0x05 => {
                    let right = be32(page, at + 8).ok_or("truncated page header")?;
                    stack.push(right);
                    let mut children = Vec::with_capacity(cells);
                    for i in 0..cells {
                        let child = usize::from(be16(page, at + 12 + 2 * i).ok_or_else(|| {
                            format!("page {pgno}: cell pointer {i} is outside the page")
                        })?);
                        children.push(
                            be32(page, child).ok_or_else(|| {
                                format!("page {pgno}: cell {i} is outside the page")
                            })?,
                        );
                    }
                    stack.extend(children.into_iter().rev());
                }
                other => {
                    return Err(format!(
                        "page {pgno} has type {other:#04x}, not a table b-tree page"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Page `pgno`, marking it visited; a page seen before is an error (a cycle).
    fn page(&self, pgno: u32, visited: &mut [bool]) -> Result<&'a [u8], String> {
        let seen = usize::try_from(pgno)
            .ok()
            .filter(|n| *n >= 1)
            .and_then(|n| visited.get_mut(n))
            .ok_or_else(|| format!("page {pgno} is outside the {}-page file", self.pages))?;
        if *seen {
            return Err(format!("page {pgno} is reached twice (a cycle)"));
        }
        *seen = true;
        let start = (usize::try_from(pgno).map_err(|e| e.to_string())? - 1) * self.page_size;
        self.data
            .get(start..start + self.page_size)
            .ok_or_else(|| format!("page {pgno} is outside the file"))
    }

    /// A table leaf cell: rowid and full payload (overflow pages followed).
    fn leaf_cell(
        &self,
        page: &[u8],
        ptr: usize,
        visited: &mut [bool],
    ) -> Result<(i64, Vec<u8>), String> {
        let cell = page.get(ptr..).ok_or("cell pointer outside the page")?;
        let (size, n1) = varint(cell).ok_or("bad payload size")?;
        let (rowid, n2) = varint(cell.get(n1..).unwrap_or_default()).ok_or("bad rowid")?;
        if size > MAX_PAYLOAD {
            return Err(format!(
                "payload of {size} bytes, more than the {MAX_PAYLOAD} read"
            ));
        }
        let total = usize::try_from(size).map_err(|e| e.to_string())?;
        let u = self.usable;
        let x = u - 35;
        let local = if total <= x {
            total
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((total - m) % (u - 4));
            if k <= x { k } else { m }
        };
        let body = cell.get(n1 + n2..).unwrap_or_default();
        let mut payload = Vec::with_capacity(total);
        payload.extend_from_slice(body.get(..local).ok_or("payload runs past the page")?);
        let mut next = if local < total {
            be32(body, local).ok_or("overflow pointer runs past the page")?
        } else {
            0
        };
        while payload.len() < total {
            if next == 0 {
                return Err(format!(
                    "overflow chain ends after {} of {total} bytes",
                    payload.len()
                ));
            }
            let page = self.page(next, visited)?;
            let want = (total - payload.len()).min(u - 4);
            payload.extend_from_slice(page.get(4..4 + want).ok_or("truncated overflow page")?);
            next = be32(page, 0).ok_or("truncated overflow page")?;
        }
        Ok((rowid as i64, payload))
    }
}

/// Decodes a record (header of serial types, then values).
pub(crate) fn record(payload: &[u8]) -> Result<Vec<Value<'_>>, String> {
    let (header_len, mut at) = varint(payload).ok_or("bad record header")?;
    let header_len = usize::try_from(header_len).map_err(|e| e.to_string())?;
    let header = payload
        .get(..header_len)
        .ok_or("record header runs past the payload")?;
    let mut body = header_len;
    let mut out = Vec::new();
    while at < header_len {
        let (ty, n) = varint(header.get(at..).unwrap_or_default()).ok_or("bad serial type")?;
        at += n;
        let len: usize = match ty {
            0 | 8 | 9 => 0,
            1..=4 => usize::try_from(ty).unwrap_or(0),
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(format!("reserved serial type {ty}")),
            t => usize::try_from((t - 12) / 2).map_err(|e| e.to_string())?,
        };
        let bytes = payload
            .get(body..body.checked_add(len).ok_or("record too long")?)
            .ok_or("record value runs past the payload")?;
        body += len;
        out.push(match ty {
            0 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            1..=6 => Value::Int(be_signed(bytes)),
            7 => Value::Float,
            t if t % 2 == 0 => Value::Blob(bytes),
            _ => Value::Text(bytes),
        });
    }
    Ok(out)
}

/// A big-endian two's-complement integer of 1 to 8 bytes.
fn be_signed(bytes: &[u8]) -> i64 {
    let mut v: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    for b in bytes {
        v = (v << 8) | i64::from(*b);
    }
    v
}

/// SQLite's varint: big-endian, seven bits a byte with the high bit set to continue, the ninth
/// byte contributing all eight bits.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let a: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(a))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x7f]), Some((127, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }

    #[test]
    fn records() {
        // header 4 bytes: NULL, int8, text of 3; then values.
        let rec = [4u8, 0, 1, 19, 0xfe, b'a', b'b', b'c'];
        assert_eq!(
            record(&rec).unwrap(),
            vec![Value::Null, Value::Int(-2), Value::Text(b"abc")]
        );
        assert!(record(&[4u8, 0, 1, 19, 0xfe, b'a']).is_err());
        assert!(record(&[9u8, 0]).is_err());
    }
}

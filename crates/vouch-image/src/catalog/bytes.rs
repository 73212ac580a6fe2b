//! Bounds-checked integer reads shared by the binary-format catalogers (ELF, Berkeley DB).

/// Reads fixed-size integers of a byte order chosen at run time (`true`: big-endian), at an
/// offset, returning `None` past the end.
pub(crate) struct Endian(pub(crate) bool);

impl Endian {
    pub(crate) fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.0 {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
    pub(crate) fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.0 {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    pub(crate) fn u64(&self, b: &[u8], at: usize) -> Option<u64> {
        let a: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(if self.0 {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }
}

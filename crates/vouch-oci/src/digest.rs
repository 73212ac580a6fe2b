//! SHA-256 content digests, as the OCI image specification writes them (`sha256:<hex>`).
//!
//! Specification: <https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md#digests>.

use aws_lc_rs::digest::{Context, SHA256};

/// The `sha256:<hex>` digest of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    hasher.finish()
}

/// A streaming SHA-256 that ends in the OCI `sha256:<hex>` form.
pub struct Sha256(Context);

impl Sha256 {
    /// A hasher over no bytes yet.
    pub fn new() -> Sha256 {
        Sha256(Context::new(&SHA256))
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// `sha256:<hex>` of everything added.
    pub fn finish(self) -> String {
        let digest = self.0.finish();
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        for byte in digest.as_ref() {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
        out
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

/// The tag the referrers tag schema and cosign derive from a digest: `sha256:<hex>` becomes
/// `sha256-<hex>`.
///
/// Specification: <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema>.
pub fn digest_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_digest() {
        assert_eq!(
            sha256_digest(b"{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(digest_tag("sha256:abc"), "sha256-abc");
    }
}

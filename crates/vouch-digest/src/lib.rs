//! Digest algorithms and their textual forms.
//!
//! Lockfiles record integrity in several spellings: Subresource Integrity
//! (<https://www.w3.org/TR/SRI/>, `sha512-<base64>`), `sha256:<hex>`, `sha256=<hex>`, or a bare
//! hex string whose algorithm the format implies. [`Digest`] is the one normalised form: an
//! algorithm and the lowercase hex of the raw digest bytes.

#![forbid(unsafe_code)]

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use base64::Engine as _;

/// A digest algorithm that lockfiles and SBOMs name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// MD5: broken, recorded only so that checks can flag it.
    Md5,
    /// SHA-1: broken for collision resistance, recorded so that checks can flag it.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The lowercase name used in `alg:hex` and SRI forms.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the raw digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    /// Whether the algorithm is still considered collision resistant.
    pub fn is_strong(self) -> bool {
        matches!(
            self,
            Algorithm::Sha256 | Algorithm::Sha384 | Algorithm::Sha512
        )
    }

    fn aws(self) -> Option<&'static aws_lc_rs::digest::Algorithm> {
        use aws_lc_rs::digest;
        match self {
            Algorithm::Md5 => None,
            Algorithm::Sha1 => Some(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            Algorithm::Sha256 => Some(&digest::SHA256),
            Algorithm::Sha384 => Some(&digest::SHA384),
            Algorithm::Sha512 => Some(&digest::SHA512),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = DigestError;

    /// Names are matched ignoring ASCII case and `-` (`SHA-256`, `sha256`), without allocating:
    /// every integrity field of a lockfile goes through here.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut folded = [0u8; 8];
        let mut len = 0;
        for b in s.bytes().filter(|b| *b != b'-') {
            match folded.get_mut(len) {
                Some(slot) => *slot = b.to_ascii_lowercase(),
                None => return Err(DigestError::UnknownAlgorithm(s.to_owned())),
            }
            len += 1;
        }
        match folded.get(..len).unwrap_or_default() {
            b"md5" => Ok(Algorithm::Md5),
            b"sha1" => Ok(Algorithm::Sha1),
            b"sha256" => Ok(Algorithm::Sha256),
            b"sha384" => Ok(Algorithm::Sha384),
            b"sha512" => Ok(Algorithm::Sha512),
            _ => Err(DigestError::UnknownAlgorithm(s.to_owned())),
        }
    }
}

/// Why a digest string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The algorithm name is not one vouch knows.
    #[error("unknown digest algorithm `{0}`")]
    UnknownAlgorithm(String),
    /// The value is not valid hex or base64.
    #[error("digest value is not valid {encoding}: `{value}`")]
    BadEncoding {
        /// `hex` or `base64`.
        encoding: &'static str,
        /// The offending value (a digest, never a secret).
        value: String,
    },
    /// The value decodes to the wrong number of bytes for its algorithm.
    #[error("{algorithm} digest must be {expected} bytes, found {found}")]
    BadLength {
        /// The algorithm named.
        algorithm: Algorithm,
        /// Bytes the algorithm produces.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// The string has no recognisable `alg:hex`, `alg=hex` or SRI shape.
    #[error("not a digest: `{0}`")]
    Malformed(String),
}

/// A digest: algorithm and raw bytes, shown as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Builds a digest from raw bytes, checking their length.
    pub fn from_bytes(algorithm: Algorithm, bytes: &[u8]) -> Result<Self, DigestError> {
        if bytes.len() != algorithm.output_len() {
            return Err(DigestError::BadLength {
                algorithm,
                expected: algorithm.output_len(),
                found: bytes.len(),
            });
        }
        Ok(Digest {
            algorithm,
            hex: to_hex(bytes),
        })
    }

    /// Builds a digest from hex (either case), checking encoding and length.
    pub fn from_hex(algorithm: Algorithm, hex: &str) -> Result<Self, DigestError> {
        // Checked and lowercased in one pass: the normalised form is the same text, so there
        // is nothing to decode and encode again. Lockfiles hold thousands of digests, and the
        // pass has no branch per byte: each byte is kept with bit 0x20 set (which lowercases
        // `A`-`F` and leaves digits as they are), and whether any byte was not hex is gathered
        // on the side.
        let mut lower = Vec::with_capacity(hex.len());
        let mut bad = !hex.len().is_multiple_of(2);
        for b in hex.bytes() {
            let l = b | 0x20;
            bad |= !(b.is_ascii_digit() | (b'a'..=b'f').contains(&l));
            lower.push(l);
        }
        let hex_lower = match String::from_utf8(lower) {
            Ok(s) if !bad => s,
            _ => {
                return Err(DigestError::BadEncoding {
                    encoding: "hex",
                    value: hex.to_owned(),
                });
            }
        };
        if hex.len() / 2 != algorithm.output_len() {
            return Err(DigestError::BadLength {
                algorithm,
                expected: algorithm.output_len(),
                found: hex.len() / 2,
            });
        }
        Ok(Digest {
            algorithm,
            hex: hex_lower,
        })
    }

    /// Builds a digest from standard base64, as SRI and NuGet write it.
    pub fn from_base64(algorithm: Algorithm, b64: &str) -> Result<Self, DigestError> {
        let bad = || DigestError::BadEncoding {
            encoding: "base64",
            value: b64.to_owned(),
        };
        // Every digest vouch knows fits in 64 bytes; a value that decodes to more is reported
        // with its true length, decoded the slow way.
        let mut buf = [0u8; 64];
        match base64::engine::general_purpose::STANDARD.decode_slice(b64.trim(), &mut buf) {
            Ok(n) => Self::from_bytes(algorithm, buf.get(..n).unwrap_or_default()),
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| bad())?;
                Self::from_bytes(algorithm, &bytes)
            }
            Err(base64::DecodeSliceError::DecodeError(_)) => Err(bad()),
        }
    }

    /// Parses one Subresource Integrity token, `sha512-<base64>`.
    ///
    /// Options after `?` (allowed by the SRI grammar) are ignored.
    pub fn from_sri(token: &str) -> Result<Self, DigestError> {
        let token = token.trim();
        let (alg, rest) = token
            .split_once('-')
            .ok_or_else(|| DigestError::Malformed(token.to_owned()))?;
        let value = rest.split('?').next().unwrap_or(rest);
        Self::from_base64(alg.parse()?, value)
    }

    /// Parses every token of an SRI string. Tokens are separated by ASCII whitespace, as the
    /// SRI grammar says (and splitting on bytes is several times cheaper than on Unicode
    /// whitespace, for every integrity field of a lockfile).
    pub fn from_sri_list(sri: &str) -> Result<Vec<Self>, DigestError> {
        sri.split_ascii_whitespace().map(Self::from_sri).collect()
    }

    /// Parses `alg:hex` or `alg=hex` (the forms of OCI, pip `--hash`, Pipfile.lock and poetry).
    pub fn from_prefixed(s: &str) -> Result<Self, DigestError> {
        let s = s.trim();
        let (alg, hex) = s
            .split_once(':')
            .or_else(|| s.split_once('='))
            .ok_or_else(|| DigestError::Malformed(s.to_owned()))?;
        Self::from_hex(alg.parse()?, hex)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Lowercase hex of the digest bytes.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The digest as standard base64 (the SRI value without its algorithm prefix).
    pub fn to_base64(&self) -> String {
        let bytes = from_hex(&self.hex).unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// The SRI form, `sha512-<base64>`.
    pub fn to_sri(&self) -> String {
        format!("{}-{}", self.algorithm, self.to_base64())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

/// Hashes a byte slice. MD5 is not computed: vouch only ever reads it from lockfiles.
pub fn hash_bytes(algorithm: Algorithm, bytes: &[u8]) -> Option<Digest> {
    hash_parts(algorithm, &[bytes])
}

/// Hashes the concatenation of `parts` without building it, for content held in pieces (a
/// document hashed with a part of it left out).
pub fn hash_parts(algorithm: Algorithm, parts: &[&[u8]]) -> Option<Digest> {
    let mut hasher = Hasher::new(algorithm)?;
    for part in parts {
        hasher.update(part);
    }
    Some(hasher.finish())
}

/// A digest computed piece by piece, for content produced or received in parts.
pub struct Hasher {
    algorithm: Algorithm,
    ctx: aws_lc_rs::digest::Context,
}

impl Hasher {
    /// A hasher of nothing yet; `None` for an algorithm vouch does not compute (MD5).
    pub fn new(algorithm: Algorithm) -> Option<Self> {
        Some(Self {
            algorithm,
            ctx: aws_lc_rs::digest::Context::new(algorithm.aws()?),
        })
    }

    /// Adds `bytes` to what has been hashed.
    pub fn update(&mut self, bytes: &[u8]) {
        self.ctx.update(bytes);
    }

    /// The digest of everything added.
    pub fn finish(self) -> Digest {
        Digest {
            algorithm: self.algorithm,
            hex: to_hex(self.ctx.finish().as_ref()),
        }
    }
}

/// Hashes a stream in 256 KiB chunks, so memory stays constant whatever its length.
pub fn hash_reader<R: Read>(algorithm: Algorithm, mut reader: R) -> std::io::Result<Digest> {
    let mut hasher = Hasher::new(algorithm).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("vouch does not compute {algorithm} digests"),
        )
    })?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finish())
}

/// A random (version 4) UUID from the system's secure random source, for callers that ask
/// for a random identifier instead of one derived from content.
pub fn random_uuid_v4() -> String {
    let mut b = [0u8; 16];
    // The system RNG failing is not recoverable in any useful way; fall back to zeros would
    // silently produce a non-random id, so the time is mixed in instead.
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = nanos.to_le_bytes();
    }
    uuid_from_bytes(b, 4)
}

/// Formats 16 bytes as a UUID string, setting the given version and the RFC 9562 variant.
pub fn uuid_from_bytes(mut b: [u8; 16], version: u8) -> String {
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = to_hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |nibble: u8| DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
    // Filled in place and checked once: pushing characters one by one cost more than the
    // base64 decoding in front of it, for every integrity field of a lockfile.
    let mut out = vec![0u8; bytes.len() * 2];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        if let [hi, lo] = pair {
            *hi = digit(b >> 4);
            *lo = digit(b & 0x0f);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes hex of either case; `None` when the length is odd or a character is not hex.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some((nibble(*hi)? << 4) | nibble(*lo)?),
            _ => None,
        })
        .collect()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A reader that hashes what passes through it, so a consumer that must read a stream anyway
/// (a signature verifier, an unpacker) yields its digest without a second pass.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`; `None` for an algorithm vouch does not compute (MD5).
    pub fn new(algorithm: Algorithm, inner: R) -> Option<Self> {
        Some(Self {
            inner,
            hasher: Hasher::new(algorithm)?,
        })
    }

    /// The digest of everything read so far.
    pub fn finish(self) -> Digest {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sri_round_trips_through_hex() {
        // SHA-512 of the empty string, a published test vector.
        let d = hash_bytes(Algorithm::Sha512, b"").unwrap();
        assert!(d.hex().starts_with("cf83e1357eefb8bd"));
        let again = Digest::from_sri(&d.to_sri()).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn parts_hash_as_their_concatenation() {
        let whole = hash_bytes(Algorithm::Sha256, b"abcdef").unwrap();
        let parts = hash_parts(Algorithm::Sha256, &[b"ab", b"", b"cdef"]).unwrap();
        assert_eq!(parts, whole);
        assert_eq!(hash_parts(Algorithm::Md5, &[b"x"]), None);
    }

    #[test]
    fn prefixed_forms() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let a = Digest::from_prefixed(&format!("sha256:{hex}")).unwrap();
        let b = Digest::from_prefixed(&format!("sha256={}", hex.to_uppercase())).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, hash_bytes(Algorithm::Sha256, b"").unwrap());
    }

    #[test]
    fn wrong_length_is_rejected() {
        let err = Digest::from_hex(Algorithm::Sha256, "abcd").unwrap_err();
        assert_eq!(
            err,
            DigestError::BadLength {
                algorithm: Algorithm::Sha256,
                expected: 32,
                found: 2
            }
        );
        assert!(Digest::from_sri("sha512-!!!").is_err());
        assert!(Digest::from_sri("whirlpool-AAAA").is_err());
    }

    #[test]
    fn sri_lists_split_on_ascii_whitespace() {
        let a = hash_bytes(Algorithm::Sha512, b"a").unwrap();
        let b = hash_bytes(Algorithm::Sha256, b"b").unwrap();
        let list = format!(" {}\t\n{} ", a.to_sri(), b.to_sri());
        assert_eq!(Digest::from_sri_list(&list), Ok(vec![a.clone(), b]));
        // A no-break space is not a separator: the token it joins is not base64.
        let joined = format!("{}\u{a0}{}", a.to_sri(), a.to_sri());
        assert!(Digest::from_sri_list(&joined).is_err());
        assert_eq!(Digest::from_sri_list("  "), Ok(vec![]));
    }

    #[test]
    fn algorithm_names_ignore_case_and_dashes() {
        for (name, alg) in [
            ("sha512", Algorithm::Sha512),
            ("SHA-512", Algorithm::Sha512),
            ("Sha-2-56", Algorithm::Sha256),
            ("MD5", Algorithm::Md5),
            ("sha-1", Algorithm::Sha1),
            ("SHA384", Algorithm::Sha384),
        ] {
            assert_eq!(name.parse::<Algorithm>(), Ok(alg), "{name}");
        }
        for name in [
            "",
            "-",
            "sha",
            "sha5120",
            "sha512sha512",
            "shä256",
            "blake2b",
        ] {
            assert_eq!(
                name.parse::<Algorithm>(),
                Err(DigestError::UnknownAlgorithm(name.to_owned())),
                "{name}"
            );
        }
    }

    #[test]
    fn hex_is_checked_and_lowercased() {
        let upper = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let d = Digest::from_hex(Algorithm::Sha256, upper).unwrap();
        assert_eq!(d.hex(), upper.to_ascii_lowercase());
        for bad in ["abc", "zz", "0x00", "é0"] {
            assert_eq!(
                Digest::from_hex(Algorithm::Sha256, bad),
                Err(DigestError::BadEncoding {
                    encoding: "hex",
                    value: bad.to_owned()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_byte_is_judged_as_hex_or_not() {
        // Each byte value in the middle of an otherwise valid SHA-256 hex digest (non-ASCII
        // bytes as the UTF-8 of their code point, two bytes, with one hex digit fewer).
        let zeros = "0".repeat(64);
        for b in 0..=255u8 {
            let c = char::from(b);
            let keep = 64 - c.len_utf8();
            let text = format!("{}{c}{}", &zeros[..keep / 2], &zeros[..keep - keep / 2]);
            let got = Digest::from_hex(Algorithm::Sha256, &text);
            if b.is_ascii_hexdigit() {
                assert_eq!(
                    got.map(|d| d.hex().to_owned()),
                    Ok(text.to_ascii_lowercase())
                );
            } else {
                assert!(
                    matches!(got, Err(DigestError::BadEncoding { .. })),
                    "byte {b:#04x}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn base64_longer_than_any_digest_reports_its_length() {
        // 96 bytes of base64: more than the 64-byte buffer that digests are decoded into.
        let long = base64::engine::general_purpose::STANDARD.encode([7u8; 96]);
        assert_eq!(
            Digest::from_base64(Algorithm::Sha512, &long),
            Err(DigestError::BadLength {
                algorithm: Algorithm::Sha512,
                expected: 64,
                found: 96
            })
        );
        let sha1 = base64::engine::general_purpose::STANDARD.encode([1u8; 20]);
        let d = Digest::from_base64(Algorithm::Sha1, &format!(" {sha1}\n")).unwrap();
        assert_eq!(d.hex(), "01".repeat(20));
        assert!(matches!(
            Digest::from_base64(Algorithm::Sha1, "AAA*"),
            Err(DigestError::BadEncoding { .. })
        ));
    }
    #[test]
    fn uuids_have_version_and_variant() {
        let u = uuid_from_bytes([0xff; 16], 5);
        assert_eq!(u, "ffffffff-ffff-5fff-bfff-ffffffffffff");
        let r = random_uuid_v4();
        assert_eq!(r.len(), 36);
        assert_eq!(r.as_bytes()[14], b'4');
        assert_ne!(r, random_uuid_v4());
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data = vec![7u8; 600 * 1024];
        let a = hash_reader(Algorithm::Sha256, &data[..]).unwrap();
        assert_eq!(Some(a), hash_bytes(Algorithm::Sha256, &data));
    }
}

//! Percent-encoding of purl components.
//!
//! The canonical form leaves only ASCII letters, digits, `.`, `-`, `_`, `~` and `:` as they
//! are and percent-encodes every other byte of the UTF-8 form with uppercase hex
//! (<https://github.com/package-url/purl-spec/blob/main/purl-specification.md>, "Character
//! encoding"). `:` stays literal because versions such as Debian epochs (`1:2.4`) and digests
//! (`sha256:…`) use it and the specification forbids encoding it.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::PurlError;

const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

/// Percent-encodes one component or segment for the canonical string.
pub(crate) fn encode(s: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(s, COMPONENT)
}

/// Writes one component or segment percent-encoded. Most need no escaping at all; writing
/// those whole skips the encoder's run-by-run iteration, which showed in SBOM encoding, where
/// every package's purl is written at least twice.
pub(crate) fn write_encoded(f: &mut std::fmt::Formatter<'_>, s: &str) -> std::fmt::Result {
    // The bytes `COMPONENT` leaves as they are.
    let literal =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':');
    if s.bytes().all(literal) {
        f.write_str(s)
    } else {
        std::fmt::Display::fmt(&encode(s), f)
    }
}

/// Percent-decodes one component or segment.
///
/// Unlike a browser, this refuses a `%` that is not followed by two hex digits and a result
/// that is not UTF-8: either would make two different strings name the same package.
pub(crate) fn decode(s: &str) -> Result<String, PurlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| hex_value(*c));
            let lo = bytes.get(i + 2).and_then(|c| hex_value(*c));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(PurlError::InvalidEncoding(s.to_owned())),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PurlError::InvalidEncoding(s.to_owned()))
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved_and_colon() {
        assert_eq!(encode("a.b-c_d~e:f").to_string(), "a.b-c_d~e:f");
        assert_eq!(encode("a/b@c+d e,f").to_string(), "a%2Fb%40c%2Bd%20e%2Cf");
        assert_eq!(encode("é").to_string(), "%C3%A9");
    }

    /// The shortcut for components without escapes must agree with the encoder on every byte.
    #[test]
    fn literal_shortcut_matches_the_encoder() {
        struct Shown<'a>(&'a str);
        impl std::fmt::Display for Shown<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write_encoded(f, self.0)
            }
        }
        for b in 0..=127u8 {
            let s = format!("a{}b", char::from(b));
            assert_eq!(Shown(&s).to_string(), encode(&s).to_string(), "byte {b}");
        }
        assert_eq!(Shown("é").to_string(), "%C3%A9");
    }

    #[test]
    fn decodes_either_hex_case() {
        assert_eq!(decode("%2f%2F%40").unwrap(), "//@");
        assert_eq!(decode("a+b").unwrap(), "a+b");
    }

    #[test]
    fn rejects_broken_escapes_and_non_utf8() {
        assert!(decode("%").is_err());
        assert!(decode("%4").is_err());
        assert!(decode("%zz").is_err());
        assert!(decode("%FF").is_err());
    }
}

//! PEM ([RFC 7468](https://www.rfc-editor.org/rfc/rfc7468)) and the lenient base64 that the
//! services' JSON APIs accept, in one place for Fulcio, Rekor and the TSA.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Encodes DER as a PEM block with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes the first PEM block of `text`: its label and DER.
pub fn decode(text: &str) -> Result<(String, Vec<u8>), String> {
    let mut lines = text.lines().map(str::trim);
    let label = loop {
        match lines.next() {
            Some(line) => {
                if let Some(label) = line
                    .strip_prefix("-----BEGIN ")
                    .and_then(|l| l.strip_suffix("-----"))
                {
                    break label.to_owned();
                }
            }
            None => return Err("not PEM: no `-----BEGIN` line".to_owned()),
        }
    };
    let end = format!("-----END {label}-----");
    let mut b64 = String::new();
    for line in lines.by_ref() {
        if line == end {
            let der = STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| format!("the PEM `{label}` block is not base64: {e}"))?;
            return Ok((label, der));
        }
        b64.push_str(line);
    }
    Err(format!("the PEM `{label}` block has no `{end}` line"))
}

/// Decodes the first PEM block of `text`, whose label must be one of `labels`.
pub fn decode_labelled(text: &str, labels: &[&str]) -> Result<Vec<u8>, String> {
    let (label, der) = decode(text)?;
    if !labels.contains(&label.as_str()) {
        return Err(format!(
            "PEM block `{label}`, expected `{}`",
            labels.first().unwrap_or(&"")
        ));
    }
    Ok(der)
}

/// Decodes base64 as protobuf's JSON mapping and the Rekor and DSSE clients send it: standard
/// or URL-safe alphabet, with or without padding, whitespace ignored.
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let unpadded = compact.trim_end_matches('=');
    STANDARD
        .decode(&compact)
        .or_else(|_| STANDARD_NO_PAD.decode(unpadded))
        .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
        .ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pem_round_trip_labels_and_lenient_base64() {
        let pem = encode("PUBLIC KEY", b"abc");
        assert_eq!(
            decode(&pem).unwrap(),
            ("PUBLIC KEY".to_owned(), b"abc".to_vec())
        );
        assert_eq!(decode_labelled(&pem, &["PUBLIC KEY"]).unwrap(), b"abc");
        assert!(
            decode_labelled(&pem, &["CERTIFICATE"])
                .unwrap_err()
                .contains("expected `CERTIFICATE`")
        );
        assert!(decode("-----BEGIN PUBLIC KEY-----\nYWJj\n").is_err());
        assert!(decode("no pem here").is_err());
        let long = encode("CERTIFICATE", &[7u8; 100]);
        assert!(long.lines().all(|l| l.len() <= 64));
        assert_eq!(decode_b64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_b64("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_b64("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(decode_b64("+/8").unwrap(), [0xfb, 0xff]);
        assert!(decode_b64("not base64!").is_none());
    }
}

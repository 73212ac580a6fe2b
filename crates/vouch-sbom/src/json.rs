//! Reading untrusted JSON with explicit limits on size and nesting.

use serde_json::Value;

use crate::check::CheckError;

/// Largest document read, in bytes. SBOMs of whole distributions run to tens of megabytes.
pub const MAX_BYTES: usize = 256 * 1024 * 1024;

/// Deepest nesting of arrays and objects. CycloneDX nests components in components, two levels
/// per step, so this allows about thirty levels of nesting, far more than real BOMs use;
/// serde_json's own recursion limit (128) stays out of reach.
pub const MAX_DEPTH: usize = 64;

/// Parses `bytes` as JSON after checking size and nesting depth, naming `file` in errors.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Value, CheckError> {
    if bytes.len() > MAX_BYTES {
        return Err(CheckError::TooLarge {
            file: file.to_owned(),
            size: bytes.len(),
            limit: MAX_BYTES,
        });
    }
    check_depth(file, bytes)?;
    serde_json::from_slice(bytes).map_err(|e| {
        let (line, column) = position(bytes, e.line(), e.column());
        CheckError::Json {
            file: file.to_owned(),
            line,
            column,
            message: e.to_string(),
        }
    })
}

/// serde_json reports an error found on reading a newline as column 0 of the next line; point
/// at the end of the line it was on instead, where the user must look.
fn position(bytes: &[u8], line: usize, column: usize) -> (usize, usize) {
    if column > 0 || line < 2 {
        return (line, column);
    }
    let previous = bytes
        .split(|b| *b == b'\n')
        .nth(line - 2)
        .map(|l| String::from_utf8_lossy(l).chars().count())
        .unwrap_or(0);
    (line - 1, previous + 1)
}

/// Scans brackets outside strings. Malformed input is left to serde_json to report; this only
/// guarantees that nothing deeper than [`MAX_DEPTH`] reaches a recursive parser or walker.
fn check_depth(file: &str, bytes: &[u8]) -> Result<(), CheckError> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if b == b'\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(CheckError::TooDeep {
                        file: file.to_owned(),
                        line,
                        column,
                        limit: MAX_DEPTH,
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

//! HTTP helpers shared by the token sources: bounded bodies, error text that cannot leak a
//! secret, and the rule for which URLs may carry one.

use sigstore_oidc::reqwest::{self, Url};

use super::{TokenError, TokenSource};

/// Largest answer read from an issuer, GitHub or the metadata server. Discovery documents
/// and token answers are a few kilobytes.
pub(super) const MAX_BODY_BYTES: usize = 64 * 1024;

/// Most characters of server or tool output quoted in an error.
const MAX_QUOTE_CHARS: usize = 300;

/// Reads a body of at most `limit` bytes; a longer one is an error, not a truncation.
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(format!("the answer is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sends `request` and returns the body of a success answer; other statuses become
/// [`TokenError::Status`], unless `oauth` is set and the body is an OAuth error answer
/// (RFC 6749 section 5.2), which becomes [`TokenError::OAuth`].
pub(super) async fn send(
    request: reqwest::RequestBuilder,
    source: TokenSource,
    url: &Url,
    oauth: bool,
) -> Result<Vec<u8>, TokenError> {
    let response = request.send().await.map_err(|e| TokenError::Request {
        origin: source,
        url: display_url(url),
        message: describe(&e),
    })?;
    let status = response.status();
    let body = read_limited(response, MAX_BODY_BYTES)
        .await
        .map_err(|message| TokenError::Request {
            origin: source,
            url: display_url(url),
            message,
        })?;
    if status.is_success() {
        return Ok(body);
    }
    if oauth
        && let Ok(serde_json::Value::Object(answer)) = serde_json::from_slice(&body)
        && let Some(error) = answer.get("error").and_then(|e| e.as_str())
    {
        return Err(TokenError::OAuth {
            origin: source,
            error: quote(error.as_bytes()),
            description: answer
                .get("error_description")
                .and_then(|d| d.as_str())
                .map(|d| quote(d.as_bytes())),
        });
    }
    Err(TokenError::Status {
        origin: source,
        url: display_url(url),
        status: status.as_u16(),
        body: quote(&body),
    })
}

/// A request error and its causes, without the URL (which may carry a query).
pub(super) fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut cause = std::error::Error::source(error);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    quote(message.as_bytes())
}

/// A URL for messages: scheme, host, port and path; no credentials, query or fragment.
pub(super) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// Text from outside (a server's body, a tool's stderr) made safe to show: control characters
/// (terminal escapes) replaced, anything shaped like a JWT redacted, cut to a few hundred
/// characters.
pub(super) fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let mut out = String::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&redact_jwts(word));
    }
    let mut quoted: String = out
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_QUOTE_CHARS)
        .collect();
    if out.chars().count() > MAX_QUOTE_CHARS {
        quoted.push('…');
    }
    quoted
}

/// Replaces every run of base64url characters and dots shaped like a JWS or JWT with
/// `<redacted>`: three or more dot-separated segments, the first starting `ey` (base64url of
/// `{"`, how every JOSE header starts) or one of them long enough to be an encoded payload.
/// Host names and version numbers do not match.
fn redact_jwts(text: &str) -> String {
    let is_part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let segments: Vec<&str> = run.split('.').collect();
        let jose_header = segments
            .first()
            .is_some_and(|s| s.starts_with("ey") && s.len() >= 8);
        let long_segment = segments.iter().any(|s| s.len() >= 32);
        if segments.len() >= 3 && (jose_header || long_segment) {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_part(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Whether a URL may carry a token, a code or a credential: https, or plain http to a loopback
/// address (the devstack, a test server), where nothing crosses the network.
pub(super) fn is_secure(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn quotes_redact_tokens_and_escapes() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let quoted = quote(format!("bad token {jwt}, \u{1b}[31mred\n").as_bytes());
        assert_eq!(quoted, "bad token <redacted>,  [31mred");
        for plain in [
            "version 1.2.3 of host a.b.c",
            "lookup of token.actions.githubusercontent.com failed",
            "metadata.google.internal",
        ] {
            assert_eq!(quote(plain.as_bytes()), plain);
        }
        assert_eq!(
            quote(b"opaque.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln.x"),
            "<redacted>"
        );
        let long = "x ".repeat(400);
        assert_eq!(quote(long.as_bytes()).chars().count(), MAX_QUOTE_CHARS + 1);
    }

    #[test]
    fn urls_lose_credentials_and_queries() {
        let url =
            Url::parse("https://user:pw@example.com:8443/token?api-version=2&sig=x#f").unwrap();
        assert_eq!(display_url(&url), "https://example.com:8443/token");
    }

    #[test]
    fn only_https_or_loopback_http_is_secure() {
        for (url, secure) in [
            ("https://oauth2.sigstore.dev/auth", true),
            ("http://127.0.0.1:8080/x", true),
            ("http://[::1]:8080/x", true),
            ("http://localhost/x", true),
            ("http://example.com/x", false),
            ("http://127.0.0.1.example.com/x", false),
            ("ftp://127.0.0.1/x", false),
        ] {
            assert_eq!(is_secure(&Url::parse(url).unwrap()), secure, "{url}");
        }
    }
}

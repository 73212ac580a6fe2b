//! The loopback redirect target of the browser sign-in (RFC 8252 section 7.3): a listener on
//! `127.0.0.1` and a random port that waits for `GET /callback?code=…&state=…`.
//!
//! Just enough HTTP/1.1 for a browser: one request per connection, a plain-text answer,
//! connection closed. Connections are served concurrently (browsers open speculative ones that
//! never send a request) and bounded in number, size and time.

use std::time::Duration;

use sigstore_oidc::SecretString;
use sigstore_oidc::reqwest::Url;
// tokio's `io-util` is not among the workspace's tokio features; it is on because
// sigstore-oidc, a dependency of this crate, enables it on its own tokio dependency.
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The path the issuer redirects to.
pub(super) const CALLBACK_PATH: &str = "/callback";

/// Largest request head read. A callback URL is a few hundred bytes.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Most connections served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 16;

/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the redirect brought.
pub(super) enum Outcome {
    /// An authorization code.
    Code(SecretString),
    /// An error answer (RFC 6749 section 4.1.2.1).
    Error {
        error: String,
        description: Option<String>,
    },
}

/// What one connection amounted to.
enum Served {
    /// Not a callback (a favicon, a speculative connection, garbage).
    Ignored,
    /// A callback for another sign-in: its `state` is not ours.
    WrongState,
    /// The callback.
    Done(Outcome),
}

/// A bound listener waiting for the redirect.
pub(super) struct Callback {
    listener: TcpListener,
    port: u16,
}

impl Callback {
    /// Binds `127.0.0.1` on a port the system picks.
    pub(super) async fn bind() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        Ok(Self { listener, port })
    }

    /// `http://127.0.0.1:PORT/callback`.
    pub(super) fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits until `deadline` for the callback carrying `state`. Callbacks with another state
    /// are answered with an error page and reported through `wrong_state`, and the wait goes
    /// on: a page that sends a forged callback must not end the real sign-in.
    pub(super) async fn wait(
        self,
        state: &str,
        deadline: Instant,
        wrong_state: &(dyn Fn() + Sync),
    ) -> Option<Outcome> {
        let mut connections = JoinSet::new();
        let timeout = tokio::time::sleep_until(deadline);
        tokio::pin!(timeout);
        loop {
            tokio::select! {
                () = &mut timeout => return None,
                accepted = self.listener.accept() => {
                    if let Ok((stream, _)) = accepted
                        && connections.len() < MAX_CONNECTIONS
                    {
                        connections.spawn(serve(stream, state.to_owned()));
                    }
                }
                Some(joined) = connections.join_next(), if !connections.is_empty() => {
                    match joined {
                        Ok(Served::Done(outcome)) => return Some(outcome),
                        Ok(Served::WrongState) => wrong_state(),
                        Ok(Served::Ignored) | Err(_) => {}
                    }
                }
            }
        }
    }
}

async fn serve(mut stream: TcpStream, state: String) -> Served {
    let Ok(Some(head)) = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await else {
        return Served::Ignored;
    };
    let mut words = head.lines().next().unwrap_or_default().split(' ');
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Served::Ignored;
    };
    if method != "GET" {
        respond(
            &mut stream,
            "405 Method Not Allowed",
            "Only GET is served here.",
        )
        .await;
        return Served::Ignored;
    }
    let url = match target
        .starts_with('/')
        .then(|| Url::parse(&format!("http://127.0.0.1{target}")).ok())
        .flatten()
    {
        Some(url) if url.path() == CALLBACK_PATH => url,
        _ => {
            respond(&mut stream, "404 Not Found", "Not found.").await;
            return Served::Ignored;
        }
    };
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    // A parameter given twice is as good as absent: which one would the issuer have meant?
    let param = |name: &str| {
        let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v.clone()),
            _ => None,
        }
    };
    if param("state").as_deref() != Some(state.as_str()) {
        respond(
            &mut stream,
            "400 Bad Request",
            "This sign-in answer is not for the sign-in vouch is waiting for (its state does \
             not match). Start again from the terminal.",
        )
        .await;
        return Served::WrongState;
    }
    if let Some(error) = param("error") {
        respond(
            &mut stream,
            "200 OK",
            "The sign-in failed; vouch shows why in the terminal. You can close this tab.",
        )
        .await;
        return Served::Done(Outcome::Error {
            error,
            description: param("error_description"),
        });
    }
    match param("code") {
        Some(code) => {
            respond(
                &mut stream,
                "200 OK",
                "Signed in. You can close this tab and return to the terminal.",
            )
            .await;
            Served::Done(Outcome::Code(SecretString::new(code)))
        }
        None => {
            respond(&mut stream, "400 Bad Request", "The answer has no code.").await;
            Served::Ignored
        }
    }
}

/// The request line and headers, or `None` if the peer closes first or sends too much.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(buf.get(..n)?);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(head).ok();
        }
        if head.len() > MAX_HEAD_BYTES {
            return None;
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; there is no one to tell.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

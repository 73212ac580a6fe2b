//! A local Sigstore for tests and rehearsals: a Fulcio CA, Rekor v1 and v2 logs, an RFC 3161
//! timestamp authority, an OIDC issuer and a TUF repository, served on one loopback port.
//!
//! **Never a production service.** Its keys sit in a directory on disk, its log has no
//! witnesses, and anyone who can read the state directory can mint identities. Production users
//! want the Sigstore project's public-good instance or their own deployment of the real
//! services.
//!
//! Layout of the state directory:
//! - `keys/*.p8`: private keys (PKCS#8 DER, mode 0600), generated on first start;
//! - `certs/*.der`: the CA certificates;
//! - `trusted_root.json`, `signing_config.json`, `trust_config.json`: the trust material clients
//!   need, rewritten at every start with the current URL;
//! - `devstack.json`: the URL the stack serves at, for `vouch devstack token`;
//! - `tuf_root.json`: the TUF root clients bootstrap from (`1.root.json` unless the TUF root
//!   key was replaced), for `vouch trust update --root` and `sigstore trust-instance`;
//! - `tuf/`: the TUF repository served under `/tuf/` (see [`tuf`]): `N.root.json`,
//!   `timestamp.json`, `N.snapshot.json`, `N.targets.json`, `targets/<sha256>.<name>`, and
//!   `state.json`, the version counter that keeps versions growing across restarts;
//! - `ready`: written once the server accepts connections, removed at shutdown.

#![forbid(unsafe_code)]

pub mod ca;
pub mod fulcio;
pub mod keys;
pub mod material;
pub mod oidc;
pub mod pem;
pub mod rekor;
mod server;
pub mod tsa;
pub mod tuf;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use server::Running;

/// What can go wrong starting or running the devstack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An address other than loopback was asked for.
    #[error(
        "refusing to listen on {addr}: the devstack binds loopback addresses only (127.0.0.1 or ::1)"
    )]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// A file in the state directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file in the state directory is not what the devstack wrote there.
    #[error("{}: {message}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A cryptographic operation failed.
    #[error("{0}")]
    Crypto(&'static str),
    /// A certificate could not be built.
    #[error("cannot build a certificate: {0}")]
    Certificate(String),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How to start the devstack.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where keys, certificates, logs and trust material live.
    pub state_dir: PathBuf,
    /// Loopback address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
}

/// Everything the services share: the URL, the keys and the authorities.
#[derive(Debug)]
pub struct Shared {
    /// `http://127.0.0.1:PORT`, the base of every service URL.
    pub base_url: String,
    /// The state directory.
    pub state_dir: PathBuf,
    /// Unix seconds at which the trust material starts to be valid (the stack's first start).
    pub created: i64,
    /// The CAs.
    pub authorities: ca::Authorities,
    /// The service keys.
    pub keys: material::ServiceKeys,
    /// The Rekor v1 and v2 logs.
    pub logs: rekor::Logs,
}

/// Starts the devstack: loads or creates its keys, binds, writes the trust material and the
/// `ready` file, and serves until [`Running::shutdown`] or until dropped.
pub async fn start(config: Config) -> Result<Running, Error> {
    server::start(config).await
}

/// Unix seconds now. The devstack is a server: it reads the clock, unlike the verifier.
pub(crate) fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Shared state as the services see it.
pub(crate) type AppState = Arc<Shared>;

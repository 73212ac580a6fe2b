//! Binding, routing and shutdown. Every service is mounted on one loopback listener.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::{AppState, Config, Error, Shared, ca, fulcio, material, now_unix, oidc, rekor, tsa};

/// Largest request body any service accepts. The largest legitimate request, a Rekor entry
/// carrying a DSSE envelope, is far below it.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// A running devstack.
#[derive(Debug)]
pub struct Running {
    url: String,
    shared: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), std::io::Error>>>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shared state (keys, authorities), for tests.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// An identity token for `email` from this devstack's issuer, valid for `ttl` seconds from
    /// now: what a rehearsal or a test signs with.
    pub fn email_token(&self, email: &str, ttl: i64) -> Result<String, Error> {
        crate::oidc::mint(
            &self.shared.keys.oidc,
            &self.shared.base_url,
            &crate::oidc::TokenRequest {
                subject: crate::oidc::Subject::Email(email.to_owned()),
                ttl,
                claims: std::collections::BTreeMap::new(),
            },
            now_unix(),
        )
    }

    /// Stops accepting connections, lets requests in flight finish, and removes `ready`.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let ready = self.shared.state_dir.join("ready");
        match std::fs::remove_file(&ready) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&ready, e)),
            _ => Ok(()),
        }
    }
}

pub(crate) async fn start(config: Config) -> Result<Running, Error> {
    if !config.addr.ip().is_loopback() {
        return Err(Error::NotLoopback { addr: config.addr });
    }
    let state_dir = config.state_dir.clone();
    std::fs::create_dir_all(&state_dir).map_err(|e| Error::io(&state_dir, e))?;
    let now = now_unix();
    let created = material::created_time(&state_dir, now)?;
    let authorities = ca::Authorities::load_or_create(&state_dir, created)?;
    let keys = material::ServiceKeys::load_or_generate(&state_dir)?;
    let logs = rekor::Logs::open(&state_dir)?;

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| Error::Bind {
            addr: config.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.addr,
        source,
    })?;
    let base_url = format!("http://{local}");
    let shared = Arc::new(Shared {
        base_url: base_url.clone(),
        state_dir: state_dir.clone(),
        created,
        authorities,
        keys,
        logs,
    });
    material::write_all(&shared)?;

    let app = router(shared.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    crate::keys::write_public(&state_dir.join("ready"), base_url.as_bytes())?;
    Ok(Running {
        url: base_url,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

fn router(shared: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(oidc::routes())
        .merge(fulcio::routes())
        .merge(rekor::routes())
        .merge(tsa::routes())
        .merge(crate::tuf::routes(&shared))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

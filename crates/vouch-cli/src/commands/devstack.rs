//! `vouch devstack`: serve a local Sigstore in the foreground until interrupted;
//! `vouch devstack token`: print an identity token from its issuer.

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::{Context as _, bail};
use vouch_devstack::oidc::{Subject, TokenRequest};

use super::Status;
use crate::cli::{DevstackArgs, DevstackCommand, DevstackTokenArgs};
use crate::output;

/// Runs `vouch devstack`.
pub fn run(args: &DevstackArgs) -> anyhow::Result<Status> {
    if let Some(DevstackCommand::Token(token)) = &args.command {
        return run_token(token);
    }
    let Some(state_dir) = args.state_dir.clone() else {
        bail!("--state-dir is required");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let running = vouch_devstack::start(vouch_devstack::Config {
            state_dir: state_dir.clone(),
            addr: args.addr,
        })
        .await?;
        let url = running.url().to_owned();
        let d = state_dir.display();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "vouch devstack: a local Sigstore FOR TESTS ONLY, never for production signing\n\
             serving at {url}\n\
             \x20 fulcio     {url}/api/v2/signingCert\n\
             \x20 rekor v1   {url}/api/v1/log\n\
             \x20 rekor v2   {url}/api/v2/log/entries, {url}/api/v2/checkpoint\n\
             \x20 tsa        {url}/api/v1/timestamp\n\
             \x20 oidc       {url}/.well-known/openid-configuration\n\
             \x20 tuf        {url}/tuf/\n\
             trust material:\n\
             \x20 {d}/trusted_root.json\n\
             \x20 {d}/signing_config.json\n\
             \x20 {d}/trust_config.json   (sigstore --trust-config, vouch --trust-config)\n\
             \x20 {d}/tuf_root.json       (vouch trust update --tuf-url {url}/tuf --root …)\n\
             identity tokens: vouch devstack token --state-dir {d} --email you@example.com\n\
             stop with Ctrl-C"
        );
        drop(err);
        wait_for_signal().await;
        running.shutdown().await?;
        anyhow::Ok(())
    })?;
    Ok(Status::Success)
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

fn run_token(args: &DevstackTokenArgs) -> anyhow::Result<Status> {
    let info_path = args.state_dir.join("devstack.json");
    let info: serde_json::Value = serde_json::from_slice(
        &fs_err::read(&info_path).map_err(|e| {
            output::error_with_hint(
                e.to_string(),
                "start the devstack once with `vouch devstack --state-dir DIR` so that it has keys and a URL",
            )
        })?,
    )
    .with_context(|| format!("`{}` is not JSON", info_path.display()))?;
    let issuer = info
        .get("issuer")
        .and_then(serde_json::Value::as_str)
        .with_context(|| format!("`{}` has no `issuer`", info_path.display()))?;
    let keys = vouch_devstack::material::ServiceKeys::load_or_generate(&args.state_dir)?;
    let subject = match (&args.email, &args.subject) {
        (Some(e), _) => Subject::Email(e.clone()),
        (None, Some(s)) => Subject::Other(s.clone()),
        (None, None) => bail!("give --email or --subject"),
    };
    if args.ttl <= 0 {
        bail!("--ttl must be a positive number of seconds");
    }
    let mut claims = BTreeMap::new();
    for c in &args.claim {
        let Some((k, v)) = c.split_once('=') else {
            return Err(output::error_with_hint(
                format!("`{c}` is not a claim"),
                "write claims as KEY=VALUE, for example --claim repository=org/repo",
            ));
        };
        claims.insert(k.to_owned(), v.to_owned());
    }
    let now = jiff::Timestamp::now().as_second();
    let token = vouch_devstack::oidc::mint(
        &keys.oidc,
        issuer,
        &TokenRequest {
            subject,
            ttl: args.ttl,
            claims,
        },
        now,
    )?;
    output::write_stdout(format!("{token}\n").as_bytes())?;
    Ok(Status::Success)
}

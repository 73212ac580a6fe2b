//! What `vouch sign` and `vouch attest` share: choosing the services and trust material,
//! finding the credential, and writing bundles.

use std::path::Path;

use anyhow::{Context as _, bail};
use vouch_sigstore::key::ManagedKey;
use vouch_sigstore::{
    Credential, Instance, RetryPolicy, Services, Signer, SigningConfig, TrustMaterial,
};

use crate::cli::{OAuthFlowArg, SigningArgs};
use crate::env;

/// Builds the signer the arguments describe.
pub async fn signer(args: &SigningArgs) -> anyhow::Result<Signer> {
    let (config, trust) = deployment(args)?;
    let retry = retry_policy(args);
    // One client for the token and the services: each one built loads the system's
    // certificate store.
    let http = vouch_sigstore::sign::http_client(retry.request_timeout, retry.connect_timeout)?;
    let credential = match &args.key {
        Some(path) => Credential::Key(managed_key(path)?),
        None => Credential::Keyless(identity_token(args, &config, http.clone()).await?),
    };
    let services = Services::select(&config, args.rekor_version)?;
    Ok(Signer::with_http_client(
        services, trust, credential, retry, http,
    )?)
}

fn retry_policy(args: &SigningArgs) -> RetryPolicy {
    RetryPolicy {
        attempts: args.attempts,
        request_timeout: std::time::Duration::from_secs(args.timeout),
        ..RetryPolicy::default()
    }
}

/// A signer for a deployment and credential chosen by the caller (`vouch release --devstack`).
pub fn signer_for(
    args: &SigningArgs,
    config: SigningConfig,
    trust: TrustMaterial,
    credential: Credential,
) -> anyhow::Result<Signer> {
    let services = Services::select(&config, args.rekor_version)?;
    Ok(Signer::new(
        services,
        trust,
        credential,
        retry_policy(args),
    )?)
}

/// The signing config and the trusted root new bundles must verify against.
fn deployment(args: &SigningArgs) -> anyhow::Result<(SigningConfig, TrustMaterial)> {
    if let Some(path) = &args.trust_config {
        let bytes = read_limited(path)?;
        let origin = path.display().to_string();
        return Ok((
            SigningConfig::from_trust_config_json(&bytes, &origin)?,
            TrustMaterial::from_trust_config_json(&bytes, &origin)?,
        ));
    }
    if let (Some(config), Some(root)) = (&args.signing_config, &args.trusted_root) {
        return Ok((
            SigningConfig::from_json(&read_limited(config)?, &config.display().to_string())?,
            TrustMaterial::from_trusted_root_json(
                &read_limited(root)?,
                &root.display().to_string(),
            )?,
        ));
    }
    let instance = if args.staging {
        Instance::Staging
    } else {
        Instance::Production
    };
    // The public-good instance: the signing config and trusted root `vouch trust update` last
    // verified through TUF, else the ones built in.
    let choice = crate::settings::trust_choice(&crate::cli::TrustSourceArgs {
        trusted_root: None,
        trust_config: None,
        staging: args.staging,
    })?;
    if let Some(cached) = &choice.cache {
        let origin = format!("tuf-cache:{}", cached.cache_dir().display());
        return Ok((
            SigningConfig::from_json(cached.signing_config_json(), &origin)?,
            choice.material,
        ));
    }
    Ok((SigningConfig::embedded(instance)?, choice.material))
}

/// Trust material (trust config, signing config, trusted root), within its size limit.
fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    crate::settings::read_limited(path, vouch_sigstore::MAX_TRUST_BYTES)
}

/// The passphrase: `VOUCH_PASSWORD`, else asked for on the terminal (twice when `confirm`).
pub fn passphrase(prompt: &str, confirm: bool) -> anyhow::Result<Vec<u8>> {
    if let Ok(p) = std::env::var(env::VOUCH_PASSWORD) {
        return Ok(p.into_bytes());
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!(
            "no passphrase: set `{}` or run on a terminal to be asked",
            env::VOUCH_PASSWORD
        );
    }
    let first = rpassword::prompt_password(prompt).context("cannot read the passphrase")?;
    if confirm {
        let second = rpassword::prompt_password("Again: ").context("cannot read the passphrase")?;
        if first != second {
            bail!("the two passphrases differ");
        }
    }
    Ok(first.into_bytes())
}

fn managed_key(path: &Path) -> anyhow::Result<ManagedKey> {
    let meta = fs_err::metadata(path)?;
    if meta.len() > vouch_sigstore::key::MAX_KEY_FILE_BYTES as u64 {
        bail!(
            "`{}` is {} bytes: not a key file",
            path.display(),
            meta.len()
        );
    }
    let bytes = fs_err::read(path)?;
    let origin = path.display().to_string();
    let encrypted = bytes.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED");
    let pass = if encrypted {
        Some(passphrase(&format!("Passphrase for {origin}: "), false)?)
    } else {
        None
    };
    Ok(ManagedKey::from_pem(&bytes, pass.as_deref(), &origin)?)
}

/// The identity token: `--identity-token`, `SIGSTORE_ID_TOKEN`, ambient CI credentials, then
/// (on a terminal, unless `--oauth-flow none`) an interactive sign-in. Checked before use.
async fn identity_token(
    args: &SigningArgs,
    config: &SigningConfig,
    http: vouch_sigstore::sign::HttpClient,
) -> anyhow::Result<vouch_sigstore::sign::IdentityToken> {
    use vouch_sigstore::token::{Environment, Interactive, TokenRequest};
    let mut request = TokenRequest::new(Environment::from_vars(std::env::vars()), http);
    // `SIGSTORE_ID_TOKEN` is an explicit token too, except in GitLab CI, where it is the job's
    // own `id_tokens` entry and the token module gives GitLab-specific advice about it.
    let in_gitlab = std::env::var("GITLAB_CI").is_ok_and(|v| v == "true");
    let explicit = args.identity_token.clone().or_else(|| {
        std::env::var(vouch_sigstore::token::vars::SIGSTORE_ID_TOKEN)
            .ok()
            .filter(|t| !t.trim().is_empty() && !in_gitlab)
    });
    if let Some(t) = explicit {
        request = request.explicit_token(t);
    }
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let interactive = match args.oauth_flow {
        OAuthFlowArg::None => Interactive::Never,
        _ if !terminal => Interactive::Never,
        OAuthFlowArg::Auto => Interactive::Auto,
        OAuthFlowArg::Browser => Interactive::Browser,
        OAuthFlowArg::Device => Interactive::Device,
    };
    let issuer = args
        .oidc_issuer
        .clone()
        .or_else(|| config.oidc_url().map(str::to_owned))
        .unwrap_or_else(|| vouch_sigstore::token::PUBLIC_GOOD_ISSUER.to_owned());
    request = request
        .interactive(interactive)
        .issuer(issuer, args.oidc_client_id.clone())
        .browser_opener(std::sync::Arc::new(|url: &str| open::that(url).is_ok()));
    let say = |line: &str| eprintln!("{line}");
    match vouch_sigstore::token::obtain(&request, &say).await {
        Ok((token, source)) => {
            eprintln!("identity: {} (token from {source})", token.identity());
            Ok(token)
        }
        Err(e) => {
            // The cause (expired when, which audience) belongs on the same line as the error.
            let mut message = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message.push_str(&format!(": {c}"));
                cause = c.source();
            }
            Err(match e.hint() {
                Some(hint) => crate::output::error_with_hint(message, hint),
                None => anyhow::anyhow!(message),
            })
        }
    }
}

/// Writes a bundle atomically: a reader sees the old file or the whole new one.
pub fn write_bundle(path: &Path, json: &str) -> anyhow::Result<()> {
    let mut bytes = json.as_bytes().to_vec();
    if !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    crate::output::write_atomic(path, &bytes)
}

/// A multi-threaded runtime for the network calls.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

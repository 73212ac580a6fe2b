//! What `vouch sign` and `vouch attest` share: choosing the services and trust material,
//! finding the credential, and writing bundles.

use std::path::Path;

use anyhow::{Context as _, bail};
use vouch_sigstore::key::ManagedKey;
use vouch_sigstore::{
    Credential, Instance, RetryPolicy, Services, Signer, SigningConfig, TrustMaterial,
};

use crate::cli::SigningArgs;
use crate::env;

/// Builds the signer the arguments describe.
pub async fn signer(args: &SigningArgs) -> anyhow::Result<Signer> {
    let (config, trust) = deployment(args)?;
    let credential = match &args.key {
        Some(path) => Credential::Key(managed_key(path)?),
        None => Credential::Keyless(identity_token(args, &config).await?),
    };
    signer_for(args, config, trust, credential)
}

/// A signer for a deployment and credential chosen by the caller (`vouch release --devstack`).
pub fn signer_for(
    args: &SigningArgs,
    config: SigningConfig,
    trust: TrustMaterial,
    credential: Credential,
) -> anyhow::Result<Signer> {
    let services = Services::select(&config, args.rekor_version)?;
    let retry = RetryPolicy {
        attempts: args.attempts,
        request_timeout: std::time::Duration::from_secs(args.timeout),
        ..RetryPolicy::default()
    };
    Ok(Signer::new(services, trust, credential, retry)?)
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
    Ok((
        SigningConfig::embedded(instance)?,
        TrustMaterial::embedded(instance)?,
    ))
}

fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta = fs_err::metadata(path)?;
    if meta.len() > vouch_sigstore::MAX_TRUST_BYTES as u64 {
        bail!(
            "`{}` is {} bytes, more than the {}-byte limit for trust material",
            path.display(),
            meta.len(),
            vouch_sigstore::MAX_TRUST_BYTES
        );
    }
    Ok(fs_err::read(path)?)
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

/// The identity token: `--identity-token`, then `SIGSTORE_ID_TOKEN`.
async fn identity_token(
    args: &SigningArgs,
    _config: &SigningConfig,
) -> anyhow::Result<vouch_sigstore::sign::IdentityToken> {
    let explicit = args
        .identity_token
        .clone()
        .or_else(|| std::env::var(env::SIGSTORE_ID_TOKEN).ok())
        .filter(|t| !t.trim().is_empty());
    let Some(raw) = explicit else {
        bail!(
            "no identity token: pass `--identity-token`, set `{}`, or sign with `--key`",
            env::SIGSTORE_ID_TOKEN
        );
    };
    let token = vouch_sigstore::sign::IdentityToken::from_jwt(raw.trim()).map_err(|_| {
        anyhow::anyhow!("the identity token is not a JWT (header.payload.signature)")
    })?;
    if token.is_expired() {
        return Err(crate::output::error_with_hint(
            format!("the identity token expired at {}", token.expiration()),
            "identity tokens live minutes: request a fresh one just before signing",
        ));
    }
    Ok(token)
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

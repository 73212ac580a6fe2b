//! A client for the sigstore-conformance test suite (<https://github.com/sigstore/sigstore-conformance>),
//! whose harness runs one process per case with exactly this command line:
//!
//! ```text
//! vouch-conformance verify-bundle [--staging] --bundle B
//!     (--certificate-identity I --certificate-oidc-issuer U | --key K)
//!     [--trusted-root T] FILE_OR_sha256:HEX
//! vouch-conformance sign-bundle [--staging] [--in-toto] --identity-token T --bundle OUT
//!     [--trusted-root TR] [--signing-config SC] FILE
//! ```
//!
//! `verify-bundle` exits 0 when the bundle verifies, 1 when it is rejected, 2 on a usage
//! error. The harness passes no trusted root for public-good cases, so the embedded production
//! (or, with `--staging`, staging) root is used.
//!
//! `sign-bundle` signs FILE keylessly (with `--in-toto`, FILE is an in-toto statement, signed
//! in a DSSE envelope) and writes the bundle only after vouch's verifier has accepted it; exit
//! 0 on success, 2 otherwise.
//!
//! The arguments are parsed by hand: the protocol is fixed and small, and the harness, not a
//! person, is the user.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use vouch_sigstore::{ArtifactInput, Instance, Matcher, Policy, TrustMaterial, Verifier};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[derive(Default)]
struct Options {
    staging: bool,
    bundle: Option<String>,
    identity: Option<String>,
    issuer: Option<String>,
    key: Option<String>,
    trusted_root: Option<String>,
    input: Option<String>,
}

fn run(args: &[String]) -> Result<bool, String> {
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("verify-bundle") => {}
        Some("sign-bundle") => return sign(it.as_slice()).map(|()| true),
        other => return Err(format!("expected `verify-bundle`, found {other:?}")),
    }
    let mut o = Options::default();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("`{arg}` needs a value"))
        };
        match arg.as_str() {
            "--staging" => o.staging = true,
            "--bundle" => o.bundle = Some(value()?),
            "--certificate-identity" => o.identity = Some(value()?),
            "--certificate-oidc-issuer" => o.issuer = Some(value()?),
            "--key" => o.key = Some(value()?),
            "--trusted-root" => o.trusted_root = Some(value()?),
            flag if flag.starts_with("--") => return Err(format!("unknown flag `{flag}`")),
            input => {
                if o.input.replace(input.to_owned()).is_some() {
                    return Err("more than one input".to_owned());
                }
            }
        }
    }
    let bundle_path = o.bundle.ok_or("--bundle is required")?;
    let input = o.input.ok_or("an input file or sha256:HEX is required")?;

    let trust = match &o.trusted_root {
        Some(path) => TrustMaterial::from_trusted_root_json(&read(path)?, path),
        None if o.staging => TrustMaterial::embedded(Instance::Staging),
        None => TrustMaterial::embedded(Instance::Production),
    }
    .map_err(|e| e.to_string())?;
    let verifier = Verifier::new(trust).map_err(|e| e.to_string())?;

    let policy = match (&o.key, &o.identity, &o.issuer) {
        (Some(key), _, _) => Policy::public_key_pem(&String::from_utf8_lossy(&read(key)?))
            .map_err(|e| e.to_string())?,
        (None, Some(identity), Some(issuer)) => {
            Policy::keyless(Matcher::exact(identity), Matcher::exact(issuer))
        }
        _ => {
            return Err(
                "give --key, or --certificate-identity and --certificate-oidc-issuer".to_owned(),
            );
        }
    };

    let bundle = read(&bundle_path)?;
    let report = if let Some(hex) = input.strip_prefix("sha256:") {
        let digest = vouch_digest::Digest::from_hex(vouch_digest::Algorithm::Sha256, hex)
            .map_err(|e| format!("`{input}`: {e}"))?;
        verifier.verify(&bundle, ArtifactInput::Digest(digest), &policy)
    } else {
        let artifact = read(&input)?;
        verifier.verify(&bundle, ArtifactInput::Bytes(&artifact), &policy)
    };
    if let Some(failure) = report.first_failure() {
        eprintln!("rejected: {}: {}", failure.id, failure.message);
        if let (Some(e), Some(f)) = (&failure.expected, &failure.found) {
            eprintln!("  expected: {e}\n  found:    {f}");
        }
    }
    Ok(report.verified)
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))
}

#[derive(Default)]
struct SignOptions {
    staging: bool,
    in_toto: bool,
    token: Option<String>,
    bundle: Option<String>,
    trusted_root: Option<String>,
    signing_config: Option<String>,
    input: Option<String>,
}

fn sign(args: &[String]) -> Result<(), String> {
    use vouch_sigstore::{Credential, RetryPolicy, Services, Signer, SigningConfig};
    let mut o = SignOptions::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("`{arg}` needs a value"))
        };
        match arg.as_str() {
            "--staging" => o.staging = true,
            "--in-toto" => o.in_toto = true,
            "--identity-token" => o.token = Some(value()?),
            "--bundle" => o.bundle = Some(value()?),
            "--trusted-root" => o.trusted_root = Some(value()?),
            "--signing-config" => o.signing_config = Some(value()?),
            flag if flag.starts_with("--") => return Err(format!("unknown flag `{flag}`")),
            input => {
                if o.input.replace(input.to_owned()).is_some() {
                    return Err("more than one input".to_owned());
                }
            }
        }
    }
    let token = o.token.ok_or("--identity-token is required")?;
    let out = o.bundle.ok_or("--bundle is required")?;
    let input = o.input.ok_or("an input file is required")?;
    let instance = if o.staging {
        Instance::Staging
    } else {
        Instance::Production
    };
    let trust = match &o.trusted_root {
        Some(path) => TrustMaterial::from_trusted_root_json(&read(path)?, path),
        None => TrustMaterial::embedded(instance),
    }
    .map_err(|e| e.to_string())?;
    let config = match &o.signing_config {
        Some(path) => SigningConfig::from_json(&read(path)?, path),
        None => SigningConfig::embedded(instance),
    }
    .map_err(|e| e.to_string())?;
    let services = Services::select(&config, None).map_err(|e| e.to_string())?;
    let token = vouch_sigstore::sign::IdentityToken::from_jwt(token.trim())
        .map_err(|_| "the identity token is not a JWT".to_owned())?;
    let signer = Signer::new(
        services,
        trust,
        Credential::Keyless(token),
        RetryPolicy::default(),
    )
    .map_err(|e| e.to_string())?;
    let bytes = read(&input)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let signed = runtime
        .block_on(async {
            if o.in_toto {
                signer.sign_statement(&bytes).await
            } else {
                let digest = vouch_digest::hash_bytes(vouch_digest::Algorithm::Sha256, &bytes)
                    .ok_or_else(|| vouch_sigstore::SignError::Internal("no SHA-256".into()))?;
                signer.sign_digest(&digest).await
            }
        })
        .map_err(|e| e.to_string())?;
    // Through a temporary file and a rename: the harness never reads a partial bundle.
    let tmp = format!("{out}.{}.tmp", std::process::id());
    std::fs::write(&tmp, signed.bundle_json.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, &out))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write `{out}`: {e}")
        })
}

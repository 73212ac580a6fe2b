//! Settings resolved once, before any work: flags, then environment, then defaults.

use anyhow::{Context as _, bail};

use crate::env;

/// The creation time for documents: `SOURCE_DATE_EPOCH` when set, else the clock.
pub fn created_time() -> anyhow::Result<i64> {
    match std::env::var(env::SOURCE_DATE_EPOCH) {
        Ok(v) if !v.trim().is_empty() => {
            let secs: i64 = v.trim().parse().with_context(|| {
                format!(
                    "`{}` is not a number of seconds: `{v}`",
                    env::SOURCE_DATE_EPOCH
                )
            })?;
            if !(0..=253_402_300_799).contains(&secs) {
                bail!("`{}` is out of range: `{v}`", env::SOURCE_DATE_EPOCH);
            }
            Ok(secs)
        }
        _ => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)),
    }
}

/// The trust material: `--trusted-root`, `--trust-config`, `--staging`, else the embedded
/// production root. Never the network.
pub fn trust_material(
    args: &crate::cli::TrustSourceArgs,
) -> anyhow::Result<vouch_sigstore::TrustMaterial> {
    use vouch_sigstore::{Instance, TrustMaterial};
    let read = |path: &std::path::Path| -> anyhow::Result<Vec<u8>> {
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
    };
    let material = if let Some(path) = &args.trusted_root {
        TrustMaterial::from_trusted_root_json(&read(path)?, &path.display().to_string())?
    } else if let Some(path) = &args.trust_config {
        TrustMaterial::from_trust_config_json(&read(path)?, &path.display().to_string())?
    } else if args.staging {
        TrustMaterial::embedded(Instance::Staging)?
    } else {
        TrustMaterial::embedded(Instance::Production)?
    };
    Ok(material)
}

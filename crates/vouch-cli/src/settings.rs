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

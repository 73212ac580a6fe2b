//! Bounded retries with jittered exponential backoff for the signing services.
//!
//! Only failures that a second attempt can cure are retried: connection errors, timeouts,
//! HTTP 5xx, 408 and 429. A 4xx answer is final: the request itself is wrong, and repeating it
//! only repeats the refusal.

use std::future::Future;
use std::time::Duration;

/// How often and how patiently to call a service.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included. At least 1.
    pub attempts: u32,
    /// Delay before the second attempt; doubled after each further failure.
    pub base_delay: Duration,
    /// Upper bound on one delay.
    pub max_delay: Duration,
    /// Time allowed for one request, connection included.
    pub request_timeout: Duration,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The outcome of one failed attempt.
#[derive(Debug)]
pub(crate) enum Failure<E> {
    /// Worth another attempt.
    Transient(E),
    /// Final.
    Permanent(E),
}

/// Whether an HTTP status is worth another attempt.
pub(crate) fn transient_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

impl RetryPolicy {
    /// The delay before attempt `n + 1` (`n` ≥ 1): full jitter over an exponential window, so
    /// many signers retrying at once spread out instead of arriving together.
    fn delay(&self, n: u32) -> Duration {
        let window = self
            .base_delay
            .saturating_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let mut bytes = [0u8; 8];
        let fraction = match aws_lc_rs::rand::fill(&mut bytes) {
            Ok(()) => u64::from_le_bytes(bytes) as f64 / u64::MAX as f64,
            Err(_) => 1.0,
        };
        // Half fixed, half random: never a zero delay, never more than the window.
        window.mul_f64(0.5 + fraction / 2.0)
    }

    /// Runs `attempt` until it succeeds, fails permanently, or the attempts are spent. Returns
    /// the last error and the number of attempts made.
    pub(crate) async fn run<T, E, F, Fut>(&self, mut attempt: F) -> Result<T, (E, u32)>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure<E>>>,
    {
        let attempts = self.attempts.max(1);
        let mut n = 1;
        loop {
            match attempt(n).await {
                Ok(value) => return Ok(value),
                Err(Failure::Permanent(e)) => return Err((e, n)),
                Err(Failure::Transient(e)) if n >= attempts => return Err((e, n)),
                Err(Failure::Transient(_)) => {
                    tokio::time::sleep(self.delay(n)).await;
                    n += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_bounds() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.delay(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.delay(3);
            assert!(third >= Duration::from_millis(175) && third <= Duration::from_millis(350));
            assert!(policy.delay(40) <= Duration::from_millis(350));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn transient_failures_are_retried_and_permanent_ones_are_not() {
        let policy = RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let mut calls = 0;
        let ok: Result<u32, (&str, u32)> = policy
            .run(|n| {
                calls += 1;
                async move {
                    if n < 3 {
                        Err(Failure::Transient("reset"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(ok.unwrap(), 3);
        assert_eq!(calls, 3);

        let spent: Result<(), _> = policy
            .run(|_| async { Err(Failure::Transient("reset")) })
            .await;
        assert_eq!(spent.unwrap_err(), ("reset", 3));

        let refused: Result<(), _> = policy
            .run(|_| async { Err(Failure::Permanent("400")) })
            .await;
        assert_eq!(refused.unwrap_err(), ("400", 1));
        assert!(transient_status(503) && transient_status(429) && !transient_status(404));
    }
}

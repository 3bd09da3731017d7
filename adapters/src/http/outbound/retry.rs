//! Retries of idempotent reads (tower's retry layer, with this policy): a
//! read whose attempt failed in transport, timed out, or got a 5xx or a 429
//! is tried again after a jittered backoff (or the panel's `Retry-After`,
//! when short), at most `max_retries` times, within the caller's deadline and
//! within the server's retry budget (a share of its reads plus a small floor),
//! so retries never multiply the load on a struggling panel. Writes are never
//! retried here: their retries belong to the caller, with a `request_id`.

use std::{sync::Arc, time::Duration, time::Instant};

use reqwest::StatusCode;
use tower::retry::{Policy, budget::Budget};

use super::{Class, Outbound, guard::Guard};
use crate::{AdapterError, http::Reply};

/// How reads are retried.
#[derive(Clone, Copy, Debug)]
pub struct RetrySettings {
    /// Retries of one read after its first attempt (Envoy's default: 1 to 3).
    pub max_retries: u32,
    /// The first backoff; each retry doubles it, with full jitter.
    pub backoff: Duration,
    /// The longest `Retry-After` waited for; a longer one ends the read.
    pub max_retry_after: Duration,
    /// Retries allowed as a share of reads, in percent (Linkerd: 20%)...
    pub budget_percent: u32,
    /// ...plus this many per second whatever the reads (Linkerd: 10).
    pub budget_floor_per_second: u32,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_retries: 2,
            backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(2),
            budget_percent: 20,
            budget_floor_per_second: 10,
        }
    }
}

/// The retry policy of one server's stack.
#[derive(Clone)]
pub(super) struct ReadRetries(pub Arc<Guard>);

impl Policy<Outbound, Reply, AdapterError> for ReadRetries {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        call: &mut Outbound,
        result: &mut Result<Reply, AdapterError>,
    ) -> Option<Self::Future> {
        let guard = &self.0;
        let settings = guard.settings.retries;
        if call.attempt == 0 {
            guard.budget.deposit();
        }
        if call.attempt >= settings.max_retries {
            return None;
        }
        let asked = match result {
            Ok(reply) if reply.status == StatusCode::TOO_MANY_REQUESTS => {
                Some(reply.retry_after.unwrap_or(settings.backoff))
            }
            Ok(reply) if reply.status.is_server_error() => None,
            Err(
                AdapterError::Unavailable { .. }
                | AdapterError::Unreachable { .. }
                | AdapterError::Timeout(_),
            ) => None,
            _ => return None,
        };
        let delay = match asked {
            Some(asked) if asked > settings.max_retry_after => return None,
            Some(asked) => asked,
            None => jittered(settings.backoff, call.attempt),
        };
        if call
            .scope
            .deadline
            .is_some_and(|deadline| Instant::now() + delay >= deadline)
        {
            return None;
        }
        if !guard.budget.withdraw() {
            return None;
        }
        call.attempt += 1;
        guard.metrics.retried(guard.server_id());
        Some(tokio::time::sleep(delay))
    }

    fn clone_request(&mut self, call: &Outbound) -> Option<Outbound> {
        if call.scope.class != Class::Read {
            return None;
        }
        call.try_clone()
    }
}

/// Full jitter: a random wait up to `base` × 2^attempt.
fn jittered(base: Duration, attempt: u32) -> Duration {
    let ceiling = base.saturating_mul(1 << attempt.min(10));
    ceiling.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_its_ceiling() {
        for attempt in 0..4 {
            let ceiling = Duration::from_millis(50) * (1 << attempt);
            for _ in 0..100 {
                assert!(jittered(Duration::from_millis(50), attempt) <= ceiling);
            }
        }
    }
}

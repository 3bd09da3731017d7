//! Runtime configuration: plain values, read once at start (from flags and
//! environment, see `cli`) and validated there.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use panelgate_adapters::http::Resilience;
use panelgate_inventory::Keyring;
use tonic::transport::ServerTlsConfig;

use crate::{auth::Auth, caches, placement::Strategy};

/// Everything the gateway needs besides its listener. No Debug: the database
/// URL may hold a password.
#[derive(Clone)]
pub struct Config {
    /// `sqlite://file.db` (created on first start) or `postgres://...`.
    pub database_url: String,
    /// Master keys for credentials; None refuses to store credentials.
    pub keyring: Option<Keyring>,
    /// Apply pending migrations at start.
    pub migrate_on_start: bool,
    /// How long a server's package list is cached.
    pub package_cache_ttl: Duration,
    /// How long server records are cached (a backstop: changes are also
    /// announced to every replica).
    pub server_cache_ttl: Duration,
    /// How placements rank servers when they name no strategy.
    pub placement_strategy: Strategy,
    /// The memory the caches of records, adapters and package lists may
    /// take, in MiB (see `caches`).
    pub cache_memory_mib: u64,
    /// How calls to each panel are protected: timeouts, the bulkhead, the
    /// circuit breaker, read retries.
    pub outbound: Resilience,
    /// How often servers whose circuit is open are probed (zero: never).
    pub probe_interval: Duration,
    /// How often an applied sync of the whole fleet runs (zero: never).
    pub sync_interval: Duration,
    /// Whether the periodic sync reads usage too.
    pub sync_usage: bool,
    /// How often the health service checks the inventory.
    pub health_interval: Duration,
    /// Caller authentication; None lets every call through (`--auth-disabled`).
    pub auth: Option<Arc<Auth>>,
    /// TLS of the gRPC listener (and client certificates, for mTLS); None
    /// serves plaintext.
    pub tls: Option<ServerTlsConfig>,
    /// How long a `request_id` is remembered: a retry within it replays the
    /// first outcome.
    pub idempotency_retention: Duration,
    /// How long the operation journal keeps an entry.
    pub journal_retention: Duration,
    /// How long an ended batch is kept.
    pub batch_retention: Duration,
    /// Where to serve Prometheus metrics (`/metrics`); None serves none.
    pub metrics_listen: Option<SocketAddr>,
    /// How long calls in flight may finish once shutdown begins.
    pub shutdown_grace: Duration,
}

impl Config {
    /// Defaults for `database_url`, with credentials refused (no key).
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            database_url: database_url.into(),
            keyring: None,
            migrate_on_start: true,
            package_cache_ttl: Duration::from_secs(300),
            server_cache_ttl: Duration::from_secs(30),
            cache_memory_mib: caches::DEFAULT_MEMORY_MIB,
            placement_strategy: Strategy::LeastFull,
            outbound: Resilience::default(),
            probe_interval: Duration::from_secs(5),
            sync_interval: Duration::ZERO,
            sync_usage: false,
            health_interval: Duration::from_secs(1),
            auth: None,
            tls: None,
            idempotency_retention: Duration::from_secs(24 * 3600),
            journal_retention: Duration::from_secs(90 * 24 * 3600),
            batch_retention: Duration::from_secs(30 * 24 * 3600),
            metrics_listen: None,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Longest duration a flag takes.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Parses "500ms", "30s", "5m", "1h", "90d" (a bare number is seconds): more
/// than zero, at most 366 days.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = parse_duration_or_zero(text)?;
    if duration.is_zero() || duration > MAX_DURATION {
        return Err(format!(
            "`{}` must be more than 0 and at most 366 days",
            text.trim()
        ));
    }
    Ok(duration)
}

/// Parses a duration like [`parse_duration`], zero included and unbounded.
pub fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 500ms, 30s, 5m, 1h or 90d"))?;
    let seconds = |n: u64| Ok(Duration::from_secs(n));
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => seconds(number),
        "m" => seconds(number.saturating_mul(60)),
        "h" => seconds(number.saturating_mul(3600)),
        "d" => seconds(number.saturating_mul(24 * 3600)),
        _ => Err(format!(
            "`{text}` is not a duration like 500ms, 30s, 5m, 1h or 90d"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86400)));
        assert_eq!(parse_duration_or_zero("0s"), Ok(Duration::ZERO));
        for bad in [
            "",
            "s",
            "1.5s",
            "10 parsecs",
            "-1s",
            "0",
            "0ms",
            "99999999h",
            "367d",
            "1w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

//! Flags of how calls to each panel are protected (`serve`): timeouts per
//! class of operation, the per-server bulkhead, the circuit breaker, read
//! retries and the prober of open circuits. Each default's reason is in
//! `panelgate_adapters::http::Resilience`.

use std::time::Duration;

use clap::Args;
use panelgate_adapters::http::{BreakerSettings, Resilience, RetrySettings, Timeouts};

use crate::config::{parse_duration, parse_duration_or_zero};

/// How calls to panels are protected.
#[derive(Args, Debug)]
pub struct OutboundArgs {
    /// Longest wait to connect to a panel.
    #[arg(long, env = "PANELGATE_UPSTREAM_CONNECT_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub upstream_connect_timeout: Duration,
    /// Longest wait for one attempt of a read (a retry may follow).
    #[arg(long, env = "PANELGATE_UPSTREAM_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub upstream_read_timeout: Duration,
    /// Longest wait for a change.
    #[arg(long, env = "PANELGATE_UPSTREAM_WRITE_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub upstream_write_timeout: Duration,
    /// Longest wait for a create (accounts, domains, databases, certificates).
    #[arg(long, env = "PANELGATE_UPSTREAM_CREATE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub upstream_create_timeout: Duration,
    /// Calls in flight to one server at most; more wait (see --panel-queue-wait).
    #[arg(long, env = "PANELGATE_PANEL_MAX_IN_FLIGHT", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub panel_max_in_flight: u32,
    /// How long a call waits for one of the server's slots before SERVER_BUSY.
    #[arg(long, env = "PANELGATE_PANEL_QUEUE_WAIT", default_value = "1s", value_parser = parse_duration_or_zero)]
    pub panel_queue_wait: Duration,
    /// Failures in a row (transport, timeouts, 5xx) that open a server's circuit.
    #[arg(long, env = "PANELGATE_BREAKER_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub breaker_failures: u32,
    /// A failure rate (percent) that opens the circuit over --breaker-window...
    #[arg(long, env = "PANELGATE_BREAKER_FAILURE_RATE", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub breaker_failure_rate: u32,
    /// ...once this many calls were made in the window.
    #[arg(long, env = "PANELGATE_BREAKER_MINIMUM_CALLS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub breaker_minimum_calls: u32,
    /// The window the failure rate is measured over.
    #[arg(long, env = "PANELGATE_BREAKER_WINDOW", default_value = "10s", value_parser = parse_duration)]
    pub breaker_window: Duration,
    /// The first ejection of an open circuit; the n-th in a row lasts n times it.
    #[arg(long, env = "PANELGATE_BREAKER_EJECTION", default_value = "30s", value_parser = parse_duration)]
    pub breaker_ejection: Duration,
    /// The longest ejection.
    #[arg(long, env = "PANELGATE_BREAKER_MAX_EJECTION", default_value = "300s", value_parser = parse_duration)]
    pub breaker_max_ejection: Duration,
    /// Retries of a failed read (writes are never retried by panelgate).
    #[arg(long, env = "PANELGATE_READ_RETRIES", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub read_retries: u32,
    /// Retries allowed, as a percentage of reads (plus --retry-budget-floor a second).
    #[arg(long, env = "PANELGATE_RETRY_BUDGET_PERCENT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub retry_budget_percent: u32,
    /// Retries allowed a second whatever the reads.
    #[arg(long, env = "PANELGATE_RETRY_BUDGET_FLOOR", default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub retry_budget_floor: u32,
    /// How often servers whose circuit is open are probed in the background,
    /// so they come back without caller traffic (0s: never).
    #[arg(long, env = "PANELGATE_PROBE_INTERVAL", default_value = "5s", value_parser = parse_duration_or_zero)]
    pub probe_interval: Duration,
}

impl OutboundArgs {
    /// The protection these flags describe.
    pub fn resilience(&self) -> Resilience {
        let defaults = Resilience::default();
        Resilience {
            timeouts: Timeouts {
                connect: self.upstream_connect_timeout,
                read: self.upstream_read_timeout,
                write: self.upstream_write_timeout,
                create: self.upstream_create_timeout,
            },
            max_in_flight: self.panel_max_in_flight,
            queue_wait: self.panel_queue_wait,
            breaker: BreakerSettings {
                consecutive_failures: self.breaker_failures,
                failure_rate_percent: self.breaker_failure_rate,
                minimum_calls: self.breaker_minimum_calls,
                window: self.breaker_window,
                base_ejection: self.breaker_ejection,
                max_ejection: self.breaker_max_ejection.max(self.breaker_ejection),
            },
            retries: RetrySettings {
                max_retries: self.read_retries,
                budget_percent: self.retry_budget_percent,
                budget_floor_per_second: self.retry_budget_floor,
                ..defaults.retries
            },
        }
    }
}

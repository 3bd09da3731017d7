//! What the adapters count for Prometheus: HTTP calls to panels (per server,
//! panel kind and outcome, with latency), panel logins, and cache lookups.
//! The gateway registers these families in its registry and serves them;
//! the adapters only record.

use std::{future::Future, hash::Hash, sync::Arc, time::Duration};

use moka::future::Cache;
use panelgate_proto::v1::ErrorReason;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::AdapterError;

/// Latency buckets in seconds, 1 ms to about 33 s (doubling): panel calls
/// and database queries both fall inside.
pub fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// A histogram family whose histograms have [`latency_buckets`].
pub type LatencyFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// One panel server.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabels {
    /// The server's inventory id.
    pub server_id: String,
    /// Its panel kind, e.g. "openadmin".
    pub panel_kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    #[prometheus(flatten)]
    server: ServerLabels,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    server_id: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerIdLabels {
    server_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectionLabels {
    server_id: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    result: &'static str,
}

/// The panel-side metric families. Cheap to clone: clones record into the
/// same series.
#[derive(Clone, Debug)]
pub struct PanelMetrics {
    upstream_requests: Family<UpstreamLabels, Counter>,
    upstream_seconds: LatencyFamily<ServerLabels>,
    logins: Family<LoginLabels, Counter>,
    cache_requests: Family<CacheLabels, Counter>,
    circuits: Family<ServerIdLabels, Gauge>,
    rejections: Family<RejectionLabels, Counter>,
    retries: Family<ServerIdLabels, Counter>,
}

impl Default for PanelMetrics {
    fn default() -> Self {
        PanelMetrics {
            upstream_requests: Family::default(),
            upstream_seconds: Family::new_with_constructor(latency_buckets),
            logins: Family::default(),
            cache_requests: Family::default(),
            circuits: Family::default(),
            rejections: Family::default(),
            retries: Family::default(),
        }
    }
}

impl PanelMetrics {
    /// Adds the families to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "panelgate_upstream_requests",
            "HTTP calls to panels, by server, panel kind and outcome (HTTP status class, \
             or timeout, unavailable, untrusted_tls, protocol_error)",
            self.upstream_requests.clone(),
        );
        registry.register(
            "panelgate_upstream_request_duration_seconds",
            "Latency of HTTP calls to panels, reply body included",
            self.upstream_seconds.clone(),
        );
        registry.register(
            "panelgate_panel_logins",
            "Logins to panels that hand out sessions (OpenAdmin JWTs), by server and outcome",
            self.logins.clone(),
        );
        registry.register(
            "panelgate_cache_requests",
            "Cache lookups by cache (jwt, packages, servers, adapters) and result (hit, miss)",
            self.cache_requests.clone(),
        );
        registry.register(
            "panelgate_upstream_circuit_open",
            "Whether a server's circuit is open (1) or closed (0), by server",
            self.circuits.clone(),
        );
        registry.register(
            "panelgate_upstream_rejections",
            "Calls refused before they reached a panel, by server and reason \
             (circuit_open, server_busy, credentials_rejected)",
            self.rejections.clone(),
        );
        registry.register(
            "panelgate_upstream_retries",
            "Read calls retried after a failed attempt, by server",
            self.retries.clone(),
        );
    }

    /// Records whether `server_id`'s circuit is open.
    pub fn circuit(&self, server_id: &str, open: bool) {
        self.circuits
            .get_or_create(&ServerIdLabels {
                server_id: server_id.to_owned(),
            })
            .set(i64::from(open));
    }

    /// Counts a call refused before it reached `server_id`'s panel.
    pub fn rejected(&self, server_id: &str, reason: &'static str) {
        self.rejections
            .get_or_create(&RejectionLabels {
                server_id: server_id.to_owned(),
                reason,
            })
            .inc();
    }

    /// Counts a retried read to `server_id`'s panel.
    pub fn retried(&self, server_id: &str) {
        self.retries
            .get_or_create(&ServerIdLabels {
                server_id: server_id.to_owned(),
            })
            .inc();
    }

    /// Records one HTTP call to `server`'s panel: its outcome and latency.
    pub fn upstream(&self, server: &ServerLabels, outcome: &'static str, elapsed: Duration) {
        self.upstream_requests
            .get_or_create(&UpstreamLabels {
                server: server.clone(),
                outcome,
            })
            .inc();
        self.upstream_seconds
            .get_or_create(server)
            .observe(elapsed.as_secs_f64());
    }

    /// Records a login to `server_id`'s panel.
    pub fn login(&self, server_id: &str, succeeded: bool) {
        self.logins
            .get_or_create(&LoginLabels {
                server_id: server_id.to_owned(),
                outcome: if succeeded { "ok" } else { "failed" },
            })
            .inc();
    }

    /// `cache`'s value for `key`, or the one `load` yields, counted as a
    /// lookup in cache `name`. Concurrent misses share one load; a failed
    /// load is not kept. A hit neither makes the load nor carries its
    /// future: calls that hit stay small.
    pub async fn cached<K, V, E, F>(
        &self,
        name: &'static str,
        cache: &Cache<K, V>,
        key: K,
        load: impl FnOnce() -> F,
    ) -> Result<V, Arc<E>>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        E: Send + Sync + 'static,
        F: Future<Output = Result<V, E>>,
    {
        if let Some(value) = cache.get(&key).await {
            self.cache_lookup(name, true);
            return Ok(value);
        }
        let entry = Box::pin(cache.entry(key).or_try_insert_with(load())).await?;
        self.cache_lookup(name, !entry.is_fresh());
        Ok(entry.into_value())
    }

    /// Records a lookup in `cache`: a hit, or a miss that had to load.
    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        self.cache_requests
            .get_or_create(&CacheLabels {
                cache,
                result: if hit { "hit" } else { "miss" },
            })
            .inc();
    }
}

/// The outcome label of a panel call that got no usable reply.
pub fn failure_outcome(error: &AdapterError) -> &'static str {
    match error.reason() {
        ErrorReason::UpstreamTimeout => "timeout",
        ErrorReason::UpstreamProtocolError => "protocol_error",
        ErrorReason::UpstreamTlsUntrusted => "untrusted_tls",
        ErrorReason::ServerMisconfigured => "misconfigured",
        _ => "unavailable",
    }
}

/// The outcome label of an HTTP reply: its status class.
pub fn status_outcome(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;

    use super::*;

    #[test]
    fn records_show_in_the_exposition() {
        let metrics = PanelMetrics::default();
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let server = ServerLabels {
            server_id: "s1".into(),
            panel_kind: "spanel",
        };
        metrics.upstream(&server, status_outcome(200), Duration::from_millis(3));
        metrics.upstream(
            &server,
            failure_outcome(&AdapterError::Timeout(Duration::from_secs(1))),
            Duration::from_secs(1),
        );
        metrics.login("s1", false);
        metrics.cache_lookup("jwt", true);

        let mut text = String::new();
        encode(&mut text, &registry).expect("encode");
        for line in [
            r#"panelgate_upstream_requests_total{server_id="s1",panel_kind="spanel",outcome="2xx"} 1"#,
            r#"panelgate_upstream_requests_total{server_id="s1",panel_kind="spanel",outcome="timeout"} 1"#,
            r#"panelgate_upstream_request_duration_seconds_count{server_id="s1",panel_kind="spanel"} 2"#,
            r#"panelgate_panel_logins_total{server_id="s1",outcome="failed"} 1"#,
            r#"panelgate_cache_requests_total{cache="jwt",result="hit"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}

//! Prometheus metrics: the registry of every family the gateway records, and
//! the `/metrics` HTTP endpoint that serves it (`--metrics-listen`).
//!
//! - gRPC server, go-grpc-prometheus names: `grpc_server_started_total`,
//!   `grpc_server_handled_total` (by `grpc_code`) and the
//!   `grpc_server_handling_seconds` histogram, per `grpc_service`/`grpc_method`
//!   (recorded by [`crate::telemetry`]);
//! - panels: `panelgate_upstream_*`, `panelgate_panel_logins_total`,
//!   `panelgate_cache_requests_total` (see [`PanelMetrics`]);
//! - inventory: `panelgate_inventory_query_duration_seconds` per statement kind;
//! - sync runs: `panelgate_sync_findings_total` per class.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Router, http::header::CONTENT_TYPE, routing::get};
use panelgate_adapters::metrics::{LatencyFamily, PanelMetrics, latency_buckets};
use panelgate_inventory::SyncClass;
use prometheus_client::{
    encoding::{EncodeLabelSet, prometheus_text},
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};
use tokio::net::TcpListener;
use tracing::{info, warn};

/// One RPC (static strings: recording a call allocates nothing).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    /// "unary", "server_stream" or "bidi_stream".
    pub grpc_type: &'static str,
    /// e.g. "panelgate.v1.AccountService".
    pub grpc_service: &'static str,
    /// e.g. "GetAccount".
    pub grpc_method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    #[prometheus(flatten)]
    rpc: RpcLabels,
    grpc_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SyncLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueryLabels {
    statement: &'static str,
    outcome: &'static str,
}

/// Every metric family of the gateway, and the registry that exposes them.
/// Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    started: Family<RpcLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    handling_seconds: LatencyFamily<RpcLabels>,
    inventory_seconds: LatencyFamily<QueryLabels>,
    sync_findings: Family<SyncLabels, Counter>,
    /// What the adapters record.
    pub panels: PanelMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Metrics {
            registry: Arc::default(),
            started: Family::default(),
            handled: Family::default(),
            handling_seconds: Family::new_with_constructor(latency_buckets),
            inventory_seconds: Family::new_with_constructor(latency_buckets),
            sync_findings: Family::default(),
            panels: PanelMetrics::default(),
        };
        let mut registry = Registry::default();
        registry.register(
            "grpc_server_started",
            "RPCs started on the server",
            metrics.started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, whatever their status code",
            metrics.handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "Time from an RPC's arrival to its last response byte (trailers)",
            metrics.handling_seconds.clone(),
        );
        registry.register(
            "panelgate_inventory_query_duration_seconds",
            "Latency of inventory database statements, by kind (select, insert, update, \
             delete, other) and outcome",
            metrics.inventory_seconds.clone(),
        );
        registry.register(
            "panelgate_sync_findings",
            "What sync runs found, by class: accounts matched, panel_only, index_only or \
             mismatched; servers server_unreachable, server_unknown or server_disabled",
            metrics.sync_findings.clone(),
        );
        metrics.panels.register(&mut registry);
        Metrics {
            registry: Arc::new(registry),
            ..metrics
        }
    }
}

impl Metrics {
    /// Records the start of an RPC.
    pub fn rpc_started(&self, rpc: &RpcLabels) {
        self.started.get_or_create(rpc).inc();
    }

    /// Records the end of an RPC with its status code name (e.g. "NOT_FOUND").
    pub fn rpc_handled(&self, rpc: &RpcLabels, code: &'static str, elapsed: Duration) {
        self.handled
            .get_or_create(&HandledLabels {
                rpc: *rpc,
                grpc_code: code,
            })
            .inc();
        self.handling_seconds
            .get_or_create(rpc)
            .observe(elapsed.as_secs_f64());
    }

    /// Records one inventory statement (`sql` is only read for its first word).
    pub fn inventory_query(&self, sql: &str, elapsed: Duration, failed: bool) {
        self.inventory_seconds
            .get_or_create(&QueryLabels {
                statement: statement_kind(sql),
                outcome: if failed { "error" } else { "ok" },
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one finding of a sync run.
    pub fn sync_finding(&self, class: SyncClass) {
        self.sync_findings
            .get_or_create(&SyncLabels {
                class: class.as_str(),
            })
            .inc();
    }

    /// The Prometheus text exposition of every family.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(err) = prometheus_text::encode(&mut text, &self.registry) {
            warn!(error = %err, "cannot encode the metrics");
        }
        text
    }
}

/// A statement's kind, from its first keyword.
fn statement_kind(sql: &str) -> &'static str {
    let first = sql.split_whitespace().next().unwrap_or("");
    ["select", "insert", "update", "delete"]
        .into_iter()
        .find(|kind| first.eq_ignore_ascii_case(kind))
        .unwrap_or("other")
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    info!(addr = %listener.local_addr()?, "serving Prometheus metrics on /metrics");
    let routes = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, routes)
        .with_graceful_shutdown(shutdown)
        .await
        .context("metrics endpoint failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_kinds() {
        assert_eq!(statement_kind("SELECT * FROM servers"), "select");
        assert_eq!(statement_kind("  insert into x"), "insert");
        assert_eq!(statement_kind("UPDATE x"), "update");
        assert_eq!(statement_kind("DELETE FROM x"), "delete");
        assert_eq!(statement_kind("BEGIN"), "other");
        assert_eq!(statement_kind(""), "other");
    }

    #[test]
    fn rpc_and_query_series_render() {
        let metrics = Metrics::default();
        let rpc = RpcLabels {
            grpc_type: "unary",
            grpc_service: "panelgate.v1.AccountService",
            grpc_method: "GetAccount",
        };
        metrics.rpc_started(&rpc);
        metrics.rpc_handled(&rpc, "NOT_FOUND", Duration::from_millis(4));
        metrics.inventory_query("SELECT 1", Duration::from_micros(300), false);
        let text = metrics.render();
        for line in [
            r#"grpc_server_started_total{grpc_type="unary",grpc_service="panelgate.v1.AccountService",grpc_method="GetAccount"} 1"#,
            r#"grpc_server_handled_total{grpc_type="unary",grpc_service="panelgate.v1.AccountService",grpc_method="GetAccount",grpc_code="NOT_FOUND"} 1"#,
            r#"grpc_server_handling_seconds_bucket{grpc_type="unary",grpc_service="panelgate.v1.AccountService",grpc_method="GetAccount",le="0.008"} 1"#,
            r#"panelgate_inventory_query_duration_seconds_count{statement="select",outcome="ok"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}

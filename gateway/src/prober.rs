//! Probes servers whose circuit is open, in the background, so they come
//! back without caller traffic: every interval, each server whose ejection
//! is over gets its panel's health check as a probe (at most [`PROBES`] at a
//! time); the outbound stack counts the outcome, and a success closes the
//! circuit.

use std::time::Duration;

use futures::{StreamExt, stream};
use panelgate_adapters::http::CallScope;
use tracing::debug;

use crate::{app::App, routing::Read};

/// Probes in flight at most.
const PROBES: usize = 4;

/// Probes due servers every `interval`, forever.
pub async fn probe_open_circuits(app: App, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let due = app.router.transport().guards().due_for_probe();
        stream::iter(due)
            .for_each_concurrent(PROBES, |server_id| probe(&app, server_id))
            .await;
    }
}

async fn probe(app: &App, server_id: String) {
    let router = &app.router;
    let route = match router.server_by_id(&server_id, Read::Cached).await {
        Ok(server) => router.route_any_state(server).await,
        Err(err) => Err(err),
    };
    let outcome = match route {
        Ok(route) => CallScope::probe()
            .run(route.panel.check())
            .await
            .map(drop)
            .map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    debug!(%server_id, ?outcome, "open circuit probed");
}

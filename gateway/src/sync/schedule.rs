//! The periodic sync (`--sync-interval`): once per interval, an applied run
//! over the whole fleet, its servers' starts spread over most of the
//! interval so the panels see an even trickle of reads.
//!
//! Replicas agree on who runs it without talking to each other: the run's
//! key is `scheduled:<interval>:<n>`, where n numbers the interval since
//! the epoch. The first replica to record it starts the run; the others get
//! the existing run back and do nothing.

use std::time::Duration;

use chrono::Utc;
use panelgate_inventory::ServerFilter;
use tracing::{debug, warn};

use super::{Plan, select, start};
use crate::app::App;

/// The share of the interval a run's server starts are spread over.
const SPREAD: f64 = 0.8;

/// Starts the interval's run every `interval`, forever; an interval whose
/// previous run is still going (here or on another replica) is skipped, so
/// runs never overlap.
pub async fn sync_periodically(app: App, interval: Duration, collect_usage: bool) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<String> = None;
    loop {
        ticks.tick().await;
        if let Some(id) = &last
            && still_running(&app, id).await
        {
            debug!(run_id = %id, "periodic sync skipped: the last run is still going");
            continue;
        }
        let servers = match select(&app, &ServerFilter::default()).await {
            Ok(servers) => servers,
            Err(err) => {
                warn!(error = %err, "periodic sync not started: servers not listed");
                continue;
            }
        };
        let count = u32::try_from(servers.len().max(1)).unwrap_or(u32::MAX);
        let plan = Plan {
            pace: interval.mul_f64(SPREAD) / count,
            servers,
            unknown: Vec::new(),
            apply: true,
            collect_usage,
            key: Some(slot_key(interval)),
            report_matched: false,
            caller: "scheduler".to_owned(),
        };
        match start(&app, plan).await {
            Ok(run) => last = Some(run.id),
            Err(err) => warn!(error = %err, "periodic sync not started"),
        }
    }
}

/// Whether run `id` is neither done nor interrupted.
async fn still_running(app: &App, id: &str) -> bool {
    match app.inventory.get_sync_run(id).await {
        Ok(run) => !run.done && !run.interrupted(Utc::now()),
        Err(err) => {
            warn!(run_id = %id, error = %err, "the last periodic sync not read");
            false
        }
    }
}

/// The key of the current interval's run.
fn slot_key(interval: Duration) -> String {
    let millis = u64::try_from(Utc::now().timestamp_millis()).unwrap_or_default();
    let width = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    format!("scheduled:{}:{}", width, millis / width)
}

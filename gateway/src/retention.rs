//! Background pruning of the operation journal: request_ids are forgotten
//! after the idempotency retention, entries deleted after the journal
//! retention, and sync runs with their findings too; ended batches after
//! the batch retention. Every replica prunes; the deletes are idempotent.

use std::time::Duration;

use chrono::Utc;
use panelgate_inventory::Inventory;
use tracing::{info, warn};

/// How often the journal is pruned.
const PRUNE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Prunes now, then every [`PRUNE_INTERVAL`], forever.
pub async fn prune_journal(
    inventory: Inventory,
    idempotency: Duration,
    journal: Duration,
    batches: Duration,
) {
    let mut ticks = tokio::time::interval(PRUNE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = Utc::now();
        let before =
            |age: Duration| now - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
        match inventory
            .prune_operations(before(idempotency), before(journal))
            .await
        {
            Ok(report) => {
                if report.forgotten > 0 || report.deleted > 0 {
                    info!(
                        request_ids_forgotten = report.forgotten,
                        entries_deleted = report.deleted,
                        "operation journal pruned"
                    );
                }
            }
            Err(err) => warn!(error = %err, "operation journal not pruned"),
        }
        match inventory.prune_sync_runs(before(journal)).await {
            Ok(0) => {}
            Ok(deleted) => info!(runs_deleted = deleted, "sync runs pruned"),
            Err(err) => warn!(error = %err, "sync runs not pruned"),
        }
        match inventory.prune_batches(before(batches)).await {
            Ok(0) => {}
            Ok(deleted) => info!(batches_deleted = deleted, "ended batches pruned"),
            Err(err) => warn!(error = %err, "ended batches not pruned"),
        }
    }
}

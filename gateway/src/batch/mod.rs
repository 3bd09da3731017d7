//! Batches: bulk operations stored in the inventory with their items, and
//! worked through by every replica ([`work`]).
//!
//! Each replica looks for open batches every [`LOOK_EVERY`] (at once when
//! it starts one itself) and drives each: it claims items with a lease
//! ([`LEASE`], renewed by `leases` while they run), runs each through its
//! single RPC ([`item`]), and records how it ended. Claims respect the
//! batch's limits across replicas (see `Inventory::claim_items`), and take
//! servers in turns, so one slow server does not hold the rest up. A
//! replica that dies leaves its items' leases to expire; another takes them
//! over, and their request_ids make sure nothing is done twice.

mod item;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use panelgate_inventory::{BatchRecord, ItemEnd, ItemRecord};
use tokio::{sync::Notify, task::JoinSet};
use tracing::{info, warn};

pub use self::item::{Action, caller, preview};
use crate::{app::App, leases::LEASE};

/// How often a replica looks for open batches.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How often a driver with nothing running here looks again for items
/// (retries coming due, leases expiring, the batch ending elsewhere).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Most items one replica runs at once, over all batches' own limits.
const MOST_AT_ONCE: usize = 1024;

/// The batches this replica drives, and the bell that makes it look for
/// new ones. Cheap to clone.
#[derive(Clone, Default)]
pub struct Worker {
    wake: Arc<Notify>,
    driving: Arc<Mutex<HashSet<String>>>,
}

impl Worker {
    /// Makes the replica look for open batches now (one was just started).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn driving(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.driving.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drives every open batch, forever.
pub async fn work(app: App) {
    loop {
        match app.inventory.open_batches().await {
            Ok(batches) => {
                for batch in batches {
                    if app.batches.driving().insert(batch.id.clone()) {
                        tokio::spawn(drive(app.clone(), batch));
                    }
                }
            }
            Err(err) => warn!(error = %err, "open batches not read"),
        }
        let _ = tokio::time::timeout(LOOK_EVERY, app.batches.wake.notified()).await;
    }
}

/// Claims, runs and ends `batch`'s items until the batch has ended.
async fn drive(app: App, batch: BatchRecord) {
    let batch = Arc::new(batch);
    let owner = app.leases.owner().to_owned();
    let mut running = JoinSet::new();
    loop {
        let room = MOST_AT_ONCE.saturating_sub(running.len());
        match app
            .inventory
            .claim_items(&batch.id, &owner, LEASE, room)
            .await
        {
            Ok(claimed) => {
                for claimed in claimed {
                    running.spawn(run(app.clone(), batch.clone(), claimed));
                }
            }
            Err(err) => warn!(batch_id = %batch.id, error = %err, "batch items not claimed"),
        }
        if running.is_empty() {
            match app.inventory.end_batch_if_done(&batch.id).await {
                Ok(true) => {
                    info!(batch_id = %batch.id, kind = batch.kind.as_str(), "batch ended");
                    break;
                }
                Ok(false) => {}
                Err(err) => warn!(batch_id = %batch.id, error = %err, "batch end not recorded"),
            }
            match app.inventory.get_batch(&batch.id).await {
                Ok(current) if current.ended_at.is_some() => break,
                _ => tokio::time::sleep(IDLE_POLL).await,
            }
            continue;
        }
        // Claim again once something ended, together with whatever else
        // ended meanwhile.
        running.join_next().await;
        while running.try_join_next().is_some() {}
    }
    app.batches.driving().remove(&batch.id);
}

/// Runs one claimed item and records how it ended; stops the batch once
/// too many items failed.
async fn run(app: App, batch: Arc<BatchRecord>, claimed: ItemRecord) {
    let end = item::run(&app, &batch, &claimed).await;
    let failed = matches!(&end, ItemEnd::Ended(outcome) if outcome.code != 0);
    if let ItemEnd::Retry {
        at, deferred: true, ..
    } = &end
        && let Err(err) = app
            .inventory
            .defer_items(&batch.id, &claimed.server_id, *at)
            .await
    {
        warn!(batch_id = %batch.id, error = %err, "items of a refusing server not put off");
    }
    match app
        .inventory
        .end_item(claimed.id, app.leases.owner(), end)
        .await
    {
        Ok(true) => {}
        Ok(false) => warn!(
            batch_id = %batch.id,
            item = claimed.position,
            "item's lease lost before it ended: another replica runs it again"
        ),
        Err(err) => warn!(batch_id = %batch.id, error = %err, "item end not recorded"),
    }
    let most = u64::from(batch.limits.max_failures);
    if failed && most > 0 {
        match app.inventory.failed_item_count(&batch.id).await {
            Ok(failures) if failures >= most => {
                let why = format!("not started: the batch stopped after {most} failed items");
                if let Err(err) = app.inventory.cancel_batch(&batch.id, false, &why).await {
                    warn!(batch_id = %batch.id, error = %err, "batch not stopped");
                }
            }
            Ok(_) => {}
            Err(err) => warn!(batch_id = %batch.id, error = %err, "failures not counted"),
        }
    }
}

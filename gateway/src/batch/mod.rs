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

use panelgate_inventory::{BatchRecord, ItemEnd, ItemRecord, SERVERS_PER_CLAIM};
use tokio::{sync::Notify, task::JoinSet};
use tracing::{info, warn};

pub use self::item::{Action, caller, preview};
use crate::{app::App, leases::LEASE};

/// How often a replica looks for open batches.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How often a driver with nothing running here looks again for items
/// (retries coming due, leases expiring, the batch ending elsewhere).
const IDLE_POLL: Duration = Duration::from_millis(250);
/// The shortest time between two claims of one driver: items ending in a
/// burst are replaced by one claim (each claim ranks the batch's open
/// items), at the cost of a slot idling a few milliseconds.
const CLAIM_GAP: Duration = Duration::from_millis(10);
/// Most items one replica runs at once for one batch (the batch's own
/// limits are usually lower).
const MOST_AT_ONCE: usize = 1024;
/// Attempts at recording an item's end before its lease is left to expire
/// (another replica then runs it again, replaying its journalled outcome).
const END_ATTEMPTS: u32 = 5;

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

/// Drives every open batch, forever (the drivers stop with it).
pub async fn work(app: App) {
    let mut drivers = JoinSet::new();
    loop {
        while drivers.try_join_next().is_some() {}
        match app.inventory.open_batches().await {
            Ok(batches) => {
                for batch in batches {
                    if app.batches.driving().insert(batch.id.clone()) {
                        drivers.spawn(drive(app.clone(), batch));
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
    let servers = loop {
        match app.inventory.batch_servers(&batch.id).await {
            Ok(servers) => break servers,
            Err(err) => {
                warn!(batch_id = %batch.id, error = %err, "batch servers not read");
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    };
    // Servers found with nothing pending are left out of claims until the
    // next look at all of them (items come back to be retried).
    let mut drained: HashSet<String> = HashSet::new();
    let mut turn = 0_usize;
    let mut looked_at_all = tokio::time::Instant::now();
    let mut running = JoinSet::new();
    let mut last_claim = tokio::time::Instant::now();
    loop {
        if !running.is_empty() {
            tokio::time::sleep_until(last_claim + CLAIM_GAP).await;
        }
        last_claim = tokio::time::Instant::now();
        if last_claim >= looked_at_all + LOOK_EVERY {
            drained.clear();
            looked_at_all = last_claim;
        }
        let room = MOST_AT_ONCE.saturating_sub(running.len());
        // Each claim starts where the last one's servers ended, so every
        // server comes up in turn when there are more than a claim reads.
        let mut active: Vec<String> = servers
            .iter()
            .filter(|server| !drained.contains(*server))
            .cloned()
            .collect();
        if !active.is_empty() {
            let start = turn % active.len();
            active.rotate_left(start);
            turn = turn.wrapping_add(SERVERS_PER_CLAIM);
        }
        match app
            .inventory
            .claim_items(&batch.id, &owner, LEASE, room, &active)
            .await
        {
            Ok(claimed) => {
                drained.extend(claimed.drained);
                for claimed in claimed.items {
                    app.leases.hold_item(claimed.id);
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
        // Claim again once something ended (with whatever else ended
        // meanwhile), or after a while: retries come due and leases expire
        // while a slow item runs.
        tokio::select! {
            _ = running.join_next() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
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
    end_item(&app, &batch.id, &claimed, end).await;
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

/// Records how an item ended, retrying a failed write a few times; then
/// stops renewing its lease either way.
async fn end_item(app: &App, batch_id: &str, item: &ItemRecord, end: ItemEnd) {
    for attempt in 1..=END_ATTEMPTS {
        match app
            .inventory
            .end_item(item.id, app.leases.owner(), end.clone())
            .await
        {
            Ok(true) => break,
            Ok(false) => {
                warn!(
                    %batch_id,
                    item = item.position,
                    "item's lease lost before it ended: another replica runs it again"
                );
                break;
            }
            Err(err) if attempt < END_ATTEMPTS => {
                warn!(%batch_id, error = %err, "item end not recorded: trying again");
                tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
            }
            Err(err) => warn!(
                %batch_id,
                error = %err,
                "item end not recorded: its lease will expire and it runs again"
            ),
        }
    }
    app.leases.release_item(item.id);
}

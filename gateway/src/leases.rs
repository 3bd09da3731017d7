//! Claims of running mutations, kept alive: every [`RENEW_EVERY`] one
//! statement renews the lease of every `request_id` claim this process
//! holds, another the capacity slots those calls hold (see `capacity`), and
//! another the batch items it runs (see `batch`).
//! A claim so lives exactly as long as its process: a crashed gateway's
//! claims expire within [`LEASE`], and a retry then runs (checking first
//! whether the change was made).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use chrono::Utc;
use panelgate_inventory::Inventory;
use tracing::warn;

/// How long a claim holds without renewal before a retry may take it over.
pub const LEASE: Duration = Duration::from_secs(20);

/// How often held claims are renewed: well within [`LEASE`], so a missed
/// renewal (a slow database) loses nothing.
const RENEW_EVERY: Duration = Duration::from_secs(5);
const _: () = assert!(RENEW_EVERY.as_secs() * 3 <= LEASE.as_secs());

/// The journal entries this process is running. Cheap to clone.
#[derive(Clone)]
pub struct Leases {
    held: Arc<Mutex<HashSet<String>>>,
    /// The batch items this process runs.
    items: Arc<Mutex<HashSet<i64>>>,
    /// This process's name on the batch items it claims.
    owner: Arc<str>,
}

impl Default for Leases {
    fn default() -> Self {
        Leases {
            held: Arc::default(),
            items: Arc::default(),
            owner: uuid::Uuid::new_v4().to_string().into(),
        }
    }
}

impl Leases {
    /// This process's name on the batch items it claims (new each start).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Keeps the claim of journal entry `id` alive until [`Leases::release`].
    pub fn hold(&self, id: &str) {
        self.held().insert(id.to_owned());
    }

    /// Stops renewing the claim of `id` (its call ended).
    pub fn release(&self, id: &str) {
        self.held().remove(id);
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the lease of batch item `id` alive until
    /// [`Leases::release_item`].
    pub fn hold_item(&self, id: i64) {
        self.items().insert(id);
    }

    /// Stops renewing the lease of batch item `id` (it ended, or its end
    /// could not be recorded: another replica will run it again).
    pub fn release_item(&self, id: i64) {
        self.items().remove(&id);
    }

    fn items(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Renews the held claims forever.
    pub async fn renew(self, inventory: Inventory) {
        let mut ticker = tokio::time::interval(RENEW_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let ids: Vec<String> = self.held().iter().cloned().collect();
            if let Err(err) = inventory.renew_operations(&ids, Utc::now()).await {
                warn!(error = %err, claims = ids.len(), "claims of running calls not renewed");
            }
            if let Err(err) = inventory.renew_slots(&ids, LEASE).await {
                warn!(error = %err, "slots of running creates not renewed");
            }
            let items: Vec<i64> = self.items().iter().copied().collect();
            if let Err(err) = inventory.renew_items(&self.owner, &items, LEASE).await {
                warn!(error = %err, "claims of running batch items not renewed");
            }
        }
    }
}

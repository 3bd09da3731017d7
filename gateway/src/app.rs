//! The running gateway's shared state ([`App`]): the inventory, the router,
//! the package cache, the journal claims held here, and the account index's
//! upkeep. Each RPC runs as a call on it (see `call`).

use std::sync::Arc;

use panelgate_adapters::{AdapterError, http::Transport};
use panelgate_inventory::{AccountStatus, Change, Inventory};
use tracing::warn;

use crate::{
    batch::Worker,
    config::Config,
    leases::Leases,
    metrics::Metrics,
    packages::PackageCache,
    placement::Strategy,
    routing::{Route, Router},
};

/// Shared state of the running gateway. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The inventory database.
    pub inventory: Inventory,
    /// Target → server → adapter.
    pub router: Arc<Router>,
    /// Per-server package lists.
    pub packages: Arc<PackageCache>,
    /// The journal claims of the mutations running here.
    pub leases: Leases,
    /// How placements rank servers when they name no strategy.
    pub placement_strategy: Strategy,
    /// Every metric family.
    pub metrics: Metrics,
    /// The batches this replica drives.
    pub batches: Worker,
}

impl App {
    /// Builds the caches and the HTTP transport around `inventory`, recording
    /// into `metrics`.
    pub fn new(
        inventory: Inventory,
        config: &Config,
        metrics: &Metrics,
    ) -> Result<Self, AdapterError> {
        let panels = &metrics.panels;
        let transport = Transport::new(config.outbound, panels.clone())?;
        Ok(App {
            router: Arc::new(Router::new(
                inventory.clone(),
                transport,
                config,
                panels.clone(),
            )),
            packages: Arc::new(PackageCache::new(config, panels.clone())),
            leases: Leases::default(),
            placement_strategy: config.placement_strategy,
            metrics: metrics.clone(),
            batches: Worker::default(),
            inventory,
        })
    }

    /// Drops everything cached about server `id` (its record changed, here
    /// or on another replica, or it is gone).
    pub async fn server_changed(&self, id: &str) {
        self.router.reset(id).await;
        self.packages.invalidate(id).await;
    }

    /// Drops a server's package list after a package change here, and tells
    /// the other replicas to drop theirs.
    pub async fn packages_changed(&self, server_id: &str) {
        self.packages.invalidate(server_id).await;
        let change = Change::Packages(server_id.to_owned());
        if let Err(err) = self.inventory.announce(change).await {
            warn!(%server_id, error = %err, "package change not announced to other replicas");
        }
    }

    /// Drops everything cached about every server (changes may have been
    /// missed).
    pub async fn flush(&self) {
        self.router.flush().await;
        self.packages.invalidate_all();
    }

    /// Drops an account from the index.
    pub async fn index_removed(&self, server_id: &str, username: &str) {
        if let Err(err) = self.inventory.remove_account(server_id, username).await {
            warn!(%username, error = %err, "account index not updated");
        }
    }

    /// Sets an indexed account's package.
    pub async fn index_package(&self, route: &Route, username: &str, package: &str) {
        if let Err(err) = self
            .inventory
            .set_account_package(&route.server.id, username, package)
            .await
        {
            warn!(%username, error = %err, "account index not updated");
        }
    }

    /// Sets an indexed account's status.
    pub async fn index_status(&self, route: &Route, username: &str, status: AccountStatus) {
        if let Err(err) = self
            .inventory
            .set_account_status(&route.server.id, username, status)
            .await
        {
            warn!(%username, error = %err, "account index not updated");
        }
    }
}

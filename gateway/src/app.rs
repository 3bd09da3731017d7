//! The running gateway's shared state ([`App`]): the inventory, the router,
//! the package cache, the journal claims held here, and the account index's
//! upkeep. Each RPC runs as a call on it (see `call`).

use std::sync::Arc;

use panelgate_adapters::{AdapterError, http::Transport, metrics::PanelMetrics};
use panelgate_inventory::{AccountEntry, AccountStatus, Change, Inventory, InventoryError};
use panelgate_proto::v1::Account;
use tracing::warn;

use crate::{
    config::Config,
    error::GatewayError,
    leases::Leases,
    packages::PackageCache,
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
}

impl App {
    /// Builds the caches and the HTTP transport around `inventory`, recording
    /// into `metrics`.
    pub fn new(
        inventory: Inventory,
        config: &Config,
        metrics: &PanelMetrics,
    ) -> Result<Self, AdapterError> {
        let transport = Transport::new(config.outbound, metrics.clone())?;
        Ok(App {
            router: Arc::new(Router::new(
                inventory.clone(),
                transport,
                config,
                metrics.clone(),
            )),
            packages: Arc::new(PackageCache::new(config, metrics.clone())),
            leases: Leases::default(),
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

    /// Indexes an account just created on its server. The panel is the
    /// truth: an index failure is logged, not returned, so a done change is
    /// never reported failed (likewise below); except when the server itself
    /// was deleted meanwhile: then SERVER_REMOVED says what the panel did.
    pub async fn index_created(
        &self,
        route: &Route,
        account: &Account,
    ) -> Result<(), GatewayError> {
        let entry = AccountEntry {
            server_id: route.server.id.clone(),
            username: account.username.clone(),
            primary_domain: account.primary_domain.clone(),
            package: account.package.clone(),
            status: AccountStatus::Active,
        };
        match self.inventory.upsert_account(entry).await {
            Ok(()) => Ok(()),
            Err(InventoryError::NotFound { .. }) => Err(GatewayError::ServerRemoved {
                server: route.server.name.clone(),
                done: format!("account `{}` was created", account.username),
            }),
            Err(err) => {
                warn!(username = %account.username, error = %err, "account index not updated");
                Ok(())
            }
        }
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

//! Servers' capacity: an account create holds a slot on its server (see the
//! inventory's reservations) from before its panel call until the account
//! is indexed. The slot lives as long as the create's journal claim: renewed
//! with it while the call runs (see `leases`), so a crashed holder's slot
//! expires within a lease. A create that failed for certain frees its slot;
//! one whose outcome is unknown (a timeout, the caller gone, a retry of
//! such) keeps it, held by no call, for [`UNKNOWN_HOLD`], since the panel
//! may have made the account: the next create of that account (a retry)
//! takes it over and settles it.

use std::time::Duration;

use panelgate_adapters::{AdapterError, Entity};
use panelgate_inventory::{AccountEntry, AccountStatus, InventoryError, Slot};
use panelgate_proto::v1::Account;
use tracing::warn;

use crate::{
    app::App,
    call::{Call, Stop},
    error::GatewayError,
    leases::LEASE,
    routing::Route,
};

/// How long the slot of a create whose outcome is unknown is kept for a
/// retry to settle.
const UNKNOWN_HOLD: Duration = Duration::from_secs(600);

/// A create's claim on its server's capacity.
pub enum Claim {
    /// A slot, held until [`App::settle`] or expiry.
    Held(String),
    /// The account is indexed on the server already (a retry).
    Indexed,
    /// A validate_only call: the server has room, nothing is held.
    Checked,
}

impl App {
    /// Holds a slot on the route's server for `username` (a validate_only
    /// call only checks for room), and pins the call's journal entry to the
    /// server: SERVER_FULL when there is none, ALREADY_EXISTS when another
    /// call is creating the same account there.
    pub async fn claim_slot(
        &self,
        call: &Call,
        route: &Route,
        username: &str,
    ) -> Result<Claim, GatewayError> {
        let server = &route.server;
        let full = |max| GatewayError::ServerFull {
            server: server.name.clone(),
            max,
        };
        if call.validate_only() {
            let usage = self.inventory.usage(&server.id).await?;
            return match usage.free(server.max_accounts) {
                Some(0) => Err(full(server.max_accounts)),
                _ => Ok(Claim::Checked),
            };
        }
        let holder = call
            .journal_id()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let reserved = self
            .inventory
            .reserve_slot(&server.id, username, &holder, LEASE);
        let id = match Box::pin(reserved).await? {
            Slot::Held(id) => id,
            Slot::Indexed => return Ok(Claim::Indexed),
            Slot::Full { max } => return Err(full(max)),
            Slot::Taken => {
                return Err(route.fail(AdapterError::AlreadyExists {
                    entity: Entity::Account,
                    key: username.to_owned(),
                    upstream: Some("another call is creating it on this server now".into()),
                }));
            }
        };
        if let Err(err) = call.pin_server(Some(&server.id)).await {
            self.release(&id).await;
            return Err(err);
        }
        Ok(Claim::Held(id))
    }

    /// Ends a create's claim: the account made is indexed (in place of its
    /// slot); a create that failed for certain frees the slot and its pin,
    /// one whose outcome is unknown keeps both. The panel is the truth: an
    /// index failure is logged, not returned, so a done change is never
    /// reported failed; except when the server itself was deleted meanwhile:
    /// then SERVER_REMOVED says what the panel did.
    pub async fn settle(
        &self,
        call: &Call,
        route: &Route,
        claim: Claim,
        created: &Result<Account, Stop>,
    ) -> Result<(), GatewayError> {
        let (account, slot) = match (created, claim) {
            (_, Claim::Checked) => return Ok(()),
            (Ok(account), Claim::Held(id)) => (account, Some(id)),
            (Ok(account), Claim::Indexed) => (account, None),
            (Err(failure), Claim::Held(id)) => {
                if call.uncertain() || may_have_made(failure) {
                    if let Err(err) = self.inventory.keep_slot(&id, UNKNOWN_HOLD).await {
                        warn!(error = %err, "slot of an unknown outcome not kept longer");
                    }
                } else {
                    self.release(&id).await;
                    if let Err(err) = call.pin_server(None).await {
                        warn!(error = %err, "journal entry not unpinned");
                    }
                }
                return Ok(());
            }
            (Err(_), Claim::Indexed) => return Ok(()),
        };
        let entry = AccountEntry {
            server_id: route.server.id.clone(),
            username: account.username.clone(),
            primary_domain: account.primary_domain.clone(),
            package: account.package.clone(),
            status: AccountStatus::Active,
            email: account.email.clone(),
        };
        let indexed = match slot {
            Some(id) => self.inventory.settle_slot(&id, entry).await,
            None => self.inventory.upsert_account(entry).await,
        };
        match indexed {
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

    async fn release(&self, slot: &str) {
        if let Err(err) = self.inventory.release_slot(slot).await {
            warn!(error = %err, "slot not released: it frees itself when it expires");
        }
    }
}

/// Whether a failed create may have made its account all the same: unless
/// it failed before reaching the panel, or for a reason a retry cannot
/// change (a refusal).
fn may_have_made(failure: &Stop) -> bool {
    match failure {
        Stop::Checked(_) => false,
        Stop::Failed(GatewayError::Panel { error, .. }) if error.before_any_effect() => false,
        Stop::Failed(error) => error.reason().class().retryable,
    }
}

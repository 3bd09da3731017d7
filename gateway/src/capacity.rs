//! Servers' capacity: an account create holds a slot on its server (see the
//! inventory's reservations) from before its panel call until the account
//! is indexed, so concurrent creates on any number of replicas never fill a
//! server past its `max_accounts`. A create that failed for certain frees
//! its slot; one whose outcome is unknown (a timeout, the caller gone) keeps
//! it until it expires, since the panel may have made the account, and a
//! retry holds the same slot again.

use std::time::Duration;

use panelgate_inventory::{AccountEntry, AccountStatus, InventoryError, Slot};
use panelgate_proto::v1::Account;
use tracing::warn;

use crate::{app::App, call::Stop, error::GatewayError, routing::Route};

/// How long a slot outlives the longest create, for the call to settle it.
const SETTLE_MARGIN: Duration = Duration::from_secs(30);

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
    /// call only checks for room): SERVER_FULL when there is none.
    pub async fn claim_slot(
        &self,
        route: &Route,
        username: &str,
        validate_only: bool,
    ) -> Result<Claim, GatewayError> {
        let server = &route.server;
        let full = |max| GatewayError::ServerFull {
            server: server.name.clone(),
            max,
        };
        if validate_only {
            let usage = self.inventory.usage(&server.id).await?;
            let max = server.max_accounts;
            if max > 0 && usage.accounts + usage.reserved >= u64::from(max) {
                return Err(full(max));
            }
            return Ok(Claim::Checked);
        }
        let hold = self.slot_hold + SETTLE_MARGIN;
        match self
            .inventory
            .reserve_slot(&server.id, username, hold)
            .await?
        {
            Slot::Held(id) => Ok(Claim::Held(id)),
            Slot::Indexed => Ok(Claim::Indexed),
            Slot::Full { max } => Err(full(max)),
        }
    }

    /// Ends a create's claim: the account made is indexed (in place of its
    /// slot); a create that failed for certain frees the slot. The panel is
    /// the truth: an index failure is logged, not returned, so a done change
    /// is never reported failed; except when the server itself was deleted
    /// meanwhile: then SERVER_REMOVED says what the panel did.
    pub async fn settle(
        &self,
        route: &Route,
        claim: Claim,
        created: &Result<Account, Stop>,
    ) -> Result<(), GatewayError> {
        let (account, slot) = match (created, claim) {
            (_, Claim::Checked) => return Ok(()),
            (Ok(account), Claim::Held(id)) => (account, Some(id)),
            (Ok(account), Claim::Indexed) => (account, None),
            (Err(failure), Claim::Held(id)) if !may_have_made(failure) => {
                if let Err(err) = self.inventory.release_slot(&id).await {
                    warn!(error = %err, "slot not released: it frees itself when it expires");
                }
                return Ok(());
            }
            (Err(_), _) => return Ok(()),
        };
        let entry = AccountEntry {
            server_id: route.server.id.clone(),
            username: account.username.clone(),
            primary_domain: account.primary_domain.clone(),
            package: account.package.clone(),
            status: AccountStatus::Active,
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

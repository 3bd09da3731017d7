//! The public handle on a running SPanel simulator, and the snapshots of the
//! panel's rows it hands out.

use super::actions::Action;
use super::state::Panel;
use super::{SimPermissions, SimSpanelPackage, SpanelConfig, values};
use crate::server::{Server, handle_methods};

/// Snapshot of one hosting account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSpanelAccount {
    /// Login name, as created.
    pub username: String,
    /// The main domain.
    pub domain: String,
    /// Contact email; empty until `accounts/changeuseremail` (reading 9).
    pub email: String,
    /// Current password, in clear (a simulator keeps no hashes).
    pub password: String,
    /// The package's name, or `"Custom"` (reading 10).
    pub package: String,
    /// Whether the account is suspended.
    pub suspended: bool,
    /// The `reason` of the last suspension, if one was given.
    pub suspend_reason: Option<String>,
    /// Disk quota in MB (`None` = unlimited).
    pub quota_mb: Option<u64>,
    /// Inode limit.
    pub inodes_limit: Option<u64>,
    /// Addon domain limit (`Some(0)` = disabled).
    pub domains_limit: Option<u64>,
    /// Email account limit.
    pub emails_limit: Option<u64>,
    /// Database limit.
    pub databases_limit: Option<u64>,
    /// Pages the account may use.
    pub permissions: SimPermissions,
    /// The main domain first, then addon domains.
    pub domains: Vec<String>,
    /// Subdomains (full names), oldest first.
    pub subdomains: Vec<String>,
    /// Database users (prefixed), oldest first.
    pub db_users: Vec<String>,
    /// Databases (prefixed) with the users assigned to each, oldest first.
    pub databases: Vec<(String, Vec<String>)>,
    /// Creation day, `dd.mm.yyyy` (UTC), as listaccounts shows it.
    pub setup_date: String,
}

/// Snapshot of one admin user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSpanelAdmin {
    /// Login name.
    pub user: String,
    /// Password, in clear; empty for `root` (the server's own, not the panel's).
    pub password: String,
    /// Admin pages the user may use.
    pub permissions: SimPermissions,
}

/// One request body that reached `api.php`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// The decoded `action` field (empty when missing or not a string).
    pub action: String,
    /// The body exactly as it came on the wire.
    pub body: Vec<u8>,
}

/// Handle on a running SPanel simulator; clones share the same panel.
#[derive(Clone, Debug)]
pub struct SpanelSim {
    server: Server<Panel>,
}

impl SpanelSim {
    handle_methods!(SpanelConfig);

    /// `http://127.0.0.1:PORT/<folder>/`, the panel API's base; the endpoint is
    /// this plus `api.php`.
    pub fn base_url(&self) -> String {
        format!("http://{}/{}/", self.server.addr, self.server.lock().folder)
    }

    /// The raw bodies that reached `api.php`, oldest first, exactly as they came
    /// on the wire, with the action each named (reading 21).
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.server.lock().received().to_vec()
    }

    /// Turns the admin token's SSO option on or off.
    pub fn set_sso_enabled(&self, enabled: bool) {
        self.server.lock().admin_token_sso = enabled;
    }

    /// Snapshot of one account (username matched case-insensitively).
    pub fn account(&self, username: &str) -> Option<SimSpanelAccount> {
        self.server.lock().account_snapshot(username)
    }

    /// Packages as the panel holds them, in listing order.
    pub fn packages(&self) -> Vec<SimSpanelPackage> {
        self.server.lock().packages().to_vec()
    }

    /// Admin users, `root` first.
    pub fn admin_users(&self) -> Vec<SimSpanelAdmin> {
        self.server.lock().admins().to_vec()
    }

    /// Gives an account an addon domain, as the panel's UI would (no documented
    /// API function adds one; reading 16). False, and nothing changed, when the
    /// account does not exist or the domain is invalid or taken.
    pub fn add_addon_domain(&self, username: &str, domain: &str) -> bool {
        let mut panel = self.server.lock();
        let Some(domain) = values::normalize_domain(domain) else {
            return false;
        };
        if panel.domain_taken(&domain) {
            return false;
        }
        match panel.account_mut(username) {
            Some(account) => {
                account.addon_domains.push(domain);
                true
            }
            None => false,
        }
    }

    /// Makes the next call of `action` (e.g. `"accounts/wwwacct"`) fail with
    /// `{"result": "error", "message": [...messages]}`, for panel-internal
    /// failures that state cannot cause. One-shot; it fires after validation
    /// (reading 19).
    ///
    /// # Panics
    ///
    /// If `action` is not a simulated action (a typo would silently test nothing).
    pub fn fail_next(&self, action: &str, messages: &[&str]) {
        let Some(known) = Action::from_name(action) else {
            panic!("fail_next: unknown SPanel action {action:?}");
        };
        let messages = messages.iter().map(|&message| message.to_owned()).collect();
        self.server.lock().arm_failure(known, messages);
    }
}

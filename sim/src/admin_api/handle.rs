//! The public handle on a running admin_api simulator, and the snapshots of
//! the panel's rows it hands out.

use super::endpoints::Endpoint;
use super::state::Panel;
use super::{AdminApiConfig, SimPackage};
use crate::server::{Server, handle_methods};

/// Snapshot of one hosting user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimUser {
    /// User id (the admin account is id 1).
    pub id: u64,
    /// Login name, as first created.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Contact email.
    pub email: String,
    /// Current panel password, in clear (a simulator keeps no hashes).
    pub password: String,
    /// Package id exactly as last sent by add_user or update_user; may name no package.
    pub pkg_id: String,
    /// False while suspended.
    pub active: bool,
    /// The user's domains, oldest (primary) first.
    pub domains: Vec<String>,
    /// The user's databases, prefixed (`<user>_<db>`), in creation order.
    pub databases: Vec<String>,
    /// The user's database users, prefixed (`<user>_<dbuser>`), in creation order.
    pub db_users: Vec<String>,
}

/// Snapshot of one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimDomain {
    /// Domain id.
    pub id: u64,
    /// Domain name, normalized (lowercase).
    pub name: String,
    /// Username of the owner.
    pub owner: String,
    /// Document root as the panel stores it, e.g. `/home/bob/public_html`.
    pub path: String,
    /// PHP version as sent, e.g. `8.2`.
    pub php_version: String,
    /// Whether issue_ssl succeeded for it.
    pub has_ssl: bool,
}

/// Handle on a running admin_api simulator; clones share the same panel.
#[derive(Clone, Debug)]
pub struct AdminApiSim {
    server: Server<Panel>,
}

impl AdminApiSim {
    handle_methods!(AdminApiConfig);

    /// `http://127.0.0.1:PORT`, the panel's base URL; endpoints live under `/admin_api/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Turns the panel's API switch on or off.
    pub fn set_api_enabled(&self, enabled: bool) {
        self.server.lock().api_enabled = enabled;
    }

    /// Snapshot of one user (username matched case-insensitively).
    pub fn user(&self, username: &str) -> Option<SimUser> {
        self.server.lock().user_snapshot(username)
    }

    /// Snapshot of one domain (name matched case-insensitively).
    pub fn domain(&self, name: &str) -> Option<SimDomain> {
        self.server.lock().domain(name).cloned()
    }

    /// Packages as the panel holds them, in id order.
    pub fn packages(&self) -> Vec<SimPackage> {
        self.server.lock().packages().to_vec()
    }

    /// Makes the next call to `endpoint` fail with the panel's own failure message
    /// `message` (for panel-internal failures such as
    /// `"Failed to add mapping for 'x'."`, which cannot arise from state). One-shot;
    /// it fires at the endpoint's internal step, after validation.
    ///
    /// Endpoint names: `account_info` (the bare `/admin_api/`), `add_user`,
    /// `suspend_user`, `update_user`, `packages_list`, `new_package`, `issue_ssl`,
    /// `add_domain`, `database_add`, `sso_login`.
    ///
    /// # Panics
    ///
    /// If `endpoint` is none of these names (a typo would silently test nothing).
    pub fn fail_next(&self, endpoint: &str, message: &str) {
        let Some(endpoint) = Endpoint::from_name(endpoint) else {
            panic!("fail_next: unknown admin_api endpoint {endpoint:?}");
        };
        self.server.lock().arm_failure(endpoint, message);
    }
}

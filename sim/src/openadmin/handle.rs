//! The public handle on a running OpenAdmin simulator, and the snapshots of
//! the panel's rows it hands out.

use super::state::Panel;
use super::{OpenAdminConfig, SimPlan};
use crate::server::{Server, handle_methods};

/// Snapshot of one hosting user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimOpenAdminUser {
    /// User id (the `<id>` of `SUSPENDED_<id>_<username>`).
    pub id: u64,
    /// The plain username (never the `SUSPENDED_` form).
    pub username: String,
    /// Contact email.
    pub email: String,
    /// Current password, in clear (a simulator keeps no hashes).
    pub password: String,
    /// Name of the user's plan.
    pub plan_name: String,
    /// Whether the user is suspended.
    pub suspended: bool,
    /// The user's domains, in creation order.
    pub domains: Vec<String>,
    /// The dedicated IP, if any.
    pub dedicated_ip: Option<String>,
}

/// Snapshot of one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimOpenAdminDomain {
    /// Domain id.
    pub id: u64,
    /// Domain name (lowercase).
    pub name: String,
    /// Plain username of the owner.
    pub owner: String,
    /// Document root, under `/var/www/html/`.
    pub docroot: String,
    /// PHP version.
    pub php_version: String,
    /// Whether the domain is suspended.
    pub suspended: bool,
}

/// Snapshot of one services.json entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimService {
    /// The entry's key, as the service routes take it (e.g. `caddy`).
    pub name: String,
    /// The entry's `name` (e.g. `Caddy`), or its key without one.
    pub display_name: String,
    /// Whether the entry's `status` is `"active"`: the service is monitored.
    pub monitored: bool,
    /// Whether the service runs (false for a key that is no unit on the server).
    pub running: bool,
}

/// Handle on a running OpenAdmin simulator; clones share the same panel.
#[derive(Clone, Debug)]
pub struct OpenAdminSim {
    server: Server<Panel>,
}

impl OpenAdminSim {
    handle_methods!(OpenAdminConfig);

    /// `http://127.0.0.1:PORT`; the routes live under `/api/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }

    /// Number of successful logins (tokens issued).
    pub fn login_count(&self) -> u64 {
        self.server.lock().tokens.logins
    }

    /// Forgets every issued token: they answer 401 from now on.
    pub fn revoke_tokens(&self) {
        self.server.lock().tokens.revoke_all();
    }

    /// Turns the API on or off (`opencli api on|off`).
    pub fn set_api_enabled(&self, enabled: bool) {
        self.server.lock().api_enabled = enabled;
    }

    /// Snapshot of one user, by plain username (or its `SUSPENDED_` name).
    pub fn user(&self, username: &str) -> Option<SimOpenAdminUser> {
        self.server.lock().user_snapshot(username)
    }

    /// Gives a user a dedicated IP (listed by `GET /api/ips`); no-op for an
    /// unknown user.
    pub fn set_dedicated_ip(&self, username: &str, ip: &str) {
        if let Some(user) = self.server.lock().user_mut(username) {
            user.dedicated_ip = Some(ip.to_owned());
        }
    }

    /// Snapshot of one domain (name matched case-insensitively).
    pub fn domain(&self, name: &str) -> Option<SimOpenAdminDomain> {
        self.server.lock().domain(name).cloned()
    }

    /// Plans as the panel holds them, in id order.
    pub fn plans(&self) -> Vec<SimPlan> {
        self.server.lock().plans().to_vec()
    }

    /// The services.json entries with their running state, in key order.
    pub fn services(&self) -> Vec<SimService> {
        self.server.lock().service_snapshots()
    }

    /// Adds a notification (listed last by `GET /api/notifications`).
    pub fn add_notification(&self, title: &str, message: &str) {
        self.server
            .lock()
            .notifications
            .push((title.to_owned(), message.to_owned()));
    }
}

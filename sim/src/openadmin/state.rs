//! The panel's state: users, plans, domains, services, notifications, issued
//! tokens (behind the crate's shared mutex, `crate::server::Shared`).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::auth::Tokens;
use super::routes;
use super::{
    AutologinStyle, OpenAdminConfig, SimOpenAdminDomain, SimOpenAdminUser, SimPlan, SimService,
};
use crate::server::{Connections, Shared, Simulated};

/// The panel state shared by the handlers and the [`super::OpenAdminSim`] handle.
pub(super) type SharedPanel = Shared<Panel>;

/// Simulated disk use of a home directory with no domain, in 1 KiB blocks (reading 16).
const HOME_KIB: u64 = 64;
/// Simulated disk use of one domain's files, in 1 KiB blocks.
const DOMAIN_KIB: u64 = 1536;
/// Simulated inodes of a home directory with no domain.
const HOME_INODES: u64 = 12;
/// Simulated inodes of one domain's files.
const DOMAIN_INODES: u64 = 40;

/// One row of the users table.
#[derive(Clone, Debug)]
pub(super) struct UserRow {
    pub(super) id: u64,
    /// The plain username (the row is shown renamed while suspended).
    pub(super) username: String,
    pub(super) email: String,
    pub(super) password: String,
    pub(super) plan_id: u64,
    pub(super) suspended: bool,
    pub(super) dedicated_ip: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    pub(super) registered_date: String,
    /// The admin who created it.
    pub(super) owner: String,
}

impl UserRow {
    /// The username as the panel's table holds it: `SUSPENDED_<id>_<username>`
    /// while suspended (reading 5).
    pub(super) fn stored_name(&self) -> String {
        if self.suspended {
            format!("SUSPENDED_{}_{}", self.id, self.username)
        } else {
            self.username.clone()
        }
    }
}

/// The simulated panel.
pub(super) struct Panel {
    /// The API switch (`opencli api on|off`).
    pub(super) api_enabled: bool,
    pub(super) admin_username: String,
    pub(super) admin_password: String,
    pub(super) autologin: AutologinStyle,
    pub(super) plan_create: bool,
    /// Issued tokens, the login counter and the login rate limit.
    pub(super) tokens: Tokens,
    /// Where the panel listens: the host of autologin links when a request has no `Host`.
    pub(super) server_addr: SocketAddr,
    /// When the simulator started (uptime, the first usage-stats line).
    pub(super) started: Instant,
    pub(super) started_at: DateTime<Utc>,
    /// Keyed by plain username.
    users: BTreeMap<String, UserRow>,
    next_user_id: u64,
    /// In id order.
    plans: Vec<SimPlan>,
    /// Keyed by domain name (lowercase); the rows are the snapshots the handle gives.
    domains: BTreeMap<String, SimOpenAdminDomain>,
    next_domain_id: u64,
    /// `/etc/openadmin/services.json`, as last written.
    pub(super) services: Map<String, Value>,
    /// Running state of the services installed on the server, by key; a key
    /// missing here is no unit at all.
    pub(super) running: BTreeMap<String, bool>,
    /// (title, message), oldest first.
    pub(super) notifications: Vec<(String, String)>,
}

impl Simulated for Panel {
    type Config = OpenAdminConfig;
    const ROUTER: fn(SharedPanel) -> Router = routes::router;
    const CONNECTIONS: Connections = Connections::RawConnect;

    fn new(config: OpenAdminConfig, server_addr: SocketAddr) -> Panel {
        let mut plans = config.plans;
        plans.sort_by_key(|plan| plan.id);
        let (services, running) = default_services();
        Panel {
            api_enabled: config.api_enabled,
            tokens: Tokens::new(
                &config.jwt_secret,
                config.token_lifetime,
                config.login_burst,
            ),
            admin_username: config.admin_username,
            admin_password: config.admin_password,
            autologin: config.autologin,
            plan_create: config.plan_create,
            server_addr,
            started: Instant::now(),
            started_at: Utc::now(),
            users: BTreeMap::new(),
            next_user_id: 1,
            plans,
            domains: BTreeMap::new(),
            next_domain_id: 1,
            services,
            running,
            notifications: Vec::new(),
        }
    }

    fn tables(&self) -> String {
        format!(
            "{:?}",
            (
                &self.users,
                &self.plans,
                &self.domains,
                &self.services,
                &self.running
            )
        )
    }
}

impl Panel {
    // === users ===

    /// The user a route names: its plain username, or its stored
    /// `SUSPENDED_<id>_<username>` name while suspended.
    pub(super) fn user(&self, name: &str) -> Option<&UserRow> {
        self.users
            .get(name)
            .or_else(|| self.users.values().find(|user| user.stored_name() == name))
    }

    pub(super) fn user_mut(&mut self, name: &str) -> Option<&mut UserRow> {
        let key = self.user(name)?.username.clone();
        self.users.get_mut(&key)
    }

    /// Users in id order.
    pub(super) fn users(&self) -> Vec<&UserRow> {
        let mut users: Vec<&UserRow> = self.users.values().collect();
        users.sort_by_key(|user| user.id);
        users
    }

    /// Adds a user with the next id (the row's `id` is ignored) and returns that id.
    pub(super) fn insert_user(&mut self, mut row: UserRow) -> u64 {
        row.id = self.next_user_id;
        self.next_user_id += 1;
        let id = row.id;
        self.users.insert(row.username.clone(), row);
        id
    }

    /// Removes a user and its domains.
    pub(super) fn delete_user(&mut self, username: &str) {
        self.users.remove(username);
        self.domains.retain(|_, domain| domain.owner != username);
    }

    pub(super) fn user_snapshot(&self, name: &str) -> Option<SimOpenAdminUser> {
        let user = self.user(name)?;
        Some(SimOpenAdminUser {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            password: user.password.clone(),
            plan_name: self.plan_name(user.plan_id),
            suspended: user.suspended,
            domains: self
                .domains_of(&user.username)
                .into_iter()
                .map(|domain| domain.name.clone())
                .collect(),
            dedicated_ip: user.dedicated_ip.clone(),
        })
    }

    /// Simulated quota use of a user: (1 KiB blocks, inodes) (reading 16).
    pub(super) fn disk_usage(&self, username: &str) -> (u64, u64) {
        let domains = self.domains_of(username).len() as u64;
        (
            HOME_KIB + domains * DOMAIN_KIB,
            HOME_INODES + domains * DOMAIN_INODES,
        )
    }

    // === plans ===

    pub(super) fn plans(&self) -> &[SimPlan] {
        &self.plans
    }

    pub(super) fn plan(&self, id: u64) -> Option<&SimPlan> {
        self.plans.iter().find(|plan| plan.id == id)
    }

    pub(super) fn plan_named(&self, name: &str) -> Option<&SimPlan> {
        self.plans.iter().find(|plan| plan.name == name)
    }

    /// The name of plan `id` (empty if it is gone).
    pub(super) fn plan_name(&self, id: u64) -> String {
        self.plan(id)
            .map(|plan| plan.name.clone())
            .unwrap_or_default()
    }

    /// Adds a plan with the next id (the plan's `id` is ignored) and returns that id.
    pub(super) fn insert_plan(&mut self, mut plan: SimPlan) -> u64 {
        plan.id = self.plans.iter().map(|plan| plan.id).max().unwrap_or(0) + 1;
        let id = plan.id;
        self.plans.push(plan);
        id
    }

    // === domains ===

    pub(super) fn domain(&self, name: &str) -> Option<&SimOpenAdminDomain> {
        self.domains.get(&name.to_lowercase())
    }

    pub(super) fn domain_mut(&mut self, name: &str) -> Option<&mut SimOpenAdminDomain> {
        self.domains.get_mut(&name.to_lowercase())
    }

    /// Every domain, in id order.
    pub(super) fn domains(&self) -> Vec<&SimOpenAdminDomain> {
        let mut domains: Vec<&SimOpenAdminDomain> = self.domains.values().collect();
        domains.sort_by_key(|domain| domain.id);
        domains
    }

    /// The domains of one user (plain username), in id order.
    pub(super) fn domains_of(&self, username: &str) -> Vec<&SimOpenAdminDomain> {
        let mut domains = self.domains();
        domains.retain(|domain| domain.owner == username);
        domains
    }

    /// Adds a domain with the next id (the row's `id` is ignored).
    pub(super) fn insert_domain(&mut self, mut row: SimOpenAdminDomain) {
        row.id = self.next_domain_id;
        self.next_domain_id += 1;
        self.domains.insert(row.name.clone(), row);
    }

    pub(super) fn remove_domain(&mut self, name: &str) {
        self.domains.remove(&name.to_lowercase());
    }

    // === services ===

    /// The display name of a services.json entry (its key when it has none).
    pub(super) fn service_label(&self, key: &str) -> String {
        self.services
            .get(key)
            .and_then(|entry| entry.get("name"))
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_owned()
    }

    pub(super) fn service_snapshots(&self) -> Vec<SimService> {
        self.services
            .iter()
            .map(|(key, entry)| SimService {
                name: key.clone(),
                display_name: self.service_label(key),
                monitored: entry.get("status").and_then(Value::as_str) == Some("active"),
                running: self.running.get(key).copied().unwrap_or(false),
            })
            .collect()
    }

    /// Seconds since the simulated server booted (a fixed offset plus the sim's own uptime).
    pub(super) fn uptime(&self) -> Duration {
        Duration::from_secs(18_905) + self.started.elapsed()
    }
}

/// The services.json the panel ships with and the services running at start
/// (reading 18).
fn default_services() -> (Map<String, Value>, BTreeMap<String, bool>) {
    let entries = [
        ("caddy", "Caddy", true, true),
        ("docker", "Docker", true, true),
        ("mysql", "MySQL", true, true),
        ("named", "BIND9", true, true),
        ("csf", "ConfigServer Firewall", false, false),
    ];
    let mut services = Map::new();
    let mut running = BTreeMap::new();
    for (key, name, monitored, is_running) in entries {
        let status = if monitored { "active" } else { "inactive" };
        services.insert(key.to_owned(), json!({"name": name, "status": status}));
        running.insert(key.to_owned(), is_running);
    }
    (services, running)
}

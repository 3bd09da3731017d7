//! The panel's tables: users, packages, domains, databases, plus the armed
//! failures (behind the crate's shared mutex, `crate::server::Shared`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use axum::Router;

use super::endpoints::Endpoint;
use super::routes;
use super::values::parse_number;
use super::{AdminApiConfig, SimDomain, SimPackage, SimUser};
use crate::server::{Shared, Simulated};

/// The panel state shared by the handlers and the [`super::AdminApiSim`] handle.
pub(super) type SharedPanel = Shared<Panel>;

/// Key of a row looked up by name: the panel's MySQL collation ignores case.
fn key(name: &str) -> String {
    name.to_lowercase()
}

/// One row of the user table (plus what the panel keeps about it elsewhere).
#[derive(Clone, Debug)]
pub(super) struct UserRow {
    pub(super) id: u64,
    pub(super) username: String,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) email: String,
    pub(super) password: String,
    /// As sent; see reading 6.
    pub(super) pkg_id: String,
    pub(super) active: bool,
    /// Whether add_user got as far as creating the FTP account.
    pub(super) has_ftp: bool,
}

/// One database with its user.
#[derive(Clone, Debug)]
struct DatabaseRow {
    /// Prefixed database name.
    name: String,
    /// Prefixed database user.
    user: String,
    /// Username of the owner.
    owner: String,
}

/// What a user's `pkg_id` points at.
pub(super) enum PackageOf<'a> {
    /// An existing package.
    Found(&'a SimPackage),
    /// A number that names no package.
    Missing,
    /// Not a number: Django raises `ValueError` when it is used in a query.
    NotANumber,
}

/// The simulated panel.
pub(super) struct Panel {
    /// The API switch.
    pub(super) api_enabled: bool,
    pub(super) admin_username: String,
    pub(super) admin_password: String,
    /// Where the panel listens: its `server_ip`, and the host of SSO links when
    /// a request has no `Host` header.
    pub(super) server_addr: SocketAddr,
    /// Keyed by [`key`] of the username.
    users: BTreeMap<String, UserRow>,
    /// In id order.
    packages: Vec<SimPackage>,
    /// Keyed by the normalized (lowercase) domain name.
    domains: BTreeMap<String, SimDomain>,
    /// In creation order.
    databases: Vec<DatabaseRow>,
    next_user_id: u64,
    next_domain_id: u64,
    sso_tokens_issued: u64,
    /// Armed by `fail_next`, consumed by [`Panel::take_failure`].
    failures: HashMap<Endpoint, String>,
}

impl Simulated for Panel {
    type Config = AdminApiConfig;
    const ROUTER: fn(SharedPanel) -> Router = routes::router;

    /// A panel with the config's packages and no users.
    fn new(config: AdminApiConfig, server_addr: SocketAddr) -> Panel {
        let mut packages = config.packages;
        packages.sort_by_key(|package| package.id);
        Self {
            api_enabled: config.api_enabled,
            admin_username: config.admin_username,
            admin_password: config.admin_password,
            server_addr,
            users: BTreeMap::new(),
            packages,
            domains: BTreeMap::new(),
            databases: Vec::new(),
            next_user_id: 2,
            next_domain_id: 1,
            sso_tokens_issued: 0,
            failures: HashMap::new(),
        }
    }

    fn tables(&self) -> String {
        format!(
            "{:?}",
            (&self.users, &self.packages, &self.domains, &self.databases)
        )
    }
}

impl Panel {
    // === failures ===

    /// Makes the next call to `endpoint` that reaches its internal step fail with `message`.
    pub(super) fn arm_failure(&mut self, endpoint: Endpoint, message: &str) {
        self.failures.insert(endpoint, message.to_owned());
    }

    /// The armed failure of `endpoint`, if any, disarming it.
    pub(super) fn take_failure(&mut self, endpoint: Endpoint) -> Option<String> {
        self.failures.remove(&endpoint)
    }

    // === users ===

    /// Whether `username` is taken, by a hosting user or by the admin account.
    pub(super) fn username_taken(&self, username: &str) -> bool {
        self.users.contains_key(&key(username)) || key(username) == key(&self.admin_username)
    }

    /// The user named `username`, if any.
    pub(super) fn user(&self, username: &str) -> Option<&UserRow> {
        self.users.get(&key(username))
    }

    /// The name the user named `username` is stored under, if any.
    pub(super) fn username_of(&self, username: &str) -> Option<String> {
        self.user(username).map(|user| user.username.clone())
    }

    /// The user named `username` for changing, if any.
    pub(super) fn user_mut(&mut self, username: &str) -> Option<&mut UserRow> {
        self.users.get_mut(&key(username))
    }

    /// Saves a new active user (no FTP account yet) and returns its id.
    pub(super) fn insert_user(&mut self, mut row: UserRow) -> u64 {
        row.id = self.next_user_id;
        self.next_user_id += 1;
        let id = row.id;
        self.users.insert(key(&row.username), row);
        id
    }

    /// Removes a user with its domains, databases and database users.
    pub(super) fn delete_user(&mut self, username: &str) {
        let Some(row) = self.users.remove(&key(username)) else {
            return;
        };
        self.domains
            .retain(|_, domain| domain.owner != row.username);
        self.databases
            .retain(|database| database.owner != row.username);
    }

    /// Snapshot of a user for tests.
    pub(super) fn user_snapshot(&self, username: &str) -> Option<SimUser> {
        let row = self.user(username)?;
        let owned = || {
            self.databases
                .iter()
                .filter(|database| database.owner == row.username)
        };
        Some(SimUser {
            id: row.id,
            username: row.username.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            email: row.email.clone(),
            password: row.password.clone(),
            pkg_id: row.pkg_id.clone(),
            active: row.active,
            domains: self
                .domains_of(&row.username)
                .iter()
                .map(|domain| domain.name.clone())
                .collect(),
            databases: owned().map(|database| database.name.clone()).collect(),
            db_users: owned().map(|database| database.user.clone()).collect(),
        })
    }

    // === packages ===

    /// All packages in id order.
    pub(super) fn packages(&self) -> &[SimPackage] {
        &self.packages
    }

    /// What `pkg_id` (a form value) points at; numbers are read as Python's `int()` would.
    pub(super) fn package_of(&self, pkg_id: &str) -> PackageOf<'_> {
        let Some(id) = parse_number(pkg_id) else {
            return PackageOf::NotANumber;
        };
        match self.packages.iter().find(|package| package.id == id) {
            Some(package) => PackageOf::Found(package),
            None => PackageOf::Missing,
        }
    }

    /// Whether a package is named `name`.
    pub(super) fn package_name_taken(&self, name: &str) -> bool {
        self.packages
            .iter()
            .any(|package| key(&package.name) == key(name))
    }

    /// Saves a new package under the next id and returns that id.
    pub(super) fn insert_package(&mut self, mut package: SimPackage) -> u64 {
        package.id = self.packages.last().map_or(1, |last| last.id + 1);
        let id = package.id;
        self.packages.push(package);
        id
    }

    // === domains ===

    /// The domain named `name`, if any.
    pub(super) fn domain(&self, name: &str) -> Option<&SimDomain> {
        self.domains.get(&key(name))
    }

    /// The domain named `name` for changing, if any.
    pub(super) fn domain_mut(&mut self, name: &str) -> Option<&mut SimDomain> {
        self.domains.get_mut(&key(name))
    }

    /// The domains of `owner`, oldest first.
    pub(super) fn domains_of(&self, owner: &str) -> Vec<&SimDomain> {
        let mut owned: Vec<&SimDomain> = self
            .domains
            .values()
            .filter(|domain| domain.owner == owner)
            .collect();
        owned.sort_by_key(|domain| domain.id);
        owned
    }

    /// Saves a domain (`name` already normalized) and returns its id.
    pub(super) fn insert_domain(&mut self, name: &str, owner: &str, path: &str, php: &str) -> u64 {
        let id = self.next_domain_id;
        self.next_domain_id += 1;
        let domain = SimDomain {
            id,
            name: name.to_owned(),
            owner: owner.to_owned(),
            path: format!("/home/{owner}/{path}"),
            php_version: php.to_owned(),
            has_ssl: false,
        };
        self.domains.insert(key(name), domain);
        id
    }

    // === databases ===

    /// Number of databases (and database users) of `owner`.
    pub(super) fn database_count(&self, owner: &str) -> usize {
        self.databases
            .iter()
            .filter(|database| database.owner == owner)
            .count()
    }

    /// Whether a database named `name` (prefixed) exists; MySQL database and user
    /// names are case-sensitive on Linux.
    pub(super) fn database_exists(&self, name: &str) -> bool {
        self.databases.iter().any(|database| database.name == name)
    }

    /// Whether a database user named `user` (prefixed) exists.
    pub(super) fn db_user_exists(&self, user: &str) -> bool {
        self.databases.iter().any(|database| database.user == user)
    }

    /// Saves a database with its user.
    pub(super) fn insert_database(&mut self, name: String, user: String, owner: &str) {
        self.databases.push(DatabaseRow {
            name,
            user,
            owner: owner.to_owned(),
        });
    }

    // === sso ===

    /// A fresh opaque login token for `username`.
    pub(super) fn new_sso_token(&mut self, username: &str) -> String {
        self.sso_tokens_issued += 1;
        let payload = format!(
            r#"{{"user": "{username}", "nonce": {}, "port": "0000"}}"#,
            self.sso_tokens_issued
        );
        payload.bytes().map(|byte| format!("{byte:02x}")).collect()
    }
}

//! The panel's tables: accounts (with their domains and databases), packages,
//! admin users, plus the received bodies and the armed failures (behind the
//! crate's shared mutex, `crate::server::Shared`).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;

use serde_json::Value;

use super::actions::{Action, error_reply};
use super::limits::Limits;
use super::routes;
use super::{
    ReceivedRequest, SimPermissions, SimSpanelAccount, SimSpanelAdmin, SimSpanelPackage,
    SpanelConfig,
};
use crate::server::{Shared, Simulated};

/// The panel state shared by the handlers and the [`super::SpanelSim`] handle.
pub(super) type SharedPanel = Shared<Panel>;

/// Names of accounts, packages and admins compare without ASCII case (reading 7).
fn same(left: &str, right: &str) -> bool {
    left.eq_ignore_ascii_case(right)
}

/// One hosting account.
#[derive(Clone, Debug)]
pub(super) struct AccountRow {
    pub(super) username: String,
    /// The main domain.
    pub(super) domain: String,
    /// Contact email; empty until `accounts/changeuseremail` (reading 9).
    pub(super) email: String,
    pub(super) password: String,
    /// The package's name, or `Custom` (reading 10).
    pub(super) package: String,
    pub(super) suspended: bool,
    pub(super) suspend_reason: Option<String>,
    pub(super) limits: Limits,
    pub(super) permissions: SimPermissions,
    /// Addon domains, oldest first.
    pub(super) addon_domains: Vec<String>,
    /// Subdomains (full names) with their folders, oldest first.
    pub(super) subdomains: Vec<(String, String)>,
    /// Database users (prefixed) with their hosts, oldest first.
    pub(super) db_users: Vec<(String, String)>,
    /// Databases (prefixed) with their users, oldest first.
    pub(super) databases: Vec<(String, Vec<String>)>,
    /// `dd.mm.yyyy`, UTC.
    pub(super) setup_date: String,
}

impl AccountRow {
    /// Every domain of the account: main, addon domains, subdomains.
    pub(super) fn all_domains(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.domain.as_str())
            .chain(self.addon_domains.iter().map(String::as_str))
            .chain(self.subdomains.iter().map(|(name, _)| name.as_str()))
    }

    /// Simulated disk use in MB and inodes (reading 17).
    pub(super) fn usage(&self) -> (u64, u64) {
        let domains = self.all_domains().count() as u64;
        let databases = self.databases.len() as u64;
        (2 + domains + databases, 150 + 50 * domains + 10 * databases)
    }

    fn snapshot(&self) -> SimSpanelAccount {
        SimSpanelAccount {
            username: self.username.clone(),
            domain: self.domain.clone(),
            email: self.email.clone(),
            password: self.password.clone(),
            package: self.package.clone(),
            suspended: self.suspended,
            suspend_reason: self.suspend_reason.clone(),
            quota_mb: self.limits.quota_mb,
            inodes_limit: self.limits.inodes,
            domains_limit: self.limits.domains,
            emails_limit: self.limits.emails,
            databases_limit: self.limits.databases,
            permissions: self.permissions.clone(),
            domains: std::iter::once(self.domain.clone())
                .chain(self.addon_domains.iter().cloned())
                .collect(),
            subdomains: self
                .subdomains
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
            db_users: self.db_users.iter().map(|(name, _)| name.clone()).collect(),
            databases: self.databases.clone(),
            setup_date: self.setup_date.clone(),
        }
    }
}

/// The simulated panel.
pub(super) struct Panel {
    /// The API folder (`spanel` or `hostpanel`).
    pub(super) folder: String,
    pub(super) admin_token: String,
    /// Whether the admin token has the SSO option on.
    pub(super) admin_token_sso: bool,
    /// Where the panel listens: the accounts' `ip`, and the host of SSO links
    /// when a request has no `Host` header.
    pub(super) server_addr: SocketAddr,
    /// In creation order.
    accounts: Vec<AccountRow>,
    /// In creation order.
    packages: Vec<SimSpanelPackage>,
    /// In creation order, `root` first.
    admins: Vec<SimSpanelAdmin>,
    /// Every body that reached `api.php`, oldest first.
    received: Vec<ReceivedRequest>,
    /// Armed by `fail_next`, consumed by [`Panel::armed`].
    failures: HashMap<Action, Vec<String>>,
}

impl Simulated for Panel {
    type Config = SpanelConfig;
    const ROUTER: fn(SharedPanel) -> Router = routes::router;

    /// A panel with the config's packages, the `root` admin and no accounts.
    fn new(config: SpanelConfig, server_addr: SocketAddr) -> Panel {
        Panel {
            folder: config.folder.trim_matches('/').to_owned(),
            admin_token: config.admin_token,
            admin_token_sso: config.admin_token_sso,
            server_addr,
            accounts: Vec::new(),
            packages: config.packages,
            admins: vec![SimSpanelAdmin {
                user: "root".to_owned(),
                password: String::new(),
                permissions: SimPermissions::All,
            }],
            received: Vec::new(),
            failures: HashMap::new(),
        }
    }

    fn tables(&self) -> String {
        format!("{:?}", (&self.accounts, &self.packages, &self.admins))
    }
}

impl Panel {
    // === received bodies, failures ===

    /// Keeps one body as it came.
    pub(super) fn record(&mut self, action: &str, body: &[u8]) {
        self.received.push(ReceivedRequest {
            action: action.to_owned(),
            body: body.to_vec(),
        });
    }

    /// The bodies received so far.
    pub(super) fn received(&self) -> &[ReceivedRequest] {
        &self.received
    }

    /// Makes the next call of `action` that reaches its internal step fail.
    pub(super) fn arm_failure(&mut self, action: Action, messages: Vec<String>) {
        self.failures.insert(action, messages);
    }

    /// Fails with the failure armed for `action`, if any, disarming it (the
    /// function's internal step, after validation: reading 19).
    pub(super) fn armed(&mut self, action: Action) -> Result<(), Value> {
        match self.failures.remove(&action) {
            Some(messages) => Err(error_reply(messages)),
            None => Ok(()),
        }
    }

    // === accounts ===

    /// All accounts in creation order.
    pub(super) fn accounts(&self) -> &[AccountRow] {
        &self.accounts
    }

    /// The account named `username`, if any.
    pub(super) fn account(&self, username: &str) -> Option<&AccountRow> {
        self.accounts
            .iter()
            .find(|account| same(&account.username, username))
    }

    /// The account named `username` for changing, if any.
    pub(super) fn account_mut(&mut self, username: &str) -> Option<&mut AccountRow> {
        self.accounts
            .iter_mut()
            .find(|account| same(&account.username, username))
    }

    /// Snapshot of one account.
    pub(super) fn account_snapshot(&self, username: &str) -> Option<SimSpanelAccount> {
        self.account(username).map(AccountRow::snapshot)
    }

    /// Saves a new account.
    pub(super) fn insert_account(&mut self, account: AccountRow) {
        self.accounts.push(account);
    }

    /// Removes an account with everything it holds.
    pub(super) fn remove_account(&mut self, username: &str) {
        self.accounts
            .retain(|account| !same(&account.username, username));
    }

    /// Whether any account holds `domain` (main, addon or subdomain).
    pub(super) fn domain_taken(&self, domain: &str) -> bool {
        self.accounts
            .iter()
            .any(|account| account.all_domains().any(|held| held == domain))
    }

    /// Whether a database or database user called `name` exists on the server
    /// (MySQL names are case-sensitive).
    pub(super) fn mysql_name_taken(&self, name: &str, user: bool) -> bool {
        self.accounts.iter().any(|account| {
            if user {
                account.db_users.iter().any(|(held, _)| held == name)
            } else {
                account.databases.iter().any(|(held, _)| held == name)
            }
        })
    }

    // === packages ===

    /// All packages in creation order.
    pub(super) fn packages(&self) -> &[SimSpanelPackage] {
        &self.packages
    }

    /// The package named `name`, if any.
    pub(super) fn package(&self, name: &str) -> Option<&SimSpanelPackage> {
        self.packages
            .iter()
            .find(|package| same(&package.name, name))
    }

    /// Saves a new package.
    pub(super) fn insert_package(&mut self, package: SimSpanelPackage) {
        self.packages.push(package);
    }

    /// Replaces the package of the same name and gives its accounts the new
    /// limits and permissions (reading 10).
    pub(super) fn replace_package(&mut self, package: SimSpanelPackage) {
        for account in &mut self.accounts {
            if same(&account.package, &package.name) {
                account.limits = Limits::of(&package);
                account.permissions = package.permissions.clone();
            }
        }
        if let Some(slot) = self
            .packages
            .iter_mut()
            .find(|existing| same(&existing.name, &package.name))
        {
            *slot = package;
        }
    }

    /// Removes the package named `name`.
    pub(super) fn remove_package(&mut self, name: &str) {
        self.packages.retain(|package| !same(&package.name, name));
    }

    /// Number of accounts on the package named `name`.
    pub(super) fn accounts_on(&self, name: &str) -> usize {
        self.accounts
            .iter()
            .filter(|account| same(&account.package, name))
            .count()
    }

    // === admin users ===

    /// All admin users, `root` first.
    pub(super) fn admins(&self) -> &[SimSpanelAdmin] {
        &self.admins
    }

    /// Whether an admin user is called `name`.
    pub(super) fn admin_exists(&self, name: &str) -> bool {
        self.admins.iter().any(|admin| same(&admin.user, name))
    }

    /// Saves a new admin user.
    pub(super) fn insert_admin(&mut self, admin: SimSpanelAdmin) {
        self.admins.push(admin);
    }
}

//! Simulator of the "admin_api" panel (OLSPanel's admin API).
//!
//! Written from `panels/source-docs/admin_api.txt`; where the doc is silent it
//! follows `panels/REFERENCE.md` §1 (what OLSPanel's Django code does). It holds
//! users, packages, domains and databases in memory and answers the ten
//! endpoints under `/admin_api/` the way the panel does.
//!
//! # Layout
//!
//! - this file: the public handle [`AdminApiSim`], its config and the state snapshots;
//! - `routes`: the HTTP surface (auth guard, form bodies, 404 and 301 pages);
//! - `endpoints`: the endpoint table (names, paths, dispatch), the form and the reply;
//! - `views`: the ten endpoints, one function each, with the panel's messages;
//! - `state`: the panel's tables behind a mutex;
//! - `values`: how the panel reads form values and renders sizes and limits.
//!
//! # Readings
//!
//! Where the doc and the reference leave a choice, this is what the simulator does.
//!
//! 1. **Messages.** Where the doc and the code word a message differently, the
//!    doc's wording is used: add_user answers `"Username <u> created successfully"`
//!    (code: `"User <u> ..."`), issue_ssl `"Domain name is required."` (code: no
//!    period), database_add `"Database user created successfully for <u>."` (code:
//!    `"Database and user ..."`), sso_login `"Username are required."` (code:
//!    `"Username is required"`). Messages the doc lacks come from the code
//!    (unsuspend/delete successes, sso_login's `"User with username '<u>' not found."`).
//! 2. **Guard.** Every endpoint runs the code's decorator first, so a non-POST
//!    request gets the decorator's `{"error": "POST method required"}`, never the
//!    endpoint's `success:false` variant, and packages_list refuses bad
//!    credentials with `{"error": "Invalid credentials"}`, not the doc's
//!    `"Invalid admin credentials"`.
//! 3. **Form bodies.** Only `application/x-www-form-urlencoded` bodies are read (as
//!    Django's `request.POST`); any other body, JSON included, reads as an empty
//!    form. An empty value counts as missing wherever the code tests truthiness.
//! 4. **Case.** The panel's tables live in MySQL with its case-insensitive default
//!    collation, so usernames, package names and domain lookups ignore ASCII case.
//! 5. **Ids.** User ids start at 2 (id 1 is the admin account, whose username
//!    add_user also refuses as taken); domain ids start at 1; package ids follow
//!    the highest existing one.
//! 6. **pkg_id** is stored as sent (a string). A value that is not a number or
//!    names no package is refused by add_user (`"Invalid package ID"`) but not by
//!    update_user, which stores it unchecked, even when empty (the code tests
//!    `pkg_id is not None`, unlike the other optional fields). Afterwards account
//!    info answers `"Package not found"` (no such package) or Django's HTTP 500
//!    page (not a number), and add_domain answers the 500 page in both cases (the
//!    code dereferences the missing package).
//! 7. **Half-created users.** add_user saves the user before checking pkg_id and
//!    creating the domain, as the code does: after `"Invalid package ID"` or a
//!    domain failure the user exists (no domain, no FTP account) and a retry is
//!    refused as a duplicate.
//! 8. **Domain creation in add_user** applies add_domain's format and duplicate
//!    checks with their messages (`"Invalid domain format."`,
//!    `"The domain '<d>' already exists."`); its path is `public_html`.
//! 9. **Domain format.** A domain is trimmed, lowercased, stripped of an
//!    `http://`/`https://` prefix and trailing `/`; it must then have at least two
//!    labels of letters, digits and inner hyphens (≤ 63 each) and an alphabetic
//!    top-level label of two or more letters. `www.` is kept.
//! 10. **Domain paths** are stored as the panel stores them: `/home/<user>/<path>`,
//!     with `path` defaulting to `public_html` and leading `/` removed.
//! 11. **Account info sizes.** Usage is simulated: 1.5 MiB of files per domain,
//!     48 KiB per database, no mail, no bandwidth. `disk_limit` and `bandwidth` use
//!     the doc's style (`"1GB"`, `"500MB"`), `disk_used`, `db_disk_used` and
//!     `bandwidth_use` the code's (`"1.5 MB"`, `"0 Bytes"`), `email_disk_used` the
//!     doc's (`"0MB"`). Count limits are numbers; any limit of 0 is `"Unlimited"`.
//!     `db_used` counts database users; `ftp_used` is 1 once add_user completed.
//!     Sizes always carry a unit. The panel's code computes `disk_limit` and
//!     `bandwidth` with one helper from the package's fields, which it stores
//!     in MB, and the used figures from byte counts: were a size sent as a
//!     bare number, a limit would be MB and a used figure bytes.
//! 12. **new_package numbers**: empty or omitted → 0 (unlimited); a value that is
//!     not a non-negative integer makes Django fail on save → HTTP 500 page.
//!     `limit_action` is true for `1`, `true`, `on`, `yes` (any case).
//! 13. **database_add** prefixes both names with the account: database
//!     `<user>_<db>`, user `<user>_<dbuser>` (an inference). An existing database
//!     or database user fails with MySQL's error passed through, e.g.
//!     `(1007, "Can't create database 'bob_shop'; database exists")`, and nothing
//!     is created. No package limit is checked (the admin path has none).
//! 14. **sso_login** builds `http://<Host header>/login/?token=<hex>`; the token
//!     is opaque and different on every call. Suspended users get a link too.
//! 15. **Suspend/unsuspend** of a user already in that state succeeds again;
//!     DELETE removes the user's domains, databases and database users.
//! 16. **Missing trailing slash**: Django's `APPEND_SLASH` answers a known path
//!     without its slash with `301 Moved Permanently` to the slashed path (a
//!     client following it turns POST into GET and gets "POST method required").
//!     Unknown paths get Django's production 404 page.
//! 17. **fail_next** fires at the panel-internal step, after validation: a call
//!     refused earlier leaves it armed. add_user fails there after saving the
//!     user (reading 7); database_add puts the message under `error`, account
//!     info under `error` without `success`.

mod endpoints;
mod routes;
mod state;
mod values;
mod views;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;

use crate::faults::{self, Faults, RequestCounter};
use endpoints::Endpoint;
use state::{Panel, SharedPanel, lock};

/// Settings of a simulated admin_api panel.
#[derive(Clone)]
pub struct AdminApiConfig {
    /// Admin username expected in the `username` header.
    pub admin_username: String,
    /// Admin password expected in the `password` header.
    pub admin_password: String,
    /// Packages present at start.
    pub packages: Vec<SimPackage>,
    /// Whether the panel's API switch is on (off → `{"error": "API is currently disabled"}`).
    pub api_enabled: bool,
}

impl Default for AdminApiConfig {
    /// `admin` / `admin-secret`, packages "Basic" (id 1, 1024 MB, 2 domains) and
    /// "Premium" (id 2, 5120 MB, unlimited domains), API on.
    fn default() -> Self {
        Self {
            admin_username: "admin".to_owned(),
            admin_password: "admin-secret".to_owned(),
            packages: vec![
                SimPackage::new(1, "Basic", 1024, 2),
                SimPackage::new(2, "Premium", 5120, 0),
            ],
            api_enabled: true,
        }
    }
}

impl fmt::Debug for AdminApiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminApiConfig")
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"***")
            .field("packages", &self.packages)
            .field("api_enabled", &self.api_enabled)
            .finish()
    }
}

/// A hosting package as the panel holds it. Limits of 0 mean unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPackage {
    /// Package id, referenced by users' `pkg_id`.
    pub id: u64,
    /// Package name, unique (case-insensitively).
    pub name: String,
    /// Disk quota in MB.
    pub disk_space_mb: u64,
    /// Monthly bandwidth in MB.
    pub bandwidth_mb: u64,
    /// Maximum number of email accounts.
    pub email_accounts: u64,
    /// Maximum number of databases.
    pub databases: u64,
    /// Maximum number of FTP accounts.
    pub ftp_accounts: u64,
    /// Maximum number of domains, the primary one included.
    pub allowed_domains: u64,
    /// Maximum number of subdomains.
    pub allowed_subdomains: u64,
    /// Whether disk limits are enforced (the form's `limit_action`).
    pub limit_action: bool,
}

impl SimPackage {
    /// A package with the given disk quota and domain limit, every other limit unlimited.
    pub fn new(id: u64, name: impl Into<String>, disk_space_mb: u64, allowed_domains: u64) -> Self {
        Self {
            id,
            name: name.into(),
            disk_space_mb,
            bandwidth_mb: 0,
            email_accounts: 0,
            databases: 0,
            ftp_accounts: 0,
            allowed_domains,
            allowed_subdomains: 0,
            limit_action: false,
        }
    }
}

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
#[derive(Clone)]
pub struct AdminApiSim {
    addr: SocketAddr,
    panel: SharedPanel,
    faults: Faults,
    requests: RequestCounter,
}

impl AdminApiSim {
    /// Starts the simulator on 127.0.0.1 with an OS-assigned port (port 0), serving in a spawned tokio task.
    pub async fn start(config: AdminApiConfig) -> std::io::Result<AdminApiSim> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts on a chosen address (used by the binary).
    pub async fn start_on(
        addr: SocketAddr,
        config: AdminApiConfig,
    ) -> std::io::Result<AdminApiSim> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let panel = Arc::new(Mutex::new(Panel::new(config, addr)));
        let sim = AdminApiSim {
            addr,
            panel: panel.clone(),
            faults: Faults::default(),
            requests: RequestCounter::default(),
        };
        faults::serve(
            listener,
            routes::router(panel),
            sim.faults.clone(),
            sim.requests.clone(),
        );
        Ok(sim)
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the panel's base URL; endpoints live under `/admin_api/`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault knobs of this simulator.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every table of the simulated panel, rendered: equal before and after
    /// a call when the call changed nothing on the panel.
    pub fn state(&self) -> String {
        lock(&self.panel).tables()
    }

    /// Number of HTTP requests received so far (every path, every outcome, faults
    /// included; a connection dropped on accept counts as one).
    pub fn request_count(&self) -> u64 {
        self.requests.get()
    }

    /// Turns the panel's API switch on or off.
    pub fn set_api_enabled(&self, enabled: bool) {
        lock(&self.panel).api_enabled = enabled;
    }

    /// Snapshot of one user (username matched case-insensitively).
    pub fn user(&self, username: &str) -> Option<SimUser> {
        lock(&self.panel).user_snapshot(username)
    }

    /// Snapshot of one domain (name matched case-insensitively).
    pub fn domain(&self, name: &str) -> Option<SimDomain> {
        lock(&self.panel).domain(name).cloned()
    }

    /// Packages as the panel holds them, in id order.
    pub fn packages(&self) -> Vec<SimPackage> {
        lock(&self.panel).packages().to_vec()
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
        lock(&self.panel).arm_failure(endpoint, message);
    }
}

impl fmt::Debug for AdminApiSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminApiSim")
            .field("addr", &self.addr)
            .field("faults", &self.faults)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

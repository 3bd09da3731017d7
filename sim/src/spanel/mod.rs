//! Simulator of the SPanel (ScalaHosting) API.
//!
//! Written from `panels/source-docs/spanel-admin-createadminuser.txt` and
//! `spanel-accounts-createpackage.txt`; where they are silent it follows
//! `panels/REFERENCE.md` §3 (the rest of the API from the vendor's doc pages and
//! its clients). It holds accounts (with their subdomains and databases),
//! packages and admin users in memory and answers the single endpoint
//! `POST /<folder>/api.php` the way the panel does.
//!
//! # Layout
//!
//! - this file: the public handle [`SpanelSim`], its config and the state snapshots;
//! - `routes`: the HTTP surface (`api.php`, the 404 page);
//! - `crate::form` (shared with the Installatron simulator): PHP's reading of
//!   form bodies (`http_build_query` brackets);
//! - `actions`: the action table, the token/action/`accountuser` checks, the reply shapes;
//! - `accounts`, `packages`, `admin`, `user`: the functions, one function each;
//! - `permissions`: the two permission catalogues, reading and rendering permissions;
//! - `values`: how limits, names and domains are read, and limits rendered;
//! - `state`: the panel's tables behind a mutex.
//!
//! # Readings
//!
//! Where the docs and the reference leave a choice, this is what the simulator does.
//!
//! 1. **Transport.** One endpoint, `/<folder>/api.php`. Everything it answers is
//!    HTTP 200 `application/json`, errors included. Only a POST with
//!    `Content-Type: application/x-www-form-urlencoded` is read (PHP fills
//!    `$_POST` from nothing else): a GET, a query string, a JSON or multipart
//!    body all read as an empty form, so they get `["Invalid API token"]` with
//!    HTTP 200 (not a 405). Any other path, `/<folder>/sso/<token>` included,
//!    gets nginx's HTML 404 page.
//! 2. **Order of checks.** The body is recorded ([`SpanelSim::received`]), then
//!    the token (missing, empty or wrong: `["Invalid API token"]`), the action
//!    (missing: `["No action specified"]`, unknown: `["Unknown action <a>"]`),
//!    `accountuser` for user functions, the function's own validation, the
//!    failure armed by [`SpanelSim::fail_next`], and only then the change.
//!    Validation collects every problem of the call into the `message` array,
//!    in field order, and changes nothing (all names of a bulk call are checked
//!    before any is acted on).
//! 3. **Action names** match exactly (`accounts/wwwacct`; `Accounts/WWWACCT` is unknown).
//! 4. **Tokens and `accountuser`.** Only the admin token exists (client tokens
//!    are not simulated). Admin functions never require `accountuser` and ignore
//!    it (`accounts/listaccounts` reads it as a filter). The user functions
//!    (`domain/addsubdomain`, `domain/removedomain`, `mysql/createmysqluser`,
//!    `mysql/createmysqldatabase`) require it: missing → `["The accountuser
//!    parameter is required for user functions"]`, unknown → `["The account <u>
//!    does not exist"]`. Suspended accounts can still be managed.
//!    `user/listuserpermissions` takes `accountuser` optionally (the createpackage
//!    doc sends admins to it); when given it must name an account.
//! 5. **Form decoding** is PHP's: `+` is a space, `%XX` a byte, a `%` without two
//!    hex digits stays; in a name, leading spaces are dropped, `.` and ` ` in
//!    the base become `_`, `a[x][y]` nests, `a[]` appends at the largest integer
//!    key + 1, a later value replaces an earlier one in place, a string in the
//!    way becomes an array, a pair without `=` is an empty string, nesting of 64
//!    levels or more is dropped. A field read as a string but sent as an array
//!    reads as absent. The bulk fields (`username` of suspend, unsuspend and
//!    terminate, `package` of removepackage, `domain` of removedomain) take a
//!    string or an array of strings (keys ignored).
//! 6. **Replies.** Numbers are strings (`"1024"`), unlimited limits
//!    `"Unlimited"`. `msg` sits at top level for wwwacct, changeuserpassword,
//!    changeuseremail, changedomain, changequota, suspendaccount,
//!    unsuspendaccount, terminateaccount; under `data.msg` for createpackage,
//!    modifypackage, removepackage, createadminuser, apicheck and the user
//!    functions. listaccounts and listpackages answer `{"data": [...]}` without
//!    `result`. Errors are `{"result": "error", "message": [...]}`, always an
//!    array. wwwacct's reply is not documented: it takes the top-level shape of
//!    the other account functions, `"The account <u> has been created successfully"`.
//! 7. **Names.** Account usernames are 1 to 30 ASCII letters or digits as
//!    documented, stored as sent; account, package and admin names compare
//!    without ASCII case (the panel's tables are MySQL). `root`, `nobody` and
//!    `mysql` are taken (system users). Database names compare exactly.
//! 8. **Limit fields** (`quota` MB, `inodes`, `domains`, `emails`, `databases`):
//!    absent or empty is unlimited; a whole number is the limit (0 disables
//!    domains, emails, databases); anything else is refused (`"The <label> must
//!    be a whole number"`). PHP's `http_build_query` sends `false` as `0` (and
//!    drops `null`), so the createpackage example's `'databases' => false` really
//!    arrives as `databases=0` and is read as disabled; the doc's output
//!    (`"Unlimited"`) is what omitting the field gives. To ask for unlimited,
//!    omit the field or send it empty. The documented minimums are enforced:
//!    disk quota 100 MB, inodes 10000 (the doc's own example sends 1000 and
//!    shows it accepted; its table states the minimum, and the table, which
//!    says what the panel checks, is taken over the example).
//! 9. **accounts/wwwacct** requires both `username` and `domain` (the older doc):
//!    the newest doc generates them when empty, but no reply shape tells the
//!    client the generated names. `password` ≥ 8 characters. `email` is no
//!    wwwacct parameter: the contact email stays empty until
//!    `accounts/changeuseremail`. Unknown fields are ignored, as PHP does.
//! 10. **Packages and accounts.** With `package`, an account gets the package's
//!     limits and permissions; limit and `permissions` fields sent alongside are
//!     ignored (a known client sends `permissions=all` with every package).
//!     Without it, the limits come from the fields, the permissions from
//!     `permissions` (default `all`), and the account's package is `"Custom"`.
//!     **changequota**: a package sets that package's limits and permissions
//!     (limit fields ignored); else the limit fields sent replace those limits
//!     (absent ones keep their value, empty → unlimited) and the package becomes
//!     `"Custom"`; nothing sent → success, nothing changed. The WHMCS module's
//!     `packages` (plural) key is not read. **modifypackage** replaces the whole
//!     definition (omitted limits become unlimited, `permissions` required, no
//!     rename) and the package's accounts get the new limits and permissions.
//!     **removepackage** refuses a package still used by an account.
//! 11. **createpackage** answers the doc's shape; `packagelist` holds every
//!     package (the new one included) keyed by name; JSON object keys come out
//!     in name order. Names are 1 to 30 ASCII alphanumerics, unique.
//! 12. **Permissions.** Two catalogues, answered by `user/listuserpermissions`
//!     (`file`, `email`, `domain`, `mysql`, `software`, `tool`) and
//!     `admin/listadminuserpermissions` (`server`, `accounts`, `admin`,
//!     `security`, `tools`) as `{"<cat>": {"category": "<cat>", "pages": [...]}}`
//!     (the `labels` flag is not read). A `permissions` field is `all` or an array
//!     of categories, each `all` or a list of pages. Refused: a missing field
//!     where required (createpackage, modifypackage, createadminuser; wwwacct
//!     defaults to `all`), a string other than `all`, an unknown category or page,
//!     a category that is neither `all` nor a list of strings. Page lists keep
//!     their order without repeats. The createpackage doc's prose says
//!     `'domains' => [...]` but its example `'domain'`: the category is `domain`,
//!     and `domains` is refused as unknown. Permissions are listed as `"all"` or
//!     `{"<cat>": "all" | ["<page>", ...]}`.
//! 13. **admin/createadminuser.** The doc's example username is an email
//!     address, so its "alphanumeric" rule is not what the panel enforces: 1 to
//!     30 characters of letters, digits and `@ . _ - +` (the length bound kept).
//!     Password ≥ 8, `permissions` required, a taken name refused. The admin
//!     `root` exists from the start with all permissions.
//! 14. **SSO** (`base/sso`). The token's SSO option is checked first (`["SSO is
//!     not enabled for this API token"]`). `username` and `role` (`user` or
//!     `admin`) are required; role `user` names an account (subusers are not
//!     simulated), role `admin` an admin user; `ip` must be an IPv4 address when
//!     given; `redirect` (`category/page`) must be a page of the role's catalogue
//!     (else `"Unknown page or category"`). The token is 40 random hex digits,
//!     new every call and not remembered; the URL is
//!     `http://<Host header>/<folder>/sso/<token>` (plain HTTP, as the sim is
//!     served). Suspended accounts get a link. `admin/listadminusers` marks
//!     `root` as `currentuser` (the token's owner); `twofactor` is always false.
//! 15. **Suspension.** Suspending a suspended account succeeds again and
//!     replaces the reason (`reason` optional); unsuspend clears the reason.
//!     terminateaccount removes the account with its domains and databases.
//! 16. **Domains** are trimmed and lowercased; a valid one has two or more DNS
//!     labels and an alphabetic top-level label; each name exists once on the
//!     server (main, addon or subdomain). changedomain keeps the subdomains' full
//!     names. addsubdomain: `domain` must be the account's main or an addon
//!     domain, `subdomain` one DNS label, `path` optional (default: the full
//!     subdomain name), relative to the home directory, without `..`.
//!     removedomain removes addon domains (with their subdomains) and
//!     subdomains; the main domain is refused; `d` lists the names as sent,
//!     lowercased. No documented function adds an addon domain:
//!     [`SpanelSim::add_addon_domain`] seeds them.
//! 17. **listaccounts.** All accounts in creation order, or the one
//!     `accountuser` names (none → `{"data": []}`); `statusOption`
//!     (`active`/`suspended`; `scheduled` lists none) and `selectedPackage`
//!     filter; the disk and setup-date filters are ignored. Usage is simulated:
//!     `disk` = 2 MB + 1 per domain and per database, `inodes` = 150 + 50 per
//!     domain + 10 per database; `numemails`, `numftpaccts` `"0"`; `ip` the sim's
//!     listening IP; `homedir` `/home/<user>`; `setupDate` the creation day (UTC).
//! 18. **MySQL.** createmysqluser stores `<account>_<username>` (always
//!     prefixed; letters, digits, `_`; 32 characters at most), `password` ≥ 8
//!     required, `hostname` default `localhost`. createmysqldatabase's parameters
//!     are not documented: `database` (prefixed likewise, 64 characters at most)
//!     and `username`, an existing database user of the account (short or full
//!     name), required and assigned to the new database. The account's database
//!     limit applies (0: disabled). Names are unique on the server. (A public
//!     third-party script sends only `database` and assigns with
//!     `mysql/assignmysqluser`; unconfirmed, not simulated.)
//! 19. **fail_next** fires at the function's internal step, after validation: a
//!     call refused earlier leaves it armed.
//! 20. **toolbox/apicheck** answers `{"result": "success", "data": {"msg": "API
//!     connection successful"}}`.
//! 21. **Faults** go through the crate's front door: an injected fault answers
//!     before `api.php` runs, so such a request is counted but not in
//!     [`SpanelSim::received`], which holds every request that reached `api.php`
//!     (refused ones included), with its decoded `action` (empty when missing).

mod accounts;
mod actions;
mod admin;
mod packages;
mod permissions;
mod routes;
mod state;
mod user;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;

use crate::faults::{self, Faults, RequestCounter};
use actions::Action;
pub use permissions::{SimCategoryPermissions, SimPermissions};
use state::{Panel, SharedPanel, lock};

/// Settings of a simulated SPanel server.
#[derive(Clone)]
pub struct SpanelConfig {
    /// The API folder: `spanel` by default, `hostpanel` under white-label
    /// branding; the endpoint is `POST /<folder>/api.php` (surrounding `/` ignored).
    pub folder: String,
    /// The admin API token.
    pub admin_token: String,
    /// Whether that token has its "SSO" option on (`base/sso` needs it).
    pub admin_token_sso: bool,
    /// Packages present at start, in listing order.
    pub packages: Vec<SimSpanelPackage>,
}

impl Default for SpanelConfig {
    /// Folder `spanel`, token `panelgate-sim-spanel-token` with SSO on, packages
    /// `basic` (1024 MB, 100000 inodes, 1 addon domain, 10 emails, 5 databases)
    /// and `pro` (all unlimited), both with all permissions.
    fn default() -> Self {
        Self {
            folder: "spanel".to_owned(),
            admin_token: "panelgate-sim-spanel-token".to_owned(),
            admin_token_sso: true,
            packages: vec![
                SimSpanelPackage {
                    quota_mb: Some(1024),
                    inodes: Some(100_000),
                    domains: Some(1),
                    emails: Some(10),
                    databases: Some(5),
                    ..SimSpanelPackage::unlimited("basic")
                },
                SimSpanelPackage::unlimited("pro"),
            ],
        }
    }
}

impl fmt::Debug for SpanelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanelConfig")
            .field("folder", &self.folder)
            .field("admin_token", &"***")
            .field("admin_token_sso", &self.admin_token_sso)
            .field("packages", &self.packages)
            .finish()
    }
}

/// A hosting package as the panel holds it. `None` is unlimited; `Some(0)`
/// disables domains, emails or databases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSpanelPackage {
    /// Package name, unique (case-insensitively).
    pub name: String,
    /// Disk quota in MB. The API cannot set one below 100, but a package made
    /// elsewhere may hold `Some(0)`, listed as `"0"` (the doc's `test` package).
    pub quota_mb: Option<u64>,
    /// Inode limit.
    pub inodes: Option<u64>,
    /// Addon domains the account may add.
    pub domains: Option<u64>,
    /// Email accounts the account may create.
    pub emails: Option<u64>,
    /// Databases the account may create.
    pub databases: Option<u64>,
    /// Pages the package's accounts may use.
    pub permissions: SimPermissions,
}

impl SimSpanelPackage {
    /// A package with every limit unlimited and all permissions.
    pub fn unlimited(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            quota_mb: None,
            inodes: None,
            domains: None,
            emails: None,
            databases: None,
            permissions: SimPermissions::All,
        }
    }
}

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
#[derive(Clone)]
pub struct SpanelSim {
    addr: SocketAddr,
    folder: String,
    panel: SharedPanel,
    faults: Faults,
    requests: RequestCounter,
}

impl SpanelSim {
    /// Starts the simulator on 127.0.0.1 with an OS-assigned port, serving in a
    /// spawned tokio task.
    pub async fn start(config: SpanelConfig) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts on a chosen address (used by the binary).
    pub async fn start_on(addr: SocketAddr, config: SpanelConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let folder = config.folder.trim_matches('/').to_owned();
        let config = SpanelConfig {
            folder: folder.clone(),
            ..config
        };
        let panel = Arc::new(Mutex::new(Panel::new(config, addr)));
        let sim = SpanelSim {
            addr,
            folder: folder.clone(),
            panel: panel.clone(),
            faults: Faults::default(),
            requests: RequestCounter::default(),
        };
        faults::serve(
            listener,
            routes::router(panel, &folder),
            sim.faults.clone(),
            sim.requests.clone(),
        );
        Ok(sim)
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/<folder>/`, the panel API's base; the endpoint is
    /// this plus `api.php`.
    pub fn base_url(&self) -> String {
        format!("http://{}/{}/", self.addr, self.folder)
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

    /// Number of HTTP requests received so far (every path and outcome, faults
    /// included; a connection dropped on accept counts as one).
    pub fn request_count(&self) -> u64 {
        self.requests.get()
    }

    /// The raw bodies that reached `api.php`, oldest first, exactly as they came
    /// on the wire, with the action each named (reading 21).
    pub fn received(&self) -> Vec<ReceivedRequest> {
        lock(&self.panel).received().to_vec()
    }

    /// Turns the admin token's SSO option on or off.
    pub fn set_sso_enabled(&self, enabled: bool) {
        lock(&self.panel).admin_token_sso = enabled;
    }

    /// Snapshot of one account (username matched case-insensitively).
    pub fn account(&self, username: &str) -> Option<SimSpanelAccount> {
        lock(&self.panel).account_snapshot(username)
    }

    /// Packages as the panel holds them, in listing order.
    pub fn packages(&self) -> Vec<SimSpanelPackage> {
        lock(&self.panel).packages().to_vec()
    }

    /// Admin users, `root` first.
    pub fn admin_users(&self) -> Vec<SimSpanelAdmin> {
        lock(&self.panel).admins().to_vec()
    }

    /// Gives an account an addon domain, as the panel's UI would (no documented
    /// API function adds one; reading 16). False, and nothing changed, when the
    /// account does not exist or the domain is invalid or taken.
    pub fn add_addon_domain(&self, username: &str, domain: &str) -> bool {
        let mut panel = lock(&self.panel);
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
        lock(&self.panel).arm_failure(known, messages);
    }
}

impl fmt::Debug for SpanelSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanelSim")
            .field("addr", &self.addr)
            .field("folder", &self.folder)
            .field("faults", &self.faults)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

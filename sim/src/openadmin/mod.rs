//! Simulator of the OpenAdmin API (OpenPanel Enterprise).
//!
//! Written from `panels/source-docs/openadmin.txt` (docs v1.7.60, the Python
//! build); where the doc is silent it follows `panels/REFERENCE.md` §2 (mostly
//! what the Go rewrite does). It holds users, plans, domains, services and
//! notifications in memory, issues and checks JWTs, and answers the routes under
//! `/api/` the way the panel does.
//!
//! # Layout
//!
//! - this file: the public handle [`OpenAdminSim`], its config and the state snapshots;
//! - `routes`: the HTTP surface (API switch, token check, the build's 404/405 pages);
//! - `endpoints`: the endpoint table (methods, paths, which build has which,
//!   dispatch), the request and the reply;
//! - `auth`: logins, tokens, the login rate limit;
//! - `users`, `plans`, `domains`, `system`: the routes, one function each;
//! - `state`: the panel's tables behind a mutex.
//!
//! `CONNECT /api/users/{username}` never reaches hyper: the crate's front door
//! answers connections that open with CONNECT itself (see `faults::connect`).
//!
//! # Readings
//!
//! Where the doc and the reference leave a choice, this is what the simulator does.
//!
//! 1. **Two builds.** [`AutologinStyle`] picks the build. `Connect` is the Python
//!    (Flask) build of the doc: `CONNECT /api/users/{u}` gives the autologin link,
//!    `POST /api/users/{u}/autologin` does not exist, unknown paths get Werkzeug's
//!    HTML 404 page and a wrong method its HTML 405 page. `Post` is the Go rewrite:
//!    the POST route exists, CONNECT gets Go's mux answer (405, `text/plain`
//!    `"Method Not Allowed\n"`, with `Allow`), unknown paths `"404 page not found\n"`.
//!    Everything else is the same in both: the doc's shapes where it gives one,
//!    the Go build's where it does not, and Go's `{"error": ...}` bodies
//!    everywhere (the Python build's own error bodies cannot be known).
//! 2. **Order of checks**: API switch, then the token, then the route's own
//!    validation, then the opencli step. With the API off every route, `/api/`
//!    included, answers 404 `{"error": "API access is disabled! ..."}`; unknown
//!    paths and wrong methods still get the build's 404/405 page (the router
//!    answers before any handler).
//! 3. **Logins** (`POST /api/`). The rate limit runs first and every attempt
//!    counts, good or bad: a token bucket of `login_burst` attempts refilled at
//!    `login_burst` per minute (the Go build's limiter; one bucket for every
//!    client, where the panel keeps one per IP). The 429 carries **no
//!    `Retry-After`**: the Go handler only writes the JSON body. Then the body
//!    must be a JSON object (Content-Type not checked; else 400 `"Invalid JSON
//!    body"`); a missing username or password is a wrong one (401).
//! 4. **Tokens**: HS256, claims in Flask-JWT-Extended's order: `fresh` false,
//!    `iat`, `jti` (a UUID4), `type` `"access"`, `sub` (the admin), `nbf` = `iat`,
//!    `csrf` (a UUID4), `exp` = `iat` + `token_lifetime` (whole seconds). A request
//!    passes with exactly `Authorization: Bearer <token>`, a valid signature, `exp`
//!    not past by the real clock (no leeway), `nbf` reached, `type` access and
//!    the `jti` still in the issued set; anything else is 401 `{"error": "Missing
//!    or invalid token"}` (the Python build's Flask-JWT-Extended `{"msg": ...}`
//!    bodies are not simulated). `GET /api/whoami` answers `{"logged_in_as": sub}`.
//! 5. **Suspended users are renamed**: their stored name is
//!    `SUSPENDED_<id>_<username>` with `<id>` the user's numeric id (the real
//!    opencli may put something else there: read any `SUSPENDED_<x>_` prefix).
//!    `GET /api/users` and `user.user.username` of `GET /api/users/{u}` show it;
//!    every user route accepts the plain name or the stored one. Domain owners,
//!    `/api/ips`, `/api/usage/disk` keys and autologin links use the plain name.
//! 6. **User mutations** answer 201 `{"success": true, "response": {"message"}}`.
//!    An opencli failure is 500 `{"success": false, "error": "<prefix>: ERROR:
//!    ..."}`; an unknown user on PATCH, PUT and DELETE is such a failure
//!    (`"... User <u> does not exist."`), not a 404 (the Go handlers run the
//!    command without looking the user up); GET and autologin answer 404 `"User
//!    not found"`. Suspending a suspended user, or unsuspending an active one,
//!    fails (`"... is already suspended."`, `"... is not suspended."`). DELETE of a
//!    suspended user fails: `"Error deleting user: ERROR: User <u> is suspended.
//!    Unsuspend the user before deleting."` (why the vendor's client unsuspends
//!    first). Password and plan changes work on suspended users. Suspension does
//!    not change the user's domains' flags; DELETE removes the user's domains.
//! 7. **PATCH**: a body that is not a non-empty JSON object is 400 `"Something
//!    went wrong.."`; a non-empty string `password` wins over `action`; any
//!    `action` but `suspend`/`unsuspend` (missing included) is 400. **PUT**: a
//!    missing or empty `plan_name` (or a body that is not JSON) is 400 `"Missing
//!    username or plan name."`; the plan is checked before the user (500 `"Error
//!    changing plan for user: ERROR: Plan <p> does not exist."`). **DELETE** and
//!    the **POST autologin** need `Content-Type: application/json` (parameters
//!    allowed; else 400 `"Invalid JSON format"`) and ignore the body.
//! 8. **User creation**: JSON Content-Type and an object body (else 400 `"Invalid
//!    JSON format"`); the four fields non-empty strings (else 400 `"Missing
//!    required fields"`); forbidden names (root, admin, administrator, openadmin,
//!    openpanel, nobody, www-data, mysql, docker, any case) 400 `"Username is not
//!    allowed"`; then opencli's checks, each 500: 3 to 20 lowercase letters and
//!    digits, `"ERROR: Username <u> is already taken."` (suspended users
//!    included), `"ERROR: Plan with name <p> does not exist."`. `webserver` and
//!    `sql_type` are accepted and ignored; emails are not checked. Usernames are
//!    case-sensitive (Linux users). Ids start at 1.
//! 9. **`GET /api/users/{u}`**: `owner` is the admin whose token created the
//!    user, `twofa_enabled` false, `server` `"default"`, `registered_date` UTC
//!    `YYYY-MM-DD HH:MM:SS`; `sites` is always `[]`; `disk_usage` is always filled
//!    (reading 16); domains in id order.
//! 10. **Plans render with one set of values** in both shapes: `disk_limit` the
//!     doc's string `"<n> GB"`, `bandwidth` an integer in GB, `cpu` a string
//!     (`"1"`), `ram` a string (`"1g"`), counts integers, 0 = unlimited. `/api/plans`
//!     adds `storage_file` `"0 GB"` and `docker_image`; a user's plan adds
//!     `feature_set` (the Go build's numeric strings such as `"5000"` are not
//!     reproduced). A non-numeric or unknown plan id is 404 `"Plan not found"`.
//! 11. **Plan creation** (`plan_create`): `name` required (400 `"Missing required
//!     fields"`); counts (`email_limit`, `ftp_limit`, `domains_limit`,
//!     `websites_limit`, `inodes_limit`, `db_limit`, `max_email_quota` (ignored)),
//!     `disk_limit` in **GB** and `bandwidth` in **GB** are non-negative integers,
//!     as numbers or strings of digits; absent, null or empty is 0 (unlimited);
//!     anything else 400 `"Invalid value for <field>"`. `cpu`: a string as sent,
//!     a number `n` → `"n"`, default `"1"`; `ram`: a string as sent, a number `n`
//!     (GB) → `"<n>g"`, default `"1g"`. `description`, `docker_image`
//!     (`openpanel/nginx`) and `feature_set` (`default`) optional. A taken name
//!     (exact) is 500 `{"success": false, "error": "ERROR: Plan name '<n>'
//!     already exists."}`. Success is **HTTP 200** (the reference gives 201 only
//!     for user mutations). Without `plan_create`, `POST /api/plans` gets the
//!     build's 404 page, as a path the build lacks.
//! 12. **Adding a domain**: a body that is not a JSON object is 500 `{"error":
//!     "Invalid JSON body"}` (sic); then 400 for a missing username or domain and
//!     for a docroot outside `/var/www/html/` (default `/var/www/html/<domain>`); then opencli, answered with HTTP 200 `{"stdout", "stderr",
//!     "returncode"}`: returncode 1 with the message in `stderr` (stdout empty)
//!     for a bad name, an unknown user, a name taken (by anyone) or the plan's
//!     `domains_limit` reached (`"ERROR: Domain limit reached: ..."`); returncode 0
//!     with stdout `"Domain <d> added successfully.\n"`. A name is trimmed and
//!     lowercased; it needs two or more labels of letters, digits and inner
//!     hyphens (≤ 63 each) and an alphabetic top-level label of two or more
//!     letters. New domains get PHP `8.3`.
//! 13. **Domain actions**: the action word is checked first (400); an unknown
//!     domain is returncode 1 `"ERROR: Domain <d> does not exist."`; suspending a
//!     suspended domain (or the reverse) succeeds again; delete removes it.
//! 14. **Autologin links**: `http://<Host header without port>:2083/login_autologin
//!     ?username=<plain username>&admin_token=<30 letters and digits>` (the server
//!     IP without a `Host`), a new token every call; the sim does not remember
//!     tokens (their one-time use is the user panel's business); suspended users
//!     get a link too. The CONNECT form ignores any body; it is recognised as the
//!     first request of a connection (what curl and raw clients send) and
//!     answered with `Content-Length` and `Connection: close`; a CONNECT later on a
//!     kept-alive connection goes through hyper, which drops a 2xx body.
//! 15. **`GET /api/usage`** is `{"endpoints": [{"method", "path", "description"}]}`
//!     listing the routes this build has, in a fixed order (paths in `{param}`
//!     form): the autologin form of the build, `POST /api/plans` only with
//!     `plan_create`. **`/api/usage/stats`** has two lines: the day before the sim
//!     started with zero counts, then today's date with the current users,
//!     domains and websites (always 0: the sim has no sites), formatted as
//!     Python's `json.dumps` (`{"timestamp": "YYYY-MM-DD", "users": 1, ...}`).
//! 16. **Quota figures** (`/api/usage/disk`, a user's `disk_usage`) are in 1 KiB
//!     blocks, as repquota prints them: usage is simulated as 64 blocks plus 1536
//!     per domain, inodes 12 plus 40 per domain; limits are the plan's
//!     `disk_limit` × 1 048 576 blocks and its `inodes_limit` (0 = unlimited); soft
//!     = hard; `bwusage` and `bwlimit` 0. `/api/usage/disk` lists every user, by
//!     plain username.
//! 17. **Machine figures** are constants: four cores (`core_0`..`core_3`, percent
//!     floats), 8 GiB of RAM (bytes; the human-readable side as `"8.00 GB"`,
//!     `"37.5%"`), one root partition whose `used` grows with the accounts' usage
//!     (bytes; percent rounded to 0.1), `/api/system` as the doc's example with
//!     counts as numbers, `time` UTC now, `uptime` 18905 s plus the sim's own, and
//!     `openpanel_version` `"1.7.60"` (Python build) or `"1.8.0"` (Go build; an
//!     invented number).
//! 18. **Services**: services.json is an object keyed by service
//!     (`{"caddy": {"name": "Caddy", "status": "active"}}`); its `status`
//!     (`active`/`inactive`) says whether the service is monitored. The server
//!     has five units (caddy, docker, mysql, named running and monitored; csf
//!     stopped and not monitored). `PUT /api/services` replaces the file with any
//!     JSON object (else 400 `"Invalid JSON format"`). `/api/services/status`
//!     lists every entry of the file with `status` replaced by `"Active"`
//!     (running), `"Inactive"` or, for a key that is no unit on the server,
//!     `"Error: Unit <key>.service could not be found."`. Actions: a bad word is
//!     400; a key not in the file 404 `{"error": "Service <key> not found"}`; a key
//!     in the file that is no unit 500 `{"error": "Failed to <action> <Name>: ..."}`;
//!     else 200 `{"success": "<Name> started successfully"}` (`restarted`,
//!     `stopped`), `<Name>` being the entry's `name`.
//! 19. **Notifications** start empty; [`OpenAdminSim::add_notification`] appends.
//! 20. **Statuses**: 201 for user create/patch/put/delete, 200 for reads,
//!     autologin, plan creation and the domain wrappers (even when the command
//!     failed), 400 validation, 401 token or login, 404 unknown or API off, 429
//!     login limit, 500 opencli failures. Every JSON answer is
//!     `Content-Type: application/json`.

mod auth;
mod domains;
mod endpoints;
mod plans;
mod routes;
mod state;
mod system;
mod users;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::faults::{self, Faults, RequestCounter};
use state::{Panel, SharedPanel, lock};

/// Which autologin route the simulated build has (reading 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutologinStyle {
    /// Python-era: `CONNECT /api/users/{u}`; POST .../autologin is 404.
    Connect,
    /// Go-era: `POST /api/users/{u}/autologin`; CONNECT is 405.
    Post,
}

/// Settings of a simulated OpenAdmin panel.
#[derive(Clone)]
pub struct OpenAdminConfig {
    /// Admin username accepted by `POST /api/`.
    pub admin_username: String,
    /// Admin password accepted by `POST /api/`.
    pub admin_password: String,
    /// HS256 signing key of issued tokens.
    pub jwt_secret: String,
    /// `exp - iat` of issued tokens (whole seconds); the panel's is 15 minutes.
    pub token_lifetime: Duration,
    /// Which autologin route exists, and so which build is simulated.
    pub autologin: AutologinStyle,
    /// Whether `POST /api/plans` exists (the Go build has it).
    pub plan_create: bool,
    /// At most this many login attempts per minute (then 429); `None` = unlimited.
    pub login_burst: Option<u32>,
    /// Plans present at start.
    pub plans: Vec<SimPlan>,
    /// Whether the API is enabled (off → every `/api/*` route answers 404).
    pub api_enabled: bool,
}

impl Default for OpenAdminConfig {
    /// `admin` / `admin-secret`, 15-minute tokens, the Go build (POST autologin,
    /// plan creation), no login limit, plans `default_plan_nginx` (id 1, 10 GB,
    /// unlimited domains) and `pro_plan_apache` (id 2, 50 GB, 10 domains), API on.
    fn default() -> Self {
        Self {
            admin_username: "admin".to_owned(),
            admin_password: "admin-secret".to_owned(),
            jwt_secret: "panelgate-sim-openadmin-jwt-secret".to_owned(),
            token_lifetime: Duration::from_secs(15 * 60),
            autologin: AutologinStyle::Post,
            plan_create: true,
            login_burst: None,
            plans: vec![
                SimPlan {
                    description: "Unlimited domains and Nginx".to_owned(),
                    websites_limit: 10,
                    inodes_limit: 1_000_000,
                    bandwidth_gb: 100,
                    ..SimPlan::new(1, "default_plan_nginx", 10, 0)
                },
                SimPlan {
                    description: "Ten domains and Apache".to_owned(),
                    websites_limit: 50,
                    email_limit: 100,
                    ftp_limit: 10,
                    inodes_limit: 2_500_000,
                    db_limit: 20,
                    cpu: "2".to_owned(),
                    ram: "4g".to_owned(),
                    bandwidth_gb: 500,
                    docker_image: "openpanel/apache".to_owned(),
                    ..SimPlan::new(2, "pro_plan_apache", 50, 10)
                },
            ],
            api_enabled: true,
        }
    }
}

impl fmt::Debug for OpenAdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAdminConfig")
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"***")
            .field("jwt_secret", &"***")
            .field("token_lifetime", &self.token_lifetime)
            .field("autologin", &self.autologin)
            .field("plan_create", &self.plan_create)
            .field("login_burst", &self.login_burst)
            .field("plans", &self.plans)
            .field("api_enabled", &self.api_enabled)
            .finish()
    }
}

/// A hosting plan as the panel holds it. Limits of 0 mean unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPlan {
    /// Plan id, as `GET /api/plans/{plan_id}` takes it.
    pub id: u64,
    /// Plan name, unique; users reference plans by name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Maximum number of domains.
    pub domains_limit: u64,
    /// Maximum number of websites.
    pub websites_limit: u64,
    /// Maximum number of email accounts.
    pub email_limit: u64,
    /// Maximum number of FTP accounts.
    pub ftp_limit: u64,
    /// Disk quota in GB.
    pub disk_limit_gb: u64,
    /// Inode quota.
    pub inodes_limit: u64,
    /// Maximum number of databases.
    pub db_limit: u64,
    /// CPU cores, as the panel stores it (e.g. `"1"`).
    pub cpu: String,
    /// Memory, as the panel stores it (e.g. `"1g"`).
    pub ram: String,
    /// Bandwidth in GB.
    pub bandwidth_gb: u64,
    /// Docker image of the user's containers (v1.7.60's plans).
    pub docker_image: String,
    /// Feature set name (the Go build's plans).
    pub feature_set: String,
}

impl SimPlan {
    /// A plan with the given disk quota (GB) and domain limit: 1 CPU, `1g` RAM,
    /// `openpanel/nginx`, feature set `default`, every other limit unlimited.
    pub fn new(id: u64, name: impl Into<String>, disk_limit_gb: u64, domains_limit: u64) -> Self {
        Self {
            id,
            name: name.into(),
            description: String::new(),
            domains_limit,
            websites_limit: 0,
            email_limit: 0,
            ftp_limit: 0,
            disk_limit_gb,
            inodes_limit: 0,
            db_limit: 0,
            cpu: "1".to_owned(),
            ram: "1g".to_owned(),
            bandwidth_gb: 0,
            docker_image: "openpanel/nginx".to_owned(),
            feature_set: "default".to_owned(),
        }
    }
}

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
#[derive(Clone)]
pub struct OpenAdminSim {
    addr: SocketAddr,
    panel: SharedPanel,
    faults: Faults,
    requests: RequestCounter,
}

impl OpenAdminSim {
    /// Starts the simulator on 127.0.0.1 with an OS-assigned port, serving in a
    /// spawned tokio task.
    pub async fn start(config: OpenAdminConfig) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await
    }

    /// Starts on a chosen address (used by the binary).
    pub async fn start_on(addr: SocketAddr, config: OpenAdminConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (autologin, plan_create) = (config.autologin, config.plan_create);
        let panel = Arc::new(Mutex::new(Panel::new(config, addr)));
        let sim = OpenAdminSim {
            addr,
            panel: panel.clone(),
            faults: Faults::default(),
            requests: RequestCounter::default(),
        };
        faults::serve_with_raw_connect(
            listener,
            routes::router(panel, autologin, plan_create),
            sim.faults.clone(),
            sim.requests.clone(),
        )?;
        Ok(sim)
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`; the routes live under `/api/`.
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

    /// Number of HTTP requests received so far (every path and outcome, CONNECT
    /// and faults included; a connection dropped on accept counts as one).
    pub fn request_count(&self) -> u64 {
        self.requests.get()
    }

    /// Number of successful logins (tokens issued).
    pub fn login_count(&self) -> u64 {
        lock(&self.panel).tokens.logins
    }

    /// Forgets every issued token: they answer 401 from now on.
    pub fn revoke_tokens(&self) {
        lock(&self.panel).tokens.revoke_all();
    }

    /// Turns the API on or off (`opencli api on|off`).
    pub fn set_api_enabled(&self, enabled: bool) {
        lock(&self.panel).api_enabled = enabled;
    }

    /// Snapshot of one user, by plain username (or its `SUSPENDED_` name).
    pub fn user(&self, username: &str) -> Option<SimOpenAdminUser> {
        lock(&self.panel).user_snapshot(username)
    }

    /// Gives a user a dedicated IP (listed by `GET /api/ips`); no-op for an
    /// unknown user.
    pub fn set_dedicated_ip(&self, username: &str, ip: &str) {
        if let Some(user) = lock(&self.panel).user_mut(username) {
            user.dedicated_ip = Some(ip.to_owned());
        }
    }

    /// Snapshot of one domain (name matched case-insensitively).
    pub fn domain(&self, name: &str) -> Option<SimOpenAdminDomain> {
        lock(&self.panel).domain_snapshot(name)
    }

    /// Plans as the panel holds them, in id order.
    pub fn plans(&self) -> Vec<SimPlan> {
        lock(&self.panel).plans().to_vec()
    }

    /// The services.json entries with their running state, in key order.
    pub fn services(&self) -> Vec<SimService> {
        lock(&self.panel).service_snapshots()
    }

    /// Adds a notification (listed last by `GET /api/notifications`).
    pub fn add_notification(&self, title: &str, message: &str) {
        lock(&self.panel)
            .notifications
            .push((title.to_owned(), message.to_owned()));
    }
}

impl fmt::Debug for OpenAdminSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAdminSim")
            .field("addr", &self.addr)
            .field("faults", &self.faults)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

//! Simulator of the OpenAdmin API (OpenPanel Enterprise).
//!
//! Written from the OpenAdmin API document (docs v1.7.60, the Python build:
//! JWT logins at `POST /api/`, users, plans, domains, usage, services); where
//! the doc is silent it follows what the panel's Go rewrite does (it mirrors
//! the Python API and documents every route). It holds users, plans, domains,
//! services and notifications in memory, issues and checks JWTs, and answers
//! the routes under `/api/` the way the panel does.
//!
//! # Layout
//!
//! - `handle`: the public handle [`OpenAdminSim`] and the state snapshots;
//! - `config`: its settings (which build, tokens, login limit) and the plans it starts with;
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
//! Where the doc and the Go build leave a choice, this is what the simulator does.
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
//!     already exists."}`. Success is **HTTP 200** (201 is for user mutations
//!     only). Without `plan_create`, `POST /api/plans` gets the
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
mod config;
mod domains;
mod endpoints;
mod handle;
mod plans;
mod routes;
mod state;
mod system;
mod users;

#[cfg(test)]
mod tests;

pub use config::{AutologinStyle, OpenAdminConfig, SimPlan};
pub use handle::{OpenAdminSim, SimOpenAdminDomain, SimOpenAdminUser, SimService};

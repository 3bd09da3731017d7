//! Simulator of the SPanel (ScalaHosting) API.
//!
//! Written from the documents of two functions, `admin/createadminuser` and
//! `accounts/createpackage` (one form-encoded endpoint, a token and an
//! `action` in every body, bracket-notation arrays); where they are silent it
//! follows the vendor's other API pages and its published clients (the rest of
//! the API). It holds accounts (with their subdomains and databases),
//! packages and admin users in memory and answers the single endpoint
//! `POST /<folder>/api.php` the way the panel does.
//!
//! # Layout
//!
//! - `handle`: the public handle [`SpanelSim`] and the state snapshots;
//! - `config`: its settings (folder, token) and the packages it starts with;
//! - `routes`: the HTTP surface (`api.php`, the 404 page);
//! - `crate::form` (shared with the Installatron simulator): PHP's reading of
//!   form bodies (`http_build_query` brackets);
//! - `actions`: the action table, the token/action/`accountuser` checks, the reply shapes;
//! - `accounts`, `packages`, `admin`, `user`: the functions, one function each;
//! - `permissions`: the two permission catalogues, reading and rendering permissions;
//! - `limits`: the five limits, as held, listed and sent;
//! - `values`: how passwords, names, domains and addresses are read;
//! - `state`: the panel's tables behind a mutex.
//!
//! # Readings
//!
//! Where the docs and the vendor's other pages leave a choice, this is what the
//! simulator does.
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
mod config;
mod handle;
mod limits;
mod packages;
mod permissions;
mod routes;
mod state;
mod user;
mod values;

#[cfg(test)]
mod tests;

pub use config::{SimSpanelPackage, SpanelConfig};
pub use handle::{ReceivedRequest, SimSpanelAccount, SimSpanelAdmin, SpanelSim};
pub use permissions::{SimCategoryPermissions, SimPermissions};

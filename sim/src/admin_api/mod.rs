//! Simulator of the "admin_api" panel (OLSPanel's admin API).
//!
//! Written from the panel's API document (ten form-encoded POST endpoints
//! under `/admin_api/`, the admin's credentials in two headers, JSON answers
//! with HTTP 200); where the doc is silent it follows what OLSPanel's Django
//! code does. It holds users, packages, domains and databases in memory and
//! answers the ten endpoints the way the panel does.
//!
//! # Layout
//!
//! - `handle`: the public handle [`AdminApiSim`] and the state snapshots;
//! - `config`: its settings and the packages it starts with;
//! - `routes`: the HTTP surface (auth guard, form bodies, 404 and 301 pages);
//! - `endpoints`: the endpoint table (names, paths, dispatch), the form and the reply;
//! - `views`: the ten endpoints, one function each, with the panel's messages;
//! - `state`: the panel's tables behind a mutex;
//! - `values`: how the panel reads form values and renders sizes and limits.
//!
//! # Readings
//!
//! Where the doc and the code leave a choice, this is what the simulator does.
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

mod config;
mod endpoints;
mod handle;
mod routes;
mod state;
mod values;
mod views;

#[cfg(test)]
mod tests;

pub use config::{AdminApiConfig, SimPackage};
pub use handle::{AdminApiSim, SimDomain, SimUser};

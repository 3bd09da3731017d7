//! The domain routes. Adding, suspending, unsuspending and deleting wrap an
//! opencli command and answer its `{"stdout", "stderr", "returncode"}` with
//! HTTP 200 even when the command failed.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::SimOpenAdminDomain;
use super::endpoints::{Call, Reply, error};
use super::state::Panel;
use super::users::filled;
use crate::dns;

/// Where every document root must live.
const DOCROOT_BASE: &str = "/var/www/html/";
/// PHP version of new domains (reading 12).
const DEFAULT_PHP: &str = "8.3";

/// `GET /api/domains`: the Go shape `{"domains": [...]}`.
pub(super) fn list(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let domains: Vec<Value> = panel
        .domains()
        .into_iter()
        .map(|domain| {
            json!({
                "domain_id": domain.id,
                "domain_url": domain.name,
                "user_id": panel.user(&domain.owner).map_or(0, |user| user.id),
                "docroot": domain.docroot,
                "php_version": domain.php_version,
            })
        })
        .collect();
    Reply::ok(json!({ "domains": domains }))
}

/// `POST /api/domains/new`: validation (400), then `opencli domains-add`.
pub(super) fn add(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let Some(fields) = call.object() else {
        // Sic: the Go build answers a bad body with 500.
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Invalid JSON body");
    };
    let (Some(username), Some(domain)) = (filled(&fields, "username"), filled(&fields, "domain"))
    else {
        return error(StatusCode::BAD_REQUEST, "username and domain are required");
    };
    let name = domain.trim().to_lowercase();
    let docroot = match filled(&fields, "docroot") {
        Some(docroot) => docroot.to_owned(),
        None => format!("{DOCROOT_BASE}{name}"),
    };
    if !docroot.starts_with(DOCROOT_BASE) {
        return error(
            StatusCode::BAD_REQUEST,
            "docroot must start with /var/www/html/",
        );
    }

    if !dns::is_domain(&name) {
        return cli(1, "", &format!("ERROR: Invalid domain name: {domain}"));
    }
    let Some(user) = panel.user(username) else {
        return cli(1, "", &format!("ERROR: User {username} does not exist."));
    };
    if panel.domain(&name).is_some() {
        return cli(1, "", &format!("ERROR: Domain {name} already exists."));
    }
    let owner = user.username.clone();
    let limit = panel
        .plan(user.plan_id)
        .map_or(0, |plan| plan.domains_limit);
    let owned = panel.domains_of(&owner).len() as u64;
    if limit != 0 && owned >= limit {
        return cli(
            1,
            "",
            &format!("ERROR: Domain limit reached: user {owner} can have at most {limit} domains."),
        );
    }
    panel.insert_domain(SimOpenAdminDomain {
        id: 0,
        name: name.clone(),
        owner,
        docroot,
        php_version: DEFAULT_PHP.to_owned(),
        suspended: false,
    });
    cli(0, &format!("Domain {name} added successfully.\n"), "")
}

/// `POST /api/domains/{suspend|unsuspend|delete}/{domain}`.
pub(super) fn action(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let action = call.param("action");
    if !matches!(action, "suspend" | "unsuspend" | "delete") {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid action. Use suspend, unsuspend, or delete",
        );
    }
    let name = call.param("domain").trim().to_lowercase();
    let Some(domain) = panel.domain_mut(&name) else {
        return cli(1, "", &format!("ERROR: Domain {name} does not exist."));
    };
    // Suspending a suspended domain (or the reverse) succeeds again (reading 13).
    let done = match action {
        "suspend" => {
            domain.suspended = true;
            "suspended"
        }
        "unsuspend" => {
            domain.suspended = false;
            "unsuspended"
        }
        _ => {
            panel.remove_domain(&name);
            "deleted"
        }
    };
    cli(0, &format!("Domain {name} {done} successfully.\n"), "")
}

/// The wrapper's reply: HTTP 200 whatever the return code.
fn cli(returncode: i32, stdout: &str, stderr: &str) -> Reply {
    Reply::ok(json!({"stdout": stdout, "stderr": stderr, "returncode": returncode}))
}

//! The account routes: list, create, get, suspend/unsuspend/password, change
//! plan, delete, autologin, dedicated IPs.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::endpoints::{Call, Reply, cli_failure, error};
use super::plans::user_plan_json;
use super::state::{Panel, UserRow};

/// Usernames the panel's forbidden-usernames file refuses (reading 8).
const FORBIDDEN_USERNAMES: [&str; 9] = [
    "root",
    "admin",
    "administrator",
    "openadmin",
    "openpanel",
    "nobody",
    "www-data",
    "mysql",
    "docker",
];

/// Length of the one-time token in autologin links.
const ADMIN_TOKEN_LEN: usize = 30;

/// `GET /api/users`: the doc's array of `{username, email, plan_name}`.
pub(super) fn list(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let users: Vec<Value> = panel
        .users()
        .into_iter()
        .map(|user| {
            json!({
                "username": user.stored_name(),
                "email": user.email,
                "plan_name": panel.plan_name(user.plan_id),
            })
        })
        .collect();
    Reply::ok(Value::Array(users))
}

/// `POST /api/users`: `opencli user-add`.
pub(super) fn create(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let Some(fields) = call.object().filter(|_| call.sends_json()) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON format");
    };
    let (Some(email), Some(username), Some(password), Some(plan_name)) = (
        filled(&fields, "email"),
        filled(&fields, "username"),
        filled(&fields, "password"),
        filled(&fields, "plan_name"),
    ) else {
        return error(StatusCode::BAD_REQUEST, "Missing required fields");
    };
    if FORBIDDEN_USERNAMES.contains(&username.to_lowercase().as_str()) {
        return error(StatusCode::BAD_REQUEST, "Username is not allowed");
    }
    let well_formed = (3..=20).contains(&username.len())
        && username
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit());
    if !well_formed {
        return cli_failure(
            "ERROR: Username can only contain lowercase letters and numbers, 3 to 20 characters.",
        );
    }
    if panel.user(username).is_some() {
        return cli_failure(&format!("ERROR: Username {username} is already taken."));
    }
    let Some(plan_id) = panel.plan_named(plan_name).map(|plan| plan.id) else {
        return cli_failure(&format!(
            "ERROR: Plan with name {plan_name} does not exist."
        ));
    };
    let owner = call.admin.to_owned();
    panel.insert_user(UserRow {
        id: 0,
        username: username.to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
        plan_id,
        suspended: false,
        dedicated_ip: None,
        registered_date: chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        owner,
    });
    // Yes, the panel echoes the password.
    Reply::done(&format!(
        "Successfully added user {username} password: {password}"
    ))
}

/// `GET /api/users/{username}`: the nested `{"user": {"user": ..., "plan": ...}}` shape.
pub(super) fn get(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let Some(user) = panel.user(call.param("username")) else {
        return error(StatusCode::NOT_FOUND, "User not found");
    };
    let plan = panel
        .plan(user.plan_id)
        .map_or_else(|| json!({}), user_plan_json);
    let domains: Vec<Value> = panel
        .domains_of(&user.username)
        .into_iter()
        .map(|domain| {
            json!({
                "domain_id": domain.id,
                "docroot": domain.docroot,
                "domain_url": domain.name,
                "php_version": domain.php_version,
            })
        })
        .collect();
    let (disk_used, inodes_used) = panel.disk_usage(&user.username);
    let (disk_hard, inodes_hard) = panel.plan(user.plan_id).map_or((0, 0), |plan| {
        (plan.disk_limit_gb * 1024 * 1024, plan.inodes_limit)
    });
    Reply::ok(json!({
        "user": {
            "user": {
                "id": user.id,
                "username": user.stored_name(),
                "email": user.email,
                "owner": user.owner,
                "twofa_enabled": false,
                "registered_date": user.registered_date,
                "server": "default",
            },
            "plan": plan,
            "domains": domains,
            "sites": [],
            "disk_usage": {
                "disk_used": disk_used,
                "disk_soft": disk_hard,
                "disk_hard": disk_hard,
                "inodes_used": inodes_used,
                "inodes_soft": inodes_hard,
                "inodes_hard": inodes_hard,
                "home_path": format!("/home/{}", user.username),
            },
        }
    }))
}

/// `PATCH /api/users/{username}`: the password if one is sent, else the action.
pub(super) fn patch(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let username = call.param("username");
    let Some(fields) = call.object().filter(|fields| !fields.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "Something went wrong..");
    };
    // The Go handler checks the password first: with both, only the password changes.
    if let Some(password) = filled(&fields, "password") {
        let Some(user) = panel.user_mut(username) else {
            return cli_failure(&format!(
                "Error executing command: ERROR: User {username} does not exist."
            ));
        };
        user.password = password.to_owned();
        return Reply::done(&format!(
            "Successfully changed password for user {username}."
        ));
    }
    let suspend = match fields.get("action").and_then(Value::as_str) {
        Some("suspend") => true,
        Some("unsuspend") => false,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid action, only suspend and unsuspend are allowed.",
            );
        }
    };
    let prefix = if suspend {
        "Error suspending user"
    } else {
        "Error unsuspending user"
    };
    let Some(user) = panel.user_mut(username) else {
        return cli_failure(&format!("{prefix}: ERROR: User {username} does not exist."));
    };
    if user.suspended == suspend {
        let state = if suspend {
            "is already suspended"
        } else {
            "is not suspended"
        };
        return cli_failure(&format!("{prefix}: ERROR: User {username} {state}."));
    }
    user.suspended = suspend;
    let done = if suspend { "suspended" } else { "unsuspended" };
    Reply::done(&format!("User {} {done} successfully.", user.username))
}

/// `PUT /api/users/{username}`: `opencli user-change_plan`.
pub(super) fn change_plan(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let username = call.param("username");
    let fields = call.object().unwrap_or_default();
    let Some(plan_name) = filled(&fields, "plan_name") else {
        return error(StatusCode::BAD_REQUEST, "Missing username or plan name.");
    };
    let prefix = "Error changing plan for user";
    let Some(plan_id) = panel.plan_named(plan_name).map(|plan| plan.id) else {
        return cli_failure(&format!(
            "{prefix}: ERROR: Plan {plan_name} does not exist."
        ));
    };
    let Some(old_plan) = panel
        .user(username)
        .map(|user| panel.plan_name(user.plan_id))
    else {
        return cli_failure(&format!("{prefix}: ERROR: User {username} does not exist."));
    };
    if let Some(user) = panel.user_mut(username) {
        user.plan_id = plan_id;
    }
    Reply::done(&format!(
        "Plan changed successfully for user {username} from {old_plan} to {plan_name}."
    ))
}

/// `DELETE /api/users/{username}`: `opencli user-delete <u> -y`; refuses a
/// suspended user (reading 6).
pub(super) fn delete(panel: &mut Panel, call: &Call<'_>) -> Reply {
    if !call.sends_json() {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON format");
    }
    let username = call.param("username");
    let prefix = "Error deleting user";
    let Some(user) = panel.user(username) else {
        return cli_failure(&format!("{prefix}: ERROR: User {username} does not exist."));
    };
    if user.suspended {
        return cli_failure(&format!(
            "{prefix}: ERROR: User {username} is suspended. Unsuspend the user before deleting."
        ));
    }
    let plain = user.username.clone();
    panel.delete_user(&plain);
    Reply::done(&format!("User {plain} deleted successfully."))
}

/// `POST /api/users/{username}/autologin` (Go build): the link, for a request
/// with a JSON content type.
pub(super) fn autologin_post(panel: &mut Panel, call: &Call<'_>) -> Reply {
    if !call.sends_json() {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON format");
    }
    autologin(panel, call)
}

/// `CONNECT /api/users/{username}` (Python build): a one-time login link.
pub(super) fn autologin(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let Some(user) = panel.user(call.param("username")) else {
        return error(StatusCode::NOT_FOUND, "User not found");
    };
    let link = format!(
        "http://{}:2083/login_autologin?username={}&admin_token={}",
        call.host(panel),
        user.username,
        random_token(ADMIN_TOKEN_LEN)
    );
    Reply::ok(json!({ "link": link }))
}

/// `GET /api/ips`: `{"<username>": "<ip>"}` for users with a dedicated IP.
pub(super) fn ips(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let ips: Map<String, Value> = panel
        .users()
        .into_iter()
        .filter_map(|user| {
            let ip = user.dedicated_ip.clone()?;
            Some((user.username.clone(), Value::String(ip)))
        })
        .collect();
    Reply::ok(Value::Object(ips))
}

/// A non-empty string field.
pub(super) fn filled<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
}

/// `len` random letters and digits.
fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut token = String::with_capacity(len);
    while token.len() < len {
        for byte in uuid::Uuid::new_v4().into_bytes() {
            if token.len() == len {
                break;
            }
            token.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
        }
    }
    token
}

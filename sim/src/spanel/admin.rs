//! Admin users, the permission catalogues, single sign-on and the API check.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::SimSpanelAdmin;
use super::actions::{Action, Call, Outcome, Problems, done_data, fail, success};
use super::permissions::{
    self, ADMIN_CATALOGUE, Catalogue, USER_CATALOGUE, catalogue_json, has_page,
};
use super::state::Panel;
use super::values::{check_password, is_admin_name};

/// The admin the simulated API token belongs to (reading 14).
const TOKEN_OWNER: &str = "root";

/// `toolbox/apicheck`: a small success reply (reading 20).
pub(super) fn api_check(panel: &mut Panel) -> Outcome {
    panel.armed(Action::ApiCheck)?;
    done_data("API connection successful")
}

/// `admin/createadminuser` (reading 13).
pub(super) fn create_admin(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let mut problems = Problems::default();
    let username = problems.required(form, "username");
    match username {
        Some(name) if !is_admin_name(name) => problems.push(
            "The username must be between 1 and 30 characters: letters, digits and @ . _ - +",
        ),
        Some(name) if panel.admin_exists(name) => {
            problems.push(format!(
                "An admin user with the username {name} already exists"
            ));
        }
        _ => {}
    }
    check_password(form, &mut problems);
    let permissions = permissions::parse(form.get("permissions"), ADMIN_CATALOGUE)
        .map_err(|found| problems.extend(found))
        .ok();
    let (username, permissions) = problems.refuse_or(username.zip(permissions))?;
    panel.armed(Action::CreateAdmin)?;
    panel.insert_admin(SimSpanelAdmin {
        user: username.to_owned(),
        password: form.str("password").unwrap_or_default().to_owned(),
        permissions,
    });
    done_data(format!(
        "The admin account with username {username} has been created successfully"
    ))
}

/// `admin/listadminusers`.
pub(super) fn list_admins(panel: &mut Panel) -> Outcome {
    panel.armed(Action::ListAdmins)?;
    let rows: Vec<Value> = panel
        .admins()
        .iter()
        .map(|admin| {
            json!({
                "user": admin.user,
                "permissions": admin.permissions.to_json(),
                "currentuser": admin.user == TOKEN_OWNER,
                "twofactor": false,
            })
        })
        .collect();
    success(Value::Array(rows))
}

/// `admin/listadminuserpermissions`: the admin catalogue (`labels` is not read).
pub(super) fn list_admin_permissions(panel: &mut Panel) -> Outcome {
    panel.armed(Action::ListAdminPermissions)?;
    success(catalogue_json(ADMIN_CATALOGUE))
}

/// `user/listuserpermissions`: the user catalogue.
pub(super) fn list_user_permissions(panel: &mut Panel) -> Outcome {
    panel.armed(Action::ListUserPermissions)?;
    success(catalogue_json(USER_CATALOGUE))
}

/// `base/sso`: a one-time login link (reading 14).
pub(super) fn sso(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let (form, host) = (call.form, call.host);
    if !panel.admin_token_sso {
        return Err(fail("SSO is not enabled for this API token"));
    }
    let mut problems = Problems::default();
    let username = form.filled("username");
    let role = form.filled("role");
    let catalogue: Option<Catalogue> = match role {
        Some("user") => Some(USER_CATALOGUE),
        Some("admin") => Some(ADMIN_CATALOGUE),
        Some(_) | None => {
            problems.push("The role must be user or admin");
            None
        }
    };
    match (username, role) {
        (None, _) => problems.push("The username field is required"),
        (Some(name), Some("user")) if panel.account(name).is_none() => {
            problems.push(format!("The account {name} does not exist"));
        }
        (Some(name), Some("admin")) if !panel.admin_exists(name) => {
            problems.push(format!("The admin user {name} does not exist"));
        }
        _ => {}
    }
    if let Some(ip) = form.filled("ip")
        && ip.parse::<Ipv4Addr>().is_err()
    {
        problems.push(format!("The IP address {ip} is not a valid IPv4 address"));
    }
    if let (Some(redirect), Some(catalogue)) = (form.filled("redirect"), catalogue) {
        let known = redirect
            .split_once('/')
            .is_some_and(|(category, page)| has_page(catalogue, category, page));
        if !known {
            problems.push("Unknown page or category");
        }
    }
    problems.check()?;
    panel.armed(Action::Sso)?;
    let token = sso_token();
    let url = format!("http://{host}/{}/sso/{token}", panel.folder);
    success(json!({"token": token, "url": url}))
}

/// 40 random lowercase hex digits.
fn sso_token() -> String {
    let first = uuid::Uuid::new_v4().simple().to_string();
    let second = uuid::Uuid::new_v4().simple().to_string();
    format!("{first}{}", &second[..8])
}

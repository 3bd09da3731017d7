//! The endpoint table (names, paths, views) and what the views share: the
//! request, the reply and the panel's error shapes.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::state::Panel;
use super::views;
use crate::table::endpoint_table;

/// What the table says of one endpoint.
pub(super) struct Facts {
    /// The name `fail_next` takes.
    pub(super) name: &'static str,
    /// The URL path, trailing slash included.
    pub(super) path: &'static str,
    /// The view, run once the admin guard has passed.
    pub(super) view: fn(&mut Panel, &Request) -> Outcome,
}

endpoint_table! {
    /// One endpoint of the admin API.
    pub(super) enum Endpoint: Facts {
        AccountInfo { name: "account_info", path: "/admin_api/", view: views::account_info },
        AddUser { name: "add_user", path: "/admin_api/add_user/", view: views::add_user },
        SuspendUser { name: "suspend_user", path: "/admin_api/suspend_user/", view: views::suspend_user },
        UpdateUser { name: "update_user", path: "/admin_api/update_user/", view: views::update_user },
        PackagesList { name: "packages_list", path: "/admin_api/packages_list/", view: views::packages_list },
        NewPackage { name: "new_package", path: "/admin_api/new_package/", view: views::new_package },
        IssueSsl { name: "issue_ssl", path: "/admin_api/issue_ssl/", view: views::issue_ssl },
        AddDomain { name: "add_domain", path: "/admin_api/add_domain/", view: views::add_domain },
        DatabaseAdd { name: "database_add", path: "/admin_api/database_add/", view: views::database_add },
        SsoLogin { name: "sso_login", path: "/admin_api/sso_login/", view: views::sso_login },
    }
}

impl Endpoint {
    /// The endpoint called `name`, if any.
    pub(super) fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL
            .iter()
            .copied()
            .find(|endpoint| endpoint.facts().name == name)
    }

    /// Runs the endpoint once the admin guard has passed.
    pub(super) fn run(self, panel: &mut Panel, request: &Request) -> Reply {
        (self.facts().view)(panel, request).unwrap_or_else(|refusal| refusal)
    }

    /// A failure in this endpoint's own error shape.
    pub(super) fn failure(self, message: &str) -> Reply {
        match self {
            Endpoint::AccountInfo => error(message),
            Endpoint::DatabaseAdd => Reply::Json(json!({"success": false, "error": message})),
            _ => fail(message),
        }
    }

    /// Fails with the failure armed by `fail_next`, if any: the panel-internal
    /// step failed.
    pub(super) fn armed(self, panel: &mut Panel) -> Result<(), Reply> {
        match panel.take_failure(self) {
            Some(message) => Err(self.failure(&message)),
            None => Ok(()),
        }
    }
}

/// One request as the views see it: the form fields, as Django's
/// `request.POST`, and the `Host` header (for SSO links).
#[derive(Debug, Default)]
pub(super) struct Request {
    pub(super) form: HashMap<String, String>,
    pub(super) host: String,
}

impl Request {
    /// The value if present, even empty (Python's `data.get(key) is not None`).
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.form.get(key).map(String::as_str)
    }

    /// The value if present and non-empty (Python's truthiness).
    pub(super) fn filled(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
    }

    /// The value of `key` if filled, else the refusal `missing` makes.
    pub(super) fn require(
        &self,
        key: &str,
        missing: impl FnOnce() -> Reply,
    ) -> Result<&str, Reply> {
        self.filled(key).ok_or_else(missing)
    }

    /// The values of `keys` when every one is filled: the views' "all fields
    /// are required".
    pub(super) fn filled_all<const N: usize>(&self, keys: [&str; N]) -> Option<[&str; N]> {
        let mut values = [""; N];
        for (value, key) in values.iter_mut().zip(keys) {
            *value = self.filled(key)?;
        }
        Some(values)
    }
}

/// What the panel answers.
#[derive(Debug)]
pub(super) enum Reply {
    /// A JSON body with HTTP 200.
    Json(Value),
    /// The view raised: Django's production "Server Error (500)" page.
    ServerError,
}

/// What a view answers: its reply, or the refusal that ends it early (so that
/// `?` answers it).
pub(super) type Outcome = Result<Reply, Reply>;

/// `{"error": message}`, the decorator's and account info's shape.
pub(super) fn error(message: &str) -> Reply {
    Reply::Json(json!({ "error": message }))
}

/// `{"success": false, "message": message}`, the endpoints' shape.
pub(super) fn fail(message: &str) -> Reply {
    Reply::Json(json!({ "success": false, "message": message }))
}

/// `{"success": true, "message": message}`, an endpoint's success.
pub(super) fn done(message: impl Into<String>) -> Outcome {
    Ok(Reply::Json(
        json!({"success": true, "message": message.into()}),
    ))
}

/// [`done`] with one more field (the new row's id, the link).
pub(super) fn done_with(message: impl Into<String>, key: &str, value: impl Into<Value>) -> Outcome {
    let mut body = json!({"success": true, "message": message.into()});
    body[key] = value.into();
    Ok(Reply::Json(body))
}

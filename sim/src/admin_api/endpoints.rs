//! The endpoint table (names, paths, dispatch) and what the views share: the
//! form, the reply and the panel's two error shapes.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::state::Panel;
use super::views;

/// One endpoint of the admin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Endpoint {
    AccountInfo,
    AddUser,
    SuspendUser,
    UpdateUser,
    PackagesList,
    NewPackage,
    IssueSsl,
    AddDomain,
    DatabaseAdd,
    SsoLogin,
}

impl Endpoint {
    /// Every endpoint.
    pub(super) const ALL: [Endpoint; 10] = [
        Endpoint::AccountInfo,
        Endpoint::AddUser,
        Endpoint::SuspendUser,
        Endpoint::UpdateUser,
        Endpoint::PackagesList,
        Endpoint::NewPackage,
        Endpoint::IssueSsl,
        Endpoint::AddDomain,
        Endpoint::DatabaseAdd,
        Endpoint::SsoLogin,
    ];

    /// The name `fail_next` takes.
    pub(super) fn name(self) -> &'static str {
        match self {
            Endpoint::AccountInfo => "account_info",
            Endpoint::AddUser => "add_user",
            Endpoint::SuspendUser => "suspend_user",
            Endpoint::UpdateUser => "update_user",
            Endpoint::PackagesList => "packages_list",
            Endpoint::NewPackage => "new_package",
            Endpoint::IssueSsl => "issue_ssl",
            Endpoint::AddDomain => "add_domain",
            Endpoint::DatabaseAdd => "database_add",
            Endpoint::SsoLogin => "sso_login",
        }
    }

    /// The endpoint called `name`, if any.
    pub(super) fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL
            .into_iter()
            .find(|endpoint| endpoint.name() == name)
    }

    /// The URL path, trailing slash included.
    pub(super) fn path(self) -> &'static str {
        match self {
            Endpoint::AccountInfo => "/admin_api/",
            Endpoint::AddUser => "/admin_api/add_user/",
            Endpoint::SuspendUser => "/admin_api/suspend_user/",
            Endpoint::UpdateUser => "/admin_api/update_user/",
            Endpoint::PackagesList => "/admin_api/packages_list/",
            Endpoint::NewPackage => "/admin_api/new_package/",
            Endpoint::IssueSsl => "/admin_api/issue_ssl/",
            Endpoint::AddDomain => "/admin_api/add_domain/",
            Endpoint::DatabaseAdd => "/admin_api/database_add/",
            Endpoint::SsoLogin => "/admin_api/sso_login/",
        }
    }

    /// Runs the endpoint once the admin guard has passed. `host` is the request's
    /// `Host` header, used for SSO links.
    pub(super) fn run(self, panel: &mut Panel, form: &Params, host: &str) -> Reply {
        match self {
            Endpoint::AccountInfo => views::account_info(panel, form),
            Endpoint::AddUser => views::add_user(panel, form),
            Endpoint::SuspendUser => views::suspend_user(panel, form),
            Endpoint::UpdateUser => views::update_user(panel, form),
            Endpoint::PackagesList => views::packages_list(panel),
            Endpoint::NewPackage => views::new_package(panel, form),
            Endpoint::IssueSsl => views::issue_ssl(panel, form),
            Endpoint::AddDomain => views::add_domain(panel, form),
            Endpoint::DatabaseAdd => views::database_add(panel, form),
            Endpoint::SsoLogin => views::sso_login(panel, form, host),
        }
    }

    /// A failure in this endpoint's own error shape.
    pub(super) fn failure(self, message: &str) -> Reply {
        match self {
            Endpoint::AccountInfo => error(message),
            Endpoint::DatabaseAdd => Reply::Json(json!({"success": false, "error": message})),
            _ => fail(message),
        }
    }

    /// The failure armed by `fail_next`, if any: the panel-internal step failed.
    pub(super) fn armed_failure(self, panel: &mut Panel) -> Option<Reply> {
        let message = panel.take_failure(self)?;
        Some(self.failure(&message))
    }
}

/// The form fields of a request, as Django's `request.POST`.
#[derive(Debug, Default)]
pub(super) struct Params(pub(super) HashMap<String, String>);

impl Params {
    /// The value if present, even empty (Python's `data.get(key) is not None`).
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value if present and non-empty (Python's truthiness).
    pub(super) fn filled(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|value| !value.is_empty())
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

/// `{"error": message}`, the decorator's and account info's shape.
pub(super) fn error(message: &str) -> Reply {
    Reply::Json(json!({ "error": message }))
}

/// `{"success": false, "message": message}`, the endpoints' shape.
pub(super) fn fail(message: &str) -> Reply {
    Reply::Json(json!({ "success": false, "message": message }))
}

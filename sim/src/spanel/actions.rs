//! The action table (names, which token scope each needs, dispatch), the checks
//! every call passes first (token, action, `accountuser`), and the reply shapes.

use serde_json::{Value, json};

use super::state::Panel;
use super::{accounts, admin, packages, user};
use crate::form::Form;

/// One function of `api.php`, named `category/function` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Action {
    ApiCheck,
    ListAccounts,
    CreateAccount,
    ChangePassword,
    ChangeEmail,
    ChangeDomain,
    ChangeQuota,
    Suspend,
    Unsuspend,
    Terminate,
    ListPackages,
    CreatePackage,
    ModifyPackage,
    RemovePackage,
    CreateAdmin,
    ListAdmins,
    ListAdminPermissions,
    ListUserPermissions,
    Sso,
    AddSubdomain,
    RemoveDomain,
    CreateDbUser,
    CreateDatabase,
}

/// Who a function acts for, and so whether it needs `accountuser` (reading 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// An admin function: `accountuser` is not read (listaccounts reads it as a filter).
    Admin,
    /// A user function: `accountuser` names the account acted on and is required.
    User,
    /// `user/listuserpermissions`: the catalogue, with or without an account.
    AnyAccount,
}

impl Action {
    /// Every action.
    pub(super) const ALL: [Action; 23] = [
        Action::ApiCheck,
        Action::ListAccounts,
        Action::CreateAccount,
        Action::ChangePassword,
        Action::ChangeEmail,
        Action::ChangeDomain,
        Action::ChangeQuota,
        Action::Suspend,
        Action::Unsuspend,
        Action::Terminate,
        Action::ListPackages,
        Action::CreatePackage,
        Action::ModifyPackage,
        Action::RemovePackage,
        Action::CreateAdmin,
        Action::ListAdmins,
        Action::ListAdminPermissions,
        Action::ListUserPermissions,
        Action::Sso,
        Action::AddSubdomain,
        Action::RemoveDomain,
        Action::CreateDbUser,
        Action::CreateDatabase,
    ];

    /// The `action` value on the wire.
    pub(super) fn name(self) -> &'static str {
        match self {
            Action::ApiCheck => "toolbox/apicheck",
            Action::ListAccounts => "accounts/listaccounts",
            Action::CreateAccount => "accounts/wwwacct",
            Action::ChangePassword => "accounts/changeuserpassword",
            Action::ChangeEmail => "accounts/changeuseremail",
            Action::ChangeDomain => "accounts/changedomain",
            Action::ChangeQuota => "accounts/changequota",
            Action::Suspend => "accounts/suspendaccount",
            Action::Unsuspend => "accounts/unsuspendaccount",
            Action::Terminate => "accounts/terminateaccount",
            Action::ListPackages => "accounts/listpackages",
            Action::CreatePackage => "accounts/createpackage",
            Action::ModifyPackage => "accounts/modifypackage",
            Action::RemovePackage => "accounts/removepackage",
            Action::CreateAdmin => "admin/createadminuser",
            Action::ListAdmins => "admin/listadminusers",
            Action::ListAdminPermissions => "admin/listadminuserpermissions",
            Action::ListUserPermissions => "user/listuserpermissions",
            Action::Sso => "base/sso",
            Action::AddSubdomain => "domain/addsubdomain",
            Action::RemoveDomain => "domain/removedomain",
            Action::CreateDbUser => "mysql/createmysqluser",
            Action::CreateDatabase => "mysql/createmysqldatabase",
        }
    }

    /// The action called exactly `name` (reading 3), if any.
    pub(super) fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    fn scope(self) -> Scope {
        match self {
            Action::AddSubdomain
            | Action::RemoveDomain
            | Action::CreateDbUser
            | Action::CreateDatabase => Scope::User,
            Action::ListUserPermissions => Scope::AnyAccount,
            _ => Scope::Admin,
        }
    }

    /// Runs the action once the token, the action name and the account have been checked.
    fn run(self, panel: &mut Panel, call: &Call<'_>) -> Reply {
        let form = call.form;
        match self {
            Action::ApiCheck => admin::api_check(panel),
            Action::ListAccounts => accounts::list(panel, form),
            Action::CreateAccount => accounts::create(panel, form),
            Action::ChangePassword => accounts::change_password(panel, form),
            Action::ChangeEmail => accounts::change_email(panel, form),
            Action::ChangeDomain => accounts::change_domain(panel, form),
            Action::ChangeQuota => accounts::change_quota(panel, form),
            Action::Suspend => accounts::suspend(panel, form),
            Action::Unsuspend => accounts::unsuspend(panel, form),
            Action::Terminate => accounts::terminate(panel, form),
            Action::ListPackages => packages::list(panel),
            Action::CreatePackage => packages::create(panel, form),
            Action::ModifyPackage => packages::modify(panel, form),
            Action::RemovePackage => packages::remove(panel, form),
            Action::CreateAdmin => admin::create_admin(panel, form),
            Action::ListAdmins => admin::list_admins(panel),
            Action::ListAdminPermissions => admin::list_admin_permissions(panel),
            Action::ListUserPermissions => admin::list_user_permissions(panel),
            Action::Sso => admin::sso(panel, form, call.host),
            Action::AddSubdomain => user::add_subdomain(panel, call.account, form),
            Action::RemoveDomain => user::remove_domain(panel, call.account, form),
            Action::CreateDbUser => user::create_db_user(panel, call.account, form),
            Action::CreateDatabase => user::create_database(panel, call.account, form),
        }
    }
}

/// One call as the actions see it.
struct Call<'a> {
    form: &'a Form,
    /// The stored name of the account `accountuser` names (empty for admin functions).
    account: &'a str,
    /// The request's `Host` header (the server address without one).
    host: &'a str,
}

/// Answers one request to `api.php`: keeps the body, checks the token, the
/// action and the account (reading 2), then runs the action.
pub(super) fn answer(panel: &mut Panel, form: &Form, body: &[u8], host: &str) -> Value {
    let named = form.str("action").unwrap_or_default();
    panel.record(named, body);

    let token = form.str("token").unwrap_or_default();
    if token.is_empty() || token != panel.admin_token {
        return fail("Invalid API token");
    }
    if named.trim().is_empty() {
        return fail("No action specified");
    }
    let Some(action) = Action::from_name(named) else {
        return fail(format!("Unknown action {named}"));
    };
    let accountuser = form.filled("accountuser");
    let account = match (action.scope(), accountuser) {
        (Scope::Admin, _) | (Scope::AnyAccount, None) => String::new(),
        (Scope::User, None) => {
            return fail("The accountuser parameter is required for user functions");
        }
        (Scope::User | Scope::AnyAccount, Some(name)) => match panel.account(name) {
            Some(account) => account.username.clone(),
            None => return fail(format!("The account {name} does not exist")),
        },
    };
    let call = Call {
        form,
        account: &account,
        host,
    };
    action.run(panel, &call).unwrap_or_else(|refusal| refusal)
}

// === reply shapes ===

/// What a function answers: its reply, or the error reply that ends it early
/// (so that `?` answers a refusal or an armed failure).
pub(super) type Reply = Result<Value, Value>;

/// `{"result": "error", "message": [...]}`: the message is always an array.
pub(super) fn error_reply(messages: Vec<String>) -> Value {
    json!({"result": "error", "message": messages})
}

/// An error with one message.
pub(super) fn fail(message: impl Into<String>) -> Value {
    error_reply(vec![message.into()])
}

/// `{"result": "success", "msg": ...}`: the account functions' shape.
pub(super) fn done_top(message: impl Into<String>) -> Reply {
    Ok(json!({"result": "success", "msg": message.into()}))
}

/// `{"result": "success", "data": {"msg": ...}}`: the package, admin and user functions' shape.
pub(super) fn done_data(message: impl Into<String>) -> Reply {
    success(json!({"msg": message.into()}))
}

/// `{"result": "success", "data": data}`.
pub(super) fn success(data: Value) -> Reply {
    Ok(json!({"result": "success", "data": data}))
}

/// The problems found in one call, in field order: validation collects them
/// all, then refuses the call with every one (reading 2).
#[derive(Debug, Default)]
pub(super) struct Problems(Vec<String>);

impl Problems {
    /// Notes one problem.
    pub(super) fn push(&mut self, message: impl Into<String>) {
        self.0.push(message.into());
    }

    /// Notes several problems.
    pub(super) fn extend(&mut self, messages: Vec<String>) {
        self.0.extend(messages);
    }

    /// The field's value, trimmed and not empty; else notes that it is required.
    pub(super) fn required<'f>(&mut self, form: &'f Form, field: &str) -> Option<&'f str> {
        let value = form.filled(field);
        if value.is_none() {
            self.push(format!("The {field} field is required"));
        }
        value
    }

    /// Refuses the call with every problem noted, if any.
    pub(super) fn check(self) -> Result<(), Value> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(error_reply(self.0))
        }
    }

    /// Refuses the call with every problem noted, if any; else `read`, the
    /// fields the call needs (always there when no problem was found: a
    /// missing one is a problem).
    pub(super) fn refuse_or<T>(self, read: Option<T>) -> Result<T, Value> {
        self.check()?;
        read.ok_or_else(|| fail("A required field is missing"))
    }
}

//! The action table (names, which token scope each needs, dispatch), the checks
//! every call passes first (token, action, `accountuser`), and the reply shapes.

use serde_json::{Value, json};

use super::state::Panel;
use super::{accounts, admin, packages, user};
use crate::form::Form;
use crate::table::endpoint_table;
use Scope::{Admin, AnyAccount, User};

/// What the table says of one action.
pub(super) struct Facts {
    /// The `action` value on the wire.
    pub(super) name: &'static str,
    /// Who it acts for.
    scope: Scope,
    /// The function, run once the token, the action name and the account
    /// have been checked.
    run: fn(&mut Panel, &Call<'_>) -> Outcome,
}

endpoint_table! {
    /// One function of `api.php`, named `category/function` on the wire.
    pub(super) enum Action: Facts {
        ApiCheck { name: "toolbox/apicheck", scope: Admin, run: |panel, _| admin::api_check(panel) },
        ListAccounts { name: "accounts/listaccounts", scope: Admin, run: accounts::list },
        CreateAccount { name: "accounts/wwwacct", scope: Admin, run: accounts::create },
        ChangePassword { name: "accounts/changeuserpassword", scope: Admin, run: accounts::change_password },
        ChangeEmail { name: "accounts/changeuseremail", scope: Admin, run: accounts::change_email },
        ChangeDomain { name: "accounts/changedomain", scope: Admin, run: accounts::change_domain },
        ChangeQuota { name: "accounts/changequota", scope: Admin, run: accounts::change_quota },
        Suspend { name: "accounts/suspendaccount", scope: Admin, run: accounts::suspend },
        Unsuspend { name: "accounts/unsuspendaccount", scope: Admin, run: accounts::unsuspend },
        Terminate { name: "accounts/terminateaccount", scope: Admin, run: accounts::terminate },
        ListPackages { name: "accounts/listpackages", scope: Admin, run: |panel, _| packages::list(panel) },
        CreatePackage { name: "accounts/createpackage", scope: Admin, run: packages::create },
        ModifyPackage { name: "accounts/modifypackage", scope: Admin, run: packages::modify },
        RemovePackage { name: "accounts/removepackage", scope: Admin, run: packages::remove },
        CreateAdmin { name: "admin/createadminuser", scope: Admin, run: admin::create_admin },
        ListAdmins { name: "admin/listadminusers", scope: Admin, run: |panel, _| admin::list_admins(panel) },
        ListAdminPermissions {
            name: "admin/listadminuserpermissions", scope: Admin,
            run: |panel, _| admin::list_admin_permissions(panel),
        },
        ListUserPermissions {
            name: "user/listuserpermissions", scope: AnyAccount,
            run: |panel, _| admin::list_user_permissions(panel),
        },
        Sso { name: "base/sso", scope: Admin, run: admin::sso },
        AddSubdomain { name: "domain/addsubdomain", scope: User, run: user::add_subdomain },
        RemoveDomain { name: "domain/removedomain", scope: User, run: user::remove_domain },
        CreateDbUser { name: "mysql/createmysqluser", scope: User, run: user::create_db_user },
        CreateDatabase { name: "mysql/createmysqldatabase", scope: User, run: user::create_database },
    }
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
    /// The action called exactly `name` (reading 3), if any.
    pub(super) fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .iter()
            .copied()
            .find(|action| action.facts().name == name)
    }
}

/// One call as the actions see it.
pub(super) struct Call<'a> {
    /// The body, decoded as PHP fills `$_POST`.
    pub(super) form: &'a Form,
    /// The stored name of the account `accountuser` names (empty for admin functions).
    pub(super) account: &'a str,
    /// The request's `Host` header (the server address without one).
    pub(super) host: &'a str,
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
    let Facts { scope, run, .. } = action.facts();
    let account = match (scope, accountuser) {
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
    run(panel, &call).unwrap_or_else(|refusal| refusal)
}

// === reply shapes ===

/// What a function answers: its reply, or the error reply that ends it early
/// (so that `?` answers a refusal or an armed failure).
pub(super) type Outcome = Result<Value, Value>;

/// `{"result": "error", "message": [...]}`: the message is always an array.
pub(super) fn error_reply(messages: Vec<String>) -> Value {
    json!({"result": "error", "message": messages})
}

/// An error with one message.
pub(super) fn fail(message: impl Into<String>) -> Value {
    error_reply(vec![message.into()])
}

/// `{"result": "success", "msg": ...}`: the account functions' shape.
pub(super) fn done_top(message: impl Into<String>) -> Outcome {
    Ok(json!({"result": "success", "msg": message.into()}))
}

/// `{"result": "success", "data": {"msg": ...}}`: the package, admin and user functions' shape.
pub(super) fn done_data(message: impl Into<String>) -> Outcome {
    success(json!({"msg": message.into()}))
}

/// `{"result": "success", "data": data}`.
pub(super) fn success(data: Value) -> Outcome {
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

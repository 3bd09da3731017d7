//! The account functions of the `accounts/` category: list, create
//! (`wwwacct`), password, contact email, main domain, limits, suspend,
//! unsuspend, terminate.

use serde_json::{Value, json};

use super::actions::{Action, Call, Outcome, Problems, done_top, fail};
use super::limits::{LimitInputs, Limits, limit_json};
use super::permissions::{self, SimPermissions, USER_CATALOGUE};
use super::state::{AccountRow, Panel};
use super::values::{check_password, is_email, is_plain_name, names, normalize_domain};
use crate::form::Form;

/// System users an account cannot be called (reading 7).
const RESERVED_USERNAMES: [&str; 3] = ["root", "nobody", "mysql"];

/// What an account is on when it has no package (reading 10).
pub(super) const CUSTOM: &str = "Custom";

/// `accounts/listaccounts`: `{"data": [...]}` without `result` (readings 6 and 17).
pub(super) fn list(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    panel.armed(Action::ListAccounts)?;
    let wanted = form.filled("accountuser");
    let status = form.filled("statusOption");
    let package = form.filled("selectedPackage");
    let rows: Vec<Value> = panel
        .accounts()
        .iter()
        .filter(|account| wanted.is_none_or(|name| account.username.eq_ignore_ascii_case(name)))
        .filter(|account| match status {
            Some("active") => !account.suspended,
            Some("suspended") => account.suspended,
            // Scheduled suspensions are not simulated.
            Some("scheduled") => false,
            _ => true,
        })
        .filter(|account| package.is_none_or(|name| account.package.eq_ignore_ascii_case(name)))
        .map(|account| account_json(panel, account))
        .collect();
    Ok(json!({ "data": rows }))
}

/// One account as listaccounts shows it: every value a string.
fn account_json(panel: &Panel, account: &AccountRow) -> Value {
    let (disk_mb, inodes) = account.usage();
    json!({
        "domain": account.domain,
        "user": account.username,
        "ip": panel.server_addr.ip().to_string(),
        "disk": disk_mb.to_string(),
        "inodes": inodes.to_string(),
        "homedir": format!("/home/{}", account.username),
        "numaddons": account.addon_domains.len().to_string(),
        "numsubdomains": account.subdomains.len().to_string(),
        "numdatabases": account.databases.len().to_string(),
        "numemails": "0",
        "numftpaccts": "0",
        "suspended": if account.suspended { "1" } else { "0" },
        "disklimit": limit_json(account.limits.quota_mb),
        "inodeslimit": limit_json(account.limits.inodes),
        "domainslimit": limit_json(account.limits.domains),
        "emailslimit": limit_json(account.limits.emails),
        "databaseslimit": limit_json(account.limits.databases),
        "setupDate": account.setup_date,
        "package": account.package,
    })
}

/// `accounts/wwwacct`: creates an account (readings 7 to 10).
pub(super) fn create(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let mut problems = Problems::default();
    let username = problems.required(form, "username");
    if username.is_some_and(|name| !is_plain_name(name)) {
        problems.push("The username must be between 1 and 30 alphanumeric characters");
    }
    let domain = read_domain(form, &mut problems);
    check_password(form, &mut problems);
    let (package_name, limits, permissions) = match form.filled("package") {
        Some(name) => match panel.package(name) {
            Some(package) => (
                package.name.clone(),
                Limits::of(package),
                package.permissions.clone(),
            ),
            None => {
                problems.push(format!("The package {name} does not exist"));
                (String::new(), Limits::default(), SimPermissions::All)
            }
        },
        None => {
            let limits = LimitInputs::read(form, &mut problems).created();
            let permissions = match form.get("permissions") {
                None => SimPermissions::All,
                Some(field) => {
                    permissions::parse(Some(field), USER_CATALOGUE).unwrap_or_else(|found| {
                        problems.extend(found);
                        SimPermissions::All
                    })
                }
            };
            (CUSTOM.to_owned(), limits, permissions)
        }
    };
    if let Some(name) = username
        && is_plain_name(name)
        && (panel.account(name).is_some()
            || RESERVED_USERNAMES.contains(&name.to_ascii_lowercase().as_str()))
    {
        problems.push(format!("The username {name} is already taken"));
    }
    if let Some(domain) = &domain
        && panel.domain_taken(domain)
    {
        problems.push(format!("The domain {domain} already exists on this server"));
    }
    let (username, domain) = problems.refuse_or(username.zip(domain))?;
    panel.armed(Action::CreateAccount)?;
    panel.insert_account(AccountRow {
        username: username.to_owned(),
        domain,
        email: String::new(),
        password: form.str("password").unwrap_or_default().to_owned(),
        package: package_name,
        suspended: false,
        suspend_reason: None,
        limits,
        permissions,
        addon_domains: Vec::new(),
        subdomains: Vec::new(),
        db_users: Vec::new(),
        databases: Vec::new(),
        setup_date: chrono::Utc::now().format("%d.%m.%Y").to_string(),
    });
    done_top(format!(
        "The account {username} has been created successfully"
    ))
}

/// The `domain` field, normalized; `None` (and a problem) when missing or invalid.
fn read_domain(form: &Form, problems: &mut Problems) -> Option<String> {
    let raw = problems.required(form, "domain")?;
    let domain = normalize_domain(raw);
    if domain.is_none() {
        problems.push(format!("The domain {raw} is not a valid domain name"));
    }
    domain
}

/// The account named by `username`, or `None` with the problem noted.
fn named_account(panel: &Panel, form: &Form, problems: &mut Problems) -> Option<String> {
    let name = problems.required(form, "username")?;
    match panel.account(name) {
        Some(account) => Some(account.username.clone()),
        None => {
            problems.push(format!("The account {name} does not exist"));
            None
        }
    }
}

/// `accounts/changeuserpassword`.
pub(super) fn change_password(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let mut problems = Problems::default();
    let username = named_account(panel, form, &mut problems);
    check_password(form, &mut problems);
    let username = problems.refuse_or(username)?;
    panel.armed(Action::ChangePassword)?;
    if let Some(account) = panel.account_mut(&username) {
        account.password = form.str("password").unwrap_or_default().to_owned();
    }
    done_top("Password updated successfully")
}

/// `accounts/changeuseremail`.
pub(super) fn change_email(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let mut problems = Problems::default();
    let username = named_account(panel, form, &mut problems);
    let email = problems.required(form, "email");
    if let Some(email) = email
        && !is_email(email)
    {
        problems.push(format!("The email address {email} is not valid"));
    }
    let (username, email) = problems.refuse_or(username.zip(email))?;
    panel.armed(Action::ChangeEmail)?;
    if let Some(account) = panel.account_mut(&username) {
        account.email = email.to_owned();
    }
    done_top("The contact mail has been updated successfully")
}

/// `accounts/changedomain`: the main domain; subdomains keep their names (reading 16).
pub(super) fn change_domain(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let mut problems = Problems::default();
    let username = named_account(panel, form, &mut problems);
    let domain = read_domain(form, &mut problems);
    if let (Some(username), Some(domain)) = (&username, &domain) {
        let current = panel
            .account(username)
            .map(|account| account.domain.as_str());
        if current != Some(domain.as_str()) && panel.domain_taken(domain) {
            problems.push(format!("The domain {domain} already exists on this server"));
        }
    }
    let (username, domain) = problems.refuse_or(username.zip(domain))?;
    panel.armed(Action::ChangeDomain)?;
    if let Some(account) = panel.account_mut(&username) {
        account.domain = domain;
    }
    done_top("Your main domain has been updated successfully")
}

/// `accounts/changequota`: a package, or limits (reading 10).
pub(super) fn change_quota(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let mut problems = Problems::default();
    let username = named_account(panel, form, &mut problems);
    let package = match form.filled("package") {
        Some(name) => match panel.package(name) {
            Some(package) => Some(package.clone()),
            None => {
                problems.push(format!("The package {name} does not exist"));
                None
            }
        },
        None => None,
    };
    let inputs = LimitInputs::read(form, &mut problems);
    let username = problems.refuse_or(username)?;
    panel.armed(Action::ChangeQuota)?;
    if let Some(account) = panel.account_mut(&username) {
        if let Some(package) = package {
            account.limits = Limits::of(&package);
            account.permissions = package.permissions;
            account.package = package.name;
        } else if inputs.any_sent() {
            account.limits = inputs.changed(account.limits);
            account.package = CUSTOM.to_owned();
        }
    }
    done_top("Your new limits have been saved successfully")
}

/// The accounts named by `username` (a string or an array), or the refusal.
fn named_accounts(panel: &Panel, form: &Form) -> Result<Vec<String>, Value> {
    let names = names(form, "username");
    if names.is_empty() {
        return Err(fail("The username field is required"));
    }
    let mut problems = Problems::default();
    let mut found = Vec::new();
    for name in names {
        match panel.account(&name) {
            Some(account) => found.push(account.username.clone()),
            None => problems.push(format!("The account {name} does not exist")),
        }
    }
    problems.check()?;
    Ok(found)
}

/// The bulk functions: checks every account `username` names, then (unless
/// the armed failure of `action` fires) runs `change` on each.
fn each_named_account(
    panel: &mut Panel,
    form: &Form,
    action: Action,
    mut change: impl FnMut(&mut Panel, &str),
) -> Result<(), Value> {
    let usernames = named_accounts(panel, form)?;
    panel.armed(action)?;
    for username in usernames {
        change(panel, &username);
    }
    Ok(())
}

/// `accounts/suspendaccount`: one account or many, with an optional reason.
pub(super) fn suspend(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let form = call.form;
    let reason = form.filled("reason").map(str::to_owned);
    each_named_account(panel, form, Action::Suspend, |panel, username| {
        if let Some(account) = panel.account_mut(username) {
            account.suspended = true;
            account.suspend_reason = reason.clone();
        }
    })?;
    done_top("Suspend successful")
}

/// `accounts/unsuspendaccount`: one account or many.
pub(super) fn unsuspend(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    each_named_account(panel, call.form, Action::Unsuspend, |panel, username| {
        if let Some(account) = panel.account_mut(username) {
            account.suspended = false;
            account.suspend_reason = None;
        }
    })?;
    done_top("Unsuspend successful")
}

/// `accounts/terminateaccount`: one account or many, with all they hold.
pub(super) fn terminate(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    each_named_account(panel, call.form, Action::Terminate, Panel::remove_account)?;
    done_top("The selected accounts have been terminated")
}

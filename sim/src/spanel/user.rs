//! The user functions (`domain/`, `mysql/`), called with the admin token and
//! `accountuser` = the account acted on.

use serde_json::{Value, json};

use super::actions::{Action, Call, Outcome, Problems, done_data, fail, success};
use super::state::{AccountRow, Panel};
use super::values::{check_password, is_db_name, names, normalize_domain, normalize_path};
use crate::dns::is_label;
use crate::form::Form;

/// MySQL's longest user name.
const MAX_DB_USER_LEN: usize = 32;
/// MySQL's longest database name.
const MAX_DB_NAME_LEN: usize = 64;

/// `domain/addsubdomain`: `subdomain`.`domain` with its folder (reading 16).
pub(super) fn add_subdomain(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let (account, form) = (call.account, call.form);
    let owner = owner(panel, account)?;
    let mut problems = Problems::default();
    let domain = problems.required(form, "domain").and_then(|raw| {
        let domain = normalize_domain(raw)
            .filter(|domain| *domain == owner.domain || owner.addon_domains.contains(domain));
        if domain.is_none() {
            problems.push(format!("The domain {raw} does not belong to this account"));
        }
        domain
    });
    let label = problems
        .required(form, "subdomain")
        .map(str::to_ascii_lowercase);
    if let Some(label) = label.as_ref().filter(|label| !is_label(label)) {
        problems.push(format!(
            "The subdomain {label} may contain only letters, digits and hyphens"
        ));
    }
    let path = match form.filled("path") {
        None => None,
        Some(raw) => {
            let path = normalize_path(raw);
            if path.is_none() {
                problems.push(format!("The path {raw} is not a valid folder"));
            }
            path
        }
    };
    let full = match (&label, &domain) {
        (Some(label), Some(domain)) if is_label(label) => Some(format!("{label}.{domain}")),
        _ => None,
    };
    if let Some(full) = &full
        && panel.domain_taken(full)
    {
        problems.push(format!("The subdomain {full} already exists"));
    }
    let full = problems.refuse_or(full)?;
    panel.armed(Action::AddSubdomain)?;
    let path = path.unwrap_or_else(|| full.clone());
    if let Some(owner) = panel.account_mut(account) {
        owner.subdomains.push((full.clone(), path));
    }
    done_data(format!(
        "The subdomain {full} has been created successfully"
    ))
}

/// `domain/removedomain`: subdomains and addon domains, one or many; never the
/// main domain (reading 16).
pub(super) fn remove_domain(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let (account, form) = (call.account, call.form);
    let owner = owner(panel, account)?;
    let names: Vec<String> = names(form, "domain")
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        return Err(fail("The domain field is required"));
    }
    let mut problems = Problems::default();
    for name in &names {
        if *name == owner.domain {
            problems.push(format!("The main domain {name} cannot be removed"));
        } else if !owner.addon_domains.contains(name)
            && !owner.subdomains.iter().any(|(held, _)| held == name)
        {
            problems.push(format!("The domain {name} does not belong to this account"));
        }
    }
    problems.check()?;
    panel.armed(Action::RemoveDomain)?;
    if let Some(owner) = panel.account_mut(account) {
        for name in &names {
            let suffix = format!(".{name}");
            owner.addon_domains.retain(|held| held != name);
            owner
                .subdomains
                .retain(|(held, _)| held != name && !held.ends_with(&suffix));
        }
    }
    success(json!({"msg": "The selected domains have been deleted", "d": names}))
}

/// `mysql/createmysqluser`: `<account>_<username>` (reading 18).
pub(super) fn create_db_user(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let (account, form) = (call.account, call.form);
    let mut problems = Problems::default();
    let full = db_name(form, "username", account, MAX_DB_USER_LEN, &mut problems);
    check_password(form, &mut problems);
    let host = form.filled("hostname").unwrap_or("localhost");
    if host.contains(char::is_whitespace) {
        problems.push(format!("The hostname {host} is not valid"));
    }
    if let Some(full) = &full
        && panel.mysql_name_taken(full, true)
    {
        problems.push(format!("The username {full} already exists"));
    }
    let full = problems.refuse_or(full)?;
    panel.armed(Action::CreateDbUser)?;
    if let Some(owner) = panel.account_mut(account) {
        owner.db_users.push((full.clone(), host.to_owned()));
    }
    done_data(format!("The username {full} has been created successfully"))
}

/// `mysql/createmysqldatabase`: `<account>_<database>`, with an existing
/// database user assigned (reading 18).
pub(super) fn create_database(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let (account, form) = (call.account, call.form);
    let owner = owner(panel, account)?;
    let mut problems = Problems::default();
    let full = db_name(form, "database", account, MAX_DB_NAME_LEN, &mut problems);
    let user = problems.required(form, "username").and_then(|name| {
        let prefixed = format!("{account}_{name}");
        let user = [prefixed.as_str(), name]
            .into_iter()
            .find(|candidate| owner.db_users.iter().any(|(held, _)| held == candidate));
        if user.is_none() {
            problems.push(format!("The database user {name} does not exist"));
        }
        user.map(str::to_owned)
    });
    match owner.limits.databases {
        Some(0) => problems.push("Database creation is disabled for this account"),
        Some(limit) if owner.databases.len() as u64 >= limit => problems.push(format!(
            "You have reached the maximum number of databases ({limit})"
        )),
        _ => {}
    }
    if let Some(full) = &full
        && panel.mysql_name_taken(full, false)
    {
        problems.push(format!("The database {full} already exists"));
    }
    let (full, user) = problems.refuse_or(full.zip(user))?;
    panel.armed(Action::CreateDatabase)?;
    if let Some(owner) = panel.account_mut(account) {
        owner.databases.push((full.clone(), vec![user]));
    }
    done_data(format!("The database {full} has been created successfully"))
}

/// The account `accountuser` named, checked by the dispatcher; a refusal
/// should it be gone.
fn owner<'p>(panel: &'p Panel, account: &str) -> Result<&'p AccountRow, Value> {
    panel
        .account(account)
        .ok_or_else(|| fail(format!("The account {account} does not exist")))
}

/// Reads `field` as a name to prefix with `<account>_`; `None` (and a problem)
/// when missing, malformed or too long once prefixed.
fn db_name(
    form: &Form,
    field: &str,
    account: &str,
    max_len: usize,
    problems: &mut Problems,
) -> Option<String> {
    let name = problems.required(form, field)?;
    if !is_db_name(name) {
        problems.push(format!(
            "The {field} {name} may contain only letters, digits and underscores"
        ));
        return None;
    }
    let full = format!("{account}_{name}");
    if full.len() > max_len {
        problems.push(format!(
            "The {field} {full} is too long (at most {max_len} characters)"
        ));
        return None;
    }
    Some(full)
}

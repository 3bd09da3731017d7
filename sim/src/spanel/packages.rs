//! The package functions of the `accounts/` category: list, create, modify, remove.

use serde_json::{Map, Value, json};

use super::SimSpanelPackage;
use super::actions::{Action, fail, refused, success};
use super::permissions::{self, SimPermissions, USER_CATALOGUE};
use super::state::Panel;
use super::values::{LimitInputs, is_plain_name, limit_json};
use crate::form::Form;

/// One package as the panel lists it: limits as strings or `"Unlimited"`.
fn package_json(package: &SimSpanelPackage) -> Value {
    json!({
        "packagename": package.name,
        "disklimit": limit_json(package.quota_mb),
        "inodeslimit": limit_json(package.inodes),
        "domainslimit": limit_json(package.domains),
        "emailslimit": limit_json(package.emails),
        "databaseslimit": limit_json(package.databases),
    })
}

/// `accounts/listpackages`: `{"data": [...]}` without `result`, in creation order.
pub(super) fn list(panel: &mut Panel) -> Value {
    if let Some(failure) = panel.take_failure(Action::ListPackages) {
        return failure;
    }
    let rows: Vec<Value> = panel.packages().iter().map(package_json).collect();
    json!({ "data": rows })
}

/// Reads a package definition: name, the five limits (absent or empty =
/// unlimited), permissions (required). Every problem found is one message.
fn read_package(form: &Form, problems: &mut Vec<String>) -> Option<SimSpanelPackage> {
    let name = form.filled("package");
    match name {
        None => problems.push("The package field is required".to_owned()),
        Some(name) if !is_plain_name(name) => problems
            .push("The package name must be between 1 and 30 alphanumeric characters".to_owned()),
        Some(_) => {}
    }
    let inputs = LimitInputs::read(form, problems);
    let permissions =
        permissions::parse(form.get("permissions"), USER_CATALOGUE).unwrap_or_else(|mut found| {
            problems.append(&mut found);
            SimPermissions::All
        });
    Some(SimSpanelPackage {
        name: name?.to_owned(),
        quota_mb: inputs.quota.or_unlimited(),
        inodes: inputs.inodes.or_unlimited(),
        domains: inputs.domains.or_unlimited(),
        emails: inputs.emails.or_unlimited(),
        databases: inputs.databases.or_unlimited(),
        permissions,
    })
}

/// `accounts/createpackage`: the doc's reply, with every package in `packagelist`.
pub(super) fn create(panel: &mut Panel, form: &Form) -> Value {
    let mut problems = Vec::new();
    let package = read_package(form, &mut problems);
    if let Some(package) = &package
        && is_plain_name(&package.name)
        && panel.package(&package.name).is_some()
    {
        problems.push(format!(
            "A package with the name {} already exists",
            package.name
        ));
    }
    if let Some(refusal) = refused(problems) {
        return refusal;
    }
    let Some(package) = package else {
        return fail("The package field is required");
    };
    if let Some(failure) = panel.take_failure(Action::CreatePackage) {
        return failure;
    }
    let message = format!("The package {} has been created", package.name);
    panel.insert_package(package);
    let packagelist: Map<String, Value> = panel
        .packages()
        .iter()
        .map(|package| (package.name.clone(), package_json(package)))
        .collect();
    success(json!({"msg": message, "packagelist": packagelist}))
}

/// `accounts/modifypackage`: replaces the whole definition of an existing
/// package; its accounts follow (reading 10).
pub(super) fn modify(panel: &mut Panel, form: &Form) -> Value {
    let mut problems = Vec::new();
    let package = read_package(form, &mut problems);
    let stored = package
        .as_ref()
        .filter(|package| is_plain_name(&package.name))
        .and_then(|package| match panel.package(&package.name) {
            Some(existing) => Some(existing.name.clone()),
            None => {
                problems.push(format!("The package {} does not exist", package.name));
                None
            }
        });
    if let Some(refusal) = refused(problems) {
        return refusal;
    }
    let (Some(mut package), Some(stored)) = (package, stored) else {
        return fail("The package field is required");
    };
    if let Some(failure) = panel.take_failure(Action::ModifyPackage) {
        return failure;
    }
    package.name = stored;
    let message = format!(
        "Package with name {} was modified successfully",
        package.name
    );
    panel.replace_package(package);
    success(json!({ "msg": message }))
}

/// `accounts/removepackage`: one package or many; a package in use stays (reading 10).
pub(super) fn remove(panel: &mut Panel, form: &Form) -> Value {
    let names: Vec<String> = form
        .get("package")
        .and_then(|field| field.as_list())
        .unwrap_or_default()
        .into_iter()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    if names.is_empty() {
        return fail("The package field is required");
    }
    let mut problems = Vec::new();
    let mut found = Vec::new();
    for name in names {
        let Some(package) = panel.package(&name) else {
            problems.push(format!("The package {name} does not exist"));
            continue;
        };
        let users = panel.accounts_on(&package.name);
        if users > 0 {
            problems.push(format!(
                "The package {} is used by {users} account(s) and cannot be removed",
                package.name
            ));
        } else if !found.contains(&package.name) {
            found.push(package.name.clone());
        }
    }
    if let Some(refusal) = refused(problems) {
        return refusal;
    }
    if let Some(failure) = panel.take_failure(Action::RemovePackage) {
        return failure;
    }
    for name in &found {
        panel.remove_package(name);
    }
    success(json!({
        "msg": format!(
            "The following packages were successfully removed: {}.",
            found.join(", ")
        )
    }))
}

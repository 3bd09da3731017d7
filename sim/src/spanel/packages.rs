//! The package functions of the `accounts/` category: list, create, modify, remove.

use serde_json::{Map, Value, json};

use super::SimSpanelPackage;
use super::actions::{Action, Call, Outcome, Problems, fail, success};
use super::limits::{LimitInputs, limit_json};
use super::permissions::{self, SimPermissions, USER_CATALOGUE};
use super::state::Panel;
use super::values::{is_plain_name, names};
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
pub(super) fn list(panel: &mut Panel) -> Outcome {
    panel.armed(Action::ListPackages)?;
    let rows: Vec<Value> = panel.packages().iter().map(package_json).collect();
    Ok(json!({ "data": rows }))
}

/// Reads a package definition: name, the five limits (absent or empty =
/// unlimited), permissions (required). Every problem found is one message.
fn read_package(form: &Form, problems: &mut Problems) -> Option<SimSpanelPackage> {
    let name = problems.required(form, "package");
    if name.is_some_and(|name| !is_plain_name(name)) {
        problems.push("The package name must be between 1 and 30 alphanumeric characters");
    }
    let limits = LimitInputs::read(form, problems).created();
    let permissions =
        permissions::parse(form.get("permissions"), USER_CATALOGUE).unwrap_or_else(|found| {
            problems.extend(found);
            SimPermissions::All
        });
    Some(limits.package(name?, permissions))
}

/// `accounts/createpackage`: the doc's reply, with every package in `packagelist`.
pub(super) fn create(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let mut problems = Problems::default();
    let package = read_package(call.form, &mut problems);
    if let Some(package) = &package
        && is_plain_name(&package.name)
        && panel.package(&package.name).is_some()
    {
        problems.push(format!(
            "A package with the name {} already exists",
            package.name
        ));
    }
    let package = problems.refuse_or(package)?;
    panel.armed(Action::CreatePackage)?;
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
pub(super) fn modify(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let mut problems = Problems::default();
    let package = read_package(call.form, &mut problems);
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
    let (mut package, stored) = problems.refuse_or(package.zip(stored))?;
    panel.armed(Action::ModifyPackage)?;
    package.name = stored;
    let message = format!(
        "Package with name {} was modified successfully",
        package.name
    );
    panel.replace_package(package);
    success(json!({ "msg": message }))
}

/// `accounts/removepackage`: one package or many; a package in use stays (reading 10).
pub(super) fn remove(panel: &mut Panel, call: &Call<'_>) -> Outcome {
    let names = names(call.form, "package");
    if names.is_empty() {
        return Err(fail("The package field is required"));
    }
    let mut problems = Problems::default();
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
    problems.check()?;
    panel.armed(Action::RemovePackage)?;
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

//! SPanel's packages: listed, created and modified with their whole
//! definition (name, limits, page permissions). Packages have no id: the
//! name is the id.

use panelgate_proto::v1::{Package, create_package_request};
use serde_json::Value;

use super::{Spanel, client::data, error::Subject, field, mapping, php_query::PhpValue};
use crate::{AdapterError, NewPackage, Result};

impl Spanel {
    pub(super) async fn packages(&self) -> Result<Vec<Package>> {
        let body = self
            .client
            .admin("accounts/listpackages", Vec::new(), Subject::new("*"))
            .await?;
        match data(&body, "accounts/listpackages")? {
            Value::Array(rows) => Ok(rows.iter().map(mapping::package).collect()),
            Value::Object(rows) => Ok(rows.values().map(mapping::package).collect()),
            _ => Err(AdapterError::protocol(
                "accounts/listpackages answered without a list",
                "",
            )),
        }
    }

    pub(super) async fn createpackage(&self, package: &NewPackage) -> Result<Package> {
        let body = self
            .client
            .admin(
                "accounts/createpackage",
                definition(package)?,
                subject(package),
            )
            .await?;
        // The reply lists every package, keyed by name: ours is the one created.
        data(&body, "accounts/createpackage")?
            .get("packagelist")
            .and_then(|list| list.get(&package.name))
            .map(mapping::package)
            .ok_or_else(|| {
                AdapterError::protocol(
                    format!("createpackage's packagelist lacks `{}`", package.name),
                    "",
                )
            })
    }

    pub(super) async fn modifypackage(&self, package: &NewPackage) -> Result<()> {
        self.client
            .admin(
                "accounts/modifypackage",
                definition(package)?,
                subject(package),
            )
            .await
            .map(drop)
    }
}

/// A package's whole definition, as createpackage and modifypackage take it:
/// name, limits, then permissions (every page when the caller gave none).
fn definition(package: &NewPackage) -> Result<Vec<(String, PhpValue)>> {
    let permissions = match &package.options {
        Some(create_package_request::PanelOptions::Spanel(options)) => options.permissions.as_ref(),
        // Options for other kinds never get here: the gateway refuses them.
        _ => None,
    };
    let permissions = match permissions {
        Some(permissions) => mapping::permissions("panel_options.spanel.permissions", permissions)?,
        None => PhpValue::from("all"),
    };
    let mut fields = vec![field("package", package.name.as_str())];
    fields.extend(mapping::package_fields(&package.limits)?);
    fields.push(field("permissions", permissions));
    Ok(fields)
}

/// A package call's subject: the panel's words for its fields.
fn subject(package: &NewPackage) -> Subject<'_> {
    Subject::new(&package.name).with_fields(&[
        ("permission", "panel_options.spanel.permissions"),
        ("package name", "name"),
        ("disk quota", "limits.disk_mib"),
    ])
}

//! SPanel replies → canonical messages, and canonical inputs → SPanel fields.
//!
//! SPanel sends numbers as strings and unlimited as "Unlimited"; "0" disables
//! domains, emails and databases (but means unlimited for disk and inodes in
//! older packages). Sizes are MB. Its `domains` limit counts ADDITIONAL
//! domains, while the canonical limit counts the primary domain too.

use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, Limit, Package, PackageLimits, PanelAdmin, ResourceUsage,
    SpanelPermissions,
};
use serde_json::Value;

use super::php_query::PhpValue;
use crate::{AdapterError, Result, units};

const MIB: u64 = 1024 * 1024;
/// SPanel's smallest disk quota, in MB.
const MIN_QUOTA_MB: u64 = 100;
/// The smallest inodes limit SPanel takes (its doc's minimum).
const MIN_INODES: u64 = 10_000;

fn text(row: &Value, key: &str) -> String {
    row.get(key).and_then(units::as_text).unwrap_or_default()
}

fn number(row: &Value, key: &str) -> Option<u64> {
    row.get(key).and_then(units::as_u64)
}

/// A limit: "Unlimited" → no limit; "0" → unlimited where `zero_is_unlimited`.
fn limit(row: &Value, key: &str, zero_is_unlimited: bool) -> Option<Limit> {
    row.get(key)
        .and_then(|value| units::limit(value, units::as_u64, zero_is_unlimited))
}

/// SPanel's additional-domains limit as the canonical all-domains limit.
fn domains_limit(row: &Value, key: &str) -> Option<Limit> {
    limit(row, key, false).map(|limit| Limit {
        max: limit.max.map(|additional| additional.saturating_add(1)),
    })
}

/// One row of `accounts/listaccounts`. The list has no email address.
pub(super) fn account(row: &Value) -> Account {
    Account {
        username: text(row, "user"),
        primary_domain: text(row, "domain"),
        package: text(row, "package"),
        status: if text(row, "suspended") == "1" {
            AccountStatus::Suspended
        } else {
            AccountStatus::Active
        }
        .into(),
        ..Default::default()
    }
}

/// Usage from a `listaccounts` row (disk in MB).
pub(super) fn usage(row: &Value) -> AccountUsage {
    let count = |used_key: &str, limit: Option<Limit>| {
        number(row, used_key).map(|used| ResourceUsage { used, limit })
    };
    let mb_limit = limit(row, "disklimit", true).map(|limit| Limit {
        max: limit.max.map(|mb| mb.saturating_mul(MIB)),
    });
    AccountUsage {
        disk_bytes: number(row, "disk").map(|mb| ResourceUsage {
            used: mb.saturating_mul(MIB),
            limit: mb_limit,
        }),
        inodes: count("inodes", limit(row, "inodeslimit", true)),
        domains: number(row, "numaddons").map(|addons| ResourceUsage {
            used: addons.saturating_add(1),
            limit: domains_limit(row, "domainslimit"),
        }),
        email_accounts: count("numemails", limit(row, "emailslimit", false)),
        databases: count("numdatabases", limit(row, "databaseslimit", false)),
        ftp_accounts: count("numftpaccts", None),
        ..Default::default()
    }
}

/// A package of `listpackages` or of createpackage's `packagelist` (SPanel
/// packages have no id: the name is the id).
pub(super) fn package(row: &Value) -> Package {
    let name = text(row, "packagename");
    Package {
        id: name.clone(),
        name,
        limits: Some(PackageLimits {
            disk_mib: limit(row, "disklimit", true),
            inodes: limit(row, "inodeslimit", true),
            domains: domains_limit(row, "domainslimit"),
            email_accounts: limit(row, "emailslimit", false),
            databases: limit(row, "databaseslimit", false),
            ..Default::default()
        }),
    }
}

/// The limit fields of createpackage, in the doc's order; unset and unlimited
/// are left out (the panel's default is unlimited).
pub(super) fn package_fields(limits: &PackageLimits) -> Result<Vec<(String, PhpValue)>> {
    for (set, field, why) in [
        (
            limits.bandwidth_mib.is_some(),
            "limits.bandwidth_mib",
            "SPanel packages have no bandwidth limit",
        ),
        (
            limits.ftp_accounts.is_some(),
            "limits.ftp_accounts",
            "SPanel packages have no FTP account limit",
        ),
        (
            limits.subdomains.is_some(),
            "limits.subdomains",
            "SPanel packages have no subdomain limit",
        ),
    ] {
        if set {
            return Err(AdapterError::invalid(field, why));
        }
    }
    let mut fields = Vec::new();
    let mut push =
        |key: &str, value: u64| fields.push((key.to_owned(), PhpValue::from(value.to_string())));
    if let Some(max) = max_of(limits.disk_mib.as_ref()) {
        if max < MIN_QUOTA_MB {
            return Err(AdapterError::invalid(
                "limits.disk_mib",
                format!("SPanel's smallest disk quota is {MIN_QUOTA_MB} MB"),
            ));
        }
        push("quota", max);
    }
    if let Some(max) = max_of(limits.inodes.as_ref()) {
        if max < MIN_INODES {
            return Err(AdapterError::invalid(
                "limits.inodes",
                format!(
                    "SPanel's smallest inodes limit is {MIN_INODES}; leave `max` out for unlimited"
                ),
            ));
        }
        push("inodes", max);
    }
    if let Some(max) = max_of(limits.domains.as_ref()) {
        let additional = max.checked_sub(1).ok_or_else(|| {
            AdapterError::invalid("limits.domains", "counts the primary domain: at least 1")
        })?;
        push("domains", additional);
    }
    if let Some(max) = max_of(limits.email_accounts.as_ref()) {
        push("emails", max);
    }
    if let Some(max) = max_of(limits.databases.as_ref()) {
        push("databases", max);
    }
    Ok(fields)
}

/// A set limit's maximum; None for unset or unlimited (both left out).
fn max_of(limit: Option<&Limit>) -> Option<u64> {
    limit.and_then(|limit| limit.max)
}

/// SPanel's `permissions` value: "all", or per category "all" or its pages.
pub(super) fn permissions(field: &str, permissions: &SpanelPermissions) -> Result<PhpValue> {
    match (permissions.all, permissions.categories.as_slice()) {
        (true, []) => Ok(PhpValue::from("all")),
        (true, _) => Err(AdapterError::invalid(
            field,
            "set either all or categories, not both",
        )),
        (false, []) => Err(AdapterError::invalid(
            field,
            "set all, or at least one category",
        )),
        (false, categories) => {
            let mut map = Vec::with_capacity(categories.len());
            for category in categories {
                let name = category.category.trim();
                if name.is_empty() {
                    return Err(AdapterError::invalid(field, "a category needs a name"));
                }
                let pages = match (category.all_pages, category.pages.as_slice()) {
                    (true, []) => PhpValue::from("all"),
                    (false, []) => {
                        return Err(AdapterError::invalid(
                            field,
                            format!("category `{name}`: set all_pages or pages"),
                        ));
                    }
                    (true, _) => {
                        return Err(AdapterError::invalid(
                            field,
                            format!("category `{name}`: set all_pages or pages, not both"),
                        ));
                    }
                    (false, pages) => PhpValue::List(
                        pages
                            .iter()
                            .map(|page| PhpValue::from(page.as_str()))
                            .collect(),
                    ),
                };
                map.push((name.to_owned(), pages));
            }
            Ok(PhpValue::Map(map))
        }
    }
}

/// One row of `admin/listadminusers`.
pub(super) fn panel_admin(row: &Value) -> PanelAdmin {
    let (full_access, permissions) = match row.get("permissions") {
        Some(Value::String(all)) if all == "all" => (true, Vec::new()),
        Some(Value::Object(categories)) => (false, flat_permissions(categories)),
        _ => (false, Vec::new()),
    };
    PanelAdmin {
        username: text(row, "user"),
        full_access,
        permissions,
        two_factor: row.get("twofactor").is_some_and(truthy),
    }
}

/// `{"server": "all", "accounts": ["manage"]}` → ["server/*", "accounts/manage"].
fn flat_permissions(categories: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut flat = Vec::new();
    for (category, pages) in categories {
        match pages {
            Value::Array(pages) => flat.extend(
                pages
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|page| format!("{category}/{page}")),
            ),
            Value::Object(pages) => flat.extend(
                pages
                    .values()
                    .filter_map(Value::as_str)
                    .map(|page| format!("{category}/{page}")),
            ),
            _ => flat.push(format!("{category}/*")),
        }
    }
    flat
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::String(text) => matches!(text.as_str(), "1" | "true" | "yes"),
        Value::Number(number) => number.as_u64() == Some(1),
        _ => false,
    }
}

#[cfg(test)]
mod tests;

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
use crate::{AdapterError, units};

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
pub(super) fn package_fields(
    limits: &PackageLimits,
) -> Result<Vec<(String, PhpValue)>, AdapterError> {
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
pub(super) fn permissions(
    field: &str,
    permissions: &SpanelPermissions,
) -> Result<PhpValue, AdapterError> {
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
mod tests {
    use panelgate_proto::v1::SpanelCategoryPermissions;
    use serde_json::json;

    use super::*;

    fn row() -> Value {
        json!({"domain": "bob.example", "user": "bob", "ip": "203.0.113.5", "disk": "12", "inodes": "340",
            "homedir": "/home/bob", "numaddons": "1", "numsubdomains": "2", "numdatabases": "1", "numemails": "3",
            "numftpaccts": "1", "suspended": "1", "disklimit": "1024", "inodeslimit": "Unlimited", "domainslimit": "2",
            "emailslimit": "0", "databaseslimit": "Unlimited", "setupDate": "01.10.2021", "package": "basic"})
    }

    #[test]
    fn accounts_and_usage_from_listaccounts() {
        let account = account(&row());
        assert_eq!(
            (
                account.username.as_str(),
                account.primary_domain.as_str(),
                account.package.as_str()
            ),
            ("bob", "bob.example", "basic")
        );
        assert_eq!(account.status(), AccountStatus::Suspended);
        let usage = usage(&row());
        let disk = usage.disk_bytes.unwrap();
        assert_eq!(
            (disk.used, disk.limit),
            (
                12 * MIB,
                Some(Limit {
                    max: Some(1024 * MIB)
                })
            )
        );
        assert_eq!(usage.inodes.unwrap().limit, Some(Limit { max: None }));
        let domains = usage.domains.unwrap();
        assert_eq!(
            (domains.used, domains.limit),
            (2, Some(Limit { max: Some(3) })),
            "primary included"
        );
        assert_eq!(
            usage.email_accounts.unwrap().limit,
            Some(Limit { max: Some(0) }),
            "0 disables"
        );
    }

    #[test]
    fn packages_from_the_doc_packagelist() {
        let doc = json!({"packagename": "newPackageName", "disklimit": "10240", "inodeslimit": "1000",
            "domainslimit": "Unlimited", "emailslimit": "0", "databaseslimit": "Unlimited"});
        let package = package(&doc);
        assert_eq!(
            (package.id.as_str(), package.name.as_str()),
            ("newPackageName", "newPackageName")
        );
        let limits = package.limits.unwrap();
        assert_eq!(limits.disk_mib, Some(Limit { max: Some(10240) }));
        assert_eq!(limits.domains, Some(Limit { max: None }));
        assert_eq!(limits.email_accounts, Some(Limit { max: Some(0) }));
        let legacy = json!({"packagename": "test", "disklimit": "0", "inodeslimit": "0", "domainslimit": "0"});
        let limits = super::package(&legacy).limits.unwrap();
        assert_eq!(
            limits.disk_mib,
            Some(Limit { max: None }),
            "a 0 disk limit is unlimited"
        );
        assert_eq!(
            limits.domains,
            Some(Limit { max: Some(1) }),
            "no additional domain: the primary only"
        );
    }

    #[test]
    fn package_fields_follow_the_doc() {
        let limits = PackageLimits {
            disk_mib: Some(Limit { max: Some(10240) }),
            inodes: Some(Limit { max: Some(10_000) }),
            domains: Some(Limit { max: None }),
            email_accounts: Some(Limit { max: Some(0) }),
            databases: Some(Limit { max: None }),
            ..Default::default()
        };
        let fields: Vec<(String, String)> = package_fields(&limits)
            .unwrap()
            .into_iter()
            .map(|(key, value)| match value {
                PhpValue::Text(text) => (key, text),
                other => (key, format!("{other:?}")),
            })
            .collect();
        assert_eq!(
            fields,
            vec![
                ("quota".to_owned(), "10240".to_owned()),
                ("inodes".to_owned(), "10000".to_owned()),
                ("emails".to_owned(), "0".to_owned()),
            ]
        );
        let tiny = PackageLimits {
            disk_mib: Some(Limit { max: Some(50) }),
            ..Default::default()
        };
        assert!(
            matches!(package_fields(&tiny), Err(AdapterError::InvalidArgument { field, .. }) if field == "limits.disk_mib")
        );
        let few_inodes = PackageLimits {
            inodes: Some(Limit { max: Some(1000) }),
            ..Default::default()
        };
        assert!(
            matches!(package_fields(&few_inodes), Err(AdapterError::InvalidArgument { field, .. }) if field == "limits.inodes")
        );
        let none = PackageLimits {
            domains: Some(Limit { max: Some(0) }),
            ..Default::default()
        };
        assert!(package_fields(&none).is_err());
        let ftp = PackageLimits {
            ftp_accounts: Some(Limit { max: Some(1) }),
            ..Default::default()
        };
        assert!(package_fields(&ftp).is_err());
    }

    #[test]
    fn permissions_in_php_shape() {
        let all = SpanelPermissions {
            all: true,
            categories: vec![],
        };
        assert_eq!(permissions("p", &all).unwrap(), PhpValue::from("all"));
        let some = SpanelPermissions {
            all: false,
            categories: vec![
                SpanelCategoryPermissions {
                    category: "email".into(),
                    all_pages: true,
                    pages: vec![],
                },
                SpanelCategoryPermissions {
                    category: "domain".into(),
                    all_pages: false,
                    pages: vec!["domains".into(), "redirects".into()],
                },
            ],
        };
        assert_eq!(
            permissions("p", &some).unwrap(),
            PhpValue::Map(vec![
                ("email".into(), PhpValue::from("all")),
                (
                    "domain".into(),
                    PhpValue::List(vec![PhpValue::from("domains"), PhpValue::from("redirects")])
                ),
            ])
        );
        for bad in [
            SpanelPermissions {
                all: false,
                categories: vec![],
            },
            SpanelPermissions {
                all: true,
                categories: some.categories.clone(),
            },
            SpanelPermissions {
                all: false,
                categories: vec![SpanelCategoryPermissions {
                    category: "email".into(),
                    all_pages: false,
                    pages: vec![],
                }],
            },
        ] {
            assert!(permissions("p", &bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn admins_with_all_or_some_permissions() {
        let root = panel_admin(
            &json!({"user": "root", "permissions": "all", "currentuser": true, "twofactor": false}),
        );
        assert!(root.full_access && root.permissions.is_empty());
        let ops = panel_admin(
            &json!({"user": "ops", "permissions": {"server": "all", "accounts": ["manage", "create"]}, "twofactor": "1"}),
        );
        assert!(!ops.full_access && ops.two_factor);
        assert_eq!(
            ops.permissions,
            vec!["accounts/manage", "accounts/create", "server/*"]
        );
    }
}

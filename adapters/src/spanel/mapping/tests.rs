//! The mapping of SPanel rows and inputs, on the doc's payloads.

use panelgate_proto::v1::SpanelCategoryPermissions;
use serde_json::json;

use super::*;
use crate::testing::{UNLIMITED, at_most};

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
    assert_eq!((disk.used, disk.limit), (12 * MIB, at_most(1024 * MIB)));
    assert_eq!(usage.inodes.unwrap().limit, UNLIMITED);
    let domains = usage.domains.unwrap();
    assert_eq!(
        (domains.used, domains.limit),
        (2, at_most(3)),
        "primary included"
    );
    assert_eq!(
        usage.email_accounts.unwrap().limit,
        at_most(0),
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
    assert_eq!(limits.disk_mib, at_most(10240));
    assert_eq!(limits.domains, UNLIMITED);
    assert_eq!(limits.email_accounts, at_most(0));
    let legacy =
        json!({"packagename": "test", "disklimit": "0", "inodeslimit": "0", "domainslimit": "0"});
    let limits = super::package(&legacy).limits.unwrap();
    assert_eq!(limits.disk_mib, UNLIMITED, "a 0 disk limit is unlimited");
    assert_eq!(
        limits.domains,
        at_most(1),
        "no additional domain: the primary only"
    );
}

#[test]
fn package_fields_follow_the_doc() {
    let limits = PackageLimits {
        disk_mib: at_most(10240),
        inodes: at_most(10_000),
        domains: UNLIMITED,
        email_accounts: at_most(0),
        databases: UNLIMITED,
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
        disk_mib: at_most(50),
        ..Default::default()
    };
    assert!(
        matches!(package_fields(&tiny), Err(AdapterError::InvalidArgument { field, .. }) if field == "limits.disk_mib")
    );
    let few_inodes = PackageLimits {
        inodes: at_most(1000),
        ..Default::default()
    };
    assert!(
        matches!(package_fields(&few_inodes), Err(AdapterError::InvalidArgument { field, .. }) if field == "limits.inodes")
    );
    let none = PackageLimits {
        domains: at_most(0),
        ..Default::default()
    };
    assert!(package_fields(&none).is_err());
    let ftp = PackageLimits {
        ftp_accounts: at_most(1),
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

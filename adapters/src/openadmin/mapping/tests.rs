//! The mapping of OpenAdmin replies, on the panel's documented and Go-build
//! payloads.

use serde_json::json;

use super::*;
use crate::openadmin::wire::UserReply;
use crate::testing::{UNLIMITED, at_most};

fn detail(username: &str) -> UserDetail {
    let reply: UserReply = serde_json::from_value(json!({"user": {
        "user": {"id": 7, "username": username, "email": "bob@example.com", "owner": "admin"},
        "plan": {"id": 1, "name": "default_plan_nginx", "disk_limit": "10 GB", "domains_limit": 2},
        "domains": [{"domain_id": 3, "docroot": "/var/www/html/bob.example", "domain_url": "bob.example", "php_version": "8.2"}],
        "sites": [],
        "disk_usage": {}
    }}))
    .unwrap();
    reply.user
}

#[test]
fn accounts_and_their_suspension() {
    let active = account("bob", &detail("bob"), Some("203.0.113.9".into()));
    assert_eq!(active.status(), AccountStatus::Active);
    assert_eq!(
        (active.primary_domain.as_str(), active.package.as_str()),
        ("bob.example", "default_plan_nginx")
    );
    assert_eq!(
        (active.panel_user_id.as_str(), active.dedicated_ip.as_str()),
        ("7", "203.0.113.9")
    );
    let suspended = account("bob", &detail("SUSPENDED_7_bob"), None);
    assert_eq!(suspended.status(), AccountStatus::Suspended);
    assert_eq!(suspended.username, "bob");

    let ips = BTreeMap::from([("bob".to_owned(), json!("203.0.113.9"))]);
    let entry = |username: &str| UserListEntry {
        username: username.to_owned(),
        email: None,
        plan_name: None,
    };
    let listed = listed_account(entry("SUSPENDED_7_bob"), &ips);
    assert_eq!(
        (
            listed.username.as_str(),
            listed.status(),
            listed.dedicated_ip.as_str()
        ),
        ("bob", AccountStatus::Suspended, "203.0.113.9")
    );
    assert_eq!(
        listed_account(entry("bob"), &ips).status(),
        AccountStatus::Active
    );
}

#[test]
fn usage_from_detail_and_quota() {
    let quota = json!({"diskusage": 2048, "disklimit": 1048576, "inodesusage": 10, "inodeslimit": 0, "bwusage": 0, "bwlimit": 0});
    let usage = usage(&detail("bob"), Some(&quota));
    let disk = usage.disk_bytes.unwrap();
    assert_eq!((disk.used, disk.limit), (2 * MIB, at_most(1024 * MIB)));
    assert_eq!(usage.inodes.unwrap().limit, UNLIMITED);
    let domains = usage.domains.unwrap();
    assert_eq!((domains.used, domains.limit), (1, at_most(2)));
    assert!(
        super::usage(&detail("bob"), None).disk_bytes.is_none(),
        "no quota line, no disk figure"
    );
}

#[test]
fn plans_in_doc_and_go_shapes() {
    let doc: Plan = serde_json::from_value(json!({"id": 1, "name": "ubuntu_nginx_mysql", "bandwidth": 100,
        "disk_limit": "10 GB", "inodes_limit": 1000000, "db_limit": 0, "domains_limit": 0, "websites_limit": 10})).unwrap();
    let limits = package(&doc).unwrap().limits.unwrap();
    assert_eq!(limits.disk_mib, at_most(10 * 1024));
    assert_eq!(limits.bandwidth_mib, at_most(100 * 1024));
    assert_eq!(limits.databases, UNLIMITED);
    assert_eq!(limits.inodes, at_most(1_000_000));
    let go: Plan = serde_json::from_value(
        json!({"id": "2", "name": "pro", "disk_limit": "5", "db_limit": "3", "email_limit": "10"}),
    )
    .unwrap();
    let limits = package(&go).unwrap().limits.unwrap();
    assert_eq!(limits.disk_mib, at_most(5 * 1024));
    assert_eq!(limits.databases, at_most(3));
    assert_eq!(limits.email_accounts, at_most(10));
}

#[test]
fn plan_bodies_use_whole_gb_and_zero_for_unlimited() {
    let limits = PackageLimits {
        disk_mib: Some(Limit {
            max: Some(20 * 1024),
        }),
        domains: UNLIMITED,
        databases: at_most(5),
        ..Default::default()
    };
    let body = plan_body(
        "pro",
        &limits,
        "Pro plan",
        Some(&Limit { max: Some(3) }),
        "2",
        "2g",
    )
    .unwrap();
    assert_eq!(body["disk_limit"], json!(20));
    assert_eq!(body["domains_limit"], json!(0));
    assert_eq!(body["db_limit"], json!(5));
    assert_eq!(body["websites_limit"], json!(3));
    assert_eq!(
        (body["cpu"].as_str(), body["ram"].as_str()),
        (Some("2"), Some("2g"))
    );
    let odd = PackageLimits {
        disk_mib: at_most(1500),
        ..Default::default()
    };
    assert!(
        matches!(plan_body("x", &odd, "", None, "", ""), Err(AdapterError::InvalidArgument { field, .. }) if field == "limits.disk_mib")
    );
    let off = PackageLimits {
        email_accounts: at_most(0),
        ..Default::default()
    };
    assert!(plan_body("x", &off, "", None, "", "").is_err());
}

#[test]
fn server_figures() {
    let stats = "{\"timestamp\": \"2024-09-02\", \"users\": 1}\n{\"timestamp\": \"2024-09-03\", \"users\": 4, \"domains\": 2}\n";
    assert_eq!(account_count(stats), Some(4));
    let cores = json!({"core_1": 3.5, "core_0": 12, "cpu10": "1.5", "load": 9})
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(cpu_percent(&cores), vec![12.0, 3.5, 1.5]);
    let states = services(
        &json!({"nginx": {"name": "Nginx", "status": "Active"}, "mysql": {"name": "MySQL", "status": "Error: exited"}}),
    );
    assert_eq!(
        states
            .iter()
            .map(|s| (s.name.as_str(), s.state()))
            .collect::<Vec<_>>(),
        vec![
            ("mysql", ServiceState::Failed),
            ("nginx", ServiceState::Running)
        ]
    );
}

#[test]
fn plan_creation_is_read_from_the_endpoint_listing() {
    assert!(lists_plan_creation(
        &json!({"endpoints": [{"method": "POST", "path": "/api/plans", "description": "Create a plan"}]})
    ));
    assert!(lists_plan_creation(&json!([
        "GET /api/plans",
        "POST /api/plans"
    ])));
    assert!(!lists_plan_creation(
        &json!({"endpoints": [{"method": "GET", "path": "/api/plans"}, {"method": "POST", "path": "/api/users"}]})
    ));
    assert!(!lists_plan_creation(&json!(["POST /api/plans/1/edit"])));
}

#[test]
fn notifications_in_both_shapes() {
    let doc: Notifications =
        serde_json::from_value(json!([{"title": "Update", "message": "New packages"}])).unwrap();
    assert_eq!(notifications(doc)[0].title, "Update");
    let go: Notifications =
        serde_json::from_value(json!({"success": true, "notifications": ["disk almost full"]}))
            .unwrap();
    assert_eq!(notifications(go)[0].message, "disk almost full");
}

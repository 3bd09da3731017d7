//! The docs' two examples end to end, and the bodies kept byte for byte.

use std::collections::BTreeMap;

use serde_json::json;

use super::{CREATE_ADMIN, CREATE_PACKAGE, doc_config, post};
use crate::spanel::{SimCategoryPermissions, SimPermissions, SpanelSim};

/// The createadminuser example gets the doc's reply, and the admin is stored
/// with the nested permissions.
#[tokio::test]
async fn create_admin_doc_example() {
    let sim = SpanelSim::start(doc_config()).await.unwrap();
    assert_eq!(
        post(&sim, CREATE_ADMIN).await,
        json!({"result": "success", "data": {"msg":
            "The admin account with username newadmin@example.com has been created successfully"}})
    );
    let admin = sim.admin_users().pop().unwrap();
    assert_eq!(admin.user, "newadmin@example.com");
    let expected = BTreeMap::from([
        ("server".to_owned(), SimCategoryPermissions::All),
        (
            "accounts".to_owned(),
            SimCategoryPermissions::Pages(vec!["manage".to_owned(), "create".to_owned()]),
        ),
    ]);
    assert_eq!(admin.permissions, SimPermissions::Categories(expected));

    let listed = post(
        &sim,
        "token=provided_auth_token&action=admin/listadminusers",
    )
    .await;
    assert_eq!(
        listed["data"][1],
        json!({"user": "newadmin@example.com", "currentuser": false, "twofactor": false,
               "permissions": {"server": "all", "accounts": ["manage", "create"]}})
    );
    let again = post(&sim, CREATE_ADMIN).await;
    assert_eq!(again["result"], "error");
}

/// The createpackage example's 1000 inodes are refused (the doc's table
/// says at least 10000); with 10000, it gets the doc's reply when
/// `databases` is left out, and PHP's `false` (sent as 0) disables databases
/// instead.
#[tokio::test]
async fn create_package_doc_example() {
    let sim = SpanelSim::start(doc_config()).await.unwrap();
    assert_eq!(
        post(&sim, CREATE_PACKAGE).await,
        json!({"result": "error", "message": ["The inodes limit must be at least 10000"]})
    );
    let example = CREATE_PACKAGE.replace("inodes=1000&", "inodes=10000&");
    let without_databases = example.replace("&databases=0", "");
    assert_eq!(
        post(&sim, &without_databases).await,
        json!({"result": "success", "data": {
            "msg": "The package newPackageName has been created",
            "packagelist": {
                "newPackageName": {"packagename": "newPackageName", "disklimit": "10240",
                    "inodeslimit": "10000", "domainslimit": "Unlimited", "emailslimit": "0",
                    "databaseslimit": "Unlimited"},
                "test": {"packagename": "test", "disklimit": "0", "inodeslimit": "0",
                    "domainslimit": "Unlimited", "emailslimit": "Unlimited",
                    "databaseslimit": "Unlimited"}
            }
        }})
    );
    let as_php_sends_it = example.replace("newPackageName", "phpFalse");
    let reply = post(&sim, &as_php_sends_it).await;
    assert_eq!(
        reply["data"]["packagelist"]["phpFalse"]["databaseslimit"],
        "0"
    );
    let package = sim.packages().pop().unwrap();
    assert_eq!((package.emails, package.databases), (Some(0), Some(0)));
}

/// `received()` returns the bodies byte for byte, with their actions, refused
/// calls included.
#[tokio::test]
async fn received_keeps_exact_bytes() {
    let sim = SpanelSim::start(doc_config()).await.unwrap();
    post(&sim, CREATE_ADMIN).await;
    post(&sim, "token=wrong").await;
    let received = sim.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].action, "admin/createadminuser");
    assert_eq!(received[0].body, CREATE_ADMIN.as_bytes());
    assert_eq!(received[1].action, "");
    assert_eq!(received[1].body, b"token=wrong");
}

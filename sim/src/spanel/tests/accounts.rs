//! The account functions over an account's life, and the user functions.

use serde_json::json;

use super::{call, start};

/// Create, suspend (array form), unsuspend, change package and limits, terminate.
#[tokio::test]
async fn account_lifecycle() {
    let sim = start().await;
    for (user, domain) in [("bob", "bob.example.com"), ("amy", "amy.example.com")] {
        let fields = format!("username={user}&domain={domain}&password=Secret123&quota=500");
        assert_eq!(
            call(&sim, "accounts/wwwacct", &fields).await["result"],
            "success"
        );
    }
    let bob = sim.account("BOB").unwrap();
    assert_eq!((bob.package.as_str(), bob.quota_mb), ("Custom", Some(500)));
    assert_eq!(bob.inodes_limit, None);
    let taken = call(
        &sim,
        "accounts/wwwacct",
        "username=Bob&domain=amy.example.com&password=Secret123",
    )
    .await;
    assert_eq!(
        taken["message"],
        json!([
            "The username Bob is already taken",
            "The domain amy.example.com already exists on this server"
        ])
    );

    let suspended = call(
        &sim,
        "accounts/suspendaccount",
        "username[]=bob&username[]=amy&reason=unpaid+invoice",
    )
    .await;
    assert_eq!(
        suspended,
        json!({"result": "success", "msg": "Suspend successful"})
    );
    let bob = sim.account("bob").unwrap();
    assert!(bob.suspended);
    assert_eq!(bob.suspend_reason.as_deref(), Some("unpaid invoice"));
    let listed = call(&sim, "accounts/listaccounts", "statusOption=suspended").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(listed["data"][0]["suspended"], "1");
    call(&sim, "accounts/unsuspendaccount", "username=amy").await;
    assert!(!sim.account("amy").unwrap().suspended);

    let changed = call(&sim, "accounts/changequota", "username=bob&package=basic").await;
    assert_eq!(
        changed,
        json!({"result": "success", "msg": "Your new limits have been saved successfully"})
    );
    let bob = sim.account("bob").unwrap();
    assert_eq!((bob.package.as_str(), bob.quota_mb), ("basic", Some(1024)));
    call(&sim, "accounts/changequota", "username=bob&emails=0&quota=").await;
    let bob = sim.account("bob").unwrap();
    assert_eq!(bob.package, "Custom");
    assert_eq!(
        (bob.emails_limit, bob.quota_mb, bob.databases_limit),
        (Some(0), None, Some(5))
    );

    call(&sim, "accounts/changequota", "username=amy&package=basic").await;
    let in_use = call(
        &sim,
        "accounts/removepackage",
        "package[0]=basic&package[1]=nosuch",
    )
    .await;
    assert_eq!(
        in_use["message"],
        json!([
            "The package basic is used by 1 account(s) and cannot be removed",
            "The package nosuch does not exist"
        ])
    );
    let removed = call(&sim, "accounts/removepackage", "package=pro").await;
    assert_eq!(
        removed["data"]["msg"],
        "The following packages were successfully removed: pro."
    );
    let terminated = call(&sim, "accounts/terminateaccount", "username=bob").await;
    assert_eq!(
        terminated,
        json!({"result": "success", "msg": "The selected accounts have been terminated"})
    );
    assert!(sim.account("bob").is_none());
    let gone = call(
        &sim,
        "accounts/changeuserpassword",
        "username=bob&password=Secret123",
    )
    .await;
    assert_eq!(gone["message"], json!(["The account bob does not exist"]));
}

/// User functions need `accountuser`; subdomains, domain removal and MySQL
/// names are prefixed and checked.
#[tokio::test]
async fn user_functions() {
    let sim = start().await;
    call(
        &sim,
        "accounts/wwwacct",
        "username=bob&domain=bob.example.com&password=Secret123&package=basic",
    )
    .await;
    let missing = call(
        &sim,
        "domain/addsubdomain",
        "domain=bob.example.com&subdomain=blog",
    )
    .await;
    assert_eq!(
        missing["message"],
        json!(["The accountuser parameter is required for user functions"])
    );
    let added = call(
        &sim,
        "domain/addsubdomain",
        "accountuser=bob&domain=bob.example.com&subdomain=blog&path=public_html%2Fblog",
    )
    .await;
    assert_eq!(
        added,
        json!({"result": "success", "data":
            {"msg": "The subdomain blog.bob.example.com has been created successfully"}})
    );
    let main = call(
        &sim,
        "domain/removedomain",
        "accountuser=bob&domain[0]=bob.example.com",
    )
    .await;
    assert_eq!(
        main["message"],
        json!(["The main domain bob.example.com cannot be removed"])
    );
    assert!(sim.add_addon_domain("bob", "bobshop.com"));
    let removed = call(
        &sim,
        "domain/removedomain",
        "accountuser=bob&domain[]=blog.bob.example.com&domain[]=bobshop.com",
    )
    .await;
    assert_eq!(
        removed,
        json!({"result": "success", "data": {"msg": "The selected domains have been deleted",
            "d": ["blog.bob.example.com", "bobshop.com"]}})
    );

    let no_user = call(
        &sim,
        "mysql/createmysqldatabase",
        "accountuser=bob&database=shop&username=shopuser",
    )
    .await;
    assert_eq!(
        no_user["message"],
        json!(["The database user shopuser does not exist"])
    );
    let user = call(
        &sim,
        "mysql/createmysqluser",
        "accountuser=bob&username=shopuser&password=Secret123",
    )
    .await;
    assert_eq!(
        user["data"]["msg"],
        "The username bob_shopuser has been created successfully"
    );
    let database = call(
        &sim,
        "mysql/createmysqldatabase",
        "accountuser=bob&database=shop&username=shopuser",
    )
    .await;
    assert_eq!(
        database["data"]["msg"],
        "The database bob_shop has been created successfully"
    );
    let bob = sim.account("bob").unwrap();
    assert_eq!(bob.db_users, ["bob_shopuser"]);
    assert_eq!(
        bob.databases,
        [("bob_shop".to_owned(), vec!["bob_shopuser".to_owned()])]
    );
    assert_eq!(bob.subdomains, Vec::<String>::new());
}

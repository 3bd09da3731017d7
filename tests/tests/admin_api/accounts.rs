//! Accounts: add_user (CreateAccount), the account info (GetAccount,
//! GetAccountUsage), suspend_user (Suspend, Unsuspend, Delete), update_user
//! (UpdateAccount, ChangePassword, ChangePackage) and sso_login; the API
//! switch, and users the panel saves before failing, which the adapter
//! must not leave half-made.

use panelgate_proto::v1::{
    AccountStatus, AdminApiAccountOptions, CreateAccountRequest, CreatePackageRequest,
    GetAccountRequest, PackageLimits, UpdateAccountRequest, create_account_request,
};
use panelgate_tests::{
    errors::{assert_error, assert_invalid, metadata},
    limits::{GIB, MIB, limit, unlimited, used},
};
use tonic::Code;

use crate::{DEFAULT_PHP, Ols};

panelgate_tests::panel_tests!(Ols:
    get_account_reads_the_panels_account_info, account_usage_is_reported_in_bytes_and_counts,
    create_account_by_package_name_sends_names_and_php_version, create_account_by_panel_package_id,
    suspend_and_unsuspend_change_the_panel_state, delete_removes_suspended_and_active_accounts,
    update_account_changes_email_and_names_only, change_password_and_package_reach_the_panel,
    primary_domain_cannot_change_on_admin_api, login_link_is_the_panels_sso_url,
    disabled_api_is_failed_precondition,
    create_account_on_a_taken_domain_leaves_no_half_created_user,
    panel_failure_inside_add_user_leaves_no_half_created_user);

/// GetAccount reads the panel's account info: main domain, email, package
/// name, full name and user id; the panel has no suspension flag, so the
/// status stays unspecified.
async fn get_account_reads_the_panels_account_info(ols: Ols) {
    let request = CreateAccountRequest {
        first_name: "Bob".into(),
        last_name: "Builder".into(),
        ..ols.new_account("bob")
    };
    ols.create_account(request).await.expect("create bob");
    let sim_user = ols.sim.user("bob").expect("bob on the panel");

    let account = ols.get_account("bob").await.expect("get bob");
    assert_eq!(account.username, "bob");
    assert_eq!(account.server_id, ols.id);
    assert_eq!(account.primary_domain, "bob.example");
    assert_eq!(account.email, "bob@mail.example");
    assert_eq!(account.package, "Basic");
    assert_eq!(account.full_name, "Bob Builder");
    assert_eq!(account.panel_user_id, sim_user.id.to_string());
    assert_eq!(account.status(), AccountStatus::Unspecified);

    // By id as by name.
    let by_server_id = ols.get_account_by_id("bob").await;
    assert_eq!(by_server_id.expect("get bob by server id"), account);

    let missing = ols.get_account("nobody").await;
    ols.assert_said(
        missing,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
        "User not found",
    );
}

/// GetAccountUsage turns the panel's "1GB" / "1.5 MB" / "48 KB" / "Unlimited"
/// into bytes, counts and absent maxima, and follows the account's package
/// and databases.
async fn account_usage_is_reported_in_bytes_and_counts(ols: Ols) {
    ols.create("uma", "Basic").await;

    // Basic: 1024 MB ("1GB"), 2 domains, everything else unlimited; one
    // domain of simulated files ("1.5 MB"), no database ("0 Bytes").
    let usage = ols.usage("uma").await;
    assert_eq!(usage.disk_bytes, used(1536 * 1024, limit(GIB)));
    assert_eq!(usage.email_disk_bytes, used(0, None));
    assert_eq!(usage.database_disk_bytes, used(0, None));
    assert_eq!(usage.bandwidth_bytes, used(0, unlimited()));
    assert_eq!(usage.email_accounts, used(0, unlimited()));
    assert_eq!(usage.databases, used(0, unlimited()));
    assert_eq!(usage.ftp_accounts, used(1, unlimited()));
    assert_eq!(usage.domains, used(1, limit(2)));
    assert_eq!(usage.inodes, None);

    // A package with every limit set ("1536MB", "10000MB", counts), and a
    // database ("48 KB"; the disk total becomes "1.55 MB").
    let gold = CreatePackageRequest {
        name: "Gold".into(),
        limits: Some(PackageLimits {
            disk_mib: limit(1536),
            bandwidth_mib: limit(10_000),
            email_accounts: limit(10),
            databases: limit(5),
            ftp_accounts: limit(3),
            domains: limit(4),
            ..Default::default()
        }),
        ..Default::default()
    };
    ols.create_package(gold).await.expect("create package Gold");
    let moved = ols.change_package("uma", "Gold").await;
    moved.expect("move uma to Gold");
    let database = ols.create_database("uma", "shop", "shopuser").await;
    database.expect("create a database");

    let usage = ols.usage("uma").await;
    // "1.55 MB" is the panel's rounding of 1.5 MiB + 48 KiB.
    assert_eq!(
        usage.disk_bytes,
        used((1.55 * MIB as f64).round() as u64, limit(1536 * MIB))
    );
    assert_eq!(usage.database_disk_bytes, used(48 * 1024, None));
    assert_eq!(usage.bandwidth_bytes, used(0, limit(10_000 * MIB)));
    assert_eq!(usage.email_accounts, used(0, limit(10)));
    assert_eq!(usage.databases, used(1, limit(5)));
    assert_eq!(usage.ftp_accounts, used(1, limit(3)));
    assert_eq!(usage.domains, used(1, limit(4)));
}

/// CreateAccount with the package by name sends the package's panel id, the
/// caller's first and last names and the PHP version of the options.
async fn create_account_by_package_name_sends_names_and_php_version(ols: Ols) {
    let request = CreateAccountRequest {
        first_name: "Carol".into(),
        last_name: "Danvers".into(),
        panel_options: Some(create_account_request::PanelOptions::AdminApi(
            AdminApiAccountOptions {
                php_version: "8.1".into(),
            },
        )),
        ..ols.new_account("carol")
    };
    let created = ols.create_account(request).await.expect("create carol");

    let user = ols.sim.user("carol").expect("carol on the panel");
    assert_eq!(user.pkg_id, "1", "Basic is panel package 1");
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("Carol", "Danvers")
    );
    assert_eq!(user.email, "carol@mail.example");
    assert_eq!(user.password, "first-password-1");
    assert!(user.active);
    assert_eq!(user.domains, vec!["carol.example".to_owned()]);
    let domain = ols.sim.domain("carol.example").expect("primary domain");
    assert_eq!(domain.owner, "carol");
    assert_eq!(domain.php_version, "8.1");
    assert_eq!(domain.path, "/home/carol/public_html");

    assert_eq!(created.username, "carol");
    assert_eq!(created.server_id, ols.id);
    assert_eq!(created.primary_domain, "carol.example");
    assert_eq!(created.package, "Basic");
    assert_eq!(created.full_name, "Carol Danvers");
    assert_eq!(created.status(), AccountStatus::Active);
    assert_eq!(created.panel_user_id, user.id.to_string());
}

/// CreateAccount with the panel's package id "2" creates the account on
/// Premium (and says so by name); without names the adapter sends the
/// username and "-", and without options the server's PHP version.
async fn create_account_by_panel_package_id(ols: Ols) {
    let created = ols.create("dan", "2").await;
    assert_eq!(created.package, "Premium");

    let user = ols.sim.user("dan").expect("dan on the panel");
    assert_eq!(user.pkg_id, "2");
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("dan", "-")
    );
    let domain = ols.sim.domain("dan.example").expect("primary domain");
    assert_eq!(domain.php_version, DEFAULT_PHP);

    let account = ols.get_account("dan").await.expect("get dan");
    assert_eq!(account.package, "Premium");
}

/// Suspend and unsuspend flip the user's state on the panel, and may be
/// repeated.
async fn suspend_and_unsuspend_change_the_panel_state(ols: Ols) {
    ols.create("erin", "Basic").await;
    for _ in 0..2 {
        ols.suspend("erin").await.expect("suspend");
        assert!(!ols.sim.user("erin").expect("erin").active, "suspended");
    }
    ols.unsuspend("erin").await.expect("unsuspend");
    assert!(ols.sim.user("erin").expect("erin").active, "active again");
}

/// DeleteAccount removes a suspended account, and an active one too: the
/// panel refuses to delete an active user, so the adapter suspends it first.
/// The account's domains and databases go with it.
async fn delete_removes_suspended_and_active_accounts(ols: Ols) {
    ols.create("fay", "Basic").await;
    ols.create("gus", "Basic").await;
    let database = ols.create_database("gus", "shop", "shopuser").await;
    database.expect("database for gus");
    ols.suspend("fay").await.expect("suspend fay");

    for username in ["fay", "gus"] {
        let deleted = ols.delete(username).await;
        deleted.unwrap_or_else(|status| panic!("delete {username}: {status:?}"));
        assert_eq!(ols.sim.user(username), None, "{username} gone");
        let domain = ols.sim.domain(&format!("{username}.example"));
        assert_eq!(domain, None, "{username}'s domain gone");
    }

    let again = ols.delete("gus").await;
    let said = "User 'gus' does not exist.";
    ols.assert_said(again, Code::NotFound, "ACCOUNT_NOT_FOUND", said);
}

/// UpdateAccount changes email, first and last name on the panel and leaves
/// the password and package alone.
async fn update_account_changes_email_and_names_only(ols: Ols) {
    ols.create("hal", "Basic").await;
    let update = UpdateAccountRequest {
        username: "hal".into(),
        email: Some("hal@new.example".into()),
        first_name: Some("Hal".into()),
        last_name: Some("Jordan".into()),
        ..Default::default()
    };
    ols.update(update).await.expect("update hal");

    let user = ols.sim.user("hal").expect("hal");
    assert_eq!(user.email, "hal@new.example");
    assert_eq!(
        (user.first_name.as_str(), user.last_name.as_str()),
        ("Hal", "Jordan")
    );
    assert_eq!(user.password, "first-password-1", "password untouched");
    assert_eq!(user.pkg_id, "1", "package untouched");

    // One field alone changes only that field.
    let update = UpdateAccountRequest {
        username: "hal".into(),
        last_name: Some("Smith".into()),
        ..Default::default()
    };
    ols.update(update).await.expect("update hal's last name");
    let user = ols.sim.user("hal").expect("hal");
    let names = (user.first_name.as_str(), user.last_name.as_str());
    assert_eq!(names, ("Hal", "Smith"));
    assert_eq!(user.email, "hal@new.example");
    let account = ols.get_account("hal").await.expect("get hal");
    assert_eq!(account.full_name, "Hal Smith");
    assert_eq!(account.email, "hal@new.example");
}

/// ChangePassword sets the panel password; ChangePackage moves the account
/// by package name and by panel id.
async fn change_password_and_package_reach_the_panel(ols: Ols) {
    ols.create("ivy", "Basic").await;
    let changed = ols.change_password("ivy", "second-password-2").await;
    changed.expect("change password");
    let password = ols.sim.user("ivy").expect("ivy").password;
    assert_eq!(password, "second-password-2");

    for (package, pkg_id, name) in [("Premium", "2", "Premium"), ("1", "1", "Basic")] {
        let moved = ols.change_package("ivy", package).await;
        moved.unwrap_or_else(|status| panic!("change package to {package}: {status:?}"));
        assert_eq!(ols.sim.user("ivy").expect("ivy").pkg_id, pkg_id);
        assert_eq!(ols.get_account("ivy").await.expect("get ivy").package, name);
    }
}

/// admin_api cannot change a primary domain: UpdateAccount with one is
/// INVALID_ARGUMENT on `primary_domain`, with no panel call, and the other
/// fields of the same request are not applied either.
async fn primary_domain_cannot_change_on_admin_api(ols: Ols) {
    ols.create("jay", "Basic").await;
    let before = ols.sim.request_count();
    let refused = ols.update(UpdateAccountRequest {
        username: "jay".into(),
        email: Some("jay@new.example".into()),
        primary_domain: Some("jay.example.org".into()),
        ..Default::default()
    });
    let status = assert_invalid(refused.await, "primary_domain");
    assert_eq!(metadata(&status, "server_id"), ols.id);
    assert!(status.message().contains("`ols`"), "{}", status.message());
    assert_eq!(ols.sim.request_count(), before, "no panel call");
    let user = ols.sim.user("jay").expect("jay");
    assert_eq!(user.email, "jay@mail.example");
    assert_eq!(user.domains, vec!["jay.example".to_owned()]);
}

/// CreateLoginLink returns the panel's SSO URL, a fresh token every time.
async fn login_link_is_the_panels_sso_url(ols: Ols) {
    ols.create("ola", "Basic").await;
    let prefix = format!("{}/login/?token=", ols.sim.base_url());
    let mut links = Vec::new();
    for _ in 0..2 {
        let link = ols.login_link("ola").await.expect("login link");
        assert!(link.starts_with(&prefix), "{link} starts with {prefix}");
        assert!(link.len() > prefix.len(), "a token: {link}");
        links.push(link);
    }
    assert_ne!(links[0], links[1], "a fresh token per link");

    let missing = ols.login_link("nobody").await;
    let said = "User with username 'nobody' not found.";
    ols.assert_said(missing, Code::NotFound, "ACCOUNT_NOT_FOUND", said);
}

/// The panel's API switch off → FAILED_PRECONDITION PANEL_API_DISABLED, for
/// calls and for CheckServer; switched on, calls work again.
async fn disabled_api_is_failed_precondition(ols: Ols) {
    ols.create("quin", "Basic").await;
    ols.sim.set_api_enabled(false);
    let got = ols.get_account("quin").await;
    let said = "API is currently disabled";
    ols.assert_said(got, Code::FailedPrecondition, "PANEL_API_DISABLED", said);
    let checked = ols.check("ols").await;
    assert!(!checked.healthy);
    assert_eq!(checked.error_reason, "PANEL_API_DISABLED");

    ols.sim.set_api_enabled(true);
    let quin = ols.get_account("quin").await.expect("get quin");
    assert_eq!(quin.username, "quin");
    assert!(ols.check("ols").await.healthy);
}

/// The panel saves a new user before it creates the primary domain: a
/// CreateAccount whose domain belongs to another account is ALREADY_EXISTS
/// DOMAIN_ALREADY_EXISTS, the adapter removes the half-made user (so it is
/// neither on the panel nor indexed), the other account keeps its domain,
/// and a retry with a free domain succeeds.
async fn create_account_on_a_taken_domain_leaves_no_half_created_user(ols: Ols) {
    ols.create("yan", "Basic").await;
    let taken = ols.create_account(CreateAccountRequest {
        primary_domain: "yan.example".into(),
        ..ols.new_account("zed")
    });
    let said = "The domain 'yan.example' already exists.";
    ols.assert_said(
        taken.await,
        Code::AlreadyExists,
        "DOMAIN_ALREADY_EXISTS",
        said,
    );
    assert_eq!(ols.sim.user("zed"), None, "the half-made user is removed");
    assert_eq!(ols.sim.domain("yan.example").expect("domain").owner, "yan");
    assert_eq!(ols.sim.user("yan").expect("yan").domains, ["yan.example"]);
    let indexed = ols
        .gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: None,
            username: "zed".into(),
        })
        .await;
    assert_error(indexed, Code::NotFound, "ACCOUNT_NOT_INDEXED");

    let retried = ols.create("zed", "Basic").await;
    assert_eq!(retried.primary_domain, "zed.example");
    let user = ols.sim.user("zed").expect("zed on the panel");
    assert_eq!(user.domains, ["zed.example"]);
}

/// add_user failing after it saved the user ("Domain creation failed
/// message") → INTERNAL UPSTREAM_OPERATION_FAILED, and the adapter removes the
/// half-made user so that a retry is not refused as a duplicate.
async fn panel_failure_inside_add_user_leaves_no_half_created_user(ols: Ols) {
    let said = "Domain creation failed message";
    ols.sim.fail_next("add_user", said);
    let failed = ols.create_account(ols.new_account("abe")).await;
    ols.assert_said(failed, Code::Internal, "UPSTREAM_OPERATION_FAILED", said);
    assert_eq!(ols.sim.user("abe"), None, "the half-made user is removed");
    ols.create("abe", "Basic").await;
    assert_eq!(ols.sim.user("abe").expect("abe").domains, ["abe.example"]);
}

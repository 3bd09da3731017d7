//! Accounts: `POST /api/users` (and the primary domain), `GET
//! /api/users[/{u}]` with `/api/ips`, `PATCH` (suspend, unsuspend,
//! password), `PUT` (plan), `DELETE`, `GET /api/usage/disk`, and what every
//! call answers for an account the panel lacks.

use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, ChangePackageRequest, ChangePasswordRequest,
    CreateAccountRequest, GetAccountRequest, GetAccountUsageRequest, ListDomainsRequest,
};
use panelgate_tests::{
    errors::{assert_error, metadata, reason},
    gateway::by_name,
    limits::{GIB, KIB, limit, unlimited, used},
};
use tonic::{Code, Status};

use crate::{DEFAULT_PLAN, Oa, PRO_PLAN, SERVER, new_account};

panelgate_tests::panel_tests!(Oa:
    create_account_creates_the_user_and_its_primary_domain,
    get_and_list_accounts_read_the_panel_and_its_dedicated_ips,
    suspend_and_unsuspend_are_idempotent_and_read_back, change_password_and_package_reach_the_panel,
    delete_removes_active_and_suspended_accounts, account_usage_is_reported_in_bytes,
    unknown_account_is_not_found_on_every_call, create_account_on_a_taken_domain_is_rolled_back,
    disabled_api_is_failed_precondition);

/// CreateAccount creates the user with its email, password and plan, then its
/// primary domain under `/var/www/html/`; the reply says so. A package given
/// by the panel's id is the plan of that id.
async fn create_account_creates_the_user_and_its_primary_domain(oa: Oa) {
    let created = oa.create("alice", DEFAULT_PLAN).await;
    let user = oa.sim.user("alice").expect("alice on the panel");
    assert_eq!(user.email, "alice@mail.example");
    assert_eq!(user.password, "first-password-1");
    assert_eq!(user.plan_name, DEFAULT_PLAN);
    assert!(!user.suspended);
    assert_eq!(user.domains, ["alice.example"]);
    let domain = oa.sim.domain("alice.example").expect("primary domain");
    assert_eq!(domain.owner, "alice");
    assert_eq!(domain.docroot, "/var/www/html/alice.example");
    assert!(!domain.suspended);

    assert_eq!(created.username, "alice");
    assert_eq!(created.server_id, oa.id);
    assert_eq!(created.primary_domain, "alice.example");
    assert_eq!(created.email, "alice@mail.example");
    assert_eq!(created.package, DEFAULT_PLAN);
    assert_eq!(created.status(), AccountStatus::Active);

    let by_plan_id = oa.create("bob", "2").await;
    assert_eq!(by_plan_id.package, PRO_PLAN);
    assert_eq!(oa.sim.user("bob").expect("bob").plan_name, PRO_PLAN);
}

/// GetAccount reads the account's detail (primary domain, email, plan, panel
/// id) and its dedicated IP from `/api/ips`; ListAccounts lists every account
/// with email, plan and dedicated IP.
async fn get_and_list_accounts_read_the_panel_and_its_dedicated_ips(oa: Oa) {
    oa.create("alice", DEFAULT_PLAN).await;
    oa.create("bob", PRO_PLAN).await;
    oa.sim.set_dedicated_ip("bob", "203.0.113.9");

    let bob = oa.get_account("bob").await.expect("get bob");
    let sim_bob = oa.sim.user("bob").expect("bob on the panel");
    assert_eq!(
        bob,
        Account {
            username: "bob".into(),
            server_id: oa.id.clone(),
            primary_domain: "bob.example".into(),
            email: "bob@mail.example".into(),
            package: PRO_PLAN.into(),
            status: AccountStatus::Active.into(),
            full_name: String::new(),
            panel_user_id: sim_bob.id.to_string(),
            dedicated_ip: "203.0.113.9".into(),
            panel_details: None,
        }
    );
    let alice = oa.get_account("alice").await.expect("get alice");
    assert_eq!(alice.dedicated_ip, "", "no dedicated IP");

    // By server id as by name.
    let by_server_id = oa.get_account_by_id("bob").await;
    assert_eq!(by_server_id.expect("get bob by server id"), bob);

    let listed: Vec<_> = oa
        .list_accounts()
        .await
        .into_iter()
        .map(|account| {
            assert_eq!(account.server_id, oa.id);
            (
                account.username,
                account.email,
                account.package,
                account.dedicated_ip,
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "alice".to_owned(),
                "alice@mail.example".to_owned(),
                DEFAULT_PLAN.to_owned(),
                String::new()
            ),
            (
                "bob".to_owned(),
                "bob@mail.example".to_owned(),
                PRO_PLAN.to_owned(),
                "203.0.113.9".to_owned()
            ),
        ]
    );
}

/// Suspend and unsuspend flip the user on the panel and may be repeated (the
/// panel's "already suspended" / "not suspended" failures are successes).
/// The panel renames a suspended user `SUSPENDED_<id>_<username>`: GetAccount
/// reads that as SUSPENDED, and ListAccounts still lists the account under its
/// own name, SUSPENDED, with its dedicated IP.
async fn suspend_and_unsuspend_are_idempotent_and_read_back(oa: Oa) {
    oa.create("sue", DEFAULT_PLAN).await;
    oa.sim.set_dedicated_ip("sue", "203.0.113.7");
    for round in 1..=2 {
        oa.suspend("sue")
            .await
            .unwrap_or_else(|status| panic!("suspend #{round}: {status:?}"));
        assert!(oa.sim.user("sue").expect("sue").suspended, "suspended");
    }
    let sue = oa.get_account("sue").await.expect("get sue");
    assert_eq!(sue.username, "sue");
    assert_eq!(sue.status(), AccountStatus::Suspended);
    assert_eq!(sue.primary_domain, "sue.example");

    let listed = oa.list_accounts().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].username, "sue", "not the panel's SUSPENDED_ name");
    assert_eq!(listed[0].status(), AccountStatus::Suspended);
    assert_eq!(listed[0].dedicated_ip, "203.0.113.7");

    for round in 1..=2 {
        oa.unsuspend("sue")
            .await
            .unwrap_or_else(|status| panic!("unsuspend #{round}: {status:?}"));
        assert!(!oa.sim.user("sue").expect("sue").suspended, "active");
    }
    let sue = oa.get_account("sue").await.expect("get sue");
    assert_eq!(sue.status(), AccountStatus::Active);
    assert_eq!(oa.list_accounts().await[0].status(), AccountStatus::Active);
}

/// ChangePassword sets the panel password (and nothing else); ChangePackage
/// moves the account by plan name and by plan id.
async fn change_password_and_package_reach_the_panel(oa: Oa) {
    oa.create("pat", DEFAULT_PLAN).await;
    let changed = oa.change_password("pat", "second-password-2").await;
    changed.expect("change password");
    let pat = oa.sim.user("pat").expect("pat");
    assert_eq!(pat.password, "second-password-2");
    assert!(!pat.suspended, "a password change is not a suspension");

    for (package, plan) in [(PRO_PLAN, PRO_PLAN), ("1", DEFAULT_PLAN)] {
        let moved = oa.change_package("pat", package).await;
        moved.unwrap_or_else(|status| panic!("change package to {package}: {status:?}"));
        assert_eq!(oa.sim.user("pat").expect("pat").plan_name, plan);
        assert_eq!(oa.get_account("pat").await.expect("get pat").package, plan);
    }
}

/// DeleteAccount removes an active account and a suspended one (which the
/// panel refuses to delete: the adapter unsuspends it first), with their
/// domains; deleting again is NOT_FOUND.
async fn delete_removes_active_and_suspended_accounts(oa: Oa) {
    oa.create("dee", DEFAULT_PLAN).await;
    oa.create("sid", DEFAULT_PLAN).await;
    oa.suspend("sid").await.expect("suspend sid");
    assert!(oa.sim.user("sid").expect("sid").suspended);

    for username in ["dee", "sid"] {
        oa.delete(username)
            .await
            .unwrap_or_else(|status| panic!("delete {username}: {status:?}"));
        assert_eq!(oa.sim.user(username), None, "{username} gone");
        assert_eq!(
            oa.sim.domain(&format!("{username}.example")),
            None,
            "{username}'s domain gone"
        );
    }

    let again = oa.delete("sid").await;
    oa.assert_said(
        again,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
        "Error deleting user: ERROR: User sid does not exist.",
    );
}

/// GetAccountUsage turns the panel's 1 KiB quota blocks into bytes, takes
/// inode figures as counts, the domain limit from the plan, and reads 0 limits
/// as unlimited; it follows the account's domains.
async fn account_usage_is_reported_in_bytes(oa: Oa) {
    oa.create("uma", DEFAULT_PLAN).await;
    // A home (64 blocks, 12 inodes) and one domain (1536 blocks, 40 inodes),
    // on a 10 GB plan with 1,000,000 inodes and unlimited domains.
    assert_eq!(
        oa.usage("uma").await,
        AccountUsage {
            disk_bytes: used((64 + 1536) * KIB, limit(10 * GIB)),
            bandwidth_bytes: used(0, unlimited()),
            inodes: used(12 + 40, limit(1_000_000)),
            domains: used(1, unlimited()),
            ..Default::default()
        }
    );

    oa.add_domain("uma", "shop.example", "")
        .await
        .expect("second domain");
    let usage = oa.usage("uma").await;
    assert_eq!(
        usage.disk_bytes,
        used((64 + 2 * 1536) * KIB, limit(10 * GIB))
    );
    assert_eq!(usage.inodes, used(12 + 2 * 40, limit(1_000_000)));
    assert_eq!(usage.domains, used(2, unlimited()));
}

/// Every call about an account the panel lacks (named on an explicit server)
/// → NOT_FOUND ACCOUNT_NOT_FOUND, whatever the panel's way of saying it (404,
/// a failed command with HTTP 500, returncode 1); an unknown domain →
/// NOT_FOUND DOMAIN_NOT_FOUND.
async fn unknown_account_is_not_found_on_every_call(oa: Oa) {
    let ghost = || "ghost".to_owned();
    let target = || by_name(SERVER);
    let mut accounts = oa.gateway.accounts();
    let checks: Vec<(&str, Result<(), Status>)> = vec![
        ("GetAccount", oa.get_account("ghost").await.map(drop)),
        (
            "GetAccountUsage",
            accounts
                .get_account_usage(GetAccountUsageRequest {
                    target: target(),
                    username: ghost(),
                })
                .await
                .map(drop),
        ),
        ("SuspendAccount", oa.suspend("ghost").await),
        ("UnsuspendAccount", oa.unsuspend("ghost").await),
        (
            "ChangePassword",
            accounts
                .change_password(ChangePasswordRequest {
                    target: target(),
                    username: ghost(),
                    password: "second-password-2".into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "ChangePackage",
            accounts
                .change_package(ChangePackageRequest {
                    target: target(),
                    username: ghost(),
                    package: PRO_PLAN.into(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        ("DeleteAccount", oa.delete("ghost").await),
        ("CreateLoginLink", oa.login_link("ghost").await.map(drop)),
        (
            "AddDomain",
            oa.add_domain("ghost", "ghost.example", "").await.map(drop),
        ),
        (
            "ListDomains",
            oa.gateway
                .domains()
                .list_domains(ListDomainsRequest {
                    target: target(),
                    username: ghost(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
    ];
    for (call, result) in checks {
        let status = result.expect_err(call);
        assert_eq!(
            (status.code(), reason(&status)),
            (Code::NotFound, "ACCOUNT_NOT_FOUND".to_owned()),
            "{call}: {status:?}"
        );
        assert_eq!(metadata(&status, "server_id"), oa.id, "{call}");
    }
    assert_eq!(oa.sim.user("ghost"), None);
    assert_eq!(oa.sim.domain("ghost.example"), None);

    let unknown_domain = oa.suspend_domain("nosuch.example").await;
    oa.assert_said(
        unknown_domain,
        Code::NotFound,
        "DOMAIN_NOT_FOUND",
        "ERROR: Domain nosuch.example does not exist.",
    );
}

/// The panel creates a user before its domain: a CreateAccount whose primary
/// domain belongs to another account is the domain's ALREADY_EXISTS, and the
/// adapter deletes the new user again (so it is neither on the panel nor
/// indexed); the other account keeps its domain, and a retry with a free
/// domain succeeds.
async fn create_account_on_a_taken_domain_is_rolled_back(oa: Oa) {
    oa.create("alice", DEFAULT_PLAN).await;
    let taken = oa
        .gateway
        .accounts()
        .create_account(CreateAccountRequest {
            primary_domain: "alice.example".into(),
            ..new_account(&oa, "bob", DEFAULT_PLAN)
        })
        .await;
    oa.assert_said(
        taken,
        Code::AlreadyExists,
        "DOMAIN_ALREADY_EXISTS",
        "ERROR: Domain alice.example already exists.",
    );
    assert_eq!(oa.sim.user("bob"), None, "bob rolled back");
    assert_eq!(
        oa.sim.domain("alice.example").expect("alice's").owner,
        "alice"
    );
    let unindexed = oa
        .gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: None,
            username: "bob".into(),
        })
        .await;
    assert_error(unindexed, Code::NotFound, "ACCOUNT_NOT_INDEXED");

    oa.create("bob", DEFAULT_PLAN).await;
    assert_eq!(oa.sim.user("bob").expect("bob").domains, ["bob.example"]);
}

/// The panel's API switched off → FAILED_PRECONDITION PANEL_API_DISABLED,
/// whether a call holds a token (the route answers 404) or must log in first
/// (the login answers 404), and CheckServer says so; switched on, calls work.
async fn disabled_api_is_failed_precondition(oa: Oa) {
    oa.create("quin", DEFAULT_PLAN).await;
    oa.sim.set_api_enabled(false);
    let upstream = "API access is disabled! To enable api access OpenAdmin > Settings";

    let with_token = oa.get_account("quin").await;
    oa.assert_said(
        with_token,
        Code::FailedPrecondition,
        "PANEL_API_DISABLED",
        upstream,
    );
    let checked = oa.check(SERVER).await;
    assert!(!checked.healthy);
    assert_eq!(checked.error_reason, "PANEL_API_DISABLED");

    // CheckServer's failure dropped the token: this call logs in first.
    let logins = oa.sim.login_count();
    let logging_in = oa.get_account("quin").await;
    oa.assert_said(
        logging_in,
        Code::FailedPrecondition,
        "PANEL_API_DISABLED",
        upstream,
    );

    oa.sim.set_api_enabled(true);
    assert_eq!(
        oa.get_account("quin").await.expect("get quin").username,
        "quin"
    );
    assert_eq!(oa.sim.login_count(), logins + 1);
    assert!(oa.check(SERVER).await.healthy);
}

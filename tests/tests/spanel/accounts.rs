//! Accounts: `accounts/wwwacct` (then `changeuseremail`), `listaccounts`,
//! `changeuseremail` and `changedomain`, `changeuserpassword`,
//! `changequota`, `suspendaccount` and `unsuspendaccount`,
//! `terminateaccount`.

use panelgate_proto::v1::{Account, AccountStatus, AccountUsage, UpdateAccountRequest};
use panelgate_tests::{
    PanelFixture,
    errors::assert_invalid,
    limits::{MIB, limit, unlimited, used},
};
use tonic::Code;

use crate::{Sp, Spanel, config};

panelgate_tests::panel_tests!(Sp with config();
    create_account_is_wwwacct_then_changeuseremail,
    create_account_never_leaves_a_silent_half_account, get_and_list_accounts_read_listaccounts,
    account_usage_reads_numbers_as_strings, update_account_changes_email_and_main_domain,
    change_password_is_changeuserpassword, change_package_is_changequota,
    suspend_with_a_reason_and_unsuspend, delete_account_is_terminateaccount);

/// CreateAccount is `accounts/wwwacct` with the package (no email: wwwacct
/// takes none), then `accounts/changeuseremail`: the panel holds the account
/// with its domain, password, package and that package's limits, and the
/// email. The package list is read once (to resolve the package), then cached.
async fn create_account_is_wwwacct_then_changeuseremail(sp: Sp) {
    let mark = sp.mark();
    let created = sp.create("alice", "basic").await;
    assert_eq!(
        sp.actions_since(mark),
        [
            "accounts/listpackages",
            "accounts/wwwacct",
            "accounts/changeuseremail"
        ]
    );
    assert_eq!(
        sp.last_body("accounts/wwwacct"),
        "token=provided_auth_token&action=accounts%2Fwwwacct&username=alice\
         &domain=alice.example&password=first-password-1&package=basic"
    );
    assert_eq!(
        sp.last_body("accounts/changeuseremail"),
        "token=provided_auth_token&action=accounts%2Fchangeuseremail&username=alice\
         &email=alice%40mail.example"
    );
    let alice = sp.sim.account("alice").expect("alice on the panel");
    assert_eq!(alice.domain, "alice.example");
    assert_eq!(alice.email, "alice@mail.example");
    assert_eq!(alice.password, "first-password-1");
    assert_eq!(alice.package, "basic");
    assert!(!alice.suspended);
    assert_eq!(
        (
            alice.quota_mb,
            alice.inodes_limit,
            alice.domains_limit,
            alice.emails_limit,
            alice.databases_limit
        ),
        (Some(1024), Some(100_000), Some(1), Some(10), Some(5)),
        "basic's limits"
    );
    assert_eq!(
        created,
        Account {
            username: "alice".into(),
            server_id: sp.id.clone(),
            primary_domain: "alice.example".into(),
            email: "alice@mail.example".into(),
            package: "basic".into(),
            status: AccountStatus::Active.into(),
            ..Default::default()
        }
    );

    let mark = sp.mark();
    sp.create("bob", "pro").await;
    assert_eq!(
        sp.actions_since(mark),
        ["accounts/wwwacct", "accounts/changeuseremail"],
        "the package list is cached"
    );
    assert_eq!(sp.sim.account("bob").expect("bob").quota_mb, None);
}

/// When `changeuseremail` fails after `wwwacct`, the account is terminated
/// again and the failure reported: no account without its email is left.
/// When the termination fails too, the error says the account remains,
/// without its email, and the panel shows exactly that.
async fn create_account_never_leaves_a_silent_half_account(sp: Sp) {
    sp.list_packages().await;
    sp.sim.fail_next(
        "accounts/changeuseremail",
        &["The mail server is not responding"],
    );
    let mark = sp.mark();
    let failed = sp.try_create("carl", "basic").await;
    sp.assert_said(
        failed,
        Code::Internal,
        "UPSTREAM_OPERATION_FAILED",
        "The mail server is not responding",
    );
    assert_eq!(
        sp.actions_since(mark),
        [
            "accounts/wwwacct",
            "accounts/changeuseremail",
            "accounts/terminateaccount"
        ]
    );
    assert_eq!(sp.sim.account("carl"), None, "carl was removed again");

    sp.sim.fail_next(
        "accounts/changeuseremail",
        &["The mail server is not responding"],
    );
    sp.sim.fail_next(
        "accounts/terminateaccount",
        &["The termination queue is full"],
    );
    let failed = sp.try_create("dora", "basic").await;
    sp.assert_said(
        failed,
        Code::Internal,
        "UPSTREAM_OPERATION_FAILED",
        "the panel failed: The mail server is not responding; the account `dora` was \
         created without its email and could not be removed (the panel failed: The \
         termination queue is full)",
    );
    let dora = sp.sim.account("dora").expect("dora remains, as said");
    assert_eq!(dora.email, "", "without its email, as said");
}

/// GetAccount is `accounts/listaccounts` with `accountuser`, ListAccounts the
/// same without it; both read the rows (no email: listaccounts has none). An
/// unknown account is NOT_FOUND.
async fn get_and_list_accounts_read_listaccounts(sp: Sp) {
    sp.create("alice", "basic").await;
    sp.create("bob", "pro").await;

    let bob = sp.get_account("bob").await.expect("get bob");
    assert_eq!(
        sp.last_body("accounts/listaccounts"),
        "token=provided_auth_token&action=accounts%2Flistaccounts&accountuser=bob"
    );
    assert_eq!(
        bob,
        Account {
            username: "bob".into(),
            server_id: sp.id.clone(),
            primary_domain: "bob.example".into(),
            package: "pro".into(),
            status: AccountStatus::Active.into(),
            ..Default::default()
        }
    );
    let by_server_id = sp.get_account_by_id("bob").await;
    assert_eq!(by_server_id.expect("get bob by server id"), bob);

    let listed: Vec<_> = sp
        .list_accounts()
        .await
        .into_iter()
        .map(|account| {
            assert_eq!(account.server_id, sp.id);
            (account.username, account.primary_domain, account.package)
        })
        .collect();
    assert_eq!(
        sp.last_body("accounts/listaccounts"),
        "token=provided_auth_token&action=accounts%2Flistaccounts"
    );
    assert_eq!(
        listed,
        [
            (
                "alice".to_owned(),
                "alice.example".to_owned(),
                "basic".to_owned()
            ),
            ("bob".to_owned(), "bob.example".to_owned(), "pro".to_owned()),
        ]
    );

    let missing = sp.get_account("ghost").await;
    sp.assert_panel_error(missing, Code::NotFound, "ACCOUNT_NOT_FOUND");
}

/// GetAccountUsage reads listaccounts' numbers-as-strings: disk MB → bytes,
/// "Unlimited" → a limit without max, "0" → a max of 0 (disabled), the domain
/// limit and count plus one for the primary domain. The simulator's usage is
/// 2 MB + 1 per domain and per database, 150 inodes + 50 per domain + 10 per
/// database (its reading 17).
async fn account_usage_reads_numbers_as_strings(sp: Sp) {
    sp.create("alice", "basic").await;
    assert!(sp.sim.add_addon_domain("alice", "alice-shop.example"));
    sp.add_domain("alice", "blog.alice.example", "")
        .await
        .expect("add a subdomain");
    sp.create_database("alice", "shop", "shopuser")
        .await
        .expect("create a database");
    // Main, addon and subdomain: 3 domains; 1 database.
    assert_eq!(
        sp.usage("alice").await,
        AccountUsage {
            disk_bytes: used(6 * MIB, limit(1024 * MIB)),
            inodes: used(310, limit(100_000)),
            domains: used(2, limit(2)),
            email_accounts: used(0, limit(10)),
            databases: used(1, limit(5)),
            ftp_accounts: used(0, None),
            ..Default::default()
        }
    );
    assert_eq!(
        sp.last_body("accounts/listaccounts"),
        "token=provided_auth_token&action=accounts%2Flistaccounts&accountuser=alice"
    );

    sp.create("lena", "lean").await;
    assert_eq!(
        sp.usage("lena").await,
        AccountUsage {
            disk_bytes: used(3 * MIB, unlimited()),
            inodes: used(200, unlimited()),
            domains: used(1, limit(1)),
            email_accounts: used(0, limit(0)),
            databases: used(0, limit(0)),
            ftp_accounts: used(0, None),
            ..Default::default()
        }
    );
}

/// UpdateAccount sets the email with `accounts/changeuseremail` and the main
/// domain with `accounts/changedomain`, in one call; owner names SPanel does
/// not keep are INVALID_ARGUMENT without any panel call.
async fn update_account_changes_email_and_main_domain(sp: Sp) {
    sp.create("alice", "basic").await;
    let mark = sp.mark();
    sp.update(UpdateAccountRequest {
        username: "alice".into(),
        email: Some("alice@new-mail.example".into()),
        primary_domain: Some("alice-new.example".into()),
        ..Default::default()
    })
    .await
    .expect("update alice");
    assert_eq!(
        sp.actions_since(mark),
        ["accounts/changeuseremail", "accounts/changedomain"]
    );
    assert_eq!(
        sp.last_body("accounts/changedomain"),
        "token=provided_auth_token&action=accounts%2Fchangedomain&username=alice\
         &domain=alice-new.example"
    );
    let alice = sp.sim.account("alice").expect("alice");
    assert_eq!(alice.email, "alice@new-mail.example");
    assert_eq!(alice.domain, "alice-new.example");
    assert_eq!(
        sp.get_account("alice")
            .await
            .expect("get alice")
            .primary_domain,
        "alice-new.example"
    );

    for (field, update) in [
        (
            "first_name",
            UpdateAccountRequest {
                username: "alice".into(),
                first_name: Some("Alice".into()),
                ..Default::default()
            },
        ),
        (
            "last_name",
            UpdateAccountRequest {
                username: "alice".into(),
                last_name: Some("Liddell".into()),
                email: Some("alice@other.example".into()),
                ..Default::default()
            },
        ),
    ] {
        let before = sp.requests();
        let refused = sp.update(update).await;
        assert_invalid(refused, field);
        assert_eq!(sp.requests(), before, "{field}: no panel call");
    }
    assert_eq!(
        sp.sim.account("alice").expect("alice").email,
        "alice@new-mail.example",
        "unchanged"
    );
}

/// ChangePassword is `accounts/changeuserpassword`; a password with spaces and
/// `&`, `=`, `$` is urlencoded as PHP does and arrives intact.
async fn change_password_is_changeuserpassword(sp: Sp) {
    sp.create("pat", "basic").await;
    let changed = sp.change_password("pat", "n3w pa$$&word=ok").await;
    changed.expect("change password");
    assert_eq!(
        sp.last_body("accounts/changeuserpassword"),
        "token=provided_auth_token&action=accounts%2Fchangeuserpassword&username=pat\
         &password=n3w+pa%24%24%26word%3Dok"
    );
    let pat = sp.sim.account("pat").expect("pat");
    assert_eq!(pat.password, "n3w pa$$&word=ok");
    assert!(!pat.suspended);
}

/// ChangePackage is `accounts/changequota` with `package`: the account takes
/// the package and its limits, and GetAccount reads it back.
async fn change_package_is_changequota(sp: Sp) {
    sp.create("pat", "basic").await;
    sp.change_package("pat", "lean")
        .await
        .expect("change package");
    assert_eq!(
        sp.last_body("accounts/changequota"),
        "token=provided_auth_token&action=accounts%2Fchangequota&username=pat&package=lean"
    );
    let pat = sp.sim.account("pat").expect("pat");
    assert_eq!(pat.package, "lean");
    assert_eq!(
        (pat.quota_mb, pat.domains_limit, pat.databases_limit),
        (None, Some(0), Some(0)),
        "lean's limits"
    );
    assert_eq!(
        sp.get_account("pat").await.expect("get pat").package,
        "lean"
    );
}

/// SuspendAccount is `accounts/suspendaccount` with the reason, which the
/// panel keeps; GetAccount and ListAccounts read SUSPENDED. Without a reason
/// none is sent. UnsuspendAccount clears both.
async fn suspend_with_a_reason_and_unsuspend(sp: Sp) {
    sp.create("sue", "basic").await;
    sp.suspend_because("sue", "unpaid invoice #42")
        .await
        .expect("suspend sue");
    assert_eq!(
        sp.last_body("accounts/suspendaccount"),
        "token=provided_auth_token&action=accounts%2Fsuspendaccount&username=sue\
         &reason=unpaid+invoice+%2342"
    );
    let sue = sp.sim.account("sue").expect("sue");
    assert!(sue.suspended);
    assert_eq!(sue.suspend_reason.as_deref(), Some("unpaid invoice #42"));
    assert_eq!(
        sp.get_account("sue").await.expect("get sue").status(),
        AccountStatus::Suspended
    );
    assert_eq!(
        sp.list_accounts().await[0].status(),
        AccountStatus::Suspended
    );

    sp.unsuspend("sue").await.expect("unsuspend sue");
    assert_eq!(
        sp.last_body("accounts/unsuspendaccount"),
        "token=provided_auth_token&action=accounts%2Funsuspendaccount&username=sue"
    );
    let sue = sp.sim.account("sue").expect("sue");
    assert!(!sue.suspended);
    assert_eq!(sue.suspend_reason, None);
    assert_eq!(
        sp.get_account("sue").await.expect("get sue").status(),
        AccountStatus::Active
    );

    sp.suspend_because("sue", "")
        .await
        .expect("suspend without reason");
    assert_eq!(
        sp.last_body("accounts/suspendaccount"),
        "token=provided_auth_token&action=accounts%2Fsuspendaccount&username=sue"
    );
    let sue = sp.sim.account("sue").expect("sue");
    assert!(sue.suspended);
    assert_eq!(sue.suspend_reason, None);
}

/// DeleteAccount is `accounts/terminateaccount`: the account goes with its
/// subdomains (the name is free again); deleting it again is the panel's
/// NOT_FOUND.
async fn delete_account_is_terminateaccount(sp: Sp) {
    sp.create("dee", "basic").await;
    sp.add_domain("dee", "blog.dee.example", "")
        .await
        .expect("add a subdomain");
    sp.delete("dee").await.expect("delete dee");
    assert_eq!(
        sp.last_body("accounts/terminateaccount"),
        "token=provided_auth_token&action=accounts%2Fterminateaccount&username=dee"
    );
    assert_eq!(sp.sim.account("dee"), None);

    let again = sp.delete("dee").await;
    sp.assert_said(
        again,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
        "The account dee does not exist",
    );
    // Its domains went with it: the name can be used again.
    sp.create("dee", "basic").await;
    assert!(sp.sim.account("dee").expect("dee").subdomains.is_empty());
}

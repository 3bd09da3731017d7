//! Domains (`domain/addsubdomain`, `removedomain`) and databases
//! (`createmysqluser`, then `createmysqldatabase`).

use panelgate_proto::v1::{Database, Domain, DomainStatus};
use panelgate_sim::SimSpanelPackage;
use panelgate_tests::{PanelFixture, errors::assert_invalid};
use tonic::Code;

use crate::{Sp, config};

panelgate_tests::panel_tests!(Sp with config();
    add_domain_adds_a_subdomain, delete_domain_with_and_without_the_owner,
    domain_calls_on_an_unknown_account_are_not_found,
    create_database_is_a_user_then_a_database, create_database_stops_when_its_user_is_refused);

/// AddDomain adds a subdomain (`domain/addsubdomain` as a user function, with
/// `accountuser`), under the account's main domain, in the folder asked for.
/// A name that is no subdomain is INVALID_ARGUMENT `domain` without any panel
/// call: SPanel's API cannot add addon domains.
async fn add_domain_adds_a_subdomain(sp: Sp) {
    sp.create("alice", "basic").await;
    let added = sp
        .add_domain("alice", "blog.alice.example", "public_html/blog")
        .await
        .expect("add blog.alice.example");
    assert_eq!(
        sp.last_body("domain/addsubdomain"),
        "token=provided_auth_token&action=domain%2Faddsubdomain&accountuser=alice\
         &domain=alice.example&subdomain=blog&path=public_html%2Fblog"
    );
    assert_eq!(
        added,
        Domain {
            name: "blog.alice.example".into(),
            username: "alice".into(),
            document_root: "public_html/blog".into(),
            status: DomainStatus::Active.into(),
            panel_domain_id: String::new(),
        }
    );
    assert_eq!(
        sp.sim.account("alice").expect("alice").subdomains,
        ["blog.alice.example"]
    );

    let before = sp.requests();
    let refused = sp.add_domain("alice", "alice-shop.com", "").await;
    assert_invalid(refused, "domain");
    assert_eq!(sp.requests(), before, "no panel call");
    assert_eq!(
        sp.sim.account("alice").expect("alice").domains,
        ["alice.example"]
    );
}

/// DeleteDomain is `domain/removedomain` for the owning account: named by the
/// caller, or found as the account whose main domain holds the domain (one
/// listaccounts first). An addon domain outside every main domain needs the
/// owner named (INVALID_ARGUMENT `username`); the main domain itself is the
/// panel's FAILED_PRECONDITION, and stays.
async fn delete_domain_with_and_without_the_owner(sp: Sp) {
    sp.create("alice", "basic").await;
    assert!(sp.sim.add_addon_domain("alice", "alice-shop.example"));
    for name in ["blog.alice.example", "shop.alice.example"] {
        sp.add_domain("alice", name, "")
            .await
            .unwrap_or_else(|status| panic!("add {name}: {status:?}"));
    }

    sp.delete_domain("blog.alice.example", "alice")
        .await
        .expect("delete blog with its owner");
    assert_eq!(
        sp.last_body("domain/removedomain"),
        "token=provided_auth_token&action=domain%2Fremovedomain&accountuser=alice\
         &domain=blog.alice.example"
    );
    assert_eq!(
        sp.sim.account("alice").expect("alice").subdomains,
        ["shop.alice.example"]
    );

    let mark = sp.mark();
    sp.delete_domain("shop.alice.example", "")
        .await
        .expect("delete shop, owner found");
    assert_eq!(
        sp.actions_since(mark),
        ["accounts/listaccounts", "domain/removedomain"]
    );
    assert!(
        sp.last_body("domain/removedomain")
            .contains("&accountuser=alice&")
    );
    assert!(
        sp.sim
            .account("alice")
            .expect("alice")
            .subdomains
            .is_empty()
    );

    let unowned = sp.delete_domain("alice-shop.example", "").await;
    assert_invalid(unowned, "username");
    sp.delete_domain("alice-shop.example", "alice")
        .await
        .expect("delete the addon domain with its owner");
    assert_eq!(
        sp.sim.account("alice").expect("alice").domains,
        ["alice.example"]
    );

    for owner in ["alice", ""] {
        let main = sp.delete_domain("alice.example", owner).await;
        sp.assert_said(
            main,
            Code::FailedPrecondition,
            "PANEL_REFUSED",
            "The main domain alice.example cannot be removed",
        );
    }
    assert_eq!(
        sp.sim.account("alice").expect("alice").domain,
        "alice.example"
    );
}

/// AddDomain and DeleteDomain naming an account the panel does not have
/// are NOT_FOUND `ACCOUNT_NOT_FOUND` (the panel's "The account … does not
/// exist" for a user function), and nothing is added.
async fn domain_calls_on_an_unknown_account_are_not_found(sp: Sp) {
    let before = sp.state();
    let added = sp.add_domain("nobody", "blog.nobody.example", "").await;
    sp.assert_panel_error(added, Code::NotFound, "ACCOUNT_NOT_FOUND");
    let deleted = sp.delete_domain("blog.nobody.example", "nobody").await;
    sp.assert_panel_error(deleted, Code::NotFound, "ACCOUNT_NOT_FOUND");
    assert_eq!(sp.state(), before, "the panel is as it was");
}

/// CreateDatabase is `mysql/createmysqluser` then `mysql/createmysqldatabase`
/// (user functions, with `accountuser`): the panel holds `<account>_<user>`
/// and `<account>_<db>` with that user assigned; the reply names them as
/// requested.
async fn create_database_is_a_user_then_a_database(sp: Sp) {
    sp.create("alice", "basic").await;
    let mark = sp.mark();
    let created = sp
        .create_database("alice", "shop", "shopuser")
        .await
        .expect("create a database");
    assert_eq!(
        sp.actions_since(mark),
        ["mysql/createmysqluser", "mysql/createmysqldatabase"]
    );
    assert_eq!(
        sp.last_body("mysql/createmysqluser"),
        "token=provided_auth_token&action=mysql%2Fcreatemysqluser&accountuser=alice\
         &username=shopuser&password=db-password-1"
    );
    assert_eq!(
        sp.last_body("mysql/createmysqldatabase"),
        "token=provided_auth_token&action=mysql%2Fcreatemysqldatabase&accountuser=alice\
         &database=shop&username=shopuser"
    );
    let alice = sp.sim.account("alice").expect("alice");
    assert_eq!(alice.db_users, ["alice_shopuser"]);
    assert_eq!(
        alice.databases,
        [("alice_shop".to_owned(), vec!["alice_shopuser".to_owned()])]
    );
    assert_eq!(
        created,
        Database {
            name: "shop".into(),
            user: "shopuser".into(),
            username: "alice".into(),
        }
    );
}

/// When `createmysqldatabase` fails after `createmysqluser` succeeded (a panel
/// failure, the package's database limit, or its maximum reached), the error
/// says precisely that the database user remains, and the panel shows the
/// user without a database: never a silent half result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_database_says_when_its_user_remains() {
    let mut config = config();
    config.packages.push(SimSpanelPackage {
        databases: Some(1),
        ..SimSpanelPackage::unlimited("single")
    });
    Sp::run_with(config, |sp| async move {
        // The note names the user as the panel named it (with the account's prefix).
        let remains = |panel_user: &str| {
            format!(
                "the database user `{panel_user}` created just before remains on the panel \
                 (SPanel's API cannot delete it)"
            )
        };

        sp.create("alice", "basic").await;
        sp.sim.fail_next(
            "mysql/createmysqldatabase",
            &["Database server connection failed"],
        );
        let failed = sp.create_database("alice", "shop", "shopuser").await;
        sp.assert_said(
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            &format!(
                "Database server connection failed; {}",
                remains("alice_shopuser")
            ),
        );
        let alice = sp.sim.account("alice").expect("alice");
        assert_eq!(alice.db_users, ["alice_shopuser"], "the user remains");
        assert!(alice.databases.is_empty(), "without a database");

        sp.create("lena", "lean").await;
        let disabled = sp.create_database("lena", "shop", "shopuser").await;
        sp.assert_said(
            disabled,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            &format!(
                "Database creation is disabled for this account; {}",
                remains("lena_shopuser")
            ),
        );
        let lena = sp.sim.account("lena").expect("lena");
        assert_eq!(lena.db_users, ["lena_shopuser"], "the user remains");
        assert!(lena.databases.is_empty(), "without a database");

        sp.create("sam", "single").await;
        sp.create_database("sam", "first", "firstuser")
            .await
            .expect("the one database sam may have");
        let full = sp.create_database("sam", "second", "seconduser").await;
        sp.assert_said(
            full,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            &format!(
                "You have reached the maximum number of databases (1); {}",
                remains("sam_seconduser")
            ),
        );
        let sam = sp.sim.account("sam").expect("sam");
        assert_eq!(sam.db_users, ["sam_firstuser", "sam_seconduser"]);
        assert_eq!(sam.databases.len(), 1);
    })
    .await;
}

/// When the first step fails (the database user exists already), no database
/// is attempted, and the error is about the database user, not the account.
async fn create_database_stops_when_its_user_is_refused(sp: Sp) {
    sp.create("alice", "basic").await;
    sp.create_database("alice", "shop", "shopuser")
        .await
        .expect("create a database");
    let mark = sp.mark();
    let taken = sp.create_database("alice", "blog", "shopuser").await;
    sp.assert_said(
        taken,
        Code::AlreadyExists,
        "DATABASE_USER_ALREADY_EXISTS",
        "The username alice_shopuser already exists",
    );
    assert_eq!(sp.actions_since(mark), ["mysql/createmysqluser"]);
    assert_eq!(sp.sim.account("alice").expect("alice").databases.len(), 1);
}

//! validate_only: a dry run (`dryrun=all`) that changes nothing, and the
//! panel's errfield named when it refuses one.

use crate::{
    DOC_USER, Ia, Installatron, SFTP_PATH, assert_refused, body_json, calls, consulted, database,
    example::{doc_account, doc_user_stored, doc_websites},
    site, with_websites,
};
use panelgate_proto::v1::{
    AddDomainRequest, CreateAccountRequest, CreateDatabaseRequest, GetAccountRequest,
    InstallatronWebsite, UpdateAccountRequest, Validation,
};

panelgate_tests::panel_tests!(Ia:
    validate_only_is_a_dry_run_that_changes_nothing, refused_dry_runs_name_the_panels_errfield);

/// Asserts the requests after `mark` were reads and the one dry-run change,
/// `METHOD path` as expected, asking `dryrun=all` (in the JSON body of a
/// POST, in the query of a DELETE); that the call answered that the panel was
/// consulted; and that the doc's user is still `before`, byte for byte, with
/// `users` users on the panel.
#[track_caller]
fn assert_dry_run(
    ia: &Ia,
    mark: usize,
    change: &str,
    validation: Option<Validation>,
    before: &str,
    users: usize,
) {
    assert_eq!(validation, consulted(), "{change}");
    let requests = ia.since(mark);
    let (last, reads) = requests.split_last().expect("requests reached the panel");
    assert!(
        reads.iter().all(|request| request.method == "GET"),
        "{change}: only reads before the dry run: {:?}",
        calls(&requests)
    );
    assert_eq!(format!("{} {}", last.method, last.path), change);
    if last.method == "POST" {
        assert_eq!(body_json(last)["dryrun"], "all", "{change}");
    } else {
        assert!(last.path.ends_with("?dryrun=all"), "{change}");
    }
    assert_eq!(
        ia.snapshot(DOC_USER),
        before,
        "{change}: the user is unchanged"
    );
    assert_eq!(
        ia.sim.user_count(),
        users,
        "{change}: no user added or removed"
    );
}

/// Every validate_only mutation Installatron has — CreateAccount,
/// UpdateAccount, SuspendAccount, UnsuspendAccount, ChangePackage,
/// DeleteAccount, AddDomain, DeleteDomain, CreateDatabase — reaches the panel
/// as its real change with `dryrun=all`, answers `panel_consulted = true` and
/// nothing else, and leaves the stored user byte for byte as it was (the
/// panel answers a clean dry run with `result` false and errcode
/// `complete_dryrun`, which is a success).
async fn validate_only_is_a_dry_run_that_changes_nothing(ia: Ia) {
    ia.create_doc_user().await;
    let before = ia.snapshot(DOC_USER);
    let users = ia.sim.user_count();

    let mark = ia.mark();
    let reply = ia
        .create_account_reply(CreateAccountRequest {
            validate_only: true,
            ..with_websites("newbie", doc_websites())
        })
        .await
        .expect("dry-run CreateAccount");
    assert_eq!(reply.account, None);
    assert_dry_run(&ia, mark, "POST /users", reply.validation, &before, users);
    assert_eq!(ia.sim.user("newbie"), None);

    let mark = ia.mark();
    let reply = ia
        .update_reply(UpdateAccountRequest {
            username: DOC_USER.to_owned(),
            email: Some("new@mail.example".to_owned()),
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect("dry-run UpdateAccount");
    let path = "POST /users/useraccountname";
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);

    let mark = ia.mark();
    let reply = ia
        .suspend_reply(DOC_USER, true)
        .await
        .expect("dry-run suspend");
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);
    assert_eq!(body_json(&ia.since(mark)[1])["suspended"], true);

    let mark = ia.mark();
    let reply = ia
        .unsuspend_reply(DOC_USER, true)
        .await
        .expect("dry-run unsuspend");
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);

    let mark = ia.mark();
    let reply = ia
        .change_package_reply(DOC_USER, "silver", true)
        .await
        .expect("dry-run ChangePackage");
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);
    assert_eq!(body_json(&ia.since(mark)[1])["package"], "silver");

    let mark = ia.mark();
    let reply = ia
        .add_domain_reply(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "shop.example".to_owned(),
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect("dry-run AddDomain");
    assert_eq!(reply.domain, None);
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);

    let mark = ia.mark();
    let reply = ia
        .delete_domain_reply("subdomain.website.com", DOC_USER, true)
        .await
        .expect("dry-run DeleteDomain");
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);

    let mark = ia.mark();
    let reply = ia
        .create_database_reply(CreateDatabaseRequest {
            username: DOC_USER.to_owned(),
            database_name: "useraccountname_shop".to_owned(),
            database_user: "useraccountname_shop".to_owned(),
            database_password: "shop-db-pass".to_owned(),
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect("dry-run CreateDatabase");
    assert_eq!(reply.database, None);
    assert_dry_run(&ia, mark, path, reply.validation, &before, users);

    let mark = ia.mark();
    let reply = ia
        .delete_reply(DOC_USER, true)
        .await
        .expect("dry-run DeleteAccount");
    let delete = "DELETE /users/useraccountname?dryrun=all";
    assert_dry_run(&ia, mark, delete, reply.validation, &before, users);

    // Still all there, and still reachable through the account index.
    assert_eq!(ia.user(DOC_USER), doc_user_stored());
    let got = ia
        .gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: None,
            username: DOC_USER.to_owned(),
        })
        .await
        .expect("the indexed account");
    assert_eq!(got.into_inner().account, Some(doc_account(&ia.id)));
}

/// A dry run the panel refuses is the panel's error, its errfield the
/// BadRequest field as a canonical path: an unreachable database host or
/// website host (only a dry run tests connections: the same CreateAccount
/// without validate_only is recorded), a local path without its uid. Nothing
/// is stored, and the host's credentials are never quoted.
async fn refused_dry_runs_name_the_panels_errfield(ia: Ia) {
    let dry = |request: CreateAccountRequest| CreateAccountRequest {
        validate_only: true,
        ..request
    };

    let mut far = site(SFTP_PATH, "far.example");
    far.databases = vec![database("db.unreachable.invalid:3306", "fardb", "far-pass")];
    let websites = vec![site(SFTP_PATH, "near.example"), far];
    let refused = ia
        .create_account_reply(dry(with_websites("far", websites.clone())))
        .await;
    assert_refused(
        &ia,
        refused,
        "panel_options.installatron.websites[1].databases[0].host",
        "failed_database_host: Unable to connect to the database server db.unreachable.invalid:3306.",
    );
    assert_eq!(ia.sim.user_count(), 0);
    ia.create_account(with_websites("far", websites))
        .await
        .expect("a real call tests no connection");
    assert!(ia.sim.user("far").is_some());

    let hidden = site(
        "sftp://ftpuser:hidden-ftp-pass@files.unreachable.invalid/home",
        "hidden.example",
    );
    let refused = ia
        .create_account_reply(dry(with_websites("hidden", vec![hidden])))
        .await;
    let status = assert_refused(
        &ia,
        refused,
        "panel_options.installatron.websites[0].path",
        "failed_filesystem_host: Unable to reach the remote host files.unreachable.invalid.",
    );
    assert!(
        !format!("{status:?}").contains("hidden-ftp-pass"),
        "the path's password is never quoted: {status:?}"
    );

    let local = InstallatronWebsite {
        path: "/home/local".to_owned(),
        ..site("", "local.example")
    };
    let refused = ia
        .create_account_reply(dry(with_websites("local", vec![local])))
        .await;
    assert_refused(
        &ia,
        refused,
        "panel_options.installatron.websites[0].uid",
        "empty_argument_uid: The websites[0][uid] argument is required.",
    );

    let refused = ia
        .update_reply(UpdateAccountRequest {
            username: "far".to_owned(),
            email: Some("two@at@mail.example".to_owned()),
            validate_only: true,
            ..Default::default()
        })
        .await;
    assert_refused(
        &ia,
        refused,
        "email",
        "invalid_argument_email: The email argument is invalid: not an email address.",
    );
    assert_eq!(ia.sim.user_count(), 1, "only `far` was ever stored");
    assert_eq!(ia.user("far")["email"], "far@mail.example");
}

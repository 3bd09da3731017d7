//! Every other user endpoint through its canonical RPC: paged lists, reads,
//! updates, suspension and packages, deletion, and the GUI login link.

use crate::{
    DOC_USER, Ia, Installatron, body_json, calls,
    example::{doc_account, doc_user_stored},
    new_account,
};
use panelgate_proto::v1::{AccountStatus, UpdateAccountRequest};
use panelgate_tests::errors::assert_invalid;
use serde_json::json;
use tonic::Code;

panelgate_tests::panel_tests!(Ia:
    list_accounts_pages_with_offset_limit_and_total_count,
    get_account_reads_the_user_or_is_not_found, update_account_sets_the_email_and_refuses_the_rest,
    suspend_unsuspend_and_change_package_set_the_users_fields, delete_account_forgets_the_user,
    login_link_is_the_panels_gui_url);

/// ListAccounts pages with `offset` and `limit` and reads `total_count`: 5
/// users by pages of 2 are 3 pages, in creation order, none twice, the last
/// without a next token.
async fn list_accounts_pages_with_offset_limit_and_total_count(ia: Ia) {
    let names = ["alpha", "bravo", "charlie", "delta", "echo"];
    for name in names {
        ia.create_account(new_account(name))
            .await
            .expect("create a user");
    }
    let mark = ia.mark();
    let mut listed = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = ia.accounts_page(2, &token).await;
        pages += 1;
        assert!(page.accounts.len() <= 2, "{page:?}");
        assert!(
            page.accounts
                .iter()
                .all(|account| account.server_id == ia.id),
            "{page:?}"
        );
        listed.extend(page.accounts.into_iter().map(|account| account.username));
        token = page.next_page_token;
        if token.is_empty() || pages > 5 {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(listed, names);
    assert_eq!(
        ia.calls_since(mark),
        [
            "GET /users?offset=0&limit=2",
            "GET /users?offset=2&limit=2",
            "GET /users?offset=4&limit=2"
        ]
    );
}

/// GetAccount reads `GET /users/{id}`; a user the panel lacks is NOT_FOUND
/// ACCOUNT_NOT_FOUND with the panel's errcode and words.
async fn get_account_reads_the_user_or_is_not_found(ia: Ia) {
    ia.create_doc_user().await;
    let mark = ia.mark();
    let got = ia.get_account(DOC_USER).await.expect("get the doc's user");
    assert_eq!(got, doc_account(&ia.id));
    assert_eq!(ia.calls_since(mark), ["GET /users/useraccountname"]);

    let mark = ia.mark();
    let missing = ia.get_account("ghost").await;
    ia.assert_said(missing,
        Code::NotFound,
        "ACCOUNT_NOT_FOUND",
        "user_not_found: The specified user could not be found in the Installatron Server database.",
    );
    assert_eq!(ia.calls_since(mark), ["GET /users/ghost"]);
}

/// UpdateAccount sets the email with `POST /users/{id}` (`{"email": ...}`
/// only); first and last names and the primary domain, which Installatron
/// does not record, are INVALID_ARGUMENT before any panel call, even with an
/// email beside them.
async fn update_account_sets_the_email_and_refuses_the_rest(ia: Ia) {
    ia.create_doc_user().await;
    let mark = ia.mark();
    let reply = ia
        .update_reply(UpdateAccountRequest {
            username: DOC_USER.to_owned(),
            email: Some("new@mail.example".to_owned()),
            ..Default::default()
        })
        .await
        .expect("update the email");
    assert_eq!(reply.validation, None);
    let requests = ia.since(mark);
    assert_eq!(
        calls(&requests),
        ["GET /users/useraccountname", "POST /users/useraccountname"],
        "the user is looked up first: POST /users/{{id}} would create a missing one"
    );
    assert_eq!(
        body_json(&requests[1]),
        json!({"email": "new@mail.example"})
    );
    let mut expected = doc_user_stored();
    expected["email"] = json!("new@mail.example");
    assert_eq!(ia.user(DOC_USER), expected, "only the email changed");

    let before = ia.snapshot(DOC_USER);
    let requests = ia.sim.request_count();
    let name = || Some("Ada".to_owned());
    let cases = [
        (
            "first_name",
            UpdateAccountRequest {
                first_name: name(),
                ..Default::default()
            },
        ),
        (
            "last_name",
            UpdateAccountRequest {
                last_name: name(),
                ..Default::default()
            },
        ),
        (
            "primary_domain",
            UpdateAccountRequest {
                primary_domain: Some("moved.example".to_owned()),
                ..Default::default()
            },
        ),
    ];
    for (field, request) in cases {
        let refused = ia
            .update_reply(UpdateAccountRequest {
                username: DOC_USER.to_owned(),
                email: Some("other@mail.example".to_owned()),
                ..request
            })
            .await;
        assert_invalid(refused, field);
    }
    assert_eq!(ia.sim.request_count(), requests, "no panel call");
    assert_eq!(ia.snapshot(DOC_USER), before);
}

/// SuspendAccount and UnsuspendAccount set the user's `suspended` flag
/// (`POST /users/{id}` with only that), read back as the account's status;
/// ChangePackage sets the free-text package label.
async fn suspend_unsuspend_and_change_package_set_the_users_fields(ia: Ia) {
    ia.create_doc_user().await;

    let mark = ia.mark();
    ia.suspend_reply(DOC_USER, false).await.expect("suspend");
    let requests = ia.since(mark);
    assert_eq!(
        calls(&requests),
        ["GET /users/useraccountname", "POST /users/useraccountname"],
        "the user is looked up first: POST /users/{{id}} would create a missing one"
    );
    assert_eq!(body_json(&requests[1]), json!({"suspended": true}));
    let mut expected = doc_user_stored();
    expected["suspended"] = json!(true);
    assert_eq!(ia.user(DOC_USER), expected, "only the flag changed");
    let got = ia.get_account(DOC_USER).await.expect("get");
    assert_eq!(got.status(), AccountStatus::Suspended);

    let mark = ia.mark();
    ia.unsuspend_reply(DOC_USER, false)
        .await
        .expect("unsuspend");
    assert_eq!(body_json(&ia.since(mark)[1]), json!({"suspended": false}));
    assert_eq!(ia.user(DOC_USER), doc_user_stored());
    let got = ia.get_account(DOC_USER).await.expect("get");
    assert_eq!(got.status(), AccountStatus::Active);

    let mark = ia.mark();
    let reply = ia
        .change_package_reply(DOC_USER, "Silver Plus", false)
        .await
        .expect("change package");
    assert_eq!(reply.validation, None);
    let requests = ia.since(mark);
    assert_eq!(
        calls(&requests),
        ["GET /users/useraccountname", "POST /users/useraccountname"],
        "the user is looked up first: POST /users/{{id}} would create a missing one"
    );
    assert_eq!(body_json(&requests[1]), json!({"package": "Silver Plus"}));
    assert_eq!(ia.user(DOC_USER)["package"], "Silver Plus");
    let got = ia.get_account(DOC_USER).await.expect("get");
    assert_eq!(got.package, "Silver Plus");
}

/// DeleteAccount forgets the user (`DELETE /users/{id}`); GetAccount is then
/// NOT_FOUND, a second delete NOT_FOUND, and the username can be created
/// again.
async fn delete_account_forgets_the_user(ia: Ia) {
    ia.create_doc_user().await;
    ia.create_account(new_account("other"))
        .await
        .expect("create other");
    let other = ia.snapshot("other");

    let mark = ia.mark();
    let reply = ia.delete_reply(DOC_USER, false).await.expect("delete");
    assert_eq!(reply.validation, None);
    assert_eq!(ia.calls_since(mark), ["DELETE /users/useraccountname"]);
    assert_eq!(ia.sim.user(DOC_USER), None);
    assert_eq!(ia.sim.user_count(), 1);
    assert_eq!(ia.snapshot("other"), other);

    let got = ia.get_account(DOC_USER).await;
    ia.assert_panel_error(got, Code::NotFound, "ACCOUNT_NOT_FOUND");
    let again = ia.delete_reply(DOC_USER, false).await;
    ia.assert_panel_error(again, Code::NotFound, "ACCOUNT_NOT_FOUND");

    ia.create_doc_user().await;
    assert_eq!(ia.user(DOC_USER), doc_user_stored());
}

/// CreateLoginLink answers the GUI URL of a new panel session
/// (`POST /users/{id}/login`): on the panel's own host, a new 22-character
/// session each time. A user the panel lacks is NOT_FOUND.
async fn login_link_is_the_panels_gui_url(ia: Ia) {
    ia.create_doc_user().await;
    let mark = ia.mark();
    let first = ia.login_link(DOC_USER).await.expect("a login link");
    let requests = ia.since(mark);
    assert_eq!(calls(&requests), ["POST /users/useraccountname/login"]);
    let session = first
        .strip_prefix(&ia.sim.base_url())
        .unwrap_or_else(|| panic!("{first} is on the panel's host"));
    assert_eq!(session.len(), 22, "{first}");
    assert!(
        session
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
        "{first}"
    );
    let second = ia.login_link(DOC_USER).await.expect("another login link");
    assert_ne!(first, second, "a new session each time");

    let missing = ia.login_link("ghost").await;
    ia.assert_panel_error(missing, Code::NotFound, "ACCOUNT_NOT_FOUND");
}

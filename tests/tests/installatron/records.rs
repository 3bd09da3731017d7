//! CreateAccount's records: the source doc's example round trip, a user
//! without websites, the language and parent options, no password, and users
//! it must never make (an existing one overwritten, an unknown one edited).

use crate::{
    DOC_USER, Ia, Installatron, PACKAGE, SFTP_PATH, assert_same_websites, body_json, calls,
    example::{doc_account, doc_user_json, doc_user_stored, doc_websites_shown},
    new_account, site, websites_of, with_websites,
};
use panelgate_proto::v1::{
    AccountStatus, AddDomainRequest, CreateAccountRequest, InstallatronAccountOptions,
    InstallatronWebsite, UpdateAccountRequest, account, create_account_request,
};
use serde_json::json;
use tonic::Code;

panelgate_tests::panel_tests!(Ia:
    create_account_without_websites_records_the_primary_domain,
    create_account_options_set_language_and_parent,
    create_account_never_overwrites_an_existing_user, create_account_needs_no_password,
    edits_of_an_unknown_user_never_create_it; both: doc_example_round_trips_unchanged);

/// The source doc's RESPONSE example user — two websites with credentials in
/// their sftp paths, labels, servers, parent `root`, vhosts maps, databases on
/// `localhost` and on `123.123.123.123:3307` — given to CreateAccount as
/// `panel_options.installatron.websites`: one `GET /users/{id}` (is the user
/// new?) then one JSON `POST /users` carrying each website as the doc's input
/// (its `parent` as `reseller`); the panel then holds exactly the doc's `data`
/// (plus the package), and CreateAccount, GetAccount and ListAccounts answer
/// the websites unchanged, field by field and as whole messages.
async fn doc_example_round_trips_unchanged(ia: Ia) {
    let mark = ia.mark();
    let created = ia.create_doc_user().await;

    let requests = ia.since(mark);
    assert_eq!(
        calls(&requests),
        ["GET /users/useraccountname", "POST /users"]
    );
    let post = &requests[1];
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(post.accept.as_deref(), Some("application/json"));
    let body = body_json(post);
    assert_eq!(body["id"], DOC_USER);
    assert_eq!(body["email"], "address@website.com");
    assert_eq!(body["package"], PACKAGE);
    assert_eq!(body.get("dryrun"), None, "a real call");
    let sent = body["websites"].as_array().expect("websites sent");
    let doc = doc_user_json();
    let doc = doc["websites"].as_array().expect("the doc's websites");
    assert_eq!(sent.len(), doc.len());
    for (sent, doc) in sent.iter().zip(doc) {
        let mut input = doc.clone();
        let fields = input.as_object_mut().expect("a website object");
        let parent = fields.remove("parent").expect("the doc's parent");
        fields.insert("reseller".to_owned(), parent);
        assert_eq!(sent, &input, "a website as the panel takes it");
    }

    assert_eq!(ia.user(DOC_USER), doc_user_stored(), "what the panel holds");

    let expected = doc_account(&ia.id);
    assert_same_websites(websites_of(&created), &doc_websites_shown());
    assert_eq!(created, expected, "CreateAccount's reply");
    let got = ia.get_account(DOC_USER).await.expect("get the doc's user");
    assert_same_websites(websites_of(&got), &doc_websites_shown());
    assert_eq!(got, expected, "GetAccount's reply");
    let listed = ia.accounts_page(0, "").await;
    assert_eq!(listed.accounts, [expected], "ListAccounts' reply");
    assert_eq!(listed.next_page_token, "");
}

/// Without websites, CreateAccount records one labelled with the primary
/// domain, served at its http:// and https:// from `public_html`, without a
/// path (the panel's server then defaults to the username); GetAccount reads
/// it back and the primary domain from it.
async fn create_account_without_websites_records_the_primary_domain(ia: Ia) {
    let created = ia
        .create_account(new_account("plain"))
        .await
        .expect("create plain");
    assert_eq!(
        ia.user("plain"),
        json!({
            "id": "plain",
            "parent": "root",
            "type": "user",
            "suspended": false,
            "locale": "en",
            "email": "plain@mail.example",
            "package": PACKAGE,
            "websites": [{
                "label": "plain.example",
                "server": "plain",
                "parent": "root",
                "databases": [],
                "vhosts": {
                    "http://plain.example": "public_html",
                    "https://plain.example": "public_html"
                }
            }]
        })
    );
    let got = ia.get_account("plain").await.expect("get plain");
    assert_eq!(got, created);
    assert_eq!(got.primary_domain, "plain.example");
    assert_eq!(got.status(), AccountStatus::Active);
    assert_same_websites(
        websites_of(&got),
        &[InstallatronWebsite {
            server: "plain".to_owned(),
            parent: "root".to_owned(),
            ..site("", "plain.example")
        }],
    );
}

/// CreateAccount's `language` and `parent` options travel as the panel's
/// top-level `language` and `parent`: the user's locale and owner, which its
/// websites inherit as their parent, and which GetAccount reports.
async fn create_account_options_set_language_and_parent(ia: Ia) {
    let owned = CreateAccountRequest {
        panel_options: Some(create_account_request::PanelOptions::Installatron(
            InstallatronAccountOptions {
                websites: vec![site(SFTP_PATH, "owned.example")],
                language: "nl".to_owned(),
                parent: "root".to_owned(),
            },
        )),
        ..new_account("owned")
    };
    let mark = ia.mark();
    let account = ia.create_account(owned).await.expect("create owned");
    let body = body_json(&ia.since(mark)[1]);
    assert_eq!(
        (&body["language"], &body["parent"]),
        (&json!("nl"), &json!("root"))
    );
    let user = ia.user("owned");
    assert_eq!(user["locale"], "nl");
    assert_eq!(user["parent"], "root");
    assert_eq!(user["websites"][0]["parent"], "root");
    assert_eq!(
        user["websites"][0]["server"], "files.example",
        "the path's host"
    );
    let Some(account::PanelDetails::Installatron(details)) = &account.panel_details else {
        panic!("Installatron details in {account:?}");
    };
    assert_eq!(
        (details.language.as_str(), details.parent.as_str()),
        ("nl", "root")
    );
}

/// CreateAccount of a user the panel has is ALREADY_EXISTS: `POST /users`
/// would update it, so the adapter reads it first and never posts; the
/// stored user is untouched.
async fn create_account_never_overwrites_an_existing_user(ia: Ia) {
    ia.create_doc_user().await;
    let before = ia.snapshot(DOC_USER);
    let mark = ia.mark();
    let again = ia
        .create_account(CreateAccountRequest {
            email: "intruder@mail.example".to_owned(),
            ..with_websites(DOC_USER, vec![site(SFTP_PATH, "intruder.example")])
        })
        .await;
    ia.assert_panel_error(again, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
    assert_eq!(ia.calls_since(mark), ["GET /users/useraccountname"]);
    assert_eq!(ia.snapshot(DOC_USER), before);
    assert_eq!(ia.sim.user_count(), 1);
}

/// CreateAccount needs no password on Installatron, which keeps none: the
/// account is recorded without one.
async fn create_account_needs_no_password(ia: Ia) {
    let created = ia
        .create_account(CreateAccountRequest {
            password: String::new(),
            ..new_account("nopass")
        })
        .await
        .expect("create without a password");
    assert_eq!(created.username, "nopass");
    assert!(ia.sim.user("nopass").is_some(), "recorded on the panel");
}

/// Edits of a user the panel lacks (suspend, unsuspend, change package,
/// update, add a domain) are NOT_FOUND ACCOUNT_NOT_FOUND, and none makes
/// the user: the panel's `POST /users/{id}` would create it, so the adapter
/// looks it up first and sends no POST.
async fn edits_of_an_unknown_user_never_create_it(ia: Ia) {
    let mark = ia.mark();
    let outcomes = [
        ia.suspend_reply("ghost", false).await.map(drop),
        ia.unsuspend_reply("ghost", false).await.map(drop),
        ia.change_package_reply("ghost", "gold", false)
            .await
            .map(drop),
        ia.update_reply(UpdateAccountRequest {
            username: "ghost".to_owned(),
            email: Some("ghost@mail.example".to_owned()),
            ..Default::default()
        })
        .await
        .map(drop),
        ia.add_domain_reply(AddDomainRequest {
            username: "ghost".to_owned(),
            domain: "ghost.example".to_owned(),
            ..Default::default()
        })
        .await
        .map(drop),
    ];
    for outcome in outcomes {
        ia.assert_panel_error(outcome, Code::NotFound, "ACCOUNT_NOT_FOUND");
    }
    assert_eq!(ia.sim.user("ghost"), None, "the user was not made");
    assert!(
        ia.calls_since(mark)
            .iter()
            .all(|call| call.starts_with("GET ")),
        "only lookups reached the panel: {:?}",
        ia.calls_since(mark)
    );
}

//! Success is `result` (or a clean dry run), never `message`; errfield
//! becomes the BadRequest field, errcode and message `upstream_message`.

use crate::{
    DOC_USER, Ia, Installatron, SFTP_PATH, assert_refused, consulted, database, new_account, site,
};
use panelgate_proto::v1::{
    AddDomainRequest, CreateAccountRequest, CreateDatabaseRequest, GetAccountRequest,
    InstallatronAccountOptions, InstallatronDatabase, InstallatronDatabaseOptions,
    InstallatronDomainOptions, InstallatronWebsite, UpdateAccountRequest, add_domain_request,
    create_account_request, create_database_request,
};
use panelgate_tests::{
    PanelFixture,
    errors::{assert_error, assert_invalid, metadata},
    gateway::by_id,
};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use tonic::Code;

panelgate_tests::panel_tests!(Ia:
    result_decides_success_never_message, panel_refusals_name_the_canonical_field,
    refusals_of_the_written_back_list_name_the_requests_fields);

/// A panel on a loopback port answering every request with HTTP 200 and
/// `envelope`; its base URL and how many requests it answered.
fn canned_panel(envelope: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base_url = format!("http://{}/", listener.local_addr().expect("address"));
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // Read the head and the body its Content-Length announces.
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stream.read(&mut buffer)
                && read > 0
            {
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|length| length.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{envelope}",
                envelope.len()
            );
            // Counted before answering, so the caller sees the count.
            count.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (base_url, answered)
}

/// Success is read from `result`, never from `message`. On the simulator: a
/// clean dry run answers `result` false with errcode `complete_dryrun` and is
/// a success; a refusal, whose message ends in "\n" like the success
/// message, is an error. The simulator never words an error "The task is
/// complete.", so a canned panel does: over HTTP 200, `result` false with
/// that message is still the error its errcode says (INVALID_ARGUMENT on its
/// errfield; NOT_FOUND).
async fn result_decides_success_never_message(ia: Ia) {
    let clean = ia
        .create_account_reply(CreateAccountRequest {
            validate_only: true,
            ..new_account("clean")
        })
        .await
        .expect("a clean dry run is a success despite result false");
    assert_eq!(clean.validation, consulted());

    let refused = ia
        .create_account(CreateAccountRequest {
            email: "two@at@mail.example".to_owned(),
            ..new_account("refused")
        })
        .await;
    assert_refused(
        &ia,
        refused,
        "email",
        "invalid_argument_email: The email argument is invalid: not an email address.",
    );
    assert_eq!(ia.sim.user_count(), 0);

    let (base_url, answered) = canned_panel(
        r#"{"result": false, "status": 400, "errcode": "invalid_argument_email", "errfield": "email", "message": "The task is complete.\n", "data": null}"#,
    );
    let id = ia
        .register_at(&ia.gateway, "misleading", &base_url, "any-key")
        .await;
    let updated = ia
        .gateway
        .accounts()
        .update_account(UpdateAccountRequest {
            target: by_id(&id),
            username: "bob".to_owned(),
            email: Some("bob@mail.example".to_owned()),
            ..Default::default()
        })
        .await;
    let status = assert_invalid(updated, "email");
    assert_eq!(
        metadata(&status, "upstream_message"),
        "invalid_argument_email: The task is complete."
    );
    assert_eq!(answered.load(Ordering::SeqCst), 1);

    let (base_url, answered) = canned_panel(
        r#"{"result": false, "status": 404, "errcode": "user_not_found", "errfield": null, "message": "The task is complete.\n", "data": {"id": "bob"}}"#,
    );
    let id = ia
        .register_at(&ia.gateway, "misleading-read", &base_url, "any-key")
        .await;
    let got = ia
        .gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: by_id(&id),
            username: "bob".to_owned(),
        })
        .await;
    assert_error(got, Code::NotFound, "ACCOUNT_NOT_FOUND");
    assert_eq!(answered.load(Ordering::SeqCst), 1);
}

/// Each refusal of CreateAccount by the panel is INVALID_ARGUMENT on the
/// canonical path of the panel's errfield (top-level `email` stays `email`;
/// websites and the user's options sit under `panel_options.installatron.`),
/// `upstream_message` being `errcode: message`. Each did reach the panel, and
/// nothing was stored.
async fn panel_refusals_name_the_canonical_field(ia: Ia) {
    let options = |websites: Vec<InstallatronWebsite>, language: &str, parent: &str| {
        Some(create_account_request::PanelOptions::Installatron(
            InstallatronAccountOptions {
                websites,
                language: language.to_owned(),
                parent: parent.to_owned(),
            },
        ))
    };
    let good = site(SFTP_PATH, "good.example");
    let with = |change: fn(&mut InstallatronWebsite)| {
        let mut second = site(SFTP_PATH, "second.example");
        change(&mut second);
        options(vec![good.clone(), second], "", "")
    };
    // (what is wrong, field, upstream_message)
    let cases = [
        (
            CreateAccountRequest {
                email: "two@at@mail.example".to_owned(),
                ..new_account("bad")
            },
            "email",
            "invalid_argument_email: The email argument is invalid: not an email address.",
        ),
        (
            CreateAccountRequest {
                panel_options: options(
                    vec![InstallatronWebsite {
                        path: "/home/bad".to_owned(),
                        gid: Some(1000),
                        ..good.clone()
                    }],
                    "",
                    "",
                ),
                ..new_account("bad")
            },
            "panel_options.installatron.websites[0].uid",
            "empty_argument_uid: The websites[0][uid] argument is required.",
        ),
        (
            CreateAccountRequest {
                panel_options: with(|website| website.email = "nobody".to_owned()),
                ..new_account("bad")
            },
            "panel_options.installatron.websites[1].email",
            "invalid_argument_email: The websites[1][email] argument is invalid: not an email address.",
        ),
        (
            CreateAccountRequest {
                panel_options: with(|website| {
                    website
                        .vhosts
                        .insert("http://second.example".to_owned(), "/etc".to_owned());
                }),
                ..new_account("bad")
            },
            "panel_options.installatron.websites[1].vhosts",
            "invalid_argument_vhosts: The websites[1][vhosts] argument is invalid: a docroot is not relative to the path.",
        ),
        (
            CreateAccountRequest {
                panel_options: with(|website| website.label = "good.example".to_owned()),
                ..new_account("bad")
            },
            "panel_options.installatron.websites[1].label",
            "invalid_argument_label: The websites[1][label] argument is invalid: used by another website of this user.",
        ),
        (
            CreateAccountRequest {
                panel_options: with(|website| {
                    website.databases = vec![InstallatronDatabase {
                        user: String::new(),
                        ..database("localhost", "nouser", "some-pass")
                    }];
                }),
                ..new_account("bad")
            },
            "panel_options.installatron.websites[1].databases[0].user",
            "empty_argument_user: The websites[1][databases][0][user] argument is required.",
        ),
        (
            CreateAccountRequest {
                panel_options: with(|website| website.vhost_ip = "300.1.2.3".to_owned()),
                ..new_account("bad")
            },
            "panel_options.installatron.websites[1].vhost_ip",
            "invalid_argument_vhost_ip: The websites[1][vhost_ip] argument is invalid: not an IP address.",
        ),
        (
            CreateAccountRequest {
                panel_options: options(vec![good.clone()], "english", ""),
                ..new_account("bad")
            },
            "panel_options.installatron.language",
            "invalid_argument_language: The language argument is invalid: not a language code.",
        ),
        (
            CreateAccountRequest {
                panel_options: options(vec![good.clone()], "", "nobody"),
                ..new_account("bad")
            },
            "panel_options.installatron.parent",
            "invalid_argument_parent: The parent argument is invalid: not the administrator or a reseller.",
        ),
    ];
    for (request, field, upstream) in cases {
        let mark = ia.mark();
        let refused = ia.create_account(request).await;
        assert_refused(&ia, refused, field, upstream);
        assert_eq!(
            ia.calls_since(mark),
            ["GET /users/bad", "POST /users"],
            "{field}: the panel refused it"
        );
        assert_eq!(ia.sim.user_count(), 0, "{field}: nothing stored");
    }
}

/// The panel's refusals of AddDomain's website and of CreateDatabase's host
/// name the request's own fields: `panel_options.installatron.website.<field>`
/// and `panel_options.installatron.host` — not the position of the website
/// in the list panelgate wrote back.
async fn refusals_of_the_written_back_list_name_the_requests_fields(ia: Ia) {
    ia.create_doc_user().await;
    let before = ia.snapshot(DOC_USER);

    let local = InstallatronWebsite {
        path: "/home/useraccountname/shop".to_owned(),
        ..Default::default()
    };
    let refused = ia
        .add_domain_reply(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "shop.example".to_owned(),
            panel_options: Some(add_domain_request::PanelOptions::Installatron(
                InstallatronDomainOptions {
                    website: Some(local),
                },
            )),
            ..Default::default()
        })
        .await;
    assert_refused(
        &ia,
        refused,
        "panel_options.installatron.website.uid",
        "empty_argument_uid: The websites[2][uid] argument is required.",
    );

    let refused = ia
        .create_database_reply(CreateDatabaseRequest {
            username: DOC_USER.to_owned(),
            database_name: "useraccountname_far".to_owned(),
            database_user: "useraccountname_far".to_owned(),
            database_password: "far-db-pass".to_owned(),
            panel_options: Some(create_database_request::PanelOptions::Installatron(
                InstallatronDatabaseOptions {
                    website: String::new(),
                    host: "db.unreachable.invalid".to_owned(),
                },
            )),
            validate_only: true,
            ..Default::default()
        })
        .await;
    assert_refused(
        &ia,
        refused,
        "panel_options.installatron.host",
        "failed_database_host: Unable to connect to the database server db.unreachable.invalid.",
    );
    assert_eq!(ia.snapshot(DOC_USER), before);
}

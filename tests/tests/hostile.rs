//! Hostile input stays bounded: a huge value is echoed as a short excerpt
//! everywhere (message, details, journal, log), garbage and oversize
//! messages and non-gRPC requests get the protocol's answers, unknown enum
//! values and packages are refused clearly, and panel-bound paths and
//! records are checked before any call.

use std::collections::BTreeMap;

use panelgate_proto::v1::{
    AddDomainRequest, ChangePackageRequest, CreateAccountRequest, DeletePackageRequest,
    InstallatronAccountOptions, InstallatronWebsite, ListOperationsRequest, ListServersRequest,
    UpdatePackageRequest, create_account_request,
};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, InstallatronFixture, PanelFixture, SpanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_name, with_gateway},
    logs, raw,
};
use prost::Message;
use tonic::{
    Code,
    codegen::http::{Request, StatusCode},
};
use tower::ServiceExt;

panelgate_tests::on_both_backends!(huge_values_are_echoed_as_short_excerpts);

/// One mebibyte of one letter.
fn huge() -> String {
    "x".repeat(1 << 20)
}

/// A CreateAccount whose primary domain is a mebibyte long, ten times: each
/// is INVALID_ARGUMENT quoting at most a short excerpt of it (message and
/// BadRequest under 300 bytes), the log holds no long run of it, and the
/// journal's page of these ten calls stays small enough to list.
async fn huge_values_are_echoed_as_short_excerpts(backend: Backend) {
    logs::capture(tracing::Level::INFO);
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "echo").await;
            let request = CreateAccountRequest {
                target: by_name("echo"),
                username: "huge".into(),
                primary_domain: format!("{}.com", huge()),
                email: "huge@mail.example".into(),
                password: "a-long-password".into(),
                package: "Basic".into(),
                ..Default::default()
            };
            for attempt in 0..10 {
                let refused = gateway
                    .accounts()
                    .create_account(CreateAccountRequest {
                        request_id: format!("huge-{attempt}"),
                        ..request.clone()
                    })
                    .await;
                let status = assert_invalid(refused, "primary_domain");
                assert!(status.message().len() < 300, "{}", status.message().len());
                assert!(status.details().len() < 600, "{}", status.details().len());
            }
            let listed = gateway
                .operations()
                .list_operations(ListOperationsRequest::default())
                .await
                .expect("the journal lists these calls")
                .into_inner();
            assert!(listed.operations.len() >= 10);
            assert!(listed.encoded_len() < 20_000, "{}", listed.encoded_len());
            let log = logs::text();
            assert!(log.contains("primary_domain"), "the refusals were logged");
            assert!(!log.contains(&"x".repeat(200)), "no long echo in the log");
        },
    )
    .await;
}

/// Bytes that are no protobuf message are INVALID_ARGUMENT; a message over
/// the 4 MiB limit is RESOURCE_EXHAUSTED; neither reaches a handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversize_messages_get_the_protocols_codes() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let path = "/panelgate.v1.AccountService/GetAccount";
            // Field 1 announced as 200 bytes long, with three.
            let garbage = raw::unary(gateway.authed(), path, vec![0x0a, 200, 1, 2, 3]).await;
            let garbage = garbage.expect_err("garbage");
            assert_eq!(garbage.code(), Code::InvalidArgument, "{garbage:?}");
            let oversize = raw::unary(gateway.authed(), path, vec![0; 5 << 20]).await;
            assert_eq!(
                oversize.expect_err("oversize").code(),
                Code::ResourceExhausted
            );
        },
    )
    .await;
}

/// A request whose content-type is not gRPC's is answered HTTP 415.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_grpc_requests_are_refused() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway: Gateway| async move {
            for content_type in ["application/json", "text/plain"] {
                let request = Request::post(format!(
                    "http://{}/panelgate.v1.AccountService/GetAccount",
                    gateway.addr
                ))
                .header("content-type", content_type)
                .body(tonic::body::Body::empty())
                .expect("request");
                let reply = gateway
                    .channel()
                    .oneshot(request)
                    .await
                    .expect("an HTTP answer");
                assert_eq!(reply.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            }
        },
    )
    .await;
}

/// An enum value the API does not define, in a filter, is INVALID_ARGUMENT
/// naming the field (not read as "any").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_enum_values_in_filters_are_invalid() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let mut inventory = gateway.inventory();
            let kind = inventory
                .list_servers(ListServersRequest {
                    kind: 99,
                    ..Default::default()
                })
                .await;
            assert_invalid(kind, "kind");
            let state = inventory
                .list_servers(ListServersRequest {
                    state: 42,
                    ..Default::default()
                })
                .await;
            assert_invalid(state, "state");
        },
    )
    .await;
}

/// Updating or deleting a package the server lacks is NOT_FOUND
/// PACKAGE_NOT_FOUND; an unknown name asked again soon after makes no
/// second panel call (the list was just read without it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_packages_are_not_found_and_remembered_briefly() {
    let fixture = SpanelFixture::start().await;
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "pkgs").await;
            let mut packages = gateway.packages();
            let updated = packages
                .update_package(UpdatePackageRequest {
                    target: by_name("pkgs"),
                    package: "nosuch".into(),
                    ..Default::default()
                })
                .await;
            assert_error(updated, Code::NotFound, "PACKAGE_NOT_FOUND");
            let before = fixture.requests();
            let deleted = packages
                .delete_package(DeletePackageRequest {
                    target: by_name("pkgs"),
                    package: "nosuch".into(),
                    ..Default::default()
                })
                .await;
            assert_error(deleted, Code::NotFound, "PACKAGE_NOT_FOUND");
            let changed = gateway
                .accounts()
                .change_package(ChangePackageRequest {
                    target: by_name("pkgs"),
                    username: "anyone".into(),
                    package: "nosuch".into(),
                    ..Default::default()
                })
                .await;
            assert_invalid(changed, "package");
            assert_eq!(fixture.requests(), before, "no panel call for a known miss");
        },
    )
    .await;
}

/// Installatron websites given by a caller are checked before any call: a
/// uid of 0, a path climbing out with `..`, a vhost that is no http(s) URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installatron_websites_are_checked_before_any_call() {
    let fixture = InstallatronFixture::start().await;
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "it").await;
            let before = fixture.requests();
            let good = InstallatronWebsite {
                path: "/home/kim".into(),
                uid: Some(1001),
                gid: Some(1001),
                vhosts: BTreeMap::from([("https://kim.example".into(), "public_html".into())]),
                ..Default::default()
            };
            let cases = [
                (
                    "panel_options.installatron.websites[0].uid",
                    InstallatronWebsite {
                        uid: Some(0),
                        ..good.clone()
                    },
                ),
                (
                    "panel_options.installatron.websites[0].path",
                    InstallatronWebsite {
                        path: "/home/kim/../amy".into(),
                        ..good.clone()
                    },
                ),
                (
                    "panel_options.installatron.websites[0].vhosts",
                    InstallatronWebsite {
                        vhosts: BTreeMap::from([("file:///etc".into(), "x".into())]),
                        ..good.clone()
                    },
                ),
                (
                    "panel_options.installatron.websites[0].vhosts",
                    InstallatronWebsite {
                        vhosts: BTreeMap::from([(
                            "https://kim.example".into(),
                            "../../etc".into(),
                        )]),
                        ..good.clone()
                    },
                ),
            ];
            for (field, website) in cases {
                let refused = gateway
                    .accounts()
                    .create_account(CreateAccountRequest {
                        target: by_name("it"),
                        username: "kim".into(),
                        primary_domain: "kim.example".into(),
                        email: "kim@mail.example".into(),
                        package: "gold".into(),
                        panel_options: Some(create_account_request::PanelOptions::Installatron(
                            InstallatronAccountOptions {
                                websites: vec![website],
                                ..Default::default()
                            },
                        )),
                        ..Default::default()
                    })
                    .await;
                assert_invalid(refused, field);
            }
            assert_eq!(fixture.requests(), before, "no panel call");
        },
    )
    .await;
}

/// An admin_api document root outside the account's home is refused
/// before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_document_roots_stay_in_the_home() {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "ols").await;
            let before = fixture.requests();
            for root in ["/etc/nginx", "/home/other/public_html", "./x"] {
                let refused = gateway
                    .domains()
                    .add_domain(AddDomainRequest {
                        target: by_name("ols"),
                        username: "zoe".into(),
                        domain: "shop.zoe.example".into(),
                        document_root: root.into(),
                        ..Default::default()
                    })
                    .await;
                assert_invalid(refused, "document_root");
            }
            assert_eq!(fixture.requests(), before, "no panel call");
        },
    )
    .await;
}

//! Panels that fail, redirect, or would be sent names that are no single
//! path segment: every panel's calls answer the documented error, and the
//! panel is left as it was.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use panelgate_proto::v1::{
    ControlSystemServiceRequest, DeleteAccountRequest, GetAccountRequest, GetPackageRequest,
    Operation, RegisterServerRequest, Server, SuspendAccountRequest, SystemServiceAction,
};
use panelgate_sim::Fault;
use tokio::net::TcpListener;
use tonic::Code;

use super::{capabilities, new_account};
use crate::{
    Backend, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_name, with_gateway},
    operations,
    operations::About,
};

/// A 5xx whose body reads like every panel's success.
const SUCCESS_LOOKING: &str = r#"{"success": true, "result": "success", "status": 200, "errcode": null, "message": "The task is complete.", "data": {"msg": "done"}, "returncode": 0}"#;
/// A 5xx whose body reads like every panel's own error.
const ERROR_LOOKING: &str = r#"{"success": false, "result": "error", "error": "Service temporarily unavailable", "message": ["Service temporarily unavailable"], "errcode": "service_unavailable", "status": 500}"#;

/// Every fault, with the code and reason it must answer.
fn faults() -> Vec<(Fault, Code, &'static str)> {
    let unavailable = (Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    let unreadable = (Code::Internal, "UPSTREAM_PROTOCOL_ERROR");
    [
        (Fault::Json(503, SUCCESS_LOOKING), unavailable),
        (Fault::Json(500, ERROR_LOOKING), unavailable),
        (Fault::Empty(502), unavailable),
        (Fault::Status(503), unavailable),
        (
            Fault::Status(429),
            (Code::Unavailable, "UPSTREAM_RATE_LIMITED"),
        ),
        (Fault::Html, unreadable),
        (Fault::BrokenJson, unreadable),
        (Fault::DropConnection, unavailable),
    ]
    .into_iter()
    .map(|(fault, (code, reason))| (fault, code, reason))
    .collect()
}

/// Every mutation the panel supports, under every fault a panel or its
/// proxy produces (5xx with a success-looking or an error JSON body, 5xx
/// without a body or with an HTML page, 429, an HTML page or truncated JSON
/// with HTTP 200, a dropped connection), answers the fault's documented code
/// and reason, and the simulated panel's state is unchanged.
pub async fn mutations_under_faults_change_nothing<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "faulty").await;
            gateway
                .accounts()
                .create_account(new_account(&fixture, "faulty", "mia"))
                .await
                .expect("create the account the calls are about");
            let mutations: Vec<Operation> = capabilities(&gateway, "faulty")
                .await
                .into_iter()
                .filter(|operation| operations::is_mutation(*operation))
                .collect();
            assert!(mutations.len() >= 5, "{mutations:?}");
            for (fault, code, reason) in faults() {
                fixture.faults().set(fault.clone());
                let before = fixture.state();
                for operation in &mutations {
                    let result = operations::call(
                        &gateway,
                        by_name("faulty"),
                        *operation,
                        About {
                            username: "mia",
                            packages: fixture.packages(),
                        },
                    )
                    .await;
                    let status = result.expect_err(&format!("{operation:?} under {fault:?}"));
                    assert_eq!(
                        (status.code(), crate::errors::reason(&status).as_str()),
                        (code, reason),
                        "{operation:?} under {fault:?}: {status:?}"
                    );
                }
                fixture.faults().clear();
                assert_eq!(
                    fixture.state(),
                    before,
                    "under {fault:?} the panel is unchanged"
                );
            }
        },
    )
    .await;
}

/// A panel answering 302 or 307 towards another host: the call is
/// FAILED_PRECONDITION SERVER_MISCONFIGURED naming only the target's origin
/// (no path, no query), and nothing reaches the other host.
pub async fn redirects_are_never_followed<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    let elsewhere = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the other host");
    let origin = format!("http://{}", elsewhere.local_addr().expect("address"));
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = reached.clone();
    let other_host = tokio::spawn(async move {
        while elsewhere.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "moved").await;
            gateway
                .accounts()
                .create_account(new_account(&fixture, "moved", "rex"))
                .await
                .expect("create the account the calls are about");
            for status_code in [301, 302, 307, 308] {
                let target = format!("{origin}/steal?token=abc");
                fixture
                    .faults()
                    .set(Fault::Redirect(status_code, target.clone()));
                let before = fixture.state();
                for operation in [Operation::GetAccount, Operation::SuspendAccount] {
                    let result = operations::call(
                        &gateway,
                        by_name("moved"),
                        operation,
                        About {
                            username: "rex",
                            packages: fixture.packages(),
                        },
                    )
                    .await;
                    let status =
                        assert_error(result, Code::FailedPrecondition, "SERVER_MISCONFIGURED");
                    let message = status.message();
                    assert!(message.contains(&origin), "{message}");
                    assert!(
                        !message.contains("steal") && !message.contains("abc"),
                        "{message}"
                    );
                }
                fixture.faults().clear();
                assert_eq!(fixture.state(), before, "{status_code}: nothing changed");
            }
            assert_eq!(
                reached.load(Ordering::SeqCst),
                0,
                "no request went elsewhere"
            );
        },
    )
    .await;
    other_host.abort();
}

/// Usernames, package names and service names that could not be one
/// segment of a panel's URL path (`.`, `..`, `a/b`) are INVALID_ARGUMENT
/// naming the field, and the panel hears nothing.
pub async fn names_that_are_not_one_path_segment_make_no_call<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "paths").await;
            let before = fixture.requests();
            let target = || by_name("paths");
            for name in [".", "..", "a/b", "../etc", "a\\b"] {
                let mut accounts = gateway.accounts();
                let got = accounts
                    .get_account(GetAccountRequest {
                        target: target(),
                        username: name.into(),
                    })
                    .await;
                assert_invalid(got, "username");
                let suspended = accounts
                    .suspend_account(SuspendAccountRequest {
                        target: target(),
                        username: name.into(),
                        ..Default::default()
                    })
                    .await;
                assert_invalid(suspended, "username");
                let deleted = accounts
                    .delete_account(DeleteAccountRequest {
                        target: target(),
                        username: name.into(),
                        ..Default::default()
                    })
                    .await;
                assert_invalid(deleted, "username");
                let package = gateway
                    .packages()
                    .get_package(GetPackageRequest {
                        target: target(),
                        package: name.into(),
                    })
                    .await;
                assert_invalid(package, "package");
                let service = gateway
                    .servers()
                    .control_system_service(ControlSystemServiceRequest {
                        target: target(),
                        service: name.into(),
                        action: SystemServiceAction::Restart.into(),
                        ..Default::default()
                    })
                    .await;
                assert_invalid(service, "service");
            }
            assert_eq!(fixture.requests(), before, "no HTTP call");
        },
    )
    .await;
}

/// A server registered with a base URL under which no panel API lives (the
/// web server answers 404 with a page, or the panel knows no such command):
/// FAILED_PRECONDITION SERVER_MISCONFIGURED pointing at the base URL, never
/// a NOT_FOUND of what the call was about.
pub async fn wrong_base_url_is_misconfigured<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let base_url = format!("{}/nowhere/", fixture.base_url().trim_end_matches('/'));
            gateway
                .inventory()
                .register_server(RegisterServerRequest {
                    server: Some(Server {
                        name: "astray".into(),
                        kind: F::KIND.into(),
                        base_url,
                        defaults: fixture.defaults(),
                        ..Default::default()
                    }),
                    credentials: Some(fixture.credentials()),
                    request_id: String::new(),
                })
                .await
                .expect("register");
            for operation in [Operation::GetAccount, Operation::SuspendAccount] {
                let result = operations::call(
                    &gateway,
                    by_name("astray"),
                    operation,
                    About {
                        username: "kai",
                        packages: fixture.packages(),
                    },
                )
                .await;
                let status = assert_error(result, Code::FailedPrecondition, "SERVER_MISCONFIGURED");
                assert!(
                    status.message().contains("base_url"),
                    "{operation:?}: {}",
                    status.message()
                );
            }
        },
    )
    .await;
}

//! Routing by the account index, and the credentials at rest.

use panelgate_proto::v1::{DeleteAccountRequest, SuspendAccountRequest, UpdateServerRequest};
use panelgate_tests::{
    AdminApiFixture, Backend, PanelFixture,
    errors::{assert_error, metadata},
    gateway::{by_name, with_gateway},
};
use tonic::Code;

use crate::{
    admin_api_server, check_server, create_account, get_account, password_credentials, register,
    start_sim, update_server,
};

panelgate_tests::on_both_backends!(account_index_routes_target_less_calls);

/// Calls without a target are routed by the account index: to the one server
/// holding the account; FAILED_PRECONDITION ACCOUNT_AMBIGUOUS naming both
/// servers (metadata `servers`) when two hold the same username, with no panel
/// touched; after the account is deleted from one, to the other.
async fn account_index_routes_target_less_calls(backend: Backend) {
    let east = AdminApiFixture::start().await;
    let west = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let east_id = east.register(&gateway, "east").await;
            let west_id = west.register(&gateway, "west").await;

            create_account(&gateway, by_name("west"), "solo")
                .await
                .expect("create solo");
            let solo = get_account(&gateway, None, "solo")
                .await
                .expect("routed by the index");
            assert_eq!(solo.server_id, west_id);

            for server in ["east", "west"] {
                create_account(&gateway, by_name(server), "twin")
                    .await
                    .expect("create twin");
            }
            let ambiguous = get_account(&gateway, None, "twin").await;
            let status = assert_error(ambiguous, Code::FailedPrecondition, "ACCOUNT_AMBIGUOUS");
            let mut servers: Vec<String> = metadata(&status, "servers")
                .split(',')
                .map(str::to_owned)
                .collect();
            servers.sort();
            assert_eq!(servers, ["east", "west"], "{status:?}");
            assert!(
                status.message().contains("east") && status.message().contains("west"),
                "{}",
                status.message()
            );
            let (east_before, west_before) = (east.requests(), west.requests());
            let suspend = gateway
                .accounts()
                .suspend_account(SuspendAccountRequest {
                    username: "twin".into(),
                    ..Default::default()
                })
                .await;
            assert_error(suspend, Code::FailedPrecondition, "ACCOUNT_AMBIGUOUS");
            assert_eq!(
                (east.requests(), west.requests()),
                (east_before, west_before),
                "no panel called"
            );
            assert!(!east.is_suspended("twin") && !west.is_suspended("twin"));

            let targeted = get_account(&gateway, by_name("east"), "twin")
                .await
                .expect("a target settles it");
            assert_eq!(targeted.server_id, east_id);

            gateway
                .accounts()
                .delete_account(DeleteAccountRequest {
                    target: by_name("west"),
                    username: "twin".into(),
                    ..Default::default()
                })
                .await
                .expect("delete twin on west");
            assert!(!west.account_exists("twin") && east.account_exists("twin"));
            let routed = get_account(&gateway, None, "twin")
                .await
                .expect("routed to the one left");
            assert_eq!(routed.server_id, east_id);
        },
    )
    .await;
}

/// The SQLite file (and its WAL) holds no plaintext credential, neither the
/// registered nor the replacing one, while it does hold the server's name
/// (so the bytes read are the inventory's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_holds_no_plaintext_credentials() {
    const FIRST: &str = "Plaintext-Canary-Pass-3b9a71";
    const SECOND: &str = "Rotated-Canary-Pass-c40e2f";
    const NAME: &str = "canary-server-7f31";
    let sim = start_sim(FIRST).await;
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            register(
                &gateway,
                admin_api_server(NAME, &sim.base_url()),
                Some(password_credentials("admin", FIRST)),
            )
            .await
            .expect("register");
            assert!(check_server(&gateway, by_name(NAME)).await.healthy);
            update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name(NAME),
                    credentials: Some(password_credentials("admin", SECOND)),
                    ..Default::default()
                },
            )
            .await
            .expect("replace credentials");

            let file = gateway.sqlite_file.clone().expect("a SQLite backend");
            let mut bytes = std::fs::read(&file).expect("read the SQLite file");
            for suffix in ["-wal", "-journal"] {
                let mut side = file.clone().into_os_string();
                side.push(suffix);
                if let Ok(more) = std::fs::read(&side) {
                    bytes.extend(more);
                }
            }
            let contains =
                |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(contains(NAME), "the server name is in the bytes read");
            assert!(!contains(FIRST), "plaintext credential in the SQLite file");
            assert!(!contains(SECOND), "plaintext credential in the SQLite file");
        },
    )
    .await;
}

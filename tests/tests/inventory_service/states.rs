//! CheckServer, and the server states: disabled, draining, full.

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    CheckServerRequest, DeleteAccountRequest, ListPackagesRequest, Server, ServerState,
    SuspendAccountRequest, UpdateServerRequest,
};
use panelgate_tests::{
    AdminApiFixture, Backend, PanelFixture,
    errors::assert_error,
    gateway::{by_name, with_gateway},
};
use tonic::Code;

use crate::{
    admin_api_server, check_server, closed_port, create_account, get_account, register,
    update_server,
};

panelgate_tests::on_both_backends!(
    check_server_reports_what_the_panel_said,
    disabled_server_takes_no_hosting_call,
    draining_server_refuses_only_new_accounts,
    full_server_refuses_new_accounts
);

/// CheckServer makes a real panel call: healthy with latency and
/// capabilities when the panel answers; healthy=false with
/// UPSTREAM_UNAVAILABLE when nothing listens; it also checks a DISABLED
/// server, which hosting calls cannot reach.
async fn check_server_reports_what_the_panel_said(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    let dead_port = closed_port().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "alive").await;
            let before = fixture.requests();
            let alive = check_server(&gateway, by_name("alive")).await;
            assert!(alive.healthy, "{alive:?}");
            assert!(alive.error_reason.is_empty(), "{alive:?}");
            assert!(alive.latency.is_some(), "latency reported: {alive:?}");
            let capabilities: Vec<Capability> = alive.capabilities().collect();
            assert!(capabilities.contains(&Capability::CreateAccount));
            assert!(fixture.requests() > before, "the panel was called");

            register(
                &gateway,
                admin_api_server("dead", &format!("http://127.0.0.1:{dead_port}")),
                Some(fixture.credentials()),
            )
            .await
            .expect("register a server nothing listens for");
            let dead = check_server(&gateway, by_name("dead")).await;
            assert!(!dead.healthy, "{dead:?}");
            assert_eq!(dead.error_reason, "UPSTREAM_UNAVAILABLE", "{dead:?}");
            assert!(!dead.error_message.is_empty(), "{dead:?}");
            assert!(dead.latency.is_some(), "{dead:?}");
            assert!(!dead.capabilities.is_empty(), "{dead:?}");

            register(
                &gateway,
                Server {
                    state: ServerState::Disabled.into(),
                    ..admin_api_server("resting", &fixture.base_url())
                },
                Some(fixture.credentials()),
            )
            .await
            .expect("register a disabled server");
            let resting = check_server(&gateway, by_name("resting")).await;
            assert!(resting.healthy, "a disabled server is checked: {resting:?}");
            assert_error(
                get_account(&gateway, by_name("resting"), "anyone").await,
                Code::FailedPrecondition,
                "SERVER_DISABLED",
            );

            let unknown = gateway
                .inventory()
                .check_server(CheckServerRequest {
                    target: by_name("nowhere"),
                })
                .await;
            assert_error(unknown, Code::NotFound, "SERVER_NOT_FOUND");
        },
    )
    .await;
}

/// A DISABLED server takes no hosting call, by target or by the account
/// index → FAILED_PRECONDITION SERVER_DISABLED, and the panel hears nothing;
/// set ACTIVE again, it serves at once.
async fn disabled_server_takes_no_hosting_call(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "off").await;
            create_account(&gateway, by_name("off"), "sleepy")
                .await
                .expect("create while active");
            update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("off"),
                    state: Some(ServerState::Disabled.into()),
                    ..Default::default()
                },
            )
            .await
            .expect("disable");

            let before = fixture.requests();
            assert_error(
                create_account(&gateway, by_name("off"), "newbie").await,
                Code::FailedPrecondition,
                "SERVER_DISABLED",
            );
            assert_error(
                get_account(&gateway, by_name("off"), "sleepy").await,
                Code::FailedPrecondition,
                "SERVER_DISABLED",
            );
            assert_error(
                get_account(&gateway, None, "sleepy").await,
                Code::FailedPrecondition,
                "SERVER_DISABLED",
            );
            let packages = gateway
                .packages()
                .list_packages(ListPackagesRequest {
                    target: by_name("off"),
                    ..Default::default()
                })
                .await;
            assert_error(packages, Code::FailedPrecondition, "SERVER_DISABLED");
            assert_eq!(fixture.requests(), before, "no panel call");
            assert!(!fixture.account_exists("newbie"));

            update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("off"),
                    state: Some(ServerState::Active.into()),
                    ..Default::default()
                },
            )
            .await
            .expect("enable");
            get_account(&gateway, None, "sleepy")
                .await
                .expect("served again");
        },
    )
    .await;
}

/// A DRAINING server refuses CreateAccount (FAILED_PRECONDITION
/// SERVER_DRAINING, nothing created) but serves its existing accounts.
async fn draining_server_refuses_only_new_accounts(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "drain").await;
            create_account(&gateway, by_name("drain"), "stay")
                .await
                .expect("create while active");
            update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("drain"),
                    state: Some(ServerState::Draining.into()),
                    ..Default::default()
                },
            )
            .await
            .expect("drain");

            assert_error(
                create_account(&gateway, by_name("drain"), "newbie").await,
                Code::FailedPrecondition,
                "SERVER_DRAINING",
            );
            assert!(!fixture.account_exists("newbie"), "nothing created");

            for target in [by_name("drain"), None] {
                let account = get_account(&gateway, target, "stay")
                    .await
                    .expect("existing accounts are served");
                assert_eq!(account.username, "stay");
            }
            gateway
                .accounts()
                .suspend_account(SuspendAccountRequest {
                    username: "stay".into(),
                    ..Default::default()
                })
                .await
                .expect("suspend on a draining server");
            assert!(fixture.is_suspended("stay"));
        },
    )
    .await;
}

/// max_accounts = 1: the second CreateAccount → RESOURCE_EXHAUSTED
/// SERVER_FULL and the panel gets no call at all for it; once the first
/// account is deleted there is room again.
async fn full_server_refuses_new_accounts(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            register(
                &gateway,
                Server {
                    max_accounts: 1,
                    ..admin_api_server("tiny", &fixture.base_url())
                },
                Some(fixture.credentials()),
            )
            .await
            .expect("register");
            create_account(&gateway, by_name("tiny"), "first")
                .await
                .expect("first account");

            let before = fixture.requests();
            let second = create_account(&gateway, by_name("tiny"), "second").await;
            let status = assert_error(second, Code::ResourceExhausted, "SERVER_FULL");
            assert!(status.message().contains("`tiny`"), "{}", status.message());
            assert_eq!(fixture.requests(), before, "no panel call (no add_user)");
            assert!(!fixture.account_exists("second"));

            gateway
                .accounts()
                .delete_account(DeleteAccountRequest {
                    username: "first".into(),
                    ..Default::default()
                })
                .await
                .expect("delete the first account");
            create_account(&gateway, by_name("tiny"), "second")
                .await
                .expect("room again");
            assert!(fixture.account_exists("second"));
        },
    )
    .await;
}

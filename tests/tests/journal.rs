//! The operation journal (audit) end to end: mutating calls made over real
//! gRPC against SPanel simulators over real HTTP, read back through
//! `OperationService` (ListOperations, GetOperation), on a real SQLite file and
//! a real PostgreSQL database (every scenario runs on both).

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, SystemTime},
};

use panelgate::{
    Config,
    auth::{Auth, scopes},
};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    ApiTokenCredentials, ChangePasswordRequest, CreateAccountRequest, CreateDatabaseRequest,
    CreateLoginLinkRequest, Credentials, DeleteAccountRequest, DeleteServerRequest,
    GetAccountRequest, GetOperationRequest, GetServerRequest, ListOperationsRequest,
    ListOperationsResponse, ListServersRequest, OperationEntry, PanelKind, RegisterServerRequest,
    Server, SuspendAccountRequest, UpdateServerRequest, credentials,
    operation_service_client::OperationServiceClient,
};
use panelgate_sim::SpanelConfig;
use panelgate_tests::{
    Backend, Gateway, PanelFixture, SpanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{Bearer, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, by_id, by_name, start, test_tokens},
    with_gateway,
};
use prost::Message;
use tonic::{Code, Status, service::interceptor::InterceptedService};

panelgate_tests::on_both_backends!(
    every_mutation_is_journalled_with_who_what_where_and_outcome,
    list_operations_filters_combine_and_pages_walk_everything_once,
    group_limited_caller_sees_only_its_groups_entries,
    get_operation_returns_one_entry,
    journal_holds_no_secret,
    journal_retention_deletes_old_entries,
    server_mutations_are_journalled_with_their_server,
);

// === setup ===

const CREATE: &str = "AccountService/CreateAccount";
const SUSPEND: &str = "AccountService/SuspendAccount";
const DELETE: &str = "AccountService/DeleteAccount";
const LOGIN_LINK: &str = "AccountService/CreateLoginLink";
const REGISTER: &str = "InventoryService/RegisterServer";

/// Runs `body` with `panels` fresh SPanel simulators on a fresh gateway on
/// `backend` (not registered: registering is journalled, tests do it).
async fn with_panels<F, Fut>(backend: Backend, panels: usize, body: F)
where
    F: FnOnce(Gateway, Vec<SpanelFixture>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut fixtures = Vec::new();
    for _ in 0..panels {
        fixtures.push(SpanelFixture::start().await);
    }
    with_gateway(backend, |_| {}, move |gateway| body(gateway, fixtures)).await;
}

/// RegisterServer of `fixture` as `name` in `group`, with `request_id`.
fn register_request(
    fixture: &SpanelFixture,
    name: &str,
    group: &str,
    request_id: &str,
) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::Spanel.into(),
            base_url: fixture.base_url(),
            group: group.to_owned(),
            ..Default::default()
        }),
        credentials: Some(fixture.credentials()),
        request_id: request_id.to_owned(),
    }
}

/// Registers `fixture` as `name` in `group`; returns its id.
async fn register(gateway: &Gateway, fixture: &SpanelFixture, name: &str, group: &str) -> String {
    gateway
        .inventory()
        .register_server(register_request(fixture, name, group, ""))
        .await
        .expect("register the simulated server")
        .into_inner()
        .server
        .expect("server in reply")
        .id
}

/// CreateAccount of `username` on `server` (package `basic`).
fn create_request(
    server: &str,
    username: &str,
    password: &str,
    request_id: &str,
) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: password.to_owned(),
        package: "basic".to_owned(),
        request_id: request_id.to_owned(),
        ..Default::default()
    }
}

async fn create(gateway: &Gateway, server: &str, username: &str) {
    gateway
        .accounts()
        .create_account(create_request(server, username, "first-password-1", ""))
        .await
        .unwrap_or_else(|status| panic!("create {username}: {status:?}"));
}

async fn suspend(gateway: &Gateway, server: &str, username: &str) {
    gateway
        .accounts()
        .suspend_account(SuspendAccountRequest {
            target: by_name(server),
            username: username.to_owned(),
            reason: "unpaid".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|status| panic!("suspend {username}: {status:?}"));
}

/// DeleteAccount of an account the panel lacks: NOT_FOUND.
async fn delete_missing(gateway: &Gateway, server: &str, username: &str) -> Status {
    let deleted = gateway
        .accounts()
        .delete_account(DeleteAccountRequest {
            target: by_name(server),
            username: username.to_owned(),
            ..Default::default()
        })
        .await;
    assert_error(deleted, Code::NotFound, "ACCOUNT_NOT_FOUND")
}

async fn list(
    gateway: &Gateway,
    request: ListOperationsRequest,
) -> Result<ListOperationsResponse, Status> {
    gateway
        .operations()
        .list_operations(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Every entry `request` matches (one page of at most 500).
async fn entries(gateway: &Gateway, request: ListOperationsRequest) -> Vec<OperationEntry> {
    let page = list(
        gateway,
        ListOperationsRequest {
            page_size: 500,
            ..request
        },
    )
    .await
    .expect("list operations");
    assert_eq!(page.next_page_token, "", "more than one page");
    page.operations
}

/// Every entry of the journal, newest first.
async fn all_entries(gateway: &Gateway) -> Vec<OperationEntry> {
    entries(gateway, ListOperationsRequest::default()).await
}

/// (method, resource) of each entry, in order.
fn what(entries: &[OperationEntry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|entry| (entry.method.clone(), entry.resource.clone()))
        .collect()
}

fn pair(method: &str, resource: &str) -> (String, String) {
    (method.to_owned(), resource.to_owned())
}

/// The time a timestamp stands for.
fn time_of(timestamp: Option<&prost_types::Timestamp>) -> SystemTime {
    SystemTime::try_from(*timestamp.expect("a timestamp")).expect("a valid timestamp")
}

/// A timestamp of `time`.
fn timestamp(time: SystemTime) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp::from(time))
}

/// Asserts a finished first attempt's times: it started within
/// `[from, to]` (the journal keeps microseconds), ended after it started,
/// and its duration is end minus start.
#[track_caller]
fn assert_times(entry: &OperationEntry, from: SystemTime, to: SystemTime) {
    let start = time_of(entry.start_time.as_ref());
    let end = time_of(entry.end_time.as_ref());
    let from = from - Duration::from_micros(1);
    assert!(
        from <= start && start <= end && end <= to,
        "times of {entry:#?}"
    );
    let duration = Duration::try_from(entry.duration.expect("a duration")).expect("a duration");
    assert_eq!(
        Some(duration),
        end.duration_since(start).ok(),
        "duration of {entry:#?}"
    );
}

/// Asserts `text` names a UUID.
#[track_caller]
fn assert_uuid(text: &str) {
    let well_formed = text.len() == 36
        && text.char_indices().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    assert!(well_formed, "not a UUID: {text:?}");
}

// === scenarios ===

/// Every mutating call (RegisterServer, CreateAccount, SuspendAccount, a
/// failing DeleteAccount, CreateLoginLink twice) is journalled with the
/// caller's `sub`, the RPC, the server, the resource, the outcome (code and
/// message), 1 attempt and consistent times, newest first; the journal's
/// duration is the call's (a suspension the panel holds 300 ms lasts at least
/// that); reads and a validate_only call add no entry; login links, having
/// no request_id, are journalled but never replayed.
async fn every_mutation_is_journalled_with_who_what_where_and_outcome(backend: Backend) {
    with_panels(backend, 1, |gateway, fixtures| async move {
        let sim = &fixtures[0];
        let from = SystemTime::now();
        let id = gateway
            .inventory()
            .register_server(register_request(sim, "scala", "", "register-scala-1"))
            .await
            .expect("register")
            .into_inner()
            .server
            .expect("server")
            .id;
        gateway
            .accounts()
            .create_account(create_request(
                "scala",
                "alice",
                "first-password-1",
                "create-alice-1",
            ))
            .await
            .expect("create alice");
        sim.sim.faults().set_delay(Duration::from_millis(300));
        suspend(&gateway, "scala", "alice").await;
        sim.sim.faults().clear();
        let missing = delete_missing(&gateway, "scala", "ghost").await;
        let mut links = Vec::new();
        for _ in 0..2 {
            let link = gateway
                .accounts()
                .create_login_link(CreateLoginLinkRequest {
                    username: "alice".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("login link")
                .into_inner();
            links.push(link.url);
        }
        assert_ne!(links[0], links[1], "a login link was replayed");

        // Reads, and a check.
        gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name("scala"),
                username: "alice".to_owned(),
            })
            .await
            .expect("get account");
        gateway
            .inventory()
            .list_servers(ListServersRequest::default())
            .await
            .expect("list servers");
        gateway
            .inventory()
            .get_server(GetServerRequest {
                target: by_name("scala"),
            })
            .await
            .expect("get server");
        gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target: by_name("scala"),
                username: "alice".to_owned(),
                validate_only: true,
                request_id: "suspend-alice-check".to_owned(),
                ..Default::default()
            })
            .await
            .expect("validate_only suspend");
        all_entries(&gateway).await;
        let to = SystemTime::now();

        let journal = all_entries(&gateway).await;
        let expected =
            |method: &str, server_id: &str, resource: &str, code: &str, error: &str, key: &str| {
                (
                    key.to_owned(),
                    TEST_CALLER.to_owned(),
                    method.to_owned(),
                    server_id.to_owned(),
                    resource.to_owned(),
                    true,
                    code.to_owned(),
                    error.to_owned(),
                    1,
                )
            };
        let seen: Vec<_> = journal
            .iter()
            .map(|entry| {
                (
                    entry.request_id.clone(),
                    entry.caller.clone(),
                    entry.method.clone(),
                    entry.server_id.clone(),
                    entry.resource.clone(),
                    entry.done,
                    entry.code.clone(),
                    entry.error_message.clone(),
                    entry.attempts,
                )
            })
            .collect();
        // RegisterServer's server_id: see `server_mutations_are_journalled_with_their_server`.
        let register_server_id = journal
            .last()
            .map(|entry| entry.server_id.clone())
            .unwrap_or_default();
        assert_eq!(
            seen,
            [
                expected(LOGIN_LINK, &id, "account/alice", "OK", "", ""),
                expected(LOGIN_LINK, &id, "account/alice", "OK", "", ""),
                expected(
                    DELETE,
                    &id,
                    "account/ghost",
                    "NOT_FOUND",
                    missing.message(),
                    ""
                ),
                expected(SUSPEND, &id, "account/alice", "OK", "", ""),
                expected(CREATE, &id, "account/alice", "OK", "", "create-alice-1"),
                expected(
                    REGISTER,
                    &register_server_id,
                    "server/scala",
                    "OK",
                    "",
                    "register-scala-1"
                ),
            ]
        );
        for entry in &journal {
            assert_uuid(&entry.id);
            assert_times(entry, from, to);
        }
        let ids: std::collections::BTreeSet<_> =
            journal.iter().map(|entry| entry.id.as_str()).collect();
        assert_eq!(ids.len(), journal.len(), "ids are distinct");
        let suspended = &journal[3];
        let took = Duration::try_from(suspended.duration.expect("duration")).expect("duration");
        assert!(
            took >= Duration::from_millis(300),
            "SuspendAccount took {took:?}"
        );
    })
    .await;
}

/// ListOperations' filters (caller, target by name and by id, resource,
/// method, start-time window) each select exactly the matching entries and
/// combine with AND; an unknown target is NOT_FOUND; paging with page_size 2
/// (and 1, filtered) walks every entry exactly once in the unpaged order; a
/// malformed page token, or another list's token, is INVALID_ARGUMENT
/// `page_token`; an invalid timestamp is INVALID_ARGUMENT naming it.
async fn list_operations_filters_combine_and_pages_walk_everything_once(backend: Backend) {
    with_panels(backend, 2, |gateway, fixtures| async move {
        let one = register(&gateway, &fixtures[0], "scala", "").await;
        let two = register(&gateway, &fixtures[1], "scala-2", "").await;
        let billing = gateway.as_caller(&gateway.token("billing", scopes::ALL, &[]));
        create(&gateway, "scala", "alice").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let middle = SystemTime::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        create(&billing, "scala-2", "bob").await;
        suspend(&billing, "scala", "alice").await;
        delete_missing(&gateway, "scala-2", "ghost").await;

        let everything = all_entries(&gateway).await;
        assert_eq!(
            what(&everything),
            [
                pair(DELETE, "account/ghost"),
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/bob"),
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-2"),
                pair(REGISTER, "server/scala"),
            ]
        );
        let filtered =
            async |request: ListOperationsRequest| what(&entries(&gateway, request).await);
        assert_eq!(
            filtered(ListOperationsRequest {
                caller: "billing".to_owned(),
                ..Default::default()
            })
            .await,
            [pair(SUSPEND, "account/alice"), pair(CREATE, "account/bob")]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                caller: TEST_CALLER.to_owned(),
                ..Default::default()
            })
            .await,
            [
                pair(DELETE, "account/ghost"),
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-2"),
                pair(REGISTER, "server/scala"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                target: by_name("scala"),
                ..Default::default()
            })
            .await,
            [
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                target: by_id(&two),
                ..Default::default()
            })
            .await,
            [
                pair(DELETE, "account/ghost"),
                pair(CREATE, "account/bob"),
                pair(REGISTER, "server/scala-2"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                target: by_id(&one),
                caller: "billing".to_owned(),
                ..Default::default()
            })
            .await,
            [pair(SUSPEND, "account/alice")]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                resource: "account/alice".to_owned(),
                ..Default::default()
            })
            .await,
            [
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/alice")
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                method: CREATE.to_owned(),
                ..Default::default()
            })
            .await,
            [pair(CREATE, "account/bob"), pair(CREATE, "account/alice")]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                method: CREATE.to_owned(),
                caller: TEST_CALLER.to_owned(),
                target: by_name("scala-2"),
                ..Default::default()
            })
            .await,
            []
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                start_time_from: timestamp(middle),
                ..Default::default()
            })
            .await,
            [
                pair(DELETE, "account/ghost"),
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/bob"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                start_time_to: timestamp(middle),
                ..Default::default()
            })
            .await,
            [
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-2"),
                pair(REGISTER, "server/scala"),
            ]
        );
        let bob_started = time_of(everything[2].start_time.as_ref());
        assert_eq!(
            filtered(ListOperationsRequest {
                start_time_from: timestamp(bob_started),
                start_time_to: timestamp(bob_started + Duration::from_micros(1)),
                ..Default::default()
            })
            .await,
            [pair(CREATE, "account/bob")],
            "from is inclusive, to exclusive"
        );
        assert!(
            filtered(ListOperationsRequest {
                caller: "nobody".to_owned(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
        let unknown = list(
            &gateway,
            ListOperationsRequest {
                target: by_name("nowhere"),
                ..Default::default()
            },
        )
        .await;
        assert_error(unknown, Code::NotFound, "SERVER_NOT_FOUND");

        // Paging.
        let all_ids: Vec<_> = everything.iter().map(|entry| entry.id.clone()).collect();
        let walk = async |filter: ListOperationsRequest, page_size: i32| {
            let mut ids = Vec::new();
            let mut token = String::new();
            let mut pages = 0;
            loop {
                let page = list(
                    &gateway,
                    ListOperationsRequest {
                        page_size,
                        page_token: token.clone(),
                        ..filter.clone()
                    },
                )
                .await
                .expect("a page");
                pages += 1;
                assert!(page.operations.len() <= usize::try_from(page_size).expect("size"));
                ids.extend(page.operations.into_iter().map(|entry| entry.id));
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
                assert!(pages < 20, "paging does not end");
            }
            (ids, pages)
        };
        let (walked, pages) = walk(ListOperationsRequest::default(), 2).await;
        assert_eq!(walked, all_ids, "page_size 2 walked a different list");
        assert!((3..=4).contains(&pages), "{pages} pages of 2 for 6 entries");
        let ours: Vec<_> = everything
            .iter()
            .filter(|entry| entry.caller == TEST_CALLER)
            .map(|entry| entry.id.clone())
            .collect();
        let (walked, _) = walk(
            ListOperationsRequest {
                caller: TEST_CALLER.to_owned(),
                ..Default::default()
            },
            1,
        )
        .await;
        assert_eq!(walked, ours, "filtered page_size 1 walk");

        for token in ["not-a-token", "AAAA", "%%%"] {
            let bad = list(
                &gateway,
                ListOperationsRequest {
                    page_token: token.to_owned(),
                    ..Default::default()
                },
            )
            .await;
            assert_invalid(bad, "page_token");
        }
        let servers = gateway
            .inventory()
            .list_servers(ListServersRequest {
                page_size: 1,
                ..Default::default()
            })
            .await
            .expect("list servers")
            .into_inner();
        assert!(
            !servers.next_page_token.is_empty(),
            "premise: a second page"
        );
        let foreign = list(
            &gateway,
            ListOperationsRequest {
                page_token: servers.next_page_token,
                ..Default::default()
            },
        )
        .await;
        assert_invalid(foreign, "page_token");
        let bad_time = list(
            &gateway,
            ListOperationsRequest {
                start_time_from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..Default::default()
            },
        )
        .await;
        assert_invalid(bad_time, "start_time_from");
    })
    .await;
}

/// A reader whose token is limited to inventory group `eu` lists only the
/// entries of calls on `eu` servers, and GetOperation of a call on a `us`
/// server is PERMISSION_DENIED `GROUP_NOT_ALLOWED`.
async fn group_limited_caller_sees_only_its_groups_entries(backend: Backend) {
    with_panels(backend, 2, |gateway, fixtures| async move {
        register(&gateway, &fixtures[0], "scala-eu", "eu").await;
        register(&gateway, &fixtures[1], "scala-us", "us").await;
        create(&gateway, "scala-eu", "alice").await;
        create(&gateway, "scala-us", "bob").await;
        suspend(&gateway, "scala-us", "bob").await;
        let auditor =
            gateway.as_caller(&gateway.token("auditor", &[scopes::OPERATIONS_READ], &["eu"]));

        let seen = all_entries(&auditor).await;
        assert_eq!(
            what(&seen),
            [
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-eu"),
            ]
        );
        let bob = entries(
            &gateway,
            ListOperationsRequest {
                resource: "account/bob".to_owned(),
                method: CREATE.to_owned(),
                ..Default::default()
            },
        )
        .await;
        let [bob] = bob.as_slice() else {
            panic!("one create of bob: {bob:#?}");
        };
        let hidden = auditor
            .operations()
            .get_operation(GetOperationRequest { id: bob.id.clone() })
            .await;
        assert_error(hidden, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
        let shown = auditor
            .operations()
            .get_operation(GetOperationRequest {
                id: seen[0].id.clone(),
            })
            .await
            .expect("an eu entry");
        assert_eq!(shown.into_inner().operation.as_ref(), Some(&seen[0]));
    })
    .await;
}

/// GetOperation returns exactly the entry ListOperations lists (also for an
/// id in upper case); a malformed id is INVALID_ARGUMENT `id`; an unknown
/// UUID is NOT_FOUND `OPERATION_NOT_FOUND`.
async fn get_operation_returns_one_entry(backend: Backend) {
    with_panels(backend, 1, |gateway, fixtures| async move {
        register(&gateway, &fixtures[0], "scala", "").await;
        create(&gateway, "scala", "alice").await;
        delete_missing(&gateway, "scala", "ghost").await;
        let journal = all_entries(&gateway).await;
        assert_eq!(journal.len(), 3);
        for entry in &journal {
            for id in [entry.id.clone(), entry.id.to_ascii_uppercase()] {
                let got = gateway
                    .operations()
                    .get_operation(GetOperationRequest { id })
                    .await
                    .expect("get operation")
                    .into_inner();
                assert_eq!(got.operation.as_ref(), Some(entry));
            }
        }
        for id in [
            "",
            "42",
            "not-a-uuid",
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
            "0b5c3c1e5a4f4f0e9d3a2f8e6f1d7c21",
        ] {
            let bad = gateway
                .operations()
                .get_operation(GetOperationRequest { id: id.to_owned() })
                .await;
            assert_invalid(bad, "id");
        }
        let unknown = gateway
            .operations()
            .get_operation(GetOperationRequest {
                id: "0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c21".to_owned(),
            })
            .await;
        assert_error(unknown, Code::NotFound, "OPERATION_NOT_FOUND");
    })
    .await;
}

/// No secret reaches the journal: the panel's API token (RegisterServer,
/// UpdateServer), account passwords (CreateAccount, ChangePassword, both
/// succeeding and failing), a database password and the login links the
/// gateway handed out appear in no entry (encoded bytes and Debug of
/// ListOperations and of every GetOperation); on SQLite the login links are
/// not in the database files either (their replies are not stored).
async fn journal_holds_no_secret(backend: Backend) {
    let tag = format!("{:?}", backend).to_ascii_lowercase();
    let token = format!("S3cret-journal-panel-token-{tag}-5be1");
    let fixture = SpanelFixture::with_config(SpanelConfig {
        admin_token: token.clone(),
        ..SpanelConfig::default()
    })
    .await;
    with_gateway(
        backend,
        |_| {},
        move |gateway| async move {
            let mut secrets = vec![token.clone()];
            let mut secret = |what: &str| {
                let value = format!("S3cret-journal-{what}-{tag}-7f3a");
                secrets.push(value.clone());
                value
            };
            let first_password = secret("first-password");
            let second_password = secret("second-password");
            let new_password = secret("new-password");
            let ghost_password = secret("ghost-password");
            let database_password = secret("database-password");

            gateway
                .inventory()
                .register_server(RegisterServerRequest {
                    request_id: "register-1".to_owned(),
                    ..register_request(&fixture, "scala", "", "")
                })
                .await
                .expect("register");
            gateway
                .inventory()
                .update_server(UpdateServerRequest {
                    target: by_name("scala"),
                    credentials: Some(Credentials {
                        kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                            token: token.clone(),
                        })),
                    }),
                    request_id: "update-1".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("update credentials");
            gateway
                .accounts()
                .create_account(create_request(
                    "scala",
                    "alice",
                    &first_password,
                    "create-1",
                ))
                .await
                .expect("create alice");
            let again = gateway
                .accounts()
                .create_account(create_request(
                    "scala",
                    "alice",
                    &second_password,
                    "create-2",
                ))
                .await;
            assert_error(again, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
            gateway
                .accounts()
                .change_password(ChangePasswordRequest {
                    target: by_name("scala"),
                    username: "alice".to_owned(),
                    password: new_password.clone(),
                    request_id: "password-1".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("change password");
            let ghost = gateway
                .accounts()
                .change_password(ChangePasswordRequest {
                    target: by_name("scala"),
                    username: "ghost".to_owned(),
                    password: ghost_password.clone(),
                    request_id: "password-2".to_owned(),
                    ..Default::default()
                })
                .await;
            assert_error(ghost, Code::NotFound, "ACCOUNT_NOT_FOUND");
            gateway
                .databases()
                .create_database(CreateDatabaseRequest {
                    target: by_name("scala"),
                    username: "alice".to_owned(),
                    database_name: "shop".to_owned(),
                    database_user: "shopper".to_owned(),
                    database_password: database_password.clone(),
                    request_id: "database-1".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("create database");
            for _ in 0..2 {
                let url = gateway
                    .accounts()
                    .create_login_link(CreateLoginLinkRequest {
                        username: "alice".to_owned(),
                        ..Default::default()
                    })
                    .await
                    .expect("login link")
                    .into_inner()
                    .url;
                // The token part too, whatever the URL's shape.
                let token = url
                    .rsplit(['=', '/'])
                    .find(|part| part.len() >= 16)
                    .unwrap_or_else(|| panic!("no token in {url}"))
                    .to_owned();
                secrets.push(url);
                secrets.push(token);
            }
            assert_eq!(
                fixture.password_of("alice").as_deref(),
                Some(new_password.as_str()),
                "premise: the secrets were used"
            );

            let found_in = |haystack: &[u8]| -> Vec<&String> {
                secrets
                    .iter()
                    .filter(|secret| {
                        haystack
                            .windows(secret.len())
                            .any(|window| window == secret.as_bytes())
                    })
                    .collect()
            };
            // The search finds what it looks for.
            let request = create_request("scala", "alice", &first_password, "");
            assert_eq!(found_in(&request.encode_to_vec()), [&first_password]);

            let journal = list(&gateway, ListOperationsRequest::default())
                .await
                .expect("list operations");
            assert_eq!(journal.operations.len(), 9, "{journal:#?}");
            let leaked = found_in(&journal.encode_to_vec());
            assert!(leaked.is_empty(), "secrets in ListOperations: {leaked:?}");
            let leaked = found_in(format!("{journal:?}").as_bytes());
            assert!(
                leaked.is_empty(),
                "secrets in ListOperations' Debug: {leaked:?}"
            );
            for entry in &journal.operations {
                let got = gateway
                    .operations()
                    .get_operation(GetOperationRequest {
                        id: entry.id.clone(),
                    })
                    .await
                    .expect("get operation")
                    .into_inner();
                let leaked = found_in(&got.encode_to_vec());
                assert!(leaked.is_empty(), "secrets in GetOperation: {leaked:?}");
                let leaked = found_in(format!("{got:?}").as_bytes());
                assert!(
                    leaked.is_empty(),
                    "secrets in GetOperation's Debug: {leaked:?}"
                );
            }

            if let Some(file) = &gateway.sqlite_file {
                let links: Vec<_> = secrets[secrets.len() - 4..].to_vec();
                let mut bytes = std::fs::read(file).expect("read the SQLite file");
                let wal = format!("{}-wal", file.display());
                if let Ok(more) = std::fs::read(&wal) {
                    bytes.extend(more);
                }
                let stored: Vec<_> = links
                    .iter()
                    .filter(|link| {
                        bytes
                            .windows(link.len())
                            .any(|window| window == link.as_bytes())
                    })
                    .collect();
                assert!(stored.is_empty(), "login links in the database: {stored:?}");
            }
        },
    )
    .await;
}

/// `journal_retention`: a replica started with a tiny journal retention on
/// the same database deletes the finished entries when it starts (they are
/// gone from ListOperations and GetOperation is NOT_FOUND), while the first
/// gateway, with the default 90 days, had kept them.
async fn journal_retention_deletes_old_entries(backend: Backend) {
    let keyring = Keyring::new(MasterKey::generate().expect("master key"));
    let shared = keyring.clone();
    let fixture = SpanelFixture::start().await;
    let configure = move |config: &mut Config| config.keyring = Some(shared);
    with_gateway(backend, configure, move |gateway| async move {
        register(&gateway, &fixture, "scala", "").await;
        create(&gateway, "scala", "alice").await;
        let kept = all_entries(&gateway).await;
        assert_eq!(kept.len(), 2);

        let mut config = Config::new(gateway.database_url.clone());
        config.keyring = Some(keyring);
        config.upstream_timeouts.request = TEST_UPSTREAM_TIMEOUT;
        config.auth = Some(Arc::new(Auth {
            tokens: test_tokens(),
            reflection_public: false,
        }));
        config.journal_retention = Duration::from_millis(1);
        let replica = start(config).await;
        let bearer =
            Bearer::new(&gateway.token(TEST_CALLER, scopes::ALL, &[])).expect("a token is ASCII");
        let mut operations =
            OperationServiceClient::new(InterceptedService::new(replica.channel.clone(), bearer));
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = operations
                .list_operations(ListOperationsRequest::default())
                .await
                .expect("list operations on the replica")
                .into_inner()
                .operations;
            if left.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < give_up,
                "entries kept: {left:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for entry in &kept {
            let gone = gateway
                .operations()
                .get_operation(GetOperationRequest {
                    id: entry.id.clone(),
                })
                .await;
            assert_error(gone, Code::NotFound, "OPERATION_NOT_FOUND");
        }
        replica.stop().await;
    })
    .await;
}

// === server mutations ===

/// Calls that act on a server record (RegisterServer, UpdateServer,
/// DeleteServer) are journalled with that server's id, so ListOperations by
/// `target` answers "who registered or changed this server?" (the server id is
/// also what shows an entry to a group-limited reader).
async fn server_mutations_are_journalled_with_their_server(backend: Backend) {
    with_panels(backend, 2, |gateway, fixtures| async move {
        let id = register(&gateway, &fixtures[0], "scala", "").await;
        let other = register(&gateway, &fixtures[1], "scala-2", "").await;
        gateway
            .inventory()
            .update_server(UpdateServerRequest {
                target: by_name("scala"),
                max_accounts: Some(10),
                ..Default::default()
            })
            .await
            .expect("update server");
        let by_target = entries(
            &gateway,
            ListOperationsRequest {
                target: by_id(&id),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            what(&by_target),
            [
                pair("InventoryService/UpdateServer", "server/scala"),
                pair(REGISTER, "server/scala")
            ]
        );
        gateway
            .inventory()
            .delete_server(DeleteServerRequest {
                target: by_name("scala-2"),
                ..Default::default()
            })
            .await
            .expect("delete server");
        let journal = all_entries(&gateway).await;
        let servers: Vec<_> = journal
            .iter()
            .map(|entry| (entry.method.as_str(), entry.server_id.as_str()))
            .collect();
        assert_eq!(
            servers,
            [
                ("InventoryService/DeleteServer", other.as_str()),
                ("InventoryService/UpdateServer", id.as_str()),
                (REGISTER, other.as_str()),
                (REGISTER, id.as_str()),
            ]
        );
    })
    .await;
}

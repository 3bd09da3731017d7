//! RegisterServer and GetServer: every field round-trips, duplicates and bad
//! input are refused naming the field, and credentials need a master key.

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    ApiTokenCredentials, Credentials, HealthState, ListServersRequest, PanelKind, Server,
    ServerCapacity, ServerDefaults, ServerHealth, ServerState, TlsSettings, UpdateServerRequest,
    credentials,
};
use panelgate_tests::{
    AdminApiFixture, Backend, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_id, by_name, with_gateway},
};
use tonic::Code;

use crate::{
    TEST_CA_PEM, admin_api_server, assert_not_in_reply, check_server, create_account, get_account,
    get_server, labels, list_servers, password_credentials, register, seconds_now, start_sim,
    update_server,
};

panelgate_tests::on_both_backends!(
    register_then_get_round_trips_every_field,
    duplicate_name_is_already_exists,
    bad_input_is_invalid_argument_naming_the_field,
    without_master_key_credentials_are_refused
);

/// Every field given to RegisterServer comes back, the same, from the reply
/// and from GetServer by id and by name; the state defaults to ACTIVE,
/// output-only fields are panelgate's, and the admin password is in no reply.
async fn register_then_get_round_trips_every_field(backend: Backend) {
    const PASSWORD: &str = "RoundTrip-Admin-Pass-5d1e0c";
    let sim = start_sim(PASSWORD).await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let before = seconds_now();
            let given = Server {
                id: "chosen-by-the-caller".to_owned(),
                name: "ols-eu-1".to_owned(),
                kind: PanelKind::AdminApi.into(),
                base_url: sim.base_url(),
                group: "eu-west".to_owned(),
                labels: labels(&[("tier", "gold"), ("region", "eu")]),
                state: ServerState::Unspecified.into(),
                max_accounts: 250,
                capabilities: vec![Capability::IssueCertificate.into()],
                tls: Some(TlsSettings {
                    ca_pem: TEST_CA_PEM.to_owned(),
                    insecure_skip_verify: true,
                }),
                credentials_set: false,
                defaults: Some(ServerDefaults {
                    php_version: "8.3".to_owned(),
                }),
                create_time: Some(prost_types::Timestamp {
                    seconds: 1,
                    nanos: 0,
                }),
                update_time: None,
                health: Some(ServerHealth {
                    state: HealthState::CircuitOpen.into(),
                    ..Default::default()
                }),
                priority: 7,
                capacity: Some(ServerCapacity {
                    accounts: 99,
                    reserved: 9,
                    free: Some(1),
                }),
                last_sync_time: Some(prost_types::Timestamp {
                    seconds: 2,
                    nanos: 0,
                }),
                last_sync_outcome: "ok".to_owned(),
            };
            let registered = register(
                &gateway,
                given.clone(),
                Some(password_credentials("admin", PASSWORD)),
            )
            .await
            .expect("register");

            assert!(!registered.id.is_empty(), "an id is assigned");
            assert_ne!(registered.id, given.id, "id is output only");
            assert_eq!(registered.name, "ols-eu-1");
            assert_eq!(registered.kind(), PanelKind::AdminApi);
            assert_eq!(registered.base_url, sim.base_url());
            assert_eq!(registered.group, "eu-west");
            assert_eq!(registered.labels, given.labels);
            assert_eq!(registered.state(), ServerState::Active, "default state");
            assert_eq!(registered.max_accounts, 250);
            assert_eq!(registered.priority, 7);
            assert_eq!(
                registered.capacity,
                Some(ServerCapacity {
                    accounts: 0,
                    reserved: 0,
                    free: Some(250),
                }),
                "capacity is output only"
            );
            assert_eq!(
                (
                    registered.last_sync_time,
                    registered.last_sync_outcome.as_str()
                ),
                (None, ""),
                "the last sync is output only"
            );
            assert_eq!(registered.tls, given.tls);
            assert_eq!(registered.defaults, given.defaults);
            assert!(registered.credentials_set);
            assert_eq!(
                registered.health,
                Some(ServerHealth::default()),
                "health is output only, and no call was made yet"
            );
            let capabilities: Vec<Capability> = registered.capabilities().collect();
            assert!(
                capabilities.contains(&Capability::CreateAccount),
                "capabilities are the panel's: {capabilities:?}"
            );
            assert!(
                !capabilities.contains(&Capability::ListAccounts),
                "admin_api cannot list accounts: {capabilities:?}"
            );
            let created = registered.create_time.expect("create_time");
            let updated = registered.update_time.expect("update_time");
            assert!(
                created.seconds >= before - 1 && created.seconds <= seconds_now() + 1,
                "create_time is now, not the caller's: {created:?}"
            );
            assert!(
                (updated.seconds, updated.nanos) >= (created.seconds, created.nanos),
                "update_time {updated:?} before create_time {created:?}"
            );

            let by_id_reply = get_server(&gateway, by_id(&registered.id))
                .await
                .expect("get by id");
            assert_eq!(by_id_reply, registered, "GetServer by id");
            let by_name_reply = get_server(&gateway, by_name("ols-eu-1"))
                .await
                .expect("get by name");
            assert_eq!(by_name_reply, registered, "GetServer by name");

            let listed = list_servers(&gateway, ListServersRequest::default())
                .await
                .expect("list");
            assert_eq!(listed.servers, vec![registered.clone()], "ListServers");

            // Credentials are write-only: no reply carries the password.
            assert_not_in_reply(&registered, PASSWORD);
            assert_not_in_reply(&by_id_reply, PASSWORD);
            assert_not_in_reply(&by_name_reply, PASSWORD);
            assert_not_in_reply(&listed, PASSWORD);
            let checked = check_server(&gateway, by_name("ols-eu-1")).await;
            assert!(checked.healthy, "stored credentials work: {checked:?}");
            assert_not_in_reply(&checked, PASSWORD);
            let health = get_server(&gateway, by_name("ols-eu-1"))
                .await
                .expect("get after the check")
                .health
                .expect("health");
            assert_eq!(health.state(), HealthState::Healthy, "{health:?}");
            assert!(health.since.is_some() && health.last_success_time.is_some());
        },
    )
    .await;
}

/// A second server with a taken name → ALREADY_EXISTS, and the first is untouched.
async fn duplicate_name_is_already_exists(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let first = register(
                &gateway,
                admin_api_server("dup", "http://127.0.0.1:1"),
                None,
            )
            .await
            .expect("first register");
            let again = register(
                &gateway,
                admin_api_server("dup", "http://127.0.0.1:2"),
                None,
            )
            .await;
            let status = assert_error(again, Code::AlreadyExists, "SERVER_ALREADY_EXISTS");
            assert!(
                status.message().contains("`dup`"),
                "names the server: {}",
                status.message()
            );
            let stored = get_server(&gateway, by_name("dup")).await.expect("get");
            assert_eq!(stored, first, "the first server is untouched");
            assert_eq!(
                list_servers(&gateway, ListServersRequest::default())
                    .await
                    .expect("list")
                    .servers
                    .len(),
                1
            );
        },
    )
    .await;
}

/// Malformed fields → INVALID_ARGUMENT with BadRequest naming exactly that
/// field, for RegisterServer, UpdateServer and ListServers; nothing is stored.
async fn bad_input_is_invalid_argument_naming_the_field(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let good = admin_api_server("good", "http://127.0.0.1:8080");
            let good_credentials = password_credentials("admin", "admin-pass-1");
            let with = |server: Server| (server, Some(good_credentials.clone()));
            let cases: Vec<(&str, (Server, Option<Credentials>))> = vec![
                (
                    "server.name",
                    with(Server {
                        name: String::new(),
                        ..good.clone()
                    }),
                ),
                (
                    "server.name",
                    with(Server {
                        name: "bad name!".into(),
                        ..good.clone()
                    }),
                ),
                (
                    "server.name",
                    with(Server {
                        name: "x".repeat(64),
                        ..good.clone()
                    }),
                ),
                (
                    "server.kind",
                    with(Server {
                        kind: PanelKind::Unspecified.into(),
                        ..good.clone()
                    }),
                ),
                (
                    "server.base_url",
                    with(Server {
                        base_url: "ftp://127.0.0.1/".into(),
                        ..good.clone()
                    }),
                ),
                (
                    "server.base_url",
                    with(Server {
                        base_url: "not a url".into(),
                        ..good.clone()
                    }),
                ),
                (
                    "server.tls.ca_pem",
                    with(Server {
                        tls: Some(TlsSettings {
                            ca_pem: "this is not PEM".into(),
                            insecure_skip_verify: false,
                        }),
                        ..good.clone()
                    }),
                ),
                (
                    "server.defaults.php_version",
                    with(Server {
                        defaults: Some(ServerDefaults {
                            php_version: "eight".into(),
                        }),
                        ..good.clone()
                    }),
                ),
                (
                    "credentials",
                    (
                        good.clone(),
                        Some(Credentials {
                            kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                                token: "a-token-for-another-panel".into(),
                            })),
                        }),
                    ),
                ),
                (
                    "credentials",
                    (good.clone(), Some(Credentials { kind: None })),
                ),
                (
                    "credentials.password.password",
                    (good.clone(), Some(password_credentials("admin", ""))),
                ),
                (
                    "credentials.password.username",
                    (good.clone(), Some(password_credentials("", "admin-pass-1"))),
                ),
            ];
            for (field, (server, credentials)) in cases {
                let result = register(&gateway, server.clone(), credentials).await;
                assert_invalid(result, field);
            }
            let listed = list_servers(&gateway, ListServersRequest::default())
                .await
                .expect("list");
            assert!(listed.servers.is_empty(), "nothing stored: {listed:?}");

            // UpdateServer names its own (unprefixed) fields.
            register(&gateway, good.clone(), Some(good_credentials.clone()))
                .await
                .expect("register the good server");
            let update = |change: UpdateServerRequest| UpdateServerRequest {
                target: by_name("good"),
                ..change
            };
            let updates = vec![
                (
                    "name",
                    update(UpdateServerRequest {
                        name: Some("bad name!".into()),
                        ..Default::default()
                    }),
                ),
                (
                    "base_url",
                    update(UpdateServerRequest {
                        base_url: Some("gopher://127.0.0.1".into()),
                        ..Default::default()
                    }),
                ),
                (
                    "defaults.php_version",
                    update(UpdateServerRequest {
                        defaults: Some(ServerDefaults {
                            php_version: "8.x".into(),
                        }),
                        ..Default::default()
                    }),
                ),
                (
                    "credentials",
                    update(UpdateServerRequest {
                        credentials: Some(Credentials {
                            kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                                token: "a-token-for-another-panel".into(),
                            })),
                        }),
                        ..Default::default()
                    }),
                ),
                (
                    "target",
                    UpdateServerRequest {
                        target: None,
                        name: Some("renamed".into()),
                        ..Default::default()
                    },
                ),
            ];
            for (field, request) in updates {
                assert_invalid(update_server(&gateway, request).await, field);
            }
            let unchanged = get_server(&gateway, by_name("good"))
                .await
                .expect("the good server is still there");
            assert_eq!(unchanged.base_url, good.base_url);
            assert_eq!(unchanged.defaults, good.defaults);

            // ListServers: a negative page size, forged page tokens.
            assert_invalid(
                list_servers(
                    &gateway,
                    ListServersRequest {
                        page_size: -1,
                        ..Default::default()
                    },
                )
                .await,
                "page_size",
            );
            for forged in [
                "not-a-token!",
                // base64url of {"list":"operations"}: well-formed, but not a servers cursor.
                "eyJsaXN0Ijoib3BlcmF0aW9ucyJ9",
            ] {
                assert_invalid(
                    list_servers(
                        &gateway,
                        ListServersRequest {
                            page_size: 2,
                            page_token: forged.into(),
                            ..Default::default()
                        },
                    )
                    .await,
                    "page_token",
                );
            }
        },
    )
    .await;
}

/// With no master key configured, RegisterServer with credentials →
/// FAILED_PRECONDITION MASTER_KEY_MISSING and nothing is stored; without
/// credentials the server is stored with credentials_set false, and a hosting
/// call on it → FAILED_PRECONDITION SERVER_MISCONFIGURED without any panel call.
async fn without_master_key_credentials_are_refused(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |config| config.keyring = None,
        |gateway| async move {
            let refused = register(
                &gateway,
                admin_api_server("keyless", &fixture.base_url()),
                Some(fixture.credentials()),
            )
            .await;
            assert_error(refused, Code::FailedPrecondition, "MASTER_KEY_MISSING");
            let listed = list_servers(&gateway, ListServersRequest::default())
                .await
                .expect("list");
            assert!(listed.servers.is_empty(), "nothing stored: {listed:?}");
            assert_error(
                get_server(&gateway, by_name("keyless")).await,
                Code::NotFound,
                "SERVER_NOT_FOUND",
            );

            let stored = register(
                &gateway,
                admin_api_server("keyless", &fixture.base_url()),
                None,
            )
            .await
            .expect("register without credentials");
            assert!(!stored.credentials_set);

            let hosting = get_account(&gateway, by_name("keyless"), "anyone").await;
            assert_error(hosting, Code::FailedPrecondition, "SERVER_MISCONFIGURED");
            let create = create_account(&gateway, by_name("keyless"), "anyone").await;
            assert_error(create, Code::FailedPrecondition, "SERVER_MISCONFIGURED");
            assert_eq!(fixture.requests(), 0, "the panel was never called");

            let update = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("keyless"),
                    credentials: Some(fixture.credentials()),
                    ..Default::default()
                },
            )
            .await;
            assert_error(update, Code::FailedPrecondition, "MASTER_KEY_MISSING");
            let after = get_server(&gateway, by_name("keyless")).await.expect("get");
            assert!(!after.credentials_set, "still no credentials");
        },
    )
    .await;
}

//! InventoryService over real gRPC, on SQLite and on PostgreSQL: what a server
//! record holds and how it round-trips, how bad input and a missing master key
//! are refused, paging and filters, updates and deletes (and that the router's
//! caches follow them), CheckServer, the server states, and routing by the
//! account index. Every hosting call goes to a simulated admin_api panel over
//! real HTTP.

use std::{
    collections::BTreeMap,
    time::{SystemTime, UNIX_EPOCH},
};

use panelgate_proto::v1::{
    Account, ApiTokenCredentials, CheckServerRequest, CheckServerResponse, CreateAccountRequest,
    Credentials, DeleteAccountRequest, DeleteServerRequest, GetAccountRequest, GetServerRequest,
    LabelSet, ListPackagesRequest, ListServersRequest, ListServersResponse, Operation, PanelKind,
    PasswordCredentials, RegisterServerRequest, Server, ServerDefaults, ServerState,
    SuspendAccountRequest, Target, TlsSettings, UpdateServerRequest, credentials,
};
use panelgate_sim::admin_api::{AdminApiConfig, AdminApiSim};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, PanelFixture,
    errors::{assert_error, assert_invalid, metadata},
    gateway::{by_id, by_name, with_gateway},
};
use prost::Message;
use tonic::{Code, Status};

panelgate_tests::on_both_backends!(
    register_then_get_round_trips_every_field,
    duplicate_name_is_already_exists,
    bad_input_is_invalid_argument_naming_the_field,
    without_master_key_credentials_are_refused,
    list_servers_pages_by_name,
    list_servers_filters_combine_with_and,
    update_server_changes_only_what_is_set,
    update_server_replaces_credentials,
    delete_server_forgets_it_everywhere,
    check_server_reports_what_the_panel_said,
    disabled_server_takes_no_hosting_call,
    draining_server_refuses_only_new_accounts,
    full_server_refuses_new_accounts,
    account_index_routes_target_less_calls,
);

// ---------------------------------------------------------------------------
// Setup helpers
// ---------------------------------------------------------------------------

/// A self-signed CA certificate (P-256, valid until 2126), for `tls.ca_pem`.
const TEST_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUKNnt26uwoNz/wLQaDtEzaSnTbwIwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRcGFuZWxnYXRlIHRlc3QgQ0EwIBcNMjYxMTIzMDQyNzEzWhgP
MjEyNjEwMzAwNDI3MTNaMBwxGjAYBgNVBAMMEXBhbmVsZ2F0ZSB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnmf3CL5PpVTSlJ2itPJDusldXf7AB9Xl
U6FGKZIOrN5JoderRjbUSngyamA+9JKj/SoG79vCkul3079xEA2YXqNTMFEwHQYD
VR0OBBYEFG6sC5ctAQu7I1sV6+075I9R08d6MB8GA1UdIwQYMBaAFG6sC5ctAQu7
I1sV6+075I9R08d6MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
CgtQXV6guGJ44rTOe2oPbiUPJjwO4s/kgRMVVx1HK54CIQDr0cx9hGMEY07UoFiq
I/qZDi8Axe1ra/hh01JLnZqDtg==
-----END CERTIFICATE-----
";

/// Password credentials.
fn password_credentials(username: &str, password: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })),
    }
}

/// An admin_api server at `base_url`, with the PHP default admin_api needs.
fn admin_api_server(name: &str, base_url: &str) -> Server {
    Server {
        name: name.to_owned(),
        kind: PanelKind::AdminApi.into(),
        base_url: base_url.to_owned(),
        defaults: Some(ServerDefaults {
            php_version: "8.2".to_owned(),
        }),
        ..Default::default()
    }
}

/// Labels from pairs.
fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// Starts an admin_api simulator accepting `admin` / `admin_password`.
async fn start_sim(admin_password: &str) -> AdminApiSim {
    AdminApiSim::start(AdminApiConfig {
        admin_password: admin_password.to_owned(),
        ..AdminApiConfig::default()
    })
    .await
    .expect("start the admin_api simulator")
}

fn seconds_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit i64")
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------
// Call helpers
// ---------------------------------------------------------------------------

async fn register(
    gateway: &Gateway,
    server: Server,
    credentials: Option<Credentials>,
) -> Result<Server, Status> {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(server),
            credentials,
            request_id: String::new(),
        })
        .await
        .map(|reply| reply.into_inner().server.expect("server in reply"))
}

async fn get_server(gateway: &Gateway, target: Option<Target>) -> Result<Server, Status> {
    gateway
        .inventory()
        .get_server(GetServerRequest { target })
        .await
        .map(|reply| reply.into_inner().server.expect("server in reply"))
}

async fn update_server(gateway: &Gateway, request: UpdateServerRequest) -> Result<Server, Status> {
    gateway
        .inventory()
        .update_server(request)
        .await
        .map(|reply| reply.into_inner().server.expect("server in reply"))
}

async fn list_servers(
    gateway: &Gateway,
    request: ListServersRequest,
) -> Result<ListServersResponse, Status> {
    gateway
        .inventory()
        .list_servers(request)
        .await
        .map(|reply| reply.into_inner())
}

/// Names of every server the filter of `request` lets through (one page).
async fn listed_names(gateway: &Gateway, request: ListServersRequest) -> Vec<String> {
    let page = list_servers(gateway, request).await.expect("list servers");
    assert!(page.next_page_token.is_empty(), "one page: {page:?}");
    page.servers.into_iter().map(|server| server.name).collect()
}

async fn check_server(gateway: &Gateway, target: Option<Target>) -> CheckServerResponse {
    gateway
        .inventory()
        .check_server(CheckServerRequest { target })
        .await
        .expect("CheckServer answers")
        .into_inner()
}

fn new_account(target: Option<Target>, username: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target,
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "first-password-1".to_owned(),
        package: "Basic".to_owned(),
        ..Default::default()
    }
}

async fn create_account(
    gateway: &Gateway,
    target: Option<Target>,
    username: &str,
) -> Result<Account, Status> {
    gateway
        .accounts()
        .create_account(new_account(target, username))
        .await
        .map(|reply| reply.into_inner().account.expect("account in reply"))
}

async fn get_account(
    gateway: &Gateway,
    target: Option<Target>,
    username: &str,
) -> Result<Account, Status> {
    gateway
        .accounts()
        .get_account(GetAccountRequest {
            target,
            username: username.to_owned(),
        })
        .await
        .map(|reply| reply.into_inner().account.expect("account in reply"))
}

/// Asserts `secret` is neither in the encoded reply nor in its Debug text.
#[track_caller]
fn assert_not_in_reply<M: Message + std::fmt::Debug>(reply: &M, secret: &str) {
    let bytes = reply.encode_to_vec();
    assert!(
        !bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes()),
        "secret in the encoded reply"
    );
    assert!(
        !format!("{reply:?}").contains(secret),
        "secret in the reply's Debug"
    );
}

// ---------------------------------------------------------------------------
// RegisterServer and GetServer
// ---------------------------------------------------------------------------

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
                capabilities: vec![Operation::IssueCertificate.into()],
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
            assert_eq!(registered.tls, given.tls);
            assert_eq!(registered.defaults, given.defaults);
            assert!(registered.credentials_set);
            let capabilities: Vec<Operation> = registered.capabilities().collect();
            assert!(
                capabilities.contains(&Operation::CreateAccount),
                "capabilities are the panel's: {capabilities:?}"
            );
            assert!(
                !capabilities.contains(&Operation::ListAccounts),
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

// ---------------------------------------------------------------------------
// ListServers
// ---------------------------------------------------------------------------

/// Five servers in pages of two: three pages in name order, no server twice
/// or missing, the last page without a token; page_size 0 means one page.
async fn list_servers_pages_by_name(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            for name in ["srv-c", "srv-a", "srv-e", "srv-b", "srv-d"] {
                register(&gateway, admin_api_server(name, "http://127.0.0.1:1"), None)
                    .await
                    .expect("register");
            }
            let mut pages: Vec<Vec<String>> = Vec::new();
            let mut token = String::new();
            loop {
                let page = list_servers(
                    &gateway,
                    ListServersRequest {
                        page_size: 2,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                )
                .await
                .expect("list a page");
                pages.push(page.servers.into_iter().map(|s| s.name).collect());
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
                assert!(pages.len() < 10, "paging does not end: {pages:?}");
            }
            assert_eq!(
                pages,
                vec![
                    vec!["srv-a", "srv-b"],
                    vec!["srv-c", "srv-d"],
                    vec!["srv-e"],
                ],
            );
            let all = listed_names(&gateway, ListServersRequest::default()).await;
            assert_eq!(all, ["srv-a", "srv-b", "srv-c", "srv-d", "srv-e"]);
        },
    )
    .await;
}

/// Filters by kind, group, state and labels, each alone and together: a
/// server is listed only when it meets every condition.
async fn list_servers_filters_combine_with_and(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let fleet = [
                (
                    "srv-a",
                    "eu",
                    ServerState::Disabled,
                    &[("tier", "gold")][..],
                ),
                (
                    "srv-b",
                    "us",
                    ServerState::Draining,
                    &[("tier", "gold"), ("region", "us")][..],
                ),
                (
                    "srv-c",
                    "eu",
                    ServerState::Active,
                    &[("tier", "gold"), ("region", "eu")][..],
                ),
                (
                    "srv-d",
                    "eu",
                    ServerState::Active,
                    &[("tier", "silver"), ("region", "eu")][..],
                ),
                (
                    "srv-e",
                    "us",
                    ServerState::Active,
                    &[("tier", "silver"), ("region", "us")][..],
                ),
            ];
            for (name, group, state, pairs) in fleet {
                let server = Server {
                    group: group.to_owned(),
                    state: state.into(),
                    labels: labels(pairs),
                    ..admin_api_server(name, "http://127.0.0.1:1")
                };
                let stored = register(&gateway, server, None).await.expect("register");
                assert_eq!(stored.state(), state);
            }
            let filtered = |request: ListServersRequest| listed_names(&gateway, request);

            let by_kind = |kind: PanelKind| ListServersRequest {
                kind: kind.into(),
                ..Default::default()
            };
            assert_eq!(filtered(by_kind(PanelKind::AdminApi)).await.len(), 5);
            assert!(filtered(by_kind(PanelKind::Spanel)).await.is_empty());

            let by_group = |group: &str| ListServersRequest {
                group: group.to_owned(),
                ..Default::default()
            };
            assert_eq!(filtered(by_group("eu")).await, ["srv-a", "srv-c", "srv-d"]);
            assert_eq!(filtered(by_group("us")).await, ["srv-b", "srv-e"]);
            assert!(filtered(by_group("apac")).await.is_empty());

            let by_state = |state: ServerState| ListServersRequest {
                state: state.into(),
                ..Default::default()
            };
            assert_eq!(
                filtered(by_state(ServerState::Active)).await,
                ["srv-c", "srv-d", "srv-e"]
            );
            assert_eq!(filtered(by_state(ServerState::Draining)).await, ["srv-b"]);
            assert_eq!(filtered(by_state(ServerState::Disabled)).await, ["srv-a"]);

            let by_labels = |pairs: &[(&str, &str)]| ListServersRequest {
                labels: labels(pairs),
                ..Default::default()
            };
            assert_eq!(
                filtered(by_labels(&[("tier", "gold")])).await,
                ["srv-a", "srv-b", "srv-c"]
            );
            assert_eq!(
                filtered(by_labels(&[("tier", "gold"), ("region", "us")])).await,
                ["srv-b"],
                "labels combine with AND"
            );
            assert!(
                filtered(by_labels(&[("tier", "gold"), ("region", "apac")]))
                    .await
                    .is_empty()
            );
            assert!(filtered(by_labels(&[("owner", "nobody")])).await.is_empty());

            let everything = ListServersRequest {
                kind: PanelKind::AdminApi.into(),
                group: "eu".into(),
                state: ServerState::Active.into(),
                labels: labels(&[("tier", "silver")]),
                ..Default::default()
            };
            assert_eq!(filtered(everything).await, ["srv-d"]);
        },
    )
    .await;
}

// ---------------------------------------------------------------------------
// UpdateServer and DeleteServer
// ---------------------------------------------------------------------------

/// UpdateServer changes the fields it is given and keeps the others: a
/// rename retires the old name at once (GetServer and hosting calls, though
/// both were cached), labels are replaced as a set, state, group,
/// max_accounts and defaults change; an unknown server or a taken name is
/// refused.
async fn update_server_changes_only_what_is_set(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let original = register(
                &gateway,
                Server {
                    group: "g1".into(),
                    labels: labels(&[("a", "1")]),
                    ..admin_api_server("before", &fixture.base_url())
                },
                Some(fixture.credentials()),
            )
            .await
            .expect("register");
            // Warm the router's caches under the old name.
            create_account(&gateway, by_name("before"), "upd")
                .await
                .expect("create account");
            get_account(&gateway, by_name("before"), "upd")
                .await
                .expect("get account by the old name");

            // Rename.
            let renamed = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("before"),
                    name: Some("after".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("rename");
            assert_eq!(renamed.name, "after");
            assert_eq!(renamed.id, original.id);
            let unchanged = Server {
                name: "after".into(),
                update_time: renamed.update_time,
                ..original.clone()
            };
            assert_eq!(renamed, unchanged, "only the name changed");
            let (old_time, new_time) = (
                original.update_time.expect("update_time"),
                renamed.update_time.expect("update_time"),
            );
            assert!(
                (new_time.seconds, new_time.nanos) > (old_time.seconds, old_time.nanos),
                "update_time moves: {old_time:?} → {new_time:?}"
            );
            assert_error(
                get_server(&gateway, by_name("before")).await,
                Code::NotFound,
                "SERVER_NOT_FOUND",
            );
            assert_error(
                get_account(&gateway, by_name("before"), "upd").await,
                Code::NotFound,
                "SERVER_NOT_FOUND",
            );
            let routed = get_account(&gateway, by_name("after"), "upd")
                .await
                .expect("the new name routes");
            assert_eq!(routed.server_id, original.id);
            assert_eq!(
                get_server(&gateway, by_id(&original.id))
                    .await
                    .expect("get by id")
                    .name,
                "after"
            );

            // Labels are replaced as a whole; an empty set removes them all.
            let relabelled = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    labels: Some(LabelSet {
                        labels: labels(&[("b", "2"), ("c", "3")]),
                    }),
                    ..Default::default()
                },
            )
            .await
            .expect("relabel");
            assert_eq!(relabelled.labels, labels(&[("b", "2"), ("c", "3")]));
            let stored = get_server(&gateway, by_name("after")).await.expect("get");
            assert_eq!(stored.labels, labels(&[("b", "2"), ("c", "3")]));
            assert_eq!(stored.group, "g1", "group kept");
            let unlabelled = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    labels: Some(LabelSet::default()),
                    ..Default::default()
                },
            )
            .await
            .expect("remove labels");
            assert!(unlabelled.labels.is_empty());

            // State, group, max_accounts and defaults, all in one update.
            let changed = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_id(&original.id),
                    group: Some("g2".into()),
                    state: Some(ServerState::Draining.into()),
                    max_accounts: Some(7),
                    defaults: Some(ServerDefaults {
                        php_version: "8.3".into(),
                    }),
                    ..Default::default()
                },
            )
            .await
            .expect("update");
            let stored = get_server(&gateway, by_name("after")).await.expect("get");
            assert_eq!(stored, changed, "GetServer agrees with the reply");
            assert_eq!(stored.group, "g2");
            assert_eq!(stored.state(), ServerState::Draining);
            assert_eq!(stored.max_accounts, 7);
            assert_eq!(
                stored.defaults.as_ref().map(|d| d.php_version.as_str()),
                Some("8.3")
            );
            assert_eq!(stored.base_url, original.base_url, "base_url kept");
            assert_eq!(stored.tls, original.tls, "tls kept");
            assert!(stored.credentials_set, "credentials kept");

            let active = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    state: Some(ServerState::Active.into()),
                    max_accounts: Some(0),
                    ..Default::default()
                },
            )
            .await
            .expect("back to active, no cap");
            assert_eq!(active.state(), ServerState::Active);
            assert_eq!(active.max_accounts, 0);

            // An unknown server, a taken name.
            for target in [
                by_name("nope"),
                by_id("00000000-0000-4000-8000-000000000000"),
            ] {
                let missing = update_server(
                    &gateway,
                    UpdateServerRequest {
                        target,
                        group: Some("g3".into()),
                        ..Default::default()
                    },
                )
                .await;
                assert_error(missing, Code::NotFound, "SERVER_NOT_FOUND");
            }
            register(
                &gateway,
                admin_api_server("other", "http://127.0.0.1:1"),
                None,
            )
            .await
            .expect("register another server");
            let taken = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    name: Some("other".into()),
                    ..Default::default()
                },
            )
            .await;
            assert_error(taken, Code::AlreadyExists, "SERVER_ALREADY_EXISTS");
            assert_eq!(
                get_server(&gateway, by_name("after"))
                    .await
                    .expect("still there")
                    .id,
                original.id
            );
        },
    )
    .await;
}

/// New credentials replace the old ones at once, even though the adapter
/// with the old ones was cached: wrong ones make the panel refuse
/// (PANEL_CREDENTIALS_REJECTED), right ones work again; credentials_set
/// stays true throughout.
async fn update_server_replaces_credentials(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "creds").await;
            create_account(&gateway, by_name("creds"), "cred1")
                .await
                .expect("create with the first credentials");

            let wrong = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("creds"),
                    credentials: Some(password_credentials("admin", "not-the-password")),
                    ..Default::default()
                },
            )
            .await
            .expect("replace credentials");
            assert!(wrong.credentials_set);
            let checked = check_server(&gateway, by_name("creds")).await;
            assert!(!checked.healthy, "wrong credentials: {checked:?}");
            assert_eq!(checked.error_reason, "PANEL_CREDENTIALS_REJECTED");
            assert_error(
                get_account(&gateway, by_name("creds"), "cred1").await,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
            );

            let right = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("creds"),
                    credentials: Some(fixture.credentials()),
                    ..Default::default()
                },
            )
            .await
            .expect("replace credentials again");
            assert!(right.credentials_set);
            assert!(check_server(&gateway, by_name("creds")).await.healthy);
            get_account(&gateway, by_name("creds"), "cred1")
                .await
                .expect("the right credentials work again");
        },
    )
    .await;
}

/// DeleteServer removes the server and its account index entries (the panel
/// keeps its accounts): GetServer, hosting calls by its name (though cached)
/// and index-routed calls no longer find it; deleting again → NOT_FOUND.
async fn delete_server_forgets_it_everywhere(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let id = fixture.register(&gateway, "doomed").await;
            create_account(&gateway, by_name("doomed"), "gone")
                .await
                .expect("create");
            get_account(&gateway, None, "gone")
                .await
                .expect("routed by the index");

            gateway
                .inventory()
                .delete_server(DeleteServerRequest {
                    target: by_name("doomed"),
                    request_id: String::new(),
                })
                .await
                .expect("delete");

            for target in [by_name("doomed"), by_id(&id)] {
                assert_error(
                    get_server(&gateway, target.clone()).await,
                    Code::NotFound,
                    "SERVER_NOT_FOUND",
                );
                assert_error(
                    get_account(&gateway, target, "gone").await,
                    Code::NotFound,
                    "SERVER_NOT_FOUND",
                );
            }
            assert_error(
                get_account(&gateway, None, "gone").await,
                Code::NotFound,
                "ACCOUNT_NOT_INDEXED",
            );
            let listed = list_servers(&gateway, ListServersRequest::default())
                .await
                .expect("list");
            assert!(listed.servers.is_empty(), "{listed:?}");
            assert!(fixture.account_exists("gone"), "the panel is not touched");

            let again = gateway
                .inventory()
                .delete_server(DeleteServerRequest {
                    target: by_name("doomed"),
                    request_id: String::new(),
                })
                .await;
            assert_error(again, Code::NotFound, "SERVER_NOT_FOUND");
        },
    )
    .await;
}

// ---------------------------------------------------------------------------
// CheckServer
// ---------------------------------------------------------------------------

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
            let capabilities: Vec<Operation> = alive.capabilities().collect();
            assert!(capabilities.contains(&Operation::CreateAccount));
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

// ---------------------------------------------------------------------------
// Server states and max_accounts
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Account index routing
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Credentials at rest (SQLite)
// ---------------------------------------------------------------------------

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

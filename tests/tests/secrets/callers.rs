//! Caller tokens. The gateway verifies every call's bearer JWT; the tokens a
//! caller sends (valid ones, an expired one, one signed with another secret,
//! one whose signature was tampered with, ones lacking a scope or limited to
//! other groups) and the HS256 secret that signs them must never show in a
//! log line, an error or a reply, refusals of the authentication layer
//! included. Every panelgate.v1 RPC is called with every refused token
//! (and with none), carrying a secret-bearing request; the secret-bearing
//! mutations are also refused for a missing scope and for another group.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use panelgate::auth::{Auth, KeyMaterial, Tokens, scopes};
use panelgate_proto::v1::{
    ChangePasswordRequest, CreateAccountRequest, CreateLoginLinkRequest, CreatePanelAdminRequest,
    GetAccountRequest, ListOperationsRequest, ListServersRequest, RegisterServerRequest, Server,
    UpdateServerRequest,
};
use panelgate_sim::admin_api::{AdminApiConfig, AdminApiSim};
use panelgate_tests::{
    Backend, Gateway,
    gateway::{Bearer, TEST_TOKEN_AUDIENCE, TEST_TOKEN_SECRET, by_name, with_gateway},
    logs,
    raw::unary,
};
use prost::Message;
use secrecy::SecretBox;
use tonic::{Code, Status, service::interceptor::InterceptedService};

use panelgate_tests::secrets::{
    Secrets, Seen, assert_nothing_leaked, known_caller, recognisable_master_key,
};

use super::{
    create_account_request, create_database_request, descriptor_rpcs, password_credentials,
    register_request,
};

panelgate_tests::on_both_backends!(caller_tokens_never_leak);

/// Token verification with `secret`, the test issuer and audience, and no
/// clock skew allowed (so a token issued to expire now is expired a second
/// later).
fn strict_tokens(secret: &str) -> Tokens {
    Tokens::new(
        KeyMaterial::Hs256(SecretBox::new(
            secret.as_bytes().to_vec().into_boxed_slice(),
        )),
        TEST_TOKEN_AUDIENCE,
        TEST_TOKEN_AUDIENCE,
        Duration::ZERO,
    )
    .expect("token settings")
}

/// `token` with one character of its signature changed.
fn tampered(token: &str) -> String {
    let (signed, signature) = token.rsplit_once('.').expect("a JWT");
    let mut characters: Vec<char> = signature.chars().collect();
    let middle = characters.len() / 2;
    characters[middle] = if characters[middle] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{signed}.{}", characters.into_iter().collect::<String>());
    assert_ne!(tampered, token);
    tampered
}

/// A caller of the refusal sweep: a label, the token sent (None: no
/// `authorization` at all), and the refusal expected.
struct Refused {
    label: &'static str,
    token: Option<String>,
    code: Code,
    reason: &'static str,
    /// What the refusal's message says: why this token is refused.
    message: &'static str,
}

/// Registers a server and an account as a valid caller, then is refused as
/// every other kind of caller on every RPC, with secrets aboard; the panel
/// hears nothing of the refused calls, and no token, no signature and no
/// other secret shows anywhere.
async fn caller_tokens_never_leak(backend: Backend) {
    logs::capture(tracing::Level::TRACE);
    let mut secrets = Secrets::new(backend);
    let keyring = recognisable_master_key(&mut secrets);
    let admin = secrets.make("admin password (callers)", "Callers-Admin-Pass");
    let sim = AdminApiSim::start(AdminApiConfig {
        admin_password: admin.clone(),
        ..AdminApiConfig::default()
    })
    .await
    .expect("start the admin_api simulator");
    let server = format!("callers-{}", format!("{backend:?}").to_ascii_lowercase());
    let unique = secrets.unique.clone();

    // Tokens made outside the gateway: one of its secret that expires now,
    // and one signed with another secret.
    let expired = strict_tokens(TEST_TOKEN_SECRET)
        .issue(
            &format!("secrets-expired-{unique}"),
            &scopes::ALL
                .iter()
                .map(|scope| (*scope).to_owned())
                .collect::<Vec<_>>(),
            &[],
            Duration::ZERO,
        )
        .expect("issue a token expiring now");
    let expired_at = Instant::now();
    secrets.learn_token("expired caller JWT", &expired);
    let forger_secret = secrets.make("HS256 secret of a forger", "Forger-Hs256-Key");
    let forged = strict_tokens(&forger_secret)
        .issue(
            &format!("secrets-forged-{unique}"),
            &scopes::ALL
                .iter()
                .map(|scope| (*scope).to_owned())
                .collect::<Vec<_>>(),
            &[],
            Duration::from_secs(600),
        )
        .expect("issue a forged token");
    secrets.learn_token("caller JWT signed with another secret", &forged);

    with_gateway(
        backend,
        move |config| {
            config.keyring = Some(keyring);
            config.auth = Some(Arc::new(Auth {
                tokens: strict_tokens(TEST_TOKEN_SECRET),
                reflection_public: false,
            }));
        },
        |gateway| async move {
            let mut seen = Seen::default();
            let subject = format!("secrets-callers-{unique}");
            let caller = known_caller(&gateway, &mut secrets, &subject);
            let password = secrets.make("account password (callers)", "Callers-Account-Pass");
            setup(
                &caller,
                &server,
                &sim.base_url(),
                &admin,
                &password,
                &mut seen,
            )
            .await;

            let mut token = |what: &'static str, scopes: &[&str], groups: &[&str]| {
                let token = gateway.token(&format!("secrets-{what}-{unique}"), scopes, groups);
                secrets.learn_token(&format!("caller JWT ({what})"), &token);
                token
            };
            let original = token("to-be-tampered", scopes::ALL, &[]);
            let read_only = token(
                "read-only",
                &[
                    scopes::INVENTORY_READ,
                    scopes::HOSTING_READ,
                    scopes::OPERATIONS_READ,
                ],
                &[],
            );
            let reflection_only = token("reflection-only", &[scopes::REFLECTION], &[]);
            let other_group = token("other-group", scopes::ALL, &["us"]);
            let tampered = tampered(&original);
            secrets.learn_token("tampered caller JWT", &tampered);

            // The expired token expires a second after it was issued.
            let expired_by = expired_at + Duration::from_millis(1_200);
            tokio::time::sleep_until(expired_by.into()).await;

            let requests_before = sim.request_count();
            let bodies = secret_bodies(&server, &mut secrets);
            let sweep = [
                Refused {
                    label: "no token",
                    token: None,
                    code: Code::Unauthenticated,
                    reason: "UNAUTHENTICATED",
                    message: "send `authorization: Bearer <token>`",
                },
                Refused {
                    label: "expired token",
                    token: Some(expired),
                    code: Code::Unauthenticated,
                    reason: "UNAUTHENTICATED",
                    message: "the token has expired",
                },
                Refused {
                    label: "token signed with another secret",
                    token: Some(forged.clone()),
                    code: Code::Unauthenticated,
                    reason: "UNAUTHENTICATED",
                    message: "the token's signature does not verify",
                },
                Refused {
                    label: "tampered token",
                    token: Some(tampered),
                    code: Code::Unauthenticated,
                    reason: "UNAUTHENTICATED",
                    message: "the token's signature does not verify",
                },
                Refused {
                    label: "token without the RPC's scope",
                    token: Some(reflection_only),
                    code: Code::PermissionDenied,
                    reason: "SCOPE_MISSING",
                    message: "the token lacks scope",
                },
            ];
            let rpcs = descriptor_rpcs();
            for refused in &sweep {
                for rpc in &rpcs {
                    let body = bodies
                        .iter()
                        .find(|(path, _)| path == rpc)
                        .map_or(&bodies[0].1, |(_, body)| body);
                    let result = call(&gateway, refused.token.as_deref(), rpc, body.clone()).await;
                    let status = seen.failure(
                        format!("{rpc} with {}", refused.label),
                        result,
                        refused.code,
                        refused.reason,
                    );
                    assert!(
                        status.message().contains(refused.message),
                        "{rpc} with {}: {status:?}",
                        refused.label
                    );
                }
            }

            // Writes with a token lacking their scope, and with one limited
            // to another group than the server's.
            for (rpc, body) in &bodies {
                let result = call(&gateway, Some(&read_only), rpc, body.clone()).await;
                seen.failure(
                    format!("{rpc} read-only"),
                    result,
                    Code::PermissionDenied,
                    "SCOPE_MISSING",
                );
                let result = call(&gateway, Some(&other_group), rpc, body.clone()).await;
                seen.failure(
                    format!("{rpc} for another group"),
                    result,
                    Code::PermissionDenied,
                    "GROUP_NOT_ALLOWED",
                );
            }
            assert_eq!(
                sim.request_count(),
                requests_before,
                "no refused call reached the panel"
            );
            assert!(sim.user("intruder").is_none());

            // Open health, with a token it does not need: answered, not logged.
            let health = call(
                &gateway,
                Some(&forged),
                "/grpc.health.v1.Health/Check",
                Vec::new(),
            )
            .await;
            assert!(health.is_ok(), "health is open: {health:?}");

            // What callers refused for their group may list: nothing of
            // the server's group; the journal of refused calls holds no secret.
            let limited = gateway.as_caller(&other_group);
            let listed = limited
                .inventory()
                .list_servers(ListServersRequest::default())
                .await
                .expect("list servers of the token's groups")
                .into_inner();
            assert!(listed.servers.is_empty(), "{listed:?}");
            seen.page(
                "ListServers (other group)",
                &listed,
                &listed.next_page_token,
            );
            let journal = caller
                .operations()
                .list_operations(ListOperationsRequest {
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .expect("list operations")
                .into_inner();
            assert!(
                journal
                    .operations
                    .iter()
                    .any(|entry| entry.caller == subject),
                "the caller's subject is journalled: {journal:?}"
            );
            assert!(
                journal
                    .operations
                    .iter()
                    .all(|entry| !entry.caller.contains("expired")
                        && !entry.caller.contains("forged")),
                "calls refused by the authentication layer are not journalled"
            );
            assert!(
                journal.operations.iter().any(|entry| {
                    entry.caller.contains("other-group") && entry.code == "PERMISSION_DENIED"
                }),
                "writes refused for their group are journalled, and searched: {journal:?}"
            );
            seen.page("ListOperations", &journal, &journal.next_page_token);

            assert_nothing_leaked(
                &gateway,
                &server,
                &[
                    "InventoryService/RegisterServer",
                    "AccountService/CreateAccount",
                    "OperationService/ListOperations",
                ],
                &secrets,
                &seen,
            );
        },
    )
    .await;
}

/// As a valid caller: registers `server` (group `eu`) with `admin`, creates
/// `keeper` with `password`.
async fn setup(
    caller: &Gateway,
    server: &str,
    base_url: &str,
    admin: &str,
    password: &str,
    seen: &mut Seen,
) {
    let mut request = register_request(server, base_url, password_credentials(admin));
    if let Some(server) = request.server.as_mut() {
        server.group = "eu".into();
    }
    let registered = caller
        .inventory()
        .register_server(request)
        .await
        .expect("register")
        .into_inner();
    seen.reply("RegisterServer", &registered);
    let created = caller
        .accounts()
        .create_account(create_account_request(server, "keeper", password))
        .await
        .expect("create account")
        .into_inner();
    seen.reply("CreateAccount", &created);
    let got = caller
        .accounts()
        .get_account(GetAccountRequest {
            target: by_name(server),
            username: "keeper".into(),
        })
        .await
        .expect("get account")
        .into_inner();
    seen.reply("GetAccount", &got);
}

/// The encoded requests of the RPCs that carry secrets, each with a new one,
/// all about `server` (first: CreateAccount, which the sweep sends to RPCs
/// without a secret of their own).
fn secret_bodies(server: &str, secrets: &mut Secrets) -> Vec<(String, Vec<u8>)> {
    let rpc = |method: &str| format!("/panelgate.v1.{method}");
    let account = CreateAccountRequest {
        request_id: "refused-create".into(),
        ..create_account_request(
            server,
            "intruder",
            &secrets.make("password of a refused caller", "Refused-Account-Pass"),
        )
    };
    let change = ChangePasswordRequest {
        target: by_name(server),
        username: "keeper".into(),
        password: secrets.make("new password of a refused caller", "Refused-Changed-Pass"),
        ..Default::default()
    };
    let database = panelgate_proto::v1::CreateDatabaseRequest {
        target: by_name(server),
        ..create_database_request(
            "keeper",
            "loot",
            &secrets.make("database password of a refused caller", "Refused-Db-Pass"),
        )
    };
    let register = RegisterServerRequest {
        server: Some(Server {
            group: "eu".into(),
            ..register_request(&format!("{server}-rogue"), "https://127.0.0.1:9/", None)
                .server
                .expect("a server")
        }),
        credentials: password_credentials(&secrets.make(
            "credentials registered by a refused caller",
            "Refused-Register-Pass",
        )),
        request_id: String::new(),
    };
    let update = UpdateServerRequest {
        target: by_name(server),
        credentials: password_credentials(
            &secrets.make("credentials set by a refused caller", "Refused-Update-Pass"),
        ),
        ..Default::default()
    };
    let admin = CreatePanelAdminRequest {
        target: by_name(server),
        username: "rogueadmin".into(),
        password: secrets.make(
            "panel admin password of a refused caller",
            "Refused-Admin-Pass",
        ),
        full_access: true,
        ..Default::default()
    };
    let login = CreateLoginLinkRequest {
        target: by_name(server),
        username: "keeper".into(),
    };
    vec![
        (rpc("AccountService/CreateAccount"), account.encode_to_vec()),
        (rpc("AccountService/ChangePassword"), change.encode_to_vec()),
        (
            rpc("DatabaseService/CreateDatabase"),
            database.encode_to_vec(),
        ),
        (
            rpc("InventoryService/RegisterServer"),
            register.encode_to_vec(),
        ),
        (rpc("InventoryService/UpdateServer"), update.encode_to_vec()),
        (rpc("ServerService/CreatePanelAdmin"), admin.encode_to_vec()),
        (rpc("AccountService/CreateLoginLink"), login.encode_to_vec()),
    ]
}

/// Calls `path` with the encoded request `body`, sending `token` as the
/// bearer (none: no `authorization`); the reply comes back encoded.
async fn call(
    gateway: &Gateway,
    token: Option<&str>,
    path: &str,
    body: Vec<u8>,
) -> Result<Vec<u8>, Status> {
    match token {
        Some(token) => {
            unary(
                InterceptedService::new(
                    gateway.channel(),
                    Bearer::new(token).expect("a token is ASCII"),
                ),
                path,
                body,
            )
            .await
        }
        None => unary(gateway.channel(), path, body).await,
    }
}

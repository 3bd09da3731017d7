//! What the journal keeps: no secret, and nothing past its retention.

use std::{sync::Arc, time::Duration};

use panelgate::{
    Config,
    auth::{Auth, scopes},
};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    ApiTokenCredentials, ChangePasswordRequest, CreateDatabaseRequest, CreateLoginLinkRequest,
    Credentials, GetOperationRequest, ListOperationsRequest, RegisterServerRequest,
    UpdateServerRequest, credentials, operation_service_client::OperationServiceClient,
};
use panelgate_sim::SpanelConfig;
use panelgate_tests::{
    Backend, PanelFixture, SpanelFixture,
    errors::assert_error,
    gateway::{Bearer, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, by_name, start, test_tokens},
    with_gateway,
};
use prost::Message;
use tonic::{Code, service::interceptor::InterceptedService};

use crate::{all_entries, create, create_request, list, register_request};

panelgate_tests::on_both_backends!(
    journal_holds_no_secret,
    journal_retention_deletes_old_entries
);

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
        fixture.register_in(&gateway, "scala", "").await;
        create(&gateway, "scala", "alice").await;
        let kept = all_entries(&gateway).await;
        assert_eq!(kept.len(), 2);

        let mut config = Config::new(gateway.database_url.clone());
        config.keyring = Some(keyring);
        config.outbound.timeouts.set_each(TEST_UPSTREAM_TIMEOUT);
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

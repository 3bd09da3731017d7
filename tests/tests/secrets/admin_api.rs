//! admin_api (OLSPanel): an admin password in every request's headers,
//! account, database and login-link secrets, rejected and rotated credentials.

use panelgate_proto::v1::{
    ApiTokenCredentials, ChangePasswordRequest, CheckServerRequest, CreateLoginLinkRequest,
    Credentials, GetAccountRequest, GetServerRequest, ListServersRequest, UpdateServerRequest,
    credentials,
};
use panelgate_sim::admin_api::{AdminApiConfig, AdminApiSim};
use panelgate_tests::{
    Backend, Gateway,
    errors::reason,
    gateway::{by_name, with_gateway},
    logs,
};
use tonic::Code;

use panelgate_tests::secrets::{
    Secrets, Seen, assert_nothing_leaked, known_caller, link_token, recognisable_master_key,
    with_master_key,
};

use super::{
    create_account_request, create_database_request, password_credentials, register_refused,
    register_request,
};

panelgate_tests::on_both_backends!(secrets_never_leak);

/// Drives every call that carries a secret (RegisterServer, CreateAccount,
/// ChangePassword, CreateDatabase, CreateLoginLink, UpdateServer with new
/// credentials) and failing ones (rejected panel credentials, invalid input
/// holding a secret, panel-side refusals), then finds no secret in the TRACE
/// log, in any error, in any reply but the login link's own, or in the
/// database at rest, while the log provably captured these very calls. The
/// gateway runs with this flow's master key, called with a token it knows.
async fn secrets_never_leak(backend: Backend) {
    logs::capture(tracing::Level::TRACE);
    let mut secrets = Secrets::new(backend);
    let admin = secrets.make("admin password", "Admin-Pass");
    let sim = AdminApiSim::start(AdminApiConfig {
        admin_password: admin.clone(),
        ..AdminApiConfig::default()
    })
    .await
    .expect("start the admin_api simulator");
    let server = format!("secrets-{}", format!("{backend:?}").to_ascii_lowercase());
    let keyring = recognisable_master_key(&mut secrets);

    with_gateway(backend, with_master_key(keyring), |gateway| async move {
        let gateway = known_caller(&gateway, &mut secrets, "secrets-admin-api");
        let mut seen = Seen::default();
        succeeding_calls(&gateway, &sim, &server, &admin, &mut secrets, &mut seen).await;
        failing_calls(&gateway, &sim, &server, &admin, &mut secrets, &mut seen).await;

        assert!(seen.failures.len() >= 8, "the failing calls were made");
        assert_nothing_leaked(
            &gateway,
            &server,
            &[
                "InventoryService/RegisterServer",
                "InventoryService/UpdateServer",
                "AccountService/CreateAccount",
                "AccountService/ChangePassword",
                "AccountService/CreateLoginLink",
                "DatabaseService/CreateDatabase",
            ],
            &secrets,
            &seen,
        );
    })
    .await;
}

/// Calls that succeed while carrying secrets; each reply is recorded, and
/// the panel is checked to have received what was sent.
async fn succeeding_calls(
    gateway: &Gateway,
    sim: &AdminApiSim,
    server: &str,
    admin: &str,
    secrets: &mut Secrets,
    seen: &mut Seen,
) {
    let mut inventory = gateway.inventory();
    let mut accounts = gateway.accounts();

    let registered = inventory
        .register_server(register_request(
            server,
            &sim.base_url(),
            password_credentials(admin),
        ))
        .await
        .expect("register")
        .into_inner();
    seen.reply("RegisterServer", &registered);
    let checked = inventory
        .check_server(CheckServerRequest {
            target: by_name(server),
        })
        .await
        .expect("check")
        .into_inner();
    assert!(checked.healthy, "the admin password works: {checked:?}");
    seen.reply("CheckServer", &checked);

    let password = secrets.make("account password", "Account-Pass");
    let created = accounts
        .create_account(create_account_request(server, "keeper", &password))
        .await
        .expect("create account")
        .into_inner();
    seen.reply("CreateAccount", &created);
    assert_eq!(sim.user("keeper").map(|u| u.password), Some(password));

    let changed = secrets.make("changed password", "Changed-Pass");
    let reply = accounts
        .change_password(ChangePasswordRequest {
            username: "keeper".into(),
            password: changed.clone(),
            ..Default::default()
        })
        .await
        .expect("change password")
        .into_inner();
    seen.reply("ChangePassword", &reply);
    assert_eq!(sim.user("keeper").map(|u| u.password), Some(changed));

    let database_password = secrets.make("database password", "Db-Pass");
    let database = gateway
        .databases()
        .create_database(create_database_request(
            "keeper",
            "shop",
            &database_password,
        ))
        .await
        .expect("create database")
        .into_inner();
    seen.reply("CreateDatabase", &database);
    assert!(
        sim.user("keeper")
            .is_some_and(|u| u.databases.contains(&"keeper_shop".to_owned()))
    );

    // The login link is the point of its reply; its token is a secret everywhere else.
    let link = accounts
        .create_login_link(CreateLoginLinkRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("login link")
        .into_inner();
    let token = link_token(&link, "token=");
    assert!(token.len() >= 16, "a real token: {token}");
    assert!(
        !format!("{link:?}").contains(&token),
        "the login link reply's Debug redacts the URL"
    );
    secrets.learn("login link token", token);

    // Reads after all that.
    let account = accounts
        .get_account(GetAccountRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("get account")
        .into_inner();
    seen.reply("GetAccount", &account);
    let got = inventory
        .get_server(GetServerRequest {
            target: by_name(server),
        })
        .await
        .expect("get server")
        .into_inner();
    seen.reply("GetServer", &got);
    let listed = inventory
        .list_servers(ListServersRequest::default())
        .await
        .expect("list servers")
        .into_inner();
    seen.reply("ListServers", &listed);
}

/// Calls that fail with secrets aboard, each checked for its code and
/// reason; then the server is given its right credentials back.
async fn failing_calls(
    gateway: &Gateway,
    sim: &AdminApiSim,
    server: &str,
    admin: &str,
    secrets: &mut Secrets,
    seen: &mut Seen,
) {
    let mut inventory = gateway.inventory();
    let mut accounts = gateway.accounts();

    // Invalid input holding a secret: refused before any panel call.
    let invalid = secrets.make("invalid account password", "Invalid-Pass");
    let result = accounts
        .create_account(create_account_request(
            server,
            "leaky",
            &format!("{invalid}\u{7}"),
        ))
        .await;
    seen.failure(
        "CreateAccount (invalid)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let too_long = secrets.make("over-long password", "Long-Pass");
    let result = accounts
        .change_password(ChangePasswordRequest {
            username: "keeper".into(),
            password: format!("{too_long}-{}", "x".repeat(128)),
            ..Default::default()
        })
        .await;
    seen.failure(
        "ChangePassword (invalid)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let invalid_db = secrets.make("invalid database password", "Invalid-Db-Pass");
    let result = gateway
        .databases()
        .create_database(create_database_request(
            "keeper",
            "blog",
            &format!("{invalid_db}\u{1b}"),
        ))
        .await;
    seen.failure(
        "CreateDatabase (invalid)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let token = secrets.make("API token of the wrong form", "Api-Token");
    let result = inventory
        .register_server(register_request(
            "secrets-token",
            &sim.base_url(),
            Some(Credentials {
                kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials { token })),
            }),
        ))
        .await;
    seen.failure(
        "RegisterServer (token)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let unstored = secrets.make("password with a bad URL", "Unstored-Pass");
    let result = inventory
        .register_server(register_request(
            "secrets-bad-url",
            "ftp://127.0.0.1/",
            password_credentials(&unstored),
        ))
        .await;
    seen.failure(
        "RegisterServer (bad URL)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );

    // The panel refuses: a taken username, a database that exists.
    let duplicate = secrets.make("duplicate account password", "Dup-Pass");
    let result = accounts
        .create_account(create_account_request(server, "keeper", &duplicate))
        .await;
    seen.failure(
        "CreateAccount (duplicate)",
        result,
        Code::AlreadyExists,
        "ACCOUNT_ALREADY_EXISTS",
    );
    let duplicate_db = secrets.make("duplicate database password", "Dup-Db-Pass");
    let result = gateway
        .databases()
        .create_database(create_database_request("keeper", "shop", &duplicate_db))
        .await;
    let status = result.expect_err("a second `shop` database is refused");
    assert!(!reason(&status).is_empty(), "{status:?}");
    seen.failures
        .push(("CreateDatabase (duplicate)".to_owned(), status));

    // Wrong panel credentials, registered from the start.
    let wrong = secrets.make("wrong admin password", "Wrong-Pass");
    let request = register_request(
        &format!("{server}-wrong"),
        &sim.base_url(),
        password_credentials(&wrong),
    );
    register_refused(gateway, request, "credentials", seen).await;

    // UpdateServer with new credentials the panel does not take, then back.
    let rotated = secrets.make("rotated admin password", "Rotated-Pass");
    let updated = inventory
        .update_server(UpdateServerRequest {
            target: by_name(server),
            credentials: password_credentials(&rotated),
            ..Default::default()
        })
        .await
        .expect("update credentials")
        .into_inner();
    seen.reply("UpdateServer", &updated);
    let refused = secrets.make("password sent with rejected credentials", "Refused-Pass");
    let result = accounts
        .change_password(ChangePasswordRequest {
            username: "keeper".into(),
            password: refused,
            ..Default::default()
        })
        .await;
    seen.failure(
        "ChangePassword (rotated credentials)",
        result,
        Code::FailedPrecondition,
        "PANEL_CREDENTIALS_REJECTED",
    );
    let restored = inventory
        .update_server(UpdateServerRequest {
            target: by_name(server),
            credentials: password_credentials(admin),
            ..Default::default()
        })
        .await
        .expect("restore credentials")
        .into_inner();
    seen.reply("UpdateServer (restore)", &restored);
    let link = accounts
        .create_login_link(CreateLoginLinkRequest {
            target: by_name(server),
            username: "keeper".into(),
        })
        .await
        .expect("a login link with the restored credentials")
        .into_inner();
    secrets.learn("second login link token", link_token(&link, "token="));
}

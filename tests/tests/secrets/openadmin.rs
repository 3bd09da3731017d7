//! OpenAdmin: JWT sessions, an echoing panel, CONNECT-era login links.

use panelgate_proto::v1::{
    ChangePasswordRequest, CheckServerRequest, CreateAccountRequest, CreateLoginLinkRequest,
    GetAccountRequest, UpdateServerRequest,
};
use panelgate_sim::{
    Fault,
    openadmin::{OpenAdminConfig, OpenAdminSim},
};
use panelgate_tests::{Backend, Gateway, errors::metadata, gateway::by_name};
use tonic::Code;

use panelgate_tests::secrets::{
    Secrets, Seen, assert_nothing_leaked, link_token, with_secret_gateway,
};

use super::{create_account_request, openadmin_register_request, password_credentials};

panelgate_tests::on_both_backends!(openadmin_secrets_never_leak);

/// Drives an OpenAdmin server through every secret it handles: the admin
/// password (each login sends it), account passwords (the panel echoes them
/// in its success message), a changed password, login links (whose
/// `admin_token` is a secret everywhere but in its own reply), a re-login
/// after the panel revoked its tokens (the JWT session is dropped and
/// replaced), and a failing login (a rotated password; a wrong one from the
/// start is the cross-panel `secrets_never_leak`'s). Then no secret and no
/// JWT is in the TRACE log, in any error or in any reply, nor any secret in
/// the database at rest, while the log provably captured these very calls,
/// logins and re-login included.
async fn openadmin_secrets_never_leak(backend: Backend) {
    let mut secrets = Secrets::new(backend);
    let admin = secrets.make("OpenAdmin admin password", "Oa-Admin-Pass");
    let sim = OpenAdminSim::start(OpenAdminConfig {
        admin_password: admin.clone(),
        ..OpenAdminConfig::default()
    })
    .await
    .expect("start the OpenAdmin simulator");
    let server = format!("oa-secrets-{}", format!("{backend:?}").to_ascii_lowercase());

    let subject = "secrets-openadmin".to_owned();
    with_secret_gateway(
        backend,
        secrets,
        subject,
        |gateway, mut secrets, mut seen| async move {
            openadmin_calls(&gateway, &sim, &server, &admin, &mut secrets, &mut seen).await;
            assert!(seen.failures.len() >= 3, "the failing calls were made");
            assert_nothing_leaked(
                &gateway,
                &server,
                &[
                    "InventoryService/RegisterServer",
                    "InventoryService/UpdateServer",
                    "AccountService/CreateAccount",
                    "AccountService/ChangePassword",
                    "AccountService/CreateLoginLink",
                    "logging in to OpenAdmin",
                    "token refused: logging in again",
                ],
                &secrets,
                &seen,
            );
        },
    )
    .await;
}

/// The OpenAdmin calls, succeeding and failing; the panel is checked to have
/// received what was sent, and the session to have been renewed.
async fn openadmin_calls(
    gateway: &Gateway,
    sim: &OpenAdminSim,
    server: &str,
    admin: &str,
    secrets: &mut Secrets,
    seen: &mut Seen,
) {
    let mut inventory = gateway.inventory();
    let mut accounts = gateway.accounts();
    let account = |username: &str, password: &str| CreateAccountRequest {
        package: "default_plan_nginx".into(),
        ..create_account_request(server, username, password)
    };

    let registered = inventory
        .register_server(openadmin_register_request(server, &sim.base_url(), admin))
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
    assert_eq!(sim.login_count(), 1);

    // "Successfully added user keeper password: <it>", says the panel.
    let password = secrets.make("OpenAdmin account password", "Oa-Account-Pass");
    let created = accounts
        .create_account(account("keeper", &password))
        .await
        .expect("create account")
        .into_inner();
    seen.reply("CreateAccount", &created);
    assert_eq!(sim.user("keeper").map(|u| u.password), Some(password));

    let changed = secrets.make("OpenAdmin changed password", "Oa-Changed-Pass");
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

    let link = accounts
        .create_login_link(CreateLoginLinkRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("login link")
        .into_inner();
    let token = link_token(&link, "admin_token=");
    assert_eq!(token.len(), 30, "a real token: {token}");
    assert!(
        !format!("{link:?}").contains(&token),
        "the login link reply's Debug redacts the URL"
    );
    secrets.learn("OpenAdmin login link admin_token", token);

    // The panel forgets its tokens: the next call is refused, logs in again
    // (the admin password and a new JWT travel once more) and succeeds.
    sim.revoke_tokens();
    let account_reply = accounts
        .get_account(GetAccountRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("get account after the panel revoked its tokens")
        .into_inner();
    seen.reply("GetAccount (re-login)", &account_reply);
    assert_eq!(sim.login_count(), 2, "one re-login");

    // Refusals after the panel heard (and echoed) a new password: the user is
    // created, then its domain is refused and the user removed again.
    let rolled_back = secrets.make("OpenAdmin rolled-back password", "Oa-Rollback-Pass");
    let result = accounts
        .create_account(CreateAccountRequest {
            primary_domain: "keeper.example".into(),
            ..account("second", &rolled_back)
        })
        .await;
    seen.failure(
        "CreateAccount (domain taken)",
        result,
        Code::AlreadyExists,
        "DOMAIN_ALREADY_EXISTS",
    );
    assert_eq!(sim.user("second"), None, "rolled back");

    // A failing login: rotated credentials the panel does not take, with a new account
    // password aboard; then the right ones again, and a working login link.
    let rotated = secrets.make("OpenAdmin rotated admin password", "Oa-Rotated-Pass");
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
    let refused = secrets.make(
        "OpenAdmin password sent with rejected credentials",
        "Oa-Refused-Pass",
    );
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
    secrets.learn(
        "second OpenAdmin login link admin_token",
        link_token(&link, "admin_token="),
    );
    assert_eq!(
        sim.login_count(),
        3,
        "logged in again with the right password"
    );

    // A login reply cut short inside its JWT: the error quotes the reply,
    // with the token masked.
    let cut = format!("{server}-cut");
    inventory
        .register_server(openadmin_register_request(&cut, &sim.base_url(), admin))
        .await
        .expect("register a second entry for the panel");
    sim.faults().set(Fault::Json(200, CUT_LOGIN_REPLY));
    let result = accounts
        .get_account(GetAccountRequest {
            target: by_name(&cut),
            username: "keeper".into(),
        })
        .await;
    sim.faults().clear();
    let status = seen.failure(
        "GetAccount (login reply cut short)",
        result,
        Code::Internal,
        "UPSTREAM_PROTOCOL_ERROR",
    );
    let excerpt = metadata(&status, "body_excerpt");
    assert!(
        excerpt.starts_with("{\"access_token\": \"***"),
        "the reply is quoted, its token masked: {excerpt}"
    );
}

/// A login reply cut off inside its token (the start of a real JWT).
const CUT_LOGIN_REPLY: &str =
    r#"{"access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJmcmVzaCI6ZmFsc2UsImlhdCI6MTc4MD"#;

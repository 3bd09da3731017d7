//! Panels that quote a secret back. A database password with a quote in it
//! (panelgate accepts any printable password) can make a panel's MySQL
//! refuse the statement that carried it, and MySQL's syntax errors quote the
//! statement from the point it stopped understanding: the password. The
//! panel passes MySQL's words on; panelgate passes the panel's words on as
//! `upstream_message`, logs and journals the failure. OpenAdmin's adapter
//! masks the secret it sent in whatever the panel says (the `openadmin`
//! flow checks it); this flow checks admin_api and SPanel do the same.

use panelgate_proto::v1::{
    ApiTokenCredentials, CreateAccountRequest, CreateDatabaseRequest, Credentials, PanelKind,
    RegisterServerRequest, Server, credentials,
};
use panelgate_sim::{
    admin_api::{AdminApiConfig, AdminApiSim},
    spanel::{SpanelConfig, SpanelSim},
};
use panelgate_tests::{Backend, gateway::by_name};

use panelgate_tests::secrets::{Secrets, assert_nothing_leaked, with_secret_gateway};

use super::{create_account_request, password_credentials, register_request};

panelgate_tests::on_both_backends!(echoed_secrets_never_leak);

/// What MySQL says of a statement it cannot parse from `rest` on.
fn mysql_syntax_error(rest: &str) -> String {
    format!(
        "ERROR 1064 (42000) at line 1: You have an error in your SQL syntax; check the manual \
         that corresponds to your MySQL server version for the right syntax to use near \
         '{rest}' at line 1"
    )
}

/// CreateDatabase on admin_api and on SPanel with a password holding a
/// quote, each panel refusing it with MySQL's syntax error quoting the
/// password (armed with the simulators' one-shot failures), each call with a
/// request id (so the failure is journalled and, where not retryable,
/// stored). Then no secret is in the log, the errors, the journal's replies
/// or the database at rest.
async fn echoed_secrets_never_leak(backend: Backend) {
    let mut secrets = Secrets::new(backend);
    let db = format!("{backend:?}").to_ascii_lowercase();
    let admin = secrets.make("admin password (echoes)", "Echo-Admin-Pass");
    let token = secrets.make("SPanel API token (echoes)", "Echo-Sp-Token");
    let admin_api = AdminApiSim::start(AdminApiConfig {
        admin_password: admin.clone(),
        ..AdminApiConfig::default()
    })
    .await
    .expect("start the admin_api simulator");
    let spanel = SpanelSim::start(SpanelConfig {
        admin_token: token.clone(),
        ..SpanelConfig::default()
    })
    .await
    .expect("start the SPanel simulator");
    let ols = format!("echo-ols-{db}");
    let sp = format!("echo-sp-{db}");

    let subject = format!("secrets-echoes-{}", secrets.unique);
    with_secret_gateway(
        backend,
        secrets,
        subject.clone(),
        |gateway, mut secrets, mut seen| async move {
            let mut inventory = gateway.inventory();
            let mut accounts = gateway.accounts();
            let registered = inventory
                .register_server(register_request(
                    &ols,
                    &admin_api.base_url(),
                    password_credentials(&admin),
                ))
                .await
                .expect("register admin_api")
                .into_inner();
            seen.reply("RegisterServer (admin_api)", &registered);
            let registered = inventory
                .register_server(RegisterServerRequest {
                    server: Some(Server {
                        name: sp.clone(),
                        kind: PanelKind::Spanel.into(),
                        base_url: spanel.base_url(),
                        ..Default::default()
                    }),
                    credentials: Some(Credentials {
                        kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                            token: token.clone(),
                        })),
                    }),
                    request_id: String::new(),
                })
                .await
                .expect("register SPanel")
                .into_inner();
            seen.reply("RegisterServer (SPanel)", &registered);
            for (server, package) in [(&ols, "Basic"), (&sp, "basic")] {
                let password = secrets.make("account password (echoes)", "Echo-Account-Pass");
                let created = accounts
                    .create_account(CreateAccountRequest {
                        package: package.into(),
                        ..create_account_request(server, "keeper", &password)
                    })
                    .await
                    .expect("create account")
                    .into_inner();
                seen.reply(format!("{server}: CreateAccount"), &created);
            }

            // admin_api: its database_add runs the statement and reports MySQL.
            let quoted = secrets.make("database password quoted by admin_api", "Echo-Ols-Db-Pass");
            admin_api.fail_next(
                "database_add",
                &mysql_syntax_error(&format!("{quoted}'' WITH")),
            );
            let result = gateway
                .databases()
                .create_database(CreateDatabaseRequest {
                    target: by_name(&ols),
                    username: "keeper".into(),
                    database_name: "shop".into(),
                    database_user: "shopuser".into(),
                    database_password: format!("{quoted}'"),
                    request_id: format!("{}-echo-ols", secrets.unique),
                    ..Default::default()
                })
                .await;
            let status = result.expect_err("the panel refuses");
            seen.failures
                .push((format!("{ols}: CreateDatabase (echoed)"), status));

            // SPanel: mysql/createmysqluser reports MySQL the same way.
            let quoted = secrets.make("database password quoted by SPanel", "Echo-Sp-Db-Pass");
            spanel.fail_next(
                "mysql/createmysqluser",
                &[&mysql_syntax_error(&format!("{quoted}''"))],
            );
            let result = gateway
                .databases()
                .create_database(CreateDatabaseRequest {
                    target: by_name(&sp),
                    username: "keeper".into(),
                    database_name: "shop".into(),
                    database_user: "shopuser".into(),
                    database_password: format!("{quoted}'"),
                    request_id: format!("{}-echo-sp", secrets.unique),
                    ..Default::default()
                })
                .await;
            let status = result.expect_err("the panel refuses");
            seen.failures
                .push((format!("{sp}: CreateDatabase (echoed)"), status));

            let journal = gateway
                .operations()
                .list_operations(panelgate_proto::v1::ListOperationsRequest {
                    caller: subject.clone(),
                    method: "DatabaseService/CreateDatabase".into(),
                    ..Default::default()
                })
                .await
                .expect("list operations")
                .into_inner();
            assert_eq!(journal.operations.len(), 2, "{journal:?}");
            seen.page("ListOperations", &journal, &journal.next_page_token);

            assert_nothing_leaked(
                &gateway,
                &ols,
                &["DatabaseService/CreateDatabase", &sp],
                &secrets,
                &seen,
            );
        },
    )
    .await;
}

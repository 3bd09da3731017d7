//! Installatron: an API key, paths with credentials, recorded database passwords.

use panelgate_proto::v1::{
    AddDomainRequest, ApiTokenCredentials, CheckServerRequest, CreateAccountRequest, Credentials,
    GetAccountRequest, InstallatronAccountOptions, InstallatronDatabase, InstallatronWebsite,
    PanelKind, RegisterServerRequest, Server, account, create_account_request, credentials,
};
use panelgate_sim::installatron::{InstallatronConfig, InstallatronSim};
use panelgate_tests::{Backend, Gateway, gateway::by_name};
use tonic::Code;

use panelgate_tests::secrets::{Secrets, Seen, assert_nothing_leaked, with_secret_gateway};

use super::{create_account_request as account_request, create_database_request};

panelgate_tests::on_both_backends!(installatron_secrets_never_leak);

/// Drives an Installatron server through every secret it handles: its API
/// key (in every request's header), website paths carrying SFTP credentials,
/// database passwords recorded at CreateAccount and CreateDatabase, a path
/// copied by AddDomain, and failing calls carrying them (dry runs the panel
/// refuses, a duplicate database); what every panel does with its secrets
/// (a wrong key, login links, duplicate accounts) is the cross-panel
/// `secrets_never_leak`.
/// Then no secret is in the TRACE log, in any error, in any reply (the
/// account replies show the recorded paths without their password, and the
/// databases without theirs), or in the database at rest, while the log
/// provably captured these very calls.
async fn installatron_secrets_never_leak(backend: Backend) {
    let mut secrets = Secrets::new(backend);
    let key = secrets.make("Installatron API key", "It-Api-Key");
    let sim = InstallatronSim::start(InstallatronConfig {
        api_key: key.clone(),
        api_key2: None,
    })
    .await
    .expect("start the Installatron simulator");
    let server = format!("it-secrets-{}", format!("{backend:?}").to_ascii_lowercase());

    let subject = "secrets-installatron".to_owned();
    with_secret_gateway(
        backend,
        secrets,
        subject,
        |gateway, mut secrets, mut seen| async move {
            installatron_calls(&gateway, &sim, &server, &key, &mut secrets, &mut seen).await;
            assert!(seen.failures.len() >= 4, "the failing calls were made");
            assert_nothing_leaked(
                &gateway,
                &server,
                &[
                    "InventoryService/RegisterServer",
                    "AccountService/CreateAccount",
                    "AccountService/GetAccount",
                    "DomainService/AddDomain",
                    "DatabaseService/CreateDatabase",
                ],
                &secrets,
                &seen,
            );
        },
    )
    .await;
}

/// An Installatron server with API key `key`.
pub(super) fn installatron_register_request(
    name: &str,
    base_url: &str,
    key: &str,
) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::Installatron.into(),
            base_url: base_url.to_owned(),
            ..Default::default()
        }),
        credentials: Some(Credentials {
            kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                token: key.to_owned(),
            })),
        }),
        request_id: String::new(),
    }
}

/// A website at `path` labelled `domain` (served at http:// of it), with one
/// database whose password is `password`.
pub(super) fn installatron_website(
    path: &str,
    domain: &str,
    database_host: &str,
    password: &str,
) -> InstallatronWebsite {
    let name = domain.replace('.', "_");
    InstallatronWebsite {
        path: path.to_owned(),
        label: domain.to_owned(),
        vhosts: [(format!("http://{domain}"), "public_html".to_owned())].into(),
        databases: vec![InstallatronDatabase {
            r#type: "mysql".into(),
            host: database_host.to_owned(),
            name: name.clone(),
            user: name,
            password: password.to_owned(),
        }],
        ..Default::default()
    }
}

/// CreateAccount on `server` recording `websites`.
pub(super) fn installatron_account(
    server: &str,
    username: &str,
    password: &str,
    websites: Vec<InstallatronWebsite>,
) -> CreateAccountRequest {
    CreateAccountRequest {
        package: "gold".into(),
        panel_options: Some(create_account_request::PanelOptions::Installatron(
            InstallatronAccountOptions {
                websites,
                ..Default::default()
            },
        )),
        ..account_request(server, username, password)
    }
}

/// The Installatron calls, succeeding and failing; the panel is checked to
/// have recorded what was sent.
async fn installatron_calls(
    gateway: &Gateway,
    sim: &InstallatronSim,
    server: &str,
    key: &str,
    secrets: &mut Secrets,
    seen: &mut Seen,
) {
    let mut inventory = gateway.inventory();
    let mut accounts = gateway.accounts();

    let registered = inventory
        .register_server(installatron_register_request(server, &sim.base_url(), key))
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
    assert!(checked.healthy, "the API key works: {checked:?}");
    seen.reply("CheckServer", &checked);

    // CreateAccount: paths with SFTP credentials, databases with passwords;
    // Installatron keeps no account password, so that one is never sent.
    let unused = secrets.make("Installatron account password (unused)", "It-Account-Pass");
    let ftp = secrets.make("website path password", "It-Path-Pass");
    let first_db = secrets.make("recorded database password", "It-Db-Pass");
    let second_db = secrets.make("second recorded database password", "It-Db2-Pass");
    let path = format!("sftp://ftpuser:{ftp}@files.example/home");
    let websites = vec![
        installatron_website(&path, "keeper.example", "localhost", &first_db),
        installatron_website(
            &format!("{path}/blog"),
            "blog.keeper.example",
            "db.example:3307",
            &second_db,
        ),
    ];
    let created = accounts
        .create_account(installatron_account(
            server,
            "keeper",
            &unused,
            websites.clone(),
        ))
        .await
        .expect("create account")
        .into_inner();
    let account = created.account.as_ref().expect("account in reply");
    let Some(account::PanelDetails::Installatron(details)) = &account.panel_details else {
        panic!("Installatron details in {account:?}");
    };
    assert_eq!(
        details.websites[0].path, "sftp://ftpuser@files.example/home",
        "the reply shows the path without its password"
    );
    seen.reply("CreateAccount", &created);
    let stored = sim.user("keeper").expect("keeper on the panel");
    assert_eq!(stored["websites"][0]["path"], path.as_str());
    assert_eq!(
        stored["websites"][1]["databases"][0]["pass"],
        second_db.as_str()
    );

    // AddDomain copies the first website's path, credentials included.
    let added = gateway
        .domains()
        .add_domain(AddDomainRequest {
            target: None,
            username: "keeper".into(),
            domain: "shop.example".into(),
            ..Default::default()
        })
        .await
        .expect("add domain")
        .into_inner();
    seen.reply("AddDomain", &added);
    let stored = sim.user("keeper").expect("keeper on the panel");
    assert_eq!(stored["websites"][2]["path"], path.as_str());

    let new_db = secrets.make("Installatron database password", "It-New-Db-Pass");
    let database = gateway
        .databases()
        .create_database(create_database_request("keeper", "shop", &new_db))
        .await
        .expect("create database")
        .into_inner();
    seen.reply("CreateDatabase", &database);
    let stored = sim.user("keeper").expect("keeper on the panel");
    assert_eq!(
        stored["websites"][0]["databases"][1]["pass"],
        new_db.as_str()
    );

    // GetAccount shows the recorded websites, without their secrets.
    let got = accounts
        .get_account(GetAccountRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("get account")
        .into_inner();
    let shown = got.account.as_ref().expect("account in reply");
    let Some(account::PanelDetails::Installatron(details)) = &shown.panel_details else {
        panic!("Installatron details in {shown:?}");
    };
    assert_eq!(
        details.websites[0].databases[1].user, "shopuser",
        "the new database is shown, without its password"
    );
    seen.reply("GetAccount", &got);

    assert!(
        sim.received()
            .iter()
            .all(|request| !request.body_text().contains(&unused)),
        "the account password never reaches Installatron"
    );

    // Dry runs the panel refuses, with credentials aboard.
    let refused_ftp = secrets.make("path password of an unreachable host", "It-Far-Path-Pass");
    let far = installatron_website(
        &format!("sftp://ftpuser:{refused_ftp}@files.unreachable.invalid/home"),
        "far.example",
        "localhost",
        &secrets.make("database password of an unreachable host", "It-Far-Db-Pass"),
    );
    let result = accounts
        .create_account(CreateAccountRequest {
            validate_only: true,
            ..installatron_account(server, "far", &unused, vec![far])
        })
        .await;
    seen.failure(
        "CreateAccount (unreachable path, dry run)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    let unreachable_db = installatron_website(
        &path,
        "far.example",
        "db.unreachable.invalid",
        &secrets.make(
            "database password of an unreachable database",
            "It-Far-Db2-Pass",
        ),
    );
    let result = accounts
        .create_account(CreateAccountRequest {
            validate_only: true,
            ..installatron_account(server, "far", &unused, vec![unreachable_db])
        })
        .await;
    seen.failure(
        "CreateAccount (unreachable database, dry run)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    // A local path without its uid, refused by the panel.
    let local = installatron_website(
        "/home/far",
        "far.example",
        "localhost",
        &secrets.make("database password of a refused website", "It-Local-Db-Pass"),
    );
    let result = accounts
        .create_account(installatron_account(server, "far", &unused, vec![local]))
        .await;
    seen.failure(
        "CreateAccount (local path without uid)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
    assert!(sim.user("far").is_none(), "nothing recorded");

    // A duplicate, with a new secret aboard.
    let duplicate_db = secrets.make("duplicate Installatron database password", "It-Dup-Db-Pass");
    let result = gateway
        .databases()
        .create_database(create_database_request("keeper", "shop", &duplicate_db))
        .await;
    seen.failure(
        "CreateDatabase (duplicate)",
        result,
        Code::AlreadyExists,
        "DATABASE_ALREADY_EXISTS",
    );
}

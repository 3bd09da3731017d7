//! Secrets never leak. Panel admin credentials, account and database
//! passwords, login-link tokens and panel session tokens (OpenAdmin's JWTs) go
//! through every call that carries them, successful or failing, and then none
//! of them may appear in: the log (captured at TRACE, every target, by a global
//! subscriber this test binary installs), any error message or error detail,
//! any reply (except the login link in its own reply, and Installatron's
//! account replies, which return the caller's own website paths and database
//! passwords as recorded: there only the Debug must hide them), or the bytes
//! of the SQLite file. One flow per panel: admin_api, OpenAdmin, Installatron.

use std::{
    io,
    sync::{Arc, Mutex, OnceLock},
    time::{SystemTime, UNIX_EPOCH},
};

use panelgate_proto::v1::{
    AddDomainRequest, ApiTokenCredentials, ChangePasswordRequest, CheckServerRequest,
    CreateAccountRequest, CreateDatabaseRequest, CreateLoginLinkRequest, CreateLoginLinkResponse,
    Credentials, GetAccountRequest, GetServerRequest, InstallatronAccountOptions,
    InstallatronDatabase, InstallatronWebsite, ListServersRequest, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, ServerDefaults, UpdateServerRequest, create_account_request,
    credentials,
};
use panelgate_sim::{
    admin_api::{AdminApiConfig, AdminApiSim},
    installatron::{InstallatronConfig, InstallatronSim},
    openadmin::{OpenAdminConfig, OpenAdminSim},
};
use panelgate_tests::{
    Backend, Gateway,
    errors::{assert_error, reason},
    gateway::{by_name, with_gateway},
};
use prost::Message;
use tonic::{Code, Status};
use tonic_types::StatusExt;

// ---------------------------------------------------------------------------
// Log capture: one global TRACE subscriber writing into a shared buffer
// ---------------------------------------------------------------------------

/// Everything logged in this test binary, as formatted text.
fn captured_log() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init()
            .expect("install the capturing subscriber (TRACE, every target)");
        buffer
    })
}

/// Appends formatted log lines to the shared buffer.
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    let bytes = captured_log()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---------------------------------------------------------------------------
// The secrets, and what was seen of them
// ---------------------------------------------------------------------------

/// Secret strings unique to one run, so a hit can only be a leak of this run.
struct Secrets {
    tag: String,
    /// Every secret given to the gateway, with what it was.
    all: Vec<(&'static str, String)>,
}

impl Secrets {
    fn new(backend: Backend) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        Secrets {
            tag: format!("{backend:?}-{nanos:x}"),
            all: Vec::new(),
        }
    }

    /// A new secret, e.g. `S3cret-Admin-Pass-Sqlite-18c4…`.
    fn make(&mut self, what: &'static str, prefix: &str) -> String {
        let secret = format!("S3cret-{prefix}-{}", self.tag);
        self.all.push((what, secret.clone()));
        secret
    }

    /// Adds a secret the gateway handed out (a login link's token).
    fn learn(&mut self, what: &'static str, secret: String) {
        self.all.push((what, secret));
    }

    /// The secrets found in `haystack`.
    fn found_in(&self, haystack: &[u8]) -> Vec<&'static str> {
        self.all
            .iter()
            .filter(|(_, secret)| {
                haystack
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes())
            })
            .map(|(what, _)| *what)
            .collect()
    }
}

/// Replies and failures of every call made, to search afterwards.
#[derive(Default)]
struct Seen {
    /// (call, encoded reply, Debug of the reply)
    replies: Vec<(&'static str, Vec<u8>, String)>,
    /// (call, status)
    failures: Vec<(&'static str, Status)>,
}

impl Seen {
    fn reply<M: Message + std::fmt::Debug>(&mut self, call: &'static str, reply: &M) {
        self.replies
            .push((call, reply.encode_to_vec(), format!("{reply:?}")));
    }

    /// A reply that returns the caller's own records, secrets included, by
    /// design (Installatron's website paths and database passwords): only its
    /// Debug is searched.
    fn records<M: std::fmt::Debug>(&mut self, call: &'static str, reply: &M) {
        self.replies.push((call, Vec::new(), format!("{reply:?}")));
    }

    /// Records a failure after checking its code and reason.
    #[track_caller]
    fn failure<T: std::fmt::Debug>(
        &mut self,
        call: &'static str,
        result: Result<T, Status>,
        code: Code,
        expected_reason: &str,
    ) {
        let status = assert_error(result, code, expected_reason);
        self.failures.push((call, status));
    }
}

/// Every text a failure carries to the caller: message, ErrorInfo metadata,
/// BadRequest descriptions, the raw details, and the Debug of it all.
fn failure_texts(status: &Status) -> Vec<Vec<u8>> {
    let mut texts = vec![
        status.message().as_bytes().to_vec(),
        status.details().to_vec(),
        format!("{status:?}").into_bytes(),
    ];
    if let Some(info) = status.get_details_error_info() {
        texts.extend(info.metadata.into_values().map(String::into_bytes));
        texts.push(info.reason.into_bytes());
    }
    if let Some(bad) = status.get_details_bad_request() {
        for violation in bad.field_violations {
            texts.push(violation.field.into_bytes());
            texts.push(violation.description.into_bytes());
        }
    }
    for (key, value) in status.metadata().iter().filter_map(|entry| match entry {
        tonic::metadata::KeyAndValueRef::Ascii(key, value) => Some((key, value)),
        tonic::metadata::KeyAndValueRef::Binary(..) => None,
    }) {
        texts.push(format!("{}: {value:?}", key.as_str()).into_bytes());
    }
    texts
}

/// How every JWT starts (base64url of `{"`): no session token the gateway
/// holds may show anywhere. The panels' own token values are not exposed by
/// the simulators, so this is what is searched for.
const JWT_START: &[u8] = b"eyJ";

fn has_jwt(haystack: &[u8]) -> bool {
    haystack
        .windows(JWT_START.len())
        .any(|window| window == JWT_START)
}

/// Asserts the log captured these very calls (it mentions each of
/// `log_mentions`) and holds none of the secrets and no JWT; that no failure
/// and no reply seen carries either; and, on SQLite, that the database file
/// (WAL included) holds no secret.
fn assert_nothing_leaked(
    gateway: &Gateway,
    server: &str,
    log_mentions: &[&str],
    secrets: &Secrets,
    seen: &Seen,
) {
    let log = log_text();
    assert!(!log.is_empty(), "the log capture works");
    for expected in log_mentions.iter().copied().chain([server]) {
        assert!(log.contains(expected), "the log mentions {expected}");
    }
    let leaked = secrets.found_in(log.as_bytes());
    assert!(leaked.is_empty(), "secrets in the log: {leaked:?}");
    if let Some(line) = log.lines().find(|line| has_jwt(line.as_bytes())) {
        panic!("a JWT in the log: {line}");
    }

    for (call, status) in &seen.failures {
        for text in failure_texts(status) {
            let leaked = secrets.found_in(&text);
            assert!(
                leaked.is_empty(),
                "{call}: secrets in the error: {leaked:?}"
            );
            assert!(!has_jwt(&text), "{call}: a JWT in the error");
        }
    }
    for (call, encoded, debug) in &seen.replies {
        let leaked = secrets.found_in(encoded);
        assert!(
            leaked.is_empty(),
            "{call}: secrets in the reply: {leaked:?}"
        );
        let leaked = secrets.found_in(debug.as_bytes());
        assert!(
            leaked.is_empty(),
            "{call}: secrets in the reply's Debug: {leaked:?}"
        );
        assert!(
            !has_jwt(encoded) && !has_jwt(debug.as_bytes()),
            "{call}: a JWT in the reply"
        );
    }

    if let Some(file) = &gateway.sqlite_file {
        let mut bytes = std::fs::read(file).expect("read the SQLite file");
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        if let Ok(more) = std::fs::read(&wal) {
            bytes.extend(more);
        }
        assert!(
            bytes
                .windows(server.len())
                .any(|window| window == server.as_bytes()),
            "the server name is in the bytes read"
        );
        let leaked = secrets.found_in(&bytes);
        assert!(leaked.is_empty(), "secrets in the SQLite file: {leaked:?}");
    }
}

/// The one-time token of a login link (what follows `marker`).
fn link_token(link: &CreateLoginLinkResponse, marker: &str) -> String {
    link.url
        .split_once(marker)
        .map(|(_, token)| token.to_owned())
        .unwrap_or_else(|| panic!("`{marker}` in the login link"))
}

// ---------------------------------------------------------------------------
// Request builders
// ---------------------------------------------------------------------------

fn password_credentials(password: &str) -> Option<Credentials> {
    Some(Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: "admin".into(),
            password: password.to_owned(),
        })),
    })
}

fn register_request(
    name: &str,
    base_url: &str,
    credentials: Option<Credentials>,
) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::AdminApi.into(),
            base_url: base_url.to_owned(),
            defaults: Some(ServerDefaults {
                php_version: "8.2".into(),
            }),
            ..Default::default()
        }),
        credentials,
        request_id: String::new(),
    }
}

/// An OpenAdmin server logging in as `admin` with `password`.
fn openadmin_register_request(name: &str, base_url: &str, password: &str) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::Openadmin.into(),
            base_url: base_url.to_owned(),
            ..Default::default()
        }),
        credentials: password_credentials(password),
        request_id: String::new(),
    }
}

fn create_account_request(server: &str, username: &str, password: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: password.to_owned(),
        package: "Basic".into(),
        ..Default::default()
    }
}

fn create_database_request(username: &str, name: &str, password: &str) -> CreateDatabaseRequest {
    CreateDatabaseRequest {
        target: None,
        username: username.to_owned(),
        database_name: name.to_owned(),
        database_user: format!("{name}user"),
        database_password: password.to_owned(),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

/// `secrets_never_leak` on SQLite (database file bytes included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak_on_sqlite() {
    secrets_never_leak(Backend::Sqlite).await;
}

/// `secrets_never_leak` on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak_on_postgres() {
    secrets_never_leak(Backend::Postgres).await;
}

/// Drives every call that carries a secret (RegisterServer, CreateAccount,
/// ChangePassword, CreateDatabase, CreateLoginLink, UpdateServer with new
/// credentials) and failing ones (rejected panel credentials, invalid input
/// holding a secret, panel-side refusals), then finds no secret in the TRACE
/// log, in any error, in any reply but the login link's own, or in the
/// SQLite file, while the log provably captured these very calls.
async fn secrets_never_leak(backend: Backend) {
    captured_log();
    let mut secrets = Secrets::new(backend);
    let admin = secrets.make("admin password", "Admin-Pass");
    let sim = AdminApiSim::start(AdminApiConfig {
        admin_password: admin.clone(),
        ..AdminApiConfig::default()
    })
    .await
    .expect("start the admin_api simulator");
    let server = format!("secrets-{}", format!("{backend:?}").to_ascii_lowercase());

    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
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
        },
    )
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
    seen.failures.push(("CreateDatabase (duplicate)", status));

    // Wrong panel credentials, registered from the start.
    let wrong = secrets.make("wrong admin password", "Wrong-Pass");
    let wrong_server = format!("{server}-wrong");
    let registered = inventory
        .register_server(register_request(
            &wrong_server,
            &sim.base_url(),
            password_credentials(&wrong),
        ))
        .await
        .expect("register with wrong credentials")
        .into_inner();
    seen.reply("RegisterServer (wrong)", &registered);
    let checked = inventory
        .check_server(CheckServerRequest {
            target: by_name(&wrong_server),
        })
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        checked.error_reason, "PANEL_CREDENTIALS_REJECTED",
        "{checked:?}"
    );
    seen.reply("CheckServer (wrong)", &checked);
    let result = accounts
        .get_account(GetAccountRequest {
            target: by_name(&wrong_server),
            username: "keeper".into(),
        })
        .await;
    seen.failure(
        "GetAccount (wrong credentials)",
        result,
        Code::FailedPrecondition,
        "PANEL_CREDENTIALS_REJECTED",
    );

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

// ---------------------------------------------------------------------------
// OpenAdmin: JWT sessions, an echoing panel, CONNECT-era login links
// ---------------------------------------------------------------------------

/// `openadmin_secrets_never_leak` on SQLite (database file bytes included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openadmin_secrets_never_leak_on_sqlite() {
    openadmin_secrets_never_leak(Backend::Sqlite).await;
}

/// `openadmin_secrets_never_leak` on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openadmin_secrets_never_leak_on_postgres() {
    openadmin_secrets_never_leak(Backend::Postgres).await;
}

/// Drives an OpenAdmin server through every secret it handles: the admin
/// password (each login sends it), account passwords (the panel echoes them
/// in its success message), a changed password, login links (whose
/// `admin_token` is a secret everywhere but in its own reply), a re-login
/// after the panel revoked its tokens (the JWT session is dropped and
/// replaced), and failing logins (a wrong password from the start, a rotated
/// one). Then no secret and no JWT is in the TRACE log, in any error or in
/// any reply, nor any secret in the SQLite file, while the log provably
/// captured these very calls, logins and re-login included.
async fn openadmin_secrets_never_leak(backend: Backend) {
    captured_log();
    let mut secrets = Secrets::new(backend);
    let admin = secrets.make("OpenAdmin admin password", "Oa-Admin-Pass");
    let sim = OpenAdminSim::start(OpenAdminConfig {
        admin_password: admin.clone(),
        ..OpenAdminConfig::default()
    })
    .await
    .expect("start the OpenAdmin simulator");
    let server = format!("oa-secrets-{}", format!("{backend:?}").to_ascii_lowercase());

    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let mut seen = Seen::default();
            openadmin_calls(&gateway, &sim, &server, &admin, &mut secrets, &mut seen).await;
            assert!(seen.failures.len() >= 4, "the failing calls were made");
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
    let duplicate = secrets.make("OpenAdmin duplicate password", "Oa-Dup-Pass");
    let result = accounts.create_account(account("keeper", &duplicate)).await;
    seen.failure(
        "CreateAccount (duplicate)",
        result,
        Code::AlreadyExists,
        "ACCOUNT_ALREADY_EXISTS",
    );

    // A failing login: wrong credentials from the start.
    let wrong = secrets.make("OpenAdmin wrong admin password", "Oa-Wrong-Pass");
    let wrong_server = format!("{server}-wrong");
    let registered = inventory
        .register_server(openadmin_register_request(
            &wrong_server,
            &sim.base_url(),
            &wrong,
        ))
        .await
        .expect("register with wrong credentials")
        .into_inner();
    seen.reply("RegisterServer (wrong)", &registered);
    let checked = inventory
        .check_server(CheckServerRequest {
            target: by_name(&wrong_server),
        })
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        checked.error_reason, "PANEL_CREDENTIALS_REJECTED",
        "{checked:?}"
    );
    seen.reply("CheckServer (wrong)", &checked);
    let result = accounts
        .get_account(GetAccountRequest {
            target: by_name(&wrong_server),
            username: "keeper".into(),
        })
        .await;
    seen.failure(
        "GetAccount (wrong credentials)",
        result,
        Code::FailedPrecondition,
        "PANEL_CREDENTIALS_REJECTED",
    );

    // Another: rotated credentials the panel does not take, with a new account
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
}

// ---------------------------------------------------------------------------
// Installatron: an API key, paths with credentials, recorded database passwords
// ---------------------------------------------------------------------------

/// `installatron_secrets_never_leak` on SQLite (database file bytes included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installatron_secrets_never_leak_on_sqlite() {
    installatron_secrets_never_leak(Backend::Sqlite).await;
}

/// `installatron_secrets_never_leak` on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installatron_secrets_never_leak_on_postgres() {
    installatron_secrets_never_leak(Backend::Postgres).await;
}

/// Drives an Installatron server through every secret it handles: its API
/// key (in every request's header), website paths carrying SFTP credentials,
/// database passwords recorded at CreateAccount and CreateDatabase, a path
/// copied by AddDomain, a login link's session, and failing calls carrying
/// them (a wrong key from the start, dry runs the panel refuses, duplicates).
/// Then no secret is in the TRACE log, in any error, in any reply — but for
/// the account replies, which return the caller's records as recorded and
/// must hide them in their Debug — or in the SQLite file, while the log
/// provably captured these very calls.
async fn installatron_secrets_never_leak(backend: Backend) {
    captured_log();
    let mut secrets = Secrets::new(backend);
    let key = secrets.make("Installatron API key", "It-Api-Key");
    let sim = InstallatronSim::start(InstallatronConfig {
        api_key: key.clone(),
        api_key2: None,
    })
    .await
    .expect("start the Installatron simulator");
    let server = format!("it-secrets-{}", format!("{backend:?}").to_ascii_lowercase());

    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let mut seen = Seen::default();
            installatron_calls(&gateway, &sim, &server, &key, &mut secrets, &mut seen).await;
            assert!(seen.failures.len() >= 6, "the failing calls were made");
            assert_nothing_leaked(
                &gateway,
                &server,
                &[
                    "InventoryService/RegisterServer",
                    "AccountService/CreateAccount",
                    "AccountService/GetAccount",
                    "AccountService/CreateLoginLink",
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
fn installatron_register_request(name: &str, base_url: &str, key: &str) -> RegisterServerRequest {
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
fn installatron_website(
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
fn installatron_account(
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
        ..create_account_request(server, username, password)
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
    let encoded = account.encode_to_vec();
    for secret in [&ftp, &first_db, &second_db] {
        assert!(
            encoded
                .windows(secret.len())
                .any(|window| window == secret.as_bytes()),
            "the reply returns the records as recorded"
        );
    }
    seen.records("CreateAccount", &created);
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

    // The login link is the point of its reply; its session is a secret everywhere else.
    let link = accounts
        .create_login_link(CreateLoginLinkRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("login link")
        .into_inner();
    let session = link_token(&link, &sim.base_url());
    assert_eq!(session.len(), 22, "a real session: {session}");
    assert!(
        !format!("{link:?}").contains(&session),
        "the login link reply's Debug redacts the URL"
    );
    secrets.learn("Installatron login session", session);

    // GetAccount returns the recorded paths and passwords (the caller's own
    // records); its Debug hides them.
    let got = accounts
        .get_account(GetAccountRequest {
            target: None,
            username: "keeper".into(),
        })
        .await
        .expect("get account")
        .into_inner();
    let encoded = got.encode_to_vec();
    assert!(
        encoded
            .windows(new_db.len())
            .any(|window| window == new_db.as_bytes()),
        "the reply returns the records as recorded"
    );
    seen.records("GetAccount", &got);

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

    // Duplicates, with new secrets aboard.
    let result = accounts
        .create_account(installatron_account(server, "keeper", &unused, websites))
        .await;
    seen.failure(
        "CreateAccount (duplicate)",
        result,
        Code::AlreadyExists,
        "ACCOUNT_ALREADY_EXISTS",
    );
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

    // A wrong key from the start.
    let wrong = secrets.make("wrong Installatron API key", "It-Wrong-Key");
    let wrong_server = format!("{server}-wrong");
    let registered = inventory
        .register_server(installatron_register_request(
            &wrong_server,
            &sim.base_url(),
            &wrong,
        ))
        .await
        .expect("register with a wrong key")
        .into_inner();
    seen.reply("RegisterServer (wrong)", &registered);
    let result = accounts
        .get_account(GetAccountRequest {
            target: by_name(&wrong_server),
            username: "keeper".into(),
        })
        .await;
    seen.failure(
        "GetAccount (wrong key)",
        result,
        Code::FailedPrecondition,
        "PANEL_CREDENTIALS_REJECTED",
    );
    let refused_db = secrets.make(
        "database password sent with a wrong key",
        "It-Refused-Db-Pass",
    );
    let result = gateway
        .databases()
        .create_database(CreateDatabaseRequest {
            target: by_name(&wrong_server),
            ..create_database_request("keeper", "blog", &refused_db)
        })
        .await;
    seen.failure(
        "CreateDatabase (wrong key)",
        result,
        Code::FailedPrecondition,
        "PANEL_CREDENTIALS_REJECTED",
    );
    let checked = inventory
        .check_server(CheckServerRequest {
            target: by_name(&wrong_server),
        })
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        checked.error_reason, "PANEL_CREDENTIALS_REJECTED",
        "{checked:?}"
    );
    seen.reply("CheckServer (wrong)", &checked);
}

//! Installatron Server end to end: the real gateway over real gRPC, in front of
//! the Installatron simulator over real HTTP.
//!
//! Installatron keeps records: users with their websites (paths, vhosts) and
//! the credentials of their databases. Every test checks what a canonical call
//! did to those records on the simulated panel itself (`sim.user(..)`, the
//! stored JSON exactly as `GET /users/{id}` shows it; `sim.user_count()`), and
//! most check what reached the panel (`sim.received()`: method, path with
//! query, headers, raw JSON body).
//!
//! Unless a test says otherwise the simulator runs with its default key and is
//! registered as `installatron`. Most tests run on SQLite only (the
//! conformance suite covers both backends); the source doc's example and the
//! rejected key run on both.

use std::{
    collections::BTreeMap,
    future::Future,
    io::{Read, Write},
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use panelgate::Config;
use panelgate_proto::v1::{
    Account, AccountStatus, AddDomainRequest, AddDomainResponse, ApiTokenCredentials,
    ChangePackageRequest, ChangePackageResponse, CheckServerRequest, CreateAccountRequest,
    CreateAccountResponse, CreateDatabaseRequest, CreateDatabaseResponse, CreateLoginLinkRequest,
    Credentials, Database, DeleteAccountRequest, DeleteAccountResponse, DeleteDomainRequest,
    DeleteDomainResponse, Domain, DomainStatus, GetAccountRequest, InstallatronAccountDetails,
    InstallatronAccountOptions, InstallatronDatabase, InstallatronDatabaseOptions,
    InstallatronDomainOptions, InstallatronWebsite, ListAccountsRequest, ListAccountsResponse,
    ListDomainsRequest, PanelKind, RegisterServerRequest, Server, SuspendAccountRequest,
    SuspendAccountResponse, UnsuspendAccountRequest, UnsuspendAccountResponse,
    UpdateAccountRequest, UpdateAccountResponse, UpdateServerRequest, Validation, account,
    add_domain_request, create_account_request, create_database_request, credentials,
};
use panelgate_sim::{Fault, InstallatronConfig, InstallatronRequest, InstallatronSim};
use panelgate_tests::{
    Backend, Gateway, InstallatronFixture, PanelFixture,
    errors::{assert_error, assert_invalid, metadata},
    gateway::{by_id, by_name},
    with_gateway,
};
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

// === setup ===

/// The name the simulator is registered under.
const SERVER: &str = "installatron";
/// The user of the source doc's example.
const DOC_USER: &str = "useraccountname";
/// CreateAccount needs a password; Installatron keeps none.
const PASSWORD: &str = "unused-password-1";
/// The package every test account gets (Installatron packages are free text).
const PACKAGE: &str = "gold";
/// A remote path with credentials, on a host that connects.
const SFTP_PATH: &str = "sftp://ftpuser:ftppass@files.example/home";

/// A gateway with a fresh Installatron simulator registered as `installatron`.
struct Ia {
    gateway: Gateway,
    sim: InstallatronSim,
    /// The server id of `installatron`.
    id: String,
}

impl Ia {
    /// How many requests have reached the API so far: a mark for [`Ia::since`].
    fn mark(&self) -> usize {
        self.sim.received().len()
    }

    /// The requests that reached the API after `mark`.
    fn since(&self, mark: usize) -> Vec<InstallatronRequest> {
        self.sim.received()[mark..].to_vec()
    }

    /// "METHOD /path?query" of the requests after `mark`.
    fn calls_since(&self, mark: usize) -> Vec<String> {
        calls(&self.since(mark))
    }

    /// The user as the panel stores it.
    #[track_caller]
    fn user(&self, username: &str) -> Value {
        self.sim
            .user(username)
            .unwrap_or_else(|| panic!("{username} on the panel"))
    }

    /// The stored user as text, to compare byte for byte.
    #[track_caller]
    fn snapshot(&self, username: &str) -> String {
        self.user(username).to_string()
    }

    /// The websites of the stored user.
    #[track_caller]
    fn websites(&self, username: &str) -> Vec<Value> {
        self.user(username)["websites"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{username} has a websites list"))
    }

    async fn create_account(
        &self,
        request: CreateAccountRequest,
    ) -> Result<CreateAccountResponse, Status> {
        self.gateway
            .accounts()
            .create_account(CreateAccountRequest {
                target: by_name(SERVER),
                ..request
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn create(&self, request: CreateAccountRequest) -> Result<Account, Status> {
        self.create_account(request)
            .await
            .map(|reply| reply.account.expect("account in reply"))
    }

    /// Creates the source doc's user with the doc's websites.
    async fn create_doc_user(&self) -> Account {
        self.create(doc_request())
            .await
            .unwrap_or_else(|status| panic!("create the doc's user: {status:?}"))
    }

    async fn get_account(&self, username: &str) -> Result<Account, Status> {
        self.gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
            })
            .await
            .map(|reply| reply.into_inner().account.expect("account in reply"))
    }

    async fn list_accounts(&self, page_size: i32, page_token: &str) -> ListAccountsResponse {
        self.gateway
            .accounts()
            .list_accounts(ListAccountsRequest {
                target: by_name(SERVER),
                page_size,
                page_token: page_token.to_owned(),
            })
            .await
            .expect("list accounts")
            .into_inner()
    }

    async fn update(&self, request: UpdateAccountRequest) -> Result<UpdateAccountResponse, Status> {
        self.gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target: by_name(SERVER),
                ..request
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn suspend(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<SuspendAccountResponse, Status> {
        self.gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                reason: "unpaid".to_owned(),
                validate_only,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn unsuspend(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<UnsuspendAccountResponse, Status> {
        self.gateway
            .accounts()
            .unsuspend_account(UnsuspendAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                validate_only,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn delete(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<DeleteAccountResponse, Status> {
        self.gateway
            .accounts()
            .delete_account(DeleteAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                validate_only,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn change_package(
        &self,
        username: &str,
        package: &str,
        validate_only: bool,
    ) -> Result<ChangePackageResponse, Status> {
        self.gateway
            .accounts()
            .change_package(ChangePackageRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                package: package.to_owned(),
                validate_only,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn login_link(&self, username: &str) -> Result<String, Status> {
        self.gateway
            .accounts()
            .create_login_link(CreateLoginLinkRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
            })
            .await
            .map(|reply| reply.into_inner().url)
    }

    async fn add_domain(&self, request: AddDomainRequest) -> Result<AddDomainResponse, Status> {
        self.gateway
            .domains()
            .add_domain(AddDomainRequest {
                target: by_name(SERVER),
                ..request
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// ListDomains of one account, or of the whole server with an empty `username`.
    async fn list_domains(&self, username: &str) -> Vec<Domain> {
        self.gateway
            .domains()
            .list_domains(ListDomainsRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                ..Default::default()
            })
            .await
            .expect("list domains")
            .into_inner()
            .domains
    }

    /// DeleteDomain; an empty `username` leaves the owner to the adapter.
    async fn delete_domain(
        &self,
        domain: &str,
        username: &str,
        validate_only: bool,
    ) -> Result<DeleteDomainResponse, Status> {
        self.gateway
            .domains()
            .delete_domain(DeleteDomainRequest {
                target: by_name(SERVER),
                domain: domain.to_owned(),
                username: username.to_owned(),
                validate_only,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn create_database(
        &self,
        request: CreateDatabaseRequest,
    ) -> Result<CreateDatabaseResponse, Status> {
        self.gateway
            .databases()
            .create_database(CreateDatabaseRequest {
                target: by_name(SERVER),
                ..request
            })
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Runs `body` on `backend` with a simulator started from `config` and
/// registered as `installatron` with its own key, and `configure` applied to
/// the gateway's config.
async fn with_panel_on<F, Fut>(
    backend: Backend,
    config: InstallatronConfig,
    configure: impl FnOnce(&mut Config),
    body: F,
) where
    F: FnOnce(Ia) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let fixture = InstallatronFixture::with_config(config).await;
    with_gateway(backend, configure, move |gateway| async move {
        let id = fixture.register(&gateway, SERVER).await;
        let sim = fixture.sim.clone();
        body(Ia { gateway, sim, id }).await;
    })
    .await;
}

/// [`with_panel_on`] on `backend` with the simulator's default config.
async fn with_backend<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Ia) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_panel_on(backend, InstallatronConfig::default(), |_| {}, body).await;
}

/// [`with_panel_on`] on SQLite with the simulator's default config.
async fn with_panel<F, Fut>(body: F)
where
    F: FnOnce(Ia) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_backend(Backend::Sqlite, body).await;
}

/// Registers an Installatron server at `base_url` with API key `key`; returns its id.
async fn register(gateway: &Gateway, name: &str, base_url: &str, key: &str) -> String {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: PanelKind::Installatron.into(),
                base_url: base_url.to_owned(),
                ..Default::default()
            }),
            credentials: Some(api_key(key)),
            request_id: String::new(),
        })
        .await
        .expect("register the Installatron server")
        .into_inner()
        .server
        .expect("server in reply")
        .id
}

fn api_key(key: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
            token: key.to_owned(),
        })),
    }
}

/// "METHOD /path?query" of each request.
fn calls(requests: &[InstallatronRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

/// A request's body as JSON.
#[track_caller]
fn body_json(request: &InstallatronRequest) -> Value {
    serde_json::from_slice(&request.body)
        .unwrap_or_else(|err| panic!("{err}: a JSON body: {}", request.body_text()))
}

// === request and record builders ===

/// CreateAccount of `username` with primary domain `<username>.example` and
/// no panel options (target filled in by [`Ia`]).
fn new_account(username: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: PASSWORD.to_owned(),
        package: PACKAGE.to_owned(),
        ..Default::default()
    }
}

/// [`new_account`] recording these websites.
fn with_websites(username: &str, websites: Vec<InstallatronWebsite>) -> CreateAccountRequest {
    CreateAccountRequest {
        panel_options: Some(create_account_request::PanelOptions::Installatron(
            InstallatronAccountOptions {
                websites,
                ..Default::default()
            },
        )),
        ..new_account(username)
    }
}

fn vhosts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|&(url, root)| (url.to_owned(), root.to_owned()))
        .collect()
}

/// A MySQL database whose user is named like it.
fn database(host: &str, name: &str, password: &str) -> InstallatronDatabase {
    InstallatronDatabase {
        r#type: "mysql".to_owned(),
        host: host.to_owned(),
        name: name.to_owned(),
        user: name.to_owned(),
        password: password.to_owned(),
    }
}

/// A remote website labelled `domain`, served at http:// and https:// of it.
fn site(path: &str, domain: &str) -> InstallatronWebsite {
    InstallatronWebsite {
        path: path.to_owned(),
        label: domain.to_owned(),
        vhosts: vhosts(&[
            (&format!("http://{domain}"), "public_html"),
            (&format!("https://{domain}"), "public_html"),
        ]),
        ..Default::default()
    }
}

/// The websites of the source doc's RESPONSE example, as canonical messages.
fn doc_websites() -> Vec<InstallatronWebsite> {
    vec![
        InstallatronWebsite {
            path: "sftp://exampleftpuser:exampleftppassword@website.com".to_owned(),
            label: "website.com".to_owned(),
            server: "website.com".to_owned(),
            parent: "root".to_owned(),
            databases: vec![database(
                "localhost",
                "useraccountname_mytestdb1",
                "exampledbpassword1",
            )],
            vhosts: vhosts(&[("http://website.com", "public_html")]),
            ..Default::default()
        },
        InstallatronWebsite {
            path: "sftp://exampleftpuser:exampleftppassword@website.com/subdomain".to_owned(),
            server: "website.com".to_owned(),
            label: "subdomain.website.com".to_owned(),
            parent: "root".to_owned(),
            databases: vec![database(
                "123.123.123.123:3307",
                "useraccountname_mytestdb2",
                "exampledbpassword2",
            )],
            vhosts: vhosts(&[
                ("http://subdomain.website.com", "public_html/subdomain"),
                ("https://subdomain.website.com", "public_html/subdomain"),
            ]),
            ..Default::default()
        },
    ]
}

/// The `data` of the source doc's RESPONSE example, verbatim.
fn doc_user_json() -> Value {
    json!({
        "id": "useraccountname",
        "parent": "root",
        "type": "user",
        "suspended": false,
        "locale": "en",
        "email": "address@website.com",
        "websites": [
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com",
                "label": "website.com",
                "server": "website.com",
                "parent": "root",
                "databases": [
                    {
                        "type": "mysql",
                        "host": "localhost",
                        "user": "useraccountname_mytestdb1",
                        "name": "useraccountname_mytestdb1",
                        "pass": "exampledbpassword1"
                    }
                ],
                "vhosts": {
                    "http://website.com": "public_html"
                }
            },
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com/subdomain",
                "server": "website.com",
                "label": "subdomain.website.com",
                "parent": "root",
                "databases": [
                    {
                        "type": "mysql",
                        "host": "123.123.123.123:3307",
                        "user": "useraccountname_mytestdb2",
                        "name": "useraccountname_mytestdb2",
                        "pass": "exampledbpassword2"
                    }
                ],
                "vhosts": {
                    "http://subdomain.website.com": "public_html/subdomain",
                    "https://subdomain.website.com": "public_html/subdomain"
                }
            }
        ]
    })
}

/// CreateAccount of the doc's user with the doc's websites.
fn doc_request() -> CreateAccountRequest {
    CreateAccountRequest {
        primary_domain: "website.com".to_owned(),
        email: "address@website.com".to_owned(),
        ..with_websites(DOC_USER, doc_websites())
    }
}

/// The doc's user as the panel stores it after [`doc_request`]: the doc's
/// `data` plus the package CreateAccount always sets (the doc shows none).
fn doc_user_stored() -> Value {
    let mut user = doc_user_json();
    user["package"] = json!(PACKAGE);
    user
}

/// The doc's user as a canonical account on server `server_id`.
/// The doc's websites as replies show them: the paths without the FTP
/// password, the databases without theirs.
fn doc_websites_shown() -> Vec<InstallatronWebsite> {
    let mut websites = doc_websites();
    websites[0].path = "sftp://exampleftpuser@website.com".to_owned();
    websites[1].path = "sftp://exampleftpuser@website.com/subdomain".to_owned();
    for website in &mut websites {
        for database in &mut website.databases {
            database.password.clear();
        }
    }
    websites
}

fn doc_account(server_id: &str) -> Account {
    Account {
        username: DOC_USER.to_owned(),
        server_id: server_id.to_owned(),
        primary_domain: "website.com".to_owned(),
        email: "address@website.com".to_owned(),
        package: PACKAGE.to_owned(),
        status: AccountStatus::Active.into(),
        panel_user_id: DOC_USER.to_owned(),
        panel_details: Some(account::PanelDetails::Installatron(
            InstallatronAccountDetails {
                websites: doc_websites_shown(),
                parent: "root".to_owned(),
                r#type: "user".to_owned(),
                language: "en".to_owned(),
            },
        )),
        ..Default::default()
    }
}

/// The Installatron websites an account reports.
#[track_caller]
fn websites_of(account: &Account) -> &[InstallatronWebsite] {
    match &account.panel_details {
        Some(account::PanelDetails::Installatron(details)) => &details.websites,
        None => panic!("no Installatron details in {account:?}"),
    }
}

/// Compares websites field by field (the Debug of a website hides its path's
/// credentials and its passwords, so a whole-message diff would not show
/// them), then as whole messages.
#[track_caller]
fn assert_same_websites(got: &[InstallatronWebsite], want: &[InstallatronWebsite]) {
    assert_eq!(got.len(), want.len(), "number of websites");
    for (i, (got, want)) in got.iter().zip(want).enumerate() {
        assert_eq!(got.path, want.path, "websites[{i}].path");
        assert_eq!(got.label, want.label, "websites[{i}].label");
        assert_eq!(got.server, want.server, "websites[{i}].server");
        assert_eq!(got.vhosts, want.vhosts, "websites[{i}].vhosts");
        assert_eq!(got.uid, want.uid, "websites[{i}].uid");
        assert_eq!(got.gid, want.gid, "websites[{i}].gid");
        assert_eq!(got.language, want.language, "websites[{i}].language");
        assert_eq!(got.suspended, want.suspended, "websites[{i}].suspended");
        assert_eq!(got.vhost_ip, want.vhost_ip, "websites[{i}].vhost_ip");
        assert_eq!(got.email, want.email, "websites[{i}].email");
        assert_eq!(got.parent, want.parent, "websites[{i}].parent");
        assert_eq!(got.databases.len(), want.databases.len(), "websites[{i}]");
        for (j, (got, want)) in got.databases.iter().zip(&want.databases).enumerate() {
            let at = format!("websites[{i}].databases[{j}]");
            assert_eq!(got.r#type, want.r#type, "{at}.type");
            assert_eq!(got.host, want.host, "{at}.host");
            assert_eq!(got.name, want.name, "{at}.name");
            assert_eq!(got.user, want.user, "{at}.user");
            assert_eq!(got.password, want.password, "{at}.password");
        }
        assert_eq!(got, want, "websites[{i}] as a whole");
    }
}

/// Asserts a call to `installatron` failed with `code` and `reason`, with the
/// server's id, name and kind in ErrorInfo.
#[track_caller]
fn assert_panel_error<T: std::fmt::Debug>(
    ia: &Ia,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
) -> Status {
    let status = assert_error(result, code, reason);
    assert_eq!(metadata(&status, "server_id"), ia.id, "{status:?}");
    assert_eq!(metadata(&status, "server_name"), SERVER, "{status:?}");
    assert_eq!(
        metadata(&status, "panel_kind"),
        "installatron",
        "{status:?}"
    );
    status
}

/// [`assert_panel_error`], with what the panel said (`errcode: message`).
#[track_caller]
fn assert_ia_error<T: std::fmt::Debug>(
    ia: &Ia,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    upstream_message: &str,
) -> Status {
    let status = assert_panel_error(ia, result, code, reason);
    assert_eq!(
        metadata(&status, "upstream_message"),
        upstream_message,
        "upstream_message of: {status:?}"
    );
    status
}

/// Asserts the panel refused `field` (its errfield, as a canonical path):
/// INVALID_ARGUMENT naming it in BadRequest, described in the panel's words,
/// which `upstream_message` carries too, with the server in ErrorInfo.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    ia: &Ia,
    result: Result<T, Status>,
    field: &str,
    upstream_message: &str,
) -> Status {
    let status = assert_invalid(result, field);
    assert_eq!(metadata(&status, "server_id"), ia.id, "{status:?}");
    assert_eq!(
        metadata(&status, "panel_kind"),
        "installatron",
        "{status:?}"
    );
    assert_eq!(
        metadata(&status, "upstream_message"),
        upstream_message,
        "upstream_message of: {status:?}"
    );
    let violations = status
        .get_details_bad_request()
        .expect("BadRequest present")
        .field_violations;
    assert_eq!(violations[0].description, upstream_message, "{status:?}");
    status
}

/// What a consulted validate_only call answers.
fn consulted() -> Option<Validation> {
    Some(Validation {
        panel_consulted: true,
    })
}

// === the source doc's example, unchanged through CreateAccount and GetAccount ===

/// The source doc's RESPONSE example user — two websites with credentials in
/// their sftp paths, labels, servers, parent `root`, vhosts maps, databases on
/// `localhost` and on `123.123.123.123:3307` — given to CreateAccount as
/// `panel_options.installatron.websites`: one `GET /users/{id}` (is the user
/// new?) then one JSON `POST /users` carrying each website as the doc's input
/// (its `parent` as `reseller`); the panel then holds exactly the doc's `data`
/// (plus the package), and CreateAccount, GetAccount and ListAccounts answer
/// the websites unchanged, field by field and as whole messages.
async fn doc_example_round_trips_unchanged(backend: Backend) {
    with_backend(backend, |ia| async move {
        let mark = ia.mark();
        let created = ia.create_doc_user().await;

        let requests = ia.since(mark);
        assert_eq!(
            calls(&requests),
            ["GET /users/useraccountname", "POST /users"]
        );
        let post = &requests[1];
        assert_eq!(post.content_type.as_deref(), Some("application/json"));
        assert_eq!(post.accept.as_deref(), Some("application/json"));
        let body = body_json(post);
        assert_eq!(body["id"], DOC_USER);
        assert_eq!(body["email"], "address@website.com");
        assert_eq!(body["package"], PACKAGE);
        assert_eq!(body.get("dryrun"), None, "a real call");
        let sent = body["websites"].as_array().expect("websites sent");
        let doc = doc_user_json();
        let doc = doc["websites"].as_array().expect("the doc's websites");
        assert_eq!(sent.len(), doc.len());
        for (sent, doc) in sent.iter().zip(doc) {
            let mut input = doc.clone();
            let fields = input.as_object_mut().expect("a website object");
            let parent = fields.remove("parent").expect("the doc's parent");
            fields.insert("reseller".to_owned(), parent);
            assert_eq!(sent, &input, "a website as the panel takes it");
        }

        assert_eq!(ia.user(DOC_USER), doc_user_stored(), "what the panel holds");

        let expected = doc_account(&ia.id);
        assert_same_websites(websites_of(&created), &doc_websites_shown());
        assert_eq!(created, expected, "CreateAccount's reply");
        let got = ia.get_account(DOC_USER).await.expect("get the doc's user");
        assert_same_websites(websites_of(&got), &doc_websites_shown());
        assert_eq!(got, expected, "GetAccount's reply");
        let listed = ia.list_accounts(0, "").await;
        assert_eq!(listed.accounts, [expected], "ListAccounts' reply");
        assert_eq!(listed.next_page_token, "");
    })
    .await;
}

/// [`doc_example_round_trips_unchanged`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_example_round_trips_unchanged_sqlite() {
    doc_example_round_trips_unchanged(Backend::Sqlite).await;
}

/// [`doc_example_round_trips_unchanged`] on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_example_round_trips_unchanged_postgres() {
    doc_example_round_trips_unchanged(Backend::Postgres).await;
}

/// Without websites, CreateAccount records one labelled with the primary
/// domain, served at its http:// and https:// from `public_html`, without a
/// path (the panel's server then defaults to the username); GetAccount reads
/// it back and the primary domain from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_without_websites_records_the_primary_domain() {
    with_panel(|ia| async move {
        let created = ia.create(new_account("plain")).await.expect("create plain");
        assert_eq!(
            ia.user("plain"),
            json!({
                "id": "plain",
                "parent": "root",
                "type": "user",
                "suspended": false,
                "locale": "en",
                "email": "plain@mail.example",
                "package": PACKAGE,
                "websites": [{
                    "label": "plain.example",
                    "server": "plain",
                    "parent": "root",
                    "databases": [],
                    "vhosts": {
                        "http://plain.example": "public_html",
                        "https://plain.example": "public_html"
                    }
                }]
            })
        );
        let got = ia.get_account("plain").await.expect("get plain");
        assert_eq!(got, created);
        assert_eq!(got.primary_domain, "plain.example");
        assert_eq!(got.status(), AccountStatus::Active);
        assert_same_websites(
            websites_of(&got),
            &[InstallatronWebsite {
                server: "plain".to_owned(),
                parent: "root".to_owned(),
                ..site("", "plain.example")
            }],
        );
    })
    .await;
}

/// CreateAccount's `language` and `parent` options travel as the panel's
/// top-level `language` and `parent`: the user's locale and owner, which its
/// websites inherit as their parent, and which GetAccount reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_options_set_language_and_parent() {
    with_panel(|ia| async move {
        let owned = CreateAccountRequest {
            panel_options: Some(create_account_request::PanelOptions::Installatron(
                InstallatronAccountOptions {
                    websites: vec![site(SFTP_PATH, "owned.example")],
                    language: "nl".to_owned(),
                    parent: "root".to_owned(),
                },
            )),
            ..new_account("owned")
        };
        let mark = ia.mark();
        let account = ia.create(owned).await.expect("create owned");
        let body = body_json(&ia.since(mark)[1]);
        assert_eq!(
            (&body["language"], &body["parent"]),
            (&json!("nl"), &json!("root"))
        );
        let user = ia.user("owned");
        assert_eq!(user["locale"], "nl");
        assert_eq!(user["parent"], "root");
        assert_eq!(user["websites"][0]["parent"], "root");
        assert_eq!(
            user["websites"][0]["server"], "files.example",
            "the path's host"
        );
        let Some(account::PanelDetails::Installatron(details)) = &account.panel_details else {
            panic!("Installatron details in {account:?}");
        };
        assert_eq!(
            (details.language.as_str(), details.parent.as_str()),
            ("nl", "root")
        );
    })
    .await;
}

// === domains: the websites list read, changed and written back whole ===

/// AddDomain on a user with the doc's two websites writes the whole list back
/// with a third website: by default labelled with the domain, served at its
/// http:// and https:// from `public_html` (or the request's document root),
/// its files where the first website has them; or the website given in
/// InstallatronDomainOptions (label defaulting to the domain). The doc's two
/// websites stay byte for byte what they were. A domain some website already
/// serves is ALREADY_EXISTS without a write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_domain_keeps_the_other_websites() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let doc = ia.websites(DOC_USER);

        let mark = ia.mark();
        let added = ia
            .add_domain(AddDomainRequest {
                username: DOC_USER.to_owned(),
                domain: "shop.example".to_owned(),
                ..Default::default()
            })
            .await
            .expect("add shop.example")
            .domain;
        assert_eq!(
            added,
            Some(Domain {
                name: "shop.example".to_owned(),
                username: DOC_USER.to_owned(),
                document_root: "public_html".to_owned(),
                status: DomainStatus::Active.into(),
                panel_domain_id: "shop.example".to_owned(),
            })
        );
        assert_eq!(
            ia.calls_since(mark),
            ["GET /users/useraccountname", "POST /users/useraccountname"]
        );
        let body = body_json(&ia.since(mark)[1]);
        assert_eq!(
            body.as_object().map(|fields| fields.len()),
            Some(1),
            "only the websites are sent: {body}"
        );
        assert_eq!(body["websites"].as_array().map(Vec::len), Some(3));
        let websites = ia.websites(DOC_USER);
        assert_eq!(websites[..2], doc[..], "the doc's websites are untouched");
        assert_eq!(
            websites[2],
            json!({
                "path": "sftp://exampleftpuser:exampleftppassword@website.com",
                "label": "shop.example",
                "server": "website.com",
                "parent": "root",
                "databases": [],
                "vhosts": {
                    "http://shop.example": "public_html",
                    "https://shop.example": "public_html"
                }
            })
        );

        // A document root for the default website.
        let added = ia
            .add_domain(AddDomainRequest {
                username: DOC_USER.to_owned(),
                domain: "docs.example".to_owned(),
                document_root: "docs/public".to_owned(),
                ..Default::default()
            })
            .await
            .expect("add docs.example")
            .domain
            .expect("domain in reply");
        assert_eq!(added.document_root, "docs/public");
        assert_eq!(
            ia.websites(DOC_USER)[3]["vhosts"],
            json!({"http://docs.example": "docs/public", "https://docs.example": "docs/public"})
        );

        // The caller's own website: a local path with its ids and a database.
        let blog = InstallatronWebsite {
            path: "/home/useraccountname/blog".to_owned(),
            uid: Some(1001),
            gid: Some(1002),
            vhosts: vhosts(&[
                ("http://blog.example", "htdocs"),
                ("http://www.blog.example", "htdocs"),
            ]),
            databases: vec![database(
                "localhost",
                "useraccountname_blog",
                "blog-db-pass",
            )],
            ..Default::default()
        };
        let added = ia
            .add_domain(AddDomainRequest {
                username: DOC_USER.to_owned(),
                domain: "blog.example".to_owned(),
                panel_options: Some(add_domain_request::PanelOptions::Installatron(
                    InstallatronDomainOptions {
                        website: Some(blog),
                    },
                )),
                ..Default::default()
            })
            .await
            .expect("add blog.example")
            .domain
            .expect("domain in reply");
        assert_eq!(
            (added.document_root.as_str(), added.panel_domain_id.as_str()),
            ("htdocs", "blog.example")
        );
        let websites = ia.websites(DOC_USER);
        assert_eq!(websites.len(), 5);
        assert_eq!(
            websites[..2],
            doc[..],
            "the doc's websites are still untouched"
        );
        assert_eq!(
            websites[4],
            json!({
                "path": "/home/useraccountname/blog",
                "label": "blog.example",
                "server": "localhost",
                "parent": "root",
                "uid": 1001,
                "gid": 1002,
                "databases": [{
                    "type": "mysql",
                    "host": "localhost",
                    "user": "useraccountname_blog",
                    "name": "useraccountname_blog",
                    "pass": "blog-db-pass"
                }],
                "vhosts": {"http://blog.example": "htdocs", "http://www.blog.example": "htdocs"}
            })
        );

        // Served already: by a website's vhosts, or as a label.
        for taken in ["subdomain.website.com", "www.blog.example", "website.com"] {
            let before = ia.snapshot(DOC_USER);
            let mark = ia.mark();
            let again = ia
                .add_domain(AddDomainRequest {
                    username: DOC_USER.to_owned(),
                    domain: taken.to_owned(),
                    ..Default::default()
                })
                .await;
            assert_panel_error(&ia, again, Code::AlreadyExists, "DOMAIN_ALREADY_EXISTS");
            assert_eq!(
                ia.calls_since(mark),
                ["GET /users/useraccountname"],
                "{taken}"
            );
            assert_eq!(ia.snapshot(DOC_USER), before, "{taken}");
        }
    })
    .await;
}

/// DeleteDomain removes only the vhosts of that domain: a website keeping
/// other vhosts stays (its databases too), a website left without any goes
/// (with its databases), and every other website stays byte for byte. Adding
/// a domain and deleting it again gives back the doc's user exactly. Without
/// `username` the owner is found by reading every user; an unknown domain is
/// NOT_FOUND without a write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_domain_removes_only_its_vhosts() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        ia.create(new_account("other")).await.expect("create other");
        let other = ia.snapshot("other");

        // There and back: the doc's user is exactly what it was.
        ia.add_domain(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "shop.example".to_owned(),
            ..Default::default()
        })
        .await
        .expect("add shop.example");
        ia.delete_domain("shop.example", DOC_USER, false)
            .await
            .expect("delete shop.example");
        assert_eq!(
            ia.user(DOC_USER),
            doc_user_stored(),
            "back to the doc's user"
        );

        // A website with two hosts loses one of them, and keeps its database.
        let mut both = site(SFTP_PATH, "blog.example");
        both.vhosts.insert(
            "http://www.blog.example".to_owned(),
            "public_html".to_owned(),
        );
        both.databases = vec![database("localhost", "blogdb", "blog-db-pass")];
        ia.add_domain(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "blog.example".to_owned(),
            panel_options: Some(add_domain_request::PanelOptions::Installatron(
                InstallatronDomainOptions {
                    website: Some(both),
                },
            )),
            ..Default::default()
        })
        .await
        .expect("add blog.example");
        let before = ia.websites(DOC_USER);
        let mark = ia.mark();
        ia.delete_domain("www.blog.example", DOC_USER, false)
            .await
            .expect("delete www.blog.example");
        assert_eq!(
            ia.calls_since(mark),
            ["GET /users/useraccountname", "POST /users/useraccountname"]
        );
        let after = ia.websites(DOC_USER);
        assert_eq!(after[..2], before[..2], "the doc's websites are untouched");
        let mut blog = before[2].clone();
        blog["vhosts"]
            .as_object_mut()
            .expect("vhosts")
            .remove("http://www.blog.example");
        assert_eq!(after[2], blog, "only www.blog.example's vhost is gone");
        assert_eq!(after[2]["databases"][0]["name"], "blogdb");

        // A website left without vhosts goes, with its database; found
        // without `username` by reading the users.
        let mark = ia.mark();
        ia.delete_domain("subdomain.website.com", "", false)
            .await
            .expect("delete subdomain.website.com");
        assert_eq!(
            ia.calls_since(mark),
            [
                "GET /users?offset=0&limit=100",
                "POST /users/useraccountname"
            ]
        );
        let last = ia.websites(DOC_USER);
        assert_eq!(last, [after[0].clone(), after[2].clone()]);
        assert!(
            !ia.snapshot(DOC_USER).contains("useraccountname_mytestdb2"),
            "the database went with its website"
        );
        assert_eq!(ia.snapshot("other"), other, "other users are untouched");

        // Nobody serves it.
        for owner in [DOC_USER, ""] {
            let before = ia.snapshot(DOC_USER);
            let mark = ia.mark();
            let gone = ia.delete_domain("nowhere.example", owner, false).await;
            assert_panel_error(&ia, gone, Code::NotFound, "DOMAIN_NOT_FOUND");
            assert!(
                ia.since(mark).iter().all(|request| request.method == "GET"),
                "no write: {:?}",
                ia.calls_since(mark)
            );
            assert_eq!(ia.snapshot(DOC_USER), before);
        }
    })
    .await;
}

/// ListDomains lists every vhost host once (http:// and https:// of one host
/// are one domain), with its document root, its website's label as the
/// panel's id and its website's suspension; for one account, or for every
/// account of the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_domains_lists_each_host_once() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let mut parked = site(SFTP_PATH, "parked.example");
        parked.vhosts.insert(
            "http://www.parked.example".to_owned(),
            "public_html".to_owned(),
        );
        parked.suspended = true;
        ia.create(with_websites("other", vec![parked]))
            .await
            .expect("create other");

        let domain =
            |name: &str, username: &str, root: &str, label: &str, status: DomainStatus| Domain {
                name: name.to_owned(),
                username: username.to_owned(),
                document_root: root.to_owned(),
                status: status.into(),
                panel_domain_id: label.to_owned(),
            };
        let doc_domains = vec![
            domain(
                "website.com",
                DOC_USER,
                "public_html",
                "website.com",
                DomainStatus::Active,
            ),
            domain(
                "subdomain.website.com",
                DOC_USER,
                "public_html/subdomain",
                "subdomain.website.com",
                DomainStatus::Active,
            ),
        ];
        assert_eq!(ia.list_domains(DOC_USER).await, doc_domains);
        let other_domains = vec![
            domain(
                "parked.example",
                "other",
                "public_html",
                "parked.example",
                DomainStatus::Suspended,
            ),
            domain(
                "www.parked.example",
                "other",
                "public_html",
                "parked.example",
                DomainStatus::Suspended,
            ),
        ];
        assert_eq!(ia.list_domains("other").await, other_domains);
        let everything: Vec<Domain> = doc_domains.into_iter().chain(other_domains).collect();
        assert_eq!(ia.list_domains("").await, everything);
    })
    .await;
}

// === dry runs: validate_only asks dryrun=all and changes nothing ===

/// Asserts the requests after `mark` were reads and the one dry-run change,
/// `METHOD path` as expected, asking `dryrun=all` (in the JSON body of a
/// POST, in the query of a DELETE); that the call answered that the panel was
/// consulted; and that the doc's user is still `before`, byte for byte, with
/// `users` users on the panel.
#[track_caller]
fn assert_dry_run(
    ia: &Ia,
    mark: usize,
    change: &str,
    validation: Option<Validation>,
    before: &str,
    users: usize,
) {
    assert_eq!(validation, consulted(), "{change}");
    let requests = ia.since(mark);
    let (last, reads) = requests.split_last().expect("requests reached the panel");
    assert!(
        reads.iter().all(|request| request.method == "GET"),
        "{change}: only reads before the dry run: {:?}",
        calls(&requests)
    );
    assert_eq!(format!("{} {}", last.method, last.path), change);
    if last.method == "POST" {
        assert_eq!(body_json(last)["dryrun"], "all", "{change}");
    } else {
        assert!(last.path.ends_with("?dryrun=all"), "{change}");
    }
    assert_eq!(
        ia.snapshot(DOC_USER),
        before,
        "{change}: the user is unchanged"
    );
    assert_eq!(
        ia.sim.user_count(),
        users,
        "{change}: no user added or removed"
    );
}

/// Every validate_only mutation Installatron has — CreateAccount,
/// UpdateAccount, SuspendAccount, UnsuspendAccount, ChangePackage,
/// DeleteAccount, AddDomain, DeleteDomain, CreateDatabase — reaches the panel
/// as its real change with `dryrun=all`, answers `panel_consulted = true` and
/// nothing else, and leaves the stored user byte for byte as it was (the
/// panel answers a clean dry run with `result` false and errcode
/// `complete_dryrun`, which is a success).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_only_is_a_dry_run_that_changes_nothing() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let before = ia.snapshot(DOC_USER);
        let users = ia.sim.user_count();

        let mark = ia.mark();
        let reply = ia
            .create_account(CreateAccountRequest {
                validate_only: true,
                ..with_websites("newbie", doc_websites())
            })
            .await
            .expect("dry-run CreateAccount");
        assert_eq!(reply.account, None);
        assert_dry_run(&ia, mark, "POST /users", reply.validation, &before, users);
        assert_eq!(ia.sim.user("newbie"), None);

        let mark = ia.mark();
        let reply = ia
            .update(UpdateAccountRequest {
                username: DOC_USER.to_owned(),
                email: Some("new@mail.example".to_owned()),
                validate_only: true,
                ..Default::default()
            })
            .await
            .expect("dry-run UpdateAccount");
        let path = "POST /users/useraccountname";
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);

        let mark = ia.mark();
        let reply = ia.suspend(DOC_USER, true).await.expect("dry-run suspend");
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);
        assert_eq!(body_json(&ia.since(mark)[1])["suspended"], true);

        let mark = ia.mark();
        let reply = ia
            .unsuspend(DOC_USER, true)
            .await
            .expect("dry-run unsuspend");
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);

        let mark = ia.mark();
        let reply = ia
            .change_package(DOC_USER, "silver", true)
            .await
            .expect("dry-run ChangePackage");
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);
        assert_eq!(body_json(&ia.since(mark)[1])["package"], "silver");

        let mark = ia.mark();
        let reply = ia
            .add_domain(AddDomainRequest {
                username: DOC_USER.to_owned(),
                domain: "shop.example".to_owned(),
                validate_only: true,
                ..Default::default()
            })
            .await
            .expect("dry-run AddDomain");
        assert_eq!(reply.domain, None);
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);

        let mark = ia.mark();
        let reply = ia
            .delete_domain("subdomain.website.com", DOC_USER, true)
            .await
            .expect("dry-run DeleteDomain");
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);

        let mark = ia.mark();
        let reply = ia
            .create_database(CreateDatabaseRequest {
                username: DOC_USER.to_owned(),
                database_name: "useraccountname_shop".to_owned(),
                database_user: "useraccountname_shop".to_owned(),
                database_password: "shop-db-pass".to_owned(),
                validate_only: true,
                ..Default::default()
            })
            .await
            .expect("dry-run CreateDatabase");
        assert_eq!(reply.database, None);
        assert_dry_run(&ia, mark, path, reply.validation, &before, users);

        let mark = ia.mark();
        let reply = ia
            .delete(DOC_USER, true)
            .await
            .expect("dry-run DeleteAccount");
        let delete = "DELETE /users/useraccountname?dryrun=all";
        assert_dry_run(&ia, mark, delete, reply.validation, &before, users);

        // Still all there, and still reachable through the account index.
        assert_eq!(ia.user(DOC_USER), doc_user_stored());
        let got = ia
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: None,
                username: DOC_USER.to_owned(),
            })
            .await
            .expect("the indexed account");
        assert_eq!(got.into_inner().account, Some(doc_account(&ia.id)));
    })
    .await;
}

/// A dry run the panel refuses is the panel's error, its errfield the
/// BadRequest field as a canonical path: an unreachable database host or
/// website host (only a dry run tests connections: the same CreateAccount
/// without validate_only is recorded), a local path without its uid. Nothing
/// is stored, and the host's credentials are never quoted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_dry_runs_name_the_panels_errfield() {
    with_panel(|ia| async move {
        let dry = |request: CreateAccountRequest| CreateAccountRequest {
            validate_only: true,
            ..request
        };

        let mut far = site(SFTP_PATH, "far.example");
        far.databases = vec![database("db.unreachable.invalid:3306", "fardb", "far-pass")];
        let websites = vec![site(SFTP_PATH, "near.example"), far];
        let refused = ia
            .create_account(dry(with_websites("far", websites.clone())))
            .await;
        assert_refused(
            &ia,
            refused,
            "panel_options.installatron.websites[1].databases[0].host",
            "failed_database_host: Unable to connect to the database server db.unreachable.invalid:3306.",
        );
        assert_eq!(ia.sim.user_count(), 0);
        ia.create(with_websites("far", websites))
            .await
            .expect("a real call tests no connection");
        assert!(ia.sim.user("far").is_some());

        let hidden = site(
            "sftp://ftpuser:hidden-ftp-pass@files.unreachable.invalid/home",
            "hidden.example",
        );
        let refused = ia
            .create_account(dry(with_websites("hidden", vec![hidden])))
            .await;
        let status = assert_refused(
            &ia,
            refused,
            "panel_options.installatron.websites[0].path",
            "failed_filesystem_host: Unable to reach the remote host files.unreachable.invalid.",
        );
        assert!(
            !format!("{status:?}").contains("hidden-ftp-pass"),
            "the path's password is never quoted: {status:?}"
        );

        let local = InstallatronWebsite {
            path: "/home/local".to_owned(),
            ..site("", "local.example")
        };
        let refused = ia
            .create_account(dry(with_websites("local", vec![local])))
            .await;
        assert_refused(
            &ia,
            refused,
            "panel_options.installatron.websites[0].uid",
            "empty_argument_uid: The websites[0][uid] argument is required.",
        );

        let refused = ia
            .update(UpdateAccountRequest {
                username: "far".to_owned(),
                email: Some("two@at@mail.example".to_owned()),
                validate_only: true,
                ..Default::default()
            })
            .await;
        assert_refused(
            &ia,
            refused,
            "email",
            "invalid_argument_email: The email argument is invalid: not an email address.",
        );
        assert_eq!(ia.sim.user_count(), 1, "only `far` was ever stored");
        assert_eq!(ia.user("far")["email"], "far@mail.example");
    })
    .await;
}

// === success is `result` (or a clean dry run), never `message` ===

/// A panel on a loopback port answering every request with HTTP 200 and
/// `envelope`; its base URL and how many requests it answered.
fn canned_panel(envelope: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base_url = format!("http://{}/", listener.local_addr().expect("address"));
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // Read the head and the body its Content-Length announces.
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stream.read(&mut buffer)
                && read > 0
            {
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|length| length.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{envelope}",
                envelope.len()
            );
            // Counted before answering, so the caller sees the count.
            count.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (base_url, answered)
}

/// Success is read from `result`, never from `message`. On the simulator: a
/// clean dry run answers `result` false with errcode `complete_dryrun` and is
/// a success; a refusal, whose message ends in "\n" like the success
/// message, is an error. The simulator never words an error "The task is
/// complete.", so a canned panel does: over HTTP 200, `result` false with
/// that message is still the error its errcode says (INVALID_ARGUMENT on its
/// errfield; NOT_FOUND).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_decides_success_never_message() {
    with_panel(|ia| async move {
        let clean = ia
            .create_account(CreateAccountRequest {
                validate_only: true,
                ..new_account("clean")
            })
            .await
            .expect("a clean dry run is a success despite result false");
        assert_eq!(clean.validation, consulted());

        let refused = ia
            .create(CreateAccountRequest {
                email: "two@at@mail.example".to_owned(),
                ..new_account("refused")
            })
            .await;
        assert_refused(
            &ia,
            refused,
            "email",
            "invalid_argument_email: The email argument is invalid: not an email address.",
        );
        assert_eq!(ia.sim.user_count(), 0);

        let (base_url, answered) = canned_panel(
            r#"{"result": false, "status": 400, "errcode": "invalid_argument_email", "errfield": "email", "message": "The task is complete.\n", "data": null}"#,
        );
        let id = register(&ia.gateway, "misleading", &base_url, "any-key").await;
        let updated = ia
            .gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target: by_id(&id),
                username: "bob".to_owned(),
                email: Some("bob@mail.example".to_owned()),
                ..Default::default()
            })
            .await;
        let status = assert_invalid(updated, "email");
        assert_eq!(
            metadata(&status, "upstream_message"),
            "invalid_argument_email: The task is complete."
        );
        assert_eq!(answered.load(Ordering::SeqCst), 1);

        let (base_url, answered) = canned_panel(
            r#"{"result": false, "status": 404, "errcode": "user_not_found", "errfield": null, "message": "The task is complete.\n", "data": {"id": "bob"}}"#,
        );
        let id = register(&ia.gateway, "misleading-read", &base_url, "any-key").await;
        let got = ia
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_id(&id),
                username: "bob".to_owned(),
            })
            .await;
        assert_error(got, Code::NotFound, "ACCOUNT_NOT_FOUND");
        assert_eq!(answered.load(Ordering::SeqCst), 1);
    })
    .await;
}

// === errfield → BadRequest field, errcode and message → upstream_message ===

/// Each refusal of CreateAccount by the panel is INVALID_ARGUMENT on the
/// canonical path of the panel's errfield (top-level `email` stays `email`;
/// websites and the user's options sit under `panel_options.installatron.`),
/// `upstream_message` being `errcode: message`. Each did reach the panel, and
/// nothing was stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_refusals_name_the_canonical_field() {
    with_panel(|ia| async move {
        let options = |websites: Vec<InstallatronWebsite>, language: &str, parent: &str| {
            Some(create_account_request::PanelOptions::Installatron(
                InstallatronAccountOptions {
                    websites,
                    language: language.to_owned(),
                    parent: parent.to_owned(),
                },
            ))
        };
        let good = site(SFTP_PATH, "good.example");
        let with = |change: fn(&mut InstallatronWebsite)| {
            let mut second = site(SFTP_PATH, "second.example");
            change(&mut second);
            options(vec![good.clone(), second], "", "")
        };
        // (what is wrong, field, upstream_message)
        let cases = [
            (
                CreateAccountRequest {
                    email: "two@at@mail.example".to_owned(),
                    ..new_account("bad")
                },
                "email",
                "invalid_argument_email: The email argument is invalid: not an email address.",
            ),
            (
                CreateAccountRequest {
                    panel_options: options(
                        vec![InstallatronWebsite {
                            path: "/home/bad".to_owned(),
                            gid: Some(1000),
                            ..good.clone()
                        }],
                        "",
                        "",
                    ),
                    ..new_account("bad")
                },
                "panel_options.installatron.websites[0].uid",
                "empty_argument_uid: The websites[0][uid] argument is required.",
            ),
            (
                CreateAccountRequest {
                    panel_options: with(|website| website.email = "nobody".to_owned()),
                    ..new_account("bad")
                },
                "panel_options.installatron.websites[1].email",
                "invalid_argument_email: The websites[1][email] argument is invalid: not an email address.",
            ),
            (
                CreateAccountRequest {
                    panel_options: with(|website| {
                        website
                            .vhosts
                            .insert("http://second.example".to_owned(), "/etc".to_owned());
                    }),
                    ..new_account("bad")
                },
                "panel_options.installatron.websites[1].vhosts",
                "invalid_argument_vhosts: The websites[1][vhosts] argument is invalid: a docroot is not relative to the path.",
            ),
            (
                CreateAccountRequest {
                    panel_options: with(|website| website.label = "good.example".to_owned()),
                    ..new_account("bad")
                },
                "panel_options.installatron.websites[1].label",
                "invalid_argument_label: The websites[1][label] argument is invalid: used by another website of this user.",
            ),
            (
                CreateAccountRequest {
                    panel_options: with(|website| {
                        website.databases = vec![InstallatronDatabase {
                            user: String::new(),
                            ..database("localhost", "nouser", "some-pass")
                        }];
                    }),
                    ..new_account("bad")
                },
                "panel_options.installatron.websites[1].databases[0].user",
                "empty_argument_user: The websites[1][databases][0][user] argument is required.",
            ),
            (
                CreateAccountRequest {
                    panel_options: with(|website| website.vhost_ip = "300.1.2.3".to_owned()),
                    ..new_account("bad")
                },
                "panel_options.installatron.websites[1].vhost_ip",
                "invalid_argument_vhost_ip: The websites[1][vhost_ip] argument is invalid: not an IP address.",
            ),
            (
                CreateAccountRequest {
                    panel_options: options(vec![good.clone()], "english", ""),
                    ..new_account("bad")
                },
                "panel_options.installatron.language",
                "invalid_argument_language: The language argument is invalid: not a language code.",
            ),
            (
                CreateAccountRequest {
                    panel_options: options(vec![good.clone()], "", "nobody"),
                    ..new_account("bad")
                },
                "panel_options.installatron.parent",
                "invalid_argument_parent: The parent argument is invalid: not the administrator or a reseller.",
            ),
        ];
        for (request, field, upstream) in cases {
            let mark = ia.mark();
            let refused = ia.create(request).await;
            assert_refused(&ia, refused, field, upstream);
            assert_eq!(
                ia.calls_since(mark),
                ["GET /users/bad", "POST /users"],
                "{field}: the panel refused it"
            );
            assert_eq!(ia.sim.user_count(), 0, "{field}: nothing stored");
        }
    })
    .await;
}

/// The panel's refusals of AddDomain's website and of CreateDatabase's host
/// name the request's own fields: `panel_options.installatron.website.<field>`
/// and `panel_options.installatron.host` — not the position of the website
/// in the list panelgate wrote back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_of_the_written_back_list_name_the_requests_fields() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let before = ia.snapshot(DOC_USER);

        let local = InstallatronWebsite {
            path: "/home/useraccountname/shop".to_owned(),
            ..Default::default()
        };
        let refused = ia
            .add_domain(AddDomainRequest {
                username: DOC_USER.to_owned(),
                domain: "shop.example".to_owned(),
                panel_options: Some(add_domain_request::PanelOptions::Installatron(
                    InstallatronDomainOptions {
                        website: Some(local),
                    },
                )),
                ..Default::default()
            })
            .await;
        assert_refused(
            &ia,
            refused,
            "panel_options.installatron.website.uid",
            "empty_argument_uid: The websites[2][uid] argument is required.",
        );

        let refused = ia
            .create_database(CreateDatabaseRequest {
                username: DOC_USER.to_owned(),
                database_name: "useraccountname_far".to_owned(),
                database_user: "useraccountname_far".to_owned(),
                database_password: "far-db-pass".to_owned(),
                panel_options: Some(create_database_request::PanelOptions::Installatron(
                    InstallatronDatabaseOptions {
                        website: String::new(),
                        host: "db.unreachable.invalid".to_owned(),
                    },
                )),
                validate_only: true,
                ..Default::default()
            })
            .await;
        assert_refused(
            &ia,
            refused,
            "panel_options.installatron.host",
            "failed_database_host: Unable to connect to the database server db.unreachable.invalid.",
        );
        assert_eq!(ia.snapshot(DOC_USER), before);
    })
    .await;
}

// === accounts: every user endpoint through its canonical RPC ===

/// CreateAccount of a user the panel has is ALREADY_EXISTS: `POST /users`
/// would update it, so the adapter reads it first and never posts; the
/// stored user is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_never_overwrites_an_existing_user() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let before = ia.snapshot(DOC_USER);
        let mark = ia.mark();
        let again = ia
            .create(CreateAccountRequest {
                email: "intruder@mail.example".to_owned(),
                ..with_websites(DOC_USER, vec![site(SFTP_PATH, "intruder.example")])
            })
            .await;
        assert_panel_error(&ia, again, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        assert_eq!(ia.calls_since(mark), ["GET /users/useraccountname"]);
        assert_eq!(ia.snapshot(DOC_USER), before);
        assert_eq!(ia.sim.user_count(), 1);
    })
    .await;
}

/// ListAccounts pages with `offset` and `limit` and reads `total_count`: 5
/// users by pages of 2 are 3 pages, in creation order, none twice, the last
/// without a next token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_accounts_pages_with_offset_limit_and_total_count() {
    with_panel(|ia| async move {
        let names = ["alpha", "bravo", "charlie", "delta", "echo"];
        for name in names {
            ia.create(new_account(name)).await.expect("create a user");
        }
        let mark = ia.mark();
        let mut listed = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = ia.list_accounts(2, &token).await;
            pages += 1;
            assert!(page.accounts.len() <= 2, "{page:?}");
            assert!(
                page.accounts
                    .iter()
                    .all(|account| account.server_id == ia.id),
                "{page:?}"
            );
            listed.extend(page.accounts.into_iter().map(|account| account.username));
            token = page.next_page_token;
            if token.is_empty() || pages > 5 {
                break;
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(listed, names);
        assert_eq!(
            ia.calls_since(mark),
            [
                "GET /users?offset=0&limit=2",
                "GET /users?offset=2&limit=2",
                "GET /users?offset=4&limit=2"
            ]
        );
    })
    .await;
}

/// GetAccount reads `GET /users/{id}`; a user the panel lacks is NOT_FOUND
/// ACCOUNT_NOT_FOUND with the panel's errcode and words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_account_reads_the_user_or_is_not_found() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let mark = ia.mark();
        let got = ia.get_account(DOC_USER).await.expect("get the doc's user");
        assert_eq!(got, doc_account(&ia.id));
        assert_eq!(ia.calls_since(mark), ["GET /users/useraccountname"]);

        let mark = ia.mark();
        let missing = ia.get_account("ghost").await;
        assert_ia_error(
            &ia,
            missing,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "user_not_found: The specified user could not be found in the Installatron Server database.",
        );
        assert_eq!(ia.calls_since(mark), ["GET /users/ghost"]);
    })
    .await;
}

/// UpdateAccount sets the email with `POST /users/{id}` (`{"email": ...}`
/// only); first and last names and the primary domain, which Installatron
/// does not record, are INVALID_ARGUMENT before any panel call, even with an
/// email beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_account_sets_the_email_and_refuses_the_rest() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let mark = ia.mark();
        let reply = ia
            .update(UpdateAccountRequest {
                username: DOC_USER.to_owned(),
                email: Some("new@mail.example".to_owned()),
                ..Default::default()
            })
            .await
            .expect("update the email");
        assert_eq!(reply.validation, None);
        let requests = ia.since(mark);
        assert_eq!(
            calls(&requests),
            ["GET /users/useraccountname", "POST /users/useraccountname"],
            "the user is looked up first: POST /users/{{id}} would create a missing one"
        );
        assert_eq!(
            body_json(&requests[1]),
            json!({"email": "new@mail.example"})
        );
        let mut expected = doc_user_stored();
        expected["email"] = json!("new@mail.example");
        assert_eq!(ia.user(DOC_USER), expected, "only the email changed");

        let before = ia.snapshot(DOC_USER);
        let requests = ia.sim.request_count();
        let name = || Some("Ada".to_owned());
        let cases = [
            (
                "first_name",
                UpdateAccountRequest {
                    first_name: name(),
                    ..Default::default()
                },
            ),
            (
                "last_name",
                UpdateAccountRequest {
                    last_name: name(),
                    ..Default::default()
                },
            ),
            (
                "primary_domain",
                UpdateAccountRequest {
                    primary_domain: Some("moved.example".to_owned()),
                    ..Default::default()
                },
            ),
        ];
        for (field, request) in cases {
            let refused = ia
                .update(UpdateAccountRequest {
                    username: DOC_USER.to_owned(),
                    email: Some("other@mail.example".to_owned()),
                    ..request
                })
                .await;
            assert_invalid(refused, field);
        }
        assert_eq!(ia.sim.request_count(), requests, "no panel call");
        assert_eq!(ia.snapshot(DOC_USER), before);
    })
    .await;
}

/// SuspendAccount and UnsuspendAccount set the user's `suspended` flag
/// (`POST /users/{id}` with only that), read back as the account's status;
/// ChangePackage sets the free-text package label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_unsuspend_and_change_package_set_the_users_fields() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;

        let mark = ia.mark();
        ia.suspend(DOC_USER, false).await.expect("suspend");
        let requests = ia.since(mark);
        assert_eq!(
            calls(&requests),
            ["GET /users/useraccountname", "POST /users/useraccountname"],
            "the user is looked up first: POST /users/{{id}} would create a missing one"
        );
        assert_eq!(body_json(&requests[1]), json!({"suspended": true}));
        let mut expected = doc_user_stored();
        expected["suspended"] = json!(true);
        assert_eq!(ia.user(DOC_USER), expected, "only the flag changed");
        let got = ia.get_account(DOC_USER).await.expect("get");
        assert_eq!(got.status(), AccountStatus::Suspended);

        let mark = ia.mark();
        ia.unsuspend(DOC_USER, false).await.expect("unsuspend");
        assert_eq!(body_json(&ia.since(mark)[1]), json!({"suspended": false}));
        assert_eq!(ia.user(DOC_USER), doc_user_stored());
        let got = ia.get_account(DOC_USER).await.expect("get");
        assert_eq!(got.status(), AccountStatus::Active);

        let mark = ia.mark();
        let reply = ia
            .change_package(DOC_USER, "Silver Plus", false)
            .await
            .expect("change package");
        assert_eq!(reply.validation, None);
        let requests = ia.since(mark);
        assert_eq!(
            calls(&requests),
            ["GET /users/useraccountname", "POST /users/useraccountname"],
            "the user is looked up first: POST /users/{{id}} would create a missing one"
        );
        assert_eq!(body_json(&requests[1]), json!({"package": "Silver Plus"}));
        assert_eq!(ia.user(DOC_USER)["package"], "Silver Plus");
        let got = ia.get_account(DOC_USER).await.expect("get");
        assert_eq!(got.package, "Silver Plus");
    })
    .await;
}

/// DeleteAccount forgets the user (`DELETE /users/{id}`); GetAccount is then
/// NOT_FOUND, a second delete NOT_FOUND, and the username can be created
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_account_forgets_the_user() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        ia.create(new_account("other")).await.expect("create other");
        let other = ia.snapshot("other");

        let mark = ia.mark();
        let reply = ia.delete(DOC_USER, false).await.expect("delete");
        assert_eq!(reply.validation, None);
        assert_eq!(ia.calls_since(mark), ["DELETE /users/useraccountname"]);
        assert_eq!(ia.sim.user(DOC_USER), None);
        assert_eq!(ia.sim.user_count(), 1);
        assert_eq!(ia.snapshot("other"), other);

        let got = ia.get_account(DOC_USER).await;
        assert_panel_error(&ia, got, Code::NotFound, "ACCOUNT_NOT_FOUND");
        let again = ia.delete(DOC_USER, false).await;
        assert_panel_error(&ia, again, Code::NotFound, "ACCOUNT_NOT_FOUND");

        ia.create_doc_user().await;
        assert_eq!(ia.user(DOC_USER), doc_user_stored());
    })
    .await;
}

/// CreateLoginLink answers the GUI URL of a new panel session
/// (`POST /users/{id}/login`): on the panel's own host, a new 22-character
/// session each time. A user the panel lacks is NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_is_the_panels_gui_url() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let mark = ia.mark();
        let first = ia.login_link(DOC_USER).await.expect("a login link");
        let requests = ia.since(mark);
        assert_eq!(calls(&requests), ["POST /users/useraccountname/login"]);
        let session = first
            .strip_prefix(&ia.sim.base_url())
            .unwrap_or_else(|| panic!("{first} is on the panel's host"));
        assert_eq!(session.len(), 22, "{first}");
        assert!(
            session
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
            "{first}"
        );
        let second = ia.login_link(DOC_USER).await.expect("another login link");
        assert_ne!(first, second, "a new session each time");

        let missing = ia.login_link("ghost").await;
        assert_panel_error(&ia, missing, Code::NotFound, "ACCOUNT_NOT_FOUND");
    })
    .await;
}

// === databases: credentials recorded on a website ===

/// CreateDatabase records the credentials (type mysql, host `localhost` by
/// default) on the website serving the primary domain by default, or on the
/// website InstallatronDatabaseOptions names, with its host; the other
/// websites stay as they were. The same name again on that website is
/// ALREADY_EXISTS, an unknown website label INVALID_ARGUMENT — neither writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_database_records_credentials_on_the_right_website() {
    with_panel(|ia| async move {
        ia.create_doc_user().await;
        let doc = ia.websites(DOC_USER);
        let request = |name: &str, website: &str, host: &str| CreateDatabaseRequest {
            username: DOC_USER.to_owned(),
            database_name: name.to_owned(),
            database_user: format!("{name}_u"),
            database_password: format!("{name}-password"),
            panel_options: (!website.is_empty() || !host.is_empty()).then(|| {
                create_database_request::PanelOptions::Installatron(InstallatronDatabaseOptions {
                    website: website.to_owned(),
                    host: host.to_owned(),
                })
            }),
            ..Default::default()
        };

        let mark = ia.mark();
        let created = ia
            .create_database(request("shopdb", "", ""))
            .await
            .expect("create shopdb")
            .database;
        assert_eq!(
            created,
            Some(Database {
                name: "shopdb".to_owned(),
                user: "shopdb_u".to_owned(),
                username: DOC_USER.to_owned(),
            })
        );
        assert_eq!(
            ia.calls_since(mark),
            ["GET /users/useraccountname", "POST /users/useraccountname"]
        );
        let websites = ia.websites(DOC_USER);
        assert_eq!(
            websites[0]["databases"][1],
            json!({"type": "mysql", "host": "localhost", "user": "shopdb_u", "name": "shopdb", "pass": "shopdb-password"}),
            "on website.com, the primary domain's website"
        );
        assert_eq!(websites[0]["databases"][0], doc[0]["databases"][0]);
        assert_eq!(websites[1], doc[1], "the other website is untouched");

        ia.create_database(request("subdb", "subdomain.website.com", "db.example:3307"))
            .await
            .expect("create subdb");
        let websites = ia.websites(DOC_USER);
        assert_eq!(
            websites[1]["databases"],
            json!([
                doc[1]["databases"][0],
                {"type": "mysql", "host": "db.example:3307", "user": "subdb_u", "name": "subdb", "pass": "subdb-password"}
            ])
        );
        assert_eq!(websites[0]["databases"].as_array().map(Vec::len), Some(2));
        let got = ia.get_account(DOC_USER).await.expect("get");
        let recorded = &websites_of(&got)[1].databases[1];
        assert_eq!(
            (recorded.host.as_str(), recorded.password.as_str()),
            ("db.example:3307", ""),
            "returned as recorded, without its password"
        );

        let before = ia.snapshot(DOC_USER);
        let mark = ia.mark();
        let again = ia.create_database(request("shopdb", "", "")).await;
        assert_panel_error(&ia, again, Code::AlreadyExists, "DATABASE_ALREADY_EXISTS");
        let unknown = ia.create_database(request("lostdb", "nowhere.example", "")).await;
        assert_invalid(unknown, "panel_options.installatron.website");
        assert!(
            ia.since(mark).iter().all(|request| request.method == "GET"),
            "no write: {:?}",
            ia.calls_since(mark)
        );
        assert_eq!(ia.snapshot(DOC_USER), before);
    })
    .await;
}

// === errors and faults ===

/// A key the panel does not take is FAILED_PRECONDITION
/// PANEL_CREDENTIALS_REJECTED with the panel's words, never quoting the key;
/// the next call fails fast without reaching the panel; CheckServer reports
/// it; once UpdateServer sets the right key, calls work again.
async fn wrong_key_is_credentials_rejected(backend: Backend) {
    with_backend(backend, |ia| async move {
        ia.create_doc_user().await;
        let id = register(&ia.gateway, "stale", &ia.sim.base_url(), "stale-key-123").await;
        let stale = || GetAccountRequest {
            target: by_name("stale"),
            username: DOC_USER.to_owned(),
        };

        let mark = ia.mark();
        let got = ia.gateway.accounts().get_account(stale()).await;
        let status = assert_error(got, Code::FailedPrecondition, "PANEL_CREDENTIALS_REJECTED");
        assert_eq!(metadata(&status, "server_id"), id);
        assert_eq!(
            metadata(&status, "upstream_message"),
            "invalid_api_key: The server's Installatron Server Key is invalid."
        );
        assert!(
            !format!("{status:?}").contains("stale-key-123"),
            "the key is never quoted: {status:?}"
        );
        assert_eq!(ia.calls_since(mark), ["GET /users/useraccountname"]);

        let requests = ia.sim.request_count();
        let again = ia.gateway.accounts().get_account(stale()).await;
        assert_error(
            again,
            Code::FailedPrecondition,
            "PANEL_CREDENTIALS_REJECTED",
        );
        assert_eq!(ia.sim.request_count(), requests, "failed fast");

        let checked = ia
            .gateway
            .inventory()
            .check_server(CheckServerRequest {
                target: by_name("stale"),
            })
            .await
            .expect("check stale")
            .into_inner();
        assert!(!checked.healthy);
        assert_eq!(checked.error_reason, "PANEL_CREDENTIALS_REJECTED");

        ia.gateway
            .inventory()
            .update_server(UpdateServerRequest {
                target: by_name("stale"),
                credentials: Some(api_key(&InstallatronConfig::default().api_key)),
                ..Default::default()
            })
            .await
            .expect("set the right key");
        let got = ia
            .gateway
            .accounts()
            .get_account(stale())
            .await
            .expect("works with the right key");
        assert_eq!(
            got.into_inner().account.map(|account| account.username),
            Some(DOC_USER.to_owned())
        );
    })
    .await;
}

/// [`wrong_key_is_credentials_rejected`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_is_credentials_rejected_sqlite() {
    wrong_key_is_credentials_rejected(Backend::Sqlite).await;
}

/// [`wrong_key_is_credentials_rejected`] on PostgreSQL (the key sealed in,
/// and read back from, PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_is_credentials_rejected_postgres() {
    wrong_key_is_credentials_rejected(Backend::Postgres).await;
}

/// Each fault gives its documented code and names the server: 502 and a
/// dropped connection → UNAVAILABLE, 429 → UNAVAILABLE UPSTREAM_RATE_LIMITED,
/// an HTML page or broken JSON → INTERNAL UPSTREAM_PROTOCOL_ERROR with a
/// bounded excerpt, a panel slower than the upstream timeout →
/// DEADLINE_EXCEEDED. None reaches the API (the slow one excepted), and the
/// call works once cleared. A panel nobody listens on is UNAVAILABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_give_the_documented_codes() {
    let configure =
        |config: &mut Config| config.upstream_timeouts.request = Duration::from_millis(300);
    with_panel_on(
        Backend::Sqlite,
        InstallatronConfig::default(),
        configure,
        |ia| async move {
            ia.create_doc_user().await;
            // (fault, code, reason, how `body_excerpt` starts: "" for none at all)
            let cases = [
                (
                    Fault::Status(502),
                    Code::Unavailable,
                    "UPSTREAM_UNAVAILABLE",
                    "",
                ),
                (
                    Fault::Status(429),
                    Code::Unavailable,
                    "UPSTREAM_RATE_LIMITED",
                    "",
                ),
                (
                    Fault::Html,
                    Code::Internal,
                    "UPSTREAM_PROTOCOL_ERROR",
                    "<!DOCTYPE html>",
                ),
                (
                    Fault::BrokenJson,
                    Code::Internal,
                    "UPSTREAM_PROTOCOL_ERROR",
                    r#"{"success": true, "message": "User created succ"#,
                ),
                (
                    Fault::DropConnection,
                    Code::Unavailable,
                    "UPSTREAM_UNAVAILABLE",
                    "",
                ),
            ];
            for (fault, code, reason, excerpt_start) in cases {
                ia.sim.faults().set(fault.clone());
                let mark = ia.mark();
                let got = ia.get_account(DOC_USER).await;
                let status = assert_panel_error(&ia, got, code, reason);
                assert_eq!(metadata(&status, "upstream_message"), "", "{fault:?}");
                let excerpt = metadata(&status, "body_excerpt");
                if excerpt_start.is_empty() {
                    assert_eq!(excerpt, "", "{fault:?}");
                } else {
                    assert!(excerpt.starts_with(excerpt_start), "{fault:?}: {excerpt}");
                    assert!(excerpt.chars().count() <= 201, "bounded: {excerpt}");
                }
                assert_eq!(ia.mark(), mark, "{fault:?}: the API was not reached");

                ia.sim.faults().clear();
                let got = ia.get_account(DOC_USER).await.expect("works once cleared");
                assert_eq!(got.primary_domain, "website.com", "{fault:?}");
            }

            ia.sim.faults().set_delay(Duration::from_secs(1));
            let slow = ia.get_account(DOC_USER).await;
            let status = assert_panel_error(&ia, slow, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
            assert!(status.message().contains("300ms"), "{}", status.message());
            ia.sim.faults().clear();
            ia.get_account(DOC_USER).await.expect("works once cleared");

            let closed = TcpListener::bind("127.0.0.1:0").expect("bind a port");
            let gone = format!("http://{}/", closed.local_addr().expect("address"));
            drop(closed);
            let key = InstallatronConfig::default().api_key;
            let id = register(&ia.gateway, "gone", &gone, &key).await;
            let got = ia
                .gateway
                .accounts()
                .get_account(GetAccountRequest {
                    target: by_id(&id),
                    username: DOC_USER.to_owned(),
                })
                .await;
            let status = assert_error(got, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
            assert_eq!(metadata(&status, "server_name"), "gone");
        },
    )
    .await;
}

/// CreateAccount needs no password on Installatron, which keeps none: the
/// account is recorded without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_needs_no_password() {
    with_panel(|ia| async move {
        let created = ia
            .create(CreateAccountRequest {
                password: String::new(),
                ..new_account("nopass")
            })
            .await
            .expect("create without a password");
        assert_eq!(created.username, "nopass");
        assert!(ia.sim.user("nopass").is_some(), "recorded on the panel");
    })
    .await;
}

/// Edits of a user the panel lacks (suspend, unsuspend, change package,
/// update, add a domain) are NOT_FOUND ACCOUNT_NOT_FOUND, and none makes
/// the user: the panel's `POST /users/{id}` would create it, so the adapter
/// looks it up first and sends no POST.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_of_an_unknown_user_never_create_it() {
    with_panel(|ia| async move {
        let mark = ia.mark();
        let outcomes = [
            ia.suspend("ghost", false).await.map(drop),
            ia.unsuspend("ghost", false).await.map(drop),
            ia.change_package("ghost", "gold", false).await.map(drop),
            ia.update(UpdateAccountRequest {
                username: "ghost".to_owned(),
                email: Some("ghost@mail.example".to_owned()),
                ..Default::default()
            })
            .await
            .map(drop),
            ia.add_domain(AddDomainRequest {
                username: "ghost".to_owned(),
                domain: "ghost.example".to_owned(),
                ..Default::default()
            })
            .await
            .map(drop),
        ];
        for outcome in outcomes {
            assert_panel_error(&ia, outcome, Code::NotFound, "ACCOUNT_NOT_FOUND");
        }
        assert_eq!(ia.sim.user("ghost"), None, "the user was not made");
        assert!(
            ia.calls_since(mark)
                .iter()
                .all(|call| call.starts_with("GET ")),
            "only lookups reached the panel: {:?}",
            ia.calls_since(mark)
        );
    })
    .await;
}

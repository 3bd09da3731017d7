//! SPanel (ScalaHosting) end to end: the real gateway over real gRPC, in front
//! of the SPanel simulator over real HTTP.
//!
//! SPanel has one endpoint, `POST <folder>/api.php`, form-encoded the way PHP's
//! `http_build_query` does it. Every test checks what a canonical call did on
//! the simulated panel itself (`sim.account(..)`, `sim.packages()`,
//! `sim.admin_users()`), and many check the exact bytes the panel received
//! (`sim.received()`: each raw body with its `action`).
//!
//! Unless a test says otherwise the simulator is registered as `scala` with the
//! doc's token `provided_auth_token` (SSO on), in folder `spanel`, with packages
//! `basic` (1024 MB, 100000 inodes, 1 addon domain, 10 emails, 5 databases),
//! `pro` (all unlimited) and `lean` (disk and inodes unlimited; addon domains,
//! emails and databases disabled). Most tests run on SQLite only (the
//! conformance suite covers both backends); the doc examples and the rejected
//! token run on both.

use std::{collections::BTreeMap, future::Future, time::Duration};

use panelgate::Config;
use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, AddDomainRequest, ApiTokenCredentials,
    ChangePackageRequest, ChangePasswordRequest, CheckServerRequest, CreateAccountRequest,
    CreateDatabaseRequest, CreateLoginLinkRequest, CreatePackageRequest, CreatePanelAdminRequest,
    Credentials, Database, DeleteAccountRequest, DeleteDomainRequest, DeletePackageRequest, Domain,
    DomainStatus, GetAccountRequest, GetAccountUsageRequest, GetPackageRequest, Limit,
    ListAccountsRequest, ListPackagesRequest, ListPanelAdminsRequest, Package, PackageLimits,
    PanelAdmin, PanelKind, RegisterServerRequest, ResourceUsage, Server, SpanelAdminOptions,
    SpanelCategoryPermissions, SpanelPackageOptions, SpanelPermissions, SuspendAccountRequest,
    UnsuspendAccountRequest, UpdateAccountRequest, UpdatePackageRequest, create_package_request,
    create_panel_admin_request, credentials, update_package_request,
};
use panelgate_sim::{
    Fault, SimCategoryPermissions, SimPermissions, SimSpanelPackage, SpanelConfig, SpanelSim,
};
use panelgate_tests::{
    Backend, Gateway, PanelFixture, SpanelFixture,
    errors::{assert_error, assert_invalid, metadata},
    gateway::{by_id, by_name},
    with_gateway,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

// === setup ===

/// The name the simulator is registered under.
const SERVER: &str = "scala";
/// The admin token of the SPanel docs' examples.
const DOC_TOKEN: &str = "provided_auth_token";
const MIB: u64 = 1 << 20;

/// The simulator's packages in most tests: its defaults `basic` and `pro`,
/// and `lean`, which disables what can be disabled.
fn config() -> SpanelConfig {
    let mut config = SpanelConfig {
        admin_token: DOC_TOKEN.to_owned(),
        ..SpanelConfig::default()
    };
    config.packages.push(SimSpanelPackage {
        domains: Some(0),
        emails: Some(0),
        databases: Some(0),
        ..SimSpanelPackage::unlimited("lean")
    });
    config
}

/// A gateway with a fresh SPanel simulator registered as `scala`.
struct Sp {
    gateway: Gateway,
    sim: SpanelSim,
    /// The server id of `scala`.
    id: String,
}

impl Sp {
    /// How many bodies have reached `api.php` so far: a mark for [`Sp::actions_since`].
    fn mark(&self) -> usize {
        self.sim.received().len()
    }

    /// The actions of the requests that reached `api.php` after `mark`.
    fn actions_since(&self, mark: usize) -> Vec<String> {
        self.sim.received()[mark..]
            .iter()
            .map(|request| request.action.clone())
            .collect()
    }

    /// The raw body of the latest request of `action`, as text.
    fn last_body(&self, action: &str) -> String {
        let request = self
            .sim
            .received()
            .into_iter()
            .rev()
            .find(|request| request.action == action)
            .unwrap_or_else(|| panic!("no {action} request reached the panel"));
        String::from_utf8(request.body).expect("a form body is ASCII")
    }

    /// HTTP requests the panel has received so far.
    fn requests(&self) -> u64 {
        self.sim.request_count()
    }

    /// Creates `username` with primary domain `<username>.example` and email
    /// `<username>@mail.example`.
    async fn create(&self, username: &str, package: &str) -> Account {
        self.try_create(username, package)
            .await
            .unwrap_or_else(|status| panic!("create {username}: {status:?}"))
    }

    async fn try_create(&self, username: &str, package: &str) -> Result<Account, Status> {
        self.gateway
            .accounts()
            .create_account(CreateAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                primary_domain: format!("{username}.example"),
                email: format!("{username}@mail.example"),
                password: "first-password-1".to_owned(),
                package: package.to_owned(),
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().account.expect("account in reply"))
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

    async fn list_accounts(&self) -> Vec<Account> {
        self.gateway
            .accounts()
            .list_accounts(ListAccountsRequest {
                target: by_name(SERVER),
                ..Default::default()
            })
            .await
            .expect("list accounts")
            .into_inner()
            .accounts
    }

    async fn usage(&self, username: &str) -> AccountUsage {
        self.gateway
            .accounts()
            .get_account_usage(GetAccountUsageRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
            })
            .await
            .expect("get account usage")
            .into_inner()
            .usage
            .expect("usage in reply")
    }

    async fn update(&self, update: UpdateAccountRequest) -> Result<(), Status> {
        self.gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target: by_name(SERVER),
                ..update
            })
            .await
            .map(drop)
    }

    async fn suspend(&self, username: &str, reason: &str) -> Result<(), Status> {
        self.gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                reason: reason.to_owned(),
                ..Default::default()
            })
            .await
            .map(drop)
    }

    async fn unsuspend(&self, username: &str) -> Result<(), Status> {
        self.gateway
            .accounts()
            .unsuspend_account(UnsuspendAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                ..Default::default()
            })
            .await
            .map(drop)
    }

    async fn delete(&self, username: &str) -> Result<(), Status> {
        self.gateway
            .accounts()
            .delete_account(DeleteAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                ..Default::default()
            })
            .await
            .map(drop)
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

    async fn list_packages(&self) -> Vec<Package> {
        self.gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                ..Default::default()
            })
            .await
            .expect("list packages")
            .into_inner()
            .packages
    }

    async fn get_package(&self, package: &str) -> Result<Package, Status> {
        self.gateway
            .packages()
            .get_package(GetPackageRequest {
                target: by_name(SERVER),
                package: package.to_owned(),
            })
            .await
            .map(|reply| reply.into_inner().package.expect("package in reply"))
    }

    /// CreatePackage with SPanel options when `permissions` is given.
    async fn create_package(
        &self,
        name: &str,
        limits: PackageLimits,
        permissions: Option<SpanelPermissions>,
    ) -> Result<Package, Status> {
        self.gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: by_name(SERVER),
                name: name.to_owned(),
                limits: Some(limits),
                panel_options: permissions.map(|permissions| {
                    create_package_request::PanelOptions::Spanel(SpanelPackageOptions {
                        permissions: Some(permissions),
                    })
                }),
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().package.expect("package in reply"))
    }

    async fn update_package(
        &self,
        package: &str,
        limits: PackageLimits,
        permissions: Option<SpanelPermissions>,
    ) -> Result<Package, Status> {
        self.gateway
            .packages()
            .update_package(UpdatePackageRequest {
                target: by_name(SERVER),
                package: package.to_owned(),
                limits: Some(limits),
                panel_options: permissions.map(|permissions| {
                    update_package_request::PanelOptions::Spanel(SpanelPackageOptions {
                        permissions: Some(permissions),
                    })
                }),
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().package.expect("package in reply"))
    }

    async fn delete_package(&self, package: &str) -> Result<(), Status> {
        self.gateway
            .packages()
            .delete_package(DeletePackageRequest {
                target: by_name(SERVER),
                package: package.to_owned(),
                ..Default::default()
            })
            .await
            .map(drop)
    }

    /// CreatePanelAdmin with SPanel options when `permissions` is given.
    async fn create_admin(
        &self,
        username: &str,
        password: &str,
        full_access: bool,
        permissions: Option<SpanelPermissions>,
    ) -> Result<PanelAdmin, Status> {
        self.gateway
            .servers()
            .create_panel_admin(CreatePanelAdminRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                password: password.to_owned(),
                full_access,
                panel_options: permissions.map(|permissions| {
                    create_panel_admin_request::PanelOptions::Spanel(SpanelAdminOptions {
                        permissions: Some(permissions),
                    })
                }),
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().admin.expect("admin in reply"))
    }

    async fn list_admins(&self) -> Vec<PanelAdmin> {
        self.gateway
            .servers()
            .list_panel_admins(ListPanelAdminsRequest {
                target: by_name(SERVER),
                ..Default::default()
            })
            .await
            .expect("list panel admins")
            .into_inner()
            .admins
    }

    async fn add_domain(
        &self,
        username: &str,
        domain: &str,
        document_root: &str,
    ) -> Result<Domain, Status> {
        self.gateway
            .domains()
            .add_domain(AddDomainRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                domain: domain.to_owned(),
                document_root: document_root.to_owned(),
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().domain.expect("domain in reply"))
    }

    /// DeleteDomain; an empty `username` leaves the owner to the adapter.
    async fn delete_domain(&self, domain: &str, username: &str) -> Result<(), Status> {
        self.gateway
            .domains()
            .delete_domain(DeleteDomainRequest {
                target: by_name(SERVER),
                domain: domain.to_owned(),
                username: username.to_owned(),
                ..Default::default()
            })
            .await
            .map(drop)
    }

    async fn create_database(
        &self,
        username: &str,
        name: &str,
        user: &str,
    ) -> Result<Database, Status> {
        self.gateway
            .databases()
            .create_database(CreateDatabaseRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                database_name: name.to_owned(),
                database_user: user.to_owned(),
                database_password: "db-password-1".to_owned(),
                ..Default::default()
            })
            .await
            .map(|reply| reply.into_inner().database.expect("database in reply"))
    }
}

/// Runs `body` on `backend` with a simulator started from `config` and
/// registered as `scala` with its own token, and `configure` applied to the
/// gateway's config.
async fn with_panel_on<F, Fut>(
    backend: Backend,
    config: SpanelConfig,
    configure: impl FnOnce(&mut Config),
    body: F,
) where
    F: FnOnce(Sp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let fixture = SpanelFixture::with_config(config).await;
    with_gateway(backend, configure, move |gateway| async move {
        let id = fixture.register(&gateway, SERVER).await;
        let sim = fixture.sim.clone();
        body(Sp { gateway, sim, id }).await;
    })
    .await;
}

/// [`with_panel_on`] on SQLite with a simulator started from `config`.
async fn with_config<F, Fut>(config: SpanelConfig, body: F)
where
    F: FnOnce(Sp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_panel_on(Backend::Sqlite, config, |_| {}, body).await;
}

/// [`with_panel_on`] on SQLite with [`config`].
async fn with_panel<F, Fut>(body: F)
where
    F: FnOnce(Sp) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_config(config(), body).await;
}

/// Registers an SPanel server at `base_url` with admin token `token`; returns its id.
async fn register(gateway: &Gateway, name: &str, base_url: &str, token: &str) -> String {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: PanelKind::Spanel.into(),
                base_url: base_url.to_owned(),
                ..Default::default()
            }),
            credentials: Some(Credentials {
                kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                    token: token.to_owned(),
                })),
            }),
            request_id: String::new(),
        })
        .await
        .expect("register the SPanel server")
        .into_inner()
        .server
        .expect("server in reply")
        .id
}

fn limit(max: u64) -> Option<Limit> {
    Some(Limit { max: Some(max) })
}

fn unlimited() -> Option<Limit> {
    Some(Limit { max: None })
}

fn used(used: u64, limit: Option<Limit>) -> Option<ResourceUsage> {
    Some(ResourceUsage { used, limit })
}

/// Every page of `category`.
fn all_pages(category: &str) -> SpanelCategoryPermissions {
    SpanelCategoryPermissions {
        category: category.to_owned(),
        all_pages: true,
        pages: Vec::new(),
    }
}

/// These `pages` of `category`.
fn pages(category: &str, pages: &[&str]) -> SpanelCategoryPermissions {
    SpanelCategoryPermissions {
        category: category.to_owned(),
        all_pages: false,
        pages: pages.iter().map(|&page| page.to_owned()).collect(),
    }
}

fn categories(categories: Vec<SpanelCategoryPermissions>) -> SpanelPermissions {
    SpanelPermissions {
        all: false,
        categories,
    }
}

/// The simulator's permissions: each category with all its pages (`None`) or some.
fn sim_permissions(granted: &[(&str, Option<&[&str]>)]) -> SimPermissions {
    SimPermissions::Categories(
        granted
            .iter()
            .map(|&(category, pages)| {
                let pages = match pages {
                    None => SimCategoryPermissions::All,
                    Some(pages) => SimCategoryPermissions::Pages(
                        pages.iter().map(|&page| page.to_owned()).collect(),
                    ),
                };
                (category.to_owned(), pages)
            })
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Asserts a call to `scala` failed with `code` and `reason`, with the
/// server's id, name and kind in ErrorInfo.
#[track_caller]
fn assert_panel_error<T: std::fmt::Debug>(
    sp: &Sp,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
) -> Status {
    let status = assert_error(result, code, reason);
    assert_eq!(metadata(&status, "server_id"), sp.id, "{status:?}");
    assert_eq!(metadata(&status, "server_name"), SERVER, "{status:?}");
    assert_eq!(metadata(&status, "panel_kind"), "spanel", "{status:?}");
    status
}

/// [`assert_panel_error`], with what the panel said.
#[track_caller]
fn assert_sp_error<T: std::fmt::Debug>(
    sp: &Sp,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    upstream_message: &str,
) -> Status {
    let status = assert_panel_error(sp, result, code, reason);
    assert_eq!(
        metadata(&status, "upstream_message"),
        upstream_message,
        "upstream_message of: {status:?}"
    );
    status
}

/// Asserts an INVALID_ARGUMENT naming `field`, whose BadRequest description is
/// `description` (for the panel's refusals: its own words).
#[track_caller]
fn assert_invalid_because<T: std::fmt::Debug>(
    result: Result<T, Status>,
    field: &str,
    description: &str,
) -> Status {
    let status = assert_invalid(result, field);
    let violations = status
        .get_details_bad_request()
        .expect("BadRequest present")
        .field_violations;
    assert_eq!(violations[0].description, description, "{status:?}");
    status
}

// === the doc examples, byte for byte ===

/// The createadminuser example of the SPanel doc: CreatePanelAdmin with the
/// doc's token, password and permission array (`server` => 'all', `accounts`
/// => ['manage', 'create']) puts on the wire exactly what PHP's
/// `http_build_query($postData)` gives, then lists the admins to answer: the
/// reply and the panel hold the admin with those permissions.
async fn createadminuser_example_is_sent_byte_for_byte(backend: Backend) {
    with_panel_on(
        backend,
        config(),
        |_| {},
        |sp| async move {
            let mark = sp.mark();
            let permissions = categories(vec![
                all_pages("server"),
                pages("accounts", &["manage", "create"]),
            ]);
            let admin = sp
                .create_admin(
                    "admin@example.com",
                    "KExk80Ml5aG6M",
                    false,
                    Some(permissions),
                )
                .await
                .expect("create the doc's admin");

            assert_eq!(
                sp.actions_since(mark),
                ["admin/createadminuser", "admin/listadminusers"]
            );
            assert_eq!(
                sp.last_body("admin/createadminuser"),
                "token=provided_auth_token&action=admin%2Fcreateadminuser\
                 &username=admin%40example.com&password=KExk80Ml5aG6M\
                 &permissions%5Bserver%5D=all\
                 &permissions%5Baccounts%5D%5B0%5D=manage&permissions%5Baccounts%5D%5B1%5D=create"
            );
            assert_eq!(
                admin,
                PanelAdmin {
                    username: "admin@example.com".into(),
                    full_access: false,
                    permissions: vec![
                        "accounts/manage".into(),
                        "accounts/create".into(),
                        "server/*".into()
                    ],
                    two_factor: false,
                }
            );
            let on_panel = sp
                .sim
                .admin_users()
                .into_iter()
                .find(|admin| admin.user == "admin@example.com")
                .expect("the admin on the panel");
            assert_eq!(on_panel.password, "KExk80Ml5aG6M");
            assert_eq!(
                on_panel.permissions,
                sim_permissions(&[("server", None), ("accounts", Some(&["manage", "create"]))])
            );
        },
    )
    .await;
}

/// [`createadminuser_example_is_sent_byte_for_byte`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn createadminuser_example_is_sent_byte_for_byte_sqlite() {
    createadminuser_example_is_sent_byte_for_byte(Backend::Sqlite).await;
}

/// [`createadminuser_example_is_sent_byte_for_byte`] on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn createadminuser_example_is_sent_byte_for_byte_postgres() {
    createadminuser_example_is_sent_byte_for_byte(Backend::Postgres).await;
}

/// The createpackage example of the SPanel doc, on a panel holding the doc's
/// other package `test` (disk and inodes "0"). The example's 1000 inodes are
/// under the minimum its own table states (10000): INVALID_ARGUMENT on
/// `limits.inodes`, with no panel call. With 10000 instead, the body is
/// exactly what PHP's `http_build_query` makes of the doc's array, the reply
/// is the doc's `packagelist` entry read canonically, the panel holds the
/// package, and ListPackages (its cache cleared by the create) lists both,
/// `test`'s legacy "0" disk and inodes read as unlimited.
async fn createpackage_example_is_sent_byte_for_byte(backend: Backend) {
    let config = SpanelConfig {
        admin_token: DOC_TOKEN.to_owned(),
        packages: vec![SimSpanelPackage {
            quota_mb: Some(0),
            inodes: Some(0),
            ..SimSpanelPackage::unlimited("test")
        }],
        ..SpanelConfig::default()
    };
    with_panel_on(
        backend,
        config,
        |_| {},
        |sp| async move {
            // Fill the package cache first, so that the create must clear it.
            assert_eq!(sp.list_packages().await.len(), 1);

            let below_minimum = PackageLimits {
                disk_mib: limit(10240),
                inodes: limit(1000),
                ..Default::default()
            };
            let mark = sp.mark();
            let refused = sp
                .create_package("newPackageName", below_minimum, None)
                .await;
            assert_invalid(refused, "limits.inodes");
            assert_eq!(
                sp.actions_since(mark),
                Vec::<String>::new(),
                "no panel call"
            );

            let limits = PackageLimits {
                disk_mib: limit(10240),
                inodes: limit(10_000),
                email_accounts: limit(0),
                // The doc sends `'databases' => false` and shows "Unlimited". PHP's
                // http_build_query sends false as `databases=0`, which the panel
                // reads as "databases disabled"; leaving the field out is what
                // gives the doc's "Unlimited". So an unlimited limit is left out
                // of the body, and the body below is the doc's array without that
                // entry (as the commented-out `domains` entry is left out too).
                databases: unlimited(),
                ..Default::default()
            };
            let permissions = categories(vec![
                all_pages("email"),
                pages("domain", &["domains", "redirects"]),
            ]);
            let mark = sp.mark();
            let created = sp
                .create_package("newPackageName", limits, Some(permissions))
                .await
                .expect("create the doc's package");

            assert_eq!(sp.actions_since(mark), ["accounts/createpackage"]);
            assert_eq!(
                sp.last_body("accounts/createpackage"),
                "token=provided_auth_token&action=accounts%2Fcreatepackage&package=newPackageName\
                 &quota=10240&inodes=10000&emails=0&permissions%5Bemail%5D=all\
                 &permissions%5Bdomain%5D%5B0%5D=domains&permissions%5Bdomain%5D%5B1%5D=redirects"
            );
            let doc_package = Package {
                id: "newPackageName".into(),
                name: "newPackageName".into(),
                limits: Some(PackageLimits {
                    disk_mib: limit(10240),
                    inodes: limit(10_000),
                    domains: unlimited(),
                    email_accounts: limit(0),
                    databases: unlimited(),
                    ..Default::default()
                }),
            };
            assert_eq!(created, doc_package);

            let on_panel = sp
                .sim
                .packages()
                .into_iter()
                .find(|package| package.name == "newPackageName")
                .expect("the package on the panel");
            assert_eq!(
                on_panel,
                SimSpanelPackage {
                    quota_mb: Some(10240),
                    inodes: Some(10_000),
                    emails: Some(0),
                    permissions: sim_permissions(&[
                        ("email", None),
                        ("domain", Some(&["domains", "redirects"]))
                    ]),
                    ..SimSpanelPackage::unlimited("newPackageName")
                }
            );

            let test = Package {
                id: "test".into(),
                name: "test".into(),
                limits: Some(PackageLimits {
                    disk_mib: unlimited(),
                    inodes: unlimited(),
                    domains: unlimited(),
                    email_accounts: unlimited(),
                    databases: unlimited(),
                    ..Default::default()
                }),
            };
            assert_eq!(sp.list_packages().await, [test, doc_package]);
        },
    )
    .await;
}

/// [`createpackage_example_is_sent_byte_for_byte`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn createpackage_example_is_sent_byte_for_byte_sqlite() {
    createpackage_example_is_sent_byte_for_byte(Backend::Sqlite).await;
}

/// [`createpackage_example_is_sent_byte_for_byte`] on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn createpackage_example_is_sent_byte_for_byte_postgres() {
    createpackage_example_is_sent_byte_for_byte(Backend::Postgres).await;
}

// === errors: the panel's sentences, joined ===

/// SPanel's `message` is an array of sentences: all of them reach the caller,
/// joined with "; ", and the first decides the code. A failure of the panel
/// itself (two sentences) is INTERNAL UPSTREAM_OPERATION_FAILED and changes
/// nothing; a validation with two problems (a taken admin name and an unknown
/// permission category) is ALREADY_EXISTS, by its first sentence, with both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_sentences_are_joined_into_one_message() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        sp.sim.fail_next(
            "accounts/changeuserpassword",
            &[
                "The password could not be saved",
                "The password store is locked",
            ],
        );
        let changed = sp
            .gateway
            .accounts()
            .change_password(ChangePasswordRequest {
                target: by_name(SERVER),
                username: "alice".into(),
                password: "second-password-2".into(),
                ..Default::default()
            })
            .await;
        let status = assert_sp_error(
            &sp,
            changed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            "The password could not be saved; The password store is locked",
        );
        assert!(
            status
                .message()
                .contains("The password could not be saved; The password store is locked"),
            "{}",
            status.message()
        );
        assert_eq!(
            sp.sim.account("alice").expect("alice").password,
            "first-password-1",
            "unchanged"
        );

        sp.create_admin("ops", "ops-password-1", true, None)
            .await
            .expect("create ops");
        let again = sp
            .create_admin(
                "ops",
                "ops-password-1",
                false,
                Some(categories(vec![all_pages("billing")])),
            )
            .await;
        assert_sp_error(
            &sp,
            again,
            Code::AlreadyExists,
            "ACCOUNT_ALREADY_EXISTS",
            "An admin user with the username ops already exists; \
             Unknown permission category: billing",
        );
        assert_eq!(sp.sim.admin_users().len(), 2, "root and ops only");
    })
    .await;
}

// === SSO: base/sso ===

/// With a token whose SSO option is off, CreateLoginLink is FAILED_PRECONDITION
/// PANEL_SSO_DISABLED saying what to do; once the option is on, the link is
/// the panel's `http://<host>/spanel/sso/<40 hex>`, new every call, asked for
/// with role `user`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_needs_the_tokens_sso_option() {
    let config = SpanelConfig {
        admin_token_sso: false,
        ..config()
    };
    with_config(config, |sp| async move {
        sp.create("lou", "basic").await;
        let refused = sp.login_link("lou").await;
        let status = assert_sp_error(
            &sp,
            refused,
            Code::FailedPrecondition,
            "PANEL_SSO_DISABLED",
            "SSO is not enabled for this API token",
        );
        assert!(
            status.message().contains("SSO option"),
            "says what is missing: {}",
            status.message()
        );

        sp.sim.set_sso_enabled(true);
        let link = sp.login_link("lou").await.expect("login link");
        assert_eq!(
            sp.last_body("base/sso"),
            "token=provided_auth_token&action=base%2Fsso&username=lou&role=user"
        );
        let prefix = format!("http://{}/spanel/sso/", sp.sim.addr());
        let token = link
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("the panel's link: {link}"));
        assert_eq!(token.len(), 40, "{link}");
        assert!(
            token.chars().all(|c| c.is_ascii_hexdigit()),
            "hex token: {link}"
        );
        let again = sp.login_link("lou").await.expect("second login link");
        assert!(again.starts_with(&prefix), "{again}");
        assert_ne!(again, link, "a new token every call");

        sp.sim.set_sso_enabled(false);
        let refused = sp.login_link("lou").await;
        assert_panel_error(&sp, refused, Code::FailedPrecondition, "PANEL_SSO_DISABLED");
    })
    .await;
}

// === accounts: wwwacct, listaccounts, change*, suspend, terminate ===

/// CreateAccount is `accounts/wwwacct` with the package (no email: wwwacct
/// takes none), then `accounts/changeuseremail`: the panel holds the account
/// with its domain, password, package and that package's limits, and the
/// email. The package list is read once (to resolve the package), then cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_is_wwwacct_then_changeuseremail() {
    with_panel(|sp| async move {
        let mark = sp.mark();
        let created = sp.create("alice", "basic").await;
        assert_eq!(
            sp.actions_since(mark),
            [
                "accounts/listpackages",
                "accounts/wwwacct",
                "accounts/changeuseremail"
            ]
        );
        assert_eq!(
            sp.last_body("accounts/wwwacct"),
            "token=provided_auth_token&action=accounts%2Fwwwacct&username=alice\
             &domain=alice.example&password=first-password-1&package=basic"
        );
        assert_eq!(
            sp.last_body("accounts/changeuseremail"),
            "token=provided_auth_token&action=accounts%2Fchangeuseremail&username=alice\
             &email=alice%40mail.example"
        );
        let alice = sp.sim.account("alice").expect("alice on the panel");
        assert_eq!(alice.domain, "alice.example");
        assert_eq!(alice.email, "alice@mail.example");
        assert_eq!(alice.password, "first-password-1");
        assert_eq!(alice.package, "basic");
        assert!(!alice.suspended);
        assert_eq!(
            (
                alice.quota_mb,
                alice.inodes_limit,
                alice.domains_limit,
                alice.emails_limit,
                alice.databases_limit
            ),
            (Some(1024), Some(100_000), Some(1), Some(10), Some(5)),
            "basic's limits"
        );
        assert_eq!(
            created,
            Account {
                username: "alice".into(),
                server_id: sp.id.clone(),
                primary_domain: "alice.example".into(),
                email: "alice@mail.example".into(),
                package: "basic".into(),
                status: AccountStatus::Active.into(),
                ..Default::default()
            }
        );

        let mark = sp.mark();
        sp.create("bob", "pro").await;
        assert_eq!(
            sp.actions_since(mark),
            ["accounts/wwwacct", "accounts/changeuseremail"],
            "the package list is cached"
        );
        assert_eq!(sp.sim.account("bob").expect("bob").quota_mb, None);
    })
    .await;
}

/// When `changeuseremail` fails after `wwwacct`, the account is terminated
/// again and the failure reported: no account without its email is left.
/// When the termination fails too, the error says the account remains,
/// without its email, and the panel shows exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_never_leaves_a_silent_half_account() {
    with_panel(|sp| async move {
        sp.list_packages().await;
        sp.sim.fail_next(
            "accounts/changeuseremail",
            &["The mail server is not responding"],
        );
        let mark = sp.mark();
        let failed = sp.try_create("carl", "basic").await;
        assert_sp_error(
            &sp,
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            "The mail server is not responding",
        );
        assert_eq!(
            sp.actions_since(mark),
            [
                "accounts/wwwacct",
                "accounts/changeuseremail",
                "accounts/terminateaccount"
            ]
        );
        assert_eq!(sp.sim.account("carl"), None, "carl was removed again");

        sp.sim.fail_next(
            "accounts/changeuseremail",
            &["The mail server is not responding"],
        );
        sp.sim.fail_next(
            "accounts/terminateaccount",
            &["The termination queue is full"],
        );
        let failed = sp.try_create("dora", "basic").await;
        assert_sp_error(
            &sp,
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            "the panel failed: The mail server is not responding; the account `dora` was \
             created without its email and could not be removed (the panel failed: The \
             termination queue is full)",
        );
        let dora = sp.sim.account("dora").expect("dora remains, as said");
        assert_eq!(dora.email, "", "without its email, as said");
    })
    .await;
}

/// GetAccount is `accounts/listaccounts` with `accountuser`, ListAccounts the
/// same without it; both read the rows (no email: listaccounts has none). An
/// unknown account is NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_list_accounts_read_listaccounts() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        sp.create("bob", "pro").await;

        let bob = sp.get_account("bob").await.expect("get bob");
        assert_eq!(
            sp.last_body("accounts/listaccounts"),
            "token=provided_auth_token&action=accounts%2Flistaccounts&accountuser=bob"
        );
        assert_eq!(
            bob,
            Account {
                username: "bob".into(),
                server_id: sp.id.clone(),
                primary_domain: "bob.example".into(),
                package: "pro".into(),
                status: AccountStatus::Active.into(),
                ..Default::default()
            }
        );
        let by_server_id = sp
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_id(&sp.id),
                username: "bob".into(),
            })
            .await
            .expect("get bob by server id")
            .into_inner()
            .account;
        assert_eq!(by_server_id, Some(bob));

        let listed: Vec<_> = sp
            .list_accounts()
            .await
            .into_iter()
            .map(|account| {
                assert_eq!(account.server_id, sp.id);
                (account.username, account.primary_domain, account.package)
            })
            .collect();
        assert_eq!(
            sp.last_body("accounts/listaccounts"),
            "token=provided_auth_token&action=accounts%2Flistaccounts"
        );
        assert_eq!(
            listed,
            [
                (
                    "alice".to_owned(),
                    "alice.example".to_owned(),
                    "basic".to_owned()
                ),
                ("bob".to_owned(), "bob.example".to_owned(), "pro".to_owned()),
            ]
        );

        let missing = sp.get_account("ghost").await;
        assert_panel_error(&sp, missing, Code::NotFound, "ACCOUNT_NOT_FOUND");
    })
    .await;
}

/// GetAccountUsage reads listaccounts' numbers-as-strings: disk MB → bytes,
/// "Unlimited" → a limit without max, "0" → a max of 0 (disabled), the domain
/// limit and count plus one for the primary domain. The simulator's usage is
/// 2 MB + 1 per domain and per database, 150 inodes + 50 per domain + 10 per
/// database (its reading 17).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_usage_reads_numbers_as_strings() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        assert!(sp.sim.add_addon_domain("alice", "alice-shop.example"));
        sp.add_domain("alice", "blog.alice.example", "")
            .await
            .expect("add a subdomain");
        sp.create_database("alice", "shop", "shopuser")
            .await
            .expect("create a database");
        // Main, addon and subdomain: 3 domains; 1 database.
        assert_eq!(
            sp.usage("alice").await,
            AccountUsage {
                disk_bytes: used(6 * MIB, limit(1024 * MIB)),
                inodes: used(310, limit(100_000)),
                domains: used(2, limit(2)),
                email_accounts: used(0, limit(10)),
                databases: used(1, limit(5)),
                ftp_accounts: used(0, None),
                ..Default::default()
            }
        );
        assert_eq!(
            sp.last_body("accounts/listaccounts"),
            "token=provided_auth_token&action=accounts%2Flistaccounts&accountuser=alice"
        );

        sp.create("lena", "lean").await;
        assert_eq!(
            sp.usage("lena").await,
            AccountUsage {
                disk_bytes: used(3 * MIB, unlimited()),
                inodes: used(200, unlimited()),
                domains: used(1, limit(1)),
                email_accounts: used(0, limit(0)),
                databases: used(0, limit(0)),
                ftp_accounts: used(0, None),
                ..Default::default()
            }
        );
    })
    .await;
}

/// UpdateAccount sets the email with `accounts/changeuseremail` and the main
/// domain with `accounts/changedomain`, in one call; owner names SPanel does
/// not keep are INVALID_ARGUMENT without any panel call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_account_changes_email_and_main_domain() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        let mark = sp.mark();
        sp.update(UpdateAccountRequest {
            username: "alice".into(),
            email: Some("alice@new-mail.example".into()),
            primary_domain: Some("alice-new.example".into()),
            ..Default::default()
        })
        .await
        .expect("update alice");
        assert_eq!(
            sp.actions_since(mark),
            ["accounts/changeuseremail", "accounts/changedomain"]
        );
        assert_eq!(
            sp.last_body("accounts/changedomain"),
            "token=provided_auth_token&action=accounts%2Fchangedomain&username=alice\
             &domain=alice-new.example"
        );
        let alice = sp.sim.account("alice").expect("alice");
        assert_eq!(alice.email, "alice@new-mail.example");
        assert_eq!(alice.domain, "alice-new.example");
        assert_eq!(
            sp.get_account("alice")
                .await
                .expect("get alice")
                .primary_domain,
            "alice-new.example"
        );

        for (field, update) in [
            (
                "first_name",
                UpdateAccountRequest {
                    username: "alice".into(),
                    first_name: Some("Alice".into()),
                    ..Default::default()
                },
            ),
            (
                "last_name",
                UpdateAccountRequest {
                    username: "alice".into(),
                    last_name: Some("Liddell".into()),
                    email: Some("alice@other.example".into()),
                    ..Default::default()
                },
            ),
        ] {
            let before = sp.requests();
            let refused = sp.update(update).await;
            assert_invalid(refused, field);
            assert_eq!(sp.requests(), before, "{field}: no panel call");
        }
        assert_eq!(
            sp.sim.account("alice").expect("alice").email,
            "alice@new-mail.example",
            "unchanged"
        );
    })
    .await;
}

/// ChangePassword is `accounts/changeuserpassword`; a password with spaces and
/// `&`, `=`, `$` is urlencoded as PHP does and arrives intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_is_changeuserpassword() {
    with_panel(|sp| async move {
        sp.create("pat", "basic").await;
        sp.gateway
            .accounts()
            .change_password(ChangePasswordRequest {
                target: by_name(SERVER),
                username: "pat".into(),
                password: "n3w pa$$&word=ok".into(),
                ..Default::default()
            })
            .await
            .expect("change password");
        assert_eq!(
            sp.last_body("accounts/changeuserpassword"),
            "token=provided_auth_token&action=accounts%2Fchangeuserpassword&username=pat\
             &password=n3w+pa%24%24%26word%3Dok"
        );
        let pat = sp.sim.account("pat").expect("pat");
        assert_eq!(pat.password, "n3w pa$$&word=ok");
        assert!(!pat.suspended);
    })
    .await;
}

/// ChangePackage is `accounts/changequota` with `package`: the account takes
/// the package and its limits, and GetAccount reads it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_package_is_changequota() {
    with_panel(|sp| async move {
        sp.create("pat", "basic").await;
        sp.gateway
            .accounts()
            .change_package(ChangePackageRequest {
                target: by_name(SERVER),
                username: "pat".into(),
                package: "lean".into(),
                ..Default::default()
            })
            .await
            .expect("change package");
        assert_eq!(
            sp.last_body("accounts/changequota"),
            "token=provided_auth_token&action=accounts%2Fchangequota&username=pat&package=lean"
        );
        let pat = sp.sim.account("pat").expect("pat");
        assert_eq!(pat.package, "lean");
        assert_eq!(
            (pat.quota_mb, pat.domains_limit, pat.databases_limit),
            (None, Some(0), Some(0)),
            "lean's limits"
        );
        assert_eq!(
            sp.get_account("pat").await.expect("get pat").package,
            "lean"
        );
    })
    .await;
}

/// SuspendAccount is `accounts/suspendaccount` with the reason, which the
/// panel keeps; GetAccount and ListAccounts read SUSPENDED. Without a reason
/// none is sent. UnsuspendAccount clears both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_with_a_reason_and_unsuspend() {
    with_panel(|sp| async move {
        sp.create("sue", "basic").await;
        sp.suspend("sue", "unpaid invoice #42")
            .await
            .expect("suspend sue");
        assert_eq!(
            sp.last_body("accounts/suspendaccount"),
            "token=provided_auth_token&action=accounts%2Fsuspendaccount&username=sue\
             &reason=unpaid+invoice+%2342"
        );
        let sue = sp.sim.account("sue").expect("sue");
        assert!(sue.suspended);
        assert_eq!(sue.suspend_reason.as_deref(), Some("unpaid invoice #42"));
        assert_eq!(
            sp.get_account("sue").await.expect("get sue").status(),
            AccountStatus::Suspended
        );
        assert_eq!(
            sp.list_accounts().await[0].status(),
            AccountStatus::Suspended
        );

        sp.unsuspend("sue").await.expect("unsuspend sue");
        assert_eq!(
            sp.last_body("accounts/unsuspendaccount"),
            "token=provided_auth_token&action=accounts%2Funsuspendaccount&username=sue"
        );
        let sue = sp.sim.account("sue").expect("sue");
        assert!(!sue.suspended);
        assert_eq!(sue.suspend_reason, None);
        assert_eq!(
            sp.get_account("sue").await.expect("get sue").status(),
            AccountStatus::Active
        );

        sp.suspend("sue", "").await.expect("suspend without reason");
        assert_eq!(
            sp.last_body("accounts/suspendaccount"),
            "token=provided_auth_token&action=accounts%2Fsuspendaccount&username=sue"
        );
        let sue = sp.sim.account("sue").expect("sue");
        assert!(sue.suspended);
        assert_eq!(sue.suspend_reason, None);
    })
    .await;
}

/// DeleteAccount is `accounts/terminateaccount`: the account goes with its
/// subdomains (the name is free again); deleting it again is the panel's
/// NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_account_is_terminateaccount() {
    with_panel(|sp| async move {
        sp.create("dee", "basic").await;
        sp.add_domain("dee", "blog.dee.example", "")
            .await
            .expect("add a subdomain");
        sp.delete("dee").await.expect("delete dee");
        assert_eq!(
            sp.last_body("accounts/terminateaccount"),
            "token=provided_auth_token&action=accounts%2Fterminateaccount&username=dee"
        );
        assert_eq!(sp.sim.account("dee"), None);

        let again = sp.delete("dee").await;
        assert_sp_error(
            &sp,
            again,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "The account dee does not exist",
        );
        // Its domains went with it: the name can be used again.
        sp.create("dee", "basic").await;
        assert!(sp.sim.account("dee").expect("dee").subdomains.is_empty());
    })
    .await;
}

// === packages: listpackages, createpackage, modifypackage, removepackage ===

/// The simulator's `basic`, `pro` and `lean`, read canonically: domains count
/// the primary domain, "0" disables, "Unlimited" has no max.
fn default_packages() -> [Package; 3] {
    let package = |name: &str, limits: PackageLimits| Package {
        id: name.into(),
        name: name.into(),
        limits: Some(limits),
    };
    [
        package(
            "basic",
            PackageLimits {
                disk_mib: limit(1024),
                inodes: limit(100_000),
                domains: limit(2),
                email_accounts: limit(10),
                databases: limit(5),
                ..Default::default()
            },
        ),
        package(
            "pro",
            PackageLimits {
                disk_mib: unlimited(),
                inodes: unlimited(),
                domains: unlimited(),
                email_accounts: unlimited(),
                databases: unlimited(),
                ..Default::default()
            },
        ),
        package(
            "lean",
            PackageLimits {
                disk_mib: unlimited(),
                inodes: unlimited(),
                domains: limit(1),
                email_accounts: limit(0),
                databases: limit(0),
                ..Default::default()
            },
        ),
    ]
}

/// ListPackages and GetPackage read `accounts/listpackages` (the list is
/// cached: a second ListPackages makes no request); an unknown package is
/// NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_get_packages_read_listpackages() {
    with_panel(|sp| async move {
        let mark = sp.mark();
        assert_eq!(sp.list_packages().await, default_packages());
        assert_eq!(sp.list_packages().await, default_packages());
        assert_eq!(sp.actions_since(mark), ["accounts/listpackages"], "cached");
        assert_eq!(
            sp.last_body("accounts/listpackages"),
            "token=provided_auth_token&action=accounts%2Flistpackages"
        );

        let [_, pro, _] = default_packages();
        assert_eq!(sp.get_package("pro").await.expect("get pro"), pro);
        let missing = sp.get_package("gold").await;
        assert_panel_error(&sp, missing, Code::NotFound, "PACKAGE_NOT_FOUND");
    })
    .await;
}

/// UpdatePackage is `accounts/modifypackage` with the whole definition: the
/// panel's package is replaced (omitted limits become unlimited), the accounts
/// on it take the new limits and permissions, and the reply, GetPackage and
/// ListPackages (cache cleared) show the new definition. Without permissions
/// the package gets all of them. An unknown package is NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_package_replaces_it_and_its_accounts_follow() {
    with_panel(|sp| async move {
        sp.create("gus", "basic").await;
        let limits = PackageLimits {
            disk_mib: limit(4096),
            domains: limit(3),
            databases: limit(2),
            ..Default::default()
        };
        let permissions = categories(vec![all_pages("mysql"), pages("file", &["filemanager"])]);
        let mark = sp.mark();
        let updated = sp
            .update_package("basic", limits, Some(permissions))
            .await
            .expect("update basic");
        assert_eq!(
            sp.actions_since(mark),
            ["accounts/modifypackage", "accounts/listpackages"]
        );
        assert_eq!(
            sp.last_body("accounts/modifypackage"),
            "token=provided_auth_token&action=accounts%2Fmodifypackage&package=basic\
             &quota=4096&domains=2&databases=2&permissions%5Bmysql%5D=all\
             &permissions%5Bfile%5D%5B0%5D=filemanager"
        );
        let new_basic = Package {
            id: "basic".into(),
            name: "basic".into(),
            limits: Some(PackageLimits {
                disk_mib: limit(4096),
                inodes: unlimited(),
                domains: limit(3),
                email_accounts: unlimited(),
                databases: limit(2),
                ..Default::default()
            }),
        };
        assert_eq!(updated, new_basic);
        let granted = sim_permissions(&[("mysql", None), ("file", Some(&["filemanager"]))]);
        assert_eq!(
            sp.sim.packages()[0],
            SimSpanelPackage {
                quota_mb: Some(4096),
                domains: Some(2),
                databases: Some(2),
                permissions: granted.clone(),
                ..SimSpanelPackage::unlimited("basic")
            }
        );
        let gus = sp.sim.account("gus").expect("gus");
        assert_eq!(gus.package, "basic");
        assert_eq!(
            (
                gus.quota_mb,
                gus.inodes_limit,
                gus.domains_limit,
                gus.emails_limit,
                gus.databases_limit
            ),
            (Some(4096), None, Some(2), None, Some(2)),
            "gus follows"
        );
        assert_eq!(gus.permissions, granted);
        assert_eq!(sp.get_package("basic").await.expect("get basic"), new_basic);
        assert_eq!(sp.list_packages().await[0], new_basic);

        sp.update_package("basic", PackageLimits::default(), None)
            .await
            .expect("update basic without permissions");
        assert_eq!(
            sp.last_body("accounts/modifypackage"),
            "token=provided_auth_token&action=accounts%2Fmodifypackage&package=basic&permissions=all"
        );
        assert_eq!(
            sp.sim.account("gus").expect("gus").permissions,
            SimPermissions::All
        );

        let mark = sp.mark();
        let missing = sp
            .update_package("gold", PackageLimits::default(), None)
            .await;
        assert_error(missing, Code::NotFound, "PACKAGE_NOT_FOUND");
        assert!(
            !sp.actions_since(mark)
                .contains(&"accounts/modifypackage".to_owned()),
            "no modifypackage for an unknown package"
        );
    })
    .await;
}

/// DeletePackage is `accounts/removepackage`: a package an account uses is
/// FAILED_PRECONDITION PANEL_REFUSED naming it, and stays; an unused one is
/// removed, and ListPackages (cache cleared) no longer lists it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_package_refuses_a_package_in_use() {
    with_panel(|sp| async move {
        sp.create("gus", "basic").await;
        let refused = sp.delete_package("basic").await;
        let status = assert_sp_error(
            &sp,
            refused,
            Code::FailedPrecondition,
            "PANEL_REFUSED",
            "The package basic is used by 1 account(s) and cannot be removed",
        );
        assert!(
            status.message().contains("package basic"),
            "names it: {}",
            status.message()
        );
        assert!(
            sp.sim
                .packages()
                .iter()
                .any(|package| package.name == "basic")
        );

        sp.delete_package("lean").await.expect("delete lean");
        assert_eq!(
            sp.last_body("accounts/removepackage"),
            "token=provided_auth_token&action=accounts%2Fremovepackage&package=lean"
        );
        let names: Vec<_> = sp.sim.packages().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["basic", "pro"]);
        let [basic, pro, _] = default_packages();
        assert_eq!(sp.list_packages().await, [basic, pro]);
    })
    .await;
}

// === panel administrators: createadminuser, listadminusers ===

/// CreatePanelAdmin with full_access sends `permissions=all`; with
/// permissions, the categories in PHP's bracket form. Neither, or both, is
/// INVALID_ARGUMENT before any panel call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_panel_admin_with_full_access_or_permissions() {
    with_panel(|sp| async move {
        let boss = sp
            .create_admin("boss", "boss-password-1", true, None)
            .await
            .expect("create boss");
        assert_eq!(
            sp.last_body("admin/createadminuser"),
            "token=provided_auth_token&action=admin%2Fcreateadminuser&username=boss\
             &password=boss-password-1&permissions=all"
        );
        assert!(boss.full_access && boss.permissions.is_empty(), "{boss:?}");
        let on_panel = sp.sim.admin_users();
        assert_eq!(on_panel[1].user, "boss");
        assert_eq!(on_panel[1].permissions, SimPermissions::All);

        let permissions = categories(vec![
            pages("server", &["information", "status"]),
            all_pages("accounts"),
        ]);
        let ops = sp
            .create_admin("ops", "ops-password-1", false, Some(permissions))
            .await
            .expect("create ops");
        assert_eq!(
            sp.last_body("admin/createadminuser"),
            "token=provided_auth_token&action=admin%2Fcreateadminuser&username=ops\
             &password=ops-password-1&permissions%5Bserver%5D%5B0%5D=information\
             &permissions%5Bserver%5D%5B1%5D=status&permissions%5Baccounts%5D=all"
        );
        assert!(!ops.full_access);
        assert_eq!(
            ops.permissions,
            ["accounts/*", "server/information", "server/status"]
        );
        assert_eq!(
            sp.sim.admin_users()[2].permissions,
            sim_permissions(&[
                ("server", Some(&["information", "status"])),
                ("accounts", None)
            ])
        );

        let before = sp.requests();
        let neither = sp
            .create_admin("nobody1", "some-password-1", false, None)
            .await;
        assert_invalid(neither, "panel_options.spanel.permissions");
        let both = sp
            .create_admin(
                "nobody2",
                "some-password-1",
                true,
                Some(categories(vec![all_pages("server")])),
            )
            .await;
        assert_invalid(both, "full_access");
        assert_eq!(sp.requests(), before, "no panel call");
        assert_eq!(sp.sim.admin_users().len(), 3);
    })
    .await;
}

/// ListPanelAdmins is `admin/listadminusers`: `root` has full access, the
/// others' permissions are flattened to "category/page", or "category/*" for
/// a whole category.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_panel_admins_flattens_permissions() {
    with_panel(|sp| async move {
        sp.create_admin(
            "ops@example.com",
            "ops-password-1",
            false,
            Some(categories(vec![
                all_pages("security"),
                pages("accounts", &["manage", "suspended"]),
            ])),
        )
        .await
        .expect("create ops");
        sp.create_admin("boss", "boss-password-1", true, None)
            .await
            .expect("create boss");

        let admin = |username: &str, full_access: bool, permissions: &[&str]| PanelAdmin {
            username: username.into(),
            full_access,
            permissions: permissions.iter().map(|&p| p.to_owned()).collect(),
            two_factor: false,
        };
        assert_eq!(
            sp.list_admins().await,
            [
                admin("root", true, &[]),
                admin(
                    "ops@example.com",
                    false,
                    &["accounts/manage", "accounts/suspended", "security/*"]
                ),
                admin("boss", true, &[]),
            ]
        );
        assert_eq!(
            sp.last_body("admin/listadminusers"),
            "token=provided_auth_token&action=admin%2Flistadminusers"
        );
    })
    .await;
}

// === domains: addsubdomain, removedomain ===

/// AddDomain adds a subdomain (`domain/addsubdomain` as a user function, with
/// `accountuser`), under the account's main domain, in the folder asked for.
/// A name that is no subdomain is INVALID_ARGUMENT `domain` without any panel
/// call: SPanel's API cannot add addon domains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_domain_adds_a_subdomain() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        let added = sp
            .add_domain("alice", "blog.alice.example", "public_html/blog")
            .await
            .expect("add blog.alice.example");
        assert_eq!(
            sp.last_body("domain/addsubdomain"),
            "token=provided_auth_token&action=domain%2Faddsubdomain&accountuser=alice\
             &domain=alice.example&subdomain=blog&path=public_html%2Fblog"
        );
        assert_eq!(
            added,
            Domain {
                name: "blog.alice.example".into(),
                username: "alice".into(),
                document_root: "public_html/blog".into(),
                status: DomainStatus::Active.into(),
                panel_domain_id: String::new(),
            }
        );
        assert_eq!(
            sp.sim.account("alice").expect("alice").subdomains,
            ["blog.alice.example"]
        );

        let before = sp.requests();
        let refused = sp.add_domain("alice", "alice-shop.com", "").await;
        assert_invalid(refused, "domain");
        assert_eq!(sp.requests(), before, "no panel call");
        assert_eq!(
            sp.sim.account("alice").expect("alice").domains,
            ["alice.example"]
        );
    })
    .await;
}

/// DeleteDomain is `domain/removedomain` for the owning account: named by the
/// caller, or found as the account whose main domain holds the domain (one
/// listaccounts first). An addon domain outside every main domain needs the
/// owner named (INVALID_ARGUMENT `username`); the main domain itself is the
/// panel's FAILED_PRECONDITION, and stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_domain_with_and_without_the_owner() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        assert!(sp.sim.add_addon_domain("alice", "alice-shop.example"));
        for name in ["blog.alice.example", "shop.alice.example"] {
            sp.add_domain("alice", name, "")
                .await
                .unwrap_or_else(|status| panic!("add {name}: {status:?}"));
        }

        sp.delete_domain("blog.alice.example", "alice")
            .await
            .expect("delete blog with its owner");
        assert_eq!(
            sp.last_body("domain/removedomain"),
            "token=provided_auth_token&action=domain%2Fremovedomain&accountuser=alice\
             &domain=blog.alice.example"
        );
        assert_eq!(
            sp.sim.account("alice").expect("alice").subdomains,
            ["shop.alice.example"]
        );

        let mark = sp.mark();
        sp.delete_domain("shop.alice.example", "")
            .await
            .expect("delete shop, owner found");
        assert_eq!(
            sp.actions_since(mark),
            ["accounts/listaccounts", "domain/removedomain"]
        );
        assert!(
            sp.last_body("domain/removedomain")
                .contains("&accountuser=alice&")
        );
        assert!(
            sp.sim
                .account("alice")
                .expect("alice")
                .subdomains
                .is_empty()
        );

        let unowned = sp.delete_domain("alice-shop.example", "").await;
        assert_invalid(unowned, "username");
        sp.delete_domain("alice-shop.example", "alice")
            .await
            .expect("delete the addon domain with its owner");
        assert_eq!(
            sp.sim.account("alice").expect("alice").domains,
            ["alice.example"]
        );

        for owner in ["alice", ""] {
            let main = sp.delete_domain("alice.example", owner).await;
            assert_sp_error(
                &sp,
                main,
                Code::FailedPrecondition,
                "PANEL_REFUSED",
                "The main domain alice.example cannot be removed",
            );
        }
        assert_eq!(
            sp.sim.account("alice").expect("alice").domain,
            "alice.example"
        );
    })
    .await;
}

// === databases: createmysqluser, then createmysqldatabase ===

/// CreateDatabase is `mysql/createmysqluser` then `mysql/createmysqldatabase`
/// (user functions, with `accountuser`): the panel holds `<account>_<user>`
/// and `<account>_<db>` with that user assigned; the reply names them as
/// requested.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_database_is_a_user_then_a_database() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        let mark = sp.mark();
        let created = sp
            .create_database("alice", "shop", "shopuser")
            .await
            .expect("create a database");
        assert_eq!(
            sp.actions_since(mark),
            ["mysql/createmysqluser", "mysql/createmysqldatabase"]
        );
        assert_eq!(
            sp.last_body("mysql/createmysqluser"),
            "token=provided_auth_token&action=mysql%2Fcreatemysqluser&accountuser=alice\
             &username=shopuser&password=db-password-1"
        );
        assert_eq!(
            sp.last_body("mysql/createmysqldatabase"),
            "token=provided_auth_token&action=mysql%2Fcreatemysqldatabase&accountuser=alice\
             &database=shop&username=shopuser"
        );
        let alice = sp.sim.account("alice").expect("alice");
        assert_eq!(alice.db_users, ["alice_shopuser"]);
        assert_eq!(
            alice.databases,
            [("alice_shop".to_owned(), vec!["alice_shopuser".to_owned()])]
        );
        assert_eq!(
            created,
            Database {
                name: "shop".into(),
                user: "shopuser".into(),
                username: "alice".into(),
            }
        );
    })
    .await;
}

/// When `createmysqldatabase` fails after `createmysqluser` succeeded (a panel
/// failure, the package's database limit, or its maximum reached), the error
/// says precisely that the database user remains, and the panel shows the
/// user without a database: never a silent half result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_database_says_when_its_user_remains() {
    let mut config = config();
    config.packages.push(SimSpanelPackage {
        databases: Some(1),
        ..SimSpanelPackage::unlimited("single")
    });
    with_config(config, |sp| async move {
        // The note names the user as the panel named it (with the account's prefix).
        let remains = |panel_user: &str| {
            format!(
                "the database user `{panel_user}` created just before remains on the panel \
                 (SPanel's API cannot delete it)"
            )
        };

        sp.create("alice", "basic").await;
        sp.sim.fail_next(
            "mysql/createmysqldatabase",
            &["Database server connection failed"],
        );
        let failed = sp.create_database("alice", "shop", "shopuser").await;
        assert_sp_error(
            &sp,
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            &format!(
                "Database server connection failed; {}",
                remains("alice_shopuser")
            ),
        );
        let alice = sp.sim.account("alice").expect("alice");
        assert_eq!(alice.db_users, ["alice_shopuser"], "the user remains");
        assert!(alice.databases.is_empty(), "without a database");

        sp.create("lena", "lean").await;
        let disabled = sp.create_database("lena", "shop", "shopuser").await;
        assert_sp_error(
            &sp,
            disabled,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            &format!(
                "Database creation is disabled for this account; {}",
                remains("lena_shopuser")
            ),
        );
        let lena = sp.sim.account("lena").expect("lena");
        assert_eq!(lena.db_users, ["lena_shopuser"], "the user remains");
        assert!(lena.databases.is_empty(), "without a database");

        sp.create("sam", "single").await;
        sp.create_database("sam", "first", "firstuser")
            .await
            .expect("the one database sam may have");
        let full = sp.create_database("sam", "second", "seconduser").await;
        assert_sp_error(
            &sp,
            full,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            &format!(
                "You have reached the maximum number of databases (1); {}",
                remains("sam_seconduser")
            ),
        );
        let sam = sp.sim.account("sam").expect("sam");
        assert_eq!(sam.db_users, ["sam_firstuser", "sam_seconduser"]);
        assert_eq!(sam.databases.len(), 1);
    })
    .await;
}

/// When the first step fails (the database user exists already), no database
/// is attempted, and the error is about the database user, not the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_database_stops_when_its_user_is_refused() {
    with_panel(|sp| async move {
        sp.create("alice", "basic").await;
        sp.create_database("alice", "shop", "shopuser")
            .await
            .expect("create a database");
        let mark = sp.mark();
        let taken = sp.create_database("alice", "blog", "shopuser").await;
        assert_sp_error(
            &sp,
            taken,
            Code::AlreadyExists,
            "DATABASE_USER_ALREADY_EXISTS",
            "The username alice_shopuser already exists",
        );
        assert_eq!(sp.actions_since(mark), ["mysql/createmysqluser"]);
        assert_eq!(sp.sim.account("alice").expect("alice").databases.len(), 1);
    })
    .await;
}

// === validation: before any call, and by the panel ===

/// Permission shapes SPanel cannot take are INVALID_ARGUMENT on
/// `panel_options.spanel.permissions` before any panel call, for packages and
/// for admins: `all` with categories, neither, a category with neither
/// `all_pages` nor pages, or with both, a category without a name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_permission_shapes_are_refused_before_any_call() {
    with_panel(|sp| async move {
        let shapes = [
            SpanelPermissions {
                all: true,
                categories: vec![all_pages("email")],
            },
            categories(Vec::new()),
            categories(vec![pages("email", &[])]),
            categories(vec![SpanelCategoryPermissions {
                category: "email".into(),
                all_pages: true,
                pages: vec!["accounts".into()],
            }]),
            categories(vec![all_pages(" ")]),
        ];
        let before = sp.requests();
        for shape in shapes {
            let package = sp
                .create_package("shaped", PackageLimits::default(), Some(shape.clone()))
                .await;
            assert_invalid(package, "panel_options.spanel.permissions");
            let admin = sp
                .create_admin("shaped", "some-password-1", false, Some(shape))
                .await;
            assert_invalid(admin, "panel_options.spanel.permissions");
        }
        assert_eq!(sp.requests(), before, "no panel call");
        assert_eq!(sp.sim.packages().len(), 3);
    })
    .await;
}

/// Limits SPanel cannot express (bandwidth, FTP accounts, subdomains), a disk
/// quota under its 100 MB minimum, zero inodes and zero domains (the primary
/// one counts) are INVALID_ARGUMENT on that limit before any panel call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_spanel_cannot_express_are_refused_before_any_call() {
    with_panel(|sp| async move {
        let cases = [
            (
                "limits.bandwidth_mib",
                PackageLimits {
                    bandwidth_mib: limit(10_000),
                    ..Default::default()
                },
            ),
            (
                "limits.ftp_accounts",
                PackageLimits {
                    ftp_accounts: limit(5),
                    ..Default::default()
                },
            ),
            (
                "limits.subdomains",
                PackageLimits {
                    subdomains: limit(5),
                    ..Default::default()
                },
            ),
            (
                "limits.disk_mib",
                PackageLimits {
                    disk_mib: limit(99),
                    ..Default::default()
                },
            ),
            (
                "limits.inodes",
                PackageLimits {
                    inodes: limit(0),
                    ..Default::default()
                },
            ),
            (
                "limits.domains",
                PackageLimits {
                    domains: limit(0),
                    ..Default::default()
                },
            ),
        ];
        let before = sp.requests();
        for (field, limits) in &cases {
            let created = sp.create_package("limited", *limits, None).await;
            assert_invalid(created, field);
        }
        assert_eq!(sp.requests(), before, "no panel call");
        // UpdatePackage finds the package in the (cached) package list first.
        let mark = sp.mark();
        for (field, limits) in cases {
            let updated = sp.update_package("pro", limits, None).await;
            assert_invalid(updated, field);
        }
        let actions = sp.actions_since(mark);
        assert!(
            actions
                .iter()
                .all(|action| action == "accounts/listpackages"),
            "no modifypackage: {actions:?}"
        );
        assert_eq!(sp.sim.packages().len(), 3);
        assert_eq!(sp.sim.packages()[1], SimSpanelPackage::unlimited("pro"));

        // 100 MB, the minimum, is fine.
        let smallest = sp
            .create_package(
                "smallest",
                PackageLimits {
                    disk_mib: limit(100),
                    ..Default::default()
                },
                None,
            )
            .await
            .expect("create a 100 MB package");
        assert_eq!(
            smallest.limits.expect("limits").disk_mib,
            limit(100),
            "the minimum"
        );
    })
    .await;
}

/// What only the panel knows it refuses, as INVALID_ARGUMENT on the field it
/// is about, with the panel's words: a permission category or page not in the
/// panel's catalogue (the createpackage doc's prose says `domains` where the
/// panel's category is `domain`; an admin may not get a user category), and a
/// package name that is not alphanumeric. Nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_and_names_the_panel_refuses_are_invalid_arguments() {
    with_panel(|sp| async move {
        const PERMISSIONS: &str = "panel_options.spanel.permissions";
        for (permissions, said) in [
            (
                categories(vec![all_pages("billing")]),
                "Unknown permission category: billing",
            ),
            (
                categories(vec![pages("domains", &["domains", "redirects"])]),
                "Unknown permission category: domains",
            ),
            (
                categories(vec![pages("domain", &["domains", "nosuch"])]),
                "Unknown permission page: domain/nosuch",
            ),
        ] {
            let refused = sp
                .create_package("custom", PackageLimits::default(), Some(permissions))
                .await;
            assert_invalid_because(refused, PERMISSIONS, said);
        }
        let refused = sp
            .create_admin(
                "mailman",
                "mail-password-1",
                false,
                Some(categories(vec![all_pages("email")])),
            )
            .await;
        assert_invalid_because(refused, PERMISSIONS, "Unknown permission category: email");

        let refused = sp
            .create_package(
                "my-package",
                PackageLimits::default(),
                Some(categories(vec![all_pages("billing")])),
            )
            .await;
        assert_invalid_because(
            refused,
            "name",
            "The package name must be between 1 and 30 alphanumeric characters; \
             Unknown permission category: billing",
        );

        assert_eq!(sp.sim.packages().len(), 3, "no package created");
        assert_eq!(sp.sim.admin_users().len(), 1, "root only");
    })
    .await;
}

// === servers: white-label folder, credentials, faults ===

/// Under white-label branding the API lives in `/hostpanel/`: a server
/// registered with that base URL (with or without the trailing slash) works;
/// one registered with the default `/spanel/` gets the web server's 404 page,
/// FAILED_PRECONDITION SERVER_MISCONFIGURED naming the base URL as the thing
/// to fix, and reaches no `api.php`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn white_label_folder_is_part_of_the_base_url() {
    let config = SpanelConfig {
        folder: "hostpanel".into(),
        ..config()
    };
    with_config(config, |sp| async move {
        assert!(sp.sim.base_url().ends_with("/hostpanel/"));
        assert_eq!(sp.list_packages().await, default_packages());
        sp.create("wendy", "basic").await;
        assert!(sp.sim.account("wendy").is_some());
        let link = sp.login_link("wendy").await.expect("login link");
        assert!(
            link.starts_with(&format!("http://{}/hostpanel/sso/", sp.sim.addr())),
            "{link}"
        );

        let no_slash = sp.sim.base_url().trim_end_matches('/').to_owned();
        register(&sp.gateway, "noslash", &no_slash, DOC_TOKEN).await;
        let got = sp
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name("noslash"),
                username: "wendy".into(),
            })
            .await
            .expect("get wendy through `noslash`");
        assert_eq!(got.into_inner().account.expect("account").username, "wendy");

        let wrong = format!("http://{}/spanel/", sp.sim.addr());
        let id = register(&sp.gateway, "default-folder", &wrong, DOC_TOKEN).await;
        let mark = sp.mark();
        let listed = sp
            .gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_id(&id),
                ..Default::default()
            })
            .await;
        // A 404 page from the web server, not the panel: the base URL is wrong.
        let status = assert_error(listed, Code::FailedPrecondition, "SERVER_MISCONFIGURED");
        for expected in ["404", "base_url"] {
            assert!(status.message().contains(expected), "{}", status.message());
        }
        assert_eq!(sp.actions_since(mark), Vec::<String>::new(), "no api.php");
    })
    .await;
}

/// A token the panel does not know is FAILED_PRECONDITION
/// PANEL_CREDENTIALS_REJECTED (the caller's own credentials are fine) with the
/// panel's words, and never quoted; CheckServer (`toolbox/apicheck`) reports
/// it; with the right token CheckServer is healthy.
async fn wrong_token_is_credentials_rejected(backend: Backend) {
    with_panel_on(
        backend,
        config(),
        |_| {},
        |sp| async move {
            let mark = sp.mark();
            let checked = sp
                .gateway
                .inventory()
                .check_server(CheckServerRequest {
                    target: by_name(SERVER),
                })
                .await
                .expect("check scala")
                .into_inner();
            assert!(checked.healthy, "{checked:?}");
            assert_eq!(sp.actions_since(mark), ["toolbox/apicheck"]);

            let id = register(&sp.gateway, "stale", &sp.sim.base_url(), "stale-token-123").await;
            let mark = sp.mark();
            let listed = sp
                .gateway
                .packages()
                .list_packages(ListPackagesRequest {
                    target: by_name("stale"),
                    ..Default::default()
                })
                .await;
            let status = assert_error(
                listed,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
            );
            assert_eq!(metadata(&status, "server_id"), id);
            assert_eq!(metadata(&status, "upstream_message"), "Invalid API token");
            assert!(
                !format!("{status:?}").contains("stale-token-123"),
                "the token is never quoted: {status:?}"
            );
            assert_eq!(sp.actions_since(mark), ["accounts/listpackages"]);
            assert!(
                sp.last_body("accounts/listpackages")
                    .starts_with("token=stale-token-123&")
            );

            let checked = sp
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
        },
    )
    .await;
}

/// [`wrong_token_is_credentials_rejected`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_credentials_rejected_sqlite() {
    wrong_token_is_credentials_rejected(Backend::Sqlite).await;
}

/// [`wrong_token_is_credentials_rejected`] on PostgreSQL (the token sealed in,
/// and read back from, PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_credentials_rejected_postgres() {
    wrong_token_is_credentials_rejected(Backend::Postgres).await;
}

/// Each fault gives its documented code, names the server and quotes no panel
/// words: 502 and a dropped connection → UNAVAILABLE, 429 → UNAVAILABLE
/// UPSTREAM_RATE_LIMITED, an HTML page or broken JSON → INTERNAL
/// UPSTREAM_PROTOCOL_ERROR with a bounded excerpt, a panel slower than the
/// upstream timeout → DEADLINE_EXCEEDED. None reaches `api.php` (the slow one
/// excepted: the panel answers, too late), and the call works once cleared. A
/// panel nobody listens for is UNAVAILABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_give_the_documented_codes() {
    let configure =
        |config: &mut Config| config.upstream_timeouts.request = Duration::from_millis(300);
    with_panel_on(Backend::Sqlite, config(), configure, |sp| async move {
        sp.create("dee", "basic").await;
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
            sp.sim.faults().set(fault.clone());
            let mark = sp.mark();
            let got = sp.get_account("dee").await;
            let status = assert_panel_error(&sp, got, code, reason);
            assert_eq!(metadata(&status, "upstream_message"), "", "{fault:?}");
            let excerpt = metadata(&status, "body_excerpt");
            if excerpt_start.is_empty() {
                assert_eq!(excerpt, "", "{fault:?}");
            } else {
                assert!(excerpt.starts_with(excerpt_start), "{fault:?}: {excerpt}");
                assert!(excerpt.chars().count() <= 201, "bounded: {excerpt}");
            }
            assert_eq!(sp.mark(), mark, "{fault:?}: api.php not reached");

            sp.sim.faults().clear();
            let dee = sp.get_account("dee").await.expect("works once cleared");
            assert_eq!(dee.primary_domain, "dee.example", "{fault:?}");
        }

        sp.sim.faults().set_delay(Duration::from_secs(1));
        let slow = sp.get_account("dee").await;
        let status = assert_panel_error(&sp, slow, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
        assert!(status.message().contains("300ms"), "{}", status.message());
        sp.sim.faults().clear();
        sp.get_account("dee").await.expect("works once cleared");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let gone = format!("http://{}/spanel/", closed.local_addr().expect("address"));
        drop(closed);
        let id = register(&sp.gateway, "gone", &gone, DOC_TOKEN).await;
        let listed = sp
            .gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_id(&id),
                ..Default::default()
            })
            .await;
        let status = assert_error(listed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
        assert_eq!(metadata(&status, "server_name"), "gone");
    })
    .await;
}

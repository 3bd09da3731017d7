//! OpenAdmin (OpenPanel Enterprise) end to end: the real gateway over real
//! gRPC, in front of the OpenAdmin simulator over real HTTP.
//!
//! Every test checks what a canonical call did on the simulated panel itself
//! (`sim.user(..)`, `sim.domain(..)`, `sim.plans()`, `sim.services()`), and the
//! session tests count what the panel saw: its logins (`sim.login_count()`) and
//! the HTTP requests it received (`sim.request_count()`).
//!
//! Unless a test says otherwise the simulator is the Go build (POST autologin,
//! plan creation) with 15-minute tokens, plans `default_plan_nginx` (id 1,
//! 10 GB, unlimited domains) and `pro_plan_apache` (id 2, 50 GB, 10 domains),
//! and five services: caddy, docker, mysql and named running and monitored,
//! csf neither. Most tests run on SQLite only (the conformance suite covers
//! both backends); login coalescing and rejected credentials run on both.

use std::{collections::BTreeMap, future::Future, time::Duration};

use panelgate::Config;
use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, AddDomainRequest, ChangePackageRequest,
    ChangePasswordRequest, CheckServerRequest, CheckServerResponse, ControlSystemServiceRequest,
    CreateAccountRequest, CreateLoginLinkRequest, CreatePackageRequest, Credentials,
    DeleteAccountRequest, DeleteDomainRequest, Domain, DomainStatus, GetAccountRequest,
    GetAccountUsageRequest, GetPackageRequest, GetServerInfoRequest, GetServerRequest, Limit,
    ListAccountsRequest, ListDomainsRequest, ListNotificationsRequest, ListPackagesRequest,
    Notification, OpenAdminPackageOptions, Operation, Package, PackageLimits, PanelKind,
    PasswordCredentials, RegisterServerRequest, ResourceUsage, Server, ServerInfo, ServiceState,
    SetSystemServiceMonitoredRequest, SuspendAccountRequest, SuspendDomainRequest,
    SystemServiceAction, UnsuspendAccountRequest, UnsuspendDomainRequest, UpdateServerRequest,
    create_package_request, credentials,
};
use panelgate_sim::{AutologinStyle, OpenAdminConfig, OpenAdminSim, SimPlan, SimService};
use panelgate_tests::{
    Backend, Gateway, OpenAdminFixture, PanelFixture,
    errors::{assert_error, assert_invalid, metadata, reason},
    gateway::{by_id, by_name},
    with_gateway,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

// === setup ===

/// The name the simulator is registered under.
const SERVER: &str = "openpanel";
/// The simulator's plans (its default config).
const DEFAULT_PLAN: &str = "default_plan_nginx";
const PRO_PLAN: &str = "pro_plan_apache";
/// Lifetime of the simulator's tokens in the expiry test.
const SHORT_TOKEN: Duration = Duration::from_secs(2);
const KIB: u64 = 1 << 10;
const GIB: u64 = 1 << 30;

/// A gateway with a fresh OpenAdmin simulator registered as `openpanel`.
struct Oa {
    gateway: Gateway,
    sim: OpenAdminSim,
    /// The server id of `openpanel`.
    id: String,
}

impl Oa {
    /// HTTP requests the panel has received so far.
    fn requests(&self) -> u64 {
        self.sim.request_count()
    }

    /// Creates `username` on `openpanel` with primary domain `<username>.example`.
    async fn create(&self, username: &str, package: &str) -> Account {
        self.gateway
            .accounts()
            .create_account(new_account(username, package))
            .await
            .unwrap_or_else(|status| panic!("create {username}: {status:?}"))
            .into_inner()
            .account
            .expect("account in reply")
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

    async fn suspend(&self, username: &str) -> Result<(), Status> {
        self.gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target: by_name(SERVER),
                username: username.to_owned(),
                reason: "unpaid".to_owned(),
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

    /// GetPackage by name or panel id: one panel request by id (a handy probe
    /// of the session machinery), two by name.
    async fn get_package(&self, wanted: &str) -> Result<Package, Status> {
        self.gateway
            .packages()
            .get_package(GetPackageRequest {
                target: by_name(SERVER),
                package: wanted.to_owned(),
            })
            .await
            .map(|reply| reply.into_inner().package.expect("package in reply"))
    }

    /// AddDomain for `username`; an empty `document_root` leaves it to the panel.
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

    async fn check(&self) -> CheckServerResponse {
        self.gateway
            .inventory()
            .check_server(CheckServerRequest {
                target: by_name(SERVER),
            })
            .await
            .expect("check server")
            .into_inner()
    }

    async fn server_info(&self) -> ServerInfo {
        self.gateway
            .servers()
            .get_server_info(GetServerInfoRequest {
                target: by_name(SERVER),
            })
            .await
            .expect("get server info")
            .into_inner()
            .info
            .expect("info in reply")
    }

    async fn control_service(
        &self,
        service: &str,
        action: SystemServiceAction,
    ) -> Result<(), Status> {
        self.gateway
            .servers()
            .control_system_service(ControlSystemServiceRequest {
                target: by_name(SERVER),
                service: service.to_owned(),
                action: action.into(),
                ..Default::default()
            })
            .await
            .map(drop)
    }

    async fn set_monitored(&self, service: &str, monitored: bool) -> Result<(), Status> {
        self.gateway
            .servers()
            .set_system_service_monitored(SetSystemServiceMonitoredRequest {
                target: by_name(SERVER),
                service: service.to_owned(),
                monitored,
                ..Default::default()
            })
            .await
            .map(drop)
    }

    /// The panel's snapshot of `service`.
    fn service(&self, service: &str) -> SimService {
        self.sim
            .services()
            .into_iter()
            .find(|entry| entry.name == service)
            .unwrap_or_else(|| panic!("service {service} on the panel"))
    }
}

/// Runs `body` on `backend` with a simulator started from `config` and
/// registered as `openpanel` with its own admin credentials, and `configure`
/// applied to the gateway's config.
async fn with_panel_on<F, Fut>(
    backend: Backend,
    config: OpenAdminConfig,
    configure: impl FnOnce(&mut Config),
    body: F,
) where
    F: FnOnce(Oa) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let fixture = OpenAdminFixture::with_config(config).await;
    with_gateway(backend, configure, move |gateway| async move {
        let id = fixture.register(&gateway, SERVER).await;
        let sim = fixture.sim.clone();
        body(Oa { gateway, sim, id }).await;
    })
    .await;
}

/// [`with_panel_on`] on SQLite, with a simulator started from `config`.
async fn with_config<F, Fut>(config: OpenAdminConfig, body: F)
where
    F: FnOnce(Oa) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_panel_on(Backend::Sqlite, config, |_| {}, body).await;
}

/// [`with_panel_on`] on SQLite with the simulator's default config.
async fn with_panel<F, Fut>(body: F)
where
    F: FnOnce(Oa) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_config(OpenAdminConfig::default(), body).await;
}

fn admin_credentials(password: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: "admin".to_owned(),
            password: password.to_owned(),
        })),
    }
}

/// Registers an OpenAdmin server at `base_url` logging in as `admin` with
/// `password`; returns its id.
async fn register(gateway: &Gateway, name: &str, base_url: &str, password: &str) -> String {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: PanelKind::Openadmin.into(),
                base_url: base_url.to_owned(),
                ..Default::default()
            }),
            credentials: Some(admin_credentials(password)),
            request_id: String::new(),
        })
        .await
        .expect("register the OpenAdmin server")
        .into_inner()
        .server
        .expect("server in reply")
        .id
}

fn new_account(username: &str, package: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(SERVER),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "first-password-1".to_owned(),
        package: package.to_owned(),
        ..Default::default()
    }
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

/// Asserts a call to `openpanel` failed with `code` and `reason`, with the
/// server's id, name and kind in ErrorInfo and its name in the message.
#[track_caller]
fn assert_panel_error<T: std::fmt::Debug>(
    oa: &Oa,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
) -> Status {
    let status = assert_error(result, code, reason);
    assert_eq!(metadata(&status, "server_id"), oa.id, "{status:?}");
    assert_eq!(metadata(&status, "server_name"), SERVER, "{status:?}");
    assert_eq!(metadata(&status, "panel_kind"), "openadmin", "{status:?}");
    assert!(
        status.message().contains(&format!("`{SERVER}`")),
        "the message names the server: {}",
        status.message()
    );
    status
}

/// [`assert_panel_error`], with what the panel said.
#[track_caller]
fn assert_oa_error<T: std::fmt::Debug>(
    oa: &Oa,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    upstream_message: &str,
) -> Status {
    let status = assert_panel_error(oa, result, code, reason);
    assert_eq!(
        metadata(&status, "upstream_message"),
        upstream_message,
        "upstream_message of: {status:?}"
    );
    status
}

// === sessions: one login for many callers, expiry, revocation ===

/// How many calls the coalescing test makes at once.
const CONCURRENT_CALLS: u64 = 1_000;

/// 1,000 concurrent ListAccounts on a freshly registered server (a cold token
/// cache), all over one gRPC channel: every call succeeds with the panel's
/// accounts, the panel sees exactly one login for them, and then exactly two
/// requests per call (`/api/users`, `/api/ips`), so no call was ever sent
/// without a token or refused. A second server entry for the same panel has
/// its own token.
async fn concurrent_calls_on_a_cold_cache_share_one_login(backend: Backend) {
    // The default 2 s upstream timeout would also cover 2,000 requests queuing
    // for the panel's connections; this test is about logins, not timeouts.
    let configure =
        |config: &mut Config| config.upstream_timeouts.request = Duration::from_secs(30);
    with_panel_on(
        backend,
        OpenAdminConfig::default(),
        configure,
        |oa| async move {
            // An account made through another entry for the same panel, so that
            // `openpanel`'s own token cache is still cold.
            register(&oa.gateway, "seed", &oa.sim.base_url(), "admin-secret").await;
            oa.gateway
                .accounts()
                .create_account(CreateAccountRequest {
                    target: by_name("seed"),
                    ..new_account("alice", DEFAULT_PLAN)
                })
                .await
                .expect("create alice through `seed`");
            assert_eq!(oa.sim.login_count(), 1, "`seed` logged in once");

            let logins = oa.sim.login_count();
            let before = oa.requests();
            let client = oa.gateway.accounts();
            let calls: Vec<_> = (0..CONCURRENT_CALLS)
                .map(|_| {
                    let mut client = client.clone();
                    tokio::spawn(async move {
                        client
                            .list_accounts(ListAccountsRequest {
                                target: by_name(SERVER),
                                ..Default::default()
                            })
                            .await
                    })
                })
                .collect();
            let mut failures = Vec::new();
            for call in calls {
                match call.await.expect("the call's task") {
                    Ok(reply) => {
                        let accounts = reply.into_inner().accounts;
                        assert_eq!(accounts.len(), 1, "{accounts:?}");
                        assert_eq!(accounts[0].username, "alice");
                        assert_eq!(accounts[0].server_id, oa.id);
                    }
                    Err(status) => failures.push(status),
                }
            }
            assert!(
                failures.is_empty(),
                "{} of {CONCURRENT_CALLS} calls failed, e.g. {:?}",
                failures.len(),
                failures.first()
            );
            assert_eq!(
                oa.sim.login_count() - logins,
                1,
                "one login for {CONCURRENT_CALLS} concurrent calls"
            );
            assert_eq!(
                oa.requests() - before,
                1 + 2 * CONCURRENT_CALLS,
                "the login, then /api/users and /api/ips per call"
            );
        },
    )
    .await;
}

/// [`concurrent_calls_on_a_cold_cache_share_one_login`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_on_a_cold_cache_share_one_login_sqlite() {
    concurrent_calls_on_a_cold_cache_share_one_login(Backend::Sqlite).await;
}

/// [`concurrent_calls_on_a_cold_cache_share_one_login`] on PostgreSQL (the
/// server record and its sealed credentials read from PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_on_a_cold_cache_share_one_login_postgres() {
    concurrent_calls_on_a_cold_cache_share_one_login(Backend::Postgres).await;
}

/// A token is used for as long as its own `exp` says: with 2-second tokens, a
/// second call at once reuses it; a call after the token has expired logs in
/// again first, without first being refused (a login and the call: two
/// requests, not three), and the caller sees nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refreshed_transparently() {
    let config = OpenAdminConfig {
        token_lifetime: SHORT_TOKEN,
        ..OpenAdminConfig::default()
    };
    with_config(config, |oa| async move {
        oa.get_package("1").await.expect("first call");
        assert_eq!(oa.sim.login_count(), 1);
        oa.get_package("1").await.expect("second call");
        assert_eq!(oa.sim.login_count(), 1, "the live token is reused");

        // Past the token's life, by the panel's whole-second clock too.
        tokio::time::sleep(SHORT_TOKEN + Duration::from_secs(1)).await;
        let before = oa.requests();
        let package = oa.get_package("1").await.expect("call after the expiry");
        assert_eq!(package.name, DEFAULT_PLAN);
        assert_eq!(oa.sim.login_count(), 2, "one new login");
        assert_eq!(
            oa.requests() - before,
            2,
            "a login, then the call: the expired token was never sent"
        );
    })
    .await;
}

/// A token the panel revoked is refused (401); the adapter drops it, logs in
/// once more and repeats the call, which succeeds: one extra login and three
/// requests (the refused call, the login, the call again). A burst of calls
/// all holding the revoked token also costs exactly one login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_costs_exactly_one_login() {
    with_panel(|oa| async move {
        oa.get_package("1").await.expect("first call");
        assert_eq!(oa.sim.login_count(), 1);

        oa.sim.revoke_tokens();
        let before = oa.requests();
        let package = oa
            .get_package("1")
            .await
            .expect("call with a revoked token");
        assert_eq!(package.name, DEFAULT_PLAN);
        assert_eq!(oa.sim.login_count(), 2, "exactly one re-login");
        assert_eq!(
            oa.requests() - before,
            3,
            "the refused call, the login, the call again"
        );

        oa.sim.revoke_tokens();
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let mut client = oa.gateway.packages();
                tokio::spawn(async move {
                    client
                        .get_package(GetPackageRequest {
                            target: by_name(SERVER),
                            package: "2".to_owned(),
                        })
                        .await
                })
            })
            .collect();
        for call in calls {
            let package = call
                .await
                .expect("the call's task")
                .expect("call with a revoked token")
                .into_inner()
                .package
                .expect("package in reply");
            assert_eq!(package.name, PRO_PLAN);
        }
        assert_eq!(
            oa.sim.login_count(),
            3,
            "one re-login for the whole burst of refused tokens"
        );
    })
    .await;
}

// === autologin: both forms ===

/// What every link of the simulator starts with, for `username`: the user
/// panel on port 2083 of the host panelgate called.
fn link_prefix(username: &str) -> String {
    format!("http://127.0.0.1:2083/login_autologin?username={username}&admin_token=")
}

/// CreateLoginLink on a panel of `style`, where one link costs
/// `requests_per_link` panel requests: the panel's link with a 30-character
/// one-time token, a new one each call; an unknown user is the panel's own
/// 404 "User not found" (not a fallback's page).
async fn login_link_works(style: AutologinStyle, requests_per_link: u64) {
    let config = OpenAdminConfig {
        autologin: style,
        ..OpenAdminConfig::default()
    };
    with_config(config, move |oa| async move {
        oa.create("lou", DEFAULT_PLAN).await;
        let before = oa.requests();
        let link = oa.login_link("lou").await.expect("login link");
        assert_eq!(oa.requests() - before, requests_per_link, "{style:?}");
        let token = link
            .strip_prefix(&link_prefix("lou"))
            .unwrap_or_else(|| panic!("the panel's link: {link}"));
        assert_eq!(token.len(), 30, "{link}");
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{link}");

        let again = oa.login_link("lou").await.expect("second login link");
        assert!(again.starts_with(&link_prefix("lou")), "{again}");
        assert_ne!(again, link, "a new one-time token every call");

        let before = oa.requests();
        let missing = oa.login_link("ghost").await;
        assert_oa_error(
            &oa,
            missing,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "User not found",
        );
        assert_eq!(oa.requests() - before, requests_per_link, "{style:?}");
    })
    .await;
}

/// On the Go build, CreateLoginLink is one `POST /api/users/{u}/autologin`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_with_post_autologin() {
    login_link_works(AutologinStyle::Post, 1).await;
}

/// On the Python build (the doc's), `POST .../autologin` is the build's HTML
/// 404 page, so the link (which names the user, sent only in the path) can
/// only come from the `CONNECT /api/users/{u}` the adapter sends next: two
/// requests per link. The unknown user's JSON "User not found" is the CONNECT
/// route's answer too. CheckServer reads the Python build's version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_with_connect_autologin() {
    login_link_works(AutologinStyle::Connect, 2).await;
    let config = OpenAdminConfig {
        autologin: AutologinStyle::Connect,
        ..OpenAdminConfig::default()
    };
    with_config(config, |oa| async move {
        let checked = oa.check().await;
        assert!(checked.healthy, "{checked:?}");
        assert_eq!(checked.panel_version, "1.7.60");
    })
    .await;
}

// === accounts: POST /api/users, GET /api/users[/{u}], /api/ips ===

/// CreateAccount creates the user with its email, password and plan, then its
/// primary domain under `/var/www/html/`; the reply says so. A package given
/// by the panel's id is the plan of that id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_creates_the_user_and_its_primary_domain() {
    with_panel(|oa| async move {
        let created = oa.create("alice", DEFAULT_PLAN).await;
        let user = oa.sim.user("alice").expect("alice on the panel");
        assert_eq!(user.email, "alice@mail.example");
        assert_eq!(user.password, "first-password-1");
        assert_eq!(user.plan_name, DEFAULT_PLAN);
        assert!(!user.suspended);
        assert_eq!(user.domains, ["alice.example"]);
        let domain = oa.sim.domain("alice.example").expect("primary domain");
        assert_eq!(domain.owner, "alice");
        assert_eq!(domain.docroot, "/var/www/html/alice.example");
        assert!(!domain.suspended);

        assert_eq!(created.username, "alice");
        assert_eq!(created.server_id, oa.id);
        assert_eq!(created.primary_domain, "alice.example");
        assert_eq!(created.email, "alice@mail.example");
        assert_eq!(created.package, DEFAULT_PLAN);
        assert_eq!(created.status(), AccountStatus::Active);

        let by_plan_id = oa.create("bob", "2").await;
        assert_eq!(by_plan_id.package, PRO_PLAN);
        assert_eq!(oa.sim.user("bob").expect("bob").plan_name, PRO_PLAN);
    })
    .await;
}

/// GetAccount reads the account's detail (primary domain, email, plan, panel
/// id) and its dedicated IP from `/api/ips`; ListAccounts lists every account
/// with email, plan and dedicated IP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_list_accounts_read_the_panel_and_its_dedicated_ips() {
    with_panel(|oa| async move {
        oa.create("alice", DEFAULT_PLAN).await;
        oa.create("bob", PRO_PLAN).await;
        oa.sim.set_dedicated_ip("bob", "203.0.113.9");

        let bob = oa.get_account("bob").await.expect("get bob");
        let sim_bob = oa.sim.user("bob").expect("bob on the panel");
        assert_eq!(
            bob,
            Account {
                username: "bob".into(),
                server_id: oa.id.clone(),
                primary_domain: "bob.example".into(),
                email: "bob@mail.example".into(),
                package: PRO_PLAN.into(),
                status: AccountStatus::Active.into(),
                full_name: String::new(),
                panel_user_id: sim_bob.id.to_string(),
                dedicated_ip: "203.0.113.9".into(),
                panel_details: None,
            }
        );
        let alice = oa.get_account("alice").await.expect("get alice");
        assert_eq!(alice.dedicated_ip, "", "no dedicated IP");

        // By server id as by name.
        let by_server_id = oa
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_id(&oa.id),
                username: "bob".into(),
            })
            .await
            .expect("get bob by server id")
            .into_inner()
            .account;
        assert_eq!(by_server_id, Some(bob));

        let listed: Vec<_> = oa
            .list_accounts()
            .await
            .into_iter()
            .map(|account| {
                assert_eq!(account.server_id, oa.id);
                (
                    account.username,
                    account.email,
                    account.package,
                    account.dedicated_ip,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "alice".to_owned(),
                    "alice@mail.example".to_owned(),
                    DEFAULT_PLAN.to_owned(),
                    String::new()
                ),
                (
                    "bob".to_owned(),
                    "bob@mail.example".to_owned(),
                    PRO_PLAN.to_owned(),
                    "203.0.113.9".to_owned()
                ),
            ]
        );
    })
    .await;
}

// === accounts: PATCH (suspend, unsuspend, password), PUT, DELETE ===

/// Suspend and unsuspend flip the user on the panel and may be repeated (the
/// panel's "already suspended" / "not suspended" failures are successes).
/// The panel renames a suspended user `SUSPENDED_<id>_<username>`: GetAccount
/// reads that as SUSPENDED, and ListAccounts still lists the account under its
/// own name, SUSPENDED, with its dedicated IP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_and_unsuspend_are_idempotent_and_read_back() {
    with_panel(|oa| async move {
        oa.create("sue", DEFAULT_PLAN).await;
        oa.sim.set_dedicated_ip("sue", "203.0.113.7");
        for round in 1..=2 {
            oa.suspend("sue")
                .await
                .unwrap_or_else(|status| panic!("suspend #{round}: {status:?}"));
            assert!(oa.sim.user("sue").expect("sue").suspended, "suspended");
        }
        let sue = oa.get_account("sue").await.expect("get sue");
        assert_eq!(sue.username, "sue");
        assert_eq!(sue.status(), AccountStatus::Suspended);
        assert_eq!(sue.primary_domain, "sue.example");

        let listed = oa.list_accounts().await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].username, "sue", "not the panel's SUSPENDED_ name");
        assert_eq!(listed[0].status(), AccountStatus::Suspended);
        assert_eq!(listed[0].dedicated_ip, "203.0.113.7");

        for round in 1..=2 {
            oa.unsuspend("sue")
                .await
                .unwrap_or_else(|status| panic!("unsuspend #{round}: {status:?}"));
            assert!(!oa.sim.user("sue").expect("sue").suspended, "active");
        }
        let sue = oa.get_account("sue").await.expect("get sue");
        assert_eq!(sue.status(), AccountStatus::Active);
        assert_eq!(oa.list_accounts().await[0].status(), AccountStatus::Active);
    })
    .await;
}

/// ChangePassword sets the panel password (and nothing else); ChangePackage
/// moves the account by plan name and by plan id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_and_package_reach_the_panel() {
    with_panel(|oa| async move {
        oa.create("pat", DEFAULT_PLAN).await;
        let mut accounts = oa.gateway.accounts();
        accounts
            .change_password(ChangePasswordRequest {
                target: by_name(SERVER),
                username: "pat".into(),
                password: "second-password-2".into(),
                ..Default::default()
            })
            .await
            .expect("change password");
        let pat = oa.sim.user("pat").expect("pat");
        assert_eq!(pat.password, "second-password-2");
        assert!(!pat.suspended, "a password change is not a suspension");

        for (package, plan) in [(PRO_PLAN, PRO_PLAN), ("1", DEFAULT_PLAN)] {
            accounts
                .change_package(ChangePackageRequest {
                    target: by_name(SERVER),
                    username: "pat".into(),
                    package: package.into(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|status| panic!("change package to {package}: {status:?}"));
            assert_eq!(oa.sim.user("pat").expect("pat").plan_name, plan);
            assert_eq!(oa.get_account("pat").await.expect("get pat").package, plan);
        }
    })
    .await;
}

/// DeleteAccount removes an active account and a suspended one (which the
/// panel refuses to delete: the adapter unsuspends it first), with their
/// domains; deleting again is NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_active_and_suspended_accounts() {
    with_panel(|oa| async move {
        oa.create("dee", DEFAULT_PLAN).await;
        oa.create("sid", DEFAULT_PLAN).await;
        oa.suspend("sid").await.expect("suspend sid");
        assert!(oa.sim.user("sid").expect("sid").suspended);

        for username in ["dee", "sid"] {
            oa.delete(username)
                .await
                .unwrap_or_else(|status| panic!("delete {username}: {status:?}"));
            assert_eq!(oa.sim.user(username), None, "{username} gone");
            assert_eq!(
                oa.sim.domain(&format!("{username}.example")),
                None,
                "{username}'s domain gone"
            );
        }

        let again = oa.delete("sid").await;
        assert_oa_error(
            &oa,
            again,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "Error deleting user: ERROR: User sid does not exist.",
        );
    })
    .await;
}

// === usage: GET /api/usage/disk ===

/// GetAccountUsage turns the panel's 1 KiB quota blocks into bytes, takes
/// inode figures as counts, the domain limit from the plan, and reads 0 limits
/// as unlimited; it follows the account's domains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_usage_is_reported_in_bytes() {
    with_panel(|oa| async move {
        oa.create("uma", DEFAULT_PLAN).await;
        let usage = || async {
            oa.gateway
                .accounts()
                .get_account_usage(GetAccountUsageRequest {
                    target: by_name(SERVER),
                    username: "uma".into(),
                })
                .await
                .expect("get account usage")
                .into_inner()
                .usage
                .expect("usage in reply")
        };
        // A home (64 blocks, 12 inodes) and one domain (1536 blocks, 40 inodes),
        // on a 10 GB plan with 1,000,000 inodes and unlimited domains.
        assert_eq!(
            usage().await,
            AccountUsage {
                disk_bytes: used((64 + 1536) * KIB, limit(10 * GIB)),
                bandwidth_bytes: used(0, unlimited()),
                inodes: used(12 + 40, limit(1_000_000)),
                domains: used(1, unlimited()),
                ..Default::default()
            }
        );

        oa.add_domain("uma", "shop.example", "")
            .await
            .expect("second domain");
        let usage = usage().await;
        assert_eq!(
            usage.disk_bytes,
            used((64 + 2 * 1536) * KIB, limit(10 * GIB))
        );
        assert_eq!(usage.inodes, used(12 + 2 * 40, limit(1_000_000)));
        assert_eq!(usage.domains, used(2, unlimited()));
    })
    .await;
}

// === plans: GET /api/plans[/{id}], POST /api/plans ===

/// The limits of the simulator's two plans, as packages: disk and bandwidth
/// in MiB (the panel says GB), 0 as unlimited.
fn default_packages() -> [Package; 2] {
    [
        Package {
            id: "1".into(),
            name: DEFAULT_PLAN.into(),
            limits: Some(PackageLimits {
                disk_mib: limit(10 * 1024),
                bandwidth_mib: limit(100 * 1024),
                email_accounts: unlimited(),
                databases: unlimited(),
                ftp_accounts: unlimited(),
                domains: unlimited(),
                subdomains: None,
                inodes: limit(1_000_000),
            }),
        },
        Package {
            id: "2".into(),
            name: PRO_PLAN.into(),
            limits: Some(PackageLimits {
                disk_mib: limit(50 * 1024),
                bandwidth_mib: limit(500 * 1024),
                email_accounts: limit(100),
                databases: limit(20),
                ftp_accounts: limit(10),
                domains: limit(10),
                subdomains: None,
                inodes: limit(2_500_000),
            }),
        },
    ]
}

/// ListPackages gives the panel's plans with their limits; GetPackage finds
/// one by panel id (one `GET /api/plans/{id}`) and by name (the list, then
/// that call); an unknown id or name is NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_get_packages() {
    with_panel(|oa| async move {
        assert_eq!(oa.list_packages().await, default_packages());
        let [_, pro] = default_packages();

        oa.get_package("1").await.expect("warm the token");
        let before = oa.requests();
        assert_eq!(oa.get_package("2").await.expect("by id"), pro);
        assert_eq!(oa.requests() - before, 1, "GET /api/plans/2");
        let before = oa.requests();
        assert_eq!(oa.get_package(PRO_PLAN).await.expect("by name"), pro);
        assert_eq!(
            oa.requests() - before,
            2,
            "GET /api/plans, then /api/plans/2"
        );

        let missing = oa.get_package("9").await;
        assert_oa_error(
            &oa,
            missing,
            Code::NotFound,
            "PACKAGE_NOT_FOUND",
            "Plan not found",
        );
        let missing = oa.get_package("gold_plan").await;
        assert_panel_error(&oa, missing, Code::NotFound, "PACKAGE_NOT_FOUND");
    })
    .await;
}

/// ListPackages pages with page_size and next_page_token, both pages cut
/// from one cached panel list (one `GET /api/plans`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_packages_pages_through_one_cached_list() {
    with_panel(|oa| async move {
        oa.get_package("1").await.expect("warm the token");
        let before = oa.requests();
        let mut packages = oa.gateway.packages();
        let first = packages
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                page_size: 1,
                page_token: String::new(),
            })
            .await
            .expect("first page")
            .into_inner();
        let second = packages
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                page_size: 1,
                page_token: first.next_page_token.clone(),
            })
            .await
            .expect("second page")
            .into_inner();
        let [default, pro] = default_packages();
        assert_eq!(first.packages, [default]);
        assert_eq!(second.packages, [pro]);
        assert_eq!(second.next_page_token, "");
        assert_eq!(oa.requests() - before, 1, "one GET /api/plans");
    })
    .await;
}

/// CreatePackage sends every limit in the panel's units (whole GB, counts)
/// and the OpenAdmin options (description, websites, CPU, RAM); the panel
/// stores them, the reply reads the plan back, ListPackages shows it at once
/// (the cached list is dropped), and a second plan of that name is
/// ALREADY_EXISTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_package_stores_limits_and_options() {
    with_panel(|oa| async move {
        assert_eq!(oa.list_packages().await.len(), 2, "the list is cached");
        let limits = PackageLimits {
            disk_mib: limit(20 * 1024),
            bandwidth_mib: limit(200 * 1024),
            email_accounts: limit(50),
            databases: limit(5),
            ftp_accounts: limit(3),
            domains: limit(4),
            subdomains: None,
            inodes: unlimited(),
        };
        let request = CreatePackageRequest {
            target: by_name(SERVER),
            name: "gold_plan".into(),
            limits: Some(limits),
            panel_options: Some(create_package_request::PanelOptions::Openadmin(
                OpenAdminPackageOptions {
                    description: "Gold: four domains".into(),
                    websites: limit(7),
                    cpu: "2".into(),
                    ram: "2g".into(),
                },
            )),
            ..Default::default()
        };
        let created = oa
            .gateway
            .packages()
            .create_package(request.clone())
            .await
            .expect("create package")
            .into_inner()
            .package
            .expect("package in reply");
        assert_eq!(
            created,
            Package {
                id: "3".into(),
                name: "gold_plan".into(),
                limits: Some(limits),
            }
        );

        let stored = oa
            .sim
            .plans()
            .into_iter()
            .find(|plan| plan.name == "gold_plan");
        assert_eq!(
            stored,
            Some(SimPlan {
                description: "Gold: four domains".into(),
                websites_limit: 7,
                email_limit: 50,
                ftp_limit: 3,
                inodes_limit: 0,
                db_limit: 5,
                cpu: "2".into(),
                ram: "2g".into(),
                bandwidth_gb: 200,
                ..SimPlan::new(3, "gold_plan", 20, 4)
            })
        );
        let listed = oa.list_packages().await;
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert_eq!(listed[2], created);

        let again = oa.gateway.packages().create_package(request).await;
        assert_oa_error(
            &oa,
            again,
            Code::AlreadyExists,
            "PACKAGE_ALREADY_EXISTS",
            "ERROR: Plan name 'gold_plan' already exists.",
        );
        assert_eq!(oa.sim.plans().len(), 3);
    })
    .await;
}

/// A build without plan creation (POST /api/plans is its 404 page):
/// CreatePackage is UNIMPLEMENTED OPERATION_NOT_SUPPORTED and creates
/// nothing; CheckServer reads the panel's endpoint listing and leaves
/// CreatePackage out of the live capabilities, while GetServer's static list
/// (what OpenAdmin can do at best) still has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_package_without_plan_creation_is_unimplemented() {
    let config = OpenAdminConfig {
        plan_create: false,
        ..OpenAdminConfig::default()
    };
    with_config(config, |oa| async move {
        let refused = oa
            .gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: by_name(SERVER),
                name: "gold_plan".into(),
                ..Default::default()
            })
            .await;
        let status =
            assert_panel_error(&oa, refused, Code::Unimplemented, "OPERATION_NOT_SUPPORTED");
        assert_eq!(metadata(&status, "operation"), "OPERATION_CREATE_PACKAGE");
        assert_eq!(oa.sim.plans().len(), 2, "no plan created");

        let create_package = Operation::CreatePackage as i32;
        let checked = oa.check().await;
        assert!(checked.healthy, "{checked:?}");
        assert!(
            !checked.capabilities.contains(&create_package),
            "{checked:?}"
        );
        assert!(
            checked
                .capabilities
                .contains(&(Operation::CreateAccount as i32))
        );
        let stored = oa
            .gateway
            .inventory()
            .get_server(GetServerRequest {
                target: by_name(SERVER),
            })
            .await
            .expect("get server")
            .into_inner()
            .server
            .expect("server in reply");
        assert!(stored.capabilities.contains(&create_package), "{stored:?}");
    })
    .await;
}

// === domains: GET /api/domains, POST /api/domains/{new,suspend,unsuspend,delete} ===

/// AddDomain creates the domain under `/var/www/html/<domain>` or under the
/// document root given; ListDomains lists one account's domains with their
/// owner and panel ids, or the server's (without owners: the panel lists them
/// by internal user id); Suspend/Unsuspend/DeleteDomain act on the panel, and
/// suspending twice is fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_are_added_listed_suspended_and_deleted() {
    with_panel(|oa| async move {
        oa.create("dom", PRO_PLAN).await;
        oa.create("other", PRO_PLAN).await;

        let shop = oa
            .add_domain("dom", "shop.example", "")
            .await
            .expect("add shop.example");
        assert_eq!(
            (
                shop.name.as_str(),
                shop.username.as_str(),
                shop.document_root.as_str()
            ),
            ("shop.example", "dom", "/var/www/html/shop.example")
        );
        assert_eq!(shop.status(), DomainStatus::Active);
        let blog = oa
            .add_domain("dom", "blog.example", "/var/www/html/blog")
            .await
            .expect("add blog.example");
        assert_eq!(blog.document_root, "/var/www/html/blog");
        let on_panel = oa.sim.domain("blog.example").expect("blog.example");
        assert_eq!(
            (on_panel.owner.as_str(), on_panel.docroot.as_str()),
            ("dom", "/var/www/html/blog")
        );
        assert_eq!(
            oa.sim.domain("shop.example").expect("shop.example").docroot,
            "/var/www/html/shop.example"
        );

        let of_dom: Vec<_> = oa
            .list_domains("dom")
            .await
            .into_iter()
            .map(|domain| {
                let on_panel = oa.sim.domain(&domain.name).expect("listed domain exists");
                assert_eq!(domain.panel_domain_id, on_panel.id.to_string());
                assert_eq!(domain.document_root, on_panel.docroot);
                (domain.name, domain.username)
            })
            .collect();
        let owned = |name: &str| (name.to_owned(), "dom".to_owned());
        assert_eq!(
            of_dom,
            [
                owned("dom.example"),
                owned("shop.example"),
                owned("blog.example")
            ]
        );
        let mut all: Vec<_> = oa
            .list_domains("")
            .await
            .into_iter()
            .map(|domain| {
                assert_eq!(domain.username, "", "{domain:?}");
                domain.name
            })
            .collect();
        all.sort();
        assert_eq!(
            all,
            [
                "blog.example",
                "dom.example",
                "other.example",
                "shop.example"
            ]
        );

        let mut domains = oa.gateway.domains();
        for round in 1..=2 {
            domains
                .suspend_domain(SuspendDomainRequest {
                    target: by_name(SERVER),
                    domain: "shop.example".into(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|status| panic!("suspend #{round}: {status:?}"));
            assert!(oa.sim.domain("shop.example").expect("shop").suspended);
        }
        domains
            .unsuspend_domain(UnsuspendDomainRequest {
                target: by_name(SERVER),
                domain: "shop.example".into(),
                ..Default::default()
            })
            .await
            .expect("unsuspend");
        assert!(!oa.sim.domain("shop.example").expect("shop").suspended);

        domains
            .delete_domain(DeleteDomainRequest {
                target: by_name(SERVER),
                domain: "blog.example".into(),
                ..Default::default()
            })
            .await
            .expect("delete blog.example");
        assert_eq!(oa.sim.domain("blog.example"), None);
        assert_eq!(
            oa.sim.user("dom").expect("dom").domains,
            ["dom.example", "shop.example"]
        );
    })
    .await;
}

// === server: /api/system, /api/usage*, /api/services*, /api/service/*, /api/notifications ===

/// CheckServer logs in, reads `/api/system` and the endpoint listing: healthy,
/// the panel's version, and live capabilities that, on a build with plan
/// creation, are OpenAdmin's whole static list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_server_reports_version_and_live_capabilities() {
    with_panel(|oa| async move {
        let checked = oa.check().await;
        assert!(checked.healthy, "{checked:?}");
        assert_eq!(checked.error_reason, "");
        assert_eq!(checked.panel_version, "1.8.0");
        assert!(checked.latency.is_some());
        assert_eq!(oa.sim.login_count(), 1);
        let stored = oa
            .gateway
            .inventory()
            .get_server(GetServerRequest {
                target: by_name(SERVER),
            })
            .await
            .expect("get server")
            .into_inner()
            .server
            .expect("server in reply");
        let mut live = checked.capabilities.clone();
        let mut all = stored.capabilities.clone();
        live.sort_unstable();
        all.sort_unstable();
        assert_eq!(live, all);
        assert!(live.contains(&(Operation::CreatePackage as i32)));
    })
    .await;
}

/// The state of each service as GetServerInfo reports it.
fn service_states(info: &ServerInfo) -> BTreeMap<String, ServiceState> {
    info.services
        .iter()
        .map(|service| (service.name.clone(), service.state()))
        .collect()
}

/// GetServerInfo gathers `/api/system`, `/api/usage/{stats,cpu,memory,server}`
/// and `/api/services/status`: host facts, per-core CPU, memory and disk in
/// bytes, the account count, and each service's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_info_gathers_system_usage_and_services() {
    with_panel(|oa| async move {
        oa.create("alice", DEFAULT_PLAN).await;
        oa.create("bob", DEFAULT_PLAN).await;
        let info = oa.server_info().await;
        assert_eq!(info.hostname, "openpanel-sim");
        assert_eq!(info.os, "Ubuntu 24.04 LTS");
        assert_eq!(info.kernel, "6.8.0-36-generic");
        assert_eq!(info.panel_version, "1.8.0");
        let uptime = info.uptime.expect("uptime").seconds;
        assert!((18_905..18_905 + 600).contains(&uptime), "{uptime}");
        assert_eq!(info.cpu_percent, [12.5, 3.0, 7.25, 0.0]);
        assert_eq!(
            (info.memory_total_bytes, info.memory_used_bytes),
            (8 * GIB, 3 * GIB)
        );
        assert_eq!(info.filesystems.len(), 1, "{:?}", info.filesystems);
        let root = &info.filesystems[0];
        assert_eq!(root.mount_point, "/");
        assert_eq!(root.total_bytes, 123_690_532_864);
        // The base use plus each account's home and primary domain.
        assert_eq!(root.used_bytes, 63_366_230_016 + 2 * (64 + 1536) * KIB);
        assert_eq!(info.account_count, Some(2));
        let states = service_states(&info);
        assert_eq!(
            states,
            BTreeMap::from(
                [
                    ("caddy", ServiceState::Running),
                    ("csf", ServiceState::Stopped),
                    ("docker", ServiceState::Running),
                    ("mysql", ServiceState::Running),
                    ("named", ServiceState::Running),
                ]
                .map(|(name, state)| (name.to_owned(), state))
            )
        );
    })
    .await;
}

/// ControlSystemService starts, stops and restarts a service on the panel
/// (GetServerInfo then reports the new state); a service the panel does not
/// list is NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_services_start_stop_and_restart() {
    with_panel(|oa| async move {
        oa.control_service("caddy", SystemServiceAction::Stop)
            .await
            .expect("stop caddy");
        assert!(!oa.service("caddy").running);
        oa.control_service("csf", SystemServiceAction::Start)
            .await
            .expect("start csf");
        assert!(oa.service("csf").running);
        oa.control_service("mysql", SystemServiceAction::Stop)
            .await
            .expect("stop mysql");
        assert!(!oa.service("mysql").running);
        oa.control_service("mysql", SystemServiceAction::Restart)
            .await
            .expect("restart mysql");
        assert!(oa.service("mysql").running, "a restart leaves it running");

        let states = service_states(&oa.server_info().await);
        assert_eq!(states.get("caddy"), Some(&ServiceState::Stopped));
        assert_eq!(states.get("csf"), Some(&ServiceState::Running));
        assert_eq!(states.get("mysql"), Some(&ServiceState::Running));

        let missing = oa
            .control_service("nosuch", SystemServiceAction::Start)
            .await;
        assert_oa_error(
            &oa,
            missing,
            Code::NotFound,
            "SERVICE_NOT_FOUND",
            "Service nosuch not found",
        );
    })
    .await;
}

/// SetSystemServiceMonitored edits the panel's services list (GET, then PUT
/// of the whole list): only that service's monitoring changes, not whether it
/// runs nor any other entry; an unlisted service is NOT_FOUND and changes
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_monitoring_is_set_in_the_panels_list() {
    with_panel(|oa| async move {
        let before = oa.sim.services();
        oa.set_monitored("csf", true).await.expect("monitor csf");
        oa.set_monitored("caddy", false)
            .await
            .expect("unmonitor caddy");
        let after = oa.sim.services();
        assert_eq!(after.len(), before.len());
        for (old, new) in before.iter().zip(&after) {
            let expected = match old.name.as_str() {
                "csf" => SimService {
                    monitored: true,
                    ..old.clone()
                },
                "caddy" => SimService {
                    monitored: false,
                    ..old.clone()
                },
                _ => old.clone(),
            };
            assert_eq!(new, &expected);
        }
        assert!(oa.service("caddy").running, "unmonitored, still running");

        let missing = oa.set_monitored("nosuch", true).await;
        assert_panel_error(&oa, missing, Code::NotFound, "SERVICE_NOT_FOUND");
        assert_eq!(oa.sim.services(), after);
    })
    .await;
}

/// ListNotifications gives the panel's notifications in order: none at
/// first, then what was added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_listed_in_order() {
    with_panel(|oa| async move {
        let list = || async {
            oa.gateway
                .servers()
                .list_notifications(ListNotificationsRequest {
                    target: by_name(SERVER),
                    ..Default::default()
                })
                .await
                .expect("list notifications")
                .into_inner()
                .notifications
        };
        assert_eq!(list().await, []);
        oa.sim
            .add_notification("Update available", "New package updates available.");
        oa.sim.add_notification("Disk", "Disk almost full on /");
        let notification = |title: &str, message: &str| Notification {
            title: title.into(),
            message: message.into(),
        };
        assert_eq!(
            list().await,
            [
                notification("Update available", "New package updates available."),
                notification("Disk", "Disk almost full on /"),
            ]
        );
    })
    .await;
}

// === documented errors: credentials, login rate limit, API switch ===

/// A wrong admin password → FAILED_PRECONDITION PANEL_CREDENTIALS_REJECTED
/// after one refused login; for a while after that, calls fail the same way
/// without a single request to the panel (its firewall may count failed
/// logins). UpdateServer with the right password ends that at once: calls
/// work, with one login.
async fn wrong_admin_password_backs_off_until_updated(backend: Backend) {
    let fixture = OpenAdminFixture::with_config(OpenAdminConfig::default()).await;
    with_gateway(
        backend,
        |_| {},
        move |gateway| async move {
            let sim = fixture.sim.clone();
            let id = register(&gateway, SERVER, &sim.base_url(), "wrong-secret").await;
            let oa = Oa { gateway, sim, id };

            let before = oa.requests();
            let refused = oa.get_package("1").await;
            let status = assert_oa_error(
                &oa,
                refused,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
                "Invalid credentials",
            );
            assert!(!status.message().contains("wrong-secret"), "{status:?}");
            assert_eq!(oa.requests() - before, 1, "one login attempt");
            assert_eq!(oa.sim.login_count(), 0);

            let before = oa.requests();
            let again = oa.get_account("alice").await;
            assert_panel_error(
                &oa,
                again,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
            );
            let listed = oa
                .gateway
                .accounts()
                .list_accounts(ListAccountsRequest {
                    target: by_id(&oa.id),
                    ..Default::default()
                })
                .await;
            assert_panel_error(
                &oa,
                listed,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
            );
            assert_eq!(oa.requests(), before, "no request during the backoff");

            oa.gateway
                .inventory()
                .update_server(UpdateServerRequest {
                    target: by_name(SERVER),
                    credentials: Some(admin_credentials("admin-secret")),
                    ..Default::default()
                })
                .await
                .expect("set the right password");
            assert_eq!(
                oa.get_package("1").await.expect("works again").name,
                DEFAULT_PLAN
            );
            assert_eq!(oa.sim.login_count(), 1);
        },
    )
    .await;
}

/// [`wrong_admin_password_backs_off_until_updated`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_admin_password_backs_off_until_updated_sqlite() {
    wrong_admin_password_backs_off_until_updated(Backend::Sqlite).await;
}

/// [`wrong_admin_password_backs_off_until_updated`] on PostgreSQL
/// (credentials sealed in and read back from PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_admin_password_backs_off_until_updated_postgres() {
    wrong_admin_password_backs_off_until_updated(Backend::Postgres).await;
}

/// The panel's login rate limit (429 without Retry-After) → UNAVAILABLE
/// UPSTREAM_RATE_LIMITED with a google.rpc.RetryInfo of the minute the panel
/// takes to refill its login bucket; no token was issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limit_is_unavailable_with_retry_info() {
    let config = OpenAdminConfig {
        login_burst: Some(1),
        ..OpenAdminConfig::default()
    };
    with_config(config, |oa| async move {
        oa.get_package("1").await.expect("the one login allowed");
        assert_eq!(oa.sim.login_count(), 1);

        // A re-login is needed, and the bucket is empty.
        oa.sim.revoke_tokens();
        let limited = oa.get_package("1").await;
        let status = assert_panel_error(&oa, limited, Code::Unavailable, "UPSTREAM_RATE_LIMITED");
        let retry = status
            .get_details_retry_info()
            .expect("a google.rpc.RetryInfo detail");
        assert_eq!(retry.retry_delay, Some(Duration::from_secs(60)));
        assert_eq!(oa.sim.login_count(), 1, "no token issued");
    })
    .await;
}

/// The panel's API switched off → FAILED_PRECONDITION PANEL_API_DISABLED,
/// whether a call holds a token (the route answers 404) or must log in first
/// (the login answers 404), and CheckServer says so; switched on, calls work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_api_is_failed_precondition() {
    with_panel(|oa| async move {
        oa.create("quin", DEFAULT_PLAN).await;
        oa.sim.set_api_enabled(false);
        let upstream = "API access is disabled! To enable api access OpenAdmin > Settings";

        let with_token = oa.get_account("quin").await;
        assert_oa_error(
            &oa,
            with_token,
            Code::FailedPrecondition,
            "PANEL_API_DISABLED",
            upstream,
        );
        let checked = oa.check().await;
        assert!(!checked.healthy);
        assert_eq!(checked.error_reason, "PANEL_API_DISABLED");

        // CheckServer's failure dropped the token: this call logs in first.
        let logins = oa.sim.login_count();
        let logging_in = oa.get_account("quin").await;
        assert_oa_error(
            &oa,
            logging_in,
            Code::FailedPrecondition,
            "PANEL_API_DISABLED",
            upstream,
        );

        oa.sim.set_api_enabled(true);
        assert_eq!(
            oa.get_account("quin").await.expect("get quin").username,
            "quin"
        );
        assert_eq!(oa.sim.login_count(), logins + 1);
        assert!(oa.check().await.healthy);
    })
    .await;
}

// === documented errors: domains ===

/// AddDomain of a domain the panel has (any owner): the panel answers HTTP
/// 200 with returncode 1, and that is ALREADY_EXISTS DOMAIN_ALREADY_EXISTS;
/// the domain keeps its owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_domain_is_already_exists_despite_http_200() {
    with_panel(|oa| async move {
        oa.create("alice", DEFAULT_PLAN).await;
        oa.create("bob", DEFAULT_PLAN).await;
        for username in ["alice", "bob"] {
            let taken = oa.add_domain(username, "alice.example", "").await;
            assert_oa_error(
                &oa,
                taken,
                Code::AlreadyExists,
                "DOMAIN_ALREADY_EXISTS",
                "ERROR: Domain alice.example already exists.",
            );
        }
        assert_eq!(
            oa.sim.domain("alice.example").expect("alice.example").owner,
            "alice"
        );
        assert_eq!(oa.sim.user("bob").expect("bob").domains, ["bob.example"]);
    })
    .await;
}

/// A plan's domain limit reached → RESOURCE_EXHAUSTED LIMIT_REACHED, and the
/// domain is not created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_limit_is_resource_exhausted() {
    let mut config = OpenAdminConfig::default();
    config.plans.push(SimPlan::new(3, "tiny_plan", 1, 2));
    with_config(config, |oa| async move {
        oa.create("tina", "tiny_plan").await;
        oa.add_domain("tina", "second.example", "")
            .await
            .expect("the second domain fits");
        let third = oa.add_domain("tina", "third.example", "").await;
        assert_oa_error(
            &oa,
            third,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            "ERROR: Domain limit reached: user tina can have at most 2 domains.",
        );
        assert_eq!(oa.sim.domain("third.example"), None);
        assert_eq!(
            oa.sim.user("tina").expect("tina").domains,
            ["tina.example", "second.example"]
        );
    })
    .await;
}

/// A document root outside `/var/www/html/` → INVALID_ARGUMENT on
/// `document_root`, before any panel call (not even a login).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_root_outside_var_www_html_is_invalid() {
    with_panel(|oa| async move {
        for root in [
            "/home/alice/public_html",
            "/var/www/html/",
            "/var/www/htmlx/shop",
        ] {
            let refused = oa.add_domain("alice", "shop.example", root).await;
            assert_invalid(refused, "document_root");
        }
        assert_eq!(oa.requests(), 0, "the panel heard nothing");
        assert_eq!(oa.sim.domain("shop.example"), None);
    })
    .await;
}

// === documented errors: unknown accounts, half-created accounts ===

/// Every call about an account the panel lacks (named on an explicit server)
/// → NOT_FOUND ACCOUNT_NOT_FOUND, whatever the panel's way of saying it (404,
/// a failed command with HTTP 500, returncode 1); an unknown domain →
/// NOT_FOUND DOMAIN_NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_account_is_not_found_on_every_call() {
    with_panel(|oa| async move {
        let ghost = || "ghost".to_owned();
        let target = || by_name(SERVER);
        let mut accounts = oa.gateway.accounts();
        let checks: Vec<(&str, Result<(), Status>)> = vec![
            ("GetAccount", oa.get_account("ghost").await.map(drop)),
            (
                "GetAccountUsage",
                accounts
                    .get_account_usage(GetAccountUsageRequest {
                        target: target(),
                        username: ghost(),
                    })
                    .await
                    .map(drop),
            ),
            ("SuspendAccount", oa.suspend("ghost").await),
            ("UnsuspendAccount", oa.unsuspend("ghost").await),
            (
                "ChangePassword",
                accounts
                    .change_password(ChangePasswordRequest {
                        target: target(),
                        username: ghost(),
                        password: "second-password-2".into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "ChangePackage",
                accounts
                    .change_package(ChangePackageRequest {
                        target: target(),
                        username: ghost(),
                        package: PRO_PLAN.into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            ("DeleteAccount", oa.delete("ghost").await),
            ("CreateLoginLink", oa.login_link("ghost").await.map(drop)),
            (
                "AddDomain",
                oa.add_domain("ghost", "ghost.example", "").await.map(drop),
            ),
            (
                "ListDomains",
                oa.gateway
                    .domains()
                    .list_domains(ListDomainsRequest {
                        target: target(),
                        username: ghost(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
        ];
        for (call, result) in checks {
            let status = result.expect_err(call);
            assert_eq!(
                (status.code(), reason(&status)),
                (Code::NotFound, "ACCOUNT_NOT_FOUND".to_owned()),
                "{call}: {status:?}"
            );
            assert_eq!(metadata(&status, "server_id"), oa.id, "{call}");
        }
        assert_eq!(oa.sim.user("ghost"), None);
        assert_eq!(oa.sim.domain("ghost.example"), None);

        let unknown_domain = oa
            .gateway
            .domains()
            .suspend_domain(SuspendDomainRequest {
                target: by_name(SERVER),
                domain: "nosuch.example".into(),
                ..Default::default()
            })
            .await;
        assert_oa_error(
            &oa,
            unknown_domain,
            Code::NotFound,
            "DOMAIN_NOT_FOUND",
            "ERROR: Domain nosuch.example does not exist.",
        );
    })
    .await;
}

/// The panel creates a user before its domain: a CreateAccount whose primary
/// domain belongs to another account is the domain's ALREADY_EXISTS, and the
/// adapter deletes the new user again (so it is neither on the panel nor
/// indexed); the other account keeps its domain, and a retry with a free
/// domain succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_on_a_taken_domain_is_rolled_back() {
    with_panel(|oa| async move {
        oa.create("alice", DEFAULT_PLAN).await;
        let taken = oa
            .gateway
            .accounts()
            .create_account(CreateAccountRequest {
                primary_domain: "alice.example".into(),
                ..new_account("bob", DEFAULT_PLAN)
            })
            .await;
        assert_oa_error(
            &oa,
            taken,
            Code::AlreadyExists,
            "DOMAIN_ALREADY_EXISTS",
            "ERROR: Domain alice.example already exists.",
        );
        assert_eq!(oa.sim.user("bob"), None, "bob rolled back");
        assert_eq!(
            oa.sim.domain("alice.example").expect("alice's").owner,
            "alice"
        );
        let unindexed = oa
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: None,
                username: "bob".into(),
            })
            .await;
        assert_error(unindexed, Code::NotFound, "ACCOUNT_NOT_INDEXED");

        oa.create("bob", DEFAULT_PLAN).await;
        assert_eq!(oa.sim.user("bob").expect("bob").domains, ["bob.example"]);
    })
    .await;
}

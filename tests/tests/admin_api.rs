//! admin_api end to end: the real gateway over real gRPC, in front of the
//! admin_api simulator over real HTTP.
//!
//! Every test checks what a canonical call did on the simulated panel itself
//! (`sim.user(..)`, `sim.domain(..)`, `sim.packages()`), not only the reply.
//! The simulator starts with packages "Basic" (id 1, 1024 MB, 2 domains, the
//! primary one included) and "Premium" (id 2, 5120 MB, unlimited domains).
//! Most tests run on SQLite only: the conformance suite covers both backends.

use std::{future::Future, time::Duration};

use panelgate::Config;
use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, AddDomainRequest, AdminApiAccountOptions,
    AdminApiDomainOptions, AdminApiPackageOptions, ChangePackageRequest, ChangePasswordRequest,
    CheckServerRequest, CreateAccountRequest, CreateDatabaseRequest, CreateLoginLinkRequest,
    CreatePackageRequest, Credentials, DeleteAccountRequest, DomainStatus, GetAccountRequest,
    GetAccountUsageRequest, GetServerRequest, IssueCertificateRequest, Limit, ListPackagesRequest,
    Package, PackageLimits, PanelKind, PasswordCredentials, RegisterServerRequest, ResourceUsage,
    Server, ServerDefaults, SuspendAccountRequest, Target, UnsuspendAccountRequest,
    UpdateAccountRequest, UpdateServerRequest, add_domain_request, create_account_request,
    create_package_request, credentials,
};
use panelgate_sim::{AdminApiConfig, AdminApiSim, Fault, Faults, SimPackage};
use panelgate_tests::{
    Backend, Gateway,
    errors::{assert_error, assert_invalid, metadata},
    gateway::{by_id, by_name},
    with_gateway,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

// === setup ===

/// The name the simulator is registered under.
const SERVER: &str = "ols";
/// The simulator's admin password (its default config).
const ADMIN_PASSWORD: &str = "admin-secret";
/// The PHP version registered as the server's default.
const DEFAULT_PHP: &str = "8.2";
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// A gateway with a fresh admin_api simulator registered as `ols`.
struct Ols {
    gateway: Gateway,
    sim: AdminApiSim,
    /// The server id of `ols`.
    id: String,
}

impl Ols {
    /// Creates `username` on `ols` with primary domain `<username>.example`.
    async fn create(&self, username: &str, package: &str) -> Account {
        self.gateway
            .accounts()
            .create_account(new_account(username, package))
            .await
            .expect("create account")
            .into_inner()
            .account
            .expect("account in reply")
    }

    /// Adds `domain` to `username` with the server's default PHP version.
    async fn add_domain(&self, username: &str, domain: &str) -> Result<(), Status> {
        self.gateway
            .domains()
            .add_domain(add_domain(username, domain))
            .await
            .map(drop)
    }

    async fn list_packages(&self, target: Option<Target>) -> Vec<Package> {
        self.gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target,
                ..Default::default()
            })
            .await
            .expect("list packages")
            .into_inner()
            .packages
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

    async fn check(&self) -> panelgate_proto::v1::CheckServerResponse {
        self.gateway
            .inventory()
            .check_server(CheckServerRequest {
                target: by_name(SERVER),
            })
            .await
            .expect("check server")
            .into_inner()
    }

    /// Panel package names, in id order.
    fn sim_package_names(&self) -> Vec<String> {
        self.sim.packages().into_iter().map(|p| p.name).collect()
    }
}

async fn start_sim() -> AdminApiSim {
    AdminApiSim::start(AdminApiConfig::default())
        .await
        .expect("start the admin_api simulator")
}

fn admin_credentials(password: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: "admin".to_owned(),
            password: password.to_owned(),
        })),
    }
}

/// Registers an admin_api server; returns its id.
async fn register(
    gateway: &Gateway,
    name: &str,
    base_url: &str,
    password: &str,
    default_php: Option<&str>,
) -> String {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: PanelKind::AdminApi.into(),
                base_url: base_url.to_owned(),
                defaults: default_php.map(|php| ServerDefaults {
                    php_version: php.to_owned(),
                }),
                ..Default::default()
            }),
            credentials: Some(admin_credentials(password)),
            request_id: String::new(),
        })
        .await
        .expect("register the admin_api server")
        .into_inner()
        .server
        .expect("server in reply")
        .id
}

/// Runs `body` on `backend` with `configure` applied to the gateway's config,
/// the simulator registered as `ols` with the right password and PHP 8.2.
async fn with_ols_on<F, Fut>(backend: Backend, configure: impl FnOnce(&mut Config), body: F)
where
    F: FnOnce(Ols) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let sim = start_sim().await;
    with_gateway(backend, configure, move |gateway| async move {
        let id = register(
            &gateway,
            SERVER,
            &sim.base_url(),
            ADMIN_PASSWORD,
            Some(DEFAULT_PHP),
        )
        .await;
        body(Ols { gateway, sim, id }).await;
    })
    .await;
}

/// [`with_ols_on`] on SQLite with the default config.
async fn with_ols<F, Fut>(body: F)
where
    F: FnOnce(Ols) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_ols_on(Backend::Sqlite, |_| {}, body).await;
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

fn add_domain(username: &str, domain: &str) -> AddDomainRequest {
    AddDomainRequest {
        target: by_name(SERVER),
        username: username.to_owned(),
        domain: domain.to_owned(),
        ..Default::default()
    }
}

fn create_database(username: &str, name: &str, user: &str) -> CreateDatabaseRequest {
    CreateDatabaseRequest {
        target: by_name(SERVER),
        username: username.to_owned(),
        database_name: name.to_owned(),
        database_user: user.to_owned(),
        database_password: "db-password-1".to_owned(),
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

/// Asserts a panel call failed with `code` and `reason`, with the server's
/// id, name and kind in ErrorInfo and its name in the message.
#[track_caller]
fn assert_panel_error<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    server_name: &str,
    server_id: &str,
) -> Status {
    let status = assert_error(result, code, reason);
    assert_eq!(metadata(&status, "server_id"), server_id, "{status:?}");
    assert_eq!(metadata(&status, "server_name"), server_name, "{status:?}");
    assert_eq!(metadata(&status, "panel_kind"), "admin_api", "{status:?}");
    assert!(
        status.message().contains(&format!("`{server_name}`")),
        "the message names the server: {}",
        status.message()
    );
    status
}

/// [`assert_panel_error`] on `ols`, with what the panel said.
#[track_caller]
fn assert_ols_error<T: std::fmt::Debug>(
    ols: &Ols,
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    upstream_message: &str,
) -> Status {
    let status = assert_panel_error(result, code, reason, SERVER, &ols.id);
    assert_eq!(
        metadata(&status, "upstream_message"),
        upstream_message,
        "upstream_message of: {status:?}"
    );
    status
}

/// The descriptions of the BadRequest violations of `field`.
fn violation(status: &Status, field: &str) -> String {
    status
        .get_details_bad_request()
        .into_iter()
        .flat_map(|bad| bad.field_violations)
        .filter(|violation| violation.field == field)
        .map(|violation| violation.description)
        .collect::<Vec<_>>()
        .join("; ")
}

// === account info: GetAccount, GetAccountUsage ===

/// GetAccount reads the panel's account info: main domain, email, package
/// name, full name and user id; the panel has no suspension flag, so the
/// status stays unspecified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_account_reads_the_panels_account_info() {
    with_ols(|ols| async move {
        ols.gateway
            .accounts()
            .create_account(CreateAccountRequest {
                first_name: "Bob".into(),
                last_name: "Builder".into(),
                ..new_account("bob", "Basic")
            })
            .await
            .expect("create bob");
        let sim_user = ols.sim.user("bob").expect("bob on the panel");

        let account = ols.get_account("bob").await.expect("get bob");
        assert_eq!(account.username, "bob");
        assert_eq!(account.server_id, ols.id);
        assert_eq!(account.primary_domain, "bob.example");
        assert_eq!(account.email, "bob@mail.example");
        assert_eq!(account.package, "Basic");
        assert_eq!(account.full_name, "Bob Builder");
        assert_eq!(account.panel_user_id, sim_user.id.to_string());
        assert_eq!(account.status(), AccountStatus::Unspecified);

        // By id as by name.
        let by_server_id = ols
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_id(&ols.id),
                username: "bob".into(),
            })
            .await
            .expect("get bob by server id")
            .into_inner()
            .account
            .expect("account in reply");
        assert_eq!(by_server_id, account);

        let missing = ols.get_account("nobody").await;
        assert_ols_error(
            &ols,
            missing,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "User not found",
        );
    })
    .await;
}

/// GetAccountUsage turns the panel's "1GB" / "1.5 MB" / "48 KB" / "Unlimited"
/// into bytes, counts and absent maxima, and follows the account's package
/// and databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_usage_is_reported_in_bytes_and_counts() {
    with_ols(|ols| async move {
        ols.create("uma", "Basic").await;

        // Basic: 1024 MB ("1GB"), 2 domains, everything else unlimited; one
        // domain of simulated files ("1.5 MB"), no database ("0 Bytes").
        let usage = ols.usage("uma").await;
        assert_eq!(usage.disk_bytes, used(1536 * 1024, limit(GIB)));
        assert_eq!(usage.email_disk_bytes, used(0, None));
        assert_eq!(usage.database_disk_bytes, used(0, None));
        assert_eq!(usage.bandwidth_bytes, used(0, unlimited()));
        assert_eq!(usage.email_accounts, used(0, unlimited()));
        assert_eq!(usage.databases, used(0, unlimited()));
        assert_eq!(usage.ftp_accounts, used(1, unlimited()));
        assert_eq!(usage.domains, used(1, limit(2)));
        assert_eq!(usage.inodes, None);

        // A package with every limit set ("1536MB", "10000MB", counts), and a
        // database ("48 KB"; the disk total becomes "1.55 MB").
        ols.gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: by_name(SERVER),
                name: "Gold".into(),
                limits: Some(PackageLimits {
                    disk_mib: limit(1536),
                    bandwidth_mib: limit(10_000),
                    email_accounts: limit(10),
                    databases: limit(5),
                    ftp_accounts: limit(3),
                    domains: limit(4),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("create package Gold");
        ols.gateway
            .accounts()
            .change_package(ChangePackageRequest {
                target: by_name(SERVER),
                username: "uma".into(),
                package: "Gold".into(),
                ..Default::default()
            })
            .await
            .expect("move uma to Gold");
        ols.gateway
            .databases()
            .create_database(create_database("uma", "shop", "shopuser"))
            .await
            .expect("create a database");

        let usage = ols.usage("uma").await;
        // "1.55 MB" is the panel's rounding of 1.5 MiB + 48 KiB.
        assert_eq!(
            usage.disk_bytes,
            used((1.55 * MIB as f64).round() as u64, limit(1536 * MIB))
        );
        assert_eq!(usage.database_disk_bytes, used(48 * 1024, None));
        assert_eq!(usage.bandwidth_bytes, used(0, limit(10_000 * MIB)));
        assert_eq!(usage.email_accounts, used(0, limit(10)));
        assert_eq!(usage.databases, used(1, limit(5)));
        assert_eq!(usage.ftp_accounts, used(1, limit(3)));
        assert_eq!(usage.domains, used(1, limit(4)));
    })
    .await;
}

// === add_user: CreateAccount ===

/// CreateAccount with the package by name sends the package's panel id, the
/// caller's first and last names and the PHP version of the options.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_by_package_name_sends_names_and_php_version() {
    with_ols(|ols| async move {
        let created = ols
            .gateway
            .accounts()
            .create_account(CreateAccountRequest {
                first_name: "Carol".into(),
                last_name: "Danvers".into(),
                panel_options: Some(create_account_request::PanelOptions::AdminApi(
                    AdminApiAccountOptions {
                        php_version: "8.1".into(),
                    },
                )),
                ..new_account("carol", "Basic")
            })
            .await
            .expect("create carol")
            .into_inner()
            .account
            .expect("account in reply");

        let user = ols.sim.user("carol").expect("carol on the panel");
        assert_eq!(user.pkg_id, "1", "Basic is panel package 1");
        assert_eq!(
            (user.first_name.as_str(), user.last_name.as_str()),
            ("Carol", "Danvers")
        );
        assert_eq!(user.email, "carol@mail.example");
        assert_eq!(user.password, "first-password-1");
        assert!(user.active);
        assert_eq!(user.domains, vec!["carol.example".to_owned()]);
        let domain = ols.sim.domain("carol.example").expect("primary domain");
        assert_eq!(domain.owner, "carol");
        assert_eq!(domain.php_version, "8.1");
        assert_eq!(domain.path, "/home/carol/public_html");

        assert_eq!(created.username, "carol");
        assert_eq!(created.server_id, ols.id);
        assert_eq!(created.primary_domain, "carol.example");
        assert_eq!(created.package, "Basic");
        assert_eq!(created.full_name, "Carol Danvers");
        assert_eq!(created.status(), AccountStatus::Active);
        assert_eq!(created.panel_user_id, user.id.to_string());
    })
    .await;
}

/// CreateAccount with the panel's package id "2" creates the account on
/// Premium (and says so by name); without names the adapter sends the
/// username and "-", and without options the server's PHP version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_by_panel_package_id() {
    with_ols(|ols| async move {
        let created = ols.create("dan", "2").await;
        assert_eq!(created.package, "Premium");

        let user = ols.sim.user("dan").expect("dan on the panel");
        assert_eq!(user.pkg_id, "2");
        assert_eq!(
            (user.first_name.as_str(), user.last_name.as_str()),
            ("dan", "-")
        );
        let domain = ols.sim.domain("dan.example").expect("primary domain");
        assert_eq!(domain.php_version, DEFAULT_PHP);

        let account = ols.get_account("dan").await.expect("get dan");
        assert_eq!(account.package, "Premium");
    })
    .await;
}

// === suspend_user: SuspendAccount, UnsuspendAccount, DeleteAccount ===

/// Suspend and unsuspend flip the user's state on the panel, and may be
/// repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspend_and_unsuspend_change_the_panel_state() {
    with_ols(|ols| async move {
        ols.create("erin", "Basic").await;
        let mut accounts = ols.gateway.accounts();
        for _ in 0..2 {
            accounts
                .suspend_account(SuspendAccountRequest {
                    target: by_name(SERVER),
                    username: "erin".into(),
                    reason: "unpaid".into(),
                    ..Default::default()
                })
                .await
                .expect("suspend");
            assert!(!ols.sim.user("erin").expect("erin").active, "suspended");
        }
        accounts
            .unsuspend_account(UnsuspendAccountRequest {
                target: by_name(SERVER),
                username: "erin".into(),
                ..Default::default()
            })
            .await
            .expect("unsuspend");
        assert!(ols.sim.user("erin").expect("erin").active, "active again");
    })
    .await;
}

/// DeleteAccount removes a suspended account, and an active one too: the
/// panel refuses to delete an active user, so the adapter suspends it first.
/// The account's domains and databases go with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_suspended_and_active_accounts() {
    with_ols(|ols| async move {
        ols.create("fay", "Basic").await;
        ols.create("gus", "Basic").await;
        ols.gateway
            .databases()
            .create_database(create_database("gus", "shop", "shopuser"))
            .await
            .expect("database for gus");
        let mut accounts = ols.gateway.accounts();
        accounts
            .suspend_account(SuspendAccountRequest {
                target: by_name(SERVER),
                username: "fay".into(),
                ..Default::default()
            })
            .await
            .expect("suspend fay");

        for username in ["fay", "gus"] {
            accounts
                .delete_account(DeleteAccountRequest {
                    target: by_name(SERVER),
                    username: username.into(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|status| panic!("delete {username}: {status:?}"));
            assert_eq!(
                ols.sim.user(username),
                None,
                "{username} gone from the panel"
            );
            assert_eq!(
                ols.sim.domain(&format!("{username}.example")),
                None,
                "{username}'s domain gone"
            );
        }

        let again = accounts
            .delete_account(DeleteAccountRequest {
                target: by_name(SERVER),
                username: "gus".into(),
                ..Default::default()
            })
            .await;
        assert_ols_error(
            &ols,
            again,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "User 'gus' does not exist.",
        );
    })
    .await;
}

// === update_user: UpdateAccount, ChangePassword, ChangePackage ===

/// UpdateAccount changes email, first and last name on the panel and leaves
/// the password and package alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_account_changes_email_and_names_only() {
    with_ols(|ols| async move {
        ols.create("hal", "Basic").await;
        ols.gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target: by_name(SERVER),
                username: "hal".into(),
                email: Some("hal@new.example".into()),
                first_name: Some("Hal".into()),
                last_name: Some("Jordan".into()),
                ..Default::default()
            })
            .await
            .expect("update hal");

        let user = ols.sim.user("hal").expect("hal");
        assert_eq!(user.email, "hal@new.example");
        assert_eq!(
            (user.first_name.as_str(), user.last_name.as_str()),
            ("Hal", "Jordan")
        );
        assert_eq!(user.password, "first-password-1", "password untouched");
        assert_eq!(user.pkg_id, "1", "package untouched");

        // One field alone changes only that field.
        ols.gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target: by_name(SERVER),
                username: "hal".into(),
                last_name: Some("Smith".into()),
                ..Default::default()
            })
            .await
            .expect("update hal's last name");
        let user = ols.sim.user("hal").expect("hal");
        assert_eq!(
            (
                user.first_name.as_str(),
                user.last_name.as_str(),
                user.email.as_str()
            ),
            ("Hal", "Smith", "hal@new.example")
        );
        let account = ols.get_account("hal").await.expect("get hal");
        assert_eq!(account.full_name, "Hal Smith");
        assert_eq!(account.email, "hal@new.example");
    })
    .await;
}

/// ChangePassword sets the panel password; ChangePackage moves the account
/// by package name and by panel id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_password_and_package_reach_the_panel() {
    with_ols(|ols| async move {
        ols.create("ivy", "Basic").await;
        let mut accounts = ols.gateway.accounts();
        accounts
            .change_password(ChangePasswordRequest {
                target: by_name(SERVER),
                username: "ivy".into(),
                password: "second-password-2".into(),
                ..Default::default()
            })
            .await
            .expect("change password");
        assert_eq!(
            ols.sim.user("ivy").expect("ivy").password,
            "second-password-2"
        );

        for (package, pkg_id, name) in [("Premium", "2", "Premium"), ("1", "1", "Basic")] {
            accounts
                .change_package(ChangePackageRequest {
                    target: by_name(SERVER),
                    username: "ivy".into(),
                    package: package.into(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|status| panic!("change package to {package}: {status:?}"));
            assert_eq!(ols.sim.user("ivy").expect("ivy").pkg_id, pkg_id);
            assert_eq!(ols.get_account("ivy").await.expect("get ivy").package, name);
        }
    })
    .await;
}

/// admin_api cannot change a primary domain: UpdateAccount with one is
/// INVALID_ARGUMENT on `primary_domain`, with no panel call, and the other
/// fields of the same request are not applied either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_domain_cannot_change_on_admin_api() {
    with_ols(|ols| async move {
        ols.create("jay", "Basic").await;
        let before = ols.sim.request_count();
        let refused = ols
            .gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target: by_name(SERVER),
                username: "jay".into(),
                email: Some("jay@new.example".into()),
                primary_domain: Some("jay.example.org".into()),
                ..Default::default()
            })
            .await;
        let status = assert_invalid(refused, "primary_domain");
        assert_eq!(metadata(&status, "server_id"), ols.id);
        assert!(status.message().contains("`ols`"), "{}", status.message());
        assert_eq!(ols.sim.request_count(), before, "no panel call");
        let user = ols.sim.user("jay").expect("jay");
        assert_eq!(user.email, "jay@mail.example");
        assert_eq!(user.domains, vec!["jay.example".to_owned()]);
    })
    .await;
}

// === packages_list, new_package: ListPackages, CreatePackage ===

/// ListPackages gives the panel's ids, names and disk sizes (MiB); the panel
/// reports no other limit, so those stay unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_packages_reports_ids_names_and_disk() {
    with_ols(|ols| async move {
        let packages = ols.list_packages(by_name(SERVER)).await;
        let expected = [("1", "Basic", 1024), ("2", "Premium", 5120)];
        assert_eq!(packages.len(), expected.len(), "{packages:?}");
        for (package, (id, name, disk)) in packages.iter().zip(expected) {
            assert_eq!((package.id.as_str(), package.name.as_str()), (id, name));
            assert_eq!(
                package.limits,
                Some(PackageLimits {
                    disk_mib: limit(disk),
                    ..Default::default()
                })
            );
        }
    })
    .await;
}

/// ListPackages pages with page_size and next_page_token, all pages cut from
/// one cached panel list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_packages_pages_through_one_cached_list() {
    with_ols(|ols| async move {
        let before = ols.sim.request_count();
        let mut client = ols.gateway.packages();
        let first = client
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                page_size: 1,
                page_token: String::new(),
            })
            .await
            .expect("first page")
            .into_inner();
        assert_eq!(names(&first.packages), ["Basic"]);
        assert!(!first.next_page_token.is_empty(), "a second page follows");

        let second = client
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                page_size: 1,
                page_token: first.next_page_token,
            })
            .await
            .expect("second page")
            .into_inner();
        assert_eq!(names(&second.packages), ["Premium"]);
        assert_eq!(second.next_page_token, "", "the last page");
        assert_eq!(
            ols.sim.request_count() - before,
            1,
            "one packages_list call"
        );
    })
    .await;
}

fn names(packages: &[Package]) -> Vec<&str> {
    packages
        .iter()
        .map(|package| package.name.as_str())
        .collect()
}

/// CreatePackage sends every limit (unlimited as 0) and the disk-limit
/// option; the panel stores them, and ListPackages shows the new package at
/// once although the list was cached just before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_package_stores_limits_and_refreshes_the_list() {
    with_ols(|ols| async move {
        assert_eq!(
            names(&ols.list_packages(by_name(SERVER)).await),
            ["Basic", "Premium"]
        );
        let limits = PackageLimits {
            disk_mib: limit(2048),
            bandwidth_mib: limit(10_000),
            email_accounts: limit(10),
            databases: limit(5),
            ftp_accounts: limit(3),
            domains: limit(4),
            subdomains: unlimited(),
            inodes: None,
        };
        let created = ols
            .gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: by_name(SERVER),
                name: "Gold".into(),
                limits: Some(limits),
                panel_options: Some(create_package_request::PanelOptions::AdminApi(
                    AdminApiPackageOptions {
                        enforce_disk_limit: true,
                    },
                )),
                ..Default::default()
            })
            .await
            .expect("create package")
            .into_inner()
            .package
            .expect("package in reply");
        assert_eq!((created.id.as_str(), created.name.as_str()), ("3", "Gold"));
        assert_eq!(created.limits, Some(limits));

        let stored = ols.sim.packages().into_iter().find(|p| p.name == "Gold");
        assert_eq!(
            stored,
            Some(SimPackage {
                id: 3,
                name: "Gold".into(),
                disk_space_mb: 2048,
                bandwidth_mb: 10_000,
                email_accounts: 10,
                databases: 5,
                ftp_accounts: 3,
                allowed_domains: 4,
                allowed_subdomains: 0,
                limit_action: true,
            })
        );

        let listed = ols.list_packages(by_name(SERVER)).await;
        assert_eq!(names(&listed), ["Basic", "Premium", "Gold"]);
        assert_eq!(listed[2].id, "3");
        assert_eq!(listed[2].limits.and_then(|l| l.disk_mib), limit(2048));
    })
    .await;
}

/// A limit the panel cannot express (max 0: the panel reads 0 as unlimited;
/// inodes: it has none) is INVALID_ARGUMENT on that limit, with no panel call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_package_refuses_limits_the_panel_cannot_express() {
    with_ols(|ols| async move {
        let before = ols.sim.request_count();
        let cases = [
            (
                "limits.databases",
                PackageLimits {
                    disk_mib: limit(2048),
                    databases: limit(0),
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
            (
                "limits.inodes",
                PackageLimits {
                    inodes: limit(100_000),
                    ..Default::default()
                },
            ),
        ];
        for (field, limits) in cases {
            let refused = ols
                .gateway
                .packages()
                .create_package(CreatePackageRequest {
                    target: by_name(SERVER),
                    name: "Zero".into(),
                    limits: Some(limits),
                    ..Default::default()
                })
                .await;
            let status = assert_invalid(refused, field);
            assert_eq!(metadata(&status, "server_id"), ols.id);
        }
        assert_eq!(ols.sim.request_count(), before, "no panel call");
        assert_eq!(ols.sim_package_names(), ["Basic", "Premium"]);
    })
    .await;
}

/// A package name the panel has already → ALREADY_EXISTS PACKAGE_ALREADY_EXISTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_package_is_already_exists() {
    with_ols(|ols| async move {
        let again = ols
            .gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: by_name(SERVER),
                name: "Premium".into(),
                ..Default::default()
            })
            .await;
        assert_ols_error(
            &ols,
            again,
            Code::AlreadyExists,
            "PACKAGE_ALREADY_EXISTS",
            "A package with the same name already exists.",
        );
        assert_eq!(ols.sim_package_names(), ["Basic", "Premium"]);
    })
    .await;
}

// === add_domain, issue_ssl: AddDomain, IssueCertificate ===

/// AddDomain sends the PHP version of the options and the document root as
/// the panel's `path`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_domain_with_php_option_and_document_root() {
    with_ols(|ols| async move {
        ols.create("kim", "Premium").await;
        let domain = ols
            .gateway
            .domains()
            .add_domain(AddDomainRequest {
                document_root: "shop/public".into(),
                panel_options: Some(add_domain_request::PanelOptions::AdminApi(
                    AdminApiDomainOptions {
                        php_version: "8.3".into(),
                    },
                )),
                ..add_domain("kim", "Shop.Kim.Example")
            })
            .await
            .expect("add domain")
            .into_inner()
            .domain
            .expect("domain in reply");
        assert_eq!(domain.name, "shop.kim.example");
        assert_eq!(domain.username, "kim");
        assert_eq!(domain.document_root, "shop/public");
        assert_eq!(domain.status(), DomainStatus::Active);

        let stored = ols.sim.domain("shop.kim.example").expect("on the panel");
        assert_eq!(stored.owner, "kim");
        assert_eq!(stored.php_version, "8.3");
        assert_eq!(stored.path, "/home/kim/shop/public");
        assert_eq!(domain.panel_domain_id, stored.id.to_string());
        assert_eq!(
            ols.sim.user("kim").expect("kim").domains,
            ["kim.example", "shop.kim.example"]
        );
    })
    .await;
}

/// AddDomain without options takes the server's default PHP version, and
/// without a document root the panel's `public_html`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_domain_takes_the_servers_default_php_version() {
    with_ols(|ols| async move {
        ols.create("lee", "Premium").await;
        ols.add_domain("lee", "blog.lee.example")
            .await
            .expect("add domain");
        let stored = ols.sim.domain("blog.lee.example").expect("on the panel");
        assert_eq!(stored.owner, "lee");
        assert_eq!(stored.php_version, DEFAULT_PHP);
        assert_eq!(stored.path, "/home/lee/public_html");
    })
    .await;
}

/// With neither a PHP version in the options nor a server default, AddDomain
/// and CreateAccount are INVALID_ARGUMENT on the option, before any panel call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_version_is_required_without_a_server_default() {
    let sim = start_sim().await;
    with_gateway(
        Backend::Sqlite,
        |_| {},
        move |gateway| async move {
            register(&gateway, "bare", &sim.base_url(), ADMIN_PASSWORD, None).await;
            let before = sim.request_count();
            let refused = gateway
                .domains()
                .add_domain(AddDomainRequest {
                    target: by_name("bare"),
                    ..add_domain("mo", "shop.mo.example")
                })
                .await;
            assert_invalid(refused, "panel_options.admin_api.php_version");
            assert_eq!(sim.request_count(), before, "no panel call");

            let refused = gateway
                .accounts()
                .create_account(CreateAccountRequest {
                    target: by_name("bare"),
                    ..new_account("mo", "Basic")
                })
                .await;
            assert_invalid(refused, "panel_options.admin_api.php_version");
            assert_eq!(sim.user("mo"), None, "no add_user call");
        },
    )
    .await;
}

/// IssueCertificate asks the panel for a certificate of an existing domain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_certificate_marks_the_domain_ssl() {
    with_ols(|ols| async move {
        ols.create("max", "Basic").await;
        assert!(!ols.sim.domain("max.example").expect("domain").has_ssl);
        let certificate = ols
            .gateway
            .certificates()
            .issue_certificate(IssueCertificateRequest {
                target: by_name(SERVER),
                domain: "max.example".into(),
                ..Default::default()
            })
            .await
            .expect("issue certificate")
            .into_inner()
            .certificate
            .expect("certificate in reply");
        assert_eq!(certificate.domain, "max.example");
        assert!(ols.sim.domain("max.example").expect("domain").has_ssl);
    })
    .await;
}

// === database_add, sso_login: CreateDatabase, CreateLoginLink ===

/// CreateDatabase makes a database and its user, which the panel prefixes
/// with the account name; the reply gives the names as requested.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_database_prefixes_names_with_the_account() {
    with_ols(|ols| async move {
        ols.create("ned", "Basic").await;
        let database = ols
            .gateway
            .databases()
            .create_database(create_database("ned", "shop", "shopuser"))
            .await
            .expect("create database")
            .into_inner()
            .database
            .expect("database in reply");
        assert_eq!(
            (
                database.name.as_str(),
                database.user.as_str(),
                database.username.as_str()
            ),
            ("shop", "shopuser", "ned")
        );
        let user = ols.sim.user("ned").expect("ned");
        assert_eq!(user.databases, ["ned_shop"]);
        assert_eq!(user.db_users, ["ned_shopuser"]);
    })
    .await;
}

/// CreateLoginLink returns the panel's SSO URL, a fresh token every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_is_the_panels_sso_url() {
    with_ols(|ols| async move {
        ols.create("ola", "Basic").await;
        let mut links = Vec::new();
        for _ in 0..2 {
            let link = ols
                .gateway
                .accounts()
                .create_login_link(CreateLoginLinkRequest {
                    target: by_name(SERVER),
                    username: "ola".into(),
                })
                .await
                .expect("login link")
                .into_inner();
            let prefix = format!("{}/login/?token=", ols.sim.base_url());
            assert!(
                link.url.starts_with(&prefix),
                "{} starts with {prefix}",
                link.url
            );
            assert!(link.url.len() > prefix.len(), "a token: {}", link.url);
            links.push(link.url);
        }
        assert_ne!(links[0], links[1], "a fresh token per link");

        let missing = ols
            .gateway
            .accounts()
            .create_login_link(CreateLoginLinkRequest {
                target: by_name(SERVER),
                username: "nobody".into(),
            })
            .await;
        assert_ols_error(
            &ols,
            missing,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "User with username 'nobody' not found.",
        );
    })
    .await;
}

// === documented errors: credentials and the API switch ===

/// A wrong admin password → FAILED_PRECONDITION PANEL_CREDENTIALS_REJECTED on
/// every call, and CheckServer reports it; UpdateServer with the right
/// password makes calls work, and a wrong one again makes them fail (the
/// adapter built with the old credentials is dropped on update).
async fn wrong_admin_password_until_updated(backend: Backend) {
    let sim = start_sim().await;
    with_gateway(
        backend,
        |_| {},
        move |gateway| async move {
            let id = register(
                &gateway,
                SERVER,
                &sim.base_url(),
                "wrong-secret",
                Some(DEFAULT_PHP),
            )
            .await;
            let mut accounts = gateway.accounts();
            let check = |gateway: Gateway| async move {
                gateway
                    .inventory()
                    .check_server(CheckServerRequest {
                        target: by_name(SERVER),
                    })
                    .await
                    .expect("check server")
                    .into_inner()
            };

            let got = accounts
                .get_account(GetAccountRequest {
                    target: by_name(SERVER),
                    username: "pam".into(),
                })
                .await;
            let status = assert_panel_error(
                got,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
                SERVER,
                &id,
            );
            assert_eq!(metadata(&status, "upstream_message"), "Invalid credentials");
            assert!(
                !status.message().contains("wrong-secret"),
                "{}",
                status.message()
            );
            let created = accounts.create_account(new_account("pam", "Basic")).await;
            assert_panel_error(
                created,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
                SERVER,
                &id,
            );
            assert_eq!(sim.user("pam"), None);

            let checked = check(gateway.clone()).await;
            assert!(!checked.healthy);
            assert_eq!(checked.error_reason, "PANEL_CREDENTIALS_REJECTED");
            assert!(
                checked.error_message.contains("`ols`"),
                "{}",
                checked.error_message
            );

            let update = |password: &str| UpdateServerRequest {
                target: by_name(SERVER),
                credentials: Some(admin_credentials(password)),
                ..Default::default()
            };
            gateway
                .inventory()
                .update_server(update(ADMIN_PASSWORD))
                .await
                .expect("set the right password");
            let checked = check(gateway.clone()).await;
            assert!(checked.healthy, "{checked:?}");
            assert_eq!(checked.error_reason, "");
            accounts
                .create_account(new_account("pam", "Basic"))
                .await
                .expect("create with the right password");
            assert!(sim.user("pam").is_some());

            gateway
                .inventory()
                .update_server(update("wrong-again"))
                .await
                .expect("set a wrong password");
            let got = accounts
                .get_account(GetAccountRequest {
                    target: by_name(SERVER),
                    username: "pam".into(),
                })
                .await;
            assert_panel_error(
                got,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
                SERVER,
                &id,
            );
        },
    )
    .await;
}

/// [`wrong_admin_password_until_updated`] on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_admin_password_until_updated_sqlite() {
    wrong_admin_password_until_updated(Backend::Sqlite).await;
}

/// [`wrong_admin_password_until_updated`] on PostgreSQL (credentials are
/// sealed in and read back from the inventory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_admin_password_until_updated_postgres() {
    wrong_admin_password_until_updated(Backend::Postgres).await;
}

/// The panel's API switch off → FAILED_PRECONDITION PANEL_API_DISABLED, for
/// calls and for CheckServer; switched on, calls work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_api_is_failed_precondition() {
    with_ols(|ols| async move {
        ols.create("quin", "Basic").await;
        ols.sim.set_api_enabled(false);
        let got = ols.get_account("quin").await;
        assert_ols_error(
            &ols,
            got,
            Code::FailedPrecondition,
            "PANEL_API_DISABLED",
            "API is currently disabled",
        );
        let checked = ols.check().await;
        assert!(!checked.healthy);
        assert_eq!(checked.error_reason, "PANEL_API_DISABLED");

        ols.sim.set_api_enabled(true);
        assert_eq!(
            ols.get_account("quin").await.expect("get quin").username,
            "quin"
        );
        assert!(ols.check().await.healthy);
    })
    .await;
}

// === documented errors: domains and certificates ===

/// Basic allows 2 domains, the primary one included: the third is
/// RESOURCE_EXHAUSTED LIMIT_REACHED and not created; on Premium it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_limit_of_the_package_is_resource_exhausted() {
    with_ols(|ols| async move {
        ols.create("rae", "Basic").await;
        ols.add_domain("rae", "two.rae.example")
            .await
            .expect("second domain");
        let third = ols.add_domain("rae", "three.rae.example").await;
        assert_ols_error(
            &ols,
            third,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            "Domain add limit exceeded.",
        );
        assert_eq!(ols.sim.domain("three.rae.example"), None);
        assert_eq!(ols.sim.user("rae").expect("rae").domains.len(), 2);

        ols.gateway
            .accounts()
            .change_package(ChangePackageRequest {
                target: by_name(SERVER),
                username: "rae".into(),
                package: "Premium".into(),
                ..Default::default()
            })
            .await
            .expect("move rae to Premium");
        ols.add_domain("rae", "three.rae.example")
            .await
            .expect("third domain on Premium");
        assert!(ols.sim.domain("three.rae.example").is_some());
    })
    .await;
}

/// AddDomain of a domain the panel has (any owner) → ALREADY_EXISTS
/// DOMAIN_ALREADY_EXISTS; the domain keeps its owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_domain_is_already_exists() {
    with_ols(|ols| async move {
        ols.create("sam", "Premium").await;
        ols.create("tia", "Premium").await;
        for (username, domain) in [("sam", "sam.example"), ("tia", "sam.example")] {
            let again = ols.add_domain(username, domain).await;
            assert_ols_error(
                &ols,
                again,
                Code::AlreadyExists,
                "DOMAIN_ALREADY_EXISTS",
                "The domain 'sam.example' already exists.",
            );
        }
        assert_eq!(ols.sim.domain("sam.example").expect("domain").owner, "sam");
        assert_eq!(ols.sim.user("tia").expect("tia").domains, ["tia.example"]);
    })
    .await;
}

/// AddDomain for a user the panel lacks (the server named explicitly) →
/// NOT_FOUND ACCOUNT_NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_domain_for_unknown_account_is_not_found() {
    with_ols(|ols| async move {
        let missing = ols.add_domain("ghost", "ghost.example").await;
        assert_ols_error(
            &ols,
            missing,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "User 'ghost' not found.",
        );
        assert_eq!(ols.sim.domain("ghost.example"), None);
    })
    .await;
}

/// IssueCertificate for a domain the panel lacks → NOT_FOUND DOMAIN_NOT_FOUND.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_for_unknown_domain_is_not_found() {
    with_ols(|ols| async move {
        let missing = ols
            .gateway
            .certificates()
            .issue_certificate(IssueCertificateRequest {
                target: by_name(SERVER),
                domain: "nowhere.example".into(),
                ..Default::default()
            })
            .await;
        assert_ols_error(
            &ols,
            missing,
            Code::NotFound,
            "DOMAIN_NOT_FOUND",
            "Domain 'nowhere.example' not found.",
        );
    })
    .await;
}

/// The panel's internal add_domain failures (listener mapping, virtual host,
/// folder permissions) → INTERNAL UPSTREAM_OPERATION_FAILED with the panel's
/// words; the domain is not there, and the next try works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_failures_adding_a_domain_are_upstream_operation_failed() {
    with_ols(|ols| async move {
        ols.create("uli", "Premium").await;
        let domain = "shop.uli.example";
        for message in [
            format!("Failed to add mapping for '{domain}'."),
            format!("Failed to add virtual host for '{domain}'."),
            format!("Failed to set folder permissions for '{domain}'."),
        ] {
            ols.sim.fail_next("add_domain", &message);
            let failed = ols.add_domain("uli", domain).await;
            assert_ols_error(
                &ols,
                failed,
                Code::Internal,
                "UPSTREAM_OPERATION_FAILED",
                &message,
            );
            assert_eq!(ols.sim.domain(domain), None, "after: {message}");
        }
        ols.add_domain("uli", domain).await.expect("the next try");
        assert!(ols.sim.domain(domain).is_some());
    })
    .await;
}

/// issue_ssl failing on the panel → FAILED_PRECONDITION CERTIFICATE_NOT_ISSUED
/// with the panel's words; the domain has no certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_ssl_issue_is_certificate_not_issued() {
    with_ols(|ols| async move {
        ols.create("val", "Basic").await;
        ols.sim
            .fail_next("issue_ssl", "Failed to issue SSL for 'val.example'.");
        let failed = ols
            .gateway
            .certificates()
            .issue_certificate(IssueCertificateRequest {
                target: by_name(SERVER),
                domain: "val.example".into(),
                ..Default::default()
            })
            .await;
        assert_ols_error(
            &ols,
            failed,
            Code::FailedPrecondition,
            "CERTIFICATE_NOT_ISSUED",
            "Failed to issue SSL for 'val.example'.",
        );
        assert!(!ols.sim.domain("val.example").expect("domain").has_ssl);
    })
    .await;
}

// === documented errors: databases ===

/// database_add passing a failure of its database layer through → INTERNAL
/// UPSTREAM_OPERATION_FAILED with the panel's words; nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_creation_failure_is_upstream_operation_failed() {
    with_ols(|ols| async move {
        ols.create("wes", "Basic").await;
        let message = "Some error message from database creation function";
        ols.sim.fail_next("database_add", message);
        let failed = ols
            .gateway
            .databases()
            .create_database(create_database("wes", "shop", "shopuser"))
            .await;
        assert_ols_error(
            &ols,
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            message,
        );
        let user = ols.sim.user("wes").expect("wes");
        assert!(
            user.databases.is_empty() && user.db_users.is_empty(),
            "{user:?}"
        );
    })
    .await;
}

/// A database or database user the account has already: the panel passes
/// MySQL's error through, the caller gets it as an error, and nothing is
/// half-made (no second database, no stray user).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_database_is_refused_and_nothing_half_made() {
    with_ols(|ols| async move {
        ols.create("xia", "Basic").await;
        ols.gateway
            .databases()
            .create_database(create_database("xia", "shop", "shopuser"))
            .await
            .expect("first database");
        let cases = [
            (
                create_database("xia", "shop", "otheruser"),
                "DATABASE_ALREADY_EXISTS",
                "(1007, \"Can't create database 'xia_shop'; database exists\")",
            ),
            (
                create_database("xia", "blog", "shopuser"),
                "DATABASE_USER_ALREADY_EXISTS",
                "(1396, \"Operation CREATE USER failed for 'xia_shopuser'@'localhost'\")",
            ),
        ];
        for (request, reason, mysql_error) in cases {
            let again = ols.gateway.databases().create_database(request).await;
            // MySQL's error passed through by the panel, read for what it means.
            assert_ols_error(&ols, again, Code::AlreadyExists, reason, mysql_error);
            let user = ols.sim.user("xia").expect("xia");
            assert_eq!(user.databases, ["xia_shop"]);
            assert_eq!(user.db_users, ["xia_shopuser"]);
        }
    })
    .await;
}

// === documented errors: half-created users and packages ===

/// The panel saves a new user before it creates the primary domain: a
/// CreateAccount whose domain belongs to another account is ALREADY_EXISTS
/// DOMAIN_ALREADY_EXISTS, the adapter removes the half-made user (so it is
/// neither on the panel nor indexed), the other account keeps its domain,
/// and a retry with a free domain succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_account_on_a_taken_domain_leaves_no_half_created_user() {
    with_ols(|ols| async move {
        ols.create("yan", "Basic").await;
        let mut accounts = ols.gateway.accounts();
        let taken = accounts
            .create_account(CreateAccountRequest {
                primary_domain: "yan.example".into(),
                ..new_account("zed", "Basic")
            })
            .await;
        assert_ols_error(
            &ols,
            taken,
            Code::AlreadyExists,
            "DOMAIN_ALREADY_EXISTS",
            "The domain 'yan.example' already exists.",
        );
        assert_eq!(ols.sim.user("zed"), None, "the half-made user is removed");
        assert_eq!(ols.sim.domain("yan.example").expect("domain").owner, "yan");
        assert_eq!(ols.sim.user("yan").expect("yan").domains, ["yan.example"]);
        let indexed = accounts
            .get_account(GetAccountRequest {
                target: None,
                username: "zed".into(),
            })
            .await;
        assert_error(indexed, Code::NotFound, "ACCOUNT_NOT_INDEXED");

        let retried = ols.create("zed", "Basic").await;
        assert_eq!(retried.primary_domain, "zed.example");
        let user = ols.sim.user("zed").expect("zed on the panel");
        assert_eq!(user.domains, ["zed.example"]);
    })
    .await;
}

/// add_user failing after it saved the user ("Domain creation failed
/// message") → INTERNAL UPSTREAM_OPERATION_FAILED, and the adapter removes the
/// half-made user so that a retry is not refused as a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_failure_inside_add_user_leaves_no_half_created_user() {
    with_ols(|ols| async move {
        ols.sim
            .fail_next("add_user", "Domain creation failed message");
        let failed = ols
            .gateway
            .accounts()
            .create_account(new_account("abe", "Basic"))
            .await;
        assert_ols_error(
            &ols,
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            "Domain creation failed message",
        );
        assert_eq!(ols.sim.user("abe"), None, "the half-made user is removed");
        ols.create("abe", "Basic").await;
        assert_eq!(ols.sim.user("abe").expect("abe").domains, ["abe.example"]);
    })
    .await;
}

/// CreateAccount with a package the server lacks → INVALID_ARGUMENT on
/// `package`, naming the server's packages; the list is reloaded once (a
/// miss) and add_user is never called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_package_is_invalid_and_lists_the_servers_packages() {
    with_ols(|ols| async move {
        ols.list_packages(by_name(SERVER)).await;
        let before = ols.sim.request_count();
        let refused = ols
            .gateway
            .accounts()
            .create_account(new_account("bea", "Platinum"))
            .await;
        let status = assert_invalid(refused, "package");
        let description = violation(&status, "package");
        for expected in ["Platinum", "`ols`", "Basic, Premium"] {
            assert!(
                description.contains(expected),
                "{expected} in: {description}"
            );
        }
        assert_eq!(
            ols.sim.request_count() - before,
            1,
            "one reload of the package list, no add_user"
        );
        assert_eq!(ols.sim.user("bea"), None);
    })
    .await;
}

/// A package made on the panel outside this server entry's view (through a
/// second server entry for the same panel) is found by CreateAccount on first
/// use although `ols`'s list is cached: a miss reloads the list once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_made_outside_panelgate_is_found_on_first_use() {
    with_ols(|ols| async move {
        assert_eq!(
            names(&ols.list_packages(by_name(SERVER)).await),
            ["Basic", "Premium"]
        );
        register(
            &ols.gateway,
            "ols-b",
            &ols.sim.base_url(),
            ADMIN_PASSWORD,
            Some(DEFAULT_PHP),
        )
        .await;
        ols.gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: by_name("ols-b"),
                name: "Gold".into(),
                limits: Some(PackageLimits {
                    disk_mib: limit(2048),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("create Gold through ols-b");
        assert_eq!(ols.sim_package_names(), ["Basic", "Premium", "Gold"]);
        assert_eq!(
            names(&ols.list_packages(by_name(SERVER)).await),
            ["Basic", "Premium"],
            "ols's list is still the cached one"
        );

        let created = ols.create("cal", "Gold").await;
        assert_eq!(created.package, "Gold");
        assert_eq!(ols.sim.user("cal").expect("cal").pkg_id, "3");
        assert_eq!(
            names(&ols.list_packages(by_name(SERVER)).await),
            ["Basic", "Premium", "Gold"],
            "the reload refreshed ols's list"
        );
    })
    .await;
}

// === faults ===

/// Sets a fault with `inject`, checks that GetAccount of an existing account
/// fails with `code` and `reason` naming the server (and passes the status to
/// `check`), then clears the faults and checks the same call works again.
async fn fault_is_reported(
    configure: impl FnOnce(&mut Config),
    inject: impl FnOnce(&Faults) + Send + 'static,
    code: Code,
    reason: &'static str,
    check: impl FnOnce(&Status) + Send + 'static,
) {
    with_ols_on(Backend::Sqlite, configure, move |ols| async move {
        ols.create("dee", "Basic").await;
        inject(ols.sim.faults());
        let got = ols.get_account("dee").await;
        let status = assert_panel_error(got, code, reason, SERVER, &ols.id);
        assert_eq!(
            metadata(&status, "upstream_message"),
            "",
            "the panel said nothing"
        );
        check(&status);

        ols.sim.faults().clear();
        let account = ols.get_account("dee").await.expect("works once cleared");
        assert_eq!(account.primary_domain, "dee.example");
    })
    .await;
}

/// A panel nobody listens for → UNAVAILABLE UPSTREAM_UNAVAILABLE, for calls
/// and for CheckServer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_panel_is_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let base_url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    with_gateway(
        Backend::Sqlite,
        |_| {},
        move |gateway| async move {
            let id = register(
                &gateway,
                "gone",
                &base_url,
                ADMIN_PASSWORD,
                Some(DEFAULT_PHP),
            )
            .await;
            let listed = gateway
                .packages()
                .list_packages(ListPackagesRequest {
                    target: by_name("gone"),
                    ..Default::default()
                })
                .await;
            assert_panel_error(
                listed,
                Code::Unavailable,
                "UPSTREAM_UNAVAILABLE",
                "gone",
                &id,
            );
            let got = gateway
                .accounts()
                .get_account(GetAccountRequest {
                    target: by_id(&id),
                    username: "dee".into(),
                })
                .await;
            assert_panel_error(got, Code::Unavailable, "UPSTREAM_UNAVAILABLE", "gone", &id);
            let checked = gateway
                .inventory()
                .check_server(CheckServerRequest {
                    target: by_name("gone"),
                })
                .await
                .expect("check server")
                .into_inner();
            assert!(!checked.healthy);
            assert_eq!(checked.error_reason, "UPSTREAM_UNAVAILABLE");
        },
    )
    .await;
}

/// HTTP 502 → UNAVAILABLE UPSTREAM_UNAVAILABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_502_is_unavailable() {
    fault_is_reported(
        |_| {},
        |faults| faults.set(Fault::Status(502)),
        Code::Unavailable,
        "UPSTREAM_UNAVAILABLE",
        |status| assert!(status.message().contains("502"), "{}", status.message()),
    )
    .await;
}

/// A failed package list is not cached: ListPackages during a 502 fails, and
/// the first one after it reaches the panel and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_package_list_is_not_cached() {
    with_ols(|ols| async move {
        ols.sim.faults().set(Fault::Status(502));
        let listed = ols
            .gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                ..Default::default()
            })
            .await;
        assert_panel_error(
            listed,
            Code::Unavailable,
            "UPSTREAM_UNAVAILABLE",
            SERVER,
            &ols.id,
        );
        ols.sim.faults().clear();
        assert_eq!(
            names(&ols.list_packages(by_name(SERVER)).await),
            ["Basic", "Premium"]
        );
    })
    .await;
}

/// HTTP 429 → UNAVAILABLE UPSTREAM_RATE_LIMITED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_is_rate_limited() {
    fault_is_reported(
        |_| {},
        |faults| faults.set(Fault::Status(429)),
        Code::Unavailable,
        "UPSTREAM_RATE_LIMITED",
        |_| {},
    )
    .await;
}

/// An HTML page instead of JSON → INTERNAL UPSTREAM_PROTOCOL_ERROR with the
/// start of the page, cut short, in `body_excerpt`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_page_is_a_protocol_error_with_a_bounded_excerpt() {
    fault_is_reported(
        |_| {},
        |faults| faults.set(Fault::Html),
        Code::Internal,
        "UPSTREAM_PROTOCOL_ERROR",
        |status| {
            let excerpt = metadata(status, "body_excerpt");
            assert!(excerpt.starts_with("<!DOCTYPE html>"), "{excerpt}");
            assert!(!excerpt.contains('\n'), "one line: {excerpt}");
            // The simulator's login page is longer than the excerpt.
            assert!(excerpt.chars().count() <= 201, "bounded: {excerpt}");
            assert!(excerpt.ends_with('…'), "marked as cut: {excerpt}");
        },
    )
    .await;
}

/// Truncated JSON → INTERNAL UPSTREAM_PROTOCOL_ERROR quoting the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_json_is_a_protocol_error() {
    fault_is_reported(
        |_| {},
        |faults| faults.set(Fault::BrokenJson),
        Code::Internal,
        "UPSTREAM_PROTOCOL_ERROR",
        |status| {
            assert_eq!(
                metadata(status, "body_excerpt"),
                r#"{"success": true, "message": "User created succ"#
            );
        },
    )
    .await;
}

/// A connection closed without an answer → UNAVAILABLE UPSTREAM_UNAVAILABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_is_unavailable() {
    fault_is_reported(
        |_| {},
        |faults| faults.set(Fault::DropConnection),
        Code::Unavailable,
        "UPSTREAM_UNAVAILABLE",
        |_| {},
    )
    .await;
}

/// A panel slower than the gateway's upstream timeout → DEADLINE_EXCEEDED
/// UPSTREAM_TIMEOUT, after about the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_panel_is_deadline_exceeded() {
    fault_is_reported(
        |config| config.upstream_timeouts.request = Duration::from_millis(300),
        |faults| faults.set_delay(Duration::from_secs(1)),
        Code::DeadlineExceeded,
        "UPSTREAM_TIMEOUT",
        |status| assert!(status.message().contains("300ms"), "{}", status.message()),
    )
    .await;
}

// === caching ===

/// Package lists are cached per server: ListPackages twice, by name then by
/// id, makes one panel request; GetServer finds the same server both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_list_is_cached_per_server_by_name_and_id() {
    with_ols(|ols| async move {
        let before = ols.sim.request_count();
        let first = ols.list_packages(by_name(SERVER)).await;
        let second = ols.list_packages(by_id(&ols.id)).await;
        assert_eq!(first, second);
        assert_eq!(
            ols.sim.request_count() - before,
            1,
            "one packages_list call"
        );

        for target in [by_name(SERVER), by_id(&ols.id)] {
            let server = ols
                .gateway
                .inventory()
                .get_server(GetServerRequest { target })
                .await
                .expect("get server")
                .into_inner()
                .server
                .expect("server in reply");
            assert_eq!(
                (server.id.as_str(), server.name.as_str()),
                (ols.id.as_str(), SERVER)
            );
        }
    })
    .await;
}

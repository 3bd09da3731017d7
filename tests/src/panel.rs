//! A gateway with one simulated panel registered under the fixture's
//! [`PanelFixture::SERVER`] name: what the per-panel tests and the
//! cross-panel suite run their bodies against, with one-line calls to that
//! server and the assertions on a panel's errors.

use std::{future::Future, ops::Deref};

use panelgate::Config;
use panelgate_proto::v1::{
    Account, AccountUsage, AddDomainRequest, ChangePackageRequest, ChangePasswordRequest,
    CheckServerRequest, CheckServerResponse, CreateAccountRequest, CreateDatabaseRequest,
    CreateLoginLinkRequest, CreatePackageRequest, Database, DeleteAccountRequest,
    DeleteDomainRequest, Domain, GetAccountRequest, GetAccountUsageRequest, GetPackageRequest,
    ListAccountsRequest, ListDomainsRequest, ListPackagesRequest, Package, SuspendAccountRequest,
    Target, UnsuspendAccountRequest, UpdateAccountRequest, UpdateServerRequest,
};
use tonic::{Code, Status};

use crate::{
    Backend, Gateway, PanelFixture,
    errors::{assert_error, metadata},
    fixtures::Simulator,
    gateway::{by_name, with_gateway},
};

/// The configuration of a fixture's simulator.
pub type ConfigOf<F> = <<F as PanelFixture>::Sim as Simulator>::Config;

/// A gateway with the simulator of `fixture` registered as `F::SERVER`.
/// Derefs to the fixture, so `panel.sim` is the simulator.
pub struct Panel<F: PanelFixture> {
    /// The gateway.
    pub gateway: Gateway,
    /// The simulated panel.
    pub fixture: F,
    /// The server id of `F::SERVER`.
    pub id: String,
}

impl<F: PanelFixture> Deref for Panel<F> {
    type Target = F;

    fn deref(&self) -> &F {
        &self.fixture
    }
}

// === runners ===

impl<F: PanelFixture> Panel<F> {
    /// Runs `body` on SQLite against a simulator with its default config.
    pub async fn run<B, Fut>(body: B)
    where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::on(Backend::Sqlite, body).await;
    }

    /// Runs `body` on `backend` against a simulator with its default config.
    pub async fn on<B, Fut>(backend: Backend, body: B)
    where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::run_on(backend, ConfigOf::<F>::default(), |_| {}, body).await;
    }

    /// Runs `body` on SQLite against a simulator started from `config`.
    pub async fn run_with<B, Fut>(config: ConfigOf<F>, body: B)
    where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::run_on(Backend::Sqlite, config, |_| {}, body).await;
    }

    /// Runs `body` on `backend` against a simulator started from `config`,
    /// with `configure` applied to the gateway's config.
    pub async fn run_on<B, Fut>(
        backend: Backend,
        config: ConfigOf<F>,
        configure: impl FnOnce(&mut Config),
        body: B,
    ) where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let fixture = F::with_config(config).await;
        with_gateway(backend, configure, move |gateway| async move {
            let id = fixture.register(&gateway, F::SERVER).await;
            body(Panel {
                gateway,
                fixture,
                id,
            })
            .await;
        })
        .await;
    }
}

// === calls to the server ===

impl<F: PanelFixture> Panel<F> {
    /// The server, by name.
    pub fn target(&self) -> Option<Target> {
        by_name(F::SERVER)
    }

    /// CreateAccount of `username` on the server with primary domain
    /// `<username>.example`, email `<username>@mail.example`, the fixture's
    /// first package and account options.
    pub fn new_account(&self, username: &str) -> CreateAccountRequest {
        CreateAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            primary_domain: format!("{username}.example"),
            email: format!("{username}@mail.example"),
            password: "first-password-1".to_owned(),
            package: self.packages().0.to_owned(),
            panel_options: self.account_options(),
            ..Default::default()
        }
    }

    /// Creates `username` (see [`Panel::new_account`]) on `package`.
    pub async fn create(&self, username: &str, package: &str) -> Account {
        let request = CreateAccountRequest {
            package: package.to_owned(),
            ..self.new_account(username)
        };
        self.create_account(request)
            .await
            .unwrap_or_else(|status| panic!("create {username}: {status:?}"))
    }

    /// CreateAccount of `request` on the server.
    pub async fn create_account(&self, request: CreateAccountRequest) -> Result<Account, Status> {
        let request = CreateAccountRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.accounts().create_account(request).await?;
        Ok(reply.into_inner().account.expect("account in reply"))
    }

    /// GetAccount of `username` on the server.
    pub async fn get_account(&self, username: &str) -> Result<Account, Status> {
        let request = GetAccountRequest {
            target: self.target(),
            username: username.to_owned(),
        };
        let reply = self.gateway.accounts().get_account(request).await?;
        Ok(reply.into_inner().account.expect("account in reply"))
    }

    /// The first page of the server's accounts.
    pub async fn list_accounts(&self) -> Vec<Account> {
        let request = ListAccountsRequest {
            target: self.target(),
            ..Default::default()
        };
        let reply = self.gateway.accounts().list_accounts(request).await;
        reply.expect("list accounts").into_inner().accounts
    }

    /// GetAccountUsage of `username`.
    pub async fn usage(&self, username: &str) -> AccountUsage {
        let request = GetAccountUsageRequest {
            target: self.target(),
            username: username.to_owned(),
        };
        let reply = self.gateway.accounts().get_account_usage(request).await;
        let usage = reply.expect("get account usage").into_inner().usage;
        usage.expect("usage in reply")
    }

    /// UpdateAccount of `request` on the server.
    pub async fn update(&self, request: UpdateAccountRequest) -> Result<(), Status> {
        let request = UpdateAccountRequest {
            target: self.target(),
            ..request
        };
        self.gateway
            .accounts()
            .update_account(request)
            .await
            .map(drop)
    }

    /// SuspendAccount of `username` with reason "unpaid".
    pub async fn suspend(&self, username: &str) -> Result<(), Status> {
        let request = SuspendAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            reason: "unpaid".to_owned(),
            ..Default::default()
        };
        self.gateway
            .accounts()
            .suspend_account(request)
            .await
            .map(drop)
    }

    /// UnsuspendAccount of `username`.
    pub async fn unsuspend(&self, username: &str) -> Result<(), Status> {
        let request = UnsuspendAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            ..Default::default()
        };
        self.gateway
            .accounts()
            .unsuspend_account(request)
            .await
            .map(drop)
    }

    /// DeleteAccount of `username`.
    pub async fn delete(&self, username: &str) -> Result<(), Status> {
        let request = DeleteAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            ..Default::default()
        };
        self.gateway
            .accounts()
            .delete_account(request)
            .await
            .map(drop)
    }

    /// ChangePackage of `username` to `package`.
    pub async fn change_package(&self, username: &str, package: &str) -> Result<(), Status> {
        let request = ChangePackageRequest {
            target: self.target(),
            username: username.to_owned(),
            package: package.to_owned(),
            ..Default::default()
        };
        self.gateway
            .accounts()
            .change_package(request)
            .await
            .map(drop)
    }

    /// ChangePassword of `username` to `password`.
    pub async fn change_password(&self, username: &str, password: &str) -> Result<(), Status> {
        let request = ChangePasswordRequest {
            target: self.target(),
            username: username.to_owned(),
            password: password.to_owned(),
            ..Default::default()
        };
        self.gateway
            .accounts()
            .change_password(request)
            .await
            .map(drop)
    }

    /// The URL of a login link for `username`.
    pub async fn login_link(&self, username: &str) -> Result<String, Status> {
        let request = CreateLoginLinkRequest {
            target: self.target(),
            username: username.to_owned(),
        };
        let reply = self.gateway.accounts().create_login_link(request).await?;
        Ok(reply.into_inner().url)
    }

    /// The first page of the server's packages.
    pub async fn list_packages(&self) -> Vec<Package> {
        let request = ListPackagesRequest {
            target: self.target(),
            ..Default::default()
        };
        let reply = self.gateway.packages().list_packages(request).await;
        reply.expect("list packages").into_inner().packages
    }

    /// GetPackage by name or panel id.
    pub async fn get_package(&self, package: &str) -> Result<Package, Status> {
        let request = GetPackageRequest {
            target: self.target(),
            package: package.to_owned(),
        };
        let reply = self.gateway.packages().get_package(request).await?;
        Ok(reply.into_inner().package.expect("package in reply"))
    }

    /// CreatePackage of `request` on the server.
    pub async fn create_package(&self, request: CreatePackageRequest) -> Result<Package, Status> {
        let request = CreatePackageRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.packages().create_package(request).await?;
        Ok(reply.into_inner().package.expect("package in reply"))
    }

    /// AddDomain `domain` to `username`; an empty `document_root` leaves it
    /// to the panel.
    pub async fn add_domain(
        &self,
        username: &str,
        domain: &str,
        document_root: &str,
    ) -> Result<Domain, Status> {
        let request = AddDomainRequest {
            target: self.target(),
            username: username.to_owned(),
            domain: domain.to_owned(),
            document_root: document_root.to_owned(),
            ..Default::default()
        };
        let reply = self.gateway.domains().add_domain(request).await?;
        Ok(reply.into_inner().domain.expect("domain in reply"))
    }

    /// ListDomains of one account, or of the whole server with an empty `username`.
    pub async fn list_domains(&self, username: &str) -> Vec<Domain> {
        let request = ListDomainsRequest {
            target: self.target(),
            username: username.to_owned(),
            ..Default::default()
        };
        let reply = self.gateway.domains().list_domains(request).await;
        reply.expect("list domains").into_inner().domains
    }

    /// DeleteDomain; an empty `username` leaves the owner to the adapter.
    pub async fn delete_domain(&self, domain: &str, username: &str) -> Result<(), Status> {
        let request = DeleteDomainRequest {
            target: self.target(),
            domain: domain.to_owned(),
            username: username.to_owned(),
            ..Default::default()
        };
        self.gateway
            .domains()
            .delete_domain(request)
            .await
            .map(drop)
    }

    /// CreateDatabase `name` with user `user` (password `db-password-1`) for `username`.
    pub async fn create_database(
        &self,
        username: &str,
        name: &str,
        user: &str,
    ) -> Result<Database, Status> {
        let request = CreateDatabaseRequest {
            target: self.target(),
            username: username.to_owned(),
            database_name: name.to_owned(),
            database_user: user.to_owned(),
            database_password: "db-password-1".to_owned(),
            ..Default::default()
        };
        let reply = self.gateway.databases().create_database(request).await?;
        Ok(reply.into_inner().database.expect("database in reply"))
    }

    /// CheckServer of the server named `name`.
    pub async fn check(&self, name: &str) -> CheckServerResponse {
        let request = CheckServerRequest {
            target: by_name(name),
        };
        let reply = self.gateway.inventory().check_server(request).await;
        reply.expect("check server").into_inner()
    }

    /// Gives the server named `name` credentials carrying `secret`.
    pub async fn set_secret(&self, name: &str, secret: &str) {
        let request = UpdateServerRequest {
            target: by_name(name),
            credentials: Some(F::credentials_with(secret)),
            ..Default::default()
        };
        let reply = self.gateway.inventory().update_server(request).await;
        reply.unwrap_or_else(|status| panic!("new credentials for `{name}`: {status:?}"));
    }
}

// === assertions ===

impl<F: PanelFixture> Panel<F> {
    /// Asserts a call to the server failed with `code` and `reason`, with the
    /// server's id, name and kind in ErrorInfo and its name in the message.
    #[track_caller]
    pub fn assert_panel_error<T: std::fmt::Debug>(
        &self,
        result: Result<T, Status>,
        code: Code,
        reason: &str,
    ) -> Status {
        assert_server_error(result, code, reason, F::SERVER, &self.id, F::KIND)
    }

    /// [`Panel::assert_panel_error`], with what the panel said.
    #[track_caller]
    pub fn assert_said<T: std::fmt::Debug>(
        &self,
        result: Result<T, Status>,
        code: Code,
        reason: &str,
        upstream_message: &str,
    ) -> Status {
        let status = self.assert_panel_error(result, code, reason);
        assert_eq!(
            metadata(&status, "upstream_message"),
            upstream_message,
            "upstream_message of: {status:?}"
        );
        status
    }
}

/// Asserts a call failed with `code` and `reason`, with the server's id,
/// name and panel kind in ErrorInfo and its name in the message.
#[track_caller]
pub fn assert_server_error<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    name: &str,
    id: &str,
    kind: panelgate_proto::v1::PanelKind,
) -> Status {
    let status = assert_error(result, code, reason);
    let kind = kind.as_str_name().trim_start_matches("PANEL_KIND_");
    assert_eq!(metadata(&status, "server_id"), id, "{status:?}");
    assert_eq!(metadata(&status, "server_name"), name, "{status:?}");
    assert_eq!(
        metadata(&status, "panel_kind"),
        kind.to_ascii_lowercase(),
        "{status:?}"
    );
    assert!(
        status.message().contains(&format!("`{name}`")),
        "the message names the server: {}",
        status.message()
    );
    status
}

//! One-line calls to the panel's server, by name: the request of each
//! filled in, the reply's main item returned.

use panelgate_proto::v1::{
    Account, AccountUsage, AddDomainRequest, ChangePackageRequest, ChangePasswordRequest,
    CheckServerRequest, CheckServerResponse, CreateAccountRequest, CreateAccountResponse,
    CreateDatabaseRequest, CreateLoginLinkRequest, CreatePackageRequest, CreatePanelAdminRequest,
    Database, DeleteAccountRequest, DeleteDomainRequest, DeletePackageRequest, Domain,
    GetAccountRequest, GetAccountUsageRequest, GetPackageRequest, GetServerRequest,
    ListAccountsRequest, ListDomainsRequest, ListPackagesRequest, ListPackagesResponse,
    ListPanelAdminsRequest, Package, PanelAdmin, Server, SuspendAccountRequest,
    SuspendDomainRequest, Target, UnsuspendAccountRequest, UnsuspendDomainRequest,
    UpdateAccountRequest, UpdatePackageRequest, UpdateServerRequest,
};
use tonic::Status;

use super::Panel;
use crate::{
    PanelFixture,
    gateway::{by_id, by_name},
};

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

    /// CreateAccount of `request` on the server, its whole reply.
    pub async fn create_account_reply(
        &self,
        request: CreateAccountRequest,
    ) -> Result<CreateAccountResponse, Status> {
        let request = CreateAccountRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.accounts().create_account(request).await;
        reply.map(tonic::Response::into_inner)
    }

    /// GetAccount of `username` on the server.
    pub async fn get_account(&self, username: &str) -> Result<Account, Status> {
        self.get_account_on(self.target(), username).await
    }

    /// GetAccount of `username` on the server, named by its id.
    pub async fn get_account_by_id(&self, username: &str) -> Result<Account, Status> {
        self.get_account_on(by_id(&self.id), username).await
    }

    /// GetAccount of `username` on the server `target` names.
    async fn get_account_on(
        &self,
        target: Option<Target>,
        username: &str,
    ) -> Result<Account, Status> {
        let request = GetAccountRequest {
            target,
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
        self.suspend_because(username, "unpaid").await
    }

    /// SuspendAccount of `username` with `reason` ("" for none).
    pub async fn suspend_because(&self, username: &str, reason: &str) -> Result<(), Status> {
        let request = SuspendAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            reason: reason.to_owned(),
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

    /// The server as the inventory holds it.
    pub async fn server(&self) -> Server {
        let request = GetServerRequest {
            target: self.target(),
        };
        let reply = self.gateway.inventory().get_server(request).await;
        reply
            .expect("get server")
            .into_inner()
            .server
            .expect("server in reply")
    }

    /// A page of `page_size` of the server's packages, from `page_token`.
    pub async fn packages_page(&self, page_size: i32, page_token: &str) -> ListPackagesResponse {
        let request = ListPackagesRequest {
            target: self.target(),
            page_size,
            page_token: page_token.to_owned(),
        };
        let reply = self.gateway.packages().list_packages(request).await;
        reply.expect("a page of packages").into_inner()
    }

    /// SuspendDomain of `domain`.
    pub async fn suspend_domain(&self, domain: &str) -> Result<(), Status> {
        let request = SuspendDomainRequest {
            target: self.target(),
            domain: domain.to_owned(),
            ..Default::default()
        };
        self.gateway
            .domains()
            .suspend_domain(request)
            .await
            .map(drop)
    }

    /// UnsuspendDomain of `domain`.
    pub async fn unsuspend_domain(&self, domain: &str) -> Result<(), Status> {
        let request = UnsuspendDomainRequest {
            target: self.target(),
            domain: domain.to_owned(),
            ..Default::default()
        };
        self.gateway
            .domains()
            .unsuspend_domain(request)
            .await
            .map(drop)
    }

    /// UpdatePackage of `request` on the server.
    pub async fn update_package(&self, request: UpdatePackageRequest) -> Result<Package, Status> {
        let request = UpdatePackageRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.packages().update_package(request).await?;
        Ok(reply.into_inner().package.expect("package in reply"))
    }

    /// DeletePackage of `package`.
    pub async fn delete_package(&self, package: &str) -> Result<(), Status> {
        let request = DeletePackageRequest {
            target: self.target(),
            package: package.to_owned(),
            ..Default::default()
        };
        self.gateway
            .packages()
            .delete_package(request)
            .await
            .map(drop)
    }

    /// CreatePanelAdmin of `request` on the server.
    pub async fn create_admin(
        &self,
        request: CreatePanelAdminRequest,
    ) -> Result<PanelAdmin, Status> {
        let request = CreatePanelAdminRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.servers().create_panel_admin(request).await?;
        Ok(reply.into_inner().admin.expect("admin in reply"))
    }

    /// The server's panel administrators.
    pub async fn list_admins(&self) -> Vec<PanelAdmin> {
        let request = ListPanelAdminsRequest {
            target: self.target(),
            ..Default::default()
        };
        let reply = self.gateway.servers().list_panel_admins(request).await;
        reply.expect("list panel admins").into_inner().admins
    }
}

//! AccountService: hosting accounts on any panel.

use panelgate_adapters::{AccountUpdate, Entity, NewAccount};
use panelgate_inventory::ServerState;
use panelgate_inventory::{AccountEntry, AccountStatus};
use panelgate_proto::v1::{
    Account, ChangePackageRequest, ChangePackageResponse, ChangePasswordRequest,
    ChangePasswordResponse, CreateAccountRequest, CreateAccountResponse, CreateLoginLinkRequest,
    CreateLoginLinkResponse, DeleteAccountRequest, DeleteAccountResponse, GetAccountRequest,
    GetAccountResponse, GetAccountUsageRequest, GetAccountUsageResponse, ListAccountsRequest,
    ListAccountsResponse, Operation, SuspendAccountRequest, SuspendAccountResponse,
    UnsuspendAccountRequest, UnsuspendAccountResponse, UpdateAccountRequest, UpdateAccountResponse,
    account_service_server::AccountService, create_account_request::PanelOptions,
};
use tonic::{Request, Response, Status};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::{App, validation},
    converge::Create,
    error::GatewayError,
    routing::Route,
    validate,
};

/// The AccountService implementation.
pub struct AccountApi {
    app: App,
}

impl AccountApi {
    /// Serves accounts through `app`.
    pub fn new(app: App) -> Self {
        AccountApi { app }
    }

    /// The reply to a create: the account, now in the index.
    async fn created(&self, route: &Route, mut account: Account) -> CreateAccountResponse {
        account.server_id = route.server.id.clone();
        self.app
            .index_account(AccountEntry {
                server_id: route.server.id.clone(),
                username: account.username.clone(),
                primary_domain: account.primary_domain.clone(),
                package: account.package.clone(),
                status: AccountStatus::Active,
            })
            .await;
        CreateAccountResponse {
            account: Some(account),
            ..Default::default()
        }
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl AccountService for AccountApi {
    async fn create_account(
        &self,
        request: Request<CreateAccountRequest>,
    ) -> Reply<CreateAccountResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/CreateAccount")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::new_username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let primary_domain = validate::domain("primary_domain", &req.primary_domain)?;
            let email = validate::email("email", &req.email)?;
            if !req.password.is_empty() {
                validate::password("password", &req.password)?;
            }
            let package = validate::package("package", &req.package)?;
            let first_name = optional_name("first_name", &req.first_name)?;
            let last_name = optional_name("last_name", &req.last_name)?;
            if let Some(PanelOptions::AdminApi(options)) = &req.panel_options {
                validate::php_version("panel_options.admin_api.php_version", &options.php_version)?;
            }
            if req
                .target
                .as_ref()
                .and_then(|target| target.server.as_ref())
                .is_none()
            {
                return Err(GatewayError::invalid(
                    "target",
                    "CreateAccount needs the server to create on",
                ));
            }

            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::CreateAccount)?;
            check_options_kind(req.panel_options.as_ref(), route.kind)?;
            // Panels that keep account passwords can change them; the others
            // (Installatron) need none.
            let keeps_passwords = route
                .panel
                .capabilities()
                .contains(&Operation::ChangePassword);
            if keeps_passwords && req.password.is_empty() {
                return Err(GatewayError::invalid("password", "required"));
            }
            if route.server.state == ServerState::Draining {
                return Err(GatewayError::ServerState {
                    server: route.server.name.clone(),
                    state: "draining",
                    why: "it takes no new accounts",
                });
            }
            let max = route.server.max_accounts;
            if max > 0
                && self.app.inventory.count_accounts(&route.server.id).await? >= u64::from(max)
            {
                return Err(GatewayError::ServerFull {
                    server: route.server.name.clone(),
                    max,
                });
            }
            let package = self
                .app
                .packages
                .resolve(&route, "package", &package)
                .await?;
            let new = NewAccount {
                username,
                primary_domain,
                email,
                password: req.password.clone().into(),
                package,
                first_name,
                last_name,
                options: req.panel_options.clone(),
            };
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .create_account(&new)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(CreateAccountResponse {
                    validation: Some(validation),
                    ..Default::default()
                });
            }
            let account = Create {
                entity: Entity::Account,
                earlier: || route.panel.earlier_account(&new),
                create: || route.panel.create_account(&new),
            }
            .run(call.uncertain(), || None)
            .await
            .map_err(|err| route.fail(err))?;
            Ok(self.created(&route, account).await)
        }
        .await;
        call.finish(result).await
    }

    async fn get_account(&self, request: Request<GetAccountRequest>) -> Reply<GetAccountResponse> {
        let (mut call, req) = self.app.read(request, "AccountService/GetAccount");
        let result = async {
            let username = validate::username("username", &req.username)?;
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::GetAccount)?;
            let account = route
                .panel
                .get_account(&username)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(GetAccountResponse {
                account: Some(Account {
                    server_id: route.server.id.clone(),
                    ..account
                }),
            })
        }
        .await;
        call.finish(result).await
    }

    async fn list_accounts(
        &self,
        request: Request<ListAccountsRequest>,
    ) -> Reply<ListAccountsResponse> {
        let (mut call, req) = self.app.read(request, "AccountService/ListAccounts");
        let result = async {
            let page = offset_page(req.page_size, &req.page_token)?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::ListAccounts)?;
            let listed = route
                .panel
                .list_accounts(page)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(ListAccountsResponse {
                accounts: listed
                    .items
                    .into_iter()
                    .map(|account| Account {
                        server_id: route.server.id.clone(),
                        ..account
                    })
                    .collect(),
                next_page_token: next_offset_token(page, listed.more),
            })
        }
        .await;
        call.finish(result).await
    }

    async fn update_account(
        &self,
        request: Request<UpdateAccountRequest>,
    ) -> Reply<UpdateAccountResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/UpdateAccount")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let update = AccountUpdate {
                email: req
                    .email
                    .as_deref()
                    .map(|email| validate::email("email", email))
                    .transpose()?,
                first_name: req
                    .first_name
                    .as_deref()
                    .map(|name| validate::name("first_name", name, 64))
                    .transpose()?,
                last_name: req
                    .last_name
                    .as_deref()
                    .map(|name| validate::name("last_name", name, 64))
                    .transpose()?,
                primary_domain: req
                    .primary_domain
                    .as_deref()
                    .map(|domain| validate::domain("primary_domain", domain))
                    .transpose()?,
                username,
            };
            if update.email.is_none()
                && update.first_name.is_none()
                && update.last_name.is_none()
                && update.primary_domain.is_none()
            {
                return Err(GatewayError::invalid(
                    "email",
                    "nothing to change: set email, first_name, last_name or primary_domain",
                ));
            }
            let route = call
                .route_account(req.target.as_ref(), &update.username)
                .await?;
            route.require(Operation::UpdateAccount)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .update_account(&update)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(UpdateAccountResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .update_account(&update)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(UpdateAccountResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn suspend_account(
        &self,
        request: Request<SuspendAccountRequest>,
    ) -> Reply<SuspendAccountResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/SuspendAccount")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let reason = if req.reason.trim().is_empty() {
                String::new()
            } else {
                validate::name("reason", &req.reason, 255)?
            };
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::SuspendAccount)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .suspend_account(&username, &reason)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(SuspendAccountResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .suspend_account(&username, &reason)
                .await
                .map_err(|err| route.fail(err))?;
            self.app
                .index_status(&route, &username, AccountStatus::Suspended)
                .await;
            Ok(SuspendAccountResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn unsuspend_account(
        &self,
        request: Request<UnsuspendAccountRequest>,
    ) -> Reply<UnsuspendAccountResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/UnsuspendAccount")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::UnsuspendAccount)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .unsuspend_account(&username)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(UnsuspendAccountResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .unsuspend_account(&username)
                .await
                .map_err(|err| route.fail(err))?;
            self.app
                .index_status(&route, &username, AccountStatus::Active)
                .await;
            Ok(UnsuspendAccountResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn delete_account(
        &self,
        request: Request<DeleteAccountRequest>,
    ) -> Reply<DeleteAccountResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/DeleteAccount")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::DeleteAccount)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .delete_account(&username)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(DeleteAccountResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .delete_account(&username)
                .await
                .map_err(|err| route.fail(err))?;
            if let Err(err) = self
                .app
                .inventory
                .remove_account(&route.server.id, &username)
                .await
            {
                tracing::warn!(%username, error = %err, "account index not updated");
            }
            Ok(DeleteAccountResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn change_package(
        &self,
        request: Request<ChangePackageRequest>,
    ) -> Reply<ChangePackageResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/ChangePackage")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let package = validate::package("package", &req.package)?;
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::ChangePackage)?;
            let package = self
                .app
                .packages
                .resolve(&route, "package", &package)
                .await?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .change_package(&username, &package)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(ChangePackageResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .change_package(&username, &package)
                .await
                .map_err(|err| route.fail(err))?;
            if let Err(err) = self
                .app
                .inventory
                .set_account_package(&route.server.id, &username, &package.name)
                .await
            {
                tracing::warn!(%username, error = %err, "account index not updated");
            }
            Ok(ChangePackageResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Reply<ChangePasswordResponse> {
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/ChangePassword")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            validate::password("password", &req.password)?;
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::ChangePassword)?;
            let password = req.password.clone().into();
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .change_password(&username, &password)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(ChangePasswordResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .change_password(&username, &password)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(ChangePasswordResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn create_login_link(
        &self,
        request: Request<CreateLoginLinkRequest>,
    ) -> Reply<CreateLoginLinkResponse> {
        // Journalled: who let whom into an account is worth an audit trail.
        let (mut call, req) = match self
            .app
            .mutation(request, "AccountService/CreateLoginLink")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("account/{username}"));
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::CreateLoginLink)?;
            route
                .panel
                .create_login_link(&username)
                .await
                .map_err(|err| route.fail(err))
        }
        .await;
        call.finish(result).await
    }

    async fn get_account_usage(
        &self,
        request: Request<GetAccountUsageRequest>,
    ) -> Reply<GetAccountUsageResponse> {
        let (mut call, req) = self.app.read(request, "AccountService/GetAccountUsage");
        let result = async {
            let username = validate::username("username", &req.username)?;
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::GetAccountUsage)?;
            let usage = route
                .panel
                .get_account_usage(&username)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(GetAccountUsageResponse { usage: Some(usage) })
        }
        .await;
        call.finish(result).await
    }
}

/// An optional name field: empty means not given.
fn optional_name(field: &str, value: &str) -> Result<Option<String>, GatewayError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    validate::name(field, value, 64).map(Some)
}

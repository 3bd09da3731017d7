//! AccountService: hosting accounts on any panel.

use panelgate_adapters::{AccountUpdate, Entity, NewAccount, PackageRef};
use panelgate_inventory::{AccountStatus, ServerState};
use panelgate_proto::Capability;
use panelgate_proto::v1::{
    Account, ChangePackageRequest, ChangePackageResponse, ChangePasswordRequest,
    ChangePasswordResponse, CreateAccountRequest, CreateAccountResponse, CreateLoginLinkRequest,
    CreateLoginLinkResponse, DeleteAccountRequest, DeleteAccountResponse, ErrorReason,
    GetAccountRequest, GetAccountResponse, GetAccountUsageRequest, GetAccountUsageResponse,
    ListAccountsRequest, ListAccountsResponse, SuspendAccountRequest, SuspendAccountResponse,
    UnsuspendAccountRequest, UnsuspendAccountResponse, UpdateAccountRequest, UpdateAccountResponse,
    account_service_server::AccountService, create_account_request::PanelOptions,
};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::App,
    call::{Body, Call},
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

    /// The checks of the server itself before an account is created on it:
    /// the password its panel needs, its state (its cap is the slot's).
    fn admits(route: &Route, req: &CreateAccountRequest) -> Result<(), GatewayError> {
        // Panels that keep account passwords can change them; the others
        // (Installatron) need none.
        let keeps_passwords = route
            .panel
            .capabilities()
            .contains(&Capability::ChangePassword);
        if keeps_passwords && req.password.is_empty() {
            return Err(GatewayError::invalid("password", "required"));
        }
        if route.server.state == ServerState::Draining {
            return Err(GatewayError::ServerState {
                server: route.server.name.clone(),
                state: ErrorReason::ServerDraining,
                why: "it takes no new accounts",
            });
        }
        Ok(())
    }

    async fn create_account(
        &self,
        call: Call,
        req: CreateAccountRequest,
    ) -> Body<CreateAccountResponse> {
        let fields = NewFields::of(&call, &req)?;
        let route = call.route(req.target.as_ref()).await?;
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        Self::admits(&route, &req)?;
        let packages = &self.app.packages;
        let package = packages.resolve(&route, "package", &fields.package).await?;
        let new = fields.account(package, &req);
        let slot = self
            .app
            .claim_slot(&route, &new.username, call.validate_only())
            .await?;
        let uncertain = call.uncertain();
        let created = call
            .on(&route, async |panel| {
                Create {
                    entity: Entity::Account,
                    earlier: || panel.earlier_account(&new),
                    create: || panel.create_account(&new),
                }
                .run(uncertain, || None)
                .await
            })
            .await;
        self.app.settle(&route, slot, &created).await?;
        let mut account = created?;
        account.server_id = route.server.id.clone();
        Ok(CreateAccountResponse {
            account: Some(account),
            ..Default::default()
        })
    }

    async fn get_account(&self, call: Call, req: GetAccountRequest) -> Body<GetAccountResponse> {
        let username = validate::username("username", &req.username)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        let account = call
            .on(&route, async |panel| panel.get_account(&username).await)
            .await?;
        Ok(GetAccountResponse {
            account: Some(Account {
                server_id: route.server.id.clone(),
                ..account
            }),
        })
    }

    async fn list_accounts(
        &self,
        call: Call,
        req: ListAccountsRequest,
    ) -> Body<ListAccountsResponse> {
        let page = offset_page(req.page_size, &req.page_token)?;
        let route = call.route(req.target.as_ref()).await?;
        let listed = call
            .on(&route, async |panel| panel.list_accounts(page).await)
            .await?;
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

    async fn update_account(
        &self,
        call: Call,
        req: UpdateAccountRequest,
    ) -> Body<UpdateAccountResponse> {
        let username = account(&call, &req.username)?;
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
            let why = "nothing to change: set email, first_name, last_name or primary_domain";
            return Err(GatewayError::invalid("email", why).into());
        }
        let route = call
            .route_account(req.target.as_ref(), &update.username)
            .await?;
        call.on(&route, async |panel| panel.update_account(&update).await)
            .await?;
        Ok(UpdateAccountResponse::default())
    }

    async fn suspend_account(
        &self,
        call: Call,
        req: SuspendAccountRequest,
    ) -> Body<SuspendAccountResponse> {
        let username = account(&call, &req.username)?;
        let reason = if req.reason.trim().is_empty() {
            String::new()
        } else {
            validate::name("reason", &req.reason, 255)?
        };
        let route = call.route_account(req.target.as_ref(), &username).await?;
        call.on(&route, async |panel| {
            panel.suspend_account(&username, &reason).await
        })
        .await?;
        self.app
            .index_status(&route, &username, AccountStatus::Suspended)
            .await;
        Ok(SuspendAccountResponse::default())
    }

    async fn unsuspend_account(
        &self,
        call: Call,
        req: UnsuspendAccountRequest,
    ) -> Body<UnsuspendAccountResponse> {
        let username = account(&call, &req.username)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        call.on(&route, async |panel| {
            panel.unsuspend_account(&username).await
        })
        .await?;
        self.app
            .index_status(&route, &username, AccountStatus::Active)
            .await;
        Ok(UnsuspendAccountResponse::default())
    }

    async fn delete_account(
        &self,
        call: Call,
        req: DeleteAccountRequest,
    ) -> Body<DeleteAccountResponse> {
        let username = account(&call, &req.username)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        call.on(&route, async |panel| panel.delete_account(&username).await)
            .await?;
        self.app.index_removed(&route.server.id, &username).await;
        Ok(DeleteAccountResponse::default())
    }

    async fn change_package(
        &self,
        call: Call,
        req: ChangePackageRequest,
    ) -> Body<ChangePackageResponse> {
        let username = account(&call, &req.username)?;
        let package = validate::package("package", &req.package)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        let package = self
            .app
            .packages
            .resolve(&route, "package", &package)
            .await?;
        call.on(&route, async |panel| {
            panel.change_package(&username, &package).await
        })
        .await?;
        self.app
            .index_package(&route, &username, &package.name)
            .await;
        Ok(ChangePackageResponse::default())
    }

    async fn change_password(
        &self,
        call: Call,
        req: ChangePasswordRequest,
    ) -> Body<ChangePasswordResponse> {
        let username = account(&call, &req.username)?;
        validate::password("password", &req.password)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        let password = req.password.clone().into();
        call.on(&route, async |panel| {
            panel.change_password(&username, &password).await
        })
        .await?;
        Ok(ChangePasswordResponse::default())
    }

    async fn create_login_link(
        &self,
        call: Call,
        req: CreateLoginLinkRequest,
    ) -> Body<CreateLoginLinkResponse> {
        // Journalled: who let whom into an account is worth an audit trail.
        let username = account(&call, &req.username)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        call.on(&route, async |panel| {
            panel.create_login_link(&username).await
        })
        .await
    }

    async fn get_account_usage(
        &self,
        call: Call,
        req: GetAccountUsageRequest,
    ) -> Body<GetAccountUsageResponse> {
        let username = validate::username("username", &req.username)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        let usage = call
            .on(&route, async |panel| {
                panel.get_account_usage(&username).await
            })
            .await?;
        Ok(GetAccountUsageResponse { usage: Some(usage) })
    }
}

/// The account a call is about, validated and named in the journal.
fn account(call: &Call, username: &str) -> Result<String, GatewayError> {
    let username = validate::username("username", username)?;
    call.about(format!("account/{username}"));
    Ok(username)
}

serve!(AccountService for AccountApi {
    create_account(CreateAccountRequest),
    get_account(GetAccountRequest),
    list_accounts(ListAccountsRequest),
    update_account(UpdateAccountRequest),
    suspend_account(SuspendAccountRequest),
    unsuspend_account(UnsuspendAccountRequest),
    delete_account(DeleteAccountRequest),
    change_package(ChangePackageRequest),
    change_password(ChangePasswordRequest),
    create_login_link(CreateLoginLinkRequest),
    get_account_usage(GetAccountUsageRequest),
});

/// CreateAccount's own fields, checked in order before anything is routed.
struct NewFields {
    username: String,
    primary_domain: String,
    email: String,
    package: String,
    first_name: Option<String>,
    last_name: Option<String>,
}

impl NewFields {
    fn of(call: &Call, req: &CreateAccountRequest) -> Result<Self, GatewayError> {
        let username = validate::new_username("username", &req.username)?;
        call.about(format!("account/{username}"));
        let primary_domain = validate::domain("primary_domain", &req.primary_domain)?;
        let email = validate::email("email", &req.email)?;
        if !req.password.is_empty() {
            validate::password("password", &req.password)?;
        }
        let fields = NewFields {
            username,
            primary_domain,
            email,
            package: validate::package("package", &req.package)?,
            first_name: optional_name("first_name", &req.first_name)?,
            last_name: optional_name("last_name", &req.last_name)?,
        };
        if let Some(PanelOptions::AdminApi(options)) = &req.panel_options {
            validate::php_version("panel_options.admin_api.php_version", &options.php_version)?;
        }
        if req
            .target
            .as_ref()
            .and_then(|target| target.server.as_ref())
            .is_none()
        {
            let why = "CreateAccount needs the server to create on";
            return Err(GatewayError::invalid("target", why));
        }
        Ok(fields)
    }

    /// The account to create, with its package resolved on the server.
    fn account(self, package: PackageRef, req: &CreateAccountRequest) -> NewAccount {
        NewAccount {
            username: self.username,
            primary_domain: self.primary_domain,
            email: self.email,
            password: req.password.clone().into(),
            package,
            first_name: self.first_name,
            last_name: self.last_name,
            options: req.panel_options.clone(),
        }
    }
}

/// An optional name field: empty means not given.
fn optional_name(field: &str, value: &str) -> Result<Option<String>, GatewayError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    validate::name(field, value, 64).map(Some)
}

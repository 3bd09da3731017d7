//! AccountService: hosting accounts on any panel (creating one, on a named
//! server or placed, in `create`).

mod create;

use panelgate_adapters::{AccountUpdate, AdapterError, Entity};
use panelgate_inventory::AccountStatus;
use panelgate_proto::v1::{
    Account, ChangePackageRequest, ChangePackageResponse, ChangePasswordRequest,
    ChangePasswordResponse, CreateAccountRequest, CreateLoginLinkRequest, CreateLoginLinkResponse,
    DeleteAccountRequest, DeleteAccountResponse, GetAccountRequest, GetAccountResponse,
    GetAccountUsageRequest, GetAccountUsageResponse, ListAccountsRequest, ListAccountsResponse,
    PlanPlacementRequest, SuspendAccountRequest, SuspendAccountResponse, UnsuspendAccountRequest,
    UnsuspendAccountResponse, UpdateAccountRequest, UpdateAccountResponse,
    account_service_server::AccountService,
};

use super::{next_offset_token, offset_page};
use crate::{
    app::App,
    call::{Body, Call},
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
        if !already(&call, &route, &username, |found| {
            has_status(found, AccountStatus::Suspended)
        })
        .await
        {
            call.on(&route, async |panel| {
                panel.suspend_account(&username, &reason).await
            })
            .await?;
        }
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
        if !already(&call, &route, &username, |found| {
            has_status(found, AccountStatus::Active)
        })
        .await
        {
            call.on(&route, async |panel| {
                panel.unsuspend_account(&username).await
            })
            .await?;
        }
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
        let gone = |found: Result<Account, AdapterError>| {
            matches!(
                found,
                Err(AdapterError::NotFound {
                    entity: Entity::Account,
                    ..
                })
            )
        };
        if !already(&call, &route, &username, gone).await {
            call.on(&route, async |panel| panel.delete_account(&username).await)
                .await?;
        }
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
        let moved = |found: Result<Account, AdapterError>| {
            found.is_ok_and(|account| account.package == package.name)
        };
        if !already(&call, &route, &username, moved).await {
            call.on(&route, async |panel| {
                panel.change_package(&username, &package).await
            })
            .await?;
        }
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

/// Whether an earlier attempt of this call, whose outcome is unknown (it
/// timed out, or its gateway died), already left the account as `done`
/// says, by the panel's own account: the retry then does not act again.
/// Any doubt (the panel cannot tell) runs the call.
async fn already(
    call: &Call,
    route: &Route,
    username: &str,
    done: impl FnOnce(Result<Account, AdapterError>) -> bool,
) -> bool {
    call.uncertain() && !call.validate_only() && done(route.panel.get_account(username).await)
}

/// Whether the panel found the account, in `status`.
fn has_status(found: Result<Account, AdapterError>, status: AccountStatus) -> bool {
    let wanted = i32::from(crate::sync::status_message(status));
    found.is_ok_and(|account| account.status == wanted)
}

/// The account a call is about, validated and named in the journal.
fn account(call: &Call, username: &str) -> Result<String, GatewayError> {
    let username = validate::username("username", username)?;
    call.about(format!("account/{username}"));
    Ok(username)
}

serve!(AccountService for AccountApi {
    create_account(CreateAccountRequest),
    plan_placement(PlanPlacementRequest),
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

//! CreateAccount, on a named server or placed (see `placement`), and
//! PlanPlacement.

use panelgate_adapters::{AdapterError, Entity, NewAccount, PackageRef};
use panelgate_inventory::{InventoryError, ServerState};
use panelgate_proto::v1::{
    Account, CreateAccountRequest, CreateAccountResponse, ErrorReason, PassedOver,
    PassedOverReason, PlacementCandidate, PlanPlacementRequest, PlanPlacementResponse, Target,
    create_account_request::PanelOptions, target,
};
use panelgate_proto::{Capability, PanelOptions as _};

use super::AccountApi;
use crate::{
    call::{Body, Call, Stop},
    capacity::Claim,
    converge::Create,
    error::GatewayError,
    grpc::check_options_kind,
    placement::{self, Scope},
    routing::Route,
    validate,
};

/// Panels a placed create tries at most when its create fails before
/// reaching the panel (unreachable, busy, circuit open).
const PANELS_TRIED: usize = 3;

impl AccountApi {
    pub(super) async fn create_account(
        &self,
        call: Call,
        req: CreateAccountRequest,
    ) -> Body<CreateAccountResponse> {
        let fields = NewFields::of(&call, &req)?;
        let account = match &req.placement {
            None => {
                let route = call.route(req.target.as_ref()).await?;
                self.create_on(&call, &route, &fields, &req).await?
            }
            Some(placement) => {
                let options_kind = req.panel_options.as_ref().map(|o| o.panel_kind());
                let default = self.app.placement_strategy;
                let scope = Scope::of("placement", placement, default, options_kind)?;
                self.create_placed(&call, &scope, &fields, &req).await?
            }
        };
        Ok(CreateAccountResponse {
            account: Some(account),
            ..Default::default()
        })
    }

    /// Creates the account on the best server of `scope` that takes it. A
    /// candidate that turns out unable to (full, draining, without the
    /// package, failing or gone) is passed over, and so are up to
    /// [`PANELS_TRIED`] − 1 whose create failed before reaching the panel. A
    /// retry after an unknown outcome goes to the server of the first
    /// attempt.
    async fn create_placed(
        &self,
        call: &Call,
        scope: &Scope,
        fields: &NewFields,
        req: &CreateAccountRequest,
    ) -> Result<Account, Stop> {
        if let Some(server_id) = call.earlier_server().await? {
            let route = call.route(by_id(server_id).as_ref()).await?;
            return self.create_on(call, &route, fields, req).await;
        }
        // One account per username in the fleet, or calls without a target
        // could no longer tell which is meant.
        let inventory = &self.app.inventory;
        if let Some(holder) = inventory.servers_for_account(&fields.username).await?.pop() {
            let route = call.route(by_id(holder).as_ref()).await?;
            return Err(route
                .fail(AdapterError::AlreadyExists {
                    entity: Entity::Account,
                    key: fields.username.clone(),
                    upstream: Some("the account index has it on this server".into()),
                })
                .into());
        }
        let mut plan = self.app.candidates(scope, call.groups()).await?;
        let mut panels_failed = 0;
        for candidate in std::mem::take(&mut plan.candidates) {
            let server = candidate.server;
            let prepared = match call.route(by_id(server.id.clone()).as_ref()).await {
                Ok(route) => self
                    .prepare(call, &route, fields, req)
                    .await
                    .map(|p| (route, p)),
                Err(err) => Err(err.into()),
            };
            let (route, prepared) = match prepared {
                Ok(prepared) => prepared,
                Err(stop) => match unable(&stop) {
                    Some(reason) => {
                        plan.passed_over.push((server, reason));
                        continue;
                    }
                    None => return Err(stop),
                },
            };
            let created = self.create(call, &route, prepared).await;
            match created {
                Err(Stop::Failed(GatewayError::Panel { error, .. }))
                    if error.before_any_effect() && panels_failed + 1 < PANELS_TRIED =>
                {
                    panels_failed += 1;
                    plan.passed_over
                        .push((server, PassedOverReason::Unreachable));
                }
                created => return created,
            }
        }
        Err(GatewayError::NoServerAvailable {
            passed_over: plan.summary(),
        }
        .into())
    }

    /// Creates the account on the route's server.
    async fn create_on(
        &self,
        call: &Call,
        route: &Route,
        fields: &NewFields,
        req: &CreateAccountRequest,
    ) -> Result<Account, Stop> {
        let prepared = self.prepare(call, route, fields, req).await?;
        self.create(call, route, prepared).await
    }

    /// Everything before the create's panel call: the request fits the
    /// server, its package is resolved there, and a slot is held on it.
    async fn prepare(
        &self,
        call: &Call,
        route: &Route,
        fields: &NewFields,
        req: &CreateAccountRequest,
    ) -> Result<Prepared, Stop> {
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        admits(route, req)?;
        let packages = &self.app.packages;
        let package = packages.resolve(route, "package", &fields.package).await?;
        let account = fields.account(package, req);
        let slot = self.app.claim_slot(call, route, &account.username).await?;
        Ok(Prepared { account, slot })
    }

    /// The create's panel call, and its slot settled.
    async fn create(
        &self,
        call: &Call,
        route: &Route,
        prepared: Prepared,
    ) -> Result<Account, Stop> {
        let Prepared { account: new, slot } = prepared;
        let uncertain = call.uncertain();
        let created = call
            .on(route, async |panel| {
                Create {
                    entity: Entity::Account,
                    earlier: || panel.earlier_account(&new),
                    create: || panel.create_account(&new),
                }
                .run(uncertain, || None)
                .await
            })
            .await;
        self.app.settle(call, route, slot, &created).await?;
        created.map(|account| Account {
            server_id: route.server.id.clone(),
            ..account
        })
    }

    pub(super) async fn plan_placement(
        &self,
        call: Call,
        req: PlanPlacementRequest,
    ) -> Body<PlanPlacementResponse> {
        let placement = req
            .placement
            .ok_or_else(|| GatewayError::invalid("placement", "required"))?;
        let default = self.app.placement_strategy;
        let scope = Scope::of("placement", &placement, default, None)?;
        let plan = self.app.plan(&scope, call.groups()).await?;
        Ok(PlanPlacementResponse {
            strategy: scope.strategy().proto().into(),
            candidates: plan
                .candidates
                .iter()
                .zip(1..)
                .map(|(candidate, rank)| PlacementCandidate {
                    server_id: candidate.server.id.clone(),
                    server_name: candidate.server.name.clone(),
                    rank,
                    score: candidate.score,
                    capacity: Some(placement::capacity(&candidate.server, candidate.usage)),
                })
                .collect(),
            passed_over: plan
                .passed_over
                .iter()
                .map(|(server, reason)| PassedOver {
                    server_id: server.id.clone(),
                    server_name: server.name.clone(),
                    reason: (*reason).into(),
                })
                .collect(),
            not_allowed: plan.not_allowed,
        })
    }
}

/// A target naming a server by id.
fn by_id(id: String) -> Option<Target> {
    Some(Target {
        server: Some(target::Server::ServerId(id)),
    })
}

/// Why a placed create's candidate cannot take the account, found before
/// its panel was asked to create it, when another server may: None for
/// failures of the request itself (or of the inventory), which another
/// server would meet too.
fn unable(stop: &Stop) -> Option<PassedOverReason> {
    let Stop::Failed(error) = stop else {
        return None;
    };
    match error {
        GatewayError::ServerFull { .. } => Some(PassedOverReason::Full),
        GatewayError::ServerState { state, .. } => Some(match state {
            ErrorReason::ServerDraining => PassedOverReason::Draining,
            _ => PassedOverReason::Disabled,
        }),
        GatewayError::InvalidArgument { field, .. } if field == "package" => {
            Some(PassedOverReason::LacksPackage)
        }
        GatewayError::Panel {
            error: AdapterError::AlreadyExists { .. },
            ..
        } => None,
        GatewayError::Panel { error, .. } if error.before_any_effect() => {
            Some(PassedOverReason::Unreachable)
        }
        GatewayError::Panel { .. } | GatewayError::Credentials { .. } => {
            Some(PassedOverReason::Failing)
        }
        GatewayError::Inventory(err) if matches!(**err, InventoryError::NotFound { .. }) => {
            Some(PassedOverReason::Failing)
        }
        _ => None,
    }
}

/// A create ready for its panel call.
struct Prepared {
    account: NewAccount,
    slot: Claim,
}

/// The checks of the server itself before an account is created on it: the
/// password its panel needs, its state (its cap is the slot's).
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
        let targeted = req
            .target
            .as_ref()
            .is_some_and(|target| target.server.is_some());
        match (targeted, req.placement.is_some()) {
            (true, false) | (false, true) => Ok(fields),
            (true, true) => Err(GatewayError::invalid(
                "placement",
                "give either a target or a placement, not both",
            )),
            (false, false) => Err(GatewayError::invalid(
                "target",
                "CreateAccount needs the server to create on, or a placement",
            )),
        }
    }

    /// The account to create, with its package resolved on the server.
    fn account(&self, package: PackageRef, req: &CreateAccountRequest) -> NewAccount {
        NewAccount {
            username: self.username.clone(),
            primary_domain: self.primary_domain.clone(),
            email: self.email.clone(),
            password: req.password.clone().into(),
            package,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
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

//! CreateAccount, on a named server or placed (see `placement`), and
//! PlanPlacement.

use panelgate_adapters::{Entity, NewAccount, PackageRef};
use panelgate_inventory::ServerState;
use panelgate_proto::v1::{
    Account, CreateAccountRequest, CreateAccountResponse, ErrorReason, PassedOver,
    PassedOverReason, PlacementCandidate, PlanPlacementRequest, PlanPlacementResponse, Target,
    create_account_request::PanelOptions, target,
};
use panelgate_proto::{Capability, PanelOptions as _};

use super::AccountApi;
use crate::{
    call::{Body, Call, Stop},
    converge::Create,
    error::GatewayError,
    grpc::check_options_kind,
    placement::{self, Scope},
    routing::Route,
    validate,
};

/// Panels tried at most for one placed create that failed before reaching
/// a panel (unreachable, busy, circuit open): the first choice and two more.
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

    /// Creates the account on the best server of `scope` that takes it:
    /// servers that turn out full, draining or without the package are
    /// passed over, and so are up to [`PANELS_TRIED`] − 1 panels that fail
    /// before the call reached them. A retry after an unknown outcome goes
    /// to the server of the first attempt.
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
        let mut plan = self.app.plan(scope, call.groups()).await?;
        let mut panels_failed = 0;
        for candidate in std::mem::take(&mut plan.candidates) {
            let server = candidate.server;
            let tried = match call.route(by_id(server.id.clone()).as_ref()).await {
                Ok(route) => self.create_on(call, &route, fields, req).await,
                Err(err) => Err(err.into()),
            };
            let Err(stop) = tried else {
                return tried;
            };
            let Some(reason) = passed_over(&stop) else {
                return Err(stop);
            };
            if reason == PassedOverReason::Unreachable {
                panels_failed += 1;
                if panels_failed == PANELS_TRIED {
                    return Err(stop);
                }
            }
            plan.passed_over.push((server, reason));
        }
        Err(GatewayError::NoServerAvailable {
            passed_over: plan.summary(),
        }
        .into())
    }

    /// Creates the account on the route's server, holding a slot there
    /// while its panel works.
    async fn create_on(
        &self,
        call: &Call,
        route: &Route,
        fields: &NewFields,
        req: &CreateAccountRequest,
    ) -> Result<Account, Stop> {
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        admits(route, req)?;
        let packages = &self.app.packages;
        let package = packages.resolve(route, "package", &fields.package).await?;
        let new = fields.account(package, req);
        let slot = self
            .app
            .claim_slot(route, &new.username, call.validate_only())
            .await?;
        call.pin_server(&route.server).await?;
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
        self.app.settle(route, slot, &created).await?;
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
        })
    }
}

/// A target naming a server by id.
fn by_id(id: String) -> Option<Target> {
    Some(Target {
        server: Some(target::Server::ServerId(id)),
    })
}

/// Why a placed create's candidate did not take the account, when another
/// may: nothing was done on it.
fn passed_over(stop: &Stop) -> Option<PassedOverReason> {
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
        GatewayError::Panel { error, .. } if error.before_any_effect() => {
            Some(PassedOverReason::Unreachable)
        }
        _ => None,
    }
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

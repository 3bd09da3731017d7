//! The running gateway's shared state ([`App`]) and the life of one call
//! ([`Call`]): routing, the tracing fields, forgetting a server whose panel
//! rejected its credentials, and the journal entry of every mutation.

use std::{sync::Arc, time::Instant};

use chrono::Utc;
use panelgate_adapters::{AdapterError, Entity, Panel, http::Transport};
use panelgate_inventory::{AccountEntry, AccountStatus, Inventory, NewOperation};
use panelgate_proto::v1::{Target, Validation};
use tonic::{Code, Response, Status};
use tracing::{Span, info, warn};

use crate::{
    config::Config,
    error::GatewayError,
    packages::PackageCache,
    routing::{Route, Router},
    validate,
};

/// Who made a call, until caller authentication exists.
const ANONYMOUS: &str = "anonymous";

/// Shared state of the running gateway. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The inventory database.
    pub inventory: Inventory,
    /// Target → server → adapter.
    pub router: Arc<Router>,
    /// Per-server package lists.
    pub packages: Arc<PackageCache>,
}

impl App {
    /// Builds the caches and the HTTP transport around `inventory`.
    pub fn new(inventory: Inventory, config: &Config) -> Result<Self, AdapterError> {
        let transport = Transport::new(config.upstream_timeouts)?;
        Ok(App {
            router: Arc::new(Router::new(inventory.clone(), transport, config)),
            packages: Arc::new(PackageCache::new(config.package_cache_ttl)),
            inventory,
        })
    }

    /// Starts a read-only call of RPC `method` (e.g. "AccountService/GetAccount").
    pub fn read(&self, method: &'static str) -> Call {
        Call::new(self.clone(), method, None)
    }

    /// Starts a mutating call, which is journalled when it ends.
    pub fn mutation(&self, method: &'static str, request_id: &str) -> Call {
        Call::new(self.clone(), method, Some(request_id.to_owned()))
    }

    /// Records an account in the index. The panel is the truth: an index
    /// failure is logged, not returned, so a done change is never reported failed.
    pub async fn index_account(&self, entry: AccountEntry) {
        let username = entry.username.clone();
        if let Err(err) = self.inventory.upsert_account(entry).await {
            warn!(%username, error = %err, "account index not updated");
        }
    }

    /// Sets an indexed account's status (see [`App::index_account`] on failures).
    pub async fn index_status(&self, route: &Route, username: &str, status: AccountStatus) {
        if let Err(err) = self
            .inventory
            .set_account_status(&route.server.id, username, status)
            .await
        {
            warn!(%username, error = %err, "account index not updated");
        }
    }
}

/// One RPC in progress.
pub struct Call {
    app: App,
    method: &'static str,
    request_id: Option<String>,
    resource: String,
    route: Option<Route>,
    /// The account a target-less call was routed to through the index.
    indexed_account: Option<String>,
    started: Instant,
    started_at: chrono::DateTime<Utc>,
}

impl Call {
    fn new(app: App, method: &'static str, request_id: Option<String>) -> Self {
        Call {
            app,
            method,
            request_id,
            resource: String::new(),
            route: None,
            indexed_account: None,
            started: Instant::now(),
            started_at: Utc::now(),
        }
    }

    /// Names what the call is about, e.g. "account/bob", for the journal, and
    /// checks the call's `request_id`. Mutations call it before routing.
    pub fn about(&mut self, resource: String) -> Result<(), GatewayError> {
        self.resource = resource;
        match &self.request_id {
            Some(id) => validate::request_id("request_id", id),
            None => Ok(()),
        }
    }

    /// Turns this call into a validate_only one: nothing will be journalled.
    /// Returns the panel's dry-run view, where the panel has one, to run the
    /// change on; report the outcome with [`validation`].
    pub fn dry_run(&mut self, route: &Route) -> Option<Arc<dyn Panel>> {
        self.request_id = None;
        route.panel.dry_run()
    }

    /// Routes to the server `target` names.
    pub async fn route(&mut self, target: Option<&Target>) -> Result<Route, GatewayError> {
        let route = self.app.router.route(target).await?;
        Ok(self.routed(route))
    }

    /// Routes a call about `username` (by target, or by the account index).
    pub async fn route_account(
        &mut self,
        target: Option<&Target>,
        username: &str,
    ) -> Result<Route, GatewayError> {
        let route = self.app.router.route_account(target, username).await?;
        if target.and_then(|target| target.server.as_ref()).is_none() {
            self.indexed_account = Some(username.to_owned());
        }
        Ok(self.routed(route))
    }

    fn routed(&mut self, route: Route) -> Route {
        let span = Span::current();
        span.record("server_id", route.server.id.as_str());
        span.record("panel_kind", panelgate_adapters::kind_name(route.kind));
        self.route = Some(route.clone());
        route
    }

    /// Ends the call: logs it, reacts to what the panel said (a credential
    /// rejection starts a backoff, an unusable configuration is forgotten, an
    /// account the index pointed to but the panel lacks leaves the index),
    /// journals mutations, and turns the outcome into a gRPC reply.
    pub async fn finish<T>(self, result: Result<T, GatewayError>) -> Result<Response<T>, Status> {
        let elapsed = self.started.elapsed();
        if let (Some(route), Err(GatewayError::Panel { error, .. })) = (&self.route, &result) {
            self.learn(route, error).await;
        }
        let outcome = result.map_err(Status::from);
        let latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Ok(_) => info!(method = self.method, latency_ms, "call done"),
            Err(status) if is_our_trouble(status.code()) => warn!(
                method = self.method,
                latency_ms,
                code = code_name(status.code()),
                message = status.message(),
                "call failed"
            ),
            Err(status) => info!(
                method = self.method,
                latency_ms,
                code = code_name(status.code()),
                message = status.message(),
                "call failed"
            ),
        }
        if let Some(request_id) = self.request_id {
            let entry = NewOperation {
                request_id: (!request_id.is_empty()).then_some(request_id),
                caller: ANONYMOUS.to_owned(),
                method: self.method.to_owned(),
                server_id: self.route.as_ref().map(|route| route.server.id.clone()),
                resource: self.resource,
                request_digest: None,
                outcome: match &outcome {
                    Ok(_) => "OK".to_owned(),
                    Err(status) => code_name(status.code()).to_owned(),
                },
                error_message: outcome
                    .as_ref()
                    .err()
                    .map(|status| status.message().to_owned()),
                response: None,
                started_at: self.started_at,
                finished_at: Utc::now(),
            };
            if let Err(err) = self.app.inventory.record_operation(entry).await {
                warn!(method = self.method, error = %err, "operation not journalled");
            }
        }
        outcome.map(Response::new)
    }

    async fn learn(&self, route: &Route, error: &AdapterError) {
        match error {
            AdapterError::CredentialsRejected { .. } => {
                warn!(server = %route.server.name, "the panel rejected panelgate's credentials: calls fail fast for a while");
                self.app
                    .router
                    .remember_rejection(&route.server, error.clone())
                    .await;
            }
            AdapterError::Misconfigured(_) => self.app.router.forget(&route.server).await,
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            } => {
                // The index pointed here, but the panel no longer has the account.
                let Some(username) = &self.indexed_account else {
                    return;
                };
                let removed = self
                    .app
                    .inventory
                    .remove_account(&route.server.id, username)
                    .await;
                if let Err(err) = removed {
                    warn!(%username, error = %err, "account index not updated");
                }
            }
            _ => {}
        }
    }
}

/// What a validate_only call checked, given the dry-run view it had.
pub fn validation(dry_run: &Option<Arc<dyn Panel>>) -> Validation {
    Validation {
        panel_consulted: dry_run.is_some(),
    }
}

/// Failures that are panelgate's or a panel's trouble rather than the caller's.
fn is_our_trouble(code: Code) -> bool {
    matches!(
        code,
        Code::Internal
            | Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Unknown
            | Code::DataLoss
    )
}

/// A status code's canonical name, e.g. "NOT_FOUND".
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

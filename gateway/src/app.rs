//! The running gateway's shared state ([`App`]) and the life of one call
//! ([`Call`]): routing within the caller's groups, the tracing fields,
//! forgetting a server whose panel rejected its credentials, and the journal
//! entry of every mutation, which also makes it idempotent (see `idempotency`).

use std::{collections::BTreeSet, sync::Arc, time::Instant};

use chrono::Utc;
use panelgate_adapters::{AdapterError, Entity, Panel, http::Transport, metrics::PanelMetrics};
use panelgate_inventory::{
    AccountEntry, AccountStatus, Inventory, OperationEnd, OperationStart, ServerRecord,
};
use panelgate_proto::v1::{Target, Validation};
use prost::Message;
use secrecy::SecretString;
use tonic::{Code, Request, Response, Status};
use tracing::{Span, info, warn};

use crate::{
    auth::Caller,
    config::Config,
    error::{GatewayError, mask_secrets},
    idempotency::{self, Claimed, Mutation},
    leases::Leases,
    packages::PackageCache,
    routing::{Route, Router},
    validate,
};

/// Shared state of the running gateway. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The inventory database.
    pub inventory: Inventory,
    /// Target → server → adapter.
    pub router: Arc<Router>,
    /// Per-server package lists.
    pub packages: Arc<PackageCache>,
    /// The journal claims of the mutations running here.
    pub leases: Leases,
}

impl App {
    /// Builds the caches and the HTTP transport around `inventory`, recording
    /// into `metrics`.
    pub fn new(
        inventory: Inventory,
        config: &Config,
        metrics: &PanelMetrics,
    ) -> Result<Self, AdapterError> {
        let transport = Transport::new(config.upstream_timeouts, metrics.clone())?;
        Ok(App {
            router: Arc::new(Router::new(
                inventory.clone(),
                transport,
                config,
                metrics.clone(),
            )),
            packages: Arc::new(PackageCache::new(config.package_cache_ttl, metrics.clone())),
            leases: Leases::default(),
            inventory,
        })
    }

    /// Starts a read-only call of RPC `method` (e.g. "AccountService/GetAccount");
    /// returns the call and the request to run it with.
    pub fn read<M>(&self, request: Request<M>, method: &'static str) -> (Call, M) {
        let caller = Caller::of(&request);
        (
            Call::new(self.clone(), caller, method),
            request.into_inner(),
        )
    }

    /// Starts a mutating call: journals it, and claims its `request_id` so
    /// that a retry never runs it twice. Returns the call and the request to
    /// run it with, or the reply when there is nothing to run: the stored
    /// outcome of an earlier call with this `request_id`, or a refusal.
    pub async fn mutation<M: Mutation, T: Message + Default>(
        &self,
        request: Request<M>,
        method: &'static str,
    ) -> Result<(Call, M), Result<Response<T>, Status>> {
        let caller = Caller::of(&request);
        let req = request.into_inner();
        let mut call = Call::new(self.clone(), caller, method);
        call.secrets = req
            .secret_values()
            .into_iter()
            .map(|value| SecretString::from(value.to_owned()))
            .collect();
        if let Err(err) = validate::request_id("request_id", req.request_id()) {
            return Err(call.finish(Err(err)).await);
        }
        if req.validate_only() {
            return Ok((call, req));
        }
        let request_id = (!req.request_id().is_empty()).then(|| req.request_id().to_owned());
        // Only a request_id's replays need the digest and the reply.
        let digest = request_id
            .as_ref()
            .map(|_| idempotency::request_digest(&req))
            .unwrap_or_default();
        let keyed = request_id.is_some();
        let start = || OperationStart {
            caller: call.caller.subject.clone(),
            request_id: request_id.clone(),
            method: method.to_owned(),
            resource: String::new(),
            server_id: None,
            digest: digest.clone(),
            started_at: Utc::now(),
        };
        let claimed = idempotency::claim_or_wait(&self.inventory, start).await;
        match claimed {
            Ok(Claimed::Run { id, uncertain }) => {
                self.leases.hold(&id);
                call.journal = Some(Journal {
                    id,
                    uncertain,
                    keyed,
                });
                Ok((call, req))
            }
            Ok(Claimed::Replay(stored)) => {
                info!(
                    method,
                    "request_id seen before: its stored outcome is replayed"
                );
                Err(idempotency::replay(&stored))
            }
            Err(err) => Err(call.finish(Err(err)).await),
        }
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
    caller: Caller,
    method: &'static str,
    /// The journal entry of a mutation (None for reads and validate_only calls).
    journal: Option<Journal>,
    resource: String,
    /// The server the call is about, once known.
    server_id: Option<String>,
    /// The request's secrets, masked in whatever the call reports.
    secrets: Vec<SecretString>,
    route: Option<Route>,
    /// The account a target-less call was routed to through the index.
    indexed_account: Option<String>,
    started: Instant,
}

/// A mutation's claimed journal entry.
struct Journal {
    id: String,
    uncertain: bool,
    /// The call has a request_id, so its reply is stored for replays.
    keyed: bool,
}

impl Call {
    fn new(app: App, caller: Caller, method: &'static str) -> Self {
        Call {
            app,
            caller,
            method,
            journal: None,
            resource: String::new(),
            server_id: None,
            secrets: Vec::new(),
            route: None,
            indexed_account: None,
            started: Instant::now(),
        }
    }

    /// Names what the call is about, e.g. "account/bob", for the journal.
    pub fn about(&mut self, resource: String) {
        self.resource = resource;
    }

    /// Names the server the call is about, for the journal (routing does it
    /// for calls that reach a panel).
    pub fn on_server(&mut self, server: &ServerRecord) {
        Span::current().record("server_id", server.id.as_str());
        self.server_id = Some(server.id.clone());
    }

    /// Whether an earlier attempt with this call's `request_id` ended without
    /// a known outcome (it timed out, failed in transit, or its gateway
    /// stopped): the panel may have done the change already.
    pub fn uncertain(&self) -> bool {
        self.journal
            .as_ref()
            .is_some_and(|journal| journal.uncertain)
    }

    /// The server `target` names, if the caller may use it.
    pub async fn server(
        &mut self,
        target: Option<&Target>,
    ) -> Result<Arc<ServerRecord>, GatewayError> {
        let server = self.app.router.server(target).await?;
        self.allow_group(&server.group)?;
        self.on_server(&server);
        Ok(server)
    }

    /// Refuses servers of inventory groups the caller's token is not limited to.
    pub fn allow_group(&self, group: &str) -> Result<(), GatewayError> {
        if self.caller.may_use_group(group) {
            return Ok(());
        }
        Err(GatewayError::PermissionDenied {
            reason: "GROUP_NOT_ALLOWED",
            message: format!("the token is not valid for servers of group `{group}`"),
        })
    }

    /// The inventory groups the caller is limited to (None: all).
    pub fn groups(&self) -> Option<&BTreeSet<String>> {
        self.caller.groups.as_ref()
    }

    /// Routes to the server `target` names.
    pub async fn route(&mut self, target: Option<&Target>) -> Result<Route, GatewayError> {
        let route = self.app.router.route(target).await?;
        self.routed(route)
    }

    /// Routes a call about `username` (by target, or by the account index).
    pub async fn route_account(
        &mut self,
        target: Option<&Target>,
        username: &str,
    ) -> Result<Route, GatewayError> {
        let route = self
            .app
            .router
            .route_account(target, username, self.caller.groups.as_ref())
            .await?;
        if target.and_then(|target| target.server.as_ref()).is_none() {
            self.indexed_account = Some(username.to_owned());
        }
        self.routed(route)
    }

    fn routed(&mut self, route: Route) -> Result<Route, GatewayError> {
        self.allow_group(&route.server.group)?;
        Span::current().record("panel_kind", panelgate_adapters::kind_name(route.kind));
        self.on_server(&route.server);
        self.route = Some(route.clone());
        Ok(route)
    }

    /// Ends the call: logs it, reacts to what the panel said (a credential
    /// rejection starts a backoff, an unusable configuration is forgotten, an
    /// account the index pointed to but the panel lacks leaves the index),
    /// finishes a mutation's journal entry, and turns the outcome into a gRPC
    /// reply.
    pub async fn finish<T: Message>(
        mut self,
        result: Result<T, GatewayError>,
    ) -> Result<Response<T>, Status> {
        let elapsed = self.started.elapsed();
        if let (Some(route), Err(GatewayError::Panel { error, .. })) = (&self.route, &result) {
            self.learn(route, error).await;
        }
        let outcome = result
            .map(Response::new)
            .map_err(|err| mask_secrets(Status::from(err), &self.secrets));
        let latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Ok(_) => info!(method = self.method, latency_ms, "call done"),
            Err(status) if is_our_trouble(status.code()) => warn!(
                method = self.method,
                latency_ms,
                code = code_name(status.code()),
                error = status.message(),
                "call failed"
            ),
            Err(status) => info!(
                method = self.method,
                latency_ms,
                code = code_name(status.code()),
                error = status.message(),
                "call failed"
            ),
        }
        if let Some(journal) = self.journal.take() {
            self.app.leases.release(&journal.id);
            let end = self.end(
                outcome.as_ref().err().map_or(Code::Ok, Status::code),
                outcome
                    .as_ref()
                    .err()
                    .map(|status| status.message().to_owned()),
                journal.keyed.then(|| idempotency::stored_reply(&outcome)),
            );
            if let Err(err) = self.app.inventory.finish_operation(&journal.id, end).await {
                warn!(method = self.method, error = %err, "operation not journalled");
            }
        }
        outcome
    }

    /// How the call's journal entry ends.
    fn end(
        &mut self,
        code: Code,
        error_message: Option<String>,
        reply: Option<Vec<u8>>,
    ) -> OperationEnd {
        OperationEnd {
            server_id: self.server_id.clone(),
            resource: std::mem::take(&mut self.resource),
            outcome: code_name(code).to_owned(),
            error_message,
            reply,
            retryable: idempotency::is_retryable(code),
            finished_at: Utc::now(),
        }
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

impl Drop for Call {
    /// A mutation dropped before it finished (its caller went away mid-call)
    /// leaves its entry retryable and uncertain, so a retry runs again,
    /// checking first whether the change was made.
    fn drop(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        self.app.leases.release(&journal.id);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let end = self.end(
            Code::Cancelled,
            Some("the caller went away before the call ended".to_owned()),
            None,
        );
        let inventory = self.app.inventory.clone();
        let method = self.method;
        runtime.spawn(async move {
            if let Err(err) = inventory.finish_operation(&journal.id, end).await {
                warn!(method, error = %err, "cancelled operation not journalled");
            }
        });
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

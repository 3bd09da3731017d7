//! One RPC in progress ([`Call`]), as its body sees it: what it is about,
//! routing within the caller's groups with the RPC's capability checked, the
//! one way to reach the panel ([`Call::on`], which is also the one
//! validate_only path), and how the call ends (log, journal entry, what the
//! panel's failure teaches, the gRPC reply). The runner is in `runner`.

use std::{
    future::Future,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use chrono::Utc;
use panelgate_adapters::{AdapterError, Entity, Panel};
use panelgate_inventory::{InventoryError, OperationEnd, ServerRecord};
use panelgate_proto::{
    ErrorClass, Rpc, RpcFacts, code_name,
    v1::{ErrorReason, Target, Validation},
};
use secrecy::SecretString;
use tonic::{Response, Status};
use tracing::{Span, info, warn};

use crate::{
    app::App,
    auth::Caller,
    error::{GatewayError, class_of, mask_secrets},
    idempotency,
    routing::{Read, Route},
};

/// What an RPC answers.
pub type RpcResult<T> = Result<Response<T>, Status>;

/// What an RPC's body returns: its reply, or why it stopped.
pub type Body<T> = Result<T, Stop>;

/// Why a body ended without its reply.
#[derive(Debug)]
pub enum Stop {
    /// The call failed.
    Failed(GatewayError),
    /// A validate_only call checked what it could and changed nothing.
    Checked(Validation),
}

impl From<GatewayError> for Stop {
    fn from(error: GatewayError) -> Self {
        Stop::Failed(error)
    }
}

impl From<InventoryError> for Stop {
    fn from(error: InventoryError) -> Self {
        Stop::Failed(error.into())
    }
}

/// One RPC in progress, as its body sees it. Cheap to clone.
#[derive(Clone)]
pub struct Call(Arc<Inner>);

struct Inner {
    app: App,
    caller: Arc<Caller>,
    facts: &'static RpcFacts,
    validate_only: bool,
    /// The request's secrets, masked in whatever the call reports.
    secrets: Vec<SecretString>,
    started: Instant,
    state: Mutex<State>,
}

/// What the call learns as it runs.
#[derive(Default)]
struct State {
    /// The journal entry of a mutation (None for reads and validate_only calls).
    journal: Option<Journal>,
    /// What the call is about, e.g. "account/bob".
    resource: String,
    /// The server the call is about, once known.
    server_id: Option<String>,
    route: Option<Route>,
    /// The account a target-less call was routed to through the index.
    indexed_account: Option<String>,
}

/// A mutation's claimed journal entry.
struct Journal {
    id: String,
    uncertain: bool,
    /// The call has a request_id, so its reply is stored for replays.
    keyed: bool,
}

impl Call {
    /// A call of the RPC `facts` describes, for `caller`.
    pub(crate) fn new(
        app: App,
        caller: Arc<Caller>,
        facts: &'static RpcFacts,
        validate_only: bool,
        secrets: Vec<&str>,
    ) -> Self {
        Call(Arc::new(Inner {
            app,
            caller,
            facts,
            validate_only,
            secrets: secrets
                .into_iter()
                .map(|value| SecretString::from(value.to_owned()))
                .collect(),
            started: Instant::now(),
            state: Mutex::default(),
        }))
    }

    /// The caller's subject, for the journal.
    pub(crate) fn subject(&self) -> &str {
        &self.0.caller.subject
    }

    /// Holds the claimed journal entry `id`, finished with the call.
    pub(crate) fn claimed(&self, id: String, uncertain: bool, keyed: bool) {
        self.state().journal = Some(Journal {
            id,
            uncertain,
            keyed,
        });
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-written: take it as is.
        self.0
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Names what the call is about, e.g. "account/bob", for the journal.
    pub fn about(&self, resource: String) {
        self.state().resource = resource;
    }

    /// Names the server the call is about, for the journal (routing does it
    /// for calls that reach a panel).
    pub fn on_server(&self, server: &ServerRecord) {
        Span::current().record("server_id", server.id.as_str());
        self.state().server_id = Some(server.id.clone());
    }

    /// Whether the call only checks (validate_only), changing nothing.
    pub fn validate_only(&self) -> bool {
        self.0.validate_only
    }

    /// Whether an earlier attempt with this call's `request_id` ended without
    /// a known outcome (it timed out, failed in transit, or its gateway
    /// stopped): the panel may have done the change already.
    pub fn uncertain(&self) -> bool {
        self.state()
            .journal
            .as_ref()
            .is_some_and(|journal| journal.uncertain)
    }

    /// The call's journal entry, once claimed (mutations other than
    /// validate_only).
    pub fn journal_id(&self) -> Option<String> {
        self.state()
            .journal
            .as_ref()
            .map(|journal| journal.id.clone())
    }

    /// The server an earlier attempt with this call's `request_id` sent its
    /// panel call to, when that attempt's outcome is unknown (see
    /// [`Call::pin_server`]).
    pub async fn earlier_server(&self) -> Result<Option<String>, GatewayError> {
        let journal = self
            .state()
            .journal
            .as_ref()
            .map(|journal| (journal.id.clone(), journal.uncertain));
        let Some((id, true)) = journal else {
            return Ok(None);
        };
        Ok(Box::pin(self.0.app.inventory.operation_pin(&id)).await?)
    }

    /// Pins the call's journal entry, before the panel is called, to the
    /// server the call goes to (or unpins it, `None`, when the call failed
    /// for certain), so that a retry after an unknown outcome goes there too
    /// (calls with a `request_id` only).
    pub async fn pin_server(&self, server_id: Option<&str>) -> Result<(), GatewayError> {
        let journal = self
            .state()
            .journal
            .as_ref()
            .map(|journal| (journal.id.clone(), journal.keyed));
        if let Some((id, true)) = journal {
            Box::pin(self.0.app.inventory.pin_operation(&id, server_id)).await?;
        }
        Ok(())
    }

    /// The server `target` names, as the database has it now, if the caller
    /// may use it.
    pub async fn server(&self, target: Option<&Target>) -> Result<Arc<ServerRecord>, GatewayError> {
        let server = self.0.app.router.server(target, Read::Current).await?;
        self.allow_group(&server.group)?;
        self.on_server(&server);
        Ok(server)
    }

    /// Refuses servers of inventory groups the caller's token is not limited to.
    pub fn allow_group(&self, group: &str) -> Result<(), GatewayError> {
        if self.0.caller.may_use_group(group) {
            return Ok(());
        }
        Err(GatewayError::PermissionDenied {
            reason: ErrorReason::GroupNotAllowed,
            message: format!("the token is not valid for servers of group `{group}`"),
        })
    }

    /// The inventory groups the caller is limited to (None: all).
    pub fn groups(&self) -> Option<&std::collections::BTreeSet<String>> {
        self.0.caller.groups.as_ref()
    }

    /// Routes to the server `target` names, if its panel can run this RPC.
    pub async fn route(&self, target: Option<&Target>) -> Result<Route, GatewayError> {
        let route = self.0.app.router.route(target, self.read()).await?;
        self.routed(route)
    }

    /// Where routing reads the server's record: a mutation acts on the
    /// database's (its state, its existence), a read may use the cache.
    fn read(&self) -> Read {
        if self.0.facts.journalled {
            Read::Current
        } else {
            Read::Cached
        }
    }

    /// Routes a call about `username` (by target, or by the account index),
    /// if the panel can run this RPC.
    pub async fn route_account(
        &self,
        target: Option<&Target>,
        username: &str,
    ) -> Result<Route, GatewayError> {
        let route = self
            .0
            .app
            .router
            .route_account(target, username, self.groups(), self.read())
            .await?;
        if target.and_then(|target| target.server.as_ref()).is_none() {
            self.state().indexed_account = Some(username.to_owned());
        }
        self.routed(route)
    }

    fn routed(&self, route: Route) -> Result<Route, GatewayError> {
        self.allow_group(&route.server.group)?;
        Span::current().record("panel_kind", panelgate_adapters::kind_name(route.kind));
        self.on_server(&route.server);
        self.state().route = Some(route.clone());
        if let Some(capability) = self.0.facts.capability {
            route.require(capability)?;
        }
        Ok(route)
    }

    /// Runs `work` on the route's panel, its failure naming the server. A
    /// validate_only call runs it on the panel's dry-run view instead (when
    /// the panel has one) and then stops with what it checked.
    pub async fn on<T, Fut>(
        &self,
        route: &Route,
        work: impl FnOnce(Arc<dyn Panel>) -> Fut,
    ) -> Result<T, Stop>
    where
        Fut: Future<Output = Result<T, AdapterError>>,
    {
        if !self.0.validate_only {
            return work(route.panel.clone())
                .await
                .map_err(|err| route.fail(err).into());
        }
        let dry_run = route.panel.dry_run();
        let panel_consulted = dry_run.is_some();
        if let Some(panel) = dry_run {
            work(panel).await.map_err(|err| route.fail(err))?;
        }
        Err(Stop::Checked(Validation { panel_consulted }))
    }

    /// Ends the call: logs it, reacts to what the panel said (a credential
    /// rejection starts a backoff, an unusable configuration is forgotten, an
    /// account the index pointed to but the panel lacks leaves the index),
    /// finishes a mutation's journal entry, and turns the outcome into a gRPC
    /// reply.
    pub(crate) async fn finish<R: Rpc>(self, result: Body<R::Reply>) -> RpcResult<R::Reply> {
        let latency_ms = u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let method = self.0.facts.method();
        let failed = match result {
            Ok(reply) => Ok(reply),
            Err(Stop::Checked(validation)) => Ok(R::checked(validation)),
            Err(Stop::Failed(error)) => Err(error),
        };
        if let Err(GatewayError::Panel { error, .. }) = &failed {
            let route = self.state().route.clone();
            if let Some(route) = route {
                Box::pin(self.learn(&route, error)).await;
            }
        }
        let class = class_of(failed.as_ref().err());
        let reply = failed
            .map(Response::new)
            .map_err(|err| mask_secrets(Status::from(err), &self.0.secrets));
        match &reply {
            Ok(_) => info!(method, latency_ms, "call done"),
            Err(status) if class.ours => warn!(
                method,
                latency_ms,
                code = code_name(class.code),
                error = status.message(),
                "call failed"
            ),
            Err(status) => info!(
                method,
                latency_ms,
                code = code_name(class.code),
                error = status.message(),
                "call failed"
            ),
        }
        let journal = self.state().journal.take();
        if let Some(journal) = journal {
            self.0.app.leases.release(&journal.id);
            let end = self.0.end(
                class,
                reply
                    .as_ref()
                    .err()
                    .map(|status| status.message().to_owned()),
                journal.keyed.then(|| idempotency::stored_reply(&reply)),
            );
            // Boxed: the journal's futures are large, and most calls are reads.
            let finished = Box::pin(self.0.app.inventory.finish_operation(&journal.id, end));
            if let Err(err) = finished.await {
                warn!(method, error = %err, "operation not journalled");
            }
        }
        reply
    }

    async fn learn(&self, route: &Route, error: &AdapterError) {
        let router = &self.0.app.router;
        match error {
            AdapterError::CredentialsRejected { .. } => {
                warn!(server = %route.server.name, "the panel rejected panelgate's credentials: calls fail fast for a while");
                router.remember_rejection(&route.server, error.clone());
            }
            AdapterError::Misconfigured(_) => router.forget(&route.server.id).await,
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            } => {
                // The index pointed here, but the panel no longer has the account.
                let indexed = self.state().indexed_account.clone();
                if let Some(username) = indexed {
                    self.0.app.index_removed(&route.server.id, &username).await;
                }
            }
            _ => {}
        }
    }
}

impl Inner {
    /// How the call's journal entry ends.
    fn end(
        &self,
        class: ErrorClass,
        error_message: Option<String>,
        reply: Option<Vec<u8>>,
    ) -> OperationEnd {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        OperationEnd {
            server_id: state.server_id.clone(),
            resource: std::mem::take(&mut state.resource),
            outcome: code_name(class.code).to_owned(),
            error_message,
            reply,
            retryable: class.retryable,
            finished_at: Utc::now(),
        }
    }
}

impl Drop for Inner {
    /// A mutation dropped before it finished (its caller went away mid-call)
    /// leaves its entry retryable and uncertain, so a retry runs again,
    /// checking first whether the change was made.
    fn drop(&mut self) {
        let journal = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .journal
            .take();
        let Some(journal) = journal else {
            return;
        };
        self.app.leases.release(&journal.id);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let end = self.end(
            ErrorClass::CANCELLED,
            Some("the caller went away before the call ended".to_owned()),
            None,
        );
        let inventory = self.app.inventory.clone();
        let method = self.facts.method();
        runtime.spawn(async move {
            if let Err(err) = inventory.finish_operation(&journal.id, end).await {
                warn!(method, error = %err, "cancelled operation not journalled");
            }
        });
    }
}

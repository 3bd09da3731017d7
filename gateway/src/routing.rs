//! Routing: a request's `Target` (or, for account calls without one, the
//! account index) → the server record → that server's adapter. Records are
//! cached in moka for a short TTL, adapters for as long as their record's
//! version lasts; both are dropped when the server changes (here, or on
//! another replica: see `changes`), so steady-state calls make no inventory
//! query. Mutations read the record from the database instead
//! ([`Read::Current`]): a decision about a server's state or existence is
//! never taken on a stale copy.

use std::{collections::BTreeSet, sync::Arc};

use moka::future::Cache;
use panelgate_adapters::{
    AdapterError, Panel, PanelConfig, PanelCredentials, build_panel,
    http::{TlsOptions, Transport},
    kind_from_name,
    metrics::PanelMetrics,
    session::Sessions,
};
use panelgate_inventory::{Inventory, InventoryError, ServerRecord, ServerState};
use panelgate_proto::Capability;
use panelgate_proto::v1::{Credentials, ErrorReason, PanelKind, Target, target};
use prost::Message;
use secrecy::ExposeSecret;

use crate::{
    caches::{self, Budget},
    config::Config,
    error::{GatewayError, ServerContext},
};

/// Where a server's record is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The cache (at most the cache TTL old, if a change notification was
    /// missed).
    Cached,
    /// The database, refreshing the cache.
    Current,
}

/// One routed call: the server and its adapter.
#[derive(Clone)]
pub struct Route {
    /// The server record.
    pub server: Arc<ServerRecord>,
    /// Its panel kind.
    pub kind: PanelKind,
    /// Its adapter.
    pub panel: Arc<dyn Panel>,
}

impl Route {
    /// Where errors of this call happened.
    pub fn context(&self) -> ServerContext {
        context(&self.server, self.kind)
    }

    /// Wraps an adapter error with this server's context.
    pub fn fail(&self, error: AdapterError) -> GatewayError {
        GatewayError::Panel {
            server: Box::new(self.context()),
            error,
        }
    }

    /// UNIMPLEMENTED unless the panel supports `capability`.
    pub fn require(&self, capability: Capability) -> Result<(), GatewayError> {
        if self.panel.capabilities().contains(&capability) {
            Ok(())
        } else {
            Err(self.fail(AdapterError::Unsupported { capability }))
        }
    }
}

/// Finds servers and their adapters.
pub struct Router {
    inventory: Inventory,
    transport: Transport,
    by_id: Cache<String, Arc<ServerRecord>>,
    id_by_name: Cache<String, String>,
    /// Adapters, keyed by server id and record version, so an adapter always
    /// matches the record it was built from.
    panels: Cache<(String, i64), Arc<dyn Panel>>,
    sessions: Sessions,
    metrics: PanelMetrics,
}

impl Router {
    /// A router over `inventory`, caching per `config`, counting cache
    /// lookups and logins in `metrics`.
    pub fn new(
        inventory: Inventory,
        transport: Transport,
        config: &Config,
        metrics: PanelMetrics,
    ) -> Self {
        let budget = Budget::mib(config.cache_memory_mib);
        let ttl = Some(config.server_cache_ttl);
        Router {
            inventory,
            transport,
            by_id: caches::weighed(
                budget.servers() / 4 * 3,
                ttl,
                |_, server: &Arc<ServerRecord>| caches::record_bytes(server),
            ),
            id_by_name: caches::weighed(budget.servers() / 4, ttl, |name: &String, id: &String| {
                name.len() + id.len()
            }),
            panels: caches::weighed(
                budget.adapters(),
                None,
                |(id, _): &(String, i64), _: &Arc<dyn Panel>| caches::adapter_bytes(id),
            ),
            sessions: Sessions::new(metrics.clone()),
            metrics,
        }
    }

    /// The server a target names.
    pub async fn server(
        &self,
        target: Option<&Target>,
        read: Read,
    ) -> Result<Arc<ServerRecord>, GatewayError> {
        match target.and_then(|target| target.server.as_ref()) {
            Some(target::Server::ServerId(id)) if !id.is_empty() => {
                self.server_by_id(id, read).await
            }
            Some(target::Server::ServerName(name)) if !name.is_empty() && read == Read::Current => {
                let found = self.inventory.get_server_by_name(name).await;
                self.refresh(found, async || self.id_by_name.invalidate(name).await)
                    .await
            }
            Some(target::Server::ServerName(name)) if !name.is_empty() => {
                let load = || async {
                    let server = self.inventory.get_server_by_name(name).await?;
                    Ok::<_, GatewayError>(server.id)
                };
                let id = self
                    .metrics
                    .cached("servers", &self.id_by_name, name.clone(), load)
                    .await
                    .map_err(Arc::unwrap_or_clone)?;
                self.server_by_id(&id, read).await
            }
            _ => Err(GatewayError::invalid(
                "target",
                "name the server by server_id or server_name",
            )),
        }
    }

    /// The server with inventory id `id`.
    pub async fn server_by_id(
        &self,
        id: &str,
        read: Read,
    ) -> Result<Arc<ServerRecord>, GatewayError> {
        if read == Read::Current {
            let found = self.inventory.get_server(id).await;
            return self.refresh(found, async || self.reset(id).await).await;
        }
        let load = || async {
            let server = self.inventory.get_server(id).await?;
            Ok::<_, GatewayError>(Arc::new(server))
        };
        self.metrics
            .cached("servers", &self.by_id, id.to_owned(), load)
            .await
            .map_err(Arc::unwrap_or_clone)
    }

    /// Caches a record just read from the database, or, when it is gone,
    /// forgets what it was looked up by (`gone`).
    async fn refresh(
        &self,
        found: Result<ServerRecord, InventoryError>,
        gone: impl AsyncFnOnce(),
    ) -> Result<Arc<ServerRecord>, GatewayError> {
        match found {
            Ok(server) => {
                let server = Arc::new(server);
                self.by_id.insert(server.id.clone(), server.clone()).await;
                self.id_by_name
                    .insert(server.name.clone(), server.id.clone())
                    .await;
                Ok(server)
            }
            Err(err) => {
                if matches!(err, InventoryError::NotFound { .. }) {
                    gone().await;
                }
                Err(err.into())
            }
        }
    }

    /// Routes a call that names its server.
    pub async fn route(&self, target: Option<&Target>, read: Read) -> Result<Route, GatewayError> {
        let server = self.server(target, read).await?;
        self.route_to(server).await
    }

    /// Routes a call about an account: by its target when given, else by the
    /// account index (exactly one server must hold the account; when several
    /// do, the caller's `groups`, if limited, may single one out, and only
    /// servers of those groups are named).
    pub async fn route_account(
        &self,
        target: Option<&Target>,
        username: &str,
        groups: Option<&BTreeSet<String>>,
        read: Read,
    ) -> Result<Route, GatewayError> {
        if target.is_some_and(|target| target.server.is_some()) {
            return self.route(target, read).await;
        }
        // Boxed: the query's future is large, and most calls name their server.
        let ids = Box::pin(self.inventory.servers_for_account(username)).await?;
        match ids.as_slice() {
            [] => Err(GatewayError::AccountNotIndexed {
                username: username.to_owned(),
            }),
            [id] => {
                let server = self.server_by_id(id, read).await?;
                self.route_to(server).await
            }
            several => {
                let mut visible = Vec::with_capacity(several.len());
                for id in several {
                    let server = self.server_by_id(id, read).await?;
                    if groups.is_none_or(|groups| groups.contains(&server.group)) {
                        visible.push(server);
                    }
                }
                match visible.as_slice() {
                    // None of the caller's: routing goes on to refuse the group.
                    [] => {
                        let server = self.server_by_id(&several[0], read).await?;
                        self.route_to(server).await
                    }
                    [server] => self.route_to(server.clone()).await,
                    _ => Err(GatewayError::AccountAmbiguous {
                        username: username.to_owned(),
                        servers: visible.iter().map(|server| server.name.clone()).collect(),
                    }),
                }
            }
        }
    }

    async fn route_to(&self, server: Arc<ServerRecord>) -> Result<Route, GatewayError> {
        if server.state == ServerState::Disabled {
            return Err(GatewayError::ServerState {
                server: server.name.clone(),
                state: ErrorReason::ServerDisabled,
                why: "no call is routed to it",
            });
        }
        self.route_any_state(server).await
    }

    /// Makes calls to `server` fail fast with `error` for a while.
    pub fn remember_rejection(&self, server: &ServerRecord, error: AdapterError) {
        self.transport
            .guards()
            .of(&server.id)
            .reject_credentials(error);
    }

    /// Ends a rejection backoff (the panel accepted the credentials again).
    pub fn clear_rejection(&self, server: &ServerRecord) {
        if let Some(guard) = self.transport.guards().get(&server.id) {
            guard.accept_credentials();
        }
    }

    /// Builds the route to a server whatever its state (for CheckServer, so an
    /// operator can check a disabled server before enabling it).
    pub async fn route_any_state(&self, server: Arc<ServerRecord>) -> Result<Route, GatewayError> {
        let kind = kind_of(&server);
        let panel = self
            .metrics
            .cached("adapters", &self.panels, panel_key(&server), || {
                self.build(&server, kind)
            })
            .await
            .map_err(Arc::unwrap_or_clone)?;
        Ok(Route {
            server,
            kind,
            panel,
        })
    }

    async fn build(
        &self,
        server: &ServerRecord,
        kind: PanelKind,
    ) -> Result<Arc<dyn Panel>, GatewayError> {
        let unreadable = |error: InventoryError| GatewayError::Credentials {
            server: Box::new(context(server, kind)),
            error: Arc::new(error),
        };
        let sealed = self
            .inventory
            .server_credentials(&server.id)
            .await
            .map_err(unreadable)?;
        let credentials = match sealed {
            Some(sealed) => {
                let decoded = Credentials::decode(sealed.expose_secret()).map_err(|_| {
                    unreadable(InventoryError::Crypto {
                        operation: "decryption",
                    })
                })?;
                PanelCredentials::from_proto(decoded)
            }
            None => None,
        };
        let config = PanelConfig {
            server_id: server.id.clone(),
            kind,
            base_url: server.base_url.clone(),
            tls: TlsOptions {
                ca_pem: server.tls.ca_pem.clone(),
                insecure_skip_verify: server.tls.insecure_skip_verify,
            },
            credentials,
            default_php_version: server.default_php_version.clone(),
        };
        build_panel(config, &self.transport, &self.sessions).map_err(|error| GatewayError::Panel {
            server: Box::new(context(server, kind)),
            error,
        })
    }

    /// Drops everything cached about server `id`: its record, the names it
    /// went by, its adapters and its panel session (when its configuration
    /// proved unusable, or a check failed).
    pub async fn forget(&self, id: &str) {
        self.by_id.invalidate(id).await;
        // Only fails when invalidation by predicate is off (see `caches`).
        let server = id.to_owned();
        let _ = self
            .id_by_name
            .invalidate_entries_if(move |_, cached| *cached == server);
        let server = id.to_owned();
        let _ = self
            .panels
            .invalidate_entries_if(move |(cached, _), _| *cached == server);
        self.sessions.forget(id).await;
    }

    /// Starts server `id` afresh (its record changed, or it is gone):
    /// forgets it, and its guard's circuit, health and credentials backoff.
    pub async fn reset(&self, id: &str) {
        self.forget(id).await;
        self.transport.guards().forget(id);
    }

    /// Forgets every server's record and adapter, session and credentials
    /// backoff (after changes may have been missed); circuits and health,
    /// which the panels' answers set, stay.
    pub async fn flush(&self) {
        self.by_id.invalidate_all();
        self.id_by_name.invalidate_all();
        self.panels.invalidate_all();
        self.sessions.forget_all();
        self.transport.guards().accept_all_credentials();
    }

    /// The transport, with every server's guard.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }
}

fn kind_of(server: &ServerRecord) -> PanelKind {
    kind_from_name(&server.kind).unwrap_or(PanelKind::Unspecified)
}

fn context(server: &ServerRecord, kind: PanelKind) -> ServerContext {
    ServerContext {
        id: server.id.clone(),
        name: server.name.clone(),
        kind,
    }
}

/// An adapter's cache key: the server and the version of its record.
fn panel_key(server: &ServerRecord) -> (String, i64) {
    (server.id.clone(), server.updated_at.timestamp_micros())
}

//! Routing: a request's `Target` (or, for account calls without one, the
//! account index) → the server record → that server's adapter. Records and
//! adapters are cached in moka for a short TTL and dropped on update/delete,
//! so steady-state calls make no inventory query.

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
    config::Config,
    error::{GatewayError, ServerContext},
};

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
        Router {
            inventory,
            transport,
            by_id: short_lived(config.server_cache_ttl),
            id_by_name: short_lived(config.server_cache_ttl),
            panels: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(config.server_cache_ttl)
                .build(),
            sessions: Sessions::new(metrics.clone()),
            metrics,
        }
    }

    /// The server a target names.
    pub async fn server(&self, target: Option<&Target>) -> Result<Arc<ServerRecord>, GatewayError> {
        match target.and_then(|target| target.server.as_ref()) {
            Some(target::Server::ServerId(id)) if !id.is_empty() => self.server_by_id(id).await,
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
                self.server_by_id(&id).await
            }
            _ => Err(GatewayError::invalid(
                "target",
                "name the server by server_id or server_name",
            )),
        }
    }

    /// The server with inventory id `id` (cached).
    pub async fn server_by_id(&self, id: &str) -> Result<Arc<ServerRecord>, GatewayError> {
        let load = || async {
            let server = self.inventory.get_server(id).await?;
            Ok::<_, GatewayError>(Arc::new(server))
        };
        self.metrics
            .cached("servers", &self.by_id, id.to_owned(), load)
            .await
            .map_err(Arc::unwrap_or_clone)
    }

    /// Routes a call that names its server.
    pub async fn route(&self, target: Option<&Target>) -> Result<Route, GatewayError> {
        let server = self.server(target).await?;
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
    ) -> Result<Route, GatewayError> {
        if target.is_some_and(|target| target.server.is_some()) {
            return self.route(target).await;
        }
        // Boxed: the query's future is large, and most calls name their server.
        let ids = Box::pin(self.inventory.servers_for_account(username)).await?;
        match ids.as_slice() {
            [] => Err(GatewayError::AccountNotIndexed {
                username: username.to_owned(),
            }),
            [id] => {
                let server = self.server_by_id(id).await?;
                self.route_to(server).await
            }
            several => {
                let mut visible = Vec::with_capacity(several.len());
                for id in several {
                    let server = self.server_by_id(id).await?;
                    if groups.is_none_or(|groups| groups.contains(&server.group)) {
                        visible.push(server);
                    }
                }
                match visible.as_slice() {
                    // None of the caller's: routing goes on to refuse the group.
                    [] => self.route_to(self.server_by_id(&several[0]).await?).await,
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

    /// Drops everything cached about a server's adapter (when its
    /// configuration proved unusable, or a check failed).
    pub async fn forget(&self, server: &ServerRecord) {
        self.by_id.invalidate(&server.id).await;
        self.id_by_name.invalidate(&server.name).await;
        self.panels.invalidate(&panel_key(server)).await;
        self.sessions.forget(&server.id).await;
    }

    /// Starts a server afresh (its record changed, or it is gone): forgets
    /// it, and its guard's circuit, health and credentials backoff.
    pub async fn reset(&self, server: &ServerRecord) {
        self.forget(server).await;
        self.transport.guards().forget(&server.id);
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

/// A cache of at most 10,000 servers' entries, each kept for `ttl`.
fn short_lived<V: Clone + Send + Sync + 'static>(ttl: std::time::Duration) -> Cache<String, V> {
    Cache::builder()
        .max_capacity(10_000)
        .time_to_live(ttl)
        .build()
}

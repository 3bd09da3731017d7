//! InventoryService: the fleet's servers. Credentials are write-only: encoded
//! as the canonical `Credentials` message, sealed by the inventory, never returned.

pub(super) mod fields;
mod view;

use std::{sync::Arc, time::Instant};

use panelgate_adapters::{
    capabilities,
    http::{CallScope, Guards, TlsOptions, Transport},
    kind_from_name, kind_name,
};
use panelgate_inventory::{
    NewServer, PageRequest, ServerFilter, ServerRecord, ServerState as StoredState, ServerUpdate,
    TlsConfig, Usage,
};
use panelgate_proto::v1::{
    CheckServerRequest, CheckServerResponse, DeleteServerRequest, DeleteServerResponse,
    GetServerRequest, GetServerResponse, HealthState, ListServersRequest, ListServersResponse,
    PanelKind, RegisterServerRequest, RegisterServerResponse, Server, UpdateServerRequest,
    UpdateServerResponse, inventory_service_server::InventoryService,
};
use tonic::Status;

use self::{
    fields::{
        labels, optional_text, panel_kind, php_default, sealable_credentials, state, tls_config,
    },
    view::{in_health, server_message, warn_if_insecure},
};
use super::page_size;
use crate::{
    app::App,
    call::{Body, Call},
    error::GatewayError,
    validate,
};

/// The InventoryService implementation.
pub struct InventoryApi {
    app: App,
}

impl InventoryApi {
    /// This replica's guards of the servers' panels.
    fn guards(&self) -> &Guards {
        self.app.router.transport().guards()
    }

    /// Serves the inventory through `app`.
    pub fn new(app: App) -> Self {
        InventoryApi { app }
    }

    /// Checks that a client for the panel at `base_url` can be built with
    /// these TLS settings; `prefix` is where the fields sit in the request.
    fn check_endpoint(
        &self,
        prefix: &str,
        base_url: &str,
        tls: &TlsConfig,
    ) -> Result<(), GatewayError> {
        Transport::check(base_url, &TlsOptions::default())
            .map_err(|err| GatewayError::invalid(format!("{prefix}base_url"), err.to_string()))?;
        let options = TlsOptions {
            ca_pem: tls.ca_pem.clone(),
            insecure_skip_verify: tls.insecure_skip_verify,
        };
        Transport::check(base_url, &options)
            .map_err(|err| GatewayError::invalid(format!("{prefix}tls.ca_pem"), err.to_string()))?;
        Ok(())
    }

    /// The change UpdateServer asks of server `old`, checked.
    fn update(
        &self,
        call: &Call,
        old: &ServerRecord,
        req: UpdateServerRequest,
    ) -> Result<ServerUpdate, GatewayError> {
        let kind = kind_from_name(&old.kind).unwrap_or(PanelKind::Unspecified);
        let tls = req.tls.map(tls_config);
        let base_url = req.base_url.as_deref().unwrap_or(&old.base_url);
        let effective_tls = tls.clone().unwrap_or_else(|| old.tls.clone());
        self.check_endpoint("", base_url, &effective_tls)?;
        let group = req
            .group
            .as_deref()
            .map(|group| optional_text("group", group))
            .transpose()?
            .map(Option::unwrap_or_default);
        if let Some(group) = &group {
            call.allow_group(group)?;
        }
        Ok(ServerUpdate {
            name: req
                .name
                .as_deref()
                .map(|name| validate::server_name("name", name))
                .transpose()?,
            base_url: req.base_url.map(|url| url.trim().to_owned()),
            group,
            labels: req
                .labels
                .map(|set| labels("labels", set.labels))
                .transpose()?,
            state: match req.state {
                Some(value) => Some(state("state", value)?.ok_or_else(|| {
                    GatewayError::invalid("state", "must be ACTIVE, DRAINING or DISABLED")
                })?),
                None => None,
            },
            max_accounts: req.max_accounts,
            priority: req.priority,
            tls,
            default_php_version: req
                .defaults
                .map(|defaults| php_default("defaults", Some(defaults)))
                .transpose()?,
            credentials: sealable_credentials(kind, req.credentials)?,
        })
    }

    /// The server as the API shows it, with its capacity now.
    async fn view(&self, record: &ServerRecord) -> Result<Server, GatewayError> {
        let usage = self.app.inventory.usage(&record.id).await?;
        Ok(server_message(record, self.guards(), usage))
    }

    /// Calls the server's panel with its stored credentials, whatever the
    /// server's state, and reports how that went.
    async fn check(&self, server: Arc<ServerRecord>) -> CheckServerResponse {
        let kind = kind_from_name(&server.kind).unwrap_or(PanelKind::Unspecified);
        let mut response = CheckServerResponse {
            capabilities: capabilities(kind).iter().map(|op| *op as i32).collect(),
            ..Default::default()
        };
        let started = Instant::now();
        let checked = match self.app.router.route_any_state(server.clone()).await {
            Ok(route) => CallScope::probe()
                .run(route.panel.check())
                .await
                .map_err(|err| route.fail(err)),
            Err(err) => Err(err),
        };
        response.latency = prost_types::Duration::try_from(started.elapsed()).ok();
        match checked {
            Ok(check) => {
                self.app.router.clear_rejection(&server);
                response.healthy = true;
                response.panel_version = check.panel_version.unwrap_or_default();
                if let Some(live) = check.capabilities {
                    response.capabilities = live.iter().map(|op| *op as i32).collect();
                }
            }
            Err(err) => {
                if matches!(&err, GatewayError::Panel { .. }) {
                    self.app.router.forget(&server.id).await;
                }
                response.error_reason = err.reason().name().to_owned();
                response.error_message = Status::from(err).message().to_owned();
            }
        }
        response
    }

    async fn register_server(
        &self,
        call: Call,
        req: RegisterServerRequest,
    ) -> Body<RegisterServerResponse> {
        let server = req.server.unwrap_or_default();
        let name = validate::server_name("server.name", &server.name)?;
        call.about(format!("server/{name}"));
        let kind = panel_kind("server.kind", server.kind)?;
        let tls = tls_config(server.tls.unwrap_or_default());
        self.check_endpoint("server.", &server.base_url, &tls)?;
        let credentials = sealable_credentials(kind, req.credentials)?;
        let group = optional_text("server.group", &server.group)?.unwrap_or_default();
        call.allow_group(&group)?;
        let new = NewServer {
            name,
            kind: kind_name(kind).to_owned(),
            base_url: server.base_url.trim().to_owned(),
            group,
            labels: labels("server.labels", server.labels)?,
            state: state("server.state", server.state)?.unwrap_or(StoredState::Active),
            max_accounts: server.max_accounts,
            priority: server.priority,
            tls,
            default_php_version: php_default("server.defaults", server.defaults)?,
        };
        let record = self.app.inventory.create_server(new, credentials).await?;
        call.on_server(&record);
        warn_if_insecure(&record);
        Ok(RegisterServerResponse {
            server: Some(server_message(&record, self.guards(), Usage::default())),
        })
    }

    async fn get_server(&self, call: Call, req: GetServerRequest) -> Body<GetServerResponse> {
        let server = call.server(req.target.as_ref()).await?;
        Ok(GetServerResponse {
            server: Some(self.view(&server).await?),
        })
    }

    async fn list_servers(&self, call: Call, req: ListServersRequest) -> Body<ListServersResponse> {
        let size = page_size(req.page_size)?;
        let ids = match HealthState::try_from(req.health) {
            Ok(HealthState::Unspecified) => None,
            Ok(wanted) => Some(in_health(self.guards(), wanted)),
            Err(_) => {
                let why = "must be HEALTHY, DEGRADED, UNHEALTHY or CIRCUIT_OPEN";
                return Err(GatewayError::invalid("health", why).into());
            }
        };
        let filter = ServerFilter {
            kind: match req.kind {
                0 => None,
                kind => Some(kind_name(panel_kind("kind", kind)?).to_owned()),
            },
            group: optional_text("group", &req.group)?,
            any_group_of: call.groups().cloned(),
            state: state("state", req.state)?,
            labels: req.labels.into_iter().collect(),
            ids,
            with_free_slots: req.with_free_slots,
        };
        let page = PageRequest {
            size: u32::try_from(size).unwrap_or(u32::MAX),
            token: (!req.page_token.is_empty()).then_some(req.page_token),
        };
        let found = self.app.inventory.list_servers(&filter, page).await?;
        let ids: Vec<String> = found.items.iter().map(|record| record.id.clone()).collect();
        let usages = self.app.inventory.usages(&ids).await?;
        Ok(ListServersResponse {
            servers: found
                .items
                .iter()
                .map(|record| {
                    let usage = usages.get(&record.id).copied().unwrap_or_default();
                    server_message(record, self.guards(), usage)
                })
                .collect(),
            next_page_token: found.next_token.unwrap_or_default(),
        })
    }

    async fn update_server(
        &self,
        call: Call,
        req: UpdateServerRequest,
    ) -> Body<UpdateServerResponse> {
        let old = call.server(req.target.as_ref()).await?;
        call.about(format!("server/{}", old.name));
        let update = self.update(&call, &old, req)?;
        let record = self.app.inventory.update_server(&old.id, update).await?;
        self.app.server_changed(&old.id).await;
        warn_if_insecure(&record);
        Ok(UpdateServerResponse {
            server: Some(self.view(&record).await?),
        })
    }

    async fn delete_server(
        &self,
        call: Call,
        req: DeleteServerRequest,
    ) -> Body<DeleteServerResponse> {
        let server = call.server(req.target.as_ref()).await?;
        call.about(format!("server/{}", server.name));
        self.app.inventory.delete_server(&server.id).await?;
        self.app.server_changed(&server.id).await;
        Ok(DeleteServerResponse {})
    }

    async fn check_server(&self, call: Call, req: CheckServerRequest) -> Body<CheckServerResponse> {
        let server = call.server(req.target.as_ref()).await?;
        Ok(self.check(server).await)
    }
}

serve!(InventoryService for InventoryApi {
    register_server(RegisterServerRequest),
    get_server(GetServerRequest),
    list_servers(ListServersRequest),
    update_server(UpdateServerRequest),
    delete_server(DeleteServerRequest),
    check_server(CheckServerRequest),
});

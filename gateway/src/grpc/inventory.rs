//! InventoryService: the fleet's servers. Credentials are write-only: encoded
//! as the canonical `Credentials` message, sealed by the inventory, never returned.

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use panelgate_adapters::{
    KINDS, PanelCredentials, capabilities, check_credentials,
    http::{TlsOptions, Transport},
    kind_from_name, kind_name,
};
use panelgate_inventory::{
    NewServer, PageRequest, ServerFilter, ServerRecord, ServerState as StoredState, ServerUpdate,
    TlsConfig,
};
use panelgate_proto::v1::{
    CheckServerRequest, CheckServerResponse, Credentials, DeleteServerRequest,
    DeleteServerResponse, GetServerRequest, GetServerResponse, ListServersRequest,
    ListServersResponse, PanelKind, RegisterServerRequest, RegisterServerResponse, Server,
    ServerDefaults, ServerState, TlsSettings, UpdateServerRequest, UpdateServerResponse,
    inventory_service_server::InventoryService,
};
use prost::Message;
use secrecy::{ExposeSecret, SecretSlice};
use tonic::Status;
use tracing::warn;

use super::{page_size, timestamp};
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
            tls,
            default_php_version: req
                .defaults
                .map(|defaults| php_default("defaults", Some(defaults)))
                .transpose()?,
            credentials: sealable_credentials(kind, req.credentials)?,
        })
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
            Ok(route) => route.panel.check().await.map_err(|err| route.fail(err)),
            Err(err) => Err(err),
        };
        response.latency = prost_types::Duration::try_from(started.elapsed()).ok();
        match checked {
            Ok(check) => {
                self.app.router.clear_rejection(&server).await;
                response.healthy = true;
                response.panel_version = check.panel_version.unwrap_or_default();
                if let Some(live) = check.capabilities {
                    response.capabilities = live.iter().map(|op| *op as i32).collect();
                }
            }
            Err(err) => {
                if matches!(&err, GatewayError::Panel { .. }) {
                    self.app.router.forget(&server).await;
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
            tls,
            default_php_version: php_default("server.defaults", server.defaults)?,
        };
        let record = self.app.inventory.create_server(new, credentials).await?;
        call.on_server(&record);
        warn_if_insecure(&record);
        Ok(RegisterServerResponse {
            server: Some(server_message(&record)),
        })
    }

    async fn get_server(&self, call: Call, req: GetServerRequest) -> Body<GetServerResponse> {
        let server = call.server(req.target.as_ref()).await?;
        Ok(GetServerResponse {
            server: Some(server_message(&server)),
        })
    }

    async fn list_servers(&self, call: Call, req: ListServersRequest) -> Body<ListServersResponse> {
        let size = page_size(req.page_size)?;
        let filter = ServerFilter {
            kind: match req.kind {
                0 => None,
                kind => Some(kind_name(panel_kind("kind", kind)?).to_owned()),
            },
            group: optional_text("group", &req.group)?,
            any_group_of: call.groups().cloned(),
            state: state("state", req.state)?,
            labels: req.labels.into_iter().collect(),
        };
        let page = PageRequest {
            size: u32::try_from(size).unwrap_or(u32::MAX),
            token: (!req.page_token.is_empty()).then_some(req.page_token),
        };
        let found = self.app.inventory.list_servers(&filter, page).await?;
        Ok(ListServersResponse {
            servers: found.items.iter().map(server_message).collect(),
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
        self.app.router.forget(&old).await;
        self.app.packages.invalidate(&old.id).await;
        warn_if_insecure(&record);
        Ok(UpdateServerResponse {
            server: Some(server_message(&record)),
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
        self.app.router.forget(&server).await;
        self.app.packages.invalidate(&server.id).await;
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

/// The canonical view of a stored server (never its credentials).
fn server_message(record: &ServerRecord) -> Server {
    let kind = kind_from_name(&record.kind).unwrap_or(PanelKind::Unspecified);
    Server {
        id: record.id.clone(),
        name: record.name.clone(),
        kind: kind.into(),
        base_url: record.base_url.clone(),
        group: record.group.clone(),
        labels: record.labels.clone().into_iter().collect(),
        state: match record.state {
            StoredState::Active => ServerState::Active,
            StoredState::Draining => ServerState::Draining,
            StoredState::Disabled => ServerState::Disabled,
        }
        .into(),
        max_accounts: record.max_accounts,
        capabilities: capabilities(kind).iter().map(|op| *op as i32).collect(),
        tls: Some(TlsSettings {
            ca_pem: record.tls.ca_pem.clone().unwrap_or_default(),
            insecure_skip_verify: record.tls.insecure_skip_verify,
        }),
        credentials_set: record.credentials_set,
        defaults: Some(ServerDefaults {
            php_version: record.default_php_version.clone().unwrap_or_default(),
        }),
        create_time: Some(timestamp(record.created_at)),
        update_time: Some(timestamp(record.updated_at)),
    }
}

fn warn_if_insecure(record: &ServerRecord) {
    if record.tls.insecure_skip_verify {
        warn!(server = %record.name, "TLS verification towards this panel is off (tls.insecure_skip_verify)");
    }
}

/// A kind panelgate has an adapter for.
fn panel_kind(field: &str, value: i32) -> Result<PanelKind, GatewayError> {
    let supported = |kind: &PanelKind| !capabilities(*kind).is_empty();
    PanelKind::try_from(value)
        .ok()
        .filter(supported)
        .ok_or_else(|| {
            let known: Vec<&str> = KINDS
                .iter()
                .filter(|kind| supported(kind))
                .map(|kind| kind.as_str_name())
                .collect();
            GatewayError::invalid(
                field,
                format!(
                    "must be a panel kind panelgate has an adapter for: {}",
                    known.join(", ")
                ),
            )
        })
}

/// A server state; None for UNSPECIFIED.
fn state(field: &str, value: i32) -> Result<Option<StoredState>, GatewayError> {
    match ServerState::try_from(value) {
        Ok(ServerState::Unspecified) => Ok(None),
        Ok(ServerState::Active) => Ok(Some(StoredState::Active)),
        Ok(ServerState::Draining) => Ok(Some(StoredState::Draining)),
        Ok(ServerState::Disabled) => Ok(Some(StoredState::Disabled)),
        Err(_) => Err(GatewayError::invalid(
            field,
            "must be ACTIVE, DRAINING or DISABLED",
        )),
    }
}

fn optional_text(field: &str, value: &str) -> Result<Option<String>, GatewayError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    validate::name(field, value, 63).map(Some)
}

/// Labels: keys of letters, digits, '.', '_', '-' or '/' (at most 63), values of
/// at most 63 printable characters.
fn labels(
    field: &str,
    labels: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, GatewayError> {
    let mut checked = BTreeMap::new();
    for (key, value) in labels {
        let key_ok = !key.is_empty()
            && key.len() <= 63
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
        if !key_ok {
            return Err(GatewayError::invalid(
                field,
                format!(
                    "label key `{}`: 1 to 63 letters, digits, '.', '_', '-' or '/'",
                    validate::excerpt(&key)
                ),
            ));
        }
        if value.chars().count() > 63 || value.chars().any(char::is_control) {
            return Err(GatewayError::invalid(
                field,
                format!("label `{key}`: value must be at most 63 printable characters"),
            ));
        }
        checked.insert(key, value);
    }
    Ok(checked)
}

fn tls_config(tls: TlsSettings) -> TlsConfig {
    TlsConfig {
        ca_pem: (!tls.ca_pem.trim().is_empty()).then_some(tls.ca_pem),
        insecure_skip_verify: tls.insecure_skip_verify,
    }
}

fn php_default(
    field: &str,
    defaults: Option<ServerDefaults>,
) -> Result<Option<String>, GatewayError> {
    let version = validate::php_version(
        &format!("{field}.php_version"),
        &defaults.unwrap_or_default().php_version,
    )?;
    Ok((!version.is_empty()).then_some(version))
}

/// Checks credentials against the panel kind and encodes them for sealing.
fn sealable_credentials(
    kind: PanelKind,
    credentials: Option<Credentials>,
) -> Result<Option<SecretSlice<u8>>, GatewayError> {
    let Some(credentials) = credentials else {
        return Ok(None);
    };
    let encoded = credentials.encode_to_vec();
    let Some(parsed) = PanelCredentials::from_proto(credentials) else {
        return Err(GatewayError::invalid(
            "credentials",
            "set credentials.password or credentials.api_token",
        ));
    };
    check_credentials(kind, &parsed)
        .map_err(|reason| GatewayError::invalid("credentials", reason))?;
    match &parsed {
        PanelCredentials::Password { username, password } => {
            if username.trim().is_empty() {
                return Err(GatewayError::invalid(
                    "credentials.password.username",
                    "required",
                ));
            }
            if password.expose_secret().is_empty() {
                return Err(GatewayError::invalid(
                    "credentials.password.password",
                    "required",
                ));
            }
        }
        PanelCredentials::ApiToken(token) => {
            if token.expose_secret().trim().is_empty() {
                return Err(GatewayError::invalid(
                    "credentials.api_token.token",
                    "required",
                ));
            }
        }
    }
    Ok(Some(encoded.into()))
}

//! Secrets never leak. Panel admin credentials and API keys, account, database
//! and panel-admin passwords, login-link tokens, panel session tokens
//! (OpenAdmin's JWTs), the caller's own JWTs and the HS256 secret they are
//! signed with, and the master key go through every call that carries them,
//! successful, refused or failing, first-time or replayed, and then none of
//! them may appear in: the log (captured at TRACE, every target, by a global
//! subscriber this test binary installs), any error message or error detail,
//! any reply (except the login link in its own reply, and Installatron's
//! account replies, which return the caller's own website paths and database
//! passwords as recorded: there only the Debug must hide them), or the
//! inventory database at rest: the bytes of the SQLite file and its WAL, or
//! on PostgreSQL every table dumped through `psql` (secrets searched as text
//! and as hex, for `bytea`). Replies stored for idempotent replays are sealed:
//! their encodings are not in the database either.
//!
//! The flows, one module each:
//! - `every_panel`: the cross-panel suite's `secrets_never_leak` on each
//!   panel: every call that carries the panel's secrets, succeeding and
//!   failing;
//! - [`openadmin`], [`installatron`]: what only those panels do with
//!   secrets (JWT sessions; paths and recorded database passwords);
//! - [`every_rpc`]: all four panels behind one gateway, every panelgate.v1 RPC
//!   driven (checked against the descriptor set) with secret-bearing values,
//!   idempotent replays, reused request ids, and the operation journal;
//! - [`callers`]: refused callers (no token, an expired one, forged and
//!   tampered signatures, missing scopes, other groups) on every RPC;
//! - [`echoes`]: panels that quote a secret back in their refusals.
//!
//! Every flow runs its gateway with a master key of its own (recognisable in
//! raw, base64, hex and Debug forms) and calls it with a caller token it
//! knows, whose full text and signature segment are secrets too.

mod callers;
mod echoes;
mod every_rpc;
mod installatron;
mod openadmin;

/// The cross-panel secrets flow, on every panel and database.
mod every_panel {
    panelgate_tests::every_panel!(suite_tests; secrets_never_leak);
}

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    CreateAccountRequest, CreateDatabaseRequest, Credentials, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, ServerDefaults, account_service_client::AccountServiceClient,
    batch_service_client::BatchServiceClient, credentials,
    database_service_client::DatabaseServiceClient, fleet_service_client::FleetServiceClient,
    inventory_service_client::InventoryServiceClient,
    operation_service_client::OperationServiceClient, server_service_client::ServerServiceClient,
};
use panelgate_tests::{
    Gateway,
    gateway::{Authed, by_name},
    operations,
};
use prost::Message;
use tonic::{
    GrpcMethod, Status,
    service::{Interceptor, interceptor::InterceptedService},
};

// ---------------------------------------------------------------------------
// Which RPCs a flow drove
// ---------------------------------------------------------------------------

/// Every RPC of the panelgate.v1 services, as `/panelgate.v1.Service/Method`,
/// from the descriptor set the gateway serves.
fn descriptor_rpcs() -> BTreeSet<String> {
    let descriptors = prost_types::FileDescriptorSet::decode(panelgate_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    descriptors
        .file
        .iter()
        .filter(|file| file.package() == "panelgate.v1")
        .flat_map(|file| {
            file.service.iter().flat_map(|service| {
                service.method.iter().map(move |method| {
                    format!("/panelgate.v1.{}/{}", service.name(), method.name())
                })
            })
        })
        .collect()
}

/// The RPC a canonical operation is (the method of that name).
fn rpc_of(operation: Capability) -> String {
    let name = format!("/{operation:?}");
    let matching: Vec<String> = descriptor_rpcs()
        .into_iter()
        .filter(|rpc| rpc.ends_with(&name))
        .collect();
    assert_eq!(matching.len(), 1, "one RPC is {operation:?}: {matching:?}");
    matching.into_iter().next().expect("one RPC")
}

/// The RPCs a flow drove with a valid token: every call of an [`Api`]
/// client is recorded as it leaves (the generated clients name their
/// method), and every operation [`Api::dispatch`] calls.
#[derive(Clone, Default)]
struct Driven(Arc<Mutex<BTreeSet<String>>>);

impl Driven {
    fn insert(&self, rpc: String) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(rpc);
    }

    fn rpcs(&self) -> BTreeSet<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Interceptor for Driven {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let method = request
            .extensions()
            .get::<GrpcMethod<'static>>()
            .expect("generated clients name their method");
        self.insert(format!("/{}/{}", method.service(), method.method()));
        Ok(request)
    }
}

/// A channel with the caller's token that records the RPCs it carries.
type Recorded = InterceptedService<Authed, Driven>;

/// Clients of a gateway as one caller, recording what they drive.
struct Api {
    gateway: Gateway,
    driven: Driven,
}

impl Api {
    fn new(gateway: Gateway) -> Self {
        Api {
            gateway,
            driven: Driven::default(),
        }
    }

    fn channel(&self) -> Recorded {
        InterceptedService::new(self.gateway.authed(), self.driven.clone())
    }

    fn inventory(&self) -> InventoryServiceClient<Recorded> {
        InventoryServiceClient::new(self.channel())
    }
    fn accounts(&self) -> AccountServiceClient<Recorded> {
        AccountServiceClient::new(self.channel())
    }
    fn databases(&self) -> DatabaseServiceClient<Recorded> {
        DatabaseServiceClient::new(self.channel())
    }
    fn servers(&self) -> ServerServiceClient<Recorded> {
        ServerServiceClient::new(self.channel())
    }
    fn operations(&self) -> OperationServiceClient<Recorded> {
        OperationServiceClient::new(self.channel())
    }
    fn fleet(&self) -> FleetServiceClient<Recorded> {
        FleetServiceClient::new(self.channel())
    }
    fn batches(&self) -> BatchServiceClient<Recorded> {
        BatchServiceClient::new(self.channel())
    }

    /// One well-formed call of `operation` through the shared dispatcher.
    async fn dispatch(
        &self,
        target: &str,
        operation: Capability,
        username: &str,
    ) -> Result<(), Status> {
        self.driven.insert(rpc_of(operation));
        operations::call(
            &self.gateway,
            by_name(target),
            operation,
            operations::About::account(username),
        )
        .await
    }
}

// ---------------------------------------------------------------------------
// Request builders
// ---------------------------------------------------------------------------

fn password_credentials(password: &str) -> Option<Credentials> {
    Some(Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: "admin".into(),
            password: password.to_owned(),
        })),
    })
}

fn register_request(
    name: &str,
    base_url: &str,
    credentials: Option<Credentials>,
) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::AdminApi.into(),
            base_url: base_url.to_owned(),
            defaults: Some(ServerDefaults {
                php_version: "8.2".into(),
            }),
            ..Default::default()
        }),
        credentials,
        request_id: String::new(),
    }
}

/// An OpenAdmin server logging in as `admin` with `password`.
fn openadmin_register_request(name: &str, base_url: &str, password: &str) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::Openadmin.into(),
            base_url: base_url.to_owned(),
            ..Default::default()
        }),
        credentials: password_credentials(password),
        request_id: String::new(),
    }
}

fn create_account_request(server: &str, username: &str, password: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: password.to_owned(),
        package: "Basic".into(),
        ..Default::default()
    }
}

fn create_database_request(username: &str, name: &str, password: &str) -> CreateDatabaseRequest {
    CreateDatabaseRequest {
        target: None,
        username: username.to_owned(),
        database_name: name.to_owned(),
        database_user: format!("{name}user"),
        database_password: password.to_owned(),
        ..Default::default()
    }
}

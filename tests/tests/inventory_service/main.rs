//! InventoryService over real gRPC, on SQLite and on PostgreSQL: what a server
//! record holds and how it round-trips, how bad input and a missing master key
//! are refused, paging and filters, updates and deletes (and that the router's
//! caches follow them), CheckServer, the server states, and routing by the
//! account index. Every hosting call goes to a simulated admin_api panel over
//! real HTTP.
//!
//! - `registration`: RegisterServer and GetServer, bad input, the master key;
//! - `listing`: ListServers, its pages and filters;
//! - `changes`: UpdateServer and DeleteServer, and the caches that follow;
//! - `states`: CheckServer, the server states and `max_accounts`;
//! - `routing`: the account index, and credentials at rest;
//! - `fleet`: FleetService's refusals of bad input.

mod changes;
mod fleet;
mod listing;
mod registration;
mod routing;
mod states;

use std::{
    collections::BTreeMap,
    time::{SystemTime, UNIX_EPOCH},
};

use panelgate_proto::v1::{
    Account, CheckServerRequest, CheckServerResponse, CreateAccountRequest, Credentials,
    GetAccountRequest, GetServerRequest, ListServersRequest, ListServersResponse, PanelKind,
    PasswordCredentials, RegisterServerRequest, Server, ServerDefaults, Target,
    UpdateServerRequest, credentials,
};
use panelgate_sim::admin_api::{AdminApiConfig, AdminApiSim};
use panelgate_tests::Gateway;
use prost::Message;
use tonic::Status;

/// A self-signed CA certificate (P-256, valid until 2126), for `tls.ca_pem`.
const TEST_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUKNnt26uwoNz/wLQaDtEzaSnTbwIwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRcGFuZWxnYXRlIHRlc3QgQ0EwIBcNMjYxMTIzMDQyNzEzWhgP
MjEyNjEwMzAwNDI3MTNaMBwxGjAYBgNVBAMMEXBhbmVsZ2F0ZSB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnmf3CL5PpVTSlJ2itPJDusldXf7AB9Xl
U6FGKZIOrN5JoderRjbUSngyamA+9JKj/SoG79vCkul3079xEA2YXqNTMFEwHQYD
VR0OBBYEFG6sC5ctAQu7I1sV6+075I9R08d6MB8GA1UdIwQYMBaAFG6sC5ctAQu7
I1sV6+075I9R08d6MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
CgtQXV6guGJ44rTOe2oPbiUPJjwO4s/kgRMVVx1HK54CIQDr0cx9hGMEY07UoFiq
I/qZDi8Axe1ra/hh01JLnZqDtg==
-----END CERTIFICATE-----
";

/// Password credentials.
fn password_credentials(username: &str, password: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })),
    }
}

/// An admin_api server at `base_url`, with the PHP default admin_api needs.
fn admin_api_server(name: &str, base_url: &str) -> Server {
    Server {
        name: name.to_owned(),
        kind: PanelKind::AdminApi.into(),
        base_url: base_url.to_owned(),
        defaults: Some(ServerDefaults {
            php_version: "8.2".to_owned(),
        }),
        ..Default::default()
    }
}

/// Labels from pairs.
fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// Starts an admin_api simulator accepting `admin` / `admin_password`.
async fn start_sim(admin_password: &str) -> AdminApiSim {
    AdminApiSim::start(AdminApiConfig {
        admin_password: admin_password.to_owned(),
        ..AdminApiConfig::default()
    })
    .await
    .expect("start the admin_api simulator")
}

fn seconds_now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_secs()).expect("seconds fit i64")
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

async fn register(
    gateway: &Gateway,
    server: Server,
    credentials: Option<Credentials>,
) -> Result<Server, Status> {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(server),
            credentials,
            request_id: String::new(),
        })
        .await
        .map(|reply| reply.into_inner().server.expect("server in reply"))
}

async fn get_server(gateway: &Gateway, target: Option<Target>) -> Result<Server, Status> {
    gateway
        .inventory()
        .get_server(GetServerRequest { target })
        .await
        .map(|reply| reply.into_inner().server.expect("server in reply"))
}

async fn update_server(gateway: &Gateway, request: UpdateServerRequest) -> Result<Server, Status> {
    gateway
        .inventory()
        .update_server(request)
        .await
        .map(|reply| reply.into_inner().server.expect("server in reply"))
}

async fn list_servers(
    gateway: &Gateway,
    request: ListServersRequest,
) -> Result<ListServersResponse, Status> {
    gateway
        .inventory()
        .list_servers(request)
        .await
        .map(|reply| reply.into_inner())
}

/// Names of every server the filter of `request` lets through (one page).
async fn listed_names(gateway: &Gateway, request: ListServersRequest) -> Vec<String> {
    let page = list_servers(gateway, request).await.expect("list servers");
    assert!(page.next_page_token.is_empty(), "one page: {page:?}");
    page.servers.into_iter().map(|server| server.name).collect()
}

async fn check_server(gateway: &Gateway, target: Option<Target>) -> CheckServerResponse {
    gateway
        .inventory()
        .check_server(CheckServerRequest { target })
        .await
        .expect("CheckServer answers")
        .into_inner()
}

fn new_account(target: Option<Target>, username: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target,
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "first-password-1".to_owned(),
        package: "Basic".to_owned(),
        ..Default::default()
    }
}

async fn create_account(
    gateway: &Gateway,
    target: Option<Target>,
    username: &str,
) -> Result<Account, Status> {
    gateway
        .accounts()
        .create_account(new_account(target, username))
        .await
        .map(|reply| reply.into_inner().account.expect("account in reply"))
}

async fn get_account(
    gateway: &Gateway,
    target: Option<Target>,
    username: &str,
) -> Result<Account, Status> {
    gateway
        .accounts()
        .get_account(GetAccountRequest {
            target,
            username: username.to_owned(),
        })
        .await
        .map(|reply| reply.into_inner().account.expect("account in reply"))
}

/// Asserts `secret` is neither in the encoded reply nor in its Debug text.
#[track_caller]
fn assert_not_in_reply<M: Message + std::fmt::Debug>(reply: &M, secret: &str) {
    let bytes = reply.encode_to_vec();
    assert!(
        !bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes()),
        "secret in the encoded reply"
    );
    assert!(
        !format!("{reply:?}").contains(secret),
        "secret in the reply's Debug"
    );
}

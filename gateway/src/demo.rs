//! `panelgate demo`: the real gateway on a throwaway SQLite database, with a
//! simulated admin_api panel registered through the real InventoryService, so a
//! newcomer can call every service at once.

use std::{future::Future, net::SocketAddr};

use anyhow::Context;
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    Credentials, PanelKind, PasswordCredentials, RegisterServerRequest, Server, ServerDefaults,
    credentials, inventory_service_client::InventoryServiceClient,
};
use panelgate_sim::admin_api::{AdminApiConfig, AdminApiSim};
use tokio::net::TcpListener;
use tracing::warn;

use crate::{config::Config, server};

/// Name of the simulated admin_api server.
const ADMIN_API_SERVER: &str = "ols-demo";

/// Runs the demo until `shutdown` resolves.
pub async fn run(
    listen: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let admin_api_config = AdminApiConfig::default();
    let admin_api = AdminApiSim::start(admin_api_config.clone())
        .await
        .context("cannot start the admin_api simulator")?;

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let database_url = format!(
        "sqlite://{}",
        dir.path().join("panelgate-demo.db").display()
    );
    warn!(
        "demo: throwaway master key and temporary database {database_url}; nothing outlives this run"
    );
    let key = MasterKey::generate().context("cannot generate a throwaway master key")?;
    let config = Config {
        keyring: Some(Keyring::new(key)),
        ..Config::new(database_url)
    };

    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let mut gateway = tokio::spawn(server::serve(listener, config, shutdown));

    let registered = tokio::select! {
        registered = register(addr, &admin_api, &admin_api_config) => registered,
        ended = &mut gateway => return ended.context("gateway task failed")?,
    };
    if let Err(err) = registered {
        gateway.abort();
        return Err(err);
    }
    println!("{}", banner(addr, &admin_api));
    gateway.await.context("gateway task failed")?
}

async fn register(
    addr: SocketAddr,
    admin_api: &AdminApiSim,
    config: &AdminApiConfig,
) -> anyhow::Result<()> {
    let mut client = InventoryServiceClient::connect(format!("http://{addr}"))
        .await
        .context("cannot reach the demo gateway")?;
    client
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: ADMIN_API_SERVER.to_owned(),
                kind: PanelKind::AdminApi.into(),
                base_url: admin_api.base_url(),
                group: "demo".to_owned(),
                labels: [("sim".to_owned(), "true".to_owned())].into(),
                defaults: Some(ServerDefaults {
                    php_version: "8.2".to_owned(),
                }),
                ..Default::default()
            }),
            credentials: Some(Credentials {
                kind: Some(credentials::Kind::Password(PasswordCredentials {
                    username: config.admin_username.clone(),
                    password: config.admin_password.clone(),
                })),
            }),
            request_id: String::new(),
        })
        .await
        .context("cannot register the simulated admin_api server")?;
    Ok(())
}

fn banner(addr: SocketAddr, admin_api: &AdminApiSim) -> String {
    format!(
        "\npanelgate demo is serving gRPC on {addr} (plaintext, reflection on).\n\
         Registered server `{ADMIN_API_SERVER}` (admin_api), simulated at {panel}.\n\n\
         Try (buf curl, or grpcurl -plaintext {addr} ...):\n  \
         buf curl --protocol grpc --http2-prior-knowledge --list-services http://{addr}\n  \
         buf curl --protocol grpc --http2-prior-knowledge -d '{{\"target\":{{\"server_name\":\"{ADMIN_API_SERVER}\"}}}}' \\\n    \
         http://{addr}/panelgate.v1.PackageService/ListPackages\n\n\
         Press Ctrl-C to stop.\n",
        panel = admin_api.base_url(),
    )
}

//! `panelgate demo`: the real gateway on a throwaway SQLite database, with
//! simulated panels (admin_api, OpenAdmin, SPanel, Installatron) registered
//! through the real InventoryService, so a newcomer can call every service at
//! once. Authentication is on, as in production: the demo mints a throwaway
//! secret and prints a token with every scope.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    ApiTokenCredentials, Credentials, PanelKind, PasswordCredentials, RegisterServerRequest,
    Server, ServerDefaults, credentials, inventory_service_client::InventoryServiceClient,
};
use panelgate_sim::{
    admin_api::{AdminApiConfig, AdminApiSim},
    installatron::{InstallatronConfig, InstallatronSim},
    openadmin::{OpenAdminConfig, OpenAdminSim},
    spanel::{SpanelConfig, SpanelSim},
};
use secrecy::SecretBox;
use tokio::net::TcpListener;
use tonic::{service::interceptor::InterceptedService, transport::Channel};
use tracing::warn;

use crate::{
    auth::{Auth, Bearer, KeyMaterial, Tokens, scopes},
    config::Config,
    server,
};

/// How long the demo token is valid.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// A client sending the demo token.
type Client = InventoryServiceClient<InterceptedService<Channel, Bearer>>;

/// Name of the simulated admin_api server.
const ADMIN_API_SERVER: &str = "ols-demo";
/// Name of the simulated OpenAdmin server.
const OPENADMIN_SERVER: &str = "openpanel-demo";
/// Name of the simulated SPanel server.
const SPANEL_SERVER: &str = "spanel-demo";
/// Name of the simulated Installatron server.
const INSTALLATRON_SERVER: &str = "installatron-demo";

/// The simulated panels of a demo.
struct Panels {
    admin_api: AdminApiSim,
    admin_api_config: AdminApiConfig,
    openadmin: OpenAdminSim,
    openadmin_config: OpenAdminConfig,
    spanel: SpanelSim,
    spanel_config: SpanelConfig,
    installatron: InstallatronSim,
    installatron_config: InstallatronConfig,
}

/// Runs the demo until `shutdown` resolves.
pub async fn run(
    listen: SocketAddr,
    metrics_listen: Option<SocketAddr>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let admin_api_config = AdminApiConfig::default();
    let openadmin_config = OpenAdminConfig::default();
    let spanel_config = SpanelConfig::default();
    let installatron_config = InstallatronConfig::default();
    let panels = Panels {
        admin_api: AdminApiSim::start(admin_api_config.clone())
            .await
            .context("cannot start the admin_api simulator")?,
        admin_api_config,
        openadmin: OpenAdminSim::start(openadmin_config.clone())
            .await
            .context("cannot start the OpenAdmin simulator")?,
        openadmin_config,
        spanel: SpanelSim::start(spanel_config.clone())
            .await
            .context("cannot start the SPanel simulator")?,
        spanel_config,
        installatron: InstallatronSim::start(installatron_config.clone())
            .await
            .context("cannot start the Installatron simulator")?,
        installatron_config,
    };

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let database_url = format!(
        "sqlite://{}",
        dir.path().join("panelgate-demo.db").display()
    );
    warn!(
        "demo: throwaway master key and temporary database {database_url}; nothing outlives this run"
    );
    let key = MasterKey::generate().context("cannot generate a throwaway master key")?;
    let tokens = throwaway_tokens()?;
    let all_scopes: Vec<String> = scopes::ALL
        .iter()
        .map(|scope| (*scope).to_owned())
        .collect();
    let token = tokens.issue("demo", &all_scopes, &[], TOKEN_TTL)?;
    let config = Config {
        keyring: Some(Keyring::new(key)),
        auth: Some(Arc::new(Auth {
            tokens,
            // The demo's API may be discovered without a token (see the banner).
            reflection_public: true,
        })),
        metrics_listen,
        ..Config::new(database_url)
    };

    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let mut gateway = tokio::spawn(server::serve(listener, config, shutdown));

    let registered = tokio::select! {
        registered = register(addr, &token, &panels) => registered,
        ended = &mut gateway => return ended.context("gateway task failed")?,
    };
    if let Err(err) = registered {
        gateway.abort();
        return Err(err);
    }
    println!("{}", banner(addr, metrics_listen, &token, &panels));
    gateway.await.context("gateway task failed")?
}

/// Token verification with a random HS256 secret that dies with the demo.
fn throwaway_tokens() -> anyhow::Result<Tokens> {
    let mut secret = vec![0u8; 32];
    aws_lc_rs::rand::fill(&mut secret)
        .map_err(|_| anyhow::anyhow!("cannot generate a token secret"))?;
    let key = KeyMaterial::Hs256(SecretBox::new(secret.into_boxed_slice()));
    Ok(Tokens::new(
        key,
        "panelgate",
        "panelgate",
        Duration::from_secs(60),
    )?)
}

async fn register(addr: SocketAddr, token: &str, panels: &Panels) -> anyhow::Result<()> {
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await
        .context("cannot reach the demo gateway")?;
    let bearer = Bearer::new(token)?;
    let mut client = InventoryServiceClient::with_interceptor(channel, bearer);
    let admin = |config: (&str, &str)| password(config.0, config.1);
    let servers = [
        (
            ADMIN_API_SERVER,
            PanelKind::AdminApi,
            panels.admin_api.base_url(),
            admin((
                &panels.admin_api_config.admin_username,
                &panels.admin_api_config.admin_password,
            )),
        ),
        (
            OPENADMIN_SERVER,
            PanelKind::Openadmin,
            panels.openadmin.base_url(),
            admin((
                &panels.openadmin_config.admin_username,
                &panels.openadmin_config.admin_password,
            )),
        ),
        (
            SPANEL_SERVER,
            PanelKind::Spanel,
            panels.spanel.base_url(),
            api_token(&panels.spanel_config.admin_token),
        ),
        (
            INSTALLATRON_SERVER,
            PanelKind::Installatron,
            panels.installatron.base_url(),
            api_token(&panels.installatron_config.api_key),
        ),
    ];
    for (name, kind, base_url, credentials) in servers {
        let server = Server {
            name: name.to_owned(),
            kind: kind.into(),
            base_url,
            group: "demo".to_owned(),
            labels: [("sim".to_owned(), "true".to_owned())].into(),
            // admin_api creates accounts with the server's PHP version.
            defaults: (kind == PanelKind::AdminApi).then(|| ServerDefaults {
                php_version: "8.2".to_owned(),
            }),
            ..Default::default()
        };
        register_one(&mut client, server, credentials).await?;
    }
    Ok(())
}

fn api_token(token: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
            token: token.to_owned(),
        })),
    }
}

fn password(username: &str, password: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })),
    }
}

async fn register_one(
    client: &mut Client,
    server: Server,
    credentials: Credentials,
) -> anyhow::Result<()> {
    let name = server.name.clone();
    client
        .register_server(RegisterServerRequest {
            server: Some(server),
            credentials: Some(credentials),
            request_id: String::new(),
        })
        .await
        .with_context(|| format!("cannot register the simulated server {name}"))?;
    Ok(())
}

fn banner(
    addr: SocketAddr,
    metrics_listen: Option<SocketAddr>,
    token: &str,
    panels: &Panels,
) -> String {
    let metrics = metrics_listen.map_or_else(String::new, |metrics| {
        format!("Prometheus metrics: curl http://{metrics}/metrics\n\n")
    });
    format!(
        "\npanelgate demo is serving gRPC on {addr} (plaintext; health and reflection are open, every other call needs the token below).\n\
         Registered servers:\n  \
         {ADMIN_API_SERVER} (admin_api), simulated at {admin_api}\n  \
         {OPENADMIN_SERVER} (OpenAdmin), simulated at {openadmin}\n  \
         {SPANEL_SERVER} (SPanel), simulated at {spanel}\n  \
         {INSTALLATRON_SERVER} (Installatron), simulated at {installatron}\n\n\
         A token with every scope, valid for 24 hours:\n\n\
         export PANELGATE_TOKEN={token}\n\n\
         Try (buf curl, or grpcurl -plaintext -H \"authorization: Bearer $PANELGATE_TOKEN\" {addr} ...):\n  \
         buf curl --protocol grpc --http2-prior-knowledge -H \"authorization: Bearer $PANELGATE_TOKEN\" --reflect-header '*' \\\n    \
         --list-services http://{addr}\n  \
         buf curl --protocol grpc --http2-prior-knowledge -H \"authorization: Bearer $PANELGATE_TOKEN\" --reflect-header '*' \\\n    \
         -d '{{\"target\":{{\"server_name\":\"{ADMIN_API_SERVER}\"}}}}' http://{addr}/panelgate.v1.PackageService/ListPackages\n\n\
         {metrics}Press Ctrl-C to stop.\n",
        admin_api = panels.admin_api.base_url(),
        openadmin = panels.openadmin.base_url(),
        spanel = panels.spanel.base_url(),
        installatron = panels.installatron.base_url(),
    )
}

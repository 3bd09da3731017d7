//! What the scenarios drive: the gateway in process on a loopback port (as the
//! end-to-end tests start it) on its runtime, simulated panels on theirs,
//! registered with it, and pools of tonic channels.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use panelgate::{
    Config,
    auth::{Auth, scopes},
};
use panelgate_inventory::{Keyring, MasterKey, testing::TestDatabase};
use panelgate_proto::v1::{
    CreateAccountRequest, GetAccountRequest, RegisterServerRequest, Server, Target,
    account_service_client::AccountServiceClient, inventory_service_client::InventoryServiceClient,
    package_service_client::PackageServiceClient,
};
use panelgate_tests::{
    PanelFixture,
    gateway::{self, Authed, Bearer, Running, TEST_CALLER, by_name, test_tokens},
};
use tempfile::TempDir;
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use crate::{load::Failure, parties::Party};

/// How long the bench's caller token is valid: longer than any run.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Tonic channels to one server, shared by the workers: worker `i` uses
/// channel `i / per_channel` (HTTP/2 multiplexes the calls of one channel
/// over one connection). Every call sends the caller's bearer token. Cheap to
/// clone.
#[derive(Clone)]
pub struct Pool {
    channels: Arc<[Channel]>,
    per_channel: usize,
    bearer: Bearer,
}

impl Pool {
    /// Connects enough channels to `addr` for `workers` workers,
    /// `per_channel` workers each.
    pub async fn connect(
        addr: SocketAddr,
        workers: usize,
        per_channel: usize,
        bearer: Bearer,
    ) -> anyhow::Result<Pool> {
        let per_channel = per_channel.max(1);
        let mut channels = Vec::new();
        for _ in 0..workers.div_ceil(per_channel).max(1) {
            let channel = Channel::from_shared(format!("http://{addr}"))
                .context("server URL")?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true)
                .connect()
                .await
                .with_context(|| format!("connect to {addr}"))?;
            channels.push(channel);
        }
        Ok(Pool {
            channels: channels.into(),
            per_channel,
            bearer,
        })
    }

    /// Worker `worker`'s channel, sending the token.
    pub fn authed(&self, worker: usize) -> Authed {
        let channel = &self.channels[(worker / self.per_channel) % self.channels.len()];
        InterceptedService::new(channel.clone(), self.bearer.clone())
    }

    /// A PackageService client on worker `worker`'s channel.
    pub fn packages(&self, worker: usize) -> PackageServiceClient<Authed> {
        PackageServiceClient::new(self.authed(worker))
    }

    /// An AccountService client on worker `worker`'s channel.
    pub fn accounts(&self, worker: usize) -> AccountServiceClient<Authed> {
        AccountServiceClient::new(self.authed(worker))
    }

    /// An InventoryService client (for setup).
    pub fn inventory(&self) -> InventoryServiceClient<Authed> {
        InventoryServiceClient::new(self.authed(0))
    }
}

/// A bearer token of the test HS256 key with every scope, as the end-to-end
/// tests' clients send, valid for [`TOKEN_TTL`].
pub fn caller_bearer() -> anyhow::Result<Bearer> {
    let scopes: Vec<String> = scopes::ALL
        .iter()
        .map(|scope| (*scope).to_owned())
        .collect();
    let token = test_tokens()
        .issue(TEST_CALLER, &scopes, &[], TOKEN_TTL)
        .context("issue the bench's caller token")?;
    Ok(Bearer::new(&token)?)
}

/// The gateway under load: in process on a loopback port, with its own
/// SQLite inventory, a master key, caller authentication with the test HS256
/// key, and the production defaults for everything else (caches, upstream
/// timeouts).
pub struct BenchGateway {
    running: Running,
    /// Where its Prometheus endpoint listens, when asked for and available.
    pub metrics: Option<SocketAddr>,
    database: TestDatabase,
    _dir: TempDir,
}

impl BenchGateway {
    /// Starts a gateway; with its Prometheus endpoint when `with_metrics`.
    pub async fn start(with_metrics: bool) -> anyhow::Result<BenchGateway> {
        let dir = tempfile::tempdir().context("temporary directory for the inventory")?;
        let database = TestDatabase::sqlite(dir.path());
        let mut config = Config::new(database.url.clone());
        config.keyring = Some(Keyring::new(
            MasterKey::generate().context("random master key")?,
        ));
        config.auth = Some(Arc::new(Auth {
            tokens: test_tokens(),
            reflection_public: false,
        }));
        let metrics = if with_metrics {
            enable_metrics(&mut config)?
        } else {
            None
        };
        let running = Party::Gateway.run(gateway::start(config)).await?;
        Ok(BenchGateway {
            running,
            metrics,
            database,
            _dir: dir,
        })
    }

    /// Where the gateway listens for gRPC.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// Stops the gateway and removes its inventory.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await;
        self.database
            .drop_database()
            .await
            .context("drop the inventory database")
    }
}

/// A simulated panel of fixture `F` with its default configuration, on the
/// panels' runtime.
pub async fn start_panel<F: PanelFixture>() -> anyhow::Result<F> {
    Party::Panel.run(F::start()).await
}

/// Turns on the gateway's Prometheus endpoint on a free loopback port (the
/// gateway binds the address it is given, so a port is picked here first).
fn enable_metrics(config: &mut Config) -> anyhow::Result<Option<SocketAddr>> {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|probe| probe.local_addr())
        .context("find a free loopback port for /metrics")?;
    config.metrics_listen = Some(addr);
    Ok(Some(addr))
}

/// Registers `fixture`'s simulator with the gateway as server `name`, as the
/// end-to-end tests do; returns its id.
pub async fn register<F: PanelFixture>(
    pool: &Pool,
    fixture: &F,
    name: &str,
) -> anyhow::Result<String> {
    let reply = pool
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: F::KIND.into(),
                base_url: fixture.base_url(),
                defaults: fixture.defaults(),
                ..Default::default()
            }),
            credentials: Some(fixture.credentials()),
            request_id: String::new(),
        })
        .await
        .with_context(|| format!("register server {name}"))?;
    let server = reply.into_inner().server.context("no server in reply")?;
    Ok(server.id)
}

/// Creates account `username` on server `server` through the gateway (so the
/// account index knows it), with the fixture's first package.
pub async fn create_account<F: PanelFixture>(
    pool: &Pool,
    fixture: &F,
    server: &str,
    username: &str,
) -> anyhow::Result<()> {
    pool.accounts(0)
        .create_account(CreateAccountRequest {
            target: by_name(server),
            username: username.to_owned(),
            primary_domain: format!("{username}.example"),
            email: format!("{username}@mail.example"),
            password: "bench-password-1".to_owned(),
            package: fixture.packages().0.to_owned(),
            panel_options: fixture.account_options(),
            ..Default::default()
        })
        .await
        .with_context(|| format!("create account {username} on {server}"))?;
    Ok(())
}

/// One GetAccount of `username` on `target`; a reply about anyone else is a
/// failure.
pub async fn get_account(
    mut client: AccountServiceClient<Authed>,
    target: Option<Target>,
    username: &str,
) -> Result<(), Failure> {
    let reply = client
        .get_account(GetAccountRequest {
            target,
            username: username.to_owned(),
        })
        .await?
        .into_inner();
    match reply.account {
        Some(account) if account.username == username => Ok(()),
        other => Err(Failure::new("wrong reply", format!("{other:?}"))),
    }
}

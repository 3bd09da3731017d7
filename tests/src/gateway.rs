//! One gateway per test: started on 127.0.0.1:0 with its own database, torn
//! down after the test body whatever happens in it.

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

pub use panelgate::auth::Bearer;
use panelgate::{
    Config,
    auth::{Auth, KeyMaterial, Tokens, scopes},
};
use panelgate_inventory::{Keyring, MasterKey, testing::TestDatabase};
use panelgate_proto::v1::{
    Target, account_service_client::AccountServiceClient, batch_service_client::BatchServiceClient,
    certificate_service_client::CertificateServiceClient,
    database_service_client::DatabaseServiceClient, domain_service_client::DomainServiceClient,
    fleet_service_client::FleetServiceClient, inventory_service_client::InventoryServiceClient,
    operation_service_client::OperationServiceClient, package_service_client::PackageServiceClient,
    server_service_client::ServerServiceClient, target,
};
use secrecy::SecretBox;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

/// Set to make a missing PostgreSQL a failure instead of a skip (CI sets it).
pub const REQUIRE_POSTGRES_ENV: &str = "PANELGATE_TEST_REQUIRE_POSTGRES";

/// Which inventory database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `PANELGATE_TEST_DATABASE_URL`.
    Postgres,
}

/// Upstream timeout of test gateways: short, so timeout tests are quick.
pub const TEST_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// Issuer and audience of test tokens.
pub const TEST_TOKEN_AUDIENCE: &str = "panelgate-tests";

/// The subject of the token test clients send by default.
pub const TEST_CALLER: &str = "tests";

/// A channel sending a bearer token with every call.
pub type Authed = InterceptedService<Channel, Bearer>;

/// A running gateway, as a test body sees it. Cheap to clone. Its clients
/// send a token with every scope (subject [`TEST_CALLER`]) unless
/// [`Gateway::as_caller`] picked another.
#[derive(Clone, Debug)]
pub struct Gateway {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its inventory database URL.
    pub database_url: String,
    /// The SQLite file, for SQLite backends.
    pub sqlite_file: Option<PathBuf>,
    channel: Channel,
    tokens: Arc<Tokens>,
    bearer: Bearer,
}

impl Gateway {
    /// InventoryService client.
    pub fn inventory(&self) -> InventoryServiceClient<Authed> {
        InventoryServiceClient::new(self.authed())
    }
    /// AccountService client.
    pub fn accounts(&self) -> AccountServiceClient<Authed> {
        AccountServiceClient::new(self.authed())
    }
    /// PackageService client.
    pub fn packages(&self) -> PackageServiceClient<Authed> {
        PackageServiceClient::new(self.authed())
    }
    /// DomainService client.
    pub fn domains(&self) -> DomainServiceClient<Authed> {
        DomainServiceClient::new(self.authed())
    }
    /// DatabaseService client.
    pub fn databases(&self) -> DatabaseServiceClient<Authed> {
        DatabaseServiceClient::new(self.authed())
    }
    /// CertificateService client.
    pub fn certificates(&self) -> CertificateServiceClient<Authed> {
        CertificateServiceClient::new(self.authed())
    }
    /// ServerService client.
    pub fn servers(&self) -> ServerServiceClient<Authed> {
        ServerServiceClient::new(self.authed())
    }
    /// OperationService client.
    pub fn operations(&self) -> OperationServiceClient<Authed> {
        OperationServiceClient::new(self.authed())
    }
    /// FleetService client.
    pub fn fleet(&self) -> FleetServiceClient<Authed> {
        FleetServiceClient::new(self.authed())
    }
    /// BatchService client.
    pub fn batches(&self) -> BatchServiceClient<Authed> {
        BatchServiceClient::new(self.authed())
    }
    /// A channel sending this gateway handle's token (for reflection).
    pub fn authed(&self) -> Authed {
        InterceptedService::new(self.channel.clone(), self.bearer.clone())
    }
    /// A raw channel to the gateway, sending no token (health).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }
    /// A token of this gateway's key for `subject` with `scopes`, limited to
    /// `groups` when given.
    pub fn token(&self, subject: &str, scopes: &[&str], groups: &[&str]) -> String {
        issue(&self.tokens, subject, scopes, groups)
    }
    /// This gateway, called with `token` instead.
    pub fn as_caller(&self, token: &str) -> Gateway {
        Gateway {
            bearer: Bearer::new(token).expect("a token is ASCII"),
            ..self.clone()
        }
    }
}

/// A token of `tokens` for `subject` with `scopes` (and `groups`), valid 10 minutes.
pub fn issue(tokens: &Tokens, subject: &str, scopes: &[&str], groups: &[&str]) -> String {
    let owned = |items: &[&str]| {
        items
            .iter()
            .map(|item| (*item).to_owned())
            .collect::<Vec<_>>()
    };
    tokens
        .issue(
            subject,
            &owned(scopes),
            &owned(groups),
            Duration::from_secs(600),
        )
        .expect("issue a test token")
}

/// The HS256 secret of test gateways: recognisable, so the secret-hygiene
/// tests can look for it.
pub const TEST_TOKEN_SECRET: &str = "SECRET-hs256-caller-token-key-4f1d9a";

/// Token verification with [`TEST_TOKEN_SECRET`].
pub fn test_tokens() -> Tokens {
    Tokens::new(
        KeyMaterial::Hs256(SecretBox::new(
            TEST_TOKEN_SECRET.as_bytes().to_vec().into_boxed_slice(),
        )),
        TEST_TOKEN_AUDIENCE,
        TEST_TOKEN_AUDIENCE,
        Duration::from_secs(5),
    )
    .expect("test token settings")
}

/// A target naming a server by name.
pub fn by_name(name: &str) -> Option<Target> {
    Some(Target {
        server: Some(target::Server::ServerName(name.to_owned())),
    })
}

/// A target naming a server by id.
pub fn by_id(id: &str) -> Option<Target> {
    Some(Target {
        server: Some(target::Server::ServerId(id.to_owned())),
    })
}

/// Runs `body` against a fresh gateway on `backend`, with a master key set and
/// `configure` applied to the defaults. Skips (prints why) when PostgreSQL is
/// asked for but not configured, unless [`REQUIRE_POSTGRES_ENV`] is set.
pub async fn with_gateway<F, Fut>(backend: Backend, configure: impl FnOnce(&mut Config), body: F)
where
    F: FnOnce(Gateway) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = match backend {
        Backend::Sqlite => TestDatabase::sqlite(dir.path()),
        Backend::Postgres => match TestDatabase::postgres_from_env()
            .await
            .expect("create a PostgreSQL test database")
        {
            Some(database) => database,
            None => {
                assert!(
                    std::env::var_os(REQUIRE_POSTGRES_ENV).is_none(),
                    "{REQUIRE_POSTGRES_ENV} is set but PANELGATE_TEST_DATABASE_URL is not"
                );
                eprintln!("skipped: set PANELGATE_TEST_DATABASE_URL to run the PostgreSQL variant");
                return;
            }
        },
    };
    let mut config = test_config(&database.url);
    configure(&mut config);

    let running = start(config).await;
    let gateway = running.gateway(&database.url);
    let outcome = tokio::spawn(body(gateway)).await;
    running.stop().await;
    database
        .drop_database()
        .await
        .expect("drop the test database");
    drop(dir);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// The configuration of test gateways on `database_url`: a fresh master
/// key, the test token key, a short upstream timeout, and the outbound
/// stack's breaker, read retries, bulkhead and prober out of the way, so a
/// test sees each panel fault as it is (the resilience tests turn them on).
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::new(database_url);
    config.keyring = Some(Keyring::new(
        MasterKey::generate().expect("random master key"),
    ));
    config.outbound.timeouts.set_each(TEST_UPSTREAM_TIMEOUT);
    config.outbound.max_in_flight = 10_000;
    config.outbound.breaker.consecutive_failures = u32::MAX;
    config.outbound.breaker.minimum_calls = u32::MAX;
    config.outbound.retries.max_retries = 0;
    config.probe_interval = Duration::ZERO;
    config.auth = Some(Arc::new(Auth {
        tokens: test_tokens(),
        reflection_public: false,
    }));
    config
}

/// A gateway task and the way to stop it.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A channel to it.
    pub channel: Channel,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), String>>,
}

/// Starts a gateway with `config` on a loopback port and waits until it answers.
pub async fn start(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        panelgate::serve(listener, config, async {
            let _ = stop.await;
        })
        .await
        .map_err(|err| format!("{err:#}"))
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("gateway URL")
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy();
    Running {
        addr,
        channel,
        shutdown,
        task,
    }
}

impl Running {
    /// The handle a test body uses, for a gateway started with
    /// [`test_config`] on `database_url`.
    pub fn gateway(&self, database_url: &str) -> Gateway {
        let tokens = Arc::new(test_tokens());
        Gateway {
            addr: self.addr,
            sqlite_file: database_url.strip_prefix("sqlite://").map(PathBuf::from),
            database_url: database_url.to_owned(),
            channel: self.channel.clone(),
            bearer: Bearer::new(&issue(&tokens, TEST_CALLER, scopes::ALL, &[]))
                .expect("a token is ASCII"),
            tokens,
        }
    }

    /// Stops the gateway and checks it ended cleanly.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => panic!("gateway failed: {err}"),
            Ok(Err(err)) => panic!("gateway task panicked: {err}"),
            Err(_) => panic!("gateway did not stop within 10 s"),
        }
    }
}

//! The standard services every panelgate serves beside its own: gRPC health
//! (`grpc.health.v1`, NOT_SERVING while the inventory database is
//! unreachable) and server reflection v1 and v1alpha (so grpcurl works with no
//! proto files at hand, comments included).

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use panelgate::{Config, auth::scopes};
use panelgate_inventory::{Keyring, MasterKey, testing::TestDatabase};
use panelgate_proto::v1::{
    CreateAccountRequest, GetAccountRequest, ListServersRequest, PanelKind, RegisterServerRequest,
    Server, account_service_client::AccountServiceClient,
    inventory_service_client::InventoryServiceClient,
};
use panelgate_tests::{
    AdminApiFixture, Backend, PanelFixture,
    errors::assert_error,
    gateway::{
        self, REQUIRE_POSTGRES_ENV, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, by_name, with_gateway,
    },
    proxy::Proxy,
    reflection::Reflection,
};
use prost::Message;
use tonic::{Code, Streaming, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus,
    health_client::HealthClient,
};

/// Every service of `panelgate.v1`.
const PANELGATE_SERVICES: &[&str] = &[
    "panelgate.v1.InventoryService",
    "panelgate.v1.AccountService",
    "panelgate.v1.PackageService",
    "panelgate.v1.DomainService",
    "panelgate.v1.DatabaseService",
    "panelgate.v1.CertificateService",
    "panelgate.v1.ServerService",
    "panelgate.v1.OperationService",
];

/// The comment above `service AccountService` in accounts.proto.
const ACCOUNT_SERVICE_COMMENT: &str = "Hosting accounts, whatever panel the server runs.";

/// How long health may take to follow the inventory (it checks every 100 ms).
const HEALTH_FLIP_WITHIN: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------

/// The whole server ("") and every panelgate service answer SERVING while
/// the inventory is up, on either backend; an unknown service is NOT_FOUND.
async fn health_is_serving(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let mut health = HealthClient::new(gateway.channel());
            for service in std::iter::once("").chain(PANELGATE_SERVICES.iter().copied()) {
                wait_for_status(&mut health, service, ServingStatus::Serving).await;
                let reply = health
                    .check(HealthCheckRequest {
                        service: service.to_owned(),
                    })
                    .await
                    .expect("health check");
                assert_eq!(reply.into_inner().status(), ServingStatus::Serving);
            }
            let unknown = health
                .check(HealthCheckRequest {
                    service: "panelgate.v1.NoSuchService".to_owned(),
                })
                .await
                .expect_err("an unknown service");
            assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
        },
    )
    .await;
}

/// `health_is_serving` on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_serving_on_sqlite() {
    health_is_serving(Backend::Sqlite).await;
}

/// `health_is_serving` on PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_serving_on_postgres() {
    health_is_serving(Backend::Postgres).await;
}

/// One health Check; NOT_FOUND (a service not reported yet) reads as UNKNOWN.
async fn health_status(health: &mut HealthClient<Channel>, service: &str) -> ServingStatus {
    match health
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
    {
        Ok(reply) => reply.into_inner().status(),
        Err(status) if status.code() == Code::NotFound => ServingStatus::Unknown,
        Err(status) => panic!("health check of {service:?} failed: {status:?}"),
    }
}

/// Polls Check until `service` reports `wanted`; fails after [`HEALTH_FLIP_WITHIN`].
async fn wait_for_status(
    health: &mut HealthClient<Channel>,
    service: &str,
    wanted: ServingStatus,
) -> Duration {
    let started = Instant::now();
    loop {
        let status = health_status(health, service).await;
        if status == wanted {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < HEALTH_FLIP_WITHIN,
            "{service:?} still {status:?}, not {wanted:?}, after {HEALTH_FLIP_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next status a Watch stream sends, within [`HEALTH_FLIP_WITHIN`].
async fn next_watched(watch: &mut Streaming<HealthCheckResponse>) -> ServingStatus {
    tokio::time::timeout(HEALTH_FLIP_WITHIN, watch.message())
        .await
        .expect("Watch sends the change in time")
        .expect("Watch stream healthy")
        .expect("Watch stream open")
        .status()
}

// ---------------------------------------------------------------------------
// Health during an inventory outage (PostgreSQL behind a proxy)
// ---------------------------------------------------------------------------

/// With PostgreSQL reached through a proxy: health (Check and Watch) turns
/// NOT_SERVING within seconds of the proxy cutting the database off, a call
/// needing the inventory then fails fast with UNAVAILABLE
/// INVENTORY_UNAVAILABLE (not INTERNAL, not a hang), and once the proxy
/// forwards again health is SERVING and calls succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_not_serving_while_the_inventory_is_unreachable() {
    let Some(database) = TestDatabase::postgres_from_env()
        .await
        .expect("create a PostgreSQL test database")
    else {
        assert!(
            std::env::var_os(REQUIRE_POSTGRES_ENV).is_none(),
            "{REQUIRE_POSTGRES_ENV} is set but PANELGATE_TEST_DATABASE_URL is not"
        );
        eprintln!("skipped: set PANELGATE_TEST_DATABASE_URL to run the inventory outage test");
        return;
    };
    let proxy = Proxy::start(postgres_addr(&database.url).await).await;
    let mut config = Config::new(via_proxy(&database.url, proxy.addr));
    config.keyring = Some(Keyring::new(
        MasterKey::generate().expect("random master key"),
    ));
    config.outbound.timeouts.set_each(TEST_UPSTREAM_TIMEOUT);
    config.health_interval = Duration::from_millis(100);
    let running = gateway::start(config).await;
    let proxy = std::sync::Arc::new(proxy);

    let outcome = tokio::spawn(outage_scenario(running.channel.clone(), proxy.clone())).await;
    // Tear down whatever happened: forward again, stop, drop the database.
    proxy.restore();
    let stopped = tokio::spawn(running.stop()).await;
    database
        .drop_database()
        .await
        .expect("drop the test database");
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
    if let Err(err) = stopped {
        std::panic::resume_unwind(err.into_panic());
    }
}

async fn outage_scenario(channel: Channel, proxy: std::sync::Arc<Proxy>) {
    const SERVICE: &str = "panelgate.v1.AccountService";
    let mut health = HealthClient::new(channel.clone());
    let mut inventory = InventoryServiceClient::new(channel.clone());
    let mut accounts = AccountServiceClient::new(channel.clone());
    wait_for_status(&mut health, "", ServingStatus::Serving).await;
    wait_for_status(&mut health, SERVICE, ServingStatus::Serving).await;
    let mut watch = health
        .watch(HealthCheckRequest {
            service: SERVICE.to_owned(),
        })
        .await
        .expect("health Watch")
        .into_inner();
    assert_eq!(next_watched(&mut watch).await, ServingStatus::Serving);

    // An account the index knows, so target-less calls need the inventory.
    let fixture = AdminApiFixture::start().await;
    let server_id = inventory
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: "outage".into(),
                kind: PanelKind::AdminApi.into(),
                base_url: fixture.base_url(),
                defaults: fixture.defaults(),
                ..Default::default()
            }),
            credentials: Some(fixture.credentials()),
            request_id: String::new(),
        })
        .await
        .expect("register the simulated server")
        .into_inner()
        .server
        .expect("server in reply")
        .id;
    accounts
        .create_account(CreateAccountRequest {
            target: by_name("outage"),
            username: "steady".into(),
            primary_domain: "steady.example".into(),
            email: "steady@mail.example".into(),
            password: "steady-password-1".into(),
            package: "Basic".into(),
            ..Default::default()
        })
        .await
        .expect("create an account");
    let get_steady = || GetAccountRequest {
        target: None,
        username: "steady".into(),
    };

    // Outage.
    proxy.cut();
    let took = wait_for_status(&mut health, "", ServingStatus::NotServing).await;
    eprintln!("health NOT_SERVING {took:?} after the cut");
    assert_eq!(
        health_status(&mut health, SERVICE).await,
        ServingStatus::NotServing
    );
    assert_eq!(next_watched(&mut watch).await, ServingStatus::NotServing);

    let started = Instant::now();
    let during = tokio::time::timeout(HEALTH_FLIP_WITHIN, accounts.get_account(get_steady()))
        .await
        .expect("a call during the outage does not hang");
    assert_error(during, Code::Unavailable, "INVENTORY_UNAVAILABLE");
    let listed = tokio::time::timeout(
        HEALTH_FLIP_WITHIN,
        inventory.list_servers(ListServersRequest::default()),
    )
    .await
    .expect("ListServers during the outage does not hang");
    let status = assert_error(listed, Code::Unavailable, "INVENTORY_UNAVAILABLE");
    assert_eq!(status.message(), "inventory unavailable", "{status:?}");
    eprintln!("calls failed within {:?}", started.elapsed());

    // Recovery.
    proxy.restore();
    wait_for_status(&mut health, "", ServingStatus::Serving).await;
    assert_eq!(
        health_status(&mut health, SERVICE).await,
        ServingStatus::Serving
    );
    assert_eq!(next_watched(&mut watch).await, ServingStatus::Serving);
    let started = Instant::now();
    let account = loop {
        match accounts.get_account(get_steady()).await {
            Ok(reply) => break reply.into_inner().account.expect("account"),
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                assert!(
                    started.elapsed() < HEALTH_FLIP_WITHIN,
                    "calls still fail after the outage: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(account.server_id, server_id);
}

/// The PostgreSQL server's address in `url` (port 5432 when none is given).
async fn postgres_addr(url: &str) -> SocketAddr {
    let (_, rest) = url.split_once("://").expect("a URL");
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    tokio::net::lookup_host(&host)
        .await
        .expect("resolve the PostgreSQL host")
        .next()
        .expect("an address for the PostgreSQL host")
}

/// `url` with its host and port replaced by `proxy`.
fn via_proxy(url: &str, proxy: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = authority
        .rsplit_once('@')
        .map(|(userinfo, _)| format!("{userinfo}@"))
        .unwrap_or_default();
    format!("{scheme}://{userinfo}{proxy}{tail}")
}

// ---------------------------------------------------------------------------
// Reflection
// ---------------------------------------------------------------------------

/// Reflection v1 lists every panelgate.v1 service and grpc.health.v1.Health,
/// and the descriptor of panelgate.v1.AccountService carries the proto comments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1_lists_services_with_their_comments() {
    lists_services_with_their_comments(Reflection::V1).await;
}

/// Reflection v1alpha (what older grpcurl speaks) answers the same: every
/// service listed, descriptors with the proto comments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1alpha_lists_services_with_their_comments() {
    lists_services_with_their_comments(Reflection::V1alpha).await;
}

/// `reflection` lists every service, and the descriptor of
/// panelgate.v1.AccountService carries the proto comments.
async fn lists_services_with_their_comments(reflection: Reflection) {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        move |gateway| async move {
            let token = gateway.token(TEST_CALLER, scopes::ALL, &[]);
            let authorization = format!("Bearer {token}");
            let services = reflection
                .services(gateway.channel(), Some(&authorization))
                .await;
            let services = services.expect("reflection answers");
            assert_lists_every_service(services.into_iter().collect());
            let symbol = "panelgate.v1.AccountService";
            let files =
                reflection.files_containing(gateway.channel(), Some(&authorization), symbol);
            assert_account_service_comments(&files.await.expect("reflection answers"));
        },
    )
    .await;
}

#[track_caller]
fn assert_lists_every_service(services: Vec<String>) {
    for wanted in PANELGATE_SERVICES
        .iter()
        .copied()
        .chain(["grpc.health.v1.Health"])
    {
        assert!(
            services.iter().any(|service| service == wanted),
            "{wanted} missing from {services:?}"
        );
    }
}

/// The descriptors hold accounts.proto, which defines AccountService and
/// keeps its source comments.
#[track_caller]
fn assert_account_service_comments(files: &[Vec<u8>]) {
    let files: Vec<prost_types::FileDescriptorProto> = files
        .iter()
        .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("decode"))
        .collect();
    let accounts = files
        .iter()
        .find(|file| {
            file.service
                .iter()
                .any(|service| service.name() == "AccountService")
        })
        .unwrap_or_else(|| {
            let names: Vec<&str> = files.iter().map(|file| file.name()).collect();
            panic!("no file defines AccountService: {names:?}")
        });
    assert_eq!(accounts.package(), "panelgate.v1");
    assert_eq!(accounts.name(), "panelgate/v1/accounts.proto");
    let info = accounts
        .source_code_info
        .as_ref()
        .expect("source_code_info kept");
    let comments: Vec<&str> = info
        .location
        .iter()
        .filter_map(|location| location.leading_comments.as_deref())
        .collect();
    assert!(
        comments
            .iter()
            .any(|comment| comment.trim() == ACCOUNT_SERVICE_COMMENT),
        "the AccountService comment is missing from {} comments",
        comments.len()
    );
}

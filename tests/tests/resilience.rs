//! The outbound stack under panel faults, through the real gateway to
//! simulated admin_api panels over real HTTP: a hanging server does not slow
//! another, a burst beyond a server's slots is told SERVER_BUSY, a dead
//! server's circuit opens (calls fail in milliseconds) and closes again by
//! the background prober, reads are retried through a transient 503 while
//! mutations never are, and the caller's deadline bounds every call.

use std::time::{Duration, Instant};

use panelgate::Config;
use panelgate_proto::v1::{
    CreateAccountRequest, GetAccountRequest, GetServerRequest, HealthState, ListServersRequest,
};
use panelgate_sim::Fault;
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, Panel, PanelFixture,
    errors::{assert_error, reason},
    fixtures::Simulator,
    gateway::by_name,
    scrape::{free_loopback_port, samples, scrape, sum},
};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

/// The panel every test runs against first, registered as `AdminApiFixture::SERVER`.
type Admin = Panel<AdminApiFixture>;

/// The second server's name.
const OTHER: &str = "other";

/// GetAccount of `username` on server `name`.
async fn get(gateway: &Gateway, name: &str, username: &str) -> Result<(), Status> {
    gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: by_name(name),
            username: username.to_owned(),
        })
        .await
        .map(drop)
}

/// `calls` GetAccounts of `username` on server `name` at once.
async fn at_once(
    gateway: &Gateway,
    name: &str,
    username: &str,
    calls: usize,
) -> Vec<Result<(), Status>> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..calls {
        let (gateway, name, username) = (gateway.clone(), name.to_owned(), username.to_owned());
        tasks.spawn(async move { get(&gateway, &name, &username).await });
    }
    tasks.join_all().await
}

/// HTTP requests the panel's simulator received, faulted ones included.
fn requests(panel: &Admin) -> u64 {
    panel.fixture.sim.request_total()
}

/// A second admin_api simulator registered as [`OTHER`], with account `bob`.
async fn other_server(panel: &Admin) -> AdminApiFixture {
    let other = AdminApiFixture::start().await;
    other.register(&panel.gateway, OTHER).await;
    panel
        .gateway
        .accounts()
        .create_account(CreateAccountRequest {
            target: by_name(OTHER),
            ..panel.new_account("bob")
        })
        .await
        .expect("create bob on the other server");
    other
}

/// The health state GetServer shows for the panel's server.
async fn health(panel: &Admin) -> HealthState {
    let server = panel
        .gateway
        .inventory()
        .get_server(GetServerRequest {
            target: panel.target(),
        })
        .await
        .expect("get the server")
        .into_inner()
        .server
        .expect("a server");
    server.health.expect("a health view").state()
}

/// The names ListServers gives for servers in health `state`.
async fn servers_in(panel: &Admin, state: HealthState) -> Vec<String> {
    panel
        .gateway
        .inventory()
        .list_servers(ListServersRequest {
            health: state.into(),
            ..Default::default()
        })
        .await
        .expect("list servers")
        .into_inner()
        .servers
        .into_iter()
        .map(|server| server.name)
        .collect()
}

/// Asserts `status` carries a RetryInfo with a delay.
#[track_caller]
fn assert_retry_info(status: &Status) {
    let retry = status.get_details_retry_info().expect("a RetryInfo detail");
    assert!(
        retry.retry_delay.is_some_and(|delay| !delay.is_zero()),
        "{status:?}"
    );
}

// ---------------------------------------------------------------------------
// Bulkhead
// ---------------------------------------------------------------------------

/// 8 slots per server, a short wait for one, a hanging panel's calls time out.
fn bulkhead(config: &mut Config) {
    config.outbound.max_in_flight = 8;
    config.outbound.queue_wait = Duration::from_millis(200);
    config.outbound.timeouts.set_each(Duration::from_secs(2));
}

/// With the first server hanging (every answer 10 s late) and 64 calls to
/// it in flight, calls to a second server answer as fast as before: each
/// within 250 ms (they take milliseconds), and the hanging panel sees at
/// most its 8 slots' calls, not 64.
async fn a_hanging_server_does_not_slow_another(panel: Admin) {
    panel.create("dee", panel.packages().0).await;
    let other = other_server(&panel).await;
    panel.faults().set_delay(Duration::from_secs(10));
    let reached = requests(&panel);

    let gateway = panel.gateway.clone();
    let hanging =
        tokio::spawn(async move { at_once(&gateway, AdminApiFixture::SERVER, "dee", 64).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..20 {
        let started = Instant::now();
        get(&panel.gateway, OTHER, "bob")
            .await
            .expect("the other server answers");
        let took = started.elapsed();
        assert!(took < Duration::from_millis(250), "took {took:?}");
    }
    for result in hanging.await.expect("the hanging calls") {
        let status = result.expect_err("the hanging server's calls fail");
        let why = reason(&status);
        assert!(
            ["SERVER_BUSY", "UPSTREAM_TIMEOUT", "UPSTREAM_CIRCUIT_OPEN"].contains(&why.as_str()),
            "{status:?}"
        );
    }
    let sent = requests(&panel) - reached;
    assert!(sent <= 8, "{sent} calls reached the hanging panel");
    assert!(other.sim.request_total() > 20);
    panel.faults().clear();
}

/// 16 calls at once to a server with 4 slots and a slow panel (300 ms):
/// 4 are answered, 12 are told UNAVAILABLE SERVER_BUSY with a RetryInfo
/// once their 100 ms wait for a slot is over, and the panel sees 4 calls.
async fn a_burst_beyond_the_bulkhead_is_told_busy(panel: Admin) {
    panel.create("dee", panel.packages().0).await;
    panel.faults().set_delay(Duration::from_millis(300));
    let reached = requests(&panel);
    let results = at_once(&panel.gateway, AdminApiFixture::SERVER, "dee", 16).await;
    let answered = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(answered, 4, "{results:?}");
    for result in results.into_iter().filter(Result::is_err) {
        let status = assert_error(result, Code::Unavailable, "SERVER_BUSY");
        assert!(
            status.message().contains(AdminApiFixture::SERVER),
            "{status:?}"
        );
        assert_retry_info(&status);
    }
    assert_eq!(requests(&panel) - reached, 4);
}

// ---------------------------------------------------------------------------
// Circuit breaker and health
// ---------------------------------------------------------------------------

/// Three failures open the circuit for 1 s; the prober looks every 100 ms.
fn breaker(config: &mut Config) {
    config.outbound.breaker.consecutive_failures = 3;
    config.outbound.breaker.base_ejection = Duration::from_secs(1);
    config.probe_interval = Duration::from_millis(100);
}

/// A panel answering 503: three calls fail UPSTREAM_UNAVAILABLE, then the
/// circuit opens and the next call fails in under 5 ms with UNAVAILABLE
/// UPSTREAM_CIRCUIT_OPEN and a RetryInfo, without reaching the panel;
/// GetServer and ListServers show it CIRCUIT_OPEN and `/metrics` shows the
/// circuit open. Once the panel answers again the prober closes the circuit
/// within the ejection time, with no caller traffic, and calls succeed.
async fn a_dead_server_fails_fast_then_comes_back(panel: Admin, metrics: std::net::SocketAddr) {
    panel.create("dee", panel.packages().0).await;
    let _other = other_server(&panel).await;
    assert_eq!(health(&panel).await, HealthState::Healthy);
    let circuit_open = |text: &str| {
        let labels = [("server_id", panel.id.as_str())];
        sum(&samples(text), "panelgate_upstream_circuit_open", &labels)
    };

    panel.faults().set(Fault::Status(503));
    for _ in 0..3 {
        let failed = get(&panel.gateway, AdminApiFixture::SERVER, "dee").await;
        panel.assert_panel_error(failed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    }
    let reached = requests(&panel);
    let started = Instant::now();
    let fast = get(&panel.gateway, AdminApiFixture::SERVER, "dee").await;
    let took = started.elapsed();
    let status = panel.assert_panel_error(fast, Code::Unavailable, "UPSTREAM_CIRCUIT_OPEN");
    assert!(took < Duration::from_millis(5), "took {took:?}");
    assert_retry_info(&status);
    assert_eq!(
        requests(&panel),
        reached,
        "the open circuit reached the panel"
    );
    assert_eq!(health(&panel).await, HealthState::CircuitOpen);
    let open = servers_in(&panel, HealthState::CircuitOpen).await;
    assert_eq!(open, [AdminApiFixture::SERVER]);
    assert_eq!(servers_in(&panel, HealthState::Healthy).await, [OTHER]);
    assert_eq!(circuit_open(&scrape(metrics).await.1), 1.0);

    panel.faults().clear();
    let cleared = Instant::now();
    while health(&panel).await != HealthState::Healthy {
        assert!(
            cleared.elapsed() < Duration::from_secs(3),
            "the prober did not close the circuit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    get(&panel.gateway, AdminApiFixture::SERVER, "dee")
        .await
        .expect("the panel answers again");
    assert_eq!(circuit_open(&scrape(metrics).await.1), 0.0);
}

/// Without the prober, an open circuit lets one call through once the
/// ejection is over (half-open): while the panel still fails the circuit
/// opens again at once, and when it answers the call succeeds.
async fn an_open_circuit_lets_a_probe_through(panel: Admin) {
    panel.create("dee", panel.packages().0).await;
    panel.faults().set(Fault::Status(503));
    for _ in 0..3 {
        get(&panel.gateway, AdminApiFixture::SERVER, "dee")
            .await
            .expect_err("the panel fails");
    }
    let open = get(&panel.gateway, AdminApiFixture::SERVER, "dee").await;
    panel.assert_panel_error(open, Code::Unavailable, "UPSTREAM_CIRCUIT_OPEN");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reached = requests(&panel);
    let probe = get(&panel.gateway, AdminApiFixture::SERVER, "dee").await;
    panel.assert_panel_error(probe, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    assert_eq!(requests(&panel), reached + 1, "one probe");
    let reopened = get(&panel.gateway, AdminApiFixture::SERVER, "dee").await;
    panel.assert_panel_error(reopened, Code::Unavailable, "UPSTREAM_CIRCUIT_OPEN");

    panel.faults().clear();
    // The second ejection in a row lasts twice the first.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    get(&panel.gateway, AdminApiFixture::SERVER, "dee")
        .await
        .expect("the probe succeeds");
    get(&panel.gateway, AdminApiFixture::SERVER, "dee")
        .await
        .expect("the circuit is closed");
}

// ---------------------------------------------------------------------------
// Retries and deadlines
// ---------------------------------------------------------------------------

/// Reads retried (the default settings), the breaker out of the way.
fn retries(config: &mut Config) {
    config.outbound.retries = Default::default();
}

/// A GetAccount meeting one 503 succeeds through a retry (the panel sees
/// two requests); a SuspendAccount meeting one 503 fails UPSTREAM_UNAVAILABLE
/// after one request and the account stays active; retried again by the
/// caller, it suspends.
async fn reads_are_retried_and_mutations_are_not(panel: Admin) {
    panel.create("dee", panel.packages().0).await;

    panel
        .faults()
        .set_once(Fault::Json(503, r#"{"error": "busy"}"#));
    let reached = requests(&panel);
    get(&panel.gateway, AdminApiFixture::SERVER, "dee")
        .await
        .expect("the read is retried");
    assert_eq!(requests(&panel) - reached, 2);

    panel.faults().set_once(Fault::Status(503));
    let reached = requests(&panel);
    let failed = panel.suspend("dee").await;
    panel.assert_panel_error(failed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    assert_eq!(requests(&panel) - reached, 1, "the mutation was retried");
    let active = || panel.sim.user("dee").expect("dee on the panel").active;
    assert!(active());

    panel
        .suspend("dee")
        .await
        .expect("the caller's retry suspends");
    assert!(!active());
}

/// With panel timeouts of 10 s and a panel 3 s late, a call whose caller
/// gives it 300 ms is answered DEADLINE_EXCEEDED UPSTREAM_TIMEOUT, naming
/// the server, before the caller's deadline.
async fn the_callers_deadline_bounds_the_panel_call(panel: Admin) {
    panel.create("dee", panel.packages().0).await;
    panel.faults().set_delay(Duration::from_secs(3));
    let mut request = Request::new(GetAccountRequest {
        target: panel.target(),
        username: "dee".to_owned(),
    });
    // The header alone: the client would cancel at the deadline itself.
    let timeout = "300m".parse().expect("a header value");
    request.metadata_mut().insert("grpc-timeout", timeout);
    let started = Instant::now();
    let late = panel.gateway.accounts().get_account(request).await;
    let took = started.elapsed();
    panel.assert_panel_error(late, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
    assert!(took < Duration::from_millis(300), "took {took:?}");
    panel.faults().clear();
}

fn long_timeouts(config: &mut Config) {
    config.outbound.timeouts.set_each(Duration::from_secs(10));
}

// ---------------------------------------------------------------------------

/// Runs `body` against a fresh admin_api simulator, with `configure` applied
/// to the gateway's test config.
async fn run<Fut>(
    configure: impl FnOnce(&mut Config),
    body: impl FnOnce(Admin) -> Fut + Send + 'static,
) where
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Admin::run_on(Backend::Sqlite, Default::default(), configure, body).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_server() {
    run(bulkhead, a_hanging_server_does_not_slow_another).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst() {
    let configure = |config: &mut Config| {
        config.outbound.max_in_flight = 4;
        config.outbound.queue_wait = Duration::from_millis(100);
    };
    run(configure, a_burst_beyond_the_bulkhead_is_told_busy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_server() {
    let metrics = free_loopback_port();
    let configure = move |config: &mut Config| {
        breaker(config);
        config.metrics_listen = Some(metrics);
    };
    run(configure, move |panel| {
        a_dead_server_fails_fast_then_comes_back(panel, metrics)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open() {
    let configure = |config: &mut Config| {
        breaker(config);
        config.probe_interval = Duration::ZERO;
    };
    run(configure, an_open_circuit_lets_a_probe_through).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_retries() {
    run(retries, reads_are_retried_and_mutations_are_not).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_deadline() {
    run(long_timeouts, the_callers_deadline_bounds_the_panel_call).await;
}

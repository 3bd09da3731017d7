//! Shutdown of the real `panelgate serve` process: SIGTERM in the middle of
//! slow panel calls lets them finish within the grace period (and cuts them
//! off after it), turns health NOT_SERVING, refuses new calls, and exits 0;
//! SIGKILL in the middle of a call leaves a claim that dies with the process,
//! so a retry on a new process completes it.

#![cfg(unix)]

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::mpsc::Receiver,
    time::{Duration, Instant},
};

use panelgate::auth::{KeyMaterial, Tokens, scopes};
use panelgate_proto::v1::{
    ApiTokenCredentials, CreateAccountRequest, Credentials, PanelKind, RegisterServerRequest,
    Server, Target, account_service_client::AccountServiceClient, credentials,
    inventory_service_client::InventoryServiceClient, target,
};
use panelgate_sim::spanel::{SpanelConfig, SpanelSim};
use tonic::{Request, transport::Channel};

const PANELGATE: &str = env!("CARGO_BIN_EXE_panelgate");
/// base64 of 32 zero bytes.
const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const TOKEN_SECRET: &str = "shutdown-test-hs256-secret-0123456789";
/// How long the simulated panel takes to answer during the test.
const SLOW_PANEL: Duration = Duration::from_millis(1500);
/// Calls in flight when SIGTERM arrives.
const IN_FLIGHT: usize = 5;

/// A running `panelgate serve` and its log lines.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    logged: Receiver<String>,
    seen: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Gateway {
    /// Starts `serve` on a loopback port with `grace`, JSON logs, and a
    /// fresh database, and waits until it serves.
    fn start(grace: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut gateway = Gateway::start_in(dir.path(), grace);
        gateway._dir = Some(dir);
        gateway
    }

    /// [`Gateway::start`] on the SQLite database in `dir` (made if missing).
    fn start_in(dir: &std::path::Path, grace: &str) -> Self {
        let url = format!("sqlite://{}", dir.join("inventory.db").display());
        let mut child = Command::new(PANELGATE)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
            .args(["--metrics-listen", "127.0.0.1:0", "--shutdown-grace", grace])
            .args(["--log-format", "json"])
            .env_clear()
            .env("PANELGATE_MASTER_KEY", KEY)
            .env("PANELGATE_AUTH_HS256_SECRET", TOKEN_SECRET)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start panelgate serve");
        let stderr = child.stderr.take().expect("stderr");
        let (lines, logged) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let mut gateway = Gateway {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            logged,
            seen: Vec::new(),
            _dir: None,
        };
        let serving = gateway.wait_for("panelgate serving gRPC", Duration::from_secs(30));
        gateway.addr = json_field(&serving, "addr")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no listen address in {serving}"));
        gateway
    }

    /// The first log line (from now) containing `text`.
    fn wait_for(&mut self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while let Ok(line) = self
            .logged
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            if line.contains(text) {
                return line;
            }
        }
        let _ = self.child.kill();
        panic!(
            "no log line with `{text}` within {within:?}: {:#?}",
            self.seen
        );
    }

    fn sigterm(&self) {
        self.signal("-TERM");
    }

    /// Kills the process outright (no shutdown at all) and waits until it is gone.
    fn sigkill(&mut self) {
        self.signal("-KILL");
        self.child.wait().expect("wait for the killed process");
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }

    /// Waits for the process to exit on its own; returns whether it exited 0.
    fn exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("panelgate did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("gateway URL")
            .connect()
            .await
            .expect("connect to the gateway")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A string field of a JSON log line.
fn json_field(line: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

fn bearer<T>(message: T) -> Request<T> {
    let tokens = Tokens::new(
        KeyMaterial::Hs256(secrecy::SecretBox::new(
            TOKEN_SECRET.as_bytes().to_vec().into_boxed_slice(),
        )),
        "panelgate",
        "panelgate",
        Duration::ZERO,
    )
    .expect("token settings");
    let all: Vec<String> = scopes::ALL
        .iter()
        .map(|scope| (*scope).to_owned())
        .collect();
    let token = tokens
        .issue("shutdown-test", &all, &[], Duration::from_secs(600))
        .expect("issue a token");
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header value"),
    );
    request
}

/// A gateway with shutdown grace `grace` and a simulated SPanel registered,
/// with IN_FLIGHT slow CreateAccount calls (`<prefix>0`...) reaching the panel.
async fn slow_calls_in_flight(
    grace: &str,
    prefix: &str,
) -> (
    SpanelSim,
    Gateway,
    Vec<tokio::task::JoinHandle<Result<(), tonic::Status>>>,
) {
    let config = SpanelConfig::default();
    let sim = SpanelSim::start(config.clone())
        .await
        .expect("start SPanel");
    let gateway = Gateway::start(grace);
    let channel = gateway.channel().await;
    register(channel.clone(), &sim, &config).await;
    let calls = slow_creates(&channel, &sim, prefix).await;
    (sim, gateway, calls)
}

/// Registers the simulated SPanel as `spanel`.
async fn register(channel: Channel, sim: &SpanelSim, config: &SpanelConfig) {
    InventoryServiceClient::new(channel)
        .register_server(bearer(RegisterServerRequest {
            server: Some(Server {
                name: "spanel".to_owned(),
                kind: PanelKind::Spanel.into(),
                base_url: sim.base_url(),
                ..Default::default()
            }),
            credentials: Some(Credentials {
                kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                    token: config.admin_token.clone(),
                })),
            }),
            request_id: String::new(),
        }))
        .await
        .expect("register the SPanel server");
}

fn create(username: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target: Some(Target {
            server: Some(target::Server::ServerName("spanel".to_owned())),
        }),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "Long-enough-password-1".to_owned(),
        package: "basic".to_owned(),
        ..Default::default()
    }
}

/// Starts IN_FLIGHT slow CreateAccount calls and waits until the panel has
/// them all.
async fn slow_creates(
    channel: &Channel,
    sim: &SpanelSim,
    prefix: &str,
) -> Vec<tokio::task::JoinHandle<Result<(), tonic::Status>>> {
    let before = sim.request_count();
    sim.faults().set_delay(SLOW_PANEL);
    let calls = (0..IN_FLIGHT)
        .map(|n| {
            let mut accounts = AccountServiceClient::new(channel.clone());
            let request = bearer(create(&format!("{prefix}{n}")));
            tokio::spawn(async move { accounts.create_account(request).await.map(drop) })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.request_count() < before + IN_FLIGHT as u64 {
        assert!(
            Instant::now() < deadline,
            "the calls did not reach the panel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    calls
}

#[tokio::test]
async fn sigterm_lets_calls_in_flight_finish_and_refuses_new_ones() {
    let (sim, mut gateway, calls) = slow_calls_in_flight("10s", "drain").await;
    let signalled = Instant::now();
    gateway.sigterm();
    gateway.wait_for("health is NOT_SERVING", Duration::from_secs(5));

    // A new connection gets no service once the shutdown began.
    let latecomer = tokio::time::timeout(Duration::from_secs(1), async {
        let Ok(channel) = Channel::from_shared(format!("http://{}", gateway.addr))
            .expect("gateway URL")
            .connect()
            .await
        else {
            return false;
        };
        AccountServiceClient::new(channel)
            .create_account(bearer(create("latecomer")))
            .await
            .is_ok()
    })
    .await;
    assert_ne!(latecomer, Ok(true), "a call made after SIGTERM was served");

    for (n, call) in calls.into_iter().enumerate() {
        call.await
            .expect("call task")
            .unwrap_or_else(|status| panic!("call {n} in flight was not finished: {status:?}"));
        let username = format!("drain{n}");
        assert!(sim.account(&username).is_some(), "{username} not created");
    }
    assert!(sim.account("latecomer").is_none());
    assert!(
        signalled.elapsed() >= SLOW_PANEL / 2,
        "the calls were still running when SIGTERM came"
    );
    assert!(gateway.exit(Duration::from_secs(10)), "non-zero exit");
    assert_call_lines_carry_the_span(&mut gateway);
}

/// Each finished call logged one JSON line whose span names the request,
/// caller, method, server, panel kind and panel status, with the latency.
fn assert_call_lines_carry_the_span(gateway: &mut Gateway) {
    gateway.seen.extend(gateway.logged.try_iter());
    let done: Vec<serde_json::Value> = gateway
        .seen
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| {
            line["message"] == "call done"
                && line["span"]["method"] == "AccountService/CreateAccount"
        })
        .collect();
    assert_eq!(done.len(), IN_FLIGHT, "{:#?}", gateway.seen);
    for line in done {
        let span = &line["span"];
        assert_eq!(span["name"], "grpc", "{line}");
        assert_eq!(span["caller"], "shutdown-test", "{line}");
        assert_eq!(span["panel_kind"], "spanel", "{line}");
        assert_eq!(span["upstream_status"], 200, "{line}");
        assert!(
            span["server_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
        assert!(
            span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
        assert!(line["latency_ms"].as_u64().is_some(), "{line}");
    }
}

#[tokio::test]
async fn calls_still_running_after_the_grace_period_are_cut_off() {
    let (_panel, mut gateway, calls) = slow_calls_in_flight("200ms", "cut").await;
    let signalled = Instant::now();
    gateway.sigterm();
    gateway.wait_for("grace period over", Duration::from_secs(5));
    assert!(gateway.exit(Duration::from_secs(5)), "non-zero exit");
    assert!(
        signalled.elapsed() < SLOW_PANEL,
        "the gateway waited for the slow panel instead of its grace period"
    );
    for call in calls {
        let outcome = call.await.expect("call task");
        assert!(outcome.is_err(), "a call outlived the grace period");
    }
}

/// SIGKILL while a CreateAccount with a request_id is at a slow panel: the
/// process dies holding the call's claim. A new process on the same database
/// gets the same request (a client retrying, past ABORTED
/// REQUEST_IN_PROGRESS answers, as RetryInfo says): within 60 s of the kill
/// the claim has expired, the retry finds the account the panel made,
/// completes it (SPanel's email, the create's second step) and answers OK;
/// the panel created it once.
#[tokio::test]
async fn a_retry_after_sigkill_completes_within_a_minute() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = SpanelConfig::default();
    let sim = SpanelSim::start(config.clone())
        .await
        .expect("start SPanel");
    let mut first = Gateway::start_in(dir.path(), "1s");
    let channel = first.channel().await;
    register(channel.clone(), &sim, &config).await;
    let request = || CreateAccountRequest {
        request_id: "2c9d5f0e-crash-retry".to_owned(),
        ..create("crash")
    };

    let before = sim.request_count();
    sim.faults().set_delay(SLOW_PANEL);
    let mut accounts = AccountServiceClient::new(channel);
    let in_flight = tokio::spawn(async move { accounts.create_account(bearer(request())).await });
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.request_count() <= before {
        assert!(
            Instant::now() < deadline,
            "the call did not reach the panel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.sigkill();
    let killed = Instant::now();
    assert!(
        in_flight.await.expect("call task").is_err(),
        "the killed call got no reply"
    );
    sim.faults().clear();

    let second = Gateway::start_in(dir.path(), "1s");
    let mut accounts = AccountServiceClient::new(second.channel().await);
    let created = loop {
        match accounts.create_account(bearer(request())).await {
            Ok(reply) => break reply.into_inner(),
            Err(status) if status.code() == tonic::Code::Aborted => {
                assert!(killed.elapsed() < Duration::from_secs(60), "{status:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(status) => panic!("the retry failed: {status:?}"),
        }
    };
    let took = killed.elapsed();
    eprintln!("the retry completed {took:?} after the kill");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_eq!(created.account.expect("account").username, "crash");
    let account = sim.account("crash").expect("on the panel");
    assert_eq!(
        account.email, "crash@mail.example",
        "the create was completed"
    );
    let creates = sim
        .received()
        .iter()
        .filter(|request| request.action == "accounts/wwwacct")
        .count();
    assert_eq!(creates, 1, "the panel created the account once");
}

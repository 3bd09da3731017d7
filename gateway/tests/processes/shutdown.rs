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
    ApiTokenCredentials, CreateAccountRequest, Credentials, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, ServerDefaults, Target,
    account_service_client::AccountServiceClient, credentials,
    inventory_service_client::InventoryServiceClient, target,
};
use panelgate_sim::{
    AdminApiConfig, AdminApiSim, Faults, InstallatronConfig, InstallatronSim, OpenAdminConfig,
    OpenAdminSim,
    spanel::{SpanelConfig, SpanelSim},
};
use tonic::{Request, transport::Channel};

const PANELGATE: &str = env!("CARGO_BIN_EXE_panelgate");
/// base64 of 32 zero bytes.
const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const TOKEN_SECRET: &str = "shutdown-test-hs256-secret-0123456789";
/// How long the simulated panel takes to answer during the test.
const SLOW_PANEL: Duration = Duration::from_millis(1500);
/// Calls in flight when SIGTERM arrives.
const IN_FLIGHT: usize = 5;
/// The name the simulated panel is registered under.
const SERVER: &str = "panel";

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
    SimPanel,
    Gateway,
    Vec<tokio::task::JoinHandle<Result<(), tonic::Status>>>,
) {
    let panel = SimPanel::start(PanelKind::Spanel).await;
    let gateway = Gateway::start(grace);
    let channel = gateway.channel().await;
    panel.register(channel.clone()).await;
    let calls = slow_creates(&channel, &panel, prefix).await;
    (panel, gateway, calls)
}

/// Starts IN_FLIGHT slow CreateAccount calls and waits until the panel has
/// them all.
async fn slow_creates(
    channel: &Channel,
    panel: &SimPanel,
    prefix: &str,
) -> Vec<tokio::task::JoinHandle<Result<(), tonic::Status>>> {
    let before = panel.request_count();
    panel.faults().set_delay(SLOW_PANEL);
    let calls = (0..IN_FLIGHT)
        .map(|n| {
            let mut accounts = AccountServiceClient::new(channel.clone());
            let request = bearer(panel.create(&format!("{prefix}{n}")));
            tokio::spawn(async move { accounts.create_account(request).await.map(drop) })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while panel.request_count() < before + IN_FLIGHT as u64 {
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
    let (panel, mut gateway, calls) = slow_calls_in_flight("10s", "drain").await;
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
            .create_account(bearer(panel.create("latecomer")))
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
        assert!(panel.holds(&username), "{username} not created");
    }
    assert!(!panel.holds("latecomer"));
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

/// A simulated panel of any kind, registered as [`SERVER`].
enum SimPanel {
    AdminApi(AdminApiSim, AdminApiConfig),
    OpenAdmin(OpenAdminSim, OpenAdminConfig),
    Spanel(SpanelSim, SpanelConfig),
    Installatron(InstallatronSim, InstallatronConfig),
}

impl SimPanel {
    async fn start(kind: PanelKind) -> Self {
        match kind {
            PanelKind::AdminApi => {
                let config = AdminApiConfig::default();
                let sim = AdminApiSim::start(config.clone()).await;
                SimPanel::AdminApi(sim.expect("start admin_api"), config)
            }
            PanelKind::Openadmin => {
                let config = OpenAdminConfig::default();
                let sim = OpenAdminSim::start(config.clone()).await;
                SimPanel::OpenAdmin(sim.expect("start OpenAdmin"), config)
            }
            PanelKind::Spanel => {
                let config = SpanelConfig::default();
                let sim = SpanelSim::start(config.clone()).await;
                SimPanel::Spanel(sim.expect("start SPanel"), config)
            }
            _ => {
                let config = InstallatronConfig::default();
                let sim = InstallatronSim::start(config.clone()).await;
                SimPanel::Installatron(sim.expect("start Installatron"), config)
            }
        }
    }

    fn faults(&self) -> &Faults {
        match self {
            SimPanel::AdminApi(sim, _) => sim.faults(),
            SimPanel::OpenAdmin(sim, _) => sim.faults(),
            SimPanel::Spanel(sim, _) => sim.faults(),
            SimPanel::Installatron(sim, _) => sim.faults(),
        }
    }

    fn request_count(&self) -> u64 {
        match self {
            SimPanel::AdminApi(sim, _) => sim.request_count(),
            SimPanel::OpenAdmin(sim, _) => sim.request_count(),
            SimPanel::Spanel(sim, _) => sim.request_count(),
            SimPanel::Installatron(sim, _) => sim.request_count(),
        }
    }

    /// Registers the panel with the gateway on `channel`.
    async fn register(&self, channel: Channel) {
        InventoryServiceClient::new(channel)
            .register_server(bearer(self.registration()))
            .await
            .expect("register the panel");
    }

    /// Whether the panel holds account `username`.
    fn holds(&self, username: &str) -> bool {
        match self {
            SimPanel::AdminApi(sim, _) => sim.user(username).is_some(),
            SimPanel::OpenAdmin(sim, _) => sim.user(username).is_some(),
            SimPanel::Spanel(sim, _) => sim.account(username).is_some(),
            SimPanel::Installatron(sim, _) => sim.user(username).is_some(),
        }
    }

    /// RegisterServer of the panel as [`SERVER`].
    fn registration(&self) -> RegisterServerRequest {
        let password = |secret: &str| {
            credentials::Kind::Password(PasswordCredentials {
                username: "admin".to_owned(),
                password: secret.to_owned(),
            })
        };
        let token = |secret: &str| {
            credentials::Kind::ApiToken(ApiTokenCredentials {
                token: secret.to_owned(),
            })
        };
        let (kind, base_url, credentials) = match self {
            SimPanel::AdminApi(sim, config) => (
                PanelKind::AdminApi,
                sim.base_url(),
                password(&config.admin_password),
            ),
            SimPanel::OpenAdmin(sim, config) => (
                PanelKind::Openadmin,
                sim.base_url(),
                password(&config.admin_password),
            ),
            SimPanel::Spanel(sim, config) => (
                PanelKind::Spanel,
                sim.base_url(),
                token(&config.admin_token),
            ),
            SimPanel::Installatron(sim, config) => (
                PanelKind::Installatron,
                sim.base_url(),
                token(&config.api_key),
            ),
        };
        RegisterServerRequest {
            server: Some(Server {
                name: SERVER.to_owned(),
                kind: kind.into(),
                base_url,
                // admin_api takes new accounts' PHP version from here.
                defaults: Some(ServerDefaults {
                    php_version: "8.2".to_owned(),
                }),
                ..Default::default()
            }),
            credentials: Some(Credentials {
                kind: Some(credentials),
            }),
            request_id: String::new(),
        }
    }

    /// CreateAccount of `username` on the panel, on one of its packages.
    fn create(&self, username: &str) -> CreateAccountRequest {
        let package = match self {
            SimPanel::AdminApi(..) => "Basic",
            SimPanel::OpenAdmin(..) => "default_plan_nginx",
            SimPanel::Spanel(..) => "basic",
            SimPanel::Installatron(..) => "gold",
        };
        CreateAccountRequest {
            target: Some(Target {
                server: Some(target::Server::ServerName(SERVER.to_owned())),
            }),
            username: username.to_owned(),
            primary_domain: format!("{username}.example"),
            email: format!("{username}@mail.example"),
            password: "Long-enough-password-1".to_owned(),
            package: package.to_owned(),
            ..Default::default()
        }
    }

    /// Whether the panel holds `username`, made by one create, complete
    /// (with its email: SPanel's create is two steps).
    fn made_once(&self, username: &str) -> bool {
        let email = format!("{username}@mail.example");
        match self {
            SimPanel::AdminApi(sim, _) => {
                sim.user(username).is_some_and(|user| user.email == email)
            }
            SimPanel::OpenAdmin(sim, _) => {
                sim.user(username).is_some_and(|user| user.email == email)
            }
            SimPanel::Spanel(sim, _) => {
                let creates = sim
                    .received()
                    .iter()
                    .filter(|request| request.action == "accounts/wwwacct")
                    .count();
                creates == 1
                    && sim
                        .account(username)
                        .is_some_and(|account| account.email == email)
            }
            SimPanel::Installatron(sim, _) => sim.user(username).is_some_and(|user| {
                user.get("email").and_then(|value| value.as_str()) == Some(email.as_str())
            }),
        }
    }
}

/// SIGKILL while a CreateAccount with a request_id is at a slow panel of
/// `kind`, after the panel made the account and before it answered: the
/// process dies holding the call's claim. A new process on the
/// same database gets the same request (a client retrying, past ABORTED
/// REQUEST_IN_PROGRESS answers, as RetryInfo says): within 60 s of the kill
/// the claim has expired, the retry finds the account the panel made,
/// completes it where the create has a second step (SPanel's email) and
/// answers OK; the panel holds the account once.
async fn a_retry_after_sigkill_completes_within_a_minute(kind: PanelKind) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let panel = SimPanel::start(kind).await;
    let mut first = Gateway::start_in(dir.path(), "1s");
    let channel = first.channel().await;
    panel.register(channel.clone()).await;
    let request = || CreateAccountRequest {
        request_id: "2c9d5f0e-crash-retry".to_owned(),
        ..panel.create("crash")
    };

    panel.faults().set_delay(SLOW_PANEL);
    let mut accounts = AccountServiceClient::new(channel);
    let first_try = request();
    let in_flight = tokio::spawn(async move { accounts.create_account(bearer(first_try)).await });
    let deadline = Instant::now() + Duration::from_secs(20);
    // The panel made the account and holds its answer back: kill now.
    while !panel.holds("crash") {
        assert!(
            Instant::now() < deadline,
            "the create did not reach the panel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.sigkill();
    let killed = Instant::now();
    assert!(
        in_flight.await.expect("call task").is_err(),
        "the killed call got no reply"
    );
    panel.faults().clear();

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
    eprintln!("{kind:?}: the retry completed {took:?} after the kill");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_eq!(created.account.expect("account").username, "crash");
    assert!(
        panel.made_once("crash"),
        "the panel holds the account, made once"
    );
}

#[tokio::test]
async fn sigkill_then_retry_on_admin_api() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::AdminApi).await;
}

#[tokio::test]
async fn sigkill_then_retry_on_openadmin() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::Openadmin).await;
}

#[tokio::test]
async fn sigkill_then_retry_on_spanel() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::Spanel).await;
}

#[tokio::test]
async fn sigkill_then_retry_on_installatron() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::Installatron).await;
}

//! The real `panelgate serve` process, started on a loopback port with JSON
//! logs, and the token its test clients send.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::mpsc::Receiver,
    time::{Duration, Instant},
};

use panelgate::auth::{KeyMaterial, Tokens, scopes};
use tonic::{Request, transport::Channel};

const PANELGATE: &str = env!("CARGO_BIN_EXE_panelgate");
/// base64 of 32 zero bytes.
const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const TOKEN_SECRET: &str = "process-test-hs256-secret-0123456789";
/// The subject of the tests' token.
pub const CALLER: &str = "process-test";

/// A running `panelgate serve` and its log lines.
pub struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
    pub logged: Receiver<String>,
    pub seen: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Gateway {
    /// Starts `serve` on a loopback port with `grace`, JSON logs, and a
    /// fresh SQLite database, and waits until it serves.
    pub fn start(grace: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut gateway = Gateway::start_in(dir.path(), grace);
        gateway._dir = Some(dir);
        gateway
    }

    /// [`Gateway::start`] on the SQLite database in `dir` (made if missing).
    pub fn start_in(dir: &std::path::Path, grace: &str) -> Self {
        let url = format!("sqlite://{}", dir.join("inventory.db").display());
        Gateway::start_on(&url, grace)
    }

    /// [`Gateway::start`] on the inventory database at `url`.
    pub fn start_on(url: &str, grace: &str) -> Self {
        Gateway::start_with(url, grace, &[])
    }

    /// [`Gateway::start_on`], with more `serve` flags.
    pub fn start_with(url: &str, grace: &str, flags: &[&str]) -> Self {
        let mut child = Command::new(PANELGATE)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
            .args(["--metrics-listen", "127.0.0.1:0", "--shutdown-grace", grace])
            .args(flags)
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
    pub fn wait_for(&mut self, text: &str, within: Duration) -> String {
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

    /// Every log line so far.
    pub fn lines(&mut self) -> &[String] {
        self.seen.extend(self.logged.try_iter());
        &self.seen
    }

    pub fn sigterm(&self) {
        self.signal("-TERM");
    }

    /// Kills the process outright (no shutdown at all) and waits until it is gone.
    pub fn sigkill(&mut self) {
        self.signal("-KILL");
        self.child.wait().expect("wait for the killed process");
    }

    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }

    /// Waits for the process to exit on its own; returns whether it exited 0.
    pub fn exit(&mut self, within: Duration) -> bool {
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

    pub async fn channel(&self) -> Channel {
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

/// A fresh PostgreSQL database for processes to share; None (the test
/// skipped) without one, unless CI requires it.
pub async fn postgres() -> Option<panelgate_inventory::testing::TestDatabase> {
    let database = panelgate_inventory::testing::TestDatabase::postgres_from_env()
        .await
        .expect("create a PostgreSQL test database");
    if database.is_none() {
        assert!(
            std::env::var_os("PANELGATE_TEST_REQUIRE_POSTGRES").is_none(),
            "PANELGATE_TEST_REQUIRE_POSTGRES is set but PANELGATE_TEST_DATABASE_URL is not"
        );
        eprintln!("skipped: set PANELGATE_TEST_DATABASE_URL to run the replica tests");
    }
    database
}

/// A string field of a JSON log line.
pub fn json_field(line: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

pub fn bearer<T>(message: T) -> Request<T> {
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
        .issue(CALLER, &all, &[], Duration::from_secs(600))
        .expect("issue a token");
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header value"),
    );
    request
}

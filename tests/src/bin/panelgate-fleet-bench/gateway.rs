//! The gateway under measurement: the real `panelgate serve` binary in a
//! process of its own, on loopback ports, with a fresh SQLite inventory in a
//! temporary directory (or a database given) and caller authentication off.
//! Killed when dropped. Shared by the fleet and batch benches.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, ChildStderr, Command, Stdio},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::{Context, bail};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A throwaway master key (base64 of 32 zero bytes): it seals the test
/// credentials of an inventory deleted at the end of the run.
const MASTER_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// How long the gateway may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Log lines kept to explain a gateway that failed.
const TAIL_LINES: usize = 20;

/// What the gateway logs once its gRPC listener is up (with field `addr`).
const SERVING: &str = "panelgate serving gRPC";

/// `panelgate` in the directory of this executable, where cargo builds both.
pub fn beside_this_executable() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locate this executable")?;
    let dir = exe
        .parent()
        .with_context(|| format!("{} has no parent directory", exe.display()))?;
    Ok(dir.join("panelgate"))
}

/// A running `panelgate serve`.
pub struct Gateway {
    // Dropped first: the process is killed before its directory is removed.
    process: KillOnDrop,
    /// Where it serves gRPC.
    pub addr: SocketAddr,
    tail: Tail,
    _dir: TempDir,
}

impl Gateway {
    /// Starts `binary` as `panelgate serve` on `database_url` (None: a fresh
    /// SQLite file) and waits until it serves gRPC.
    pub async fn spawn(binary: &Path, database_url: Option<&str>) -> anyhow::Result<Gateway> {
        if !binary.is_file() {
            bail!(
                "no panelgate binary at {}: build it with `cargo build --release -p panelgate` \
                 (with the same CARGO_TARGET_DIR as this bench), or pass --panelgate PATH",
                binary.display()
            );
        }
        let dir = tempfile::tempdir().context("temporary directory for the inventory")?;
        let database_url = database_url.map_or_else(
            || format!("sqlite://{}", dir.path().join("inventory.db").display()),
            str::to_owned,
        );
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .args(["--database-url", &database_url])
            .args(["--log-format", "json", "--auth-disabled"])
            // Only what is set here: no PANELGATE_* or DATABASE_URL of the caller.
            .env_clear()
            .env("PANELGATE_MASTER_KEY", MASTER_KEY)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {} serve", binary.display()))?;
        let stderr = child.stderr.take().context("the gateway's stderr")?;
        let mut process = KillOnDrop(child);

        let tail = Tail::default();
        let (serving, listening) = oneshot::channel();
        let log = tail.clone();
        std::thread::spawn(move || read_log(stderr, &log, serving));

        let addr = match tokio::time::timeout(START_TIMEOUT, listening).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(_)) => bail!(
                "panelgate exited before serving ({}); its last log lines:\n{}",
                process.exit_status(),
                tail.lines()
            ),
            Err(_) => bail!(
                "panelgate did not serve within {START_TIMEOUT:?}; its last log lines:\n{}",
                tail.lines()
            ),
        };
        Ok(Gateway {
            process,
            addr,
            tail,
            _dir: dir,
        })
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }

    /// The CPU time the gateway process has used so far (`utime + stime` of
    /// `/proc/<pid>/stat`, in clock ticks of 1/100 s).
    #[allow(dead_code, reason = "the fleet bench measures memory only")]
    pub fn cpu(&self) -> anyhow::Result<Duration> {
        let path = format!("/proc/{}/stat", self.pid());
        let stat = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        // After the name in parentheses: state is field 3, utime and stime
        // fields 14 and 15.
        let (_, fields) = stat.rsplit_once(')').context("a stat line")?;
        let mut fields = fields.split_whitespace().skip(11);
        let mut ticks =
            || -> anyhow::Result<u64> { Ok(fields.next().context("a CPU field")?.parse()?) };
        let ticks = ticks()? + ticks()?;
        Ok(Duration::from_millis(ticks * 10))
    }

    /// Its last log lines, to explain a failure.
    pub fn last_lines(&self) -> String {
        self.tail.lines()
    }
}

/// Reads the gateway's log to its end: keeps the last lines, and sends the
/// gRPC address once the serving line names it.
fn read_log(stderr: ChildStderr, tail: &Tail, serving: oneshot::Sender<SocketAddr>) {
    let mut serving = Some(serving);
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if line.contains(SERVING)
            && let Some(addr) = listen_addr(&line)
            && let Some(serving) = serving.take()
        {
            // The bench may have given up waiting: nothing to tell then.
            let _ = serving.send(addr);
        }
        tail.push(line);
    }
}

/// The `addr` field of a JSON log line.
fn listen_addr(line: &str) -> Option<SocketAddr> {
    let line: serde_json::Value = serde_json::from_str(line).ok()?;
    line.get("addr")?.as_str()?.parse().ok()
}

/// The last [`TAIL_LINES`] lines of the gateway's log.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn lines(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.is_empty() {
            return "(none)".to_owned();
        }
        lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A child process killed (and reaped) when dropped, on success or error.
struct KillOnDrop(Child);

impl KillOnDrop {
    /// How the process ended (waiting a moment for it to be reaped), or
    /// that it still runs.
    fn exit_status(&mut self) -> String {
        for _ in 0..10 {
            match self.0.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(err) => return format!("status unknown: {err}"),
            }
        }
        "still running, its log closed".to_owned()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // It may have exited already; either way it is gone afterwards.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listen_address_of_the_serving_line() {
        let line = r#"{"timestamp":"t","level":"INFO","addr":"127.0.0.1:40123","tls":false,"auth":false,"message":"panelgate serving gRPC"}"#;
        assert_eq!(
            listen_addr(line),
            Some(SocketAddr::from(([127, 0, 0, 1], 40123)))
        );
        assert_eq!(listen_addr("not json"), None);
    }
}

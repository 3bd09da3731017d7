//! The `panelgate` binary as an operator runs it: migrate, key handling, and a
//! clean stop on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const PANELGATE: &str = env!("CARGO_BIN_EXE_panelgate");
/// base64 of 32 zero bytes.
const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn panelgate(args: &[&str]) -> Command {
    let mut command = Command::new(PANELGATE);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PANELGATE_MASTER_KEY")
        .env_remove("PANELGATE_MASTER_KEY_FILE")
        .env("RUST_LOG", "info");
    command
}

/// `migrate` creates the SQLite file on first run and is a no-op the second time.
#[test]
fn migrate_creates_the_database_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.db");
    let url = format!("sqlite://{}", file.display());
    for run in 1..=2 {
        let output = panelgate(&["migrate", "--database-url", &url])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(file.exists());
}

/// A malformed master key stops `serve` with a clear error that does not echo the key.
#[test]
fn bad_master_key_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let secret = "not-base64-but-secret-Zq9";
    let output = panelgate(&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
        .env("PANELGATE_MASTER_KEY", secret)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid master key"), "{stderr}");
    assert!(!stderr.contains(secret), "the key was echoed: {stderr}");
}

/// A key given both ways is ambiguous and refused.
#[test]
fn master_key_from_env_and_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let output = panelgate(&["serve", "--listen", "127.0.0.1:0"])
        .env("PANELGATE_MASTER_KEY", KEY)
        .env("PANELGATE_MASTER_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not both"));
}

/// `serve` with a key file comes up, and SIGTERM stops it with exit status 0.
#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let mut child = panelgate(&["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
        .arg("--master-key-file")
        .arg(&key_file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr on a thread, so a server that never comes up fails the test
    // after a bounded wait instead of hanging it.
    let stderr = child.stderr.take().unwrap();
    let (lines, logged) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let serving = std::iter::from_fn(|| {
        logged
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    })
    .any(|line| line.contains("panelgate serving gRPC"));
    if !serving {
        let _ = child.kill();
        panic!("serve did not come up within 30 s");
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

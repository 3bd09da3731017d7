//! A PostgreSQL server of a test's own (initdb, pg_ctl), on a free loopback
//! port with trust authentication, that the test may stop and start again:
//! outages of the inventory without touching the shared server.
//!
//! PostgreSQL refuses to run as root: as root, the server runs as the
//! `postgres` user (`runuser`), in a directory that user owns.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::gateway::REQUIRE_POSTGRES_ENV;

/// A running (or stopped) private PostgreSQL server; stopped and removed on drop.
#[derive(Debug)]
pub struct OwnPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

impl OwnPostgres {
    /// Starts a fresh server. None (with the reason printed) when
    /// PostgreSQL's programs are not installed, which fails the test
    /// instead when [`REQUIRE_POSTGRES_ENV`] is set.
    pub fn start() -> Option<Self> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os(REQUIRE_POSTGRES_ENV).is_none(),
                "{REQUIRE_POSTGRES_ENV} is set but PostgreSQL's initdb and pg_ctl are not installed"
            );
            eprintln!("skipped: PostgreSQL's initdb and pg_ctl are not installed");
            return None;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let as_postgres = is_root();
        if as_postgres {
            chown_to_postgres(dir.path());
        }
        let port = free_port();
        let server = OwnPostgres {
            bin,
            data,
            port,
            as_postgres,
            _dir: dir,
        };
        server.run(
            "initdb",
            &[
                "-D",
                &server.data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        server.start_again();
        Some(server)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`: a crash, as far
    /// as clients can tell).
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
    }

    /// Starts the server again, on the same port and data.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.data.display()
        );
        self.pg_ctl(&["start", "-w", "-l", "log", "-o", &options]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let mut all = vec!["-D", self.data.to_str().expect("a UTF-8 path")];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    /// Runs one of PostgreSQL's programs; it must succeed.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("run {program}: {err}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// One of PostgreSQL's programs, run as `postgres` when this is root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        command.current_dir(self.data.parent().unwrap_or(Path::new("/")));
        command
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        // Stopped already is fine.
        let data = self.data.display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "stop", "-m", "immediate"])
            .output();
    }
}

/// Where initdb and pg_ctl are: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> Option<PathBuf> {
    let has_programs = |dir: &Path| dir.join("initdb").exists() && dir.join("pg_ctl").exists();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_programs(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|dir| has_programs(dir))
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn chown_to_postgres(dir: &Path) {
    let status = Command::new("chown")
        .args(["postgres:postgres", &dir.display().to_string()])
        .status()
        .expect("run chown");
    assert!(status.success(), "chown the PostgreSQL directory");
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

//! The `panelgate` command line: `serve`, `migrate`, `demo`. Every flag has an
//! environment fallback, so a container is configured with env alone.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use panelgate_adapters::http::Timeouts;
use panelgate_inventory::{Inventory, Keyring, MasterKey};
use tokio::net::TcpListener;

use crate::{
    config::{Config, parse_duration},
    demo, server,
};

/// panelgate: one gRPC API in front of a fleet of web-hosting control panels.
#[derive(Parser)]
#[command(name = "panelgate", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the gRPC API.
    Serve(ServeArgs),
    /// Apply pending inventory migrations, then exit.
    Migrate(DatabaseArgs),
    /// Serve with simulated panels registered, on a throwaway SQLite database.
    Demo(DemoArgs),
}

/// Where the inventory lives.
#[derive(Args)]
pub struct DatabaseArgs {
    /// `sqlite://path.db` (created on first start) or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://panelgate.db",
        hide_env_values = true
    )]
    pub database_url: String,
}

/// Flags of `serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address of the gRPC listener.
    #[arg(long, env = "PANELGATE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub database: DatabaseArgs,
    /// Master key (base64 of 32 bytes) sealing panel credentials. Prefer the
    /// environment variable or --master-key-file: flags show in `ps`.
    #[arg(long, env = "PANELGATE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// File holding the master key (base64 of 32 bytes).
    #[arg(long, env = "PANELGATE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Do not apply pending migrations at start (env: true/false, 1/0, yes/no).
    #[arg(long, env = "PANELGATE_NO_MIGRATE", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub no_migrate: bool,
    /// How long a server's package list is cached.
    #[arg(long, env = "PANELGATE_PACKAGE_CACHE_TTL", default_value = "5m", value_parser = parse_duration)]
    pub package_cache_ttl: Duration,
    /// How long server records and adapters are cached (bounds how stale another replica's change can be).
    #[arg(long, env = "PANELGATE_SERVER_CACHE_TTL", default_value = "30s", value_parser = parse_duration)]
    pub server_cache_ttl: Duration,
    /// Longest wait for one panel HTTP call (IssueCertificate may need more).
    #[arg(long, env = "PANELGATE_UPSTREAM_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub upstream_timeout: Duration,
    /// Longest wait to connect to a panel.
    #[arg(long, env = "PANELGATE_UPSTREAM_CONNECT_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub upstream_connect_timeout: Duration,
    /// How often health checks the inventory.
    #[arg(long, env = "PANELGATE_HEALTH_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub health_interval: Duration,
}

/// Flags of `demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Address of the gRPC listener.
    #[arg(long, env = "PANELGATE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
}

impl ServeArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> anyhow::Result<Config> {
        let keyring =
            match (&self.master_key, &self.master_key_file) {
                (Some(_), Some(_)) => bail!(
                    "give the master key by PANELGATE_MASTER_KEY or --master-key-file, not both"
                ),
                (Some(key), None) => Some(key.clone()),
                (None, Some(path)) => Some(std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the master key file {}", path.display())
                })?),
                (None, None) => None,
            }
            .map(|key| MasterKey::from_base64(&key).map(Keyring::new))
            .transpose()
            .context("invalid master key")?;
        Ok(Config {
            keyring,
            migrate_on_start: !self.no_migrate,
            package_cache_ttl: self.package_cache_ttl,
            server_cache_ttl: self.server_cache_ttl,
            upstream_timeouts: Timeouts {
                connect: self.upstream_connect_timeout,
                request: self.upstream_timeout,
            },
            health_interval: self.health_interval,
            ..Config::new(&self.database.database_url)
        })
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = args.config()?;
            if config.keyring.is_none() {
                tracing::warn!(
                    "no master key configured: registering credentials will fail (set PANELGATE_MASTER_KEY)"
                );
            }
            let listener = TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("cannot listen on {}", args.listen))?;
            server::serve(listener, config, shutdown_signal()).await
        }
        Command::Migrate(args) => {
            let inventory = Inventory::connect(&args.database_url, None)
                .await
                .context("cannot open the inventory database")?;
            inventory.migrate().await.context("migration failed")?;
            inventory.close().await?;
            tracing::info!("inventory migrations applied");
            Ok(())
        }
        Command::Demo(args) => demo::run(args.listen, shutdown_signal()).await,
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called, not when first polled, so a signal during start-up is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (interrupt, terminate) = &mut signals;
            let received = async |signal: &mut Option<tokio::signal::unix::Signal>| match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            };
            tokio::select! {
                () = received(interrupt) => {}
                () = received(terminate) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}

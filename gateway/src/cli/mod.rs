//! The `panelgate` command line: `serve`, `migrate`, `demo`, `token issue`,
//! `rotate-key`. Every flag of `serve` has an environment fallback, so a
//! container is configured with env alone.

mod auth;
mod outbound;
mod serve;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use panelgate_inventory::Inventory;
use tokio::net::TcpListener;
use tracing::{info, warn};

pub use self::{
    auth::{AuthArgs, IssueArgs},
    serve::{DatabaseArgs, KeyArgs, MetricsListen, ServeArgs, TlsArgs},
};
use crate::{demo, server};

/// panelgate: one gRPC API in front of a fleet of web-hosting control panels.
#[derive(Parser)]
#[command(name = "panelgate", version)]
pub struct Cli {
    /// Log lines as JSON objects or text (default: JSON unless stderr is a
    /// terminal). Filter with RUST_LOG, e.g. `info` or `panelgate=debug,info`.
    #[arg(long, global = true, env = "PANELGATE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, with the call's span fields (for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the gRPC API.
    Serve(Box<ServeArgs>),
    /// Apply pending inventory migrations, then exit.
    Migrate(DatabaseArgs),
    /// Serve with simulated panels registered, on a throwaway SQLite database.
    Demo(DemoArgs),
    /// Caller tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Re-seal every stored credential and reply under the master key, so the
    /// previous master key can be retired. Gateways keep serving meanwhile.
    RotateKey(RotateKeyArgs),
}

/// `token` subcommands.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Mint a caller token with the HS256 secret and print it.
    Issue(IssueArgs),
}

/// Flags of `demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Address of the gRPC listener.
    #[arg(long, env = "PANELGATE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address of the Prometheus metrics listener (`/metrics`), or `off`.
    #[arg(long, env = "PANELGATE_METRICS_LISTEN", default_value = "127.0.0.1:9090", value_parser = MetricsListen::parse)]
    pub metrics_listen: MetricsListen,
}

/// Flags of `rotate-key`.
#[derive(Args)]
pub struct RotateKeyArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyArgs,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = args.config()?;
            if config.keyring.is_none() {
                warn!(
                    "no master key configured: credentials and request_ids are refused \
                     (set PANELGATE_MASTER_KEY or --master-key-file)"
                );
            }
            if config.auth.is_none() {
                warn!(
                    "caller authentication is DISABLED (--auth-disabled): anyone who reaches {} can use every panel",
                    args.listen
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
            info!("inventory migrations applied");
            Ok(())
        }
        Command::Demo(args) => {
            demo::run(args.listen, args.metrics_listen.0, shutdown_signal()).await
        }
        Command::Token(TokenCommand::Issue(args)) => {
            println!("{}", args.issue()?);
            Ok(())
        }
        Command::RotateKey(args) => rotate_key(args).await,
    }
}

async fn rotate_key(args: RotateKeyArgs) -> anyhow::Result<()> {
    let keyring = args
        .keys
        .keyring()?
        .context("give the new key as the master key and the old one as the previous master key")?;
    let primary = keyring.primary.key_id().to_owned();
    let inventory = Inventory::connect(&args.database.database_url, Some(keyring))
        .await
        .context("cannot open the inventory database")?;
    let report = inventory.reseal().await.context("re-sealing failed")?;
    inventory.close().await?;
    info!(
        key_id = %primary,
        servers = report.servers,
        operations = report.operations,
        "every stored secret is sealed under the master key: the previous key can be retired"
    );
    Ok(())
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

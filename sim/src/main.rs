//! `panelgate-sim`: runs one panel simulator standalone until Ctrl-C.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};
use panelgate_sim::{AdminApiConfig, AdminApiSim};
use tracing_subscriber::EnvFilter;

/// Runs a simulated control panel on a local port.
#[derive(Debug, Parser)]
#[command(name = "panelgate-sim", version)]
struct Cli {
    #[command(subcommand)]
    panel: PanelCommand,
}

/// One subcommand per simulated panel.
#[derive(Debug, Subcommand)]
enum PanelCommand {
    /// The admin_api panel (OLSPanel's admin API).
    AdminApi(AdminApiArgs),
}

/// Options of the admin_api simulator.
#[derive(Debug, Args)]
struct AdminApiArgs {
    /// Address to listen on.
    #[arg(long, env = "PANELGATE_SIM_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Admin username expected in the `username` header (default: admin).
    #[arg(long, env = "PANELGATE_SIM_ADMIN_USERNAME")]
    admin_username: Option<String>,
    /// Admin password expected in the `password` header (default: admin-secret).
    #[arg(long, env = "PANELGATE_SIM_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Start with the panel's API switch off.
    #[arg(long)]
    api_disabled: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    match Cli::parse().panel {
        PanelCommand::AdminApi(args) => {
            let defaults = AdminApiConfig::default();
            let config = AdminApiConfig {
                admin_username: args.admin_username.unwrap_or(defaults.admin_username),
                admin_password: args.admin_password.unwrap_or(defaults.admin_password),
                api_enabled: !args.api_disabled,
                ..defaults
            };
            let sim = AdminApiSim::start_on(args.listen, config).await?;
            println!("admin_api simulator listening on {}", sim.base_url());
        }
    }

    tokio::signal::ctrl_c().await?;
    tracing::info!("ctrl-c received, stopping");
    Ok(())
}

//! `panelgate-sim`: runs one panel simulator standalone until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use panelgate_sim::{
    AdminApiConfig, AdminApiSim, AutologinStyle, InstallatronConfig, InstallatronSim,
    OpenAdminConfig, OpenAdminSim, SpanelConfig, SpanelSim,
};
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
    /// The OpenAdmin API of OpenPanel Enterprise (Python or Go build).
    Openadmin(OpenAdminArgs),
    /// The SPanel API (`POST /<folder>/api.php`).
    Spanel(SpanelArgs),
    /// The Installatron Server API (`/users`, `/users/{id}`, `/users/{id}/login`).
    Installatron(InstallatronArgs),
}

/// Options of the admin_api simulator.
#[derive(Debug, Args)]
struct AdminApiArgs {
    /// Address to listen on.
    #[arg(long, env = "PANELGATE_SIM_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Admin username expected in the `username` header.
    #[arg(long, env = "PANELGATE_SIM_ADMIN_USERNAME", default_value_t = AdminApiConfig::default().admin_username)]
    admin_username: String,
    /// Admin password expected in the `password` header.
    #[arg(long, env = "PANELGATE_SIM_ADMIN_PASSWORD", hide_env_values = true, default_value_t = AdminApiConfig::default().admin_password)]
    admin_password: String,
    /// Start with the panel's API switch off.
    #[arg(long)]
    api_disabled: bool,
}

/// Options of the OpenAdmin simulator.
#[derive(Debug, Args)]
struct OpenAdminArgs {
    /// Address to listen on.
    #[arg(long, env = "PANELGATE_SIM_LISTEN", default_value = "127.0.0.1:8082")]
    listen: SocketAddr,
    /// Admin username accepted by `POST /api/`.
    #[arg(long, env = "PANELGATE_SIM_ADMIN_USERNAME", default_value_t = OpenAdminConfig::default().admin_username)]
    admin_username: String,
    /// Admin password accepted by `POST /api/`.
    #[arg(long, env = "PANELGATE_SIM_ADMIN_PASSWORD", hide_env_values = true, default_value_t = OpenAdminConfig::default().admin_password)]
    admin_password: String,
    /// HS256 key the issued tokens are signed with.
    #[arg(long, env = "PANELGATE_SIM_JWT_SECRET", hide_env_values = true, hide_default_value = true, default_value_t = OpenAdminConfig::default().jwt_secret)]
    jwt_secret: String,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, env = "PANELGATE_SIM_TOKEN_LIFETIME_SECS", default_value_t = 900)]
    token_lifetime_secs: u64,
    /// Which build to simulate: `connect` (Python, CONNECT autologin) or `post`
    /// (Go, POST .../autologin).
    #[arg(long, value_enum, default_value_t = Build::Post)]
    autologin: Build,
    /// Leave out `POST /api/plans` (older builds).
    #[arg(long)]
    no_plan_create: bool,
    /// At most this many login attempts per minute (default: unlimited).
    #[arg(long)]
    login_burst: Option<u32>,
    /// Start with the API switched off.
    #[arg(long)]
    api_disabled: bool,
}

/// Options of the SPanel simulator.
#[derive(Debug, Args)]
struct SpanelArgs {
    /// Address to listen on.
    #[arg(long, env = "PANELGATE_SIM_LISTEN", default_value = "127.0.0.1:8083")]
    listen: SocketAddr,
    /// API folder: `spanel`, or `hostpanel` under white-label branding.
    #[arg(long, env = "PANELGATE_SIM_SPANEL_FOLDER", default_value_t = SpanelConfig::default().folder)]
    folder: String,
    /// Admin API token accepted in the `token` field.
    #[arg(long, env = "PANELGATE_SIM_ADMIN_TOKEN", hide_env_values = true, default_value_t = SpanelConfig::default().admin_token)]
    admin_token: String,
    /// Start with the token's SSO option off (`base/sso` refused).
    #[arg(long)]
    no_sso: bool,
}

/// Options of the Installatron Server simulator.
#[derive(Debug, Args)]
struct InstallatronArgs {
    /// Address to listen on.
    #[arg(long, env = "PANELGATE_SIM_LISTEN", default_value = "127.0.0.1:8084")]
    listen: SocketAddr,
    /// The settings.ini `key=` value expected in `X-API-KEY`.
    #[arg(long, env = "PANELGATE_SIM_API_KEY", hide_env_values = true, default_value_t = InstallatronConfig::default().api_key)]
    api_key: String,
    /// The settings.ini `key2=` value, accepted as well (default: none).
    #[arg(long, env = "PANELGATE_SIM_API_KEY2", hide_env_values = true)]
    api_key2: Option<String>,
}

/// `--autologin` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Build {
    /// Python build: `CONNECT /api/users/{username}`.
    Connect,
    /// Go build: `POST /api/users/{username}/autologin`.
    Post,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let (panel, url) = match Cli::parse().panel {
        PanelCommand::AdminApi(args) => {
            let config = AdminApiConfig {
                admin_username: args.admin_username,
                admin_password: args.admin_password,
                api_enabled: !args.api_disabled,
                ..AdminApiConfig::default()
            };
            let sim = AdminApiSim::start_on(args.listen, config).await?;
            ("admin_api", sim.base_url())
        }
        PanelCommand::Openadmin(args) => {
            let config = OpenAdminConfig {
                autologin: match args.autologin {
                    Build::Connect => AutologinStyle::Connect,
                    Build::Post => AutologinStyle::Post,
                },
                token_lifetime: Duration::from_secs(args.token_lifetime_secs),
                admin_username: args.admin_username,
                admin_password: args.admin_password,
                jwt_secret: args.jwt_secret,
                plan_create: !args.no_plan_create,
                login_burst: args.login_burst,
                api_enabled: !args.api_disabled,
                ..OpenAdminConfig::default()
            };
            let sim = OpenAdminSim::start_on(args.listen, config).await?;
            ("OpenAdmin", format!("{}/api/", sim.base_url()))
        }
        PanelCommand::Spanel(args) => {
            let config = SpanelConfig {
                folder: args.folder,
                admin_token: args.admin_token,
                admin_token_sso: !args.no_sso,
                ..SpanelConfig::default()
            };
            let sim = SpanelSim::start_on(args.listen, config).await?;
            ("SPanel", format!("{}api.php", sim.base_url()))
        }
        PanelCommand::Installatron(args) => {
            let config = InstallatronConfig {
                api_key: args.api_key,
                api_key2: args.api_key2,
            };
            let sim = InstallatronSim::start_on(args.listen, config).await?;
            ("Installatron Server", format!("{}users", sim.base_url()))
        }
    };
    println!("{panel} simulator listening on {url}");

    tokio::signal::ctrl_c().await?;
    tracing::info!("ctrl-c received, stopping");
    Ok(())
}

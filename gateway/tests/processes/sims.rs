//! Simulated panels of every kind, as the process tests register and use
//! them.

use panelgate_proto::v1::{
    ApiTokenCredentials, CreateAccountRequest, Credentials, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, ServerDefaults, Target, credentials,
    inventory_service_client::InventoryServiceClient, target,
};
use panelgate_sim::{
    AdminApiConfig, AdminApiSim, Faults, InstallatronConfig, InstallatronSim, OpenAdminConfig,
    OpenAdminSim,
    spanel::{SpanelConfig, SpanelSim},
};
use tonic::transport::Channel;

use crate::gateway::bearer;

/// The name a simulated panel is registered under.
pub const SERVER: &str = "panel";

/// A simulated panel of any kind, registered as [`SERVER`].
pub enum SimPanel {
    AdminApi(AdminApiSim, AdminApiConfig),
    OpenAdmin(OpenAdminSim, OpenAdminConfig),
    Spanel(SpanelSim, SpanelConfig),
    Installatron(InstallatronSim, InstallatronConfig),
}

impl SimPanel {
    pub async fn start(kind: PanelKind) -> Self {
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

    pub fn faults(&self) -> &Faults {
        match self {
            SimPanel::AdminApi(sim, _) => sim.faults(),
            SimPanel::OpenAdmin(sim, _) => sim.faults(),
            SimPanel::Spanel(sim, _) => sim.faults(),
            SimPanel::Installatron(sim, _) => sim.faults(),
        }
    }

    pub fn request_count(&self) -> u64 {
        match self {
            SimPanel::AdminApi(sim, _) => sim.request_count(),
            SimPanel::OpenAdmin(sim, _) => sim.request_count(),
            SimPanel::Spanel(sim, _) => sim.request_count(),
            SimPanel::Installatron(sim, _) => sim.request_count(),
        }
    }

    /// Registers the panel with the gateway on `channel`.
    pub async fn register(&self, channel: Channel) {
        InventoryServiceClient::new(channel)
            .register_server(bearer(self.registration()))
            .await
            .expect("register the panel");
    }

    /// Whether the panel holds account `username`.
    pub fn holds(&self, username: &str) -> bool {
        match self {
            SimPanel::AdminApi(sim, _) => sim.user(username).is_some(),
            SimPanel::OpenAdmin(sim, _) => sim.user(username).is_some(),
            SimPanel::Spanel(sim, _) => sim.account(username).is_some(),
            SimPanel::Installatron(sim, _) => sim.user(username).is_some(),
        }
    }

    /// RegisterServer of the panel as [`SERVER`].
    pub fn registration(&self) -> RegisterServerRequest {
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
    pub fn create(&self, username: &str) -> CreateAccountRequest {
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
    pub fn made_once(&self, username: &str) -> bool {
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

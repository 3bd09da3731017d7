//! Simulated panels as tests use them: how to register one with the gateway,
//! and how to look at its state to check what a canonical call really did.

use async_trait::async_trait;
use panelgate_adapters::documented::Documented;
use panelgate_proto::v1::ApiTokenCredentials;
use panelgate_proto::v1::{
    Credentials, PanelKind, PasswordCredentials, RegisterServerRequest, Server, ServerDefaults,
    create_account_request, credentials,
};
use panelgate_sim::{
    Faults,
    admin_api::{AdminApiConfig, AdminApiSim},
    installatron::{InstallatronConfig, InstallatronSim},
    openadmin::{OpenAdminConfig, OpenAdminSim},
    spanel::{SpanelConfig, SpanelSim},
};

use crate::Gateway;

/// What a create-like call makes, to count on a simulated panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Made {
    /// An account (by username).
    Account,
    /// A domain of an account.
    Domain,
    /// A database of an account.
    Database,
    /// A package.
    Package,
    /// A panel administrator.
    PanelAdmin,
    /// A domain's certificate.
    Certificate,
}

/// A simulated panel for the conformance suite.
#[async_trait]
pub trait PanelFixture: Send + Sync + Sized + 'static {
    /// The panel kind it simulates.
    const KIND: PanelKind;

    /// Whether the panel's account reads report the owner's email (SPanel's
    /// `listaccounts` does not).
    const REPORTS_EMAIL: bool = true;

    /// Whether the panel can check a change without making it (Installatron's
    /// dry run), so validate_only consults it.
    const HAS_DRY_RUN: bool = false;

    /// Whether the panel keeps account passwords (CreateAccount needs one).
    const KEEPS_PASSWORDS: bool = true;

    /// The panel's documented errors, as its adapter reads them.
    const ERRORS: &'static [Documented];

    /// Starts a fresh simulator.
    async fn start() -> Self;

    /// The simulator's base URL.
    fn base_url(&self) -> String;

    /// Credentials the simulator accepts.
    fn credentials(&self) -> Credentials;

    /// Server defaults to register with.
    fn defaults(&self) -> Option<ServerDefaults> {
        None
    }

    /// Two package names the simulator has: (for new accounts, to change to).
    fn packages(&self) -> (&'static str, &'static str);

    /// Options for CreateAccount, if the panel needs some.
    fn account_options(&self) -> Option<create_account_request::PanelOptions> {
        None
    }

    /// Whether the simulated panel holds the account.
    fn account_exists(&self, username: &str) -> bool;

    /// The owner's email as the simulated panel holds it.
    fn email_of(&self, username: &str) -> Option<String>;

    /// Whether the account is suspended on the simulated panel.
    fn is_suspended(&self, username: &str) -> bool;

    /// The name of the account's package on the simulated panel.
    fn package_of(&self, username: &str) -> Option<String>;

    /// The account's panel password on the simulated panel.
    fn password_of(&self, username: &str) -> Option<String>;

    /// HTTP requests the simulator has received.
    fn requests(&self) -> u64;

    /// The simulator's fault knobs.
    fn faults(&self) -> &Faults;

    /// Every table of the simulated panel, rendered: equal before and after
    /// a call that changed nothing.
    fn state(&self) -> String;

    /// How many of `what` named `name` (of account `owner`, where that
    /// applies) the simulated panel holds; None when the panel has no such
    /// thing at all.
    fn count(&self, what: Made, owner: &str, name: &str) -> Option<usize>;

    /// Registers the simulator with `gateway` as server `name`; returns its id.
    async fn register(&self, gateway: &Gateway, name: &str) -> String {
        let response = gateway
            .inventory()
            .register_server(RegisterServerRequest {
                server: Some(Server {
                    name: name.to_owned(),
                    kind: Self::KIND.into(),
                    base_url: self.base_url(),
                    defaults: self.defaults(),
                    ..Default::default()
                }),
                credentials: Some(self.credentials()),
                request_id: String::new(),
            })
            .await
            .expect("register the simulated server");
        response.into_inner().server.expect("server in reply").id
    }
}

/// The admin_api (OLSPanel) simulator.
pub struct AdminApiFixture {
    /// The simulator, for panel-specific checks and fault injection.
    pub sim: AdminApiSim,
    config: AdminApiConfig,
}

#[async_trait]
impl PanelFixture for AdminApiFixture {
    const KIND: PanelKind = PanelKind::AdminApi;
    const ERRORS: &'static [Documented] = panelgate_adapters::admin_api::ERRORS;

    async fn start() -> Self {
        let config = AdminApiConfig::default();
        let sim = AdminApiSim::start(config.clone())
            .await
            .expect("start the admin_api simulator");
        AdminApiFixture { sim, config }
    }

    fn base_url(&self) -> String {
        self.sim.base_url()
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            kind: Some(credentials::Kind::Password(PasswordCredentials {
                username: self.config.admin_username.clone(),
                password: self.config.admin_password.clone(),
            })),
        }
    }

    fn defaults(&self) -> Option<ServerDefaults> {
        Some(ServerDefaults {
            php_version: "8.2".to_owned(),
        })
    }

    fn packages(&self) -> (&'static str, &'static str) {
        ("Basic", "Premium")
    }

    fn account_exists(&self, username: &str) -> bool {
        self.sim.user(username).is_some()
    }

    fn email_of(&self, username: &str) -> Option<String> {
        self.sim.user(username).map(|user| user.email)
    }

    fn is_suspended(&self, username: &str) -> bool {
        self.sim.user(username).is_some_and(|user| !user.active)
    }

    fn package_of(&self, username: &str) -> Option<String> {
        let user = self.sim.user(username)?;
        self.sim
            .packages()
            .into_iter()
            .find(|package| package.id.to_string() == user.pkg_id)
            .map(|package| package.name)
    }

    fn password_of(&self, username: &str) -> Option<String> {
        self.sim.user(username).map(|user| user.password)
    }

    fn requests(&self) -> u64 {
        self.sim.request_count()
    }

    fn faults(&self) -> &Faults {
        self.sim.faults()
    }

    fn state(&self) -> String {
        self.sim.state()
    }

    fn count(&self, what: Made, owner: &str, name: &str) -> Option<usize> {
        let user = self.sim.user(owner);
        let within = |names: Option<Vec<String>>| {
            names.map_or(0, |names| {
                names.iter().filter(|n| n.as_str() == name).count()
            })
        };
        Some(match what {
            Made::Account => usize::from(self.sim.user(name).is_some()),
            Made::Domain => within(user.map(|user| user.domains)),
            Made::Database => {
                let prefixed = format!("{owner}_{name}");
                user.map_or(0, |user| {
                    user.databases.iter().filter(|d| **d == prefixed).count()
                })
            }
            Made::Package => self
                .sim
                .packages()
                .iter()
                .filter(|package| package.name == name)
                .count(),
            Made::Certificate => usize::from(self.sim.domain(name).is_some_and(|d| d.has_ssl)),
            Made::PanelAdmin => return None,
        })
    }
}

/// The OpenAdmin (OpenPanel) simulator.
pub struct OpenAdminFixture {
    /// The simulator, for panel-specific checks and fault injection.
    pub sim: OpenAdminSim,
    config: OpenAdminConfig,
}

impl OpenAdminFixture {
    /// A simulator with `config`.
    pub async fn with_config(config: OpenAdminConfig) -> Self {
        let sim = OpenAdminSim::start(config.clone())
            .await
            .expect("start the OpenAdmin simulator");
        OpenAdminFixture { sim, config }
    }
}

#[async_trait]
impl PanelFixture for OpenAdminFixture {
    const KIND: PanelKind = PanelKind::Openadmin;
    const ERRORS: &'static [Documented] = panelgate_adapters::openadmin::ERRORS;

    async fn start() -> Self {
        Self::with_config(OpenAdminConfig::default()).await
    }

    fn base_url(&self) -> String {
        self.sim.base_url()
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            kind: Some(credentials::Kind::Password(PasswordCredentials {
                username: self.config.admin_username.clone(),
                password: self.config.admin_password.clone(),
            })),
        }
    }

    fn packages(&self) -> (&'static str, &'static str) {
        ("default_plan_nginx", "pro_plan_apache")
    }

    fn account_exists(&self, username: &str) -> bool {
        self.sim.user(username).is_some()
    }

    fn email_of(&self, username: &str) -> Option<String> {
        self.sim.user(username).map(|user| user.email)
    }

    fn is_suspended(&self, username: &str) -> bool {
        self.sim.user(username).is_some_and(|user| user.suspended)
    }

    fn package_of(&self, username: &str) -> Option<String> {
        self.sim.user(username).map(|user| user.plan_name)
    }

    fn password_of(&self, username: &str) -> Option<String> {
        self.sim.user(username).map(|user| user.password)
    }

    fn requests(&self) -> u64 {
        self.sim.request_count()
    }

    fn faults(&self) -> &Faults {
        self.sim.faults()
    }

    fn state(&self) -> String {
        self.sim.state()
    }

    fn count(&self, what: Made, owner: &str, name: &str) -> Option<usize> {
        Some(match what {
            Made::Account => usize::from(self.sim.user(name).is_some()),
            Made::Domain => self.sim.user(owner).map_or(0, |user| {
                user.domains.iter().filter(|domain| *domain == name).count()
            }),
            Made::Package => self
                .sim
                .plans()
                .iter()
                .filter(|plan| plan.name == name)
                .count(),
            Made::Database | Made::PanelAdmin | Made::Certificate => return None,
        })
    }
}

/// The SPanel simulator.
pub struct SpanelFixture {
    /// The simulator, for panel-specific checks and fault injection.
    pub sim: SpanelSim,
    config: SpanelConfig,
}

impl SpanelFixture {
    /// A simulator with `config`.
    pub async fn with_config(config: SpanelConfig) -> Self {
        let sim = SpanelSim::start(config.clone())
            .await
            .expect("start the SPanel simulator");
        SpanelFixture { sim, config }
    }
}

#[async_trait]
impl PanelFixture for SpanelFixture {
    const KIND: PanelKind = PanelKind::Spanel;
    const ERRORS: &'static [Documented] = panelgate_adapters::spanel::ERRORS;
    const REPORTS_EMAIL: bool = false;

    async fn start() -> Self {
        Self::with_config(SpanelConfig::default()).await
    }

    fn base_url(&self) -> String {
        self.sim.base_url()
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                token: self.config.admin_token.clone(),
            })),
        }
    }

    fn packages(&self) -> (&'static str, &'static str) {
        ("basic", "pro")
    }

    fn account_exists(&self, username: &str) -> bool {
        self.sim.account(username).is_some()
    }

    fn email_of(&self, username: &str) -> Option<String> {
        self.sim.account(username).map(|account| account.email)
    }

    fn is_suspended(&self, username: &str) -> bool {
        self.sim
            .account(username)
            .is_some_and(|account| account.suspended)
    }

    fn package_of(&self, username: &str) -> Option<String> {
        self.sim.account(username).map(|account| account.package)
    }

    fn password_of(&self, username: &str) -> Option<String> {
        self.sim.account(username).map(|account| account.password)
    }

    fn requests(&self) -> u64 {
        self.sim.request_count()
    }

    fn faults(&self) -> &Faults {
        self.sim.faults()
    }

    fn state(&self) -> String {
        self.sim.state()
    }

    fn count(&self, what: Made, owner: &str, name: &str) -> Option<usize> {
        let account = self.sim.account(owner);
        Some(match what {
            Made::Account => usize::from(self.sim.account(name).is_some()),
            Made::Domain => account.map_or(0, |account| {
                account
                    .subdomains
                    .iter()
                    .filter(|domain| *domain == name)
                    .count()
            }),
            Made::Database => account.map_or(0, |account| {
                account
                    .databases
                    .iter()
                    .filter(|(database, _)| database.ends_with(&format!("_{name}")))
                    .count()
            }),
            Made::Package => self
                .sim
                .packages()
                .iter()
                .filter(|package| package.name == name)
                .count(),
            Made::PanelAdmin => self
                .sim
                .admin_users()
                .iter()
                .filter(|admin| admin.user == name)
                .count(),
            Made::Certificate => return None,
        })
    }
}

/// The Installatron Server simulator.
pub struct InstallatronFixture {
    /// The simulator, for panel-specific checks and fault injection.
    pub sim: InstallatronSim,
    config: InstallatronConfig,
}

impl InstallatronFixture {
    /// A simulator with `config`.
    pub async fn with_config(config: InstallatronConfig) -> Self {
        let sim = InstallatronSim::start(config.clone())
            .await
            .expect("start the Installatron simulator");
        InstallatronFixture { sim, config }
    }

    fn user_text(&self, username: &str, key: &str) -> Option<String> {
        self.sim
            .user(username)?
            .get(key)?
            .as_str()
            .map(str::to_owned)
    }
}

#[async_trait]
impl PanelFixture for InstallatronFixture {
    const KIND: PanelKind = PanelKind::Installatron;
    const ERRORS: &'static [Documented] = panelgate_adapters::installatron::ERRORS;
    const HAS_DRY_RUN: bool = true;
    const KEEPS_PASSWORDS: bool = false;

    async fn start() -> Self {
        Self::with_config(InstallatronConfig::default()).await
    }

    fn base_url(&self) -> String {
        self.sim.base_url()
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
                token: self.config.api_key.clone(),
            })),
        }
    }

    /// Installatron packages are free-text labels.
    fn packages(&self) -> (&'static str, &'static str) {
        ("gold", "silver")
    }

    fn account_exists(&self, username: &str) -> bool {
        self.sim.user(username).is_some()
    }

    fn email_of(&self, username: &str) -> Option<String> {
        self.user_text(username, "email")
    }

    fn is_suspended(&self, username: &str) -> bool {
        self.sim
            .user(username)
            .and_then(|user| user.get("suspended")?.as_bool())
            .unwrap_or(false)
    }

    fn package_of(&self, username: &str) -> Option<String> {
        self.user_text(username, "package")
    }

    /// Installatron keeps no account passwords.
    fn password_of(&self, _username: &str) -> Option<String> {
        None
    }

    fn requests(&self) -> u64 {
        self.sim.request_count()
    }

    fn faults(&self) -> &Faults {
        self.sim.faults()
    }

    fn state(&self) -> String {
        self.sim.state()
    }

    fn count(&self, what: Made, owner: &str, name: &str) -> Option<usize> {
        let websites = || {
            self.sim
                .user(owner)
                .and_then(|user| user.get("websites").cloned())
                .and_then(|websites| websites.as_array().cloned())
                .unwrap_or_default()
        };
        Some(match what {
            Made::Account => usize::from(self.sim.user(name).is_some()),
            Made::Domain => websites()
                .iter()
                .filter_map(|website| website.get("vhosts")?.as_object().cloned())
                .flat_map(|vhosts| vhosts.into_iter().map(|(url, _)| url))
                .filter(|url| url == &format!("https://{name}"))
                .count(),
            Made::Database => websites()
                .iter()
                .filter_map(|website| website.get("databases")?.as_array().cloned())
                .flatten()
                .filter(|database| database.get("name").and_then(|n| n.as_str()) == Some(name))
                .count(),
            Made::Package | Made::PanelAdmin | Made::Certificate => return None,
        })
    }
}

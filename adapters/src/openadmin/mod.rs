//! OpenAdmin: OpenPanel Enterprise's admin API (`/api/...`).
//!
//! JWT login (`POST /api/`), then JSON REST with a Bearer token. The panel
//! manages hosting users (each with a plan, domains and Docker-run
//! services), plans, domains, the server's system services and its
//! notifications; the Python build (v1.7.60's docs) and the Go rewrite
//! differ in routes and reply shapes. What this adapter does beyond a
//! one-to-one mapping:
//! - Tokens are cached per server for as long as their own `exp` says (see
//!   [`crate::session`]); a 401 logs in again and retries once.
//! - CreateAccount creates the user, then its primary domain; if the domain
//!   fails, the user is deleted again and the domain's failure reported.
//! - A suspended account shows as `SUSPENDED_<id>_<username>` in the panel's
//!   records: that is how its status is read.
//! - DeleteAccount unsuspends first when the panel refuses to delete a
//!   suspended account (as the vendor's own client does); suspending a
//!   suspended account (or the reverse) is a success, not the panel's error.
//! - Login links: `POST /api/users/{u}/autologin` (Go builds), and when the
//!   panel answers 404 or 405, `CONNECT /api/users/{u}` (Python builds), sent
//!   by hand because HTTP stacks drop a CONNECT's path.
//! - Plan creation exists only in newer builds: a 404 or 405 is UNIMPLEMENTED,
//!   and CheckServer reads the panel's endpoint listing (`GET /api/usage`) to
//!   report whether this panel has it.
//! - Domain commands answer HTTP 200 even when they fail: `returncode` decides.
//! - ListDomains of a whole server leaves `username` empty (the panel lists
//!   domains by internal user id only); with a username, it lists that
//!   account's domains with their owner.

mod accounts;
mod client;
mod domains;
mod error;
mod mapping;
mod packages;
mod server;
mod wire;

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::Capability;
use panelgate_proto::v1::{
    Account, AccountUsage, CreateLoginLinkResponse, Domain, Notification, Package, PanelKind,
    ServerInfo, SystemServiceAction, create_package_request,
};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use self::{
    accounts::user_path,
    client::Client,
    error::Subject,
    wire::{DomainList, Notifications, System},
};
use crate::kind::{Built, Login, Parts};
use crate::{
    Earlier, NewAccount, NewDomain, NewPackage, PackageRef, Panel, PanelCheck, PanelDescription,
    Result, units,
};

/// The OpenAdmin adapter for one server.
struct OpenAdmin {
    client: Client,
}

impl OpenAdmin {
    /// An adapter logging in with the server's admin username and password.
    fn build(parts: Parts, username: String, password: SecretString) -> Built {
        Ok(Arc::new(OpenAdmin {
            client: Client::new(parts, username, password),
        }))
    }
}

/// What the impl below implements, one line an area (accounts, packages,
/// domains, the rest); everything else is UNIMPLEMENTED.
/// CreatePackage depends on the panel's version (see the module docs).
#[rustfmt::skip]
const CAPABILITIES: &[Capability] = {
    use Capability::*;
    &[
        CreateAccount, GetAccount, ListAccounts, SuspendAccount, UnsuspendAccount, DeleteAccount,
        ChangePackage, ChangePassword, CreateLoginLink, GetAccountUsage,
        ListPackages, GetPackage, CreatePackage,
        AddDomain, ListDomains, SuspendDomain, UnsuspendDomain, DeleteDomain,
        GetServerInfo, ControlSystemService, SetSystemServiceMonitored, ListNotifications,
    ]
};

// Options for other kinds never reach an adapter: the gateway refuses them.
#[async_trait]
impl Panel for OpenAdmin {
    async fn check(&self) -> Result<PanelCheck> {
        let system: System = self
            .client
            .get("api/system", Subject::new("system"))
            .await?;
        let listing: Value = self.client.get("api/usage", Subject::new("usage")).await?;
        let capabilities = CAPABILITIES
            .iter()
            .copied()
            .filter(|op| *op != Capability::CreatePackage || mapping::lists_plan_creation(&listing))
            .collect();
        Ok(PanelCheck {
            panel_version: system.openpanel_version,
            capabilities: Some(capabilities),
        })
    }

    fn capabilities(&self) -> &'static [Capability] {
        CAPABILITIES
    }

    async fn earlier_account(&self, account: &NewAccount) -> Result<Earlier<Account>> {
        self.earlier_user(account).await
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account> {
        self.create_user(account).await
    }

    async fn get_account(&self, username: &str) -> Result<Account> {
        let (detail, ips) = tokio::join!(self.user(username), self.ips());
        let dedicated_ip = ips?.get(username).and_then(units::as_text);
        Ok(mapping::account(username, &detail?, dedicated_ip))
    }

    async fn all_accounts(&self) -> Result<Vec<Account>> {
        let (users, ips) = tokio::join!(self.users(), self.ips());
        let ips = ips?;
        Ok(users?
            .into_iter()
            .map(|entry| mapping::listed_account(entry, &ips))
            .collect())
    }

    async fn suspend_account(&self, username: &str, _reason: &str) -> Result<()> {
        self.set_suspended(username, true).await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<()> {
        self.set_suspended(username, false).await
    }

    async fn delete_account(&self, username: &str) -> Result<()> {
        self.delete_any_user(username).await
    }

    async fn change_package(&self, username: &str, package: &PackageRef) -> Result<()> {
        let body = json!({"plan_name": package.name});
        self.client
            .mutate(
                Method::PUT,
                user_path(username)?,
                Some(&body),
                Subject::new(username),
            )
            .await
            .map(drop)
    }

    async fn change_password(&self, username: &str, password: &SecretString) -> Result<()> {
        // Alone: with an `action` beside it, the panel would change only the password.
        let password = password.expose_secret();
        self.patch_user(username, json!({"password": password}), Some(password))
            .await
    }

    async fn create_login_link(&self, username: &str) -> Result<CreateLoginLinkResponse> {
        self.login_link(username).await
    }

    async fn get_account_usage(&self, username: &str) -> Result<AccountUsage> {
        let (detail, quotas) = tokio::join!(self.user(username), self.quotas(username));
        // The quota report may leave an account out (or be empty on a fresh panel).
        let quotas = quotas.unwrap_or_default();
        Ok(mapping::usage(&detail?, quotas.get(username)))
    }

    async fn list_packages(&self) -> Result<Vec<Package>> {
        self.plans().await?.iter().map(mapping::package).collect()
    }

    async fn get_package(&self, wanted: &str) -> Result<Package> {
        self.plan(wanted).await
    }

    async fn create_package(&self, package: &NewPackage) -> Result<Package> {
        let (description, websites, cpu, ram) = match &package.options {
            Some(create_package_request::PanelOptions::Openadmin(options)) => (
                options.description.as_str(),
                options.websites.as_ref(),
                options.cpu.as_str(),
                options.ram.as_str(),
            ),
            _ => ("", None, "", ""),
        };
        let body = mapping::plan_body(
            &package.name,
            &package.limits,
            description,
            websites,
            cpu,
            ram,
        )?;
        self.create_plan(&package.name, &body).await?;
        self.get_package(&package.name).await
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain> {
        self.new_domain(domain).await
    }

    /// A whole server's domains come without their owner: the panel lists
    /// those by internal user id only.
    async fn all_domains(&self, username: Option<&str>) -> Result<Vec<Domain>> {
        let (owner, domains) = match username {
            Some(username) => (username, self.user(username).await?.domains),
            None => {
                let list: DomainList = self.client.get("api/domains", Subject::new("*")).await?;
                ("", list.domains)
            }
        };
        Ok(domains
            .into_iter()
            .map(|domain| mapping::domain(domain, owner))
            .collect())
    }

    async fn suspend_domain(&self, domain: &str) -> Result<()> {
        self.domain_command("suspend", domain).await
    }

    async fn unsuspend_domain(&self, domain: &str) -> Result<()> {
        self.domain_command("unsuspend", domain).await
    }

    async fn delete_domain(&self, domain: &str, _owner: Option<&str>) -> Result<()> {
        self.domain_command("delete", domain).await
    }

    async fn get_server_info(&self) -> Result<ServerInfo> {
        self.server_info().await
    }

    async fn control_system_service(
        &self,
        service: &str,
        action: SystemServiceAction,
    ) -> Result<()> {
        self.control_service(service, action).await
    }

    async fn set_system_service_monitored(&self, service: &str, monitored: bool) -> Result<()> {
        self.set_monitored(service, monitored).await
    }

    async fn list_notifications(&self) -> Result<Vec<Notification>> {
        let subject = Subject::new("notifications");
        let reply: Notifications = self.client.get("api/notifications", subject).await?;
        Ok(mapping::notifications(reply))
    }
}

/// The OpenAdmin panel: its names, what its adapter can do, and how it logs in.
#[rustfmt::skip]
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::Openadmin, name: "openadmin", title: "OpenAdmin",
    capabilities: CAPABILITIES, login: Login::Password(OpenAdmin::build),
};

//! OpenAdmin: OpenPanel Enterprise's admin API (`/api/...`).
//!
//! JWT login (`POST /api/`), then JSON REST with a Bearer token; see
//! `shared/panels/source-docs/openadmin.txt`. What this adapter does beyond a
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

mod client;
mod error;
mod mapping;
mod wire;

pub use self::error::ERRORS;

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, AccountUsage, CreateLoginLinkResponse, Domain, DomainStatus, Notification, Operation,
    Package, PanelKind, ServerInfo, SystemServiceAction, create_package_request,
};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tracing::warn;

use self::{
    client::Client,
    error::Subject,
    wire::{
        AutologinLink, DomainList, Memory, Notifications, PlanList, PlanReply, System, UsageStats,
        UserList, UserReply,
    },
};
use crate::{
    AdapterError, Earlier, Entity, Listed, NewAccount, NewDomain, NewPackage, PackageRef, Panel,
    PanelCheck, PanelDescription, Slice,
    http::UrlPath,
    kind::{Built, Login, Parts},
    panel::created_as,
    units,
};

/// The OpenAdmin panel kind. CreatePackage depends on the panel's version
/// (see the module docs).
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::Openadmin,
    name: "openadmin",
    title: "OpenAdmin",
    capabilities: &[
        Operation::CreateAccount,
        Operation::GetAccount,
        Operation::ListAccounts,
        Operation::SuspendAccount,
        Operation::UnsuspendAccount,
        Operation::DeleteAccount,
        Operation::ChangePackage,
        Operation::ChangePassword,
        Operation::CreateLoginLink,
        Operation::GetAccountUsage,
        Operation::ListPackages,
        Operation::GetPackage,
        Operation::CreatePackage,
        Operation::AddDomain,
        Operation::ListDomains,
        Operation::SuspendDomain,
        Operation::UnsuspendDomain,
        Operation::DeleteDomain,
        Operation::GetServerInfo,
        Operation::ControlSystemService,
        Operation::SetSystemServiceMonitored,
        Operation::ListNotifications,
    ],
    login: Login::Password(OpenAdmin::build),
};

/// Where OpenAdmin document roots must live.
const DOCROOT_BASE: &str = "/var/www/html/";

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

    async fn user(&self, username: &str) -> Result<wire::UserDetail, AdapterError> {
        let reply: UserReply = self
            .client
            .get(user_path(username)?, Subject::new(username))
            .await?;
        Ok(reply.user)
    }

    /// Dedicated IPs by username.
    async fn ips(&self) -> Result<BTreeMap<String, Value>, AdapterError> {
        self.client.get("api/ips", Subject::new("*")).await
    }

    async fn patch_user(
        &self,
        username: &str,
        body: Value,
        secret: Option<&str>,
    ) -> Result<(), AdapterError> {
        let mut subject = Subject::new(username);
        if let Some(secret) = secret {
            subject = subject.with_secret(secret);
        }
        self.client
            .mutate(Method::PATCH, user_path(username)?, Some(&body), subject)
            .await
            .map(drop)
    }

    async fn delete_user(&self, username: &str) -> Result<(), AdapterError> {
        self.client
            .mutate(
                Method::DELETE,
                user_path(username)?,
                None,
                Subject::new(username),
            )
            .await
            .map(drop)
    }

    async fn plans(&self) -> Result<Vec<wire::Plan>, AdapterError> {
        let list: PlanList = self.client.get("api/plans", Subject::new("*")).await?;
        Ok(list.plans)
    }
}

/// The AddDomain of a new account's primary domain.
fn primary_domain(account: &NewAccount) -> NewDomain {
    NewDomain {
        username: account.username.clone(),
        domain: account.primary_domain.clone(),
        document_root: None,
        options: None,
    }
}

fn user_path(username: &str) -> Result<UrlPath, AdapterError> {
    UrlPath::route("api/users").value("username", username)
}

#[async_trait]
impl Panel for OpenAdmin {
    fn capabilities(&self) -> &'static [Operation] {
        PANEL.capabilities
    }

    async fn check(&self) -> Result<PanelCheck, AdapterError> {
        let system: System = self
            .client
            .get("api/system", Subject::new("system"))
            .await?;
        let listing: Value = self.client.get("api/usage", Subject::new("usage")).await?;
        let capabilities = PANEL
            .capabilities
            .iter()
            .copied()
            .filter(|op| *op != Operation::CreatePackage || mapping::lists_plan_creation(&listing))
            .collect();
        Ok(PanelCheck {
            panel_version: system.openpanel_version,
            capabilities: Some(capabilities),
        })
    }

    /// An earlier attempt may have made the user but not its domain (the
    /// create's second step): a user with no domain and the create's email
    /// gets its domain now.
    async fn earlier_account(
        &self,
        account: &NewAccount,
    ) -> Result<Earlier<Account>, AdapterError> {
        let existing = match self.get_account(&account.username).await {
            Ok(existing) => existing,
            Err(AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }) => return Ok(Earlier::Absent),
            Err(err) => return Err(err),
        };
        let half_made = existing.primary_domain.is_empty()
            && existing.email.eq_ignore_ascii_case(&account.email);
        if !half_made {
            return created_as(Ok(existing), account);
        }
        self.add_domain(&primary_domain(account)).await?;
        Ok(Earlier::Made(Account {
            primary_domain: account.primary_domain.clone(),
            ..existing
        }))
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account, AdapterError> {
        let password = account.password.expose_secret();
        let body = json!({
            "email": account.email,
            "username": account.username,
            "password": password,
            "plan_name": account.package.name,
        });
        let subject = Subject::new(&account.username).with_secret(password);
        self.client
            .mutate(Method::POST, "api/users", Some(&body), subject)
            .await?;
        if let Err(failure) = self.add_domain(&primary_domain(account)).await {
            return Err(match self.delete_user(&account.username).await {
                Ok(()) => failure,
                Err(cleanup) => {
                    warn!(username = %account.username, error = %cleanup, "could not remove a half-created account");
                    AdapterError::OperationFailed {
                        upstream: format!(
                            "{failure}; the account `{}` was created without its domain and could not be removed ({cleanup})",
                            account.username
                        ),
                    }
                }
            });
        }
        Ok(Account {
            username: account.username.clone(),
            primary_domain: account.primary_domain.clone(),
            email: account.email.clone(),
            package: account.package.name.clone(),
            status: panelgate_proto::v1::AccountStatus::Active.into(),
            ..Default::default()
        })
    }

    async fn get_account(&self, username: &str) -> Result<Account, AdapterError> {
        let (detail, ips) = tokio::join!(self.user(username), self.ips());
        let dedicated_ip = ips?.get(username).and_then(units::as_text);
        Ok(mapping::account(username, &detail?, dedicated_ip))
    }

    async fn list_accounts(&self, page: Slice) -> Result<Listed<Account>, AdapterError> {
        let (users, ips) = tokio::join!(
            self.client.get::<UserList>("api/users", Subject::new("*")),
            self.ips()
        );
        let ips = ips?;
        let accounts = users?
            .into_entries()
            .into_iter()
            .map(|entry| mapping::listed_account(entry, &ips))
            .collect();
        Ok(Listed::slice(accounts, page))
    }

    async fn suspend_account(&self, username: &str, _reason: &str) -> Result<(), AdapterError> {
        let done = self
            .patch_user(username, json!({"action": "suspend"}), None)
            .await;
        already(done, "ACCOUNT_SUSPENDED")
    }

    async fn unsuspend_account(&self, username: &str) -> Result<(), AdapterError> {
        let done = self
            .patch_user(username, json!({"action": "unsuspend"}), None)
            .await;
        already(done, "ACCOUNT_NOT_SUSPENDED")
    }

    async fn delete_account(&self, username: &str) -> Result<(), AdapterError> {
        match self.delete_user(username).await {
            // The panel refuses to delete a suspended account: unsuspend, then delete.
            Err(AdapterError::FailedPrecondition {
                reason: "ACCOUNT_SUSPENDED",
                ..
            }) => {
                self.unsuspend_account(username).await?;
                self.delete_user(username).await
            }
            other => other,
        }
    }

    async fn change_package(
        &self,
        username: &str,
        package: &PackageRef,
    ) -> Result<(), AdapterError> {
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

    async fn change_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<(), AdapterError> {
        // Alone: with an `action` beside it, the panel would change only the password.
        let password = password.expose_secret();
        self.patch_user(username, json!({"password": password}), Some(password))
            .await
    }

    async fn create_login_link(
        &self,
        username: &str,
    ) -> Result<CreateLoginLinkResponse, AdapterError> {
        let subject = Subject::new(username);
        let path = user_path(username)?;
        let reply = self
            .client
            .send(
                Method::POST,
                path.clone().then("autologin"),
                Some(&json!({})),
                subject,
            )
            .await?;
        let reply = if matches!(
            reply.status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) && !reply_mentions_user(&reply.body)
        {
            self.client.connect(&path).await?
        } else {
            reply
        };
        if !reply.status.is_success() {
            return Err(error::from_reply(&reply, subject));
        }
        // The link carries a one-time token: never quote this body in an error.
        let link: AutologinLink = serde_json::from_slice(&reply.body)
            .map_err(|_| AdapterError::protocol("autologin answered without a link", ""))?;
        Ok(CreateLoginLinkResponse {
            url: link.link,
            expire_time: None,
        })
    }

    async fn get_account_usage(&self, username: &str) -> Result<AccountUsage, AdapterError> {
        let (detail, quotas) = tokio::join!(
            self.user(username),
            self.client
                .get::<BTreeMap<String, Value>>("api/usage/disk", Subject::new(username))
        );
        // The quota report may leave an account out (or be empty on a fresh panel).
        let quotas = quotas.unwrap_or_default();
        Ok(mapping::usage(&detail?, quotas.get(username)))
    }

    async fn list_packages(&self) -> Result<Vec<Package>, AdapterError> {
        self.plans().await?.iter().map(mapping::package).collect()
    }

    async fn get_package(&self, wanted: &str) -> Result<Package, AdapterError> {
        let id = if wanted.chars().all(|c| c.is_ascii_digit()) {
            wanted.to_owned()
        } else {
            let plans = self.plans().await?;
            let plan = plans
                .iter()
                .find(|plan| plan.name == wanted)
                .ok_or_else(|| AdapterError::NotFound {
                    entity: Entity::Package,
                    key: wanted.to_owned(),
                    upstream: None,
                })?;
            units::as_text(&plan.id).unwrap_or_default()
        };
        let reply: PlanReply = self
            .client
            .get(
                UrlPath::route("api/plans").value("package", &id)?,
                Subject::new(wanted),
            )
            .await?;
        mapping::package(&reply.plan)
    }

    async fn create_package(&self, package: &NewPackage) -> Result<Package, AdapterError> {
        let (description, websites, cpu, ram) = match &package.options {
            Some(create_package_request::PanelOptions::Openadmin(options)) => (
                options.description.as_str(),
                options.websites.as_ref(),
                options.cpu.as_str(),
                options.ram.as_str(),
            ),
            // Options for other kinds never get here: the gateway refuses them.
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
        let reply = self
            .client
            .send(
                Method::POST,
                "api/plans".into(),
                Some(&body),
                Subject::new(&package.name),
            )
            .await?;
        if matches!(
            reply.status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) && !reply_mentions_disabled_api(&reply.body)
        {
            return Err(AdapterError::Unsupported {
                operation: Operation::CreatePackage,
            });
        }
        error::mutated(&reply, Subject::new(&package.name))?;
        self.get_package(&package.name).await
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain, AdapterError> {
        let docroot = match &domain.document_root {
            Some(root) if root.starts_with(DOCROOT_BASE) && root.len() > DOCROOT_BASE.len() => {
                root.clone()
            }
            Some(_) => {
                return Err(AdapterError::invalid(
                    "document_root",
                    format!("OpenAdmin document roots are absolute paths under {DOCROOT_BASE}"),
                ));
            }
            None => format!("{DOCROOT_BASE}{}", domain.domain),
        };
        let body =
            json!({"username": domain.username, "domain": domain.domain, "docroot": docroot});
        self.client
            .command(
                "api/domains/new".into(),
                Some(&body),
                Subject::new(&domain.domain),
            )
            .await?;
        Ok(Domain {
            name: domain.domain.clone(),
            username: domain.username.clone(),
            document_root: docroot,
            status: DomainStatus::Active.into(),
            panel_domain_id: String::new(),
        })
    }

    async fn list_domains(
        &self,
        username: Option<&str>,
        page: Slice,
    ) -> Result<Listed<Domain>, AdapterError> {
        let domains = match username {
            Some(username) => self
                .user(username)
                .await?
                .domains
                .into_iter()
                .map(|domain| Domain {
                    name: mapping::domain_name(&domain.domain_url),
                    username: username.to_owned(),
                    document_root: domain.docroot.unwrap_or_default(),
                    status: DomainStatus::Unspecified.into(),
                    panel_domain_id: units::as_text(&domain.domain_id).unwrap_or_default(),
                })
                .collect(),
            None => {
                let list: DomainList = self.client.get("api/domains", Subject::new("*")).await?;
                list.domains
                    .into_iter()
                    .map(|domain| Domain {
                        name: mapping::domain_name(&domain.domain_url),
                        username: String::new(),
                        document_root: domain.docroot.unwrap_or_default(),
                        status: DomainStatus::Unspecified.into(),
                        panel_domain_id: units::as_text(&domain.domain_id).unwrap_or_default(),
                    })
                    .collect()
            }
        };
        Ok(Listed::slice(domains, page))
    }

    async fn suspend_domain(&self, domain: &str) -> Result<(), AdapterError> {
        self.client
            .command(
                UrlPath::route("api/domains/suspend").value("domain", domain)?,
                None,
                Subject::new(domain),
            )
            .await
    }

    async fn unsuspend_domain(&self, domain: &str) -> Result<(), AdapterError> {
        self.client
            .command(
                UrlPath::route("api/domains/unsuspend").value("domain", domain)?,
                None,
                Subject::new(domain),
            )
            .await
    }

    async fn delete_domain(&self, domain: &str, _owner: Option<&str>) -> Result<(), AdapterError> {
        self.client
            .command(
                UrlPath::route("api/domains/delete").value("domain", domain)?,
                None,
                Subject::new(domain),
            )
            .await
    }

    async fn get_server_info(&self) -> Result<ServerInfo, AdapterError> {
        let subject = Subject::new("server");
        let (system, stats, cpu, memory, disks, services) = tokio::join!(
            self.client.get::<System>("api/system", subject),
            self.client.get::<UsageStats>("api/usage/stats", subject),
            self.client
                .get::<serde_json::Map<String, Value>>("api/usage/cpu", subject),
            self.client.get::<Memory>("api/usage/memory", subject),
            self.client
                .get::<Vec<wire::Filesystem>>("api/usage/server", subject),
            self.client.get::<Value>("api/services/status", subject),
        );
        let system = system?;
        let memory = memory?;
        Ok(ServerInfo {
            hostname: system.hostname.unwrap_or_default(),
            os: system.os.unwrap_or_default(),
            kernel: system.kernel.unwrap_or_default(),
            panel_version: system.openpanel_version.unwrap_or_default(),
            uptime: units::as_u64(&system.uptime).map(|seconds| prost_types::Duration {
                seconds: i64::try_from(seconds).unwrap_or(i64::MAX),
                nanos: 0,
            }),
            cpu_percent: mapping::cpu_percent(&cpu?),
            memory_total_bytes: units::as_u64(&memory.ram_info.total).unwrap_or_default(),
            memory_used_bytes: units::as_u64(&memory.ram_info.used).unwrap_or_default(),
            filesystems: disks?
                .into_iter()
                .map(|disk| mapping::filesystem(disk.mountpoint, &disk.total, &disk.used))
                .collect(),
            services: mapping::services(&services?),
            account_count: mapping::account_count(&stats?.usage_stats),
        })
    }

    async fn control_system_service(
        &self,
        service: &str,
        action: SystemServiceAction,
    ) -> Result<(), AdapterError> {
        let verb = match action {
            SystemServiceAction::Start => "start",
            SystemServiceAction::Stop => "stop",
            SystemServiceAction::Restart => "restart",
            SystemServiceAction::Unspecified => {
                return Err(AdapterError::invalid(
                    "action",
                    "must be START, STOP or RESTART",
                ));
            }
        };
        self.client
            .mutate(
                Method::POST,
                UrlPath::route("api/service")
                    .then(verb)
                    .value("service", service)?,
                None,
                Subject::new(service),
            )
            .await
            .map(drop)
    }

    async fn set_system_service_monitored(
        &self,
        service: &str,
        monitored: bool,
    ) -> Result<(), AdapterError> {
        let subject = Subject::new(service);
        let mut services: serde_json::Map<String, Value> =
            self.client.get("api/services", subject).await?;
        let entry = services
            .iter_mut()
            .find(|(key, entry)| {
                key.eq_ignore_ascii_case(service)
                    || entry
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|name| name.eq_ignore_ascii_case(service))
            })
            .map(|(_, entry)| entry)
            .ok_or_else(|| AdapterError::NotFound {
                entity: Entity::Service,
                key: service.to_owned(),
                upstream: None,
            })?;
        let Value::Object(entry) = entry else {
            return Err(AdapterError::protocol(
                format!("service `{service}` is not an object in the panel's list"),
                &entry.to_string(),
            ));
        };
        entry.insert(
            "status".into(),
            json!(if monitored { "active" } else { "inactive" }),
        );
        let body = Value::Object(services);
        self.client
            .mutate(Method::PUT, "api/services", Some(&body), subject)
            .await
            .map(drop)
    }

    async fn list_notifications(&self) -> Result<Vec<Notification>, AdapterError> {
        let reply: Notifications = self
            .client
            .get("api/notifications", Subject::new("notifications"))
            .await?;
        Ok(mapping::notifications(reply))
    }
}

/// Suspending a suspended account (or the reverse) fails on the panel; the
/// canonical operations are idempotent, so that failure is a success.
fn already(done: Result<(), AdapterError>, state: &str) -> Result<(), AdapterError> {
    match done {
        Err(AdapterError::FailedPrecondition { reason, .. }) if reason == state => Ok(()),
        other => other,
    }
}

/// A 404 that is about the user (not a missing route) must not trigger the
/// CONNECT fallback.
fn reply_mentions_user(body: &[u8]) -> bool {
    String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains("user not found")
}

/// The API switched off answers every route with 404.
fn reply_mentions_disabled_api(body: &[u8]) -> bool {
    String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains("api access is disabled")
}

//! admin_api: OLSPanel's admin API (`/admin_api/...`).
//!
//! Ten form-encoded POST endpoints with the admin's username and password in
//! headers, every reply HTTP 200 with `success` or `error` in a JSON body.
//! The panel manages hosting users (each with a package and a main domain),
//! packages, extra domains, MySQL databases and Let's Encrypt certificates.
//! What this adapter does beyond a one-to-one mapping:
//! - CreateAccount resolves the package to the panel's `pkg_id` (the gateway
//!   passes it resolved), takes `php_version` from the options or the server's
//!   default, and sends the username as first name and "-" as last name when the
//!   caller gave none (the panel requires both).
//! - The panel saves a new user before it checks the package and creates the
//!   domain, so a failed `add_user` can leave a half-made account behind: the
//!   adapter removes it again and reports the original failure.
//! - DeleteAccount suspends first when the panel refuses to delete an active user.
//! - The panel reports no suspension flag: accounts come back with an
//!   unspecified status.

mod accounts;
mod client;
mod error;
mod mapping;
mod wire;

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::Capability;
use panelgate_proto::v1::{
    Account, AccountUsage, Certificate, CreateLoginLinkResponse, Database, Domain, ErrorReason,
    Package, PanelKind, add_domain_request, create_account_request, create_package_request,
};
use secrecy::{ExposeSecret, SecretString};

use self::{
    client::{Client, Endpoint},
    wire::{DomainAdded, PackageCreated, PackageList, SsoLink},
};
use crate::kind::{Built, Login, Parts};
use crate::{
    AccountUpdate, AdapterError, NewAccount, NewDatabase, NewDomain, NewPackage, PackageRef, Panel,
    PanelCheck, PanelDescription, Result, steps::delete_leaving, units,
};

/// The admin_api adapter for one server.
struct AdminApi {
    client: Client,
    default_php_version: Option<String>,
}

impl AdminApi {
    /// An adapter logging in with the server's admin username and password.
    fn build(parts: Parts, username: String, password: SecretString) -> Built {
        Ok(Arc::new(AdminApi {
            client: Client::new(parts.http, &username, &password)?,
            default_php_version: parts
                .default_php_version
                .filter(|version| !version.is_empty()),
        }))
    }

    /// The PHP version a request's options ask for (empty: none), else the
    /// server's default.
    fn php_version<'a>(&'a self, requested: &'a str) -> Result<&'a str> {
        Some(requested)
            .filter(|version| !version.is_empty())
            .or(self.default_php_version.as_deref())
            .ok_or_else(|| {
                AdapterError::invalid(
                    "panel_options.admin_api.php_version",
                    "admin_api needs a PHP version: set it here or in the server's defaults.php_version",
                )
            })
    }
}

/// What the impl below implements, one line an area (accounts, packages,
/// domains, the rest); everything else is UNIMPLEMENTED.
#[rustfmt::skip]
const CAPABILITIES: &[Capability] = {
    use Capability::*;
    &[
        CreateAccount, GetAccount, UpdateAccount, SuspendAccount, UnsuspendAccount, DeleteAccount,
        ChangePackage, ChangePassword, CreateLoginLink, GetAccountUsage,
        ListPackages, GetPackage, CreatePackage,
        AddDomain,
        CreateDatabase, IssueCertificate,
    ]
};

// Options for other kinds never reach an adapter: the gateway refuses them.
#[async_trait]
impl Panel for AdminApi {
    async fn check(&self) -> Result<PanelCheck> {
        let _: PackageList = self.client.call(Endpoint::PackagesList, &[], "").await?;
        Ok(PanelCheck::default())
    }

    fn capabilities(&self) -> &'static [Capability] {
        CAPABILITIES
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account> {
        let php_version = self.php_version(match &account.options {
            Some(create_account_request::PanelOptions::AdminApi(options)) => &options.php_version,
            _ => "",
        })?;
        self.add_user(account, php_version).await
    }

    async fn get_account(&self, username: &str) -> Result<Account> {
        let info = self.account_info(username).await?;
        Ok(mapping::account(username, &info))
    }

    async fn update_account(&self, update: &AccountUpdate) -> Result<()> {
        if update.primary_domain.is_some() {
            return Err(AdapterError::invalid(
                "primary_domain",
                "admin_api cannot change an account's primary domain",
            ));
        }
        let fields: Vec<(&str, &str)> = [
            ("email", &update.email),
            ("first_name", &update.first_name),
            ("last_name", &update.last_name),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
        .collect();
        self.update_user(&update.username, &fields).await
    }

    async fn suspend_account(&self, username: &str, _reason: &str) -> Result<()> {
        self.set_state(username, "SUSPEND").await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<()> {
        self.set_state(username, "UNSUSPEND").await
    }

    /// The panel deletes suspended users only.
    async fn delete_account(&self, username: &str) -> Result<()> {
        delete_leaving(
            ErrorReason::AccountNotSuspended,
            || self.set_state(username, "DELETE"),
            || self.set_state(username, "SUSPEND"),
        )
        .await
    }

    async fn change_package(&self, username: &str, package: &PackageRef) -> Result<()> {
        self.update_user(username, &[("pkg_id", &package.id)]).await
    }

    async fn change_password(&self, username: &str, password: &SecretString) -> Result<()> {
        let password = password.expose_secret();
        self.update_user(username, &[("password", password)]).await
    }

    async fn create_login_link(&self, username: &str) -> Result<CreateLoginLinkResponse> {
        let form = [("username", username)];
        let link: SsoLink = self
            .client
            .call(Endpoint::SsoLogin, &form, username)
            .await?;
        Ok(CreateLoginLinkResponse {
            url: link.url,
            expire_time: None,
        })
    }

    async fn get_account_usage(&self, username: &str) -> Result<AccountUsage> {
        Ok(mapping::usage(&self.account_info(username).await?))
    }

    async fn list_packages(&self) -> Result<Vec<Package>> {
        let list: PackageList = self.client.call(Endpoint::PackagesList, &[], "").await?;
        list.packages.iter().map(mapping::package).collect()
    }

    async fn create_package(&self, package: &NewPackage) -> Result<Package> {
        let enforce_disk_limit = match &package.options {
            Some(create_package_request::PanelOptions::AdminApi(options)) => {
                options.enforce_disk_limit
            }
            _ => false,
        };
        let fields = mapping::new_package_fields(package, enforce_disk_limit)?;
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(field, value)| (*field, value.as_str()))
            .collect();
        let created: PackageCreated = self
            .client
            .call(Endpoint::NewPackage, &form, &package.name)
            .await?;
        let id = units::required_text(&created.package_id, || {
            "new_package answered without a readable package_id".into()
        })?;
        Ok(Package {
            id,
            name: package.name.clone(),
            limits: Some(package.limits),
        })
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain> {
        let php_version = self.php_version(match &domain.options {
            Some(add_domain_request::PanelOptions::AdminApi(options)) => &options.php_version,
            _ => "",
        })?;
        let path = domain
            .document_root
            .as_deref()
            .map(|root| mapping::home_relative(&domain.username, root))
            .transpose()?;
        let mut form = vec![
            ("username", domain.username.as_str()),
            ("domain", domain.domain.as_str()),
            ("php_version", php_version),
        ];
        form.extend(path.as_deref().map(|path| ("path", path)));
        let added: DomainAdded = self
            .client
            .call(Endpoint::AddDomain, &form, &domain.domain)
            .await?;
        Ok(Domain {
            panel_domain_id: units::as_text(&added.domain_id).unwrap_or_default(),
            ..domain.as_added()
        })
    }

    async fn create_database(&self, database: &NewDatabase) -> Result<Database> {
        let password = database.password.expose_secret();
        let form = [
            ("username", database.username.as_str()),
            ("db", database.name.as_str()),
            ("dbuser", database.user.as_str()),
            ("dbpass", password),
            ("dbpassc", password),
        ];
        self.client
            .run(Endpoint::DatabaseAdd, &form, &database.username)
            .await?;
        Ok(database.as_created())
    }

    async fn issue_certificate(&self, domain: &str) -> Result<Certificate> {
        let form = [("domain", domain)];
        self.client.run(Endpoint::IssueSsl, &form, domain).await?;
        Ok(Certificate {
            domain: domain.to_owned(),
        })
    }
}

/// The admin_api panel: its names, what its adapter can do, and how it logs in.
#[rustfmt::skip]
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::AdminApi, name: "admin_api", title: "admin_api",
    capabilities: CAPABILITIES, login: Login::Password(AdminApi::build),
};

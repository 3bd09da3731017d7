//! admin_api: OLSPanel's admin API (`/admin_api/...`).
//!
//! Ten form-encoded POST endpoints with the admin's credentials in headers; see
//! `shared/panels/source-docs/admin_api.txt`. What this adapter does beyond a
//! one-to-one mapping:
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

mod client;
mod error;
mod mapping;
mod wire;

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, Certificate, CreateLoginLinkResponse, Database, Domain,
    DomainStatus, Operation, Package, PanelKind, add_domain_request, create_account_request,
    create_package_request,
};
use secrecy::{ExposeSecret, SecretString};
use tracing::warn;

use self::{
    client::{Client, Endpoint},
    wire::{AccountInfo, DomainAdded, Done, PackageCreated, PackageList, SsoLink, UserSaved},
};
use crate::{
    AccountUpdate, AdapterError, Entity, NewAccount, NewDatabase, NewDomain, NewPackage,
    PackageRef, Panel, PanelCheck, PanelDescription,
    kind::{Built, Login, Parts},
    units,
};

/// The admin_api panel kind.
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::AdminApi,
    name: "admin_api",
    title: "admin_api",
    capabilities: &[
        Operation::CreateAccount,
        Operation::GetAccount,
        Operation::UpdateAccount,
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
        Operation::CreateDatabase,
        Operation::IssueCertificate,
    ],
    login: Login::Password(AdminApi::build),
};

/// Last name sent when the caller gives none: the panel requires one.
const NO_LAST_NAME: &str = "-";

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

    /// The PHP version from the request's options, else the server's default.
    fn php_version<'a>(
        &'a self,
        requested: Option<&'a str>,
        field: &str,
    ) -> Result<&'a str, AdapterError> {
        requested
            .filter(|version| !version.is_empty())
            .or(self.default_php_version.as_deref())
            .ok_or_else(|| {
                AdapterError::invalid(
                    field,
                    "admin_api needs a PHP version: set it here or in the server's defaults.php_version",
                )
            })
    }

    async fn account_info(&self, username: &str) -> Result<AccountInfo, AdapterError> {
        self.client
            .call(Endpoint::AccountInfo, &[("username", username)], username)
            .await
    }

    async fn set_state(&self, username: &str, state: &str) -> Result<(), AdapterError> {
        let _: Done = self
            .client
            .call(
                Endpoint::SuspendUser,
                &[("username", username), ("state", state)],
                username,
            )
            .await?;
        Ok(())
    }

    async fn update_user(
        &self,
        username: &str,
        fields: &[(&str, &str)],
    ) -> Result<(), AdapterError> {
        let mut form = vec![("username", username)];
        form.extend_from_slice(fields);
        let _: UserSaved = self
            .client
            .call(Endpoint::UpdateUser, &form, username)
            .await?;
        Ok(())
    }

    /// Removes what a failed `add_user` left behind, if anything.
    /// The half-made user has no domain yet: a user with one is a whole
    /// account (someone else's), and stays.
    async fn remove_half_created(&self, username: &str, failure: AdapterError) -> AdapterError {
        match self.account_info(username).await {
            Err(AdapterError::NotFound { .. }) => failure,
            Err(err) => leftover(username, failure, &err),
            Ok(info)
                if info
                    .main_domain
                    .as_deref()
                    .is_some_and(|domain| !domain.is_empty()) =>
            {
                failure
            }
            Ok(_) => match self.delete_account(username).await {
                Ok(()) => failure,
                Err(err) => leftover(username, failure, &err),
            },
        }
    }
}

/// A document root as the panel's `path`, relative to the account's home
/// (`/home/<user>/`): `public_html/shop`, or the same written in full. The
/// panel puts the path under the home as given, so anything that could
/// point outside it is refused.
fn home_relative(username: &str, root: &str) -> Result<String, AdapterError> {
    let home = format!("/home/{username}/");
    let relative = root.strip_prefix(&home).unwrap_or(root);
    let outside = relative.starts_with('/')
        || relative.contains('\\')
        || relative.split('/').any(|part| part == ".." || part == ".");
    if outside || relative.is_empty() {
        return Err(AdapterError::invalid(
            "document_root",
            format!(
                "admin_api document roots are folders inside the account's home ({home}), e.g. public_html/shop"
            ),
        ));
    }
    Ok(relative.to_owned())
}

/// The failure of an `add_user` whose half-made account could not be removed.
fn leftover(username: &str, failure: AdapterError, cleanup: &AdapterError) -> AdapterError {
    warn!(%username, error = %cleanup, "could not remove a half-created account");
    let said = failure
        .upstream_message()
        .map_or_else(|| failure.to_string(), str::to_owned);
    AdapterError::OperationFailed {
        upstream: format!(
            "{said}; a partly created account `{username}` may remain on the panel (removing it failed: {cleanup})"
        ),
    }
}

#[async_trait]
impl Panel for AdminApi {
    fn capabilities(&self) -> &'static [Operation] {
        PANEL.capabilities
    }

    async fn check(&self) -> Result<PanelCheck, AdapterError> {
        let _: PackageList = self.client.call(Endpoint::PackagesList, &[], "").await?;
        Ok(PanelCheck::default())
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account, AdapterError> {
        // Options for other kinds never get here: the gateway refuses them.
        let requested = match &account.options {
            Some(create_account_request::PanelOptions::AdminApi(options)) => {
                Some(options.php_version.as_str())
            }
            _ => None,
        };
        let php_version = self.php_version(requested, "panel_options.admin_api.php_version")?;
        let first_name = account.first_name.as_deref().unwrap_or(&account.username);
        let last_name = account.last_name.as_deref().unwrap_or(NO_LAST_NAME);
        let form = [
            ("username", account.username.as_str()),
            ("first_name", first_name),
            ("last_name", last_name),
            ("email", account.email.as_str()),
            ("password", account.password.expose_secret()),
            ("pkg_id", account.package.id.as_str()),
            ("domain", account.primary_domain.as_str()),
            ("php_version", php_version),
        ];
        let saved: Result<UserSaved, _> = self
            .client
            .call(Endpoint::AddUser, &form, &account.username)
            .await;
        let saved = match saved {
            Ok(saved) => saved,
            Err(
                failure @ (AdapterError::InvalidArgument { .. }
                | AdapterError::OperationFailed { .. }
                | AdapterError::LimitReached { .. }
                | AdapterError::AlreadyExists {
                    entity: Entity::Domain,
                    ..
                }),
            ) => return Err(self.remove_half_created(&account.username, failure).await),
            Err(other) => return Err(other),
        };
        Ok(Account {
            username: account.username.clone(),
            server_id: String::new(),
            primary_domain: account.primary_domain.clone(),
            email: account.email.clone(),
            package: account.package.name.clone(),
            status: AccountStatus::Active.into(),
            full_name: format!("{first_name} {last_name}").trim().to_owned(),
            panel_user_id: units::as_text(&saved.user_id).unwrap_or_default(),
            dedicated_ip: String::new(),
            panel_details: None,
        })
    }

    async fn get_account(&self, username: &str) -> Result<Account, AdapterError> {
        Ok(mapping::account(
            username,
            &self.account_info(username).await?,
        ))
    }

    async fn update_account(&self, update: &AccountUpdate) -> Result<(), AdapterError> {
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

    async fn suspend_account(&self, username: &str, _reason: &str) -> Result<(), AdapterError> {
        self.set_state(username, "SUSPEND").await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<(), AdapterError> {
        self.set_state(username, "UNSUSPEND").await
    }

    async fn delete_account(&self, username: &str) -> Result<(), AdapterError> {
        match self.set_state(username, "DELETE").await {
            Err(AdapterError::FailedPrecondition {
                reason: "ACCOUNT_NOT_SUSPENDED",
                ..
            }) => {
                self.set_state(username, "SUSPEND").await?;
                self.set_state(username, "DELETE").await
            }
            other => other,
        }
    }

    async fn change_package(
        &self,
        username: &str,
        package: &PackageRef,
    ) -> Result<(), AdapterError> {
        self.update_user(username, &[("pkg_id", &package.id)]).await
    }

    async fn change_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<(), AdapterError> {
        self.update_user(username, &[("password", password.expose_secret())])
            .await
    }

    async fn create_login_link(
        &self,
        username: &str,
    ) -> Result<CreateLoginLinkResponse, AdapterError> {
        let link: SsoLink = self
            .client
            .call(Endpoint::SsoLogin, &[("username", username)], username)
            .await?;
        Ok(CreateLoginLinkResponse {
            url: link.url,
            expire_time: None,
        })
    }

    async fn get_account_usage(&self, username: &str) -> Result<AccountUsage, AdapterError> {
        Ok(mapping::usage(&self.account_info(username).await?))
    }

    async fn list_packages(&self) -> Result<Vec<Package>, AdapterError> {
        let list: PackageList = self.client.call(Endpoint::PackagesList, &[], "").await?;
        list.packages.iter().map(mapping::package).collect()
    }

    async fn create_package(&self, package: &NewPackage) -> Result<Package, AdapterError> {
        let limit_fields = mapping::package_limit_fields(&package.limits)?;
        // Options for other kinds never get here: the gateway refuses them.
        let enforce_disk_limit = match &package.options {
            Some(create_package_request::PanelOptions::AdminApi(options)) => {
                options.enforce_disk_limit
            }
            _ => false,
        };
        let mut form: Vec<(&str, &str)> = vec![("name", &package.name)];
        form.extend(
            limit_fields
                .iter()
                .map(|(field, value)| (*field, value.as_str())),
        );
        if enforce_disk_limit {
            form.push(("limit_action", "true"));
        }
        let created: PackageCreated = self
            .client
            .call(Endpoint::NewPackage, &form, &package.name)
            .await?;
        let id = units::as_text(&created.package_id).ok_or_else(|| {
            AdapterError::protocol(
                "new_package answered without a readable package_id",
                &created.package_id.to_string(),
            )
        })?;
        Ok(Package {
            id,
            name: package.name.clone(),
            limits: Some(package.limits),
        })
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain, AdapterError> {
        let requested = match &domain.options {
            Some(add_domain_request::PanelOptions::AdminApi(options)) => {
                Some(options.php_version.as_str())
            }
            _ => None,
        };
        let php_version = self.php_version(requested, "panel_options.admin_api.php_version")?;
        let mut form = vec![
            ("username", domain.username.as_str()),
            ("domain", domain.domain.as_str()),
            ("php_version", php_version),
        ];
        let path = domain
            .document_root
            .as_deref()
            .map(|root| home_relative(&domain.username, root))
            .transpose()?;
        if let Some(path) = &path {
            form.push(("path", path));
        }
        let added: DomainAdded = self
            .client
            .call(Endpoint::AddDomain, &form, &domain.domain)
            .await?;
        Ok(Domain {
            name: domain.domain.clone(),
            username: domain.username.clone(),
            document_root: domain.document_root.clone().unwrap_or_default(),
            status: DomainStatus::Active.into(),
            panel_domain_id: units::as_text(&added.domain_id).unwrap_or_default(),
        })
    }

    async fn create_database(&self, database: &NewDatabase) -> Result<Database, AdapterError> {
        let password = database.password.expose_secret();
        let form = [
            ("username", database.username.as_str()),
            ("db", database.name.as_str()),
            ("dbuser", database.user.as_str()),
            ("dbpass", password),
            ("dbpassc", password),
        ];
        let _: Done = self
            .client
            .call(Endpoint::DatabaseAdd, &form, &database.username)
            .await?;
        Ok(Database {
            name: database.name.clone(),
            user: database.user.clone(),
            username: database.username.clone(),
        })
    }

    async fn issue_certificate(&self, domain: &str) -> Result<Certificate, AdapterError> {
        let _: Done = self
            .client
            .call(Endpoint::IssueSsl, &[("domain", domain)], domain)
            .await?;
        Ok(Certificate {
            domain: domain.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_roots_stay_in_the_home() {
        assert_eq!(
            home_relative("bob", "public_html/shop").unwrap(),
            "public_html/shop"
        );
        assert_eq!(
            home_relative("bob", "/home/bob/public_html/shop").unwrap(),
            "public_html/shop"
        );
        for outside in [
            "/etc",
            "/home/amy/public_html",
            "a/../../x",
            "./x",
            "a\\..\\b",
            "/home/bob/",
        ] {
            assert!(
                matches!(
                    home_relative("bob", outside),
                    Err(AdapterError::InvalidArgument { .. })
                ),
                "{outside}"
            );
        }
    }
}

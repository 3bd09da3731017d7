//! The [`Panel`] trait: the canonical hosting operations, one implementation per
//! panel kind. Inputs are validated structs ([`crate::inputs`]); replies are
//! `panelgate.v1` messages.
//!
//! Every operation has a default body answering [`AdapterError::Unsupported`];
//! an adapter overrides what its panel can do and lists exactly those in its
//! kind's capabilities ([`crate::kind`]; the conformance suite keeps the two in
//! step).

use async_trait::async_trait;
use panelgate_proto::Capability;
use panelgate_proto::v1::{
    Account, AccountUsage, Certificate, CreateLoginLinkResponse, Database, Domain, Notification,
    Package, PanelAdmin, ServerInfo, SystemServiceAction,
};
use secrecy::SecretString;

use crate::{
    AccountUpdate, AdapterError, Entity, Listed, NewAccount, NewDatabase, NewDomain, NewPackage,
    NewPanelAdmin, PackageRef, Result, Slice,
    earlier::{Earlier, created_as},
};

/// The outcome of a successful health check.
#[derive(Debug, Default)]
pub struct PanelCheck {
    /// The panel's version, where it reports one.
    pub panel_version: Option<String>,
    /// What this panel supports, where it describes its own API (versions of
    /// one panel kind differ); None means the kind's static list applies.
    pub capabilities: Option<Vec<Capability>>,
}

/// Most items read when looking for one in a panel's list.
const SEARCH_LIMIT: usize = 100_000;

/// The canonical operations on one server's panel.
#[async_trait]
pub trait Panel: Send + Sync + 'static {
    /// The operations this adapter implements.
    fn capabilities(&self) -> &'static [Capability];

    /// This adapter in dry-run mode, for panels that can check a change
    /// without making it (Installatron's `dryrun`): its mutations only
    /// validate. None for panels without a dry run.
    fn dry_run(&self) -> Option<std::sync::Arc<dyn Panel>> {
        None
    }

    /// Makes the cheapest real call that proves the panel answers and accepts
    /// panelgate's credentials. No side effects.
    async fn check(&self) -> Result<PanelCheck>;

    /// Creates an account.
    async fn create_account(&self, _account: &NewAccount) -> Result<Account> {
        unsupported(Capability::CreateAccount)
    }

    /// The account an earlier attempt of this very create may have made:
    /// `Made` when the panel holds `account.username` on its primary domain,
    /// completed as the create would have left it.
    async fn earlier_account(&self, account: &NewAccount) -> Result<Earlier<Account>> {
        created_as(self.get_account(&account.username).await, account)
    }

    /// The domain an earlier attempt of this AddDomain may have added: found
    /// among the account's domains where the panel lists them.
    async fn earlier_domain(&self, domain: &NewDomain) -> Result<Earlier<Domain>> {
        if !self.capabilities().contains(&Capability::ListDomains) {
            return Ok(Earlier::Unknown);
        }
        let page = Slice {
            offset: 0,
            limit: SEARCH_LIMIT,
        };
        let listed = self.list_domains(Some(&domain.username), page).await?;
        Ok(listed
            .items
            .into_iter()
            .find(|listed| listed.name.eq_ignore_ascii_case(&domain.domain))
            .map_or(Earlier::Absent, Earlier::Made))
    }

    /// The database an earlier attempt of this CreateDatabase may have made;
    /// `Unknown` by default (panels rarely list databases).
    async fn earlier_database(&self, _database: &NewDatabase) -> Result<Earlier<Database>> {
        Ok(Earlier::Unknown)
    }

    /// The package an earlier attempt of this CreatePackage may have made,
    /// by name.
    async fn earlier_package(&self, package: &NewPackage) -> Result<Earlier<Package>> {
        Earlier::read(self.get_package(&package.name).await, Entity::Package)
    }

    /// The administrator an earlier attempt of this CreatePanelAdmin may have
    /// made, by username.
    async fn earlier_panel_admin(&self, admin: &NewPanelAdmin) -> Result<Earlier<PanelAdmin>> {
        let admins = self.list_panel_admins().await?;
        Ok(admins
            .into_iter()
            .find(|listed| listed.username.eq_ignore_ascii_case(&admin.username))
            .map_or(Earlier::Absent, Earlier::Made))
    }

    /// Returns one account.
    async fn get_account(&self, _username: &str) -> Result<Account> {
        unsupported(Capability::GetAccount)
    }

    /// Lists accounts. By default: cut out of [`Panel::all_accounts`].
    async fn list_accounts(&self, slice: Slice) -> Result<Listed<Account>> {
        Ok(Listed::slice(&self.all_accounts().await?, slice))
    }

    /// Every account, for panels that only return whole lists.
    async fn all_accounts(&self) -> Result<Vec<Account>> {
        unsupported(Capability::ListAccounts)
    }

    /// Changes an account's contact details or main domain.
    async fn update_account(&self, _update: &AccountUpdate) -> Result<()> {
        unsupported(Capability::UpdateAccount)
    }

    /// Suspends an account.
    async fn suspend_account(&self, _username: &str, _reason: &str) -> Result<()> {
        unsupported(Capability::SuspendAccount)
    }

    /// Lifts an account's suspension.
    async fn unsuspend_account(&self, _username: &str) -> Result<()> {
        unsupported(Capability::UnsuspendAccount)
    }

    /// Deletes an account, making whatever calls the panel needs for that.
    async fn delete_account(&self, _username: &str) -> Result<()> {
        unsupported(Capability::DeleteAccount)
    }

    /// Moves an account to another package.
    async fn change_package(&self, _username: &str, _package: &PackageRef) -> Result<()> {
        unsupported(Capability::ChangePackage)
    }

    /// Sets an account's panel password.
    async fn change_password(&self, _username: &str, _password: &SecretString) -> Result<()> {
        unsupported(Capability::ChangePassword)
    }

    /// Returns a URL that logs the account's owner in.
    async fn create_login_link(&self, _username: &str) -> Result<CreateLoginLinkResponse> {
        unsupported(Capability::CreateLoginLink)
    }

    /// Returns an account's usage and limits.
    async fn get_account_usage(&self, _username: &str) -> Result<AccountUsage> {
        unsupported(Capability::GetAccountUsage)
    }

    /// Returns every package of the server, in the panel's order.
    async fn list_packages(&self) -> Result<Vec<Package>> {
        unsupported(Capability::ListPackages)
    }

    /// Returns one package, by name or id, as the panel reports it now. By
    /// default: found in [`Panel::list_packages`], names first.
    async fn get_package(&self, wanted: &str) -> Result<Package> {
        let packages = self.list_packages().await?;
        let found = packages
            .iter()
            .position(|package| package.name == wanted)
            .or_else(|| packages.iter().position(|package| package.id == wanted));
        found
            .map(|index| packages[index].clone())
            .ok_or_else(|| AdapterError::NotFound {
                entity: Entity::Package,
                key: wanted.to_owned(),
                upstream: None,
            })
    }

    /// Creates a package.
    async fn create_package(&self, _package: &NewPackage) -> Result<Package> {
        unsupported(Capability::CreatePackage)
    }

    /// Replaces a package's definition.
    async fn update_package(&self, _package: &NewPackage) -> Result<Package> {
        unsupported(Capability::UpdatePackage)
    }

    /// Deletes a package.
    async fn delete_package(&self, _package: &PackageRef) -> Result<()> {
        unsupported(Capability::DeletePackage)
    }

    /// Adds a domain to an account.
    async fn add_domain(&self, _domain: &NewDomain) -> Result<Domain> {
        unsupported(Capability::AddDomain)
    }

    /// Lists domains, of one account when `username` is given. By default:
    /// cut out of [`Panel::all_domains`].
    async fn list_domains(&self, username: Option<&str>, slice: Slice) -> Result<Listed<Domain>> {
        Ok(Listed::slice(&self.all_domains(username).await?, slice))
    }

    /// Every domain (of one account when `username` is given), for panels
    /// that only return whole lists.
    async fn all_domains(&self, _username: Option<&str>) -> Result<Vec<Domain>> {
        unsupported(Capability::ListDomains)
    }

    /// Suspends one domain.
    async fn suspend_domain(&self, _domain: &str) -> Result<()> {
        unsupported(Capability::SuspendDomain)
    }

    /// Lifts a domain's suspension.
    async fn unsuspend_domain(&self, _domain: &str) -> Result<()> {
        unsupported(Capability::UnsuspendDomain)
    }

    /// Removes a domain; `owner` is its account, where the caller named it.
    async fn delete_domain(&self, _domain: &str, _owner: Option<&str>) -> Result<()> {
        unsupported(Capability::DeleteDomain)
    }

    /// Creates a database and its user.
    async fn create_database(&self, _database: &NewDatabase) -> Result<Database> {
        unsupported(Capability::CreateDatabase)
    }

    /// Issues a certificate for an existing domain.
    async fn issue_certificate(&self, _domain: &str) -> Result<Certificate> {
        unsupported(Capability::IssueCertificate)
    }

    /// Returns system information of the server.
    async fn get_server_info(&self) -> Result<ServerInfo> {
        unsupported(Capability::GetServerInfo)
    }

    /// Starts, stops or restarts a system service.
    async fn control_system_service(
        &self,
        _service: &str,
        _action: SystemServiceAction,
    ) -> Result<()> {
        unsupported(Capability::ControlSystemService)
    }

    /// Sets whether the panel monitors a system service.
    async fn set_system_service_monitored(&self, _service: &str, _monitored: bool) -> Result<()> {
        unsupported(Capability::SetSystemServiceMonitored)
    }

    /// Returns the panel's notifications, in its order.
    async fn list_notifications(&self) -> Result<Vec<Notification>> {
        unsupported(Capability::ListNotifications)
    }

    /// Creates an administrator of the panel.
    async fn create_panel_admin(&self, _admin: &NewPanelAdmin) -> Result<PanelAdmin> {
        unsupported(Capability::CreatePanelAdmin)
    }

    /// Returns the panel's administrators, in its order.
    async fn list_panel_admins(&self) -> Result<Vec<PanelAdmin>> {
        unsupported(Capability::ListPanelAdmins)
    }
}

fn unsupported<T>(capability: Capability) -> Result<T> {
    Err(AdapterError::Unsupported { capability })
}

/// A login link from the URL a panel's `endpoint` answered with. The URL
/// opens a session: an error never quotes the reply.
pub(crate) fn login_link(url: Option<&str>, endpoint: &str) -> Result<CreateLoginLinkResponse> {
    let url = url
        .filter(|url| !url.is_empty())
        .ok_or_else(|| AdapterError::protocol(format!("{endpoint} answered without a URL"), ""))?;
    Ok(CreateLoginLinkResponse {
        url: url.to_owned(),
        expire_time: None,
    })
}

//! The [`Panel`] trait: the canonical hosting operations, one implementation per
//! panel kind. Inputs are validated structs; replies are `panelgate.v1` messages.
//!
//! Every operation has a default body answering [`AdapterError::Unsupported`];
//! an adapter overrides what its panel can do and lists exactly those in
//! [`Panel::capabilities`] (a test in each adapter keeps the two in step).

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, AccountUsage, Certificate, CreateLoginLinkResponse, Database, Domain, Notification,
    Operation, Package, PackageLimits, PanelAdmin, ServerInfo, SystemServiceAction,
    add_domain_request, create_account_request, create_database_request, create_package_request,
    create_panel_admin_request,
};
use secrecy::SecretString;

use crate::{AdapterError, Entity};

/// A package as an account refers to it: the panel's id and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageRef {
    /// The panel's id (its name on panels without ids).
    pub id: String,
    /// The package's name.
    pub name: String,
}

/// A validated CreateAccount.
#[derive(Debug)]
pub struct NewAccount {
    /// Username on the server.
    pub username: String,
    /// Main domain.
    pub primary_domain: String,
    /// Owner's email address.
    pub email: String,
    /// Panel login password.
    pub password: SecretString,
    /// The package, resolved through the server's package list where it has one.
    pub package: PackageRef,
    /// Owner's first name, if given.
    pub first_name: Option<String>,
    /// Owner's last name, if given.
    pub last_name: Option<String>,
    /// Options for one panel kind (already checked to match the server's kind).
    pub options: Option<create_account_request::PanelOptions>,
}

/// A validated UpdateAccount: the fields to change.
#[derive(Debug, Default)]
pub struct AccountUpdate {
    /// The account.
    pub username: String,
    /// New email address.
    pub email: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New main domain.
    pub primary_domain: Option<String>,
}

/// A validated CreatePackage or UpdatePackage: a package's whole definition.
#[derive(Debug)]
pub struct NewPackage {
    /// Package name.
    pub name: String,
    /// Limits; unset ones take the panel's default.
    pub limits: PackageLimits,
    /// Options for one panel kind (UpdatePackage's options, which are a
    /// subset, arrive as the same message).
    pub options: Option<create_package_request::PanelOptions>,
}

/// A validated AddDomain.
#[derive(Debug)]
pub struct NewDomain {
    /// The account that gets the domain.
    pub username: String,
    /// The domain name.
    pub domain: String,
    /// Document root, if the caller chose one.
    pub document_root: Option<String>,
    /// Options for one panel kind.
    pub options: Option<add_domain_request::PanelOptions>,
}

/// A validated CreateDatabase.
#[derive(Debug)]
pub struct NewDatabase {
    /// An earlier attempt may have done some of the create's steps: a
    /// panel that creates the user and the database in two calls goes on
    /// past a user that exists already.
    pub resuming: bool,
    /// Options for one panel kind (already checked to match the server's kind).
    pub options: Option<create_database_request::PanelOptions>,
    /// The account that gets the database.
    pub username: String,
    /// Database name.
    pub name: String,
    /// Database user.
    pub user: String,
    /// The database user's password.
    pub password: SecretString,
}

/// A validated CreatePanelAdmin.
#[derive(Debug)]
pub struct NewPanelAdmin {
    /// Username.
    pub username: String,
    /// Password.
    pub password: SecretString,
    /// Grant everything.
    pub full_access: bool,
    /// Options for one panel kind (already checked to match the server's kind).
    pub options: Option<create_panel_admin_request::PanelOptions>,
}

/// The slice of a panel's list a call asks for, by position (the
/// inventory's lists page by token instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// How many items to skip.
    pub offset: usize,
    /// Most items to return.
    pub limit: usize,
}

/// The items of a [`Slice`] of a panel's list, and whether more follow.
#[derive(Debug)]
pub struct Listed<T> {
    /// The items.
    pub items: Vec<T>,
    /// Whether items follow this slice.
    pub more: bool,
}

impl<T> Listed<T> {
    /// Cuts `slice` out of a full list, for panels that only return whole lists.
    pub fn slice(all: Vec<T>, slice: Slice) -> Self {
        let more = all.len() > slice.offset.saturating_add(slice.limit);
        let items = all
            .into_iter()
            .skip(slice.offset)
            .take(slice.limit)
            .collect();
        Listed { items, more }
    }
}

/// The outcome of a successful health check.
#[derive(Debug, Default)]
pub struct PanelCheck {
    /// The panel's version, where it reports one.
    pub panel_version: Option<String>,
    /// What this panel supports, where it describes its own API (versions of
    /// one panel kind differ); None means the kind's static list applies.
    pub capabilities: Option<Vec<Operation>>,
}

/// What a panel holds of the thing an earlier attempt of a create may have
/// made (a retry after an unknown outcome asks before creating again).
#[derive(Debug)]
pub enum Earlier<T> {
    /// The panel holds it, as the create would have left it.
    Made(T),
    /// The panel does not hold it: the create has not happened.
    Absent,
    /// The panel has no read that could tell.
    Unknown,
}

impl<T> Earlier<T> {
    /// `found` read as the answer: the thing, or a NOT_FOUND of `entity`
    /// meaning it is absent.
    fn read(found: Result<T, AdapterError>, entity: Entity) -> Result<Self, AdapterError> {
        match found {
            Ok(made) => Ok(Earlier::Made(made)),
            Err(AdapterError::NotFound {
                entity: missing, ..
            }) if missing == entity => Ok(Earlier::Absent),
            Err(err) => Err(err),
        }
    }
}

/// Reads a panel's answer to "is this create's account there?" (see
/// [`Panel::earlier_account`]): an account of the same name on another
/// primary domain is someone else's.
pub(crate) fn created_as(
    found: Result<Account, AdapterError>,
    account: &NewAccount,
) -> Result<Earlier<Account>, AdapterError> {
    Ok(match Earlier::read(found, Entity::Account)? {
        Earlier::Made(existing)
            if existing
                .primary_domain
                .eq_ignore_ascii_case(&account.primary_domain) =>
        {
            Earlier::Made(existing)
        }
        Earlier::Made(_) => Earlier::Absent,
        other => other,
    })
}

/// Most items read when looking for one in a panel's list.
const SEARCH_LIMIT: usize = 100_000;

/// The canonical operations on one server's panel.
#[async_trait]
pub trait Panel: Send + Sync + 'static {
    /// The operations this adapter implements.
    fn capabilities(&self) -> &'static [Operation];

    /// This adapter in dry-run mode, for panels that can check a change
    /// without making it (Installatron's `dryrun`): its mutations only
    /// validate. None for panels without a dry run.
    fn dry_run(&self) -> Option<std::sync::Arc<dyn Panel>> {
        None
    }

    /// Makes the cheapest real call that proves the panel answers and accepts
    /// panelgate's credentials. No side effects.
    async fn check(&self) -> Result<PanelCheck, AdapterError>;

    /// Creates an account.
    async fn create_account(&self, _account: &NewAccount) -> Result<Account, AdapterError> {
        unsupported(Operation::CreateAccount)
    }

    /// The account an earlier attempt of this very create may have made:
    /// `Made` when the panel holds `account.username` on its primary domain,
    /// completed as the create would have left it.
    async fn earlier_account(
        &self,
        account: &NewAccount,
    ) -> Result<Earlier<Account>, AdapterError> {
        created_as(self.get_account(&account.username).await, account)
    }

    /// The domain an earlier attempt of this AddDomain may have added: found
    /// among the account's domains where the panel lists them.
    async fn earlier_domain(&self, domain: &NewDomain) -> Result<Earlier<Domain>, AdapterError> {
        if !self.capabilities().contains(&Operation::ListDomains) {
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
    async fn earlier_database(
        &self,
        _database: &NewDatabase,
    ) -> Result<Earlier<Database>, AdapterError> {
        Ok(Earlier::Unknown)
    }

    /// The package an earlier attempt of this CreatePackage may have made,
    /// by name.
    async fn earlier_package(
        &self,
        package: &NewPackage,
    ) -> Result<Earlier<Package>, AdapterError> {
        Earlier::read(self.get_package(&package.name).await, Entity::Package)
    }

    /// The administrator an earlier attempt of this CreatePanelAdmin may have
    /// made, by username.
    async fn earlier_panel_admin(
        &self,
        admin: &NewPanelAdmin,
    ) -> Result<Earlier<PanelAdmin>, AdapterError> {
        let admins = self.list_panel_admins().await?;
        Ok(admins
            .into_iter()
            .find(|listed| listed.username.eq_ignore_ascii_case(&admin.username))
            .map_or(Earlier::Absent, Earlier::Made))
    }

    /// Returns one account.
    async fn get_account(&self, _username: &str) -> Result<Account, AdapterError> {
        unsupported(Operation::GetAccount)
    }

    /// Lists accounts.
    async fn list_accounts(&self, _page: Slice) -> Result<Listed<Account>, AdapterError> {
        unsupported(Operation::ListAccounts)
    }

    /// Changes an account's contact details or main domain.
    async fn update_account(&self, _update: &AccountUpdate) -> Result<(), AdapterError> {
        unsupported(Operation::UpdateAccount)
    }

    /// Suspends an account.
    async fn suspend_account(&self, _username: &str, _reason: &str) -> Result<(), AdapterError> {
        unsupported(Operation::SuspendAccount)
    }

    /// Lifts an account's suspension.
    async fn unsuspend_account(&self, _username: &str) -> Result<(), AdapterError> {
        unsupported(Operation::UnsuspendAccount)
    }

    /// Deletes an account, making whatever calls the panel needs for that.
    async fn delete_account(&self, _username: &str) -> Result<(), AdapterError> {
        unsupported(Operation::DeleteAccount)
    }

    /// Moves an account to another package.
    async fn change_package(
        &self,
        _username: &str,
        _package: &PackageRef,
    ) -> Result<(), AdapterError> {
        unsupported(Operation::ChangePackage)
    }

    /// Sets an account's panel password.
    async fn change_password(
        &self,
        _username: &str,
        _password: &SecretString,
    ) -> Result<(), AdapterError> {
        unsupported(Operation::ChangePassword)
    }

    /// Returns a URL that logs the account's owner in.
    async fn create_login_link(
        &self,
        _username: &str,
    ) -> Result<CreateLoginLinkResponse, AdapterError> {
        unsupported(Operation::CreateLoginLink)
    }

    /// Returns an account's usage and limits.
    async fn get_account_usage(&self, _username: &str) -> Result<AccountUsage, AdapterError> {
        unsupported(Operation::GetAccountUsage)
    }

    /// Returns every package of the server, in the panel's order.
    async fn list_packages(&self) -> Result<Vec<Package>, AdapterError> {
        unsupported(Operation::ListPackages)
    }

    /// Returns one package, by name or id, as the panel reports it now. By
    /// default: found in [`Panel::list_packages`], names first.
    async fn get_package(&self, wanted: &str) -> Result<Package, AdapterError> {
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
    async fn create_package(&self, _package: &NewPackage) -> Result<Package, AdapterError> {
        unsupported(Operation::CreatePackage)
    }

    /// Replaces a package's definition.
    async fn update_package(&self, _package: &NewPackage) -> Result<Package, AdapterError> {
        unsupported(Operation::UpdatePackage)
    }

    /// Deletes a package.
    async fn delete_package(&self, _package: &PackageRef) -> Result<(), AdapterError> {
        unsupported(Operation::DeletePackage)
    }

    /// Adds a domain to an account.
    async fn add_domain(&self, _domain: &NewDomain) -> Result<Domain, AdapterError> {
        unsupported(Operation::AddDomain)
    }

    /// Lists domains, of one account when `username` is given.
    async fn list_domains(
        &self,
        _username: Option<&str>,
        _page: Slice,
    ) -> Result<Listed<Domain>, AdapterError> {
        unsupported(Operation::ListDomains)
    }

    /// Suspends one domain.
    async fn suspend_domain(&self, _domain: &str) -> Result<(), AdapterError> {
        unsupported(Operation::SuspendDomain)
    }

    /// Lifts a domain's suspension.
    async fn unsuspend_domain(&self, _domain: &str) -> Result<(), AdapterError> {
        unsupported(Operation::UnsuspendDomain)
    }

    /// Removes a domain; `owner` is its account, where the caller named it.
    async fn delete_domain(&self, _domain: &str, _owner: Option<&str>) -> Result<(), AdapterError> {
        unsupported(Operation::DeleteDomain)
    }

    /// Creates a database and its user.
    async fn create_database(&self, _database: &NewDatabase) -> Result<Database, AdapterError> {
        unsupported(Operation::CreateDatabase)
    }

    /// Issues a certificate for an existing domain.
    async fn issue_certificate(&self, _domain: &str) -> Result<Certificate, AdapterError> {
        unsupported(Operation::IssueCertificate)
    }

    /// Returns system information of the server.
    async fn get_server_info(&self) -> Result<ServerInfo, AdapterError> {
        unsupported(Operation::GetServerInfo)
    }

    /// Starts, stops or restarts a system service.
    async fn control_system_service(
        &self,
        _service: &str,
        _action: SystemServiceAction,
    ) -> Result<(), AdapterError> {
        unsupported(Operation::ControlSystemService)
    }

    /// Sets whether the panel monitors a system service.
    async fn set_system_service_monitored(
        &self,
        _service: &str,
        _monitored: bool,
    ) -> Result<(), AdapterError> {
        unsupported(Operation::SetSystemServiceMonitored)
    }

    /// Returns the panel's notifications, in its order.
    async fn list_notifications(&self) -> Result<Vec<Notification>, AdapterError> {
        unsupported(Operation::ListNotifications)
    }

    /// Creates an administrator of the panel.
    async fn create_panel_admin(&self, _admin: &NewPanelAdmin) -> Result<PanelAdmin, AdapterError> {
        unsupported(Operation::CreatePanelAdmin)
    }

    /// Returns the panel's administrators, in its order.
    async fn list_panel_admins(&self) -> Result<Vec<PanelAdmin>, AdapterError> {
        unsupported(Operation::ListPanelAdmins)
    }
}

fn unsupported<T>(operation: Operation) -> Result<T, AdapterError> {
    Err(AdapterError::Unsupported { operation })
}

//! The validated inputs of the [`crate::Panel`] operations, and the slices
//! of a panel's lists they ask for.

use panelgate_proto::v1::{
    Account, AccountStatus, Database, Domain, DomainStatus, PackageLimits, add_domain_request,
    create_account_request, create_database_request, create_package_request,
    create_panel_admin_request,
};
use secrecy::SecretString;

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

impl NewAccount {
    /// The account as this create leaves it, for panels whose create
    /// answers with no account of its own: active, on the requested domain
    /// and package.
    pub(crate) fn as_created(&self) -> Account {
        Account {
            username: self.username.clone(),
            primary_domain: self.primary_domain.clone(),
            email: self.email.clone(),
            package: self.package.name.clone(),
            status: AccountStatus::Active.into(),
            ..Default::default()
        }
    }
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

impl NewDomain {
    /// The domain as this AddDomain leaves it, for panels that answer with
    /// no domain of their own: active, in the requested document root.
    pub(crate) fn as_added(&self) -> Domain {
        Domain {
            name: self.domain.clone(),
            username: self.username.clone(),
            document_root: self.document_root.clone().unwrap_or_default(),
            status: DomainStatus::Active.into(),
            panel_domain_id: String::new(),
        }
    }
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

impl NewDatabase {
    /// The database as this create leaves it.
    pub(crate) fn as_created(&self) -> Database {
        Database {
            name: self.name.clone(),
            user: self.user.clone(),
            username: self.username.clone(),
        }
    }
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

impl<T: Clone> Listed<T> {
    /// Copies `slice` out of a full list, for panels that only return whole
    /// lists (a cached list stays whole; only the page is copied).
    pub fn slice(all: &[T], slice: Slice) -> Self {
        let more = all.len() > slice.offset.saturating_add(slice.limit);
        let items = all
            .iter()
            .skip(slice.offset)
            .take(slice.limit)
            .cloned()
            .collect();
        Listed { items, more }
    }
}

//! SPanel (ScalaHosting): one action-based endpoint, `POST <folder>/api.php`.
//!
//! Every call posts a `token` and an `action` (admin functions such as
//! `accounts/wwwacct`, user functions with an `accountuser`); replies are
//! JSON with `result: "success"` or `"error"`. The panel manages hosting
//! accounts, packages (limits plus page permissions), subdomains, MySQL
//! databases and users, and its own administrators. The server's `base_url`
//! includes the panel's folder: `https://host/spanel/` (or the white-label
//! `https://host/hostpanel/`). What this adapter does beyond a one-to-one
//! mapping:
//! - Bodies are encoded exactly as PHP's `http_build_query` does
//!   (`permissions[domain][0]=domains`), fields in the doc's order.
//! - CreateAccount is `accounts/wwwacct` with the package (whose limits and
//!   permissions then apply), followed by `accounts/changeuseremail` (wwwacct
//!   takes no email); if that fails, the account is terminated again and the
//!   failure reported.
//! - GetAccount and ListAccounts read `accounts/listaccounts`, which has no
//!   email address: `email` stays empty.
//! - AddDomain adds subdomains (`domain/addsubdomain`): the API has no addon
//!   domains. DeleteDomain needs the owning account (`domain/removedomain` is a
//!   user function): named by the caller, or found as the account whose main
//!   domain the domain is under.
//! - CreateDatabase is `mysql/createmysqluser` then `mysql/createmysqldatabase`;
//!   SPanel's API cannot delete a database user, so when the second step fails
//!   the error says that the user of the first step remains.
//! - The canonical domain limit counts the primary domain; SPanel's counts
//!   additional domains (one less).
//! - Login links use `base/sso` with role `user`; the token needs SPanel's SSO
//!   option, else FAILED_PRECONDITION `PANEL_SSO_DISABLED`.

mod accounts;
mod admins;
mod client;
mod error;
mod mapping;
mod packages;
mod php_query;
mod sites;

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::Capability;
use panelgate_proto::v1::{
    Account, AccountUsage, CreateLoginLinkResponse, Database, Domain, Package, PanelAdmin,
    PanelKind,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use self::{client::Client, error::Subject, php_query::PhpValue};
use crate::kind::{Built, Login, Parts};
use crate::{
    AccountUpdate, Earlier, NewAccount, NewDatabase, NewDomain, NewPackage, NewPanelAdmin,
    PackageRef, Panel, PanelCheck, PanelDescription, Result, earlier::created_as,
    panel::login_link,
};

/// The SPanel adapter for one server.
struct Spanel {
    client: Client,
}

impl Spanel {
    /// An adapter calling with the server's admin API token.
    fn build(parts: Parts, token: SecretString) -> Built {
        Ok(Arc::new(Spanel {
            client: Client::new(parts.http, token),
        }))
    }
}

/// One form field of a call.
fn field(key: &str, value: impl Into<PhpValue>) -> (String, PhpValue) {
    (key.to_owned(), value.into())
}

/// What the impl below implements, one line an area (accounts, packages,
/// domains, the rest); everything else is UNIMPLEMENTED.
#[rustfmt::skip]
const CAPABILITIES: &[Capability] = {
    use Capability::*;
    &[
        CreateAccount, GetAccount, ListAccounts, UpdateAccount, SuspendAccount, UnsuspendAccount,
        DeleteAccount, ChangePackage, ChangePassword, CreateLoginLink, GetAccountUsage,
        ListPackages, GetPackage, CreatePackage, UpdatePackage, DeletePackage,
        AddDomain, DeleteDomain,
        CreateDatabase,
        CreatePanelAdmin, ListPanelAdmins,
    ]
};

#[async_trait]
impl Panel for Spanel {
    async fn check(&self) -> Result<PanelCheck> {
        self.client
            .admin("toolbox/apicheck", Vec::new(), Subject::new("apicheck"))
            .await?;
        Ok(PanelCheck::default())
    }

    fn capabilities(&self) -> &'static [Capability] {
        CAPABILITIES
    }

    /// An earlier attempt may have done wwwacct but not changeuseremail:
    /// the email is set again (harmless to repeat; listaccounts does not
    /// report it to check).
    async fn earlier_account(&self, account: &NewAccount) -> Result<Earlier<Account>> {
        let Earlier::Made(existing) =
            created_as(self.get_account(&account.username).await, account)?
        else {
            return Ok(Earlier::Absent);
        };
        self.set_email(&account.username, &account.email).await?;
        Ok(Earlier::Made(Account {
            email: account.email.clone(),
            ..existing
        }))
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account> {
        self.wwwacct(account).await
    }

    async fn get_account(&self, username: &str) -> Result<Account> {
        Ok(mapping::account(&self.account_row(username).await?))
    }

    async fn all_accounts(&self) -> Result<Vec<Account>> {
        let rows = self.account_rows(None).await?;
        Ok(rows.iter().map(mapping::account).collect())
    }

    async fn update_account(&self, update: &AccountUpdate) -> Result<()> {
        self.update_contact(update).await
    }

    async fn suspend_account(&self, username: &str, reason: &str) -> Result<()> {
        let fields = if reason.is_empty() {
            Vec::new()
        } else {
            vec![field("reason", reason)]
        };
        self.account_call("accounts/suspendaccount", username, fields, &[])
            .await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<()> {
        self.account_call("accounts/unsuspendaccount", username, Vec::new(), &[])
            .await
    }

    async fn delete_account(&self, username: &str) -> Result<()> {
        self.account_call("accounts/terminateaccount", username, Vec::new(), &[])
            .await
    }

    async fn change_package(&self, username: &str, package: &PackageRef) -> Result<()> {
        let package = ("package", package.name.as_str());
        self.set_account_field("accounts/changequota", username, package, "package")
            .await
    }

    async fn change_password(&self, username: &str, password: &SecretString) -> Result<()> {
        let password = ("password", password.expose_secret());
        self.set_account_field(
            "accounts/changeuserpassword",
            username,
            password,
            "password",
        )
        .await
    }

    async fn create_login_link(&self, username: &str) -> Result<CreateLoginLinkResponse> {
        let fields = vec![field("username", username), field("role", "user")];
        let body = self
            .client
            .admin("base/sso", fields, Subject::new(username))
            .await?;
        let url = body.get("data").and_then(|data| data.get("url"));
        login_link(url.and_then(Value::as_str), "base/sso")
    }

    async fn get_account_usage(&self, username: &str) -> Result<AccountUsage> {
        Ok(mapping::usage(&self.account_row(username).await?))
    }

    async fn list_packages(&self) -> Result<Vec<Package>> {
        self.packages().await
    }

    async fn create_package(&self, package: &NewPackage) -> Result<Package> {
        self.createpackage(package).await
    }

    async fn update_package(&self, package: &NewPackage) -> Result<Package> {
        self.modifypackage(package).await?;
        self.get_package(&package.name).await
    }

    async fn delete_package(&self, package: &PackageRef) -> Result<()> {
        let fields = vec![field("package", package.name.as_str())];
        let subject = Subject::new(&package.name);
        self.client
            .admin("accounts/removepackage", fields, subject)
            .await
            .map(drop)
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain> {
        self.add_subdomain(domain).await
    }

    async fn delete_domain(&self, domain: &str, owner: Option<&str>) -> Result<()> {
        self.remove_domain(domain, owner).await
    }

    async fn create_database(&self, database: &NewDatabase) -> Result<Database> {
        self.create_user_and_database(database).await
    }

    async fn create_panel_admin(&self, admin: &NewPanelAdmin) -> Result<PanelAdmin> {
        self.create_admin(admin).await
    }

    async fn list_panel_admins(&self) -> Result<Vec<PanelAdmin>> {
        let subject = Subject::new("*");
        let rows = self
            .client
            .rows("admin/listadminusers", Vec::new(), subject);
        Ok(rows.await?.iter().map(mapping::panel_admin).collect())
    }
}

/// The SPanel panel: its names, what its adapter can do, and how it logs in.
#[rustfmt::skip]
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::Spanel, name: "spanel", title: "SPanel",
    capabilities: CAPABILITIES, login: Login::ApiToken(Spanel::build),
};

//! Installatron Server: a record keeper, not a hosting panel.
//!
//! Installatron records users, their websites (files, vhosts) and the
//! credentials of their databases; it creates no account, domain or database
//! itself (the hosting panel must have made them). Its REST API (`/users`,
//! with an `X-API-KEY`) reads and writes a user with its websites whole.
//! This adapter maps the canonical calls onto that record-keeping:
//! - CreateAccount records a user (`POST /users`, an upsert: an existing user
//!   is refused first) with its websites: the given ones, or one website
//!   labelled with the primary domain, served at its http:// and https://.
//! - Suspend and Unsuspend set the user's `suspended` flag; ChangePackage its
//!   free-text package label; DeleteAccount forgets the user (files stay).
//! - AddDomain, DeleteDomain and CreateDatabase read the user's websites,
//!   change them, and write the whole list back, keeping the other websites.
//! - validate_only runs the change with `dryrun=all`: the panel checks inputs
//!   and tests connections, and changes nothing.
//! - Success is read from `result` (or a clean dry run's `complete_dryrun`),
//!   never from `message`; `errfield` names the refused field.

mod client;
mod error;
mod mapping;
mod users;
mod websites;

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::Capability;
use panelgate_proto::v1::{Account, CreateLoginLinkResponse, Database, Domain, PanelKind};
use secrecy::SecretString;
use serde_json::json;

use self::{
    client::{Client, Subject},
    users::user_path,
};
use crate::kind::{Built, Login, Parts};
use crate::{
    AccountUpdate, Earlier, Listed, NewAccount, NewDatabase, NewDomain, PackageRef, Panel,
    PanelCheck, PanelDescription, Result, Slice, panel::login_link, units,
};

/// The Installatron adapter for one server.
struct Installatron {
    client: Client,
}

impl Installatron {
    /// An adapter calling with the server's API key.
    fn build(parts: Parts, key: SecretString) -> Built {
        Ok(Arc::new(Installatron {
            client: Client::new(parts.http, &key)?,
        }))
    }
}

/// What the impl below implements, one line an area (accounts, packages,
/// domains, the rest); everything else is UNIMPLEMENTED.
#[rustfmt::skip]
const CAPABILITIES: &[Capability] = {
    use Capability::*;
    &[
        CreateAccount, GetAccount, ListAccounts, UpdateAccount, SuspendAccount, UnsuspendAccount,
        DeleteAccount, ChangePackage, CreateLoginLink,
        AddDomain, ListDomains, DeleteDomain,
        CreateDatabase,
    ]
};

#[async_trait]
impl Panel for Installatron {
    fn dry_run(&self) -> Option<Arc<dyn Panel>> {
        Some(Arc::new(Installatron {
            client: self.client.dry_run(),
        }))
    }

    async fn check(&self) -> Result<PanelCheck> {
        self.users(Slice {
            offset: 0,
            limit: 1,
        })
        .await?;
        Ok(PanelCheck::default())
    }

    fn capabilities(&self) -> &'static [Capability] {
        CAPABILITIES
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account> {
        self.create_user(account).await
    }

    async fn get_account(&self, username: &str) -> Result<Account> {
        Ok(mapping::account(&self.user(username).await?))
    }

    async fn list_accounts(&self, slice: Slice) -> Result<Listed<Account>> {
        let users = self.users(slice).await?;
        Ok(Listed {
            items: users.items.iter().map(mapping::account).collect(),
            more: users.more,
        })
    }

    async fn update_account(&self, update: &AccountUpdate) -> Result<()> {
        self.update_email(update).await
    }

    async fn suspend_account(&self, username: &str, _reason: &str) -> Result<()> {
        self.edit(username, json!({ "suspended": true })).await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<()> {
        self.edit(username, json!({ "suspended": false })).await
    }

    async fn delete_account(&self, username: &str) -> Result<()> {
        self.client
            .delete(user_path(username)?, Subject::new(username))
            .await
            .map(drop)
    }

    async fn change_package(&self, username: &str, package: &PackageRef) -> Result<()> {
        self.edit(username, json!({ "package": package.name }))
            .await
    }

    async fn create_login_link(&self, username: &str) -> Result<CreateLoginLinkResponse> {
        let envelope = self
            .client
            .post(
                user_path(username)?.then("login"),
                json!({}),
                Subject::new(username),
            )
            .await?;
        login_link(envelope.data.as_str(), "login")
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain> {
        self.add_website(domain).await
    }

    async fn all_domains(&self, username: Option<&str>) -> Result<Vec<Domain>> {
        Ok(match username {
            Some(username) => {
                mapping::domains(username, &mapping::websites(&self.user(username).await?))
            }
            None => self
                .all_users()
                .await?
                .iter()
                .flat_map(|user| {
                    let username = user.get("id").and_then(units::as_text).unwrap_or_default();
                    mapping::domains(&username, &mapping::websites(user))
                })
                .collect(),
        })
    }

    async fn delete_domain(&self, domain: &str, owner: Option<&str>) -> Result<()> {
        self.remove_vhosts(domain, owner).await
    }

    async fn earlier_database(&self, database: &NewDatabase) -> Result<Earlier<Database>> {
        self.recorded_database(database).await
    }

    async fn create_database(&self, database: &NewDatabase) -> Result<Database> {
        self.record_database(database).await
    }
}

/// The Installatron panel: its names, what its adapter can do, and how it logs in.
#[rustfmt::skip]
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::Installatron, name: "installatron", title: "Installatron",
    capabilities: CAPABILITIES, login: Login::ApiToken(Installatron::build),
};

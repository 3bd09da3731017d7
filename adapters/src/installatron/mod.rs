//! Installatron Server: a record keeper, not a hosting panel.
//!
//! Installatron records users, their websites (files, vhosts) and the
//! credentials of their databases; it creates no account, domain or database
//! itself (the hosting panel must have made them). This adapter maps the
//! canonical calls onto that record-keeping — see
//! `shared/panels/source-docs/installatron-create-user.txt` and REFERENCE §4:
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

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, CreateLoginLinkResponse, Database, Domain, DomainStatus, InstallatronDatabase,
    InstallatronWebsite, Operation, PanelKind, add_domain_request, create_account_request,
    create_database_request,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use self::client::{Client, Subject};
use crate::{
    AccountUpdate, AdapterError, Earlier, Entity, Listed, NewAccount, NewDatabase, NewDomain,
    PackageRef, Panel, PanelCheck, PanelDescription, Slice,
    http::UrlPath,
    kind::{Built, Login, Parts},
    units,
};

/// The Installatron panel kind.
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::Installatron,
    name: "installatron",
    title: "Installatron",
    capabilities: &[
        Operation::CreateAccount,
        Operation::GetAccount,
        Operation::ListAccounts,
        Operation::UpdateAccount,
        Operation::SuspendAccount,
        Operation::UnsuspendAccount,
        Operation::DeleteAccount,
        Operation::ChangePackage,
        Operation::CreateLoginLink,
        Operation::AddDomain,
        Operation::ListDomains,
        Operation::DeleteDomain,
        Operation::CreateDatabase,
    ],
    login: Login::ApiToken(Installatron::build),
};

/// Where CreateAccount's option fields sit, for the panel's `errfield`s.
const ACCOUNT_OPTIONS: &str = "panel_options.installatron.";
/// Where AddDomain's website sits.
const DOMAIN_OPTIONS: &str = "panel_options.installatron.website";
/// Users read per page when searching every user.
const SEARCH_PAGE: usize = 100;

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

    async fn user(&self, username: &str) -> Result<Value, AdapterError> {
        let envelope = self
            .client
            .get(user_path(username)?, &[], Subject::new(username))
            .await?;
        Ok(envelope.data)
    }

    /// Sets fields of an existing user. `POST /users/{id}` would create a
    /// missing user, so the user is looked up first: an unknown one is
    /// NOT_FOUND (a user deleted between the two calls could still be made
    /// again; the panel offers no conditional edit).
    async fn edit(
        &self,
        username: &str,
        body: Value,
        subject: Subject<'_>,
    ) -> Result<(), AdapterError> {
        self.user(username).await?;
        self.save(username, body, subject).await
    }

    /// `POST /users/{id}` with `body`, for a user just read.
    async fn save(
        &self,
        username: &str,
        body: Value,
        subject: Subject<'_>,
    ) -> Result<(), AdapterError> {
        self.client
            .post(user_path(username)?, body, subject)
            .await
            .map(drop)
    }

    /// Writes the whole websites list back of a user just read.
    async fn save_websites(
        &self,
        username: &str,
        websites: &[InstallatronWebsite],
        subject: Subject<'_>,
    ) -> Result<(), AdapterError> {
        let list: Vec<Value> = websites.iter().map(mapping::website_json).collect();
        self.save(username, json!({ "websites": list }), subject)
            .await
    }

    /// One page of users and whether more follow.
    async fn users(&self, page: Slice) -> Result<(Vec<Value>, bool), AdapterError> {
        let query = [
            ("offset", page.offset.to_string()),
            ("limit", page.limit.to_string()),
        ];
        let envelope = self.client.get("users", &query, Subject::new("*")).await?;
        let users = match envelope.data {
            Value::Array(users) => users,
            _ => Vec::new(),
        };
        let total = envelope.total_count.as_ref().and_then(units::as_u64);
        let seen = page.offset.saturating_add(users.len());
        let more = match total {
            Some(total) => (seen as u64) < total,
            None => users.len() == page.limit,
        };
        Ok((users, more))
    }

    /// Every user, page by page.
    async fn all_users(&self) -> Result<Vec<Value>, AdapterError> {
        let mut all = Vec::new();
        let mut page = Slice {
            offset: 0,
            limit: SEARCH_PAGE,
        };
        loop {
            let (users, more) = self.users(page).await?;
            let got = users.len();
            all.extend(users);
            if !more || got == 0 {
                return Ok(all);
            }
            page.offset += got;
        }
    }
}

fn user_path(username: &str) -> Result<UrlPath, AdapterError> {
    UrlPath::route("users").value("username", username)
}

/// The website AddDomain records when the caller gives none: labelled with the
/// domain, served at its http:// and https://, its files where the user's first
/// website has them.
fn default_website(
    domain: &str,
    document_root: Option<&str>,
    first: Option<&InstallatronWebsite>,
) -> InstallatronWebsite {
    let root = document_root.unwrap_or("public_html").to_owned();
    InstallatronWebsite {
        label: domain.to_owned(),
        vhosts: [
            (format!("http://{domain}"), root.clone()),
            (format!("https://{domain}"), root),
        ]
        .into(),
        path: first.map(|first| first.path.clone()).unwrap_or_default(),
        uid: first.and_then(|first| first.uid),
        gid: first.and_then(|first| first.gid),
        server: first.map(|first| first.server.clone()).unwrap_or_default(),
        ..Default::default()
    }
}

#[async_trait]
impl Panel for Installatron {
    fn capabilities(&self) -> &'static [Operation] {
        PANEL.capabilities
    }

    fn dry_run(&self) -> Option<Arc<dyn Panel>> {
        Some(Arc::new(Installatron {
            client: self.client.dry_run(),
        }))
    }

    async fn check(&self) -> Result<PanelCheck, AdapterError> {
        self.users(Slice {
            offset: 0,
            limit: 1,
        })
        .await?;
        Ok(PanelCheck::default())
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account, AdapterError> {
        // Options for other kinds never get here: the gateway refuses them.
        let options = match &account.options {
            Some(create_account_request::PanelOptions::Installatron(options)) => Some(options),
            _ => None,
        };
        for (index, website) in options
            .iter()
            .flat_map(|options| &options.websites)
            .enumerate()
        {
            mapping::check_website(&format!("{ACCOUNT_OPTIONS}websites[{index}]"), website)?;
        }
        // POST /users would silently update an existing user: refuse it first.
        match self.user(&account.username).await {
            Ok(_) => {
                return Err(AdapterError::AlreadyExists {
                    entity: Entity::Account,
                    key: account.username.clone(),
                    upstream: None,
                });
            }
            Err(AdapterError::NotFound { .. }) => {}
            Err(other) => return Err(other),
        }
        let websites: Vec<InstallatronWebsite> = match options.map(|options| &options.websites) {
            Some(websites) if !websites.is_empty() => websites.clone(),
            _ => vec![default_website(&account.primary_domain, None, None)],
        };
        let mut body = json!({
            "id": account.username,
            "email": account.email,
            "package": account.package.name,
            "websites": websites.iter().map(mapping::website_json).collect::<Vec<_>>(),
        });
        if let (Some(options), Value::Object(fields)) = (options, &mut body) {
            if !options.language.is_empty() {
                fields.insert("language".into(), Value::from(options.language.as_str()));
            }
            if !options.parent.is_empty() {
                fields.insert("parent".into(), Value::from(options.parent.as_str()));
            }
        }
        let subject = Subject::new(&account.username).with_prefix(ACCOUNT_OPTIONS);
        let envelope = self.client.post("users", body, subject).await?;
        if self.client.is_dry_run() {
            return Ok(Account::default());
        }
        Ok(mapping::account(&envelope.data))
    }

    async fn get_account(&self, username: &str) -> Result<Account, AdapterError> {
        Ok(mapping::account(&self.user(username).await?))
    }

    async fn list_accounts(&self, page: Slice) -> Result<Listed<Account>, AdapterError> {
        let (users, more) = self.users(page).await?;
        Ok(Listed {
            items: users.iter().map(mapping::account).collect(),
            more,
        })
    }

    async fn update_account(&self, update: &AccountUpdate) -> Result<(), AdapterError> {
        for (set, field) in [
            (update.first_name.is_some(), "first_name"),
            (update.last_name.is_some(), "last_name"),
            (update.primary_domain.is_some(), "primary_domain"),
        ] {
            if set {
                return Err(AdapterError::invalid(
                    field,
                    "Installatron records only the email of a user (its domains are its websites: use AddDomain)",
                ));
            }
        }
        let Some(email) = &update.email else {
            return Ok(());
        };
        self.edit(
            &update.username,
            json!({ "email": email }),
            Subject::new(&update.username),
        )
        .await
    }

    async fn suspend_account(&self, username: &str, _reason: &str) -> Result<(), AdapterError> {
        self.edit(
            username,
            json!({ "suspended": true }),
            Subject::new(username),
        )
        .await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<(), AdapterError> {
        self.edit(
            username,
            json!({ "suspended": false }),
            Subject::new(username),
        )
        .await
    }

    async fn delete_account(&self, username: &str) -> Result<(), AdapterError> {
        self.client
            .delete(user_path(username)?, Subject::new(username))
            .await
            .map(drop)
    }

    async fn change_package(
        &self,
        username: &str,
        package: &PackageRef,
    ) -> Result<(), AdapterError> {
        self.edit(
            username,
            json!({ "package": package.name }),
            Subject::new(username),
        )
        .await
    }

    async fn create_login_link(
        &self,
        username: &str,
    ) -> Result<CreateLoginLinkResponse, AdapterError> {
        let envelope = self
            .client
            .post(
                user_path(username)?.then("login"),
                json!({}),
                Subject::new(username),
            )
            .await?;
        // The URL opens a session: never quote this reply in an error.
        let url = envelope
            .data
            .as_str()
            .filter(|url| !url.is_empty())
            .ok_or_else(|| AdapterError::protocol("login answered without a URL", ""))?;
        Ok(CreateLoginLinkResponse {
            url: url.to_owned(),
            expire_time: None,
        })
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain, AdapterError> {
        if let Some(add_domain_request::PanelOptions::Installatron(options)) = &domain.options
            && let Some(website) = &options.website
        {
            mapping::check_website(DOMAIN_OPTIONS, website)?;
        }
        let mut websites = mapping::websites(&self.user(&domain.username).await?);
        let taken = websites.iter().any(|website| {
            website.label == domain.domain
                || website
                    .vhosts
                    .keys()
                    .any(|url| mapping::host(url) == domain.domain)
        });
        if taken {
            return Err(AdapterError::AlreadyExists {
                entity: Entity::Domain,
                key: domain.domain.clone(),
                upstream: None,
            });
        }
        // Options for other kinds never get here: the gateway refuses them.
        let website = match &domain.options {
            Some(add_domain_request::PanelOptions::Installatron(options))
                if options.website.is_some() =>
            {
                let mut website = options.website.clone().unwrap_or_default();
                if website.label.is_empty() {
                    website.label = domain.domain.clone();
                }
                if website.vhosts.is_empty() {
                    website.vhosts =
                        default_website(&domain.domain, domain.document_root.as_deref(), None)
                            .vhosts;
                }
                website
            }
            _ => default_website(
                &domain.domain,
                domain.document_root.as_deref(),
                websites.first(),
            ),
        };
        let root = website
            .vhosts
            .iter()
            .find(|(url, _)| mapping::host(url) == domain.domain)
            .map(|(_, root)| root.clone())
            .unwrap_or_default();
        let label = website.label.clone();
        // The panel names the new website by its place in the list written back.
        let renames = [(
            format!("websites[{}]", websites.len()),
            DOMAIN_OPTIONS.to_owned(),
        )];
        websites.push(website);
        let subject = Subject::new(&domain.domain).with_renames(&renames);
        self.save_websites(&domain.username, &websites, subject)
            .await?;
        Ok(Domain {
            name: domain.domain.clone(),
            username: domain.username.clone(),
            document_root: root,
            status: DomainStatus::Active.into(),
            panel_domain_id: label,
        })
    }

    async fn list_domains(
        &self,
        username: Option<&str>,
        page: Slice,
    ) -> Result<Listed<Domain>, AdapterError> {
        let domains = match username {
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
        };
        Ok(Listed::slice(domains, page))
    }

    async fn delete_domain(&self, domain: &str, owner: Option<&str>) -> Result<(), AdapterError> {
        let not_found = || AdapterError::NotFound {
            entity: Entity::Domain,
            key: domain.to_owned(),
            upstream: None,
        };
        let (username, mut websites) = match owner {
            Some(owner) => (
                owner.to_owned(),
                mapping::websites(&self.user(owner).await?),
            ),
            None => self
                .all_users()
                .await?
                .into_iter()
                .map(|user| {
                    (
                        user.get("id").and_then(units::as_text).unwrap_or_default(),
                        mapping::websites(&user),
                    )
                })
                .find(|(_, websites)| {
                    websites.iter().any(|website| {
                        website
                            .vhosts
                            .keys()
                            .any(|url| mapping::host(url) == domain)
                    })
                })
                .ok_or_else(not_found)?,
        };
        let before: usize = websites.iter().map(|website| website.vhosts.len()).sum();
        for website in &mut websites {
            website.vhosts.retain(|url, _| mapping::host(url) != domain);
        }
        let after: usize = websites.iter().map(|website| website.vhosts.len()).sum();
        if after == before {
            return Err(not_found());
        }
        // A website left without any domain is gone with it.
        websites.retain(|website| !website.vhosts.is_empty());
        self.save_websites(&username, &websites, Subject::new(domain))
            .await
    }

    async fn earlier_database(
        &self,
        database: &NewDatabase,
    ) -> Result<Earlier<Database>, AdapterError> {
        let user = self.user(&database.username).await?;
        let recorded = mapping::websites(&user).into_iter().any(|website| {
            website
                .databases
                .iter()
                .any(|recorded| recorded.name == database.name)
        });
        Ok(if recorded {
            Earlier::Made(Database {
                name: database.name.clone(),
                user: database.user.clone(),
                username: database.username.clone(),
            })
        } else {
            Earlier::Absent
        })
    }

    async fn create_database(&self, database: &NewDatabase) -> Result<Database, AdapterError> {
        let user = self.user(&database.username).await?;
        let primary = mapping::account(&user).primary_domain;
        let mut websites = mapping::websites(&user);
        // Options for other kinds never get here: the gateway refuses them.
        let (wanted, host) = match &database.options {
            Some(create_database_request::PanelOptions::Installatron(options)) => {
                (options.website.as_str(), options.host.as_str())
            }
            _ => ("", ""),
        };
        let index = if wanted.is_empty() {
            websites
                .iter()
                .position(|website| {
                    website.label == primary
                        || website
                            .vhosts
                            .keys()
                            .any(|url| mapping::host(url) == primary)
                })
                .or((!websites.is_empty()).then_some(0))
        } else {
            websites.iter().position(|website| website.label == wanted)
        };
        let Some(index) = index else {
            return Err(if wanted.is_empty() {
                AdapterError::invalid(
                    "username",
                    "the account has no website to record the database on",
                )
            } else {
                AdapterError::invalid(
                    "panel_options.installatron.website",
                    format!("the account has no website `{wanted}`"),
                )
            });
        };
        let website = &mut websites[index];
        if website
            .databases
            .iter()
            .any(|existing| existing.name == database.name)
        {
            return Err(AdapterError::AlreadyExists {
                entity: Entity::Database,
                key: database.name.clone(),
                upstream: None,
            });
        }
        // The panel names the new database by its place in the list written back.
        let at = format!("websites[{index}][databases][{}]", website.databases.len());
        let renames = [
            ("host", "panel_options.installatron.host"),
            ("name", "database_name"),
            ("user", "database_user"),
            ("pass", "database_password"),
        ]
        .map(|(panel, ours)| (format!("{at}[{panel}]"), ours.to_owned()));
        website.databases.push(InstallatronDatabase {
            r#type: "mysql".into(),
            host: if host.is_empty() {
                "localhost".into()
            } else {
                host.to_owned()
            },
            name: database.name.clone(),
            user: database.user.clone(),
            password: database.password.expose_secret().to_owned(),
        });
        let subject = Subject::new(&database.name).with_renames(&renames);
        self.save_websites(&database.username, &websites, subject)
            .await?;
        Ok(Database {
            name: database.name.clone(),
            user: database.user.clone(),
            username: database.username.clone(),
        })
    }
}

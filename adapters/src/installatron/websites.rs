//! Installatron's websites: a user's files, vhosts (its domains) and the
//! credentials of their databases. A change reads the user's websites,
//! changes them, and writes the whole list back, keeping the others.

use panelgate_proto::v1::{
    Database, Domain, InstallatronDatabase, InstallatronWebsite, add_domain_request,
    create_database_request,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{Installatron, client::Subject, mapping};
use crate::{AdapterError, Earlier, Entity, NewDatabase, NewDomain, Result, units};

/// Where AddDomain's website sits.
const DOMAIN_OPTIONS: &str = "panel_options.installatron.website";

/// The website AddDomain records when the caller gives none: labelled with the
/// domain, served at its http:// and https://, its files where the user's first
/// website has them.
pub(super) fn default_website(
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

impl Installatron {
    /// Writes the whole websites list back of a user just read.
    async fn save_websites(
        &self,
        username: &str,
        websites: &[InstallatronWebsite],
        subject: Subject<'_>,
    ) -> Result<()> {
        let list: Vec<Value> = websites.iter().map(mapping::website_json).collect();
        self.save(username, json!({ "websites": list }), subject)
            .await
    }

    /// Adds a website for the domain: the caller's, or one like the user's
    /// first website (see [`default_website`]).
    pub(super) async fn add_website(&self, domain: &NewDomain) -> Result<Domain> {
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
            document_root: root,
            panel_domain_id: label,
            ..domain.as_added()
        })
    }

    /// Removes the domain's vhosts from its owner's websites (named by the
    /// caller, or found among every user's); a website left without any
    /// domain is gone with it.
    pub(super) async fn remove_vhosts(&self, domain: &str, owner: Option<&str>) -> Result<()> {
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

    /// Whether the user's websites record the database already.
    pub(super) async fn recorded_database(
        &self,
        database: &NewDatabase,
    ) -> Result<Earlier<Database>> {
        let user = self.user(&database.username).await?;
        let recorded = mapping::websites(&user).into_iter().any(|website| {
            website
                .databases
                .iter()
                .any(|recorded| recorded.name == database.name)
        });
        Ok(if recorded {
            Earlier::Made(database.as_created())
        } else {
            Earlier::Absent
        })
    }

    /// Records the database's credentials on a website of the user: the
    /// one the caller named, else the primary domain's (or the first).
    pub(super) async fn record_database(&self, database: &NewDatabase) -> Result<Database> {
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
        Ok(database.as_created())
    }
}

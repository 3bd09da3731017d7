//! SPanel's user functions, run as one account (`accountuser`): its
//! subdomains, and its MySQL databases, created in two steps (the user, then
//! the database).

use panelgate_proto::v1::{Database, Domain};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::{Spanel, error::Subject, field};
use crate::{AdapterError, Entity, NewDatabase, NewDomain, Result};

impl Spanel {
    /// `domain/addsubdomain`: the API adds subdomains only.
    pub(super) async fn add_subdomain(&self, domain: &NewDomain) -> Result<Domain> {
        let Some((label, parent)) = domain
            .domain
            .split_once('.')
            .filter(|(_, parent)| parent.contains('.'))
        else {
            return Err(AdapterError::invalid(
                "domain",
                "SPanel's API adds subdomains only: give a name under one of the account's domains",
            ));
        };
        let mut fields = vec![field("domain", parent), field("subdomain", label)];
        if let Some(path) = &domain.document_root {
            fields.push(field("path", path.as_str()));
        }
        let subject = Subject::new(&domain.domain).with_fields(&[
            ("path", "document_root"),
            ("domain", "domain"),
            ("subdomain", "domain"),
        ]);
        self.client
            .user("domain/addsubdomain", &domain.username, fields, subject)
            .await?;
        Ok(domain.as_added())
    }

    /// `domain/removedomain` as the domain's owner: named by the caller, or
    /// the account whose main domain the domain is under.
    pub(super) async fn remove_domain(&self, domain: &str, owner: Option<&str>) -> Result<()> {
        let owner = match owner {
            Some(owner) => owner.to_owned(),
            None => self
                .account_rows(None)
                .await?
                .iter()
                .find_map(|row| {
                    let main = row.get("domain")?.as_str()?;
                    let under = domain == main || domain.ends_with(&format!(".{main}"));
                    under.then(|| row.get("user")?.as_str().map(str::to_owned)).flatten()
                })
                .ok_or_else(|| {
                    AdapterError::invalid("username", format!("name the account that owns `{domain}`: no account's main domain holds it"))
                })?,
        };
        let fields = vec![field("domain", domain)];
        self.client
            .user("domain/removedomain", &owner, fields, Subject::new(domain))
            .await
            .map(drop)
    }

    /// `mysql/createmysqluser`, then `mysql/createmysqldatabase`. The API
    /// cannot delete a database user, so a failed second step says that the
    /// first step's user remains.
    pub(super) async fn create_user_and_database(
        &self,
        database: &NewDatabase,
    ) -> Result<Database> {
        let user_fields = vec![
            field("username", database.user.as_str()),
            field("password", database.password.expose_secret()),
        ];
        let subject = Subject::new(&database.user).with_fields(&[
            ("password", "database_password"),
            ("username", "database_user"),
        ]);
        let created = self
            .client
            .user(
                "mysql/createmysqluser",
                &database.username,
                user_fields,
                subject,
            )
            .await;
        let panel_user = match created {
            // The panel prefixes the name with the account's; its message says how.
            Ok(created) => {
                Some(named_in_message(&created).unwrap_or_else(|| database.user.clone()))
            }
            // A retry goes on past the user its earlier attempt made.
            Err(AdapterError::AlreadyExists {
                entity: Entity::DatabaseUser,
                ..
            }) if database.resuming => None,
            Err(err) => return Err(err),
        };
        let database_fields = vec![
            field("database", database.name.as_str()),
            field("username", database.user.as_str()),
        ];
        let subject = Subject::new(&database.name).with_fields(&[("database", "database_name")]);
        self.client
            .user("mysql/createmysqldatabase", &database.username, database_fields, subject)
            .await
            .map_err(|failure| match &panel_user {
                Some(panel_user) => failure.with_note(&format!(
                    "the database user `{panel_user}` created just before remains on the panel (SPanel's API cannot delete it)"
                )),
                None => failure,
            })?;
        Ok(database.as_created())
    }
}

/// The name in a success message such as "The username alice_db has been
/// created successfully".
fn named_in_message(body: &Value) -> Option<String> {
    let message = body.get("data")?.get("msg")?.as_str()?;
    let (_, rest) = message.split_once("The username ")?;
    let name = rest.split_whitespace().next()?;
    Some(name.to_owned())
}

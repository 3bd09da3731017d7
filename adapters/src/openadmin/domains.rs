//! OpenAdmin's domain calls: domains are added, suspended, unsuspended and
//! deleted by commands under `/api/domains/` (HTTP 200 with a `returncode`),
//! and listed per account or for the whole server.

use panelgate_proto::v1::Domain;
use serde_json::json;

use super::{OpenAdmin, error::Subject, mapping, wire::DomainList};
use crate::{AdapterError, NewDomain, http::UrlPath};

/// Where OpenAdmin document roots must live.
const DOCROOT_BASE: &str = "/var/www/html/";

impl OpenAdmin {
    /// `api/domains/new`, in the caller's document root or the domain's
    /// default one under [`DOCROOT_BASE`].
    pub(super) async fn new_domain(&self, domain: &NewDomain) -> Result<Domain, AdapterError> {
        let docroot = match &domain.document_root {
            Some(root) if root.starts_with(DOCROOT_BASE) && root.len() > DOCROOT_BASE.len() => {
                root.clone()
            }
            Some(_) => {
                return Err(AdapterError::invalid(
                    "document_root",
                    format!("OpenAdmin document roots are absolute paths under {DOCROOT_BASE}"),
                ));
            }
            None => format!("{DOCROOT_BASE}{}", domain.domain),
        };
        let body =
            json!({"username": domain.username, "domain": domain.domain, "docroot": docroot});
        self.client
            .command(
                "api/domains/new".into(),
                Some(&body),
                Subject::new(&domain.domain),
            )
            .await?;
        Ok(Domain {
            document_root: docroot,
            ..domain.as_added()
        })
    }

    /// The domains of `username`, with their owner, or of the whole server,
    /// without (the panel lists those by internal user id only).
    pub(super) async fn domains(
        &self,
        username: Option<&str>,
    ) -> Result<Vec<Domain>, AdapterError> {
        let (owner, domains) = match username {
            Some(username) => (username, self.user(username).await?.domains),
            None => {
                let list: DomainList = self.client.get("api/domains", Subject::new("*")).await?;
                ("", list.domains)
            }
        };
        Ok(domains
            .into_iter()
            .map(|domain| mapping::domain(domain, owner))
            .collect())
    }

    /// `api/domains/<verb>/<domain>`: suspend, unsuspend or delete.
    pub(super) async fn domain_command(
        &self,
        verb: &'static str,
        domain: &str,
    ) -> Result<(), AdapterError> {
        let path = UrlPath::route("api/domains")
            .then(verb)
            .value("domain", domain)?;
        self.client.command(path, None, Subject::new(domain)).await
    }
}

//! OpenAdmin's domain commands: domains are added, suspended, unsuspended
//! and deleted under `/api/domains/`, answered with HTTP 200 and a
//! `returncode`.

use panelgate_proto::v1::Domain;
use serde_json::json;

use super::{OpenAdmin, error::Subject};
use crate::{AdapterError, NewDomain, Result, http::UrlPath};

/// Where OpenAdmin document roots must live.
const DOCROOT_BASE: &str = "/var/www/html/";

impl OpenAdmin {
    /// `api/domains/new`, in the caller's document root or the domain's
    /// default one under [`DOCROOT_BASE`].
    pub(super) async fn new_domain(&self, domain: &NewDomain) -> Result<Domain> {
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

    /// `api/domains/<verb>/<domain>`: suspend, unsuspend or delete.
    pub(super) async fn domain_command(&self, verb: &'static str, domain: &str) -> Result<()> {
        let path = UrlPath::route("api/domains")
            .then(verb)
            .value("domain", domain)?;
        self.client.command(path, None, Subject::new(domain)).await
    }
}

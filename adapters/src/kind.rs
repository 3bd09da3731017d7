//! The panel registry: each adapter describes its panel once
//! ([`PanelDescription`]: kind, stable name, capabilities, how it logs in and
//! how it is built), and everything about panel kinds derives from
//! [`describe`] and [`KINDS`].

use std::sync::Arc;

use panelgate_proto::Capability;
use panelgate_proto::v1::PanelKind;
use secrecy::SecretString;

use crate::{
    AdapterError, Panel, Result, admin_api,
    credentials::{CredentialForm, PanelCredentials},
    http::{HttpClient, TlsOptions, Transport},
    installatron,
    metrics::ServerLabels,
    openadmin,
    session::Sessions,
    spanel,
};

/// Every kind panelgate has an adapter for, in the README's column order.
pub const KINDS: [PanelKind; 4] = [
    PanelKind::AdminApi,
    PanelKind::Openadmin,
    PanelKind::Spanel,
    PanelKind::Installatron,
];

/// The adapter's description of a kind; None for a kind without one.
pub fn describe(kind: PanelKind) -> Option<&'static PanelDescription> {
    match kind {
        PanelKind::AdminApi => Some(&admin_api::PANEL),
        PanelKind::Openadmin => Some(&openadmin::PANEL),
        PanelKind::Spanel => Some(&spanel::PANEL),
        PanelKind::Installatron => Some(&installatron::PANEL),
        PanelKind::Unspecified => None,
    }
}

/// One panel kind, as its adapter describes it.
#[derive(Debug)]
pub struct PanelDescription {
    /// The kind.
    pub kind: PanelKind,
    /// The stable short name, e.g. "admin_api" (stored in the inventory).
    pub name: &'static str,
    /// The panel's name as its vendor writes it, e.g. "OpenAdmin".
    pub title: &'static str,
    /// The operations the adapter implements; everything else is UNIMPLEMENTED.
    pub capabilities: &'static [Capability],
    /// How the panel logs in, and how its adapter is built.
    pub(crate) login: Login,
}

/// What [`Login`]'s constructors return.
pub(crate) type Built = Result<Arc<dyn Panel>>;

/// How a panel logs in, with the constructor of its adapter: the credentials'
/// form is the constructor's argument, so a kind states it once.
#[derive(Debug)]
pub(crate) enum Login {
    /// With an administrator's username and password.
    Password(fn(Parts, String, SecretString) -> Built),
    /// With an API token or key.
    ApiToken(fn(Parts, SecretString) -> Built),
}

impl Login {
    fn form(&self) -> CredentialForm {
        match self {
            Login::Password(_) => CredentialForm::Password,
            Login::ApiToken(_) => CredentialForm::ApiToken,
        }
    }

    /// Builds the adapter; None when `credentials` have another form.
    fn build(&self, parts: Parts, credentials: PanelCredentials) -> Option<Built> {
        match (self, credentials) {
            (Login::Password(build), PanelCredentials::Password { username, password }) => {
                Some(build(parts, username, password))
            }
            (Login::ApiToken(build), PanelCredentials::ApiToken(token)) => {
                Some(build(parts, token))
            }
            _ => None,
        }
    }
}

/// What an adapter is built from, besides its credentials.
pub(crate) struct Parts {
    /// The HTTP client towards the server's panel.
    pub http: HttpClient,
    /// Login sessions, shared by every server's adapter.
    pub sessions: Sessions,
    /// The server's id (keys its cached sessions).
    pub server_id: String,
    /// PHP version for requests that leave it out.
    pub default_php_version: Option<String>,
}

/// The operations a kind's adapter implements; empty for kinds without one.
pub fn capabilities(kind: PanelKind) -> &'static [Capability] {
    describe(kind).map_or(&[], |panel| panel.capabilities)
}

/// The stable short name of a kind, e.g. "admin_api" (stored in the inventory).
pub fn kind_name(kind: PanelKind) -> &'static str {
    describe(kind).map_or("unspecified", |panel| panel.name)
}

/// The kind named by [`kind_name`]; None for anything else.
pub fn kind_from_name(name: &str) -> Option<PanelKind> {
    KINDS.into_iter().find(|kind| kind_name(*kind) == name)
}

/// Whether `credentials` have the form `kind` logs in with.
pub fn check_credentials(kind: PanelKind, credentials: &PanelCredentials) -> Result<(), String> {
    let panel = describe(kind).ok_or_else(|| no_adapter(kind))?;
    if credentials.form() == panel.login.form() {
        Ok(())
    } else {
        Err(wrong_form(panel))
    }
}

fn no_adapter(kind: PanelKind) -> String {
    format!("no adapter for panel kind {}", kind_name(kind))
}

fn wrong_form(panel: &PanelDescription) -> String {
    format!(
        "{} logs in with {}",
        panel.name,
        panel.login.form().described()
    )
}

/// Everything needed to build one server's adapter.
#[derive(Clone, Debug)]
pub struct PanelConfig {
    /// The server's id (keys its cached sessions).
    pub server_id: String,
    /// The panel kind.
    pub kind: PanelKind,
    /// The panel API's base URL.
    pub base_url: String,
    /// TLS verification towards the panel.
    pub tls: TlsOptions,
    /// How to log in; None when the server has none stored.
    pub credentials: Option<PanelCredentials>,
    /// PHP version for requests that leave it out.
    pub default_php_version: Option<String>,
}

/// Builds the adapter for one server, on the shared `transport` and `sessions`.
pub fn build_panel(config: PanelConfig, transport: &Transport, sessions: &Sessions) -> Built {
    let server = ServerLabels {
        server_id: config.server_id.clone(),
        panel_kind: kind_name(config.kind),
    };
    let http = transport.client(server, &config.base_url, &config.tls)?;
    let credentials = config.credentials.ok_or_else(|| {
        AdapterError::Misconfigured("no credentials stored for the server".into())
    })?;
    let panel = describe(config.kind)
        .ok_or_else(|| AdapterError::Misconfigured(no_adapter(config.kind)))?;
    let parts = Parts {
        http,
        sessions: sessions.clone(),
        server_id: config.server_id,
        default_php_version: config.default_php_version,
    };
    panel
        .login
        .build(parts, credentials)
        .unwrap_or_else(|| Err(AdapterError::Misconfigured(wrong_form(panel))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in KINDS {
            assert_eq!(kind_from_name(kind_name(kind)), Some(kind));
        }
        assert_eq!(kind_from_name("cpanel"), None);
        assert_eq!(kind_from_name("unspecified"), None);
    }

    /// Every kind of the protocol but UNSPECIFIED is listed and described as itself.
    #[test]
    fn every_kind_is_listed_and_described() {
        let all = (0..).map_while(|value| PanelKind::try_from(value).ok());
        for kind in all.filter(|kind| *kind != PanelKind::Unspecified) {
            assert!(KINDS.contains(&kind), "{kind:?} missing from KINDS");
            assert_eq!(describe(kind).map(|panel| panel.kind), Some(kind));
        }
    }

    #[test]
    fn credentials_must_have_the_kinds_form() {
        let token = PanelCredentials::ApiToken("t".into());
        assert!(check_credentials(PanelKind::Spanel, &token).is_ok());
        let refused = check_credentials(PanelKind::AdminApi, &token).unwrap_err();
        assert!(refused.contains("credentials.password"), "{refused}");
        assert!(check_credentials(PanelKind::Unspecified, &token).is_err());
    }
}

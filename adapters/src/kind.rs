//! The panel kinds panelgate speaks to, their stable names (as stored in the
//! inventory), and how one server's adapter is built.

use std::{fmt, sync::Arc};

use panelgate_proto::v1::{Credentials, Operation, PanelKind, credentials};
use secrecy::SecretString;

use crate::{
    AdapterError, Panel, admin_api,
    http::{TlsOptions, Transport},
    installatron,
    metrics::ServerLabels,
    openadmin,
    session::Sessions,
    spanel,
};

/// The operations a kind's adapter implements; empty for kinds without one.
pub fn capabilities(kind: PanelKind) -> &'static [Operation] {
    match kind {
        PanelKind::AdminApi => admin_api::CAPABILITIES,
        PanelKind::Openadmin => openadmin::CAPABILITIES,
        PanelKind::Spanel => spanel::CAPABILITIES,
        PanelKind::Installatron => installatron::CAPABILITIES,
        PanelKind::Unspecified => &[],
    }
}

/// Whether `credentials` have the form `kind` logs in with.
pub fn check_credentials(kind: PanelKind, credentials: &PanelCredentials) -> Result<(), String> {
    let wants_password = matches!(kind, PanelKind::AdminApi | PanelKind::Openadmin);
    match (wants_password, credentials) {
        (true, PanelCredentials::Password { .. }) | (false, PanelCredentials::ApiToken(_)) => {
            Ok(())
        }
        (true, PanelCredentials::ApiToken(_)) => Err(format!(
            "{} logs in with an admin username and password (credentials.password)",
            kind_name(kind)
        )),
        (false, PanelCredentials::Password { .. }) => Err(format!(
            "{} logs in with an API token (credentials.api_token)",
            kind_name(kind)
        )),
    }
}

/// The stable short name of a kind, e.g. "admin_api" (stored in the inventory).
pub fn kind_name(kind: PanelKind) -> &'static str {
    match kind {
        PanelKind::Unspecified => "unspecified",
        PanelKind::AdminApi => "admin_api",
        PanelKind::Openadmin => "openadmin",
        PanelKind::Spanel => "spanel",
        PanelKind::Installatron => "installatron",
    }
}

/// The kind named by [`kind_name`]; None for anything else.
pub fn kind_from_name(name: &str) -> Option<PanelKind> {
    [
        PanelKind::AdminApi,
        PanelKind::Openadmin,
        PanelKind::Spanel,
        PanelKind::Installatron,
    ]
    .into_iter()
    .find(|kind| kind_name(*kind) == name)
}

/// How panelgate logs in to one panel. Debug never shows the secret.
#[derive(Clone)]
pub enum PanelCredentials {
    /// An administrator's username and password.
    Password {
        /// Username.
        username: String,
        /// Password.
        password: SecretString,
    },
    /// An API token or key.
    ApiToken(SecretString),
}

impl fmt::Debug for PanelCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanelCredentials::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"***")
                .finish(),
            PanelCredentials::ApiToken(_) => f.write_str("ApiToken(***)"),
        }
    }
}

impl PanelCredentials {
    /// Reads the canonical message; None when it holds no credentials.
    pub fn from_proto(credentials: Credentials) -> Option<Self> {
        match credentials.kind? {
            credentials::Kind::Password(password) => Some(PanelCredentials::Password {
                username: password.username,
                password: password.password.into(),
            }),
            credentials::Kind::ApiToken(token) => {
                Some(PanelCredentials::ApiToken(token.token.into()))
            }
        }
    }
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
pub fn build_panel(
    config: PanelConfig,
    transport: &Transport,
    sessions: &Sessions,
) -> Result<Arc<dyn Panel>, AdapterError> {
    let server = ServerLabels {
        server_id: config.server_id.clone(),
        panel_kind: kind_name(config.kind),
    };
    let http = transport.client(server, &config.base_url, &config.tls)?;
    let credentials = config.credentials.ok_or_else(|| {
        AdapterError::Misconfigured("no credentials stored for the server".into())
    })?;
    match config.kind {
        PanelKind::AdminApi => Ok(Arc::new(admin_api::AdminApi::new(
            http,
            credentials,
            config.default_php_version,
        )?)),
        PanelKind::Openadmin => Ok(Arc::new(openadmin::OpenAdmin::new(
            http,
            credentials,
            sessions.clone(),
            config.server_id,
        )?)),
        PanelKind::Spanel => Ok(Arc::new(spanel::Spanel::new(http, credentials)?)),
        PanelKind::Installatron => Ok(Arc::new(installatron::Installatron::new(
            http,
            credentials,
        )?)),
        other => Err(AdapterError::Misconfigured(format!(
            "no adapter for panel kind {}",
            kind_name(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in [
            PanelKind::AdminApi,
            PanelKind::Openadmin,
            PanelKind::Spanel,
            PanelKind::Installatron,
        ] {
            assert_eq!(kind_from_name(kind_name(kind)), Some(kind));
        }
        assert_eq!(kind_from_name("cpanel"), None);
        assert_eq!(kind_from_name("unspecified"), None);
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let password = PanelCredentials::Password {
            username: "admin".into(),
            password: "s3cret-pass".into(),
        };
        let token = PanelCredentials::ApiToken("s3cret-token".into());
        let printed = format!("{password:?} {token:?}");
        assert!(printed.contains("admin"));
        assert!(!printed.contains("s3cret"), "{printed}");
    }
}

//! How panelgate logs in to a panel: [`PanelCredentials`], read from the
//! canonical `Credentials` message, and the [`CredentialForm`] a panel kind
//! takes. A leaf: it knows no adapter.

use std::fmt;

use panelgate_proto::v1::{Credentials, credentials};
use secrecy::SecretString;

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

    /// The form these credentials have.
    pub fn form(&self) -> CredentialForm {
        match self {
            PanelCredentials::Password { .. } => CredentialForm::Password,
            PanelCredentials::ApiToken(_) => CredentialForm::ApiToken,
        }
    }
}

/// The form of credentials a panel kind logs in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialForm {
    /// An administrator's username and password (`credentials.password`).
    Password,
    /// An API token or key (`credentials.api_token`).
    ApiToken,
}

impl CredentialForm {
    /// The form in words, as a caller who sent the other one is told.
    pub fn described(self) -> &'static str {
        match self {
            CredentialForm::Password => "an admin username and password (credentials.password)",
            CredentialForm::ApiToken => "an API token (credentials.api_token)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

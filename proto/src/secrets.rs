//! The secret values a message carries ([`SecretValues`]), so the gateway
//! can mask them wherever a panel's words are passed on (a panel may quote
//! what it was sent: MySQL quotes a password in its syntax errors), and what
//! the generated Debug of a message holding a secret shows instead. The
//! fields are marked `[(secret) = ...]` in the protos; the build generates
//! the impls.

/// What Debug shows for a secret.
pub(crate) const REDACTED: &str = "***";

/// A message that may carry secrets.
pub trait SecretValues {
    /// Every non-empty secret value in the message.
    fn secret_values(&self) -> Vec<&str>;
}

/// The password in a URI's user info (`ftp://user:password@host/`).
pub(crate) fn uri_password(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

/// A URI with its user info (which may hold a password) replaced by `***`.
pub(crate) fn without_userinfo(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://{REDACTED}@{host}"),
            None => uri.to_owned(),
        },
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{
        CreateAccountRequest, CreateLoginLinkResponse, Credentials, InstallatronAccountOptions,
        InstallatronDatabase, InstallatronWebsite, PasswordCredentials, RegisterServerRequest,
        create_account_request::PanelOptions, credentials,
    };

    #[test]
    fn every_secret_of_a_request_is_found() {
        let register = RegisterServerRequest {
            credentials: Some(Credentials {
                kind: Some(credentials::Kind::Password(PasswordCredentials {
                    username: "admin".into(),
                    password: "admin-pass".into(),
                })),
            }),
            ..Default::default()
        };
        assert_eq!(register.secret_values(), ["admin-pass"]);

        let create = CreateAccountRequest {
            password: "account-pass".into(),
            panel_options: Some(PanelOptions::Installatron(InstallatronAccountOptions {
                websites: vec![InstallatronWebsite {
                    path: "ftp://bob:ftp-pass@files.example/www".into(),
                    databases: vec![InstallatronDatabase {
                        password: "db-pass".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(
            create.secret_values(),
            ["account-pass", "ftp-pass", "db-pass"]
        );
        assert!(CreateAccountRequest::default().secret_values().is_empty());
        assert_eq!(uri_password("/home/bob"), None);
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let credentials = Credentials {
            kind: Some(credentials::Kind::Password(PasswordCredentials {
                username: "admin".into(),
                password: "hunter2-secret".into(),
            })),
        };
        let request = CreateAccountRequest {
            username: "bob".into(),
            password: "bobs-secret".into(),
            ..Default::default()
        };
        let link = CreateLoginLinkResponse {
            url: "https://panel/login?token=sso-secret".into(),
            expire_time: None,
        };
        let website = InstallatronWebsite {
            path: "sftp://ftpuser:website-secret@example.com/sub".into(),
            databases: vec![InstallatronDatabase {
                password: "db-secret".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let printed = format!("{credentials:?} {request:?} {link:?} {website:?}");
        assert!(
            printed.contains("admin") && printed.contains("bob"),
            "{printed}"
        );
        assert!(printed.contains("example.com/sub"), "{printed}");
        for secret in [
            "hunter2-secret",
            "bobs-secret",
            "sso-secret",
            "website-secret",
            "ftpuser",
            "db-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
    }
}

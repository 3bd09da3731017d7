//! The secret values a mutating request carries ([`SecretValues`]), so the
//! gateway can mask them wherever a panel's words are passed on: a panel may
//! quote what it was sent (MySQL quotes a password in its syntax errors).
//! Each impl destructures the fields it reads from; the request types without
//! secrets are listed at the end, so a new request type needs a decision here.

use crate::v1::{
    AddDomainRequest, ChangePackageRequest, ChangePasswordRequest, ControlSystemServiceRequest,
    CreateAccountRequest, CreateDatabaseRequest, CreateLoginLinkRequest, CreatePackageRequest,
    CreatePanelAdminRequest, Credentials, DeleteAccountRequest, DeleteDomainRequest,
    DeletePackageRequest, DeleteServerRequest, InstallatronWebsite, IssueCertificateRequest,
    RegisterServerRequest, SetSystemServiceMonitoredRequest, SuspendAccountRequest,
    SuspendDomainRequest, UnsuspendAccountRequest, UnsuspendDomainRequest, UpdateAccountRequest,
    UpdatePackageRequest, UpdateServerRequest, add_domain_request, create_account_request,
    credentials,
};

/// A message that may carry secrets.
pub trait SecretValues {
    /// Every non-empty secret value in the message.
    fn secret_values(&self) -> Vec<&str>;
}

/// The non-empty ones of `values`.
fn present<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    values
        .into_iter()
        .filter(|value| !value.is_empty())
        .collect()
}

fn credentials(credentials: Option<&Credentials>) -> Vec<&str> {
    match credentials.and_then(|credentials| credentials.kind.as_ref()) {
        Some(credentials::Kind::Password(password)) => present([password.password.as_str()]),
        Some(credentials::Kind::ApiToken(token)) => present([token.token.as_str()]),
        None => Vec::new(),
    }
}

fn website(website: &InstallatronWebsite) -> Vec<&str> {
    let databases = website
        .databases
        .iter()
        .map(|database| database.password.as_str());
    present(databases.chain(userinfo_password(&website.path)))
}

/// The password in a URI's user info (`ftp://user:password@host/`).
fn userinfo_password(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, password)| password)
}

impl SecretValues for RegisterServerRequest {
    fn secret_values(&self) -> Vec<&str> {
        credentials(self.credentials.as_ref())
    }
}

impl SecretValues for UpdateServerRequest {
    fn secret_values(&self) -> Vec<&str> {
        credentials(self.credentials.as_ref())
    }
}

impl SecretValues for CreateAccountRequest {
    fn secret_values(&self) -> Vec<&str> {
        let mut values = present([self.password.as_str()]);
        if let Some(create_account_request::PanelOptions::Installatron(options)) =
            &self.panel_options
        {
            values.extend(options.websites.iter().flat_map(website));
        }
        values
    }
}

impl SecretValues for ChangePasswordRequest {
    fn secret_values(&self) -> Vec<&str> {
        present([self.password.as_str()])
    }
}

impl SecretValues for CreateDatabaseRequest {
    fn secret_values(&self) -> Vec<&str> {
        present([self.database_password.as_str()])
    }
}

impl SecretValues for CreatePanelAdminRequest {
    fn secret_values(&self) -> Vec<&str> {
        present([self.password.as_str()])
    }
}

impl SecretValues for AddDomainRequest {
    fn secret_values(&self) -> Vec<&str> {
        match &self.panel_options {
            Some(add_domain_request::PanelOptions::Installatron(options)) => {
                options.website.as_ref().map(website).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

macro_rules! no_secrets {
    ($($request:ty),+ $(,)?) => {
        $(impl SecretValues for $request {
            fn secret_values(&self) -> Vec<&str> {
                Vec::new()
            }
        })+
    };
}

no_secrets!(
    DeleteServerRequest,
    UpdateAccountRequest,
    SuspendAccountRequest,
    UnsuspendAccountRequest,
    DeleteAccountRequest,
    ChangePackageRequest,
    CreateLoginLinkRequest,
    CreatePackageRequest,
    UpdatePackageRequest,
    DeletePackageRequest,
    SuspendDomainRequest,
    UnsuspendDomainRequest,
    DeleteDomainRequest,
    IssueCertificateRequest,
    ControlSystemServiceRequest,
    SetSystemServiceMonitoredRequest,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{
        InstallatronAccountOptions, InstallatronDatabase, PasswordCredentials,
        create_account_request::PanelOptions,
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
            ["account-pass", "db-pass", "ftp-pass"]
        );
        assert!(CreateAccountRequest::default().secret_values().is_empty());
        assert_eq!(userinfo_password("/home/bob"), None);
    }
}

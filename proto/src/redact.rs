//! Debug for the messages that carry secrets (build.rs skips their derived
//! Debug): every field is shown except the secret, which prints as `***`.
//! Each impl destructures the whole message, so a new field breaks the build
//! until it is placed here too.

use std::fmt;

use crate::v1::{
    ApiTokenCredentials, ChangePasswordRequest, CreateAccountRequest, CreateDatabaseRequest,
    CreateLoginLinkResponse, CreatePanelAdminRequest, InstallatronDatabase, InstallatronWebsite,
    PasswordCredentials,
};

const REDACTED: &str = "***";

impl fmt::Debug for PasswordCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PasswordCredentials {
            username,
            password: _,
        } = self;
        f.debug_struct("PasswordCredentials")
            .field("username", username)
            .field("password", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for ApiTokenCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ApiTokenCredentials { token: _ } = self;
        f.debug_struct("ApiTokenCredentials")
            .field("token", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for CreateAccountRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CreateAccountRequest {
            target,
            username,
            primary_domain,
            email,
            password: _,
            package,
            first_name,
            last_name,
            panel_options,
            request_id,
            validate_only,
        } = self;
        f.debug_struct("CreateAccountRequest")
            .field("target", target)
            .field("username", username)
            .field("primary_domain", primary_domain)
            .field("email", email)
            .field("password", &REDACTED)
            .field("package", package)
            .field("first_name", first_name)
            .field("last_name", last_name)
            .field("panel_options", panel_options)
            .field("request_id", request_id)
            .field("validate_only", validate_only)
            .finish()
    }
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ChangePasswordRequest {
            target,
            username,
            password: _,
            request_id,
            validate_only,
        } = self;
        f.debug_struct("ChangePasswordRequest")
            .field("target", target)
            .field("username", username)
            .field("password", &REDACTED)
            .field("request_id", request_id)
            .field("validate_only", validate_only)
            .finish()
    }
}

impl fmt::Debug for CreateDatabaseRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CreateDatabaseRequest {
            target,
            username,
            database_name,
            database_user,
            database_password: _,
            request_id,
            panel_options,
            validate_only,
        } = self;
        f.debug_struct("CreateDatabaseRequest")
            .field("target", target)
            .field("username", username)
            .field("database_name", database_name)
            .field("database_user", database_user)
            .field("database_password", &REDACTED)
            .field("request_id", request_id)
            .field("panel_options", panel_options)
            .field("validate_only", validate_only)
            .finish()
    }
}

impl fmt::Debug for CreateLoginLinkResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CreateLoginLinkResponse {
            url: _,
            expire_time,
        } = self;
        f.debug_struct("CreateLoginLinkResponse")
            .field("url", &REDACTED)
            .field("expire_time", expire_time)
            .finish()
    }
}

impl fmt::Debug for CreatePanelAdminRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let CreatePanelAdminRequest {
            target,
            username,
            password: _,
            full_access,
            panel_options,
            request_id,
            validate_only,
        } = self;
        f.debug_struct("CreatePanelAdminRequest")
            .field("target", target)
            .field("username", username)
            .field("password", &REDACTED)
            .field("full_access", full_access)
            .field("panel_options", panel_options)
            .field("request_id", request_id)
            .field("validate_only", validate_only)
            .finish()
    }
}

impl fmt::Debug for InstallatronWebsite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InstallatronWebsite {
            path,
            label,
            server,
            vhosts,
            databases,
            uid,
            gid,
            language,
            suspended,
            vhost_ip,
            email,
            parent,
        } = self;
        f.debug_struct("InstallatronWebsite")
            .field("path", &redact_userinfo(path))
            .field("label", label)
            .field("server", server)
            .field("vhosts", vhosts)
            .field("databases", databases)
            .field("uid", uid)
            .field("gid", gid)
            .field("language", language)
            .field("suspended", suspended)
            .field("vhost_ip", vhost_ip)
            .field("email", email)
            .field("parent", parent)
            .finish()
    }
}

impl fmt::Debug for InstallatronDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InstallatronDatabase {
            r#type,
            host,
            name,
            user,
            password: _,
        } = self;
        f.debug_struct("InstallatronDatabase")
            .field("type", r#type)
            .field("host", host)
            .field("name", name)
            .field("user", user)
            .field("password", &REDACTED)
            .finish()
    }
}

/// A URI with its user info (which may hold a password) replaced by `***`.
fn redact_userinfo(uri: &str) -> String {
    match (uri.split_once("://"), uri.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://{REDACTED}@{host}"),
            None => uri.to_owned(),
        },
        _ => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::v1::{Credentials, credentials};

    use super::*;

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

//! The admin_api HTTP surface: ten form-encoded POST endpoints under
//! `/admin_api/`, admin credentials in the `username` and `password` headers,
//! HTTP 200 for errors too. Success or failure is read from the body.

use reqwest::{
    Method,
    header::{HeaderMap, HeaderValue},
};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::classify;
use crate::{AdapterError, http::HttpClient, kind::PanelCredentials};

/// One admin_api endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endpoint {
    AccountInfo,
    AddUser,
    SuspendUser,
    UpdateUser,
    PackagesList,
    NewPackage,
    IssueSsl,
    AddDomain,
    DatabaseAdd,
    SsoLogin,
}

impl Endpoint {
    /// Path under the base URL; the trailing slash is part of every route.
    fn path(self) -> &'static str {
        match self {
            Endpoint::AccountInfo => "admin_api/",
            Endpoint::AddUser => "admin_api/add_user/",
            Endpoint::SuspendUser => "admin_api/suspend_user/",
            Endpoint::UpdateUser => "admin_api/update_user/",
            Endpoint::PackagesList => "admin_api/packages_list/",
            Endpoint::NewPackage => "admin_api/new_package/",
            Endpoint::IssueSsl => "admin_api/issue_ssl/",
            Endpoint::AddDomain => "admin_api/add_domain/",
            Endpoint::DatabaseAdd => "admin_api/database_add/",
            Endpoint::SsoLogin => "admin_api/sso_login/",
        }
    }
}

/// Sends admin_api calls with the server's admin credentials.
pub(super) struct Client {
    http: HttpClient,
    auth_headers: HeaderMap,
}

impl Client {
    pub(super) fn new(
        http: HttpClient,
        credentials: PanelCredentials,
    ) -> Result<Self, AdapterError> {
        let PanelCredentials::Password { username, password } = credentials else {
            return Err(AdapterError::Misconfigured(
                "admin_api needs password credentials (an admin username and password)".into(),
            ));
        };
        let header = |value: &str, what: &str| {
            HeaderValue::from_str(value).map_err(|_| {
                AdapterError::Misconfigured(format!(
                    "the admin {what} has characters an HTTP header cannot carry"
                ))
            })
        };
        let mut password = header(password.expose_secret(), "password")?;
        password.set_sensitive(true);
        let mut auth_headers = HeaderMap::new();
        auth_headers.insert("username", header(&username, "username")?);
        auth_headers.insert("password", password);
        Ok(Client { http, auth_headers })
    }

    /// Posts `form` to `endpoint` and reads a success reply as `T`. A failure
    /// reply (an `error` key, or `success: false`) is classified with
    /// `subject`, the call's main name (username, domain or package).
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        form: &[(&str, &str)],
        subject: &str,
    ) -> Result<T, AdapterError> {
        let request = self
            .http
            .request(Method::POST, endpoint.path())
            .headers(self.auth_headers.clone())
            .form(form);
        let reply = self.http.send(request).await?;
        // sso_login's reply carries a login token: never quote it in an error.
        let reply_excerpt = || match endpoint {
            Endpoint::SsoLogin => String::new(),
            _ => reply.excerpt(),
        };
        let body: Value = reply.json().map_err(|err| match err {
            AdapterError::Protocol { message, .. } => AdapterError::Protocol {
                message,
                excerpt: reply_excerpt(),
            },
            other => other,
        })?;
        let Value::Object(object) = &body else {
            return Err(AdapterError::Protocol {
                message: "expected a JSON object".into(),
                excerpt: reply_excerpt(),
            });
        };
        if let Some(message) = failure_message(object) {
            return Err(classify(endpoint, subject, &message));
        }
        serde_json::from_value(body).map_err(|err| AdapterError::Protocol {
            message: format!("unexpected reply shape ({err})"),
            excerpt: reply_excerpt(),
        })
    }
}

/// The panel's two failure shapes: `{"error": ...}` (guard and account info)
/// and `{"success": false, "message"|"error": ...}` (the other endpoints).
fn failure_message(object: &Map<String, Value>) -> Option<String> {
    let text = |key: &str| match object.get(key) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let failed = matches!(object.get("success"), Some(Value::Bool(false)))
        || matches!(object.get("success"), Some(Value::String(s)) if s.eq_ignore_ascii_case("false"));
    if let Some(error) = text("error") {
        return Some(error);
    }
    failed.then(|| {
        text("message").unwrap_or_else(|| "the panel reported a failure without a message".into())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test values are objects"),
        }
    }

    #[test]
    fn both_failure_shapes_are_recognised() {
        assert_eq!(
            failure_message(&object(json!({"error": "User not found"}))).as_deref(),
            Some("User not found")
        );
        assert_eq!(
            failure_message(&object(
                json!({"success": false, "message": "Invalid package ID"})
            ))
            .as_deref(),
            Some("Invalid package ID")
        );
        assert_eq!(
            failure_message(&object(
                json!({"success": false, "error": "Passwords do not match."})
            ))
            .as_deref(),
            Some("Passwords do not match.")
        );
        assert!(failure_message(&object(json!({"success": false}))).is_some());
    }

    #[test]
    fn success_replies_are_not_failures() {
        assert_eq!(
            failure_message(&object(json!({"success": true, "message": "ok"}))),
            None
        );
        assert_eq!(
            failure_message(&object(json!({"package_name": "Basic"}))),
            None
        );
        assert_eq!(
            failure_message(&object(json!({"success": true, "error": null}))),
            None
        );
    }
}

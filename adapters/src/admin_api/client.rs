//! The admin_api HTTP surface: ten form-encoded POST endpoints under
//! `/admin_api/`, admin credentials in the `username` and `password` headers,
//! HTTP 200 for errors too. Success or failure is read from the body.

use reqwest::{Method, header::HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{error::classify, wire::Done};
use crate::{
    AdapterError, Result,
    http::{HttpClient, UrlPath},
};

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
    /// The endpoint's name, as the error table names it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Endpoint::AccountInfo => "account_info",
            Endpoint::AddUser => "add_user",
            Endpoint::SuspendUser => "suspend_user",
            Endpoint::UpdateUser => "update_user",
            Endpoint::PackagesList => "packages_list",
            Endpoint::NewPackage => "new_package",
            Endpoint::IssueSsl => "issue_ssl",
            Endpoint::AddDomain => "add_domain",
            Endpoint::DatabaseAdd => "database_add",
            Endpoint::SsoLogin => "sso_login",
        }
    }

    /// Path under the base URL: `admin_api/<name>/` (the trailing slash is
    /// part of every route), account info the API's root itself.
    fn path(self) -> UrlPath {
        let root = UrlPath::route("admin_api/");
        match self {
            Endpoint::AccountInfo => root,
            named => root.then(named.name()).then("/"),
        }
    }
}

/// Sends admin_api calls with the server's admin credentials.
pub(super) struct Client {
    http: HttpClient,
    /// The `username` header.
    username: HeaderValue,
    /// The `password` header, marked sensitive (kept out of Debug and HPACK tables).
    password: HeaderValue,
}

impl Client {
    pub(super) fn new(http: HttpClient, username: &str, password: &SecretString) -> Result<Self> {
        let header = |value: &str, what: &str| {
            HeaderValue::from_str(value).map_err(|_| {
                AdapterError::Misconfigured(format!(
                    "the admin {what} has characters an HTTP header cannot carry"
                ))
            })
        };
        let mut password = header(password.expose_secret(), "password")?;
        password.set_sensitive(true);
        let username = header(username, "username")?;
        Ok(Client {
            http,
            username,
            password,
        })
    }

    /// [`Client::call`] for a success reply that carries nothing panelgate
    /// reads.
    pub(super) async fn run(
        &self,
        endpoint: Endpoint,
        form: &[(&str, &str)],
        subject: &str,
    ) -> Result<()> {
        let _: Done = self.call(endpoint, form, subject).await?;
        Ok(())
    }

    /// Posts `form` to `endpoint` and reads a success reply as `T`. A failure
    /// reply (an `error` key, or `success: false`) is classified with
    /// `subject`, the call's main name (username, domain or package); any
    /// other reply without the endpoint's success marker is unreadable.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        form: &[(&str, &str)],
        subject: &str,
    ) -> Result<T> {
        let request = self
            .http
            .request(Method::POST, endpoint.path())
            .header("username", self.username.clone())
            .header("password", self.password.clone())
            .form(form);
        let reply = self.http.send(request).await?;
        // The panel answers every call with HTTP 200: any other status is
        // not the panel's API speaking.
        if reply.status.as_u16() == 404 {
            return Err(reply.missing_endpoint());
        }
        // sso_login's reply carries a login token: excerpts mask it, and
        // this one quotes nothing at all.
        let unreadable = |message: String| match endpoint {
            Endpoint::SsoLogin => AdapterError::protocol(message, ""),
            _ => AdapterError::protocol(message, &reply.text()),
        };
        let body: Value = serde_json::from_slice(&reply.body).map_err(|_| {
            unreadable(format!(
                "HTTP {} with a body that is not JSON",
                reply.status.as_u16()
            ))
        })?;
        let Value::Object(object) = &body else {
            return Err(unreadable("expected a JSON object".into()));
        };
        if let Some(message) = failure_message(object) {
            return Err(classify(endpoint, subject, &message));
        }
        if !reply.status.is_success() || !succeeded(endpoint, object) {
            return Err(unreadable(format!(
                "HTTP {} without the panel's success marker",
                reply.status.as_u16()
            )));
        }
        serde_json::from_value(body)
            .map_err(|err| unreadable(format!("unexpected reply shape ({err})")))
    }
}

/// Whether a reply that is no failure carries the endpoint's positive
/// marker: `success: true`, or for account info (which has no `success`
/// key) the account's `user_id` or `package_name`.
fn succeeded(endpoint: Endpoint, object: &Map<String, Value>) -> bool {
    let present = |key: &str| object.get(key).is_some_and(|value| !value.is_null());
    match endpoint {
        Endpoint::AccountInfo => present("user_id") || present("package_name"),
        _ => match object.get("success") {
            Some(Value::Bool(success)) => *success,
            Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
            Some(Value::Number(number)) => number.as_u64() == Some(1),
            _ => false,
        },
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
    fn success_needs_the_positive_marker() {
        let ok = |endpoint, value| succeeded(endpoint, &object(value));
        assert!(ok(
            Endpoint::AddUser,
            json!({"success": true, "user_id": 5})
        ));
        assert!(ok(Endpoint::AddUser, json!({"success": "true"})));
        assert!(!ok(Endpoint::AddUser, json!({"message": "User created"})));
        assert!(!ok(Endpoint::SuspendUser, json!({})));
        assert!(!ok(Endpoint::SuspendUser, json!({"result": "success"})));
        assert!(ok(
            Endpoint::AccountInfo,
            json!({"user_id": 2, "package_name": "Basic"})
        ));
        assert!(!ok(Endpoint::AccountInfo, json!({"status": "ok"})));
    }

    #[test]
    fn routes_are_named_after_their_endpoint() {
        assert_eq!(Endpoint::AccountInfo.path(), UrlPath::route("admin_api/"));
        assert_eq!(
            Endpoint::AddUser.path(),
            UrlPath::route("admin_api/add_user/")
        );
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

//! SPanel's one endpoint: `POST <base_url>api.php` (the base URL holds the
//! panel's folder, `spanel/` or a white-label `hostpanel/`), form-encoded with
//! `token`, `action` and, for user functions, `accountuser`. Success and
//! failure are read from the body (`result: "error"`); list replies carry no
//! `result` at all.

use reqwest::{Method, header::CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{
    error::{self, Subject},
    php_query::{PhpValue, http_build_query},
};
use crate::{AdapterError, Result, http::HttpClient};

/// Calls one SPanel with its admin API token.
pub(super) struct Client {
    http: HttpClient,
    token: SecretString,
}

impl Client {
    pub(super) fn new(http: HttpClient, token: SecretString) -> Self {
        Client { http, token }
    }

    /// Runs an admin function: `fields` follow `token` and `action`, in order.
    pub(super) async fn admin(
        &self,
        action: &str,
        fields: Vec<(String, PhpValue)>,
        subject: Subject<'_>,
    ) -> Result<Value> {
        self.call(action, None, fields, subject).await
    }

    /// Runs an admin function that lists rows: its `data` array.
    pub(super) async fn rows(
        &self,
        action: &str,
        fields: Vec<(String, PhpValue)>,
        subject: Subject<'_>,
    ) -> Result<Vec<Value>> {
        let body = self.admin(action, fields, subject).await?;
        match data(&body, action)? {
            Value::Array(rows) => Ok(rows.clone()),
            _ => Err(AdapterError::protocol(
                format!("{action} answered without a list"),
                "",
            )),
        }
    }

    /// Runs a user function on `account` (`accountuser`).
    pub(super) async fn user(
        &self,
        action: &str,
        account: &str,
        fields: Vec<(String, PhpValue)>,
        subject: Subject<'_>,
    ) -> Result<Value> {
        self.call(action, Some(account), fields, subject).await
    }

    async fn call(
        &self,
        action: &str,
        account: Option<&str>,
        fields: Vec<(String, PhpValue)>,
        subject: Subject<'_>,
    ) -> Result<Value> {
        let mut form = vec![
            (
                "token".to_owned(),
                PhpValue::from(self.token.expose_secret()),
            ),
            ("action".to_owned(), PhpValue::from(action)),
        ];
        if let Some(account) = account {
            form.push(("accountuser".to_owned(), PhpValue::from(account)));
        }
        form.extend(fields);
        let request = self
            .http
            .request(Method::POST, "api.php")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(http_build_query(&form));
        let reply = self.http.send(request).await?;
        // The panel answers every call with HTTP 200 from its one script.
        if reply.status.as_u16() == 404 {
            return Err(reply.missing_endpoint());
        }
        let body: Value = reply.json()?;
        if !body.is_object() {
            return Err(AdapterError::protocol(
                "expected a JSON object",
                &reply.text(),
            ));
        }
        match body.get("result").and_then(Value::as_str) {
            Some("error") => {
                // A user function names its account in `accountuser`.
                let subject = match account {
                    Some(account) => subject.of_account(account),
                    None => subject,
                };
                Err(error::classify(action, &error::sentences(&body), subject))
            }
            // List actions answer `{"data": [...]}` without a result.
            Some("success") | None if reply.status.is_success() && succeeded(&body) => Ok(body),
            _ => Err(AdapterError::protocol(
                format!(
                    "HTTP {} without the panel's `result: success`",
                    reply.status.as_u16()
                ),
                &reply.text(),
            )),
        }
    }
}

/// Whether a reply that is no error is a success: `result: "success"`, or,
/// for list actions, no `result` but `data`.
fn succeeded(body: &Value) -> bool {
    match body.get("result") {
        Some(result) => result.as_str() == Some("success"),
        None => body.get("data").is_some(),
    }
}

/// `data` of a reply, or a protocol error naming what was expected.
pub(super) fn data<'a>(body: &'a Value, what: &str) -> Result<&'a Value> {
    body.get("data").ok_or_else(|| {
        AdapterError::protocol(format!("{what} answered without data"), &body.to_string())
    })
}

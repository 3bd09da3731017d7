//! The OpenAdmin HTTP surface: `POST /api/` logs in and returns a JWT; every
//! other route takes it as a Bearer token, with JSON bodies. Tokens are shared
//! per server through [`Sessions`]; a 401 drops the token, logs in again and
//! retries the call once.

use std::{sync::Arc, time::Duration};

use reqwest::{
    Method, StatusCode,
    header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::debug;

use super::error::{self, Subject};
use crate::{
    AdapterError, Result,
    http::{HttpClient, Reply, UrlPath},
    kind::Parts,
    session::{Session, Sessions},
};

/// How long to wait after a login rate limit when the panel gives no
/// `Retry-After`: the panel refills its login bucket per minute.
const LOGIN_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Calls one OpenAdmin panel with a cached session.
pub(super) struct Client {
    http: HttpClient,
    username: String,
    password: SecretString,
    sessions: Sessions,
    server_id: String,
}

impl Client {
    /// A client logging in as `username`, keeping its token in the
    /// sessions under the server's id.
    pub(super) fn new(parts: Parts, username: String, password: SecretString) -> Self {
        Client {
            http: parts.http,
            username,
            password,
            sessions: parts.sessions,
            server_id: parts.server_id,
        }
    }

    /// `POST /api/` with the admin's credentials.
    async fn login(&self) -> Result<Session> {
        debug!(server_id = %self.server_id, "logging in to OpenAdmin");
        let body = json!({"username": self.username, "password": self.password.expose_secret()});
        let request = self.http.request(Method::POST, "api/").json(&body);
        let subject = Subject::new(&self.username).with_secret(self.password.expose_secret());
        let reply = match self
            .http
            .send_reading(request, |reply| Some(error::from_reply(reply, subject)))
            .await
        {
            Err(AdapterError::RateLimited { retry_after }) => {
                return Err(AdapterError::RateLimited {
                    retry_after: retry_after.or(Some(LOGIN_RETRY_AFTER)),
                });
            }
            other => other?,
        };
        if reply.status != StatusCode::OK {
            return Err(error::from_reply(&reply, subject));
        }
        let body: Value = reply.json()?;
        match body.get("access_token").and_then(Value::as_str) {
            Some(token) if !token.is_empty() && HeaderValue::from_str(token).is_ok() => {
                Ok(Session::from_jwt(token.to_owned()))
            }
            _ => Err(AdapterError::protocol(
                "login answered without an access_token",
                "",
            )),
        }
    }

    async fn session(&self) -> Result<Arc<Session>> {
        self.sessions.get(&self.server_id, self.login()).await
    }

    /// Runs `send` with a session; on a 401 drops that session, logs in again
    /// and runs it once more. A 401 on a fresh token means the panel refuses
    /// panelgate's user.
    async fn with_session<'a, F, Fut>(&'a self, send: F) -> Result<Reply>
    where
        F: Fn(Arc<Session>) -> Fut,
        Fut: std::future::Future<Output = Result<Reply>> + 'a,
    {
        let session = self.session().await?;
        let reply = send(session.clone()).await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        debug!(server_id = %self.server_id, "token refused: logging in again");
        self.sessions.discard(&self.server_id, &session).await;
        let reply = send(self.session().await?).await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Err(AdapterError::CredentialsRejected {
                upstream: Some("the panel refused a token it had just issued".into()),
            });
        }
        Ok(reply)
    }

    /// Sends `method path` with an optional JSON body (every request says
    /// `Content-Type: application/json`; the panel's DELETE insists on it).
    /// A 5xx is read for a refusal about `subject`.
    pub(super) async fn send(
        &self,
        method: Method,
        path: UrlPath,
        body: Option<&Value>,
        subject: Subject<'_>,
    ) -> Result<Reply> {
        self.with_session(|session| {
            let mut request = self
                .http
                .request(method.clone(), path.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(AUTHORIZATION, bearer(&session));
            if let Some(body) = body {
                request = request.json(body);
            }
            self.http.send_reading(request, move |reply| {
                Some(error::from_reply(reply, subject))
            })
        })
        .await
    }

    /// `CONNECT path` (Python-era autologin), written by hand: HTTP stacks
    /// send CONNECT without its path.
    pub(super) async fn connect(&self, path: &UrlPath) -> Result<Reply> {
        self.with_session(|session| async move {
            let authorization = format!("Bearer {}", session.token());
            self.http
                .send_raw(
                    "CONNECT",
                    path,
                    &[
                        ("Authorization", &authorization),
                        ("Content-Type", "application/json"),
                    ],
                )
                .await
        })
        .await
    }

    /// A read: 200 with a `T`, anything else is an error about `subject`.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: impl Into<UrlPath>,
        subject: Subject<'_>,
    ) -> Result<T> {
        let reply = self.send(Method::GET, path.into(), None, subject).await?;
        if !reply.status.is_success() {
            return Err(error::from_reply(&reply, subject));
        }
        reply.json()
    }

    /// A mutation, answered with the panel's success marker (see
    /// [`error::mutated`]).
    pub(super) async fn mutate(
        &self,
        method: Method,
        path: impl Into<UrlPath>,
        body: Option<&Value>,
        subject: Subject<'_>,
    ) -> Result<Value> {
        let reply = self.send(method, path.into(), body, subject).await?;
        error::mutated(&reply, subject)
    }

    /// A domain command: HTTP 200 with a `returncode` to check.
    pub(super) async fn command(
        &self,
        path: UrlPath,
        body: Option<&Value>,
        subject: Subject<'_>,
    ) -> Result<()> {
        let reply = self.send(Method::POST, path, body, subject).await?;
        if !reply.status.is_success() {
            return Err(error::from_reply(&reply, subject));
        }
        error::from_command(&reply.json()?, subject)
    }
}

fn bearer(session: &Session) -> HeaderValue {
    // `login` only keeps tokens that are valid header values.
    let mut value = HeaderValue::from_str(&format!("Bearer {}", session.token()))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer invalid"));
    value.set_sensitive(true);
    value
}

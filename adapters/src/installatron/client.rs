//! Installatron Server's REST API: `X-API-KEY` header, JSON bodies, and the
//! `{result, status, errcode, errfield, message, data}` envelope on every reply
//! with the HTTP status mirrored. Success is decided by `result` (or, for a
//! dry run, status 200 with errcode `complete_dryrun`), never by `message`.

use reqwest::{
    Method,
    header::{ACCEPT, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::error::classify;
use crate::{
    AdapterError, Result,
    http::{HttpClient, Reply, UrlPath},
};

/// What a call is about, to name it in errors, and where the panel's
/// `errfield`s sit in the canonical request (e.g. `panel_options.installatron.`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Subject<'a> {
    pub key: &'a str,
    pub field_prefix: &'a str,
    /// Parts of the panel's input that are one field of the canonical
    /// request, whatever the prefix: (errfield, canonical path), e.g. the
    /// website AddDomain appends, `websites[2]`, is
    /// `panel_options.installatron.website`.
    pub renames: &'a [(String, String)],
}

impl<'a> Subject<'a> {
    pub fn new(key: &'a str) -> Self {
        Subject {
            key,
            field_prefix: "",
            renames: &[],
        }
    }

    pub fn with_prefix(self, field_prefix: &'a str) -> Self {
        Subject {
            field_prefix,
            ..self
        }
    }

    pub fn with_renames(self, renames: &'a [(String, String)]) -> Self {
        Subject { renames, ..self }
    }
}

/// The reply envelope.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Envelope {
    pub result: bool,
    pub status: Option<u16>,
    pub errcode: Option<String>,
    pub errfield: Option<String>,
    pub message: Option<String>,
    pub data: Value,
    /// Lists: how many items there are in all.
    pub total_count: Option<Value>,
}

impl Envelope {
    /// An envelope as tests write it.
    #[cfg(test)]
    pub(super) fn parsed(value: Value) -> Self {
        serde_json::from_value(value).expect("an envelope")
    }

    pub(super) fn succeeded(&self) -> bool {
        self.result
            || (self.status.unwrap_or(200) == 200
                && self.errcode.as_deref() == Some("complete_dryrun"))
    }
}

/// Calls one Installatron Server, optionally as dry runs.
#[derive(Clone)]
pub(super) struct Client {
    http: HttpClient,
    key: HeaderValue,
    /// Mutations ask `dryrun=all`: the panel checks inputs and connections and changes nothing.
    dry_run: bool,
}

impl Client {
    pub(super) fn new(http: HttpClient, key: &SecretString) -> Result<Self> {
        let mut key = HeaderValue::from_str(key.expose_secret()).map_err(|_| {
            AdapterError::Misconfigured(
                "the API key has characters an HTTP header cannot carry".into(),
            )
        })?;
        key.set_sensitive(true);
        Ok(Client {
            http,
            key,
            dry_run: false,
        })
    }

    /// The same client, asking dry runs.
    pub(super) fn dry_run(&self) -> Self {
        Client {
            dry_run: true,
            ..self.clone()
        }
    }

    /// A read: `GET path?query`.
    pub(super) async fn get(
        &self,
        path: impl Into<UrlPath>,
        query: &[(&str, String)],
        subject: Subject<'_>,
    ) -> Result<Envelope> {
        self.call(Method::GET, path, query, None, subject).await
    }

    /// A change: POST with a JSON body (with `dryrun: "all"` in dry-run mode).
    pub(super) async fn post(
        &self,
        path: impl Into<UrlPath>,
        mut body: Value,
        subject: Subject<'_>,
    ) -> Result<Envelope> {
        if self.dry_run
            && let Value::Object(fields) = &mut body
        {
            fields.insert("dryrun".into(), Value::from("all"));
        }
        self.call(Method::POST, path, &[], Some(&body), subject)
            .await
    }

    /// A deletion (with `?dryrun=all` in dry-run mode).
    pub(super) async fn delete(
        &self,
        path: impl Into<UrlPath>,
        subject: Subject<'_>,
    ) -> Result<Envelope> {
        let query: Vec<(&str, String)> = if self.dry_run {
            vec![("dryrun", "all".to_owned())]
        } else {
            Vec::new()
        };
        self.call(Method::DELETE, path, &query, None, subject).await
    }

    /// Whether changes are dry runs.
    pub(super) fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    async fn call(
        &self,
        method: Method,
        path: impl Into<UrlPath>,
        query: &[(&str, String)],
        body: Option<&Value>,
        subject: Subject<'_>,
    ) -> Result<Envelope> {
        let mut request = self
            .http
            .request(method, path)
            .header("X-API-KEY", self.key.clone())
            .header(ACCEPT, "application/json");
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        // The panel mirrors its errcodes' statuses: the documented `failed_*`
        // ones come with a 500.
        let reply = self
            .http
            .send_reading(request, |reply| {
                envelope(reply)
                    .ok()
                    .filter(|envelope| envelope.errcode.is_some())
                    .map(|envelope| classify(&envelope, subject))
            })
            .await?;
        let envelope = envelope(&reply)?;
        if envelope.succeeded() && reply.status.is_success() {
            return Ok(envelope);
        }
        if envelope.errcode.is_none() && reply.status.as_u16() == 404 {
            return Err(reply.missing_endpoint());
        }
        if envelope.succeeded() || envelope.errcode.is_none() {
            return Err(AdapterError::protocol(
                format!(
                    "HTTP {} without the panel's result or an errcode",
                    reply.status.as_u16()
                ),
                &reply.text(),
            ));
        }
        Err(classify(&envelope, subject))
    }
}

/// A reply's envelope; any other body is unreadable.
fn envelope(reply: &Reply) -> Result<Envelope> {
    let envelope: Envelope = reply.json()?;
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn success_is_result_or_a_clean_dry_run() {
        assert!(
            Envelope::parsed(json!({"result": true, "status": 200, "errcode": null})).succeeded()
        );
        assert!(
            Envelope::parsed(json!({"result": false, "status": 200, "errcode": "complete_dryrun"}))
                .succeeded()
        );
        assert!(!Envelope::parsed(json!({"result": false, "status": 400, "errcode": "invalid_argument_email", "message": "The task is complete.\n"})).succeeded());
    }
}

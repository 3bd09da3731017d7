//! Installatron Server's REST API: `X-API-KEY` header, JSON bodies, and the
//! `{result, status, errcode, errfield, message, data}` envelope on every reply
//! with the HTTP status mirrored. Success is decided by `result` (or, for a
//! dry run, status 200 with errcode `complete_dryrun`), never by `message`.

use reqwest::{
    Method,
    header::{ACCEPT, HeaderValue},
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use crate::{
    AdapterError, Entity,
    http::{HttpClient, Reply, UrlPath},
    kind::PanelCredentials,
};

/// What a call is about, to name it in errors, and where the panel's
/// `errfield`s sit in the canonical request (e.g. `panel_options.installatron.`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Subject<'a> {
    pub entity: Entity,
    pub key: &'a str,
    pub field_prefix: &'a str,
    /// Parts of the panel's input that are one field of the canonical
    /// request, whatever the prefix: (errfield, canonical path), e.g. the
    /// website AddDomain appends, `websites[2]`, is
    /// `panel_options.installatron.website`.
    pub renames: &'a [(String, String)],
}

impl<'a> Subject<'a> {
    pub fn new(entity: Entity, key: &'a str) -> Self {
        Subject {
            entity,
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
#[derive(Debug, Deserialize)]
pub(super) struct Envelope {
    #[serde(default)]
    pub result: bool,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub errcode: Option<String>,
    #[serde(default)]
    pub errfield: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub data: Value,
    /// Lists: how many items there are in all.
    #[serde(default)]
    pub total_count: Option<Value>,
}

impl Envelope {
    fn succeeded(&self) -> bool {
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
    pub(super) fn new(
        http: HttpClient,
        credentials: PanelCredentials,
    ) -> Result<Self, AdapterError> {
        let PanelCredentials::ApiToken(key) = credentials else {
            return Err(AdapterError::Misconfigured(
                "Installatron needs its API key (credentials.api_token)".into(),
            ));
        };
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
    ) -> Result<Envelope, AdapterError> {
        self.call(Method::GET, path, query, None, subject).await
    }

    /// A change: POST with a JSON body (with `dryrun: "all"` in dry-run mode).
    pub(super) async fn post(
        &self,
        path: impl Into<UrlPath>,
        mut body: Value,
        subject: Subject<'_>,
    ) -> Result<Envelope, AdapterError> {
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
    ) -> Result<Envelope, AdapterError> {
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
    ) -> Result<Envelope, AdapterError> {
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
fn envelope(reply: &Reply) -> Result<Envelope, AdapterError> {
    let envelope: Envelope = reply.json()?;
    Ok(envelope)
}

/// A failed envelope → [`AdapterError`], by its errcode.
fn classify(envelope: &Envelope, subject: Subject<'_>) -> AdapterError {
    let code = envelope.errcode.clone().unwrap_or_default();
    let said = envelope
        .message
        .as_deref()
        .map(str::trim)
        .filter(|message| !message.is_empty())
        .map_or_else(|| code.clone(), str::to_owned);
    let upstream = Some(format!("{code}: {said}"));
    let field = envelope
        .errfield
        .as_deref()
        .filter(|field| !field.is_empty());
    match code.as_str() {
        "invalid_api_key" => AdapterError::CredentialsRejected { upstream },
        // The API answers, but knows no such path: the base URL is wrong.
        "command_not_found" => AdapterError::Misconfigured(format!(
            "the panel has no such command ({code}): check the server's base_url"
        )),
        "user_not_found" => AdapterError::NotFound {
            entity: Entity::Account,
            key: subject.key.to_owned(),
            upstream,
        },
        _ if code.ends_with("_not_found") => AdapterError::NotFound {
            entity: subject.entity,
            key: subject.key.to_owned(),
            upstream,
        },
        _ if code.starts_with("empty_argument_") || code.starts_with("invalid_argument_") => {
            let field = field.map_or_else(
                || code.splitn(3, '_').nth(2).unwrap_or("request").to_owned(),
                |field| field_path(field, subject),
            );
            AdapterError::refused_field(field, format!("{code}: {said}"))
        }
        _ if code.starts_with("failed_") => match field {
            Some(field) => {
                AdapterError::refused_field(field_path(field, subject), format!("{code}: {said}"))
            }
            None => AdapterError::OperationFailed {
                upstream: format!("{code}: {said}"),
            },
        },
        _ => AdapterError::OperationFailed {
            upstream: format!("{code}: {said}"),
        },
    }
}

/// The panel's `errfield` as a canonical field path: the subject's renames
/// first (`websites[2][uid]` → `panel_options.installatron.website.uid` when
/// `websites[2]` is renamed so), else as [`canonical_field`] reads it.
fn field_path(errfield: &str, subject: Subject<'_>) -> String {
    for (panel, ours) in subject.renames {
        if errfield == panel {
            return ours.clone();
        }
        if let Some(rest) = errfield
            .strip_prefix(panel.as_str())
            .filter(|rest| rest.starts_with('['))
        {
            return canonical_field(rest, ours);
        }
    }
    canonical_field(errfield, subject.field_prefix)
}

/// The panel's `errfield` as a canonical field path: `id` is the username,
/// `websites[1][databases][0][host]` becomes `<prefix>websites[1].databases[0].host`.
fn canonical_field(errfield: &str, prefix: &str) -> String {
    match errfield {
        "id" | "user" => return "username".to_owned(),
        "email" => return "email".to_owned(),
        _ => {}
    }
    let mut out = prefix.to_owned();
    for (index, part) in errfield.split('[').enumerate() {
        let part = part.trim_end_matches(']');
        match (index, part.parse::<usize>()) {
            (0, _) => out.push_str(part),
            (_, Ok(number)) => out.push_str(&format!("[{number}]")),
            (_, Err(_)) => {
                out.push('.');
                out.push_str(part);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn envelope(value: Value) -> Envelope {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn success_is_result_or_a_clean_dry_run() {
        assert!(envelope(json!({"result": true, "status": 200, "errcode": null})).succeeded());
        assert!(
            envelope(json!({"result": false, "status": 200, "errcode": "complete_dryrun"}))
                .succeeded()
        );
        assert!(!envelope(json!({"result": false, "status": 400, "errcode": "invalid_argument_email", "message": "The task is complete.\n"})).succeeded());
    }

    #[test]
    fn errcodes_map_to_canonical_errors() {
        let account =
            Subject::new(Entity::Account, "bob").with_prefix("panel_options.installatron.");
        let error = classify(
            &envelope(
                json!({"result": false, "status": 403, "errcode": "invalid_api_key", "message": "bad key"}),
            ),
            account,
        );
        assert!(matches!(error, AdapterError::CredentialsRejected { .. }));
        let error = classify(
            &envelope(json!({"result": false, "status": 404, "errcode": "user_not_found"})),
            account,
        );
        assert!(matches!(
            error,
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }
        ));
        let error = classify(
            &envelope(
                json!({"result": false, "status": 400, "errcode": "empty_argument_uid", "errfield": "websites[0][uid]", "message": "uid is required"}),
            ),
            account,
        );
        assert!(
            matches!(&error, AdapterError::InvalidArgument { field, .. } if field == "panel_options.installatron.websites[0].uid"),
            "{error:?}"
        );
        assert_eq!(
            error.upstream_message(),
            Some("empty_argument_uid: uid is required")
        );
        let error = classify(
            &envelope(
                json!({"result": false, "status": 400, "errcode": "invalid_argument_email", "errfield": "email"}),
            ),
            account,
        );
        assert!(matches!(&error, AdapterError::InvalidArgument { field, .. } if field == "email"));
        let error = classify(
            &envelope(json!({"result": false, "status": 500, "errcode": "failed_website_vhost"})),
            account,
        );
        assert!(matches!(error, AdapterError::OperationFailed { .. }));
    }

    #[test]
    fn renamed_errfields_name_the_requests_own_fields() {
        let renames = [
            (
                "websites[2]".to_owned(),
                "panel_options.installatron.website".to_owned(),
            ),
            (
                "websites[0][databases][1][host]".to_owned(),
                "panel_options.installatron.host".to_owned(),
            ),
        ];
        let subject = Subject::new(Entity::Domain, "d.example").with_renames(&renames);
        for (errfield, field) in [
            ("websites[2][uid]", "panel_options.installatron.website.uid"),
            (
                "websites[2][databases][0][host]",
                "panel_options.installatron.website.databases[0].host",
            ),
            ("websites[2]", "panel_options.installatron.website"),
            ("websites[20][uid]", "websites[20].uid"),
            (
                "websites[0][databases][1][host]",
                "panel_options.installatron.host",
            ),
            ("websites[0][path]", "websites[0].path"),
        ] {
            assert_eq!(field_path(errfield, subject), field, "{errfield}");
        }
    }

    #[test]
    fn errfields_become_canonical_paths() {
        assert_eq!(canonical_field("id", "x."), "username");
        assert_eq!(
            canonical_field("websites[1][databases][0][host]", "p."),
            "p.websites[1].databases[0].host"
        );
        assert_eq!(canonical_field("language", ""), "language");
    }
}

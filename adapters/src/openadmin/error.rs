//! OpenAdmin replies that are not successes → [`AdapterError`]. The panel
//! answers with HTTP statuses (400 validation, 403 role, 404 unknown or API
//! off, 500 CLI failure with `{"success": false, "error": ...}`), and its domain
//! commands with HTTP 200 and a non-zero `returncode`; messages are matched by
//! meaning, since the Python and Go builds word them differently.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{AdapterError, Entity, http::Reply};

/// What a call is about, to name it in errors; `secret` is a value from the
/// request that must never be repeated back (the panel echoes passwords).
#[derive(Clone, Copy, Debug)]
pub(super) struct Subject<'a> {
    pub entity: Entity,
    pub key: &'a str,
    pub secret: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn new(entity: Entity, key: &'a str) -> Self {
        Subject {
            entity,
            key,
            secret: None,
        }
    }

    pub fn with_secret(self, secret: &'a str) -> Self {
        Subject {
            secret: Some(secret),
            ..self
        }
    }
}

/// The panel's words in a reply body: `error`, `message`, `msg`,
/// `response.message`, or a CLI's `stderr`/`stdout`; secrets masked.
pub(super) fn message(body: &Value, subject: Subject<'_>) -> Option<String> {
    let text = ["error", "message", "msg", "stderr", "stdout"]
        .into_iter()
        .filter_map(|key| body.get(key))
        .chain(
            body.get("response")
                .and_then(|response| response.get("message")),
        )
        .find_map(|value| {
            value
                .as_str()
                .map(str::trim)
                .filter(|text| !text.is_empty())
        })?;
    Some(mask(text, subject.secret))
}

fn mask(text: &str, secret: Option<&str>) -> String {
    match secret.filter(|secret| !secret.is_empty()) {
        Some(secret) => text.replace(secret, "***"),
        None => text.to_owned(),
    }
}

/// Whether a 2xx mutation reply carries the panel's success marker:
/// `success: true` (or, as service commands answer, a message string under
/// `success`), or, without a `success` key and without an `error`, a
/// `message` saying it succeeded (the services list update).
pub(super) fn succeeded(body: &Value) -> bool {
    match body.get("success") {
        Some(Value::Bool(success)) => *success,
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(_) => false,
        None => {
            body.get("error").is_none()
                && body
                    .get("message")
                    .and_then(Value::as_str)
                    .is_some_and(|message| message.to_ascii_lowercase().contains("success"))
        }
    }
}

/// A mutation's reply: its body when it is a 2xx with the success marker
/// (see [`succeeded`]), else the error it says, or a protocol error when it
/// says neither.
pub(super) fn mutated(reply: &Reply, subject: Subject<'_>) -> Result<Value, AdapterError> {
    let parsed: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if reply.status.is_success() && succeeded(&parsed) {
        return Ok(parsed);
    }
    let says_failure =
        parsed.get("success") == Some(&Value::Bool(false)) || parsed.get("error").is_some();
    if !reply.status.is_success() || says_failure {
        return Err(from_reply(reply, subject));
    }
    Err(AdapterError::protocol(
        format!(
            "HTTP {} without the panel's success marker",
            reply.status.as_u16()
        ),
        &reply.text(),
    ))
}

/// A non-success reply (a 4xx, a 5xx offered for a refusal, or a 2xx
/// without the success marker).
pub(super) fn from_reply(reply: &Reply, subject: Subject<'_>) -> AdapterError {
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let said = message(&body, subject);
    let upstream = said.clone();
    let text = said.clone().unwrap_or_default().to_ascii_lowercase();
    match reply.status {
        StatusCode::NOT_FOUND if text.contains("api access is disabled") => {
            AdapterError::FailedPrecondition {
                reason: "PANEL_API_DISABLED",
                message: "the panel's API is switched off (OpenAdmin > Settings > API Access)"
                    .into(),
                upstream,
            }
        }
        StatusCode::UNAUTHORIZED => AdapterError::CredentialsRejected { upstream },
        StatusCode::FORBIDDEN => AdapterError::FailedPrecondition {
            reason: "PANEL_PERMISSION_DENIED",
            message: "the panel's API user may not do this (it needs the administrator role)"
                .into(),
            upstream,
        },
        StatusCode::NOT_FOUND
            if reply.is_missing_endpoint(|text| first_named_entity(text).is_some()) =>
        {
            reply.missing_endpoint()
        }
        StatusCode::NOT_FOUND => AdapterError::NotFound {
            entity: named_entity(&text).unwrap_or(subject.entity),
            key: subject.key.to_owned(),
            upstream,
        },
        StatusCode::BAD_REQUEST => bad_request(&text, said, subject),
        status if status.is_server_error() || status.is_success() => failure(&text, said, subject),
        status => AdapterError::protocol(
            format!("unexpected HTTP {}", status.as_u16()),
            &reply.text(),
        ),
    }
}

/// A domain command's reply: `returncode` 0 is success, anything else is the
/// command's failure, even with HTTP 200.
pub(super) fn from_command(body: &Value, subject: Subject<'_>) -> Result<(), AdapterError> {
    match body.get("returncode").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(_) => {
            let said = message(body, subject);
            let text = said.clone().unwrap_or_default().to_ascii_lowercase();
            if text.contains("invalid") {
                return Err(AdapterError::refused_field(
                    "domain",
                    said.unwrap_or_else(|| "the panel refused it".into()),
                ));
            }
            Err(failure(&text, said, subject))
        }
        None => Err(AdapterError::protocol(
            "domain command reply without a returncode",
            &body.to_string(),
        )),
    }
}

/// A failure the panel reports in words (500, `success: false`, returncode).
fn failure(text: &str, said: Option<String>, subject: Subject<'_>) -> AdapterError {
    let entity = named_entity(text).unwrap_or(subject.entity);
    if text.contains("already suspended") || text.contains("unsuspend the user before") {
        return AdapterError::FailedPrecondition {
            reason: "ACCOUNT_SUSPENDED",
            message: format!("account `{}` is suspended", subject.key),
            upstream: said,
        };
    }
    if text.contains("is not suspended") {
        return AdapterError::FailedPrecondition {
            reason: "ACCOUNT_NOT_SUSPENDED",
            message: format!("account `{}` is not suspended", subject.key),
            upstream: said,
        };
    }
    if text.contains("already exists") || text.contains("already in use") || text.contains("taken")
    {
        return AdapterError::AlreadyExists {
            entity,
            key: subject.key.to_owned(),
            upstream: said,
        };
    }
    if text.contains("not found") || text.contains("does not exist") || text.contains("no such") {
        return AdapterError::NotFound {
            entity,
            key: subject.key.to_owned(),
            upstream: said,
        };
    }
    if text.contains("limit reached") || text.contains("limit exceeded") {
        return AdapterError::LimitReached {
            upstream: said.unwrap_or_default(),
        };
    }
    AdapterError::OperationFailed {
        upstream: said.unwrap_or_else(|| "the panel reported a failure without a message".into()),
    }
}

/// 400s: the panel's readable answer. The fields the panel checks itself
/// name the field; "already exists", "not found" and limits read as they do
/// in any reply; anything else is the panel refusing what panelgate sent, in
/// its own words.
fn bad_request(text: &str, said: Option<String>, subject: Subject<'_>) -> AdapterError {
    let words = || said.clone().unwrap_or_default();
    if text.contains("docroot") {
        return AdapterError::refused_field("document_root", words());
    }
    if text.contains("username is not allowed") {
        return AdapterError::refused_field("username", words());
    }
    if said.is_none() {
        return AdapterError::protocol("HTTP 400 without a readable error", "");
    }
    match failure(text, said.clone(), subject) {
        AdapterError::OperationFailed { .. } => AdapterError::OperationFailed {
            upstream: format!("the panel refused panelgate's request: {}", words()),
        },
        read => read,
    }
}

/// The entity a (lowercased) message is about: the first one its last clause
/// names, else the first one named at all. The panel prefixes a command's own
/// `ERROR: ...` with the operation ("Error changing plan for user: ERROR: User
/// bob does not exist."): the command's words say what is missing.
fn named_entity(text: &str) -> Option<Entity> {
    let last_clause = text.rsplit("error:").next().unwrap_or(text);
    first_named_entity(last_clause).or_else(|| first_named_entity(text))
}

fn first_named_entity(text: &str) -> Option<Entity> {
    [
        ("plan", Entity::Package),
        ("domain", Entity::Domain),
        ("service", Entity::Service),
        ("user", Entity::Account),
    ]
    .into_iter()
    .filter_map(|(word, entity)| text.find(word).map(|at| (at, entity)))
    .min_by_key(|(at, _)| *at)
    .map(|(_, entity)| entity)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reply(status: u16, body: Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.to_string().into_bytes(),
            retry_after: None,
            location: None,
        }
    }

    fn user(key: &str) -> Subject<'_> {
        Subject::new(Entity::Account, key)
    }

    #[test]
    fn statuses_and_messages_map_to_canonical_errors() {
        let disabled =
            json!({"error": "API access is disabled! To enable api access OpenAdmin > Settings"});
        assert!(matches!(
            from_reply(&reply(404, disabled), user("bob")),
            AdapterError::FailedPrecondition {
                reason: "PANEL_API_DISABLED",
                ..
            }
        ));
        assert!(matches!(
            from_reply(&reply(404, json!({"error": "User not found"})), user("bob")),
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }
        ));
        assert!(matches!(
            from_reply(&reply(404, json!({"error": "Plan not found"})), user("bob")),
            AdapterError::NotFound {
                entity: Entity::Package,
                ..
            }
        ));
        assert!(matches!(
            from_reply(
                &reply(
                    403,
                    json!({"error": "Forbidden: administrator role required"})
                ),
                user("bob")
            ),
            AdapterError::FailedPrecondition {
                reason: "PANEL_PERMISSION_DENIED",
                ..
            }
        ));
        assert!(matches!(
            from_reply(&reply(400, json!({"error": "docroot must start with /var/www/html/"})), user("bob")),
            AdapterError::InvalidArgument { field, .. } if field == "document_root"
        ));
        assert!(matches!(
            from_reply(
                &reply(400, json!({"error": "Missing required fields"})),
                user("bob")
            ),
            AdapterError::OperationFailed { .. }
        ));
        for duplicate in [
            "User bob already exists",
            "A username with the same name already exists",
            "ERROR: Username bob is already taken.",
        ] {
            for status in [400, 500] {
                assert!(
                    matches!(
                        from_reply(&reply(status, json!({"error": duplicate})), user("bob")),
                        AdapterError::AlreadyExists {
                            entity: Entity::Account,
                            ..
                        }
                    ),
                    "{status} {duplicate}"
                );
            }
        }
        assert!(matches!(
            from_reply(
                &reply(400, json!({"error": "Plan gold not found"})),
                user("bob")
            ),
            AdapterError::NotFound {
                entity: Entity::Package,
                ..
            }
        ));
        for page in [json!("404 page not found"), json!({"error": "Not found"})] {
            assert!(matches!(
                from_reply(&reply(404, page), user("bob")),
                AdapterError::Misconfigured(_)
            ));
        }
        assert!(matches!(
            from_reply(
                &reply(
                    500,
                    json!({"success": false, "error": "Error: user bob already exists"})
                ),
                user("bob")
            ),
            AdapterError::AlreadyExists {
                entity: Entity::Account,
                ..
            }
        ));
        assert!(matches!(
            from_reply(
                &reply(
                    500,
                    json!({"success": false, "error": "Error changing plan for user: ERROR: User bob does not exist."})
                ),
                user("bob")
            ),
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }
        ));
        assert!(matches!(
            from_reply(
                &reply(
                    500,
                    json!({"success": false, "error": "Error changing plan for user: ERROR: Plan gold does not exist."})
                ),
                user("bob")
            ),
            AdapterError::NotFound {
                entity: Entity::Package,
                ..
            }
        ));
        assert!(matches!(
            from_reply(
                &reply(
                    500,
                    json!({"success": false, "error": "Error deleting user: locked"})
                ),
                user("bob")
            ),
            AdapterError::OperationFailed { .. }
        ));
    }

    #[test]
    fn limits_are_resource_exhausted() {
        let domain = Subject::new(Entity::Domain, "shop.example");
        assert!(matches!(
            from_command(
                &json!({"stderr": "Domain limit reached for user bob (2 of 2)", "returncode": 1}),
                domain
            ),
            Err(AdapterError::LimitReached { .. })
        ));
    }

    #[test]
    fn echoed_secrets_are_masked() {
        let body = json!({"success": false, "error": "Error adding user bob password: hunter22"});
        let error = from_reply(&reply(500, body), user("bob").with_secret("hunter22"));
        let upstream = error.upstream_message().unwrap();
        assert!(
            !upstream.contains("hunter22") && upstream.contains("***"),
            "{upstream}"
        );
    }

    #[test]
    fn domain_commands_are_judged_by_returncode() {
        let domain = Subject::new(Entity::Domain, "shop.example");
        assert!(
            from_command(
                &json!({"stdout": "ok", "stderr": "", "returncode": 0}),
                domain
            )
            .is_ok()
        );
        assert!(matches!(
            from_command(
                &json!({"stdout": "", "stderr": "Domain shop.example already exists", "returncode": 1}),
                domain
            ),
            Err(AdapterError::AlreadyExists {
                entity: Entity::Domain,
                ..
            })
        ));
        assert!(matches!(
            from_command(
                &json!({"stdout": "", "stderr": "Domain shop.example not found", "returncode": 1}),
                domain
            ),
            Err(AdapterError::NotFound { .. })
        ));
        assert!(matches!(
            from_command(
                &json!({"stdout": "", "stderr": "disk full", "returncode": 2}),
                domain
            ),
            Err(AdapterError::OperationFailed { .. })
        ));
        assert!(matches!(
            from_command(&json!({"stdout": "ok"}), domain),
            Err(AdapterError::Protocol { .. })
        ));
    }
}

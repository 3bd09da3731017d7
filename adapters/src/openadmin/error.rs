//! OpenAdmin replies that are not successes → [`AdapterError`], by the
//! table of the panel's documented errors ([`ERRORS`]). The panel answers
//! with HTTP statuses (400 validation, 401 token, 403 role, 404 unknown or API
//! off, 500 a CLI failure with `{"success": false, "error": ...}`), and its
//! domain commands with HTTP 200 and a non-zero `returncode`; the Python and
//! Go builds word their messages differently, so rows match by meaning, on
//! the message's last `ERROR:` clause (what the CLI itself said).

use panelgate_proto::Capability;
use panelgate_proto::v1::ErrorReason;
use serde_json::Value;

use crate::{
    AdapterError, Entity, Result,
    documented::{self, Context, Documented, Failure, Field, Meaning, When},
    http::Reply,
};

/// A row of [`ERRORS`].
const fn row(
    when: When,
    means: Meaning,
    example: (u16, &'static str),
    during: Capability,
) -> Documented {
    Documented {
        on: &[],
        when,
        means,
        example,
        during,
    }
}

const SUSPENDED: Meaning =
    Meaning::Precondition(ErrorReason::AccountSuspended, "account `{}` is suspended");
const NOT_SUSPENDED: Meaning = Meaning::Precondition(
    ErrorReason::AccountNotSuspended,
    "account `{}` is not suspended",
);

/// Every documented error of the panel (its docs and its Go build's
/// handlers), first match winning, with the reply that documents it.
#[rustfmt::skip]
pub const ERRORS: &[Documented] = &[
    // The API switch, the token, the role.
    row(When::status(404, &["api access is disabled"]), Meaning::Precondition(ErrorReason::PanelApiDisabled, "the panel's API is switched off (OpenAdmin > Settings > API Access)"), (404, r#"{"error": "API access is disabled! To enable api access OpenAdmin > Settings"}"#), Capability::GetAccount),
    row(When::status(401, &[]), Meaning::Credentials, (401, r#"{"error": "Missing or invalid token"}"#), Capability::GetAccount),
    row(When::status(401, &[]), Meaning::Credentials, (401, r#"{"error": "Invalid credentials"}"#), Capability::GetPackage),
    row(When::status(403, &[]), Meaning::Precondition(ErrorReason::PanelPermissionDenied, "the panel's API user may not do this (it needs the administrator role)"), (403, r#"{"error": "Forbidden: administrator role required"}"#), Capability::GetAccount),
    row(When::status(403, &[]), Meaning::Precondition(ErrorReason::PanelPermissionDenied, "the panel's API user may not do this (it needs the administrator role)"), (403, r#"{"error": "Forbidden: you do not own this account"}"#), Capability::SuspendAccount),
    // Things that are not there; a 404 naming nothing is a missing route.
    row(When::status(404, &["user not found"]), Meaning::NotFound(Entity::Account), (404, r#"{"error": "User not found"}"#), Capability::GetAccount),
    row(When::status(404, &["plan not found"]), Meaning::NotFound(Entity::Package), (404, r#"{"error": "Plan not found"}"#), Capability::GetPackage),
    row(When::words(&["plan", "not found"]), Meaning::NotFound(Entity::Package), (400, r#"{"error": "Plan gold not found"}"#), Capability::CreateAccount),
    row(When::status(404, &["service", "not found"]), Meaning::NotFound(Entity::Service), (404, r#"{"error": "Service nginx not found"}"#), Capability::ControlSystemService),
    row(When::status(404, &["domain", "not found"]), Meaning::NotFound(Entity::Domain), (404, r#"{"error": "Domain mia.example not found"}"#), Capability::SuspendDomain),
    row(When::status(404, &[]), Meaning::Misconfigured, (404, "404 page not found "), Capability::GetAccount),
    // Fields the panel checks itself.
    row(When::status(400, &["docroot"]), Meaning::Invalid(Field::Is("document_root")), (400, r#"{"error": "docroot must start with /var/www/html/"}"#), Capability::AddDomain),
    row(When::status(400, &["username is not allowed"]), Meaning::Invalid(Field::Is("username")), (400, r#"{"error": "Username is not allowed"}"#), Capability::CreateAccount),
    // Domain commands: HTTP 200, a returncode, the CLI's words in stderr.
    row(When::status(200, &["domain", "already exists"]), Meaning::AlreadyExists(Entity::Domain), (200, r#"{"stdout": "", "stderr": "ERROR: Domain shop.mia.example already exists", "returncode": 1}"#), Capability::AddDomain),
    row(When::status(200, &["domain", "not found"]), Meaning::NotFound(Entity::Domain), (200, r#"{"stdout": "", "stderr": "ERROR: Domain mia.example not found", "returncode": 1}"#), Capability::SuspendDomain),
    row(When::status(200, &["domain", "does not exist"]), Meaning::NotFound(Entity::Domain), (200, r#"{"stdout": "", "stderr": "ERROR: Domain mia.example does not exist.", "returncode": 1}"#), Capability::DeleteDomain),
    row(When::status(200, &["limit reached"]), Meaning::Limit, (200, r#"{"stdout": "", "stderr": "ERROR: Domain limit reached: 2 of 2", "returncode": 1}"#), Capability::AddDomain),
    row(When::status(200, &["invalid"]), Meaning::Invalid(Field::Is("domain")), (200, r#"{"stdout": "", "stderr": "ERROR: Invalid domain name: shop.mia.example", "returncode": 1}"#), Capability::AddDomain),
    // Account state.
    row(When::words(&["already suspended"]), SUSPENDED, (500, r#"{"success": false, "error": "Error suspending user: ERROR: User mia is already suspended."}"#), Capability::ChangePackage),
    row(When::words(&["unsuspend the user before"]), SUSPENDED, (500, r#"{"success": false, "error": "Error deleting user: ERROR: User mia is suspended. Unsuspend the user before deleting."}"#), Capability::ChangePackage),
    row(When::words(&["is not suspended"]), NOT_SUSPENDED, (500, r#"{"success": false, "error": "Error unsuspending user: ERROR: User mia is not suspended."}"#), Capability::ChangePackage),
    // What the CLI says of plans and users.
    row(When::words(&["plan", "does not exist"]), Meaning::NotFound(Entity::Package), (500, r#"{"success": false, "error": "Error changing plan for user: ERROR: Plan gold does not exist."}"#), Capability::ChangePackage),
    row(When::words(&["plan", "already exists"]), Meaning::AlreadyExists(Entity::Package), (500, r#"{"success": false, "error": "ERROR: Plan name 'pkg-mia' already exists."}"#), Capability::CreatePackage),
    row(When::words(&["user", "does not exist"]), Meaning::NotFound(Entity::Account), (500, r#"{"success": false, "error": "Error changing plan for user: ERROR: User mia does not exist."}"#), Capability::ChangePackage),
    row(When::words(&["already taken"]), Meaning::AlreadyExists(Entity::Account), (500, r#"{"success": false, "error": "ERROR: Username mia is already taken."}"#), Capability::CreateAccount),
    row(When::words(&["already exists"]), Meaning::AlreadyExists(Entity::Account), (400, r#"{"error": "User mia already exists"}"#), Capability::CreateAccount),
    row(When::words(&["already exists"]), Meaning::AlreadyExists(Entity::Account), (500, r#"{"success": false, "error": "A username with the same name already exists"}"#), Capability::CreateAccount),
    // Requests the panel reads differently from panelgate, which checks first.
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Missing required fields"}"#), Capability::CreateAccount),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Invalid JSON format"}"#), Capability::CreateAccount),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Something went wrong.."}"#), Capability::SuspendAccount),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Invalid action, only suspend and unsuspend are allowed."}"#), Capability::UnsuspendAccount),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Missing username or plan name."}"#), Capability::ChangePackage),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "username and domain are required"}"#), Capability::AddDomain),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Invalid action. Use suspend, unsuspend, or delete"}"#), Capability::SuspendDomain),
    row(When::status(400, &[]), Meaning::Refused, (400, r#"{"error": "Invalid value for disk_limit"}"#), Capability::CreatePackage),
];

/// What a call is about, to name it in errors; `secret` is a value from the
/// request that must never be repeated back (the panel echoes passwords).
#[derive(Clone, Copy, Debug)]
pub(super) struct Subject<'a> {
    pub key: &'a str,
    pub secret: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn new(key: &'a str) -> Self {
        Subject { key, secret: None }
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
pub(super) fn mutated(reply: &Reply, subject: Subject<'_>) -> Result<Value> {
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
    let status = reply.status.as_u16();
    if !matches!(status, 200..=299 | 400..=599) {
        return AdapterError::protocol(format!("unexpected HTTP {status}"), &reply.text());
    }
    read(status, message(&body, subject), subject)
}

/// A domain command's reply: `returncode` 0 is success, anything else is the
/// command's failure, even with HTTP 200.
pub(super) fn from_command(body: &Value, subject: Subject<'_>) -> Result<()> {
    match body.get("returncode").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(_) => Err(read(200, message(body, subject), subject)),
        None => Err(AdapterError::protocol(
            "domain command reply without a returncode",
            &body.to_string(),
        )),
    }
}

/// A failure with HTTP `status` and the panel's words `said`, by [`ERRORS`];
/// words no row reads are the panel failing in its own words.
fn read(status: u16, said: Option<String>, subject: Subject<'_>) -> AdapterError {
    let text = said.as_deref().unwrap_or_default().to_ascii_lowercase();
    // The CLI's own words follow the handler's: "Error changing plan for
    // user: ERROR: User bob does not exist."
    let last_clause = text.rsplit("error:").next().unwrap_or(&text);
    let failure = Failure {
        on: "",
        status,
        errcode: None,
        text: last_clause,
    };
    let said = said.unwrap_or_else(|| format!("HTTP {status} without a message"));
    match documented::find(ERRORS, &failure) {
        Some(row) => row.means.error(Context {
            key: subject.key,
            field: "",
            said: &said,
        }),
        None => AdapterError::OperationFailed { upstream: said },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_clis_own_words_decide() {
        let error = from_reply(
            &Reply::new(
                500,
                r#"{"success": false, "error": "Error changing plan for user: ERROR: User bob does not exist."}"#,
            ),
            Subject::new("bob"),
        );
        assert!(
            matches!(
                error,
                AdapterError::NotFound {
                    entity: Entity::Account,
                    ..
                }
            ),
            "{error:?}"
        );
        let error = from_reply(
            &Reply::new(
                500,
                r#"{"success": false, "error": "Error deleting user: locked"}"#,
            ),
            Subject::new("bob"),
        );
        assert!(matches!(error, AdapterError::OperationFailed { .. }));
    }

    #[test]
    fn echoed_secrets_are_masked() {
        let body = json!({"success": false, "error": "Error adding user bob password: hunter22"});
        let error = from_reply(
            &Reply::new(500, &body.to_string()),
            Subject::new("bob").with_secret("hunter22"),
        );
        let upstream = error.upstream_message().unwrap();
        assert!(
            !upstream.contains("hunter22") && upstream.contains("***"),
            "{upstream}"
        );
    }

    #[test]
    fn domain_commands_are_judged_by_returncode() {
        let domain = Subject::new("shop.example");
        assert!(
            from_command(
                &json!({"stdout": "ok", "stderr": "", "returncode": 0}),
                domain
            )
            .is_ok()
        );
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

//! [`GatewayError`] and the one place it becomes a `tonic::Status`: a canonical
//! code, a short message naming the server, and `google.rpc.ErrorInfo` (domain
//! "panelgate", an UPPER_SNAKE reason, metadata) plus `BadRequest` for invalid
//! fields and `RetryInfo` for rate limits. Internal causes are logged, not sent.

use std::{collections::HashMap, sync::Arc};

use panelgate_adapters::{AdapterError, kind_name};
use panelgate_inventory::{InventoryError, Record};
use panelgate_proto::{
    ErrorClass,
    v1::{ErrorReason, PanelKind},
};
use secrecy::{ExposeSecret, SecretString};
use tonic::Status;
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `ErrorInfo.domain` of every panelgate error.
pub const ERROR_DOMAIN: &str = "panelgate";

/// Longest text a status carries in its message or any detail: callers'
/// values are quoted shorter still (`validate::excerpt`), and a panel's
/// words are cut here.
const MAX_TEXT: usize = 1024;

/// `text`, cut to [`MAX_TEXT`] characters (marked with "…").
fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The server a failed call was routed to.
#[derive(Clone, Debug)]
pub struct ServerContext {
    /// Server id.
    pub id: String,
    /// Server name.
    pub name: String,
    /// Panel kind.
    pub kind: PanelKind,
}

/// Why a gateway call failed. Clone, so that callers waiting on one cache fill
/// (moka `try_get_with`) all get the error.
#[derive(Clone, Debug, thiserror::Error)]
pub enum GatewayError {
    /// A request field is invalid; checked before any panel call.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// Path of the field, e.g. `server.base_url`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A panel call failed.
    #[error("server `{}` ({}): {error}", server.name, kind_name(server.kind))]
    Panel {
        /// Where the call went (boxed: errors stay small to move).
        server: Box<ServerContext>,
        /// What the adapter said.
        error: AdapterError,
    },
    /// The inventory failed.
    #[error(transparent)]
    Inventory(Arc<InventoryError>),
    /// A server's stored credentials could not be read (e.g. sealed under a
    /// master key that is not configured).
    #[error("server `{}` ({}): {error}", server.name, kind_name(server.kind))]
    Credentials {
        /// The server.
        server: Box<ServerContext>,
        /// Why.
        error: Arc<InventoryError>,
    },
    /// A call about an account left its target out and no server holds it.
    #[error("no server holds account `{username}`: name the server in `target`")]
    AccountNotIndexed {
        /// The account.
        username: String,
    },
    /// A call about an account left its target out and several servers hold it.
    #[error("account `{username}` exists on several servers ({}): name one in `target`", servers.join(", "))]
    AccountAmbiguous {
        /// The account.
        username: String,
        /// Names of the servers holding it.
        servers: Vec<String>,
    },
    /// The server's state refuses this call.
    #[error("server `{server}` is {}: {why}", state.name().trim_start_matches("SERVER_").to_ascii_lowercase())]
    ServerState {
        /// Server name.
        server: String,
        /// `ServerDraining` or `ServerDisabled`.
        state: ErrorReason,
        /// What is refused.
        why: &'static str,
    },
    /// The caller's token is missing or invalid.
    #[error("unauthenticated: {message}")]
    Unauthenticated {
        /// Why.
        message: String,
    },
    /// The caller may not do this.
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// Which refusal, e.g. `ScopeMissing`.
        reason: ErrorReason,
        /// Why.
        message: String,
    },
    /// The `request_id` was used before, for a different request.
    #[error(
        "request_id was already used for a different request: use a new request_id for a new request"
    )]
    RequestIdReused,
    /// A call with this `request_id` is still running.
    #[error("a call with this request_id is still running: retry later with the same request_id")]
    RequestInProgress,
    /// The server holds as many accounts as it may.
    #[error("server `{server}` is full: it holds {max} accounts, its max_accounts")]
    ServerFull {
        /// Server name.
        server: String,
        /// Its cap.
        max: u32,
    },
    /// No server of a placement can take the account.
    #[error("no server of the placement can take the account ({passed_over})")]
    NoServerAvailable {
        /// How many servers were passed over for what, e.g. "2 full, 1 draining".
        passed_over: String,
    },
    /// The server was deleted from the inventory while a call on it ran.
    #[error(
        "server `{server}` was deleted from the inventory while the call ran: {done} on its panel, but is not indexed"
    )]
    ServerRemoved {
        /// Server name.
        server: String,
        /// What the panel did, e.g. "account `bob` was created".
        done: String,
    },
}

impl GatewayError {
    /// An invalid request field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        GatewayError::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<InventoryError> for GatewayError {
    fn from(err: InventoryError) -> Self {
        GatewayError::Inventory(Arc::new(err))
    }
}

impl GatewayError {
    /// Why, as the error table names it.
    pub fn reason(&self) -> ErrorReason {
        match self {
            GatewayError::InvalidArgument { .. } => ErrorReason::InvalidField,
            GatewayError::Panel { error, .. } => error.reason(),
            GatewayError::Inventory(error) | GatewayError::Credentials { error, .. } => {
                inventory_reason(error)
            }
            GatewayError::AccountNotIndexed { .. } => ErrorReason::AccountNotIndexed,
            GatewayError::AccountAmbiguous { .. } => ErrorReason::AccountAmbiguous,
            GatewayError::ServerState { state, .. } => *state,
            GatewayError::ServerFull { .. } => ErrorReason::ServerFull,
            GatewayError::ServerRemoved { .. } => ErrorReason::ServerRemoved,
            GatewayError::NoServerAvailable { .. } => ErrorReason::NoServerAvailable,
            GatewayError::RequestIdReused => ErrorReason::RequestIdReused,
            GatewayError::RequestInProgress => ErrorReason::RequestInProgress,
            GatewayError::Unauthenticated { .. } => ErrorReason::Unauthenticated,
            GatewayError::PermissionDenied { reason, .. } => *reason,
        }
    }
}

/// How an outcome is treated: the error table's class of its reason.
pub fn class_of(error: Option<&GatewayError>) -> ErrorClass {
    error.map_or(ErrorClass::OK, |error| error.reason().class())
}

impl From<GatewayError> for Status {
    fn from(err: GatewayError) -> Status {
        let reason = err.reason();
        let message = match &err {
            // The database's own words stay in the log (see inventory_reason).
            GatewayError::Inventory(inner) | GatewayError::Credentials { error: inner, .. }
                if matches!(
                    **inner,
                    InventoryError::Database(_) | InventoryError::Unreachable(_)
                ) =>
            {
                if inner.is_unavailable() {
                    "inventory unavailable"
                } else {
                    "inventory error"
                }
                .to_owned()
            }
            _ => bounded(err.to_string()),
        };
        let mut metadata = HashMap::new();
        let mut details = ErrorDetails::new();
        match err {
            GatewayError::InvalidArgument { field, reason } => {
                details.add_bad_request_violation(field, bounded(reason));
            }
            GatewayError::Panel { server, error } => {
                describe_server(*server, &mut metadata);
                if let Some(upstream) = error.upstream_message() {
                    metadata.insert("upstream_message".to_owned(), bounded(upstream.to_owned()));
                }
                adapter_details(&error, &mut details, &mut metadata);
            }
            GatewayError::Credentials { server, error } => {
                describe_server(*server, &mut metadata);
                log_database_failure(&error);
            }
            GatewayError::Inventory(error) => {
                if matches!(*error, InventoryError::InvalidPageToken) {
                    details
                        .add_bad_request_violation("page_token", "not a token this server issued");
                }
                log_database_failure(&error);
            }
            GatewayError::AccountAmbiguous { servers, .. } => {
                metadata.insert("servers".to_owned(), servers.join(","));
            }
            GatewayError::RequestInProgress => {
                details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            }
            _ => {}
        }
        details.set_error_info(reason.name(), ERROR_DOMAIN, metadata);
        Status::with_error_details(reason.class().code, message, details)
    }
}

/// `status` with each of `secrets` replaced by `***` in its message and
/// details, and MySQL's `near '…'` quotes of a statement cut (they may hold a
/// truncated secret): panels may quote what they were sent.
pub fn mask_secrets(status: Status, secrets: &[SecretString]) -> Status {
    if secrets.is_empty() {
        return status;
    }
    let hide = |text: &str| {
        let masked = secrets.iter().fold(text.to_owned(), |text, secret| {
            text.replace(secret.expose_secret(), REDACTED)
        });
        cut_statement_quotes(&masked)
    };
    let mut details = status.get_error_details();
    if let Some(info) = details.error_info().cloned() {
        let metadata: HashMap<String, String> = info
            .metadata
            .into_iter()
            .map(|(key, value)| (key, hide(&value)))
            .collect();
        details.set_error_info(info.reason, info.domain, metadata);
    }
    if let Some(bad) = details.bad_request().cloned() {
        let violations: Vec<FieldViolation> = bad
            .field_violations
            .into_iter()
            .map(|violation| FieldViolation::new(violation.field, hide(&violation.description)))
            .collect();
        details.set_bad_request(violations);
    }
    Status::with_error_details(status.code(), hide(status.message()), details)
}

/// What replaces a secret.
const REDACTED: &str = "***";

/// `text` with every `near '…' at line` quote of a SQL statement emptied.
fn cut_statement_quotes(text: &str) -> String {
    const OPEN: &str = "near '";
    const CLOSE: &str = "' at line";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let quoted = &rest[start + OPEN.len()..];
        let Some(end) = quoted.find(CLOSE) else {
            break;
        };
        out.push_str(&rest[..start + OPEN.len()]);
        out.push_str(REDACTED);
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
}

/// Names the server in an error's metadata.
fn describe_server(server: ServerContext, metadata: &mut HashMap<String, String>) {
    metadata.insert("server_id".to_owned(), server.id);
    metadata.insert("server_name".to_owned(), server.name);
    metadata.insert("panel_kind".to_owned(), kind_name(server.kind).to_owned());
}

/// The details only some adapter errors carry.
fn adapter_details(
    error: &AdapterError,
    details: &mut ErrorDetails,
    metadata: &mut HashMap<String, String>,
) {
    match error {
        AdapterError::InvalidArgument { field, reason, .. } => {
            details.add_bad_request_violation(field.clone(), bounded(reason.clone()));
        }
        AdapterError::Unsupported { capability } => {
            // The API names it an operation (`Operation` in the proto).
            metadata.insert("operation".to_owned(), capability.as_str_name().to_owned());
        }
        AdapterError::RateLimited { retry_after } => {
            details.set_retry_info(*retry_after);
        }
        AdapterError::Busy { retry_after, .. } | AdapterError::CircuitOpen { retry_after } => {
            details.set_retry_info(Some(*retry_after));
        }
        AdapterError::Protocol { excerpt, .. } if !excerpt.is_empty() => {
            metadata.insert("body_excerpt".to_owned(), excerpt.clone());
        }
        _ => {}
    }
}

/// The database's own words of an inventory failure go to the log only.
fn log_database_failure(error: &InventoryError) {
    if let InventoryError::Database(cause) = error
        && !error.is_unavailable()
    {
        tracing::error!(error = %cause, "inventory query failed");
    }
}

fn inventory_reason(error: &InventoryError) -> ErrorReason {
    match error {
        InventoryError::NotFound { record, .. } => match record {
            Record::Server => ErrorReason::ServerNotFound,
            Record::Operation => ErrorReason::OperationNotFound,
            Record::SyncRun => ErrorReason::SyncRunNotFound,
            Record::Batch => ErrorReason::BatchNotFound,
        },
        InventoryError::AlreadyExists { record, .. } => match record {
            Record::Server => ErrorReason::ServerAlreadyExists,
            // A run's id is new; a repeated request_id returns the first run.
            Record::Operation | Record::SyncRun | Record::Batch => {
                ErrorReason::OperationAlreadyExists
            }
        },
        InventoryError::InvalidPageToken => ErrorReason::InvalidField,
        InventoryError::NoMasterKey => ErrorReason::MasterKeyMissing,
        InventoryError::UnknownKey { .. } | InventoryError::Crypto { .. } => {
            ErrorReason::CredentialsUnreadable
        }
        InventoryError::Unreachable(_) => ErrorReason::InventoryUnavailable,
        InventoryError::Database(_) if error.is_unavailable() => ErrorReason::InventoryUnavailable,
        InventoryError::Database(_) => ErrorReason::InventoryError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_statement_quotes_are_masked_everywhere() {
        let error = GatewayError::Panel {
            server: Box::new(ServerContext {
                id: "s1".into(),
                name: "web-1".into(),
                kind: PanelKind::AdminApi,
            }),
            error: AdapterError::OperationFailed {
                upstream: "ERROR 1064: near 'Pa55-word-x'' WITH GRANT' at line 1 (Pa55-word-x')"
                    .into(),
            },
        };
        let secret = SecretString::from("Pa55-word-x'".to_owned());
        let masked = mask_secrets(Status::from(error), &[secret]);
        let info = masked.get_details_error_info().expect("error info kept");
        for text in [masked.message(), info.metadata["upstream_message"].as_str()] {
            assert!(!text.contains("Pa55-word"), "{text}");
            assert!(text.contains("near '***' at line 1"), "{text}");
        }
        assert_eq!(info.reason, "UPSTREAM_OPERATION_FAILED");
        assert_eq!(info.metadata["server_name"], "web-1");
        assert_eq!(cut_statement_quotes("plain words"), "plain words");
        assert_eq!(cut_statement_quotes("near 'unclosed"), "near 'unclosed");
    }
}

//! [`GatewayError`] and the one place it becomes a `tonic::Status`: a canonical
//! code, a short message naming the server, and `google.rpc.ErrorInfo` (domain
//! "panelgate", an UPPER_SNAKE reason, metadata) plus `BadRequest` for invalid
//! fields and `RetryInfo` for rate limits. Internal causes are logged, not sent.

use std::{collections::HashMap, sync::Arc};

use panelgate_adapters::{AdapterError, kind_name};
use panelgate_inventory::InventoryError;
use panelgate_proto::v1::PanelKind;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tracing::error;

/// The `ErrorInfo.domain` of every panelgate error.
pub const ERROR_DOMAIN: &str = "panelgate";

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
    #[error("server `{server}` is {state}: {why}")]
    ServerState {
        /// Server name.
        server: String,
        /// "draining" or "disabled".
        state: &'static str,
        /// What is refused.
        why: &'static str,
    },
    /// The server holds as many accounts as it may.
    #[error("server `{server}` is full: it holds {max} accounts, its max_accounts")]
    ServerFull {
        /// Server name.
        server: String,
        /// Its cap.
        max: u32,
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

impl From<GatewayError> for Status {
    fn from(err: GatewayError) -> Status {
        let message = match &err {
            // The database's own words stay in the log (see inventory_code).
            GatewayError::Inventory(inner) if matches!(**inner, InventoryError::Database(_)) => {
                if inner.is_unavailable() {
                    "inventory unavailable"
                } else {
                    "inventory error"
                }
                .to_owned()
            }
            _ => err.to_string(),
        };
        let mut metadata = HashMap::new();
        let mut details = ErrorDetails::new();
        let (code, reason) = match err {
            GatewayError::InvalidArgument { field, reason } => {
                details.add_bad_request_violation(field, reason);
                (Code::InvalidArgument, "INVALID_FIELD".to_owned())
            }
            GatewayError::Panel { server, error } => {
                let server = *server;
                metadata.insert("server_id".to_owned(), server.id);
                metadata.insert("server_name".to_owned(), server.name);
                metadata.insert("panel_kind".to_owned(), kind_name(server.kind).to_owned());
                if let Some(upstream) = error.upstream_message() {
                    metadata.insert("upstream_message".to_owned(), upstream.to_owned());
                }
                adapter_code(&error, &mut details, &mut metadata)
            }
            GatewayError::Inventory(error) => inventory_code(&error, &mut details),
            GatewayError::AccountNotIndexed { .. } => {
                (Code::NotFound, "ACCOUNT_NOT_INDEXED".to_owned())
            }
            GatewayError::AccountAmbiguous { servers, .. } => {
                metadata.insert("servers".to_owned(), servers.join(","));
                (Code::FailedPrecondition, "ACCOUNT_AMBIGUOUS".to_owned())
            }
            GatewayError::ServerState { state, .. } => (
                Code::FailedPrecondition,
                format!("SERVER_{}", state.to_ascii_uppercase()),
            ),
            GatewayError::ServerFull { .. } => (Code::ResourceExhausted, "SERVER_FULL".to_owned()),
        };
        details.set_error_info(reason, ERROR_DOMAIN, metadata);
        Status::with_error_details(code, message, details)
    }
}

fn adapter_code(
    error: &AdapterError,
    details: &mut ErrorDetails,
    metadata: &mut HashMap<String, String>,
) -> (Code, String) {
    let entity_reason = |entity: &panelgate_adapters::Entity, what: &str| {
        format!("{}_{what}", entity.upper_snake())
    };
    match error {
        AdapterError::NotFound { entity, .. } => {
            (Code::NotFound, entity_reason(entity, "NOT_FOUND"))
        }
        AdapterError::AlreadyExists { entity, .. } => {
            (Code::AlreadyExists, entity_reason(entity, "ALREADY_EXISTS"))
        }
        AdapterError::LimitReached { .. } => (Code::ResourceExhausted, "LIMIT_REACHED".into()),
        AdapterError::InvalidArgument { field, reason, .. } => {
            details.add_bad_request_violation(field.clone(), reason.clone());
            (Code::InvalidArgument, "INVALID_FIELD".into())
        }
        AdapterError::CredentialsRejected { .. } => (
            Code::FailedPrecondition,
            "PANEL_CREDENTIALS_REJECTED".into(),
        ),
        AdapterError::FailedPrecondition { reason, .. } => {
            (Code::FailedPrecondition, (*reason).into())
        }
        AdapterError::Unsupported { operation } => {
            metadata.insert("operation".to_owned(), operation.as_str_name().to_owned());
            (Code::Unimplemented, "OPERATION_NOT_SUPPORTED".into())
        }
        AdapterError::Unavailable { .. } => (Code::Unavailable, "UPSTREAM_UNAVAILABLE".into()),
        AdapterError::Timeout(_) => (Code::DeadlineExceeded, "UPSTREAM_TIMEOUT".into()),
        AdapterError::RateLimited { retry_after } => {
            details.set_retry_info(*retry_after);
            (Code::Unavailable, "UPSTREAM_RATE_LIMITED".into())
        }
        AdapterError::Protocol { excerpt, .. } => {
            if !excerpt.is_empty() {
                metadata.insert("body_excerpt".to_owned(), excerpt.clone());
            }
            (Code::Internal, "UPSTREAM_PROTOCOL_ERROR".into())
        }
        AdapterError::OperationFailed { .. } => {
            (Code::Internal, "UPSTREAM_OPERATION_FAILED".into())
        }
        AdapterError::Misconfigured(_) => (Code::FailedPrecondition, "SERVER_MISCONFIGURED".into()),
    }
}

fn inventory_code(error: &InventoryError, details: &mut ErrorDetails) -> (Code, String) {
    match error {
        InventoryError::NotFound { entity, .. } => (
            Code::NotFound,
            format!("{}_NOT_FOUND", entity.to_ascii_uppercase()),
        ),
        InventoryError::AlreadyExists { entity, .. } => (
            Code::AlreadyExists,
            format!("{}_ALREADY_EXISTS", entity.to_ascii_uppercase()),
        ),
        InventoryError::InvalidPageToken => {
            details.add_bad_request_violation("page_token", "not a token this server issued");
            (Code::InvalidArgument, "INVALID_FIELD".into())
        }
        InventoryError::NoMasterKey => (Code::FailedPrecondition, "MASTER_KEY_MISSING".into()),
        InventoryError::UnknownKey { .. } | InventoryError::Crypto { .. } => {
            (Code::FailedPrecondition, "CREDENTIALS_UNREADABLE".into())
        }
        InventoryError::Database(_) if error.is_unavailable() => {
            (Code::Unavailable, "INVENTORY_UNAVAILABLE".into())
        }
        InventoryError::Database(cause) => {
            error!(error = %cause, "inventory query failed");
            (Code::Internal, "INVENTORY_ERROR".into())
        }
    }
}

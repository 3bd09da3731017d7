//! The one error type of every adapter. The gateway turns it into a gRPC status
//! (adding the server's id and panel kind); adapters only say what happened.

use std::{fmt, time::Duration};

use panelgate_proto::Capability;
use panelgate_proto::v1::ErrorReason;

/// What kind of thing an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    /// A hosting account.
    Account,
    /// A hosting package (plan).
    Package,
    /// A domain.
    Domain,
    /// A database.
    Database,
    /// A database user.
    DatabaseUser,
    /// A system service (web server, database server...).
    Service,
}

impl Entity {
    /// The reason of "no such entity".
    pub fn not_found(self) -> ErrorReason {
        match self {
            Entity::Account => ErrorReason::AccountNotFound,
            Entity::Package => ErrorReason::PackageNotFound,
            Entity::Domain => ErrorReason::DomainNotFound,
            Entity::Database => ErrorReason::DatabaseNotFound,
            Entity::DatabaseUser => ErrorReason::DatabaseUserNotFound,
            Entity::Service => ErrorReason::ServiceNotFound,
        }
    }

    /// The reason of "the entity exists already".
    pub fn already_exists(self) -> ErrorReason {
        match self {
            Entity::Account => ErrorReason::AccountAlreadyExists,
            Entity::Package => ErrorReason::PackageAlreadyExists,
            Entity::Domain => ErrorReason::DomainAlreadyExists,
            Entity::Database => ErrorReason::DatabaseAlreadyExists,
            Entity::DatabaseUser => ErrorReason::DatabaseUserAlreadyExists,
            Entity::Service => ErrorReason::ServiceAlreadyExists,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::Account => "account",
            Entity::Package => "package",
            Entity::Domain => "domain",
            Entity::Database => "database",
            Entity::DatabaseUser => "database user",
            Entity::Service => "service",
        })
    }
}

/// Why an adapter call failed. Messages are lowercase, name the entity and never
/// contain a secret; `upstream` carries what the panel itself said, if anything.
#[derive(Clone, Debug, thiserror::Error)]
pub enum AdapterError {
    /// The panel says the thing does not exist.
    #[error("{entity} `{key}` not found")]
    NotFound {
        /// What is missing.
        entity: Entity,
        /// Its name.
        key: String,
        /// The panel's words.
        upstream: Option<String>,
    },
    /// The panel says the thing exists already.
    #[error("{entity} `{key}` already exists")]
    AlreadyExists {
        /// What exists.
        entity: Entity,
        /// Its name.
        key: String,
        /// The panel's words.
        upstream: Option<String>,
    },
    /// A limit of the account's package or of the panel is reached.
    #[error("limit reached: {upstream}")]
    LimitReached {
        /// The panel's words.
        upstream: String,
    },
    /// A request field is invalid, as found by the adapter or said by the panel.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The canonical request field, e.g. `primary_domain`.
        field: String,
        /// What is wrong with it.
        reason: String,
        /// The panel's words, when the panel (not panelgate) refused the field.
        upstream: Option<String>,
    },
    /// The panel rejected panelgate's credentials for the server.
    #[error("the panel rejected panelgate's credentials")]
    CredentialsRejected {
        /// The panel's words.
        upstream: Option<String>,
    },
    /// The panel cannot do this now, for a reason the caller can act on.
    #[error("{message}")]
    FailedPrecondition {
        /// Which, e.g. `PanelApiDisabled`.
        reason: ErrorReason,
        /// What is wrong, in words.
        message: String,
        /// The panel's words.
        upstream: Option<String>,
    },
    /// The panel kind cannot do this operation at all.
    #[error("the panel does not support {}", capability.as_str_name())]
    Unsupported {
        /// The canonical operation.
        capability: Capability,
    },
    /// The panel could not be reached, dropped the connection, or answered 5xx.
    #[error("panel unavailable: {message}")]
    Unavailable {
        /// What happened.
        message: String,
    },
    /// No connection to the panel could be made: nothing was sent.
    #[error("panel unreachable: {message}")]
    Unreachable {
        /// What happened.
        message: String,
    },
    /// The panel did not answer in time.
    #[error("panel did not answer within {0:?}")]
    Timeout(Duration),
    /// The panel asks panelgate to slow down.
    #[error("panel rate limit hit")]
    RateLimited {
        /// When to try again, where the panel says.
        retry_after: Option<Duration>,
    },
    /// Every slot for calls to the server is taken and none freed in time.
    #[error("the server is busy: {max_in_flight} calls to it are in flight already")]
    Busy {
        /// The server's cap.
        max_in_flight: u32,
        /// When to try again.
        retry_after: Duration,
    },
    /// The server failed call after call: its calls fail at once for a while.
    #[error("the panel failed repeatedly: calls to it fail at once for {}s (circuit open)", retry_after.as_secs().max(1))]
    CircuitOpen {
        /// Until the next probe may succeed.
        retry_after: Duration,
    },
    /// The panel's reply cannot be read (HTML page, broken JSON, unexpected shape).
    #[error("unreadable reply from the panel: {message}")]
    Protocol {
        /// What was wrong with the reply.
        message: String,
        /// A bounded excerpt of the reply body.
        excerpt: String,
    },
    /// The panel tried and failed (e.g. it could not write a virtual host).
    #[error("the panel failed: {upstream}")]
    OperationFailed {
        /// The panel's words.
        upstream: String,
    },
    /// The server's configuration in the inventory is unusable (bad URL, bad CA, wrong credential kind).
    #[error("server misconfigured: {0}")]
    Misconfigured(String),
}

impl AdapterError {
    /// A field the adapter rejects before any HTTP call.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        AdapterError::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
            upstream: None,
        }
    }

    /// An unreadable reply: `message` says what was wrong, and the error
    /// quotes a bounded, secret-free excerpt of `body`.
    pub fn protocol(message: impl Into<String>, body: &str) -> Self {
        AdapterError::Protocol {
            message: message.into(),
            excerpt: crate::http::excerpt(body),
        }
    }

    /// Why, as the error table (`panelgate_proto::ErrorClass`) names it.
    pub fn reason(&self) -> ErrorReason {
        match self {
            AdapterError::NotFound { entity, .. } => entity.not_found(),
            AdapterError::AlreadyExists { entity, .. } => entity.already_exists(),
            AdapterError::LimitReached { .. } => ErrorReason::LimitReached,
            AdapterError::InvalidArgument { .. } => ErrorReason::InvalidField,
            AdapterError::CredentialsRejected { .. } => ErrorReason::PanelCredentialsRejected,
            AdapterError::FailedPrecondition { reason, .. } => *reason,
            AdapterError::Unsupported { .. } => ErrorReason::OperationNotSupported,
            AdapterError::Unavailable { .. } | AdapterError::Unreachable { .. } => {
                ErrorReason::UpstreamUnavailable
            }
            AdapterError::Timeout(_) => ErrorReason::UpstreamTimeout,
            AdapterError::RateLimited { .. } => ErrorReason::UpstreamRateLimited,
            AdapterError::Busy { .. } => ErrorReason::ServerBusy,
            AdapterError::CircuitOpen { .. } => ErrorReason::UpstreamCircuitOpen,
            AdapterError::Protocol { .. } => ErrorReason::UpstreamProtocolError,
            AdapterError::OperationFailed { .. } => ErrorReason::UpstreamOperationFailed,
            AdapterError::Misconfigured(_) => ErrorReason::ServerMisconfigured,
        }
    }

    /// Whether the call failed before anything reached the panel (no
    /// connection, the server's slots or circuit): it made no change, so
    /// another server may be tried.
    pub fn before_any_effect(&self) -> bool {
        matches!(
            self,
            AdapterError::Unreachable { .. }
                | AdapterError::Busy { .. }
                | AdapterError::CircuitOpen { .. }
        )
    }

    /// Whether the panel definitely refused the call (nothing was done, and
    /// a retry would be refused again), as opposed to failing or being unreachable.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            AdapterError::NotFound { .. }
                | AdapterError::AlreadyExists { .. }
                | AdapterError::LimitReached { .. }
                | AdapterError::InvalidArgument { .. }
                | AdapterError::CredentialsRejected { .. }
                | AdapterError::FailedPrecondition { .. }
        )
    }

    /// A field the panel refused, in the panel's words.
    pub fn refused_field(field: impl Into<String>, said: impl Into<String>) -> Self {
        let said = said.into();
        AdapterError::InvalidArgument {
            field: field.into(),
            reason: said.clone(),
            upstream: Some(said),
        }
    }

    /// The same error, with `note` added to what the panel said (for a
    /// failure whose earlier steps stay done).
    pub fn with_note(self, note: &str) -> Self {
        let add = |said: String| format!("{said}; {note}");
        match self {
            AdapterError::NotFound {
                entity,
                key,
                upstream,
            } => AdapterError::NotFound {
                entity,
                key,
                upstream: Some(add(upstream.unwrap_or_default())),
            },
            AdapterError::AlreadyExists {
                entity,
                key,
                upstream,
            } => AdapterError::AlreadyExists {
                entity,
                key,
                upstream: Some(add(upstream.unwrap_or_default())),
            },
            AdapterError::LimitReached { upstream } => AdapterError::LimitReached {
                upstream: add(upstream),
            },
            AdapterError::InvalidArgument {
                field,
                reason,
                upstream,
            } => AdapterError::InvalidArgument {
                field,
                reason: add(reason),
                upstream: upstream.map(add),
            },
            AdapterError::OperationFailed { upstream } => AdapterError::OperationFailed {
                upstream: add(upstream),
            },
            other => AdapterError::OperationFailed {
                upstream: add(other.to_string()),
            },
        }
    }

    /// What the panel itself said, if anything.
    pub fn upstream_message(&self) -> Option<&str> {
        match self {
            AdapterError::NotFound { upstream, .. }
            | AdapterError::AlreadyExists { upstream, .. }
            | AdapterError::CredentialsRejected { upstream }
            | AdapterError::InvalidArgument { upstream, .. }
            | AdapterError::FailedPrecondition { upstream, .. } => upstream.as_deref(),
            AdapterError::LimitReached { upstream }
            | AdapterError::OperationFailed { upstream } => Some(upstream),
            _ => None,
        }
    }
}

//! The operation journal and idempotent mutations (AIP-155): what a call claims
//! before it runs, what it stores when it ends, and what the journal shows.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::SecretSlice;

/// A mutating call about to run.
#[derive(Clone, PartialEq, Eq)]
pub struct OperationStart {
    /// Who makes the call; idempotency keys are unique per caller.
    pub caller: String,
    /// The caller's idempotency key; `None` journals the call without idempotency.
    pub request_id: Option<String>,
    /// The RPC, e.g. `AccountService/SuspendAccount`.
    pub method: String,
    /// What the call acts on, e.g. `account/bob`.
    pub resource: String,
    /// The target server, if already known.
    pub server_id: Option<String>,
    /// SHA-256 of the encoded request, computed by the caller. Stored (sealed) only
    /// when `request_id` is set.
    pub digest: Vec<u8>,
    /// When the call starts; also the current time for the lease (kept to the
    /// microsecond).
    pub started_at: DateTime<Utc>,
}

/// Leaves the digest out: it is a hash of a request that may hold passwords.
impl fmt::Debug for OperationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationStart")
            .field("caller", &self.caller)
            .field("request_id", &self.request_id)
            .field("method", &self.method)
            .field("resource", &self.resource)
            .field("server_id", &self.server_id)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// What `start_operation` decided.
#[derive(Debug)]
pub enum Claim {
    /// Run the call, then `finish_operation(id, ..)`. `uncertain`: an earlier attempt
    /// with this key may have reached the panel (it ended retryable, or was abandoned
    /// past the lease), so the caller should check before repeating a create.
    Run {
        /// The operation's id, for `finish_operation`.
        id: String,
        /// An earlier attempt may have had an effect.
        uncertain: bool,
    },
    /// The same request already finished: replay it without running again.
    Replay(StoredOutcome),
    /// The key was already used for a different request (digest or method differs).
    Reused,
    /// The same request is running now (claimed less than `lease` ago).
    InFlight,
}

/// A finished call's stored result. `Debug` shows no reply bytes.
#[derive(Debug)]
pub struct StoredOutcome {
    /// `OK` or a gRPC code name.
    pub outcome: String,
    /// The error message, when the call failed.
    pub error_message: Option<String>,
    /// The encoded reply, opened.
    pub reply: Option<SecretSlice<u8>>,
}

/// How a call ended.
#[derive(Clone, PartialEq, Eq)]
pub struct OperationEnd {
    /// The server the call went to, if any.
    pub server_id: Option<String>,
    /// What the call acted on.
    pub resource: String,
    /// `OK` or a gRPC code name.
    pub outcome: String,
    /// The error message, when the call failed.
    pub error_message: Option<String>,
    /// The encoded reply: sealed at rest when the operation has a request id, not
    /// stored otherwise.
    pub reply: Option<Vec<u8>>,
    /// The outcome is transient or unknown: the same request id may run again.
    pub retryable: bool,
    /// When the call finished (kept to the microsecond).
    pub finished_at: DateTime<Utc>,
}

/// Leaves the reply out: it may hold secrets.
impl fmt::Debug for OperationEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationEnd")
            .field("server_id", &self.server_id)
            .field("resource", &self.resource)
            .field("outcome", &self.outcome)
            .field("error_message", &self.error_message)
            .field("retryable", &self.retryable)
            .field("finished_at", &self.finished_at)
            .finish_non_exhaustive()
    }
}

/// A journal entry (without the idempotency payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    /// Entry id (a UUID).
    pub id: String,
    /// The caller's idempotency key, until it is forgotten.
    pub request_id: Option<String>,
    /// Who made the call.
    pub caller: String,
    /// Full gRPC method.
    pub method: String,
    /// The target server, if any.
    pub server_id: Option<String>,
    /// What the call acted on.
    pub resource: String,
    /// [`OperationRecord::PENDING`] while running, then `OK` or a gRPC code name.
    pub outcome: String,
    /// The error message, when the call failed.
    pub error_message: Option<String>,
    /// The outcome is transient or unknown.
    pub retryable: bool,
    /// How many times the request id was claimed (1 on the first run).
    pub attempts: u32,
    /// When the call first started.
    pub started_at: DateTime<Utc>,
    /// When the request id was last claimed.
    pub claimed_at: DateTime<Utc>,
    /// When the call finished; `None` while pending.
    pub finished_at: Option<DateTime<Utc>>,
}

impl OperationRecord {
    /// The outcome of a call still running.
    pub const PENDING: &str = "PENDING";
}

/// Which journal entries to list; all given conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationFilter {
    /// Only calls by this caller.
    pub caller: Option<String>,
    /// Only calls of this full gRPC method.
    pub method: Option<String>,
    /// Only calls to this server.
    pub server_id: Option<String>,
    /// Only calls to a server of one of these inventory groups; calls without a
    /// server are left out.
    pub server_groups: Option<BTreeSet<String>>,
    /// Only calls on this resource.
    pub resource: Option<String>,
    /// Only calls started at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only calls started before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// What `prune_operations` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    /// Finished entries that lost their idempotency payload (request id, digest,
    /// reply) and stay in the journal.
    pub forgotten: u64,
    /// Entries deleted.
    pub deleted: u64,
}

/// What `reseal` re-sealed under the primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResealReport {
    /// Servers whose credentials were re-sealed.
    pub servers: u64,
    /// Operations whose digest and reply were re-sealed.
    pub operations: u64,
}

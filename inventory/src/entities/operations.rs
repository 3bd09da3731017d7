//! The `operations` table: the journal of mutating calls, and the idempotency store.

use sea_orm::entity::prelude::*;

/// A journal row. `server_id` has no foreign key: the journal outlives servers.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operations")]
pub struct Model {
    /// A UUID, as text.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The caller's idempotency key; unique per caller when present.
    #[sea_orm(unique_key = "caller_request_id")]
    pub request_id: Option<String>,
    /// Who made the call.
    #[sea_orm(unique_key = "caller_request_id")]
    pub caller: String,
    /// The RPC, e.g. `AccountService/SuspendAccount`.
    pub method: String,
    /// The target server, if the call had one.
    #[sea_orm(indexed)]
    pub server_id: Option<String>,
    /// What the call acted on, e.g. `account/bob`.
    pub resource: String,
    /// `PENDING` while running, then `OK` or a gRPC code name.
    pub outcome: String,
    /// The error message, when the call failed.
    pub error_message: Option<String>,
    /// The outcome is transient or unknown: the request id may be claimed again.
    pub retryable: bool,
    /// How many times the request id was claimed (1 on the first run).
    pub attempts: i32,
    /// The server a create sent its panel call to, recorded before the call:
    /// a retry after an unknown outcome goes there.
    pub pinned_server_id: Option<String>,
    /// Sealed SHA-256 of the encoded request, to tell a replay from a reused key.
    pub request_digest: Option<Vec<u8>>,
    /// Sealed encoded reply, for replays.
    pub reply: Option<Vec<u8>>,
    /// Id of the master key that sealed `request_digest` and `reply`.
    pub key_id: Option<String>,
    /// When the call first started.
    #[sea_orm(indexed)]
    pub started_at: DateTimeUtc,
    /// When the request id was last claimed (the start of the running lease).
    pub claimed_at: DateTimeUtc,
    /// When the call finished; `None` while pending.
    pub finished_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}

//! The `operations` table: the journal of mutating calls (and, later, idempotency).

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
    /// Full gRPC method, e.g. `/panelgate.v1.AccountService/SuspendAccount`.
    pub method: String,
    /// The target server, if the call had one.
    #[sea_orm(indexed)]
    pub server_id: Option<String>,
    /// What the call acted on, e.g. `account/bob`.
    pub resource: String,
    /// Digest of the request, to tell a replay from a reused key.
    pub request_digest: Option<String>,
    /// `OK` or a gRPC code name.
    pub outcome: String,
    /// The error message, when the call failed.
    pub error_message: Option<String>,
    /// The encoded response, for replays.
    pub response: Option<Vec<u8>>,
    /// When the call started.
    #[sea_orm(indexed)]
    pub started_at: DateTimeUtc,
    /// When the call finished.
    pub finished_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}

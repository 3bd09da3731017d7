//! The `batch_items` table: one account (or server) a batch acts on, its
//! lease while a replica runs it, and how it ended.

use sea_orm::entity::prelude::*;

/// One item; unique on (`batch_id`, `position`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batch_items")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The batch.
    pub batch_id: String,
    /// Its place in the batch, from 0.
    pub position: i64,
    /// The server (not necessarily in the inventory any more).
    pub server_id: String,
    /// The account; empty for a server check.
    pub username: String,
    /// `pending`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// Times it was started.
    pub attempts: i32,
    /// Times it was put off because its server refused calls for a while.
    pub deferrals: i32,
    /// The replica running it.
    pub lease_owner: Option<String>,
    /// Until when that replica's claim holds.
    pub lease_until: Option<DateTimeUtc>,
    /// Not to be started before this (a retry's backoff).
    pub not_before: Option<DateTimeUtc>,
    /// The gRPC code it ended with (or its last attempt failed with).
    pub code: Option<i32>,
    /// The error reason's name, if any.
    pub reason: String,
    /// The error message, if any.
    pub message: String,
    /// What a successful check found.
    pub detail: String,
    /// When it ended.
    pub ended_at: Option<DateTimeUtc>,
    /// The batch; deleting it drops its items.
    #[sea_orm(belongs_to, from = "batch_id", to = "id", on_delete = "Cascade")]
    pub batch: BelongsTo<super::batches::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

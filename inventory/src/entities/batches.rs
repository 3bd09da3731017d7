//! The `batches` table: one row per bulk operation.

use sea_orm::entity::prelude::*;

/// A batch.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    /// A UUID, as text.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The journal entry of the call that started it: a retry of that call
    /// finds this batch instead of starting another.
    #[sea_orm(unique)]
    pub journal_id: Option<String>,
    /// `suspend_accounts`, `unsuspend_accounts`, `change_packages`,
    /// `delete_accounts` or `check_servers`.
    pub kind: String,
    /// Who started it: its items run as this caller.
    pub caller: String,
    /// The caller's token groups, as a JSON array; None: every group.
    pub groups: Option<String>,
    /// The suspension reason, for `suspend_accounts`.
    pub reason: String,
    /// The package, for `change_packages`.
    pub package: String,
    /// Items running at once on one server.
    pub per_server_limit: i32,
    /// Items running at once in all.
    pub overall_limit: i32,
    /// Failed items after which it stops; 0: never.
    pub max_failures: i32,
    /// Items in all.
    pub total: i64,
    /// `running`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// Whether CancelBatch was called.
    pub cancel_requested: bool,
    /// Why it starts no new item (cancelled, or stopped after too many
    /// failures), as its items not started say; empty while it goes on.
    pub stop_reason: String,
    /// When it started.
    pub created_at: DateTimeUtc,
    /// When its last item ended.
    pub ended_at: Option<DateTimeUtc>,
    /// Its items.
    #[sea_orm(has_many)]
    pub items: HasMany<super::batch_items::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

//! The `sync_runs` table: one row per sync run, with its progress.

use sea_orm::entity::prelude::*;

/// A sync run.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    /// A UUID, as text.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// A key that starts one run at most: the periodic sync's
    /// `scheduled:<interval>:<n>`.
    #[sea_orm(unique)]
    pub run_key: Option<String>,
    /// Who started it.
    pub caller: String,
    /// Whether it updates the index.
    pub apply: bool,
    /// Whether it reads usage too.
    pub collect_usage: bool,
    /// `running` or `done`.
    pub state: String,
    /// Servers selected.
    pub servers_total: i64,
    /// Servers read or reported.
    pub servers_done: i64,
    /// Servers that could not be read.
    pub servers_failed: i64,
    /// Accounts alike on both sides.
    pub matched: i64,
    /// Accounts only on a panel.
    pub panel_only: i64,
    /// Accounts only in the index.
    pub index_only: i64,
    /// Accounts with differing fields.
    pub mismatched: i64,
    /// When it started.
    pub started_at: DateTimeUtc,
    /// When it last made progress.
    pub updated_at: DateTimeUtc,
    /// When it ended.
    pub ended_at: Option<DateTimeUtc>,
    /// What it found.
    #[sea_orm(has_many)]
    pub findings: HasMany<super::sync_findings::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

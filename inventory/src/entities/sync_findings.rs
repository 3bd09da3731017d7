//! The `sync_findings` table: what a sync run found, per account and per
//! server that could not be read.

use sea_orm::entity::prelude::*;

/// One finding; unique on (`run_id`, `server_id`, `username`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_findings")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The run.
    pub run_id: String,
    /// The server (not necessarily in the inventory: a selector may name an
    /// unknown one).
    pub server_id: String,
    /// The account; empty for a finding about the server.
    pub username: String,
    /// `matched`, `panel_only`, `index_only`, `mismatched`,
    /// `server_unreachable`, `server_unknown` or `server_disabled`.
    pub class: String,
    /// For `mismatched`: JSON `[{"field","index_value","panel_value"}]`.
    pub differences: String,
    /// For server findings: why the server was not read.
    pub reason: String,
    /// The run; deleting it drops its findings.
    #[sea_orm(belongs_to, from = "run_id", to = "id", on_delete = "Cascade")]
    pub run: BelongsTo<super::sync_runs::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

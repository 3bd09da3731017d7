//! The `accounts` table: the account index (which account lives on which server).

use sea_orm::entity::prelude::*;

/// An account index row; unique on (`server_id`, `username`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The server holding the account.
    #[sea_orm(unique_key = "server_username")]
    pub server_id: String,
    /// The account's username on that server.
    #[sea_orm(unique_key = "server_username", indexed)]
    pub username: String,
    /// The account's main domain.
    pub primary_domain: String,
    /// The account's package (plan).
    pub package: String,
    /// `active`, `suspended` or `unknown`.
    pub status: String,
    /// When this entry was last confirmed (created, changed or synced).
    pub synced_at: DateTimeUtc,
    /// When this entry was first indexed.
    pub created_at: DateTimeUtc,
    /// The owner's email address; empty when not known.
    pub email: String,
    /// The last applied sync did not find the account on its panel.
    pub missing: bool,
    /// The fields the last applied sync found differing, comma-separated.
    pub mismatched_fields: String,
    /// Disk used, in bytes, by the last usage figures.
    pub disk_used: Option<i64>,
    /// Disk limit, in bytes; None: none reported.
    pub disk_limit: Option<i64>,
    /// Traffic this period, in bytes.
    pub bandwidth_used: Option<i64>,
    /// Traffic limit, in bytes.
    pub bandwidth_limit: Option<i64>,
    /// Files and directories.
    pub inodes_used: Option<i64>,
    /// Inode limit.
    pub inodes_limit: Option<i64>,
    /// When the usage figures were read.
    pub usage_at: Option<DateTimeUtc>,
    /// The server; deleting it drops its index entries.
    #[sea_orm(belongs_to, from = "server_id", to = "id", on_delete = "Cascade")]
    pub server: BelongsTo<super::servers::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

//! The `server_labels` table: key/value labels of a server, used to filter lists.

use sea_orm::entity::prelude::*;

/// A label row; the primary key is (`server_id`, `key`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "server_labels")]
pub struct Model {
    /// The labelled server.
    #[sea_orm(primary_key, auto_increment = false)]
    pub server_id: String,
    /// Label key, unique per server.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Label value.
    pub value: String,
    /// The labelled server; deleting it deletes its labels.
    #[sea_orm(belongs_to, from = "server_id", to = "id", on_delete = "Cascade")]
    pub server: BelongsTo<super::servers::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

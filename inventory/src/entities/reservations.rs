//! The `reservations` table: a slot on a server held by an account create in
//! flight, counted against the server's `max_accounts` until it becomes an
//! index entry, is released, or expires (its holder died).

use sea_orm::entity::prelude::*;

/// A held slot; unique on (`server_id`, `username`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reservations")]
pub struct Model {
    /// A UUID, as text.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The server the slot is on.
    #[sea_orm(unique_key = "server_username")]
    pub server_id: String,
    /// The account being created in it.
    #[sea_orm(unique_key = "server_username")]
    pub username: String,
    /// Who holds it: the journal entry of the create (a retry of the same
    /// request takes the entry, and the slot, over).
    #[sea_orm(indexed)]
    pub holder: String,
    /// When the slot is free again if nothing settled or released it.
    pub expires_at: DateTimeUtc,
    /// The server; deleting it drops its reservations.
    #[sea_orm(belongs_to, from = "server_id", to = "id", on_delete = "Cascade")]
    pub server: BelongsTo<super::servers::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}

//! Creates `reservations`: slots on servers held by account creates in flight.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Reservations::Table)
                    .col(string(Reservations::Id).primary_key())
                    .col(string(Reservations::ServerId))
                    .col(string(Reservations::Username))
                    .col(string(Reservations::Holder))
                    .col(timestamp_with_time_zone(Reservations::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reservations_server_id")
                            .from(Reservations::Table, Reservations::ServerId)
                            .to(Servers::Table, Servers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One slot per account and server; also serves counts by server.
        manager
            .create_index(
                Index::create()
                    .name("idx_reservations_server_id_username")
                    .table(Reservations::Table)
                    .col(Reservations::ServerId)
                    .col(Reservations::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Renewed by holder, with the holder's journal claim.
        manager
            .create_index(
                Index::create()
                    .name("idx_reservations_holder")
                    .table(Reservations::Table)
                    .col(Reservations::Holder)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Reservations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Reservations {
    Table,
    Id,
    ServerId,
    Username,
    Holder,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Servers {
    Table,
    Id,
}

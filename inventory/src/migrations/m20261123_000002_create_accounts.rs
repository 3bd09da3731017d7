//! Creates `accounts`, the account index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(big_pk_auto(Accounts::Id))
                    .col(string(Accounts::ServerId))
                    .col(string(Accounts::Username))
                    .col(string(Accounts::PrimaryDomain))
                    .col(string(Accounts::Package))
                    .col(string(Accounts::Status))
                    .col(timestamp_with_time_zone(Accounts::SyncedAt))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_accounts_server_id")
                            .from(Accounts::Table, Accounts::ServerId)
                            .to(Servers::Table, Servers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // One entry per account and server; also serves lookups and counts by server.
        manager
            .create_index(
                Index::create()
                    .name("idx_accounts_server_id_username")
                    .table(Accounts::Table)
                    .col(Accounts::ServerId)
                    .col(Accounts::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The router finds an account's server by username alone.
        manager
            .create_index(
                Index::create()
                    .name("idx_accounts_username")
                    .table(Accounts::Table)
                    .col(Accounts::Username)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Accounts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    ServerId,
    Username,
    PrimaryDomain,
    Package,
    Status,
    SyncedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Servers {
    Table,
    Id,
}

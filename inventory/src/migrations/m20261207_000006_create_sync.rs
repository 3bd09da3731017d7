//! Adds what sync runs need: `sync_runs` and their `sync_findings`; on
//! `accounts` the owner's email, the last sync's verdict (`missing`,
//! `mismatched_fields`) and usage figures; on `servers` the last sync's
//! time and outcome.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let account_columns = [
            string(Accounts::Email).default("").to_owned(),
            boolean(Accounts::Missing).default(false).to_owned(),
            string(Accounts::MismatchedFields).default("").to_owned(),
            big_integer_null(Accounts::DiskUsed),
            big_integer_null(Accounts::DiskLimit),
            big_integer_null(Accounts::BandwidthUsed),
            big_integer_null(Accounts::BandwidthLimit),
            big_integer_null(Accounts::InodesUsed),
            big_integer_null(Accounts::InodesLimit),
            timestamp_with_time_zone_null(Accounts::UsageAt),
        ];
        for mut column in account_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Accounts::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        for mut column in [
            timestamp_with_time_zone_null(Servers::LastSyncAt),
            string(Servers::LastSyncOutcome).default("").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Servers::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // Fleet searches filter by package and status most, and page in
        // (server, username) order: the index serves both, so a page reads
        // about as many rows as it returns.
        manager
            .create_index(
                Index::create()
                    .name("idx_accounts_package_status_server_username")
                    .table(Accounts::Table)
                    .col(Accounts::Package)
                    .col(Accounts::Status)
                    .col(Accounts::ServerId)
                    .col(Accounts::Username)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(string(SyncRuns::Id).primary_key())
                    .col(string_null(SyncRuns::RunKey).unique_key())
                    .col(string(SyncRuns::Caller))
                    .col(boolean(SyncRuns::Apply))
                    .col(boolean(SyncRuns::CollectUsage))
                    .col(string(SyncRuns::State))
                    .col(big_integer(SyncRuns::ServersTotal))
                    .col(big_integer(SyncRuns::ServersDone))
                    .col(big_integer(SyncRuns::ServersFailed))
                    .col(big_integer(SyncRuns::Matched))
                    .col(big_integer(SyncRuns::PanelOnly))
                    .col(big_integer(SyncRuns::IndexOnly))
                    .col(big_integer(SyncRuns::Mismatched))
                    .col(timestamp_with_time_zone(SyncRuns::StartedAt))
                    .col(timestamp_with_time_zone(SyncRuns::UpdatedAt))
                    .col(timestamp_with_time_zone_null(SyncRuns::EndedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncFindings::Table)
                    .col(big_integer(SyncFindings::Id).primary_key().auto_increment())
                    .col(string(SyncFindings::RunId))
                    .col(string(SyncFindings::ServerId))
                    .col(string(SyncFindings::Username))
                    .col(string(SyncFindings::Class))
                    .col(text(SyncFindings::Differences))
                    .col(string(SyncFindings::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sync_findings_run_id")
                            .from(SyncFindings::Table, SyncFindings::RunId)
                            .to(SyncRuns::Table, SyncRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A run's findings page by server, then username.
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_findings_run_server_username")
                    .table(SyncFindings::Table)
                    .col(SyncFindings::RunId)
                    .col(SyncFindings::ServerId)
                    .col(SyncFindings::Username)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncFindings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SyncRuns::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_accounts_package_status_server_username")
                    .table(Accounts::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Servers::LastSyncAt, Servers::LastSyncOutcome] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Servers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Accounts::Email,
            Accounts::Missing,
            Accounts::MismatchedFields,
            Accounts::DiskUsed,
            Accounts::DiskLimit,
            Accounts::BandwidthUsed,
            Accounts::BandwidthLimit,
            Accounts::InodesUsed,
            Accounts::InodesLimit,
            Accounts::UsageAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Accounts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    ServerId,
    Username,
    Package,
    Status,
    Email,
    Missing,
    MismatchedFields,
    DiskUsed,
    DiskLimit,
    BandwidthUsed,
    BandwidthLimit,
    InodesUsed,
    InodesLimit,
    UsageAt,
}

#[derive(DeriveIden)]
enum Servers {
    Table,
    LastSyncAt,
    LastSyncOutcome,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    RunKey,
    Caller,
    Apply,
    CollectUsage,
    State,
    ServersTotal,
    ServersDone,
    ServersFailed,
    Matched,
    PanelOnly,
    IndexOnly,
    Mismatched,
    StartedAt,
    UpdatedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum SyncFindings {
    Table,
    Id,
    RunId,
    ServerId,
    Username,
    Class,
    Differences,
    Reason,
}

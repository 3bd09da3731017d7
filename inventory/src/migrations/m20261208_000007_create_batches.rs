//! Adds durable batches: `batches`, one row per bulk operation, and
//! `batch_items`, one row per account or server it acts on, claimed with a
//! lease by whichever replica runs it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Batches::Table)
                    .col(string(Batches::Id).primary_key())
                    .col(string_null(Batches::JournalId).unique_key())
                    .col(string(Batches::Kind))
                    .col(string(Batches::Caller))
                    .col(text_null(Batches::Groups))
                    .col(string(Batches::Reason))
                    .col(string(Batches::Package))
                    .col(integer(Batches::PerServerLimit))
                    .col(integer(Batches::OverallLimit))
                    .col(integer(Batches::MaxFailures))
                    .col(big_integer(Batches::Total))
                    .col(string(Batches::State))
                    .col(boolean(Batches::CancelRequested))
                    .col(string(Batches::StopReason))
                    .col(timestamp_with_time_zone(Batches::CreatedAt))
                    .col(timestamp_with_time_zone_null(Batches::EndedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_batches_created_at")
                    .table(Batches::Table)
                    .col(Batches::CreatedAt)
                    .col(Batches::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BatchItems::Table)
                    .col(big_integer(BatchItems::Id).primary_key().auto_increment())
                    .col(string(BatchItems::BatchId))
                    .col(big_integer(BatchItems::Position))
                    .col(string(BatchItems::ServerId))
                    .col(string(BatchItems::Username))
                    .col(string(BatchItems::State))
                    .col(integer(BatchItems::Attempts))
                    .col(integer(BatchItems::Deferrals))
                    .col(string_null(BatchItems::LeaseOwner))
                    .col(timestamp_with_time_zone_null(BatchItems::LeaseUntil))
                    .col(timestamp_with_time_zone_null(BatchItems::NotBefore))
                    .col(integer_null(BatchItems::Code))
                    .col(string(BatchItems::Reason))
                    .col(text(BatchItems::Message))
                    .col(text(BatchItems::Detail))
                    .col(timestamp_with_time_zone_null(BatchItems::EndedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_batch_items_batch_id")
                            .from(BatchItems::Table, BatchItems::BatchId)
                            .to(Batches::Table, Batches::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Items page and interleave in position order.
        manager
            .create_index(
                Index::create()
                    .name("idx_batch_items_batch_position")
                    .table(BatchItems::Table)
                    .col(BatchItems::BatchId)
                    .col(BatchItems::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Claims count running items per server; progress counts by state.
        manager
            .create_index(
                Index::create()
                    .name("idx_batch_items_batch_state_server")
                    .table(BatchItems::Table)
                    .col(BatchItems::BatchId)
                    .col(BatchItems::State)
                    .col(BatchItems::ServerId)
                    .to_owned(),
            )
            .await?;
        // Claims read each server's pending items in position order.
        manager
            .create_index(
                Index::create()
                    .name("idx_batch_items_batch_server_state_position")
                    .table(BatchItems::Table)
                    .col(BatchItems::BatchId)
                    .col(BatchItems::ServerId)
                    .col(BatchItems::State)
                    .col(BatchItems::Position)
                    .to_owned(),
            )
            .await?;
        // Watchers read what ended since they last looked.
        manager
            .create_index(
                Index::create()
                    .name("idx_batch_items_batch_ended_at")
                    .table(BatchItems::Table)
                    .col(BatchItems::BatchId)
                    .col(BatchItems::EndedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BatchItems::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Batches::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Batches {
    Table,
    Id,
    JournalId,
    Kind,
    Caller,
    Groups,
    Reason,
    Package,
    PerServerLimit,
    OverallLimit,
    MaxFailures,
    Total,
    State,
    CancelRequested,
    StopReason,
    CreatedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum BatchItems {
    Table,
    Id,
    BatchId,
    Position,
    ServerId,
    Username,
    State,
    Attempts,
    Deferrals,
    LeaseOwner,
    LeaseUntil,
    NotBefore,
    Code,
    Reason,
    Message,
    Detail,
    EndedAt,
}

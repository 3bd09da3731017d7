//! Creates `operations`: the journal of mutating calls, and the store of idempotent
//! ones (a caller's request id, the sealed request digest and the sealed reply).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key on server_id: the journal outlives the servers it mentions.
        manager
            .create_table(
                Table::create()
                    .table(Operations::Table)
                    .col(string(Operations::Id).primary_key())
                    .col(string_null(Operations::RequestId))
                    .col(string(Operations::Caller))
                    .col(string(Operations::Method))
                    .col(string_null(Operations::ServerId))
                    .col(string(Operations::Resource))
                    .col(string(Operations::Outcome))
                    .col(text_null(Operations::ErrorMessage))
                    .col(boolean(Operations::Retryable))
                    .col(integer(Operations::Attempts))
                    .col(blob_null(Operations::RequestDigest))
                    .col(blob_null(Operations::Reply))
                    .col(string_null(Operations::KeyId))
                    .col(timestamp_with_time_zone(Operations::StartedAt))
                    .col(timestamp_with_time_zone(Operations::ClaimedAt))
                    .col(timestamp_with_time_zone_null(Operations::FinishedAt))
                    .to_owned(),
            )
            .await?;

        // The idempotency key is unique per caller. NULLs are distinct in a unique
        // index on both SQLite and PostgreSQL, so calls without a key never collide.
        manager
            .create_index(
                Index::create()
                    .name("idx_operations_caller_request_id")
                    .table(Operations::Table)
                    .col(Operations::Caller)
                    .col(Operations::RequestId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_operations_started_at")
                    .table(Operations::Table)
                    .col(Operations::StartedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_operations_server_id")
                    .table(Operations::Table)
                    .col(Operations::ServerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Operations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Operations {
    Table,
    Id,
    RequestId,
    Caller,
    Method,
    ServerId,
    Resource,
    Outcome,
    ErrorMessage,
    Retryable,
    Attempts,
    RequestDigest,
    Reply,
    KeyId,
    StartedAt,
    ClaimedAt,
    FinishedAt,
}

//! Creates `servers` and their `server_labels`.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // PostgreSQL compares text by the database's locale; "C" compares bytes, as
        // SQLite does, so server lists sort and page the same way on both backends.
        let mut name = string_uniq(Servers::Name);
        if manager.get_database_backend() == DbBackend::Postgres {
            name.extra("COLLATE \"C\"");
        }

        manager
            .create_table(
                Table::create()
                    .table(Servers::Table)
                    .col(string(Servers::Id).primary_key())
                    .col(name)
                    .col(string(Servers::Kind))
                    .col(text(Servers::BaseUrl))
                    .col(string(Servers::GroupName))
                    .col(string(Servers::State))
                    .col(big_integer(Servers::MaxAccounts))
                    .col(text_null(Servers::TlsCaPem))
                    .col(boolean(Servers::TlsInsecureSkipVerify))
                    .col(string_null(Servers::DefaultPhpVersion))
                    .col(string_null(Servers::CredentialsKeyId))
                    .col(blob_null(Servers::CredentialsCiphertext))
                    .col(timestamp_with_time_zone(Servers::CreatedAt))
                    .col(timestamp_with_time_zone(Servers::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServerLabels::Table)
                    .col(string(ServerLabels::ServerId))
                    .col(string(ServerLabels::Key))
                    .col(string(ServerLabels::Value))
                    .primary_key(
                        Index::create()
                            .col(ServerLabels::ServerId)
                            .col(ServerLabels::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_server_labels_server_id")
                            .from(ServerLabels::Table, ServerLabels::ServerId)
                            .to(Servers::Table, Servers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServerLabels::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Servers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Servers {
    Table,
    Id,
    Name,
    Kind,
    BaseUrl,
    GroupName,
    State,
    MaxAccounts,
    TlsCaPem,
    TlsInsecureSkipVerify,
    DefaultPhpVersion,
    CredentialsKeyId,
    CredentialsCiphertext,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServerLabels {
    Table,
    ServerId,
    Key,
    Value,
}

//! The account index: which server holds which account.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Inventory, now};
use crate::entities::accounts;
use crate::{AccountEntry, AccountStatus, InventoryError, Record};

impl Inventory {
    /// Inserts or updates the entry for (`server_id`, `username`), setting `synced_at`
    /// to now. `NotFound` if the server does not exist.
    pub async fn upsert_account(&self, entry: AccountEntry) -> Result<(), InventoryError> {
        upsert_entry(self.db()?, entry).await
    }

    /// Drops the entry, if there is one.
    pub async fn remove_account(
        &self,
        server_id: &str,
        username: &str,
    ) -> Result<(), InventoryError> {
        accounts::Entity::delete_many()
            .filter(accounts::Column::ServerId.eq(server_id))
            .filter(accounts::Column::Username.eq(username))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// Records a new status for the entry; does nothing if there is no entry.
    pub async fn set_account_status(
        &self,
        server_id: &str,
        username: &str,
        status: AccountStatus,
    ) -> Result<(), InventoryError> {
        self.update_account(
            server_id,
            username,
            accounts::Column::Status,
            status.as_str(),
        )
        .await
    }

    /// Records a new package for the entry; does nothing if there is no entry.
    pub async fn set_account_package(
        &self,
        server_id: &str,
        username: &str,
        package: &str,
    ) -> Result<(), InventoryError> {
        self.update_account(server_id, username, accounts::Column::Package, package)
            .await
    }

    /// Ids of the servers whose index holds `username`, sorted: the router's lookup
    /// when a call leaves its target out.
    pub async fn servers_for_account(&self, username: &str) -> Result<Vec<String>, InventoryError> {
        let ids = accounts::Entity::find()
            .select_only()
            .column(accounts::Column::ServerId)
            .filter(accounts::Column::Username.eq(username))
            .order_by_asc(accounts::Column::ServerId)
            .into_tuple()
            .all(self.db()?)
            .await?;
        Ok(ids)
    }

    /// Sets one column of an entry, and `synced_at`.
    async fn update_account(
        &self,
        server_id: &str,
        username: &str,
        column: accounts::Column,
        value: &str,
    ) -> Result<(), InventoryError> {
        accounts::Entity::update_many()
            .col_expr(column, Expr::value(value))
            .col_expr(accounts::Column::SyncedAt, Expr::value(now()))
            .filter(accounts::Column::ServerId.eq(server_id))
            .filter(accounts::Column::Username.eq(username))
            .exec(self.db()?)
            .await?;
        Ok(())
    }
}

/// [`Inventory::upsert_account`] on `db` (a transaction, or the pool).
pub(super) async fn upsert_entry(
    db: &impl ConnectionTrait,
    entry: AccountEntry,
) -> Result<(), InventoryError> {
    let now = now();
    let row = accounts::ActiveModel {
        id: NotSet,
        server_id: Set(entry.server_id.clone()),
        username: Set(entry.username),
        primary_domain: Set(entry.primary_domain),
        package: Set(entry.package),
        status: Set(entry.status.as_str().to_owned()),
        synced_at: Set(now),
        created_at: Set(now),
        email: Set(entry.email),
        missing: Set(false),
        ..Default::default()
    };
    let on_conflict = OnConflict::columns([accounts::Column::ServerId, accounts::Column::Username])
        .update_columns([
            accounts::Column::PrimaryDomain,
            accounts::Column::Package,
            accounts::Column::Status,
            accounts::Column::Email,
            accounts::Column::Missing,
            accounts::Column::SyncedAt,
        ])
        .to_owned();
    accounts::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await
        .map_err(|err| InventoryError::on_missing_parent(err, Record::Server, &entry.server_id))?;
    Ok(())
}

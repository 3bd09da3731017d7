//! Slots on servers: an account create holds one while its panel call runs,
//! so no number of creates, on any number of replicas, fills a server past
//! its `max_accounts`. The count and the new slot are one transaction that
//! holds the server's row (PostgreSQL `SELECT ... FOR UPDATE`; SQLite an
//! immediate transaction, which holds the database's write lock).

use std::{collections::HashMap, time::Duration};

use chrono::TimeDelta;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use super::{Inventory, accounts::upsert_entry, now};
use crate::entities::{accounts, reservations, servers};
use crate::{AccountEntry, InventoryError, Record};

/// What reserving a slot for an account came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A slot is held (id) until settled, released, or expired.
    Held(String),
    /// The account is indexed on the server already: it takes no new slot.
    Indexed,
    /// The server holds `max` accounts and reservations.
    Full {
        /// Its `max_accounts`.
        max: u32,
    },
}

/// A server's accounts and the slots held on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Accounts in the index.
    pub accounts: u64,
    /// Slots held by creates in flight.
    pub reserved: u64,
}

impl Inventory {
    /// Holds a slot on `server_id` for account `username` for `hold`, if the
    /// server (its `max_accounts` read now) has one free. A slot already held
    /// for the same account (a retry) is held again, for `hold` from now.
    /// `NotFound` if the server is gone.
    pub async fn reserve_slot(
        &self,
        server_id: &str,
        username: &str,
        hold: Duration,
    ) -> Result<Slot, InventoryError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db()?.begin_with_options(options).await?;
        let max: i64 = servers::Entity::find_by_id(server_id)
            .select_only()
            .column(servers::Column::MaxAccounts)
            .lock_exclusive()
            .into_tuple()
            .one(&txn)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Server, server_id))?;
        let indexed = accounts::Entity::find()
            .filter(accounts::Column::ServerId.eq(server_id))
            .filter(accounts::Column::Username.eq(username))
            .count(&txn)
            .await?;
        if indexed > 0 {
            return Ok(Slot::Indexed);
        }
        let now = now();
        let expires_at = now + TimeDelta::from_std(hold).unwrap_or(TimeDelta::MAX);
        let held = reservations::Entity::find()
            .filter(reservations::Column::ServerId.eq(server_id))
            .filter(reservations::Column::Username.eq(username))
            .one(&txn)
            .await?;
        let id = match held {
            Some(held) => {
                reservations::Entity::update_many()
                    .col_expr(
                        reservations::Column::ExpiresAt,
                        sea_orm::sea_query::Expr::value(expires_at),
                    )
                    .filter(reservations::Column::Id.eq(&held.id))
                    .exec(&txn)
                    .await?;
                held.id
            }
            None => {
                let max = u32::try_from(max).unwrap_or(0);
                let usage = usage(&txn, server_id, now).await?;
                if max > 0 && usage.accounts + usage.reserved >= u64::from(max) {
                    return Ok(Slot::Full { max });
                }
                let id = Uuid::new_v4().to_string();
                let row = reservations::ActiveModel {
                    id: Set(id.clone()),
                    server_id: Set(server_id.to_owned()),
                    username: Set(username.to_owned()),
                    expires_at: Set(expires_at),
                };
                reservations::Entity::insert(row)
                    .exec_without_returning(&txn)
                    .await?;
                id
            }
        };
        txn.commit().await?;
        Ok(Slot::Held(id))
    }

    /// Turns held slot `id` into the account's index entry, in one
    /// transaction. `NotFound` if the server is gone.
    pub async fn settle_slot(&self, id: &str, entry: AccountEntry) -> Result<(), InventoryError> {
        let txn = self.db()?.begin().await?;
        reservations::Entity::delete_by_id(id).exec(&txn).await?;
        upsert_entry(&txn, entry).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Frees held slot `id` (the create failed, having made nothing).
    pub async fn release_slot(&self, id: &str) -> Result<(), InventoryError> {
        reservations::Entity::delete_by_id(id)
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// The server's indexed accounts and the slots held on it now.
    pub async fn usage(&self, server_id: &str) -> Result<Usage, InventoryError> {
        Ok(usage(self.db()?, server_id, now()).await?)
    }

    /// [`Inventory::usage`] of each of `server_ids`, in two queries (servers
    /// with neither accounts nor slots are left out).
    pub async fn usages(
        &self,
        server_ids: &[String],
    ) -> Result<HashMap<String, Usage>, InventoryError> {
        let ids = || server_ids.iter().cloned();
        let accounts: Vec<(String, i64)> = accounts::Entity::find()
            .select_only()
            .column(accounts::Column::ServerId)
            .column_as(accounts::Column::Id.count(), "n")
            .filter(accounts::Column::ServerId.is_in(ids()))
            .group_by(accounts::Column::ServerId)
            .into_tuple()
            .all(self.db()?)
            .await?;
        let reserved: Vec<(String, i64)> = reservations::Entity::find()
            .select_only()
            .column(reservations::Column::ServerId)
            .column_as(reservations::Column::Id.count(), "n")
            .filter(reservations::Column::ServerId.is_in(ids()))
            .filter(reservations::Column::ExpiresAt.gt(now()))
            .group_by(reservations::Column::ServerId)
            .into_tuple()
            .all(self.db()?)
            .await?;
        let mut usages: HashMap<String, Usage> = HashMap::new();
        for (id, n) in accounts {
            usages.entry(id).or_default().accounts = u64::try_from(n).unwrap_or(0);
        }
        for (id, n) in reserved {
            usages.entry(id).or_default().reserved = u64::try_from(n).unwrap_or(0);
        }
        Ok(usages)
    }
}

async fn usage(
    db: &impl sea_orm::ConnectionTrait,
    server_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Usage, sea_orm::DbErr> {
    let accounts = accounts::Entity::find()
        .filter(accounts::Column::ServerId.eq(server_id))
        .count(db)
        .await?;
    let reserved = reservations::Entity::find()
        .filter(reservations::Column::ServerId.eq(server_id))
        .filter(reservations::Column::ExpiresAt.gt(now))
        .count(db)
        .await?;
    Ok(Usage { accounts, reserved })
}

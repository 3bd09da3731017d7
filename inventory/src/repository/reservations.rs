//! Slots on servers: an account create holds one, for its holder (the
//! create's journal entry), while its panel call runs, so concurrent
//! creates on any number of replicas never fill a server past its
//! `max_accounts`. The count and the new slot are one transaction that holds
//! the server's row (PostgreSQL `SELECT ... FOR UPDATE`; SQLite an immediate
//! transaction, which holds the database's write lock). A slot lives until
//! it is settled into the index, released, or expires (its holder stopped
//! renewing it).

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
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
    /// Another holder is creating the same account on the server now.
    Taken,
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

impl Usage {
    /// The free slots under a cap of `max` (None: 0, no cap).
    pub fn free(self, max: u32) -> Option<u64> {
        (max > 0).then(|| u64::from(max).saturating_sub(self.accounts + self.reserved))
    }
}

impl Inventory {
    /// Holds a slot on `server_id` for account `username`, for `holder` (a
    /// journal entry id) until `hold` from now, if the server (its
    /// `max_accounts` read now) has one free. The holder's own slot (a retry
    /// that took its entry over), or one kept with no holder after an
    /// unknown outcome, is held again; another running holder's slot for the
    /// same account is [`Slot::Taken`]. Expired slots are dropped first.
    /// `NotFound` if the server is gone.
    pub async fn reserve_slot(
        &self,
        server_id: &str,
        username: &str,
        holder: &str,
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
        let now = now();
        reservations::Entity::delete_many()
            .filter(reservations::Column::ServerId.eq(server_id))
            .filter(reservations::Column::ExpiresAt.lte(now))
            .exec(&txn)
            .await?;
        let of_account = || {
            reservations::Entity::find()
                .filter(reservations::Column::ServerId.eq(server_id))
                .filter(reservations::Column::Username.eq(username))
        };
        let indexed = accounts::Entity::find()
            .filter(accounts::Column::ServerId.eq(server_id))
            .filter(accounts::Column::Username.eq(username))
            .count(&txn)
            .await?;
        let slot = if indexed > 0 {
            // A slot left by a create that was settled some other way.
            reservations::Entity::delete_many()
                .filter(reservations::Column::ServerId.eq(server_id))
                .filter(reservations::Column::Username.eq(username))
                .exec(&txn)
                .await?;
            Slot::Indexed
        } else {
            let until = expiry(now, hold);
            match of_account().one(&txn).await? {
                Some(held) if held.holder == holder || held.holder.is_empty() => {
                    reservations::Entity::update_many()
                        .col_expr(reservations::Column::Holder, Expr::value(holder))
                        .col_expr(reservations::Column::ExpiresAt, Expr::value(until))
                        .filter(reservations::Column::Id.eq(&held.id))
                        .exec(&txn)
                        .await?;
                    Slot::Held(held.id)
                }
                Some(_) => Slot::Taken,
                None => {
                    let max = u32::try_from(max).unwrap_or(0);
                    let usage = usage(&txn, server_id, now).await?;
                    if usage.free(max) == Some(0) {
                        return Ok(Slot::Full { max });
                    }
                    let id = Uuid::new_v4().to_string();
                    let row = reservations::ActiveModel {
                        id: Set(id.clone()),
                        server_id: Set(server_id.to_owned()),
                        username: Set(username.to_owned()),
                        holder: Set(holder.to_owned()),
                        expires_at: Set(until),
                    };
                    reservations::Entity::insert(row)
                        .exec_without_returning(&txn)
                        .await?;
                    Slot::Held(id)
                }
            }
        };
        txn.commit().await?;
        Ok(slot)
    }

    /// Keeps the slots of `holders` (calls still running) until `hold` from now.
    pub async fn renew_slots(
        &self,
        holders: &[String],
        hold: Duration,
    ) -> Result<(), InventoryError> {
        if holders.is_empty() {
            return Ok(());
        }
        reservations::Entity::update_many()
            .col_expr(
                reservations::Column::ExpiresAt,
                Expr::value(expiry(now(), hold)),
            )
            .filter(reservations::Column::Holder.is_in(holders.iter().map(String::as_str)))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// Keeps slot `id` until `hold` from now, held by no call: its create's
    /// outcome is unknown (the panel may have made the account), and
    /// whichever call next creates that account on the server (a retry)
    /// takes it over.
    pub async fn keep_slot(&self, id: &str, hold: Duration) -> Result<(), InventoryError> {
        reservations::Entity::update_many()
            .col_expr(reservations::Column::Holder, Expr::value(""))
            .col_expr(
                reservations::Column::ExpiresAt,
                Expr::value(expiry(now(), hold)),
            )
            .filter(reservations::Column::Id.eq(id))
            .exec(self.db()?)
            .await?;
        Ok(())
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

/// `hold` after `now`, or the end of time.
fn expiry(now: DateTime<Utc>, hold: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(hold)
        .ok()
        .and_then(|hold| now.checked_add_signed(hold))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

async fn usage(
    db: &impl sea_orm::ConnectionTrait,
    server_id: &str,
    now: DateTime<Utc>,
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

//! Batches and their items: recording a batch, claiming items with a lease
//! (any replica; a server's share of running items and the batch's total
//! never exceed its limits), ending them, and what watchers and lists read.
//!
//! A claim is one transaction that holds the batch's row (PostgreSQL
//! `SELECT ... FOR UPDATE`; SQLite an immediate transaction, which holds the
//! database's write lock), so claims of two replicas never both fill the
//! same free place. An item whose lease expired (its replica died) is open
//! again; its next run has the same request_id, so what the dead replica
//! did is not done twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use uuid::Uuid;

use super::paging::{self, Cursor};
use super::{Inventory, now};
use crate::entities::{batch_items, batches};
use crate::{
    BatchFilter, BatchKind, BatchLimits, BatchRecord, BatchState, InventoryError, ItemEnd,
    ItemFilter, ItemOutcome, ItemRecord, ItemState, NewBatch, Page, PageRequest, Record,
    ServerCounts,
};

/// What a claim took, and the servers it found with no pending item due.
#[derive(Debug, Default)]
pub struct Claimed {
    /// The items claimed, in position order.
    pub items: Vec<ItemRecord>,
    /// Servers with no pending item due now.
    pub drained: Vec<String>,
}

/// Items written per INSERT (well under both databases' parameter limits).
const CHUNK: usize = 500;
/// Most servers one claim reads items of (one subquery each: more make a
/// statement slow to plan, and claims come every few milliseconds anyway).
pub const SERVERS_PER_CLAIM: usize = 64;

impl Inventory {
    /// Records a batch and its items, or returns the batch the same journal
    /// entry started (`false`: nothing was recorded).
    pub async fn create_batch(
        &self,
        batch: NewBatch,
    ) -> Result<(BatchRecord, bool), InventoryError> {
        let db = self.db()?;
        if let Some(journal_id) = &batch.journal_id
            && let Some(earlier) = batches::Entity::find()
                .filter(batches::Column::JournalId.eq(journal_id))
                .one(db)
                .await?
        {
            return Ok((batch_record(earlier)?, false));
        }
        let id = Uuid::new_v4().to_string();
        let groups = batch
            .groups
            .as_ref()
            // A set of strings always serialises.
            .map(|groups| serde_json::to_string(groups).unwrap_or_default());
        let row = batches::ActiveModel {
            id: Set(id.clone()),
            journal_id: Set(batch.journal_id.clone()),
            kind: Set(batch.kind.as_str().to_owned()),
            caller: Set(batch.caller.clone()),
            groups: Set(groups),
            reason: Set(batch.reason.clone()),
            package: Set(batch.package.clone()),
            per_server_limit: Set(limit(batch.limits.per_server)),
            overall_limit: Set(limit(batch.limits.overall)),
            max_failures: Set(limit(batch.limits.max_failures)),
            total: Set(count(batch.items.len())),
            state: Set(BatchState::Running.as_str().to_owned()),
            cancel_requested: Set(false),
            stop_reason: Set(String::new()),
            created_at: Set(now()),
            ended_at: Set(None),
        };
        let txn = db.begin().await?;
        let inserted = batches::Entity::insert(row)
            .exec_with_returning(&txn)
            .await
            .map_err(|err| InventoryError::on_unique(err, Record::Batch, ""))?;
        for (chunk_no, chunk) in batch.items.chunks(CHUNK).enumerate() {
            let rows = chunk.iter().enumerate().map(|(n, (server_id, username))| {
                batch_items::ActiveModel {
                    batch_id: Set(id.clone()),
                    position: Set(count(chunk_no * CHUNK + n)),
                    server_id: Set(server_id.clone()),
                    username: Set(username.clone()),
                    state: Set(ItemState::Pending.as_str().to_owned()),
                    attempts: Set(0),
                    deferrals: Set(0),
                    lease_owner: Set(None),
                    lease_until: Set(None),
                    not_before: Set(None),
                    code: Set(None),
                    reason: Set(String::new()),
                    message: Set(String::new()),
                    detail: Set(String::new()),
                    ended_at: Set(None),
                    ..Default::default()
                }
            });
            batch_items::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        batch_items::Column::BatchId,
                        batch_items::Column::Position,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        match txn.commit().await {
            Ok(()) => Ok((batch_record(inserted)?, true)),
            Err(err) => Err(err.into()),
        }
    }

    /// The batch with id `id`.
    pub async fn get_batch(&self, id: &str) -> Result<BatchRecord, InventoryError> {
        let row = batches::Entity::find_by_id(id)
            .one(self.db()?)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Batch, id))?;
        batch_record(row)
    }

    /// A page of batches, newest first.
    pub async fn list_batches(
        &self,
        filter: &BatchFilter,
        page: PageRequest,
    ) -> Result<Page<BatchRecord>, InventoryError> {
        let size = page.effective_size();
        let mut query = batches::Entity::find()
            .order_by_desc(batches::Column::CreatedAt)
            .order_by_desc(batches::Column::Id)
            .limit(size + 1);
        if let Some(kind) = filter.kind {
            query = query.filter(batches::Column::Kind.eq(kind.as_str()));
        }
        match filter.ended {
            Some(true) => query = query.filter(batches::Column::EndedAt.is_not_null()),
            Some(false) => query = query.filter(batches::Column::EndedAt.is_null()),
            None => {}
        }
        if let Some(caller) = &filter.caller {
            query = query.filter(batches::Column::Caller.eq(caller));
        }
        match paging::decode(&page)? {
            None => {}
            Some(Cursor::Operations { started_at, id }) => {
                let at = DateTime::from_timestamp_micros(started_at)
                    .ok_or(InventoryError::InvalidPageToken)?;
                query = query.filter(
                    batches::Column::CreatedAt
                        .lt(at)
                        .or(batches::Column::CreatedAt
                            .eq(at)
                            .and(batches::Column::Id.lt(id))),
                );
            }
            Some(_) => return Err(InventoryError::InvalidPageToken),
        }
        let rows = query.all(self.db()?).await?;
        let page = paging::page_of(rows, size, |row| {
            Cursor::operations(row.created_at, &row.id)
        });
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(batch_record)
                .collect::<Result<_, _>>()?,
            next_token: page.next_token,
        })
    }

    /// The batches not ended yet, oldest first.
    pub async fn open_batches(&self) -> Result<Vec<BatchRecord>, InventoryError> {
        batches::Entity::find()
            .filter(batches::Column::EndedAt.is_null())
            .order_by_asc(batches::Column::CreatedAt)
            .all(self.db()?)
            .await?
            .into_iter()
            .map(batch_record)
            .collect()
    }

    /// Batch `id`'s items counted per server and state, by server id.
    pub async fn batch_counts(&self, id: &str) -> Result<Vec<ServerCounts>, InventoryError> {
        let rows: Vec<(String, String, i64)> = batch_items::Entity::find()
            .select_only()
            .column(batch_items::Column::ServerId)
            .column(batch_items::Column::State)
            .column_as(batch_items::Column::Id.count(), "n")
            .filter(batch_items::Column::BatchId.eq(id))
            .group_by(batch_items::Column::ServerId)
            .group_by(batch_items::Column::State)
            .into_tuple()
            .all(self.db()?)
            .await?;
        let mut servers: BTreeMap<String, ServerCounts> = BTreeMap::new();
        for (server_id, state, n) in rows {
            let state = state.parse().map_err(|_| corrupt("item", "state"))?;
            servers
                .entry(server_id.clone())
                .or_insert_with(|| ServerCounts {
                    server_id,
                    ..ServerCounts::default()
                })
                .add(state, unsigned(n));
        }
        Ok(servers.into_values().collect())
    }

    /// The servers batch `id`'s items are on.
    pub async fn batch_servers(&self, id: &str) -> Result<Vec<String>, InventoryError> {
        Ok(batch_items::Entity::find()
            .select_only()
            .column(batch_items::Column::ServerId)
            .distinct()
            .filter(batch_items::Column::BatchId.eq(id))
            .order_by_asc(batch_items::Column::ServerId)
            .into_tuple()
            .all(self.db()?)
            .await?)
    }

    /// Claims for `owner`, until `lease` from now, up to `wanted` open items
    /// of batch `id` on `servers` (pending ones due now, and running ones
    /// whose lease expired), as far as the batch's limits leave room: a
    /// server's running items stay within `per_server`, the batch's within
    /// `overall`. Servers take turns: every server's first open item comes
    /// before any second. Each server's items are read by an index range
    /// of their own, so a claim reads about as many rows as it may take
    /// (of at most [`SERVERS_PER_CLAIM`] servers, the first of `servers`
    /// with room);
    /// servers found with no pending item due are named in the answer, for
    /// the caller to leave out of its next claims for a while.
    pub async fn claim_items(
        &self,
        id: &str,
        owner: &str,
        lease: Duration,
        wanted: usize,
        servers: &[String],
    ) -> Result<Claimed, InventoryError> {
        if wanted == 0 {
            return Ok(Claimed::default());
        }
        let db = self.db()?;
        let backend = db.get_database_backend();
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = db.begin_with_options(options).await?;
        let Some(batch) = batches::Entity::find_by_id(id)
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(Claimed::default());
        };
        if batch.ended_at.is_some() {
            return Ok(Claimed::default());
        }
        let now = now();
        let busy: Vec<(String, i64)> = batch_items::Entity::find()
            .select_only()
            .column(batch_items::Column::ServerId)
            .column_as(batch_items::Column::Id.count(), "n")
            .filter(batch_items::Column::BatchId.eq(id))
            .filter(batch_items::Column::State.eq(ItemState::Running.as_str()))
            .filter(batch_items::Column::LeaseUntil.gt(now))
            .group_by(batch_items::Column::ServerId)
            .into_tuple()
            .all(&txn)
            .await?;
        let busy: HashMap<String, u64> = busy
            .into_iter()
            .map(|(server, n)| (server, unsigned(n)))
            .collect();
        let per_server = Ord::max(u64::try_from(batch.per_server_limit).unwrap_or(1), 1);
        let overall = Ord::max(u64::try_from(batch.overall_limit).unwrap_or(1), 1);
        let room = usize::try_from(overall.saturating_sub(busy.values().sum()))
            .unwrap_or(usize::MAX)
            .min(wanted);
        if room == 0 {
            return Ok(Claimed::default());
        }
        // The first servers with a free place (the caller moves where the
        // list starts when there are more than one claim reads).
        let mut free: Vec<(&str, u64)> = servers
            .iter()
            .filter_map(|server| {
                let running = busy.get(server).copied().unwrap_or(0);
                (running < per_server).then_some((server.as_str(), per_server - running))
            })
            .collect();
        free.truncate(room.min(SERVERS_PER_CLAIM));
        // A stopped batch starts nothing new, but items whose replica died
        // mid-run are run to an end: they may have been applied.
        let stopped = !batch.stop_reason.is_empty();
        let candidates = open_items(&txn, backend, id, now, &free, stopped, room).await?;
        let drained = free
            .iter()
            .filter(|(server, places)| {
                let pending = candidates.iter().filter(|item| {
                    item.server_id == *server && item.state == ItemState::Pending.as_str()
                });
                u64::try_from(pending.count()).unwrap_or(u64::MAX) < *places
            })
            .map(|(server, _)| (*server).to_owned())
            .collect();
        let chosen = take_turns(candidates, &free, &busy, per_server, room);
        if chosen.is_empty() {
            return Ok(Claimed {
                items: Vec::new(),
                drained,
            });
        }
        let until = expiry(now, lease);
        batch_items::Entity::update_many()
            .col_expr(
                batch_items::Column::State,
                Expr::value(ItemState::Running.as_str()),
            )
            .col_expr(batch_items::Column::LeaseOwner, Expr::value(owner))
            .col_expr(batch_items::Column::LeaseUntil, Expr::value(until))
            .col_expr(
                batch_items::Column::Attempts,
                Expr::col(batch_items::Column::Attempts).add(1),
            )
            .filter(batch_items::Column::Id.is_in(chosen.iter().copied()))
            // Still open: an item ended or cancelled since it was read (by
            // what does not hold the batch's row) stays so.
            .filter(open(now, stopped))
            .exec(&txn)
            .await?;
        let claimed = batch_items::Entity::find()
            .filter(batch_items::Column::Id.is_in(chosen))
            .filter(batch_items::Column::LeaseOwner.eq(owner))
            .filter(batch_items::Column::LeaseUntil.eq(until))
            .order_by_asc(batch_items::Column::Position)
            .all(&txn)
            .await?;
        txn.commit().await?;
        Ok(Claimed {
            items: claimed
                .into_iter()
                .map(item_record)
                .collect::<Result<_, _>>()?,
            drained,
        })
    }

    /// Extends `owner`'s lease of each of `ids` (items it is running) to
    /// `lease` from now.
    pub async fn renew_items(
        &self,
        owner: &str,
        ids: &[i64],
        lease: Duration,
    ) -> Result<(), InventoryError> {
        if ids.is_empty() {
            return Ok(());
        }
        batch_items::Entity::update_many()
            .col_expr(
                batch_items::Column::LeaseUntil,
                Expr::value(expiry(now(), lease)),
            )
            .filter(batch_items::Column::Id.is_in(ids.iter().copied()))
            .filter(batch_items::Column::LeaseOwner.eq(owner))
            .filter(batch_items::Column::State.eq(ItemState::Running.as_str()))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// Ends `owner`'s attempt at item `item_id`; false if `owner` no longer
    /// held it (its lease expired and another replica took it over).
    pub async fn end_item(
        &self,
        item_id: i64,
        owner: &str,
        end: ItemEnd,
    ) -> Result<bool, InventoryError> {
        let now = now();
        let (state, outcome, not_before, ended_at, deferred) = match end {
            ItemEnd::Ended(outcome) => {
                let state = if outcome.code == 0 {
                    ItemState::Succeeded
                } else {
                    ItemState::Failed
                };
                (state, outcome, None, Some(now), false)
            }
            ItemEnd::Retry {
                outcome,
                at,
                deferred,
            } => (ItemState::Pending, outcome, Some(at), None, deferred),
        };
        let mut update = batch_items::Entity::update_many()
            .col_expr(batch_items::Column::State, Expr::value(state.as_str()))
            .col_expr(batch_items::Column::LeaseOwner, Expr::value(None::<String>))
            .col_expr(
                batch_items::Column::LeaseUntil,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(batch_items::Column::NotBefore, Expr::value(not_before))
            .col_expr(batch_items::Column::Code, Expr::value(outcome.code))
            .col_expr(batch_items::Column::Reason, Expr::value(outcome.reason))
            .col_expr(batch_items::Column::Message, Expr::value(outcome.message))
            .col_expr(batch_items::Column::Detail, Expr::value(outcome.detail))
            .col_expr(batch_items::Column::EndedAt, Expr::value(ended_at))
            .filter(batch_items::Column::Id.eq(item_id))
            .filter(batch_items::Column::LeaseOwner.eq(owner))
            .filter(batch_items::Column::State.eq(ItemState::Running.as_str()));
        if deferred {
            update = update
                .col_expr(
                    batch_items::Column::Attempts,
                    Expr::col(batch_items::Column::Attempts).sub(1),
                )
                .col_expr(
                    batch_items::Column::Deferrals,
                    Expr::col(batch_items::Column::Deferrals).add(1),
                );
        }
        let updated = update.exec(self.db()?).await?.rows_affected;
        Ok(updated > 0)
    }

    /// Puts off batch `id`'s pending items on `server_id` until `at` (the
    /// server refuses calls for a while).
    pub async fn defer_items(
        &self,
        id: &str,
        server_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), InventoryError> {
        batch_items::Entity::update_many()
            .col_expr(batch_items::Column::NotBefore, Expr::value(at))
            .filter(batch_items::Column::BatchId.eq(id))
            .filter(batch_items::Column::ServerId.eq(server_id))
            .filter(batch_items::Column::State.eq(ItemState::Pending.as_str()))
            .filter(
                batch_items::Column::NotBefore
                    .is_null()
                    .or(batch_items::Column::NotBefore.lt(at)),
            )
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// Stops batch `id` (unless it stopped already): it starts no new item,
    /// and every pending item ends CANCELLED with `message`, now and when
    /// one comes back to be retried (see [`Inventory::end_batch_if_done`]).
    /// With `cancel`, records that CancelBatch was called. Returns the batch.
    pub async fn cancel_batch(
        &self,
        id: &str,
        cancel: bool,
        message: &str,
    ) -> Result<BatchRecord, InventoryError> {
        let txn = self.db()?.begin().await?;
        let mut stop = batches::Entity::update_many()
            .col_expr(batches::Column::StopReason, Expr::value(message))
            .filter(batches::Column::Id.eq(id))
            .filter(batches::Column::EndedAt.is_null())
            .filter(batches::Column::StopReason.eq(""));
        if cancel {
            stop = stop.col_expr(batches::Column::CancelRequested, Expr::value(true));
        }
        stop.exec(&txn).await?;
        cancel_pending(&txn, id, message).await?;
        let row = batches::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Batch, id))?;
        txn.commit().await?;
        batch_record(row)
    }

    /// Ends batch `id` if none of its items is open any more: SUCCEEDED,
    /// FAILED or CANCELLED by how they ended. A stopped batch's items that
    /// came back to be retried end CANCELLED first. Returns whether this
    /// call ended it.
    pub async fn end_batch_if_done(&self, id: &str) -> Result<bool, InventoryError> {
        let batch = self.get_batch(id).await?;
        if batch.ended_at.is_some() {
            return Ok(false);
        }
        if !batch.stop_reason.is_empty() {
            cancel_pending(self.db()?, id, &batch.stop_reason).await?;
        }
        let counts = self.batch_counts(id).await?;
        let open: u64 = counts.iter().map(|c| c.pending + c.running).sum();
        if open > 0 {
            return Ok(false);
        }
        let failed: u64 = counts.iter().map(|c| c.failed).sum();
        let cancelled: u64 = counts.iter().map(|c| c.cancelled).sum();
        let state = if batch.cancel_requested {
            BatchState::Cancelled
        } else if failed + cancelled > 0 {
            BatchState::Failed
        } else {
            BatchState::Succeeded
        };
        let updated = batches::Entity::update_many()
            .col_expr(batches::Column::State, Expr::value(state.as_str()))
            .col_expr(batches::Column::EndedAt, Expr::value(now()))
            .filter(batches::Column::Id.eq(id))
            .filter(batches::Column::EndedAt.is_null())
            .exec(self.db()?)
            .await?
            .rows_affected;
        Ok(updated > 0)
    }

    /// Batch `id`'s failed items so far.
    pub async fn failed_item_count(&self, id: &str) -> Result<u64, InventoryError> {
        use sea_orm::PaginatorTrait;
        Ok(batch_items::Entity::find()
            .filter(batch_items::Column::BatchId.eq(id))
            .filter(batch_items::Column::State.eq(ItemState::Failed.as_str()))
            .count(self.db()?)
            .await?)
    }

    /// Batch `id`'s first `most` items that failed or were cancelled, in
    /// item order.
    pub async fn unsuccessful_items(
        &self,
        id: &str,
        most: u64,
    ) -> Result<Vec<ItemRecord>, InventoryError> {
        batch_items::Entity::find()
            .filter(batch_items::Column::BatchId.eq(id))
            .filter(
                batch_items::Column::State
                    .is_in([ItemState::Failed.as_str(), ItemState::Cancelled.as_str()]),
            )
            .order_by_asc(batch_items::Column::Position)
            .limit(most)
            .all(self.db()?)
            .await?
            .into_iter()
            .map(item_record)
            .collect()
    }

    /// A page of batch `id`'s items, in item order.
    pub async fn list_items(
        &self,
        id: &str,
        filter: &ItemFilter,
        page: PageRequest,
    ) -> Result<Page<ItemRecord>, InventoryError> {
        let size = page.effective_size();
        let mut query = batch_items::Entity::find()
            .filter(batch_items::Column::BatchId.eq(id))
            .order_by_asc(batch_items::Column::Position)
            .limit(size + 1);
        if let Some(state) = filter.state {
            query = query.filter(batch_items::Column::State.eq(state.as_str()));
        }
        if let Some(server_id) = &filter.server_id {
            query = query.filter(batch_items::Column::ServerId.eq(server_id));
        }
        match paging::decode(&page)? {
            None => {}
            Some(Cursor::Items { position }) => {
                query = query.filter(batch_items::Column::Position.gt(position));
            }
            Some(_) => return Err(InventoryError::InvalidPageToken),
        }
        let rows = query.all(self.db()?).await?;
        let page = paging::page_of(rows, size, |row| Cursor::Items {
            position: row.position,
        });
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(item_record)
                .collect::<Result<_, _>>()?,
            next_token: page.next_token,
        })
    }

    /// Batch `id`'s items that ended at or after `since` (all ended ones
    /// when None), by end time.
    pub async fn ended_items(
        &self,
        id: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ItemRecord>, InventoryError> {
        let mut query = batch_items::Entity::find()
            .filter(batch_items::Column::BatchId.eq(id))
            .filter(batch_items::Column::EndedAt.is_not_null())
            .order_by_asc(batch_items::Column::EndedAt)
            .order_by_asc(batch_items::Column::Position);
        if let Some(since) = since {
            query = query.filter(batch_items::Column::EndedAt.gte(since));
        }
        query
            .all(self.db()?)
            .await?
            .into_iter()
            .map(item_record)
            .collect()
    }

    /// Deletes batches that ended before `before`, with their items.
    pub async fn prune_batches(&self, before: DateTime<Utc>) -> Result<u64, InventoryError> {
        let txn = self.db()?.begin().await?;
        let old = batches::Entity::find()
            .select_only()
            .column(batches::Column::Id)
            .filter(batches::Column::EndedAt.lt(before))
            .into_query();
        batch_items::Entity::delete_many()
            .filter(batch_items::Column::BatchId.in_subquery(old))
            .exec(&txn)
            .await?;
        let deleted = batches::Entity::delete_many()
            .filter(batches::Column::EndedAt.lt(before))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(deleted)
    }
}

/// Ends batch `id`'s pending items CANCELLED with `message`.
async fn cancel_pending(
    db: &impl ConnectionTrait,
    id: &str,
    message: &str,
) -> Result<(), InventoryError> {
    batch_items::Entity::update_many()
        .col_expr(
            batch_items::Column::State,
            Expr::value(ItemState::Cancelled.as_str()),
        )
        .col_expr(batch_items::Column::Code, Expr::value(CANCELLED_CODE))
        .col_expr(batch_items::Column::Reason, Expr::value(""))
        .col_expr(batch_items::Column::Message, Expr::value(message))
        .col_expr(batch_items::Column::EndedAt, Expr::value(now()))
        .filter(batch_items::Column::BatchId.eq(id))
        .filter(batch_items::Column::State.eq(ItemState::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Items open to a claim at `now`: pending and due (unless the batch
/// stopped), or running with an expired lease.
fn open(now: DateTime<Utc>, stopped: bool) -> sea_orm::Condition {
    let expired = batch_items::Column::State
        .eq(ItemState::Running.as_str())
        .and(batch_items::Column::LeaseUntil.lte(now));
    let due = batch_items::Column::State
        .eq(ItemState::Pending.as_str())
        .and(
            batch_items::Column::NotBefore
                .is_null()
                .or(batch_items::Column::NotBefore.lte(now)),
        );
    let condition = sea_orm::Condition::any().add(expired);
    if stopped {
        condition
    } else {
        condition.add(due)
    }
}

/// The gRPC code of a cancelled item (CANCELLED).
const CANCELLED_CODE: i32 = 1;

/// Batch `id`'s open items, as [`open`] says: for each of `free` (a
/// server and its free places) its first pending items due now (unless
/// `stopped`), and the first `room` running items whose lease expired; each
/// read by an index range of its own (`UNION ALL` of one subquery each).
async fn open_items(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    id: &str,
    now: DateTime<Utc>,
    free: &[(&str, u64)],
    stopped: bool,
    room: usize,
) -> Result<Vec<batch_items::Model>, InventoryError> {
    // $1 the batch, $2 now, $3... the servers.
    let mut arms = vec![format!(
        "SELECT * FROM (SELECT * FROM batch_items WHERE batch_id = $1 \
         AND state = 'running' AND lease_until <= $2 ORDER BY position LIMIT {room}) expired"
    )];
    let mut values: Vec<sea_orm::Value> = vec![id.into(), now.into()];
    if !stopped {
        for (n, (server, places)) in free.iter().enumerate() {
            values.push((*server).into());
            arms.push(format!(
                "SELECT * FROM (SELECT * FROM batch_items WHERE batch_id = $1 \
                 AND server_id = ${} AND state = 'pending' \
                 AND (not_before IS NULL OR not_before <= $2) \
                 ORDER BY position LIMIT {places}) s{n}",
                values.len()
            ));
        }
    }
    let sql = arms.join(" UNION ALL ");
    let sql = match backend {
        // SQLite numbers its parameters `?N`.
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql,
    };
    let statement = Statement::from_sql_and_values(backend, sql, values);
    Ok(batch_items::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

/// The ids to claim of `candidates`: servers in the order of `free`, each
/// server's first item, then each one's second, and so on, within
/// `per_server` running items a server and `room` in all.
fn take_turns(
    candidates: Vec<batch_items::Model>,
    free: &[(&str, u64)],
    busy: &HashMap<String, u64>,
    per_server: u64,
    room: usize,
) -> Vec<i64> {
    let mut by_server: BTreeMap<String, Vec<batch_items::Model>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for item in candidates {
        if seen.insert(item.id) {
            by_server
                .entry(item.server_id.clone())
                .or_default()
                .push(item);
        }
    }
    let mut queues: Vec<(u64, std::collections::VecDeque<i64>)> = free
        .iter()
        .map(|(server, _)| *server)
        .chain(
            by_server
                .keys()
                .map(String::as_str)
                .filter(|server| !free.iter().any(|(free, _)| free == server)),
        )
        .filter_map(|server| {
            let mut items = by_server.get(server)?.clone();
            items.sort_by_key(|item| item.position);
            let running = busy.get(server).copied().unwrap_or(0);
            Some((running, items.into_iter().map(|item| item.id).collect()))
        })
        .collect();
    let mut chosen = Vec::new();
    while chosen.len() < room {
        let mut took = false;
        for (running, queue) in &mut queues {
            if chosen.len() == room {
                break;
            }
            if *running < per_server
                && let Some(id) = queue.pop_front()
            {
                *running += 1;
                chosen.push(id);
                took = true;
            }
        }
        if !took {
            break;
        }
    }
    chosen
}

fn limit(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

fn expiry(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX)
}

fn corrupt(what: &str, field: &str) -> sea_orm::DbErr {
    sea_orm::DbErr::Type(format!("batch {what} has an invalid {field}"))
}

fn batch_record(row: batches::Model) -> Result<BatchRecord, InventoryError> {
    let groups: Option<BTreeSet<String>> = row
        .groups
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| corrupt("batch", "groups"))?;
    let kind: BatchKind = row.kind.parse().map_err(|_| corrupt("batch", "kind"))?;
    let state: BatchState = row.state.parse().map_err(|_| corrupt("batch", "state"))?;
    let unsigned_limit = |n: i32| u32::try_from(n).unwrap_or_default();
    Ok(BatchRecord {
        id: row.id,
        kind,
        caller: row.caller,
        groups,
        reason: row.reason,
        package: row.package,
        limits: BatchLimits {
            per_server: unsigned_limit(row.per_server_limit),
            overall: unsigned_limit(row.overall_limit),
            max_failures: unsigned_limit(row.max_failures),
        },
        total: unsigned(row.total),
        state,
        cancel_requested: row.cancel_requested,
        stop_reason: row.stop_reason,
        created_at: row.created_at,
        ended_at: row.ended_at,
    })
}

fn item_record(row: batch_items::Model) -> Result<ItemRecord, InventoryError> {
    let state: ItemState = row.state.parse().map_err(|_| corrupt("item", "state"))?;
    let outcome = row.code.map(|code| ItemOutcome {
        code,
        reason: row.reason,
        message: row.message,
        detail: row.detail,
    });
    Ok(ItemRecord {
        id: row.id,
        position: unsigned(row.position),
        server_id: row.server_id,
        username: row.username,
        state,
        attempts: u32::try_from(row.attempts).unwrap_or_default(),
        deferrals: u32::try_from(row.deferrals).unwrap_or_default(),
        outcome,
        ended_at: row.ended_at,
    })
}

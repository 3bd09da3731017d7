//! Idempotent mutations (AIP-155) on the journal's rows: a call claims its
//! (caller, request id) before it runs and stores its outcome when it ends, so a
//! retry is replayed instead of run twice.
//!
//! The request digest and the reply are sealed, bound to their row and column
//! (`operation/{id}/digest`, `operation/{id}/reply`). Claims are single statements
//! (`INSERT .. ON CONFLICT DO NOTHING`, then a compare-and-set `UPDATE`), so no two
//! callers ever run the same key at once, on either backend.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, EntityTrait, ExprTrait, IntoActiveModel, QueryFilter, QuerySelect, UpdateMany,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::Inventory;
use super::operations::corrupt;
use crate::crypto::Sealed;
use crate::entities::operations;
use crate::{
    Claim, InventoryError, Keyring, OperationEnd, OperationRecord, OperationStart, Record,
    StoredOutcome,
};

/// Read-and-claim rounds before a contended start settles for `InFlight`; a loser
/// normally sees the winner's claim on its first re-read.
const MAX_CLAIM_ROUNDS: usize = 8;

impl Inventory {
    /// Claims a mutating call before it runs (see [`Claim`]). `start.started_at` is
    /// the current time for the lease: a pending claim older than `lease` is taken
    /// to be abandoned and may be taken over. Without `request_id` the call is only
    /// journalled (always `Run`); with one, `NoMasterKey` without a keyring.
    pub async fn start_operation(
        &self,
        start: OperationStart,
        lease: Duration,
    ) -> Result<Claim, InventoryError> {
        let id = Uuid::new_v4().to_string();
        let Some(request_id) = start.request_id.as_deref() else {
            let row = new_row(&start, id.clone(), None);
            operations::Entity::insert(row.into_active_model())
                .exec_without_returning(self.db()?)
                .await?;
            return Ok(Claim::Run {
                id,
                uncertain: false,
            });
        };
        let keyring = self.keyring()?;
        let digest = keyring.seal(&digest_aad(&id), &start.digest)?;
        let row = new_row(&start, id, Some(digest));
        let lease = TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
        for _ in 0..MAX_CLAIM_ROUNDS {
            if self.insert_if_new(&row).await? {
                return Ok(Claim::Run {
                    id: row.id,
                    uncertain: false,
                });
            }
            // Gone between the insert and the read (pruned): try to insert again.
            let Some(seen) = self.find_by_key(&start.caller, request_id).await? else {
                continue;
            };
            match decide(keyring, &seen, &start, row.claimed_at, lease)? {
                Decision::Answer(claim) => return Ok(claim),
                Decision::TakeOver if self.take_over(&seen, row.claimed_at).await? => {
                    return Ok(Claim::Run {
                        id: seen.id,
                        uncertain: true,
                    });
                }
                // Another caller changed the row first: look again.
                Decision::TakeOver => {}
            }
        }
        Ok(Claim::InFlight)
    }

    /// Stores how a claimed call ended. With a request id, the reply is sealed under
    /// the primary key (and the digest re-sealed if an older key sealed it, so the row
    /// has one key id). Only a pending row is written: if another caller took the
    /// key over and finished first, its result stays and this one is dropped (with a
    /// warning). `NotFound` if there is no such operation.
    pub async fn finish_operation(
        &self,
        id: &str,
        end: OperationEnd,
    ) -> Result<(), InventoryError> {
        let (request_id, key_id, digest): (Option<String>, Option<String>, Option<Vec<u8>>) =
            operations::Entity::find_by_id(id)
                .select_only()
                .column(operations::Column::RequestId)
                .column(operations::Column::KeyId)
                .column(operations::Column::RequestDigest)
                .into_tuple()
                .one(self.db()?)
                .await?
                .ok_or_else(|| InventoryError::not_found(Record::Operation, id))?;
        let mut update = operations::Entity::update_many()
            .col_expr(operations::Column::ServerId, Expr::value(end.server_id))
            .col_expr(operations::Column::Resource, Expr::value(end.resource))
            .col_expr(operations::Column::Outcome, Expr::value(end.outcome))
            .col_expr(
                operations::Column::ErrorMessage,
                Expr::value(end.error_message),
            )
            .col_expr(operations::Column::Retryable, Expr::value(end.retryable))
            .col_expr(
                operations::Column::FinishedAt,
                Expr::value(end.finished_at.trunc_subsecs(6)),
            )
            .filter(operations::Column::Id.eq(id))
            .filter(operations::Column::Outcome.eq(OperationRecord::PENDING));
        if request_id.is_some() {
            let keyring = self.keyring()?;
            update = with_sealed_payload(update, keyring, id, key_id, digest, end.reply)?;
        }
        if update.exec(self.db()?).await?.rows_affected == 0 {
            tracing::warn!(
                operation_id = id,
                "operation no longer pending: its stored result is kept"
            );
        }
        Ok(())
    }

    /// Renews the claims of calls still running (`ids`): their leases start
    /// again at `now`. Rows no longer pending are left alone.
    pub async fn renew_operations(
        &self,
        ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), InventoryError> {
        if ids.is_empty() {
            return Ok(());
        }
        operations::Entity::update_many()
            .col_expr(
                operations::Column::ClaimedAt,
                Expr::value(now.trunc_subsecs(6)),
            )
            .filter(operations::Column::Id.is_in(ids.iter().map(String::as_str)))
            .filter(operations::Column::Outcome.eq(OperationRecord::PENDING))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// Pins (or, with `None`, unpins) a pending operation to the server its
    /// panel call goes to, before the call: a retry after an unknown outcome
    /// goes to the same server.
    pub async fn pin_operation(
        &self,
        id: &str,
        server_id: Option<&str>,
    ) -> Result<(), InventoryError> {
        operations::Entity::update_many()
            .col_expr(operations::Column::PinnedServerId, Expr::value(server_id))
            .filter(operations::Column::Id.eq(id))
            .filter(operations::Column::Outcome.eq(OperationRecord::PENDING))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// The server operation `id` is pinned to, if any.
    pub async fn operation_pin(&self, id: &str) -> Result<Option<String>, InventoryError> {
        let pinned: Option<Option<String>> = operations::Entity::find_by_id(id)
            .select_only()
            .column(operations::Column::PinnedServerId)
            .into_tuple()
            .one(self.db()?)
            .await?;
        Ok(pinned.flatten())
    }

    /// Inserts a claimed row; false if the caller's request id is taken.
    async fn insert_if_new(&self, row: &operations::Model) -> Result<bool, InventoryError> {
        let inserted = operations::Entity::insert(row.clone().into_active_model())
            .on_conflict(
                OnConflict::columns([operations::Column::Caller, operations::Column::RequestId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.db()?)
            .await?;
        Ok(inserted == 1)
    }

    async fn find_by_key(
        &self,
        caller: &str,
        request_id: &str,
    ) -> Result<Option<operations::Model>, InventoryError> {
        Ok(operations::Entity::find()
            .filter(operations::Column::Caller.eq(caller))
            .filter(operations::Column::RequestId.eq(request_id))
            .one(self.db()?)
            .await?)
    }

    /// Claims `seen` again, only if it is still in the state it was read in (same
    /// attempt and outcome, key not forgotten); true if this caller won it.
    async fn take_over(
        &self,
        seen: &operations::Model,
        now: DateTime<Utc>,
    ) -> Result<bool, InventoryError> {
        let updated = operations::Entity::update_many()
            .col_expr(
                operations::Column::Outcome,
                Expr::value(OperationRecord::PENDING),
            )
            .col_expr(
                operations::Column::Attempts,
                Expr::col(operations::Column::Attempts).add(1),
            )
            .col_expr(operations::Column::ClaimedAt, Expr::value(now))
            .col_expr(
                operations::Column::FinishedAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(operations::Column::Id.eq(&seen.id))
            .filter(operations::Column::Attempts.eq(seen.attempts))
            .filter(operations::Column::Outcome.eq(&seen.outcome))
            .filter(operations::Column::RequestId.is_not_null())
            .exec(self.db()?)
            .await?;
        Ok(updated.rows_affected == 1)
    }
}

/// What to do about an existing row with the caller's request id.
enum Decision {
    /// Tell the caller this.
    Answer(Claim),
    /// The earlier attempt ended retryable or was abandoned: claim the row again.
    TakeOver,
}

fn decide(
    keyring: &Keyring,
    seen: &operations::Model,
    start: &OperationStart,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Decision, InventoryError> {
    let (Some(key_id), Some(sealed)) = (&seen.key_id, &seen.request_digest) else {
        return Err(corrupt(&seen.id, "request digest"));
    };
    let digest = keyring.open(key_id, &digest_aad(&seen.id), sealed)?;
    // The method counts too: two methods may encode to the same bytes.
    if seen.method != start.method || digest.expose_secret() != start.digest.as_slice() {
        return Ok(Decision::Answer(Claim::Reused));
    }
    if seen.outcome == OperationRecord::PENDING {
        return Ok(if now - seen.claimed_at < lease {
            Decision::Answer(Claim::InFlight)
        } else {
            Decision::TakeOver
        });
    }
    if seen.retryable {
        return Ok(Decision::TakeOver);
    }
    let reply = seen
        .reply
        .as_ref()
        .map(|sealed| keyring.open(key_id, &reply_aad(&seen.id), sealed))
        .transpose()?;
    Ok(Decision::Answer(Claim::Replay(StoredOutcome {
        outcome: seen.outcome.clone(),
        error_message: seen.error_message.clone(),
        reply,
    })))
}

/// Adds the reply sealed under the primary key to `update`, and the digest too when
/// another key sealed it, so the row keeps a single key id.
fn with_sealed_payload(
    update: UpdateMany<operations::Entity>,
    keyring: &Keyring,
    id: &str,
    key_id: Option<String>,
    digest: Option<Vec<u8>>,
    reply: Option<Vec<u8>>,
) -> Result<UpdateMany<operations::Entity>, InventoryError> {
    let primary = keyring.primary.key_id();
    let reply = reply
        .map(|reply| keyring.seal(&reply_aad(id), &reply))
        .transpose()?
        .map(|sealed| sealed.bytes);
    let mut update = update
        .col_expr(operations::Column::Reply, Expr::value(reply))
        .col_expr(operations::Column::KeyId, Expr::value(primary));
    if let (Some(key_id), Some(digest)) = (key_id, digest)
        && key_id != primary
    {
        let resealed = keyring.reseal(&key_id, &digest_aad(id), &digest)?;
        update = update.col_expr(
            operations::Column::RequestDigest,
            Expr::value(resealed.bytes),
        );
    }
    Ok(update)
}

/// The associated data of an operation's sealed request digest.
pub(super) fn digest_aad(id: &str) -> String {
    format!("operation/{id}/digest")
}

/// The associated data of an operation's sealed reply.
pub(super) fn reply_aad(id: &str) -> String {
    format!("operation/{id}/reply")
}

/// A pending row, first claimed at `start.started_at`.
fn new_row(start: &OperationStart, id: String, digest: Option<Sealed>) -> operations::Model {
    let now = start.started_at.trunc_subsecs(6);
    operations::Model {
        id,
        request_id: start.request_id.clone(),
        caller: start.caller.clone(),
        method: start.method.clone(),
        server_id: start.server_id.clone(),
        pinned_server_id: None,
        resource: start.resource.clone(),
        outcome: OperationRecord::PENDING.to_owned(),
        error_message: None,
        retryable: false,
        attempts: 1,
        key_id: digest.as_ref().map(|sealed| sealed.key_id.clone()),
        request_digest: digest.map(|sealed| sealed.bytes),
        reply: None,
        started_at: now,
        claimed_at: now,
        finished_at: None,
    }
}

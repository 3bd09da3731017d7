//! The operation journal: reading it, listing it with filters, and ageing it. The
//! idempotency side of the same rows (claims, replays) is in `idempotency.rs`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Inventory;
use super::paging::{self, Cursor};
use crate::entities::{operations, servers};
use crate::{
    InventoryError, OperationFilter, OperationRecord, Page, PageRequest, PruneReport, Record,
};

impl Inventory {
    /// The journal entry with this id, or `NotFound`.
    pub async fn get_operation(&self, id: &str) -> Result<OperationRecord, InventoryError> {
        let row = operations::Entity::find_by_id(id)
            .one(self.db()?)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Operation, id))?;
        record(row)
    }

    /// Journal entries matching every condition of `filter`, newest first.
    pub async fn list_operations(
        &self,
        filter: &OperationFilter,
        page: PageRequest,
    ) -> Result<Page<OperationRecord>, InventoryError> {
        let size = page.effective_size();
        let mut query = operations::Entity::find()
            .order_by_desc(operations::Column::StartedAt)
            .order_by_desc(operations::Column::Id)
            .limit(size + 1);
        if let Some(caller) = &filter.caller {
            query = query.filter(operations::Column::Caller.eq(caller));
        }
        if let Some(method) = &filter.method {
            query = query.filter(operations::Column::Method.eq(method));
        }
        if let Some(server_id) = &filter.server_id {
            query = query.filter(operations::Column::ServerId.eq(server_id));
        }
        if let Some(groups) = &filter.server_groups {
            query = query.filter(on_server_in_groups(groups));
        }
        if let Some(resource) = &filter.resource {
            query = query.filter(operations::Column::Resource.eq(resource));
        }
        if let Some(since) = filter.since {
            query = query.filter(operations::Column::StartedAt.gte(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(operations::Column::StartedAt.lt(until));
        }
        match paging::decode(&page)? {
            None => {}
            Some(Cursor::Operations { started_at, id }) => {
                let started_at = DateTime::from_timestamp_micros(started_at)
                    .ok_or(InventoryError::InvalidPageToken)?;
                // Strictly after the last item in (started_at desc, id desc) order.
                query = query.filter(
                    Condition::any()
                        .add(operations::Column::StartedAt.lt(started_at))
                        .add(
                            Condition::all()
                                .add(operations::Column::StartedAt.eq(started_at))
                                .add(operations::Column::Id.lt(id)),
                        ),
                );
            }
            Some(_) => return Err(InventoryError::InvalidPageToken),
        }

        let rows = query.all(self.db()?).await?;
        let page = paging::page_of(rows, size, |row| {
            Cursor::operations(row.started_at, &row.id)
        });
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(record)
                .collect::<Result<_, _>>()?,
            next_token: page.next_token,
        })
    }

    /// Ages the journal. Finished entries with `finished_at < forget_keys_before`
    /// lose their idempotency payload (request id, digest, reply), so the key may be
    /// used afresh; the audit part stays. Entries started and last claimed before
    /// `delete_before` are deleted. Pending entries are never forgotten.
    pub async fn prune_operations(
        &self,
        forget_keys_before: DateTime<Utc>,
        delete_before: DateTime<Utc>,
    ) -> Result<PruneReport, InventoryError> {
        let deleted = operations::Entity::delete_many()
            .filter(operations::Column::StartedAt.lt(delete_before))
            // A key retried since may be running: it stays until its claim ages too.
            .filter(operations::Column::ClaimedAt.lt(delete_before))
            .exec(self.db()?)
            .await?
            .rows_affected;
        let forgotten = operations::Entity::update_many()
            .col_expr(operations::Column::RequestId, Expr::value(None::<String>))
            .col_expr(
                operations::Column::RequestDigest,
                Expr::value(None::<Vec<u8>>),
            )
            .col_expr(operations::Column::Reply, Expr::value(None::<Vec<u8>>))
            .col_expr(operations::Column::KeyId, Expr::value(None::<String>))
            .filter(operations::Column::RequestId.is_not_null())
            // Pending rows have no finished_at, so this never matches them.
            .filter(operations::Column::FinishedAt.lt(forget_keys_before))
            // Implied (a call starts before it ends); lets the started_at index help.
            .filter(operations::Column::StartedAt.lt(forget_keys_before))
            .exec(self.db()?)
            .await?
            .rows_affected;
        tracing::debug!(forgotten, deleted, "operation journal pruned");
        Ok(PruneReport { forgotten, deleted })
    }
}

/// `server_id IN (SELECT id FROM servers WHERE group_name IN (..))`
fn on_server_in_groups(groups: &BTreeSet<String>) -> Expr {
    operations::Column::ServerId.in_subquery(
        Query::select()
            .column(servers::Column::Id)
            .from(servers::Entity)
            .and_where(servers::Column::GroupName.is_in(groups.iter().cloned()))
            .to_owned(),
    )
}

fn record(row: operations::Model) -> Result<OperationRecord, InventoryError> {
    let attempts = u32::try_from(row.attempts).map_err(|_| corrupt(&row.id, "attempts"))?;
    Ok(OperationRecord {
        id: row.id,
        request_id: row.request_id,
        caller: row.caller,
        method: row.method,
        server_id: row.server_id,
        resource: row.resource,
        outcome: row.outcome,
        error_message: row.error_message,
        retryable: row.retryable,
        attempts,
        started_at: row.started_at,
        claimed_at: row.claimed_at,
        finished_at: row.finished_at,
    })
}

/// A row that breaks the table's invariants.
pub(super) fn corrupt(id: &str, what: &str) -> InventoryError {
    DbErr::Type(format!("operation `{id}` has an invalid {what}")).into()
}

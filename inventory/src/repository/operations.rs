//! The operation journal.

use chrono::SubsecRound;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::Inventory;
use super::paging::{self, Cursor};
use crate::entities::operations;
use crate::{InventoryError, NewOperation, OperationFilter, OperationRecord, Page, PageRequest};

impl Inventory {
    /// Appends a finished call to the journal (times are kept to the microsecond).
    /// `AlreadyExists` if the caller already used this `request_id`.
    pub async fn record_operation(&self, op: NewOperation) -> Result<(), InventoryError> {
        let row = operations::Model {
            id: Uuid::new_v4().to_string(),
            request_id: op.request_id,
            caller: op.caller,
            method: op.method,
            server_id: op.server_id,
            resource: op.resource,
            request_digest: op.request_digest,
            outcome: op.outcome,
            error_message: op.error_message,
            response: op.response,
            started_at: op.started_at.trunc_subsecs(6),
            finished_at: op.finished_at.trunc_subsecs(6),
        };
        let key = row.request_id.clone().unwrap_or_default();
        operations::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(|err| InventoryError::on_unique(err, "operation", &key))?;
        Ok(())
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
        if let Some(server_id) = &filter.server_id {
            query = query.filter(operations::Column::ServerId.eq(server_id));
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
                let started_at = chrono::DateTime::from_timestamp_micros(started_at)
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

        let rows = query.all(&self.db).await?;
        let page = paging::page_of(rows, size, |row| {
            Cursor::operations(row.started_at, &row.id)
        });
        Ok(Page {
            items: page.items.into_iter().map(record).collect(),
            next_token: page.next_token,
        })
    }
}

fn record(row: operations::Model) -> OperationRecord {
    OperationRecord {
        id: row.id,
        request_id: row.request_id,
        caller: row.caller,
        method: row.method,
        server_id: row.server_id,
        resource: row.resource,
        request_digest: row.request_digest,
        outcome: row.outcome,
        error_message: row.error_message,
        response: row.response,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }
}

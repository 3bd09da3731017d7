//! OperationService: the journal of mutating calls, for audit. A caller whose
//! token is limited to some inventory groups sees only calls on their servers.

use chrono::{DateTime, Utc};
use panelgate_inventory::{OperationFilter, OperationRecord, PageRequest};
use panelgate_proto::v1::{
    ErrorReason, GetOperationRequest, GetOperationResponse, ListOperationsRequest,
    ListOperationsResponse, OperationEntry, operation_service_server::OperationService,
};

use super::{page_size, timestamp};
use crate::{
    app::App,
    call::{Body, Call},
    error::GatewayError,
    routing::Read,
    validate,
};

/// The OperationService implementation.
pub struct OperationApi {
    app: App,
}

impl OperationApi {
    /// Serves the journal through `app`.
    pub fn new(app: App) -> Self {
        OperationApi { app }
    }

    /// Refuses a journal entry of no server of the caller's groups, when the
    /// caller's token is limited to some. The journal outlives servers, so a
    /// removed server's calls are hidden.
    async fn allow(&self, call: &Call, record: &OperationRecord) -> Result<(), GatewayError> {
        if call.groups().is_none() {
            return Ok(());
        }
        let server = match record.server_id.as_deref() {
            Some(id) => self.app.router.server_by_id(id, Read::Cached).await.ok(),
            None => None,
        };
        match server {
            Some(server) => call.allow_group(&server.group),
            None => Err(GatewayError::PermissionDenied {
                reason: ErrorReason::GroupNotAllowed,
                message: "the operation is not on a server of the token's groups".to_owned(),
            }),
        }
    }

    async fn list_operations(
        &self,
        call: Call,
        req: ListOperationsRequest,
    ) -> Body<ListOperationsResponse> {
        let size = page_size(req.page_size)?;
        let server_id = match &req.target {
            Some(target) => Some(call.server(Some(target)).await?.id.clone()),
            None => None,
        };
        let filter = OperationFilter {
            caller: optional(&req.caller),
            server_id,
            resource: optional(&req.resource),
            method: optional(&req.method),
            since: time("start_time_from", req.start_time_from)?,
            until: time("start_time_to", req.start_time_to)?,
            server_groups: call.groups().cloned(),
        };
        let page = PageRequest {
            size: u32::try_from(size).unwrap_or(u32::MAX),
            token: (!req.page_token.is_empty()).then_some(req.page_token),
        };
        let found = self.app.inventory.list_operations(&filter, page).await?;
        Ok(ListOperationsResponse {
            operations: found.items.iter().map(entry).collect(),
            next_page_token: found.next_token.unwrap_or_default(),
        })
    }

    async fn get_operation(
        &self,
        call: Call,
        req: GetOperationRequest,
    ) -> Body<GetOperationResponse> {
        let id = validate::uuid("id", &req.id)?;
        let record = self.app.inventory.get_operation(&id).await?;
        self.allow(&call, &record).await?;
        Ok(GetOperationResponse {
            operation: Some(entry(&record)),
        })
    }
}

serve!(OperationService for OperationApi {
    list_operations(ListOperationsRequest),
    get_operation(GetOperationRequest),
});

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn time(
    field: &str,
    value: Option<prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, GatewayError> {
    value
        .map(|ts| {
            u32::try_from(ts.nanos)
                .ok()
                .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos))
                .ok_or_else(|| GatewayError::invalid(field, "not a valid timestamp"))
        })
        .transpose()
}

/// The canonical view of a journal entry.
fn entry(record: &OperationRecord) -> OperationEntry {
    let done = record.finished_at.is_some();
    OperationEntry {
        id: record.id.clone(),
        request_id: record.request_id.clone().unwrap_or_default(),
        caller: record.caller.clone(),
        method: record.method.clone(),
        server_id: record.server_id.clone().unwrap_or_default(),
        resource: record.resource.clone(),
        done,
        code: if done {
            record.outcome.clone()
        } else {
            String::new()
        },
        error_message: record.error_message.clone().unwrap_or_default(),
        attempts: record.attempts,
        start_time: Some(timestamp(record.started_at)),
        end_time: record.finished_at.map(timestamp),
        duration: record.finished_at.and_then(|finished| {
            prost_types::Duration::try_from((finished - record.claimed_at).to_std().ok()?).ok()
        }),
    }
}

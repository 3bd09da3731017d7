//! FleetService: sync runs over a selector of servers, and the fleet-wide
//! account search, answered from the index alone.

use std::{collections::BTreeSet, sync::Arc};

use chrono::Utc;
use panelgate_adapters::kind_name;
use panelgate_inventory::{
    AccountOrder, AccountSearch, Finding, FindingFilter, IndexedAccount, PageRequest, ServerFilter,
    ServerRecord, SyncClass, SyncRunRecord, UsageFigures,
};
use panelgate_proto::v1::{
    self, ErrorReason, FieldDifference, GetSyncRunRequest, GetSyncRunResponse, IndexedUsage, Limit,
    ListSyncFindingsRequest, ListSyncFindingsResponse, ResourceUsage, SearchAccountsRequest,
    SearchAccountsResponse, ServerSelector, SyncCounts, SyncFinding, SyncRun, SyncRunState,
    SyncServersRequest, SyncServersResponse, fleet_service_server::FleetService,
};

use super::{
    inventory::fields::{labels, optional_text, panel_kind},
    page_size, timestamp,
};
use crate::{
    app::App,
    call::{Body, Call},
    error::GatewayError,
    sync::{self, Plan},
    validate,
};

/// Most server ids one selector may name.
const MAX_SERVER_IDS: usize = 10_000;

/// The FleetService implementation.
pub struct FleetApi {
    app: App,
}

impl FleetApi {
    /// Serves sync runs and the fleet-wide search through `app`.
    pub fn new(app: App) -> Self {
        FleetApi { app }
    }

    async fn sync_servers(&self, call: Call, req: SyncServersRequest) -> Body<SyncServersResponse> {
        if req.collect_usage && !req.apply {
            let reason = "usage is read into the index: set apply too";
            return Err(GatewayError::invalid("collect_usage", reason).into());
        }
        let (servers, unknown) =
            select_servers(&self.app, &call, req.servers.unwrap_or_default()).await?;
        let plan = Plan {
            servers,
            unknown,
            apply: req.apply,
            collect_usage: req.collect_usage,
            key: None,
            report_matched: true,
            caller: call.subject().to_owned(),
            pace: std::time::Duration::ZERO,
        };
        let run = sync::start(&self.app, plan).await?;
        call.about(format!("sync-run/{}", run.id));
        Ok(SyncServersResponse {
            run: Some(run_message(&run)),
        })
    }

    async fn get_sync_run(&self, call: Call, req: GetSyncRunRequest) -> Body<GetSyncRunResponse> {
        let id = validate::uuid("id", &req.id)?;
        let run = self.app.inventory.get_sync_run(&id).await?;
        allow_run(&call, &run)?;
        Ok(GetSyncRunResponse {
            run: Some(run_message(&run)),
        })
    }

    async fn list_sync_findings(
        &self,
        call: Call,
        req: ListSyncFindingsRequest,
    ) -> Body<ListSyncFindingsResponse> {
        let run_id = validate::uuid("run_id", &req.run_id)?;
        let run = self.app.inventory.get_sync_run(&run_id).await?;
        allow_run(&call, &run)?;
        let filter = FindingFilter {
            class: sync_class("class", req.class)?,
            server_id: (!req.server_id.is_empty()).then_some(req.server_id),
            any_group_of: call.groups().cloned(),
        };
        let page = page_request(req.page_size, req.page_token)?;
        let found = self
            .app
            .inventory
            .list_sync_findings(&run_id, &filter, page)
            .await?;
        Ok(ListSyncFindingsResponse {
            findings: found.items.into_iter().map(finding_message).collect(),
            next_page_token: found.next_token.unwrap_or_default(),
        })
    }

    async fn search_accounts(
        &self,
        call: Call,
        req: SearchAccountsRequest,
    ) -> Body<SearchAccountsResponse> {
        let search = account_search(&call, &req, "")?;
        let page = page_request(req.page_size, req.page_token)?;
        let found = self.app.inventory.search_accounts(&search, page).await?;
        Ok(SearchAccountsResponse {
            accounts: found.items.into_iter().map(indexed_message).collect(),
            next_page_token: found.next_token.unwrap_or_default(),
        })
    }
}

serve!(FleetService for FleetApi {
    sync_servers(SyncServersRequest),
    get_sync_run(GetSyncRunRequest),
    list_sync_findings(ListSyncFindingsRequest),
    search_accounts(SearchAccountsRequest),
});

/// The servers `selector` names that the caller may see, and the ids it
/// names that no such server has.
pub(super) async fn select_servers(
    app: &App,
    call: &Call,
    selector: ServerSelector,
) -> Result<(Vec<Arc<ServerRecord>>, Vec<String>), GatewayError> {
    let ids: BTreeSet<String> = selector
        .server_ids
        .iter()
        .map(|id| id.trim().to_owned())
        .collect();
    if ids.len() > MAX_SERVER_IDS {
        return Err(GatewayError::invalid(
            "servers.server_ids",
            format!("at most {MAX_SERVER_IDS} ids"),
        ));
    }
    if ids.iter().any(String::is_empty) {
        return Err(GatewayError::invalid(
            "servers.server_ids",
            "must not hold an empty id",
        ));
    }
    let filter = ServerFilter {
        kind: kind_filter("servers.kind", selector.kind)?,
        group: optional_text("servers.group", &selector.group)?,
        any_group_of: call.groups().cloned(),
        labels: labels("servers.labels", selector.labels)?,
        ids: (!ids.is_empty()).then(|| ids.clone()),
        ..ServerFilter::default()
    };
    let narrowed = filter.kind.is_some()
        || filter.group.is_some()
        || !filter.labels.is_empty()
        || filter.ids.is_some();
    if !narrowed && !selector.whole_fleet {
        return Err(GatewayError::invalid(
            "servers",
            "name server_ids, a group, labels or a kind, or set whole_fleet",
        ));
    }
    let servers = sync::select(app, &filter).await?;
    let found: BTreeSet<&str> = servers.iter().map(|server| server.id.as_str()).collect();
    let unknown = ids
        .iter()
        .filter(|id| !found.contains(id.as_str()))
        .cloned()
        .collect();
    Ok((servers, unknown))
}

/// The index search `req` asks for, within the caller's groups; `prefix`
/// names where the request sits in a larger one (e.g. "accounts.search.").
pub(super) fn account_search(
    call: &Call,
    req: &SearchAccountsRequest,
    prefix: &str,
) -> Result<AccountSearch, GatewayError> {
    let field = |name: &str| format!("{prefix}{name}");
    let text = |value: &str| (!value.trim().is_empty()).then(|| value.trim().to_owned());
    Ok(AccountSearch {
        group: text(&req.group),
        any_group_of: call.groups().cloned(),
        server_id: text(&req.server_id),
        kind: kind_filter(&field("kind"), req.kind)?,
        package: text(&req.package),
        status: match v1::AccountStatus::try_from(req.status) {
            Ok(v1::AccountStatus::Unspecified) => None,
            Ok(status) => Some(sync::stored_status(status)),
            Err(_) => {
                return Err(GatewayError::invalid(
                    field("status"),
                    "must be ACTIVE or SUSPENDED",
                ));
            }
        },
        primary_domain: text(&req.primary_domain),
        domain_suffix: text(&req.domain_suffix),
        username_prefix: text(&req.username_prefix),
        missing: req.missing,
        mismatched: req.mismatched,
        min_usage_percent: match req.min_usage_percent {
            0 => None,
            percent @ 1..=100 => Some(percent),
            _ => {
                return Err(GatewayError::invalid(
                    field("min_usage_percent"),
                    "must be 1 to 100 (or 0 for no condition)",
                ));
            }
        },
        order: match v1::AccountOrder::try_from(req.order_by) {
            Ok(v1::AccountOrder::Unspecified) => AccountOrder::Server,
            Ok(v1::AccountOrder::DiskDesc) => AccountOrder::DiskDesc,
            Err(_) => return Err(GatewayError::invalid(field("order_by"), "unknown order")),
        },
    })
}

/// Refuses a run started by another caller to a token limited to some
/// groups (the run may cover servers of other groups).
fn allow_run(call: &Call, run: &SyncRunRecord) -> Result<(), GatewayError> {
    if call.groups().is_none() || run.caller == call.subject() {
        return Ok(());
    }
    Err(GatewayError::PermissionDenied {
        reason: ErrorReason::GroupNotAllowed,
        message: "the sync run was started by another caller".to_owned(),
    })
}

/// A kind filter; None for UNSPECIFIED.
fn kind_filter(field: &str, value: i32) -> Result<Option<String>, GatewayError> {
    match value {
        0 => Ok(None),
        kind => Ok(Some(kind_name(panel_kind(field, kind)?).to_owned())),
    }
}

fn page_request(size: i32, token: String) -> Result<PageRequest, GatewayError> {
    Ok(PageRequest {
        size: u32::try_from(page_size(size)?).unwrap_or(u32::MAX),
        token: (!token.is_empty()).then_some(token),
    })
}

/// A class filter; None for UNSPECIFIED.
fn sync_class(field: &str, value: i32) -> Result<Option<SyncClass>, GatewayError> {
    let class = v1::SyncClass::try_from(value)
        .map_err(|_| GatewayError::invalid(field, "unknown class"))?;
    Ok(match class {
        v1::SyncClass::Unspecified => None,
        v1::SyncClass::Matched => Some(SyncClass::Matched),
        v1::SyncClass::PanelOnly => Some(SyncClass::PanelOnly),
        v1::SyncClass::IndexOnly => Some(SyncClass::IndexOnly),
        v1::SyncClass::Mismatched => Some(SyncClass::Mismatched),
        v1::SyncClass::ServerUnreachable => Some(SyncClass::ServerUnreachable),
        v1::SyncClass::ServerUnknown => Some(SyncClass::ServerUnknown),
        v1::SyncClass::ServerDisabled => Some(SyncClass::ServerDisabled),
    })
}

fn class_message(class: SyncClass) -> v1::SyncClass {
    match class {
        SyncClass::Matched => v1::SyncClass::Matched,
        SyncClass::PanelOnly => v1::SyncClass::PanelOnly,
        SyncClass::IndexOnly => v1::SyncClass::IndexOnly,
        SyncClass::Mismatched => v1::SyncClass::Mismatched,
        SyncClass::ServerUnreachable => v1::SyncClass::ServerUnreachable,
        SyncClass::ServerUnknown => v1::SyncClass::ServerUnknown,
        SyncClass::ServerDisabled => v1::SyncClass::ServerDisabled,
    }
}

fn run_message(run: &SyncRunRecord) -> SyncRun {
    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let state = if run.done {
        SyncRunState::Done
    } else if run.interrupted(Utc::now()) {
        SyncRunState::Interrupted
    } else {
        SyncRunState::Running
    };
    SyncRun {
        id: run.id.clone(),
        state: state.into(),
        apply: run.apply,
        collect_usage: run.collect_usage,
        caller: run.caller.clone(),
        servers_total: clamp(run.servers_total),
        servers_done: clamp(run.servers_done),
        servers_failed: clamp(run.servers_failed),
        accounts: Some(SyncCounts {
            matched: clamp(run.counts.matched),
            panel_only: clamp(run.counts.panel_only),
            index_only: clamp(run.counts.index_only),
            mismatched: clamp(run.counts.mismatched),
        }),
        start_time: Some(timestamp(run.started_at)),
        update_time: Some(timestamp(run.updated_at)),
        end_time: run.ended_at.map(timestamp),
    }
}

fn finding_message(finding: Finding) -> SyncFinding {
    SyncFinding {
        server_id: finding.server_id,
        username: finding.username,
        class: class_message(finding.class).into(),
        differences: finding
            .differences
            .into_iter()
            .map(|d| FieldDifference {
                field: d.field,
                index_value: d.index_value,
                panel_value: d.panel_value,
            })
            .collect(),
        reason: finding.reason,
    }
}

fn indexed_message(indexed: IndexedAccount) -> v1::IndexedAccount {
    let account = indexed.account;
    v1::IndexedAccount {
        username: account.username,
        server_id: indexed.server_id,
        group: indexed.group,
        kind: panelgate_adapters::kind_from_name(&indexed.kind)
            .unwrap_or(v1::PanelKind::Unspecified)
            .into(),
        primary_domain: account.primary_domain,
        email: account.email,
        package: account.package,
        status: sync::status_message(account.status).into(),
        missing: indexed.missing,
        mismatched_fields: indexed.mismatched_fields,
        confirm_time: Some(timestamp(indexed.synced_at)),
        usage: indexed
            .usage
            .map(|(figures, at)| usage_message(&figures, at)),
    }
}

fn usage_message(figures: &UsageFigures, at: chrono::DateTime<Utc>) -> IndexedUsage {
    // No limit stored reads as none reported (the index keeps no
    // difference between that and "unlimited").
    let resource = |used: Option<u64>, max: Option<u64>| {
        used.map(|used| ResourceUsage {
            used,
            limit: max.map(|max| Limit { max: Some(max) }),
        })
    };
    IndexedUsage {
        disk_bytes: resource(figures.disk_used, figures.disk_limit),
        bandwidth_bytes: resource(figures.bandwidth_used, figures.bandwidth_limit),
        inodes: resource(figures.inodes_used, figures.inodes_limit),
        collect_time: Some(timestamp(at)),
    }
}

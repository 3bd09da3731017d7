//! BatchService: bulk operations as durable long-running operations. A
//! batch RPC resolves its items (listed, or found in the account index or
//! the inventory), records them, and returns the batch at once; the worker
//! (`batch`) runs them. validate_only checks each item as its single RPC's
//! validate_only would, and records nothing.

use std::{collections::HashSet, pin::Pin, time::Duration};

use chrono::Utc;
use futures::Stream;
use panelgate_inventory::{
    BatchFilter, BatchKind, BatchLimits, BatchRecord, BatchState, ItemFilter, ItemOutcome,
    ItemRecord, ItemState, NewBatch, PageRequest, ServerCounts,
};
use panelgate_proto::v1::{
    self, AccountSelection, BatchItem, BatchMetadata, BatchOperation, BatchOptions,
    CancelBatchRequest, CancelBatchResponse, ChangePackagesRequest, ChangePackagesResponse,
    CheckServersRequest, CheckServersResponse, DeleteAccountsRequest, DeleteAccountsResponse,
    ErrorReason, GetBatchRequest, GetBatchResponse, ItemStatus, ListBatchItemsRequest,
    ListBatchItemsResponse, ListBatchesRequest, ListBatchesResponse, ServerProgress,
    SuspendAccountsRequest, SuspendAccountsResponse, UnsuspendAccountsRequest,
    UnsuspendAccountsResponse, WatchBatchRequest, WatchBatchResponse,
    batch_service_server::BatchService,
};
use tonic::Status;

use super::{
    fleet::{account_search, select_servers},
    page_size, timestamp,
};
use crate::{
    app::App,
    batch::{self, Action},
    call::{Body, Call},
    error::GatewayError,
    validate,
};

/// Most items one batch may have.
const MAX_ITEMS: usize = 100_000;
/// Items running at once on one server, unless the request says.
const DEFAULT_PER_SERVER: u32 = 2;
const MAX_PER_SERVER: u32 = 16;
/// Items running at once in a batch, unless the request says.
const DEFAULT_OVERALL: u32 = 256;
const MAX_OVERALL: u32 = 1024;
/// Most entries of `failed_requests` and of a preview.
const MOST_LISTED: usize = 1000;
/// Index pages read to resolve a search.
const SEARCH_PAGE: u32 = 500;
/// How often a watcher looks for items that ended.
const WATCH_POLL: Duration = Duration::from_millis(200);
/// How far back a watcher looks: an item's end time is taken before its
/// transaction commits, so it may show up after a later one.
const WATCH_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// The BatchService implementation.
pub struct BatchApi {
    app: App,
}

/// What a batch RPC asks for, once read.
struct Plan {
    kind: BatchKind,
    items: Vec<(String, String)>,
    limits: BatchLimits,
    reason: String,
    package: String,
}

impl BatchApi {
    /// Serves batches through `app`.
    pub fn new(app: App) -> Self {
        BatchApi { app }
    }

    async fn suspend_accounts(
        &self,
        call: Call,
        req: SuspendAccountsRequest,
    ) -> Body<SuspendAccountsResponse> {
        let reason = if req.reason.trim().is_empty() {
            String::new()
        } else {
            validate::name("reason", &req.reason, 255)?
        };
        let action = Action {
            kind: BatchKind::SuspendAccounts,
            reason: &reason,
            package: "",
        };
        let operation = self.start(&call, action, req.accounts, req.options).await?;
        Ok(SuspendAccountsResponse {
            operation: Some(operation),
        })
    }

    async fn unsuspend_accounts(
        &self,
        call: Call,
        req: UnsuspendAccountsRequest,
    ) -> Body<UnsuspendAccountsResponse> {
        let action = Action {
            kind: BatchKind::UnsuspendAccounts,
            reason: "",
            package: "",
        };
        let operation = self.start(&call, action, req.accounts, req.options).await?;
        Ok(UnsuspendAccountsResponse {
            operation: Some(operation),
        })
    }

    async fn change_packages(
        &self,
        call: Call,
        req: ChangePackagesRequest,
    ) -> Body<ChangePackagesResponse> {
        let package = validate::package("package", &req.package)?;
        let action = Action {
            kind: BatchKind::ChangePackages,
            reason: "",
            package: &package,
        };
        let operation = self.start(&call, action, req.accounts, req.options).await?;
        Ok(ChangePackagesResponse {
            operation: Some(operation),
        })
    }

    async fn delete_accounts(
        &self,
        call: Call,
        req: DeleteAccountsRequest,
    ) -> Body<DeleteAccountsResponse> {
        let action = Action {
            kind: BatchKind::DeleteAccounts,
            reason: "",
            package: "",
        };
        let operation = self.start(&call, action, req.accounts, req.options).await?;
        Ok(DeleteAccountsResponse {
            operation: Some(operation),
        })
    }

    async fn check_servers(
        &self,
        call: Call,
        req: CheckServersRequest,
    ) -> Body<CheckServersResponse> {
        let limits = limits(req.options)?;
        let (servers, unknown) =
            select_servers(&self.app, &call, req.servers.unwrap_or_default()).await?;
        let items = servers
            .iter()
            .map(|server| server.id.clone())
            .chain(unknown)
            .map(|id| (id, String::new()))
            .collect();
        let plan = Plan {
            kind: BatchKind::CheckServers,
            items,
            limits,
            reason: String::new(),
            package: String::new(),
        };
        let operation = if req.validate_only {
            self.preview(&call, plan).await
        } else {
            self.record(&call, plan).await?
        };
        Ok(CheckServersResponse {
            operation: Some(operation),
        })
    }

    async fn get_batch(&self, call: Call, req: GetBatchRequest) -> Body<GetBatchResponse> {
        let batch = self.batch(&call, "id", &req.id).await?;
        Ok(GetBatchResponse {
            operation: Some(operation(&self.app, &batch, true).await?),
        })
    }

    async fn list_batches(&self, call: Call, req: ListBatchesRequest) -> Body<ListBatchesResponse> {
        let filter = BatchFilter {
            kind: kind("kind", req.kind)?,
            ended: req.done,
            // A token limited to some groups sees only its own batches.
            caller: call.groups().map(|_| call.subject().to_owned()),
        };
        let page = PageRequest {
            size: u32::try_from(page_size(req.page_size)?).unwrap_or(u32::MAX),
            token: (!req.page_token.is_empty()).then_some(req.page_token),
        };
        let found = self.app.inventory.list_batches(&filter, page).await?;
        let mut operations = Vec::with_capacity(found.items.len());
        for batch in &found.items {
            operations.push(operation(&self.app, batch, false).await?);
        }
        Ok(ListBatchesResponse {
            operations,
            next_page_token: found.next_token.unwrap_or_default(),
        })
    }

    async fn list_batch_items(
        &self,
        call: Call,
        req: ListBatchItemsRequest,
    ) -> Body<ListBatchItemsResponse> {
        let batch = self.batch(&call, "id", &req.id).await?;
        let filter = ItemFilter {
            state: item_state("state", req.state)?,
            server_id: (!req.server_id.trim().is_empty()).then(|| req.server_id.trim().to_owned()),
        };
        let page = PageRequest {
            size: u32::try_from(page_size(req.page_size)?).unwrap_or(u32::MAX),
            token: (!req.page_token.is_empty()).then_some(req.page_token),
        };
        let found = self
            .app
            .inventory
            .list_items(&batch.id, &filter, page)
            .await?;
        Ok(ListBatchItemsResponse {
            items: found.items.iter().map(item_message).collect(),
            next_page_token: found.next_token.unwrap_or_default(),
        })
    }

    async fn cancel_batch(&self, call: Call, req: CancelBatchRequest) -> Body<CancelBatchResponse> {
        let batch = self.batch(&call, "id", &req.id).await?;
        call.about(format!("batch/{}", batch.id));
        let why = "not started: the batch was cancelled";
        let mut batch = self
            .app
            .inventory
            .cancel_batch(&batch.id, true, why)
            .await?;
        if self.app.inventory.end_batch_if_done(&batch.id).await? {
            batch = self.app.inventory.get_batch(&batch.id).await?;
        }
        Ok(CancelBatchResponse {
            operation: Some(operation(&self.app, &batch, true).await?),
        })
    }

    /// The batch `id` names, if the caller may see it: a token limited to
    /// some groups sees only the batches it started.
    async fn batch(&self, call: &Call, field: &str, id: &str) -> Result<BatchRecord, GatewayError> {
        let id = validate::uuid(field, id)?;
        let batch = self.app.inventory.get_batch(&id).await?;
        // A token limited to some groups: only its subject's batches, started
        // within those groups.
        let allowed = match (call.groups(), &batch.groups) {
            (None, _) => true,
            (Some(mine), Some(theirs)) => batch.caller == call.subject() && theirs.is_subset(mine),
            (Some(_), None) => false,
        };
        if !allowed {
            return Err(GatewayError::PermissionDenied {
                reason: ErrorReason::GroupNotAllowed,
                message: "the batch was started by another caller".to_owned(),
            });
        }
        Ok(batch)
    }

    /// The accounts `selection` names: listed, or found in the index within
    /// the caller's groups; each once.
    async fn accounts(
        &self,
        call: &Call,
        selection: Option<AccountSelection>,
    ) -> Result<Vec<(String, String)>, GatewayError> {
        let selection = selection.unwrap_or_default();
        match (selection.accounts.is_empty(), selection.search) {
            (false, None) => listed(selection.accounts),
            (true, Some(search)) => self.found(call, &search).await,
            (false, Some(_)) => Err(GatewayError::invalid(
                "accounts",
                "list accounts or give a search, not both",
            )),
            (true, None) => Err(GatewayError::invalid(
                "accounts",
                "list accounts or give a search",
            )),
        }
    }

    /// Every indexed account `search` matches.
    async fn found(
        &self,
        call: &Call,
        search: &v1::SearchAccountsRequest,
    ) -> Result<Vec<(String, String)>, GatewayError> {
        const PREFIX: &str = "accounts.search.";
        if search.page_size != 0 || !search.page_token.is_empty() || search.order_by != 0 {
            return Err(GatewayError::invalid(
                format!("{PREFIX}page_size"),
                "page_size, page_token and order_by do not apply to a batch",
            ));
        }
        let search = account_search(call, search, PREFIX)?;
        if !search.has_filter() {
            return Err(GatewayError::invalid(
                "accounts.search",
                "name at least one filter: a batch over every account must list them",
            ));
        }
        let mut items = Vec::new();
        let mut token = None;
        loop {
            let page = PageRequest {
                size: SEARCH_PAGE,
                token,
            };
            let found = self.app.inventory.search_accounts(&search, page).await?;
            items.extend(
                found
                    .items
                    .into_iter()
                    .map(|indexed| (indexed.server_id, indexed.account.username)),
            );
            if items.len() > MAX_ITEMS {
                return Err(GatewayError::invalid(
                    "accounts.search",
                    format!("matches more than {MAX_ITEMS} accounts: narrow it"),
                ));
            }
            token = found.next_token;
            if token.is_none() {
                return Ok(items);
            }
        }
    }

    /// Starts a batch doing `action` to the selected accounts, or with
    /// validate_only previews it.
    async fn start(
        &self,
        call: &Call,
        action: Action<'_>,
        accounts: Option<AccountSelection>,
        options: Option<BatchOptions>,
    ) -> Result<BatchOperation, GatewayError> {
        let plan = Plan {
            kind: action.kind,
            items: self.accounts(call, accounts).await?,
            limits: limits(options)?,
            reason: action.reason.to_owned(),
            package: action.package.to_owned(),
        };
        if call.validate_only() {
            return Ok(self.preview(call, plan).await);
        }
        self.record(call, plan).await
    }

    /// Records the batch and wakes the worker; a retry of the same call
    /// (its journal entry) gets the batch it recorded.
    async fn record(&self, call: &Call, plan: Plan) -> Result<BatchOperation, GatewayError> {
        let (batch, started) = self
            .app
            .inventory
            .create_batch(NewBatch {
                journal_id: call.journal_id(),
                kind: plan.kind,
                caller: call.subject().to_owned(),
                groups: call.groups().cloned(),
                reason: plan.reason,
                package: plan.package,
                limits: plan.limits,
                items: plan.items,
            })
            .await?;
        call.about(format!("batch/{}", batch.id));
        if started {
            tracing::info!(batch_id = %batch.id, kind = batch.kind.as_str(), items = batch.total, "batch started");
            self.app.batches.wake();
        }
        operation(&self.app, &batch, false).await
    }

    /// Checks each item of `plan` and returns what would run.
    async fn preview(&self, call: &Call, plan: Plan) -> BatchOperation {
        let action = Action {
            kind: plan.kind,
            reason: &plan.reason,
            package: &plan.package,
        };
        let caller = batch::caller(call.subject(), call.groups().cloned());
        let checks = batch::preview(&self.app, caller, action, &plan.items).await;
        let succeeded = checks.iter().filter(|check| check.code == 0).count();
        let preview = plan
            .items
            .iter()
            .zip(&checks)
            .take(MOST_LISTED)
            .enumerate()
            .map(|(index, ((server_id, username), check))| BatchItem {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                server_id: server_id.clone(),
                username: username.clone(),
                state: if check.code == 0 {
                    v1::BatchItemState::Pending
                } else {
                    v1::BatchItemState::Failed
                }
                .into(),
                status: Some(status_message(check)),
                ..BatchItem::default()
            })
            .collect();
        BatchOperation {
            done: true,
            metadata: Some(BatchMetadata {
                kind: kind_message(plan.kind).into(),
                state: v1::BatchState::Validated.into(),
                caller: call.subject().to_owned(),
                options: Some(options_message(plan.limits)),
                total: clamp(plan.items.len()),
                succeeded: clamp(succeeded),
                failed: clamp(checks.len() - succeeded),
                package: plan.package.clone(),
                ..BatchMetadata::default()
            }),
            preview,
            ..BatchOperation::default()
        }
    }

    /// The item events of batch `id` as they come: those ended already,
    /// then each one as it ends, until the batch has ended.
    async fn watch_batch(
        &self,
        call: Call,
        req: WatchBatchRequest,
    ) -> Result<WatchStream, GatewayError> {
        let batch = self.batch(&call, "id", &req.id).await?;
        let (events, stream) = tokio::sync::mpsc::channel(256);
        tokio::spawn(watch(self.app.clone(), batch.id, events));
        Ok(Box::pin(futures::stream::unfold(
            stream,
            |mut stream| async { stream.recv().await.map(|event| (event, stream)) },
        )))
    }
}

/// What WatchBatch streams.
type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchBatchResponse, Status>> + Send>>;

serve!(BatchService for BatchApi {
    suspend_accounts(SuspendAccountsRequest),
    unsuspend_accounts(UnsuspendAccountsRequest),
    change_packages(ChangePackagesRequest),
    delete_accounts(DeleteAccountsRequest),
    check_servers(CheckServersRequest),
    get_batch(GetBatchRequest),
    list_batches(ListBatchesRequest),
    list_batch_items(ListBatchItemsRequest),
    cancel_batch(CancelBatchRequest),
}
    type WatchBatchStream = WatchStream;

    async fn watch_batch(
        &self,
        request: tonic::Request<WatchBatchRequest>,
    ) -> Result<tonic::Response<WatchStream>, Status> {
        self.app
            .open(request, |call, req| BatchApi::watch_batch(self, call, req))
            .await
    }
);

/// Sends each item of batch `id` once as it ends, until the batch has ended
/// and every item was sent, or the watcher went away.
async fn watch(
    app: App,
    id: String,
    events: tokio::sync::mpsc::Sender<Result<WatchBatchResponse, Status>>,
) {
    let mut sent: HashSet<i64> = HashSet::new();
    let mut since = None;
    loop {
        // Whether the batch had ended before its items were read: then
        // this read has them all.
        let ended = match app.inventory.get_batch(&id).await {
            Ok(batch) => batch.ended_at.is_some(),
            Err(err) => {
                let _ = events.send(Err(GatewayError::from(err).into())).await;
                return;
            }
        };
        // The last pass reads every ended item: one ended on a replica with
        // a clock behind the others' may be older than `since`.
        let from = if ended { None } else { since };
        let items = match app.inventory.ended_items(&id, from).await {
            Ok(items) => items,
            Err(err) => {
                let _ = events.send(Err(GatewayError::from(err).into())).await;
                return;
            }
        };
        for item in items {
            if let Some(at) = item.ended_at {
                since = Some(
                    since.map_or(at - WATCH_MARGIN, |since: chrono::DateTime<Utc>| {
                        since.max(at - WATCH_MARGIN)
                    }),
                );
            }
            if sent.insert(item.id) {
                let event = WatchBatchResponse {
                    item: Some(item_message(&item)),
                };
                if events.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        }
        if ended {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(WATCH_POLL) => {}
            () = events.closed() => return,
        }
    }
}

/// The pacing `options` ask for, defaults filled in.
fn limits(options: Option<BatchOptions>) -> Result<BatchLimits, GatewayError> {
    let options = options.unwrap_or_default();
    let within = |field: &str, value: u32, default: u32, most: u32| match value {
        0 => Ok(default),
        value if value <= most => Ok(value),
        _ => Err(GatewayError::invalid(
            format!("options.{field}"),
            format!("must be at most {most} (or 0 for {default})"),
        )),
    };
    Ok(BatchLimits {
        per_server: within(
            "per_server_limit",
            options.per_server_limit,
            DEFAULT_PER_SERVER,
            MAX_PER_SERVER,
        )?,
        overall: within(
            "overall_limit",
            options.overall_limit,
            DEFAULT_OVERALL,
            MAX_OVERALL,
        )?,
        max_failures: options.max_failures,
    })
}

/// Listed accounts, checked, each once.
fn listed(accounts: Vec<v1::AccountRef>) -> Result<Vec<(String, String)>, GatewayError> {
    if accounts.len() > MAX_ITEMS {
        return Err(GatewayError::invalid(
            "accounts.accounts",
            format!("at most {MAX_ITEMS} accounts"),
        ));
    }
    let mut seen = HashSet::with_capacity(accounts.len());
    let mut items = Vec::with_capacity(accounts.len());
    for (index, account) in accounts.into_iter().enumerate() {
        let field = |name: &str| format!("accounts.accounts[{index}].{name}");
        let server_id = account.server_id.trim().to_owned();
        if server_id.is_empty() {
            return Err(GatewayError::invalid(field("server_id"), "must be set"));
        }
        let username = validate::username(&field("username"), &account.username)?;
        if !seen.insert((server_id.clone(), username.clone())) {
            return Err(GatewayError::invalid(
                field("username"),
                "is listed twice on the same server",
            ));
        }
        items.push((server_id, username));
    }
    Ok(items)
}

/// The batch as the API shows it: its progress, and with `failures` (once
/// it has ended) the items that did not succeed.
async fn operation(
    app: &App,
    batch: &BatchRecord,
    failures: bool,
) -> Result<BatchOperation, GatewayError> {
    let counts = app.inventory.batch_counts(&batch.id).await?;
    let mut all = ServerCounts::default();
    for server in &counts {
        for (state, n) in [
            (ItemState::Pending, server.pending),
            (ItemState::Running, server.running),
            (ItemState::Succeeded, server.succeeded),
            (ItemState::Failed, server.failed),
            (ItemState::Cancelled, server.cancelled),
        ] {
            all.add(state, n);
        }
    }
    let done = batch.ended_at.is_some();
    let failed_requests = if done && failures {
        let most = u64::try_from(MOST_LISTED).unwrap_or(u64::MAX);
        app.inventory
            .unsuccessful_items(&batch.id, most)
            .await?
            .iter()
            .filter_map(|item| {
                let outcome = item.outcome.as_ref()?;
                Some((clamp(item.position), status_message(outcome)))
            })
            .collect()
    } else {
        Default::default()
    };
    Ok(BatchOperation {
        id: batch.id.clone(),
        done,
        metadata: Some(BatchMetadata {
            kind: kind_message(batch.kind).into(),
            state: state_message(batch.state).into(),
            caller: batch.caller.clone(),
            options: Some(options_message(batch.limits)),
            total: clamp(batch.total),
            pending: clamp(all.pending),
            running: clamp(all.running),
            succeeded: clamp(all.succeeded),
            failed: clamp(all.failed),
            cancelled: clamp(all.cancelled),
            servers: counts
                .iter()
                .map(|server| ServerProgress {
                    server_id: server.server_id.clone(),
                    total: clamp(server.total()),
                    open: clamp(server.pending + server.running),
                    succeeded: clamp(server.succeeded),
                    failed: clamp(server.failed),
                    cancelled: clamp(server.cancelled),
                })
                .collect(),
            cancel_requested: batch.cancel_requested,
            create_time: Some(timestamp(batch.created_at)),
            end_time: batch.ended_at.map(timestamp),
            package: batch.package.clone(),
        }),
        failed_requests,
        preview: Vec::new(),
    })
}

fn item_message(item: &ItemRecord) -> BatchItem {
    let ended = item.state.is_ended();
    BatchItem {
        index: clamp(item.position),
        server_id: item.server_id.clone(),
        username: item.username.clone(),
        state: item_state_message(item.state).into(),
        status: item.outcome.as_ref().filter(|_| ended).map(status_message),
        attempts: item.attempts,
        detail: item
            .outcome
            .as_ref()
            .map(|outcome| outcome.detail.clone())
            .unwrap_or_default(),
        end_time: item.ended_at.map(timestamp),
    }
}

fn status_message(outcome: &ItemOutcome) -> ItemStatus {
    ItemStatus {
        code: outcome.code,
        message: outcome.message.clone(),
        reason: ErrorReason::from_str_name(&format!("ERROR_REASON_{}", outcome.reason))
            .unwrap_or(ErrorReason::Unspecified)
            .into(),
    }
}

fn options_message(limits: BatchLimits) -> BatchOptions {
    BatchOptions {
        per_server_limit: limits.per_server,
        overall_limit: limits.overall,
        max_failures: limits.max_failures,
    }
}

fn clamp(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// A kind filter; None for UNSPECIFIED.
fn kind(field: &str, value: i32) -> Result<Option<BatchKind>, GatewayError> {
    let kind =
        v1::BatchKind::try_from(value).map_err(|_| GatewayError::invalid(field, "unknown kind"))?;
    Ok(match kind {
        v1::BatchKind::Unspecified => None,
        v1::BatchKind::SuspendAccounts => Some(BatchKind::SuspendAccounts),
        v1::BatchKind::UnsuspendAccounts => Some(BatchKind::UnsuspendAccounts),
        v1::BatchKind::ChangePackages => Some(BatchKind::ChangePackages),
        v1::BatchKind::DeleteAccounts => Some(BatchKind::DeleteAccounts),
        v1::BatchKind::CheckServers => Some(BatchKind::CheckServers),
    })
}

fn kind_message(kind: BatchKind) -> v1::BatchKind {
    match kind {
        BatchKind::SuspendAccounts => v1::BatchKind::SuspendAccounts,
        BatchKind::UnsuspendAccounts => v1::BatchKind::UnsuspendAccounts,
        BatchKind::ChangePackages => v1::BatchKind::ChangePackages,
        BatchKind::DeleteAccounts => v1::BatchKind::DeleteAccounts,
        BatchKind::CheckServers => v1::BatchKind::CheckServers,
    }
}

fn state_message(state: BatchState) -> v1::BatchState {
    match state {
        BatchState::Running => v1::BatchState::Running,
        BatchState::Succeeded => v1::BatchState::Succeeded,
        BatchState::Failed => v1::BatchState::Failed,
        BatchState::Cancelled => v1::BatchState::Cancelled,
    }
}

/// An item state filter; None for UNSPECIFIED.
fn item_state(field: &str, value: i32) -> Result<Option<ItemState>, GatewayError> {
    let state = v1::BatchItemState::try_from(value)
        .map_err(|_| GatewayError::invalid(field, "unknown state"))?;
    Ok(match state {
        v1::BatchItemState::Unspecified => None,
        v1::BatchItemState::Pending => Some(ItemState::Pending),
        v1::BatchItemState::Running => Some(ItemState::Running),
        v1::BatchItemState::Succeeded => Some(ItemState::Succeeded),
        v1::BatchItemState::Failed => Some(ItemState::Failed),
        v1::BatchItemState::Cancelled => Some(ItemState::Cancelled),
    })
}

fn item_state_message(state: ItemState) -> v1::BatchItemState {
    match state {
        ItemState::Pending => v1::BatchItemState::Pending,
        ItemState::Running => v1::BatchItemState::Running,
        ItemState::Succeeded => v1::BatchItemState::Succeeded,
        ItemState::Failed => v1::BatchItemState::Failed,
        ItemState::Cancelled => v1::BatchItemState::Cancelled,
    }
}

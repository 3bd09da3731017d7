//! Sync runs: read the selected servers' accounts (listed where the panel
//! can list them, else each indexed account looked up), compare them with
//! the account index ([`reconcile`]), record the findings, and with `apply`
//! update the index from the panels. Nothing is ever changed on a panel.
//!
//! A run is a row in the inventory with its progress; it executes in the
//! background of the replica that started it, a few servers at a time.
//! The scheduler ([`schedule`]) starts one applied run per interval over the
//! whole fleet, on one replica.

mod reconcile;
pub mod schedule;

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use futures::{StreamExt, TryStreamExt, stream};
use panelgate_adapters::{AdapterError, Panel, Slice};
use panelgate_inventory::{
    AccountStatus, Finding, NewSyncRun, PanelAccount, ServerRecord, ServerState, SyncClass,
    SyncRunRecord, UsageFigures,
};
use panelgate_proto::{
    Capability,
    v1::{self, Account, AccountUsage},
};
use tracing::{debug, info, warn};

use self::reconcile::reconcile;
use crate::{app::App, error::GatewayError, routing::Route};

/// Servers read at once by one run.
const SERVERS_AT_ONCE: usize = 8;
/// Calls in flight to one panel (lookups of indexed accounts, usage).
const CALLS_PER_SERVER: usize = 2;
/// Accounts asked for per page of a panel's list.
const LIST_PAGE: usize = 500;
/// How often a running run records that it is alive (well within
/// `SyncRunRecord::STALL`).
const HEARTBEAT: Duration = Duration::from_secs(15);

/// What a run covers and does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The servers to read.
    pub servers: Vec<Arc<ServerRecord>>,
    /// Ids the selector named that the inventory does not hold.
    pub unknown: Vec<String>,
    /// Update the index.
    pub apply: bool,
    /// Read usage too.
    pub collect_usage: bool,
    /// A key that starts one run at most (the periodic sync's interval).
    pub key: Option<String>,
    /// Record MATCHED findings too (the periodic sync only counts them:
    /// hourly runs of a large fleet would store little else).
    pub report_matched: bool,
    /// Who starts it.
    pub caller: String,
    /// Time between the starts of two servers (the scheduler spreads a run
    /// over its interval); zero: as fast as [`SERVERS_AT_ONCE`] allows.
    pub pace: Duration,
}

/// Records a run for `plan` and executes it in the background; returns the
/// run at once (or the earlier run of the same key, not restarted).
pub async fn start(app: &App, plan: Plan) -> Result<SyncRunRecord, GatewayError> {
    let total = plan.servers.len() + plan.unknown.len();
    let (run, started) = app
        .inventory
        .start_sync_run(NewSyncRun {
            key: plan.key.clone(),
            caller: plan.caller.clone(),
            apply: plan.apply,
            collect_usage: plan.collect_usage,
            servers_total: u64::try_from(total).unwrap_or(u64::MAX),
        })
        .await?;
    if started {
        info!(run_id = %run.id, servers = total, apply = plan.apply, "sync run started");
        tokio::spawn(execute(app.clone(), run.id.clone(), plan));
    }
    Ok(run)
}

/// Reads every server of `plan`, recording each one's findings as it ends.
async fn execute(app: App, run_id: String, plan: Plan) {
    for id in &plan.unknown {
        let finding = server_finding(id, SyncClass::ServerUnknown, "no such server".into());
        record(&app, &run_id, vec![finding], true).await;
    }
    let plan = Arc::new(plan);
    let mut pacing = tokio::time::interval(plan.pace.max(Duration::from_micros(1)));
    // A start held up by busy slots does not make the next ones burst.
    pacing.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ticks = Arc::new(tokio::sync::Mutex::new(pacing));
    let syncs: Vec<_> = plan
        .servers
        .iter()
        .cloned()
        .map(|server| {
            let (app, run_id, plan, ticks) =
                (app.clone(), run_id.clone(), plan.clone(), ticks.clone());
            async move {
                if !plan.pace.is_zero() {
                    ticks.lock().await.tick().await;
                }
                let findings = sync_server(&app, &server, &plan).await;
                record(&app, &run_id, findings, plan.report_matched).await;
            }
        })
        .collect();
    let servers = stream::iter(syncs)
        .buffer_unordered(SERVERS_AT_ONCE)
        .collect::<()>();
    tokio::select! {
        () = servers => {}
        () = heartbeat(&app, &run_id) => {}
    }
    if let Err(err) = app.inventory.finish_sync_run(&run_id).await {
        warn!(%run_id, error = %err, "sync run not marked done");
    }
    info!(%run_id, "sync run done");
}

/// Records every [`HEARTBEAT`] that the run is alive (a server can take
/// minutes), so it does not read as interrupted; never ends.
async fn heartbeat(app: &App, run_id: &str) {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(err) = app.inventory.touch_sync_run(run_id).await {
            warn!(%run_id, error = %err, "sync run progress not recorded");
        }
    }
}

/// Counts one server's findings and stores them (MATCHED ones only if
/// `keep_matched`).
async fn record(app: &App, run_id: &str, findings: Vec<Finding>, keep_matched: bool) {
    for finding in &findings {
        app.metrics.sync_finding(finding.class);
    }
    let recorded = app
        .inventory
        .record_findings(run_id, findings, keep_matched);
    if let Err(err) = recorded.await {
        warn!(%run_id, error = %err, "sync findings not recorded");
    }
}

/// Syncs one server: its findings, and with `apply` the index updated.
async fn sync_server(app: &App, server: &Arc<ServerRecord>, plan: &Plan) -> Vec<Finding> {
    if server.state == ServerState::Disabled {
        let reason = "the server is DISABLED".to_owned();
        return vec![server_finding(
            &server.id,
            SyncClass::ServerDisabled,
            reason,
        )];
    }
    let read_at = Utc::now();
    let read = async {
        let route = app.router.route_any_state(server.clone()).await?;
        // The index first: an entry added while the panel is read is on
        // the panel by then, and is not taken for index-only.
        let index = app.inventory.indexed_accounts(&server.id).await?;
        let panel = read_panel(&route, &index).await?;
        Ok::<_, GatewayError>((route, index, panel))
    };
    let (route, index, panel) = match read.await {
        Ok(read) => read,
        Err(err) => return failed(app, server, plan, err).await,
    };
    let (findings, mut result) = reconcile(&server.id, index, panel);
    if plan.apply {
        result.read_at = read_at;
        if plan.collect_usage {
            let on_panel: Vec<&str> = result.on_panel().collect();
            result.usage = read_usage(&route, &on_panel).await;
        }
        if let Err(err) = app.inventory.apply_server_sync(&server.id, result).await {
            return failed(app, server, plan, err.into()).await;
        }
    }
    findings
}

/// The finding of a server that could not be synced (read, or with
/// `apply` written to the index), recorded on the server when applying.
/// The reason is what a caller would be told: the error's reason and its
/// message as replies carry it (bounded, no database internals).
async fn failed(app: &App, server: &ServerRecord, plan: &Plan, err: GatewayError) -> Vec<Finding> {
    let name = err.reason().name();
    let reason = format!("{name}: {}", tonic::Status::from(err).message());
    debug!(server_id = %server.id, %reason, "server not synced");
    if plan.apply
        && let Err(err) = app.inventory.record_sync_failure(&server.id, &reason).await
    {
        warn!(server_id = %server.id, error = %err, "sync outcome not recorded");
    }
    vec![server_finding(
        &server.id,
        SyncClass::ServerUnreachable,
        reason,
    )]
}

/// The accounts the panel holds: its whole list, or where it cannot list,
/// each of `index` looked up.
async fn read_panel(
    route: &Route,
    index: &[PanelAccount],
) -> Result<Vec<PanelAccount>, GatewayError> {
    let panel = &route.panel;
    let accounts = if panel.capabilities().contains(&Capability::ListAccounts) {
        list_all(panel.as_ref()).await
    } else if panel.capabilities().contains(&Capability::GetAccount) {
        let lookups: Vec<_> = index
            .iter()
            .map(|entry| look_up(panel.as_ref(), &entry.username))
            .collect();
        stream::iter(lookups)
            .buffered(CALLS_PER_SERVER)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await
    } else {
        Err(AdapterError::Unsupported {
            capability: Capability::ListAccounts,
        })
    };
    Ok(accounts
        .map_err(|err| route.fail(err))?
        .into_iter()
        .map(panel_account)
        .collect())
}

/// Every account of the panel: its whole list in one read where it has
/// one, else page by page.
async fn list_all(panel: &dyn Panel) -> Result<Vec<Account>, AdapterError> {
    match panel.all_accounts().await {
        Err(AdapterError::Unsupported { .. }) => {}
        whole => return whole,
    }
    let mut all = Vec::new();
    loop {
        let slice = Slice {
            offset: all.len(),
            limit: LIST_PAGE,
        };
        let listed = panel.list_accounts(slice).await?;
        let last = !listed.more || listed.items.is_empty();
        all.extend(listed.items);
        if last {
            return Ok(all);
        }
    }
}

/// The account, or None where the panel says it has no such account.
async fn look_up(panel: &dyn Panel, username: &str) -> Result<Option<Account>, AdapterError> {
    match panel.get_account(username).await {
        Ok(account) => Ok(Some(account)),
        Err(AdapterError::NotFound { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Usage of each account on the panel, where it reports usage; an account
/// whose usage cannot be read keeps its last figures.
async fn read_usage(route: &Route, usernames: &[&str]) -> Vec<(String, UsageFigures)> {
    if !route
        .panel
        .capabilities()
        .contains(&Capability::GetAccountUsage)
    {
        return Vec::new();
    }
    let reads: Vec<_> = usernames
        .iter()
        .map(|&username| async move {
            match route.panel.get_account_usage(username).await {
                Ok(usage) => Some((username.to_owned(), figures(&usage))),
                Err(err) => {
                    debug!(server_id = %route.server.id, %username, error = %err, "usage not read");
                    None
                }
            }
        })
        .collect();
    stream::iter(reads)
        .buffer_unordered(CALLS_PER_SERVER)
        .filter_map(std::future::ready)
        .collect()
        .await
}

fn figures(usage: &AccountUsage) -> UsageFigures {
    let used = |resource: &Option<v1::ResourceUsage>| resource.as_ref().map(|r| r.used);
    let limit = |resource: &Option<v1::ResourceUsage>| {
        resource
            .as_ref()
            .and_then(|r| r.limit.as_ref())
            .and_then(|limit| limit.max)
    };
    UsageFigures {
        disk_used: used(&usage.disk_bytes),
        disk_limit: limit(&usage.disk_bytes),
        bandwidth_used: used(&usage.bandwidth_bytes),
        bandwidth_limit: limit(&usage.bandwidth_bytes),
        inodes_used: used(&usage.inodes),
        inodes_limit: limit(&usage.inodes),
    }
}

/// A panel's account in the index's terms.
fn panel_account(account: Account) -> PanelAccount {
    let status = stored_status(account.status());
    PanelAccount {
        username: account.username,
        primary_domain: account.primary_domain.to_ascii_lowercase(),
        email: account.email,
        package: account.package,
        status,
    }
}

/// An account status as the index stores it.
pub fn stored_status(status: v1::AccountStatus) -> AccountStatus {
    match status {
        v1::AccountStatus::Active => AccountStatus::Active,
        v1::AccountStatus::Suspended => AccountStatus::Suspended,
        v1::AccountStatus::Unspecified => AccountStatus::Unknown,
    }
}

/// A stored account status as the API shows it.
pub fn status_message(status: AccountStatus) -> v1::AccountStatus {
    match status {
        AccountStatus::Active => v1::AccountStatus::Active,
        AccountStatus::Suspended => v1::AccountStatus::Suspended,
        AccountStatus::Unknown => v1::AccountStatus::Unspecified,
    }
}

fn server_finding(server_id: &str, class: SyncClass, reason: String) -> Finding {
    Finding {
        server_id: server_id.to_owned(),
        username: String::new(),
        class,
        differences: Vec::new(),
        reason,
    }
}

/// Every server `filter` matches, read page by page.
pub async fn select(
    app: &App,
    filter: &panelgate_inventory::ServerFilter,
) -> Result<Vec<Arc<ServerRecord>>, GatewayError> {
    let mut servers = Vec::new();
    let mut token = None;
    loop {
        let page = panelgate_inventory::PageRequest {
            size: panelgate_inventory::PageRequest::MAX_SIZE,
            token,
        };
        let found = app.inventory.list_servers(filter, page).await?;
        servers.extend(found.items.into_iter().map(Arc::new));
        token = found.next_token;
        if token.is_none() {
            return Ok(servers);
        }
    }
}

//! One item of a batch, run through its single RPC in this process, as the
//! batch's caller: the same journal, idempotency, routing, capability check
//! and per-server protection as a call from outside. Its request_id is the
//! item's own (`batch:<batch id>:<position>`), so a run taken over from a
//! dead replica replays or converges instead of acting twice. How the
//! attempt ended decides what comes next: done, failed, retried with
//! backoff, or put off while the server refuses calls.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use chrono::{TimeDelta, Utc};
use futures::{StreamExt, stream};
use panelgate_inventory::{BatchKind, BatchRecord, ItemEnd, ItemOutcome, ItemRecord};
use panelgate_proto::v1::{
    ChangePackageRequest, CheckServerRequest, DeleteAccountRequest, ErrorReason,
    SuspendAccountRequest, Target, UnsuspendAccountRequest, account_service_server::AccountService,
    inventory_service_server::InventoryService, target,
};
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

use crate::{
    app::App,
    auth::{Caller, scopes},
    grpc::{AccountApi, InventoryApi},
};

/// Attempts at an item whose failures are transient, before it fails.
const MOST_ATTEMPTS: u32 = 4;
/// The first retry's backoff; each next one doubles, up to [`MOST_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MOST_BACKOFF: Duration = Duration::from_secs(10);
/// Times an item is put off while its server refuses calls, before it
/// fails (with backoffs of the server's RetryInfo, this is minutes).
const MOST_DEFERRALS: u32 = 60;
/// How long to put an item off when the server's refusal names no delay.
const DEFAULT_DEFERRAL: Duration = Duration::from_secs(5);
/// Items checked at once by a validate_only batch.
const PREVIEW_AT_ONCE: usize = 64;

/// What every item of a batch does.
#[derive(Clone, Copy)]
pub struct Action<'a> {
    /// The batch's kind.
    pub kind: BatchKind,
    /// The suspension reason.
    pub reason: &'a str,
    /// The package.
    pub package: &'a str,
}

/// Runs a claimed item of `batch` once; how it ended.
pub async fn run(app: &App, batch: &BatchRecord, item: &ItemRecord) -> ItemEnd {
    let caller = caller(&batch.caller, batch.groups.clone());
    let action = Action {
        kind: batch.kind,
        reason: &batch.reason,
        package: &batch.package,
    };
    let request_id = format!("batch:{}:{}", batch.id, item.position);
    let done = call(
        app,
        caller,
        action,
        (&item.server_id, &item.username),
        Some(request_id),
    )
    .await;
    match done {
        Ok(detail) => ItemEnd::Ended(ItemOutcome {
            detail,
            ..ItemOutcome::default()
        }),
        Err(status) => next_step(&status, item),
    }
}

/// Checks each of `items` as its single RPC's validate_only does, as
/// `caller`: code 0 where the item would run.
pub async fn preview(
    app: &App,
    caller: Arc<Caller>,
    action: Action<'_>,
    items: &[(String, String)],
) -> Vec<ItemOutcome> {
    // Owned items: futures borrowing them would not be Send for every lifetime.
    stream::iter(items.iter().cloned())
        .map(|(server_id, username)| {
            let caller = caller.clone();
            async move {
                match call(app, caller, action, (&server_id, &username), None).await {
                    Ok(detail) => ItemOutcome {
                        detail,
                        ..ItemOutcome::default()
                    },
                    Err(status) => outcome(&status),
                }
            }
        })
        .buffered(PREVIEW_AT_ONCE)
        .collect()
        .await
}

/// The batch's caller, as its items run: its subject and groups, allowed
/// what the batch RPCs allow.
pub fn caller(subject: &str, groups: Option<BTreeSet<String>>) -> Arc<Caller> {
    Arc::new(Caller {
        subject: subject.to_owned(),
        scopes: [scopes::HOSTING_WRITE, scopes::INVENTORY_READ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        groups,
    })
}

/// Calls the item's single RPC; a check's finding on success. Without a
/// request_id, only checks (validate_only; a server check only looks the
/// server up).
async fn call(
    app: &App,
    caller: Arc<Caller>,
    action: Action<'_>,
    (server_id, username): (&str, &str),
    request_id: Option<String>,
) -> Result<String, Status> {
    let target = Some(Target {
        server: Some(target::Server::ServerId(server_id.to_owned())),
    });
    let validate_only = request_id.is_none();
    let request_id = request_id.unwrap_or_default();
    let username = username.to_owned();
    let accounts = AccountApi::new(app.clone());
    let done = match action.kind {
        BatchKind::SuspendAccounts => accounts
            .suspend_account(as_caller(
                SuspendAccountRequest {
                    target,
                    username,
                    reason: action.reason.to_owned(),
                    validate_only,
                    request_id,
                },
                &caller,
            ))
            .await
            .map(drop),
        BatchKind::UnsuspendAccounts => accounts
            .unsuspend_account(as_caller(
                UnsuspendAccountRequest {
                    target,
                    username,
                    validate_only,
                    request_id,
                },
                &caller,
            ))
            .await
            .map(drop),
        BatchKind::ChangePackages => accounts
            .change_package(as_caller(
                ChangePackageRequest {
                    target,
                    username,
                    package: action.package.to_owned(),
                    validate_only,
                    request_id,
                },
                &caller,
            ))
            .await
            .map(drop),
        BatchKind::DeleteAccounts => accounts
            .delete_account(as_caller(
                DeleteAccountRequest {
                    target,
                    username,
                    validate_only,
                    request_id,
                },
                &caller,
            ))
            .await
            .map(drop),
        BatchKind::CheckServers if validate_only => app
            .router
            .server_by_id(server_id, crate::routing::Read::Cached)
            .await
            .map(drop)
            .map_err(Status::from),
        BatchKind::CheckServers => {
            return check(app, target, &caller).await;
        }
    };
    done.map(|()| String::new())
}

/// Checks a server as CheckServer does: what it found, or why it is not
/// healthy (UNAVAILABLE).
async fn check(app: &App, target: Option<Target>, caller: &Arc<Caller>) -> Result<String, Status> {
    let checked = InventoryApi::new(app.clone())
        .check_server(as_caller(CheckServerRequest { target }, caller))
        .await?
        .into_inner();
    let latency = checked
        .latency
        .map(|latency| latency.seconds * 1000 + i64::from(latency.nanos) / 1_000_000)
        .unwrap_or_default();
    if checked.healthy {
        let version = match checked.panel_version.as_str() {
            "" => String::new(),
            version => format!(", panel version {version}"),
        };
        Ok(format!("healthy, answered in {latency} ms{version}"))
    } else {
        Err(Status::unavailable(format!(
            "{}: {}",
            checked.error_reason, checked.error_message
        )))
    }
}

/// `message` as a request of `caller`.
fn as_caller<T>(message: T, caller: &Arc<Caller>) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(caller.clone());
    request
}

/// What follows a failed attempt: put off while the server refuses calls,
/// retried with backoff when the failure is transient, else failed.
fn next_step(status: &Status, item: &ItemRecord) -> ItemEnd {
    let outcome = outcome(status);
    let reason = reason_of(status);
    let now = Utc::now();
    let later = |delay: Duration| now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
    let refused = matches!(
        reason,
        Some(ErrorReason::UpstreamCircuitOpen | ErrorReason::ServerBusy)
    );
    if refused && item.deferrals < MOST_DEFERRALS {
        let delay = status
            .get_details_retry_info()
            .and_then(|info| info.retry_delay)
            .unwrap_or(DEFAULT_DEFERRAL);
        return ItemEnd::Retry {
            outcome,
            at: later(delay),
            deferred: true,
        };
    }
    let retryable = reason.is_some_and(|reason| reason.class().retryable)
        || matches!(status.code(), Code::Unavailable | Code::Aborted);
    if retryable && item.attempts < MOST_ATTEMPTS {
        let doubled = FIRST_BACKOFF.saturating_mul(1 << item.attempts.saturating_sub(1).min(8));
        let backoff = doubled.min(MOST_BACKOFF).mul_f64(0.5 + fastrand::f64());
        return ItemEnd::Retry {
            outcome,
            at: later(backoff),
            deferred: false,
        };
    }
    ItemEnd::Ended(outcome)
}

/// An error reply as an item's outcome.
fn outcome(status: &Status) -> ItemOutcome {
    ItemOutcome {
        code: status.code() as i32,
        reason: reason_of(status)
            .map(|reason| reason.name().to_owned())
            .unwrap_or_default(),
        message: status.message().to_owned(),
        detail: String::new(),
    }
}

/// The documented reason an error reply carries.
fn reason_of(status: &Status) -> Option<ErrorReason> {
    let info = status.get_details_error_info()?;
    ErrorReason::from_str_name(&format!("ERROR_REASON_{}", info.reason))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::ErrorDetails;

    use super::*;

    fn item(attempts: u32, deferrals: u32) -> ItemRecord {
        ItemRecord {
            id: 1,
            position: 0,
            server_id: "s".into(),
            username: "bob".into(),
            state: panelgate_inventory::ItemState::Running,
            attempts,
            deferrals,
            outcome: None,
            ended_at: None,
        }
    }

    fn status(code: Code, reason: &str, retry: Option<Duration>) -> Status {
        let mut details = ErrorDetails::new();
        details.set_error_info(reason, "panelgate", HashMap::new());
        if let Some(delay) = retry {
            details.set_retry_info(Some(delay));
        }
        Status::with_error_details(code, "from the panel", details)
    }

    #[test]
    fn a_refusing_server_puts_the_item_off_without_using_an_attempt() {
        let open = status(
            Code::Unavailable,
            "UPSTREAM_CIRCUIT_OPEN",
            Some(Duration::from_secs(30)),
        );
        let before = Utc::now();
        match next_step(&open, &item(4, 0)) {
            ItemEnd::Retry {
                deferred: true,
                at,
                outcome,
            } => {
                assert!(at >= before + TimeDelta::seconds(29), "{at}");
                assert_eq!(outcome.reason, "UPSTREAM_CIRCUIT_OPEN");
            }
            other => panic!("{other:?}"),
        }
        let busy = status(Code::Unavailable, "SERVER_BUSY", None);
        assert!(matches!(
            next_step(&busy, &item(1, MOST_DEFERRALS)),
            ItemEnd::Retry {
                deferred: false,
                ..
            }
        ));
    }

    #[test]
    fn transient_failures_are_retried_until_the_attempts_run_out() {
        let down = status(Code::Unavailable, "UPSTREAM_UNAVAILABLE", None);
        let before = Utc::now();
        match next_step(&down, &item(1, 0)) {
            ItemEnd::Retry {
                deferred: false,
                at,
                ..
            } => {
                assert!(at >= before + TimeDelta::milliseconds(120), "{at}");
                assert!(at <= before + TimeDelta::seconds(1), "{at}");
            }
            other => panic!("{other:?}"),
        }
        match next_step(&down, &item(MOST_ATTEMPTS, 0)) {
            ItemEnd::Ended(outcome) => assert_eq!(outcome.code, Code::Unavailable as i32),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_callers_error_fails_the_item_at_once() {
        let missing = status(Code::NotFound, "ACCOUNT_NOT_FOUND", None);
        match next_step(&missing, &item(1, 0)) {
            ItemEnd::Ended(outcome) => {
                assert_eq!(outcome.code, Code::NotFound as i32);
                assert_eq!(outcome.reason, "ACCOUNT_NOT_FOUND");
                assert_eq!(outcome.message, "from the panel");
            }
            other => panic!("{other:?}"),
        }
    }
}

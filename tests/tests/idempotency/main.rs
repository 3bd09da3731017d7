//! Idempotent mutations (AIP-155) end to end: the real gateway over real gRPC,
//! simulated panels over real HTTP, the journal on a real SQLite file and a real
//! PostgreSQL database (every scenario runs on both).
//!
//! Most scenarios run in front of the SPanel simulator, because it logs every
//! body that reaches `api.php` with its action (`sim.received()`): a create is
//! `accounts/wwwacct` then `accounts/changeuseremail`, an existence check is
//! `accounts/listaccounts`, so "the panel was not called" and "the panel was
//! asked once" are checked action by action. Scenarios where the panel acts but
//! its answer never arrives (timeouts, cancelled callers) run in front of the
//! admin_api simulator, whose create is a single `add_user` request; there the
//! simulator's HTTP request count is exact.
//!
//! The simulators' injected delay holds an answer back *after* the panel has
//! handled the request (`sim/src/faults/mod.rs`, `front_door`): a call that
//! times out or is abandoned has still made its change on the panel.
//!
//! - `replays`: stored replies and failures replayed, concurrent retries;
//! - `keys`: what a request id is bound to, and how long it is kept;
//! - `in_flight`: retries while the first call still runs;
//! - `unknown_outcomes`: creates whose first attempt ended unknown.

mod in_flight;
mod keys;
mod replays;
mod unknown_outcomes;

use std::time::Duration;

use panelgate_proto::v1::{
    Account, CreateAccountRequest, CreateAccountResponse, ListOperationsRequest, OperationEntry,
};
use panelgate_tests::{
    AdminApiFixture, Gateway, Panel, PanelFixture, SpanelFixture, errors::assert_error,
    gateway::TEST_UPSTREAM_TIMEOUT,
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

// === setup ===

/// The journal's name of CreateAccount.
const CREATE: &str = "AccountService/CreateAccount";
/// The actions of one SPanel create, after the package list is cached.
const SPANEL_CREATE: [&str; 2] = ["accounts/wwwacct", "accounts/changeuseremail"];

/// A gateway with an SPanel simulator (packages `basic` and `pro`) registered.
type Sp = Panel<SpanelFixture>;
/// A gateway with an admin_api simulator (packages `Basic` and `Premium`)
/// registered: its create is a single `add_user` request.
type Ols = Panel<AdminApiFixture>;

/// The only journal entry of `method`.
async fn only_entry(gateway: &Gateway, method: &str) -> OperationEntry {
    let mut entries = journal(gateway, method).await;
    assert_eq!(entries.len(), 1, "{method} entries: {entries:#?}");
    entries.remove(0)
}

/// The journal entries of `method` on `gateway`, newest first.
async fn journal(gateway: &Gateway, method: &str) -> Vec<OperationEntry> {
    gateway
        .operations()
        .list_operations(ListOperationsRequest {
            method: method.to_owned(),
            ..Default::default()
        })
        .await
        .expect("list operations")
        .into_inner()
        .operations
}

/// The only entry of `method` once it is done.
async fn finished_entry(gateway: &Gateway, method: &str) -> Option<OperationEntry> {
    let mut entries = journal(gateway, method).await;
    assert_eq!(entries.len(), 1, "{method} entries: {entries:#?}");
    let entry = entries.remove(0);
    entry.done.then_some(entry)
}

/// CreateAccount of `username` (see [`Panel::new_account`]) on `package`
/// with `request_id`.
fn create_request<F: PanelFixture>(
    env: &Panel<F>,
    username: &str,
    package: &str,
    request_id: &str,
) -> CreateAccountRequest {
    CreateAccountRequest {
        package: package.to_owned(),
        request_id: request_id.to_owned(),
        ..env.new_account(username)
    }
}

/// Evaluates `$probe` (an `Option`, `.await` allowed) every 20 ms until it is
/// `Some`, for at most 10 s; yields what it found.
macro_rules! eventually {
    ($what:expr, $probe:expr) => {{
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(found) = $probe {
                break found;
            }
            assert!(Instant::now() < give_up, "timed out waiting for {}", $what);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }};
}
use eventually;

/// Asserts two failures are the same status: code, message and details bytes.
#[track_caller]
fn assert_same_status(replayed: &Status, first: &Status) {
    assert_eq!(replayed.code(), first.code(), "code of {replayed:?}");
    assert_eq!(
        replayed.message(),
        first.message(),
        "message of {replayed:?}"
    );
    assert_eq!(
        replayed.details(),
        first.details(),
        "details of {replayed:?}"
    );
    let info = |status: &Status| {
        status
            .get_details_error_info()
            .map(|info| (info.reason, info.domain, info.metadata))
    };
    assert!(info(first).is_some(), "ErrorInfo of {first:?}");
    assert_eq!(info(replayed), info(first), "ErrorInfo of {replayed:?}");
}

// === scenarios ===

// === retries of creates whose first attempt ended unknown ===

/// Calls `request` while the panel answers only after the gateway's upstream
/// timeout: DEADLINE_EXCEEDED UPSTREAM_TIMEOUT, though the panel acts.
async fn create_timing_out<F: PanelFixture>(env: &Panel<F>, request: CreateAccountRequest) {
    let late = TEST_UPSTREAM_TIMEOUT + Duration::from_millis(500);
    env.faults().set_delay(late);
    let failed = env.create_account_reply(request).await;
    assert_error(failed, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
}

/// Asserts a retry's `reply` is alice's account on `env`'s server, the panel
/// has had `requests` requests in all (`why`), and the journal's one
/// CreateAccount entry is OK after two attempts; returns the account.
async fn assert_retry_answers_alice<F: PanelFixture>(
    env: &Panel<F>,
    reply: CreateAccountResponse,
    requests: u64,
    why: &str,
) -> Account {
    let account = reply.account.expect("account in reply");
    assert_eq!(account.username, "alice");
    assert_eq!(account.server_id, env.id);
    assert_eq!(env.requests(), requests, "{why}");
    let entry = only_entry(&env.gateway, CREATE).await;
    assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 2));
    account
}

//! The operation journal (audit) end to end: mutating calls made over real
//! gRPC against SPanel simulators over real HTTP, read back through
//! `OperationService` (ListOperations, GetOperation), on a real SQLite file and
//! a real PostgreSQL database (every scenario runs on both).
//!
//! - `entries`: every mutation journalled with who, what, where and outcome,
//!   server mutations included;
//! - `reads`: ListOperations' filters and pages, GetOperation, groups;
//! - `keeping`: no secret in the journal, and its retention.

mod entries;
mod keeping;
mod reads;

use std::{
    future::Future,
    time::{Duration, SystemTime},
};

use panelgate_proto::v1::{
    CreateAccountRequest, DeleteAccountRequest, ListOperationsRequest, ListOperationsResponse,
    OperationEntry, RegisterServerRequest, SuspendAccountRequest,
};
use panelgate_tests::{
    Backend, Gateway, PanelFixture, SpanelFixture, errors::assert_error, gateway::by_name,
    with_gateway,
};
use tonic::{Code, Status};

const CREATE: &str = "AccountService/CreateAccount";
const SUSPEND: &str = "AccountService/SuspendAccount";
const DELETE: &str = "AccountService/DeleteAccount";
const LOGIN_LINK: &str = "AccountService/CreateLoginLink";
const REGISTER: &str = "InventoryService/RegisterServer";

/// Runs `body` with `panels` fresh SPanel simulators on a fresh gateway on
/// `backend` (not registered: registering is journalled, tests do it).
async fn with_panels<F, Fut>(backend: Backend, panels: usize, body: F)
where
    F: FnOnce(Gateway, Vec<SpanelFixture>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut fixtures = Vec::new();
    for _ in 0..panels {
        fixtures.push(SpanelFixture::start().await);
    }
    with_gateway(backend, |_| {}, move |gateway| body(gateway, fixtures)).await;
}

/// RegisterServer of `fixture` as `name` in `group`, with `request_id`.
fn register_request(
    fixture: &SpanelFixture,
    name: &str,
    group: &str,
    request_id: &str,
) -> RegisterServerRequest {
    let mut request = fixture.register_request(name, &fixture.base_url(), fixture.credentials());
    if let Some(server) = request.server.as_mut() {
        server.group = group.to_owned();
    }
    RegisterServerRequest {
        request_id: request_id.to_owned(),
        ..request
    }
}

/// CreateAccount of `username` on `server` (package `basic`).
fn create_request(
    server: &str,
    username: &str,
    password: &str,
    request_id: &str,
) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: password.to_owned(),
        package: "basic".to_owned(),
        request_id: request_id.to_owned(),
        ..Default::default()
    }
}

async fn create(gateway: &Gateway, server: &str, username: &str) {
    gateway
        .accounts()
        .create_account(create_request(server, username, "first-password-1", ""))
        .await
        .unwrap_or_else(|status| panic!("create {username}: {status:?}"));
}

async fn suspend(gateway: &Gateway, server: &str, username: &str) {
    gateway
        .accounts()
        .suspend_account(SuspendAccountRequest {
            target: by_name(server),
            username: username.to_owned(),
            reason: "unpaid".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|status| panic!("suspend {username}: {status:?}"));
}

/// DeleteAccount of an account the panel lacks: NOT_FOUND.
async fn delete_missing(gateway: &Gateway, server: &str, username: &str) -> Status {
    let deleted = gateway
        .accounts()
        .delete_account(DeleteAccountRequest {
            target: by_name(server),
            username: username.to_owned(),
            ..Default::default()
        })
        .await;
    assert_error(deleted, Code::NotFound, "ACCOUNT_NOT_FOUND")
}

async fn list(
    gateway: &Gateway,
    request: ListOperationsRequest,
) -> Result<ListOperationsResponse, Status> {
    gateway
        .operations()
        .list_operations(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Every entry `request` matches (one page of at most 500).
async fn entries(gateway: &Gateway, request: ListOperationsRequest) -> Vec<OperationEntry> {
    let page = list(
        gateway,
        ListOperationsRequest {
            page_size: 500,
            ..request
        },
    )
    .await
    .expect("list operations");
    assert_eq!(page.next_page_token, "", "more than one page");
    page.operations
}

/// Every entry of the journal, newest first.
async fn all_entries(gateway: &Gateway) -> Vec<OperationEntry> {
    entries(gateway, ListOperationsRequest::default()).await
}

/// (method, resource) of each entry, in order.
fn what(entries: &[OperationEntry]) -> Vec<(String, String)> {
    entries
        .iter()
        .map(|entry| (entry.method.clone(), entry.resource.clone()))
        .collect()
}

fn pair(method: &str, resource: &str) -> (String, String) {
    (method.to_owned(), resource.to_owned())
}

/// The time a timestamp stands for.
fn time_of(timestamp: Option<&prost_types::Timestamp>) -> SystemTime {
    SystemTime::try_from(*timestamp.expect("a timestamp")).expect("a valid timestamp")
}

/// A timestamp of `time`.
fn timestamp(time: SystemTime) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp::from(time))
}

/// Asserts a finished first attempt's times: it started within
/// `[from, to]` (the journal keeps microseconds), ended after it started,
/// and its duration is end minus start.
#[track_caller]
fn assert_times(entry: &OperationEntry, from: SystemTime, to: SystemTime) {
    let start = time_of(entry.start_time.as_ref());
    let end = time_of(entry.end_time.as_ref());
    let from = from - Duration::from_micros(1);
    assert!(
        from <= start && start <= end && end <= to,
        "times of {entry:#?}"
    );
    let duration = Duration::try_from(entry.duration.expect("a duration")).expect("a duration");
    assert_eq!(
        Some(duration),
        end.duration_since(start).ok(),
        "duration of {entry:#?}"
    );
}

/// Asserts `text` names a UUID.
#[track_caller]
fn assert_uuid(text: &str) {
    let well_formed = text.len() == 36
        && text.char_indices().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    assert!(well_formed, "not a UUID: {text:?}");
}

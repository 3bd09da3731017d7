//! Batches through the real gateway to simulated SPanel servers: 500
//! accounts suspended over 10 servers with at most 2 requests at once on
//! each panel and each account suspended once; a server failing mid-run
//! fails its items (after retries) and spares the others; WatchBatch sends
//! one event per item; CancelBatch stops a batch; validate_only changes
//! nothing; one request_id starts one batch; a fleet health check names the
//! server that is down; bad requests name their field. (A gateway killed
//! mid-batch, with another finishing it, is in the gateway's process tests.)

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use futures::StreamExt;
use panelgate_proto::v1::{
    AccountRef, AccountSelection, BatchItem, BatchItemState, BatchOperation, BatchOptions,
    BatchState, CancelBatchRequest, CheckServersRequest, CreateAccountRequest, GetBatchRequest,
    ListBatchItemsRequest, ListBatchesRequest, SearchAccountsRequest, ServerSelector,
    SuspendAccountsRequest, UnsuspendAccountsRequest, WatchBatchRequest,
};
use panelgate_sim::Fault;
use panelgate_tests::{
    Backend, Gateway, PanelFixture, SpanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_id, with_gateway},
};
use tonic::Code;

panelgate_tests::on_both_backends!(
    workers = 4;
    a_batch_suspends_500_accounts_over_10_servers_gently,
    a_failing_server_fails_its_items_and_spares_the_others,
    cancel_stops_a_batch,
    validate_only_changes_nothing_and_a_request_id_starts_one_batch,
    a_fleet_health_check_names_the_server_that_is_down,
    bad_batch_requests_name_their_field,
);

/// One registered SPanel server.
struct Member {
    id: String,
    sim: SpanelFixture,
}

/// `servers` SPanel servers answering after `delay`, each with
/// `per_server` accounts `<prefix><server>x<n>` made through the gateway
/// (one at a time per server, so the panels' peaks are the batch's).
async fn fleet(
    gateway: &Gateway,
    servers: usize,
    per_server: usize,
    prefix: &str,
    delay: Duration,
) -> Vec<Member> {
    let mut members = Vec::new();
    for n in 0..servers {
        let sim = SpanelFixture::start().await;
        let id = sim.register(gateway, &format!("bulk-{n}")).await;
        members.push(Member { id, sim });
    }
    let made = members.iter().enumerate().map(|(n, member)| async move {
        for k in 0..per_server {
            let username = format!("{prefix}{n}x{k}");
            gateway
                .accounts()
                .create_account(CreateAccountRequest {
                    target: by_id(&member.id),
                    username: username.clone(),
                    primary_domain: format!("{username}.example"),
                    email: format!("{username}@mail.example"),
                    password: "Long-enough-password-1".to_owned(),
                    package: member.sim.packages().0.to_owned(),
                    ..Default::default()
                })
                .await
                .unwrap_or_else(|status| panic!("create {username}: {status:?}"));
        }
    });
    futures::future::join_all(made).await;
    for member in &members {
        member.sim.sim.faults().set_delay(delay);
    }
    members
}

/// The accounts whose usernames start with `prefix`, from the index.
fn search(prefix: &str) -> Option<AccountSelection> {
    Some(AccountSelection {
        search: Some(SearchAccountsRequest {
            username_prefix: prefix.to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Starts a suspension batch; the operation the reply holds.
async fn start(gateway: &Gateway, request: SuspendAccountsRequest) -> BatchOperation {
    gateway
        .batches()
        .suspend_accounts(request)
        .await
        .expect("start the batch")
        .into_inner()
        .operation
        .expect("an operation")
}

/// Every item event WatchBatch sends until it closes.
async fn watch(gateway: &Gateway, id: &str) -> Vec<BatchItem> {
    let stream = gateway
        .batches()
        .watch_batch(WatchBatchRequest { id: id.to_owned() })
        .await
        .expect("watch the batch")
        .into_inner();
    let events = tokio::time::timeout(Duration::from_secs(120), stream.collect::<Vec<_>>())
        .await
        .expect("the watch to close within 2 minutes");
    events
        .into_iter()
        .map(|event| event.expect("an event").item.expect("an item"))
        .collect()
}

/// The batch `id` once it has ended.
async fn ended(gateway: &Gateway, id: &str) -> BatchOperation {
    for _ in 0..1200 {
        let operation = gateway
            .batches()
            .get_batch(GetBatchRequest { id: id.to_owned() })
            .await
            .expect("get the batch")
            .into_inner()
            .operation
            .expect("an operation");
        if operation.done {
            return operation;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("batch {id} did not end within 2 minutes");
}

/// How many `accounts/suspendaccount` requests named each username.
fn suspensions(sim: &SpanelFixture) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in sim.sim.received() {
        if request.action != "accounts/suspendaccount" {
            continue;
        }
        let body = String::from_utf8_lossy(&request.body).into_owned();
        for pair in body.split('&') {
            if let Some(username) = pair.strip_prefix("username=") {
                *counts.entry(username.to_owned()).or_default() += 1;
            }
        }
    }
    counts
}

/// 500 indexed accounts on 10 servers answering in 5 ms, suspended by one
/// batch chosen by a search of the index: every account is suspended on
/// its panel by exactly one request, no panel ever answered more than 2
/// requests at once, WatchBatch sent one event per item, and the batch
/// reports every item succeeded, per server too.
async fn a_batch_suspends_500_accounts_over_10_servers_gently(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let members = fleet(&gateway, 10, 50, "sus", Duration::from_millis(5)).await;
            let started = start(
                &gateway,
                SuspendAccountsRequest {
                    accounts: search("sus"),
                    reason: "unpaid".to_owned(),
                    ..Default::default()
                },
            )
            .await;
            let metadata = started.metadata.clone().expect("metadata");
            assert_eq!(metadata.total, 500);
            assert_eq!(metadata.options.expect("options").per_server_limit, 2);
            let events = watch(&gateway, &started.id).await;
            assert_eq!(events.len(), 500, "one event per item");
            let indexes: BTreeSet<u32> = events.iter().map(|item| item.index).collect();
            assert_eq!(indexes.len(), 500, "no item twice");
            assert!(
                events
                    .iter()
                    .all(|item| item.state() == BatchItemState::Succeeded)
            );
            let done = ended(&gateway, &started.id).await;
            let metadata = done.metadata.expect("metadata");
            assert_eq!(metadata.state(), BatchState::Succeeded);
            assert_eq!((metadata.succeeded, metadata.failed), (500, 0));
            assert_eq!(metadata.servers.len(), 10);
            assert!(
                metadata
                    .servers
                    .iter()
                    .all(|s| s.succeeded == 50 && s.open == 0)
            );
            assert!(done.failed_requests.is_empty());
            for (n, member) in members.iter().enumerate() {
                let counts = suspensions(&member.sim);
                for k in 0..50 {
                    let username = format!("sus{n}x{k}");
                    let account = member.sim.account(&username).expect("the account");
                    assert!(account.suspended, "{username} suspended on its panel");
                    assert_eq!(counts.get(&username), Some(&1), "{username} suspended once");
                }
                let peak = member.sim.sim.peak_concurrency();
                assert!(peak <= 2, "server {n} answered {peak} requests at once");
            }
            let peaks: Vec<u64> = members
                .iter()
                .map(|m| m.sim.sim.peak_concurrency())
                .collect();
            assert!(peaks.contains(&2), "the cap was never reached: {peaks:?}");
        },
    )
    .await;
}

/// Three servers of 8 accounts; one answers 503 with a JSON body from the
/// start of the batch: its items fail after their retries with the
/// panel's error naming the server, the other servers' items succeed, and
/// the ended batch is FAILED with exactly those items in failed_requests.
async fn a_failing_server_fails_its_items_and_spares_the_others(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let members = fleet(&gateway, 3, 8, "flt", Duration::ZERO).await;
            members[1]
                .sim
                .sim
                .faults()
                .set(Fault::Json(503, r#"{"error":"maintenance"}"#));
            let started = start(
                &gateway,
                SuspendAccountsRequest {
                    accounts: search("flt"),
                    ..Default::default()
                },
            )
            .await;
            let done = ended(&gateway, &started.id).await;
            let metadata = done.metadata.expect("metadata");
            assert_eq!(metadata.state(), BatchState::Failed);
            assert_eq!((metadata.succeeded, metadata.failed), (16, 8));
            let failing = &members[1].id;
            let failed = gateway
                .batches()
                .list_batch_items(ListBatchItemsRequest {
                    id: started.id.clone(),
                    state: BatchItemState::Failed.into(),
                    page_size: 100,
                    ..Default::default()
                })
                .await
                .expect("list failed items")
                .into_inner()
                .items;
            assert_eq!(failed.len(), 8);
            for item in &failed {
                assert_eq!(&item.server_id, failing);
                assert!(item.attempts > 1, "retried: {item:?}");
                let status = item.status.as_ref().expect("a status");
                assert_eq!(status.code, Code::Unavailable as i32, "{status:?}");
                assert!(status.message.contains("bulk-1"), "{status:?}");
                assert_eq!(
                    done.failed_requests.get(&item.index),
                    Some(status),
                    "in failed_requests"
                );
            }
            assert_eq!(done.failed_requests.len(), 8);
            for (n, member) in members.iter().enumerate() {
                for k in 0..8 {
                    let account = member.sim.account(&format!("flt{n}x{k}")).expect("account");
                    assert_eq!(account.suspended, n != 1, "flt{n}x{k}");
                }
            }
        },
    )
    .await;
}

/// A batch of 30 accounts on one slow server, one at a time, cancelled
/// after its first item: it ends CANCELLED, the items not started are
/// CANCELLED and untouched on the panel, and a later cancel changes
/// nothing.
async fn cancel_stops_a_batch(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let members = fleet(&gateway, 1, 30, "can", Duration::from_millis(100)).await;
            let started = start(
                &gateway,
                SuspendAccountsRequest {
                    accounts: search("can"),
                    options: Some(BatchOptions {
                        per_server_limit: 1,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            )
            .await;
            let mut stream = gateway
                .batches()
                .watch_batch(WatchBatchRequest {
                    id: started.id.clone(),
                })
                .await
                .expect("watch")
                .into_inner();
            stream
                .next()
                .await
                .expect("a first event")
                .expect("an event");
            let cancel = CancelBatchRequest {
                id: started.id.clone(),
                ..Default::default()
            };
            let cancelled = gateway
                .batches()
                .cancel_batch(cancel.clone())
                .await
                .expect("cancel")
                .into_inner()
                .operation
                .expect("an operation");
            assert!(cancelled.metadata.expect("metadata").cancel_requested);
            let done = ended(&gateway, &started.id).await;
            let metadata = done.metadata.expect("metadata");
            assert_eq!(metadata.state(), BatchState::Cancelled);
            assert!(metadata.cancelled > 0, "{metadata:?}");
            assert_eq!(metadata.succeeded + metadata.cancelled, 30, "{metadata:?}");
            let suspended = (0..30)
                .filter(|k| {
                    let account = members[0].sim.account(&format!("can0x{k}"));
                    account.expect("account").suspended
                })
                .count();
            assert_eq!(suspended, metadata.succeeded as usize);
            let again = gateway
                .batches()
                .cancel_batch(cancel)
                .await
                .expect("cancel again");
            let again = again.into_inner().operation.expect("an operation");
            assert_eq!(
                again.metadata.expect("metadata").cancelled,
                metadata.cancelled
            );
        },
    )
    .await;
}

/// validate_only resolves and checks each item (an unknown server's item
/// fails its check) and records nothing; two calls with one request_id
/// start one batch.
async fn validate_only_changes_nothing_and_a_request_id_starts_one_batch(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let members = fleet(&gateway, 2, 3, "val", Duration::ZERO).await;
            let before: Vec<String> = members.iter().map(|m| m.sim.sim.state()).collect();
            let mut accounts: Vec<AccountRef> = (0..3)
                .map(|k| AccountRef {
                    server_id: members[0].id.clone(),
                    username: format!("val0x{k}"),
                })
                .collect();
            accounts.push(AccountRef {
                server_id: "no-such-server".to_owned(),
                username: "val9x9".to_owned(),
            });
            let preview = gateway
                .batches()
                .suspend_accounts(SuspendAccountsRequest {
                    accounts: Some(AccountSelection {
                        accounts,
                        ..Default::default()
                    }),
                    validate_only: true,
                    ..Default::default()
                })
                .await
                .expect("validate")
                .into_inner()
                .operation
                .expect("an operation");
            assert!(preview.done && preview.id.is_empty());
            let metadata = preview.metadata.expect("metadata");
            assert_eq!(metadata.state(), BatchState::Validated);
            assert_eq!(
                (metadata.total, metadata.succeeded, metadata.failed),
                (4, 3, 1)
            );
            assert_eq!(preview.preview.len(), 4);
            let unknown = preview.preview[3].status.as_ref().expect("a status");
            assert_eq!(unknown.code, Code::NotFound as i32, "{unknown:?}");
            let after: Vec<String> = members.iter().map(|m| m.sim.sim.state()).collect();
            assert_eq!(before, after, "validate_only changed a panel");
            let listed = gateway
                .batches()
                .list_batches(ListBatchesRequest::default())
                .await
                .expect("list")
                .into_inner();
            assert!(
                listed.operations.is_empty(),
                "validate_only recorded a batch"
            );

            let request = UnsuspendAccountsRequest {
                accounts: search("val"),
                request_id: "7d1c0f7e-7b58-4a53-9d0e-2b1f1d3a9c11".to_owned(),
                ..Default::default()
            };
            let first = gateway.batches().unsuspend_accounts(request.clone()).await;
            let second = gateway.batches().unsuspend_accounts(request).await;
            let id = |reply: Result<tonic::Response<_>, tonic::Status>| {
                let reply: panelgate_proto::v1::UnsuspendAccountsResponse =
                    reply.expect("start").into_inner();
                reply.operation.expect("an operation").id
            };
            let (first, second) = (id(first), id(second));
            assert_eq!(first, second, "one request_id, one batch");
            let listed = gateway
                .batches()
                .list_batches(ListBatchesRequest::default())
                .await
                .expect("list")
                .into_inner();
            assert_eq!(listed.operations.len(), 1);
            let done = ended(&gateway, &first).await;
            assert_eq!(done.metadata.expect("metadata").succeeded, 6);
        },
    )
    .await;
}

/// CheckServers over the whole fleet with one panel answering 503: that
/// server's item fails naming why, the others succeed with what the check
/// found.
async fn a_fleet_health_check_names_the_server_that_is_down(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let members = fleet(&gateway, 3, 0, "chk", Duration::ZERO).await;
            members[2].sim.sim.faults().set(Fault::Status(503));
            let started = gateway
                .batches()
                .check_servers(CheckServersRequest {
                    servers: Some(ServerSelector {
                        whole_fleet: true,
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .expect("start the check")
                .into_inner()
                .operation
                .expect("an operation");
            let events = watch(&gateway, &started.id).await;
            assert_eq!(events.len(), 3);
            for item in events {
                if item.server_id == members[2].id {
                    assert_eq!(item.state(), BatchItemState::Failed, "{item:?}");
                    let status = item.status.expect("a status");
                    assert!(status.message.contains("UPSTREAM"), "{status:?}");
                } else {
                    assert_eq!(item.state(), BatchItemState::Succeeded, "{item:?}");
                    assert!(item.detail.starts_with("healthy"), "{item:?}");
                }
            }
            let done = ended(&gateway, &started.id).await;
            assert_eq!(done.failed_requests.len(), 1);
        },
    )
    .await;
}

/// Bad batch requests are INVALID_ARGUMENT naming the field; an unknown
/// batch is NOT_FOUND BATCH_NOT_FOUND.
async fn bad_batch_requests_name_their_field(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let one = |server: &str, username: &str| AccountRef {
                server_id: server.to_owned(),
                username: username.to_owned(),
            };
            let listed = |accounts: Vec<AccountRef>| {
                Some(AccountSelection {
                    accounts,
                    ..Default::default()
                })
            };
            let limits = |per_server_limit, overall_limit| {
                Some(BatchOptions {
                    per_server_limit,
                    overall_limit,
                    ..Default::default()
                })
            };
            let paged = Some(AccountSelection {
                search: Some(SearchAccountsRequest {
                    page_size: 10,
                    ..Default::default()
                }),
                ..Default::default()
            });
            let both = Some(AccountSelection {
                accounts: vec![one("s", "bob")],
                search: Some(SearchAccountsRequest::default()),
            });
            let cases = [
                (None, None, "accounts"),
                (both, None, "accounts"),
                (
                    listed(vec![one("s", "bob"), one("s", "bob")]),
                    None,
                    "accounts.accounts[1].username",
                ),
                (
                    listed(vec![one("s", "Bad Name!")]),
                    None,
                    "accounts.accounts[0].username",
                ),
                (
                    listed(vec![one(" ", "bob")]),
                    None,
                    "accounts.accounts[0].server_id",
                ),
                (paged, None, "accounts.search.page_size"),
                (search("x"), limits(17, 0), "options.per_server_limit"),
                (search("x"), limits(0, 5000), "options.overall_limit"),
            ];
            for (accounts, options, field) in cases {
                let refused = gateway
                    .batches()
                    .suspend_accounts(SuspendAccountsRequest {
                        accounts,
                        options,
                        ..Default::default()
                    })
                    .await;
                assert_invalid(refused, field);
            }
            let get = |id: &str| {
                let mut client = gateway.batches();
                let id = id.to_owned();
                async move { client.get_batch(GetBatchRequest { id }).await }
            };
            assert_invalid(get("not-a-uuid").await, "id");
            assert_error(
                get("0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c21").await,
                Code::NotFound,
                "BATCH_NOT_FOUND",
            );
            let empty = gateway
                .batches()
                .check_servers(CheckServersRequest::default())
                .await;
            assert_invalid(empty, "servers");
        },
    )
    .await;
}

//! The operation journal: what starting and finishing a call records, and listing.

use std::time::Duration as Lease;

use chrono::{DateTime, Duration, TimeZone, Utc};
use panelgate_inventory::entities::operations;
use panelgate_inventory::{
    Claim, Inventory, InventoryError, OperationFilter, OperationRecord, OperationStart,
    PageRequest, Record,
};
use sea_orm::EntityTrait;

use crate::harness::{Harness, ended, new_server, operation};

suite!(
    operations_round_trip_newest_first,
    operations_filter_by_caller_method_server_groups_resource_and_time,
    operations_page_across_equal_start_times,
    unknown_operations_are_not_found,
    journalling_without_a_request_id_needs_no_master_key,
);

const LEASE: Lease = Lease::from_secs(60);

fn at(second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap() + Duration::seconds(second)
}

fn op(
    caller: &str,
    server: Option<&str>,
    resource: &str,
    started_at: DateTime<Utc>,
) -> OperationStart {
    OperationStart {
        server_id: server.map(str::to_owned),
        resource: resource.to_owned(),
        started_at,
        ..operation(caller, None, b"")
    }
}

/// Starts and finishes `start` with `OK` 40 ms later, returning its id.
async fn journal(inventory: &Inventory, start: OperationStart) -> String {
    let started_at = start.started_at;
    let (server_id, resource) = (start.server_id.clone(), start.resource.clone());
    let Claim::Run {
        id,
        uncertain: false,
    } = inventory.start_operation(start, LEASE).await.unwrap()
    else {
        panic!("a new operation runs");
    };
    let mut end = ended("OK", None, false);
    end.server_id = server_id;
    end.resource = resource;
    end.finished_at = started_at + Duration::milliseconds(40);
    inventory.finish_operation(&id, end).await.unwrap();
    id
}

/// A pending entry, then the finished one: every field reads back (times to the
/// microsecond), through `get_operation` and newest first through the list.
async fn operations_round_trip_newest_first(h: Harness) {
    let inv = &h.inventory;
    let started_at = at(5) + Duration::nanoseconds(123_456_789);
    let start = OperationStart {
        started_at,
        ..operation("billing", Some("req-1"), b"digest")
    };
    let Claim::Run {
        id,
        uncertain: false,
    } = inv.start_operation(start, LEASE).await.unwrap()
    else {
        panic!("a new key runs");
    };
    let pending = inv.get_operation(&id).await.unwrap();
    let micros = at(5) + Duration::microseconds(123_456);
    assert_eq!(
        pending,
        OperationRecord {
            id: id.clone(),
            request_id: Some("req-1".into()),
            caller: "billing".into(),
            method: "/panelgate.v1.AccountService/SuspendAccount".into(),
            server_id: None,
            resource: "account/bob".into(),
            outcome: OperationRecord::PENDING.into(),
            error_message: None,
            retryable: false,
            attempts: 1,
            started_at: micros,
            claimed_at: micros,
            finished_at: None,
        }
    );

    let mut end = ended("NOT_FOUND", Some(&[0, 1, 2, 255]), false);
    end.finished_at = started_at + Duration::milliseconds(40);
    inv.finish_operation(&id, end).await.unwrap();
    let older = journal(inv, op("billing", None, "account/alice", at(1))).await;

    let page = inv
        .list_operations(&OperationFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.next_token, None);
    let ids: Vec<&str> = page.items.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [id.as_str(), older.as_str()]);
    let finished = OperationRecord {
        server_id: Some("s1".into()),
        outcome: "NOT_FOUND".into(),
        error_message: Some("NOT_FOUND for account `bob`".into()),
        finished_at: Some(micros + Duration::milliseconds(40)),
        ..pending
    };
    assert_eq!(page.items[0], finished);
    assert_eq!(inv.get_operation(&id).await.unwrap(), finished);
    assert_eq!(page.items[1].server_id, None);
    assert_eq!(page.items[1].request_id, None);
}

/// Filters on caller, method, server, the servers' groups, resource, and the
/// half-open [since, until) window.
async fn operations_filter_by_caller_method_server_groups_resource_and_time(h: Harness) {
    let inv = &h.inventory;
    let eu = inv
        .create_server(new_server("eu-1", &[]), None)
        .await
        .unwrap();
    let mut us = new_server("us-1", &[]);
    us.group = "us".into();
    let us = inv.create_server(us, None).await.unwrap();
    let (eu, us) = (Some(eu.id.as_str()), Some(us.id.as_str()));

    journal(inv, op("billing", eu, "account/bob", at(0))).await;
    journal(inv, op("billing", us, "account/bob", at(10))).await;
    let mut create = op("support", eu, "account/alice", at(20));
    create.method = "/panelgate.v1.AccountService/CreateAccount".into();
    journal(inv, create).await;
    journal(inv, op("support", None, "server/s3", at(30))).await;
    journal(inv, op("support", Some("gone"), "account/carol", at(40))).await;

    let seconds = |filter: OperationFilter| async move {
        let page = inv
            .list_operations(&filter, PageRequest::default())
            .await
            .unwrap();
        page.items
            .iter()
            .map(|o| (o.started_at - at(0)).num_seconds())
            .collect::<Vec<_>>()
    };
    let groups = |names: &[&str]| Some(names.iter().map(|name| name.to_string()).collect());
    assert_eq!(
        seconds(OperationFilter::default()).await,
        [40, 30, 20, 10, 0]
    );
    let by_caller = OperationFilter {
        caller: Some("billing".into()),
        ..Default::default()
    };
    assert_eq!(seconds(by_caller).await, [10, 0]);
    let by_method = OperationFilter {
        method: Some("/panelgate.v1.AccountService/CreateAccount".into()),
        ..Default::default()
    };
    assert_eq!(seconds(by_method).await, [20]);
    let by_server = OperationFilter {
        server_id: eu.map(str::to_owned),
        ..Default::default()
    };
    assert_eq!(seconds(by_server).await, [20, 0]);
    let by_group = OperationFilter {
        server_groups: groups(&["eu"]),
        ..Default::default()
    };
    assert_eq!(seconds(by_group).await, [20, 0]);
    let by_groups = OperationFilter {
        server_groups: groups(&["eu", "us", "asia"]),
        ..Default::default()
    };
    assert_eq!(seconds(by_groups).await, [20, 10, 0]);
    let no_group = OperationFilter {
        server_groups: groups(&[]),
        ..Default::default()
    };
    assert_eq!(seconds(no_group).await, [] as [i64; 0]);
    let by_resource = OperationFilter {
        resource: Some("account/bob".into()),
        ..Default::default()
    };
    assert_eq!(seconds(by_resource).await, [10, 0]);
    let window = OperationFilter {
        since: Some(at(10)),
        until: Some(at(30)),
        ..Default::default()
    };
    assert_eq!(seconds(window).await, [20, 10]);
    let combined = OperationFilter {
        caller: Some("support".into()),
        server_groups: groups(&["eu"]),
        since: Some(at(1)),
        ..Default::default()
    };
    assert_eq!(seconds(combined).await, [20]);
}

/// Paging visits every entry once, even when several share a start time.
async fn operations_page_across_equal_start_times(h: Harness) {
    for (i, second) in [0, 5, 5, 5, 9].into_iter().enumerate() {
        let resource = format!("account/u{i}");
        journal(&h.inventory, op("billing", None, &resource, at(second))).await;
    }
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let request = PageRequest { size: 2, token };
        let page = h
            .inventory
            .list_operations(&OperationFilter::default(), request)
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.items);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    let times: Vec<i64> = seen
        .iter()
        .map(|o| (o.started_at - at(0)).num_seconds())
        .collect();
    assert_eq!(times, [9, 5, 5, 5, 0]);
    let mut resources: Vec<&str> = seen.iter().map(|o| o.resource.as_str()).collect();
    resources.sort();
    resources.dedup();
    assert_eq!(resources.len(), 5);
}

/// `get_operation` and `finish_operation` of an unknown id are `NotFound`.
async fn unknown_operations_are_not_found(h: Harness) {
    let is_not_found = |err: InventoryError| matches!(err, InventoryError::NotFound { record: Record::Operation, key } if key == "nope");
    assert!(is_not_found(
        h.inventory.get_operation("nope").await.unwrap_err()
    ));
    let err = h
        .inventory
        .finish_operation("nope", ended("OK", None, false))
        .await
        .unwrap_err();
    assert!(is_not_found(err));
}

/// Without a keyring, calls without a request id are journalled (their reply is
/// not stored) but an idempotent start is `NoMasterKey` and writes nothing.
async fn journalling_without_a_request_id_needs_no_master_key(h: Harness) {
    let keyless = h.without_keyring().await;
    let err = keyless
        .start_operation(operation("billing", Some("req-1"), b"d"), LEASE)
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::NoMasterKey));

    let Claim::Run {
        id,
        uncertain: false,
    } = keyless
        .start_operation(operation("billing", None, b"d"), LEASE)
        .await
        .unwrap()
    else {
        panic!("a call without a request id always runs");
    };
    keyless
        .finish_operation(&id, ended("OK", Some(b"reply"), false))
        .await
        .unwrap();
    let all = keyless
        .list_operations(&OperationFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(all.items[0].outcome, "OK");
    assert!(all.items[0].finished_at.is_some());
    let row = operations::Entity::find_by_id(id)
        .one(&h.raw().await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.request_digest, row.reply, row.key_id),
        (None, None, None)
    );
    keyless.close().await.unwrap();
}

//! The operation journal.

use chrono::{DateTime, Duration, TimeZone, Utc};
use panelgate_inventory::{InventoryError, NewOperation, OperationFilter, PageRequest};

use crate::harness::Harness;

suite!(
    operations_list_newest_first_and_round_trip,
    operations_filter_by_caller_server_resource_and_time,
    operations_page_across_equal_start_times,
    request_ids_are_unique_per_caller,
);

fn at(second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap() + Duration::seconds(second)
}

fn op(
    caller: &str,
    server: Option<&str>,
    resource: &str,
    started_at: DateTime<Utc>,
) -> NewOperation {
    NewOperation {
        request_id: None,
        caller: caller.to_owned(),
        method: "/panelgate.v1.AccountService/SuspendAccount".to_owned(),
        server_id: server.map(str::to_owned),
        resource: resource.to_owned(),
        request_digest: None,
        outcome: "OK".to_owned(),
        error_message: None,
        response: None,
        started_at,
        finished_at: started_at + Duration::milliseconds(40),
    }
}

/// Every field reads back (times to the microsecond), newest first.
async fn operations_list_newest_first_and_round_trip(h: Harness) {
    let mut full = op(
        "billing",
        Some("s1"),
        "account/bob",
        at(5) + Duration::nanoseconds(123_456_789),
    );
    full.request_id = Some("req-1".into());
    full.request_digest = Some("sha256:abcd".into());
    full.outcome = "NOT_FOUND".into();
    full.error_message = Some("account `bob` not found".into());
    full.response = Some(vec![0, 1, 2, 255]);
    h.inventory.record_operation(full.clone()).await.unwrap();
    h.inventory
        .record_operation(op("billing", None, "account/alice", at(1)))
        .await
        .unwrap();

    let page = h
        .inventory
        .list_operations(&OperationFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_token, None);
    let newest = &page.items[0];
    assert_eq!(newest.resource, "account/bob");
    assert_eq!(newest.started_at, at(5) + Duration::microseconds(123_456));
    assert_eq!(
        newest.finished_at,
        full.finished_at - Duration::nanoseconds(789)
    );
    assert_eq!(
        (
            newest.request_id.as_deref(),
            newest.request_digest.as_deref(),
            newest.server_id.as_deref()
        ),
        (Some("req-1"), Some("sha256:abcd"), Some("s1"))
    );
    assert_eq!(
        (newest.outcome.as_str(), newest.error_message.as_deref()),
        ("NOT_FOUND", Some("account `bob` not found"))
    );
    assert_eq!(newest.response.as_deref(), Some(&[0, 1, 2, 255][..]));
    assert_eq!(page.items[1].resource, "account/alice");
    assert_eq!(page.items[1].server_id, None);
}

/// Filters on caller, server, resource, and the half-open [since, until) window.
async fn operations_filter_by_caller_server_resource_and_time(h: Harness) {
    let inv = &h.inventory;
    inv.record_operation(op("billing", Some("s1"), "account/bob", at(0)))
        .await
        .unwrap();
    inv.record_operation(op("billing", Some("s2"), "account/bob", at(10)))
        .await
        .unwrap();
    inv.record_operation(op("support", Some("s1"), "account/alice", at(20)))
        .await
        .unwrap();
    inv.record_operation(op("support", None, "server/s3", at(30)))
        .await
        .unwrap();

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
    assert_eq!(seconds(OperationFilter::default()).await, [30, 20, 10, 0]);
    let by_caller = OperationFilter {
        caller: Some("billing".into()),
        ..Default::default()
    };
    assert_eq!(seconds(by_caller).await, [10, 0]);
    let by_server = OperationFilter {
        server_id: Some("s1".into()),
        ..Default::default()
    };
    assert_eq!(seconds(by_server).await, [20, 0]);
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
        server_id: Some("s1".into()),
        since: Some(at(1)),
        ..Default::default()
    };
    assert_eq!(seconds(combined).await, [20]);
}

/// Paging visits every entry once, even when several share a start time.
async fn operations_page_across_equal_start_times(h: Harness) {
    for (i, second) in [0, 5, 5, 5, 9].into_iter().enumerate() {
        let resource = format!("account/u{i}");
        h.inventory
            .record_operation(op("billing", None, &resource, at(second)))
            .await
            .unwrap();
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

/// A caller cannot reuse a request id; other callers and absent ids never collide.
async fn request_ids_are_unique_per_caller(h: Harness) {
    let inv = &h.inventory;
    let mut first = op("billing", None, "account/bob", at(0));
    first.request_id = Some("req-1".into());
    inv.record_operation(first.clone()).await.unwrap();

    let err = inv.record_operation(first.clone()).await.unwrap_err();
    assert!(
        matches!(err, InventoryError::AlreadyExists { entity: "operation", key } if key == "req-1")
    );

    let mut other_caller = first;
    other_caller.caller = "support".into();
    inv.record_operation(other_caller).await.unwrap();
    inv.record_operation(op("billing", None, "account/bob", at(1)))
        .await
        .unwrap();
    inv.record_operation(op("billing", None, "account/bob", at(2)))
        .await
        .unwrap();

    let all = inv
        .list_operations(&OperationFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 4);
}

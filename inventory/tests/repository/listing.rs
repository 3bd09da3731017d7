//! Listing servers: filters (in SQL) and keyset paging.

use std::collections::BTreeMap;

use panelgate_inventory::{
    InventoryError, Page, PageRequest, ServerFilter, ServerRecord, ServerState,
};

use crate::harness::{Harness, new_server};

suite!(
    list_filters_by_kind_group_state_and_labels,
    list_pages_by_name,
    bad_page_tokens_are_rejected,
);

fn names(page: &Page<ServerRecord>) -> Vec<&str> {
    page.items.iter().map(|s| s.name.as_str()).collect()
}

/// Each filter narrows the list, labels are ANDed, and all filters combine.
async fn list_filters_by_kind_group_state_and_labels(h: Harness) {
    let inv = &h.inventory;
    inv.create_server(new_server("a", &[("env", "prod"), ("tier", "gold")]), None)
        .await
        .unwrap();
    inv.create_server(
        new_server("b", &[("env", "prod"), ("tier", "silver")]),
        None,
    )
    .await
    .unwrap();
    let mut c = new_server("c", &[("env", "staging")]);
    c.kind = "spanel".into();
    inv.create_server(c, None).await.unwrap();
    let mut d = new_server("d", &[("env", "prod"), ("tier", "gold")]);
    d.group = "us".into();
    d.state = ServerState::Disabled;
    inv.create_server(d, None).await.unwrap();

    let list = |filter: ServerFilter| async move {
        inv.list_servers(&filter, PageRequest::default())
            .await
            .unwrap()
    };
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    assert_eq!(
        names(&list(ServerFilter::default()).await),
        ["a", "b", "c", "d"]
    );
    let by_kind = ServerFilter {
        kind: Some("spanel".into()),
        ..Default::default()
    };
    assert_eq!(names(&list(by_kind).await), ["c"]);
    let by_group = ServerFilter {
        group: Some("us".into()),
        ..Default::default()
    };
    assert_eq!(names(&list(by_group).await), ["d"]);
    let by_state = ServerFilter {
        state: Some(ServerState::Active),
        ..Default::default()
    };
    assert_eq!(names(&list(by_state).await), ["a", "b", "c"]);
    let one_label = ServerFilter {
        labels: labels(&[("env", "prod")]),
        ..Default::default()
    };
    assert_eq!(names(&list(one_label).await), ["a", "b", "d"]);
    let two_labels = ServerFilter {
        labels: labels(&[("env", "prod"), ("tier", "gold")]),
        ..Default::default()
    };
    let page = list(two_labels.clone()).await;
    assert_eq!(names(&page), ["a", "d"]);
    assert_eq!(
        page.items[0].labels,
        labels(&[("env", "prod"), ("tier", "gold")])
    );
    let everything = ServerFilter {
        kind: Some("admin_api".into()),
        group: Some("eu".into()),
        state: Some(ServerState::Active),
        ..two_labels
    };
    assert_eq!(names(&list(everything).await), ["a"]);
    let nothing = ServerFilter {
        labels: labels(&[("env", "dev")]),
        ..Default::default()
    };
    assert!(list(nothing).await.items.is_empty());
}

/// Five servers in pages of two: 2 + 2 + 1, by name, the last page without a token;
/// paging also works under a label filter.
async fn list_pages_by_name(h: Harness) {
    for name in ["e", "b", "d", "a", "c"] {
        let labels: &[(&str, &str)] = if name == "c" { &[] } else { &[("k", "v")] };
        h.inventory
            .create_server(new_server(name, labels), None)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let page = h
            .inventory
            .list_servers(&ServerFilter::default(), PageRequest { size: 2, token })
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|s| s.name.clone()));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);

    let filter = ServerFilter {
        labels: [("k".to_string(), "v".to_string())].into(),
        ..Default::default()
    };
    let first = h
        .inventory
        .list_servers(&filter, PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(names(&first), ["a", "b"]);
    let second = PageRequest {
        size: 2,
        token: first.next_token,
    };
    let second = h.inventory.list_servers(&filter, second).await.unwrap();
    assert_eq!(names(&second), ["d", "e"]);
    assert_eq!(second.next_token, None);
}

/// Tokens that are not base64, not ours, or from another list are `InvalidPageToken`.
async fn bad_page_tokens_are_rejected(h: Harness) {
    for name in ["a", "b", "c"] {
        h.inventory
            .create_server(new_server(name, &[]), None)
            .await
            .unwrap();
    }
    for token in ["%%%", "bm9wZQ", "eyJsaXN0IjoibW9vIn0"] {
        let page = PageRequest {
            size: 2,
            token: Some(token.into()),
        };
        let err = h
            .inventory
            .list_servers(&ServerFilter::default(), page)
            .await
            .unwrap_err();
        assert!(
            matches!(err, InventoryError::InvalidPageToken),
            "{token}: {err}"
        );
    }
    let servers_token = h
        .inventory
        .list_servers(&ServerFilter::default(), PageRequest::first(1))
        .await
        .unwrap()
        .next_token;
    let page = PageRequest {
        size: 1,
        token: servers_token,
    };
    let err = h
        .inventory
        .list_operations(&Default::default(), page)
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::InvalidPageToken));
}

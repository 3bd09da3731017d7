//! Sync runs and what they write, and the fleet-wide search.

use panelgate_inventory::{
    AccountOrder, AccountSearch, AccountStatus, Difference, Finding, FindingFilter, NewSyncRun,
    PageRequest, PanelAccount, ServerSyncResult, SyncClass, UsageFigures,
};

use crate::harness::{Harness, entry, new_server};

suite!(
    a_key_starts_one_run,
    findings_count_and_page,
    applying_adds_updates_and_marks_but_never_deletes,
    search_filters_and_pages_stably,
);

fn run(key: Option<&str>) -> NewSyncRun {
    NewSyncRun {
        key: key.map(str::to_owned),
        caller: "tests".into(),
        apply: false,
        collect_usage: false,
        servers_total: 2,
    }
}

fn finding(server_id: &str, username: &str, class: SyncClass) -> Finding {
    Finding {
        server_id: server_id.into(),
        username: username.into(),
        class,
        differences: Vec::new(),
        reason: String::new(),
    }
}

fn panel_account(username: &str, package: &str, status: AccountStatus) -> PanelAccount {
    PanelAccount {
        username: username.into(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@panel.example"),
        package: package.into(),
        status,
    }
}

/// The same key returns the first run, however many ask at once.
async fn a_key_starts_one_run(h: Harness) {
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let inventory = h.inventory.clone();
        asks.spawn(async move { inventory.start_sync_run(run(Some("scheduled:1"))).await });
    }
    let started = asks.join_all().await;
    let ids: std::collections::BTreeSet<String> = started
        .iter()
        .map(|outcome| outcome.as_ref().unwrap().0.id.clone())
        .collect();
    assert_eq!(ids.len(), 1, "one run: {started:?}");
    let fresh = started.iter().filter(|o| o.as_ref().unwrap().1).count();
    assert_eq!(fresh, 1, "started once");
    let (other, new) = h.inventory.start_sync_run(run(None)).await.unwrap();
    assert!(new && !ids.contains(&other.id));
}

/// Findings are counted on their run, and page by server then username.
async fn findings_count_and_page(h: Harness) {
    let (started, _) = h.inventory.start_sync_run(run(None)).await.unwrap();
    let mut mismatched = finding("s1", "carol", SyncClass::Mismatched);
    mismatched.differences = vec![Difference {
        field: "package".into(),
        index_value: "basic".into(),
        panel_value: "pro".into(),
    }];
    let one = vec![
        finding("s1", "bob", SyncClass::Matched),
        mismatched.clone(),
        finding("s1", "alice", SyncClass::PanelOnly),
        finding("s1", "dave", SyncClass::IndexOnly),
    ];
    h.inventory
        .record_findings(&started.id, one, true)
        .await
        .unwrap();
    let mut down = finding("s0", "", SyncClass::ServerUnreachable);
    down.reason = "UPSTREAM_UNAVAILABLE: refused".into();
    h.inventory
        .record_findings(&started.id, vec![down.clone()], true)
        .await
        .unwrap();
    // Counted, not stored: the periodic sync keeps only what needs a look.
    let quiet = vec![finding("s2", "erin", SyncClass::Matched)];
    h.inventory
        .record_findings(&started.id, quiet, false)
        .await
        .unwrap();
    h.inventory.finish_sync_run(&started.id).await.unwrap();

    let done = h.inventory.get_sync_run(&started.id).await.unwrap();
    assert!(done.done && done.ended_at.is_some());
    assert_eq!((done.servers_done, done.servers_failed), (3, 1));
    let counts = done.counts;
    assert_eq!(
        (
            counts.matched,
            counts.panel_only,
            counts.index_only,
            counts.mismatched
        ),
        (2, 1, 1, 1)
    );

    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = PageRequest { size: 2, token };
        let found = h
            .inventory
            .list_sync_findings(&started.id, &FindingFilter::default(), page)
            .await
            .unwrap();
        listed.extend(found.items);
        token = found.next_token;
        if token.is_none() {
            break;
        }
    }
    let order: Vec<(&str, &str)> = listed
        .iter()
        .map(|f| (f.server_id.as_str(), f.username.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("s0", ""),
            ("s1", "alice"),
            ("s1", "bob"),
            ("s1", "carol"),
            ("s1", "dave")
        ]
    );
    assert_eq!(listed[0], down);
    assert_eq!(listed[3], mismatched);
    let only = FindingFilter {
        class: Some(SyncClass::Mismatched),
        ..FindingFilter::default()
    };
    let page = PageRequest {
        size: 10,
        token: None,
    };
    let found = h
        .inventory
        .list_sync_findings(&started.id, &only, page)
        .await
        .unwrap();
    assert_eq!(found.items, [mismatched]);
}

/// An applied sync imports, updates, marks missing and records the server's
/// sync; it deletes nothing, an entry removed meanwhile stays removed, and
/// one written meanwhile keeps what was written.
async fn applying_adds_updates_and_marks_but_never_deletes(h: Harness) {
    let server = h
        .inventory
        .create_server(new_server("web-1", &[]), None)
        .await
        .unwrap();
    for username in ["kept", "drifted", "gone", "deleted", "touched"] {
        h.inventory
            .upsert_account(entry(&server.id, username))
            .await
            .unwrap();
    }
    let read_at = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Deleted, and changed, through panelgate while the sync read the panel.
    h.inventory
        .remove_account(&server.id, "deleted")
        .await
        .unwrap();
    h.inventory
        .set_account_package(&server.id, "touched", "platinum")
        .await
        .unwrap();
    let usage = UsageFigures {
        disk_used: Some(900),
        disk_limit: Some(1000),
        ..UsageFigures::default()
    };
    let result = ServerSyncResult {
        read_at,
        imported: vec![panel_account("newcomer", "basic", AccountStatus::Active)],
        changed: vec![
            panel_account("drifted", "pro", AccountStatus::Suspended),
            panel_account("deleted", "basic", AccountStatus::Active),
            panel_account("touched", "pro", AccountStatus::Active),
        ],
        unchanged: vec!["kept".into()],
        mismatched: vec![("drifted".into(), vec!["package".into(), "status".into()])],
        missing: vec!["gone".into()],
        usage: vec![("kept".into(), usage)],
    };
    h.inventory
        .apply_server_sync(&server.id, result)
        .await
        .unwrap();

    let everything = AccountSearch::default();
    let page = PageRequest {
        size: 100,
        token: None,
    };
    let found = h
        .inventory
        .search_accounts(&everything, page)
        .await
        .unwrap();
    let by_name = |username: &str| {
        found
            .items
            .iter()
            .find(|entry| entry.account.username == username)
            .cloned()
    };
    assert!(
        by_name("deleted").is_none(),
        "a removed entry stays removed"
    );
    let touched = by_name("touched").unwrap();
    assert_eq!(touched.account.package, "platinum", "a later write wins");
    assert_eq!(found.items.len(), 5);
    let newcomer = by_name("newcomer").unwrap();
    assert_eq!(
        newcomer.account,
        panel_account("newcomer", "basic", AccountStatus::Active)
    );
    assert_eq!(
        (newcomer.group.as_str(), newcomer.kind.as_str()),
        ("eu", "admin_api")
    );
    let drifted = by_name("drifted").unwrap();
    assert_eq!(drifted.account.package, "pro");
    assert_eq!(drifted.account.status, AccountStatus::Suspended);
    assert_eq!(drifted.mismatched_fields, ["package", "status"]);
    assert!(by_name("gone").unwrap().missing);
    let kept = by_name("kept").unwrap();
    assert!(!kept.missing && kept.mismatched_fields.is_empty());
    assert_eq!(kept.usage.unwrap().0, usage);
    let record = h.inventory.get_server(&server.id).await.unwrap();
    assert_eq!(record.last_sync.unwrap().1, "ok");
}

/// Every filter, both orders, and pages that add up to the whole answer.
async fn search_filters_and_pages_stably(h: Harness) {
    let mut eu = new_server("eu-1", &[]);
    eu.group = "eu".into();
    let mut us = new_server("us-1", &[]);
    us.group = "us".into();
    let mut ids = Vec::new();
    for (offset, server) in [(0, eu), (10, us)] {
        let record = h.inventory.create_server(server, None).await.unwrap();
        let mut result = ServerSyncResult::default();
        for n in 0..6 {
            let status = if n % 3 == 0 {
                AccountStatus::Suspended
            } else {
                AccountStatus::Active
            };
            let package = if n % 2 == 0 { "gold" } else { "silver" };
            let username = format!("{}{n}", &record.group);
            result
                .imported
                .push(panel_account(&username, package, status));
            let disk = UsageFigures {
                disk_used: (n > 0).then_some(n * 100 + offset),
                disk_limit: Some(500),
                ..UsageFigures::default()
            };
            result.usage.push((username, disk));
        }
        h.inventory
            .apply_server_sync(&record.id, result)
            .await
            .unwrap();
        ids.push(record.id);
    }
    let search = |search: AccountSearch| {
        let inventory = h.inventory.clone();
        async move {
            let mut names = Vec::new();
            let mut token = None;
            loop {
                let page = PageRequest { size: 2, token };
                let found = inventory.search_accounts(&search, page).await.unwrap();
                names.extend(found.items.into_iter().map(|entry| entry.account.username));
                token = found.next_token;
                if token.is_none() {
                    return names;
                }
            }
        }
    };
    let question = AccountSearch {
        group: Some("eu".into()),
        package: Some("gold".into()),
        status: Some(AccountStatus::Suspended),
        ..AccountSearch::default()
    };
    assert_eq!(search(question).await, ["eu0"]);
    let suspended = AccountSearch {
        status: Some(AccountStatus::Suspended),
        ..AccountSearch::default()
    };
    let mut found = search(suspended).await;
    found.sort();
    assert_eq!(found, ["eu0", "eu3", "us0", "us3"]);
    let in_groups = AccountSearch {
        any_group_of: Some(["us".to_owned()].into()),
        username_prefix: Some("u".into()),
        domain_suffix: Some("5.example".into()),
        kind: Some("admin_api".into()),
        ..AccountSearch::default()
    };
    assert_eq!(search(in_groups).await, ["us5"]);
    // `_` and `%` are no wildcards.
    let wildcards = AccountSearch {
        username_prefix: Some("_".into()),
        domain_suffix: Some("%".into()),
        ..AccountSearch::default()
    };
    assert!(search(wildcards).await.is_empty());
    let upper = AccountSearch {
        username_prefix: Some("US".into()),
        ..AccountSearch::default()
    };
    assert_eq!(search(upper).await.len(), 6, "usernames are lowercase");
    let exact = AccountSearch {
        primary_domain: Some("EU2.example".into()),
        server_id: Some(ids[0].clone()),
        missing: Some(false),
        mismatched: Some(false),
        ..AccountSearch::default()
    };
    assert_eq!(search(exact).await, ["eu2"]);
    // At least 80% of the 500-byte limit: 400 bytes used and more.
    let over = AccountSearch {
        min_usage_percent: Some(80),
        order: AccountOrder::DiskDesc,
        ..AccountSearch::default()
    };
    assert_eq!(search(over).await, ["us5", "eu5", "us4", "eu4"]);
    let top = AccountSearch {
        order: AccountOrder::DiskDesc,
        ..AccountSearch::default()
    };
    let ranked = search(top).await;
    assert_eq!(ranked.len(), 12);
    assert_eq!(&ranked[..2], ["us5", "eu5"]);
    let mut last: Vec<&str> = ranked[10..].iter().map(String::as_str).collect();
    last.sort_unstable();
    assert_eq!(last, ["eu0", "us0"], "no figure ranks last");
    // By server, then username: one server's six, then the other's.
    let whole = search(AccountSearch::default()).await;
    assert_eq!(whole.len(), 12);
    let first = &whole[0][..2];
    assert!(
        whole[..6].iter().all(|name| name.starts_with(first)),
        "{whole:?}"
    );
    assert!(whole[..6].is_sorted());
}

//! Batches: claims keep the limits and take servers in turns, also when
//! claimers race; an expired lease is open again and its late end is
//! refused; a stop cancels what was not started; a journal entry records
//! one batch.

use std::{collections::BTreeMap, time::Duration};

use panelgate_inventory::{
    BatchKind, BatchLimits, BatchState, ItemEnd, ItemOutcome, ItemRecord, ItemState, NewBatch,
};

use crate::harness::Harness;

suite!(
    claims_keep_the_limits_and_take_servers_in_turns,
    racing_claimers_never_exceed_a_servers_limit,
    an_expired_lease_is_open_again_and_a_late_end_is_refused,
    a_stop_cancels_what_was_not_started_and_the_batch_ends,
    an_item_retried_after_a_stop_is_cancelled,
    a_journal_entry_records_one_batch,
);

/// A batch of `per_server` accounts on each of `servers`, listed server by
/// server.
fn batch(servers: &[&str], per_server: usize, limits: BatchLimits) -> NewBatch {
    let items = servers
        .iter()
        .flat_map(|server| (0..per_server).map(move |n| ((*server).to_owned(), format!("u{n}"))))
        .collect();
    NewBatch {
        journal_id: None,
        kind: BatchKind::SuspendAccounts,
        caller: "tests".into(),
        groups: None,
        reason: String::new(),
        package: String::new(),
        limits,
        items,
    }
}

const LIMITS: BatchLimits = BatchLimits {
    per_server: 2,
    overall: 5,
    max_failures: 0,
};

const LEASE: Duration = Duration::from_secs(20);

/// Claims up to `wanted` of batch `id`'s items for `owner`.
async fn claim(
    h: &Harness,
    id: &str,
    owner: &str,
    lease: Duration,
    wanted: usize,
) -> Vec<ItemRecord> {
    let servers = h.inventory.batch_servers(id).await.unwrap();
    let claimed = h
        .inventory
        .claim_items(id, owner, lease, wanted, &servers)
        .await;
    claimed.unwrap().items
}

fn ok() -> ItemEnd {
    ItemEnd::Ended(ItemOutcome::default())
}

async fn claims_keep_the_limits_and_take_servers_in_turns(h: Harness) {
    let (batch, _) = h
        .inventory
        .create_batch(batch(&["a", "b", "c"], 4, LIMITS))
        .await
        .unwrap();
    let claimed = claim(&h, &batch.id, "me", LEASE, 100).await;
    let mut per_server: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &claimed {
        *per_server.entry(item.server_id.as_str()).or_default() += 1;
        assert_eq!((item.state, item.attempts), (ItemState::Running, 1));
    }
    // Overall 5: every server's first item, then two seconds.
    assert_eq!(claimed.len(), 5);
    let mut shares: Vec<usize> = per_server.values().copied().collect();
    shares.sort_unstable();
    assert_eq!(shares, [1, 2, 2], "{per_server:?}");
    let more = claim(&h, &batch.id, "me", LEASE, 100).await;
    assert!(more.is_empty(), "nothing while the limits are full");
    let first = &claimed[0];
    assert!(h.inventory.end_item(first.id, "me", ok()).await.unwrap());
    let next = claim(&h, &batch.id, "me", LEASE, 100).await;
    assert_eq!(next.len(), 1);
    // A server with a free place: the freed one, or the one with one item.
    let had_room: Vec<&str> = per_server
        .iter()
        .filter(|(server, n)| **n < 2 || **server == first.server_id)
        .map(|(server, _)| *server)
        .collect();
    assert!(
        had_room.contains(&next[0].server_id.as_str()),
        "{} is not one of {had_room:?}",
        next[0].server_id
    );
}

async fn racing_claimers_never_exceed_a_servers_limit(h: Harness) {
    let limits = BatchLimits {
        overall: 1000,
        ..LIMITS
    };
    let (batch, _) = h
        .inventory
        .create_batch(batch(&["a", "b"], 50, limits))
        .await
        .unwrap();
    let mut claims = tokio::task::JoinSet::new();
    for n in 0..8 {
        let (inventory, id) = (h.inventory.clone(), batch.id.clone());
        claims.spawn(async move {
            inventory
                .claim_items(
                    &id,
                    &format!("replica-{n}"),
                    LEASE,
                    100,
                    &["a".into(), "b".into()],
                )
                .await
                .unwrap()
                .items
        });
    }
    let claimed: Vec<_> = claims.join_all().await.into_iter().flatten().collect();
    assert_eq!(claimed.len(), 4, "two per server in all: {claimed:?}");
    let counts = h.inventory.batch_counts(&batch.id).await.unwrap();
    assert!(
        counts.iter().all(|server| server.running == 2),
        "{counts:?}"
    );
}

async fn an_expired_lease_is_open_again_and_a_late_end_is_refused(h: Harness) {
    let (batch, _) = h
        .inventory
        .create_batch(batch(&["a"], 1, LIMITS))
        .await
        .unwrap();
    let short = Duration::from_millis(50);
    let claimed = claim(&h, &batch.id, "dead", short, 10).await;
    assert_eq!(claimed.len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let taken = claim(&h, &batch.id, "alive", LEASE, 10).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 2);
    assert!(
        !h.inventory
            .end_item(taken[0].id, "dead", ok())
            .await
            .unwrap()
    );
    assert!(
        h.inventory
            .end_item(taken[0].id, "alive", ok())
            .await
            .unwrap()
    );
    assert!(h.inventory.end_batch_if_done(&batch.id).await.unwrap());
    let ended = h.inventory.get_batch(&batch.id).await.unwrap();
    assert_eq!(ended.state, BatchState::Succeeded);
    assert!(ended.ended_at.is_some());
}

async fn a_stop_cancels_what_was_not_started_and_the_batch_ends(h: Harness) {
    let (batch, _) = h
        .inventory
        .create_batch(batch(&["a"], 4, LIMITS))
        .await
        .unwrap();
    let claimed = claim(&h, &batch.id, "me", LEASE, 1).await;
    let stopped = h
        .inventory
        .cancel_batch(&batch.id, true, "cancelled")
        .await
        .unwrap();
    assert!(stopped.cancel_requested);
    assert!(
        !h.inventory.end_batch_if_done(&batch.id).await.unwrap(),
        "one still runs"
    );
    let failed = ItemEnd::Ended(ItemOutcome {
        code: 14,
        message: "down".into(),
        ..ItemOutcome::default()
    });
    assert!(
        h.inventory
            .end_item(claimed[0].id, "me", failed)
            .await
            .unwrap()
    );
    assert_eq!(h.inventory.failed_item_count(&batch.id).await.unwrap(), 1);
    assert!(h.inventory.end_batch_if_done(&batch.id).await.unwrap());
    let ended = h.inventory.get_batch(&batch.id).await.unwrap();
    assert_eq!(ended.state, BatchState::Cancelled);
    let unsuccessful = h.inventory.unsuccessful_items(&batch.id, 10).await.unwrap();
    assert_eq!(unsuccessful.len(), 4);
    assert_eq!(
        unsuccessful
            .iter()
            .filter(|item| item.state == ItemState::Cancelled)
            .count(),
        3
    );
}

/// An item running when its batch stops, then failing transiently, is
/// not started again: it ends CANCELLED and the batch ends.
async fn an_item_retried_after_a_stop_is_cancelled(h: Harness) {
    let (batch, _) = h
        .inventory
        .create_batch(batch(&["a"], 3, LIMITS))
        .await
        .unwrap();
    let claimed = claim(&h, &batch.id, "me", LEASE, 1).await;
    let why = "not started: the batch stopped after 1 failed items";
    let stopped = h
        .inventory
        .cancel_batch(&batch.id, false, why)
        .await
        .unwrap();
    assert_eq!(stopped.stop_reason, why);
    assert!(!stopped.cancel_requested);
    let retry = ItemEnd::Retry {
        outcome: ItemOutcome {
            code: 14,
            ..ItemOutcome::default()
        },
        at: chrono::Utc::now(),
        deferred: false,
    };
    assert!(
        h.inventory
            .end_item(claimed[0].id, "me", retry)
            .await
            .unwrap()
    );
    let again = claim(&h, &batch.id, "me", LEASE, 10).await;
    assert!(again.is_empty(), "a stopped batch starts nothing");
    assert!(h.inventory.end_batch_if_done(&batch.id).await.unwrap());
    let ended = h.inventory.get_batch(&batch.id).await.unwrap();
    assert_eq!(ended.state, BatchState::Failed);
    let counts = h.inventory.batch_counts(&batch.id).await.unwrap();
    assert_eq!(counts[0].cancelled, 3, "{counts:?}");
}

async fn a_journal_entry_records_one_batch(h: Harness) {
    let keyed = || NewBatch {
        journal_id: Some("entry-1".into()),
        ..batch(&["a"], 2, LIMITS)
    };
    let (first, started) = h.inventory.create_batch(keyed()).await.unwrap();
    assert!(started);
    let (again, started) = h.inventory.create_batch(keyed()).await.unwrap();
    assert!(!started);
    assert_eq!(first.id, again.id);
    assert_eq!(first.total, 2);
}

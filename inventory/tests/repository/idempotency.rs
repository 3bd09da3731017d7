//! Idempotent mutations: claiming a request id, replaying, taking over, pruning.

use std::time::Duration as Lease;

use chrono::{Duration, Utc};
use panelgate_inventory::entities::operations;
use panelgate_inventory::{
    Claim, ExposeSecret, Inventory, OperationRecord, OperationStart, SecretSlice, StoredOutcome,
};
use sea_orm::EntityTrait;
use tokio::task::JoinSet;

use crate::harness::{Harness, ended, operation};

suite!(
    concurrent_starts_run_once_then_replay_identically,
    a_key_reused_for_another_request_is_refused,
    an_abandoned_claim_is_taken_over_after_the_lease,
    a_retryable_outcome_runs_again_uncertain,
    an_error_outcome_replays_without_a_reply,
    a_late_finish_keeps_the_first_result,
    prune_forgets_finished_keys_and_deletes_old_rows,
);

const LEASE: Lease = Lease::from_secs(60);
const DIGEST: &[u8] = b"sha256 of the encoded request...";
const REPLY: &[u8] = b"encoded reply";

/// Starts `start` `count` times at once on `inventory`.
async fn start_concurrently(
    inventory: &Inventory,
    start: &OperationStart,
    count: usize,
) -> Vec<Claim> {
    let mut tasks = JoinSet::new();
    for _ in 0..count {
        let (inventory, start) = (inventory.clone(), start.clone());
        tasks.spawn(async move { inventory.start_operation(start, LEASE).await.unwrap() });
    }
    tasks.join_all().await
}

async fn start(inventory: &Inventory, start: OperationStart, lease: Lease) -> Claim {
    inventory.start_operation(start, lease).await.unwrap()
}

/// The id of a `Run` claim, and whether it is uncertain.
fn run(claim: Claim) -> (String, bool) {
    match claim {
        Claim::Run { id, uncertain } => (id, uncertain),
        other => panic!("expected Run, got {other:?}"),
    }
}

fn replay(claim: Claim) -> StoredOutcome {
    match claim {
        Claim::Replay(outcome) => outcome,
        other => panic!("expected Replay, got {other:?}"),
    }
}

fn reply_of(outcome: &StoredOutcome) -> Option<&[u8]> {
    outcome.reply.as_ref().map(|reply| reply.expose_secret())
}

/// 100 simultaneous starts of one request: exactly one runs, the others see it in
/// flight. Once it finished, 100 simultaneous starts all replay the same reply, and
/// the journal holds a single entry, claimed once.
async fn concurrent_starts_run_once_then_replay_identically(h: Harness) {
    let inv = &h.inventory;
    let request = operation("billing", Some("req-1"), DIGEST);
    let claims = start_concurrently(inv, &request, 100).await;
    let runs: Vec<&Claim> = claims
        .iter()
        .filter(|c| matches!(c, Claim::Run { .. }))
        .collect();
    assert_eq!(runs.len(), 1, "{claims:?}");
    let in_flight = claims
        .iter()
        .filter(|c| matches!(c, Claim::InFlight))
        .count();
    assert_eq!(in_flight, 99);
    let Claim::Run {
        id,
        uncertain: false,
    } = runs[0]
    else {
        panic!("the first run is certain: {runs:?}");
    };

    inv.finish_operation(id, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
    for claim in start_concurrently(inv, &request, 100).await {
        let outcome = replay(claim);
        assert_eq!(
            (outcome.outcome.as_str(), outcome.error_message.as_deref()),
            ("OK", None)
        );
        assert_eq!(reply_of(&outcome), Some(REPLY));
    }
    let record = inv.get_operation(id).await.unwrap();
    assert_eq!((record.attempts, record.outcome.as_str()), (1, "OK"));
    let rows = operations::Entity::find()
        .all(&h.raw().await)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

/// The same request id with another digest, or for another method, is `Reused`,
/// whether the first call is running or done; another caller's ids never collide.
async fn a_key_reused_for_another_request_is_refused(h: Harness) {
    let inv = &h.inventory;
    let (id, _) = run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    let other_digest = operation("billing", Some("req-1"), b"another request");
    assert!(matches!(
        start(inv, other_digest.clone(), LEASE).await,
        Claim::Reused
    ));

    inv.finish_operation(&id, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
    assert!(matches!(
        start(inv, other_digest, LEASE).await,
        Claim::Reused
    ));
    let other_method = OperationStart {
        method: "/panelgate.v1.AccountService/UnsuspendAccount".into(),
        ..operation("billing", Some("req-1"), DIGEST)
    };
    assert!(matches!(
        start(inv, other_method, LEASE).await,
        Claim::Reused
    ));

    let other_caller = operation("support", Some("req-1"), b"another request");
    let (other_id, uncertain) = run(start(inv, other_caller, LEASE).await);
    assert!(!uncertain);
    assert_ne!(other_id, id);
}

/// A claim left pending past the lease is taken over: `Run`, uncertain, on the same
/// entry with a second attempt; within the lease the new claim is in flight.
async fn an_abandoned_claim_is_taken_over_after_the_lease(h: Harness) {
    let inv = &h.inventory;
    let request = operation("billing", Some("req-1"), DIGEST);
    let (id, _) = run(start(inv, request.clone(), LEASE).await);
    let first = inv.get_operation(&id).await.unwrap();

    tokio::time::sleep(Lease::from_millis(5)).await;
    let (again, uncertain) = run(start(
        inv,
        operation("billing", Some("req-1"), DIGEST),
        Lease::from_millis(1),
    )
    .await);
    assert_eq!((again.as_str(), uncertain), (id.as_str(), true));
    let second = inv.get_operation(&id).await.unwrap();
    assert_eq!(second.attempts, 2);
    assert_eq!(second.outcome, OperationRecord::PENDING);
    assert_eq!(second.started_at, first.started_at);
    assert!(second.claimed_at > first.claimed_at);

    let fresh = operation("billing", Some("req-1"), DIGEST);
    assert!(matches!(start(inv, fresh, LEASE).await, Claim::InFlight));
}

/// A retryable outcome frees the key: the next start runs again, uncertain, as a
/// pending second attempt; once that one finishes for good, it is replayed.
async fn a_retryable_outcome_runs_again_uncertain(h: Harness) {
    let inv = &h.inventory;
    let (id, _) = run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    inv.finish_operation(&id, ended("UNAVAILABLE", None, true))
        .await
        .unwrap();
    assert!(inv.get_operation(&id).await.unwrap().retryable);

    let (again, uncertain) =
        run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    assert_eq!((again.as_str(), uncertain), (id.as_str(), true));
    let pending = inv.get_operation(&id).await.unwrap();
    assert_eq!(
        (
            pending.outcome.as_str(),
            pending.attempts,
            pending.finished_at
        ),
        (OperationRecord::PENDING, 2, None)
    );

    inv.finish_operation(&id, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
    let outcome = replay(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    assert_eq!(reply_of(&outcome), Some(REPLY));
    let done = inv.get_operation(&id).await.unwrap();
    assert_eq!(
        (done.attempts, done.retryable, done.error_message),
        (2, false, None)
    );
}

/// A final error is replayed as is: its code and message, no reply.
async fn an_error_outcome_replays_without_a_reply(h: Harness) {
    let inv = &h.inventory;
    let (id, _) = run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    inv.finish_operation(&id, ended("NOT_FOUND", None, false))
        .await
        .unwrap();
    let outcome = replay(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    assert_eq!(outcome.outcome, "NOT_FOUND");
    assert_eq!(
        outcome.error_message.as_deref(),
        Some("NOT_FOUND for account `bob`")
    );
    assert!(outcome.reply.is_none());
}

/// When an abandoned claim was taken over and finished, the first runner's late
/// finish changes nothing: replays keep returning the stored result.
async fn a_late_finish_keeps_the_first_result(h: Harness) {
    let inv = &h.inventory;
    let (id, _) = run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    let (again, _) = run(start(
        inv,
        operation("billing", Some("req-1"), DIGEST),
        Lease::ZERO,
    )
    .await);
    inv.finish_operation(&again, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
    inv.finish_operation(&id, ended("INTERNAL", Some(b"late"), false))
        .await
        .unwrap();
    let outcome = replay(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    assert_eq!(
        (outcome.outcome.as_str(), reply_of(&outcome)),
        ("OK", Some(REPLY))
    );
}

/// Finished entries older than the forget horizon lose their key, digest and reply
/// (the key then runs afresh) but stay listed; pending ones keep theirs. Entries
/// started and last claimed before the delete horizon are deleted.
async fn prune_forgets_finished_keys_and_deletes_old_rows(h: Harness) {
    let inv = &h.inventory;
    let now = Utc::now();
    let days_ago = |days| now - Duration::days(days);
    let old = OperationStart {
        started_at: days_ago(10),
        ..operation("billing", Some("old"), DIGEST)
    };
    let (old_id, _) = run(start(inv, old, LEASE).await);
    let mut old_end = ended("OK", Some(REPLY), false);
    old_end.finished_at = days_ago(10);
    inv.finish_operation(&old_id, old_end).await.unwrap();
    // Abandoned ten days ago, taken over now: it may be running, so it stays.
    let stale = OperationStart {
        started_at: days_ago(10),
        ..operation("billing", Some("stale"), DIGEST)
    };
    run(start(inv, stale, LEASE).await);
    let (retaken, _) = run(start(inv, operation("billing", Some("stale"), DIGEST), LEASE).await);
    let (done, _) = run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    inv.finish_operation(&done, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
    let (pending, _) = run(start(inv, operation("billing", Some("req-2"), DIGEST), LEASE).await);
    let (plain, _) = run(start(inv, operation("billing", None, DIGEST), LEASE).await);
    inv.finish_operation(&plain, ended("OK", None, false))
        .await
        .unwrap();

    let report = inv
        .prune_operations(now + Duration::seconds(5), days_ago(1))
        .await
        .unwrap();
    assert_eq!((report.forgotten, report.deleted), (1, 1));
    assert!(inv.get_operation(&old_id).await.is_err());
    assert_eq!(inv.get_operation(&retaken).await.unwrap().attempts, 2);
    let forgotten = inv.get_operation(&done).await.unwrap();
    assert_eq!(
        (forgotten.request_id, forgotten.outcome.as_str()),
        (None, "OK")
    );
    let row = operations::Entity::find_by_id(done.clone())
        .one(&h.raw().await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.request_digest, row.reply, row.key_id),
        (None, None, None)
    );
    assert_eq!(
        inv.get_operation(&pending)
            .await
            .unwrap()
            .request_id
            .as_deref(),
        Some("req-2")
    );

    let (fresh, uncertain) =
        run(start(inv, operation("billing", Some("req-1"), DIGEST), LEASE).await);
    assert!(!uncertain);
    assert_ne!(fresh, done);
    let still = operation("billing", Some("req-2"), DIGEST);
    assert!(matches!(start(inv, still, LEASE).await, Claim::InFlight));

    let again = inv
        .prune_operations(now + Duration::seconds(5), days_ago(1))
        .await
        .unwrap();
    assert_eq!((again.forgotten, again.deleted), (0, 0));
}

/// Debug output shows neither the request digest nor the reply.
#[test]
fn debug_shows_no_digest_or_reply() {
    let start = operation("billing", Some("req-1"), b"DIGEST-MARKER");
    let end = ended("OK", Some(b"REPLY-MARKER"), false);
    let stored = StoredOutcome {
        outcome: "OK".into(),
        error_message: None,
        reply: Some(SecretSlice::from(b"REPLY-MARKER".to_vec())),
    };
    let printed = format!("{start:?} {end:?} {stored:?}");
    let printed = format!("{printed} {:?}", Claim::Replay(stored));
    assert!(printed.contains("req-1"));
    for secret in [&b"DIGEST-MARKER"[..], b"REPLY-MARKER"] {
        let numbers = format!("{secret:?}");
        assert!(
            !printed.contains(numbers.trim_matches(['[', ']'])),
            "{printed}"
        );
        assert!(!printed.contains(std::str::from_utf8(secret).unwrap()));
    }
}

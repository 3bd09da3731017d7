//! Slots held by account creates in flight: never more than a server's
//! `max_accounts`, however many ask at once; settled into the index,
//! released, held again by their holder's retry and refused to another
//! holder of the same account, kept by renewal, freed by expiry.

use std::time::Duration;

use panelgate_inventory::{InventoryError, Slot, Usage};

use crate::harness::{Harness, entry, new_server};

suite!(
    concurrent_reservations_never_pass_the_cap,
    settle_release_retry_and_expiry,
    a_deleted_server_has_no_slots,
);

/// Long enough for any test.
const HOLD: Duration = Duration::from_secs(60);

async fn server_with_cap(h: &Harness, max_accounts: u32) -> String {
    let server = new_server("capped", &[]);
    let server = h
        .inventory
        .create_server(
            panelgate_inventory::NewServer {
                max_accounts,
                ..server
            },
            None,
        )
        .await
        .unwrap();
    server.id
}

/// 60 reservations at once for 60 accounts on a server of 7 slots, 3 of
/// them taken: exactly 4 are held, the others find the server full.
async fn concurrent_reservations_never_pass_the_cap(h: Harness) {
    let id = server_with_cap(&h, 7).await;
    for username in ["a", "b", "c"] {
        h.inventory
            .upsert_account(entry(&id, username))
            .await
            .unwrap();
    }
    let tries = (0..60).map(|n| {
        let (inventory, id) = (h.inventory.clone(), id.clone());
        tokio::spawn(async move {
            let (username, holder) = (format!("u{n}"), format!("call-{n}"));
            inventory.reserve_slot(&id, &username, &holder, HOLD).await
        })
    });
    let mut held = 0;
    for outcome in joined(tries).await {
        match outcome.unwrap() {
            Slot::Held(_) => held += 1,
            Slot::Full { max } => assert_eq!(max, 7),
            other => panic!("60 different accounts: {other:?}"),
        }
    }
    assert_eq!(held, 4);
    let usage = h.inventory.usage(&id).await.unwrap();
    assert_eq!(
        usage,
        Usage {
            accounts: 3,
            reserved: 4
        }
    );
}

/// A settled slot becomes the index entry; a released one frees its place;
/// the holder reserving again holds its slot again (a retry), another
/// holder of the same account finds it taken; an indexed account needs no
/// slot; an expired slot counts no more, even for its own account.
async fn settle_release_retry_and_expiry(h: Harness) {
    let id = server_with_cap(&h, 2).await;
    let inv = &h.inventory;
    let Slot::Held(bob) = inv.reserve_slot(&id, "bob", "call-1", HOLD).await.unwrap() else {
        panic!("a free slot is held");
    };
    let again = inv.reserve_slot(&id, "bob", "call-1", HOLD).await.unwrap();
    assert_eq!(
        again,
        Slot::Held(bob.clone()),
        "a retry holds the same slot"
    );
    let rival = inv.reserve_slot(&id, "bob", "call-2", HOLD).await.unwrap();
    assert_eq!(rival, Slot::Taken, "another call creating bob");
    let Slot::Held(eve) = inv.reserve_slot(&id, "eve", "call-3", HOLD).await.unwrap() else {
        panic!("the second slot is held");
    };
    let full = inv.reserve_slot(&id, "zed", "call-4", HOLD).await.unwrap();
    assert_eq!(full, Slot::Full { max: 2 });

    inv.settle_slot(&bob, entry(&id, "bob")).await.unwrap();
    assert_eq!(
        inv.usage(&id).await.unwrap(),
        Usage {
            accounts: 1,
            reserved: 1
        }
    );
    let retried = inv.reserve_slot(&id, "bob", "call-1", HOLD).await.unwrap();
    assert_eq!(retried, Slot::Indexed);

    inv.release_slot(&eve).await.unwrap();
    let Slot::Held(zed) = inv.reserve_slot(&id, "zed", "call-4", HOLD).await.unwrap() else {
        panic!("a released slot is free again");
    };
    // Kept after an unknown outcome, then expired.
    inv.keep_slot(&zed, Duration::ZERO).await.unwrap();
    assert_eq!(
        inv.usage(&id).await.unwrap(),
        Usage {
            accounts: 1,
            reserved: 0
        }
    );
    // Held for no time, as by a holder that stopped renewing (it crashed).
    let short = inv.reserve_slot(&id, "amy", "call-5", Duration::ZERO);
    let Slot::Held(amy) = short.await.unwrap() else {
        panic!("an expired slot is free again");
    };
    assert_eq!(inv.usage(&id).await.unwrap().reserved, 0);
    // Renewal keeps a running holder's slot.
    inv.renew_slots(&["call-5".to_owned()], HOLD).await.unwrap();
    assert_eq!(inv.usage(&id).await.unwrap().reserved, 1);
    // An expired holder's account finds the server full like anyone else.
    let late = inv.reserve_slot(&id, "zed", "call-4", HOLD).await.unwrap();
    assert_eq!(late, Slot::Full { max: 2 });
    // A slot kept after an unknown outcome goes to the next create of its
    // account, whichever call makes it; a running holder's does not.
    let rival = inv.reserve_slot(&id, "amy", "call-6", HOLD).await.unwrap();
    assert_eq!(rival, Slot::Taken);
    inv.keep_slot(&amy, HOLD).await.unwrap();
    let next = inv.reserve_slot(&id, "amy", "call-6", HOLD).await.unwrap();
    assert_eq!(next, Slot::Held(amy));
}

/// Reserving on, or settling into, a server that is gone is NotFound.
async fn a_deleted_server_has_no_slots(h: Harness) {
    let id = server_with_cap(&h, 0).await;
    let reserved = h.inventory.reserve_slot(&id, "bob", "call-1", HOLD);
    let Slot::Held(slot) = reserved.await.unwrap() else {
        panic!("an uncapped server has room");
    };
    h.inventory.delete_server(&id).await.unwrap();
    let settled = h.inventory.settle_slot(&slot, entry(&id, "bob")).await;
    assert!(
        matches!(settled, Err(InventoryError::NotFound { .. })),
        "{settled:?}"
    );
    let reserved = h.inventory.reserve_slot(&id, "amy", "call-2", HOLD).await;
    assert!(
        matches!(reserved, Err(InventoryError::NotFound { .. })),
        "{reserved:?}"
    );
}

async fn joined<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut done = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        done.push(task.await.unwrap());
    }
    done
}

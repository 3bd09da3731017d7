//! The account index.

use panelgate_inventory::entities::accounts;
use panelgate_inventory::{AccountStatus, InventoryError, Record};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::harness::{Harness, entry, new_server};

suite!(
    upsert_inserts_then_updates_one_entry,
    status_and_package_updates,
    servers_for_account_and_counts,
    upsert_on_unknown_server_is_not_found,
);

async fn row(h: &Harness, server_id: &str, username: &str) -> Option<accounts::Model> {
    accounts::Entity::find()
        .filter(accounts::Column::ServerId.eq(server_id))
        .filter(accounts::Column::Username.eq(username))
        .one(&h.raw().await)
        .await
        .unwrap()
}

/// A second upsert for the same server and username updates the entry in place.
async fn upsert_inserts_then_updates_one_entry(h: Harness) {
    let server = h
        .inventory
        .create_server(new_server("web-1", &[]), None)
        .await
        .unwrap();
    h.inventory
        .upsert_account(entry(&server.id, "bob"))
        .await
        .unwrap();
    let first = row(&h, &server.id, "bob").await.unwrap();

    let mut changed = entry(&server.id, "bob");
    changed.primary_domain = "bob.example.org".into();
    changed.package = "pro".into();
    changed.status = AccountStatus::Suspended;
    h.inventory.upsert_account(changed).await.unwrap();

    assert_eq!(h.inventory.usage(&server.id).await.unwrap().accounts, 1);
    let second = row(&h, &server.id, "bob").await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.primary_domain, "bob.example.org");
    assert_eq!(second.package, "pro");
    assert_eq!(second.status, "suspended");
    assert_eq!(second.created_at, first.created_at);
    assert!(second.synced_at >= first.synced_at);
}

/// Status and package setters change their column, and do nothing for absent entries.
async fn status_and_package_updates(h: Harness) {
    let server = h
        .inventory
        .create_server(new_server("web-1", &[]), None)
        .await
        .unwrap();
    h.inventory
        .upsert_account(entry(&server.id, "bob"))
        .await
        .unwrap();

    h.inventory
        .set_account_status(&server.id, "bob", AccountStatus::Suspended)
        .await
        .unwrap();
    h.inventory
        .set_account_package(&server.id, "bob", "gold")
        .await
        .unwrap();
    let bob = row(&h, &server.id, "bob").await.unwrap();
    assert_eq!(
        (bob.status.as_str(), bob.package.as_str()),
        ("suspended", "gold")
    );

    h.inventory
        .set_account_status(&server.id, "ghost", AccountStatus::Unknown)
        .await
        .unwrap();
    h.inventory
        .set_account_package("nope", "ghost", "gold")
        .await
        .unwrap();
    assert!(row(&h, &server.id, "ghost").await.is_none());
}

/// The router's lookup finds every server holding a username; removal and counts
/// follow the index.
async fn servers_for_account_and_counts(h: Harness) {
    let inv = &h.inventory;
    let one = inv
        .create_server(new_server("web-1", &[]), None)
        .await
        .unwrap();
    let two = inv
        .create_server(new_server("web-2", &[]), None)
        .await
        .unwrap();
    for (server, user) in [(&one, "bob"), (&one, "alice"), (&two, "bob")] {
        inv.upsert_account(entry(&server.id, user)).await.unwrap();
    }

    let mut both = vec![one.id.clone(), two.id.clone()];
    both.sort();
    assert_eq!(inv.servers_for_account("bob").await.unwrap(), both);
    assert_eq!(
        inv.servers_for_account("alice").await.unwrap(),
        [one.id.as_str()]
    );
    assert!(inv.servers_for_account("carol").await.unwrap().is_empty());
    assert_eq!(inv.usage(&one.id).await.unwrap().accounts, 2);
    assert_eq!(inv.usage(&two.id).await.unwrap().accounts, 1);

    inv.remove_account(&one.id, "bob").await.unwrap();
    inv.remove_account(&one.id, "bob").await.unwrap();
    assert_eq!(
        inv.servers_for_account("bob").await.unwrap(),
        [two.id.as_str()]
    );
    assert_eq!(inv.usage(&one.id).await.unwrap().accounts, 1);
}

/// Indexing an account on a server that does not exist is `NotFound` for the server.
async fn upsert_on_unknown_server_is_not_found(h: Harness) {
    let err = h
        .inventory
        .upsert_account(entry("nope", "bob"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, InventoryError::NotFound { record: Record::Server, key } if key == "nope")
    );
}

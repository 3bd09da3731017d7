//! Servers: create, get, update, delete; migrations; ping.

use std::collections::BTreeMap;
use std::time::Duration;

use panelgate_inventory::{
    AccountEntry, AccountStatus, InventoryError, Migrator, Record, ServerState, ServerUpdate,
    TlsConfig,
};
use sea_orm::{EntityTrait, PaginatorTrait};
use sea_orm_migration::MigratorTrait;

use crate::harness::{Harness, new_server};

suite!(
    migrating_twice_is_a_noop,
    create_then_get_by_id_and_name,
    duplicate_name_is_already_exists,
    update_changes_fields_and_replaces_labels,
    update_of_missing_or_clashing_server_fails,
    delete_cascades_to_labels_and_account_index,
    ping_answers_until_closed,
);

/// A second `migrate` applies nothing and leaves each migration recorded once.
async fn migrating_twice_is_a_noop(h: Harness) {
    h.inventory.migrate().await.unwrap();
    let applied = Migrator::get_applied_migrations(&h.raw().await)
        .await
        .unwrap();
    let names: Vec<&str> = applied.iter().map(|m| m.name()).collect();
    assert_eq!(
        names,
        [
            "m20261123_000001_create_servers",
            "m20261123_000002_create_accounts",
            "m20261123_000003_create_operations",
            "m20261207_000004_create_reservations",
            "m20261207_000005_add_placement_columns",
            "m20261207_000006_create_sync",
            "m20261208_000007_create_batches",
        ]
    );
}

/// A created server reads back identically by id and by name.
async fn create_then_get_by_id_and_name(h: Harness) {
    let mut server = new_server("web-1", &[("region", "eu-west"), ("tier", "gold")]);
    server.state = ServerState::Draining;
    server.max_accounts = u32::MAX;
    server.tls = TlsConfig {
        ca_pem: Some("-----BEGIN CERTIFICATE-----".into()),
        insecure_skip_verify: true,
    };
    server.default_php_version = Some("8.3".into());
    let created = h
        .inventory
        .create_server(server.clone(), None)
        .await
        .unwrap();

    assert_eq!(created.name, "web-1");
    assert_eq!(created.labels, server.labels);
    assert_eq!(created.state, ServerState::Draining);
    assert_eq!(created.max_accounts, u32::MAX);
    assert_eq!(created.tls, server.tls);
    assert!(!created.credentials_set);
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(h.inventory.get_server(&created.id).await.unwrap(), created);
    assert_eq!(
        h.inventory.get_server_by_name("web-1").await.unwrap(),
        created
    );

    let missing = h.inventory.get_server("no-such-id").await.unwrap_err();
    assert!(
        matches!(missing, InventoryError::NotFound { record: Record::Server, key } if key == "no-such-id")
    );
    let missing = h.inventory.get_server_by_name("web-2").await.unwrap_err();
    assert!(matches!(
        missing,
        InventoryError::NotFound {
            record: Record::Server,
            ..
        }
    ));
}

/// A second server with a taken name is `AlreadyExists`, and leaves no labels behind.
async fn duplicate_name_is_already_exists(h: Harness) {
    h.inventory
        .create_server(new_server("web-1", &[]), None)
        .await
        .unwrap();
    let err = h
        .inventory
        .create_server(new_server("web-1", &[("a", "b")]), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, InventoryError::AlreadyExists { record: Record::Server, key } if key == "web-1")
    );
    let labels = panelgate_inventory::entities::server_labels::Entity::find()
        .count(&h.raw().await)
        .await
        .unwrap();
    assert_eq!(labels, 0);
}

/// An update changes the given fields only, replaces the labels, clears the PHP
/// version on `Some(None)`, and bumps `updated_at` but not `created_at`.
async fn update_changes_fields_and_replaces_labels(h: Harness) {
    let mut server = new_server("web-1", &[("env", "prod"), ("tier", "gold")]);
    server.default_php_version = Some("8.2".into());
    let created = h.inventory.create_server(server, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    let update = ServerUpdate {
        name: Some("web-one".into()),
        labels: Some([("env".to_string(), "staging".to_string())].into()),
        state: Some(ServerState::Draining),
        max_accounts: Some(250),
        tls: Some(TlsConfig {
            ca_pem: Some("pem".into()),
            insecure_skip_verify: false,
        }),
        default_php_version: Some(None),
        ..Default::default()
    };
    let updated = h
        .inventory
        .update_server(&created.id, update)
        .await
        .unwrap();
    assert_eq!(updated.name, "web-one");
    assert_eq!(
        updated.labels,
        [("env".to_string(), "staging".to_string())].into()
    );
    assert_eq!(updated.state, ServerState::Draining);
    assert_eq!(updated.max_accounts, 250);
    assert_eq!(updated.tls.ca_pem.as_deref(), Some("pem"));
    assert_eq!(updated.default_php_version, None);
    assert_eq!(updated.base_url, created.base_url);
    assert_eq!(updated.group, created.group);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
    assert_eq!(h.inventory.get_server(&created.id).await.unwrap(), updated);

    // An empty update still bumps updated_at and keeps the labels.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let touched = h
        .inventory
        .update_server(&created.id, ServerUpdate::default())
        .await
        .unwrap();
    assert!(touched.updated_at > updated.updated_at);
    assert_eq!(touched.labels, updated.labels);
}

/// Updating an absent server is `NotFound`; renaming onto a taken name is
/// `AlreadyExists` and changes nothing, labels included.
async fn update_of_missing_or_clashing_server_fails(h: Harness) {
    let err = h
        .inventory
        .update_server("nope", ServerUpdate::default())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        InventoryError::NotFound {
            record: Record::Server,
            ..
        }
    ));

    h.inventory
        .create_server(new_server("a", &[]), None)
        .await
        .unwrap();
    let b = h
        .inventory
        .create_server(new_server("b", &[("k", "v")]), None)
        .await
        .unwrap();
    let clash = ServerUpdate {
        name: Some("a".into()),
        labels: Some(BTreeMap::new()),
        ..Default::default()
    };
    let err = h.inventory.update_server(&b.id, clash).await.unwrap_err();
    assert!(
        matches!(err, InventoryError::AlreadyExists { record: Record::Server, key } if key == "a")
    );
    assert_eq!(h.inventory.get_server(&b.id).await.unwrap(), b);
}

/// Deleting a server deletes its labels and index entries; a second delete is `NotFound`.
async fn delete_cascades_to_labels_and_account_index(h: Harness) {
    let inv = &h.inventory;
    let doomed = inv
        .create_server(new_server("doomed", &[("a", "1"), ("b", "2")]), None)
        .await
        .unwrap();
    let kept = inv
        .create_server(new_server("kept", &[("a", "1")]), None)
        .await
        .unwrap();
    for server in [&doomed, &kept] {
        let entry = AccountEntry {
            server_id: server.id.clone(),
            username: "bob".into(),
            primary_domain: "bob.example".into(),
            package: "basic".into(),
            status: AccountStatus::Active,
            email: String::new(),
        };
        inv.upsert_account(entry).await.unwrap();
    }

    inv.delete_server(&doomed.id).await.unwrap();
    assert!(matches!(
        inv.get_server(&doomed.id).await,
        Err(InventoryError::NotFound { .. })
    ));
    assert_eq!(inv.usage(&doomed.id).await.unwrap().accounts, 0);
    assert_eq!(
        inv.servers_for_account("bob").await.unwrap(),
        [kept.id.as_str()]
    );
    let raw = h.raw().await;
    let labels = panelgate_inventory::entities::server_labels::Entity::find()
        .all(&raw)
        .await
        .unwrap();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].server_id, kept.id);

    let err = inv.delete_server(&doomed.id).await.unwrap_err();
    assert!(matches!(
        err,
        InventoryError::NotFound {
            record: Record::Server,
            ..
        }
    ));
}

/// `ping` succeeds on a live database; once the pool is closed, calls fail with an
/// error the gateway reports as unavailable.
async fn ping_answers_until_closed(h: Harness) {
    h.inventory.ping().await.unwrap();
    let extra = h.without_keyring().await;
    let handle = extra.clone();
    extra.close().await.unwrap();
    let err = handle.ping().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = handle.get_server("any").await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let not_found = h.inventory.get_server("any").await.unwrap_err();
    assert!(!not_found.is_unavailable());
}

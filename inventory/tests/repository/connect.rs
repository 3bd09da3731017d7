//! Connecting: SQLite files and memory, and an unreachable PostgreSQL.

use std::time::{Duration, Instant};

use panelgate_inventory::{Inventory, PageRequest, ServerFilter};

use crate::harness::new_server;

/// A SQLite file that does not exist yet is created on connect.
#[tokio::test]
async fn sqlite_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let inventory = Inventory::connect(&format!("sqlite://{}", path.display()), None)
        .await
        .unwrap();
    inventory.migrate().await.unwrap();
    assert!(path.exists());
    inventory.close().await.unwrap();
}

/// `sqlite::memory:` keeps one database for the whole pool: what one call writes,
/// the next one reads.
#[tokio::test]
async fn sqlite_memory_keeps_its_tables() {
    let inventory = Inventory::connect("sqlite::memory:", None).await.unwrap();
    inventory.migrate().await.unwrap();
    let created = inventory
        .create_server(new_server("web-1", &[("a", "b")]), None)
        .await
        .unwrap();
    let listed = inventory
        .list_servers(&ServerFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items, [created]);
}

/// Nothing listens on port 1: connecting is refused at once, and the error says
/// "unavailable" so the gateway can answer UNAVAILABLE and flip its health.
#[tokio::test]
async fn refused_postgres_connection_is_unavailable() {
    let started = Instant::now();
    let err = Inventory::connect("postgres://panelgate:secret@127.0.0.1:1/inventory", None)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(!err.to_string().contains("secret"));
    assert!(started.elapsed() < Duration::from_secs(6));
}

//! Runs a test fn against a fresh, migrated database on each backend.

use std::collections::BTreeMap;
use std::future::Future;

use panelgate_inventory::testing::TestDatabase;
use panelgate_inventory::{Inventory, Keyring, MasterKey, NewServer, ServerState, TlsConfig};
use sea_orm::{Database, DatabaseConnection};

/// What a test gets: a migrated inventory with a keyring, and its database's URL.
pub struct Harness {
    pub inventory: Inventory,
    pub keyring: Keyring,
    pub url: String,
}

impl Harness {
    /// A second connection to the same database, without a keyring.
    pub async fn without_keyring(&self) -> Inventory {
        Inventory::connect(&self.url, None).await.unwrap()
    }

    /// A raw connection, to read rows the API does not show.
    pub async fn raw(&self) -> DatabaseConnection {
        Database::connect(&self.url).await.unwrap()
    }
}

pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    run(TestDatabase::sqlite(dir.path()), test).await;
}

pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match TestDatabase::postgres_from_env().await.unwrap() {
        Some(database) => run(database, test).await,
        None => eprintln!("PANELGATE_TEST_DATABASE_URL not set: PostgreSQL run skipped"),
    }
}

/// Runs the test on its own task so that a failing test still drops its database.
async fn run<F, Fut>(database: TestDatabase, test: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let keyring = Keyring::new(MasterKey::generate().unwrap());
    let inventory = Inventory::connect(&database.url, Some(keyring.clone()))
        .await
        .unwrap();
    inventory.migrate().await.unwrap();
    let harness = Harness {
        inventory: inventory.clone(),
        keyring,
        url: database.url.clone(),
    };
    let outcome = tokio::spawn(test(harness)).await;
    inventory.close().await.unwrap();
    database.drop_database().await.unwrap();
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// A server named `name`, of kind `admin_api` in group `eu`, with `labels`.
pub fn new_server(name: &str, labels: &[(&str, &str)]) -> NewServer {
    NewServer {
        name: name.to_owned(),
        kind: "admin_api".to_owned(),
        base_url: format!("https://{name}.example.test:2222"),
        group: "eu".to_owned(),
        labels: labels
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect::<BTreeMap<_, _>>(),
        state: ServerState::Active,
        max_accounts: 0,
        tls: TlsConfig::default(),
        default_php_version: None,
    }
}

//! Runs a test fn against a fresh, migrated database on each backend.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::Utc;
use panelgate_inventory::testing::{DATABASE_URL_ENV, TestDatabase};
use panelgate_inventory::{
    AccountEntry, AccountStatus, Inventory, Keyring, MasterKey, NewServer, OperationEnd,
    OperationStart, ServerState, TlsConfig,
};
use sea_orm::{Database, DatabaseConnection};

/// Set to make the PostgreSQL runs fail, rather than skip, without a database URL.
const REQUIRE_POSTGRES_ENV: &str = "PANELGATE_TEST_REQUIRE_POSTGRES";

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
        None => {
            assert!(
                std::env::var_os(REQUIRE_POSTGRES_ENV).is_none(),
                "{REQUIRE_POSTGRES_ENV} is set but {DATABASE_URL_ENV} is not"
            );
            eprintln!("{DATABASE_URL_ENV} not set: PostgreSQL run skipped");
        }
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
        priority: 0,
        tls: TlsConfig::default(),
        default_php_version: None,
    }
}

/// A call by `caller` to suspend `account/bob`, idempotent under `request_id` if
/// given, whose request hashes to `digest`; starting now.
pub fn operation(caller: &str, request_id: Option<&str>, digest: &[u8]) -> OperationStart {
    OperationStart {
        caller: caller.to_owned(),
        request_id: request_id.map(str::to_owned),
        method: "/panelgate.v1.AccountService/SuspendAccount".to_owned(),
        resource: "account/bob".to_owned(),
        server_id: None,
        digest: digest.to_vec(),
        started_at: Utc::now(),
    }
}

/// A call that ended with `outcome` (an error message unless `OK`) and `reply`,
/// final unless `retryable`; ending now.
pub fn ended(outcome: &str, reply: Option<&[u8]>, retryable: bool) -> OperationEnd {
    OperationEnd {
        server_id: Some("s1".to_owned()),
        resource: "account/bob".to_owned(),
        outcome: outcome.to_owned(),
        error_message: (outcome != "OK").then(|| format!("{outcome} for account `bob`")),
        reply: reply.map(<[u8]>::to_vec),
        retryable,
        finished_at: Utc::now(),
    }
}

/// An index entry for `username` on `server_id`, on package "basic".
pub fn entry(server_id: &str, username: &str) -> AccountEntry {
    AccountEntry {
        server_id: server_id.to_owned(),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        package: "basic".to_owned(),
        status: AccountStatus::Active,
        email: format!("{username}@mail.example"),
    }
}

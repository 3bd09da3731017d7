//! `Inventory`: the connection, migrations, and (in the submodules) every query.

mod accounts;
mod batches;
mod changes;
mod idempotency;
mod operations;
mod paging;
mod reachability;
mod reservations;
mod rotation;
mod search;
mod servers;
mod sync;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretSlice};

pub use self::batches::{Claimed, SERVERS_PER_CLAIM};
pub use self::changes::{Change, ChangeListener, Heard};
use self::reachability::Reachability;
pub use self::reservations::{Slot, Usage};
use crate::crypto::Sealed;
use crate::{InventoryError, Keyring, Migrator};

/// How long to wait for a PostgreSQL connection, so an unreachable database fails fast.
const POSTGRES_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a health probe waits for its connection: a database that cannot
/// give one in this time is down.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// Connections to a SQLite file.
const SQLITE_FILE_CONNECTIONS: u32 = 4;
/// Key of the PostgreSQL advisory lock that serialises migrations across replicas.
const MIGRATION_LOCK_KEY: i64 = 0x7061_6e65_6c67_6174; // "panelgat"

/// The inventory database: servers, their encrypted credentials, the account index
/// and the operation journal. Cheap to clone (a pool handle and a shared keyring).
#[derive(Clone)]
pub struct Inventory {
    pool: DatabaseConnection,
    /// One connection for health probes, apart from the pool.
    probe: DatabaseConnection,
    keyring: Option<Arc<Keyring>>,
    reachability: Arc<Reachability>,
    /// PostgreSQL: the connection change notifications are heard on.
    listen_pool: Option<sqlx::PgPool>,
}

/// Shows the backend and key ids only: the pool's options could hold a password.
impl fmt::Debug for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inventory")
            .field("backend", &backend_name(self.pool.get_database_backend()))
            .field("keyring", &self.keyring)
            .finish()
    }
}

impl Inventory {
    /// Connects. `sqlite://path/to/file.db` creates the file if missing (`mode=rwc`
    /// is added unless the URL sets a mode); `postgres://...` for PostgreSQL. Without
    /// a keyring, credentials can be neither stored nor read.
    pub async fn connect(
        database_url: &str,
        keyring: Option<Keyring>,
    ) -> Result<Self, InventoryError> {
        let sqlite = database_url.starts_with("sqlite:");
        let mut options = if sqlite {
            sqlite_options(database_url)
        } else {
            postgres_options(database_url)
        };
        // sqlx would log every statement at info level.
        options.sqlx_logging(false);
        let mut probe_options = options.clone();

        let db = Database::connect(options).await?;
        // The probe has a connection of its own, so a busy pool never reads
        // as a database that is down (an in-memory database is its one
        // connection).
        let probe = if is_sqlite_memory(database_url) {
            db.clone()
        } else {
            probe_options
                .max_connections(1)
                .min_connections(0)
                .connect_timeout(PROBE_TIMEOUT)
                .acquire_timeout(PROBE_TIMEOUT);
            Database::connect(probe_options).await?
        };
        tracing::info!(
            backend = backend_name(db.get_database_backend()),
            database = %redact_url(database_url),
            "inventory database opened"
        );
        let listen_pool = if sqlite {
            None
        } else {
            Some(changes::listen_pool(database_url)?)
        };
        Ok(Self {
            reachability: Arc::new(Reachability::new(database_url)),
            listen_pool,
            pool: db,
            probe,
            keyring: keyring.map(Arc::new),
        })
    }

    /// Calls `observe` after every statement with its SQL (parameters apart),
    /// how long it took, and whether it failed: for metrics. Set it before
    /// cloning the inventory; clones made earlier are not observed.
    pub fn observe_queries(
        &mut self,
        observe: impl Fn(&str, Duration, bool) + Send + Sync + 'static,
    ) {
        self.pool.set_metric_callback(move |info| {
            observe(&info.statement.sql, info.elapsed, info.failed)
        });
    }

    /// Applies pending migrations in one transaction; a no-op when the schema
    /// is current. Other connections see the whole new schema or none of it
    /// (a SQLite connection that read half of it could not prepare a statement
    /// on the rest). On PostgreSQL an advisory lock makes replicas starting
    /// together migrate one at a time.
    pub async fn migrate(&self) -> Result<(), InventoryError> {
        let txn = self.pool.begin().await?;
        if self.pool.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await?;
        }
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The health check's probe: a cheap round trip to the database (and,
    /// for SQLite, a look that the file is still the one opened). Its outcome
    /// opens or closes the gate every other call passes: while the last
    /// probe failed, calls fail at once as unreachable. Give it a timeout.
    pub async fn ping(&self) -> Result<(), InventoryError> {
        let probed = match self.reachability.file_in_place() {
            Ok(()) => self.probe.ping().await.map_err(InventoryError::from),
            failed => failed,
        };
        self.reachability.set(probed.is_ok());
        probed
    }

    /// Marks the database unreachable until the next successful [`Inventory::ping`]
    /// (a probe that got no answer in time).
    pub fn mark_unreachable(&self) {
        self.reachability.set(false);
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(self) -> Result<(), InventoryError> {
        self.probe.close().await?;
        Ok(self.pool.close().await?)
    }

    /// The connection pool, unless the database is known to be unreachable.
    fn db(&self) -> Result<&DatabaseConnection, InventoryError> {
        self.reachability.check()?;
        Ok(&self.pool)
    }

    /// Seals credentials for server `id`; `NoMasterKey` without a keyring.
    fn seal_credentials(
        &self,
        id: &str,
        credentials: Option<&SecretSlice<u8>>,
    ) -> Result<Option<Sealed>, InventoryError> {
        let Some(secret) = credentials else {
            return Ok(None);
        };
        self.keyring()?.seal(id, secret.expose_secret()).map(Some)
    }

    /// The keyring, needed to seal anything; `NoMasterKey` without one.
    fn keyring(&self) -> Result<&Keyring, InventoryError> {
        self.keyring.as_deref().ok_or(InventoryError::NoMasterKey)
    }
}

/// Now, to the microsecond: PostgreSQL keeps no more, so both backends return what
/// was written.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A small pool with foreign keys on (cascades depend on them; sqlx's default, said
/// out loud) and WAL, so readers run beside the one writer.
fn sqlite_options(url: &str) -> ConnectOptions {
    let in_memory = is_sqlite_memory(url);
    let mut options = ConnectOptions::new(sqlite_url_with_create(url));
    if in_memory {
        // Each connection to `:memory:` is its own empty database: keep exactly one,
        // and never let the pool retire it.
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    } else {
        options.max_connections(SQLITE_FILE_CONNECTIONS);
    }
    options.map_sqlx_sqlite_opts(move |opts| {
        let opts = opts.foreign_keys(true);
        if in_memory {
            opts
        } else {
            opts.journal_mode(SqliteJournalMode::Wal)
        }
    });
    options
}

/// Short timeouts, so an unreachable database fails fast and health can flip.
fn postgres_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(POSTGRES_TIMEOUT)
        .acquire_timeout(POSTGRES_TIMEOUT);
    options
}

fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Adds `mode=rwc` (create if missing) to a SQLite URL that sets no mode.
fn sqlite_url_with_create(url: &str) -> String {
    if is_sqlite_memory(url) || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The URL with any password replaced by `***`, for logs.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    // Query parameters may carry a secret too (`?password=...`).
    let path = match path.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if is_secret_parameter(key) => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => path.to_owned(),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => format!("{scheme}://{authority}{path}"),
        },
        None => format!("{scheme}://{authority}{path}"),
    }
}

fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "secret", "key", "token"]
        .iter()
        .any(|word| key.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(sqlite_url_with_create("sqlite::memory:"), "sqlite::memory:");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cr@t@db:5432/inv?sslmode=require"),
            "postgres://app:***@db:5432/inv?sslmode=require"
        );
        assert_eq!(redact_url("postgres://app@db/inv"), "postgres://app@db/inv");
        assert_eq!(redact_url("sqlite://panelgate.db"), "sqlite://panelgate.db");
        assert_eq!(
            redact_url("postgres://db/inv?user=app&password=hunter2&sslmode=require"),
            "postgres://db/inv?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://a.db?mode=rwc"),
            "sqlite://a.db?mode=rwc"
        );
    }
}

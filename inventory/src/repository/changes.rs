//! Change notifications: what replicas cache that another replica changed.
//!
//! On PostgreSQL every server change is announced with `pg_notify` on
//! channel `panelgate_changes` in the transaction that makes it (so it is
//! delivered at commit, and only then), and every package change made
//! through panelgate once the panel made it; ids only in the payload. Each
//! gateway follows them with a [`ChangeListener`]: a LISTEN connection of its
//! own, outside the pool. A listener that loses its connection misses what
//! was announced meanwhile, so after every (re)connection it says
//! [`Heard::Resubscribed`] and the gateway flushes its caches before it
//! trusts notifications again. LISTEN needs a session of its own: it does
//! not work through PgBouncer in transaction mode.
//!
//! On SQLite there is one process: nothing is announced, and the gateway's
//! own invalidation is enough.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tracing::{info, warn};

use super::Inventory;
use crate::InventoryError;

/// The notification channel.
const CHANNEL: &str = "panelgate_changes";

/// How long the listener waits before connecting again after a failure, at
/// first and at most.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A change that replicas may hold stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A server's record changed (any field, its state or its credentials) or
    /// it was deleted.
    Server(String),
    /// A server's packages changed through panelgate.
    Packages(String),
}

impl Change {
    fn payload(&self) -> String {
        match self {
            Change::Server(id) => format!("server:{id}"),
            Change::Packages(id) => format!("packages:{id}"),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("server", id) if !id.is_empty() => Some(Change::Server(id.to_owned())),
            ("packages", id) if !id.is_empty() => Some(Change::Packages(id.to_owned())),
            _ => None,
        }
    }
}

/// What a [`ChangeListener`] heard.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// Another change.
    Change(Change),
    /// The listener is (again) subscribed: whatever was announced before is
    /// unknown, so everything cached may be stale.
    Resubscribed,
}

impl Inventory {
    /// Announces `change` to every replica (PostgreSQL), for changes made
    /// outside the inventory, such as a package created on a panel.
    pub async fn announce(&self, change: Change) -> Result<(), InventoryError> {
        Ok(announce(self.db()?, &change).await?)
    }

    /// A listener for the changes other replicas announce; `None` on SQLite.
    /// It connects on its first [`ChangeListener::next`].
    pub fn listen(&self) -> Option<ChangeListener> {
        self.listen_pool.clone().map(|pool| ChangeListener {
            pool,
            listener: None,
            retry: RETRY_FIRST,
        })
    }
}

/// Announces `change` on `db` (a transaction, to be delivered at its commit).
pub(super) async fn announce(db: &impl ConnectionTrait, change: &Change) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), change.payload().into()],
    );
    db.execute_raw(statement).await?;
    Ok(())
}

/// The pool of one connection the listener uses, named
/// `panelgate-changes/<pid>` in `pg_stat_activity`. Built lazily: nothing
/// connects until the listener does.
pub(super) fn listen_pool(url: &str) -> Result<PgPool, InventoryError> {
    let options: PgConnectOptions = url.parse().map_err(|_| {
        InventoryError::Database(DbErr::Custom(
            "the PostgreSQL URL cannot be read for LISTEN".into(),
        ))
    })?;
    let options = options.application_name(&format!("panelgate-changes/{}", std::process::id()));
    Ok(PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(super::POSTGRES_TIMEOUT)
        .connect_lazy_with(options))
}

/// Follows [`CHANNEL`] on a connection of its own, connecting again
/// (with a growing pause) whenever it is lost.
pub struct ChangeListener {
    pool: PgPool,
    listener: Option<PgListener>,
    retry: Duration,
}

impl ChangeListener {
    /// The next thing heard: [`Heard::Resubscribed`] first, and after every
    /// reconnection; then each change. Waits as long as it takes.
    pub async fn next(&mut self) -> Heard {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match self.subscribe().await {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        self.retry = RETRY_FIRST;
                        info!("listening for inventory changes");
                        return Heard::Resubscribed;
                    }
                    Err(err) => {
                        warn!(error = %err, retry_in = ?self.retry, "cannot listen for inventory changes");
                        tokio::time::sleep(self.retry).await;
                        self.retry = (self.retry * 2).min(RETRY_MAX);
                        continue;
                    }
                }
            };
            match listener.try_recv().await {
                Ok(Some(notification)) => match Change::parse(notification.payload()) {
                    Some(change) => return Heard::Change(change),
                    None => warn!(
                        payload = notification.payload(),
                        "unknown inventory change notification"
                    ),
                },
                // Lost, and already subscribed again on a new connection.
                Ok(None) => {
                    warn!("the inventory change listener reconnected");
                    return Heard::Resubscribed;
                }
                Err(err) => {
                    warn!(error = %err, "the inventory change listener lost its connection");
                    self.listener = None;
                }
            }
        }
    }

    async fn subscribe(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        for change in [
            Change::Server("7f3c".into()),
            Change::Packages("a:b".into()),
        ] {
            assert_eq!(Change::parse(&change.payload()), Some(change));
        }
        assert_eq!(Change::parse("server:"), None);
        assert_eq!(Change::parse("accounts:1"), None);
        assert_eq!(Change::parse("nonsense"), None);
    }
}

//! `InventoryError`, and the one place where sea-orm's `DbErr` is classified.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};

/// A kind of record the inventory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// A registered server.
    Server,
    /// A journal entry.
    Operation,
    /// A sync run.
    SyncRun,
    /// A batch.
    Batch,
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Record::Server => "server",
            Record::Operation => "operation",
            Record::SyncRun => "sync run",
            Record::Batch => "batch",
        })
    }
}

/// What an inventory call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// No such row.
    #[error("{record} `{key}` not found")]
    NotFound {
        /// What was looked for.
        record: Record,
        /// The id or name it was looked for by.
        key: String,
    },
    /// A row with that unique key exists already.
    #[error("{record} `{key}` already exists")]
    AlreadyExists {
        /// What was written.
        record: Record,
        /// The unique key that collided.
        key: String,
    },
    /// A page token this inventory did not hand out (or for another list).
    #[error("invalid page token")]
    InvalidPageToken,
    /// A value had to be sealed (credentials, or an idempotent call's request digest
    /// and reply), but no master key is configured.
    #[error(
        "no master key configured: set PANELGATE_MASTER_KEY or --master-key-file to store credentials and request ids"
    )]
    NoMasterKey,
    /// A stored value (credentials, a request digest or reply) was sealed under a
    /// master key that is not configured.
    #[error("stored data is sealed under master key `{key_id}`, which is not configured")]
    UnknownKey {
        /// The key id stored with the ciphertext.
        key_id: String,
    },
    /// Sealing or opening a stored value failed (wrong key or tampered ciphertext).
    /// Carries no plaintext and no key material.
    #[error("stored data {operation} failed")]
    Crypto {
        /// "encryption" or "decryption".
        operation: &'static str,
    },
    /// The database is known to be unreachable (its last health check
    /// failed), or its SQLite file is gone.
    #[error("inventory unavailable: {0}")]
    Unreachable(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl InventoryError {
    /// True when the database could not be reached at all (pool timed out, connection
    /// refused, closed or broken): the gateway answers UNAVAILABLE and reports the
    /// inventory as not serving, rather than INTERNAL.
    pub fn is_unavailable(&self) -> bool {
        let err = match self {
            Self::Unreachable(_) => return true,
            Self::Database(err) => err,
            _ => return false,
        };
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
            DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err)) => {
                is_connection_failure(err)
            }
            _ => false,
        }
    }

    /// Translates a write's error: a unique violation becomes `AlreadyExists { record, key }`.
    pub(crate) fn on_unique(err: DbErr, record: Record, key: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::AlreadyExists {
                record,
                key: key.to_owned(),
            },
            _ => Self::Database(err),
        }
    }

    /// Translates a child row's write error: a foreign key violation means the parent
    /// (`record` `key`) does not exist.
    pub(crate) fn on_missing_parent(err: DbErr, record: Record, key: &str) -> Self {
        match err.sql_err() {
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Self::NotFound {
                record,
                key: key.to_owned(),
            },
            _ => Self::Database(err),
        }
    }

    pub(crate) fn not_found(record: Record, key: &str) -> Self {
        Self::NotFound {
            record,
            key: key.to_owned(),
        }
    }
}

/// Connection-level sqlx failures, as opposed to errors in a statement.
fn is_connection_failure(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL SQLSTATE class 08 (connection exception), shutdowns and
        // "too many connections".
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            let code = code.deref();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

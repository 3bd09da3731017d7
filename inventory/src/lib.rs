//! panelgate's inventory: which panel servers exist, how to log in to them, which
//! accounts live where, and what was done through the gateway.
//!
//! # Layout
//!
//! - [`Inventory`] (`repository/`) is the whole API, and the only place that builds
//!   queries: servers and labels (`servers.rs`), the account index (`accounts.rs`),
//!   the operation journal (`operations.rs`) and, on the same rows, idempotent
//!   mutations (`idempotency.rs`), master-key rotation (`rotation.rs`), keyset
//!   page tokens (`paging.rs`), change notifications to other replicas
//!   (`changes.rs`), slots held by account creates in flight
//!   (`reservations.rs`), sync runs and what they write to the index
//!   (`sync.rs`), the fleet-wide account search (`search.rs`). It takes and returns the plain structs of
//!   `domain.rs` and `domain/operations.rs` ([`NewServer`], [`ServerRecord`],
//!   [`OperationStart`], [`Claim`], [`Page`], ...), never sea-orm models.
//! - [`entities`]: one sea-orm entity per table (`servers`, `server_labels`,
//!   `accounts`, `operations`, `reservations`, `sync_runs`, `sync_findings`).
//! - `migrations/`: the schema, one migration per file, applied in order by
//!   [`Migrator`] (through [`Inventory::migrate`]).
//! - `crypto.rs`: [`MasterKey`] and [`Keyring`]; credentials, request digests and
//!   replies are sealed with AES-256-GCM, bound to their row (and column), and
//!   stored with the sealing key's id; [`Inventory::reseal`] moves them all to the
//!   primary key.
//! - `error.rs`: [`InventoryError`]; database errors are classified there, once.
//! - `testing` (feature `testing`): fresh SQLite and PostgreSQL databases for tests.
//!
//! Panel kinds and states are stored as short text: this crate knows nothing of the
//! proto types. SQLite and PostgreSQL behave the same.

mod crypto;
mod domain;
pub mod entities;
mod error;
mod migrations;
mod repository;
#[cfg(feature = "testing")]
pub mod testing;

pub use crypto::{KeyError, Keyring, MASTER_KEY_LEN, MasterKey};
pub use domain::{
    AccountEntry, AccountOrder, AccountSearch, AccountStatus, BatchFilter, BatchKind, BatchLimits,
    BatchRecord, BatchState, Claim, Difference, Finding, FindingFilter, IndexedAccount, ItemEnd,
    ItemFilter, ItemOutcome, ItemRecord, ItemState, NewBatch, NewServer, NewSyncRun, OperationEnd,
    OperationFilter, OperationRecord, OperationStart, Page, PageRequest, PanelAccount,
    ParseEnumError, PruneReport, ResealReport, ServerCounts, ServerFilter, ServerRecord,
    ServerState, ServerSyncResult, ServerUpdate, StoredOutcome, SyncClass, SyncCounts,
    SyncRunRecord, TlsConfig, UsageFigures,
};
pub use error::{InventoryError, Record};
pub use migrations::Migrator;
pub use repository::{
    Change, ChangeListener, Claimed, Heard, Inventory, SERVERS_PER_CLAIM, Slot, Usage,
};
pub use secrecy::{ExposeSecret, SecretSlice};

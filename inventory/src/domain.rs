//! The plain structs the repository takes and returns.
//!
//! The operation journal's and the idempotency store's live in `domain/operations.rs`,
//! sync runs' and the fleet-wide index's in `domain/sync.rs`, batches' in
//! `domain/batches.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use secrecy::SecretSlice;

mod batches;
mod operations;
mod sync;

pub use batches::{
    BatchFilter, BatchKind, BatchLimits, BatchRecord, BatchState, ItemEnd, ItemFilter, ItemOutcome,
    ItemRecord, ItemState, NewBatch, ServerCounts,
};
pub use operations::{
    Claim, OperationEnd, OperationFilter, OperationRecord, OperationStart, PruneReport,
    ResealReport, StoredOutcome,
};
pub use sync::{
    AccountOrder, AccountSearch, Difference, Finding, FindingFilter, IndexedAccount, NewSyncRun,
    PanelAccount, ServerSyncResult, SyncClass, SyncCounts, SyncRunRecord, UsageFigures,
};

/// Text that names no variant of a stored enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct ParseEnumError {
    /// Which enum: "server state", "account status".
    pub what: &'static str,
    /// The text that was read.
    pub value: String,
}

/// Whether the router may send new work to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerState {
    /// Takes new accounts and every call.
    #[default]
    Active,
    /// Serves existing accounts but takes no new ones.
    Draining,
    /// Takes no calls.
    Disabled,
}

impl ServerState {
    /// The stored text: `active`, `draining` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Draining => "draining",
            Self::Disabled => "disabled",
        }
    }
}

impl FromStr for ServerState {
    type Err = ParseEnumError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "active" => Ok(Self::Active),
            "draining" => Ok(Self::Draining),
            "disabled" => Ok(Self::Disabled),
            _ => Err(ParseEnumError {
                what: "server state",
                value: text.to_owned(),
            }),
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How panelgate verifies a panel's TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// Extra CA certificate (PEM) to trust, e.g. for a self-signed panel.
    pub ca_pem: Option<String>,
    /// Skip verification entirely (lab panels only).
    pub insecure_skip_verify: bool,
}

/// A server to register. Credentials travel separately, as a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServer {
    /// Unique name.
    pub name: String,
    /// Panel kind as short text (`admin_api`, `openadmin`, `spanel`, `installatron`).
    pub kind: String,
    /// Where the panel's API lives.
    pub base_url: String,
    /// Free-form group (region, tier, ...).
    pub group: String,
    /// Labels to filter lists by.
    pub labels: BTreeMap<String, String>,
    /// Initial state.
    pub state: ServerState,
    /// Account cap, 0 for none.
    pub max_accounts: u32,
    /// Placement priority (lower fills first).
    pub priority: u32,
    /// TLS settings towards the panel.
    pub tls: TlsConfig,
    /// PHP version for new sites, where the panel takes one.
    pub default_php_version: Option<String>,
}

/// A stored server. Credentials never leave in it: only whether some are set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRecord {
    /// Server id (a UUID).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Panel kind as short text.
    pub kind: String,
    /// Where the panel's API lives.
    pub base_url: String,
    /// Free-form group.
    pub group: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Current state.
    pub state: ServerState,
    /// Account cap, 0 for none.
    pub max_accounts: u32,
    /// Placement priority (lower fills first).
    pub priority: u32,
    /// TLS settings towards the panel.
    pub tls: TlsConfig,
    /// PHP version for new sites.
    pub default_php_version: Option<String>,
    /// Whether credentials are stored (read them with `Inventory::server_credentials`).
    pub credentials_set: bool,
    /// When the server was registered.
    pub created_at: DateTime<Utc>,
    /// When the server was last changed.
    pub updated_at: DateTime<Utc>,
    /// When an applied sync last read the server, and how it ended ("ok",
    /// or why the server could not be read).
    pub last_sync: Option<(DateTime<Utc>, String)>,
}

/// Which servers to list; all given conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerFilter {
    /// Only servers of this panel kind.
    pub kind: Option<String>,
    /// Only servers in this group.
    pub group: Option<String>,
    /// Only servers in one of these groups (a caller limited to some groups).
    pub any_group_of: Option<BTreeSet<String>>,
    /// Only servers in this state.
    pub state: Option<ServerState>,
    /// Only servers carrying every one of these labels with these values.
    pub labels: BTreeMap<String, String>,
    /// Only these servers, by id.
    pub ids: Option<BTreeSet<String>>,
    /// Only servers with a free slot (no cap, or room under it counting
    /// reservations).
    pub with_free_slots: bool,
}

/// Changes to a server; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ServerUpdate {
    /// New unique name.
    pub name: Option<String>,
    /// New API location.
    pub base_url: Option<String>,
    /// New group.
    pub group: Option<String>,
    /// Replaces all labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// New state.
    pub state: Option<ServerState>,
    /// New account cap, 0 for none.
    pub max_accounts: Option<u32>,
    /// New placement priority.
    pub priority: Option<u32>,
    /// New TLS settings.
    pub tls: Option<TlsConfig>,
    /// `Some(None)` clears the default PHP version.
    pub default_php_version: Option<Option<String>>,
    /// Replaces the stored credentials.
    pub credentials: Option<SecretSlice<u8>>,
}

/// One page of a list call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    /// Items per page: 0 means [`PageRequest::DEFAULT_SIZE`], larger than
    /// [`PageRequest::MAX_SIZE`] is capped.
    pub size: u32,
    /// `next_token` of the previous page; `None` for the first page.
    pub token: Option<String>,
}

impl PageRequest {
    /// Page size when none is asked for.
    pub const DEFAULT_SIZE: u32 = 50;
    /// Largest page handed out.
    pub const MAX_SIZE: u32 = 1000;

    /// The first page, of `size` items.
    pub fn first(size: u32) -> Self {
        Self { size, token: None }
    }

    pub(crate) fn effective_size(&self) -> u64 {
        let size = match self.size {
            0 => Self::DEFAULT_SIZE,
            size => size.min(Self::MAX_SIZE),
        };
        u64::from(size)
    }
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Token for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// An account's state in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// Live.
    Active,
    /// Suspended on the panel.
    Suspended,
    /// The panel did not say.
    Unknown,
}

impl AccountStatus {
    /// The stored text: `active`, `suspended` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Unknown => "unknown",
        }
    }
}

impl FromStr for AccountStatus {
    type Err = ParseEnumError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "unknown" => Ok(Self::Unknown),
            _ => Err(ParseEnumError {
                what: "account status",
                value: text.to_owned(),
            }),
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account index entry: which server holds an account, and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEntry {
    /// The server holding the account.
    pub server_id: String,
    /// The account's username on that server.
    pub username: String,
    /// The account's main domain.
    pub primary_domain: String,
    /// The account's package.
    pub package: String,
    /// The account's status.
    pub status: AccountStatus,
    /// The owner's email address; empty when not known.
    pub email: String,
}

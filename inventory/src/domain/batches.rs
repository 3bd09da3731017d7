//! Batches: bulk operations stored with their items, which any replica may
//! claim with a lease, run, and end.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::ParseEnumError;

/// An enum stored as text: its `as_str` and `FromStr`.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident ($what:literal) { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| ParseEnumError {
                        what: $what,
                        value: text.to_owned(),
                    })
            }
        }
    };
}

stored_enum! {
    /// What a batch does to each item.
    BatchKind ("batch kind") {
        /// Suspends accounts.
        SuspendAccounts = "suspend_accounts",
        /// Reactivates accounts.
        UnsuspendAccounts = "unsuspend_accounts",
        /// Moves accounts to a package.
        ChangePackages = "change_packages",
        /// Deletes accounts.
        DeleteAccounts = "delete_accounts",
        /// Checks servers.
        CheckServers = "check_servers",
    }
}

stored_enum! {
    /// Where a batch stands.
    BatchState ("batch state") {
        /// Items are open.
        Running = "running",
        /// Every item succeeded.
        Succeeded = "succeeded",
        /// Every item ended, some not well.
        Failed = "failed",
        /// Cancelled.
        Cancelled = "cancelled",
    }
}

stored_enum! {
    /// Where an item stands.
    ItemState ("batch item state") {
        /// Not started, or waiting for a retry.
        Pending = "pending",
        /// Claimed by a replica.
        Running = "running",
        /// Done.
        Succeeded = "succeeded",
        /// Failed for good.
        Failed = "failed",
        /// Never started: the batch was cancelled or stopped.
        Cancelled = "cancelled",
    }
}

impl ItemState {
    /// Whether the item is over.
    pub fn is_ended(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// How a batch paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Items running at once on one server.
    pub per_server: u32,
    /// Items running at once in all.
    pub overall: u32,
    /// Failed items after which the batch stops; 0: never.
    pub max_failures: u32,
}

/// A batch about to be recorded.
#[derive(Debug, Clone)]
pub struct NewBatch {
    /// The journal entry of the call starting it, so a retry finds it.
    pub journal_id: Option<String>,
    /// What it does.
    pub kind: BatchKind,
    /// Who starts it.
    pub caller: String,
    /// The caller's token groups (None: every group).
    pub groups: Option<BTreeSet<String>>,
    /// The suspension reason.
    pub reason: String,
    /// The package.
    pub package: String,
    /// Its pacing.
    pub limits: BatchLimits,
    /// (server id, username) per item, in order; the username is empty for
    /// server checks.
    pub items: Vec<(String, String)>,
}

/// A stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    /// Its id.
    pub id: String,
    /// What it does.
    pub kind: BatchKind,
    /// Who started it.
    pub caller: String,
    /// The caller's token groups (None: every group).
    pub groups: Option<BTreeSet<String>>,
    /// The suspension reason.
    pub reason: String,
    /// The package.
    pub package: String,
    /// Its pacing.
    pub limits: BatchLimits,
    /// Items in all.
    pub total: u64,
    /// Where it stands.
    pub state: BatchState,
    /// Whether it was cancelled.
    pub cancel_requested: bool,
    /// Why it starts no new item; empty while it goes on.
    pub stop_reason: String,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// What an item ended with (or its last attempt failed with).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemOutcome {
    /// The gRPC code; 0 is OK.
    pub code: i32,
    /// The error reason's name, if any.
    pub reason: String,
    /// The error message, if any.
    pub message: String,
    /// What a successful check found.
    pub detail: String,
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// Its row id.
    pub id: i64,
    /// Its place in the batch, from 0.
    pub position: u64,
    /// The server.
    pub server_id: String,
    /// The account; empty for a server check.
    pub username: String,
    /// Where it stands.
    pub state: ItemState,
    /// Times it was started.
    pub attempts: u32,
    /// Times it was put off.
    pub deferrals: u32,
    /// How it ended, or how its last attempt failed.
    pub outcome: Option<ItemOutcome>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// How an attempt at an item ended.
#[derive(Debug, Clone)]
pub enum ItemEnd {
    /// For good: succeeded (code 0) or failed.
    Ended(ItemOutcome),
    /// Failed transiently: open again from `at` on. `deferred`: the server
    /// refused calls for a while, so the attempt does not count.
    Retry {
        /// The failure.
        outcome: ItemOutcome,
        /// When it may run again.
        at: DateTime<Utc>,
        /// The attempt does not count towards the retry limit.
        deferred: bool,
    },
}

/// One server's items, counted by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerCounts {
    /// The server.
    pub server_id: String,
    /// Not started, or waiting for a retry.
    pub pending: u64,
    /// Claimed now.
    pub running: u64,
    /// Done.
    pub succeeded: u64,
    /// Failed.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
}

impl ServerCounts {
    /// Adds `n` items in `state`.
    pub fn add(&mut self, state: ItemState, n: u64) {
        let count = match state {
            ItemState::Pending => &mut self.pending,
            ItemState::Running => &mut self.running,
            ItemState::Succeeded => &mut self.succeeded,
            ItemState::Failed => &mut self.failed,
            ItemState::Cancelled => &mut self.cancelled,
        };
        *count += n;
    }

    /// Items in all.
    pub fn total(&self) -> u64 {
        self.pending + self.running + self.succeeded + self.failed + self.cancelled
    }
}

/// Which batches to list.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    /// Only of this kind.
    pub kind: Option<BatchKind>,
    /// Only running (false) or ended (true) ones.
    pub ended: Option<bool>,
    /// Only those this caller started.
    pub caller: Option<String>,
}

/// Which items to list.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Only in this state.
    pub state: Option<ItemState>,
    /// Only on this server.
    pub server_id: Option<String>,
}

//! Sync runs and the fleet-wide account index: what a run found, what it
//! writes to the index, and what a search returns.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccountStatus, ParseEnumError};

/// What a sync found about one account, or about a server it could not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncClass {
    /// On the panel and in the index, alike.
    Matched,
    /// On the panel only.
    PanelOnly,
    /// In the index only.
    IndexOnly,
    /// On both, with differing fields.
    Mismatched,
    /// The server did not answer (or answered with an error).
    ServerUnreachable,
    /// The inventory holds no such server.
    ServerUnknown,
    /// The server is disabled: no panel call is made.
    ServerDisabled,
}

impl SyncClass {
    /// Every class, in report order.
    pub const ALL: [SyncClass; 7] = [
        Self::Matched,
        Self::PanelOnly,
        Self::IndexOnly,
        Self::Mismatched,
        Self::ServerUnreachable,
        Self::ServerUnknown,
        Self::ServerDisabled,
    ];

    /// The stored text, e.g. `panel_only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Matched => "matched",
            Self::PanelOnly => "panel_only",
            Self::IndexOnly => "index_only",
            Self::Mismatched => "mismatched",
            Self::ServerUnreachable => "server_unreachable",
            Self::ServerUnknown => "server_unknown",
            Self::ServerDisabled => "server_disabled",
        }
    }

    /// Whether the finding is about a whole server that was not read.
    pub fn is_server_failure(self) -> bool {
        matches!(
            self,
            Self::ServerUnreachable | Self::ServerUnknown | Self::ServerDisabled
        )
    }
}

impl FromStr for SyncClass {
    type Err = ParseEnumError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|class| class.as_str() == text)
            .ok_or_else(|| ParseEnumError {
                what: "sync class",
                value: text.to_owned(),
            })
    }
}

impl fmt::Display for SyncClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field whose value differs between the index and the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// `package`, `status`, `primary_domain` or `email`.
    pub field: String,
    /// The index's value.
    pub index_value: String,
    /// The panel's value.
    pub panel_value: String,
}

/// One finding of a sync run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The server.
    pub server_id: String,
    /// The account; empty for a server finding.
    pub username: String,
    /// What was found.
    pub class: SyncClass,
    /// For [`SyncClass::Mismatched`]: the differing fields.
    pub differences: Vec<Difference>,
    /// For server findings: why the server was not read.
    pub reason: String,
}

/// Accounts counted per class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Alike on both sides.
    pub matched: u64,
    /// On a panel only.
    pub panel_only: u64,
    /// In the index only.
    pub index_only: u64,
    /// Differing.
    pub mismatched: u64,
}

impl SyncCounts {
    /// The counts of `findings`' account classes.
    pub fn of(findings: &[Finding]) -> Self {
        let mut counts = Self::default();
        for finding in findings {
            match finding.class {
                SyncClass::Matched => counts.matched += 1,
                SyncClass::PanelOnly => counts.panel_only += 1,
                SyncClass::IndexOnly => counts.index_only += 1,
                SyncClass::Mismatched => counts.mismatched += 1,
                _ => {}
            }
        }
        counts
    }
}

/// A sync run about to start.
#[derive(Debug, Clone)]
pub struct NewSyncRun {
    /// A key that starts one run at most (the periodic sync's interval): a
    /// second run with the same key is not started.
    pub key: Option<String>,
    /// Who starts it.
    pub caller: String,
    /// Whether it updates the index.
    pub apply: bool,
    /// Whether it reads usage too.
    pub collect_usage: bool,
    /// Servers selected.
    pub servers_total: u64,
}

/// A sync run as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRunRecord {
    /// Its id.
    pub id: String,
    /// Who started it.
    pub caller: String,
    /// Whether it updates the index.
    pub apply: bool,
    /// Whether it reads usage too.
    pub collect_usage: bool,
    /// Whether every server was read or reported.
    pub done: bool,
    /// Servers selected.
    pub servers_total: u64,
    /// Servers read or reported.
    pub servers_done: u64,
    /// Servers not read.
    pub servers_failed: u64,
    /// Accounts per class.
    pub counts: SyncCounts,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it last made progress.
    pub updated_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

impl SyncRunRecord {
    /// How long a run may go without progress before it counts as
    /// interrupted (its gateway stopped).
    pub const STALL: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

    /// Whether the run stopped before it ended: not done, and no progress
    /// for [`Self::STALL`] as of `now`.
    pub fn interrupted(&self, now: DateTime<Utc>) -> bool {
        !self.done && now - self.updated_at > Self::STALL
    }
}

/// Which findings of a run to list.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only this class.
    pub class: Option<SyncClass>,
    /// Only this server.
    pub server_id: Option<String>,
    /// Only servers of one of these groups (a caller limited to some).
    pub any_group_of: Option<BTreeSet<String>>,
}

/// Usage figures of an account; None where the panel reports none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageFigures {
    /// Disk used, in bytes.
    pub disk_used: Option<u64>,
    /// Disk limit, in bytes.
    pub disk_limit: Option<u64>,
    /// Traffic this period, in bytes.
    pub bandwidth_used: Option<u64>,
    /// Traffic limit, in bytes.
    pub bandwidth_limit: Option<u64>,
    /// Files and directories.
    pub inodes_used: Option<u64>,
    /// Inode limit.
    pub inodes_limit: Option<u64>,
}

/// An account as its panel reports it, to be written to the index by an
/// applied sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelAccount {
    /// Its username.
    pub username: String,
    /// Its main domain.
    pub primary_domain: String,
    /// The owner's email; empty when the panel does not report one.
    pub email: String,
    /// Its package.
    pub package: String,
    /// Its status.
    pub status: AccountStatus,
}

/// What an applied sync writes to the index of one server, in one
/// transaction. Nothing is deleted; an entry removed while the sync ran (its
/// account deleted through panelgate) stays removed, and one written since
/// `read_at` (a change made through panelgate) keeps what was written.
#[derive(Debug, Clone, Default)]
pub struct ServerSyncResult {
    /// When the index was read, before the panel was.
    pub read_at: DateTime<Utc>,
    /// Accounts only on the panel: added.
    pub imported: Vec<PanelAccount>,
    /// Accounts on both whose entries take new values (the panel's, or the
    /// index's where the panel reports none); no longer missing.
    pub changed: Vec<PanelAccount>,
    /// Usernames of accounts on both whose entries stay as they are: only
    /// confirmed, and no longer missing.
    pub unchanged: Vec<String>,
    /// The fields that differed per username (mismatched), recorded on the
    /// entry.
    pub mismatched: Vec<(String, Vec<String>)>,
    /// Usernames of entries the panel does not hold: marked missing.
    pub missing: Vec<String>,
    /// Usage figures read, per username.
    pub usage: Vec<(String, UsageFigures)>,
}

impl ServerSyncResult {
    /// The usernames of every account the panel holds.
    pub fn on_panel(&self) -> impl Iterator<Item = &str> {
        let read = self.imported.iter().chain(&self.changed);
        read.map(|account| account.username.as_str())
            .chain(self.unchanged.iter().map(String::as_str))
    }
}

/// An entry of the account index, as a search returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedAccount {
    /// The server.
    pub server_id: String,
    /// The server's group.
    pub group: String,
    /// The server's panel kind.
    pub kind: String,
    /// The account's fields, as last confirmed.
    pub account: PanelAccount,
    /// The last applied sync did not find it on its panel.
    pub missing: bool,
    /// The fields the last applied sync found differing.
    pub mismatched_fields: Vec<String>,
    /// When its panel last confirmed it.
    pub synced_at: DateTime<Utc>,
    /// The last usage figures, and when they were read.
    pub usage: Option<(UsageFigures, DateTime<Utc>)>,
}

/// How a search orders its results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountOrder {
    /// By server id, then username.
    #[default]
    Server,
    /// Most disk used first, accounts without a figure last.
    DiskDesc,
}

/// Conditions of a fleet-wide account search; they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct AccountSearch {
    /// Only accounts on servers of this group.
    pub group: Option<String>,
    /// Only accounts on servers of one of these groups (the caller's).
    pub any_group_of: Option<BTreeSet<String>>,
    /// Only accounts on this server.
    pub server_id: Option<String>,
    /// Only accounts on servers of this kind.
    pub kind: Option<String>,
    /// Only this package.
    pub package: Option<String>,
    /// Only this status.
    pub status: Option<AccountStatus>,
    /// Only this primary domain (compared lowercase).
    pub primary_domain: Option<String>,
    /// Only primary domains ending with this.
    pub domain_suffix: Option<String>,
    /// Only usernames starting with this.
    pub username_prefix: Option<String>,
    /// Only entries (not) marked missing.
    pub missing: Option<bool>,
    /// Only entries whose last sync found (no) differences.
    pub mismatched: Option<bool>,
    /// Only accounts using at least this percentage of a disk, bandwidth or
    /// inode limit.
    pub min_usage_percent: Option<u32>,
    /// The order of results.
    pub order: AccountOrder,
}

impl AccountSearch {
    /// Whether any filter narrows the search (the caller's groups aside).
    pub fn has_filter(&self) -> bool {
        self.group.is_some()
            || self.server_id.is_some()
            || self.kind.is_some()
            || self.package.is_some()
            || self.status.is_some()
            || self.primary_domain.is_some()
            || self.domain_suffix.is_some()
            || self.username_prefix.is_some()
            || self.missing.is_some()
            || self.mismatched.is_some()
            || self.min_usage_percent.is_some()
    }
}

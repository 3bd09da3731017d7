//! OpenAdmin's success replies. The Python build (the v1.7.60 doc) and the Go
//! rewrite differ in shapes and in numbers-as-strings, so most fields stay
//! `Value` and are read leniently in `mapping`.

use serde::Deserialize;
use serde_json::Value;

/// `GET /api/users`: an array (doc), or `{"users": [...]}` (Go).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum UserList {
    Bare(Vec<UserListEntry>),
    Wrapped { users: Vec<UserListEntry> },
}

impl UserList {
    pub fn into_entries(self) -> Vec<UserListEntry> {
        match self {
            UserList::Bare(users) | UserList::Wrapped { users } => users,
        }
    }
}

/// One account of `GET /api/users`.
#[derive(Debug, Deserialize)]
pub(super) struct UserListEntry {
    pub username: String,
    pub email: Option<String>,
    pub plan_name: Option<String>,
}

/// `GET /api/users/{u}`: everything nested under `user`, the account itself
/// once more under `user.user`.
#[derive(Debug, Deserialize)]
pub(super) struct UserReply {
    pub user: UserDetail,
}

/// The parts of one account.
#[derive(Debug, Deserialize)]
pub(super) struct UserDetail {
    pub user: UserRecord,
    pub plan: Option<Plan>,
    #[serde(default)]
    pub domains: Vec<DomainEntry>,
}

/// The account row; a suspended account's username reads
/// `SUSPENDED_<id>_<username>` (the panel renames it).
#[derive(Debug, Deserialize)]
pub(super) struct UserRecord {
    #[serde(default)]
    pub id: Value,
    pub username: String,
    pub email: Option<String>,
}

/// `GET /api/domains`.
#[derive(Debug, Deserialize)]
pub(super) struct DomainList {
    pub domains: Vec<DomainEntry>,
}

/// One domain, of a user's detail or of the server's list.
#[derive(Debug, Deserialize)]
pub(super) struct DomainEntry {
    #[serde(default)]
    pub domain_id: Value,
    pub domain_url: String,
    pub docroot: Option<String>,
}

/// A hosting plan (`GET /api/plans` entries, `GET /api/plans/{id}`, and a
/// user's plan). Numbers may be numbers or strings.
#[derive(Clone, Debug, Deserialize)]
pub(super) struct Plan {
    #[serde(default)]
    pub id: Value,
    pub name: String,
    #[serde(default)]
    pub bandwidth: Value,
    #[serde(default)]
    pub disk_limit: Value,
    #[serde(default)]
    pub inodes_limit: Value,
    #[serde(default)]
    pub db_limit: Value,
    #[serde(default)]
    pub domains_limit: Value,
    #[serde(default)]
    pub email_limit: Value,
    #[serde(default)]
    pub ftp_limit: Value,
}

/// `GET /api/plans`.
#[derive(Debug, Deserialize)]
pub(super) struct PlanList {
    pub plans: Vec<Plan>,
}

/// `GET /api/plans/{id}`.
#[derive(Debug, Deserialize)]
pub(super) struct PlanReply {
    pub plan: Plan,
}

/// Autologin, either form. No Debug: the link carries a one-time token.
#[derive(Deserialize)]
pub(super) struct AutologinLink {
    pub link: String,
}

/// `GET /api/system`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct System {
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub openpanel_version: Option<String>,
    /// Seconds, as a string (doc) or a number.
    pub uptime: Value,
}

/// `GET /api/usage/stats`: JSON objects, one per line, inside one string.
#[derive(Debug, Deserialize)]
pub(super) struct UsageStats {
    pub usage_stats: String,
}

/// `GET /api/usage/memory`.
#[derive(Debug, Deserialize)]
pub(super) struct Memory {
    pub ram_info: RamInfo,
}

/// Memory figures, in bytes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RamInfo {
    pub total: Value,
    pub used: Value,
}

/// One filesystem of `GET /api/usage/server`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filesystem {
    pub mountpoint: String,
    pub total: Value,
    pub used: Value,
}

/// Notifications: an array of `{title, message}` (doc), or `{"notifications":
/// ["<line>", ...]}` (Go).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Notifications {
    Bare(Vec<NotificationEntry>),
    Wrapped {
        notifications: Vec<NotificationEntry>,
    },
}

/// One notification, structured or a bare line.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum NotificationEntry {
    Structured {
        #[serde(default)]
        title: String,
        #[serde(default)]
        message: String,
    },
    Line(String),
}

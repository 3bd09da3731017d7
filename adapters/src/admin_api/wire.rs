//! Success replies of admin_api, as the panel sends them. Numbers may arrive as
//! numbers or strings and sizes as "10GB"-style text, so those fields stay
//! `Value` and are read leniently in `mapping`.

use serde::Deserialize;
use serde_json::Value;

/// `POST /admin_api/`: account info, usage and limits (no status flag).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AccountInfo {
    pub package_name: Option<String>,
    pub disk_limit: Value,
    pub disk_used: Value,
    pub email_disk_used: Value,
    pub db_disk_used: Value,
    pub email_limit: Value,
    pub email_used: Value,
    pub db_limit: Value,
    pub db_used: Value,
    pub ftp_limit: Value,
    pub ftp_used: Value,
    pub domain_limit: Value,
    pub domain_used: Value,
    /// Not in the doc; the panel's code sends it (package limit, MB).
    pub bandwidth: Value,
    /// Not in the doc; the panel's code sends it.
    pub bandwidth_use: Value,
    pub main_domain: Option<String>,
    pub user_id: Value,
    pub email: Option<String>,
    pub full_name: Option<String>,
}

/// `add_user`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UserSaved {
    pub user_id: Value,
}

/// `packages_list`.
#[derive(Debug, Deserialize)]
pub(super) struct PackageList {
    pub packages: Vec<PackageEntry>,
}

/// One package of `packages_list`: only id, name and disk space (MB).
#[derive(Debug, Deserialize)]
pub(super) struct PackageEntry {
    pub id: Value,
    pub name: String,
    #[serde(default)]
    pub disk_space: Value,
}

/// `new_package`.
#[derive(Debug, Deserialize)]
pub(super) struct PackageCreated {
    pub package_id: Value,
}

/// `add_domain`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DomainAdded {
    pub domain_id: Value,
}

/// `sso_login`. No Debug: the URL carries a login token.
#[derive(Deserialize)]
pub(super) struct SsoLink {
    pub url: String,
}

/// Replies panelgate reads nothing of (suspend_user, update_user, issue_ssl,
/// database_add).
#[derive(Debug, Deserialize)]
pub(super) struct Done {}

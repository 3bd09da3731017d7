//! The settings of a simulated admin_api panel and the packages it starts with.

use crate::hiding::debug_hiding;

/// Settings of a simulated admin_api panel.
#[derive(Clone)]
pub struct AdminApiConfig {
    /// Admin username expected in the `username` header.
    pub admin_username: String,
    /// Admin password expected in the `password` header.
    pub admin_password: String,
    /// Packages present at start.
    pub packages: Vec<SimPackage>,
    /// Whether the panel's API switch is on (off → `{"error": "API is currently disabled"}`).
    pub api_enabled: bool,
}

impl Default for AdminApiConfig {
    /// `admin` / `admin-secret`, packages "Basic" (id 1, 1024 MB, 2 domains) and
    /// "Premium" (id 2, 5120 MB, unlimited domains), API on.
    fn default() -> Self {
        Self {
            admin_username: "admin".to_owned(),
            admin_password: "admin-secret".to_owned(),
            packages: vec![
                SimPackage::new(1, "Basic", 1024, 2),
                SimPackage::new(2, "Premium", 5120, 0),
            ],
            api_enabled: true,
        }
    }
}

debug_hiding!(AdminApiConfig {
    admin_username,
    admin_password: hidden,
    packages,
    api_enabled
});

/// A hosting package as the panel holds it. Limits of 0 mean unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimPackage {
    /// Package id, referenced by users' `pkg_id`.
    pub id: u64,
    /// Package name, unique (case-insensitively).
    pub name: String,
    /// Disk quota in MB.
    pub disk_space_mb: u64,
    /// Monthly bandwidth in MB.
    pub bandwidth_mb: u64,
    /// Maximum number of email accounts.
    pub email_accounts: u64,
    /// Maximum number of databases.
    pub databases: u64,
    /// Maximum number of FTP accounts.
    pub ftp_accounts: u64,
    /// Maximum number of domains, the primary one included.
    pub allowed_domains: u64,
    /// Maximum number of subdomains.
    pub allowed_subdomains: u64,
    /// Whether disk limits are enforced (the form's `limit_action`).
    pub limit_action: bool,
}

impl SimPackage {
    /// A package with the given disk quota and domain limit, every other limit unlimited.
    pub fn new(id: u64, name: impl Into<String>, disk_space_mb: u64, allowed_domains: u64) -> Self {
        Self {
            id,
            name: name.into(),
            disk_space_mb,
            bandwidth_mb: 0,
            email_accounts: 0,
            databases: 0,
            ftp_accounts: 0,
            allowed_domains,
            allowed_subdomains: 0,
            limit_action: false,
        }
    }
}

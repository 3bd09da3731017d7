//! The settings of a simulated SPanel server (API folder, admin token) and the
//! packages it starts with.

use super::SimPermissions;
use crate::hiding::debug_hiding;

/// Settings of a simulated SPanel server.
#[derive(Clone)]
pub struct SpanelConfig {
    /// The API folder: `spanel` by default, `hostpanel` under white-label
    /// branding; the endpoint is `POST /<folder>/api.php` (surrounding `/` ignored).
    pub folder: String,
    /// The admin API token.
    pub admin_token: String,
    /// Whether that token has its "SSO" option on (`base/sso` needs it).
    pub admin_token_sso: bool,
    /// Packages present at start, in listing order.
    pub packages: Vec<SimSpanelPackage>,
}

impl Default for SpanelConfig {
    /// Folder `spanel`, token `panelgate-sim-spanel-token` with SSO on, packages
    /// `basic` (1024 MB, 100000 inodes, 1 addon domain, 10 emails, 5 databases)
    /// and `pro` (all unlimited), both with all permissions.
    fn default() -> Self {
        Self {
            folder: "spanel".to_owned(),
            admin_token: "panelgate-sim-spanel-token".to_owned(),
            admin_token_sso: true,
            packages: vec![
                SimSpanelPackage {
                    quota_mb: Some(1024),
                    inodes: Some(100_000),
                    domains: Some(1),
                    emails: Some(10),
                    databases: Some(5),
                    ..SimSpanelPackage::unlimited("basic")
                },
                SimSpanelPackage::unlimited("pro"),
            ],
        }
    }
}

debug_hiding!(SpanelConfig {
    folder,
    admin_token: hidden,
    admin_token_sso,
    packages
});

/// A hosting package as the panel holds it. `None` is unlimited; `Some(0)`
/// disables domains, emails or databases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSpanelPackage {
    /// Package name, unique (case-insensitively).
    pub name: String,
    /// Disk quota in MB. The API cannot set one below 100, but a package made
    /// elsewhere may hold `Some(0)`, listed as `"0"` (the doc's `test` package).
    pub quota_mb: Option<u64>,
    /// Inode limit.
    pub inodes: Option<u64>,
    /// Addon domains the account may add.
    pub domains: Option<u64>,
    /// Email accounts the account may create.
    pub emails: Option<u64>,
    /// Databases the account may create.
    pub databases: Option<u64>,
    /// Pages the package's accounts may use.
    pub permissions: SimPermissions,
}

impl SimSpanelPackage {
    /// A package with every limit unlimited and all permissions.
    pub fn unlimited(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            quota_mb: None,
            inodes: None,
            domains: None,
            emails: None,
            databases: None,
            permissions: SimPermissions::All,
        }
    }
}

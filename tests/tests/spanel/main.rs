//! SPanel (ScalaHosting) end to end: the real gateway over real gRPC, in front
//! of the SPanel simulator over real HTTP.
//!
//! SPanel has one endpoint, `POST <folder>/api.php`, form-encoded the way PHP's
//! `http_build_query` does it. Every test checks what a canonical call did on
//! the simulated panel itself (`sim.account(..)`, `sim.packages()`,
//! `sim.admin_users()`), and many check the exact bytes the panel received
//! (`sim.received()`: each raw body with its `action`).
//!
//! Unless a test says otherwise the simulator is registered as `scala` with the
//! doc's token `provided_auth_token` (SSO on), in folder `spanel`, with packages
//! `basic` (1024 MB, 100000 inodes, 1 addon domain, 10 emails, 5 databases),
//! `pro` (all unlimited) and `lean` (disk and inodes unlimited; addon domains,
//! emails and databases disabled). These tests run on SQLite (the doc examples
//! on both databases): what every panel shares, the cross-panel suite
//! (`tests/conformance.rs`) runs on both.
//!
//! - `docs`: the doc's examples byte for byte, SSO, the white-label folder
//!   and the API check;
//! - `accounts`: wwwacct, listaccounts, change*, suspend, terminate;
//! - `packages`: listpackages, modifypackage, removepackage, and the panel
//!   administrators (createadminuser, listadminusers);
//! - `domains`: addsubdomain, removedomain, and databases (createmysqluser,
//!   createmysqldatabase);
//! - `validation`: what is refused before any call, and by the panel (its
//!   error sentences joined).

mod accounts;
mod docs;
mod domains;
mod packages;
mod validation;

use std::collections::BTreeMap;

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, CreateAccountRequest, CreatePackageRequest, CreatePanelAdminRequest, Package,
    PackageLimits, PanelAdmin, SpanelAdminOptions, SpanelCategoryPermissions, SpanelPackageOptions,
    SpanelPermissions, UpdatePackageRequest, create_package_request, create_panel_admin_request,
    update_package_request,
};
use panelgate_sim::{SimCategoryPermissions, SimPermissions, SimSpanelPackage, SpanelConfig};
use panelgate_tests::{
    Panel, SpanelFixture,
    limits::{limit, unlimited},
};
use tonic::Status;

/// A gateway with a fresh SPanel simulator registered as `scala`.
type Sp = Panel<SpanelFixture>;

/// The name the simulator is registered under.
const SERVER: &str = "scala";
/// The admin token of the SPanel docs' examples.
const DOC_TOKEN: &str = "provided_auth_token";

/// The simulator's packages in most tests: its defaults `basic` and `pro`,
/// and `lean`, which disables what can be disabled.
fn config() -> SpanelConfig {
    let mut config = SpanelConfig {
        admin_token: DOC_TOKEN.to_owned(),
        ..SpanelConfig::default()
    };
    config.packages.push(SimSpanelPackage {
        domains: Some(0),
        emails: Some(0),
        databases: Some(0),
        ..SimSpanelPackage::unlimited("lean")
    });
    config
}

/// The simulator's `basic`, `pro` and `lean`, read canonically: domains count
/// the primary domain, "0" disables, "Unlimited" has no max.
fn default_packages() -> [Package; 3] {
    let package = |name: &str, limits: PackageLimits| Package {
        id: name.into(),
        name: name.into(),
        limits: Some(limits),
    };
    [
        package(
            "basic",
            PackageLimits {
                disk_mib: limit(1024),
                inodes: limit(100_000),
                domains: limit(2),
                email_accounts: limit(10),
                databases: limit(5),
                ..Default::default()
            },
        ),
        package(
            "pro",
            PackageLimits {
                disk_mib: unlimited(),
                inodes: unlimited(),
                domains: unlimited(),
                email_accounts: unlimited(),
                databases: unlimited(),
                ..Default::default()
            },
        ),
        package(
            "lean",
            PackageLimits {
                disk_mib: unlimited(),
                inodes: unlimited(),
                domains: limit(1),
                email_accounts: limit(0),
                databases: limit(0),
                ..Default::default()
            },
        ),
    ]
}

/// Every page of `category`.
fn all_pages(category: &str) -> SpanelCategoryPermissions {
    SpanelCategoryPermissions {
        category: category.to_owned(),
        all_pages: true,
        pages: Vec::new(),
    }
}

/// These `pages` of `category`.
fn pages(category: &str, pages: &[&str]) -> SpanelCategoryPermissions {
    SpanelCategoryPermissions {
        category: category.to_owned(),
        all_pages: false,
        pages: pages.iter().map(|&page| page.to_owned()).collect(),
    }
}

/// Permissions of these categories.
fn categories(categories: Vec<SpanelCategoryPermissions>) -> SpanelPermissions {
    SpanelPermissions {
        all: false,
        categories,
    }
}

/// The simulator's permissions: each category with all its pages (`None`) or some.
fn sim_permissions(granted: &[(&str, Option<&[&str]>)]) -> SimPermissions {
    SimPermissions::Categories(
        granted
            .iter()
            .map(|&(category, pages)| {
                let pages = match pages {
                    None => SimCategoryPermissions::All,
                    Some(pages) => SimCategoryPermissions::Pages(
                        pages.iter().map(|&page| page.to_owned()).collect(),
                    ),
                };
                (category.to_owned(), pages)
            })
            .collect::<BTreeMap<_, _>>(),
    )
}

/// What the SPanel tests ask of their panel beyond [`Panel`]: the calls
/// that take SPanel's options.
#[async_trait]
trait Spanel {
    /// CreateAccount of `username` on `package`.
    async fn try_create(&self, username: &str, package: &str) -> Result<Account, Status>;
    /// CreatePackage with SPanel options when `permissions` is given.
    async fn create_package_with(
        &self,
        name: &str,
        limits: PackageLimits,
        permissions: Option<SpanelPermissions>,
    ) -> Result<Package, Status>;
    /// UpdatePackage with SPanel options when `permissions` is given.
    async fn update_package_with(
        &self,
        package: &str,
        limits: PackageLimits,
        permissions: Option<SpanelPermissions>,
    ) -> Result<Package, Status>;
    /// CreatePanelAdmin with SPanel options when `permissions` is given.
    async fn create_admin_with(
        &self,
        username: &str,
        password: &str,
        full_access: bool,
        permissions: Option<SpanelPermissions>,
    ) -> Result<PanelAdmin, Status>;
}

#[async_trait]
impl Spanel for Sp {
    async fn try_create(&self, username: &str, package: &str) -> Result<Account, Status> {
        let request = CreateAccountRequest {
            package: package.to_owned(),
            ..self.new_account(username)
        };
        self.create_account(request).await
    }

    async fn create_package_with(
        &self,
        name: &str,
        limits: PackageLimits,
        permissions: Option<SpanelPermissions>,
    ) -> Result<Package, Status> {
        let options = permissions.map(|permissions| SpanelPackageOptions {
            permissions: Some(permissions),
        });
        self.create_package(CreatePackageRequest {
            name: name.to_owned(),
            limits: Some(limits),
            panel_options: options.map(create_package_request::PanelOptions::Spanel),
            ..Default::default()
        })
        .await
    }

    async fn update_package_with(
        &self,
        package: &str,
        limits: PackageLimits,
        permissions: Option<SpanelPermissions>,
    ) -> Result<Package, Status> {
        let options = permissions.map(|permissions| SpanelPackageOptions {
            permissions: Some(permissions),
        });
        self.update_package(UpdatePackageRequest {
            package: package.to_owned(),
            limits: Some(limits),
            panel_options: options.map(update_package_request::PanelOptions::Spanel),
            ..Default::default()
        })
        .await
    }

    async fn create_admin_with(
        &self,
        username: &str,
        password: &str,
        full_access: bool,
        permissions: Option<SpanelPermissions>,
    ) -> Result<PanelAdmin, Status> {
        let options = permissions.map(|permissions| SpanelAdminOptions {
            permissions: Some(permissions),
        });
        self.create_admin(CreatePanelAdminRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            full_access,
            panel_options: options.map(create_panel_admin_request::PanelOptions::Spanel),
            ..Default::default()
        })
        .await
    }
}

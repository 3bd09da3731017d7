//! admin_api end to end: the real gateway over real gRPC, in front of the
//! admin_api simulator over real HTTP.
//!
//! Every test checks what a canonical call did on the simulated panel itself
//! (`sim.user(..)`, `sim.domain(..)`, `sim.packages()`), not only the reply.
//! The simulator starts with packages "Basic" (id 1, 1024 MB, 2 domains, the
//! primary one included) and "Premium" (id 2, 5120 MB, unlimited domains),
//! and is registered as `ols` with PHP 8.2 as the server's default. These
//! tests run on SQLite: what every panel shares, the cross-panel suite
//! (`tests/conformance.rs`) runs on both databases.
//!
//! - `accounts`: add_user, the account info, suspension, updates, SSO, the
//!   API switch, and users left half-made;
//! - `packages`: packages_list (cached) and new_package;
//! - `domains`: add_domain, issue_ssl and database_add.

mod accounts;
mod domains;
mod packages;

use panelgate_tests::{AdminApiFixture, Panel};

/// A gateway with a fresh admin_api simulator registered as `ols`.
type Ols = Panel<AdminApiFixture>;

/// The PHP version registered as the server's default.
const DEFAULT_PHP: &str = "8.2";

/// The names of the simulated panel's packages, in id order.
fn package_names(ols: &Ols) -> Vec<String> {
    ols.sim.packages().into_iter().map(|p| p.name).collect()
}

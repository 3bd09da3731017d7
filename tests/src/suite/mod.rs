//! The cross-panel suite: what every panel must do, written once as generic
//! async functions over a [`PanelFixture`] and stamped out per panel and per
//! database by [`conformance_suite!`].
//!
//! - `lifecycle`: an account's whole life, and every operation a server
//!   declares (or does not) called for real;
//! - `accounts`: duplicates, unknown accounts, validate_only, bad input;
//! - `credentials`: admin credentials the panel refuses;
//! - `faults`: panels that fail or answer garbage: the documented error, and
//!   nothing changes;
//! - `misdirected`: redirects, wrong or dead base URLs, names that are no
//!   path segment;
//! - `retries`: create-like calls retried after a timeout end with one thing;
//! - `errors`: every documented error of the panel, answered right;
//! - `sync`: a sync finds accounts made and changed on the panel, and
//!   applies them to the index;
//! - `secrets`: secrets nowhere they must not be (stamped in the `secrets`
//!   test binary, which captures its log).

mod accounts;
mod credentials;
mod errors;
mod faults;
mod lifecycle;
mod misdirected;
mod retries;
mod secrets;
mod sync;

use panelgate_proto::Capability;

pub use self::{
    accounts::*, credentials::*, errors::*, faults::*, lifecycle::*, misdirected::*, retries::*,
    secrets::*, sync::*,
};
use crate::{PanelFixture, operations::About, panel::Panel};

/// Stamps out the suite for one panel fixture, on SQLite and on PostgreSQL:
/// `conformance_suite!(admin_api, AdminApiFixture);`
#[macro_export]
macro_rules! conformance_suite {
    ($panel:ident, $fixture:ty) => {
        $crate::suite_tests!($panel, $fixture;
            account_lifecycle,
            supported_operations_are_implemented,
            unsupported_operations_are_unimplemented,
            duplicate_account_is_already_exists,
            unknown_account_is_not_found,
            validate_only_changes_nothing,
            bad_input_is_refused_before_any_panel_call,
            wrong_credentials_fail_fast_until_updated,
            transport_faults_give_the_documented_codes,
            mutations_under_faults_change_nothing,
            redirects_are_never_followed,
            names_that_are_not_one_path_segment_make_no_call,
            wrong_base_url_is_misconfigured,
            unreachable_panel_is_unavailable,
            create_retries_after_a_timeout_converge,
            documented_errors_are_answered_right,
            sync_reconciles_the_index_with_the_panels,
            periodic_sync_imports_and_collects_usage,
        );
    };
}

/// Stamps out the suite's functions named for one panel fixture, on SQLite
/// and on PostgreSQL: `suite_tests!(admin_api, AdminApiFixture; a, b)` makes
/// the tests `admin_api::sqlite::a`, `admin_api::postgres::a`, ...
#[macro_export]
macro_rules! suite_tests {
    ($panel:ident, $fixture:ty; $($test:ident),+ $(,)?) => {
        mod $panel {
            $crate::suite_tests!(@on $fixture, sqlite, Sqlite; $($test),+);
            $crate::suite_tests!(@on $fixture, postgres, Postgres; $($test),+);
        }
    };
    (@on $fixture:ty, $db:ident, $backend:ident; $($test:ident),+) => {
        mod $db {
            $(
                #[doc = concat!("[`suite::", stringify!($test), "`] for this panel and database.")]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::suite::$test::<$fixture>($crate::Backend::$backend).await;
                }
            )+
        }
    };
}

/// The operations the server declares.
pub(crate) async fn capabilities<F: PanelFixture>(panel: &Panel<F>) -> Vec<Capability> {
    panel.server().await.capabilities().collect()
}

/// Calls about account `username` of the panel, with its packages.
pub(crate) fn about<F: PanelFixture>(panel: &Panel<F>, username: &'static str) -> About<'static> {
    About::of(username, panel.packages())
}

//! The canonical conformance suite: what every panel must do, written once as
//! generic async functions over a [`PanelFixture`] and stamped out per panel
//! and per database by [`conformance_suite!`].
//!
//! - `accounts`: the account calls (lifecycle, duplicates, capabilities,
//!   validate_only, bad input);
//! - `faults`: panels that fail, redirect, or are sent names that are no
//!   path segment: the answer is the documented error and nothing changes;
//! - `retries`: create-like calls retried after a timeout end with one thing;
//! - `errors`: every documented error of the panel, answered right.

mod accounts;
mod errors;
mod faults;
mod retries;

use panelgate_proto::v1::{CreateAccountRequest, GetServerRequest, Operation};

pub use self::{accounts::*, errors::*, faults::*, retries::*};
use crate::{PanelFixture, gateway::by_name};

/// Stamps out the conformance suite for one panel fixture, on SQLite and on
/// PostgreSQL: `conformance_suite!(admin_api, AdminApiFixture);`
#[macro_export]
macro_rules! conformance_suite {
    ($panel:ident, $fixture:ty) => {
        mod $panel {
            #[allow(unused_imports)]
            use super::*;
            use $crate::{Backend, suite};

            $crate::conformance_suite!(@backend $fixture, sqlite, Backend::Sqlite);
            $crate::conformance_suite!(@backend $fixture, postgres, Backend::Postgres);
        }
    };
    (@backend $fixture:ty, $db:ident, $backend:expr) => {
        mod $db {
            use super::*;

            $crate::conformance_suite!(@tests $fixture, $backend;
                account_lifecycle,
                duplicate_account_is_already_exists,
                unknown_account_is_not_found,
                unsupported_operations_are_unimplemented,
                validate_only_changes_nothing,
                supported_operations_are_implemented,
                bad_input_is_refused_before_any_panel_call,
                mutations_under_faults_change_nothing,
                redirects_are_never_followed,
                names_that_are_not_one_path_segment_make_no_call,
                wrong_base_url_is_misconfigured,
                create_retries_after_a_timeout_converge,
                documented_errors_are_answered_right,
            );
        }
    };
    (@tests $fixture:ty, $backend:expr; $($test:ident),+ $(,)?) => {
        $(
            #[doc = concat!("[`suite::", stringify!($test), "`] for this panel and database.")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                suite::$test::<$fixture>($backend).await;
            }
        )+
    };
}

/// A CreateAccount of `username` on `server` with the fixture's first package.
pub(crate) fn new_account<F: PanelFixture>(
    fixture: &F,
    server: &str,
    username: &str,
) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "first-password-1".to_owned(),
        package: fixture.packages().0.to_owned(),
        panel_options: fixture.account_options(),
        ..Default::default()
    }
}

/// The operations a registered server declares.
pub(crate) async fn capabilities(gateway: &crate::Gateway, server: &str) -> Vec<Operation> {
    gateway
        .inventory()
        .get_server(GetServerRequest {
            target: by_name(server),
        })
        .await
        .expect("get server")
        .into_inner()
        .server
        .expect("server")
        .capabilities()
        .collect()
}

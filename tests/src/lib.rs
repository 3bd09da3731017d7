//! End-to-end harness: the real gateway in-process on a loopback port, reached
//! through real tonic clients, in front of simulated panels over real HTTP, on
//! a fresh SQLite file or a fresh PostgreSQL database per test.
//!
//! # Layout
//! - [`gateway`]: [`with_gateway`] starts a gateway for one test body and
//!   always tears it down (database dropped even when the body panics).
//! - [`fixtures`]: [`PanelFixture`], one per simulated panel: how to register it
//!   and how to look at the simulated panel's state.
//! - [`panel`]: [`Panel`], a gateway with one simulated panel registered, with
//!   one-line calls to it and assertions on its errors.
//! - [`suite`]: the canonical conformance suite, generic over fixtures, and
//!   the [`conformance_suite!`] macro that stamps it out per panel and backend.
//! - [`operations`]: one call per canonical operation, for capability checks.
//! - [`postgres`]: a PostgreSQL server of a test's own, to stop and start.
//! - [`errors`]: reading `google.rpc` details off a `tonic::Status`.
//! - [`limits`]: limits and usage as the canonical messages write them.
//! - [`logs`]: capturing what the gateway logs, for tests that assert on it.
//! - [`proxy`]: a TCP proxy that can cut a connection (database outages).
//! - [`raw`]: calls with already-encoded messages (garbage, oversize).
//! - [`reflection`]: asking server reflection, v1 and v1alpha.
//! - [`scrape`]: scraping `/metrics` and reading its samples.
//! - [`secrets`]: recognisable secrets, and the search for them in logs,
//!   errors, replies and the database at rest.
//! - [`tls_proxy`]: a private CA (rcgen) and a TLS-terminating proxy that puts
//!   a simulator behind `https://127.0.0.1:port`.

pub mod errors;
pub mod fixtures;
pub mod gateway;
pub mod limits;
pub mod logs;
pub mod operations;
pub mod panel;
pub mod postgres;
pub mod proxy;
pub mod raw;
pub mod reflection;
pub mod scrape;
pub mod secrets;
pub mod suite;
pub mod tls_proxy;

pub use fixtures::{
    AdminApiFixture, InstallatronFixture, Made, OpenAdminFixture, PanelChange, PanelFixture,
    SpanelFixture,
};
pub use gateway::{Backend, Gateway, with_gateway};
pub use panel::Panel;

/// Stamps out each scenario `async fn name(backend: Backend)` as the tests
/// `sqlite::name` and `postgres::name`, on a multi-threaded runtime of 2
/// workers (or `workers = N;` before the names).
#[macro_export]
macro_rules! on_both_backends {
    (workers = $workers:tt; $($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[doc = concat!("`", stringify!($test), "` on SQLite.")]
                #[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
                async fn $test() {
                    super::$test($crate::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[doc = concat!("`", stringify!($test), "` on PostgreSQL.")]
                #[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
                async fn $test() {
                    super::$test($crate::Backend::Postgres).await;
                }
            )+
        }
    };
    ($($test:ident),+ $(,)?) => {
        $crate::on_both_backends!(workers = 2; $($test),+);
    };
}

/// Stamps out each scenario `async fn name(panel: P)` of this module, `P`
/// a [`Panel`], as the test `sqlite::name`, run against a fresh simulator
/// with its default config: `panel_tests!(Ols: a, b)`; those named after
/// `both:` also as `postgres::name`: `panel_tests!(Ols: a; both: b)`. With
/// another config for the simulator: `panel_tests!(Sp with config(); a)`;
/// and with `configure` applied to the gateway's config too:
/// `panel_tests!(Oa with config(), gateway configure; both: a)`.
#[macro_export]
macro_rules! panel_tests {
    ($panel:ident: $($rest:tt)*) => {
        $crate::panel_tests!(@split $panel, Default::default(), |_| {}; $($rest)*);
    };
    ($panel:ident with $config:expr; $($rest:tt)*) => {
        $crate::panel_tests!(@split $panel, $config, |_| {}; $($rest)*);
    };
    ($panel:ident with $config:expr, gateway $configure:expr; $($rest:tt)*) => {
        $crate::panel_tests!(@split $panel, $config, $configure; $($rest)*);
    };
    (@split $panel:ident, $config:expr, $configure:expr; both: $($both:ident),+ $(,)?) => {
        $crate::panel_tests!(@on sqlite, Sqlite, $panel, $config, $configure; $($both),+);
        $crate::panel_tests!(@on postgres, Postgres, $panel, $config, $configure; $($both),+);
    };
    (@split $panel:ident, $config:expr, $configure:expr;
        $($test:ident),+ $(; both: $($both:ident),+)? $(,)?) => {
        $crate::panel_tests!(@on sqlite, Sqlite, $panel, $config, $configure;
            $($test),+ $($(, $both)+)?);
        $(
            $crate::panel_tests!(@on postgres, Postgres, $panel, $config, $configure; $($both),+);
        )?
    };
    (@on $db:ident, $backend:ident, $panel:ident, $config:expr, $configure:expr;
        $($test:ident),+) => {
        mod $db {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[doc = concat!("[`super::", stringify!($test), "`] on ", stringify!($backend), ".")]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let backend = $crate::Backend::$backend;
                    <$panel>::run_on(backend, $config, $configure, super::$test).await;
                }
            )+
        }
    };
}

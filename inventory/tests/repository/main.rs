//! The repository suite. Every test runs on a fresh SQLite file and, when
//! `PANELGATE_TEST_DATABASE_URL` names a PostgreSQL server, again on a fresh
//! PostgreSQL database created for it.

// The suite's test fns are plain async fns run by `suite!`, so clippy's
// allow-unwrap-in-tests does not see them as tests.
#![allow(clippy::unwrap_used)]

/// Stamps out one `#[tokio::test]` per backend for each named test fn of the module,
/// on a multi-threaded runtime so that concurrent calls really run in parallel.
macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::harness::on_sqlite(super::$test).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    crate::harness::on_postgres(super::$test).await;
                }
            )*
        }
    };
}

mod accounts;
mod batches;
mod connect;
mod credentials;
mod harness;
mod idempotency;
mod listing;
mod operations;
mod reservations;
mod rotation;
mod servers;
mod sync;

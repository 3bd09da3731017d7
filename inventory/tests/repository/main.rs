//! The repository suite. Every test runs on a fresh SQLite file and, when
//! `PANELGATE_TEST_DATABASE_URL` names a PostgreSQL server, again on a fresh
//! PostgreSQL database created for it.

// The suite's test fns are plain async fns run by `suite!`, so clippy's
// allow-unwrap-in-tests does not see them as tests.
#![allow(clippy::unwrap_used)]

/// Stamps out one `#[tokio::test]` per backend for each named test fn of the module.
macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    crate::harness::on_sqlite(super::$test).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    crate::harness::on_postgres(super::$test).await;
                }
            )*
        }
    };
}

mod accounts;
mod connect;
mod credentials;
mod harness;
mod listing;
mod operations;
mod servers;

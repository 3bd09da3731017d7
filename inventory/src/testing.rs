//! Fresh databases for tests (feature `testing`): a SQLite file, or a PostgreSQL
//! database created for one test and dropped after it.
//!
//! PostgreSQL is used when [`DATABASE_URL_ENV`] names a server the tests may create
//! databases on, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.

use std::path::Path;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

use crate::InventoryError;

/// Environment variable with the URL of a PostgreSQL server for tests.
pub const DATABASE_URL_ENV: &str = "PANELGATE_TEST_DATABASE_URL";

/// A database for one test. Call [`TestDatabase::drop_database`] when done.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to give to [`Inventory::connect`](crate::Inventory::connect).
    pub url: String,
    /// For PostgreSQL: the server's URL and the database created on it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new SQLite file in `dir` (created on first connect).
    pub fn sqlite(dir: &Path) -> Self {
        let file = dir.join(format!("inventory-{}.db", Uuid::new_v4().simple()));
        Self {
            url: format!("sqlite://{}", file.display()),
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database `panelgate_test_<uuid>` on the server named by
    /// [`DATABASE_URL_ENV`]; `None` when the variable is unset or empty.
    pub async fn postgres_from_env() -> Result<Option<Self>, InventoryError> {
        let Some(server_url) = std::env::var(DATABASE_URL_ENV)
            .ok()
            .filter(|url| !url.is_empty())
        else {
            return Ok(None);
        };
        let name = format!("panelgate_test_{}", Uuid::new_v4().simple());
        let admin = admin_connection(&server_url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await?;
        Ok(Some(Self {
            url: with_database(&server_url, &name),
            postgres: Some((server_url, name)),
        }))
    }

    /// Drops a PostgreSQL database, closing any connection still open to it. SQLite
    /// files go with their directory.
    pub async fn drop_database(self) -> Result<(), InventoryError> {
        let Some((server_url, name)) = self.postgres else {
            return Ok(());
        };
        let admin = admin_connection(&server_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
        admin.close().await?;
        Ok(())
    }
}

async fn admin_connection(server_url: &str) -> Result<DatabaseConnection, InventoryError> {
    let mut options = ConnectOptions::new(server_url);
    options.max_connections(1).sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// `server_url` with its database (the URL path) replaced by `name`.
fn with_database(server_url: &str, name: &str) -> String {
    let (scheme, rest) = server_url
        .split_once("://")
        .unwrap_or(("postgres", server_url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    let query = after.find('?').map_or("", |start| &after[start..]);
    format!("{scheme}://{authority}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h?sslmode=disable", "t1"),
            "postgres://u:p@h/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h/db?a=b", "t1"),
            "postgres://h/t1?a=b"
        );
    }
}

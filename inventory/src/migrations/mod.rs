//! Schema migrations (sea-orm-migration), applied in order by [`Migrator`].
//!
//! One file per migration, named `mYYYYMMDD_NNNNNN_verb_noun.rs`: `DeriveMigrationName`
//! takes the migration's name from the file name. Tables are spelled out here rather
//! than derived from the entities, so a shipped migration never changes when an entity
//! does; never edit a migration once it has shipped, add a new one.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261123_000001_create_servers;
mod m20261123_000002_create_accounts;
mod m20261123_000003_create_operations;
mod m20261207_000004_create_reservations;
mod m20261207_000005_add_placement_columns;
mod m20261207_000006_create_sync;
mod m20261208_000007_create_batches;

/// The inventory's migrations, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_servers::Migration),
            Box::new(m20261123_000002_create_accounts::Migration),
            Box::new(m20261123_000003_create_operations::Migration),
            Box::new(m20261207_000004_create_reservations::Migration),
            Box::new(m20261207_000005_add_placement_columns::Migration),
            Box::new(m20261207_000006_create_sync::Migration),
            Box::new(m20261208_000007_create_batches::Migration),
        ]
    }
}

//! sea-orm entities, one file per table.
//!
//! They mirror the tables the migrations (see [`Migrator`](crate::Migrator)) create; the
//! migrations, not these types, are the schema's source of truth. Only the
//! [repository](crate::Inventory) builds queries with them.

pub mod accounts;
pub mod batch_items;
pub mod batches;
pub mod operations;
pub mod reservations;
pub mod server_labels;
pub mod servers;
pub mod sync_findings;
pub mod sync_runs;

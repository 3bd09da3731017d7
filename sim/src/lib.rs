//! Stateful simulators of the control panels panelgate talks to, written from the
//! panels' own documents, with fault injection.
//!
//! The simulators are an independent reading of the panel docs: this crate shares
//! no code or wire types with `panelgate-adapters`, so that a misreading in an
//! adapter shows up as a failing test instead of being copied on both sides.
//!
//! # Layout
//!
//! - [`faults`]: the fault knobs ([`Faults`], [`Fault`]) and the HTTP front door
//!   every simulator is served through (request counting, logging, injected
//!   errors and delays, dropped connections).
//! - [`admin_api`]: the admin_api panel (OLSPanel), started with
//!   [`AdminApiSim::start`]; its module docs list the readings taken where the
//!   panel's doc is silent.
//! - [`openadmin`]: the OpenAdmin API (OpenPanel Enterprise), Python or Go
//!   build, started with [`OpenAdminSim::start`]; its module docs list its readings.
//! - [`spanel`]: the SPanel API (one form-encoded `api.php` endpoint), started
//!   with [`SpanelSim::start`]; its module docs list its readings.
//! - [`installatron`]: the Installatron Server API (users with their websites,
//!   JSON or form bodies, dry runs), started with [`InstallatronSim::start`];
//!   its module docs list its readings.
//! - `server` (crate-private): what a simulated panel provides (`Simulated`:
//!   its state, settings and router), starting it, the state behind its
//!   mutex, and the methods every handle shares (`start`, `start_on`, `addr`,
//!   `faults`, `state`, `request_count`).
//! - `table` (crate-private): `endpoint_table!`, each panel's endpoints
//!   declared as one table (one row per endpoint: name, path, handler...).
//! - `form` (crate-private): PHP's reading of form bodies, bracket notation
//!   included, shared by the SPanel and Installatron simulators.
//! - `dns` (crate-private): the domain-name rule the panels that check names share.
//! - `hiding` (crate-private): `Debug` for settings, their secrets shown as `***`.
//! - `testing` (tests only): one raw HTTP/1.1 exchange, the harness of every
//!   simulator's router-level tests.
//!
//! Each simulator's folder has the same shape: `mod.rs` (the readings),
//! `handle.rs` (the public handle and snapshots), `config.rs` (its settings),
//! `routes.rs` (the HTTP surface), `state.rs` (the panel's tables and its
//! `Simulated` description), then its endpoint table, its handlers by topic
//! and a `tests` module.
//!
//! The `panelgate-sim` binary runs a simulator standalone
//! (`panelgate-sim admin-api --listen 127.0.0.1:8081`,
//! `panelgate-sim openadmin --listen 127.0.0.1:8082`,
//! `panelgate-sim spanel --listen 127.0.0.1:8083`,
//! `panelgate-sim installatron --listen 127.0.0.1:8084`).

pub mod admin_api;
mod dns;
pub mod faults;
mod form;
mod hiding;
pub mod installatron;
pub mod openadmin;
mod server;
pub mod spanel;
mod table;
#[cfg(test)]
mod testing;

pub use admin_api::{AdminApiConfig, AdminApiSim, SimDomain, SimPackage, SimUser};
pub use faults::{Fault, Faults};
pub use installatron::{InstallatronConfig, InstallatronRequest, InstallatronSim};
pub use openadmin::{
    AutologinStyle, OpenAdminConfig, OpenAdminSim, SimOpenAdminDomain, SimOpenAdminUser, SimPlan,
    SimService,
};
pub use spanel::{
    ReceivedRequest, SimCategoryPermissions, SimPermissions, SimSpanelAccount, SimSpanelAdmin,
    SimSpanelPackage, SpanelConfig, SpanelSim,
};

//! panelgate: one canonical gRPC API in front of a fleet of web-hosting control
//! panels.
//!
//! # Layout
//! - [`auth`]: caller authentication (JWT) and one scope per RPC.
//! - [`cli`]: the `panelgate` command line (`serve`, `migrate`, `demo`, `token`).
//! - [`config`]: runtime configuration, read once at start.
//! - `server`: assembles tonic with the services, health and reflection ([`serve`]).
//! - `grpc/`: one file per proto service; each RPC is a small body (validate,
//!   route, reach the panel, map the reply) run by the command runner.
//! - `runner`: the command runner (`App::run`): start (journal claim or
//!   replay), the scope of panel calls (class, deadline), finish.
//! - `call`: one call as its body sees it: routing within the caller's
//!   groups, capability check, validate_only, logging, journal entry.
//! - `app`: the gateway's shared state.
//! - `idempotency`: `request_id` claims, waits and replays (AIP-155).
//! - `converge`: create-like calls whose retries converge on one effect.
//! - `leases`: the claims of running mutations, renewed while they run.
//! - `routing`: `Target` or account index → server record → adapter, cached;
//!   mutations read the record from the database.
//! - `packages`: per-server package lists cached in moka; package resolution.
//! - `caches`: the caches' memory budget and entry weights.
//! - `capacity`: the slot an account create holds on its server.
//! - `placement`: which server a placed account goes to, and why not others.
//! - `changes`: other replicas' changes (LISTEN/NOTIFY) drop cached entries.
//! - `error`: [`GatewayError`](error::GatewayError), its reason in the error
//!   table (`panelgate_proto::ErrorClass`), and the one place it becomes a
//!   `tonic::Status`.
//! - `validate`: request field checks, before any panel call.
//! - `health`: inventory reachability → `grpc.health.v1` status.
//! - [`metrics`]: the Prometheus registry and the `/metrics` endpoint.
//! - `telemetry`: the outermost layer: one span per call, gRPC metrics.
//! - `gate`: the tower layer in front of the services that lets a request
//!   through or answers it at once (authentication, the protocol's checks).
//! - `protocol`: the gRPC protocol's own refusals (content-type, undecodable
//!   or oversize messages) with their proper codes.
//! - `retention`: background pruning of the operation journal.
//! - `prober`: background probes of servers whose circuit is open.
//! - `sync`: sync runs that reconcile the account index with the panels,
//!   and the periodic sync.
//! - `batch`: durable bulk operations, their items claimed with a lease by
//!   any replica and run through their single RPCs.
//! - `demo`: `panelgate demo` with simulated panels.

mod app;
pub mod auth;
mod batch;
mod caches;
mod call;
mod capacity;
mod changes;
pub mod cli;
pub mod config;
mod converge;
mod demo;
pub mod error;
mod gate;
mod grpc;
mod health;
mod idempotency;
mod leases;
pub mod metrics;
mod packages;
mod placement;
mod prober;
mod protocol;
mod retention;
mod routing;
mod runner;
mod server;
mod sync;
mod telemetry;
mod validate;

pub use config::Config;
pub use server::serve;

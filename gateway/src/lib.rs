//! panelgate: one canonical gRPC API in front of a fleet of web-hosting control
//! panels.
//!
//! # Layout
//! - [`cli`]: the `panelgate` command line (`serve`, `migrate`, `demo`).
//! - [`config`]: runtime configuration, read once at start.
//! - `server`: assembles tonic with the services, health and reflection ([`serve`]).
//! - `grpc/`: one file per proto service; each RPC validates, routes, calls the
//!   adapter, maps the reply.
//! - `app`: shared state and the life of one call (logging, journal).
//! - `routing`: `Target` or account index → server record → adapter, cached.
//! - `packages`: per-server package lists cached in moka; package resolution.
//! - `error`: [`GatewayError`](error::GatewayError) and the one place it becomes a `tonic::Status`.
//! - `validate`: request field checks, before any panel call.
//! - `health`: inventory reachability → `grpc.health.v1` status.
//! - `demo`: `panelgate demo` with simulated panels.

mod app;
pub mod cli;
pub mod config;
mod demo;
pub mod error;
mod grpc;
mod health;
mod packages;
mod routing;
mod server;
mod validate;

pub use config::Config;
pub use server::serve;

//! End-to-end harness: the real gateway in-process on a loopback port, reached
//! through real tonic clients, in front of simulated panels over real HTTP, on
//! a fresh SQLite file or a fresh PostgreSQL database per test.
//!
//! # Layout
//! - [`gateway`]: [`with_gateway`] starts a gateway for one test body and
//!   always tears it down (database dropped even when the body panics).
//! - [`fixtures`]: [`PanelFixture`], one per simulated panel: how to register it
//!   and how to look at the simulated panel's state.
//! - [`suite`]: the canonical conformance suite, generic over fixtures, and
//!   the [`conformance_suite!`] macro that stamps it out per panel and backend.
//! - [`operations`]: one call per canonical operation, for capability checks.
//! - [`errors`]: reading `google.rpc` details off a `tonic::Status`.
//! - [`proxy`]: a TCP proxy that can cut a connection (database outages).
//! - [`tls_proxy`]: a private CA (rcgen) and a TLS-terminating proxy that puts
//!   a simulator behind `https://127.0.0.1:port`.

pub mod errors;
pub mod fixtures;
pub mod gateway;
pub mod operations;
pub mod proxy;
pub mod suite;
pub mod tls_proxy;

pub use fixtures::{
    AdminApiFixture, InstallatronFixture, OpenAdminFixture, PanelFixture, SpanelFixture,
};
pub use gateway::{Backend, Gateway, with_gateway};

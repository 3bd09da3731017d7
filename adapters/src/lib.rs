//! Panel adapters: one canonical hosting model in front of each control panel's
//! own HTTP API.
//!
//! # Layout
//! - [`panel`]: the [`Panel`] trait every adapter implements. Replies are the
//!   canonical `panelgate.v1` messages.
//! - [`inputs`]: the validated inputs the trait's operations take.
//! - [`earlier`]: what an earlier attempt of a create left behind, for
//!   retries.
//! - [`steps`]: operations a panel does in more than one call.
//! - [`error`]: [`AdapterError`], the one error type of every adapter.
//! - [`documented`]: the panels' documented errors as tables, how an
//!   adapter reads a failure by them.
//! - [`kind`]: the panel registry: each adapter's one description of its
//!   panel kind, from which names, capabilities and construction derive.
//! - [`credentials`]: how panelgate logs in to a panel.
//! - [`http`]: shared HTTP plumbing: clients, timeouts, reading replies, and a
//!   raw HTTP/1.1 path for what HTTP stacks rewrite (CONNECT with a path).
//! - [`tls`]: TLS towards panels, one rustls configuration per server setting.
//! - [`session`]: panel login sessions (JWTs) cached per server.
//! - [`metrics`]: what the adapters count for Prometheus (panel calls, logins,
//!   cache lookups).
//! - [`units`]: lenient parsing of panel numbers, sizes and limits.
//! - one module per panel: [`admin_api`] (OLSPanel), [`openadmin`] (OpenPanel),
//!   [`spanel`] (ScalaHosting SPanel), [`installatron`] (Installatron Server).
//!
//! Adding a panel: a module folder exporting its `PANEL` description, a
//! [`kind`] match arm and [`kind::KINDS`] entry, a simulator in
//! `panelgate-sim`, and one line in the conformance suite.

pub mod admin_api;
pub mod credentials;
pub mod documented;
pub mod earlier;
pub mod error;
pub mod http;
pub mod inputs;
pub mod installatron;
pub mod kind;
pub mod metrics;
pub mod openadmin;
pub mod panel;
pub mod session;
pub mod spanel;
pub mod steps;
pub mod tls;
pub mod units;

#[cfg(test)]
mod testing;

pub use credentials::{CredentialForm, PanelCredentials};
pub use earlier::Earlier;
pub use error::{AdapterError, Entity};

/// An adapter's result: its error is [`AdapterError`] unless said otherwise.
pub type Result<T, E = AdapterError> = std::result::Result<T, E>;
pub use inputs::{
    AccountUpdate, Listed, NewAccount, NewDatabase, NewDomain, NewPackage, NewPanelAdmin,
    PackageRef, Slice,
};
pub use kind::{
    KINDS, PanelConfig, PanelDescription, build_panel, capabilities, check_credentials, describe,
    kind_from_name, kind_name,
};
pub use panel::{Panel, PanelCheck};

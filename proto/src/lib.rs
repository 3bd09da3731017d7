//! panelgate's canonical gRPC API (`panelgate.v1`).
//!
//! The `.proto` files under `proto/panelgate/v1/` are the reviewed source; this
//! crate holds the Rust code generated from them at build time (messages, tonic
//! clients and servers), [`FILE_DESCRIPTOR_SET`] for server reflection, and
//! what the protos' own options declare:
//!
//! - `facts`: each RPC's scope, capability and journalling ([`RPCS`], [`Rpc`]),
//!   and the panel kind of each per-panel option ([`PanelOptions`]);
//! - `reasons`: the error table, each [`v1::ErrorReason`]'s code and class
//!   ([`ErrorClass`]);
//! - `secrets`: the secret values of a message ([`SecretValues`]) and the
//!   redacting Debug of the messages holding one.

mod facts;
mod reasons;
mod secrets;

pub use facts::{PanelOptions, Rpc, RpcFacts};
pub use generated::RPCS;
pub use reasons::{ErrorClass, code_from_name, code_name};
pub use secrets::SecretValues;
/// A canonical operation a panel may support: the proto's `Operation` enum,
/// called a capability in the code so that "operation" means one thing there,
/// an entry of the journal (`OperationService`).
pub use v1::Operation as Capability;

/// Generated messages and services of package `panelgate.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("panelgate.v1");
}

/// Generated from the protos' options by `build.rs`.
mod generated {
    #![allow(clippy::all)]

    use std::fmt;

    use crate::{
        Capability, PanelOptions, Rpc, RpcFacts, SecretValues,
        secrets::{REDACTED, uri_password, without_userinfo},
        v1,
    };

    include!(concat!(env!("OUT_DIR"), "/panelgate_facts.rs"));
}

/// The encoded `FileDescriptorSet` of every panelgate `.proto` file, with
/// comments and options, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/panelgate_descriptor.bin"));

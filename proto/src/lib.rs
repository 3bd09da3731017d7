//! panelgate's canonical gRPC API (`panelgate.v1`).
//!
//! The `.proto` files under `proto/panelgate/v1/` are the reviewed source; this
//! crate holds the Rust code generated from them at build time (messages, tonic
//! clients and servers) and [`FILE_DESCRIPTOR_SET`] for server reflection.

mod options;
mod redact;
mod secrets;

pub use options::PanelOptions;
pub use secrets::SecretValues;

/// Generated messages and services of package `panelgate.v1`.
pub mod v1 {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("panelgate.v1");
}

/// The encoded `FileDescriptorSet` of every panelgate `.proto` file, with
/// comments, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/panelgate_descriptor.bin"));

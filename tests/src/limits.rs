//! Limits and usage as the canonical messages write them, and byte sizes.

use panelgate_proto::v1::{Limit, ResourceUsage};

/// A kibibyte.
pub const KIB: u64 = 1 << 10;
/// A mebibyte.
pub const MIB: u64 = 1 << 20;
/// A gibibyte.
pub const GIB: u64 = 1 << 30;

/// A limit of `max`.
pub fn limit(max: u64) -> Option<Limit> {
    Some(Limit { max: Some(max) })
}

/// A limit known to be unlimited.
pub fn unlimited() -> Option<Limit> {
    Some(Limit { max: None })
}

/// `used` of `limit`.
pub fn used(used: u64, limit: Option<Limit>) -> Option<ResourceUsage> {
    Some(ResourceUsage { used, limit })
}

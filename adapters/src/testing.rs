//! Shorthands for the adapters' unit tests.

use panelgate_proto::v1::Limit;

/// A limit of `max`.
pub(crate) fn at_most(max: u64) -> Option<Limit> {
    Some(Limit { max: Some(max) })
}

/// No limit.
pub(crate) const UNLIMITED: Option<Limit> = Some(Limit { max: None });

//! What an earlier attempt of a create left behind: a retry after an
//! unknown outcome asks the panel before creating again ([`Earlier`]).

use panelgate_proto::v1::Account;

use crate::{AdapterError, Entity, NewAccount, Result};

/// What a panel holds of the thing an earlier attempt of a create may have
/// made (a retry after an unknown outcome asks before creating again).
#[derive(Debug)]
pub enum Earlier<T> {
    /// The panel holds it, as the create would have left it.
    Made(T),
    /// The panel does not hold it: the create has not happened.
    Absent,
    /// The panel has no read that could tell.
    Unknown,
}

impl<T> Earlier<T> {
    /// `found` read as the answer: the thing, or a NOT_FOUND of `entity`
    /// meaning it is absent.
    pub(crate) fn read(found: Result<T>, entity: Entity) -> Result<Self> {
        match found {
            Ok(made) => Ok(Earlier::Made(made)),
            Err(AdapterError::NotFound {
                entity: missing, ..
            }) if missing == entity => Ok(Earlier::Absent),
            Err(err) => Err(err),
        }
    }
}

/// Reads a panel's answer to "is this create's account there?" (see
/// [`Panel::earlier_account`]): an account of the same name on another
/// primary domain is someone else's.
pub(crate) fn created_as(found: Result<Account>, account: &NewAccount) -> Result<Earlier<Account>> {
    Ok(match Earlier::read(found, Entity::Account)? {
        Earlier::Made(existing)
            if existing
                .primary_domain
                .eq_ignore_ascii_case(&account.primary_domain) =>
        {
            Earlier::Made(existing)
        }
        Earlier::Made(_) => Earlier::Absent,
        other => other,
    })
}

//! What an earlier attempt of a create left behind: a retry after an
//! unknown outcome asks the panel before creating again ([`Earlier`]), and a
//! create that fails half-way removes what its first step made
//! ([`finish_create`]).

use panelgate_proto::v1::Account;
use tracing::warn;

use crate::{AdapterError, Entity, NewAccount};

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
    pub(crate) fn read(
        found: Result<T, AdapterError>,
        entity: Entity,
    ) -> Result<Self, AdapterError> {
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
pub(crate) fn created_as(
    found: Result<Account, AdapterError>,
    account: &NewAccount,
) -> Result<Earlier<Account>, AdapterError> {
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

/// A two-step create's outcome once its later `step` has run: the account
/// as created, or, when the step failed, that failure after `remove` has
/// tried to take away the account the first step made (one it could not
/// remove is said to remain `without` what the step was to add).
pub(crate) async fn finish_create(
    account: &NewAccount,
    step: Result<(), AdapterError>,
    remove: impl AsyncFnOnce() -> Result<(), AdapterError>,
    without: &str,
) -> Result<Account, AdapterError> {
    match step {
        Ok(()) => Ok(account.as_created()),
        Err(failure) => Err(rolled_back(
            failure,
            remove().await,
            &account.username,
            without,
        )),
    }
}

/// A later step's `failure` once the first step's account is `removed`, or
/// not.
fn rolled_back(
    failure: AdapterError,
    removed: Result<(), AdapterError>,
    username: &str,
    without: &str,
) -> AdapterError {
    let Err(cleanup) = removed else {
        return failure;
    };
    warn!(%username, error = %cleanup, "could not remove a half-created account");
    AdapterError::OperationFailed {
        upstream: format!(
            "{failure}; the account `{username}` was created without {without} and could not be removed ({cleanup})"
        ),
    }
}

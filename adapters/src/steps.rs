//! Operations a panel does in more than one call: a create whose later
//! step fails removes what its first step made ([`finish_create`]), and a
//! delete the panel refuses in one account state leaves that state first
//! ([`delete_leaving`]).

use panelgate_proto::v1::{Account, ErrorReason};
use tracing::warn;

use crate::{AdapterError, NewAccount, Result};

/// A two-step create's outcome once its later `step` has run: the account
/// as created, or, when the step failed, that failure after `remove` has
/// tried to take away the account the first step made (one it could not
/// remove is said to remain `without` what the step was to add).
pub(crate) async fn finish_create(
    account: &NewAccount,
    step: Result<()>,
    remove: impl AsyncFnOnce() -> Result<()>,
    without: &str,
) -> Result<Account> {
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
    removed: Result<()>,
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

/// A delete the panel refuses while the account is in one state (a
/// FAILED_PRECONDITION with `reason`): `leave` takes the account out of that
/// state, and `delete` runs again.
pub(crate) async fn delete_leaving<Deleted, Left>(
    reason: ErrorReason,
    delete: impl Fn() -> Deleted,
    leave: impl FnOnce() -> Left,
) -> Result<()>
where
    Deleted: Future<Output = Result<()>>,
    Left: Future<Output = Result<()>>,
{
    match delete().await {
        Err(AdapterError::FailedPrecondition {
            reason: refused, ..
        }) if refused == reason => {
            leave().await?;
            delete().await
        }
        other => other,
    }
}

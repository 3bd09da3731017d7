//! admin_api's account calls that take more than one request: creating a
//! user (and removing what a failed create left behind), deleting one that
//! must be suspended first, and the single-endpoint calls they share.

use panelgate_proto::v1::Account;
use secrecy::ExposeSecret;
use tracing::warn;

use super::{
    AdminApi,
    client::Endpoint,
    wire::{AccountInfo, UserSaved},
};
use crate::{AdapterError, Entity, NewAccount, Panel, Result, units};

/// Last name sent when the caller gives none: the panel requires one.
const NO_LAST_NAME: &str = "-";

impl AdminApi {
    pub(super) async fn account_info(&self, username: &str) -> Result<AccountInfo> {
        self.client
            .call(Endpoint::AccountInfo, &[("username", username)], username)
            .await
    }

    /// `suspend_user` with `state` SUSPEND, UNSUSPEND or DELETE.
    pub(super) async fn set_state(&self, username: &str, state: &str) -> Result<()> {
        let form = [("username", username), ("state", state)];
        self.client
            .run(Endpoint::SuspendUser, &form, username)
            .await
    }

    pub(super) async fn update_user(&self, username: &str, fields: &[(&str, &str)]) -> Result<()> {
        let mut form = vec![("username", username)];
        form.extend_from_slice(fields);
        self.client.run(Endpoint::UpdateUser, &form, username).await
    }

    /// `add_user`; a failure that may have left a half-made user behind
    /// removes it first.
    pub(super) async fn add_user(
        &self,
        account: &NewAccount,
        php_version: &str,
    ) -> Result<Account> {
        let first_name = account.first_name.as_deref().unwrap_or(&account.username);
        let last_name = account.last_name.as_deref().unwrap_or(NO_LAST_NAME);
        let form = [
            ("username", account.username.as_str()),
            ("first_name", first_name),
            ("last_name", last_name),
            ("email", account.email.as_str()),
            ("password", account.password.expose_secret()),
            ("pkg_id", account.package.id.as_str()),
            ("domain", account.primary_domain.as_str()),
            ("php_version", php_version),
        ];
        let saved: Result<UserSaved, _> = self
            .client
            .call(Endpoint::AddUser, &form, &account.username)
            .await;
        let saved = match saved {
            Ok(saved) => saved,
            Err(
                failure @ (AdapterError::InvalidArgument { .. }
                | AdapterError::OperationFailed { .. }
                | AdapterError::LimitReached { .. }
                | AdapterError::AlreadyExists {
                    entity: Entity::Domain,
                    ..
                }),
            ) => return Err(self.remove_half_created(&account.username, failure).await),
            Err(other) => return Err(other),
        };
        Ok(Account {
            full_name: format!("{first_name} {last_name}").trim().to_owned(),
            panel_user_id: units::as_text(&saved.user_id).unwrap_or_default(),
            ..account.as_created()
        })
    }

    /// Removes what a failed `add_user` left behind, if anything.
    /// The half-made user has no domain yet: a user with one is a whole
    /// account (someone else's), and stays.
    async fn remove_half_created(&self, username: &str, failure: AdapterError) -> AdapterError {
        match self.account_info(username).await {
            Err(AdapterError::NotFound { .. }) => failure,
            Err(err) => leftover(username, failure, &err),
            Ok(info)
                if info
                    .main_domain
                    .as_deref()
                    .is_some_and(|domain| !domain.is_empty()) =>
            {
                failure
            }
            Ok(_) => match self.delete_account(username).await {
                Ok(()) => failure,
                Err(err) => leftover(username, failure, &err),
            },
        }
    }
}

/// The failure of an `add_user` whose half-made account could not be removed.
fn leftover(username: &str, failure: AdapterError, cleanup: &AdapterError) -> AdapterError {
    warn!(%username, error = %cleanup, "could not remove a half-created account");
    let said = failure
        .upstream_message()
        .map_or_else(|| failure.to_string(), str::to_owned);
    AdapterError::OperationFailed {
        upstream: format!(
            "{said}; a partly created account `{username}` may remain on the panel (removing it failed: {cleanup})"
        ),
    }
}

//! SPanel's account calls: the `listaccounts` rows accounts are read from,
//! the account functions that take a `username`, and a create in two steps
//! (`wwwacct`, then `changeuseremail`).

use panelgate_proto::v1::Account;
use secrecy::ExposeSecret;
use serde_json::Value;
use tracing::warn;

use super::{Spanel, error::Subject, field, php_query::PhpValue};
use crate::{AccountUpdate, AdapterError, Entity, NewAccount, Result, steps::finish_create};

impl Spanel {
    /// The `listaccounts` rows, of one account when `username` is given.
    pub(super) async fn account_rows(&self, username: Option<&str>) -> Result<Vec<Value>> {
        let fields = username
            .map(|user| field("accountuser", user))
            .into_iter()
            .collect();
        let subject = Subject::new(username.unwrap_or("*"));
        self.client
            .rows("accounts/listaccounts", fields, subject)
            .await
    }

    /// The one `listaccounts` row of `username`.
    pub(super) async fn account_row(&self, username: &str) -> Result<Value> {
        self.account_rows(Some(username))
            .await?
            .into_iter()
            .find(|row| {
                row.get("user")
                    .and_then(Value::as_str)
                    .is_some_and(|user| user.eq_ignore_ascii_case(username))
            })
            .ok_or_else(|| AdapterError::NotFound {
                entity: Entity::Account,
                key: username.to_owned(),
                upstream: None,
            })
    }

    /// An admin function on one account: `username`, then `fields`;
    /// `subject_fields` map the panel's words to the request's fields.
    pub(super) async fn account_call(
        &self,
        action: &str,
        username: &str,
        mut fields: Vec<(String, PhpValue)>,
        subject_fields: &[(&str, &str)],
    ) -> Result<()> {
        fields.insert(0, field("username", username));
        let subject = Subject::new(username).with_fields(subject_fields);
        self.client.admin(action, fields, subject).await.map(drop)
    }

    /// An account function setting one panel field, `(key, value)`: the
    /// request's `request_field` in errors about it.
    pub(super) async fn set_account_field(
        &self,
        action: &str,
        username: &str,
        (key, value): (&str, &str),
        request_field: &str,
    ) -> Result<()> {
        let fields = vec![field(key, value)];
        self.account_call(action, username, fields, &[(key, request_field)])
            .await
    }

    pub(super) async fn set_email(&self, username: &str, email: &str) -> Result<()> {
        let email = ("email", email);
        self.set_account_field("accounts/changeuseremail", username, email, "email")
            .await
    }

    /// `wwwacct` with the package, then the email (wwwacct takes none); when
    /// the email fails, the account is terminated again.
    pub(super) async fn wwwacct(&self, account: &NewAccount) -> Result<Account> {
        let fields = vec![
            field("username", account.username.as_str()),
            field("domain", account.primary_domain.as_str()),
            field("password", account.password.expose_secret()),
            field("package", account.package.name.as_str()),
        ];
        let subject = Subject::new(&account.username).with_fields(&[
            ("password", "password"),
            ("package", "package"),
            ("domain", "primary_domain"),
            ("username", "username"),
        ]);
        self.client
            .admin("accounts/wwwacct", fields, subject)
            .await?;
        let email = self.set_email(&account.username, &account.email).await;
        let terminate = || {
            self.account_call(
                "accounts/terminateaccount",
                &account.username,
                Vec::new(),
                &[],
            )
        };
        finish_create(account, email, terminate, "its email").await
    }

    /// The email, then the main domain; SPanel keeps no owner names.
    pub(super) async fn update_contact(&self, update: &AccountUpdate) -> Result<()> {
        if update.first_name.is_some() || update.last_name.is_some() {
            let field = if update.first_name.is_some() {
                "first_name"
            } else {
                "last_name"
            };
            return Err(AdapterError::invalid(field, "SPanel keeps no owner names"));
        }
        if let Some(email) = &update.email {
            self.set_email(&update.username, email).await?;
        }
        if let Some(domain) = &update.primary_domain {
            let domain = ("domain", domain.as_str());
            let changed = self
                .set_account_field(
                    "accounts/changedomain",
                    &update.username,
                    domain,
                    "primary_domain",
                )
                .await;
            if let (Err(failure), Some(_)) = (&changed, &update.email) {
                warn!(username = %update.username, error = %failure, "email changed, main domain not");
            }
            changed?;
        }
        Ok(())
    }
}

//! Installatron's users: read one by one or page by page, recorded (an
//! upsert the adapter makes a create), and edited.

use panelgate_proto::v1::{Account, InstallatronWebsite, create_account_request};
use serde_json::{Value, json};

use super::{Installatron, client::Subject, mapping, websites::default_website};
use crate::{
    AccountUpdate, AdapterError, Entity, Listed, NewAccount, Result, Slice, http::UrlPath, units,
};

/// Where CreateAccount's option fields sit, for the panel's `errfield`s.
const ACCOUNT_OPTIONS: &str = "panel_options.installatron.";
/// Users read per page when searching every user.
const SEARCH_PAGE: usize = 100;

pub(super) fn user_path(username: &str) -> Result<UrlPath> {
    UrlPath::route("users").value("username", username)
}

impl Installatron {
    pub(super) async fn user(&self, username: &str) -> Result<Value> {
        let envelope = self
            .client
            .get(user_path(username)?, &[], Subject::new(username))
            .await?;
        Ok(envelope.data)
    }

    /// Sets fields of an existing user. `POST /users/{id}` would create a
    /// missing user, so the user is looked up first: an unknown one is
    /// NOT_FOUND (a user deleted between the two calls could still be made
    /// again; the panel offers no conditional edit).
    pub(super) async fn edit(&self, username: &str, body: Value) -> Result<()> {
        self.user(username).await?;
        self.save(username, body, Subject::new(username)).await
    }

    /// `POST /users/{id}` with `body`, for a user just read.
    pub(super) async fn save(
        &self,
        username: &str,
        body: Value,
        subject: Subject<'_>,
    ) -> Result<()> {
        self.client
            .post(user_path(username)?, body, subject)
            .await
            .map(drop)
    }

    /// One slice of the users.
    pub(super) async fn users(&self, slice: Slice) -> Result<Listed<Value>> {
        let query = [
            ("offset", slice.offset.to_string()),
            ("limit", slice.limit.to_string()),
        ];
        let envelope = self.client.get("users", &query, Subject::new("*")).await?;
        let users = match envelope.data {
            Value::Array(users) => users,
            _ => Vec::new(),
        };
        let total = envelope.total_count.as_ref().and_then(units::as_u64);
        let seen = slice.offset.saturating_add(users.len());
        let more = match total {
            Some(total) => (seen as u64) < total,
            None => users.len() == slice.limit,
        };
        Ok(Listed { items: users, more })
    }

    /// Every user, slice by slice.
    pub(super) async fn all_users(&self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut slice = Slice {
            offset: 0,
            limit: SEARCH_PAGE,
        };
        loop {
            let Listed { items, more } = self.users(slice).await?;
            let got = items.len();
            all.extend(items);
            if !more || got == 0 {
                return Ok(all);
            }
            slice.offset += got;
        }
    }

    /// `POST /users` with the account's websites: the given ones, or one
    /// labelled with the primary domain. The call is an upsert, so an
    /// existing user is refused first.
    pub(super) async fn create_user(&self, account: &NewAccount) -> Result<Account> {
        // Options for other kinds never get here: the gateway refuses them.
        let options = match &account.options {
            Some(create_account_request::PanelOptions::Installatron(options)) => Some(options),
            _ => None,
        };
        for (index, website) in options
            .iter()
            .flat_map(|options| &options.websites)
            .enumerate()
        {
            mapping::check_website(&format!("{ACCOUNT_OPTIONS}websites[{index}]"), website)?;
        }
        // POST /users would silently update an existing user: refuse it first.
        match self.user(&account.username).await {
            Ok(_) => {
                return Err(AdapterError::AlreadyExists {
                    entity: Entity::Account,
                    key: account.username.clone(),
                    upstream: None,
                });
            }
            Err(AdapterError::NotFound { .. }) => {}
            Err(other) => return Err(other),
        }
        let websites: Vec<InstallatronWebsite> = match options.map(|options| &options.websites) {
            Some(websites) if !websites.is_empty() => websites.clone(),
            _ => vec![default_website(&account.primary_domain, None, None)],
        };
        let mut body = json!({
            "id": account.username,
            "email": account.email,
            "package": account.package.name,
            "websites": websites.iter().map(mapping::website_json).collect::<Vec<_>>(),
        });
        if let (Some(options), Value::Object(fields)) = (options, &mut body) {
            if !options.language.is_empty() {
                fields.insert("language".into(), Value::from(options.language.as_str()));
            }
            if !options.parent.is_empty() {
                fields.insert("parent".into(), Value::from(options.parent.as_str()));
            }
        }
        let subject = Subject::new(&account.username).with_prefix(ACCOUNT_OPTIONS);
        let envelope = self.client.post("users", body, subject).await?;
        if self.client.is_dry_run() {
            return Ok(Account::default());
        }
        Ok(mapping::account(&envelope.data))
    }

    /// Installatron records only a user's email.
    pub(super) async fn update_email(&self, update: &AccountUpdate) -> Result<()> {
        for (set, field) in [
            (update.first_name.is_some(), "first_name"),
            (update.last_name.is_some(), "last_name"),
            (update.primary_domain.is_some(), "primary_domain"),
        ] {
            if set {
                return Err(AdapterError::invalid(
                    field,
                    "Installatron records only the email of a user (its domains are its websites: use AddDomain)",
                ));
            }
        }
        let Some(email) = &update.email else {
            return Ok(());
        };
        self.edit(&update.username, json!({ "email": email })).await
    }
}

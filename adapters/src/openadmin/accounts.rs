//! OpenAdmin's account calls: reading users, changing them, and the calls
//! that take more than one request (a user with its primary domain, a login
//! link by either build's route).

use std::collections::BTreeMap;

use panelgate_proto::v1::{Account, CreateLoginLinkResponse, ErrorReason};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{
    OpenAdmin, error,
    error::Subject,
    wire::{AutologinLink, UserDetail, UserList, UserListEntry, UserReply},
};
use crate::{
    AdapterError, Earlier, Entity, NewAccount, NewDomain, Panel, Result,
    earlier::created_as,
    http::UrlPath,
    steps::{delete_leaving, finish_create},
};

pub(super) fn user_path(username: &str) -> Result<UrlPath> {
    UrlPath::route("api/users").value("username", username)
}

impl OpenAdmin {
    pub(super) async fn user(&self, username: &str) -> Result<UserDetail> {
        let reply: UserReply = self
            .client
            .get(user_path(username)?, Subject::new(username))
            .await?;
        Ok(reply.user)
    }

    pub(super) async fn users(&self) -> Result<Vec<UserListEntry>> {
        let list: UserList = self.client.get("api/users", Subject::new("*")).await?;
        Ok(list.into_entries())
    }

    /// Dedicated IPs by username.
    pub(super) async fn ips(&self) -> Result<BTreeMap<String, Value>> {
        self.client.get("api/ips", Subject::new("*")).await
    }

    /// Disk quota lines by username (`GET /api/usage/disk`).
    pub(super) async fn quotas(&self, username: &str) -> Result<BTreeMap<String, Value>> {
        self.client
            .get("api/usage/disk", Subject::new(username))
            .await
    }

    pub(super) async fn patch_user(
        &self,
        username: &str,
        body: Value,
        secret: Option<&str>,
    ) -> Result<()> {
        let mut subject = Subject::new(username);
        if let Some(secret) = secret {
            subject = subject.with_secret(secret);
        }
        self.client
            .mutate(Method::PATCH, user_path(username)?, Some(&body), subject)
            .await
            .map(drop)
    }

    /// Suspends or unsuspends a user. The canonical operations are
    /// idempotent, so the panel's failure at an account already in that
    /// state is a success.
    pub(super) async fn set_suspended(&self, username: &str, suspended: bool) -> Result<()> {
        let (action, already) = if suspended {
            ("suspend", ErrorReason::AccountSuspended)
        } else {
            ("unsuspend", ErrorReason::AccountNotSuspended)
        };
        match self
            .patch_user(username, json!({"action": action}), None)
            .await
        {
            Err(AdapterError::FailedPrecondition { reason, .. }) if reason == already => Ok(()),
            other => other,
        }
    }

    async fn delete_user(&self, username: &str) -> Result<()> {
        self.client
            .mutate(
                Method::DELETE,
                user_path(username)?,
                None,
                Subject::new(username),
            )
            .await
            .map(drop)
    }

    /// Deletes a user, unsuspending it first when the panel refuses to
    /// delete a suspended one (as the vendor's own client does).
    pub(super) async fn delete_any_user(&self, username: &str) -> Result<()> {
        let unsuspend = || self.set_suspended(username, false);
        delete_leaving(
            ErrorReason::AccountSuspended,
            || self.delete_user(username),
            unsuspend,
        )
        .await
    }

    /// Creates the user, then its primary domain; when the domain fails, the
    /// user is deleted again.
    pub(super) async fn create_user(&self, account: &NewAccount) -> Result<Account> {
        let password = account.password.expose_secret();
        let body = json!({
            "email": account.email,
            "username": account.username,
            "password": password,
            "plan_name": account.package.name,
        });
        let subject = Subject::new(&account.username).with_secret(password);
        self.client
            .mutate(Method::POST, "api/users", Some(&body), subject)
            .await?;
        let domain = self.add_domain(&primary_domain(account)).await.map(drop);
        let remove = || self.delete_user(&account.username);
        finish_create(account, domain, remove, "its domain").await
    }

    /// An earlier attempt may have made the user but not its domain (the
    /// create's second step): a user with no domain and the create's email
    /// gets its domain now.
    pub(super) async fn earlier_user(&self, account: &NewAccount) -> Result<Earlier<Account>> {
        let existing = match self.get_account(&account.username).await {
            Ok(existing) => existing,
            Err(AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }) => return Ok(Earlier::Absent),
            Err(err) => return Err(err),
        };
        let half_made = existing.primary_domain.is_empty()
            && existing.email.eq_ignore_ascii_case(&account.email);
        if !half_made {
            return created_as(Ok(existing), account);
        }
        self.add_domain(&primary_domain(account)).await?;
        Ok(Earlier::Made(Account {
            primary_domain: account.primary_domain.clone(),
            ..existing
        }))
    }

    /// `POST /api/users/{u}/autologin` (Go builds), or where that route is
    /// missing, `CONNECT /api/users/{u}` (Python builds).
    pub(super) async fn login_link(&self, username: &str) -> Result<CreateLoginLinkResponse> {
        let subject = Subject::new(username);
        let path = user_path(username)?;
        let reply = self
            .client
            .send(
                Method::POST,
                path.clone().then("autologin"),
                Some(&json!({})),
                subject,
            )
            .await?;
        let reply = if matches!(
            reply.status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) && !reply_mentions(&reply.body, "user not found")
        {
            self.client.connect(&path).await?
        } else {
            reply
        };
        if !reply.status.is_success() {
            return Err(error::from_reply(&reply, subject));
        }
        // The link carries a one-time token: never quote this body in an error.
        let link: AutologinLink = serde_json::from_slice(&reply.body)
            .map_err(|_| AdapterError::protocol("autologin answered without a link", ""))?;
        Ok(CreateLoginLinkResponse {
            url: link.link,
            expire_time: None,
        })
    }
}

/// The AddDomain of a new account's primary domain.
fn primary_domain(account: &NewAccount) -> NewDomain {
    NewDomain {
        username: account.username.clone(),
        domain: account.primary_domain.clone(),
        document_root: None,
        options: None,
    }
}

/// Whether a reply's body says `words` (any case): a 404 about the user, or
/// about the API being off, is not a missing route.
pub(super) fn reply_mentions(body: &[u8], words: &str) -> bool {
    String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains(words)
}

//! The panel's table of users (with their websites and databases) and the
//! requests received, behind a mutex.
//!
//! The rows serialize exactly as `GET /users/{id}` shows them (reading 9), so
//! the HTTP answers and [`super::InstallatronSim::user`] cannot drift apart.

use std::net::SocketAddr;

use axum::Router;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::routes;
use super::{InstallatronConfig, InstallatronRequest};
use crate::server::{Shared, Simulated};

/// The main administrative user (`admin=` in settings.ini): every user's
/// parent by default (reading 10).
pub(super) const ADMIN: &str = "root";

/// The panel state shared by the handler and the [`super::InstallatronSim`] handle.
pub(super) type SharedPanel = Shared<Panel>;

/// `user` (user-level GUI) or `reseller` (administrative GUI).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum UserType {
    User,
    Reseller,
}

/// One user, its fields in the doc's order.
#[derive(Clone, Debug, Serialize)]
pub(super) struct UserRow {
    pub(super) id: String,
    pub(super) parent: String,
    #[serde(rename = "type")]
    pub(super) kind: UserType,
    pub(super) suspended: bool,
    /// The `language` input.
    pub(super) locale: String,
    pub(super) email: String,
    /// Shown only when set (reading 9).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(super) package: String,
    pub(super) websites: Vec<WebsiteRow>,
}

impl UserRow {
    /// A user with the defaults of a create (reading 10).
    pub(super) fn new(id: &str) -> UserRow {
        UserRow {
            id: id.to_owned(),
            parent: ADMIN.to_owned(),
            kind: UserType::User,
            suspended: false,
            locale: "en".to_owned(),
            email: String::new(),
            package: String::new(),
            websites: Vec::new(),
        }
    }
}

/// One website of a user. Optional fields show only when given (reading 9).
#[derive(Clone, Debug, Serialize)]
pub(super) struct WebsiteRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) label: Option<String>,
    pub(super) server: String,
    /// The website's `reseller` when given, else the user's parent.
    pub(super) parent: String,
    /// The `reseller` input, kept so the parent follows the user's otherwise.
    #[serde(skip)]
    pub(super) reseller: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) gid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) suspended: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) vhost_ip: Option<String>,
    pub(super) databases: Vec<DatabaseRow>,
    /// Site URL → docroot relative to `path`, in the order given.
    #[serde(serialize_with = "ordered_map")]
    pub(super) vhosts: Vec<(String, String)>,
}

/// One database of a website, in the doc's key order.
#[derive(Clone, Debug, Serialize)]
pub(super) struct DatabaseRow {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) host: String,
    pub(super) user: String,
    pub(super) name: String,
    pub(super) pass: String,
}

/// Pairs as a JSON object, keys in their order.
fn ordered_map<S: Serializer>(
    pairs: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(pairs.len()))?;
    for (key, value) in pairs {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// The simulated Installatron Server.
pub(super) struct Panel {
    api_key: String,
    api_key2: Option<String>,
    /// Where the panel listens: the host of login URLs when a request has no
    /// `Host` header.
    pub(super) server_addr: SocketAddr,
    /// In creation order.
    users: Vec<UserRow>,
    /// Every request that reached the API, oldest first.
    received: Vec<InstallatronRequest>,
}

impl Simulated for Panel {
    type Config = InstallatronConfig;
    const ROUTER: fn(SharedPanel) -> Router = routes::router;

    /// An empty panel with the config's keys.
    fn new(config: InstallatronConfig, server_addr: SocketAddr) -> Panel {
        Panel {
            api_key: config.api_key,
            api_key2: config.api_key2,
            server_addr,
            users: Vec::new(),
            received: Vec::new(),
        }
    }

    fn tables(&self) -> String {
        format!("{:?}", self.users)
    }
}

impl Panel {
    /// Whether `key` is the `key=` or the `key2=` value (an empty one never is).
    pub(super) fn accepts_key(&self, key: &str) -> bool {
        !key.is_empty() && (key == self.api_key || self.api_key2.as_deref() == Some(key))
    }

    /// Keeps one request for [`super::InstallatronSim::received`].
    pub(super) fn record(&mut self, request: InstallatronRequest) {
        self.received.push(request);
    }

    /// The requests received so far.
    pub(super) fn received(&self) -> &[InstallatronRequest] {
        &self.received
    }

    /// Every user, in creation order.
    pub(super) fn users(&self) -> &[UserRow] {
        &self.users
    }

    /// The user `id` (ids match exactly, reading 7).
    pub(super) fn user(&self, id: &str) -> Option<&UserRow> {
        self.users.iter().find(|user| user.id == id)
    }

    /// Stores `user`, replacing the row with its id in place or appending it.
    pub(super) fn store(&mut self, user: UserRow) {
        match self.users.iter_mut().find(|row| row.id == user.id) {
            Some(row) => *row = user,
            None => self.users.push(user),
        }
    }

    /// Removes the user `id`; false when there is none.
    pub(super) fn remove(&mut self, id: &str) -> bool {
        let before = self.users.len();
        self.users.retain(|user| user.id != id);
        self.users.len() != before
    }
}

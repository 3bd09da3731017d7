//! The public handle on a running Installatron Server simulator, and the
//! requests it received.

use super::InstallatronConfig;
use super::state::Panel;
use crate::server::{Server, handle_methods};

/// One request that reached the API (reading 17), as it came on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallatronRequest {
    /// The HTTP method as sent (before any `X-HTTP-Method-Override`).
    pub method: String,
    /// The path with its query string, e.g. `/users?offset=0&limit=50`.
    pub path: String,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Accept` header, if any.
    pub accept: Option<String>,
    /// The body exactly as it came.
    pub body: Vec<u8>,
}

impl InstallatronRequest {
    /// The body as text (bytes that are not UTF-8 become U+FFFD).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Handle on a running Installatron Server simulator; clones share the same panel.
#[derive(Clone, Debug)]
pub struct InstallatronSim {
    server: Server<Panel>,
}

impl InstallatronSim {
    handle_methods!(InstallatronConfig);

    /// `http://127.0.0.1:PORT/`: the API's base; the routes are `users`,
    /// `users/{id}` and `users/{id}/login` under it.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.server.addr)
    }

    /// Requests received: method, path (with query), content type, raw body —
    /// for asserting what reached the panel (e.g. that a dry run asked
    /// `dryrun=all`). Oldest first; refused ones included, injected faults not
    /// (reading 17).
    pub fn received(&self) -> Vec<InstallatronRequest> {
        self.server.lock().received().to_vec()
    }

    /// The user as stored, as the JSON object `GET /users/{id}` would return
    /// in `data` (reading 9), for exact comparisons; `None` if absent.
    pub fn user(&self, id: &str) -> Option<serde_json::Value> {
        let panel = self.server.lock();
        let user = panel.user(id)?;
        serde_json::to_value(user).ok()
    }

    /// Number of users stored.
    pub fn user_count(&self) -> usize {
        self.server.lock().users().len()
    }
}

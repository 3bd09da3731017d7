//! Keyset page tokens: the sort key of a page's last item, as base64 JSON.
//!
//! Tokens are opaque to callers. Each list has its own cursor shape, so a token
//! from one list is rejected by another.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{InventoryError, Page, PageRequest};

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "list", rename_all = "snake_case")]
pub(super) enum Cursor {
    /// Servers sort by name.
    Servers { name: String },
    /// Operations sort by start time (microseconds since the epoch), newest first, then id.
    Operations { started_at: i64, id: String },
    /// A sync run's findings sort by server, then username.
    Findings { server_id: String, username: String },
    /// Searched accounts sort by server, then username.
    Accounts { server_id: String, username: String },
    /// A batch's items sort by position.
    Items { position: i64 },
    /// ... or by disk used (none last), then server and username.
    AccountsByDisk {
        disk: Option<i64>,
        server_id: String,
        username: String,
    },
}

impl Cursor {
    pub(super) fn operations(started_at: DateTime<Utc>, id: &str) -> Self {
        Self::Operations {
            started_at: started_at.timestamp_micros(),
            id: id.to_owned(),
        }
    }

    fn encode(&self) -> String {
        // Serialising a plain enum of strings and integers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }
}

/// The request's cursor; none for the first page (no token, or an empty one as
/// proto3 sends).
pub(super) fn decode(page: &PageRequest) -> Result<Option<Cursor>, InventoryError> {
    let Some(token) = page.token.as_deref().filter(|token| !token.is_empty()) else {
        return Ok(None);
    };
    let json = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| InventoryError::InvalidPageToken)?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|_| InventoryError::InvalidPageToken)
}

/// Turns rows fetched with `limit = size + 1` into a page: the extra row only says
/// that another page exists.
pub(super) fn page_of<T>(mut items: Vec<T>, size: u64, cursor: impl Fn(&T) -> Cursor) -> Page<T> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let next_token = if items.len() > size {
        items.truncate(size);
        items.last().map(|last| cursor(last).encode())
    } else {
        None
    };
    Page { items, next_token }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(token: &str) -> PageRequest {
        PageRequest {
            size: 2,
            token: Some(token.to_owned()),
        }
    }

    #[test]
    fn tokens_round_trip() {
        let page = page_of(vec![1, 2, 3], 2, |n| Cursor::Servers {
            name: format!("s{n}"),
        });
        assert_eq!(page.items, [1, 2]);
        let token = page.next_token.unwrap();
        assert_eq!(
            decode(&request(&token)).unwrap(),
            Some(Cursor::Servers { name: "s2".into() })
        );
    }

    #[test]
    fn last_page_has_no_token() {
        let page = page_of(vec![1, 2], 2, |_| unreachable!());
        assert_eq!(page.next_token, None);
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(decode(&request("")).unwrap(), None);
        for token in ["!!!", "bm90IGpzb24", "eyJsaXN0IjoibW9vIn0"] {
            assert!(matches!(
                decode(&request(token)),
                Err(InventoryError::InvalidPageToken)
            ));
        }
    }
}

//! Request paths under a panel's base URL: fixed route parts, and values from
//! callers or panels (usernames, domains, service names, ids), each put in as
//! exactly one percent-encoded segment. A value that could not be one segment
//! (empty, `.`, `..`, or holding a `/`) is refused before any HTTP call: URL
//! parsers would silently drop or climb out of it (`/api/users/..` is `/api/`).

use reqwest::Url;

use crate::AdapterError;
use crate::Result;

/// A path relative to a panel's base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlPath {
    /// Segments, not yet encoded.
    segments: Vec<String>,
    /// Whether the path ends with '/' (admin_api's routes do).
    trailing_slash: bool,
}

impl UrlPath {
    /// A fixed route such as `api/users` or `admin_api/add_user/` (a trailing
    /// '/' is kept).
    pub fn route(route: &'static str) -> Self {
        let trailing_slash = route.ends_with('/');
        UrlPath {
            segments: route
                .split('/')
                .filter(|part| !part.is_empty())
                .map(str::to_owned)
                .collect(),
            trailing_slash,
        }
    }

    /// Adds `value` (the request's `field`) as one segment.
    pub fn value(mut self, field: &str, value: &str) -> Result<Self> {
        segment(field, value)?;
        self.segments.push(value.to_owned());
        self.trailing_slash = false;
        Ok(self)
    }

    /// Adds fixed segments after the values, e.g. `autologin`.
    pub fn then(mut self, route: &'static str) -> Self {
        let next = UrlPath::route(route);
        self.segments.extend(next.segments);
        self.trailing_slash = next.trailing_slash;
        self
    }

    /// This path under `base` (a URL whose path ends with '/').
    pub(super) fn under(&self, base: &Url) -> Url {
        let mut url = base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(&self.segments);
            if self.trailing_slash {
                segments.push("");
            }
        }
        url
    }
}

impl From<&'static str> for UrlPath {
    fn from(route: &'static str) -> Self {
        UrlPath::route(route)
    }
}

/// Checks that `value` can be one path segment: not empty, not `.` or `..`,
/// without '/'; INVALID_ARGUMENT on `field` otherwise.
fn segment(field: &str, value: &str) -> Result<()> {
    let refused = match value {
        "" => Some("must not be empty"),
        "." | ".." => Some("must not be `.` or `..`"),
        _ if value.contains(['/', '\\']) => Some("must not contain '/' or '\\'"),
        _ => None,
    };
    match refused {
        Some(reason) => Err(AdapterError::invalid(field, reason)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://panel.example:2087/prefix/").unwrap()
    }

    #[test]
    fn routes_and_values_make_segments() {
        let path = UrlPath::route("api/users")
            .value("username", "bob")
            .unwrap()
            .then("autologin");
        assert_eq!(
            path.under(&base()).as_str(),
            "https://panel.example:2087/prefix/api/users/bob/autologin"
        );
        assert_eq!(
            UrlPath::route("admin_api/add_user/")
                .under(&base())
                .as_str(),
            "https://panel.example:2087/prefix/admin_api/add_user/"
        );
        assert_eq!(
            UrlPath::route("api.php").under(&base()).path(),
            "/prefix/api.php"
        );
    }

    #[test]
    fn values_are_encoded_as_one_segment() {
        for (value, encoded) in [
            ("a b", "a%20b"),
            ("%2e%2e", "%252e%252e"),
            ("a?b#c", "a%3Fb%23c"),
            ("bob@example.com", "bob@example.com"),
        ] {
            let url = UrlPath::route("api/users")
                .value("username", value)
                .unwrap()
                .under(&base());
            assert_eq!(
                url.path(),
                format!("/prefix/api/users/{encoded}"),
                "{value}"
            );
        }
    }

    #[test]
    fn values_that_are_not_one_segment_are_refused() {
        for value in ["", ".", "..", "a/b", "../etc", "a\\b"] {
            let refused = UrlPath::route("api/users").value("username", value);
            assert!(
                matches!(&refused, Err(AdapterError::InvalidArgument { field, .. }) if field == "username"),
                "{value}: {refused:?}"
            );
        }
    }
}

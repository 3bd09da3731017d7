//! admin_api failure messages → [`AdapterError`]. The panel's documented strings
//! and its code's variants differ in wording and punctuation, so messages are
//! matched by meaning (lowercase fragments), not verbatim.

use super::client::Endpoint;
use crate::{AdapterError, Entity};

/// Classifies a failure message of `endpoint`; `subject` is the call's main
/// name, used when the message names nothing itself.
pub(super) fn classify(endpoint: Endpoint, subject: &str, message: &str) -> AdapterError {
    let text = message.to_ascii_lowercase();
    let upstream = Some(message.to_owned());
    let key = quoted_name(message).unwrap_or(subject).to_owned();

    if text.contains("invalid credentials")
        || text.contains("invalid admin credentials")
        || text.contains("username and password required")
        || text.contains("password/apikey required")
    {
        return AdapterError::CredentialsRejected { upstream };
    }
    if text.contains("api is currently disabled") {
        return AdapterError::FailedPrecondition {
            reason: "PANEL_API_DISABLED",
            message: "the panel's API is switched off".into(),
            upstream,
        };
    }
    if text.contains("must be suspended before deletion") {
        return AdapterError::FailedPrecondition {
            reason: "ACCOUNT_NOT_SUSPENDED",
            message: format!("account `{key}` must be suspended before deletion"),
            upstream,
        };
    }
    if endpoint == Endpoint::AccountInfo && text.starts_with("package not found") {
        return AdapterError::FailedPrecondition {
            reason: "ACCOUNT_HAS_NO_PACKAGE",
            message: format!("account `{subject}` has no package on the panel"),
            upstream,
        };
    }
    if endpoint == Endpoint::DatabaseAdd
        && let Some(error) = mysql_duplicate(&text, subject, upstream.clone())
    {
        return error;
    }
    if text.contains("already exists") {
        return AdapterError::AlreadyExists {
            entity: entity_named(&text).unwrap_or(Entity::Account),
            key,
            upstream,
        };
    }
    if text.contains("limit exceeded") {
        return AdapterError::LimitReached {
            upstream: message.to_owned(),
        };
    }
    if text.contains("not found") || text.contains("does not exist") {
        return AdapterError::NotFound {
            entity: entity_named(&text).unwrap_or(Entity::Account),
            key,
            upstream,
        };
    }
    if let Some(field) = invalid_field(endpoint, &text) {
        return AdapterError::refused_field(field, message);
    }
    if text.contains("failed to issue ssl") {
        return AdapterError::FailedPrecondition {
            reason: "CERTIFICATE_NOT_ISSUED",
            message: format!("the panel could not issue a certificate for `{key}`"),
            upstream,
        };
    }
    if text.contains("required") || text.contains("unknown state") {
        // panelgate validates every field first: the panel reading our request
        // differently is a protocol mismatch, not the caller's fault.
        return AdapterError::protocol(
            format!("the panel refused panelgate's request: {message}"),
            "",
        );
    }
    AdapterError::OperationFailed {
        upstream: message.to_owned(),
    }
}

/// database_add passes MySQL's own errors through: 1007 (the database exists)
/// and 1396 (CREATE USER of an existing user). `subject` is the database name.
fn mysql_duplicate(text: &str, subject: &str, upstream: Option<String>) -> Option<AdapterError> {
    if text.contains("(1007") || text.contains("database exists") {
        return Some(AdapterError::AlreadyExists {
            entity: Entity::Database,
            key: subject.to_owned(),
            upstream,
        });
    }
    if text.contains("(1396") {
        let user = text
            .split_once("for '")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map_or(subject, |(user, _)| user);
        return Some(AdapterError::AlreadyExists {
            entity: Entity::DatabaseUser,
            key: user.to_owned(),
            upstream,
        });
    }
    None
}

/// The canonical field a validation message is about, per endpoint.
fn invalid_field(endpoint: Endpoint, text: &str) -> Option<&'static str> {
    if text.contains("invalid package id") {
        return Some("package");
    }
    if text.contains("invalid domain format") {
        return Some(match endpoint {
            Endpoint::AddUser => "primary_domain",
            _ => "domain",
        });
    }
    if endpoint == Endpoint::DatabaseAdd {
        if text.contains("database username") {
            return Some("database_user");
        }
        if text.contains("password") {
            return Some("database_password");
        }
    }
    None
}

/// The entity a message names, by its first noun.
fn entity_named(text: &str) -> Option<Entity> {
    [
        ("database", Entity::Database),
        ("domain", Entity::Domain),
        ("package", Entity::Package),
        ("user", Entity::Account),
    ]
    .into_iter()
    .filter_map(|(word, entity)| text.find(word).map(|at| (at, entity)))
    .min_by_key(|(at, _)| *at)
    .map(|(_, entity)| entity)
}

/// The name between single quotes, as in "User 'bob' does not exist."
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('\'')? + 1;
    let len = message[start..].find('\'')?;
    Some(&message[start..start + len]).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error string of the source doc and of the panel's code, with the
    /// endpoint that sends it and what it must become.
    #[test]
    fn every_documented_message_maps_to_its_canonical_error() {
        use Endpoint::*;
        let cases: &[(Endpoint, &str, &str)] = &[
            // guard (every endpoint)
            (AccountInfo, "Invalid credentials", "credentials"),
            (PackagesList, "Invalid admin credentials", "credentials"),
            (AddUser, "Username and password required", "credentials"),
            (
                AddUser,
                "Username and password/apikey required",
                "credentials",
            ),
            (
                AddUser,
                "API is currently disabled",
                "precondition PANEL_API_DISABLED",
            ),
            (AccountInfo, "POST method required", "protocol"),
            (DatabaseAdd, "POST method required", "protocol"),
            // account info
            (AccountInfo, "Username is required", "protocol"),
            (AccountInfo, "User not found", "not_found account bob"),
            (
                AccountInfo,
                "Package not found",
                "precondition ACCOUNT_HAS_NO_PACKAGE",
            ),
            // add_user
            (AddUser, "All fields are required", "protocol"),
            (
                AddUser,
                "A username with the same name already exists",
                "exists account bob",
            ),
            (AddUser, "Invalid package ID", "invalid package"),
            (AddUser, "Domain creation failed message", "failed"),
            (AddUser, "Invalid domain format.", "invalid primary_domain"),
            (
                AddUser,
                "The domain 'taken.com' already exists.",
                "exists domain taken.com",
            ),
            // suspend_user
            (SuspendUser, "Username and state are required", "protocol"),
            (
                SuspendUser,
                "User 'bob' does not exist.",
                "not_found account bob",
            ),
            (
                SuspendUser,
                "User 'bob' must be suspended before deletion.",
                "precondition ACCOUNT_NOT_SUSPENDED",
            ),
            (
                SuspendUser,
                "Unknown state 'XYZ'. Use SUSPEND, UNSUSPEND or DELETE.",
                "protocol",
            ),
            // update_user
            (UpdateUser, "Username is required", "protocol"),
            (
                UpdateUser,
                "User with username 'bob' not found.",
                "not_found account bob",
            ),
            // new_package
            (NewPackage, "Package name is required", "protocol"),
            (
                NewPackage,
                "A package with the same name already exists.",
                "exists package bob",
            ),
            // issue_ssl
            (IssueSsl, "Domain name is required.", "protocol"),
            (IssueSsl, "Domain name is required", "protocol"),
            (
                IssueSsl,
                "Domain 'example.com' not found.",
                "not_found domain example.com",
            ),
            (
                IssueSsl,
                "Failed to issue SSL for 'example.com'.",
                "precondition CERTIFICATE_NOT_ISSUED",
            ),
            // add_domain
            (
                AddDomain,
                "Username, domain, and php_version are required.",
                "protocol",
            ),
            (
                AddDomain,
                "User 'johndoe' not found.",
                "not_found account johndoe",
            ),
            (AddDomain, "Invalid domain format.", "invalid domain"),
            (
                AddDomain,
                "The domain 'example.com' already exists.",
                "exists domain example.com",
            ),
            (AddDomain, "Domain add limit exceeded.", "limit"),
            (
                AddDomain,
                "Failed to add mapping for 'example.com'.",
                "failed",
            ),
            (
                AddDomain,
                "Failed to add virtual host for 'example.com'.",
                "failed",
            ),
            (
                AddDomain,
                "Failed to set folder permissions for 'example.com'.",
                "failed",
            ),
            // database_add
            (DatabaseAdd, "All fields are required.", "protocol"),
            (
                DatabaseAdd,
                "Username 'johndoe' does not exist.",
                "not_found account johndoe",
            ),
            (
                DatabaseAdd,
                "Database username must be at least 2 characters long.",
                "invalid database_user",
            ),
            (
                DatabaseAdd,
                "Password must be at least 8 characters long.",
                "invalid database_password",
            ),
            (
                DatabaseAdd,
                "Passwords do not match.",
                "invalid database_password",
            ),
            (
                DatabaseAdd,
                "Some error message from database creation function",
                "failed",
            ),
            // sso_login
            (SsoLogin, "Username are required.", "protocol"),
            (SsoLogin, "Username is required", "protocol"),
            (
                SsoLogin,
                "User with username 'bob' not found.",
                "not_found account bob",
            ),
        ];
        for (endpoint, message, expected) in cases {
            let got = summary(&classify(*endpoint, "bob", message));
            assert_eq!(&got, expected, "{endpoint:?}: {message}");
        }
    }

    fn summary(error: &AdapterError) -> String {
        match error {
            AdapterError::CredentialsRejected { .. } => "credentials".into(),
            AdapterError::FailedPrecondition { reason, .. } => format!("precondition {reason}"),
            AdapterError::Protocol { .. } => "protocol".into(),
            AdapterError::NotFound { entity, key, .. } => format!("not_found {entity} {key}"),
            AdapterError::AlreadyExists { entity, key, .. } => format!("exists {entity} {key}"),
            AdapterError::InvalidArgument { field, .. } => format!("invalid {field}"),
            AdapterError::LimitReached { .. } => "limit".into(),
            AdapterError::OperationFailed { .. } => "failed".into(),
            other => format!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_panels_words_are_kept_for_the_caller() {
        let error = classify(Endpoint::AddDomain, "x.com", "Domain add limit exceeded.");
        assert_eq!(error.upstream_message(), Some("Domain add limit exceeded."));
    }
}

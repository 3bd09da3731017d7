//! admin_api failure messages → [`AdapterError`], by the table of the panel's
//! documented errors ([`ERRORS`]). The panel answers every failure with HTTP
//! 200 and its words under `error` or `message`; its documented strings and
//! its code's variants differ in wording and punctuation, so rows match by
//! meaning (lowercase words), first match winning.

use panelgate_proto::Capability;
use panelgate_proto::v1::ErrorReason;

use super::client::Endpoint;
use crate::{
    AdapterError, Entity,
    documented::{self, Context, Documented, Failure, Field, Meaning, in_words as row},
};

/// Every error of the source doc and of the panel's code, first match
/// winning, with the reply that documents it.
#[rustfmt::skip]
pub const ERRORS: &[Documented] = &[
    // The guard every endpoint runs first.
    row(&[], &["invalid credentials"], Meaning::Credentials, r#"{"error": "Invalid credentials"}"#, Capability::GetAccount),
    row(&[], &["invalid admin credentials"], Meaning::Credentials, r#"{"success": false, "message": "Invalid admin credentials"}"#, Capability::GetPackage),
    row(&[], &["username and password required"], Meaning::Credentials, r#"{"error": "Username and password required"}"#, Capability::GetAccount),
    row(&[], &["username and password/apikey required"], Meaning::Credentials, r#"{"error": "Username and password/apikey required"}"#, Capability::GetAccount),
    row(&[], &["api is currently disabled"], Meaning::Precondition(ErrorReason::PanelApiDisabled, "the panel's API is switched off"), r#"{"error": "API is currently disabled"}"#, Capability::GetAccount),
    // Account state.
    row(&["suspend_user"], &["must be suspended before deletion"], Meaning::Precondition(ErrorReason::AccountNotSuspended, "account `{}` must be suspended before deletion"), r#"{"success": false, "message": "User 'mia' must be suspended before deletion."}"#, Capability::SuspendAccount),
    row(&["account_info"], &["package not found"], Meaning::Precondition(ErrorReason::AccountHasNoPackage, "account `{}` has no package on the panel"), r#"{"error": "Package not found"}"#, Capability::GetAccount),
    // Duplicates; database_add passes MySQL's own errors through.
    row(&["database_add"], &["(1007"], Meaning::AlreadyExists(Entity::Database), r#"{"success": false, "error": "(1007, \"Can't create database 'mia_shop'; database exists\")"}"#, Capability::CreateDatabase),
    row(&["database_add"], &["(1396"], Meaning::AlreadyExists(Entity::DatabaseUser), r#"{"success": false, "error": "(1396, \"Operation CREATE USER failed for 'mia_shopuser'@'localhost'\")"}"#, Capability::CreateDatabase),
    row(&["add_user"], &["username with the same name already exists"], Meaning::AlreadyExists(Entity::Account), r#"{"success": false, "message": "A username with the same name already exists"}"#, Capability::CreateAccount),
    row(&["add_user", "add_domain"], &["domain", "already exists"], Meaning::AlreadyExists(Entity::Domain), r#"{"success": false, "message": "The domain 'shop.mia.example' already exists."}"#, Capability::AddDomain),
    row(&["new_package"], &["package with the same name already exists"], Meaning::AlreadyExists(Entity::Package), r#"{"success": false, "message": "A package with the same name already exists."}"#, Capability::CreatePackage),
    // Limits.
    row(&["add_domain"], &["limit exceeded"], Meaning::Limit, r#"{"success": false, "message": "Domain add limit exceeded."}"#, Capability::AddDomain),
    // Things that are not there.
    row(&["issue_ssl"], &["domain", "not found"], Meaning::NotFound(Entity::Domain), r#"{"success": false, "message": "Domain 'mia.example' not found."}"#, Capability::IssueCertificate),
    row(&["account_info"], &["user not found"], Meaning::NotFound(Entity::Account), r#"{"error": "User not found"}"#, Capability::GetAccount),
    row(&[], &["user", "does not exist"], Meaning::NotFound(Entity::Account), r#"{"success": false, "message": "User 'mia' does not exist."}"#, Capability::SuspendAccount),
    row(&[], &["user", "not found"], Meaning::NotFound(Entity::Account), r#"{"success": false, "message": "User with username 'mia' not found."}"#, Capability::UpdateAccount),
    // Fields the panel checks itself.
    row(&["add_user"], &["invalid package id"], Meaning::Invalid(Field::Is("package")), r#"{"success": false, "message": "Invalid package ID"}"#, Capability::CreateAccount),
    row(&["add_user"], &["invalid domain format"], Meaning::Invalid(Field::Is("primary_domain")), r#"{"success": false, "message": "Invalid domain format."}"#, Capability::CreateAccount),
    row(&["add_domain"], &["invalid domain format"], Meaning::Invalid(Field::Is("domain")), r#"{"success": false, "message": "Invalid domain format."}"#, Capability::AddDomain),
    row(&["database_add"], &["database username"], Meaning::Invalid(Field::Is("database_user")), r#"{"success": false, "error": "Database username must be at least 2 characters long."}"#, Capability::CreateDatabase),
    row(&["database_add"], &["password must be at least"], Meaning::Invalid(Field::Is("database_password")), r#"{"success": false, "error": "Password must be at least 8 characters long."}"#, Capability::CreateDatabase),
    row(&["database_add"], &["passwords do not match"], Meaning::Invalid(Field::Is("database_password")), r#"{"success": false, "error": "Passwords do not match."}"#, Capability::CreateDatabase),
    // Certificates.
    row(&["issue_ssl"], &["failed to issue ssl"], Meaning::Precondition(ErrorReason::CertificateNotIssued, "the panel could not issue a certificate for `{}`"), r#"{"success": false, "message": "Failed to issue SSL for 'mia.example'."}"#, Capability::IssueCertificate),
    // What panelgate checks first: the panel reading a request differently.
    row(&[], &["post method required"], Meaning::Refused, r#"{"error": "POST method required"}"#, Capability::GetAccount),
    row(&[], &["required"], Meaning::Refused, r#"{"success": false, "message": "All fields are required"}"#, Capability::CreateAccount),
    row(&[], &["unknown state"], Meaning::Refused, r#"{"success": false, "message": "Unknown state 'XYZ'. Use SUSPEND, UNSUSPEND or DELETE."}"#, Capability::SuspendAccount),
];

/// Classifies a failure message of `endpoint`; `subject` is the call's main
/// name, used when the message quotes no name itself. A message no row
/// reads is the panel failing in its own words.
pub(super) fn classify(endpoint: Endpoint, subject: &str, message: &str) -> AdapterError {
    let text = message.to_ascii_lowercase();
    let failure = Failure {
        on: endpoint.name(),
        status: 200,
        errcode: None,
        text: &text,
    };
    match documented::find(ERRORS, &failure) {
        Some(row) => row.means.error(Context {
            key: quoted_name(message).unwrap_or(subject),
            field: "",
            said: message,
        }),
        None => AdapterError::OperationFailed {
            upstream: message.to_owned(),
        },
    }
}

/// The name between single quotes, as in "User 'bob' does not exist.".
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('\'')? + 1;
    let len = message[start..].find('\'')?;
    Some(&message[start..start + len]).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_message_or_the_call() {
        let error = classify(
            Endpoint::DatabaseAdd,
            "mia",
            "(1396, \"Operation CREATE USER failed for 'mia_x'@'localhost'\")",
        );
        assert!(
            matches!(&error, AdapterError::AlreadyExists { entity: Entity::DatabaseUser, key, .. } if key == "mia_x"),
            "{error:?}"
        );
        let error = classify(Endpoint::AccountInfo, "mia", "User not found");
        assert!(matches!(&error, AdapterError::NotFound { key, .. } if key == "mia"));
        let error = classify(
            Endpoint::AddDomain,
            "x.com",
            "Failed to add mapping for 'x.com'.",
        );
        assert!(matches!(error, AdapterError::OperationFailed { .. }));
        assert_eq!(
            classify(Endpoint::AddDomain, "x.com", "Domain add limit exceeded.").upstream_message(),
            Some("Domain add limit exceeded.")
        );
    }
}

//! SPanel failures → [`AdapterError`], by the table of the panel's documented
//! errors ([`ERRORS`]). The panel answers HTTP 200 with `{"result": "error",
//! "message": [...]}` (an array of sentences, sometimes a single string); the
//! first sentence decides, all of them are kept as the panel's words.

use panelgate_proto::Capability;
use panelgate_proto::v1::ErrorReason;
use serde_json::Value;

use crate::{
    AdapterError, Entity,
    documented::{self, Context, Documented, Failure, Field, Meaning, in_words as row},
};

/// What a call is about: the name to report, and how the panel's field
/// words map to the canonical request fields of this call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Subject<'a> {
    pub key: &'a str,
    /// (word in the panel's message, canonical field), first match wins.
    pub fields: &'a [(&'a str, &'a str)],
    /// The account a user function runs as (`accountuser`).
    pub account: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn new(key: &'a str) -> Self {
        Subject {
            key,
            fields: &[],
            account: None,
        }
    }

    pub fn of_account(self, account: &'a str) -> Self {
        Subject {
            account: Some(account),
            ..self
        }
    }

    pub fn with_fields(self, fields: &'a [(&'a str, &'a str)]) -> Self {
        Subject { fields, ..self }
    }
}

/// The sentences of an error reply's `message`.
pub(super) fn sentences(body: &Value) -> Vec<String> {
    match body.get("message") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .or_else(|| (!item.is_null()).then(|| item.to_string()))
            })
            .collect(),
        Some(Value::String(text)) => vec![text.clone()],
        Some(other) if !other.is_null() => vec![other.to_string()],
        _ => Vec::new(),
    }
}

const INVALID: Meaning = Meaning::Invalid(Field::OfCall);
const SSO_DISABLED: Meaning = Meaning::Precondition(
    ErrorReason::PanelSsoDisabled,
    "the server's SPanel API token has no SSO option: enable it in SPanel, or use a token that has it",
);
const WONT_REMOVE: Meaning = Meaning::Precondition(ErrorReason::PanelRefused, "{said}");

/// Every documented error of the panel (its doc pages and known clients),
/// first match winning, with the reply that documents it.
#[rustfmt::skip]
pub const ERRORS: &[Documented] = &[
    // The token and the call itself.
    row(&[], &["invalid api token"], Meaning::Credentials, r#"{"result": "error", "message": ["Invalid API token"]}"#, Capability::GetAccount),
    row(&[], &["invalid token"], Meaning::Credentials, r#"{"result": "error", "message": "Invalid token"}"#, Capability::GetAccount),
    row(&[], &["token is not valid"], Meaning::Credentials, r#"{"result": "error", "message": ["The token is not valid"]}"#, Capability::GetPackage),
    row(&[], &["invalid accountuser"], Meaning::NotFound(Entity::Account), r#"{"result": "error", "message": ["Invalid accountuser"]}"#, Capability::CreateDatabase),
    row(&[], &["sso is not enabled"], SSO_DISABLED, r#"{"result": "error", "message": ["SSO is not enabled for this API token"]}"#, Capability::CreateLoginLink),
    row(&[], &["unknown action"], Meaning::Refused, r#"{"result": "error", "message": ["Unknown action accounts/nosuch"]}"#, Capability::GetAccount),
    row(&[], &["no action specified"], Meaning::Refused, r#"{"result": "error", "message": ["No action specified"]}"#, Capability::GetAccount),
    row(&[], &["accountuser parameter is required"], Meaning::Refused, r#"{"result": "error", "message": ["The accountuser parameter is required for user functions"]}"#, Capability::AddDomain),
    // Things that are not there.
    row(&[], &["database user", "does not exist"], Meaning::NotFound(Entity::DatabaseUser), r#"{"result": "error", "message": ["The database user mia_shopuser does not exist"]}"#, Capability::CreateDatabase),
    row(&[], &["package", "does not exist"], Meaning::NotFound(Entity::Package), r#"{"result": "error", "message": ["The package pro does not exist"]}"#, Capability::ChangePackage),
    row(&[], &["admin user", "does not exist"], Meaning::NotFound(Entity::Account), r#"{"result": "error", "message": ["The admin user mia does not exist"]}"#, Capability::CreateLoginLink),
    row(&[], &["account", "does not exist"], Meaning::NotFound(Entity::Account), r#"{"result": "error", "message": ["The account mia does not exist"]}"#, Capability::SuspendAccount),
    row(&[], &["does not belong to"], Meaning::NotFound(Entity::Domain), r#"{"result": "error", "message": ["The domain shop.other.example does not belong to this account"]}"#, Capability::DeleteDomain),
    // Duplicates.
    row(&["mysql/createmysqluser"], &["username", "already exists"], Meaning::AlreadyExists(Entity::DatabaseUser), r#"{"result": "error", "message": ["The username mia_shopuser already exists"]}"#, Capability::CreateDatabase),
    row(&[], &["username", "already taken"], Meaning::AlreadyExists(Entity::Account), r#"{"result": "error", "message": ["The username mia is already taken"]}"#, Capability::CreateAccount),
    row(&[], &["admin user", "already exists"], Meaning::AlreadyExists(Entity::Account), r#"{"result": "error", "message": ["An admin user with the username miaadmin already exists"]}"#, Capability::CreatePanelAdmin),
    row(&[], &["domain", "already exists"], Meaning::AlreadyExists(Entity::Domain), r#"{"result": "error", "message": ["The subdomain shop.mia.example already exists"]}"#, Capability::AddDomain),
    row(&[], &["database", "already exists"], Meaning::AlreadyExists(Entity::Database), r#"{"result": "error", "message": ["The database mia_shop already exists"]}"#, Capability::CreateDatabase),
    row(&[], &["package", "already exists"], Meaning::AlreadyExists(Entity::Package), r#"{"result": "error", "message": ["The package pkg-mia already exists"]}"#, Capability::CreatePackage),
    // The documented minimums and other field rules, before any "limit".
    row(&[], &["minimum", "quota"], Meaning::Invalid(Field::Is("limits.disk_mib")), r#"{"result": "error", "message": ["Minimum quota limit is 100"]}"#, Capability::CreatePackage),
    row(&[], &["disk quota must be at least"], Meaning::Invalid(Field::Is("limits.disk_mib")), r#"{"result": "error", "message": ["The disk quota must be at least 100 MB"]}"#, Capability::CreatePackage),
    row(&[], &["minimum", "inodes"], Meaning::Invalid(Field::Is("limits.inodes")), r#"{"result": "error", "message": ["Minimum inodes limit is 10000"]}"#, Capability::CreatePackage),
    row(&[], &["inodes limit must be at least"], Meaning::Invalid(Field::Is("limits.inodes")), r#"{"result": "error", "message": ["The inodes limit must be at least 10000"]}"#, Capability::CreatePackage),
    row(&[], &["should be at least"], INVALID, r#"{"result": "error", "message": ["The password should be at least 8 symbols"]}"#, Capability::ChangePassword),
    row(&[], &["must be"], INVALID, r#"{"result": "error", "message": ["The password must be at least 8 characters long"]}"#, Capability::ChangePassword),
    row(&[], &["is not a valid"], INVALID, r#"{"result": "error", "message": ["The domain mia.example is not a valid domain name"]}"#, Capability::CreateAccount),
    row(&[], &["is not valid"], INVALID, r#"{"result": "error", "message": ["The email address mia@mail.example is not valid"]}"#, Capability::UpdateAccount),
    row(&[], &["may contain only"], INVALID, r#"{"result": "error", "message": ["The subdomain shop may contain only letters, digits and hyphens"]}"#, Capability::AddDomain),
    row(&[], &["is required"], INVALID, r#"{"result": "error", "message": ["The password field is required"]}"#, Capability::ChangePassword),
    row(&[], &["unknown permission"], INVALID, r#"{"result": "error", "message": ["Unknown permission category: billing"]}"#, Capability::CreatePanelAdmin),
    // Limits.
    row(&[], &["maximum number"], Meaning::Limit, r#"{"result": "error", "message": ["You have reached the maximum number of databases (5)"]}"#, Capability::CreateDatabase),
    row(&[], &["is disabled for this account"], Meaning::Limit, r#"{"result": "error", "message": ["Database creation is disabled for this account"]}"#, Capability::CreateDatabase),
    row(&[], &["limit", "reached"], Meaning::Limit, r#"{"result": "error", "message": ["The subdomains limit has been reached"]}"#, Capability::AddDomain),
    // What the panel will not do.
    row(&[], &["cannot be removed"], WONT_REMOVE, r#"{"result": "error", "message": ["The main domain mia.example cannot be removed"]}"#, Capability::DeleteDomain),
];

/// An error reply of `action`: its first sentence read by [`ERRORS`], all of
/// them kept as the panel's words. A field rule naming no field of this
/// call is the panel refusing what panelgate sent; a sentence no row reads
/// is the panel failing in its own words.
pub(super) fn classify(action: &str, sentences: &[String], subject: Subject<'_>) -> AdapterError {
    let said = if sentences.is_empty() {
        "the panel reported an error without a message".to_owned()
    } else {
        sentences.join("; ")
    };
    let first = sentences
        .first()
        .map(|text| text.to_ascii_lowercase())
        .unwrap_or_default();
    let failure = Failure {
        on: action,
        status: 200,
        errcode: None,
        text: &first,
    };
    let Some(row) = documented::find(ERRORS, &failure) else {
        return AdapterError::OperationFailed { upstream: said };
    };
    let field = subject
        .fields
        .iter()
        .find(|(word, _)| first.contains(word))
        .map(|(_, field)| *field);
    let means = match (row.means, field) {
        (Meaning::Invalid(Field::OfCall), None) => Meaning::Refused,
        (means, _) => means,
    };
    let key = match means {
        Meaning::NotFound(Entity::Account) => subject.account.unwrap_or(subject.key),
        _ => subject.key,
    };
    means.error(Context {
        key,
        field: field.unwrap_or_default(),
        said: &said,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn error_arrays_are_joined_and_the_first_sentence_decides() {
        let body = json!({"result": "error", "message": ["The password must be at least 8 characters long", "The email field is required"]});
        let error = classify(
            "accounts/wwwacct",
            &sentences(&body),
            Subject::new("bob").with_fields(&[("password", "password")]),
        );
        assert!(
            matches!(&error, AdapterError::InvalidArgument { field, reason, .. }
            if field == "password" && reason.contains("; The email field is required"))
        );
        assert_eq!(
            sentences(&json!({"message": "Just one"})),
            vec!["Just one".to_owned()]
        );
    }

    #[test]
    fn names_and_fields_come_from_the_call() {
        let error = classify(
            "mysql/createmysqldatabase",
            &["Invalid accountuser".to_owned()],
            Subject::new("shop").of_account("bob"),
        );
        assert!(
            matches!(&error, AdapterError::NotFound { entity: Entity::Account, key, .. } if key == "bob")
        );
        let error = classify(
            "accounts/changeuserpassword",
            &["The disk quota must be at least 100 MB".to_owned()],
            Subject::new("bob"),
        );
        assert!(
            matches!(&error, AdapterError::InvalidArgument { field, .. } if field == "limits.disk_mib")
        );
        let error = classify(
            "accounts/wwwacct",
            &["The hostname x is not valid".to_owned()],
            Subject::new("bob"),
        );
        assert!(
            matches!(error, AdapterError::OperationFailed { .. }),
            "no field of the call: refused"
        );
        let error = classify(
            "accounts/wwwacct",
            &["Database connection failed".to_owned()],
            Subject::new("bob"),
        );
        assert!(matches!(error, AdapterError::OperationFailed { .. }));
    }
}

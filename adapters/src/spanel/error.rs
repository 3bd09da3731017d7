//! SPanel failures → [`AdapterError`]. The panel answers HTTP 200 with
//! `{"result": "error", "message": [...]}` (an array of sentences, sometimes
//! a single string); the first sentence decides the kind, all of them are kept
//! as the panel's words.

use serde_json::Value;

use crate::{AdapterError, Entity};

/// What a call is about: the entity and name to report, and how the panel's
/// field words map to the canonical request fields of this call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Subject<'a> {
    pub entity: Entity,
    pub key: &'a str,
    /// (word in the panel's message, canonical field), first match wins.
    pub fields: &'a [(&'a str, &'a str)],
    /// The account a user function runs as (`accountuser`).
    pub account: Option<&'a str>,
}

impl<'a> Subject<'a> {
    pub fn new(entity: Entity, key: &'a str) -> Self {
        Subject {
            entity,
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

/// An error reply.
pub(super) fn classify(sentences: &[String], subject: Subject<'_>) -> AdapterError {
    let said = if sentences.is_empty() {
        "the panel reported an error without a message".to_owned()
    } else {
        sentences.join("; ")
    };
    let first = sentences
        .first()
        .map(|text| text.to_ascii_lowercase())
        .unwrap_or_default();
    let upstream = Some(said.clone());
    let entity = || named_entity(&first).unwrap_or(subject.entity);

    if first.contains("invalid api token")
        || first.contains("invalid token")
        || first.contains("token is not valid")
    {
        return AdapterError::CredentialsRejected { upstream };
    }
    if first.contains("invalid accountuser") {
        return AdapterError::NotFound {
            entity: Entity::Account,
            key: subject.account.unwrap_or(subject.key).to_owned(),
            upstream,
        };
    }
    if first.contains("sso is not enabled") {
        return AdapterError::FailedPrecondition {
            reason: "PANEL_SSO_DISABLED",
            message: "the server's SPanel API token has no SSO option: enable it in SPanel, or use a token that has it".into(),
            upstream,
        };
    }
    if first.contains("unknown action") {
        return AdapterError::protocol(
            format!("the panel does not know this action (an older SPanel?): {said}"),
            "",
        );
    }
    if first.contains("does not exist")
        || first.contains("not found")
        || first.contains("does not belong to")
    {
        return AdapterError::NotFound {
            entity: entity(),
            key: subject.key.to_owned(),
            upstream,
        };
    }
    if first.contains("already exists")
        || first.contains("already taken")
        || first.contains("already in use")
    {
        return AdapterError::AlreadyExists {
            entity: entity(),
            key: subject.key.to_owned(),
            upstream,
        };
    }
    if first.contains("limit")
        || first.contains("maximum number")
        || first.contains("is disabled for this account")
    {
        return AdapterError::LimitReached { upstream: said };
    }
    if first.contains("cannot be removed") {
        return AdapterError::FailedPrecondition {
            reason: "PANEL_REFUSED",
            message: said.clone(),
            upstream,
        };
    }
    let validation = [
        "must be",
        "is not valid",
        "is not a valid",
        "may contain only",
        "is required",
        "too long",
        "whole number",
        "invalid",
        "unknown permission",
    ];
    if validation.iter().any(|word| first.contains(word)) {
        if let Some((_, field)) = subject.fields.iter().find(|(word, _)| first.contains(word)) {
            return AdapterError::refused_field(*field, said);
        }
        return AdapterError::protocol(
            format!("the panel refused panelgate's request: {said}"),
            "",
        );
    }
    AdapterError::OperationFailed { upstream: said }
}

/// The entity a sentence is about, by the first noun it names. "username"
/// names no entity: the panel says it of accounts and of database users alike
/// ("The username shop_db already exists"), so the call's subject decides.
fn named_entity(text: &str) -> Option<Entity> {
    [
        ("database user", Entity::DatabaseUser),
        ("database", Entity::Database),
        ("subdomain", Entity::Domain),
        ("domain", Entity::Domain),
        ("package", Entity::Package),
        ("admin user", Entity::Account),
        ("account", Entity::Account),
    ]
    .into_iter()
    .filter_map(|(word, entity)| text.find(word).map(|at| (at, entity)))
    .min_by_key(|(at, _)| *at)
    .map(|(_, entity)| entity)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn classify_one(message: &str, subject: Subject<'_>) -> AdapterError {
        classify(&[message.to_owned()], subject)
    }

    #[test]
    fn error_arrays_are_joined_and_the_first_sentence_decides() {
        let body = json!({"result": "error", "message": ["The password must be at least 8 characters long", "The email field is required"]});
        let error = classify(
            &sentences(&body),
            Subject::new(Entity::Account, "bob").with_fields(&[("password", "password")]),
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
    fn sentences_map_to_canonical_errors() {
        let account = Subject::new(Entity::Account, "bob");
        assert!(matches!(
            classify_one("Invalid API token", account),
            AdapterError::CredentialsRejected { .. }
        ));
        assert!(matches!(
            classify_one("SSO is not enabled for this API token", account),
            AdapterError::FailedPrecondition {
                reason: "PANEL_SSO_DISABLED",
                ..
            }
        ));
        assert!(matches!(
            classify_one("The account bob does not exist", account),
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }
        ));
        assert!(matches!(
            classify_one("The package nosuch does not exist", account),
            AdapterError::NotFound {
                entity: Entity::Package,
                ..
            }
        ));
        assert!(matches!(
            classify_one("The database user shopuser does not exist", account),
            AdapterError::NotFound {
                entity: Entity::DatabaseUser,
                ..
            }
        ));
        assert!(matches!(
            classify_one("The username Bob is already taken", account),
            AdapterError::AlreadyExists {
                entity: Entity::Account,
                ..
            }
        ));
        assert!(matches!(
            classify_one(
                "The domain amy.example.com already exists on this server",
                account
            ),
            AdapterError::AlreadyExists {
                entity: Entity::Domain,
                ..
            }
        ));
        assert!(matches!(
            classify_one("Database creation is disabled for this account", account),
            AdapterError::LimitReached { .. }
        ));
        assert!(matches!(
            classify_one(
                "You have reached the maximum number of databases (5)",
                account
            ),
            AdapterError::LimitReached { .. }
        ));
        assert!(matches!(
            classify_one(
                "The username bob_shop already exists",
                Subject::new(Entity::DatabaseUser, "shop")
            ),
            AdapterError::AlreadyExists {
                entity: Entity::DatabaseUser,
                ..
            }
        ));
        assert!(matches!(
            classify_one(
                "Unknown permission category: billing",
                Subject::new(Entity::Package, "gold")
                    .with_fields(&[("permission", "panel_options.spanel.permissions")])
            ),
            AdapterError::InvalidArgument { field, .. } if field == "panel_options.spanel.permissions"
        ));
        assert!(matches!(
            classify_one(
                "The domain shop.other.example does not belong to this account",
                account
            ),
            AdapterError::NotFound {
                entity: Entity::Domain,
                ..
            }
        ));
        assert!(matches!(
            classify_one("The main domain bob.example.com cannot be removed", account),
            AdapterError::FailedPrecondition {
                reason: "PANEL_REFUSED",
                ..
            }
        ));
        assert!(matches!(
            classify_one("Invalid token", account),
            AdapterError::CredentialsRejected { .. }
        ));
        assert!(matches!(
            classify_one(
                "Invalid accountuser",
                Subject::new(Entity::Database, "shop").of_account("bob")
            ),
            AdapterError::NotFound { entity: Entity::Account, key, .. } if key == "bob"
        ));
        assert!(matches!(
            classify_one("Unknown action accounts/nosuch", account),
            AdapterError::Protocol { .. }
        ));
        assert!(matches!(
            classify_one("Database connection failed", account),
            AdapterError::OperationFailed { .. }
        ));
        assert!(matches!(
            classify_one("The disk quota must be at least 100 MB", account),
            AdapterError::Protocol { .. }
        ));
    }
}

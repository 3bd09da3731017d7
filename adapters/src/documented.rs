//! Panels' documented errors, as tables. Each adapter reads a panel's
//! failure by the first row of its table that matches the reply (its HTTP
//! status, errcode, and words), and the tests make the simulator answer
//! each row's documented reply and check the canonical code and reason. A
//! newly documented error is one row in a table.

use panelgate_proto::Capability;
use panelgate_proto::v1::ErrorReason;

use crate::{AdapterError, Entity};

/// One documented error of a panel.
#[derive(Clone, Copy, Debug)]
pub struct Documented {
    /// The panel calls that answer it (endpoint or action names, as the panel
    /// spells them); empty for any.
    pub on: &'static [&'static str],
    /// What identifies it in the reply.
    pub when: When,
    /// What it means.
    pub means: Meaning,
    /// The reply the panel documents for it: HTTP status and body.
    pub example: (u16, &'static str),
    /// A canonical operation whose call reaches a panel call that answers it.
    pub during: Capability,
}

/// A row of a panel that answers every failure with HTTP 200 and its words
/// (admin_api, SPanel).
pub(crate) const fn in_words(
    on: &'static [&'static str],
    words: &'static [&'static str],
    means: Meaning,
    body: &'static str,
    during: Capability,
) -> Documented {
    Documented {
        on,
        when: When::words(words),
        means,
        example: (200, body),
        during,
    }
}

/// What identifies an error in a panel's reply; every part given must hold.
#[derive(Clone, Copy, Debug, Default)]
pub struct When {
    /// The HTTP status.
    pub status: Option<u16>,
    /// The panel's error code (Installatron's `errcode`), or its start when
    /// it ends with `*`.
    pub errcode: Option<&'static str>,
    /// Words the panel's message holds, lowercase, all of them.
    pub words: &'static [&'static str],
}

impl When {
    /// Words the message holds.
    pub const fn words(words: &'static [&'static str]) -> Self {
        When {
            status: None,
            errcode: None,
            words,
        }
    }

    /// An HTTP status, and words the message holds.
    pub const fn status(status: u16, words: &'static [&'static str]) -> Self {
        When {
            status: Some(status),
            errcode: None,
            words,
        }
    }

    /// An error code (a prefix when it ends with `*`).
    pub const fn errcode(errcode: &'static str) -> Self {
        When {
            status: None,
            errcode: Some(errcode),
            words: &[],
        }
    }

    fn holds(&self, reply: &Failure<'_>) -> bool {
        let status = self.status.is_none_or(|status| status == reply.status);
        let errcode = self
            .errcode
            .is_none_or(|wanted| match wanted.strip_suffix('*') {
                Some(prefix) => reply.errcode.is_some_and(|code| code.starts_with(prefix)),
                None => reply.errcode == Some(wanted),
            });
        let words = self.words.iter().all(|word| reply.text.contains(word));
        status && errcode && words
    }
}

/// What a documented error means, canonically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// The thing does not exist.
    NotFound(Entity),
    /// The thing exists already.
    AlreadyExists(Entity),
    /// A limit of the account's package or of the panel is reached.
    Limit,
    /// A request field is invalid.
    Invalid(Field),
    /// The panel rejected panelgate's credentials.
    Credentials,
    /// The panel cannot do this now, for a reason the caller can act on:
    /// (reason, what to tell the caller: `{}` stands for the name, `{said}`
    /// for the panel's words).
    Precondition(ErrorReason, &'static str),
    /// The panel refused what panelgate sent although panelgate checked it:
    /// the panel's words, as its failure.
    Refused,
    /// The panel knows no such call: the server's base URL is wrong.
    Misconfigured,
}

/// Which request field an [`Meaning::Invalid`] names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// This canonical field.
    Is(&'static str),
    /// The field the panel's words or error field name, as the call maps
    /// them (the adapter knows its call's fields).
    OfCall,
}

/// A panel's failure as the tables read it.
#[derive(Clone, Copy, Debug)]
pub struct Failure<'a> {
    /// The panel call that answered (endpoint or action name).
    pub on: &'a str,
    /// HTTP status.
    pub status: u16,
    /// The panel's error code, if it has them.
    pub errcode: Option<&'a str>,
    /// The panel's words, lowercase.
    pub text: &'a str,
}

/// The first row of `table` that matches `failure`.
pub fn find<'t>(table: &'t [Documented], failure: &Failure<'_>) -> Option<&'t Documented> {
    table
        .iter()
        .find(|row| (row.on.is_empty() || row.on.contains(&failure.on)) && row.when.holds(failure))
}

/// What the caller is told of a failure that matched `means`.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The name the error is about (an account, a domain...).
    pub key: &'a str,
    /// The field an [`Field::OfCall`] names.
    pub field: &'a str,
    /// The panel's words, as it said them.
    pub said: &'a str,
}

impl Meaning {
    /// The adapter error this meaning is, about `context`.
    pub fn error(self, context: Context<'_>) -> AdapterError {
        let upstream = Some(context.said.to_owned());
        match self {
            Meaning::NotFound(entity) => AdapterError::NotFound {
                entity,
                key: context.key.to_owned(),
                upstream,
            },
            Meaning::AlreadyExists(entity) => AdapterError::AlreadyExists {
                entity,
                key: context.key.to_owned(),
                upstream,
            },
            Meaning::Limit => AdapterError::LimitReached {
                upstream: context.said.to_owned(),
            },
            Meaning::Invalid(Field::Is(field)) => AdapterError::refused_field(field, context.said),
            Meaning::Invalid(Field::OfCall) => {
                AdapterError::refused_field(context.field, context.said)
            }
            Meaning::Credentials => AdapterError::CredentialsRejected { upstream },
            Meaning::Precondition(reason, message) => AdapterError::FailedPrecondition {
                reason,
                message: message
                    .replace("{said}", context.said)
                    .replace("{}", context.key),
                upstream,
            },
            Meaning::Refused => AdapterError::OperationFailed {
                upstream: format!("the panel refused panelgate's request: {}", context.said),
            },
            Meaning::Misconfigured => AdapterError::Misconfigured(format!(
                "the panel knows no such call ({}): check the server's base_url",
                context.said
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Documented] = &[
        Documented {
            on: &["add_user"],
            when: When::words(&["domain", "already exists"]),
            means: Meaning::AlreadyExists(Entity::Domain),
            example: (200, ""),
            during: Capability::CreateAccount,
        },
        Documented {
            on: &[],
            when: When::words(&["already exists"]),
            means: Meaning::AlreadyExists(Entity::Account),
            example: (200, ""),
            during: Capability::CreateAccount,
        },
        Documented {
            on: &[],
            when: When::errcode("empty_argument_*"),
            means: Meaning::Invalid(Field::OfCall),
            example: (400, ""),
            during: Capability::CreateAccount,
        },
    ];

    fn failure<'a>(on: &'a str, errcode: Option<&'a str>, text: &'a str) -> Failure<'a> {
        Failure {
            on,
            status: 200,
            errcode,
            text,
        }
    }

    #[test]
    fn the_first_matching_row_wins() {
        let domain = failure("add_user", None, "the domain 'x' already exists.");
        assert_eq!(
            find(TABLE, &domain).map(|row| row.means),
            Some(Meaning::AlreadyExists(Entity::Domain))
        );
        let elsewhere = failure("add_domain", None, "the domain 'x' already exists.");
        assert_eq!(
            find(TABLE, &elsewhere).map(|row| row.means),
            Some(Meaning::AlreadyExists(Entity::Account))
        );
        let code = failure("users", Some("empty_argument_uid"), "");
        assert!(find(TABLE, &code).is_some());
        assert!(find(TABLE, &failure("users", None, "disk full")).is_none());
    }
}

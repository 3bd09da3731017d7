//! How the panel reads limits, names, domains and addresses, and renders limits.

use serde_json::Value;

use super::actions::Problems;
use super::state::Limits;
use crate::dns;
use crate::form::{Form, Param};

/// A limit field as sent (reading 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LimitInput {
    /// Not sent.
    Absent,
    /// Sent empty (PHP's `false` would arrive as `0`, see reading 8).
    Unlimited,
    /// A whole number.
    Value(u64),
}

impl LimitInput {
    /// The limit a create gives: absent or empty is unlimited.
    pub(super) fn or_unlimited(self) -> Option<u64> {
        match self {
            LimitInput::Absent | LimitInput::Unlimited => None,
            LimitInput::Value(value) => Some(value),
        }
    }

    /// The limit a change gives: absent keeps `current`.
    pub(super) fn or_keep(self, current: Option<u64>) -> Option<u64> {
        match self {
            LimitInput::Absent => current,
            LimitInput::Unlimited => None,
            LimitInput::Value(value) => Some(value),
        }
    }
}

/// The five limit fields of a package, an account creation or a quota change.
#[derive(Clone, Copy, Debug)]
pub(super) struct LimitInputs {
    pub(super) quota: LimitInput,
    pub(super) inodes: LimitInput,
    pub(super) domains: LimitInput,
    pub(super) emails: LimitInput,
    pub(super) databases: LimitInput,
}

impl LimitInputs {
    /// Reads the five fields; every field in error adds a message to `problems`
    /// (and reads as absent).
    pub(super) fn read(form: &Form, problems: &mut Problems) -> LimitInputs {
        let mut field = |name: &str, label: &str| match read_limit(form.get(name)) {
            Ok(input) => input,
            Err(()) => {
                problems.push(format!("The {label} must be a whole number"));
                LimitInput::Absent
            }
        };
        let inputs = LimitInputs {
            quota: field("quota", "disk quota"),
            inodes: field("inodes", "inodes limit"),
            domains: field("domains", "domains limit"),
            emails: field("emails", "email accounts limit"),
            databases: field("databases", "databases limit"),
        };
        if let LimitInput::Value(quota) = inputs.quota
            && quota < MIN_QUOTA_MB
        {
            problems.push(format!("The disk quota must be at least {MIN_QUOTA_MB} MB"));
        }
        if let LimitInput::Value(inodes) = inputs.inodes
            && inodes < MIN_INODES
        {
            problems.push(format!("The inodes limit must be at least {MIN_INODES}"));
        }
        inputs
    }

    /// The limits a create gives: absent or empty is unlimited.
    pub(super) fn created(&self) -> Limits {
        Limits {
            quota_mb: self.quota.or_unlimited(),
            inodes: self.inodes.or_unlimited(),
            domains: self.domains.or_unlimited(),
            emails: self.emails.or_unlimited(),
            databases: self.databases.or_unlimited(),
        }
    }

    /// The limits a change gives to limits now `current`: absent keeps the
    /// current value.
    pub(super) fn changed(&self, current: Limits) -> Limits {
        Limits {
            quota_mb: self.quota.or_keep(current.quota_mb),
            inodes: self.inodes.or_keep(current.inodes),
            domains: self.domains.or_keep(current.domains),
            emails: self.emails.or_keep(current.emails),
            databases: self.databases.or_keep(current.databases),
        }
    }

    /// Whether any of the five was sent.
    pub(super) fn any_sent(&self) -> bool {
        [
            self.quota,
            self.inodes,
            self.domains,
            self.emails,
            self.databases,
        ]
        .iter()
        .any(|input| *input != LimitInput::Absent)
    }
}

/// The documented smallest disk quota, in MB.
const MIN_QUOTA_MB: u64 = 100;
/// The documented smallest inodes limit.
const MIN_INODES: u64 = 10_000;

/// One limit field: absent, empty (unlimited) or a whole number (surrounding
/// whitespace allowed); anything else, an array included, is an error.
fn read_limit(field: Option<&Param>) -> Result<LimitInput, ()> {
    let Some(field) = field else {
        return Ok(LimitInput::Absent);
    };
    let value = field.as_str().ok_or(())?.trim();
    if value.is_empty() {
        return Ok(LimitInput::Unlimited);
    }
    if !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(());
    }
    value.parse().map(LimitInput::Value).map_err(|_| ())
}

/// The password rule of every function that sets one: present, 8 or more characters.
pub(super) fn check_password(form: &Form, problems: &mut Problems) {
    match form.str("password") {
        None | Some("") => problems.push("The password field is required"),
        Some(password) if password.chars().count() < 8 => {
            problems.push("The password must be at least 8 characters long");
        }
        Some(_) => {}
    }
}

/// The names a bulk field holds (a string or an array of strings, keys
/// ignored: reading 5), trimmed, empty ones left out.
pub(super) fn names(form: &Form, field: &str) -> Vec<String> {
    form.get(field)
        .and_then(Param::as_list)
        .unwrap_or_default()
        .into_iter()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect()
}

/// A limit as the panel lists it: the number as a string, or `"Unlimited"`.
pub(super) fn limit_json(limit: Option<u64>) -> Value {
    match limit {
        Some(value) => Value::String(value.to_string()),
        None => Value::String("Unlimited".to_owned()),
    }
}

/// The documented account and package name rule: 1 to 30 ASCII letters or digits.
pub(super) fn is_plain_name(name: &str) -> bool {
    (1..=30).contains(&name.len()) && name.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// An admin username (reading 13): 1 to 30 characters, letters, digits and
/// the characters of an email address (`@ . _ - +`).
pub(super) fn is_admin_name(name: &str) -> bool {
    (1..=30).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"@._-+".contains(&byte))
}

/// A domain trimmed and lowercased, `None` when it is not a valid name: two or
/// more DNS labels (letters, digits, inner hyphens, 1 to 63 each) ending in an
/// alphabetic label of two or more letters (reading 16).
pub(super) fn normalize_domain(raw: &str) -> Option<String> {
    let domain = raw.trim().to_ascii_lowercase();
    dns::is_domain(&domain).then_some(domain)
}

/// An email address: something without spaces, one `@`, a valid domain.
pub(super) fn is_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && !domain.contains('@')
        && normalize_domain(domain).is_some()
}

/// A name part of a database or database user: letters, digits, underscores.
pub(super) fn is_db_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
}

/// A subdomain's folder, relative to the home directory: not empty, no `..`,
/// letters, digits and `. _ - /` only; leading and trailing `/` removed.
pub(super) fn normalize_path(raw: &str) -> Option<String> {
    let path = raw.trim().trim_matches('/');
    let valid = !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != ".." && part != ".")
        && path
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-/".contains(&byte));
    valid.then(|| path.to_owned())
}

//! The five limits of a package or an account (disk quota, inodes, addon
//! domains, email accounts, databases): as the panel holds and lists them, and
//! as a request sends them (reading 8).

use serde_json::Value;

use super::actions::Problems;
use super::{SimPermissions, SimSpanelPackage};
use crate::form::{Form, Param};

/// The documented smallest disk quota, in MB.
const MIN_QUOTA_MB: u64 = 100;
/// The documented smallest inodes limit.
const MIN_INODES: u64 = 10_000;

/// The five limits, each a `T`: as held (`Option<u64>`, `None` unlimited) or as
/// sent ([`LimitInput`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Limits<T = Option<u64>> {
    pub(super) quota_mb: T,
    pub(super) inodes: T,
    pub(super) domains: T,
    pub(super) emails: T,
    pub(super) databases: T,
}

/// The five limit fields as a request sends them.
pub(super) type LimitInputs = Limits<LimitInput>;

/// The form field and the label (in messages) of each limit.
const FIELDS: Limits<(&str, &str)> = Limits {
    quota_mb: ("quota", "disk quota"),
    inodes: ("inodes", "inodes limit"),
    domains: ("domains", "domains limit"),
    emails: ("emails", "email accounts limit"),
    databases: ("databases", "databases limit"),
};

impl<T> Limits<T> {
    /// Each limit through `f`, in field order.
    fn map<U>(self, mut f: impl FnMut(T) -> U) -> Limits<U> {
        Limits {
            quota_mb: f(self.quota_mb),
            inodes: f(self.inodes),
            domains: f(self.domains),
            emails: f(self.emails),
            databases: f(self.databases),
        }
    }

    /// The five, in field order.
    fn into_array(self) -> [T; 5] {
        [
            self.quota_mb,
            self.inodes,
            self.domains,
            self.emails,
            self.databases,
        ]
    }

    /// Each limit paired with its counterpart in `other`.
    fn zip<U>(self, other: Limits<U>) -> Limits<(T, U)> {
        Limits {
            quota_mb: (self.quota_mb, other.quota_mb),
            inodes: (self.inodes, other.inodes),
            domains: (self.domains, other.domains),
            emails: (self.emails, other.emails),
            databases: (self.databases, other.databases),
        }
    }
}

impl Limits {
    /// The limits a package gives.
    pub(super) fn of(package: &SimSpanelPackage) -> Limits {
        Limits {
            quota_mb: package.quota_mb,
            inodes: package.inodes,
            domains: package.domains,
            emails: package.emails,
            databases: package.databases,
        }
    }

    /// A package with these limits.
    pub(super) fn package(self, name: &str, permissions: SimPermissions) -> SimSpanelPackage {
        SimSpanelPackage {
            name: name.to_owned(),
            quota_mb: self.quota_mb,
            inodes: self.inodes,
            domains: self.domains,
            emails: self.emails,
            databases: self.databases,
            permissions,
        }
    }
}

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
    fn or_unlimited(self) -> Option<u64> {
        match self {
            LimitInput::Absent | LimitInput::Unlimited => None,
            LimitInput::Value(value) => Some(value),
        }
    }

    /// The limit a change gives: absent keeps `current`.
    fn or_keep(self, current: Option<u64>) -> Option<u64> {
        match self {
            LimitInput::Absent => current,
            LimitInput::Unlimited => None,
            LimitInput::Value(value) => Some(value),
        }
    }
}

impl LimitInputs {
    /// Reads the five fields of a package, an account creation or a quota
    /// change; every field in error adds a message to `problems` (and reads
    /// as absent).
    pub(super) fn read(form: &Form, problems: &mut Problems) -> LimitInputs {
        let inputs = FIELDS.map(|(name, label)| match read_limit(form.get(name)) {
            Ok(input) => input,
            Err(()) => {
                problems.push(format!("The {label} must be a whole number"));
                LimitInput::Absent
            }
        });
        if let LimitInput::Value(quota) = inputs.quota_mb
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
    pub(super) fn created(self) -> Limits {
        self.map(LimitInput::or_unlimited)
    }

    /// The limits a change gives to limits now `current`: absent keeps the
    /// current value.
    pub(super) fn changed(self, current: Limits) -> Limits {
        self.zip(current)
            .map(|(input, current)| input.or_keep(current))
    }

    /// Whether any of the five was sent.
    pub(super) fn any_sent(self) -> bool {
        self.into_array()
            .iter()
            .any(|input| *input != LimitInput::Absent)
    }
}

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

/// A limit as the panel lists it: the number as a string, or `"Unlimited"`.
pub(super) fn limit_json(limit: Option<u64>) -> Value {
    match limit {
        Some(value) => Value::String(value.to_string()),
        None => Value::String("Unlimited".to_owned()),
    }
}

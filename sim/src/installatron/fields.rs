//! The user fields of `POST /users` and `POST /users/{id}`: read, checked in
//! the doc's order (the first problem is the answer), and applied to a user
//! (readings 7 to 10). The websites are read by `websites`.

use super::input::{Input, Params, flag, text};
use super::reply::{Failure, Field};
use super::state::{UserRow, UserType, WebsiteRow};
use super::websites::read_websites;

/// What the user fields of one request change; `None` keeps the stored value.
#[derive(Debug, Default)]
pub(super) struct Changes {
    pub(super) email: Option<String>,
    pub(super) language: Option<String>,
    pub(super) package: Option<String>,
    pub(super) parent: Option<String>,
    pub(super) suspended: Option<bool>,
    pub(super) kind: Option<UserType>,
    /// Given: replaces the whole list.
    pub(super) websites: Option<Vec<WebsiteRow>>,
}

impl Changes {
    /// Reads and checks the fields for the user `id`, in the doc's order.
    pub(super) fn read(params: &Params, id: &str) -> Result<Changes, Failure> {
        let email = read_email(params.get("email"), &Field::top("email"))?;
        let language = read_language(params.get("language"), &Field::top("language"))?;
        let package = text(params.get("package"), &Field::top("package"))?;
        let parent = text(params.get("parent"), &Field::top("parent"))?
            .map(|parent| parent.trim().to_owned())
            .filter(|parent| !parent.is_empty());
        let suspended = flag(params.get("suspended"), &Field::top("suspended"))?;
        let kind = read_type(params.get("type"))?;
        let websites = match params.get("websites") {
            None => None,
            Some(value) => Some(read_websites(value, id)?),
        };
        Ok(Changes {
            email,
            language,
            package,
            parent,
            suspended,
            kind,
            websites,
        })
    }

    /// `user` with these changes; every website's parent follows its
    /// `reseller` or else the user's parent.
    pub(super) fn apply(self, mut user: UserRow) -> UserRow {
        update(&mut user.email, self.email);
        update(&mut user.locale, self.language);
        update(&mut user.package, self.package);
        update(&mut user.parent, self.parent);
        update(&mut user.suspended, self.suspended);
        update(&mut user.kind, self.kind);
        update(&mut user.websites, self.websites);
        for website in &mut user.websites {
            website.parent = website
                .reseller
                .clone()
                .unwrap_or_else(|| user.parent.clone());
        }
        user
    }
}

/// Replaces `field` with the value sent, if one was.
fn update<T>(field: &mut T, sent: Option<T>) {
    if let Some(value) = sent {
        *field = value;
    }
}

/// Whether `id` can name a user: 1 to 64 ASCII letters, digits or `. _ - @ +`
/// (reading 7).
pub(super) fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"._-@+".contains(&byte))
}

/// `email`: empty clears it, anything else must look like an address.
pub(super) fn read_email(value: Option<&Input>, field: &Field) -> Result<Option<String>, Failure> {
    let Some(email) = text(value, field)? else {
        return Ok(None);
    };
    let email = email.trim().to_owned();
    if !email.is_empty() && !is_email(&email) {
        return Err(Failure::invalid(field, "not an email address"));
    }
    Ok(Some(email))
}

/// A plausible address: one `@`, a local part, a dotted domain, no spaces.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain.split('.').filter(|label| !label.is_empty()).count() >= 2
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// A language code (`en`, `nl`, `zh_tw`, `pt_br`), lowercased; empty is absent.
pub(super) fn read_language(
    value: Option<&Input>,
    field: &Field,
) -> Result<Option<String>, Failure> {
    let Some(language) = text(value, field)? else {
        return Ok(None);
    };
    let language = language.trim().to_ascii_lowercase();
    if language.is_empty() {
        return Ok(None);
    }
    let (base, region) = match language.split_once('_') {
        Some((base, region)) => (base, Some(region)),
        None => (language.as_str(), None),
    };
    let letters = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_lowercase())
    };
    if !letters(base, 2..=3) || region.is_some_and(|region| !letters(region, 2..=4)) {
        return Err(Failure::invalid(field, "not a language code"));
    }
    Ok(Some(language))
}

/// `type`: `user` or `reseller`.
fn read_type(value: Option<&Input>) -> Result<Option<UserType>, Failure> {
    let field = Field::top("type");
    match text(value, &field)?.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("user") => Ok(Some(UserType::User)),
        Some("reseller") => Ok(Some(UserType::Reseller)),
        Some(_) => Err(Failure::invalid(&field, "not user or reseller")),
    }
}

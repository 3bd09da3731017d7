//! How the panel reads passwords, names, domains and addresses.

use super::actions::Problems;
use crate::dns;
use crate::form::{Form, Param};

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

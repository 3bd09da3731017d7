//! Request field checks, run before any panel call. Each returns the cleaned
//! value or an INVALID_ARGUMENT naming the field.

use crate::error::GatewayError;

type Checked<T> = Result<T, GatewayError>;

fn invalid<T>(field: &str, reason: impl Into<String>) -> Checked<T> {
    Err(GatewayError::invalid(field, reason))
}

fn required<'a>(field: &str, value: &'a str) -> Checked<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return invalid(field, "required");
    }
    Ok(value)
}

/// Most characters of a caller's value an error quotes.
const EXCERPT_CHARS: usize = 64;

/// A caller's value as an error may quote it: at most 64 characters (then
/// "…"), control characters escaped, so hostile input stays small everywhere
/// it is echoed (messages, details, the journal, logs).
pub fn excerpt(value: &str) -> String {
    let mut shown: String = value
        .chars()
        .take(EXCERPT_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().nth(EXCERPT_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Refuses a name that could not be one segment of a panel's URL path: `.`,
/// `..`, or one holding '/'.
fn one_segment<'a>(field: &str, value: &'a str) -> Checked<&'a str> {
    if matches!(value, "." | "..") || value.contains(['/', '\\']) {
        return invalid(field, "must not be `.` or `..` or contain '/' or '\\'");
    }
    Ok(value)
}

/// A username for a new account: a lowercase letter, then lowercase letters
/// and digits, 1 to 32 characters (what every supported panel accepts).
pub fn new_username(field: &str, value: &str) -> Checked<String> {
    let value = required(field, value)?;
    let mut chars = value.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if value.len() > 32
        || !starts_with_letter
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return invalid(
            field,
            "must be a lowercase letter followed by lowercase letters or digits, at most 32 characters",
        );
    }
    Ok(value.to_owned())
}

/// The username of an existing account: looser than [`new_username`], since
/// accounts made outside panelgate may use '_', '-', '.' or '@'.
pub fn username(field: &str, value: &str) -> Checked<String> {
    let value = one_segment(field, required(field, value)?)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@');
    if value.len() > 64 || !value.chars().all(allowed) {
        return invalid(
            field,
            "must be at most 64 letters, digits, '_', '-', '.' or '@'",
        );
    }
    Ok(value.to_owned())
}

/// A domain name, lowercased: at least two dot-separated labels of letters,
/// digits and inner hyphens, 1 to 63 characters each, 253 in all.
pub fn domain(field: &str, value: &str) -> Checked<String> {
    let value = required(field, value)?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if !value.is_ascii() {
        return invalid(
            field,
            "must be ASCII: give internationalised names in their xn-- form",
        );
    }
    let labels: Vec<&str> = value.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()));
    if value.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        return invalid(
            field,
            format!("`{}` is not a valid domain name", excerpt(&value)),
        );
    }
    Ok(value)
}

/// An email address: a local part without spaces, '@', and a valid domain.
pub fn email(field: &str, value: &str) -> Checked<String> {
    let value = required(field, value)?;
    let Some((local, host)) = value.rsplit_once('@') else {
        return invalid(field, "must be an email address");
    };
    if local.is_empty()
        || local.len() > 64
        || local.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid(field, "must be an email address");
    }
    domain(field, host).map(|host| format!("{local}@{host}"))
}

/// A password: 8 to 128 characters, no control characters. Never echoed.
pub fn password(field: &str, value: &str) -> Checked<()> {
    let length = value.chars().count();
    if value.is_empty() {
        return invalid(field, "required");
    }
    if !(8..=128).contains(&length) {
        return invalid(field, "must be 8 to 128 characters");
    }
    if value.chars().any(char::is_control) {
        return invalid(field, "must not contain control characters");
    }
    Ok(())
}

/// A free-form name (package, label value...): 1 to `max` printable characters.
pub fn name(field: &str, value: &str, max: usize) -> Checked<String> {
    let value = required(field, value)?;
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return invalid(field, format!("must be at most {max} printable characters"));
    }
    Ok(value.to_owned())
}

/// A package's name or panel id: 1 to 64 printable characters that could
/// be one segment of a panel's URL path.
pub fn package(field: &str, value: &str) -> Checked<String> {
    let value = name(field, value, 64)?;
    one_segment(field, &value)?;
    Ok(value)
}

/// An identifier of letters, digits and '_' whose length is in `lengths`
/// (database names and users).
pub fn identifier(
    field: &str,
    value: &str,
    lengths: std::ops::RangeInclusive<usize>,
) -> Checked<String> {
    let value = required(field, value)?;
    if !lengths.contains(&value.len())
        || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return invalid(
            field,
            format!(
                "must be {} to {} letters, digits or '_'",
                lengths.start(),
                lengths.end()
            ),
        );
    }
    Ok(value.to_owned())
}

/// A server name: 1 to 63 letters, digits, '.', '_' or '-'.
pub fn server_name(field: &str, value: &str) -> Checked<String> {
    word(field, value, 63, &['.', '_', '-'])
}

/// A system service's name as panels list them ("nginx", "mysql"): 1 to 64
/// letters, digits, '.', '_', '-' or '@'.
pub fn service_name(field: &str, value: &str) -> Checked<String> {
    word(field, value, 64, &['.', '_', '-', '@'])
}

/// One path segment of 1 to `max` ASCII letters, digits and `extra` characters.
fn word(field: &str, value: &str, max: usize, extra: &[char]) -> Checked<String> {
    let value = one_segment(field, required(field, value)?)?;
    if value.len() > max
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    {
        let quoted: Vec<String> = extra.iter().map(|c| format!("'{c}'")).collect();
        let reason = match quoted.split_last() {
            Some((last, others)) => format!(
                "must be 1 to {max} letters, digits, {} or {last}",
                others.join(", ")
            ),
            None => format!("must be 1 to {max} letters or digits"),
        };
        return invalid(field, reason);
    }
    Ok(value.to_owned())
}

/// An idempotency key: empty, or at most 128 printable ASCII characters
/// without spaces (a UUID is recommended).
pub fn request_id(field: &str, value: &str) -> Checked<()> {
    if value.len() > 128 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return invalid(
            field,
            "must be at most 128 printable characters without spaces, e.g. a UUID",
        );
    }
    Ok(())
}

/// An id panelgate issued: a UUID such as "0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c21".
pub fn uuid(field: &str, value: &str) -> Checked<String> {
    let value = value.trim();
    // Only the hyphenated form (36 characters), as panelgate returns them.
    match uuid::Uuid::try_parse(value) {
        Ok(id) if value.len() == 36 => Ok(id.to_string()),
        _ => invalid(field, "must be an id panelgate returned (a UUID)"),
    }
}

/// A PHP version such as "8.2"; empty stays empty (the server default applies).
pub fn php_version(field: &str, value: &str) -> Checked<String> {
    let value = value.trim();
    let numeric = |part: &str| {
        !part.is_empty() && part.len() <= 3 && part.chars().all(|c| c.is_ascii_digit())
    };
    let well_formed =
        matches!(value.split_once('.'), Some((major, minor)) if numeric(major) && numeric(minor));
    if !value.is_empty() && !well_formed {
        return invalid(field, "must look like \"8.2\"");
    }
    Ok(value.to_owned())
}

/// A document root: a path without '..' segments or control characters; empty
/// means the panel's default.
pub fn document_root(field: &str, value: &str) -> Checked<Option<String>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > 255
        || value.chars().any(char::is_control)
        || value.split('/').any(|part| part == "..")
    {
        return invalid(
            field,
            "must be a path of at most 255 characters without '..'",
        );
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected<T: std::fmt::Debug>(result: Checked<T>, field: &str) {
        match result {
            Err(GatewayError::InvalidArgument { field: got, .. }) => assert_eq!(got, field),
            other => panic!("expected INVALID_ARGUMENT on {field}, got {other:?}"),
        }
    }

    #[test]
    fn new_usernames() {
        assert_eq!(new_username("username", " bob42 ").unwrap(), "bob42");
        for bad in [
            "",
            "   ",
            "4bob",
            "Bob",
            "bob_1",
            "bob-x",
            &"a".repeat(33),
            "bøb",
        ] {
            rejected(new_username("username", bad), "username");
        }
    }

    #[test]
    fn existing_usernames_are_looser() {
        for good in ["bob", "john_doe", "ops@example.com", "a.b-c"] {
            assert_eq!(username("username", good).unwrap(), good);
        }
        for bad in ["", "bob smith", "bob/..", ".", "..", &"a".repeat(65)] {
            rejected(username("username", bad), "username");
        }
        for bad in [".", "..", "a/b"] {
            rejected(service_name("service", bad), "service");
            rejected(server_name("name", bad), "name");
            rejected(package("package", bad), "package");
        }
        assert_eq!(package("package", "Gold Plus").unwrap(), "Gold Plus");
    }

    #[test]
    fn excerpts_are_short_and_printable() {
        assert_eq!(excerpt("bob"), "bob");
        let long = "x".repeat(1 << 20);
        let shown = excerpt(&long);
        assert_eq!(shown.chars().count(), EXCERPT_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(excerpt("a\nb"), "a\\nb");
        let status = domain("domain", &format!("{long}.com")).unwrap_err();
        assert!(status.to_string().len() < 200, "{status}");
    }

    #[test]
    fn domains() {
        assert_eq!(domain("domain", "Example.COM.").unwrap(), "example.com");
        assert_eq!(
            domain("domain", "xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(domain("domain", "a-b.c-d.io").unwrap(), "a-b.c-d.io");
        for bad in [
            "",
            "localhost",
            "-a.com",
            "a-.com",
            "a..com",
            "exa mple.com",
            "bücher.de",
            "1.2.3.4",
            &format!("{}.com", "a".repeat(64)),
        ] {
            rejected(domain("domain", bad), "domain");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("email", "Ops@Example.com").unwrap(),
            "Ops@example.com"
        );
        for bad in [
            "",
            "ops",
            "@example.com",
            "ops@",
            "o ps@example.com",
            "ops@localhost",
        ] {
            rejected(email("email", bad), "email");
        }
    }

    #[test]
    fn passwords() {
        assert!(password("password", "correct horse").is_ok());
        for bad in ["", "short", &"x".repeat(129), "tab\there1"] {
            rejected(password("password", bad), "password");
        }
    }

    #[test]
    fn identifiers_names_and_paths() {
        assert_eq!(identifier("database_user", "db_1", 2..=32).unwrap(), "db_1");
        rejected(identifier("database_user", "d", 2..=32), "database_user");
        rejected(
            identifier("database_name", "my-db", 1..=64),
            "database_name",
        );
        assert_eq!(server_name("server.name", "ols-eu.1").unwrap(), "ols-eu.1");
        rejected(server_name("server.name", "ols eu"), "server.name");
        for (checked, said) in [
            (
                server_name("name", "a b"),
                "must be 1 to 63 letters, digits, '.', '_' or '-'",
            ),
            (
                service_name("service", "a b"),
                "must be 1 to 64 letters, digits, '.', '_', '-' or '@'",
            ),
        ] {
            match checked {
                Err(GatewayError::InvalidArgument { reason, .. }) => assert_eq!(reason, said),
                other => panic!("{other:?}"),
            }
        }
        rejected(name("package", "", 64), "package");
        assert_eq!(php_version("php", "8.2").unwrap(), "8.2");
        assert_eq!(php_version("php", "").unwrap(), "");
        rejected(php_version("php", "eight"), "php");
        assert_eq!(document_root("document_root", "").unwrap(), None);
        assert_eq!(
            document_root("document_root", "public_html/shop")
                .unwrap()
                .as_deref(),
            Some("public_html/shop")
        );
        rejected(document_root("document_root", "../etc"), "document_root");
        assert_eq!(
            uuid("id", "0B5C3C1E-5A4F-4F0E-9D3A-2F8E6F1D7C21").unwrap(),
            "0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c21"
        );
        for bad in [
            "",
            "42",
            "0b5c3c1e_5a4f_4f0e_9d3a_2f8e6f1d7c21",
            "0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c2g",
        ] {
            rejected(uuid("id", bad), "id");
        }
    }
}

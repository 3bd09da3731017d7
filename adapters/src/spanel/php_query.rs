//! Form bodies encoded exactly as PHP's `http_build_query` encodes them, which
//! is what SPanel (a PHP application) parses: nested arrays in bracket notation
//! (`permissions[domain][0]=domains`), keys and values percent-encoded the way
//! `urlencode` does (RFC 1738: only `A-Z a-z 0-9 - _ .` are left as they are,
//! a space becomes `+`), pairs in insertion order.

use std::fmt::Write;

/// A PHP value as `http_build_query` walks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PhpValue {
    /// A scalar (PHP sends every scalar as text).
    Text(String),
    /// A list: keys 0, 1, 2...
    List(Vec<PhpValue>),
    /// An associative array, in insertion order.
    Map(Vec<(String, PhpValue)>),
}

impl From<&str> for PhpValue {
    fn from(text: &str) -> Self {
        PhpValue::Text(text.to_owned())
    }
}

impl From<String> for PhpValue {
    fn from(text: String) -> Self {
        PhpValue::Text(text)
    }
}

/// `http_build_query($fields)`.
pub(super) fn http_build_query(fields: &[(String, PhpValue)]) -> String {
    let mut out = String::new();
    for (key, value) in fields {
        append(&mut out, &urlencode(key), value);
    }
    out
}

/// Appends `value` under the already encoded `prefix`.
fn append(out: &mut String, prefix: &str, value: &PhpValue) {
    match value {
        PhpValue::Text(text) => {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(prefix);
            out.push('=');
            out.push_str(&urlencode(text));
        }
        PhpValue::List(items) => {
            for (index, item) in items.iter().enumerate() {
                append(out, &format!("{prefix}%5B{index}%5D"), item);
            }
        }
        PhpValue::Map(entries) => {
            for (key, item) in entries {
                append(out, &format!("{prefix}%5B{}%5D", urlencode(key)), item);
            }
        }
    }
}

/// PHP's `urlencode`.
fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> PhpValue {
        value.into()
    }

    /// A doc example's fields: the token and `action`, `fields` as text,
    /// then `permissions` of one category with "all" and one with `pages`.
    fn doc_example(
        action: &str,
        fields: &[(&str, &str)],
        (all, (category, pages)): (&str, (&str, &[&str])),
    ) -> Vec<(String, PhpValue)> {
        let permissions = PhpValue::Map(vec![
            (all.to_owned(), text("all")),
            (
                category.to_owned(),
                PhpValue::List(pages.iter().copied().map(text).collect()),
            ),
        ]);
        [("token", "provided_auth_token"), ("action", action)]
            .iter()
            .chain(fields)
            .map(|(key, value)| (key.to_string(), text(value)))
            .chain([("permissions".to_owned(), permissions)])
            .collect()
    }

    /// The createadminuser example of the SPanel doc, as PHP encodes it.
    #[test]
    fn the_createadminuser_example() {
        let fields = doc_example(
            "admin/createadminuser",
            &[
                ("username", "admin@example.com"),
                ("password", "KExk80Ml5aG6M"),
            ],
            ("server", ("accounts", &["manage", "create"])),
        );
        assert_eq!(
            http_build_query(&fields),
            "token=provided_auth_token&action=admin%2Fcreateadminuser&username=admin%40example.com\
             &password=KExk80Ml5aG6M&permissions%5Bserver%5D=all\
             &permissions%5Baccounts%5D%5B0%5D=manage&permissions%5Baccounts%5D%5B1%5D=create"
        );
    }

    /// The createpackage example of the SPanel doc (without its `false`
    /// entry: panelgate leaves an unlimited field out, as the doc allows).
    #[test]
    fn the_createpackage_example() {
        let fields = doc_example(
            "accounts/createpackage",
            &[
                ("package", "newPackageName"),
                ("quota", "10240"),
                ("inodes", "1000"),
                ("emails", "0"),
            ],
            ("email", ("domain", &["domains", "redirects"])),
        );
        assert_eq!(
            http_build_query(&fields),
            "token=provided_auth_token&action=accounts%2Fcreatepackage&package=newPackageName\
             &quota=10240&inodes=1000&emails=0&permissions%5Bemail%5D=all\
             &permissions%5Bdomain%5D%5B0%5D=domains&permissions%5Bdomain%5D%5B1%5D=redirects"
        );
    }

    #[test]
    fn urlencode_is_phps() {
        assert_eq!(urlencode("a b~c*d'e!f(g)h"), "a+b%7Ec%2Ad%27e%21f%28g%29h");
        assert_eq!(urlencode("-_.AZaz09"), "-_.AZaz09");
        assert_eq!(urlencode("é&=/"), "%C3%A9%26%3D%2F");
    }

    #[test]
    fn bulk_arrays_use_numbered_brackets() {
        let fields = vec![(
            "username".to_owned(),
            PhpValue::List(vec![text("a"), text("b")]),
        )];
        assert_eq!(
            http_build_query(&fields),
            "username%5B0%5D=a&username%5B1%5D=b"
        );
    }
}

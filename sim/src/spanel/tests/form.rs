//! The form decoder (PHP's reading of `$_POST`) on the docs' examples and
//! PHP's quirks.

use super::{CREATE_ADMIN, CREATE_PACKAGE};
use crate::form::{Form, Param};

fn text(value: &str) -> Param {
    Param::Str(value.to_owned())
}

fn array(pairs: &[(&str, Param)]) -> Param {
    Param::Array(
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect(),
    )
}

/// The bracket notation of both doc examples decodes to PHP's nested arrays.
#[test]
fn decodes_the_docs_examples() {
    let admin = Form::decode(CREATE_ADMIN.as_bytes());
    assert_eq!(admin.str("action"), Some("admin/createadminuser"));
    assert_eq!(admin.str("username"), Some("newadmin@example.com"));
    assert_eq!(
        admin.get("permissions"),
        Some(&array(&[
            ("server", text("all")),
            (
                "accounts",
                array(&[("0", text("manage")), ("1", text("create"))])
            ),
        ]))
    );

    let package = Form::decode(CREATE_PACKAGE.as_bytes());
    assert_eq!(package.str("databases"), Some("0"));
    assert_eq!(
        package.get("permissions"),
        Some(&array(&[
            ("email", text("all")),
            (
                "domain",
                array(&[("0", text("domains")), ("1", text("redirects"))])
            ),
        ]))
    );
    let all = Form::decode(b"permissions=all");
    assert_eq!(all.get("permissions"), Some(&text("all")));
}

/// `[]` appends like explicit indexes, `+` and `%20` are spaces, and PHP's
/// quirks on names hold.
#[test]
fn decodes_like_php() {
    let appended = Form::decode(b"username[]=a&username[]=b");
    let indexed = Form::decode(b"username%5B0%5D=a&username%5B1%5D=b");
    assert_eq!(appended, indexed);
    assert_eq!(
        appended.get("username").and_then(Param::as_list),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
    let spaces = Form::decode(b"reason=late+payment%20again&bad=100%&flag");
    assert_eq!(spaces.str("reason"), Some("late payment again"));
    assert_eq!(spaces.str("bad"), Some("100%"));
    assert_eq!(spaces.str("flag"), Some(""));
    let names = Form::decode(b"a.b=1&c[d=2&e[x]y=3&f=1&f[]=2&g[5]=x&g[]=y");
    assert_eq!(names.str("a_b"), Some("1"));
    assert_eq!(names.str("c_d"), Some("2"));
    assert_eq!(names.get("e"), Some(&array(&[("x", text("3"))])));
    assert_eq!(names.get("f"), Some(&array(&[("0", text("2"))])));
    assert_eq!(
        names.get("g"),
        Some(&array(&[("5", text("x")), ("6", text("y"))]))
    );
}

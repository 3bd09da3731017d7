//! Rust names of proto things, as prost generates them.

use prost_reflect::{FieldDescriptor, MessageDescriptor};

/// "admin_api" → "AdminApi"; "OPERATION_CREATE_ACCOUNT" (lowercased) likewise.
pub fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect()
}

/// "CreateAccountRequest" → "create_account_request".
pub fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The Rust path of a message of package `panelgate.v1`, from the `v1`
/// module: `v1::Foo`, or `v1::foo::Bar` for a nested one.
pub fn message_path(message: &MessageDescriptor) -> String {
    match message.parent_message() {
        Some(parent) => format!("{}::{}", module_of(&parent), message.name()),
        None => format!("v1::{}", message.name()),
    }
}

/// The module prost puts the types nested in `message` in.
pub fn module_of(message: &MessageDescriptor) -> String {
    let path = message_path(message);
    let (prefix, name) = path.rsplit_once("::").expect("a path");
    format!("{prefix}::{}", snake(name))
}

/// The struct field a proto field lives in: its oneof's, or its own.
pub fn struct_field(field: &FieldDescriptor) -> String {
    let name = match field
        .containing_oneof()
        .filter(|oneof| !oneof.is_synthetic())
    {
        Some(oneof) => oneof.name().to_owned(),
        None => field.name().to_owned(),
    };
    ident(&name)
}

/// `name` as a Rust identifier (keywords raw).
pub fn ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &["type", "match", "ref", "self", "mod", "use", "fn", "move"];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

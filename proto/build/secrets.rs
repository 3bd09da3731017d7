//! The secrets: from each field's `(panelgate.v1.secret)` option, a
//! `SecretValues` impl for every message that carries one (and every RPC
//! request), and a redacting `Debug` for every message with a secret field.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write,
};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, Value};

use crate::names::{ident, message_path, module_of, struct_field, upper_camel};

/// How a field holds a secret (the proto's `Secret` enum).
#[derive(Clone, Copy)]
enum Secret {
    /// The whole value.
    Value,
    /// The password in a URI's user info.
    UriPassword,
}

/// The messages of `panelgate.v1` and where their secrets are.
pub struct Secrets {
    messages: Vec<MessageDescriptor>,
    /// Secret fields, by message full name.
    fields: BTreeMap<String, Vec<(FieldDescriptor, Secret)>>,
    /// Messages holding a secret, directly or in a message they hold.
    carriers: BTreeSet<String>,
    /// Request messages of RPCs.
    requests: BTreeSet<String>,
}

impl Secrets {
    /// Reads the `secret` options of every field.
    pub fn read(pool: &DescriptorPool) -> Result<Self, String> {
        let extension = pool
            .get_extension_by_name("panelgate.v1.secret")
            .ok_or("panelgate/v1/secret.proto must declare the `secret` field option")?;
        let messages: Vec<MessageDescriptor> = pool
            .all_messages()
            .filter(|message| message.package_name() == "panelgate.v1" && !message.is_map_entry())
            .collect();
        let mut fields: BTreeMap<String, Vec<(FieldDescriptor, Secret)>> = BTreeMap::new();
        for message in &messages {
            for field in message.fields() {
                let secret = match field.options().get_extension(&extension).as_ref() {
                    Value::EnumNumber(0) => continue,
                    Value::EnumNumber(1) => Secret::Value,
                    Value::EnumNumber(2) => Secret::UriPassword,
                    _ => return Err(format!("{}: unknown secret kind", field.full_name())),
                };
                if field.kind() != Kind::String {
                    return Err(format!(
                        "{}: only strings can be secrets",
                        field.full_name()
                    ));
                }
                if in_oneof(&field) {
                    return Err(format!("{}: a secret inside a oneof", field.full_name()));
                }
                fields
                    .entry(message.full_name().to_owned())
                    .or_default()
                    .push((field, secret));
            }
        }
        let mut carriers: BTreeSet<String> = fields.keys().cloned().collect();
        loop {
            let before = carriers.len();
            for message in &messages {
                if message.fields().any(|field| carried(&field, &carriers)) {
                    carriers.insert(message.full_name().to_owned());
                }
            }
            if carriers.len() == before {
                break;
            }
        }
        let requests = pool
            .services()
            .filter(|service| service.package_name() == "panelgate.v1")
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .map(|method| method.input().full_name().to_owned())
            .collect();
        Ok(Secrets {
            messages,
            fields,
            carriers,
            requests,
        })
    }

    /// The full names of the messages with a secret field.
    pub fn redacted(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// The full names of the oneofs and messages nested in those.
    pub fn nested_in_redacted(&self) -> Vec<String> {
        let mut nested = Vec::new();
        for message in self.redacted_messages() {
            for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
                nested.push(oneof.full_name().to_owned());
            }
            for child in message
                .child_messages()
                .filter(|child| !child.is_map_entry())
            {
                nested.push(child.full_name().to_owned());
            }
        }
        nested
    }

    fn redacted_messages(&self) -> impl Iterator<Item = &MessageDescriptor> {
        self.messages
            .iter()
            .filter(|message| self.fields.contains_key(message.full_name()))
    }

    /// The generated `SecretValues` and `Debug` impls.
    pub fn generate(&self) -> String {
        let mut out = String::new();
        for message in &self.messages {
            let name = message.full_name();
            if self.carriers.contains(name) || self.requests.contains(name) {
                out.push_str(&self.secret_values(message));
            }
        }
        for message in self.redacted_messages() {
            out.push_str(&self.debug(message));
        }
        out
    }

    fn secret_values(&self, message: &MessageDescriptor) -> String {
        let path = message_path(message);
        let mut body = String::new();
        let secrets = self.fields.get(message.full_name());
        for field in message.fields().filter(|field| !in_oneof(field)) {
            let member = format!("self.{}", struct_field(&field));
            let secret = secrets.and_then(|fields| {
                fields
                    .iter()
                    .find(|(secret, _)| secret.number() == field.number())
                    .map(|(_, kind)| *kind)
            });
            let line = match (secret, field.is_list(), field.supports_presence()) {
                (Some(Secret::Value), true, _) => {
                    format!("values.extend({member}.iter().map(String::as_str));")
                }
                (Some(Secret::Value), false, true) => {
                    format!("values.extend({member}.as_deref());")
                }
                (Some(Secret::Value), false, false) => format!("values.push({member}.as_str());"),
                (Some(Secret::UriPassword), true, _) => {
                    format!("values.extend({member}.iter().filter_map(|uri| uri_password(uri)));")
                }
                (Some(Secret::UriPassword), false, _) => {
                    format!("values.extend(uri_password(&{member}));")
                }
                (None, true, _) if carried(&field, &self.carriers) => {
                    format!("for item in &{member} {{ values.extend(item.secret_values()); }}")
                }
                (None, false, _) if carried(&field, &self.carriers) => format!(
                    "if let Some(item) = &{member} {{ values.extend(item.secret_values()); }}"
                ),
                (None, ..) => continue,
            };
            writeln!(body, "        {line}").expect("writing to a String");
        }
        for oneof in message.oneofs().filter(|oneof| !oneof.is_synthetic()) {
            let arms: Vec<String> = oneof
                .fields()
                .filter(|field| carried(field, &self.carriers))
                .map(|field| {
                    format!(
                        "Some({}::{}::{}(item)) => values.extend(item.secret_values()),",
                        module_of(message),
                        upper_camel(oneof.name()),
                        upper_camel(field.name())
                    )
                })
                .collect();
            if !arms.is_empty() {
                writeln!(
                    body,
                    "        match &self.{} {{ {} _ => {{}} }}",
                    ident(oneof.name()),
                    arms.join(" ")
                )
                .expect("writing to a String");
            }
        }
        let body = if body.is_empty() {
            "        Vec::new()\n".to_owned()
        } else {
            format!(
                "        let mut values = Vec::new();\n{body}        values.retain(|value| !value.is_empty());\n        values\n"
            )
        };
        format!(
            "impl SecretValues for {path} {{\n    fn secret_values(&self) -> Vec<&str> {{\n{body}    }}\n}}\n\n"
        )
    }

    fn debug(&self, message: &MessageDescriptor) -> String {
        let path = message_path(message);
        let secrets = &self.fields[message.full_name()];
        let mut members: Vec<(String, Option<Secret>)> = Vec::new();
        for field in message.fields() {
            let member = struct_field(&field);
            let secret = secrets
                .iter()
                .find(|(secret, _)| secret.number() == field.number())
                .map(|(_, kind)| *kind);
            if !members.iter().any(|(seen, _)| *seen == member) {
                members.push((member, secret));
            }
        }
        let mut pattern = Vec::new();
        let mut shown = String::new();
        for (member, secret) in &members {
            let label = member.trim_start_matches("r#");
            match secret {
                Some(Secret::Value) => {
                    pattern.push(format!("{member}: _"));
                    write!(shown, ".field(\"{label}\", &REDACTED)").expect("writing to a String");
                }
                Some(Secret::UriPassword) => {
                    pattern.push(member.clone());
                    write!(shown, ".field(\"{label}\", &without_userinfo({member}))")
                        .expect("writing to a String");
                }
                None => {
                    pattern.push(member.clone());
                    write!(shown, ".field(\"{label}\", {member})").expect("writing to a String");
                }
            }
        }
        format!(
            "impl fmt::Debug for {path} {{\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n        \
             let {path} {{ {} }} = self;\n        f.debug_struct(\"{}\"){shown}.finish()\n    }}\n}}\n\n",
            pattern.join(", "),
            message.name()
        )
    }
}

/// Whether `field` sits in a real (not proto3-optional) oneof.
fn in_oneof(field: &FieldDescriptor) -> bool {
    field
        .containing_oneof()
        .is_some_and(|oneof| !oneof.is_synthetic())
}

/// Whether `field` holds a message that carries a secret.
fn carried(field: &FieldDescriptor, carriers: &BTreeSet<String>) -> bool {
    match field.kind() {
        Kind::Message(message) => !field.is_map() && carriers.contains(message.full_name()),
        _ => false,
    }
}

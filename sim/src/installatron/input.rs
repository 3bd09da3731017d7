//! Request parameters as the panel's PHP reads them: the query string, then a
//! JSON or form body over it, in one tree whatever the encoding (reading 5).
//!
//! # Format
//!
//! ```text
//! {"websites": [{"vhosts": {"http://a.com": "public_html"}}]}        (JSON)
//! websites[0][vhosts][http://a.com]=public_html                       (form, brackets URL-encoded or not)
//!   → websites: Map[("0", Map[("vhosts", Map[("http://a.com", Text("public_html"))])])]
//! ```
//!
//! A form gives strings and keyed arrays only; JSON also gives numbers,
//! booleans, `null` and lists. The typed readers here accept both spellings of
//! one value (`true` and `"1"`, `1001` and `"1001"`, a list and a keyed array).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::reply::{Failure, Field};
use crate::form::{Form, Param};

/// One parameter value; objects keep their keys in the order they came.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Input {
    /// JSON `null`: read as absent.
    Null,
    /// A JSON boolean.
    Bool(bool),
    /// A JSON number.
    Number(Number),
    /// A string (every form value is one).
    Text(String),
    /// A JSON array.
    List(Vec<Input>),
    /// A JSON object or a PHP array from brackets: the pairs in order.
    Map(Vec<(String, Input)>),
}

impl Input {
    /// The member `key` of an object.
    pub(super) fn get(&self, key: &str) -> Option<&Input> {
        match self {
            Input::Map(pairs) => pairs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// The items of a list: a JSON array, the values of a keyed array in
    /// their order, or nothing for an empty string (how a form sends an empty
    /// list); `None` for anything else.
    pub(super) fn items(&self) -> Option<Vec<&Input>> {
        match self {
            Input::List(items) => Some(items.iter().collect()),
            Input::Map(pairs) => Some(pairs.iter().map(|(_, value)| value).collect()),
            Input::Text(text) if text.is_empty() => Some(Vec::new()),
            _ => None,
        }
    }

    /// The pairs of an object: a JSON object or keyed array, or nothing for
    /// an empty list or string (PHP encodes an empty array as `[]`).
    pub(super) fn entries(&self) -> Option<Vec<(&str, &Input)>> {
        match self {
            Input::Map(pairs) => Some(
                pairs
                    .iter()
                    .map(|(key, value)| (key.as_str(), value))
                    .collect(),
            ),
            Input::List(items) if items.is_empty() => Some(Vec::new()),
            Input::Text(text) if text.is_empty() => Some(Vec::new()),
            _ => None,
        }
    }

    fn from_param(param: Param) -> Input {
        match param {
            Param::Str(text) => Input::Text(text),
            Param::Array(pairs) => Input::Map(
                pairs
                    .into_iter()
                    .map(|(key, value)| (key, Input::from_param(value)))
                    .collect(),
            ),
        }
    }
}

/// Stores `value` under `key`, replacing an earlier value in place (as PHP's
/// `json_decode` and `$_REQUEST` do).
fn put(pairs: &mut Vec<(String, Input)>, key: String, value: Input) {
    match pairs.iter_mut().find(|(name, _)| *name == key) {
        Some((_, slot)) => *slot = value,
        None => pairs.push((key, value)),
    }
}

// === JSON ===

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(InputVisitor)
    }
}

/// Builds an [`Input`] from any JSON value, keeping object key order.
struct InputVisitor;

impl<'de> Visitor<'de> for InputVisitor {
    type Value = Input;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Input, E> {
        Ok(Input::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Input, E> {
        Ok(Input::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Input, E> {
        Ok(Input::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Input, E> {
        Ok(Number::from_f64(value).map_or(Input::Null, Input::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Input, E> {
        Ok(Input::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Input, E> {
        Ok(Input::Text(value))
    }

    fn visit_unit<E>(self) -> Result<Input, E> {
        Ok(Input::Null)
    }

    fn visit_none<E>(self) -> Result<Input, E> {
        Ok(Input::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Input, D::Error> {
        Input::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Input, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Input::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Input, A::Error> {
        let mut pairs = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Input>()? {
            put(&mut pairs, key, value);
        }
        Ok(Input::Map(pairs))
    }
}

// === the parameters of one request ===

/// How a request body is encoded, from its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BodyKind {
    /// `application/json` (or any `+json` type).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// Anything else, or no `Content-Type`: the body is not read (reading 5).
    Other,
}

impl BodyKind {
    /// The kind a `Content-Type` value names (parameters ignored).
    pub(super) fn of(content_type: Option<&str>) -> BodyKind {
        let media = content_type
            .and_then(|value| value.split(';').next())
            .map(|media| media.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if media == "application/json" || media.ends_with("+json") {
            BodyKind::Json
        } else if media == "application/x-www-form-urlencoded" {
            BodyKind::Form
        } else {
            BodyKind::Other
        }
    }
}

/// The top-level parameters of one request: the query's, then the body's over them.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Params {
    fields: Vec<(String, Input)>,
}

impl Params {
    /// Reads the query string and the body; a JSON body that is not an object
    /// is refused (reading 5).
    pub(super) fn read(
        query: Option<&str>,
        kind: BodyKind,
        body: &[u8],
    ) -> Result<Params, Failure> {
        let mut params = Params::default();
        if let Some(query) = query {
            params.merge_form(query.as_bytes());
        }
        match kind {
            BodyKind::Form => params.merge_form(body),
            BodyKind::Json if !body.trim_ascii().is_empty() => {
                match serde_json::from_slice::<Input>(body) {
                    Ok(Input::Map(pairs)) => {
                        for (key, value) in pairs {
                            put(&mut params.fields, key, value);
                        }
                    }
                    _ => return Err(Failure::invalid_json()),
                }
            }
            BodyKind::Json | BodyKind::Other => {}
        }
        Ok(params)
    }

    fn merge_form(&mut self, raw: &[u8]) {
        for (key, value) in Form::decode(raw).into_fields() {
            put(&mut self.fields, key, Input::from_param(value));
        }
    }

    /// The value of a top-level parameter (`null` reads as absent).
    pub(super) fn get(&self, name: &str) -> Option<&Input> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
            .filter(|value| **value != Input::Null)
    }
}

// === typed readers ===

/// A string field: a string, or a number read as its decimal text; absent or
/// `null` is `None`; anything else is refused.
pub(super) fn text(value: Option<&Input>, field: &Field) -> Result<Option<String>, Failure> {
    match value {
        None | Some(Input::Null) => Ok(None),
        Some(Input::Text(text)) => Ok(Some(text.clone())),
        Some(Input::Number(number)) => Ok(Some(number.to_string())),
        Some(_) => Err(Failure::invalid(field, "not a string")),
    }
}

/// A string field that must be there and not blank (trimmed).
pub(super) fn required_text(value: Option<&Input>, field: &Field) -> Result<String, Failure> {
    match text(value, field)? {
        Some(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        _ => Err(Failure::empty(field)),
    }
}

/// A boolean field: `true`/`false`, `1`/`0` (PHP's `http_build_query` sends
/// booleans so), or the strings `"true"`/`"false"`/`"1"`/`"0"`/`""`.
pub(super) fn flag(value: Option<&Input>, field: &Field) -> Result<Option<bool>, Failure> {
    let read = match value {
        None | Some(Input::Null) => return Ok(None),
        Some(Input::Bool(flag)) => Some(*flag),
        Some(Input::Number(number)) => match number.as_u64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Some(Input::Text(text)) => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Some(true),
            "0" | "false" | "" => Some(false),
            _ => None,
        },
        Some(_) => None,
    };
    read.map(Some)
        .ok_or_else(|| Failure::invalid(field, "not a boolean"))
}

/// A whole-number field: a non-negative JSON integer or a string of digits.
pub(super) fn whole(value: Option<&Input>, field: &Field) -> Result<Option<u64>, Failure> {
    let read = match value {
        None | Some(Input::Null) => return Ok(None),
        Some(Input::Number(number)) => number.as_u64(),
        Some(Input::Text(text)) => {
            let digits = text.trim();
            if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
                digits.parse().ok()
            } else {
                None
            }
        }
        Some(_) => None,
    };
    read.map(Some)
        .ok_or_else(|| Failure::invalid(field, "not a whole number"))
}

//! Form bodies read the way PHP fills `$_POST`: percent-decoding as `urldecode`
//! does, and `http_build_query`'s bracket notation turned into nested arrays.
//!
//! Shared by the simulators of PHP panels: SPanel reads its whole API this way,
//! Installatron Server its form bodies and query strings.
//!
//! # Format
//!
//! ```text
//! permissions=all                               → permissions: "all"
//! permissions%5Bemail%5D=all                    → permissions: {email: "all"}
//! permissions[domain][0]=domains&permissions[domain][1]=redirects
//!                                               → permissions: {domain: {0: "domains", 1: "redirects"}}
//! username[]=a&username[]=b                     → username: {0: "a", 1: "b"}
//! ```
//!
//! A PHP array is an ordered map; [`Param::Array`] keeps the pairs in insertion
//! order, keys as strings (PHP's integer keys are their decimal form).

/// PHP's `max_input_nesting_level`: a name nested deeper is dropped.
const MAX_NESTING: usize = 64;

/// One decoded value: a PHP string or a PHP array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// A plain `name=value`.
    Str(String),
    /// `name[key]=...`: the pairs in insertion order.
    Array(Vec<(String, Param)>),
}

impl Param {
    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Param::Str(value) => Some(value),
            Param::Array(_) => None,
        }
    }

    /// A string as a one-item list, or an array's values, when every value is a
    /// string (`username=a`, `username[]=a&username[]=b`); `None` for nested arrays.
    pub(crate) fn as_list(&self) -> Option<Vec<String>> {
        match self {
            Param::Str(value) => Some(vec![value.clone()]),
            Param::Array(pairs) => pairs
                .iter()
                .map(|(_, value)| value.as_str().map(str::to_owned))
                .collect(),
        }
    }
}

/// A decoded form body: the top-level names in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Form {
    fields: Vec<(String, Param)>,
}

impl Form {
    /// Decodes an `application/x-www-form-urlencoded` body as PHP does.
    pub(crate) fn decode(body: &[u8]) -> Form {
        let mut form = Form::default();
        for pair in body.split(|&byte| byte == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                // PHP registers `name` alone with an empty value.
                None => (pair, &[][..]),
            };
            form.insert(&urldecode(name), urldecode(value));
        }
        form
    }

    /// The top-level names with their values, in insertion order.
    pub(crate) fn into_fields(self) -> Vec<(String, Param)> {
        self.fields
    }

    /// The value under a top-level name.
    pub(crate) fn get(&self, name: &str) -> Option<&Param> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// The value under `name` if it is a string (an array reads as absent).
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Param::as_str)
    }

    /// The value under `name` if it is a string with something in it besides
    /// whitespace (PHP code testing `empty(trim(...))`), trimmed.
    pub(crate) fn filled(&self, name: &str) -> Option<&str> {
        self.str(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }

    /// Registers one decoded `name=value` pair (`php_register_variable_ex`).
    fn insert(&mut self, name: &str, value: String) {
        let Some((base, path)) = split_name(name) else {
            return;
        };
        assign(&mut self.fields, Some(base), &path, value);
    }
}

/// Splits a variable name into its base and bracket segments (`None` = `[]`,
/// append), as PHP does: leading spaces skipped; `.` and ` ` in the base become
/// `_`; an unmatched `[` right after the base becomes `_` and the rest stays in
/// the name; after a closing `]` anything but `[` ends the name. `None` when
/// the base is empty or the name nests deeper than PHP accepts.
fn split_name(name: &str) -> Option<(String, Vec<Option<String>>)> {
    let name = name.trim_start_matches(' ');
    let (base, mut rest) = match name.find('[') {
        Some(at) => (&name[..at], &name[at..]),
        None => (name, ""),
    };
    let mut base: String = base
        .chars()
        .map(|c| if c == '.' || c == ' ' { '_' } else { c })
        .collect();
    let mut path = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            if path.is_empty() {
                base.push('_');
                base.push_str(inner);
            }
            break;
        };
        let segment = &inner[..end];
        path.push((!segment.is_empty()).then(|| segment.to_owned()));
        rest = &inner[end + 1..];
    }
    if base.is_empty() || path.len() >= MAX_NESTING {
        return None;
    }
    Some((base, path))
}

/// Stores `value` under `key` then `path` in `pairs`, creating arrays on the
/// way; a string in the way is replaced by an array, a later value for the same
/// key replaces the earlier one in place (PHP's hash update).
fn assign(
    pairs: &mut Vec<(String, Param)>,
    key: Option<String>,
    path: &[Option<String>],
    value: String,
) {
    let key = key.unwrap_or_else(|| next_index(pairs).to_string());
    let at = match pairs.iter().position(|(existing, _)| *existing == key) {
        Some(at) => at,
        None => {
            pairs.push((key, Param::Str(String::new())));
            pairs.len() - 1
        }
    };
    let slot = &mut pairs[at].1;
    let Some((next, deeper)) = path.split_first() else {
        *slot = Param::Str(value);
        return;
    };
    if !matches!(slot, Param::Array(_)) {
        *slot = Param::Array(Vec::new());
    }
    if let Param::Array(inner) = slot {
        assign(inner, next.clone(), deeper, value);
    }
}

/// PHP's next free integer key: one past the largest integer key, 0 if none.
fn next_index(pairs: &[(String, Param)]) -> u64 {
    pairs
        .iter()
        .filter_map(|(key, _)| integer_key(key))
        .max()
        .map_or(0, |largest| largest + 1)
}

/// A key PHP stores as an integer: a canonical decimal (no sign, no leading zero).
fn integer_key(key: &str) -> Option<u64> {
    let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
    if canonical && key.bytes().all(|byte| byte.is_ascii_digit()) {
        key.parse().ok()
    } else {
        None
    }
}

/// PHP's `urldecode`: `+` is a space, `%XX` a byte, a `%` not followed by two
/// hex digits stays as it is. Bytes that are not UTF-8 become U+FFFD.
pub(crate) fn urldecode(raw: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        match raw[at] {
            b'+' => bytes.push(b' '),
            b'%' if at + 2 < raw.len() => match (hex(raw[at + 1]), hex(raw[at + 2])) {
                (Some(high), Some(low)) => {
                    bytes.push(high << 4 | low);
                    at += 2;
                }
                _ => bytes.push(b'%'),
            },
            byte => bytes.push(byte),
        }
        at += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

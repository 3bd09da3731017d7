//! Lenient reading of what panels send: numbers as numbers or strings, sizes as
//! "10GB", "1.5 MB" or "0 Bytes", limits as "Unlimited" or -1.
//!
//! Size suffixes are read as binary multiples (1 KB = 1024 bytes), as hosting
//! panels compute them; a bare number is in the unit the caller names. Also
//! the one rule for sending limits to panels where 0 means unlimited.

use panelgate_proto::v1::Limit;
use serde_json::Value;

use crate::AdapterError;
use crate::Result;

/// The unit of a bare number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    /// Bytes.
    Bytes,
    /// Mebibytes.
    Mib,
}

const KIB: f64 = 1024.0;

/// Parses a size into bytes: "10GB", "1.5 MB", "0 Bytes", "512K", "2 GiB", or a
/// bare number in `bare`. None for anything else (negative, unknown suffix).
pub fn size_bytes(text: &str, bare: SizeUnit) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let multiplier = match suffix.trim().to_ascii_lowercase().as_str() {
        "" => match bare {
            SizeUnit::Bytes => 1.0,
            SizeUnit::Mib => KIB * KIB,
        },
        "b" | "byte" | "bytes" => 1.0,
        "k" | "kb" | "kib" => KIB,
        "m" | "mb" | "mib" => KIB * KIB,
        "g" | "gb" | "gib" => KIB * KIB * KIB,
        "t" | "tb" | "tib" => KIB * KIB * KIB * KIB,
        _ => return None,
    };
    let bytes = (number * multiplier).round();
    (bytes.is_finite() && bytes >= 0.0 && bytes <= u64::MAX as f64).then_some(bytes as u64)
}

/// Whether a panel value means "no limit": "Unlimited", "unlimited", -1.
pub fn is_unlimited(value: &Value) -> bool {
    match value {
        Value::String(text) => {
            let text = text.trim();
            text.eq_ignore_ascii_case("unlimited") || text == "-1" || text == "∞"
        }
        Value::Number(number) => number.as_i64() == Some(-1),
        _ => false,
    }
}

/// A whole number sent as a JSON number or a numeric string.
pub fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Text sent as a JSON string or number (ids); None for null or empty.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// An id the panel must send, as text; when it is unreadable, a protocol
/// error saying `unreadable`.
pub fn required_text(value: &Value, unreadable: impl FnOnce() -> String) -> Result<String> {
    as_text(value).ok_or_else(|| AdapterError::protocol(unreadable(), &value.to_string()))
}

/// A limit as the panel states it: unlimited markers become an absent `max`,
/// and `zero_is_unlimited` says what a 0 means on this panel. None when the value
/// cannot be read (the limit is then reported as unknown, not invented).
pub fn limit(
    value: &Value,
    parse: impl Fn(&Value) -> Option<u64>,
    zero_is_unlimited: bool,
) -> Option<Limit> {
    if is_unlimited(value) {
        return Some(Limit { max: None });
    }
    let max = parse(value)?;
    Some(Limit {
        max: (max != 0 || !zero_is_unlimited).then_some(max),
    })
}

/// A limit for a panel where 0 means unlimited (`panel` names it in
/// errors): None when unset, 0 when unlimited, else its maximum. A disabled
/// resource (a maximum of 0) cannot be expressed there.
pub fn zero_for_unlimited(panel: &str, field: &str, limit: Option<&Limit>) -> Result<Option<u64>> {
    match limit {
        None => Ok(None),
        Some(Limit { max: None }) => Ok(Some(0)),
        Some(Limit { max: Some(0) }) => Err(AdapterError::invalid(
            field,
            format!(
                "{panel} cannot disable a resource (0 means unlimited there); leave `max` out for unlimited"
            ),
        )),
        Some(Limit { max: Some(max) }) => Ok(Some(*max)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sizes_in_the_forms_panels_print() {
        assert_eq!(
            size_bytes("10GB", SizeUnit::Bytes),
            Some(10 * 1024 * 1024 * 1024)
        );
        assert_eq!(
            size_bytes("100MB", SizeUnit::Bytes),
            Some(100 * 1024 * 1024)
        );
        assert_eq!(size_bytes("1.5 MB", SizeUnit::Bytes), Some(1_572_864));
        assert_eq!(size_bytes("0 Bytes", SizeUnit::Bytes), Some(0));
        assert_eq!(size_bytes("512K", SizeUnit::Bytes), Some(524_288));
        assert_eq!(
            size_bytes("2 GiB", SizeUnit::Bytes),
            Some(2 * 1024 * 1024 * 1024)
        );
        assert_eq!(size_bytes("1024", SizeUnit::Mib), Some(1024 * 1024 * 1024));
        assert_eq!(size_bytes(" 7 ", SizeUnit::Bytes), Some(7));
    }

    #[test]
    fn unreadable_sizes_are_none() {
        for text in ["", "GB", "-1GB", "10 parsecs", "1.2.3MB", "Unlimited"] {
            assert_eq!(size_bytes(text, SizeUnit::Bytes), None, "{text}");
        }
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        assert_eq!(as_u64(&json!(5)), Some(5));
        assert_eq!(as_u64(&json!("5")), Some(5));
        assert_eq!(as_u64(&json!(5.0)), Some(5));
        assert_eq!(as_u64(&json!("five")), None);
        assert_eq!(as_u64(&json!(-2)), None);
        assert_eq!(as_u64(&json!(null)), None);
        assert_eq!(as_text(&json!(123)), Some("123".into()));
        assert_eq!(as_text(&json!("")), None);
    }

    #[test]
    fn limits_normalise_unlimited_and_zero_per_panel() {
        let unlimited = Some(Limit { max: None });
        assert_eq!(limit(&json!("Unlimited"), as_u64, false), unlimited);
        assert_eq!(limit(&json!(-1), as_u64, false), unlimited);
        assert_eq!(limit(&json!("-1"), as_u64, false), unlimited);
        assert_eq!(limit(&json!(0), as_u64, true), unlimited);
        assert_eq!(
            limit(&json!("0"), as_u64, false),
            Some(Limit { max: Some(0) })
        );
        assert_eq!(
            limit(&json!("12"), as_u64, true),
            Some(Limit { max: Some(12) })
        );
        assert_eq!(limit(&json!("lots"), as_u64, true), None);
    }
}

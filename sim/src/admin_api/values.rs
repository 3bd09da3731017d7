//! How the panel reads form values and renders sizes and limits.

use crate::dns;

/// Reads a form value as Python's `int()` does for a non-negative number:
/// surrounding whitespace and a leading `+` are accepted.
pub(super) fn parse_number(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

/// Reads a bool-ish form value (`limit_action`): `1`, `true`, `on`, `yes` in any case.
pub(super) fn parse_flag(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "on" | "yes"
    )
}

/// Normalizes a domain as the panel does, `None` when it is not a valid domain
/// (reading 9: lowercase, no scheme, no trailing `/`, two or more DNS labels,
/// alphabetic top-level label).
pub(super) fn normalize_domain(raw: &str) -> Option<String> {
    let lowered = raw.trim().to_ascii_lowercase();
    let host = lowered
        .strip_prefix("http://")
        .or_else(|| lowered.strip_prefix("https://"))
        .unwrap_or(&lowered)
        .trim_end_matches('/');
    dns::is_domain(host).then(|| host.to_owned())
}

/// A usage in bytes, the code's way: `"0 Bytes"`, `"512 Bytes"`, `"48 KB"`, `"1.55 MB"`.
pub(super) fn size_display(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} Bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let rounded = format!("{value:.2}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    format!("{trimmed} {}", UNITS[unit])
}

/// A size limit in MB, the doc's way: `"1GB"`, `"500MB"`, `"Unlimited"` for 0.
pub(super) fn size_limit(megabytes: u64) -> serde_json::Value {
    match megabytes {
        0 => "Unlimited".into(),
        mb if mb % 1024 == 0 => format!("{}GB", mb / 1024).into(),
        mb => format!("{mb}MB").into(),
    }
}

/// A count limit: the number, or `"Unlimited"` for 0.
pub(super) fn count_limit(count: u64) -> serde_json::Value {
    match count {
        0 => "Unlimited".into(),
        count => count.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Domains are normalized and malformed ones refused.
    #[test]
    fn domain_rules() {
        assert_eq!(
            normalize_domain(" HTTPS://Example.COM/ ").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            normalize_domain("shop.example.co.uk").as_deref(),
            Some("shop.example.co.uk")
        );
        for bad in [
            "localhost",
            "exa_mple.com",
            "-a.com",
            "a..com",
            "a.c0m",
            "a.b/c",
            "",
        ] {
            assert_eq!(normalize_domain(bad), None, "{bad}");
        }
    }

    /// Sizes and limits use the panel's two styles.
    #[test]
    fn size_rendering() {
        assert_eq!(size_display(0), "0 Bytes");
        assert_eq!(size_display(48 * 1024), "48 KB");
        assert_eq!(size_display(1536 * 1024), "1.5 MB");
        assert_eq!(size_display(1536 * 1024 + 48 * 1024), "1.55 MB");
        assert_eq!(size_limit(0), "Unlimited");
        assert_eq!(size_limit(10240), "10GB");
        assert_eq!(size_limit(500), "500MB");
        assert_eq!(count_limit(0), "Unlimited");
        assert_eq!(count_limit(3), 3);
    }
}

//! Domain names as every simulated panel accepts them: two or more DNS labels
//! (letters, digits and inner hyphens, 1 to 63 each; 253 characters in all)
//! ending in an alphabetic top-level label of two or more letters. How a panel
//! normalizes a name first (case, scheme, slashes) stays with the panel.

/// Whether `name` is such a domain name (no normalization: an uppercase
/// letter is a letter, a trailing dot an empty label).
pub(crate) fn is_domain(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    let top_level = labels.last().is_some_and(|label| {
        label.len() >= 2 && label.bytes().all(|byte| byte.is_ascii_alphabetic())
    });
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| is_label(label))
        && top_level
}

/// One DNS label: 1 to 63 letters, digits and inner hyphens.
pub(crate) fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

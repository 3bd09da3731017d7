//! Reading panelgate's error details off a `tonic::Status`, and asserting on them.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// `ErrorInfo.reason`, or "" when the status has none.
pub fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// One `ErrorInfo.metadata` value, or "".
pub fn metadata(status: &Status, key: &str) -> String {
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get(key).cloned())
        .unwrap_or_default()
}

/// The fields `BadRequest` names.
pub fn bad_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|violation| violation.field)
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the call failed with `code` and ErrorInfo `reason` (domain "panelgate").
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    expected_reason: &str,
) -> Status {
    let status = match result {
        Ok(value) => panic!("expected {code:?} {expected_reason}, got Ok({value:?})"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "code of: {status:?}");
    assert_eq!(reason(&status), expected_reason, "reason of: {status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo present");
    assert_eq!(info.domain, "panelgate");
    status
}

/// Asserts an INVALID_ARGUMENT naming `field` in BadRequest.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> Status {
    let status = assert_error(result, Code::InvalidArgument, "INVALID_FIELD");
    assert_eq!(
        bad_fields(&status),
        vec![field.to_owned()],
        "fields of: {status:?}"
    );
    status
}

/// The descriptions of the BadRequest violations of `field`, joined by "; ".
pub fn violation(status: &Status, field: &str) -> String {
    status
        .get_details_bad_request()
        .into_iter()
        .flat_map(|bad| bad.field_violations)
        .filter(|violation| violation.field == field)
        .map(|violation| violation.description)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Asserts an INVALID_ARGUMENT naming `field` alone, whose BadRequest
/// description is `description` (for a panel's refusals: its own words).
#[track_caller]
pub fn assert_invalid_because<T: std::fmt::Debug>(
    result: Result<T, Status>,
    field: &str,
    description: &str,
) -> Status {
    let status = assert_invalid(result, field);
    assert_eq!(violation(&status, field), description, "{status:?}");
    status
}

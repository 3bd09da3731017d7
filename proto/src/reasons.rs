//! The error table: for each [`ErrorReason`] (`panelgate/v1/errors.proto`),
//! its status code, whether a retry may change the outcome, and whether the
//! failure is panelgate's or a panel's trouble rather than the caller's. The
//! gateway's replies, its journal, its logs and its metrics all read it here.

use tonic::Code;

use crate::v1::ErrorReason;

/// How a failure is answered and treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorClass {
    /// The status code.
    pub code: Code,
    /// A retry may end otherwise: the panel may or may not have acted, or the
    /// trouble was passing. Such outcomes are not replayed.
    pub retryable: bool,
    /// panelgate's or a panel's trouble (logged as a warning), not the caller's.
    pub ours: bool,
}

impl ErrorClass {
    /// A call that succeeded.
    pub const OK: ErrorClass = ErrorClass {
        code: Code::Ok,
        retryable: false,
        ours: false,
    };

    /// A call whose caller went away before it ended.
    pub const CANCELLED: ErrorClass = ErrorClass {
        code: Code::Cancelled,
        retryable: true,
        ours: false,
    };

    /// The caller's to act on: retrying the same request changes nothing.
    const fn callers(code: Code) -> Self {
        ErrorClass {
            code,
            retryable: false,
            ours: false,
        }
    }

    /// Ours or the panel's: the same request may succeed later.
    const fn troubles(code: Code) -> Self {
        ErrorClass {
            code,
            retryable: true,
            ours: true,
        }
    }
}

impl ErrorReason {
    /// Its `ErrorInfo.reason`, e.g. "ACCOUNT_NOT_FOUND".
    pub fn name(self) -> &'static str {
        self.as_str_name().trim_start_matches("ERROR_REASON_")
    }

    /// How a failure of this reason is answered and treated.
    pub const fn class(self) -> ErrorClass {
        use ErrorReason as R;
        match self {
            R::InvalidField => ErrorClass::callers(Code::InvalidArgument),
            R::AccountNotFound
            | R::PackageNotFound
            | R::DomainNotFound
            | R::DatabaseNotFound
            | R::DatabaseUserNotFound
            | R::ServiceNotFound
            | R::ServerNotFound
            | R::OperationNotFound
            | R::SyncRunNotFound
            | R::BatchNotFound
            | R::AccountNotIndexed => ErrorClass::callers(Code::NotFound),
            R::AccountAlreadyExists
            | R::PackageAlreadyExists
            | R::DomainAlreadyExists
            | R::DatabaseAlreadyExists
            | R::DatabaseUserAlreadyExists
            | R::ServiceAlreadyExists
            | R::ServerAlreadyExists
            | R::OperationAlreadyExists => ErrorClass::callers(Code::AlreadyExists),
            R::LimitReached | R::ServerFull => ErrorClass::callers(Code::ResourceExhausted),
            // Servers may come back, or get room: a retry may be placed.
            R::NoServerAvailable => ErrorClass {
                code: Code::ResourceExhausted,
                retryable: true,
                ours: false,
            },
            R::AccountAmbiguous
            | R::PanelCredentialsRejected
            | R::PanelApiDisabled
            | R::PanelPermissionDenied
            | R::PanelSsoDisabled
            | R::PanelRefused
            | R::AccountSuspended
            | R::AccountNotSuspended
            | R::AccountHasNoPackage
            | R::CertificateNotIssued
            | R::ServerMisconfigured
            | R::CredentialsUnreadable
            | R::ServerDisabled
            | R::ServerDraining
            | R::UpstreamTlsUntrusted
            | R::MasterKeyMissing
            | R::RequestIdReused => ErrorClass::callers(Code::FailedPrecondition),
            R::OperationNotSupported => ErrorClass::callers(Code::Unimplemented),
            R::UpstreamUnavailable
            | R::UpstreamRateLimited
            | R::UpstreamCircuitOpen
            | R::ServerBusy
            | R::InventoryUnavailable => ErrorClass::troubles(Code::Unavailable),
            R::UpstreamTimeout => ErrorClass::troubles(Code::DeadlineExceeded),
            R::UpstreamProtocolError | R::UpstreamOperationFailed | R::InventoryError => {
                ErrorClass::troubles(Code::Internal)
            }
            R::Unauthenticated => ErrorClass::callers(Code::Unauthenticated),
            R::ScopeMissing | R::GroupNotAllowed | R::MethodUnknown => {
                ErrorClass::callers(Code::PermissionDenied)
            }
            // Nothing to retry: the server is gone.
            R::ServerRemoved => ErrorClass::callers(Code::Aborted),
            // Retry later: the first call will have ended.
            R::RequestInProgress => ErrorClass {
                code: Code::Aborted,
                retryable: true,
                ours: false,
            },
            R::Unspecified => ErrorClass::troubles(Code::Unknown),
        }
    }
}

/// A status code's canonical name, e.g. "NOT_FOUND".
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The code named by [`code_name`].
pub fn code_from_name(name: &str) -> Option<Code> {
    (0..=16)
        .map(Code::from_i32)
        .find(|code| code_name(*code) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_round_trip() {
        for value in 0..=16 {
            let code = Code::from_i32(value);
            assert_eq!(code_from_name(code_name(code)), Some(code));
        }
        assert_eq!(code_from_name("PENDING"), None);
    }

    #[test]
    fn reasons_are_named_without_their_prefix() {
        assert_eq!(ErrorReason::AccountNotFound.name(), "ACCOUNT_NOT_FOUND");
        assert_eq!(ErrorReason::RequestInProgress.class().code, Code::Aborted);
    }
}

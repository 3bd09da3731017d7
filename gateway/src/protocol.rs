//! The gRPC protocol's own refusals, answered as the protocol and the status
//! code guide say: a request that is not gRPC (its content-type) gets HTTP
//! 415; a request message that does not decode is the caller's mistake,
//! INVALID_ARGUMENT (tonic answers INTERNAL); one over the size limit is
//! RESOURCE_EXHAUSTED (tonic answers OUT_OF_RANGE).

use tonic::{
    Code, Status,
    codegen::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header::CONTENT_TYPE},
};

use crate::gate::Gate;

/// How tonic words a request message that does not decode.
const UNDECODABLE: &str = "failed to decode Protobuf message";
/// How tonic words a request message over the size limit.
const TOO_LARGE: &str = "Error, decoded message length too large";

/// The protocol's gate: refuses what is not gRPC, recodes decoding refusals.
#[derive(Clone, Copy, Debug, Default)]
pub struct Protocol;

impl Gate for Protocol {
    fn check<B, R: Default>(&self, request: &mut Request<B>) -> Result<(), Response<R>> {
        if is_grpc(request.headers()) {
            return Ok(());
        }
        let mut refused = Status::invalid_argument(
            "not a gRPC request: the content-type must be application/grpc",
        )
        .into_http::<R>();
        *refused.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        Err(refused)
    }

    fn amend(&self, headers: &mut HeaderMap) {
        recode(headers);
    }
}

/// Whether a request says it is gRPC (`application/grpc`, `+proto` and the like).
fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"))
}

/// Gives tonic's decoding refusals of a trailers-only reply their codes.
fn recode(headers: &mut HeaderMap) {
    let code = headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map(Code::from_i32);
    // grpc-message is percent-encoded; the wordings have only spaces to decode.
    let message = headers
        .get("grpc-message")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .replace("%20", " ");
    let recoded = match code {
        Some(Code::Internal) if message.starts_with(UNDECODABLE) => Code::InvalidArgument,
        Some(Code::OutOfRange) if message.starts_with(TOO_LARGE) => Code::ResourceExhausted,
        _ => return,
    };
    headers.insert("grpc-status", HeaderValue::from(recoded as i32));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(code: Code, message: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from(code as i32));
        headers.insert(
            "grpc-message",
            HeaderValue::from_str(message).expect("printable"),
        );
        headers
    }

    #[test]
    fn decoding_refusals_get_their_codes_and_others_stay() {
        for (code, message, expected) in [
            (
                Code::Internal,
                "failed%20to%20decode%20Protobuf%20message:%20invalid",
                Code::InvalidArgument,
            ),
            (
                Code::OutOfRange,
                "Error,%20decoded%20message%20length%20too%20large:%20found",
                Code::ResourceExhausted,
            ),
            (Code::Internal, "inventory error", Code::Internal),
            (Code::OutOfRange, "page out of range", Code::OutOfRange),
        ] {
            let mut headers = headers(code, message);
            recode(&mut headers);
            assert_eq!(
                headers["grpc-status"],
                (expected as i32).to_string(),
                "{message}"
            );
        }
    }

    #[test]
    fn grpc_content_types() {
        for (value, grpc) in [
            ("application/grpc", true),
            ("application/grpc+proto", true),
            ("application/json", false),
            ("text/plain", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_grpc(&headers), grpc, "{value}");
        }
        assert!(!is_grpc(&HeaderMap::new()));
    }
}

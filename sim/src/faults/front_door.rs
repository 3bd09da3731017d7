//! The front door every request passes: counted, logged, answered by the
//! injected fault instead of the panel when one is set, held back by the
//! injected delay.

use std::convert::Infallible;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};

use super::{Fault, Faults, RequestCounter};

/// The router behind the [`front_door`] middleware.
pub(super) fn with_front_door(
    router: Router,
    faults: &Faults,
    requests: &RequestCounter,
) -> Router {
    let front = FrontDoor {
        faults: faults.clone(),
        requests: requests.clone(),
    };
    // `layer` (not `route_layer`) so that faults and counting cover unknown paths too.
    router.layer(middleware::from_fn_with_state(front, front_door))
}

/// State of the [`front_door`] middleware.
#[derive(Clone)]
struct FrontDoor {
    faults: Faults,
    requests: RequestCounter,
}

/// Counts and logs each request, applies the injected fault and delay.
///
/// The delay is applied after the panel has handled the request: like a slow
/// panel, the work is done even when the client gives up waiting.
async fn front_door(State(front): State<FrontDoor>, request: Request, next: Next) -> Response {
    front.requests.increment();
    let _answering = front.requests.answering();
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let knobs = front.faults.take();
    let mut response = match knobs.fault.clone().and_then(fault_response) {
        Some(injected) => injected,
        None => next.run(request).await,
    };
    if method == Method::CONNECT {
        response = with_unknown_size(response).await;
    }
    if !knobs.delay.is_zero() {
        tokio::time::sleep(knobs.delay).await;
    }
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        fault = knobs.fault.as_ref().map(Fault::label),
        "request"
    );
    response
}

/// The same answer with a body of unknown size.
///
/// Axum's router drops the body of a 2xx answer to CONNECT whose size it knows
/// (RFC 9110: a tunnel follows), at every route level; one of unknown size is
/// left alone, so the raw CONNECT path (`connect`) can write it. A simulator's
/// CONNECT handler passes its answer through this, and the front door does it
/// for injected faults. Hyper would still drop the body, which is why that path
/// bypasses hyper.
pub(crate) async fn with_unknown_size(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Body::from_stream(futures::stream::iter([Ok::<_, Infallible>(bytes)])),
        Err(error) => {
            tracing::warn!(%error, "answer to CONNECT unreadable, sent empty");
            Body::empty()
        }
    };
    Response::from_parts(parts, body)
}

/// The answer a fault gives instead of the panel; `None` for
/// [`Fault::DropConnection`], which the listener applies (a request read before
/// it was set is answered normally).
fn fault_response(fault: Fault) -> Option<Response> {
    let response = match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let title = format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            let page = format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
                 <center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n\
                 </body>\r\n</html>\r\n"
            );
            (status, Html(page)).into_response()
        }
        Fault::Json(code, body) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Fault::Empty(code) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Fault::Redirect(code, location) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND),
            [(header::LOCATION, location)],
        )
            .into_response(),
        Fault::Html => Html(LOGIN_PAGE).into_response(),
        Fault::BrokenJson => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"success": true, "message": "User created succ"#,
        )
            .into_response(),
        Fault::DropConnection => return None,
    };
    Some(response)
}

/// What a panel behind an expired session or a captive proxy sends back.
const LOGIN_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<title>Login</title></head>\n<body>\n<form method=\"post\" action=\"/login/\">\n\
<input name=\"username\"><input name=\"password\" type=\"password\">\n\
<button type=\"submit\">Sign in</button>\n</form>\n</body>\n</html>\n";

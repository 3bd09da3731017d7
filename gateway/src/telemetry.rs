//! The outermost tower layer: one tracing span per call, and the gRPC server
//! metrics.
//!
//! The span (`grpc`) carries the request id (the caller's `x-request-id`
//! when it is a sane token, else a new UUID, echoed in the reply headers),
//! the method, and fields filled in as the call goes: `caller` (auth),
//! `server_id` and `panel_kind` (routing), `upstream_status` and
//! `upstream_ms` (the last panel HTTP call). Every log line of the call is
//! inside it.
//!
//! A call ends when its status is known: at once for a trailers-only reply
//! (every error tonic sends), or when the body's trailers pass by. A reply
//! dropped before either (the client went away) ends as CANCELLED.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use futures::future::BoxFuture;
use http_body::{Body, Frame, SizeHint};
use panelgate_proto::code_name;
use tonic::{
    Code,
    codegen::http::{HeaderMap, HeaderValue, Request, Response},
};
use tower::{Layer, Service};
use tracing::{Instrument, field::Empty, info_span};

use crate::{
    auth::scopes,
    metrics::{Metrics, RpcLabels},
};

/// Header carrying a call's request id, both ways.
const REQUEST_ID: &str = "x-request-id";
/// Longest request id taken from a caller.
const MAX_REQUEST_ID: usize = 128;
/// The standard services' RPCs (the scope table holds panelgate's own).
const STANDARD_RPCS: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Adds [`TelemetryService`] around the gRPC services.
#[derive(Clone)]
pub struct TelemetryLayer {
    metrics: Metrics,
}

impl TelemetryLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Metrics) -> Self {
        TelemetryLayer { metrics }
    }
}

impl<S> Layer<S> for TelemetryLayer {
    type Service = TelemetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TelemetryService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`TelemetryLayer`] makes.
#[derive(Clone)]
pub struct TelemetryService<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TelemetryService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Body<Data = tonic::codegen::Bytes> + Send + 'static,
{
    type Response = Response<Observed<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let rpc = rpc_labels(request.uri().path());
        let request_id = request_id(request.headers());
        let span = info_span!(
            "grpc",
            method = %format_args!("{}/{}", short_service(rpc.grpc_service), rpc.grpc_method),
            request_id = %request_id,
            caller = Empty,
            server_id = Empty,
            panel_kind = Empty,
            upstream_status = Empty,
            upstream_ms = Empty,
        );
        self.metrics.rpc_started(&rpc);
        let end = End {
            metrics: Some(self.metrics.clone()),
            rpc,
            started: Instant::now(),
        };
        let response = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let mut response = response.await?;
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID, value);
                }
                let mut end = end;
                // A trailers-only reply: the status is in the headers.
                if let Some(code) = grpc_status(response.headers()) {
                    end.finish(code);
                }
                Ok(response.map(|body| Observed { body, end }))
            }
            .instrument(span),
        )
    }
}

/// The labels of a request path; paths of no known RPC share one label, so
/// callers cannot grow the series without bound.
fn rpc_labels(path: &str) -> RpcLabels {
    let known = STANDARD_RPCS
        .iter()
        .copied()
        .find(|rpc| *rpc == path)
        .or_else(|| scopes::rpc(path));
    let (service, method) = known
        .and_then(|rpc| rpc.trim_start_matches('/').split_once('/'))
        .unwrap_or(("unknown", "unknown"));
    let grpc_type = if service.starts_with("grpc.reflection.") {
        "bidi_stream"
    } else if service == "grpc.health.v1.Health" && method == "Watch" {
        "server_stream"
    } else {
        "unary"
    };
    RpcLabels {
        grpc_type,
        grpc_service: service,
        grpc_method: method,
    }
}

/// "panelgate.v1.AccountService" → "AccountService".
fn short_service(service: &str) -> &str {
    service.rsplit('.').next().unwrap_or(service)
}

/// The caller's request id when it is a short token of safe characters, else
/// a new random UUID (from a fast thread-local generator: it correlates log
/// lines, it guards nothing).
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(&byte))
        })
        .map_or_else(
            || {
                let random = fastrand::u128(..).to_le_bytes();
                uuid::Builder::from_random_bytes(random)
                    .into_uuid()
                    .to_string()
            },
            str::to_owned,
        )
}

/// The `grpc-status` in `headers`, as a code name.
fn grpc_status(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get("grpc-status")?.to_str().ok()?;
    let code = value.parse::<i32>().map_or(Code::Unknown, Code::from_i32);
    Some(code_name(code))
}

/// Records the end of one call, once.
struct End {
    /// None once recorded.
    metrics: Option<Metrics>,
    rpc: RpcLabels,
    started: Instant,
}

impl End {
    fn finish(&mut self, code: &'static str) {
        if let Some(metrics) = self.metrics.take() {
            metrics.rpc_handled(&self.rpc, code, self.started.elapsed());
        }
    }
}

impl Drop for End {
    fn drop(&mut self) {
        self.finish(code_name(Code::Cancelled));
    }
}

pin_project_lite::pin_project! {
    /// A reply body that ends its call's record when the trailers pass.
    pub struct Observed<B> {
        #[pin]
        body: B,
        end: End,
    }
}

impl<B: Body> Body for Observed<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.body.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.end.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => this.end.finish(code_name(Code::Internal)),
            Poll::Ready(None) => this.end.finish(code_name(Code::Ok)),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_known_and_unknown_paths() {
        let rpc = rpc_labels("/panelgate.v1.AccountService/GetAccount");
        assert_eq!(rpc.grpc_service, "panelgate.v1.AccountService");
        assert_eq!(rpc.grpc_method, "GetAccount");
        assert_eq!(rpc.grpc_type, "unary");
        let reflection = rpc_labels("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
        assert_eq!(reflection.grpc_type, "bidi_stream");
        assert_eq!(
            rpc_labels("/grpc.health.v1.Health/Watch").grpc_type,
            "server_stream"
        );
        for junk in [
            "/x.Y/Z",
            "/",
            "",
            "/panelgate.v1.AccountService/Nope",
            "/grpc.health.v1.Health/Random123",
        ] {
            let rpc = rpc_labels(junk);
            assert_eq!((rpc.grpc_service, rpc.grpc_method), ("unknown", "unknown"));
        }
    }

    #[test]
    fn request_ids_are_taken_only_when_sane() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("abc-123_x.y:z"));
        assert_eq!(request_id(&headers), "abc-123_x.y:z");
        for bad in ["", "with space", "quote\"", &"x".repeat(MAX_REQUEST_ID + 1)] {
            let mut headers = HeaderMap::new();
            headers.insert(REQUEST_ID, HeaderValue::from_str(bad).expect("header"));
            let id = request_id(&headers);
            assert_ne!(id, bad);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
    }
}

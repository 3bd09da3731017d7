//! A gate in front of the gRPC services: a tower layer that looks at each
//! request, and either lets it through (possibly marked, e.g. with its
//! caller) or answers it at once; it may then amend the reply's headers.
//! The protocol checks (`protocol`) and authentication (`auth::layer`) are gates.

use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::codegen::http::{HeaderMap, Request, Response};
use tower::{Layer, Service};

/// What a gate decides.
pub trait Gate: Clone + Send + Sync + 'static {
    /// Lets `request` through (`Ok`), or answers it with the returned reply.
    fn check<B, R: Default>(&self, request: &mut Request<B>) -> Result<(), Response<R>>;

    /// Amends the headers of a reply that went through.
    fn amend(&self, _headers: &mut HeaderMap) {}
}

/// The layer putting `G` in front of a service.
#[derive(Clone, Debug)]
pub struct GateLayer<G>(pub G);

impl<S, G: Clone> Layer<S> for GateLayer<G> {
    type Service = GateService<S, G>;

    fn layer(&self, inner: S) -> Self::Service {
        GateService {
            inner,
            gate: self.0.clone(),
        }
    }
}

/// The service a [`GateLayer`] makes.
#[derive(Clone, Debug)]
pub struct GateService<S, G> {
    inner: S,
    gate: G,
}

impl<S, G, ReqBody, ResBody> Service<Request<ReqBody>> for GateService<S, G>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send,
    S::Future: Send + 'static,
    G: Gate,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if let Err(answer) = self.gate.check(&mut request) {
            return Box::pin(async move { Ok(answer) });
        }
        let response = self.inner.call(request);
        let gate = self.gate.clone();
        Box::pin(async move {
            let mut response = response.await?;
            gate.amend(response.headers_mut());
            Ok(response)
        })
    }
}

//! The bottom of the outbound stack: one attempt at a call, sent and its
//! whole (bounded) reply read, counted in the metrics and noted on the call's
//! span, transport failures classified (timeout, untrusted certificate,
//! refused, dropped).

use std::{
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use reqwest::header::{LOCATION, RETRY_AFTER};
use rustls::ClientConfig;
use tower::Service;
use tracing::{Span, debug};

use super::{Outbound, Request};
use crate::{
    AdapterError, Result,
    http::{
        Reply, raw,
        reply::{MAX_REPLY_BYTES, parse_retry_after, too_large},
        transport_error,
    },
    metrics::{PanelMetrics, ServerLabels, failure_outcome, status_outcome},
};

/// Sends one attempt to one server's panel. Cheap to clone (each layer
/// above clones what is below it for every call).
#[derive(Clone, Debug)]
pub(crate) struct Exchange(Arc<Peer>);

/// One server's panel, as the exchange reaches it.
#[derive(Debug)]
pub(crate) struct Peer {
    pub(crate) client: reqwest::Client,
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) connect_timeout: Duration,
    pub(crate) server: ServerLabels,
    pub(crate) metrics: PanelMetrics,
}

impl Exchange {
    /// Exchanges with `peer`.
    pub(crate) fn new(peer: Peer) -> Self {
        Exchange(Arc::new(peer))
    }
}

impl Service<Outbound> for Exchange {
    type Response = Reply;
    type Error = AdapterError;
    type Future = BoxFuture<'static, Result<Reply>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Outbound) -> Self::Future {
        let exchange = self.0.clone();
        Box::pin(async move {
            let started = Instant::now();
            let received = match call.request {
                Request::Http(request) => exchange.receive(request).await,
                Request::Raw { url, head } => raw::exchange(
                    &url,
                    &exchange.tls,
                    exchange.connect_timeout,
                    head.as_bytes(),
                )
                .await
                .and_then(|bytes| raw::parse(&bytes, &url)),
            };
            exchange.observe(started, &received);
            received
        })
    }
}

impl Peer {
    /// Sends a request and reads the reply as it came.
    async fn receive(&self, request: reqwest::Request) -> Result<Reply> {
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|err| transport_error(&err, self.connect_timeout))?;
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let retry_after = header(RETRY_AFTER).and_then(parse_retry_after);
        let location = header(LOCATION).and_then(|location| response.url().join(location).ok());

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| transport_error(&err, self.connect_timeout))?
        {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(too_large(&body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            body,
            retry_after,
            location,
        })
    }

    /// Counts an attempt in the metrics and notes its status on the current
    /// call's span.
    fn observe(&self, started: Instant, received: &Result<Reply>) {
        let elapsed = started.elapsed();
        let latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let outcome = match received {
            Ok(reply) => {
                Span::current().record("upstream_status", reply.status.as_u16());
                status_outcome(reply.status.as_u16())
            }
            Err(err) => failure_outcome(err),
        };
        Span::current().record("upstream_ms", latency_ms);
        debug!(outcome, latency_ms, "panel replied");
        self.metrics.upstream(&self.server, outcome, elapsed);
    }
}

//! The stages of the outbound stack that are panelgate's own, each a tower
//! layer doing one thing around the rest of the stack: the credentials
//! backoff, the circuit breaker, the bulkhead, and the per-attempt deadline.

use std::{
    future::Future,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use tower::{Layer, Service, ServiceExt};

use super::{Outbound, Timeouts, breaker::Outcome, guard::Guard};
use crate::{AdapterError, Result, http::Reply};

/// What a stage does around the rest of the stack.
pub(super) trait Stage: Clone + Send + Sync + 'static {
    /// Runs `call` through `rest`, or answers it itself.
    fn around<R>(&self, call: Outbound, rest: R) -> impl Future<Output = Result<Reply>> + Send
    where
        R: Service<Outbound, Response = Reply, Error = AdapterError> + Send + 'static,
        R::Future: Send;
}

/// The layer putting a [`Stage`] above the rest of the stack.
#[derive(Clone)]
pub(super) struct StageLayer<S>(pub S);

impl<S: Clone, I> Layer<I> for StageLayer<S> {
    type Service = StageService<S, I>;

    fn layer(&self, inner: I) -> Self::Service {
        StageService {
            stage: self.0.clone(),
            inner,
        }
    }
}

/// The service a [`StageLayer`] makes.
#[derive(Clone)]
pub(super) struct StageService<S, I> {
    stage: S,
    inner: I,
}

impl<S, I> Service<Outbound> for StageService<S, I>
where
    S: Stage,
    I: Service<Outbound, Response = Reply, Error = AdapterError> + Clone + Send + 'static,
    I::Future: Send,
{
    type Response = Reply;
    type Error = AdapterError;
    type Future = BoxFuture<'static, Result<Reply>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        // The stages below are always ready: readiness is the bulkhead's
        // bounded wait, inside the call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: Outbound) -> Self::Future {
        let stage = self.stage.clone();
        let rest = self.inner.clone();
        Box::pin(async move { stage.around(call, rest).await })
    }
}

/// Fails calls fast while the panel rejects panelgate's credentials.
#[derive(Clone)]
pub(super) struct Credentials(pub Arc<Guard>);

impl Stage for Credentials {
    async fn around<R>(&self, call: Outbound, rest: R) -> Result<Reply>
    where
        R: Service<Outbound, Response = Reply, Error = AdapterError> + Send + 'static,
        R::Future: Send,
    {
        if !call.scope.probe
            && let Some(rejected) = self.0.credentials_rejected()
        {
            self.0
                .metrics
                .rejected(self.0.server_id(), "credentials_rejected");
            return Err(rejected);
        }
        rest.oneshot(call).await
    }
}

/// Fails calls at once while the circuit is open, and counts every outcome.
#[derive(Clone)]
pub(super) struct Breaking(pub Arc<Guard>);

impl Stage for Breaking {
    async fn around<R>(&self, call: Outbound, rest: R) -> Result<Reply>
    where
        R: Service<Outbound, Response = Reply, Error = AdapterError> + Send + 'static,
        R::Future: Send,
    {
        let guard = &self.0;
        if let Err(open) = guard.breaker.admit(call.scope.probe) {
            guard.metrics.rejected(guard.server_id(), "circuit_open");
            return Err(open);
        }
        let pending = Pending(guard);
        let result = rest.oneshot(call).await;
        std::mem::forget(pending);
        guard.record(outcome(&result));
        result
    }
}

/// A call let through the breaker whose outcome is not known yet: dropped
/// with the call (its caller went away), it tells the breaker so.
struct Pending<'a>(&'a Guard);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.breaker.abandon();
    }
}

/// What a call's result says of the panel's health: transport failures,
/// timeouts and 5xx replies are the panel failing; a refusal before the call
/// left (busy, a certificate to trust) says nothing.
fn outcome(result: &Result<Reply>) -> Outcome {
    match result {
        Ok(reply) if reply.status.is_server_error() => {
            Outcome::Failed(panelgate_proto::v1::ErrorReason::UpstreamUnavailable)
        }
        Ok(_) => Outcome::Answered,
        Err(
            error @ (AdapterError::Unavailable { .. }
            | AdapterError::Unreachable { .. }
            | AdapterError::Timeout(_)),
        ) => Outcome::Failed(error.reason()),
        Err(_) => Outcome::Neutral,
    }
}

/// At most `max_in_flight` calls to the server; the others wait a bounded
/// time, then get SERVER_BUSY.
#[derive(Clone)]
pub(super) struct Bulkhead(pub Arc<Guard>);

/// When a busy server's caller may try again.
const BUSY_RETRY: Duration = Duration::from_secs(1);

impl Stage for Bulkhead {
    async fn around<R>(&self, call: Outbound, rest: R) -> Result<Reply>
    where
        R: Service<Outbound, Response = Reply, Error = AdapterError> + Send + 'static,
        R::Future: Send,
    {
        let guard = &self.0;
        let wait = match call.scope.deadline {
            Some(deadline) => guard
                .settings
                .queue_wait
                .min(deadline.saturating_duration_since(Instant::now())),
            None => guard.settings.queue_wait,
        };
        let slot = match tokio::time::timeout(wait, guard.slots.acquire()).await {
            Ok(Ok(slot)) => slot,
            _ => {
                guard.metrics.rejected(guard.server_id(), "server_busy");
                return Err(AdapterError::Busy {
                    max_in_flight: guard.settings.max_in_flight,
                    retry_after: BUSY_RETRY,
                });
            }
        };
        let result = rest.oneshot(call).await;
        drop(slot);
        result
    }
}

/// Bounds each attempt by its class's timeout and the caller's deadline.
#[derive(Clone)]
pub(super) struct Deadline(pub Timeouts);

impl Stage for Deadline {
    async fn around<R>(&self, call: Outbound, rest: R) -> Result<Reply>
    where
        R: Service<Outbound, Response = Reply, Error = AdapterError> + Send + 'static,
        R::Future: Send,
    {
        let class = self.0.of(call.scope.class);
        let limit = match call.scope.deadline {
            Some(deadline) => class.min(deadline.saturating_duration_since(Instant::now())),
            None => class,
        };
        match tokio::time::timeout(limit, rest.oneshot(call)).await {
            Ok(result) => result,
            Err(_) => Err(AdapterError::Timeout(limit)),
        }
    }
}

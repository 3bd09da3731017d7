//! The command runner: every RPC is a body run by [`App::run`], which starts
//! the call (the caller, the journal claim that makes a mutation idempotent,
//! or the replay of an earlier outcome), runs the body with its [`Call`]
//! within the call's scope for panel calls (class and deadline), and
//! finishes the call. What each RPC needs (scope, capability, journalling)
//! is declared in the proto (`panelgate_proto::RPCS`).

use std::{
    future::Future,
    time::{Duration, Instant},
};

use chrono::Utc;
use panelgate_adapters::http::{CallScope, Class};
use panelgate_inventory::OperationStart;
use panelgate_proto::{Capability, Rpc, RpcFacts};
use tonic::{Request, metadata::MetadataMap};
use tracing::{info, warn};

use crate::{
    app::App,
    auth::Caller,
    call::{Body, Call, RpcResult},
    error::GatewayError,
    idempotency::{self, Claimed},
    validate,
};

impl App {
    /// Runs one RPC: starts the call, runs `body` with it and the request,
    /// and finishes the call with what the body returned.
    pub async fn run<R, Fut>(
        &self,
        request: Request<R>,
        body: impl FnOnce(Call, R) -> Fut,
    ) -> RpcResult<R::Reply>
    where
        R: Rpc,
        Fut: Future<Output = Body<R::Reply>>,
    {
        let scope = CallScope {
            class: panel_class(R::FACTS),
            deadline: deadline_of(request.metadata()),
            probe: false,
        };
        match self.start(request).await {
            Ok((call, req)) => {
                let result = scope.run(body(call.clone(), req)).await;
                call.finish::<R>(result).await
            }
            Err(reply) => reply,
        }
    }

    /// Opens a server-streaming RPC (a read, never journalled): starts the
    /// call as [`App::run`] does, and answers with the stream `body` opens,
    /// or its refusal. The call ends (and is logged) when the stream opens.
    pub async fn open<R, S, Fut>(
        &self,
        request: Request<R>,
        body: impl FnOnce(Call, R) -> Fut,
    ) -> Result<tonic::Response<S>, tonic::Status>
    where
        R: Rpc,
        Fut: Future<Output = Result<S, GatewayError>>,
    {
        let (call, req) = match self.start(request).await {
            Ok(started) => started,
            Err(reply) => {
                return Err(reply.err().unwrap_or_else(|| {
                    tonic::Status::internal("a stream has no stored reply to replay")
                }));
            }
        };
        match body(call.clone(), req).await {
            Ok(stream) => {
                call.finish::<R>(Ok(R::Reply::default())).await?;
                Ok(tonic::Response::new(stream))
            }
            Err(err) => Err(call
                .finish::<R>(Err(err.into()))
                .await
                .err()
                .unwrap_or_else(|| tonic::Status::internal("a failed call answered OK"))),
        }
    }

    /// The call and its request, or the reply when there is nothing to run:
    /// a refusal, or the stored outcome of an earlier call with this
    /// `request_id` (see `idempotency`).
    async fn start<R: Rpc>(&self, request: Request<R>) -> Result<(Call, R), RpcResult<R::Reply>> {
        let Some(caller) = Caller::of(&request) else {
            warn!(
                method = R::FACTS.method(),
                "a call passed no authentication layer: refused"
            );
            return Err(Err(GatewayError::Unauthenticated {
                message: "the call passed no authentication".into(),
            }
            .into()));
        };
        let req = request.into_inner();
        let call = Call::new(
            self.clone(),
            caller,
            R::FACTS,
            req.validate_only(),
            req.secret_values(),
        );
        if let Err(err) = validate::request_id("request_id", req.request_id()) {
            return Err(call.finish::<R>(Err(err.into())).await);
        }
        if !R::FACTS.journalled || req.validate_only() {
            return Ok((call, req));
        }
        let request_id = (!req.request_id().is_empty()).then(|| req.request_id().to_owned());
        // Only a request_id's replays need the digest and the reply.
        let digest = request_id
            .as_ref()
            .map(|_| idempotency::request_digest(&req))
            .unwrap_or_default();
        let keyed = request_id.is_some();
        let start = || OperationStart {
            caller: call.subject().to_owned(),
            request_id: request_id.clone(),
            method: R::FACTS.method().to_owned(),
            resource: String::new(),
            server_id: None,
            digest: digest.clone(),
            started_at: Utc::now(),
        };
        // Boxed: the journal's futures are large, and most calls are reads.
        match Box::pin(idempotency::claim_or_wait(&self.inventory, start)).await {
            Ok(Claimed::Run { id, uncertain }) => {
                self.leases.hold(&id);
                call.claimed(id, uncertain, keyed);
                Ok((call, req))
            }
            Ok(Claimed::Replay(stored)) => {
                info!(
                    method = R::FACTS.method(),
                    "request_id seen before: its stored outcome is replayed"
                );
                Err(idempotency::replay(&stored))
            }
            Err(err) => Err(call.finish::<R>(Err(err.into())).await),
        }
    }
}

/// An RPC's class of panel calls: reads are retried on failure, creates get
/// the longest timeout.
fn panel_class(facts: &RpcFacts) -> Class {
    match facts.capability {
        _ if !facts.journalled => Class::Read,
        Some(
            Capability::CreateAccount
            | Capability::AddDomain
            | Capability::CreateDatabase
            | Capability::CreatePackage
            | Capability::CreatePanelAdmin
            | Capability::IssueCertificate,
        ) => Class::Create,
        _ => Class::Write,
    }
}

/// The share of a caller's `grpc-timeout` kept back so panelgate's own
/// answer (UPSTREAM_TIMEOUT, naming the server) reaches the caller before it
/// gives up: a tenth, at most [`MAX_DEADLINE_MARGIN`].
const DEADLINE_MARGIN_DIVISOR: u32 = 10;
const MAX_DEADLINE_MARGIN: Duration = Duration::from_millis(50);

/// When panel calls must end: the caller's `grpc-timeout` (digits and a
/// unit, H M S m u n) from now, less the margin.
fn deadline_of(metadata: &MetadataMap) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (amount, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = amount.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    let margin = (timeout / DEADLINE_MARGIN_DIVISOR).min(MAX_DEADLINE_MARGIN);
    Instant::now().checked_add(timeout - margin)
}

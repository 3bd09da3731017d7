//! The authentication gate (see `gate`), in front of every service. It maps
//! the request path to the scope it needs ([`super::scopes`]), verifies the
//! bearer token, and puts the [`Caller`] into the request's extensions for the
//! handlers; refusals are answered as gRPC statuses without reaching them.

use std::sync::Arc;

use panelgate_proto::v1::ErrorReason;
use tonic::{
    Status,
    codegen::http::{Request, Response, header::AUTHORIZATION},
};

use super::{
    scopes::{self, Access},
    token::{Caller, Tokens},
};
use crate::{error::GatewayError, gate::Gate};

/// What the layer enforces.
#[derive(Debug)]
pub struct Auth {
    /// Verifies tokens.
    pub tokens: Tokens,
    /// Whether reflection needs no token.
    pub reflection_public: bool,
}

/// Authenticates and authorises every call; `None` lets every call through
/// as [`Caller::unauthenticated`] (authentication off).
#[derive(Clone, Debug)]
pub struct Authenticate(pub Option<Arc<Auth>>);

impl Gate for Authenticate {
    fn check<B, R: Default>(&self, request: &mut Request<B>) -> Result<(), Response<R>> {
        match authorise(self.0.as_deref(), request) {
            Ok(caller) => {
                tracing::Span::current().record("caller", caller.subject.as_str());
                request.extensions_mut().insert(caller);
                Ok(())
            }
            Err(refusal) => Err(Status::from(refusal).into_http()),
        }
    }
}

/// The caller of `request`, or why it is refused.
fn authorise<B>(auth: Option<&Auth>, request: &Request<B>) -> Result<Arc<Caller>, GatewayError> {
    let Some(auth) = auth else {
        return Ok(Caller::unauthenticated());
    };
    let path = request.uri().path();
    let scope = match scopes::access(path, auth.reflection_public) {
        Access::Open => return Ok(Caller::unauthenticated()),
        Access::Unknown => {
            return Err(GatewayError::PermissionDenied {
                reason: ErrorReason::MethodUnknown,
                message: format!("no scope is defined for `{}`", bounded(path)),
            });
        }
        Access::Scope(scope) => scope,
    };
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        // The scheme is case-insensitive (RFC 9110).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| GatewayError::Unauthenticated {
            message: "send `authorization: Bearer <token>`".into(),
        })?;
    let caller = auth
        .tokens
        .verify(token)
        .map_err(|err| GatewayError::Unauthenticated {
            message: err.to_string(),
        })?;
    if !caller.scopes.contains(scope) {
        return Err(GatewayError::PermissionDenied {
            reason: ErrorReason::ScopeMissing,
            message: format!("the token lacks scope `{scope}`"),
        });
    }
    Ok(caller)
}

/// At most 100 characters of a caller-supplied path.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(100) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

//! What the gateway tells the outbound stack about the call in progress,
//! through a task-local: its class of operation (which timeout applies, and
//! whether a failed attempt may be retried), the caller's own deadline, and
//! whether it is a probe of the panel's health.

use std::{future::Future, time::Instant};

tokio::task_local! {
    static SCOPE: CallScope;
}

/// The class of a canonical operation, for timeouts and retries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Class {
    /// Reads nothing changes: retried within the budget when they fail.
    #[default]
    Read,
    /// Changes: never retried by the stack.
    Write,
    /// Creates, which some panels take long over: never retried either.
    Create,
}

/// The call a panel call is made for.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallScope {
    /// Its class.
    pub class: Class,
    /// When the caller stops waiting (its gRPC deadline); None for no limit.
    pub deadline: Option<Instant>,
    /// A health probe (CheckServer, the background prober): it goes through
    /// an open circuit and a credentials backoff, and its outcome counts.
    pub probe: bool,
}

impl CallScope {
    /// A probe of the panel's health.
    pub fn probe() -> Self {
        CallScope {
            probe: true,
            ..CallScope::default()
        }
    }

    /// Runs `future` with this scope for the panel calls it makes.
    pub async fn run<F: Future>(self, future: F) -> F::Output {
        SCOPE.scope(self, future).await
    }

    /// The scope of the call in progress (the default outside any).
    pub(crate) fn current() -> Self {
        SCOPE.try_with(|scope| *scope).unwrap_or_default()
    }
}

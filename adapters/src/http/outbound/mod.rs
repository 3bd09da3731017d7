//! The one outbound stack every call to a panel goes through, its order
//! fixed in [`stack`]: fail fast while the panel rejects panelgate's
//! credentials, fail fast while the server's circuit is open (counting every
//! outcome below), wait a bounded time for one of the server's slots, retry
//! idempotent reads within a budget, and bound each attempt by its class's
//! timeout and the caller's deadline. Each server's state lives in its
//! [`Guard`], kept by server id across adapter rebuilds ([`Guards`]).

mod breaker;
mod exchange;
mod guard;
mod retry;
mod scope;
mod stages;

use std::{sync::Arc, time::Duration};

use reqwest::Url;
use tower::{ServiceBuilder, retry::RetryLayer, util::BoxCloneSyncService};

pub(crate) use self::exchange::{Exchange, Peer};
pub use self::{
    breaker::{BreakerSettings, Health, HealthState},
    guard::{CREDENTIALS_BACKOFF, Guard, Guards},
    retry::RetrySettings,
    scope::{CallScope, Class},
};
use self::{
    retry::ReadRetries,
    stages::{Breaking, Bulkhead, Credentials, Deadline, StageLayer},
};
use crate::{AdapterError, http::Reply};

/// How calls to each panel server are protected. Each default says why.
#[derive(Clone, Copy, Debug)]
pub struct Resilience {
    /// Timeouts per class of operation.
    pub timeouts: Timeouts,
    /// Calls in flight to one server at most: a panel is a shared machine,
    /// and a hanging one then holds these slots, not the gateway (32: a
    /// small panel's web server workers).
    pub max_in_flight: u32,
    /// How long a call waits for a slot before SERVER_BUSY (1 s: long enough
    /// to absorb a burst, short enough to fail over).
    pub queue_wait: Duration,
    /// When the circuit opens.
    pub breaker: BreakerSettings,
    /// How reads are retried.
    pub retries: RetrySettings,
}

impl Default for Resilience {
    fn default() -> Self {
        Resilience {
            timeouts: Timeouts::default(),
            max_in_flight: 32,
            queue_wait: Duration::from_secs(1),
            breaker: BreakerSettings::default(),
            retries: RetrySettings::default(),
        }
    }
}

/// Timeouts of calls to panels, per attempt; a caller's own deadline is
/// never exceeded.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// To open a connection (5 s).
    pub connect: Duration,
    /// A read, reply body included (10 s: panels answer reads in well under
    /// a second; a retry follows).
    pub read: Duration,
    /// A change (30 s: some panels write configuration and reload a service).
    pub write: Duration,
    /// A create (60 s: creating an account or issuing a certificate can run
    /// the panel's scripts for tens of seconds).
    pub create: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(10),
            write: Duration::from_secs(30),
            create: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// The timeout of an attempt of `class`.
    pub fn of(&self, class: Class) -> Duration {
        match class {
            Class::Read => self.read,
            Class::Write => self.write,
            Class::Create => self.create,
        }
    }

    /// Sets the read, write and create timeouts to `each`.
    pub fn set_each(&mut self, each: Duration) {
        self.read = each;
        self.write = each;
        self.create = each;
    }
}

/// One call to a panel, as the stack carries it.
pub(crate) struct Outbound {
    pub(crate) request: Request,
    pub(crate) scope: CallScope,
    /// Retries so far.
    attempt: u32,
}

/// What is sent.
pub(crate) enum Request {
    /// A reqwest request.
    Http(reqwest::Request),
    /// A request head written by hand, sent on a fresh connection (see `raw`).
    Raw {
        /// Where to.
        url: Url,
        /// The head, as written.
        head: String,
    },
}

impl Outbound {
    /// A call made within the current [`CallScope`].
    pub(crate) fn new(request: Request) -> Self {
        Outbound {
            request,
            scope: CallScope::current(),
            attempt: 0,
        }
    }

    /// A copy for another attempt; None when the body cannot be copied.
    fn try_clone(&self) -> Option<Self> {
        let request = match &self.request {
            Request::Http(request) => Request::Http(request.try_clone()?),
            Request::Raw { url, head } => Request::Raw {
                url: url.clone(),
                head: head.clone(),
            },
        };
        Some(Outbound {
            request,
            scope: self.scope,
            attempt: self.attempt,
        })
    }
}

/// One server's stack.
pub(crate) type Stack = BoxCloneSyncService<Outbound, Reply, AdapterError>;

/// The stack of calls to one server, in its one order.
pub(crate) fn stack(guard: Arc<Guard>, exchange: Exchange) -> Stack {
    let timeouts = guard.settings.timeouts;
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            // Panels that reject the credentials are not asked again for a while.
            .layer(StageLayer(Credentials(guard.clone())))
            // An open circuit fails calls at once; every outcome below counts.
            .layer(StageLayer(Breaking(guard.clone())))
            // A hanging panel holds its own slots only; waits are bounded.
            .layer(StageLayer(Bulkhead(guard.clone())))
            // Reads only, within the budget, in the slot already held.
            .layer(RetryLayer::new(ReadRetries(guard)))
            // Each attempt within its class's timeout and the caller's deadline.
            .layer(StageLayer(Deadline(timeouts)))
            .service(exchange),
    )
}

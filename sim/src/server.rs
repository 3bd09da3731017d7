//! What every simulator's handle shares: binding its port, serving its router
//! behind the fault machinery, the panel state behind a mutex, and the
//! accessors every handle has (`handle_methods!`).

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, header};
use tokio::net::TcpListener;

use crate::faults::{self, Faults, RequestCounter};

/// A panel's state, shared by its handlers and its handle.
///
/// A `std::sync::Mutex`, not a tokio one: every handler locks it, does its
/// work synchronously and unlocks it, never holding it across an `.await`, so
/// the cheaper blocking mutex is the right tool (as in mini-redis's `db.rs`).
pub(crate) type Shared<P> = Arc<Mutex<P>>;

/// Locks a panel; a poisoned lock (a panicking test) still yields the state.
pub(crate) fn lock<P>(panel: &Shared<P>) -> MutexGuard<'_, P> {
    panel.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 127.0.0.1 with an OS-assigned port: where `start` serves a simulator.
pub(crate) const ANY_LOCAL_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// How a simulator takes its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Connections {
    /// Every connection goes to hyper.
    Http,
    /// A connection that opens with `CONNECT` is answered outside hyper, which
    /// would drop the body of a 2xx answer to it (see `faults::connect`).
    RawConnect,
}

/// A running simulator: where it listens, its panel, its fault knobs and its
/// request count. Each public handle wraps one; clones share everything.
pub(crate) struct Server<P> {
    pub(crate) addr: SocketAddr,
    pub(crate) panel: Shared<P>,
    pub(crate) faults: Faults,
    pub(crate) requests: RequestCounter,
}

impl<P> Server<P> {
    /// Binds `addr`, builds the panel for the address bound (`new_panel`) and
    /// serves `router` over it in a spawned task, until the tokio runtime stops.
    pub(crate) async fn start(
        addr: SocketAddr,
        new_panel: impl FnOnce(SocketAddr) -> P,
        router: impl FnOnce(Shared<P>) -> Router,
        connections: Connections,
    ) -> io::Result<Server<P>> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let panel = Arc::new(Mutex::new(new_panel(addr)));
        let server = Server {
            addr,
            panel: panel.clone(),
            faults: Faults::default(),
            requests: RequestCounter::default(),
        };
        let (faults, requests) = (server.faults.clone(), server.requests.clone());
        match connections {
            Connections::Http => faults::serve(listener, router(panel), faults, requests),
            Connections::RawConnect => {
                faults::serve_with_raw_connect(listener, router(panel), faults, requests)?;
            }
        }
        Ok(server)
    }

    /// Locks the panel.
    pub(crate) fn lock(&self) -> MutexGuard<'_, P> {
        lock(&self.panel)
    }
}

impl<P> Clone for Server<P> {
    fn clone(&self) -> Self {
        Server {
            addr: self.addr,
            panel: self.panel.clone(),
            faults: self.faults.clone(),
            requests: self.requests.clone(),
        }
    }
}

impl<P> fmt::Debug for Server<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("faults", &self.faults)
            .field("requests", &self.requests.get())
            .finish_non_exhaustive()
    }
}

/// The request's `Host` header, or the panel's own address without one (or
/// with an empty one): the host of the links a panel hands out.
pub(crate) fn host_or(headers: &HeaderMap, server_addr: SocketAddr) -> String {
    headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| !host.trim().is_empty())
        .map_or_else(|| server_addr.to_string(), str::to_owned)
}

/// The methods every simulator handle has, for a handle struct with a
/// `server: Server<Panel>` field and a `start_on(addr, config)` constructor:
/// `start`, `addr`, `faults`, `state` and `request_count`.
macro_rules! handle_methods {
    ($config:ty) => {
        /// Starts the simulator on 127.0.0.1 with an OS-assigned port, serving
        /// in a spawned tokio task.
        pub async fn start(config: $config) -> std::io::Result<Self> {
            Self::start_on($crate::server::ANY_LOCAL_PORT, config).await
        }

        /// The address the simulator listens on.
        pub fn addr(&self) -> std::net::SocketAddr {
            self.server.addr
        }

        /// The fault knobs of this simulator.
        pub fn faults(&self) -> &$crate::faults::Faults {
            &self.server.faults
        }

        /// Every table of the simulated panel, rendered: equal before and
        /// after a call when the call changed nothing on the panel.
        pub fn state(&self) -> String {
            self.server.lock().tables()
        }

        /// Number of HTTP requests received so far (every path, method and
        /// outcome, faults included; a connection dropped on accept counts as
        /// one).
        pub fn request_count(&self) -> u64 {
            self.server.requests.get()
        }
    };
}

pub(crate) use handle_methods;

//! What every simulator shares: the panel's description ([`Simulated`]: its
//! state, settings and router), starting it (binding its port, serving its
//! router behind the fault machinery), the state behind a mutex, and the
//! methods every public handle has (`handle_methods!`).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
pub(crate) const ANY_LOCAL_PORT: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

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
    panel: Shared<P>,
    pub(crate) faults: Faults,
    pub(crate) requests: RequestCounter,
}

/// A simulated panel: its state, built from its settings for the address it
/// listens on, and the HTTP surface that serves it.
pub(crate) trait Simulated: Sized + 'static {
    /// The settings a simulator starts with.
    type Config;
    /// Builds the panel's router (the fault machinery is added around it).
    const ROUTER: fn(Shared<Self>) -> Router;
    /// How the simulator takes its connections.
    const CONNECTIONS: Connections = Connections::Http;

    /// The panel at start, for a server listening on `addr`.
    fn new(config: Self::Config, addr: SocketAddr) -> Self;

    /// Every table of the panel, rendered for comparison: equal before and
    /// after a call when the call changed nothing.
    fn tables(&self) -> String;
}

impl<P: Simulated> Server<P> {
    /// Binds `addr`, builds the panel for the address bound and serves its
    /// router in a spawned task, until the tokio runtime stops.
    pub(crate) async fn start(addr: SocketAddr, config: P::Config) -> io::Result<Server<P>> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let panel = Arc::new(Mutex::new(P::new(config, addr)));
        let server = Server {
            addr,
            panel: panel.clone(),
            faults: Faults::default(),
            requests: RequestCounter::default(),
        };
        let (router, faults, requests) = (
            P::ROUTER(panel),
            server.faults.clone(),
            server.requests.clone(),
        );
        match P::CONNECTIONS {
            Connections::Http => faults::serve(listener, router, faults, requests),
            Connections::RawConnect => {
                faults::serve_with_raw_connect(listener, router, faults, requests)?;
            }
        }
        Ok(server)
    }
}

impl<P> Server<P> {
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

/// The methods every simulator handle has, for a handle struct whose one
/// field is `server: Server<P>` (`P` being the panel, started with `$config`):
/// `start`, `start_on`, `addr`, `faults`, `state` and `request_count`.
macro_rules! handle_methods {
    ($config:ty) => {
        /// Starts the simulator on 127.0.0.1 with an OS-assigned port, serving
        /// in a spawned tokio task.
        pub async fn start(config: $config) -> std::io::Result<Self> {
            Self::start_on($crate::server::ANY_LOCAL_PORT, config).await
        }

        /// Starts on a chosen address (used by the binary).
        pub async fn start_on(
            addr: std::net::SocketAddr,
            config: $config,
        ) -> std::io::Result<Self> {
            let server = $crate::server::Server::start(addr, config).await?;
            Ok(Self { server })
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
            $crate::server::Simulated::tables(&*self.server.lock())
        }

        /// Number of HTTP requests received so far (every path, method and
        /// outcome, faults included; a connection dropped on accept counts as
        /// one).
        pub fn request_count(&self) -> u64 {
            self.server.requests.get()
        }

        /// Most HTTP requests the simulator was answering at once so far
        /// (injected delays included).
        pub fn peak_concurrency(&self) -> u64 {
            self.server.requests.peak()
        }
    };
}

pub(crate) use handle_methods;
